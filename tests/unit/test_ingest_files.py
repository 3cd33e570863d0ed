"""Bad input, idempotence and atomicity of file loads, on tiny files in the real formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.errors import FormatError
from nbaprops.ingest import loader
from nbaprops.ingest.loader import discover, ingest_dir, load_file
from nbaprops.ingest.sources import NBA_PLAYER_LOGS

HEADER = (
    "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,"
    "MATCHUP,WL,MIN,PTS,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,"
    "BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL"
)


def row(
    player_id: int = 1628398,
    game_id: str = "0022300089",
    pts: str = "21",
    minutes: str = "36",
    name: str = "Kyle Kuzma",
) -> str:
    season_id = f"{game_id[2]}20{game_id[3:5]}"  # SEASON_ID agrees with GAME_ID
    # 9 FGM with 1 three make 19 points; free throws make the rest, so PTS add up
    ftm = int(pts) - 19 if pts.isdigit() and int(pts) >= 19 else 2
    fta = max(ftm, 3)
    return (
        f"{season_id},{player_id},{name},1610612764,WAS,Washington Wizards,{game_id},2023-10-28,"
        f"WAS vs. MEM,W,{minutes},{pts},9,23,0.391,1,10,0.1,{ftm},{fta},0.667,3,10,13,2,1,0,0,2,"
        "-1,2023-24"
    )


def write_logs(folder: Path, name: str, lines: list[str], header: str = HEADER) -> Path:
    path = folder / "nba_api" / "player_logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode()))
    return path


def raw_count(con: duckdb.DuckDBPyConnection) -> int:
    result = con.execute("SELECT count(*) FROM raw.nba_player_log").fetchone()
    assert result is not None
    return int(result[0])


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return con.execute("SELECT line, reason FROM raw.quarantine ORDER BY line").fetchall()


def test_a_file_with_missing_columns_names_the_file_and_columns_and_loads_nothing(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    bad_header = HEADER.replace("PTS,", "POINTS,").replace("GAME_ID,", "")
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", [row()], header=bad_header)
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    message = str(err.value)
    assert str(path) in message
    assert "GAME_ID" in message
    assert "PTS" in message
    assert raw_count(empty_con) == 0
    files = empty_con.execute("SELECT count(*) FROM raw.file").fetchone()
    assert files == (0,)


def test_a_bad_file_fails_alone_and_the_cli_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_logs(data, "player_logs_2022-23.csv.gz", [row(game_id="0022200001")])
    bad = write_logs(data, "player_logs_2023-24.csv.gz", [row()], header="A,B,C")
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", "--db", str(db), "--data-dir", str(data)])
    assert result.exit_code == 1
    error_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(error_lines) == 1
    assert str(bad) in result.stderr.replace("\n", "")
    assert "Traceback" not in result.output + result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert raw_count(con) == 1  # the good file still loaded


def test_bad_rows_go_to_quarantine_with_line_and_reason_and_the_load_continues(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(
        tmp_path,
        "player_logs_2023-24.csv.gz",
        [
            row(player_id=1),  # line 2: fine
            row(player_id=2, pts="twelve"),  # line 3: unparseable number
            row(player_id=3, pts="-4"),  # line 4: negative points
            row(player_id=4, minutes="75"),  # line 5: minutes > 70
            row(player_id=5, name=""),  # line 6: missing key column
            row(player_id=1, pts="30"),  # line 7: duplicate key, different values
            row(player_id=6),  # line 8: fine
            row(player_id=1),  # line 9: exact duplicate of line 2 (unchanged, not a conflict)
        ],
    )
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert result.n_loaded == 2
    assert result.n_quarantined == 5
    assert result.n_unchanged == 1
    got = quarantine(empty_con)
    assert [line for line, _ in got] == [3, 4, 5, 6, 7]
    reasons = dict(got)
    assert reasons[3] == "unparseable PTS: twelve"
    assert reasons[4] == "impossible PTS: -4"
    assert reasons[5] == "impossible MIN: 75"
    assert reasons[6] == "missing PLAYER_NAME"
    assert reasons[7] == "duplicate key with different values than line 2"
    stored = empty_con.execute("SELECT path, record FROM raw.quarantine WHERE line = 3").fetchone()
    assert stored is not None
    assert stored[0] == str(path)
    assert "twelve" in stored[1]


def test_a_row_with_the_wrong_number_of_fields_is_quarantined_with_its_exact_line(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(
        tmp_path,
        "player_logs_2023-24.csv.gz",
        [row(player_id=1), "22023,2,Short Row", row(player_id=3)],
    )
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert result.n_loaded == 2
    assert quarantine(empty_con) == [(3, "expected 31 fields, found 3")]
    lines = empty_con.execute("SELECT _line FROM raw.nba_player_log ORDER BY _line").fetchall()
    assert lines == [(2,), (4,)]


def test_a_conflict_with_another_file_is_quarantined_naming_that_file(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    first = write_logs(tmp_path, "player_logs_a.csv.gz", [row(pts="21")])
    second = write_logs(tmp_path, "player_logs_b.csv.gz", [row(pts="25"), row(player_id=9)])
    load_file(empty_con, NBA_PLAYER_LOGS, first)
    result = load_file(empty_con, NBA_PLAYER_LOGS, second)
    assert (result.n_loaded, result.n_quarantined) == (1, 1)
    reason = quarantine(empty_con)[0][1]
    assert str(first) in reason


def test_re_ingesting_unchanged_files_adds_nothing(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    write_logs(tmp_path, "player_logs_2023-24.csv.gz", [row(player_id=1), row(player_id=2)])
    first = ingest_dir(empty_con, tmp_path)
    assert [r.status for r in first.results] == ["loaded"]
    before = empty_con.execute("SELECT count(*) FROM raw.file").fetchone()
    second = ingest_dir(empty_con, tmp_path)
    assert [r.status for r in second.results] == ["unchanged"]
    assert raw_count(empty_con) == 2
    assert empty_con.execute("SELECT count(*) FROM raw.file").fetchone() == before


def test_a_changed_file_replaces_exactly_its_own_rows(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    write_logs(tmp_path, "player_logs_2022-23.csv.gz", [row(player_id=7, game_id="0022200001")])
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", [row(player_id=1), row(player_id=2)])
    ingest_dir(empty_con, tmp_path)
    write_logs(path.parent.parent.parent, path.name, [row(player_id=1, pts="40")])
    report = ingest_dir(empty_con, tmp_path, replace=True)  # drops half: --replace
    assert sorted(r.status for r in report.results) == ["replaced", "unchanged"]
    rows = empty_con.execute(
        "SELECT player_id, pts FROM raw.nba_player_log ORDER BY player_id"
    ).fetchall()
    assert rows == [(1, 40), (7, 21)]
    current = empty_con.execute(
        "SELECT count(*) FROM raw.file WHERE is_current AND path = ?", [str(path)]
    ).fetchone()
    assert current == (1,)


def test_an_interrupted_load_leaves_the_warehouse_as_before_that_file(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_logs(tmp_path, "player_logs_2022-23.csv.gz", [row(player_id=7, game_id="0022200001")])
    ingest_dir(empty_con, tmp_path)
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", [row(player_id=1)])
    real = loader._load_staged

    def crash_after_insert(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(loader, "_load_staged", crash_after_insert)
    with pytest.raises(KeyboardInterrupt):
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert raw_count(empty_con) == 1
    files = empty_con.execute("SELECT path FROM raw.file").fetchall()
    assert files == [(str(tmp_path / "nba_api/player_logs/player_logs_2022-23.csv.gz"),)]
    monkeypatch.setattr(loader, "_load_staged", real)
    assert load_file(empty_con, NBA_PLAYER_LOGS, path).status == "loaded"
    assert raw_count(empty_con) == 2


def test_files_are_archived_by_content_hash(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(tmp_path / "data", "player_logs_2023-24.csv.gz", [row()])
    load_file(empty_con, NBA_PLAYER_LOGS, path, tmp_path / "archive")
    archived = empty_con.execute("SELECT file_id, archived_path FROM raw.file").fetchone()
    assert archived is not None
    assert Path(archived[1]).read_bytes() == path.read_bytes()
    assert archived[0] in archived[1]


def test_discovery_recognises_files_by_path_and_lists_the_rest(tmp_path: Path) -> None:
    write_logs(tmp_path, "player_logs_2023-24.csv.gz", [row()])
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "random.csv").write_text("a,b\n1,2\n")
    found = discover(tmp_path)
    assert [f.source.name for f in found.files] == ["nba_player_logs"]
    assert found.unrecognised == ["notes/random.csv"]
    assert found.unreadable == ()


def ingest_cli(data: Path, db: Path) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(app, ["ingest", "--db", str(db), "--data-dir", str(data)])
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    return result.exit_code, errors, result.output + result.stderr


def test_a_corrupt_gzip_body_fails_that_file_alone_and_the_rest_loads_and_builds(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    good = gzip.compress(("\n".join([HEADER, *[row(player_id=i) for i in range(1, 40)]])).encode())
    corrupt = good[:20] + bytes(b ^ 0x5A for b in good[20:-8]) + good[-8:]  # valid header
    (data / "nba_api" / "player_logs").mkdir(parents=True)
    bad = data / "nba_api" / "player_logs" / "player_logs_2021-22.csv.gz"
    bad.write_bytes(corrupt)
    write_logs(data, "player_logs_2023-24.csv.gz", [row(player_id=7)])  # sorted after it
    db = tmp_path / "w.duckdb"
    for _ in range(2):  # a re-run fails the same way, and only that file
        code, errors, output = ingest_cli(data, db)
        assert code == 1
        assert len(errors) == 1
        assert str(bad) in errors[0]
        assert "cannot decompress" in errors[0]
        assert "1 of 2 files refused" in output
        assert "Traceback" not in output
    with duckdb.connect(str(db), read_only=True) as con:
        assert raw_count(con) == 1
        built = con.execute("SELECT count(DISTINCT table_name) FROM core.build_log").fetchone()
        assert built is not None
        assert built[0] >= 7  # core tables were rebuilt despite the bad file


def test_text_that_is_not_utf8_is_refused_naming_the_file_and_the_first_bad_line(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    text = "\n".join([HEADER, row(player_id=1), row(player_id=2, name="Bojan Bogdanović")])
    path = tmp_path / "nba_api" / "player_logs" / "cp1250.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(text.encode("cp1250"))
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert str(path) in str(err.value)
    assert "not UTF-8 text: line 3" in str(err.value)
    assert raw_count(empty_con) == 0
    utf8 = path.with_name("utf8.csv")
    utf8.write_text(text, encoding="utf-8")
    load_file(empty_con, NBA_PLAYER_LOGS, utf8)
    names = empty_con.execute("SELECT player_name FROM raw.nba_player_log").fetchall()
    assert ("Bojan Bogdanović",) in names
    assert not any("\ufffd" in n for (n,) in names)


def test_a_stray_quote_quarantines_its_line_and_the_good_rows_load(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = write_logs(
        tmp_path,
        "player_logs_2023-24.csv.gz",
        [row(player_id=1), row(player_id=2, name='"Kyle Kuzma'), row(player_id=3)],
    )
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert (result.n_loaded, result.n_quarantined) == (2, 1)
    ((line, reason),) = quarantine(empty_con)
    assert line == 3
    assert "malformed CSV line" in reason


def test_fractional_points_and_a_date_outside_the_season_are_quarantined(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    outside = row(player_id=3).replace("2023-10-28", "2019-10-28")
    wrong_season = row(player_id=4).replace("22023,", "22019,", 1)
    arithmetic = row(player_id=5, pts="21").replace(",21,9,", ",22,9,", 1)
    path = write_logs(
        tmp_path,
        "player_logs_2023-24.csv.gz",
        [row(player_id=1), row(player_id=2, pts="21.5"), outside, wrong_season, arithmetic],
    )
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert result.n_loaded == 1
    reasons = dict(quarantine(empty_con))
    assert reasons == {
        3: "not a whole number PTS: 21.5",
        4: "GAME_DATE outside the season of GAME_ID",
        5: "SEASON_ID disagrees with GAME_ID (season or season type)",
        6: "PTS is not 2 x FGM + FG3M + FTM",
    }


def test_a_whole_number_in_float_notation_loads_only_while_a_double_holds_it_exactly(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    # found by the fuzz test: 4.624543173082578e+16 went through a double and was stored
    # as ...776, not the ...780 the text says
    small = row(player_id=7).replace(",7,", ",7.0e0,", 1)
    huge = row(player_id=8).replace(",8,", ",4.624543173082578e+16,", 1)
    digits = row(player_id=46245431730825780)
    path = write_logs(tmp_path, "player_logs_2023-24.csv.gz", [small, huge, digits])
    result = load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert result.n_loaded == 2
    ids = {r[0] for r in empty_con.execute("SELECT player_id FROM raw.nba_player_log").fetchall()}
    assert ids == {7, 46245431730825780}
    assert quarantine(empty_con) == [
        (
            3,
            "whole number PLAYER_ID in float notation beyond 2^53 (not exact): "
            "4.624543173082578e+16",
        )
    ]


GENERIC_HEADER = "player,game_date,market,book,line,over_price,under_price,snapshot_time"


def test_unknown_markets_in_the_generic_csv_are_quarantined_naming_the_accepted_ones(
    tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    from nbaprops.ingest.sources import GENERIC_PROPS

    path = tmp_path / "prop_lines" / "mine.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        f"{GENERIC_HEADER}\n"
        "Jalen Brunson,2024-03-10,Points,fanduel,27.5,-115,-105,2024-03-10T15:02:00Z\n"
        "Jalen Brunson,2024-03-10,player_blocks,fanduel,0.5,-115,-105,2024-03-10T15:02:00Z\n"
        "Jalen Brunson,2024-03-10,points,fanduel,26.5,-115,-105,\n"
    )
    result = load_file(empty_con, GENERIC_PROPS, path)
    assert (result.n_loaded, result.n_quarantined) == (1, 2)
    reasons = dict(quarantine(empty_con))
    assert reasons[3].startswith("unknown market (accepted: player_points, points,")
    assert reasons[3].endswith(": player_blocks")
    assert reasons[4] == "missing snapshot_time"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty file"),
        (gzip.compress(b"x"), "gzip-compressed but not named .gz"),
        ("\ufeffA,B".encode("utf-16"), "UTF-16"),
        (f"{HEADER},PTS\n".encode(), "header repeats columns: PTS"),
        (HEADER.replace(",", ";").encode(), "missing columns"),
    ],
    ids=["empty", "gzip-not-named-gz", "utf16", "duplicate-column", "semicolons"],
)
def test_an_unreadable_file_is_refused_whole_with_one_reason(
    payload: bytes, message: str, tmp_path: Path, empty_con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "nba_api" / "player_logs" / "bad.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(payload)
    with pytest.raises(FormatError) as err:
        load_file(empty_con, NBA_PLAYER_LOGS, path)
    assert str(path) in str(err.value)
    assert message in str(err.value)
    assert empty_con.execute("SELECT count(*) FROM raw.file").fetchone() == (0,)


def test_after_a_partial_change_later_unchanged_runs_rebuild_nothing(tmp_path: Path) -> None:
    from nbaprops.core.db import connect
    from nbaprops.core.settings import Settings
    from nbaprops.pipeline.jobs import ingest_job
    from nbaprops.warehouse.transforms import CORE_TABLES

    data = tmp_path / "data"
    write_logs(data, "player_logs_2023-24.csv.gz", [row(player_id=1)])
    settings = Settings(data_dir=data, db=tmp_path / "w.duckdb")
    with connect(settings.paths.db) as con:
        first = ingest_job(con, settings)
        assert [b.table for b in first.builds] == [t.name for t in CORE_TABLES]
        (data / "prop_lines").mkdir()
        (data / "prop_lines" / "new.csv").write_text(
            f"{GENERIC_HEADER}\nKyle Kuzma,2023-10-28,points,fanduel,20.5,-110,-110,"
            "2023-10-28T15:00:00Z\n"
        )
        partial = ingest_job(con, settings)
        again = ingest_job(con, settings)
    assert [b.table for b in partial.builds] == ["core.prop_line_snapshot", "core.prop_line"]
    assert again.builds == []
