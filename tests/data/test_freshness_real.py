"""Freshness gates on the real data (issue 23): a date after the data ends is refused
(exit 2) naming the box-score age; ``--allow-stale`` predicts it, records the override
on every row and in the audit log, and bets nothing; a traded player is flagged and
never bet; historical dates still pass; the messages of a date without games name it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.daily import predict_job
from nbaprops.predictions.picks import BET
from nbaprops.read.picks import picks as read_picks
from nbaprops.read.status import health as read_health
from nbaprops.warehouse import freshness
from nbaprops.warehouse.migrate import migrate
from tests.conftest import CHAMPION_DAY, bootstrapped, copy_warehouse

pytestmark = [pytest.mark.data, pytest.mark.slow]

TRAINED_BEFORE = date(2024, 4, 12)
AFTER_THE_DATA = date(2025, 12, 1)  # the schedule has games; the box scores end 2024-25
OPENING_NIGHT = date(2024, 10, 22)  # Bridges and Towns carry NYK lines, box scores BKN/MIN
BRIDGES, TOWNS = 1628969, 1626157


@pytest.fixture(scope="module")
def served(
    champion_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A copy of the warehouse with a champion bootstrapped before 2024-04-12 (the
    session's champion warehouse, trained once)."""
    assert CHAMPION_DAY == TRAINED_BEFORE
    root = tmp_path_factory.mktemp("fresh")
    copy_warehouse(champion_warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")
    with connect(settings.paths.db) as con:
        migrate(con)
    assert "champion" in bootstrapped(champion_warehouse)
    return settings


def test_a_date_after_the_data_ends_is_refused_with_exit_2_naming_the_box_score_age(
    served: Settings,
) -> None:
    out = CliRunner().invoke(
        app, ["predict", "--date", str(AFTER_THE_DATA), "--db", str(served.paths.db)]
    )
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert (
        "box scores are stale for 2025-12-01: the newest is from 2025-06-22, 162 days before"
        in text
    )
    assert "nbaprops ingest nba-api --season 2025-26" in text
    with connect(served.paths.db, read_only=True) as con:
        n = con.execute(
            "SELECT count(*) FROM predictions.prediction WHERE game_date = ?", [AFTER_THE_DATA]
        ).fetchone()
    assert n == (0,)


def test_allow_stale_records_the_override_on_every_row_and_bets_nothing(
    served: Settings,
) -> None:
    with connect(served.paths.db) as con:
        result = predict_job(con, served, AFTER_THE_DATA, allow_stale=True)
        rows = con.execute(
            "SELECT stale_override, line_source FROM predictions.prediction "
            "WHERE game_date = ? AND is_active",
            [AFTER_THE_DATA],
        ).df()
        picks = con.execute(
            "SELECT status, reason FROM predictions.pick WHERE game_date = ? AND is_active",
            [AFTER_THE_DATA],
        ).df()
        audited = con.execute(
            "SELECT detail FROM pipeline.audit_log WHERE action = 'allow_stale'"
        ).fetchall()
        health = read_health(con, "w", "snapshot", served)
        verdict = read_picks(con, served, AFTER_THE_DATA)["verdict"]
    assert result.stale_override == "box_scores stale (latest 2025-06-22)"
    assert len(rows) > 100
    assert (rows["stale_override"] == result.stale_override).all()
    assert not (picks["status"] == BET).any()
    assert any("2025-12-01: predicted over stale data" in d for (d,) in audited)
    # /health judges the latest predicted date: this one, stale
    assert health["status"] == "stale"
    sources = {s["source"]: s for s in health["freshness"]["sources"]}
    assert sources["box_scores"]["state"] == "stale"
    assert sources["prop_lines"]["state"] == "missing"  # estimated lines only
    assert verdict.startswith("no real prop lines on 2025-12-01: all ")


def test_a_traded_player_is_flagged_and_never_bet(served: Settings) -> None:
    with connect(served.paths.db) as con:
        assert freshness.check_date(con, OPENING_NIGHT, served).state == "ok"  # a season start
        result = predict_job(con, served, OPENING_NIGHT, skip_completeness_check=True)
        rows = con.execute(
            "SELECT player_id, team, freshness_flag, stale_override, recommendation "
            "FROM predictions.prediction WHERE game_date = ? AND is_active",
            [OPENING_NIGHT],
        ).df()
        picks = con.execute(
            "SELECT player_id, status, reason FROM predictions.pick "
            "WHERE game_date = ? AND is_active",
            [OPENING_NIGHT],
        ).df()
    flags = dict(zip(rows["player_id"], rows["freshness_flag"], strict=True))
    assert flags[BRIDGES] == "team changed: BKN → NYK @ BOS (his line's game)"
    assert flags[TOWNS] == "team changed: MIN → NYK @ BOS (his line's game)"
    assert result.team_changes[BRIDGES] == flags[BRIDGES]
    assert rows["stale_override"].isna().all()  # nothing was stale
    flagged = set(rows.loc[rows["freshness_flag"].notna(), "player_id"])
    held = picks[picks["player_id"].isin(flagged)]
    assert not (held["status"] == BET).any()
    assert held["reason"].str.startswith("team changed: ").all()


def test_historical_dates_pass_the_gates(served: Settings) -> None:
    with connect(served.paths.db, read_only=True) as con:
        for day in (date(2024, 4, 12), date(2024, 4, 20), date(2024, 5, 22), date(2025, 2, 20)):
            assert freshness.check_date(con, day, served).refusals == [], day


def test_a_date_without_games_says_so_everywhere(served: Settings) -> None:
    runner = CliRunner()
    expected = (
        "no games on 2024-04-13 in the warehouse's schedule (the nearest game dates are "
        "2024-04-12 and 2024-04-14)"
    )
    for command in ("predict", "picks", "signal"):
        out = runner.invoke(app, [command, "--date", "2024-04-13", "--db", str(served.paths.db)])
        assert out.exit_code == 1, (command, out.output)
        assert expected in " ".join(out.output.split()), command
        assert "nbaprops predict --date 2024-04-13" not in out.output
