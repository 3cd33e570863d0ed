"""The official injury report on real data: three seasons load keyed and idempotent, bad
rows and files are refused with their reasons, names match to player ids, and the
availability features cover the seasons the reports cover."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import CATALOG_AVAILABILITY, POINTS_V3
from nbaprops.features.frame import build_frame, training_spine
from nbaprops.ingest.loader import discover, ingest_files
from nbaprops.ingest.sources import AVAILABILITY
from nbaprops.pipeline.jobs import IngestJobResult, ingest_job, rebuild_job
from tests.conftest import copy_warehouse

SEASON_ROWS = 1_149_891
HEADER = (
    "report_time_et,report_time_utc,game_date,game_time_et,matchup,team,player,status,"
    "reason,source_file"
)


@dataclass
class Loaded:
    db: Path
    data: Path
    settings: Settings
    first: IngestJobResult
    second: IngestJobResult


def strip_availability(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse as it was before the reports: box scores, lines, no availability."""
    con.execute("DELETE FROM raw.availability_report")
    con.execute("DELETE FROM raw.quarantine WHERE source = 'availability'")
    con.execute("DELETE FROM raw.file WHERE source = 'availability'")
    con.execute("DELETE FROM core.availability")


@pytest.fixture(scope="module")
def loaded(warehouse: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """A copy of the real warehouse stripped of the reports, then the availability folder
    (mirrored file by file) ingested into it twice."""
    root = tmp_path_factory.mktemp("av_ingest")
    db = copy_warehouse(warehouse, root / "nbaprops.duckdb")
    folder = root / "data" / "availability"
    folder.mkdir(parents=True)
    for season in sorted((data_dir / "availability").glob("*.csv.gz")):
        (folder / season.name).symlink_to(season.resolve())
    settings = Settings(data_dir=root / "data", db=db, archive_dir=root / "archive")
    with connect(db) as con:
        strip_availability(con)
        first = ingest_job(con, settings)
        second = ingest_job(con, settings)
    return Loaded(db, root / "data", settings, first, second)


@pytest.fixture
def con(loaded: Loaded) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(loaded.db) as c:
        yield c


def csv_records(path: Path) -> int:
    with gzip.open(path, "rt", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_three_seasons_of_reports_load_every_row_and_quarantine_none(
    loaded: Loaded, data_dir: Path, con: duckdb.DuckDBPyConnection
) -> None:
    results = loaded.first.report.results
    assert [r.source for r in results] == ["availability"] * 3
    assert all(r.status == "loaded" for r in results)
    expected = sum(csv_records(p) for p in (data_dir / "availability").glob("*.csv.gz"))
    assert expected == SEASON_ROWS
    assert sum(r.n_loaded for r in results) == expected
    assert sum(r.n_quarantined for r in results) == 0
    assert con.execute("SELECT count(*) FROM raw.availability_report").fetchone()[0] == expected
    assert con.execute("SELECT count(*) FROM core.availability").fetchone()[0] == expected
    quarantined = con.execute(
        "SELECT count(*) FROM raw.quarantine WHERE source = 'availability'"
    ).fetchone()[0]
    assert quarantined == 0
    assert "core.availability" in [b.table for b in loaded.first.builds]


def test_reingesting_the_reports_loads_nothing_new(
    loaded: Loaded, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """The same files again are unchanged; a new file re-publishing rows already loaded
    (the key: report time, game date, matchup, team, player) adds no row."""
    assert all(r.status == "unchanged" for r in loaded.second.report.results)
    assert "core.availability" not in [b.table for b in loaded.second.builds]
    season = next((loaded.data / "availability").glob("*2023-24*"))
    with gzip.open(season, "rt") as f:
        lines = [next(f) for _ in range(201)]
    folder = tmp_path / "again" / "availability"
    folder.mkdir(parents=True)
    (folder / "republished.csv").write_text("".join(lines))
    before = con.execute("SELECT count(*) FROM raw.availability_report").fetchone()[0]
    [result] = ingest_files(con, discover(tmp_path / "again").files)
    after = con.execute("SELECT count(*) FROM raw.availability_report").fetchone()[0]
    assert result.status == "loaded"
    assert result.n_loaded == 0
    assert result.n_unchanged == 200
    assert after == before


def test_a_bad_row_is_quarantined_with_file_line_and_reason_and_the_rest_load(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,New York Knicks,"
        "Test Player One,Out,Injury/Illness - Test,",
        "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,New York Knicks,"
        "Test Player Two,Maybe,Injury/Illness - Test,",  # line 3: unknown status
        "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI vs NYK,New York Knicks,"
        "Test Player Three,Out,Injury/Illness - Test,",  # line 4: not away@home
        "2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,PHI@NYK,Philadelphia 76ers,"
        "Test Player Four,Questionable,Injury/Illness - Test,",
    ]
    folder = tmp_path / "bad" / "availability"
    folder.mkdir(parents=True)
    path = folder / "bad_rows.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    [result] = ingest_files(con, discover(tmp_path / "bad").files)
    assert result.status == "loaded"
    assert (result.n_loaded, result.n_quarantined) == (2, 2)
    got = con.execute(
        "SELECT path, line, reason, record FROM raw.quarantine WHERE path = ? ORDER BY line",
        [str(path)],
    ).fetchall()
    assert [(p, line) for p, line, _, _ in got] == [(str(path), 3), (str(path), 4)]
    assert got[0][2].startswith("unknown status")
    assert "Maybe" in got[0][2]
    assert got[1][2].startswith("not an away@home matchup")
    assert "Test Player Three" in got[1][3]
    players = con.execute(
        "SELECT player FROM raw.availability_report r JOIN raw.file f ON f.file_id = r._file_id "
        "WHERE f.path = ? ORDER BY player",
        [str(path)],
    ).fetchall()
    assert players == [("Test Player Four",), ("Test Player One",)]


def test_a_file_missing_a_required_column_is_refused_naming_the_file_and_columns(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = tmp_path / "short" / "availability"
    folder.mkdir(parents=True)
    path = folder / "no_status.csv"
    header = ",".join(c for c in HEADER.split(",") if c not in ("status", "matchup"))
    path.write_text(
        header + "\n2024-03-12 18:30,2024-03-12T22:30:00Z,2024-03-12,19:30,"
        "New York Knicks,Julius Randle,Injury,\n"
    )
    before = con.execute("SELECT count(*) FROM raw.file").fetchone()[0]
    [result] = ingest_files(con, discover(tmp_path / "short").files)
    assert result.status == "failed"
    assert result.error is not None
    assert str(path) in result.error
    assert "matchup" in result.error
    assert "status" in result.error
    assert {"matchup", "status"} <= set(AVAILABILITY.required_columns)
    assert con.execute("SELECT count(*) FROM raw.file").fetchone()[0] == before


def unmatched_players(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT player FROM core.availability WHERE player IS NOT NULL "
        "AND player_id IS NULL ORDER BY player"
    ).fetchall()
    return [r[0] for r in rows]


def test_status_reports_over_98_percent_matched_and_names_the_unmatched_players(
    loaded: Loaded, con: duckdb.DuckDBPyConnection
) -> None:
    entries, matched = con.execute(
        "SELECT count(*) FILTER (WHERE player IS NOT NULL), count(player_id) FROM core.availability"
    ).fetchone()
    unmatched = unmatched_players(con)
    con.close()
    out = CliRunner().invoke(app, ["status", "--db", str(loaded.db), "--json", "--unmatched", "50"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)["availability"]
    assert report["player_entries"] == entries
    assert report["matched_entries"] == matched
    assert report["matched_share"] == pytest.approx(matched / entries)
    assert report["matched_share"] > 0.98
    assert report["unmatched_players"] == len(unmatched) > 0
    named = sorted(u["player"] for u in report["unmatched_names"])
    # --unmatched 50 asks for up to 50 names: every unmatched player is named
    assert named == unmatched, (
        f"status --unmatched 50 names {len(named)} of {len(unmatched)} unmatched players"
    )
    text = CliRunner().invoke(app, ["status", "--db", str(loaded.db)])
    assert text.exit_code == 0, text.output
    assert "injury reports" in text.stdout
    top = report["unmatched_names"][0]["player"]
    assert top in " ".join(text.stdout.split())


def test_a_hand_typed_report_for_an_existing_game_is_matched_to_player_ids(
    loaded: Loaded, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A user's own CSV in the same format (a few rows for PHI@NYK on 2024-03-12, names
    typed as a person would) lands in core.availability with the right ids and game."""
    typed = {
        ("New York Knicks", "Jalen Brunson"): "Probable",
        ("New York Knicks", "jalen brunson"): "Probable",
        ("New York Knicks", "OG Anunoby"): "Out",
        ("Philadelphia 76ers", "Tyrese Maxey"): "Available",
        ("Philadelphia 76ers", "Kelly Oubre Jr"): "Questionable",
    }
    folder = loaded.data / "availability"
    path = folder / "my_report.csv"
    path.write_text(
        HEADER
        + "\n"
        + "".join(
            f"2024-03-12 12:05,2024-03-12T16:05:00Z,2024-03-12,19:30,PHI@NYK,{team},"
            f"{player},{status},typed by hand,\n"
            for (team, player), status in typed.items()
        )
    )
    try:
        results = ingest_files(con, [f for f in discover(loaded.data).files if f.path == path])
        assert [(r.status, r.n_loaded) for r in results] == [("loaded", len(typed))]
        rebuild_job(con, loaded.settings)
        got = con.execute(
            "SELECT player, player_id, game_id, team, status FROM core.availability "
            "WHERE report_time_utc = '2024-03-12 16:05:00+00' ORDER BY player"
        ).fetchall()
        game = con.execute(
            "SELECT game_id FROM core.game WHERE game_date = '2024-03-12' "
            "AND home_team = 'NYK' AND away_team = 'PHI'"
        ).fetchone()[0]
    finally:
        path.unlink()
    assert len(got) == len(typed)
    for player, player_id, game_id, team, status in got:
        expected_id = con.execute(
            "SELECT DISTINCT pg.player_id FROM core.player_game pg "
            "JOIN core.player p USING (player_id) "
            "WHERE pg.game_id = ? AND lower(replace(p.player_name, '.', '')) = lower(?)",
            [game, player.replace(".", "")],
        ).fetchall()
        assert [(player_id,)] == expected_id, player
        assert game_id == game
        assert team == ("NYK" if player.lower() in ("jalen brunson", "og anunoby") else "PHI")
        assert (
            status == typed[("New York Knicks" if team == "NYK" else "Philadelphia 76ers", player)]
        )


AV_KNOWN = [f.name for f in CATALOG_AVAILABILITY if f.name != "availability_report_known"]


def test_availability_features_are_defaulted_before_the_reports_and_real_after(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """Coverage per season (what `features coverage` reports for required features,
    here for points_v3's availability features): 2021-22 has no report, so every row is
    report-unknown and every availability feature defaulted; in 2023-24 > 80% of rows
    have a real own_not_listed."""
    spine = training_spine(real_con)
    for season, check in (("2021-22", "none"), ("2023-24", "most")):
        part = spine[spine["season"] == season]
        frame = build_frame(real_con, part, POINTS_V3, with_flags=True)
        known = frame["availability_report_known"]
        assert len(frame) > 25_000
        if check == "none":
            assert (known == 0).all()
            for name in AV_KNOWN:
                assert frame[f"{name}__defaulted"].all(), name
        else:
            real = 1 - frame["own_not_listed__defaulted"].mean()
            assert real > 0.8
            assert real == pytest.approx(known.mean())
