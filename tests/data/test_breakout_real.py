"""The breakout classifier on the real warehouse: one frame for training and serving,
a point-in-time scope, a short honest walk-forward, and the daily shadow end to end."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.breakout import (
    BreakoutConfig,
    final_breakout_model,
    run_breakout_walk_forward,
)
from nbaprops.features.catalog import BREAKOUT_V1, experimental_feature_set
from nbaprops.features.checks import FeatureDistributionError, validate_feature_distributions
from nbaprops.features.frame import training_spine
from nbaprops.grading.breakout import breakout_report, grade_breakout_date
from nbaprops.models.calibration import Calibration
from nbaprops.models.registry import promote, register_version
from nbaprops.pipeline.daily import breakout_shadow_phase
from nbaprops.predictions.breakout import (
    active_breakout,
    breakout_slate,
    predict_breakout_date,
    shadow_model,
)
from nbaprops.predictions.daily import aliased_models
from nbaprops.systems.breakout import SCOPE_COLUMNS, BreakoutRules, breakout_frame
from nbaprops.warehouse.migrate import migrate
from tests.leakage.test_point_in_time import perturb_on_and_after

DAY = date(2024, 3, 15)
RULES = BreakoutRules()
RESEARCH = experimental_feature_set(
    (
        *BREAKOUT_V1.features,
        "cv_ratio",
        "cold_streak_indicator",
        "usage_rate_trend",
        "minutes_trend",
        "games_since_dnp",
        "breakout_signal",
    ),
    "breakout research",
)
COMPARED = [*RESEARCH.features, *SCOPE_COLUMNS, "n_defaulted"]


def _training(con: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    frame = breakout_frame(con, training_spine(con, day, day), RULES, RESEARCH)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def test_training_and_serving_frames_are_identical_for_the_same_player_games(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    for day in (DAY, date(2025, 1, 15)):
        serving = breakout_slate(real_con, [day], RULES, RESEARCH)
        training = _training(real_con, day)
        keys = ["player_id", "game_date", "team", "opponent"]
        both = serving.merge(training, on=keys, suffixes=("_serve", "_train"))
        assert len(both) > 80, day  # most of the slate played
        assert both["in_scope_train"].sum() > 30
        for col in COMPARED:
            a = both[f"{col}_serve"].to_numpy(dtype=float)
            b = both[f"{col}_train"].to_numpy(dtype=float)
            assert np.array_equal(a, b, equal_nan=True), (day, col)


def test_the_scope_reads_the_pre_game_season_average(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    frame = _training(real_con, DAY)
    direct = real_con.execute(
        """
        SELECT s.player_id, avg(pg.points) AS avg_before, count(*) AS games_before
        FROM (SELECT DISTINCT player_id, season FROM core.player_game WHERE game_date = ?) s
        JOIN core.player_game pg ON pg.player_id = s.player_id AND pg.season = s.season
         AND pg.game_date < ? AND pg.season_type IN ('regular', 'playoffs')
        GROUP BY s.player_id
        """,
        [DAY, DAY],
    ).df()
    got = frame.merge(direct, on="player_id")
    assert len(got) > 100
    assert np.allclose(got["season_avg_before"], got["avg_before"])
    assert (got["season_games_before"] == got["games_before"]).all()
    scoped = frame[frame["in_scope"]]
    assert scoped["season_avg_before"].between(6, 20).all()
    assert (scoped["season_games_before"] >= 5).all()
    # the label reads that pre-game average, never one that includes the game
    expected = scoped["points"] >= 1.75 * scoped["season_avg_before"]
    assert (scoped["breakout"] == expected.astype(float)).all()
    assert 0.05 < scoped["breakout"].mean() < 0.25


def test_games_since_dnp_counts_his_teams_consecutive_games_up_to_its_last(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    frame = _training(real_con, DAY)
    sample = frame.sort_values("player_id").head(60)
    for row in sample.itertuples():
        team_games = real_con.execute(
            "SELECT game_id FROM core.team_game WHERE team = ? AND game_date < ? "
            "AND season_type IN ('regular', 'playoffs') ORDER BY game_date DESC LIMIT 82",
            [row.team, DAY],
        ).fetchall()
        played = {
            r[0]
            for r in real_con.execute(
                "SELECT game_id FROM core.player_game WHERE player_id = ? AND team = ?",
                [row.player_id, row.team],
            ).fetchall()
        }
        streak = 0
        for (game_id,) in team_games:
            if game_id not in played:
                break
            streak += 1
        assert row.games_since_dnp == streak, row.player_id


def test_changing_every_row_on_or_after_a_date_does_not_move_its_breakout_frame(
    warehouse: Path, tmp_path: Path
) -> None:
    with connect(warehouse, read_only=True) as con:
        before = _training(con, DAY)
    copy = tmp_path / "perturbed.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy) as con:
        perturb_on_and_after(con, DAY)
        spine = before[list(before.columns[:8])]
        after = breakout_frame(con, spine, RULES, RESEARCH)
    pd.testing.assert_frame_equal(
        before[COMPARED].reset_index(drop=True), after[COMPARED].reset_index(drop=True)
    )


def test_a_short_walk_forward_is_honest_and_reports_every_category(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    config = BreakoutConfig(
        date(2024, 2, 26),
        date(2024, 3, 17),
        retrain_every=7,
        window_days=365,
        params={"iterations": 60, "depth": 4},
    )
    result = run_breakout_walk_forward(real_con, config)
    s = result.summary
    assert len(result.folds) == 3
    for fold in result.folds:  # each fold fitted strictly before its first test date
        assert fold["train_end"] < fold["test_start"]
    assert s["n"] > 1500
    assert s["voids"] > 0  # serving spine players who then did not play: counted, not scored
    assert 0.07 < s["base_rate"] < 0.2
    assert 0.55 < s["auc"] < 0.8  # signal, and far from a leakage-level AUC
    assert sum(b["n"] for b in s["by_risk"].values()) == s["n"]
    low = s["by_risk"]["LOW"]["rate"]
    medium = s["by_risk"]["MEDIUM"]["rate"]
    assert low < s["base_rate"] < medium  # the categories order the risk
    assert s["probability"]["ece"] < 0.05  # the prior-corrected probability is calibrated


def test_the_distribution_check_passes_real_folds_and_catches_a_constant_feature(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    config = BreakoutConfig(date(2024, 3, 1), date(2024, 3, 1))
    spine = training_spine(real_con, date(2023, 10, 24), date(2024, 2, 29))
    train = breakout_frame(real_con, spine, RULES)
    train = train[train["in_scope"]]
    evaluation = breakout_slate(real_con, [date(2024, 3, 1), date(2024, 3, 2)], RULES, BREAKOUT_V1)
    evaluation = evaluation[evaluation["in_scope"]]
    features = list(config.feature_set.features)
    report = validate_feature_distributions(train, evaluation, features)
    assert len(report.features) == len(features)
    broken = evaluation.assign(explosion_ratio=1.5)  # the feature's default everywhere
    with pytest.raises(FeatureDistributionError, match="explosion_ratio is constant"):
        validate_feature_distributions(train, broken, features)


def test_the_daily_shadow_is_stored_graded_and_never_serves_points(
    warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "shadow.duckdb"
    shutil.copy(warehouse, copy)
    config = BreakoutConfig(DAY, DAY, window_days=200, params={"iterations": 40})
    with connect(copy) as con:
        migrate(con)
        model, train = final_breakout_model(con, config, date(2024, 3, 14))
        version = register_version(
            con,
            system=model,
            calibration=Calibration.identity(),
            oos=pd.DataFrame({"game_date": [date(2024, 3, 1)], "warmup": [False]}),
            experiment_id="test",
            mode="shared",
            feature_set=BREAKOUT_V1,
            eval_window="2024-03-01:2024-03-14",
            metrics={},
            train_start=train["game_date"].min(),
            train_end=date(2024, 3, 14),
            train_rows=len(train),
            code_commit=None,
            code_dirty=None,
            artifacts_root=tmp_path / "artifacts",
        )
        promote(con, "breakout", version.version, "shadow", min_rows=1, max_ece=1.0)
        assert aliased_models(con) == []  # the shadow classifier never scores points
        loaded = shadow_model(con)
        assert loaded is not None
        first = predict_breakout_date(con, DAY, loaded, RULES, BREAKOUT_V1)
        assert first.written > 60
        again = predict_breakout_date(con, DAY, loaded, RULES, BREAKOUT_V1)
        assert again.unchanged
        forced = predict_breakout_date(con, DAY, loaded, RULES, BREAKOUT_V1, force=True)
        assert forced.superseded == first.written
        rows = active_breakout(con, DAY)
        assert len(rows) == forced.written
        assert rows["season_avg_before"].between(6, 20).all()
        assert set(rows["risk"]) <= {"HIGH", "MEDIUM", "LOW"}
        inactive = con.execute(
            "SELECT count(*), count(superseded_by) FROM predictions.breakout WHERE NOT is_active"
        ).fetchone()
        assert inactive == (first.written, first.written)
        graded = grade_breakout_date(con, DAY)
        assert graded.graded + graded.void == len(rows)
        assert graded.pending == 0
        assert grade_breakout_date(con, DAY).regraded == 0  # idempotent
        report = breakout_report(con, DAY, DAY)
        assert report["n"] == graded.graded
        assert 0.3 < report["auc"] < 0.95
        # a broken shadow fails its own phase, recorded, and the run goes on
        (Path(loaded.version.artefact_dir) / "model.pkl").write_bytes(b"broken")
        assert breakout_shadow_phase(con, "run-1", Settings(), date(2024, 3, 16)) is None
        status = con.execute(
            "SELECT status, error FROM pipeline.phase_run WHERE run_id = 'run-1'"
        ).fetchone()
        assert status is not None
        assert status[0] == "FAILED"
        assert "changed since it was registered" in status[1]
