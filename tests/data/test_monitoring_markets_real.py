"""Monitoring per market on the real data: one week of rebounds backfilled (production:
predicted and graded day by day, season_average on rebounds_v1) and the same week's
walk-forward recorded as an experiment run; drift, compare-production and diagnose then
read the rebounds market only, its features and its outcome (box-score rebounds)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.markets import MARKET_NAMES
from nbaprops.core.settings import Settings
from nbaprops.experiments.runner import run_experiment
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import get_feature_set
from nbaprops.pipeline.backfill import backfill_walk_forward
from nbaprops.pipeline.daily import diagnose_job
from nbaprops.read.monitoring import diagnostics as read_diagnostics
from nbaprops.read.params import NotFoundError
from nbaprops.read.picks import champion_markets
from nbaprops.warehouse.migrate import migrate
from tests.conftest import copy_warehouse

pytestmark = [pytest.mark.data, pytest.mark.slow]

runner = CliRunner()
START, END = date(2024, 3, 25), date(2024, 3, 31)
SYSTEM = "season_average"
REBOUNDS_V1 = get_feature_set("rebounds_v1")
POINTS_V1 = get_feature_set("points_v1")


@pytest.fixture(scope="module")
def rebounds(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("monitoring-markets")
    copy_warehouse(warehouse, root / "nbaprops.duckdb")
    settings = Settings(
        db=root / "nbaprops.duckdb", runs_dir=root / "runs", artifacts_dir=root / "artifacts"
    )
    spec = build_spec(
        {
            "name": "monitoring-rebounds-week",
            "systems": [SYSTEM],
            "feature_set": "rebounds_v1",
            "evaluation": {"start": START, "end": END},
            "training": {"start": date(2023, 10, 24)},
            "retrain_every": 7,
            "warmup_days": 7,
        }
    )
    with connect(settings.paths.db) as con:
        migrate(con)
        backfill_walk_forward(con, spec, settings)
        run_experiment(con, spec, settings=settings, register_model=False)
        markets = con.execute(
            "SELECT DISTINCT market FROM predictions.prediction WHERE is_active"
        ).fetchall()
    assert markets == [("rebounds",)]  # the week is of rebounds only
    return settings


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_drift_of_rebounds_tests_rebounds_v1_and_the_stored_rebounds_predictions(
    rebounds: Settings, tmp_path: Path
) -> None:
    db = str(rebounds.paths.db)
    periods = ["--reference", "2024-03-25:2024-03-28", "--current", "2024-03-29:2024-03-31"]
    code, out, err = cli(
        "drift", *periods, "--market", "rebounds", "--system", SYSTEM, "--db", db,
        "--png", str(tmp_path / "r.png"), "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["market"] == "rebounds"
    assert payload["feature_set"] == "rebounds_v1"
    features = [r["name"] for r in payload["rows"] if r["kind"] == "feature"]
    assert sorted(features) == sorted(REBOUNDS_V1.features)
    assert "rebounds_avg_season" in features
    with connect(rebounds.paths.db, read_only=True) as con:
        stored = con.execute(
            "SELECT median FROM predictions.prediction WHERE market = 'rebounds' AND is_active "
            "AND NOT in_sample AND system_id = ? AND game_date BETWEEN ? AND ?",
            [SYSTEM, date(2024, 3, 25), date(2024, 3, 28)],
        ).df()
    median = next(r for r in payload["rows"] if r["kind"] == "prediction" and r["name"] == "median")
    assert median["system"] == SYSTEM
    assert median["n_reference"] == int(stored["median"].notna().sum()) > 100
    assert median["mean_reference"] == pytest.approx(stored["median"].mean())
    assert median["mean_reference"] < 15  # rebounds, not points

    # points on the same warehouse: points_v1's features, and no rebounds prediction enters
    code, out, err = cli(
        "drift", *periods, "--market", "points", "--db", db,
        "--png", str(tmp_path / "p.png"), "--json",
    )  # fmt: skip
    assert code == 0, err
    points = json.loads(out)
    assert (points["market"], points["feature_set"]) == ("points", "points_v1")
    assert sorted(r["name"] for r in points["rows"]) == sorted(POINTS_V1.features)
    assert points["systems"] == []
    assert points["over_shares"] == []
    # the default is points: the same figures without --market
    code, out, err = cli("drift", *periods, "--db", db, "--png", str(tmp_path / "d.png"), "--json")
    assert code == 0, err
    default = json.loads(out)
    assert {k: v for k, v in default.items() if k != "png"} == {
        k: v for k, v in points.items() if k != "png"
    }
    # a feature set of another market is refused
    code, _, err = cli(
        "drift", *periods, "--market", "rebounds", "--feature-set", "points_v1", "--db", db,
        "--png", str(tmp_path / "x.png"),
    )  # fmt: skip
    assert code == 1
    assert "feature set points_v1 is of the points market, not rebounds" in err


def test_compare_production_of_rebounds_pairs_the_rebounds_backtest_with_rebounds_grades(
    rebounds: Settings,
) -> None:
    db = str(rebounds.paths.db)
    span = ["--start", str(START), "--end", str(END), "--system", SYSTEM, "--db", db]
    code, out, err = cli("compare-production", *span, "--market", "rebounds", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["market"] == "rebounds"
    assert payload["run"]["feature_set"] == "rebounds_v1"
    with connect(rebounds.paths.db, read_only=True) as con:
        graded = con.execute(
            """
            SELECT g.actual_points AS actual, CAST(pg.reb AS DOUBLE) AS reb
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            LEFT JOIN core.player_game pg
              ON pg.player_id = p.player_id AND pg.game_id = p.game_id
            WHERE p.market = 'rebounds' AND p.is_active AND NOT p.in_sample
              AND p.system_id = ? AND p.game_date BETWEEN ? AND ?
            """,
            [SYSTEM, START, END],
        ).df()
    assert payload["n_production"] == len(graded) > 300
    played = graded[graded["actual"].notna()]
    assert (played["actual"] == played["reb"]).all()  # the outcome is box-score rebounds
    assert payload["n_shared"] > 0.9 * payload["n_production"]
    shared = payload["shared"]["production"]
    assert shared
    assert all(r["model_mae"] < 5 for r in shared)  # rebounds errors, not points

    # points: the run predicts rebounds, so no points backtest covers the week
    code, _, err = cli("compare-production", *span, "--market", "points")
    assert code == 1
    assert err.strip().startswith(f"error: no completed backtest of {SYSTEM} covers")
    code, _, err = cli("compare-production", *span)  # the default is points
    assert code == 1
    assert f"no completed backtest of {SYSTEM} covers" in err


def _mae_7d(con: duckdb.DuckDBPyConnection, day: date) -> float:
    """The 7-day MAE of SYSTEM's rebounds medians against box-score rebounds, on real
    lines, played and graded (independently of the diagnostics)."""
    row = con.execute(
        """
        SELECT avg(abs(p.median - CAST(pg.reb AS DOUBLE)))
        FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
        JOIN core.player_game pg ON pg.player_id = p.player_id AND pg.game_id = p.game_id
        WHERE p.market = 'rebounds' AND p.is_active AND NOT p.in_sample AND p.system_id = ?
          AND p.line_source = 'ACTUAL' AND g.direction_vs_consensus IS NOT NULL
          AND g.direction_vs_consensus <> 'void'
          AND p.game_date > ? AND p.game_date <= ?
        """,
        [SYSTEM, day - timedelta(days=7), day],
    ).fetchone()
    assert row is not None
    return float(row[0])


def test_diagnose_of_rebounds_reads_rebounds_outcomes_and_names_the_market(
    rebounds: Settings, tmp_path: Path
) -> None:
    db = tmp_path / "diag.duckdb"
    copy_warehouse(rebounds.paths.db, db)
    span = ["--start", "2024-03-29", "--end", str(END), "--system", SYSTEM, "--db", str(db)]
    code, out, err = cli("diagnose", *span, "--market", "rebounds", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["market"] == "rebounds"
    diags = payload["diagnostics"]
    assert {d["market_name"] for d in diags} == {"rebounds"}
    assert {d["system_id"] for d in diags} == {SYSTEM}  # the plain system, market beside
    with connect(db, read_only=True) as con:
        for d in diags:
            day = date.fromisoformat(d["game_date"])
            assert d["drift"]["mae_7d"] == pytest.approx(_mae_7d(con, day), abs=1e-6)
            assert d["drift"]["mae_7d"] < 5  # rebounds, not points
        stored = con.execute(
            "SELECT DISTINCT system_id, market FROM monitoring.diagnostic"
        ).fetchall()
        mae = dict(
            con.execute(
                "SELECT game_date, mae_7d FROM monitoring.diagnostic WHERE market = 'rebounds'"
            ).fetchall()
        )
        alerts = con.execute(
            "SELECT system_id, message FROM monitoring.alert WHERE source LIKE 'diagnose:%'"
        ).df()
    assert stored == [(SYSTEM, "rebounds")]
    assert mae == {date.fromisoformat(d["game_date"]): d["drift"]["mae_7d"] for d in diags}
    assert isinstance(alerts, pd.DataFrame)
    assert (alerts["system_id"] == SYSTEM).all()
    assert alerts["message"].str.startswith(f"{SYSTEM} [rebounds] on ").all()
    # the read layer (API /diagnostics?market=): rebounds' latest date, points has none
    with connect(db, read_only=True) as con:
        read = read_diagnostics(con, market="rebounds")
        with pytest.raises(NotFoundError, match="no diagnostics yet"):
            read_diagnostics(con)
    assert read["date"] == END
    assert [(r["system_id"], r["market"]) for r in read["diagnostics"]] == [(SYSTEM, "rebounds")]

    # points on the same warehouse: nothing of rebounds enters, so nothing to diagnose
    code, _, err = cli("diagnose", *span, "--market", "points")
    assert code == 1
    assert err.strip() == "error: no active predictions to diagnose in 2024-03-29..2024-03-31"


@pytest.mark.parametrize("command", ["drift", "compare-production", "diagnose"])
def test_an_unknown_market_is_one_line_listing_the_known(command: str, rebounds: Settings) -> None:
    db = str(rebounds.paths.db)
    args = {
        "drift": ["--reference", "2024-03-25:2024-03-28", "--current", "2024-03-29:2024-03-31"],
        "compare-production": ["--start", str(START), "--end", str(END), "--system", SYSTEM],
        "diagnose": ["--date", str(END)],
    }[command]
    code, _, err = cli(command, *args, "--market", "steals", "--db", db)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "unknown market 'steals'" in lines[0]
    for name in MARKET_NAMES:
        assert name in lines[0]


def test_the_daily_diagnose_phase_diagnoses_the_rebounds_champion_under_its_market(
    rebounds: Settings, tmp_path: Path
) -> None:
    """With season_average the rebounds champion (its backfilled version aliased, as a
    bootstrap would), the daily run's diagnose phase diagnoses the last predicted date in
    rebounds, reading rebounds only (this warehouse holds no points predictions)."""
    db = tmp_path / "daily.duckdb"
    copy_warehouse(rebounds.paths.db, db)
    settings = Settings(
        db=db, runs_dir=tmp_path / "runs", artifacts_dir=rebounds.paths.artifacts_dir
    )
    with connect(db) as con:
        version = con.execute(
            "SELECT max(model_version) FROM predictions.prediction WHERE market = 'rebounds' "
            "AND game_date = ?",
            [END],
        ).fetchone()
        assert version is not None
        con.execute(
            "INSERT INTO models.alias VALUES (?, 'rebounds', 'champion', ?, now())",
            [SYSTEM, version[0]],
        )
        assert champion_markets(con) == ["rebounds"]
        diagnostics = diagnose_job(con, settings, END + timedelta(days=1))
        assert [(d.game_date, d.system_id, d.market_name) for d in diagnostics] == [
            (END, SYSTEM, "rebounds")
        ]
        assert diagnostics[0].drift["mae_7d"] == pytest.approx(_mae_7d(con, END), abs=1e-6)
        assert diagnostics[0].model_version == version[0]
        for alert in diagnostics[0].alerts:
            assert alert["message"].startswith(f"{SYSTEM} [rebounds] on {END}: ")
        stored = con.execute(
            "SELECT system_id, market, model_version FROM monitoring.diagnostic "
            "WHERE game_date = ?",
            [END],
        ).fetchall()
    assert stored == [(SYSTEM, "rebounds", version[0])]
