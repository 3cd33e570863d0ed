"""Diagnostics on the real data: a backfilled fortnight of April 2024 (play-in included),
its figures recomputed independently, a deliberately broken day, alerts and the webhook."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.spec import build_spec
from nbaprops.monitoring.diagnostics import diagnose_range
from nbaprops.pipeline.backfill import backfill_grading, backfill_walk_forward
from nbaprops.warehouse.migrate import migrate
from tests.conftest import copy_warehouse
from tests.webhook import receiving

FIRST, LAST = date(2024, 4, 8), date(2024, 4, 21)
BROKEN = date(2024, 4, 12)
PLAY_IN = ["2024-04-16", "2024-04-17", "2024-04-19"]  # no player box scores in the source
SYSTEMS = ["season_average", "moving_average"]


@pytest.fixture(scope="module")
def backfilled(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("diagnostics")
    shutil.copy(warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")
    spec = build_spec(
        {
            "name": "diagnostics-fortnight",
            "systems": SYSTEMS,
            "evaluation": {"start": FIRST, "end": LAST},
            # one season of training rows: the diagnostics read the stored predictions,
            # not the history's length (ten seasons cost five times the frames and fits)
            "training": {"start": date(2023, 10, 24)},
            "retrain_every": 7,
            "warmup_days": 0,
        }
    )
    with connect(settings.paths.db) as con:
        migrate(con)
        backfill_walk_forward(con, spec, settings)
    return settings


def copy_settings(settings: Settings, root: Path) -> Settings:
    copy_warehouse(settings.paths.db, root / "nbaprops.duckdb")
    return Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")


def test_every_date_and_system_gets_one_stored_row_with_independently_checked_figures(
    backfilled: Settings, tmp_path: Path
) -> None:
    settings = copy_settings(backfilled, tmp_path)
    with connect(settings.paths.db) as con:
        diagnostics = diagnose_range(con, settings, FIRST, LAST)
        stored = con.execute(
            "SELECT game_date, system_id, hit_rate_7d, bets_7d, line_mae, n_lined, "
            "model_beats_line_share FROM monitoring.diagnostic ORDER BY 1, 2"
        ).df()
        direct = con.execute(
            """
            SELECT count(*) FILTER (WHERE g.direction_vs_consensus = 'right') AS wins,
                   count(*) FILTER (WHERE g.direction_vs_consensus IN ('right', 'wrong')) AS bets
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND p.system_id = 'season_average' AND p.line_source = 'ACTUAL'
              AND p.game_date BETWEEN DATE '2024-04-08' AND DATE '2024-04-14'
            """
        ).fetchone()
        predicted = [
            str(r[0])
            for r in con.execute(
                "SELECT DISTINCT game_date FROM predictions.prediction WHERE is_active"
            ).fetchall()
        ]
        lined = con.execute(
            """
            SELECT g.actual_points AS actual, p.line, p.median
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND p.system_id = 'moving_average' AND p.game_date = ?
              AND p.line_source = 'ACTUAL' AND g.direction_vs_consensus <> 'void'
            """,
            [BROKEN],
        ).df()
    # every predicted date, and the play-in dates that have games but no predictions
    dates = sorted({d.game_date for d in diagnostics})
    assert [str(d) for d in dates] == sorted(set(predicted) | set(PLAY_IN))
    assert len(stored) == len(diagnostics) == 2 * len(dates)
    by_key = {(str(d.game_date), d.system_id): d for d in diagnostics}
    week = by_key[("2024-04-14", "season_average")]
    wins, bets = direct
    assert week.drift["bets_7d"] == bets > 0
    assert week.drift["hit_rate_7d"] == pytest.approx(wins / bets, abs=1e-6)
    day = by_key[(str(BROKEN), "moving_average")]
    assert day.market["n_lined"] == len(lined) > 50
    assert day.market["line_mae"] == pytest.approx(
        float(np.abs(lined["actual"] - lined["line"]).mean()), abs=1e-6
    )
    beats = np.abs(lined["actual"] - lined["median"]) < np.abs(lined["actual"] - lined["line"])
    assert day.market["model_beats_line_share"] == pytest.approx(float(beats.mean()), abs=1e-6)
    tiers = day.market["line_mae_by_tier"]
    assert sum(t["n"] for t in tiers.values()) == len(lined)
    # The play-in games happened, yet the player box-score source never holds them: the
    # whole-season check names those dates, and the cause is data quality that week.
    late = by_key[(str(LAST), "season_average")]
    assert late.quality["dates_without_box_scores"] == PLAY_IN
    assert late.primary_cause == "data_quality"
    assert "missing_dates" in late.conditions
    assert {c for d in diagnostics for c in d.conditions} <= {
        "beats_line_and_hit_rate",
        "drift",
        "beats_line",
        "hit_rate_7d",
        "graded_completeness",
        "missing_dates",
        "stale_model",
    }


def test_a_day_of_deleted_box_scores_is_pending_not_void_and_alerts_naming_the_date(
    backfilled: Settings, tmp_path: Path
) -> None:
    settings = copy_settings(backfilled, tmp_path)
    with connect(settings.paths.db) as con:
        con.execute("DELETE FROM core.player_game WHERE game_date = ?", [BROKEN])
        con.execute("DELETE FROM grading.grade WHERE game_date = ?", [BROKEN])
        con.execute("DELETE FROM grading.completeness WHERE game_date = ?", [BROKEN])
        results = backfill_grading(con, BROKEN, BROKEN)
        voided = con.execute(
            "SELECT count(*) FROM grading.grade WHERE game_date = ?", [BROKEN]
        ).fetchone()
        diagnostics = diagnose_range(con, settings, date(2024, 4, 14), date(2024, 4, 14))
        alerts = con.execute(
            "SELECT severity, source, system_id, message FROM monitoring.alert "
            "WHERE source = 'diagnose:missing_dates'"
        ).fetchall()
    assert results[0].pending > 0
    assert results[0].graded == 0
    assert voided == (0,)  # not one "did not play" for a day that was never loaded
    for d in diagnostics:
        assert str(BROKEN) in d.quality["dates_without_grading"]
        assert str(BROKEN) in d.quality["dates_without_box_scores"]
        assert d.primary_cause == "data_quality"
    assert {a[2] for a in alerts} == set(SYSTEMS)
    assert all(a[0] == "WARNING" for a in alerts)
    assert all(str(BROKEN) in a[3] for a in alerts)


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    with receiving() as receiver:
        yield receiver.url, receiver.bodies


def test_the_cli_stores_prints_and_posts_new_alerts_once(
    backfilled: Settings,
    tmp_path: Path,
    webhook: tuple[str, list[dict]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = webhook
    settings = copy_settings(backfilled, tmp_path)
    monkeypatch.setenv("NBAPROPS_ALERT_WEBHOOK_URL", url)
    args = [
        "diagnose",
        "--start",
        "2024-04-14",
        "--end",
        "2024-04-21",
        "--db",
        str(settings.paths.db),
    ]
    first = CliRunner().invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    payload = json.loads(first.output)
    raised = [a for d in payload["diagnostics"] for a in d["alerts"]]
    assert raised
    assert payload["webhook"]["ok"] is True
    assert len(received) == 1
    assert [a["message"] for a in received[0]["alerts"]] == [a["message"] for a in raised]
    with connect(settings.paths.db, read_only=True) as con:
        stored = con.execute(
            "SELECT count(*) FROM monitoring.alert WHERE source LIKE 'diagnose:%'"
        ).fetchone()
        rows = con.execute("SELECT count(*) FROM monitoring.diagnostic").fetchone()
    assert stored == (len(raised),)
    # Rediagnosing is idempotent: same rows, no new alert, nothing posted.
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "Diagnostics" in again.output
    assert len(received) == 1
    with connect(settings.paths.db, read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM monitoring.alert WHERE source LIKE 'diagnose:%'"
        ).fetchone() == (len(raised),)
        assert con.execute("SELECT count(*) FROM monitoring.diagnostic").fetchone() == rows
    status = CliRunner().invoke(app, ["status", "--db", str(settings.paths.db), "--json"])
    latest = json.loads(status.output)["diagnostics"]
    assert {(r["system_id"], r["market"], r["game_date"]) for r in latest} == {
        (s, "points", "2024-04-21") for s in SYSTEMS
    }
    assert len(latest) == len(SYSTEMS)  # one per system and market
    listed = CliRunner().invoke(
        app, ["alerts", "--since", "2000-01-01", "--db", str(settings.paths.db)]
    )
    assert listed.exit_code == 0
    assert raised[0]["message"].split(" [")[0] in listed.output.replace("\n", " ")


def test_diagnose_refuses_bad_input_in_one_line(backfilled: Settings) -> None:
    for args in (
        ["diagnose", "--date", "2024-13-01"],
        ["diagnose"],
        ["diagnose", "--start", "2024-04-20", "--end", "2024-04-10"],
        ["diagnose", "--date", "1990-01-01"],
    ):
        result = CliRunner().invoke(app, [*args, "--db", str(backfilled.paths.db)])
        assert result.exit_code != 0, args
        assert len(result.output.strip().splitlines()) == 1, (args, result.output)
