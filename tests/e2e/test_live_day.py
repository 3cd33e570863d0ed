"""The README's "run it on tonight's games", end to end on a recorded day, nothing from
outside: `nbaprops run daily --live --date 2024-03-12 --log-json` fetches the schedule,
the previous night's box scores, tonight's game and prop lines (replayed from
tests/fixtures/live/recorded_day, built from the real data by its make_fixtures.py),
ingests them, grades yesterday, predicts tonight, POSTs the picks to a local webhook and
publishes the snapshot.

The warehouse is built from the real data folder as it stood on the morning of
2024-03-12 without the night before's box scores (``recorded_day.morning_data_dir``:
the files filtered, not rows deleted from a built warehouse, so every derived table is
what an ingest of that folder makes). The night before is replayed as it ran: a
champion bootstrapped on the data before 2024-03-11, the schedule fetched, 2024-03-11
predicted with its real lines; tonight's run then has yesterday to grade.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline import fetch as fetch_module
from nbaprops.pipeline.daily import FETCH_PHASE, PHASES
from nbaprops.pipeline.snapshot import snapshot_path
from tests.e2e.recorded_day import DAY, YESTERDAY, Morning, build_morning, replay_transports
from tests.replay import Replay
from tests.webhook import receiving

pytestmark = [pytest.mark.data, pytest.mark.slow]

SECRET = "sk-recorded-day-0001"


@pytest.fixture(scope="module")
def morning(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Morning:
    """The warehouse of the morning of DAY, after the night before's run."""
    built = build_morning(data_dir, tmp_path_factory.mktemp("recorded_day"))
    with connect(built.settings.paths.db) as con:
        newest = con.execute("SELECT max(game_date) FROM raw.nba_player_log").fetchone()
    assert newest == (YESTERDAY.replace(day=10),)  # the night before is not in yet
    assert built.yesterday_predictions > 100
    return built


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with receiving("/picks") as receiver:
        yield receiver.url, receiver.bodies


def test_run_daily_live_on_a_recorded_day_fetches_grades_predicts_posts_and_publishes(
    morning: Morning,
    webhook: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = webhook
    settings = morning.settings
    monkeypatch.setenv("ODDS_API_KEY", SECRET)
    monkeypatch.setenv("NBAPROPS_LIVE_DIR", str(settings.paths.resolved_live_dir()))
    monkeypatch.setenv("NBAPROPS_RUNS_DIR", str(settings.paths.runs_dir))
    monkeypatch.setenv("NBAPROPS_NBA_API_DELAY_S", "0")
    monkeypatch.setenv("NBAPROPS_PICKS_WEBHOOK_URL", url)
    monkeypatch.delenv("NBAPROPS_ALERT_WEBHOOK_URL", raising=False)
    made = []

    def recorded(_: Settings) -> fetch_module.Transports:
        made.append(replay_transports())
        return made[-1]

    monkeypatch.setattr(fetch_module, "default_transports", recorded)
    snapshot = snapshot_path(settings.paths.db)
    before = snapshot.stat().st_mtime_ns if snapshot.exists() else None

    result = CliRunner().invoke(
        app,
        [
            "run",
            "daily",
            "--live",
            "--date",
            DAY.isoformat(),
            "--log-json",
            "--db",
            str(settings.paths.db),
            "--data-dir",
            str(morning.data_dir),
        ],
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    # the fetch phase's lines, the injury report the day's latest (the 06:30 PM sample PDF)
    assert "schedule: ok (31 games of 2023-24)" in out
    assert (
        "box scores: ok (2023-24 since 2024-03-10 to 2024-03-12: 311 player rows (regular "
        "311, playin 0, playoffs 0), 30 team rows)" in out
    )
    assert "game lines: ok (7 games, median of 1 book)" in out
    assert "prop lines: ok (7 games, 9,874 quotes)" in out
    assert "injury report: ok (the 2024-03-12 18:30 ET report, 154 entries)" in out
    assert "The Odds API credits: 18 used, 19,982 left" in out
    assert SECRET not in result.output
    # every request went to the recorded hosts; box scores asked from the last loaded date
    transports = made[0]
    assert isinstance(transports.nba_stats, Replay)
    asked = {(r.params["DateFrom"], r.params["DateTo"]) for r in transports.nba_stats.requests}
    assert asked == {("03/10/2024", "03/12/2024")}
    assert len(transports.odds.requests) == 1 + 1 + 7  # game lines, events, 7 events' odds

    # one JSON line per phase on stderr, every phase COMPLETE
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [r["phase"] for r in records] == [FETCH_PHASE, *PHASES]
    assert {r["state"] for r in records} == {"COMPLETE"}, records
    assert len({r["run_id"] for r in records}) == 1
    by_phase = {r["phase"]: r for r in records}

    with connect(settings.paths.db, read_only=True) as con:
        phases = dict(
            con.execute(
                "SELECT phase, status FROM pipeline.phase_run WHERE run_id = ?",
                [records[0]["run_id"]],
            ).fetchall()
        )
        # the fetched rows are in: last night's box scores, tonight's quotes and lines
        box = con.execute(
            "SELECT count(*), count(DISTINCT game_id) FROM core.player_game WHERE game_date = ?",
            [YESTERDAY],
        ).fetchone()
        raw_box = con.execute(
            "SELECT count(*) FROM raw.nba_player_log WHERE game_date = ?", [YESTERDAY]
        ).fetchone()
        quotes = con.execute(
            "SELECT count(*), count(DISTINCT o.event_id), "
            "count(*) FILTER (WHERE f.path NOT LIKE '%/odds_api/player_props_live/%') "
            "FROM raw.odds_api_outcome o JOIN raw.file f ON f.file_id = o._file_id "
            "WHERE timezone('America/New_York', o.commence_time)::DATE = ?",
            [DAY],
        ).fetchone()
        game_lines = con.execute(
            "SELECT count(*) FROM core.game_line WHERE game_date = ?", [DAY]
        ).fetchone()
        # yesterday graded: every prediction of the night before
        graded = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE g.prediction_id IS NOT NULL) "
            "FROM predictions.prediction p LEFT JOIN grading.grade g USING (prediction_id) "
            "WHERE p.game_date = ? AND p.is_active",
            [YESTERDAY],
        ).fetchone()
        # tonight predicted, on the lines just fetched
        tonight = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE p.line_source = 'ACTUAL'),
                   count(*) FILTER (WHERE p.line_source = 'ACTUAL' AND (
                       p.n_books < 1 OR p.quote_time NOT IN (
                           SELECT o.snapshot_time FROM raw.odds_api_outcome o
                           WHERE o.market = 'player_points'
                             AND timezone('America/New_York', o.commence_time)::DATE = ?)))
            FROM predictions.prediction p WHERE p.game_date = ? AND p.is_active
            """,
            [DAY, DAY],
        ).fetchone()
        day_before = con.execute(
            "SELECT count(*) FROM core.player_game WHERE game_date = ?", [YESTERDAY.replace(day=10)]
        ).fetchone()
    assert phases == dict.fromkeys([FETCH_PHASE, *PHASES], "COMPLETE")
    assert raw_box == (124,)
    assert box is not None
    assert box[0] == 124
    assert box[1] == 6
    assert by_phase[FETCH_PHASE]["rows"] > 9_874 + 124
    assert quotes == (9_874, 7, 0)  # tonight's quotes: all fetched now
    assert day_before == (187,)  # the re-fetched night of 2024-03-10 is not doubled
    assert game_lines == (7,)
    assert graded is not None
    assert graded[0] == morning.yesterday_predictions
    assert graded[1] == graded[0]
    assert by_phase["grade"]["rows"] >= graded[0]
    assert "graded: 2024-03-11" in out
    assert tonight is not None
    assert tonight[0] > 100
    assert tonight[1] > 50  # players with a real line tonight
    assert tonight[2] == 0  # every real line was quoted in the fetched payloads

    # the picks webhook heard tonight's picks (or "No bets today")
    assert len(received) == 1, received
    posted = received[0]
    assert (posted["source"], posted["kind"], posted["date"]) == ("nbaprops", "picks", "2024-03-12")
    assert posted["system"] == "xgboost"
    assert posted["n_bets"] == len(posted["picks"])
    assert posted["text"].startswith(
        "nbaprops picks 2024-03-12" if posted["n_bets"] else "No bets today (2024-03-12"
    )
    # the snapshot was published by this run
    assert snapshot.exists()
    assert before is None or snapshot.stat().st_mtime_ns > before
    with connect(snapshot, read_only=True) as snap:
        published = snap.execute(
            "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND is_active",
            [DAY],
        ).fetchone()
    assert published == (tonight[0],)
