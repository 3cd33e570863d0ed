"""Issue 22: nothing absurd gets in, nothing blocks the daily job, no failure is silent.

Each test reproduces one defect the loader had: a header column differing only by
case, unbounded gzip decompression and slow blank lines, a file silently replaced by
another season's content, an empty or unreadable data folder, the price band.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.errors import DataNotFoundError, FormatError
from nbaprops.core.settings import Settings
from nbaprops.ingest import loader
from nbaprops.ingest.limits import IngestLimits
from nbaprops.ingest.loader import ReplaceRefusedError, discover, ingest_dir, load_file
from nbaprops.ingest.sources import GENERIC_PROPS, NBA_PLAYER_LOGS, Col, Source
from nbaprops.warehouse.migrate import migrate
from tests.unit.test_ingest_files import HEADER, quarantine, raw_count, row, write_logs

GENERIC = "player,game_date,market,book,line,over_price,under_price,snapshot_time"


def write_props(folder: Path, name: str, text: str) -> Path:
    path = folder / "prop_lines" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def generic_lines(con: duckdb.DuckDBPyConnection) -> list[tuple[str, float]]:
    return con.execute("SELECT player, line FROM raw.generic_prop_line ORDER BY line").fetchall()


def stored_files(con: duckdb.DuckDBPyConnection) -> int:
    result = con.execute("SELECT count(*) FROM raw.file").fetchone()
    assert result is not None
    return int(result[0])


# --- 3. column names that differ only by case ----------------------------------------


def test_a_header_repeating_a_column_in_another_case_is_refused_naming_both(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    header = "player,game_date,market,book,Line,line,over_price,under_price,snapshot_time"
    path = write_props(
        tmp_path,
        "case.csv",
        f"{header}\nJalen Brunson,2024-03-10,points,fanduel,99.5,27.5,-115,-105,"
        "2024-03-10T15:02:00Z\n",
    )
    with pytest.raises(FormatError) as err:
        load_file(empty_con, GENERIC_PROPS, path)
    message = str(err.value)
    assert message == (
        f"{path}: header repeats columns that differ only by case: Line and line "
        "(column names must be unique ignoring case)"
    )
    assert generic_lines(empty_con) == []
    assert stored_files(empty_con) == 0


def test_a_header_with_an_exact_and_a_case_duplicate_names_each(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(tmp_path, "dup.csv.gz", [row()], header=f"{HEADER},PTS,pts")
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert "header repeats columns: PTS" in str(err.value)
    assert "differ only by case: PTS and pts" in str(err.value)


def test_a_required_column_only_in_another_case_says_the_case_differs(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_props(
        tmp_path,
        "upper.csv",
        GENERIC.replace("line", "LINE")
        + "\nJalen Brunson,2024-03-10,points,fanduel,27.5,-115,-105,2024-03-10T15:02:00Z\n",
    )
    with pytest.raises(FormatError) as err:
        load_file(empty_con, GENERIC_PROPS, path)
    assert str(err.value) == (
        f"{path}: not a recognised format, missing columns: line (found LINE); "
        "column names are case-sensitive"
    )


def test_an_all_upper_case_header_says_only_the_case_differs(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_props(
        tmp_path,
        "upper.csv",
        GENERIC.upper()
        + "\nJalen Brunson,2024-03-10,points,fanduel,27.5,-115,-105,2024-03-10T15:02:00Z\n",
    )
    with pytest.raises(FormatError) as err:
        load_file(empty_con, GENERIC_PROPS, path)
    message = str(err.value)
    assert "missing columns: player (found PLAYER), market (found MARKET)" in message
    assert "game_date (found GAME_DATE) or commence_time;" in message
    assert message.endswith("; column names are case-sensitive")


def test_an_optional_column_in_another_case_is_refused_not_read_as_absent(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    header = GENERIC.replace("game_date", "commence_time") + ",Game_Date"
    path = write_props(
        tmp_path,
        "optional.csv",
        f"{header}\nJalen Brunson,2024-03-10T23:00:00Z,points,fanduel,27.5,-115,-105,"
        "2024-03-10T15:02:00Z,2024-03-10\n",
    )
    with pytest.raises(FormatError) as err:
        load_file(empty_con, GENERIC_PROPS, path)
    assert str(err.value) == (
        f"{path}: column Game_Date differs from game_date only by case "
        "(column names are case-sensitive)"
    )


# --- 4. gzip decompression is bounded; blank lines are cheap --------------------------


def newline_bomb(megabytes: int) -> bytes:
    """A gzip of ``megabytes`` MiB of newlines, built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\n" * (1 << 20)
    parts = [packer.compress(HEADER.encode() + b"\n")]
    parts += [packer.compress(block) for _ in range(megabytes)]
    parts.append(packer.flush())
    return b"".join(parts)


def test_a_gzip_bomb_is_refused_by_its_ratio_before_it_is_held_whole(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    bomb = newline_bomb(200)  # ~200 KB that decompresses to 200 MiB
    path = tmp_path / "nba_api" / "player_logs" / "bomb.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(bomb)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FormatError) as err:
            load_file(empty_con, NBA_PLAYER_LOGS, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 10
    assert peak < 120 * 1024**2, f"held {peak / 1024**2:.0f} MiB"
    assert str(err.value) == (
        f"{path}: refused: decompresses to more than 200x its {len(bomb):,} compressed "
        "bytes (a gzip bomb? limit: NBAPROPS_INGEST_MAX_COMPRESSION_RATIO)"
    )
    assert stored_files(empty_con) == 0


def test_a_file_decompressing_past_the_size_limit_is_refused_with_one_line(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(tmp_path, "big.csv.gz", [row(player_id=i) for i in range(1, 200)])
    limits = IngestLimits(max_decompressed_bytes=10_000)
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path, limits=limits)
    assert str(err.value) == (
        f"{path}: refused: decompresses to more than 10,000 bytes "
        "(limit: NBAPROPS_INGEST_MAX_DECOMPRESSED_BYTES)"
    )
    plain = tmp_path / "nba_api" / "player_logs" / "big.csv"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, plain, limits=limits)
    assert str(err.value) == (
        f"{plain}: refused: {plain.stat().st_size:,} bytes, more than 10,000 "
        "(limit: NBAPROPS_INGEST_MAX_DECOMPRESSED_BYTES)"
    )
    assert load_file(empty_con, NBA_PLAYER_LOGS, path).n_loaded == 199


def test_streamed_gzip_still_reads_multi_member_files_and_names_truncated_ones(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    folder = tmp_path / "nba_api" / "player_logs"
    folder.mkdir(parents=True)
    two = folder / "two_members.csv.gz"
    two.write_bytes(
        gzip.compress(f"{HEADER}\n{row(player_id=1)}\n".encode())
        + gzip.compress(f"{row(player_id=2)}\n".encode())
    )
    assert load_file(empty_con, NBA_PLAYER_LOGS, two).n_loaded == 2
    whole = gzip.compress(("\n".join([HEADER, *[row(player_id=i) for i in range(3, 90)]])).encode())
    truncated = folder / "truncated.csv.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, truncated)
    assert "cannot decompress: corrupt or truncated gzip data" in str(err.value)
    empty = folder / "empty.csv.gz"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        load_file(empty_con, NBA_PLAYER_LOGS, empty)


def test_millions_of_blank_lines_load_fast_with_exact_line_numbers(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    blanks = 30_000_000
    text = (
        f"{HEADER}\n{row(player_id=1)}\r\n"
        + "\n" * blanks
        + f"{row(player_id=2, pts='-4')}\n  \t\n{row(player_id=3)}\n"
        + " \n" * 1000
    )
    path = tmp_path / "nba_api" / "player_logs" / "blank.csv"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    del text
    started = time.perf_counter()
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    elapsed = time.perf_counter() - started
    assert (result.n_loaded, result.n_quarantined) == (2, 1)
    assert quarantine(empty_con) == [(blanks + 3, "impossible PTS: -4")]
    lines = empty_con.execute("SELECT _line FROM raw.nba_player_log ORDER BY _line").fetchall()
    assert lines == [(2,), (blanks + 5,)]
    assert elapsed < 8, f"{elapsed:.1f}s"


def test_a_long_blank_tail_is_not_stepped_through_by_the_csv_reader(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(tmp_path, "tail.csv.gz", [row(player_id=1), row(player_id=2)])
    text = gzip.decompress(path.read_bytes()) + b"\r\n" * 40_000_000
    path.write_bytes(gzip.compress(text, compresslevel=1))
    del text
    started = time.perf_counter()
    limits = IngestLimits(max_compression_ratio=10_000)
    result = load_file(empty_con, NBA_PLAYER_LOGS, path, limits=limits)
    elapsed = time.perf_counter() - started
    assert (result.n_rows, result.n_loaded) == (2, 2)
    assert elapsed < 6, f"{elapsed:.1f}s"


def test_the_default_limits_never_refuse_a_plain_sized_file(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    # highly repetitive but small: below 16 MiB the ratio is never judged
    rows = [row(player_id=1)] + [row(player_id=1)] * 20_000
    path = write_logs(tmp_path, "repetitive.csv.gz", rows)
    assert len(gzip.decompress(path.read_bytes())) / path.stat().st_size > 200
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert (result.n_loaded, result.n_unchanged) == (1, 20_000)


# --- 5. a replacement that drops rows or changes their season -------------------------


def season_rows(game_prefix: str, n: int) -> list[str]:
    return [row(player_id=i, game_id=f"{game_prefix}{i:05d}") for i in range(1, n + 1)]


def test_a_file_replaced_by_another_seasons_content_is_refused_naming_what_would_be_lost(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", season_rows("00223", 3))
    assert load_file(empty_con, NBA_PLAYER_LOGS, path).status == "loaded"
    earlier = [r.replace("2023-10-28", "2022-10-28") for r in season_rows("00222", 4)]
    write_logs(tmp_path, path.name, earlier)
    with pytest.raises(ReplaceRefusedError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert str(err.value) == (
        f"refused: replacing {path} would drop 3 of its 3 rows (season 2023-24 → 2022-23); "
        "pass --replace to accept"
    )
    seasons = empty_con.execute("SELECT DISTINCT season_id FROM raw.nba_player_log").fetchall()
    assert seasons == [("22023",)]
    result = load_file(empty_con, NBA_PLAYER_LOGS, path, replace=True)
    assert (result.status, result.n_loaded) == ("replaced", 4)
    seasons = empty_con.execute("SELECT DISTINCT season_id FROM raw.nba_player_log").fetchall()
    assert seasons == [("22022",)]


def test_a_replacement_losing_more_than_the_allowed_share_is_refused_a_smaller_one_loads(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    rows = season_rows("00223", 10)
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", rows)
    load_file(empty_con, NBA_PLAYER_LOGS, path)
    write_logs(tmp_path, path.name, rows[:7] + season_rows("00223", 20)[10:])  # 3 gone, 10 new
    with pytest.raises(ReplaceRefusedError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert str(err.value) == (
        f"refused: replacing {path} would drop 3 of its 10 rows (30%, more than the 20% "
        "NBAPROPS_INGEST_MAX_REPLACE_LOSS allows); pass --replace to accept"
    )
    assert raw_count(empty_con) == 10
    lenient = IngestLimits(max_replace_loss=0.3)
    assert load_file(empty_con, NBA_PLAYER_LOGS, path, limits=lenient).status == "replaced"
    assert raw_count(empty_con) == 17
    write_logs(tmp_path, path.name, rows[:7] + season_rows("00223", 20)[11:])  # 1 of 17 gone
    assert load_file(empty_con, NBA_PLAYER_LOGS, path).status == "replaced"
    assert raw_count(empty_con) == 16


def test_a_prop_file_replaced_by_other_dates_is_refused_naming_both_date_spans(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    quote = "Jalen Brunson,{d},points,fanduel,{line},-115,-105,{d}T15:02:00Z"
    first = [quote.format(d="2024-03-10", line=x) for x in (26.5, 27.5)]
    path = write_props(tmp_path, "day.csv", "\n".join([GENERIC, *first]) + "\n")
    load_file(empty_con, GENERIC_PROPS, path)
    later = [quote.format(d=d, line=27.5) for d in ("2024-03-12", "2024-03-14")]
    write_props(tmp_path, "day.csv", "\n".join([GENERIC, *later]) + "\n")
    with pytest.raises(ReplaceRefusedError) as err:
        load_file(empty_con, GENERIC_PROPS, path)
    assert str(err.value) == (
        f"refused: replacing {path} would drop 2 of its 2 rows (dates 2024-03-10 → "
        "2024-03-12 … 2024-03-14); pass --replace to accept"
    )


def test_the_cli_refuses_a_lossy_replacement_with_one_line_and_replace_accepts_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    db = tmp_path / "w.duckdb"
    path = write_logs(data, "player_logs_2023-24.csv.gz", season_rows("00223", 5))
    earlier = [r.replace("2023-10-28", "2021-10-28") for r in season_rows("00221", 2)]
    write_logs(data, "player_logs_2021-22.csv.gz", earlier)
    args = ["ingest", "--db", str(db), "--data-dir", str(data)]
    assert CliRunner().invoke(app, args).exit_code == 0
    write_logs(data, path.name, season_rows("00223", 2))
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1
    errors = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [
        f"error: refused: replacing {path} would drop 3 of its 5 rows (60%, more than the "
        "20% NBAPROPS_INGEST_MAX_REPLACE_LOSS allows); pass --replace to accept"
    ]
    with duckdb.connect(str(db), read_only=True) as con:
        assert raw_count(con) == 7
    accepted = CliRunner().invoke(app, [*args, "--replace"])
    assert accepted.exit_code == 0, accepted.output + accepted.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert raw_count(con) == 4


# --- 10a. an empty data folder, an unreadable sub-folder -----------------------------


def test_an_empty_data_folder_is_one_error_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "notes").mkdir(parents=True)
    (data / "notes" / "todo.csv").write_text("a,b\n")
    result = CliRunner().invoke(
        app, ["ingest", "--db", str(tmp_path / "w.duckdb"), "--data-dir", str(data)]
    )
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: no recognised files under {data} (not recognised: notes/todo.csv)"]
    assert "Traceback" not in result.output + result.stderr


def _deny(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` unreadable: chmod 000, and (root ignores modes) os.scandir too."""
    os.chmod(folder, 0)
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if isinstance(path, int):  # a directory descriptor (shutil.rmtree's walk)
            return real(path)
        if Path(os.fsdecode(path)).resolve().is_relative_to(folder.resolve()):  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_sub_folder_is_named_and_the_rest_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    write_logs(data, "player_logs_2023-24.csv.gz", [row()])
    locked = data / "prop_lines"
    write_props(data, "mine.csv", f"{GENERIC}\n")
    _deny(monkeypatch, locked)
    try:
        found = discover(data)
        assert [f.path.name for f in found.files] == ["player_logs_2023-24.csv.gz"]
        assert found.unreadable == (f"{locked} (Permission denied)",)
        result = CliRunner().invoke(
            app, ["ingest", "--db", str(tmp_path / "w.duckdb"), "--data-dir", str(data)]
        )
    finally:
        os.chmod(locked, 0o755)
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [
        f"error: cannot read folder {locked} (Permission denied): none of its files were loaded"
    ]
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert raw_count(con) == 1


def _discover_as_unprivileged(data: Path) -> tuple[list[str], list[str]]:
    """``discover`` in a forked child that dropped root for ``nobody`` (modes bind it)."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, discover, report, exit without cleanup
        code = 1
        try:
            os.close(read_end)
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            found = discover(data)
            payload = [[str(f.path) for f in found.files], list(found.unreadable)]
            os.write(write_end, json.dumps(payload).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        out = reader.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    files, unreadable = json.loads(out)
    return files, unreadable


def test_chmod_000_alone_is_detected_by_a_user_the_mode_binds() -> None:
    """A real ``chmod 000`` (no os.scandir patch). Root reads any folder, so as root the
    discovery runs in a forked child that dropped to ``nobody``; it is never skipped."""
    root = Path(tempfile.mkdtemp(prefix="nbaprops-unreadable-"))
    data = root / "data"
    locked = data / "nba_api"
    try:
        write_logs(data, "player_logs_2023-24.csv.gz", [row()])
        for folder in (root, *(p for p in root.rglob("*") if p.is_dir())):
            os.chmod(folder, 0o755)
        os.chmod(locked, 0)
        if os.geteuid() == 0:
            files, unreadable = _discover_as_unprivileged(data)
        else:
            found = discover(data)
            files = [str(f.path) for f in found.files]
            unreadable = list(found.unreadable)
    finally:
        os.chmod(locked, 0o755)
        shutil.rmtree(root)
    assert files == []
    assert unreadable == [f"{locked} (Permission denied)"]


def test_a_data_folder_with_only_an_unreadable_folder_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbaprops.pipeline.jobs import ingest_job

    data = tmp_path / "data"
    write_logs(data, "player_logs_2023-24.csv.gz", [row()])
    _deny(monkeypatch, data / "nba_api")
    settings = Settings(data_dir=data, db=tmp_path / "w.duckdb")
    try:
        with connect(settings.paths.db) as con, pytest.raises(DataNotFoundError) as err:
            ingest_job(con, settings)
    finally:
        os.chmod(data / "nba_api", 0o755)
    assert str(err.value) == (
        f"no recognised files under {data}; cannot read folder {data / 'nba_api'} "
        "(Permission denied)"
    )


# --- the price band and the limits' settings ------------------------------------------

PRICED = Source(
    name="priced",
    description="a test source with a price band",
    patterns=("priced/*.csv",),
    raw_table="raw.generic_prop_line",
    columns=(
        Col("player", "player", "text", True),
        Col("book", "book", "text", True),
        Col("line", "line", "double", True),
        Col(
            "over_price",
            "over_price",
            "double",
            False,
            "abs({v}) >= 100 AND {v} BETWEEN {price_min} AND {price_max}",
            check_reason="price outside the band",
        ),
        Col("under_price", "under_price", "double"),
        Col("snapshot_time", "snapshot_time", "timestamp", True),
    ),
    key=("player", "book", "line", "snapshot_time"),
    row_checks=(("{under_price} BETWEEN {price_min} AND {price_max}", "under outside the band"),),
)


def test_the_price_band_comes_from_the_limits(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "priced" / "p.csv"
    path.parent.mkdir()
    path.write_text(
        "player,book,line,over_price,under_price,snapshot_time\n"
        "A,fd,1.5,-110,-110,2024-03-10T15:00:00Z\n"
        "B,fd,1.5,5000,-110,2024-03-10T15:00:00Z\n"
        "C,fd,1.5,-20000,-110,2024-03-10T15:00:00Z\n"
        "D,fd,1.5,-110,-30000,2024-03-10T15:00:00Z\n"
    )
    result = load_file(empty_con, PRICED, path)
    assert (result.n_loaded, result.n_quarantined) == (2, 2)
    assert dict(quarantine(empty_con)) == {
        4: "price outside the band over_price: -20000",
        5: "under outside the band",
    }
    narrow = IngestLimits(price_min=-1000.0, price_max=1000.0)
    with connect(tmp_path / "narrow.duckdb") as con:
        migrate(con)
        result = load_file(con, PRICED, path, limits=narrow)
        assert (result.n_loaded, result.n_quarantined) == (1, 3)
        assert dict(quarantine(con))[3] == "price outside the band over_price: 5000"


def test_limits_come_from_settings_and_absurd_settings_are_refused() -> None:
    settings = Settings(
        ingest_price_min=-5000,
        ingest_price_max=8000,
        ingest_max_decompressed_bytes=1000,
        ingest_max_compression_ratio=50,
        ingest_max_replace_loss=0.5,
    )
    assert IngestLimits.from_settings(settings) == IngestLimits(-5000.0, 8000.0, 1000, 50.0, 0.5)
    assert IngestLimits.from_settings(Settings()) == IngestLimits()
    for bad in (
        {"ingest_price_min": -50},
        {"ingest_price_max": 99},
        {"ingest_max_decompressed_bytes": 0},
        {"ingest_max_compression_ratio": 1},
        {"ingest_max_replace_loss": 1.5},
    ):
        with pytest.raises(ValidationError):
            Settings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="price_min"):
        IngestLimits(price_min=0.0)


def test_ingest_dir_threads_limits_and_replace(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", season_rows("00223", 4))
    ingest_dir(empty_con, tmp_path)
    write_logs(tmp_path, path.name, season_rows("00223", 1))
    (refused,) = ingest_dir(empty_con, tmp_path).results
    assert refused.status == "failed"
    assert refused.error is not None
    assert refused.error.startswith("refused: replacing")
    (kept,) = ingest_dir(empty_con, tmp_path, limits=IngestLimits(max_replace_loss=1.0)).results
    assert kept.status == "replaced"
    assert loader.IngestLimits is IngestLimits
