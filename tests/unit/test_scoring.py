"""The one scoring path: calibrated probabilities, expected value with pushes, decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbaprops.core import odds
from nbaprops.models.calibration import Calibration
from nbaprops.predictions.scoring import PASS_SIDE, decide, score_rows
from nbaprops.systems import PredictiveDistribution


def test_expected_value_counts_a_push_as_the_stake_returned() -> None:
    # 50% win, 10% push, 40% lose at +100: 0.5 * 1 - 0.4 = 0.10 (not 0.5 - 0.5 = 0)
    assert odds.expected_value_with_push(0.5, 0.4, 100) == pytest.approx(0.10)
    # without a push it is the plain expected value
    assert odds.expected_value_with_push(0.55, 0.45, -110) == pytest.approx(
        odds.expected_value(0.55, -110)
    )


def test_decide_takes_the_side_with_the_larger_value_above_the_margin() -> None:
    p_over = np.array([0.60, 0.40, 0.52, 0.55])
    p_under = 1.0 - p_over
    over_px = np.array([-110.0, -110.0, -110.0, np.nan])
    under_px = np.array([-110.0, -110.0, -110.0, -110.0])
    side, ev = decide(p_over, p_under, over_px, under_px, margin=0.02)
    assert side.tolist() == ["OVER", "UNDER", PASS_SIDE, "OVER"]
    assert ev[0] == pytest.approx(0.60 * (100 / 110) - 0.40)
    assert np.isnan(ev[2])
    # a missing price is decided at -110
    assert ev[3] == pytest.approx(0.55 * (100 / 110) - 0.45)


def _dist(centres: list[float]) -> PredictiveDistribution:
    levels = np.linspace(-9, 9, 19)
    return PredictiveDistribution.from_quantiles(
        np.array([[c + q for q in levels] for c in centres])
    )


def test_rows_without_a_line_pass_and_dfs_lines_carry_no_price() -> None:
    rows = pd.DataFrame(
        {
            "line": [np.nan, 20.5, 20.5],
            "line_kind": [None, "dfs", "sportsbook"],
            "over_price": [np.nan, -110.0, -120.0],
            "under_price": [np.nan, -110.0, 100.0],
            "actual": [12.0, np.nan, 25.0],
        }
    )
    out = score_rows(rows, _dist([10.0, 30.0, 30.0]), Calibration.identity(), ev_margin=0.02)
    assert out["side"].tolist() == [PASS_SIDE, "OVER", "OVER"]
    assert np.isnan(out.loc[0, "p_over"])
    assert np.isnan(out.loc[1, "over_price"])
    assert out.loc[2, "over_price"] == -120.0
    assert out.loc[2, "ev"] == pytest.approx(
        odds.expected_value_with_push(out.loc[2, "p_over"], out.loc[2, "p_under"], -120)
    )
    assert np.isnan(out.loc[1, "pit"])
    assert 0.0 < out.loc[2, "pit"] < 1.0
    total = out.loc[2, ["p_over", "p_under", "p_push"]].sum()
    assert total == pytest.approx(1.0)


def test_scoring_refuses_rows_without_their_lines() -> None:
    with pytest.raises(ValueError, match="line_kind"):
        score_rows(pd.DataFrame({"line": [1.5]}), _dist([3.0]), Calibration.identity(), ev_margin=0)
