"""Walk-forward fold plans and earlier-folds-only calibration, on small inputs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from nbaprops.experiments.folds import Fold, FoldPlan, plan_folds
from nbaprops.models.calibration import PitCalibrator, prob_over_under_push


def season_dates(first: date, n: int, skip_every: int = 4) -> list[date]:
    return [first + timedelta(days=i) for i in range(n) if i % skip_every != 3]


@pytest.mark.parametrize("retrain_every", [1, 3, 7, 30])
@pytest.mark.parametrize("gap_days", [0, 1, 5])
@pytest.mark.parametrize("window", ["expanding", "rolling"])
def test_no_fold_tests_a_date_before_or_inside_its_training_window(
    retrain_every: int, gap_days: int, window: str
) -> None:
    dates = season_dates(date(2024, 1, 1), 120)
    plan = plan_folds(
        dates,
        date(2024, 2, 1),
        date(2024, 4, 20),
        retrain_every=retrain_every,
        gap_days=gap_days,
        window=window,
        window_days=60 if window == "rolling" else None,
        warmup_days=14,
    )
    tested = []
    for fold in plan.folds:
        test_days = [d for d in dates if fold.test_start <= d <= fold.test_end]
        assert test_days, fold
        assert fold.train_end < fold.test_start - timedelta(days=gap_days)
        assert (fold.test_end - fold.test_start).days < retrain_every
        if window == "rolling":
            assert fold.train_start is not None
            assert (fold.train_end - fold.train_start).days == 59
        else:
            assert fold.train_start is None
        tested += test_days
    assert tested == sorted(set(tested))  # each date tested once, in order
    assert tested == [d for d in dates if date(2024, 1, 18) <= d <= date(2024, 4, 20)]


def test_warmup_folds_precede_the_start_and_are_not_reported() -> None:
    dates = season_dates(date(2024, 1, 1), 90)
    plan = plan_folds(dates, date(2024, 2, 1), date(2024, 3, 1), retrain_every=7, warmup_days=21)
    warm = [f for f in plan.folds if f.warmup]
    assert warm
    assert all(f.test_end < date(2024, 2, 1) for f in warm)
    assert plan.reported[0].test_start >= date(2024, 2, 1)
    assert len(plan.describe()) == len(plan.folds)


def test_a_fold_that_trains_on_its_test_dates_is_refused() -> None:
    bad = Fold(0, None, date(2024, 3, 5), date(2024, 3, 5), date(2024, 3, 11))
    with pytest.raises(ValueError, match="not before test start"):
        FoldPlan((bad,), "expanding", None, 7, 0).validate()
    gap = Fold(0, None, date(2024, 3, 3), date(2024, 3, 5), date(2024, 3, 11))
    with pytest.raises(ValueError, match="3-day gap"):
        gap.validate(gap_days=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retrain_every": 0}, "retrain_every"),
        ({"gap_days": -1}, "gap_days"),
        ({"window": "random"}, "window must be"),
        ({"window": "rolling"}, "window_days"),
    ],
)
def test_bad_fold_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_folds(
            season_dates(date(2024, 1, 1), 30), date(2024, 1, 10), date(2024, 1, 30), **kwargs
        )


def test_calibration_without_history_is_the_identity() -> None:
    cal = PitCalibrator.fit(np.array([]))
    raw = np.array([0.0, 0.2, 0.5, 0.93, 1.0])
    np.testing.assert_allclose(cal(raw), raw)


def test_calibration_corrects_an_overconfident_model() -> None:
    rng = np.random.default_rng(3)
    # Truth ~ N(0, 2); the model says N(0, 1): its PIT values pile up at 0 and 1.
    actual = rng.normal(0, 2, 20_000)
    from scipy.stats import norm

    cal = PitCalibrator.fit(norm.cdf(actual, 0, 1))
    x = np.array([-2.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(cal(norm.cdf(x, 0, 1)), norm.cdf(x, 0, 2), atol=0.015)


def test_whole_number_lines_get_a_push_probability_and_half_lines_none() -> None:
    # A discrete uniform on 0..9 through a continuous CDF, calibrated on its own PIT.
    def cdf(x: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(x) + 0.5) / 10.0, 0, 1)

    outcomes = np.repeat(np.arange(10), 500).astype(float)
    cal = PitCalibrator.fit(cdf(outcomes))
    p_over, p_under, p_push = prob_over_under_push(cdf, np.array([4.5, 5.0]), cal)
    np.testing.assert_allclose(p_over, [0.5, 0.4], atol=0.01)
    np.testing.assert_allclose(p_under, [0.5, 0.5], atol=0.01)
    np.testing.assert_allclose(p_push, [0.0, 0.1], atol=0.01)
    np.testing.assert_allclose(p_over + p_under + p_push, 1.0, atol=1e-9)
