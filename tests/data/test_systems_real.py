"""The systems on real data: fitted on 2022-10-01..2023-10-31, judged on November 2023.

Every system is fitted only on games before the month it predicts, through the same
``build_frame`` the backtest uses. A non-trivial system must beat the season
average on the same rows; an MAE below 4.0 on all player-games is a leakage alarm.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.experiments.engine import FitPolicy
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, training_spine
from nbaprops.systems import (
    BASELINE_ID,
    MEMBER_SYSTEM_IDS,
    CompositeSystem,
    EnsembleSystem,
    PredictionSystem,
    PredictiveDistribution,
    make_system,
)
from nbaprops.systems.factory import ANCHORED_ID, MARKET_ID

LEAKAGE_MAE = 4.0
REDUCED: dict[str, dict[str, Any]] = {
    "xgboost": {"n_estimators": 200, "learning_rate": 0.15},
    "catboost_full": {"iterations": 200, "learning_rate": 0.15},
    "catboost_season": {"iterations": 200, "learning_rate": 0.15},
}


@pytest.fixture(scope="module")
def frames(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with connect(warehouse, read_only=True) as con:
        train = build_frame(
            con, training_spine(con, date(2022, 10, 1), date(2023, 10, 31)), POINTS_V1
        )
        test = build_frame(
            con, training_spine(con, date(2023, 11, 1), date(2023, 11, 30)), POINTS_V1
        )
    return train, test


@pytest.fixture(scope="module")
def predictions(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> dict[str, PredictiveDistribution]:
    train, test = frames
    out: dict[str, PredictiveDistribution] = {}
    fitted: dict[str, PredictionSystem] = {}
    for system_id in MEMBER_SYSTEM_IDS:
        system = make_system(system_id, **REDUCED.get(system_id, {}))
        assert isinstance(system, PredictionSystem)
        if isinstance(system, CompositeSystem):  # over the (reduced) fit of its base, as a fold
            fitted[system_id] = system.compose(fitted)
        else:
            fitted[system_id] = system.fit(train, train["points"])
        out[system_id] = fitted[system_id].predict_dist(test)
    members = tuple(s for s in MEMBER_SYSTEM_IDS if s != BASELINE_ID)
    ensemble = EnsembleSystem(members=members).compose(fitted)  # no record: equal weights
    out["ensemble"] = ensemble.predict_dist_from(out)
    return out


def test_the_frames_cover_the_window_and_never_overlap(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = frames
    assert len(train) > 20_000
    assert len(test) > 4_000
    assert pd.to_datetime(train["game_date"]).max() < pd.to_datetime(test["game_date"]).min()


def test_every_non_trivial_system_beats_the_season_average_and_none_is_too_good(
    frames: tuple[pd.DataFrame, pd.DataFrame], predictions: dict[str, PredictiveDistribution]
) -> None:
    y = frames[1]["points"].to_numpy()
    mae = {sid: float(np.mean(np.abs(d.median - y))) for sid, d in predictions.items()}
    floor = mae[BASELINE_ID]
    assert 4.2 < floor < 6.0, mae
    # these frames carry no lines: the market's point falls back to the season average
    np.testing.assert_array_equal(predictions[MARKET_ID].median, predictions[BASELINE_ID].median)
    for system_id, value in mae.items():
        assert value >= LEAKAGE_MAE, f"{system_id} MAE {value:.3f} < {LEAKAGE_MAE}: leakage? {mae}"
        if system_id not in (BASELINE_ID, MARKET_ID):
            assert value < floor, f"{system_id} does not beat the season average: {mae}"


def test_the_central_80_percent_interval_covers_about_80_percent(
    frames: tuple[pd.DataFrame, pd.DataFrame], predictions: dict[str, PredictiveDistribution]
) -> None:
    y = frames[1]["points"].to_numpy()
    for system_id, dist in predictions.items():
        inside = (y >= dist.quantiles[:, 1]) & (y <= dist.quantiles[:, 17])
        assert 0.68 < inside.mean() < 0.9, (system_id, inside.mean())
        over = dist.prob_over(dist.median)
        assert 0.3 < float(np.mean(over)) < 0.7, system_id


def test_fits_side_by_side_are_the_fits_one_after_another(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """``FitPolicy.fit`` with two workers (the walk-forward's default) changes no prediction."""
    train, test = frames
    ids = ["matchup", "moving_average", "xgboost", "catboost_season", ANCHORED_ID]
    params = {s: REDUCED[s] for s in ("xgboost", "catboost_season")}
    spec = build_spec(
        {
            "name": "fits",
            "systems": ids,
            "evaluation": {"start": date(2023, 11, 1), "end": date(2023, 11, 30)},
            "system_params": {**params, ANCHORED_ID: {"base": "xgboost"}},
        }
    )
    end = pd.to_datetime(train["game_date"]).max().date()
    one = FitPolicy(spec, workers=1).fit(ids, train, end)
    two = FitPolicy(spec, workers=2).fit(ids, train, end)
    assert list(two) == ids
    assert two[ANCHORED_ID].base_model_ is two["xgboost"]  # wraps the base's fit, not a refit
    for system_id in ids:
        a, b = one[system_id].predict_dist(test), two[system_id].predict_dist(test)
        np.testing.assert_array_equal(a.quantiles, b.quantiles, err_msg=system_id)
    spread = np.ptp(two["xgboost"].predict_dist(test).median)
    assert spread > 10.0  # a real fit, not a constant
