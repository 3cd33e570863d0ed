"""Every prediction system keeps the same contract, checked on one synthetic frame.

The frame is built here from a seeded RNG (no files): every POINTS_V1 feature plus
the key and label columns ``build_frame`` returns, with points drawn around each
player's latent scoring level so the systems have something real to learn.
Gradient-boosting systems run with tiny iteration counts to keep this fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nbaprops.core.errors import NbapropsError
from nbaprops.features.catalog import BREAKOUT_V1, FEATURES, POINTS_V1
from nbaprops.systems import (
    MEMBER_SYSTEM_IDS,
    QUANTILES,
    SYSTEM_IDS,
    CompositeSystem,
    EnsembleSystem,
    FeatureSetMismatchError,
    PredictionSystem,
    PredictiveDistribution,
    load_system,
    make_system,
    member_column,
)

FAST_PARAMS: dict[str, dict[str, Any]] = {
    "similarity": {"fit_rows": 600},
    "xgboost": {"n_estimators": 15, "early_stopping_rounds": 5},
    "catboost_full": {"iterations": 15, "early_stopping_rounds": 5},
    "catboost_season": {"iterations": 15, "early_stopping_rounds": 5, "min_rows": 500},
}
TEAMS = ("ATL", "BOS", "CHI", "DAL", "DEN", "LAL", "MIA", "NYK")
SPLIT_DAY = 75


def synthetic_frame(seed: int = 7, n_players: int = 60, n_days: int = 100) -> pd.DataFrame:
    """A build_frame-shaped frame: keys, labels, every POINTS_V1 feature, bookkeeping."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(2.5, 4.0, n_players)
    rows = []
    start = pd.Timestamp("2022-10-20")
    for p in range(n_players):
        played = np.flatnonzero(rng.random(n_days) < 0.55)
        team = TEAMS[p % len(TEAMS)]
        for k, day in enumerate(played):
            opponent = TEAMS[(p + 1 + day) % len(TEAMS)]
            rows.append((1000 + p, start + pd.Timedelta(days=int(day)), team, opponent, k, p))
    frame = pd.DataFrame(
        rows, columns=["player_id", "game_date", "team", "opponent", "career", "latent"]
    )
    n = len(frame)
    mu = level[frame["latent"].to_numpy()]
    minutes = np.clip(12.0 + 1.2 * mu + rng.normal(0, 4, n), 0, 48)
    points = rng.poisson(np.clip(mu * rng.gamma(8.0, 1 / 8.0, n), 0.1, None)).astype(float)
    frame["game_id"] = [f"002220{i:04d}" for i in range(n)]
    frame["home"] = rng.random(n) < 0.5
    frame["season"] = "2022-23"
    frame["season_type"] = "regular"
    frame["points"] = points
    frame["minutes"] = minutes.round()
    features: dict[str, np.ndarray] = {}
    for name in POINTS_V1.features:
        default = FEATURES[name].default
        features[name] = default + rng.normal(0, 0.1 * abs(default) + 0.5, n)
    noisy = {k: mu + rng.normal(0, s, n) for k, s in (("3", 4.0), ("5", 3.0), ("10", 2.0))}
    features |= {
        "points_avg_last_3": noisy["3"].clip(0),
        "points_avg_last_5": noisy["5"].clip(0),
        "points_avg_last_10": noisy["10"].clip(0),
        "points_avg_season": (mu + rng.normal(0, 1.5, n)).clip(0),
        "h2h_points_avg_365": (mu + rng.normal(0, 4, n)).clip(0),
        "points_line": (mu + rng.normal(0, 1.0, n)).clip(0.5),
        "points_std_last_10": (np.sqrt(mu) * 1.3 + rng.normal(0, 1, n)).clip(0.5),
        "minutes_avg_last_10": (12.0 + 1.2 * mu + rng.normal(0, 2, n)).clip(1, 48),
        "points_per_minute_last_10": (mu / (12.0 + 1.2 * mu) + rng.normal(0, 0.05, n)).clip(0),
        "days_rest": rng.integers(1, 5, n).astype(float),
        "home_away": frame["home"].astype(float).to_numpy(),
        "playoff_game": np.zeros(n),
        "has_line": (rng.random(n) < 0.3).astype(float),
        "dnp_rate_last_10": rng.uniform(0, 0.3, n),
        "career_games": frame["career"].astype(float).to_numpy(),
        "season_games_played": frame["career"].astype(float).to_numpy(),
    }
    features["back_to_back"] = (features["days_rest"] == 1).astype(float)
    out = frame.drop(columns=["career", "latent"])
    for name in POINTS_V1.features:
        out[name] = features[name]
    out["n_defaulted"] = np.zeros(n, dtype=np.int32)
    out["n_required_defaulted"] = np.zeros(n, dtype=np.int32)
    out["feature_set"] = POINTS_V1.key
    return out.sort_values(["game_date", "game_id"], ignore_index=True)


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = synthetic_frame()
    cut = frame["game_date"].min() + pd.Timedelta(days=SPLIT_DAY)
    train = frame[frame["game_date"] < cut].reset_index(drop=True)
    test = frame[frame["game_date"] >= cut].reset_index(drop=True)
    return train, test


def build(system_id: str, **overrides: Any) -> PredictionSystem:
    system = make_system(system_id, **(FAST_PARAMS.get(system_id, {}) | overrides))
    assert isinstance(system, PredictionSystem)
    return system


@pytest.fixture(scope="module")
def fitted(frames: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, PredictionSystem]:
    train, _ = frames
    return {sid: build(sid).fit(train, train["points"]) for sid in MEMBER_SYSTEM_IDS}


def test_the_registry_names_every_system_and_refuses_unknown_ones() -> None:
    assert set(SYSTEM_IDS) == {*MEMBER_SYSTEM_IDS, "ensemble"}
    assert len(SYSTEM_IDS) == 10  # seven models, the market, the anchored model, the ensemble
    with pytest.raises(NbapropsError, match="unknown system"):
        make_system("crystal_ball")
    with pytest.raises(NbapropsError, match="bad parameters"):
        make_system("xgboost", no_such_param=1)


@pytest.mark.parametrize("system_id", SYSTEM_IDS)
def test_constructors_only_store_their_arguments(system_id: str) -> None:
    system = make_system(system_id)
    assert not hasattr(system, "fitted_")
    assert system.get_params()["random_state"] == 0


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_predictions_have_one_row_per_input_row_and_19_quantiles(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, test = frames
    dist = fitted[system_id].predict_dist(test)
    assert isinstance(dist, PredictiveDistribution)
    assert dist.quantiles.shape == (len(test), len(QUANTILES))
    assert dist.mean.shape == dist.median.shape == (len(test),)
    assert np.isfinite(dist.quantiles).all()
    assert (dist.quantiles >= 0).all()
    np.testing.assert_array_equal(dist.median, dist.quantiles[:, QUANTILES.index(0.5)])
    np.testing.assert_array_equal(fitted[system_id].predict(test), dist.median)
    empty = fitted[system_id].predict_dist(test.iloc[:0])
    assert empty.quantiles.shape == (0, len(QUANTILES))


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_quantiles_never_decrease_within_a_row(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    dist = fitted[system_id].predict_dist(frames[1])
    assert (np.diff(dist.quantiles, axis=1) >= 0).all()


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_prob_over_is_a_probability_that_falls_as_the_line_rises(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, test = frames
    system = fitted[system_id]
    previous = np.ones(len(test))
    for line in (-1.0, 0.0, 0.5, 4.5, 10.5, 20.5, 35.5, 80.5):
        p = system.prob_over(test, np.full(len(test), line))
        assert ((p >= 0) & (p <= 1)).all()
        assert (p <= previous + 1e-12).all()
        previous = p
    assert (system.prob_over(test, -1.0) == 1.0).all()
    np.testing.assert_allclose(
        system.prob_over(test, test["points_line"]),
        system.predict_dist(test).prob_over(test["points_line"].to_numpy()),
    )


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_same_seed_same_predictions_and_the_input_frame_is_never_mutated(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = frames
    train_before, test_before = train.copy(deep=True), test.copy(deep=True)
    again = build(system_id).fit(train, train["points"])
    second = again.predict_dist(test)
    pd.testing.assert_frame_equal(train, train_before)
    pd.testing.assert_frame_equal(test, test_before)
    first = fitted[system_id].predict_dist(test)
    np.testing.assert_array_equal(first.quantiles, second.quantiles)
    np.testing.assert_array_equal(first.mean, second.mean)


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_a_frame_with_other_feature_columns_is_refused_naming_them(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, test = frames
    system = fitted[system_id]
    with pytest.raises(FeatureSetMismatchError, match="missing game_total"):
        system.predict_dist(test.drop(columns="game_total"))
    with pytest.raises(ValueError, match="extra explosion_ratio"):
        system.prob_over(test.assign(explosion_ratio=1.5), 10.5)
    with pytest.raises(ValueError, match="breakout_v1"):
        system.predict_dist(test.assign(feature_set=BREAKOUT_V1.key))
    reordered = test[list(reversed(test.columns))]
    np.testing.assert_array_equal(system.predict(reordered), system.predict(test))


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_a_fitted_system_carries_its_provenance(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, _ = frames
    prov = fitted[system_id].fitted_
    assert prov.system_id == system_id
    assert prov.feature_set == POINTS_V1.key
    assert set(prov.feature_columns) == set(POINTS_V1.features)
    assert prov.n_train_rows == len(train)
    assert prov.train_start == train["game_date"].min().date().isoformat()
    assert prov.train_end == train["game_date"].max().date().isoformat()
    assert prov.params == fitted[system_id].get_params()
    assert {"python", "numpy", "pandas"} <= set(prov.versions)
    json.dumps(prov.to_dict())


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_save_and_load_round_trip_and_refuse_another_feature_set(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
) -> None:
    _, test = frames
    path = fitted[system_id].save(tmp_path / f"{system_id}.pkl")
    sidecar = json.loads((tmp_path / f"{system_id}.pkl.json").read_text())
    assert sidecar["feature_set"] == POINTS_V1.key
    assert sidecar["provenance"]["n_train_rows"] == fitted[system_id].fitted_.n_train_rows
    loaded = type(fitted[system_id]).load(path, expected_feature_set=POINTS_V1)
    np.testing.assert_array_equal(
        loaded.predict_dist(test).quantiles, fitted[system_id].predict_dist(test).quantiles
    )
    with pytest.raises(FeatureSetMismatchError, match="breakout_v1"):
        PredictionSystem.load(path, expected_feature_set=BREAKOUT_V1.key)
    with pytest.raises(FeatureSetMismatchError):
        load_system(path, expected_feature_set="points_v2")


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_fit_refuses_mismatched_labels_or_an_incomplete_feature_set(
    system_id: str, frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train, _ = frames
    with pytest.raises(ValueError, match="values for"):
        build(system_id).fit(train, train["points"].to_numpy()[:-1])
    with pytest.raises(FeatureSetMismatchError, match="game_total"):
        build(system_id).fit(train.drop(columns="game_total"), train["points"])
    with pytest.raises(NbapropsError, match="not fitted"):
        build(system_id).predict_dist(train)


@pytest.mark.parametrize("system_id", MEMBER_SYSTEM_IDS)
def test_predictions_never_read_the_labels_of_the_rows_they_predict(
    system_id: str,
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, test = frames
    system = fitted[system_id]
    scrambled = test.assign(points=test["points"] * 10 + 50, minutes=48.0)
    np.testing.assert_array_equal(system.predict(scrambled), system.predict(test))
    np.testing.assert_array_equal(
        system.predict(test.drop(columns=["points", "minutes"])), system.predict(test)
    )


def test_similarity_uses_only_games_strictly_before_the_row(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = frames
    frame = pd.concat([train, test], ignore_index=True)
    system = build("similarity").fit(frame, frame["points"])
    day = test["game_date"].min() + pd.Timedelta(days=5)
    rows = frame[frame["game_date"] == day]
    before = system.predict(rows)
    on_or_after = system.hist_day_ >= np.datetime64(day.date(), "D").astype(np.int64)
    system.hist_pts_ = np.where(on_or_after, 99.0, system.hist_pts_).astype(np.float32)
    np.testing.assert_array_equal(system.predict(rows), before)
    system.hist_pts_ = np.where(~on_or_after, 99.0, system.hist_pts_).astype(np.float32)
    assert not np.array_equal(system.predict(rows), before)


def test_every_non_trivial_system_beats_the_season_average_on_the_synthetic_frame(
    fitted: dict[str, PredictionSystem], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, test = frames
    y = test["points"].to_numpy()
    mae = {sid: float(np.mean(np.abs(s.predict(test) - y))) for sid, s in fitted.items()}
    assert all(v <= mae["season_average"] * 1.1 for v in mae.values()), mae


# -- the distribution --------------------------------------------------------------------


def test_the_cdf_passes_through_each_quantile_and_has_proper_tails() -> None:
    q = np.array([np.linspace(2.0, 20.0, 19), np.linspace(0.0, 9.0, 19)])
    dist = PredictiveDistribution.from_quantiles(q)
    for j, level in enumerate(QUANTILES):
        np.testing.assert_allclose(dist.cdf(q[0, j])[0], level)
    assert dist.cdf(-0.5).tolist() == [0.0, 0.0]
    assert 0 < dist.cdf(0.0)[0] < 0.05
    assert dist.cdf(0.0)[1] >= 0.05
    assert 0.95 < dist.cdf(30.0)[0] < 1.0
    xs = np.linspace(-1, 60, 300)
    curve = np.array([dist.cdf(x)[0] for x in xs])
    assert (np.diff(curve) >= 0).all()
    assert np.isnan(dist.prob_over(np.array([np.nan, 3.0]))[0])


def test_crossing_quantiles_are_repaired_and_the_mean_lies_inside() -> None:
    raw = np.tile(np.linspace(-2.0, 16.0, 19), (2, 1))
    raw[1, [3, 4]] = raw[1, [4, 3]]
    dist = PredictiveDistribution.from_quantiles(raw)
    assert (np.diff(dist.quantiles, axis=1) >= 0).all()
    assert (dist.quantiles >= 0).all()
    assert ((dist.mean > dist.quantiles[:, 0]) & (dist.mean < dist.quantiles[:, -1])).all()
    with pytest.raises(ValueError, match="non-decreasing"):
        PredictiveDistribution(mean=np.ones(2), median=raw[:, 9], quantiles=raw)
    assert len(dist.take(np.array([True, False]))) == 1


# -- the ensemble, through its own interface ------------------------------------------------


def members_frame(n: int = 400, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.poisson(12, n).astype(float)
    x = pd.DataFrame(
        {
            member_column("good"): y + rng.normal(0, 1.0, n),
            member_column("bad"): y + rng.normal(3, 4.0, n),
            "game_date": pd.date_range("2023-11-01", periods=n, freq="h"),
        }
    )
    return x, y


def member_dists(n: int, shift: float) -> dict[str, PredictiveDistribution]:
    base = np.tile(np.linspace(2, 20, 19), (n, 1))
    return {
        "good": PredictiveDistribution.from_quantiles(base),
        "bad": PredictiveDistribution.from_quantiles(base + shift),
    }


@pytest.mark.parametrize("method", ["min_mae", "inverse_mae"])
def test_the_ensemble_weights_are_a_simplex_that_favours_the_better_member(method: str) -> None:
    x, y = members_frame()
    ens = EnsembleSystem(members=("good", "bad"), method=method)
    ens.fit_weights(x, y)
    weights = ens.weights_
    assert all(w >= 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["good"] > weights["bad"]
    expected = weights["good"] * x[member_column("good")] + weights["bad"] * x[member_column("bad")]
    np.testing.assert_allclose(ens.predict_stacked(x), expected)


def test_the_ensemble_uses_equal_weights_without_history() -> None:
    empty = pd.DataFrame({member_column("good"): [], member_column("bad"): []})
    ens = EnsembleSystem(members=("good", "bad"))
    ens.fit_weights(empty, np.array([]))
    assert ens.weights_ == {"good": 0.5, "bad": 0.5}
    first_fold = EnsembleSystem(members=("good", "bad"))
    first_fold.fit_weights(pd.DataFrame(), [])
    assert first_fold.weights_ == ens.weights_
    dist = ens.predict_dist_from(member_dists(5, 4.0))
    np.testing.assert_allclose(dist.quantiles, np.tile(np.linspace(4, 22, 19), (5, 1)))


def test_the_ensemble_averages_member_quantiles_and_refuses_missing_members() -> None:
    x, y = members_frame()
    ens = EnsembleSystem(members=("good", "bad"), method="inverse_mae")
    x_before = x.copy()
    ens.fit_weights(x, y)
    pd.testing.assert_frame_equal(x, x_before)
    dists = member_dists(6, 2.0)
    stacked = ens.predict_dist_from(dists)
    w_bad = ens.weights_["bad"]
    np.testing.assert_allclose(stacked.quantiles, dists["good"].quantiles + 2.0 * w_bad)
    p = stacked.prob_over(np.full(6, 10.5))
    assert ((p >= 0) & (p <= 1)).all()
    with pytest.raises(FeatureSetMismatchError, match="bad"):
        ens.predict_dist_from({"good": dists["good"]})
    again = EnsembleSystem(members=("good", "bad"), method="inverse_mae")
    again.fit_weights(x, y)
    assert again.weights_ == ens.weights_


def test_composites_are_systems_built_from_their_members_fits(
    fitted: dict[str, PredictionSystem],
    frames: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
) -> None:
    """The ensemble and the anchored system compose the very fits they are given, predict
    alone like any system (equal to combining the members' distributions), and save and
    load bound to the members' feature set."""
    train, test = frames
    members = ("season_average", "moving_average", "matchup")
    record = {
        m: pd.DataFrame(
            {
                "system": m,
                "player_id": train["player_id"],
                "game_date": train["game_date"],
                "median": fitted[m].predict_dist(train).median,
                "actual": train["points"],
                "played": True,
            }
        )
        for m in members
    }
    ens = make_system("ensemble", members=members)
    assert isinstance(ens, CompositeSystem)
    ens.compose(fitted, record)
    assert ens.members_["matchup"] is fitted["matchup"]
    assert ens.shares_fits(fitted)
    assert not ens.shares_fits(dict.fromkeys(members))
    assert sum(ens.weights_.values()) == pytest.approx(1.0)
    assert len(set(ens.weights_.values())) > 1  # learned from the record, not equal weights
    dists = {m: fitted[m].predict_dist(test) for m in members}
    alone = ens.predict_dist(test)
    np.testing.assert_array_equal(alone.quantiles, ens.predict_dist_from(dists).quantiles)
    path = ens.save(tmp_path / "ensemble.pkl")
    loaded = EnsembleSystem.load(path, expected_feature_set=POINTS_V1)
    np.testing.assert_array_equal(loaded.predict_dist(test).quantiles, alone.quantiles)
    with pytest.raises(FeatureSetMismatchError):
        EnsembleSystem.load(path, expected_feature_set="points_v3")
    anchored = make_system("anchored", base="xgboost")
    assert isinstance(anchored, CompositeSystem)
    anchored.compose(fitted)
    np.testing.assert_array_equal(
        anchored.predict_dist(test).quantiles, fitted["xgboost"].predict_dist(test).quantiles
    )
    with pytest.raises(NbapropsError, match="needs fits of catboost_full"):
        make_system("anchored").compose({"xgboost": fitted["xgboost"]})
