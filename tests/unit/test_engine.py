"""The one walk-forward engine: fold rows, the fit policy's order, composites over fits."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from nbaprops.core.errors import NbapropsError
from nbaprops.experiments.engine import FitPolicy, dependency_order, new_system, walk_folds
from nbaprops.experiments.folds import plan_folds
from nbaprops.experiments.spec import build_spec
from nbaprops.predictions.history import InMemoryHistory
from nbaprops.systems import CompositeSystem, EnsembleSystem
from tests.unit.test_systems_contract import synthetic_frame

FAST = {"xgboost": {"n_estimators": 20}, "catboost_full": {"iterations": 20}}


def spec_of(systems: list[str], **changes: object) -> object:
    return build_spec(
        {
            "name": "engine",
            "systems": systems,
            "system_params": {s: p for s, p in FAST.items() if s in systems},
            "evaluation": {"start": date(2023, 1, 10), "end": date(2023, 1, 27)},
            **changes,
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    out = synthetic_frame()
    out["game_date"] = pd.to_datetime(out["game_date"]).dt.date
    return out


def test_walk_folds_select_each_window_once_pass_empty_folds_and_name_a_bare_one(
    frame: pd.DataFrame,
) -> None:
    dates = sorted(set(frame["game_date"]))
    plan = plan_folds(dates, date(2023, 1, 10), date(2023, 1, 27), retrain_every=7)
    folds = list(walk_folds(plan, frame, frame, history_start=None))
    assert [f.fold.index for f in folds] == [f.index for f in plan.folds]
    for rows in folds:
        assert rows.train["game_date"].max() <= rows.fold.train_end < rows.fold.test_start
        assert rows.test["game_date"].between(rows.fold.test_start, rows.fold.test_end).all()
    # a filter that empties the second fold: it is passed over, not an error
    second = plan.folds[1]
    keep = list(
        walk_folds(
            plan,
            frame,
            frame,
            history_start=None,
            keep=lambda t: t[t["game_date"] < second.test_start],
        )
    )
    assert [f.fold.index for f in keep] == [plan.folds[0].index]
    # no training rows in a fold's window: one error naming the fold and the rows
    late = max(f.train_end for f in plan.folds) + timedelta(days=1)
    with pytest.raises(NbapropsError, match=r"fold 0: no in-scope rows in its window"):
        list(walk_folds(plan, frame, frame, history_start=late, what="in-scope rows"))


def test_composites_come_after_what_they_are_built_from() -> None:
    spec = spec_of(["ensemble", "anchored", "xgboost"])
    order = dependency_order(spec.run_systems, spec)
    # anchored needs catboost_full although it is not listed: it is fitted first
    assert order.index("catboost_full") < order.index("anchored") < order.index("ensemble")
    assert order.index("xgboost") < order.index("ensemble")
    ensemble = new_system(spec, "ensemble")
    assert isinstance(ensemble, EnsembleSystem)
    assert set(ensemble.members) == {"season_average", "anchored", "xgboost"}


def test_the_fit_policy_reuses_given_fits_and_composes_over_them(frame: pd.DataFrame) -> None:
    spec = spec_of(["xgboost", "anchored"], system_params={"anchored": {"base": "xgboost"}})
    train = frame[frame["game_date"] < date(2023, 1, 10)]
    end = max(train["game_date"])
    policy = FitPolicy(spec, workers=2)
    fits = policy.fit(["season_average", "xgboost", "anchored"], train, end)
    assert fits["anchored"].members_["xgboost"] is fits["xgboost"]  # one fit, shared
    again = policy.fit(["anchored"], train, end, given={"xgboost": fits["xgboost"]})
    assert again["anchored"].members_["xgboost"] is fits["xgboost"]  # given, not refitted


def test_an_ensemble_learns_its_weights_from_the_members_graded_rows_before_the_fold(
    frame: pd.DataFrame,
) -> None:
    spec = spec_of(["moving_average", "ensemble"])
    train = frame[frame["game_date"] < date(2023, 1, 10)]
    end = max(train["game_date"])
    policy = FitPolicy(spec)
    plain = policy.fit(["season_average", "moving_average"], train, end)
    history = InMemoryHistory()
    past = frame[frame["game_date"] < date(2022, 12, 1)]
    for system_id, fitted in plain.items():
        history.add(
            system_id,
            pd.DataFrame(
                {
                    "system": system_id,
                    "player_id": past["player_id"],
                    "game_date": past["game_date"],
                    "median": fitted.predict_dist(past).median,
                    "actual": past["points"],
                    "played": True,
                }
            ),
        )
    fits = policy.fit(["ensemble"], train, end, given=plain, history=history, before=end)
    ensemble = fits["ensemble"]
    assert isinstance(ensemble, CompositeSystem)
    assert ensemble.fitted_.details["stacked_rows"] == len(past)
    assert ensemble.weights_["moving_average"] != pytest.approx(0.5)
    # without a record (the first fold) it stacks with equal weights
    first = policy.fit(["ensemble"], train, end, given=plain, history=InMemoryHistory(), before=end)
    assert first["ensemble"].weights_ == {"season_average": 0.5, "moving_average": 0.5}
