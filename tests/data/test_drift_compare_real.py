"""Drift and backtest vs production on the real data (a one-week walk-forward, cheap systems)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.runner import run_experiment
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import get_feature_set
from nbaprops.features.checks import period_frame
from nbaprops.monitoring.compare import (
    IN_SAMPLE,
    NOT_GRADED,
    NOT_ON_SLATE,
    NOT_PREDICTED_DATE,
    compare_production,
)
from nbaprops.monitoring.drift import Period, drift_of_frames
from nbaprops.pipeline.backfill import backfill_walk_forward
from nbaprops.warehouse.migrate import migrate

pytestmark = [pytest.mark.data, pytest.mark.slow]

runner = CliRunner()
START, END = date(2024, 3, 25), date(2024, 3, 31)
SYSTEM = "moving_average"
POINTS_V1 = get_feature_set("points_v1")


# --- drift ------------------------------------------------------------------------------


def test_a_deliberately_shifted_feature_is_ranked_drifted_and_an_unshifted_split_is_not(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """Two random halves of March 2024 are one distribution: nothing drifts. Add three
    points to one feature of one half: that feature, and only it, drifts, ranked first."""
    march = period_frame(real_con, date(2024, 3, 1), date(2024, 3, 31), POINTS_V1)
    order = np.random.default_rng(11).permutation(len(march))
    ref = march.iloc[order[: len(march) // 2]].reset_index(drop=True)
    cur = march.iloc[order[len(march) // 2 :]].reset_index(drop=True)
    none = pd.DataFrame(columns=["system", "median", "mean", "p_over", "recommendation"])
    period = Period(date(2024, 3, 1), date(2024, 3, 31))

    unshifted = drift_of_frames(
        period, period, ref, cur, POINTS_V1.features, none, none, feature_set=POINTS_V1.key
    )
    assert len(ref) > 2000
    assert unshifted.n_features_drifted == 0, [r.name for r in unshifted.rows if r.drifted]
    assert max(r.psi for r in unshifted.rows) < 0.1

    shifted_cur = cur.copy()
    shifted_cur["points_avg_last_10"] += 3.0
    shifted = drift_of_frames(
        period,
        period,
        ref,
        shifted_cur,
        POINTS_V1.features,
        none,
        none,
        feature_set=POINTS_V1.key,
    )
    top = shifted.rows[0]
    assert (top.name, top.rank, top.drifted) == ("points_avg_last_10", 1, True)
    before = {r.name: r for r in unshifted.rows}["points_avg_last_10"]
    assert top.difference == pytest.approx(before.difference + 3.0)
    assert top.psi > 0.1
    assert [r.name for r in shifted.rows if r.drifted] == ["points_avg_last_10"]


def test_drift_across_regular_season_and_playoffs_writes_a_ranked_table_and_a_png(
    warehouse: Path, tmp_path: Path
) -> None:
    png = tmp_path / "plots" / "drift.png"
    result = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            "2024-03-01:2024-03-31",
            "--current",
            "2024-04-20:2024-05-20",
            "--png",
            str(png),
            "--db",
            str(warehouse),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = payload["rows"]
    assert len(rows) == len(POINTS_V1.features)  # no predictions stored: features only
    assert rows[0]["name"] == "playoff_game"  # 0 in March, 1 in every playoff game
    assert rows[0]["drifted"]
    keys = [(not r["drifted"], -r["psi"]) for r in rows]
    assert keys == sorted(keys)
    assert payload["png"] == str(png)
    assert png.read_bytes()[:4] == b"\x89PNG"
    with connect(warehouse, read_only=True) as con:
        march = period_frame(con, date(2024, 3, 1), date(2024, 3, 31), POINTS_V1)
    assert payload["n_reference_rows"] == len(march)
    empty = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            "2024-07-01:2024-07-31",
            "--current",
            "2024-04-20:2024-05-20",
            "--png",
            str(png),
            "--db",
            str(warehouse),
        ],
    )
    assert empty.exit_code == 1
    assert empty.stderr.strip() == "error: --reference 2024-07-01:2024-07-31 has no player-games"


# --- backtest vs production -------------------------------------------------------------


@pytest.fixture(scope="module")
def paired(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A copy of the warehouse with one week backfilled (production: predicted and graded
    day by day) and the same week's walk-forward recorded as an experiment run."""
    root = tmp_path_factory.mktemp("paired")
    db = root / "nbaprops.duckdb"
    db.write_bytes(warehouse.read_bytes())
    settings = Settings(db=db, runs_dir=root / "runs", artifacts_dir=root / "artifacts")
    spec = build_spec(
        {
            "name": "drift-compare-week",
            "systems": [SYSTEM, "season_average"],
            "evaluation": {"start": START, "end": END},
            "training": {"start": date(2023, 10, 24)},
            "retrain_every": 7,
            "warmup_days": 7,
        }
    )
    with connect(db) as con:
        migrate(con)
        backfill_walk_forward(con, spec, settings)
        run_experiment(con, spec, settings=settings, register_model=False)
    return settings


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = con.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def test_backtest_and_production_are_compared_on_identical_player_games_and_gaps_are_listed(
    paired: Settings, tmp_path: Path
) -> None:
    db = tmp_path / "gaps.duckdb"
    db.write_bytes(paired.paths.db.read_bytes())
    active = (
        "SELECT prediction_id FROM predictions.prediction WHERE system_id = ? AND is_active "
        "AND game_date = ?"
    )
    with connect(db) as con:
        run_id = con.execute(
            "SELECT experiment_id FROM experiments.run WHERE NOT list_contains(tags, 'backfill')"
        ).fetchone()[0]
        n = {
            day: _count(con, f"SELECT count(*) FROM ({active})", [SYSTEM, day])
            for day in pd.date_range(START, END).date
        }
        # production missed a day entirely (the daily job never ran)
        missed = date(2024, 3, 27)
        for table in ("grading.grade", "predictions.prediction"):
            con.execute(f"DELETE FROM {table} WHERE prediction_id IN ({active})", [SYSTEM, missed])
        # five lined rows not graded yet, two in-sample, three players off the slate
        con.execute(
            "DELETE FROM grading.grade WHERE prediction_id IN (SELECT prediction_id FROM "
            "predictions.prediction WHERE system_id = ? AND game_date = ? AND line IS NOT NULL "
            "ORDER BY player_id LIMIT 5)",
            [SYSTEM, date(2024, 3, 28)],
        )
        con.execute(
            "UPDATE predictions.prediction SET in_sample = true WHERE prediction_id IN ("
            "SELECT prediction_id FROM predictions.prediction WHERE system_id = ? AND "
            "game_date = ? ORDER BY player_id LIMIT 2)",
            [SYSTEM, date(2024, 3, 29)],
        )
        off_slate = f"{active} ORDER BY player_id LIMIT 3"
        for table in ("grading.grade", "predictions.prediction"):
            con.execute(
                f"DELETE FROM {table} WHERE prediction_id IN ({off_slate})",
                [SYSTEM, date(2024, 3, 30)],
            )
        # the backtest lacks one date and four players of another
        skipped = date(2024, 3, 26)
        n_skipped = _count(
            con,
            "SELECT count(*) FROM experiments.prediction WHERE experiment_id = ? AND system = ? "
            "AND game_date = ? AND NOT warmup",
            [run_id, SYSTEM, skipped],
        )
        con.execute(
            "DELETE FROM experiments.prediction WHERE experiment_id = ? AND system = ? AND "
            "game_date = ?",
            [run_id, SYSTEM, skipped],
        )
        con.execute(
            "DELETE FROM experiments.prediction WHERE experiment_id = ? AND system = ? AND "
            "game_date = ? AND player_id IN (SELECT player_id FROM experiments.prediction "
            "WHERE experiment_id = ? AND system = ? AND game_date = ? ORDER BY player_id "
            "LIMIT 4)",
            [run_id, SYSTEM, END, run_id, SYSTEM, END],
        )
        keys_b = con.execute(
            "SELECT player_id, game_date FROM experiments.prediction WHERE experiment_id = ? "
            "AND system = ? AND NOT warmup AND game_date BETWEEN ? AND ?",
            [run_id, SYSTEM, START, END],
        ).fetchall()
        keys_p = con.execute(
            "SELECT p.player_id, p.game_date FROM predictions.prediction p JOIN grading.grade "
            "USING (prediction_id) WHERE p.system_id = ? AND p.is_active AND NOT p.in_sample "
            "AND p.game_date BETWEEN ? AND ?",
            [SYSTEM, START, END],
        ).fetchall()
        result = compare_production(con, SYSTEM, START, END, n_boot=200)

    assert n[missed] > 100
    assert result.run is not None
    assert result.run.experiment_id == run_id
    assert result.n_backtest == len(keys_b)
    assert result.n_production == len(keys_p)
    assert result.n_shared == len(set(keys_b) & set(keys_p))
    assert {r.reason: r.n for r in result.backtest_only.reasons} == {
        NOT_PREDICTED_DATE: n[missed],
        NOT_GRADED: 5,
        IN_SAMPLE: 2,
        NOT_ON_SLATE: 3,
    }
    assert {r.reason: r.n for r in result.production_only.reasons} == {
        NOT_PREDICTED_DATE: n_skipped,
        NOT_ON_SLATE: 4,
    }
    not_graded = {r.reason: r for r in result.backtest_only.reasons}[NOT_GRADED]
    assert not_graded.lined == 5
    # The backfill replays the backtest: on the same player-games every figure is equal,
    # while each side's own population reports other numbers.
    (b,) = result.shared["backtest"]
    (p,) = result.shared["production"]
    assert b["n"] == p["n"] > 300
    for key in ("bets", "pushes", "voids"):
        assert b[key] == p[key], key
    for key in ("hit_rate", "ci_low", "ci_high", "model_mae", "line_mae", "roi_consensus"):
        assert b[key] == pytest.approx(p[key], abs=1e-12), key
    (all_b,) = result.as_reported["backtest"]
    (all_p,) = result.as_reported["production"]
    assert all_b["n"] != all_p["n"]
    assert all_b["n"] > b["n"]
    assert result.line_agreement["different_line"] == 0
    (diff,) = result.paired.values()
    assert diff["lined_common"] == b["n"]  # the paired differences use the same rows

    out = runner.invoke(
        app,
        [
            "compare-production",
            "--start",
            str(START),
            "--end",
            str(END),
            "--system",
            SYSTEM,
            "--db",
            str(db),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["n_shared"] == result.n_shared
    assert payload["backtest_only"]["n"] == sum(r.n for r in result.backtest_only.reasons)


def test_compare_production_without_a_covering_backtest_names_the_command(
    paired: Settings,
) -> None:
    out = runner.invoke(
        app,
        [
            "compare-production",
            "--start",
            "2024-03-01",
            "--end",
            str(END),
            "--system",
            SYSTEM,
            "--db",
            str(paired.paths.db),
        ],
    )
    assert out.exit_code == 1
    (line,) = out.stderr.splitlines()
    assert line.startswith("error: no completed backtest of moving_average covers 2024-03-01")
    assert "`nbaprops experiment run SPEC.yaml --eval-start 2024-03-01" in line


def test_prediction_drift_reads_the_stored_predictions_of_each_period(
    paired: Settings, tmp_path: Path
) -> None:
    png = tmp_path / "d.png"
    out = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            "2024-03-25:2024-03-27",
            "--current",
            "2024-03-28:2024-03-31",
            "--system",
            SYSTEM,
            "--png",
            str(png),
            "--db",
            str(paired.paths.db),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    with connect(paired.paths.db, read_only=True) as con:
        counts = con.execute(
            """
            SELECT game_date <= DATE '2024-03-27' AS ref, count(*) AS n, count(p_over) AS lined,
                   count(*) FILTER (recommendation IN ('OVER', 'UNDER')) AS bets,
                   count(*) FILTER (recommendation = 'OVER') AS overs, avg(median) AS avg_median
            FROM predictions.prediction
            WHERE system_id = ? AND is_active AND game_date BETWEEN ? AND ?
            GROUP BY 1
            """,
            [SYSTEM, START, END],
        ).df()
    ref = counts[counts["ref"]].iloc[0]
    cur = counts[~counts["ref"]].iloc[0]
    preds = {r["name"]: r for r in payload["rows"] if r["kind"] == "prediction"}
    assert set(preds) == {"median", "mean", "p_over"}
    assert (preds["median"]["n_reference"], preds["median"]["n_current"]) == (ref.n, cur.n)
    assert preds["median"]["mean_reference"] == pytest.approx(ref.avg_median)
    assert (preds["p_over"]["n_reference"], preds["p_over"]["n_current"]) == (
        ref.lined,
        cur.lined,
    )
    (share,) = payload["over_shares"]
    assert (share["n_bets_reference"], share["n_over_reference"]) == (ref.bets, ref.overs)
    assert share["share_current"] == pytest.approx(cur.overs / cur.bets)
    assert png.stat().st_size > 10_000
