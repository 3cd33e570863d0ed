"""Warm starts of the boosted systems: off by default (fits unchanged), and when asked,
each fold continues the previous fold's booster, only for the systems that ask."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from nbaprops.experiments.engine import FitPolicy
from nbaprops.experiments.spec import build_spec
from nbaprops.systems import PredictionSystem
from tests.unit.test_systems_contract import synthetic_frame

BOOSTED = ("xgboost", "catboost_full", "catboost_season")
FAST = {
    "xgboost": {"n_estimators": 30},
    "catboost_full": {"iterations": 30},
    "catboost_season": {"iterations": 30},
}
FOLD_ENDS = (date(2023, 1, 5), date(2023, 1, 12), date(2023, 1, 19))


def spec_of(warm: dict[str, int]) -> object:
    params = {
        s: {**p, **({"warm_start_rounds": warm[s]} if s in warm else {})} for s, p in FAST.items()
    }
    return build_spec(
        {
            "name": "warm",
            "systems": ["season_average", *BOOSTED],
            "system_params": params,
            "evaluation": {"start": date(2023, 1, 6), "end": date(2023, 1, 26)},
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    out = synthetic_frame()
    out["game_date"] = pd.to_datetime(out["game_date"]).dt.date
    return out


def walk(frame: pd.DataFrame, policy: FitPolicy) -> list[dict[str, PredictionSystem]]:
    """Each fold's fits, folds in order through one policy (as the engine's fold loop)."""
    systems = ["season_average", *BOOSTED]
    return [policy.fit(systems, frame[frame["game_date"] <= end], end) for end in FOLD_ENDS]


def medians(fits: dict[str, PredictionSystem], test: pd.DataFrame) -> dict[str, np.ndarray]:
    return {s: fitted.predict_dist(test).median for s, fitted in fits.items()}


@pytest.fixture(scope="module")
def cold(frame: pd.DataFrame) -> list[dict[str, PredictionSystem]]:
    """Every fold fitted by a fresh policy: nothing handed from fold to fold."""
    spec = spec_of({})
    systems = ["season_average", *BOOSTED]
    return [FitPolicy(spec).fit(systems, frame[frame["game_date"] <= e], e) for e in FOLD_ENDS]


def test_without_warm_starts_a_walk_forward_fits_what_cold_fits_do(
    frame: pd.DataFrame, cold: list[dict[str, PredictionSystem]]
) -> None:
    test = frame[frame["game_date"] > FOLD_ENDS[-1]]
    walked = walk(frame, FitPolicy(spec_of({}), workers=2))
    for fold, fits in enumerate(walked):
        for system_id, got in medians(fits, test).items():
            np.testing.assert_array_equal(got, medians(cold[fold], test)[system_id])
        for system_id in BOOSTED:
            details = fits[system_id].fitted_.details
            assert details == cold[fold][system_id].fitted_.details
            assert "warm_rounds" not in details
            assert not hasattr(fits[system_id], "head_model_")


def test_warm_starts_continue_the_previous_fold_only_where_asked(
    frame: pd.DataFrame, cold: list[dict[str, PredictionSystem]]
) -> None:
    test = frame[frame["game_date"] > FOLD_ENDS[-1]]
    warm = {"xgboost": 8, "catboost_season": 8}
    walked = walk(frame, FitPolicy(spec_of(warm), workers=2))
    for fold, fits in enumerate(walked):
        got, want = medians(fits, test), medians(cold[fold], test)
        for system_id in ("season_average", "catboost_full"):  # not asked: unchanged
            np.testing.assert_array_equal(got[system_id], want[system_id])
        for system_id, rounds in warm.items():
            details = fits[system_id].fitted_.details
            if fold == 0:  # nothing to continue yet: a cold fit
                np.testing.assert_array_equal(got[system_id], want[system_id])
                assert "warm_rounds" not in details
                continue
            previous = walked[fold - 1][system_id]
            assert details["warm_started_from"] == str(FOLD_ENDS[fold - 1])
            assert 1 <= details["warm_rounds"] <= rounds
            assert fits[system_id].head_rounds_ == previous.head_rounds_ + details["warm_rounds"]
            assert not np.array_equal(got[system_id], want[system_id])
            # a fit never holds on to the fit it continued (nor pickles the chain)
            assert "_previous" not in vars(fits[system_id])
            pickle.dumps(fits[system_id])
    # the previous fold's fits are left as they were
    np.testing.assert_array_equal(
        walked[0]["xgboost"].predict_dist(test).median, medians(cold[0], test)["xgboost"]
    )


def test_a_warm_start_needs_a_previous_fit_of_the_same_system(frame: pd.DataFrame) -> None:
    spec = spec_of({"xgboost": 8})
    end = FOLD_ENDS[0]
    train = frame[frame["game_date"] <= end]
    policy = FitPolicy(spec)
    other = policy.fit_one("catboost_full", train, end)
    fitted = policy.fit_one("xgboost", train, end + timedelta(days=0), previous=other)
    assert "warm_rounds" not in fitted.fitted_.details
