"""Experiment specs: strict YAML, one object for every surface, fold policy included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nbaprops.core.errors import NbapropsError
from nbaprops.experiments.backtest import plan_for
from nbaprops.experiments.engine import recency_weights
from nbaprops.experiments.spec import build_spec, load_spec

REPO = Path(__file__).resolve().parents[2]
BASE = {
    "name": "t",
    "system": "catboost_full",
    "evaluation": {"start": "2024-03-01", "end": "2024-03-31"},
}


def spec(**changes: object):  # type: ignore[no-untyped-def]
    base = {k: v for k, v in BASE.items() if not ("systems" in changes and k == "system")}
    return build_spec({**base, **changes})


def test_every_documented_example_is_a_valid_spec() -> None:
    # sweep_*.yaml files are sweeps (a base spec and a grid), checked with the sweeps
    files = sorted(
        f for f in (REPO / "experiments").glob("*.yaml") if not f.name.startswith("sweep_")
    )
    assert len(files) >= 4
    kinds = {load_spec(f).window.kind for f in files}
    assert kinds == {"expanding", "rolling", "current_season"}


def test_an_unknown_field_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        "name: x\nsystem: catboost_full\n"
        "evaluation: {start: 2024-03-01, end: 2024-03-02}\ndepht: 8\n"
    )
    with pytest.raises(NbapropsError, match=r"x\.yaml: depht: unknown field"):
        load_spec(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"features": ["points_avg_last_5"]}, "needs mode: experimental"),
        ({"mode": "experimental"}, "needs a features list"),
        ({"mode": "experimental", "features": ["no_such_feature"]}, "unknown features"),
        ({"system": "moving_average", "recency": {"enabled": True}}, "sample weights"),
        ({"window": {"kind": "rolling"}}, "a rolling window needs days"),
        ({"window": {"kind": "expanding", "days": 5}}, "days only applies"),
        ({"training": {"end": "2024-03-15"}}, "is before evaluation.end"),
        ({"name": "../escape"}, "must be a plain name"),
        ({"system": "nonsense"}, "unknown systems: nonsense"),
        ({"feature_set": "points_v9"}, "unknown feature set"),
    ],
)
def test_inconsistent_specs_are_refused_with_one_reason(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(NbapropsError, match=message):
        spec(**changes)


def test_the_config_hash_follows_what_decides_results_not_names() -> None:
    a = spec()
    assert spec(name="other", tags=["x"], hypothesis="why").config_hash() == a.config_hash()
    assert spec(hyperparameters={"depth": 8}).config_hash() != a.config_hash()
    assert spec(seed=8).config_hash() != a.config_hash()


def test_overrides_are_validated_like_the_file() -> None:
    a = spec()
    b = a.with_overrides(evaluation={"start": date(2024, 3, 10)}, hyperparameters={"depth": 4})
    assert (b.start, b.end) == (date(2024, 3, 10), date(2024, 3, 31))
    assert b.params_for("catboost_full") == {"depth": 4}
    assert b.params_for("season_average") == {}
    with pytest.raises(NbapropsError, match="after end"):
        a.with_overrides(evaluation={"start": date(2024, 4, 10)})


def test_the_baseline_always_runs_first_and_the_primary_is_the_first_listed() -> None:
    s = spec(systems=["xgboost", "ensemble"])
    assert s.primary == "xgboost"
    assert s.run_systems == ("season_average", "xgboost", "ensemble")


def test_a_current_season_window_starts_each_fold_at_its_season() -> None:
    s = spec(window={"kind": "current_season"}, retrain_every=14)
    dates = [date(2024, 3, d) for d in range(1, 32)]
    plan = plan_for(s, dates)
    assert {f.train_start for f in plan.folds} == {date(2023, 9, 1)}
    assert all(f.train_end < f.test_start for f in plan.folds)
    rolling = plan_for(spec(window={"kind": "rolling", "days": 56}), dates)
    assert all((f.train_end - f.train_start).days == 55 for f in rolling.folds)  # type: ignore[operator]


def test_recency_weights_halve_every_half_life() -> None:
    import pandas as pd

    dates = pd.Series([date(2024, 3, 1), date(2024, 1, 1), date(2023, 11, 2)])
    w = recency_weights(dates, date(2024, 3, 1), 60.0)
    assert w[0] == pytest.approx(1.0)
    assert w[1] == pytest.approx(0.5 ** (60 / 60))
    assert w[2] == pytest.approx(0.5 ** (120 / 60))
