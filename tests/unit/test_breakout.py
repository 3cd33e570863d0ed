"""The breakout classifier on tiny inputs: scope and label, the classifier's two scales,
the distribution check, the summary's figures, the pick flag and the spec rules."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core.errors import NbapropsError
from nbaprops.core.metrics import roc_auc
from nbaprops.core.settings import Settings
from nbaprops.experiments.breakout import summarize_breakout
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import (
    BREAKOUT_V1,
    CATALOG_BREAKOUT_RESEARCH,
    FEATURE_SETS,
    FEATURES,
)
from nbaprops.features.checks import FeatureDistributionError, validate_feature_distributions
from nbaprops.models.calibration import Calibration, EvCalibration
from nbaprops.models.registry import load_model, promote, register_version
from nbaprops.predictions.breakout import flag_picks
from nbaprops.predictions.daily import aliased_models
from nbaprops.predictions.picks import PICK_COLUMNS, PickPolicy, select_picks
from nbaprops.systems.base import FeatureSetMismatchError, Persisted
from nbaprops.systems.breakout import (
    OBSERVATION_UNDER_HIGH,
    BreakoutClassifier,
    BreakoutRules,
    label,
)

FEATURES_V1 = list(BREAKOUT_V1.features)


def _frame(n: int, seed: int = 0, start: date = date(2023, 1, 1)) -> pd.DataFrame:
    """A breakout_v1-shaped frame whose breakouts follow two of its features."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "pts_vs_season_zscore": rng.normal(0, 1, n),
            "points_std_last_10": rng.gamma(4, 1.2, n),
            "explosion_ratio": rng.normal(1.5, 0.3, n),
            "days_since_breakout": rng.integers(1, 366, n).astype(float),
            "opponent_def_rating": rng.normal(113, 4, n),
            "home_away": rng.integers(0, 2, n).astype(float),
            "back_to_back": (rng.random(n) < 0.15).astype(float),
            "points_avg_last_5": rng.normal(11, 3, n),
            "points_avg_season": rng.uniform(6, 20, n),
            "minutes_avg_last_10": rng.normal(24, 5, n),
        }
    )
    logit = -2.3 + 1.2 * frame["pts_vs_season_zscore"] - 0.15 * (frame["points_avg_season"] - 13)
    frame["breakout"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame["game_date"] = [start + timedelta(days=int(i % 300)) for i in range(n)]
    frame["feature_set"] = BREAKOUT_V1.key
    return frame


# --- scope, label, categories ------------------------------------------------------


def test_a_breakout_is_points_at_or_above_the_threshold_and_unplayed_is_no_label() -> None:
    points = pd.Series([10.5, 10.0, np.nan, 30.0])
    threshold = pd.Series([10.5, 10.5, 10.5, np.nan])
    out = label(points, threshold)
    assert out.iloc[0] == 1.0
    assert out.iloc[1] == 0.0
    assert math.isnan(out.iloc[2])
    assert math.isnan(out.iloc[3])


def test_risk_categories_use_the_configured_thresholds() -> None:
    rules = BreakoutRules.from_settings(Settings())
    assert (rules.high, rules.medium, rules.multiplier) == (0.769, 0.5, 1.75)
    assert (rules.min_avg, rules.max_avg) == (6.0, 20.0)
    got = rules.category([0.77, 0.769, 0.7689, 0.5, 0.4999, 0.0])
    assert list(got) == ["HIGH", "HIGH", "MEDIUM", "MEDIUM", "LOW", "LOW"]
    custom = BreakoutRules.from_settings(Settings(breakout_high=0.6, breakout_medium=0.3))
    assert list(custom.category([0.65, 0.4, 0.2])) == ["HIGH", "MEDIUM", "LOW"]


def test_inconsistent_breakout_settings_are_a_clear_error() -> None:
    with pytest.raises(NbapropsError, match="MEDIUM"):
        BreakoutRules(high=0.4, medium=0.5)
    with pytest.raises(NbapropsError, match="scope"):
        BreakoutRules(min_avg=21, max_avg=20)


# --- the classifier ------------------------------------------------------------------


def test_the_classifier_ranks_breakouts_and_its_probability_undoes_the_weighting() -> None:
    train, test = _frame(4000, seed=1), _frame(2000, seed=2)
    model = BreakoutClassifier(iterations=80, depth=3).fit(train, train["breakout"])
    score = model.risk_score(test)
    assert roc_auc(score, test["breakout"]) > 0.7
    # balanced weights put the score on a 50/50 scale: far above the base rate ...
    base = float(train["breakout"].mean())
    assert 0.05 < base < 0.3
    assert score.mean() > base + 0.15
    # ... and the prior correction brings the probability back to it
    p = model.p_breakout(score)
    assert abs(p.mean() - test["breakout"].mean()) < 0.04
    assert np.all(np.diff(p[np.argsort(score)]) >= -1e-12)  # same ranking


def test_without_class_weights_the_score_is_the_probability() -> None:
    train = _frame(2000, seed=3)
    model = BreakoutClassifier(iterations=300, learning_rate=0.1, depth=3, balanced=False).fit(
        train, train["breakout"]
    )
    score = model.risk_score(train)
    assert np.allclose(model.p_breakout(score), np.clip(score, 1e-9, 1 - 1e-9))
    assert abs(score.mean() - train["breakout"].mean()) < 0.03


def test_the_classifier_refuses_one_class_and_other_feature_sets(tmp_path: Path) -> None:
    train = _frame(500, seed=4)
    with pytest.raises(NbapropsError, match="both classes"):
        BreakoutClassifier(iterations=10).fit(train, np.zeros(len(train)))
    model = BreakoutClassifier(iterations=10).fit(train, train["breakout"])
    other = train.assign(feature_set="points_v1")
    with pytest.raises(FeatureSetMismatchError):
        model.risk_score(other)
    with pytest.raises(FeatureSetMismatchError):
        model.risk_score(train.drop(columns=["explosion_ratio"]))
    path = model.save(tmp_path / "model.pkl")
    loaded = Persisted.load(path, expected_feature_set=BREAKOUT_V1)
    assert np.allclose(loaded.risk_score(train), model.risk_score(train))  # type: ignore[attr-defined]
    with pytest.raises(FeatureSetMismatchError):
        Persisted.load(path, expected_feature_set="points_v1")


# --- the distribution check -------------------------------------------------------------


def test_a_normal_train_eval_split_passes_the_distribution_check() -> None:
    frame = _frame(3000, seed=5)
    report = validate_feature_distributions(frame.iloc[:2000], frame.iloc[2000:], FEATURES_V1)
    assert len(report.features) == len(FEATURES_V1)
    assert all(np.isfinite(r.psi) for r in report.features)


def test_an_evaluation_frame_with_one_feature_replaced_by_a_constant_is_caught() -> None:
    frame = _frame(3000, seed=6)
    train, evaluation = frame.iloc[:2000], frame.iloc[2000:].copy()
    evaluation["points_avg_season"] = 8.0  # the reference system's accident: a fill value
    with pytest.raises(FeatureDistributionError, match="points_avg_season is constant"):
        validate_feature_distributions(train, evaluation, FEATURES_V1)


def test_an_honestly_constant_binary_feature_passes_but_a_scale_change_fails() -> None:
    frame = _frame(3000, seed=7)
    train, evaluation = frame.iloc[:2000], frame.iloc[2000:].copy()
    evaluation["back_to_back"] = 0.0  # the playoffs have no back-to-backs
    validate_feature_distributions(train, evaluation, FEATURES_V1)
    evaluation["minutes_avg_last_10"] *= 60  # minutes became seconds
    with pytest.raises(FeatureDistributionError, match="outside the training range"):
        validate_feature_distributions(train, evaluation, FEATURES_V1)


def test_missing_or_nan_features_fail_the_distribution_check() -> None:
    frame = _frame(200, seed=8)
    with pytest.raises(FeatureDistributionError, match="missing from the evaluation"):
        validate_feature_distributions(frame, frame.drop(columns=["explosion_ratio"]), FEATURES_V1)
    broken = frame.copy()
    broken.loc[3, "days_since_breakout"] = np.nan
    with pytest.raises(FeatureDistributionError, match="NaN"):
        validate_feature_distributions(frame, broken, FEATURES_V1)


# --- figures ------------------------------------------------------------------------


def test_auc_counts_ties_half_and_needs_both_classes() -> None:
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert roc_auc([0.5, 0.5], [0, 1]) == 0.5
    assert math.isnan(roc_auc([0.1, 0.2], [1, 1]))


def test_the_summary_reports_base_rate_precision_at_high_and_voids() -> None:
    rows = pd.DataFrame(
        {
            "risk_score": [0.9, 0.8, 0.6, 0.55, 0.2, 0.1, 0.3, 0.95],
            "p_breakout": [0.4, 0.3, 0.2, 0.15, 0.05, 0.03, 0.08, 0.5],
            "risk": ["HIGH", "HIGH", "MEDIUM", "MEDIUM", "LOW", "LOW", "LOW", "HIGH"],
            "season_avg_before": [7, 8, 10, 12, 15, 18, 19, 9],
            "played": [True] * 7 + [False],
            "breakout": [1, 0, 1, 0, 0, 0, 1, np.nan],
        }
    )
    out = summarize_breakout(rows, BreakoutRules(), train_base_rate=0.12)
    assert out["n"] == 7
    assert out["voids"] == 1
    assert out["base_rate"] == pytest.approx(3 / 7)
    assert out["by_risk"]["HIGH"]["n"] == 2
    assert out["precision_high"] == 0.5
    assert out["by_risk"]["MEDIUM"]["rate"] == 0.5
    assert out["by_risk"]["LOW"]["rate"] == pytest.approx(1 / 3)
    assert out["auc"] == pytest.approx(roc_auc(rows["risk_score"][:7], rows["breakout"][:7]))
    bands = out["auc_by_season_avg_band"]
    assert [b["n"] for b in bands.values()] == [2, 2, 3]
    low, high = out["by_risk"]["HIGH"]["ci95"]
    assert low < 0.5 < high


# --- picks ------------------------------------------------------------------------------


def test_picks_flag_an_under_on_a_high_risk_player_and_change_nothing_else() -> None:
    rows = pd.DataFrame(
        {
            "player_id": [1, 2, 3, 4],
            "game_date": [date(2024, 4, 12)] * 4,
            "team": ["AAA", "BBB", "CCC", "DDD"],
            "game_id": ["g1", "g2", "g3", "g4"],
            "side": ["UNDER", "OVER", "UNDER", "UNDER"],
            "line_kind": ["sportsbook"] * 4,
            "line": [10.5, 12.5, 8.5, 14.5],
            "over_price": [-110.0] * 4,
            "under_price": [-110.0] * 4,
            "bet_book": ["dk"] * 4,
            "bet_line": [10.5, 12.5, 8.5, 14.5],
            "bet_price": [-110.0] * 4,
            "p_win": [0.65, 0.62, 0.64, 0.63],
            "edge": [-2.0, 2.0, -2.0, -2.0],
            "ev": [0.2, 0.15, 0.18, 0.17],
            "ev_calibrated": [0.05, 0.04, 0.045, 0.03],
            "in_sample": [False] * 4,
        }
    )
    picks = select_picks(rows, EvCalibration(), "GREEN", PickPolicy(min_record=0))
    assert list(picks.columns) == list(PICK_COLUMNS)
    assert (picks["status"] == "BET").all()
    shadow = pd.DataFrame({"player_id": [1, 2, 3], "risk": ["HIGH", "HIGH", "LOW"]})
    flagged = flag_picks(picks, shadow).set_index("player_id")
    assert flagged.loc[1, "observation"] == OBSERVATION_UNDER_HIGH
    assert flagged.loc[2, "observation"] == ""  # OVER on a HIGH player: no flag
    assert flagged.loc[3, "observation"] == ""  # UNDER on a LOW player
    assert flagged.loc[4, "observation"] == ""  # not scored by the shadow
    same = flagged.reset_index()[list(PICK_COLUMNS)]
    pd.testing.assert_frame_equal(same, picks)


# --- catalog and spec --------------------------------------------------------------------


def test_research_features_are_in_the_catalog_but_not_in_breakout_v1() -> None:
    names = {f.name for f in CATALOG_BREAKOUT_RESEARCH}
    assert names == {
        "cv_ratio",
        "cold_streak_indicator",
        "usage_rate_trend",
        "minutes_trend",
        "games_since_dnp",
        "breakout_signal",
    }
    assert names <= set(FEATURES)
    assert not names & set(BREAKOUT_V1.features)
    assert not any(fs.name == "breakout" and fs.version > 1 for fs in FEATURE_SETS.values())


def _breakout_spec(**extra: object) -> dict[str, object]:
    return {
        "name": "b",
        "type": "breakout",
        "system": "breakout",
        "feature_set": "breakout_v1",
        "evaluation": {"start": "2024-01-01", "end": "2024-02-01"},
        **extra,
    }


def test_a_breakout_experiment_runs_the_classifier_alone_in_either_mode() -> None:
    spec = build_spec(_breakout_spec())
    assert spec.run_systems == ("breakout",)
    assert spec.resolved_feature_set.key == "breakout_v1"
    research = build_spec(
        _breakout_spec(mode="experimental", features=[*BREAKOUT_V1.features, "cv_ratio"])
    )
    assert research.resolved_feature_set.features[-1] == "cv_ratio"
    assert research.resolved_feature_set.name.startswith("experimental_")
    two = {k: v for k, v in _breakout_spec().items() if k != "system"}
    with pytest.raises(NbapropsError, match="alone"):
        build_spec({**two, "systems": ["breakout", "xgboost"]})
    with pytest.raises(NbapropsError, match="breakout feature set"):
        build_spec(_breakout_spec(feature_set="points_v1"))
    with pytest.raises(NbapropsError, match="only in type: breakout"):
        build_spec({**_breakout_spec(), "type": "walk_forward"})


def test_the_breakout_classifier_is_registered_but_only_ever_a_shadow(
    empty_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    train = _frame(600, seed=9)
    model = BreakoutClassifier(iterations=10).fit(train, train["breakout"])
    version = register_version(
        empty_con,
        system=model,
        calibration=Calibration.identity(),
        oos=pd.DataFrame({"game_date": [date(2023, 6, 1)], "warmup": [False]}),
        experiment_id="unit",
        mode="shared",
        feature_set=BREAKOUT_V1,
        eval_window="2023-05-01:2023-06-01",
        metrics={"auc": 0.6},
        train_start=date(2023, 1, 1),
        train_end=date(2023, 10, 27),
        train_rows=len(train),
        code_commit=None,
        code_dirty=None,
        artifacts_root=tmp_path,
    )
    with pytest.raises(NbapropsError, match="only as a shadow"):
        promote(empty_con, "breakout", version.version, "champion", min_rows=1, max_ece=1.0)
    promote(empty_con, "breakout", version.version, "shadow", min_rows=1, max_ece=1.0)
    loaded = load_model(empty_con, "breakout@shadow")
    assert np.allclose(loaded.system.risk_score(train), model.risk_score(train))
    assert aliased_models(empty_con) == []  # never scored as a points model
