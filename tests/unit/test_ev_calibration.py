"""Expected value calibrated like a probability: claims against what they returned."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from nbaprops.core import metrics as m
from nbaprops.models.calibration import (
    EV_PRIOR_SD,
    Calibration,
    ClaimCell,
    EvCalibration,
)
from nbaprops.predictions.history import InMemoryHistory, calibration_before

DAY = date(2024, 3, 1)


def _claims(
    n: int,
    *,
    claimed: float,
    win_rate: float,
    side: str = "UNDER",
    price: float = -110.0,
    seed: int = 0,
    start: date = DAY,
) -> pd.DataFrame:
    """``n`` graded calls at one price, each claiming ``claimed`` EV, winning at
    ``win_rate`` (points one above or below a 20.5 line)."""
    rng = np.random.default_rng(seed)
    won = rng.uniform(size=n) < win_rate
    over = side == "OVER"
    actual = np.where(won == over, 21.0, 20.0)
    return pd.DataFrame(
        {
            "system": "s",
            "game_date": [start + timedelta(days=int(i // 20)) for i in range(n)],
            "player_id": np.arange(n),
            "side": side,
            "line_kind": "sportsbook",
            "line": 20.5,
            "over_price": -110.0,
            "under_price": -110.0,
            "bet_line": 20.5,
            "bet_price": price,
            "ev": claimed,
            "ev_calibrated": np.nan,
            "actual": actual,
            "played": True,
        }
    )


def test_claims_that_lost_calibrate_below_zero_and_a_system_without_a_record_claims_nothing() -> (
    None
):
    empty = EvCalibration()
    out = empty.calibrate(["sportsbook"] * 3, ["OVER", "UNDER", "PASS"], [0.12, 0.03, np.nan])
    assert out[:2].tolist() == [0.0, 0.0]  # no record: shrunk all the way to zero edge
    assert np.isnan(out[2])
    losing = EvCalibration.fit(_claims(2000, claimed=0.10, win_rate=0.49))
    cal = losing.calibrate(["sportsbook"], ["UNDER"], [0.10])[0]
    (cell,) = losing.cells
    assert cell.roi < 0
    assert cal < 0  # +10% claims that returned less than break-even recommend nothing
    assert cal == pytest.approx(cell.profit / (cell.n + cell.variance / EV_PRIOR_SD**2))


def test_calibrated_value_is_shrunk_by_the_evidence_and_never_above_the_claim() -> None:
    # calls that really win 56% at -110 (true ROI about +6.9%) claiming +8%
    few = EvCalibration.fit(_claims(60, claimed=0.08, win_rate=0.56, seed=1))
    many = EvCalibration.fit(_claims(6000, claimed=0.08, win_rate=0.56, seed=1))
    (cell_few,), (cell_many,) = few.cells, many.cells
    shrink_few = cell_few.n / (cell_few.n + cell_few.variance / EV_PRIOR_SD**2)
    shrink_many = cell_many.n / (cell_many.n + cell_many.variance / EV_PRIOR_SD**2)
    assert shrink_few < 0.15
    assert shrink_many > 0.9
    cal_many = many.calibrate(["sportsbook"], ["UNDER"], [0.08])[0]
    assert cal_many == pytest.approx(cell_many.roi * shrink_many)
    assert 0.04 < cal_many < 0.08
    # a small claim in the same bucket cannot be lifted above what it claimed
    small = EvCalibration.fit(_claims(6000, claimed=0.06, win_rate=0.60, seed=2))
    assert small.calibrate(["sportsbook"], ["UNDER"], [0.055])[0] == pytest.approx(0.055)


def test_cells_are_kept_apart_by_line_kind_side_and_bucket() -> None:
    rows = pd.concat(
        [
            _claims(3000, claimed=0.04, win_rate=0.58, side="UNDER", seed=3),
            _claims(3000, claimed=0.04, win_rate=0.45, side="OVER", seed=4),
            _claims(3000, claimed=0.15, win_rate=0.45, side="UNDER", seed=5),
        ],
        ignore_index=True,
    )
    ev = EvCalibration.fit(rows)
    assert {(c.side, c.bucket) for c in ev.cells} == {
        ("UNDER", "2-5%"),
        ("OVER", "2-5%"),
        ("UNDER", ">10%"),
    }
    under, over, big = ev.calibrate(
        ["sportsbook"] * 3, ["UNDER", "OVER", "UNDER"], [0.04] * 2 + [0.15]
    )
    assert under > 0 > over
    assert big < 0
    dfs = ev.calibrate(["dfs"], ["UNDER"], [0.04])[0]
    assert dfs == 0.0  # no DFS record: nothing learned from sportsbook calls


def test_a_call_is_graded_at_its_own_price_and_line_in_the_record() -> None:
    rows = _claims(400, claimed=0.07, win_rate=0.5, price=120.0, seed=6)
    rows["bet_line"] = 21.5  # the shopped book's line, not the consensus
    rows["ev_calibrated"] = 0.03
    ev = EvCalibration.fit(rows)
    outcome, profit = m.graded_as_placed(
        rows["actual"], rows["side"], rows["played"], rows["bet_line"], rows["bet_price"]
    )
    (cell,) = ev.cells
    assert cell.n == int(np.isin(outcome, ("win", "loss")).sum())
    assert cell.wins == int((outcome == "win").sum())
    assert cell.profit == pytest.approx(profit.sum())
    # UNDER 21.5 wins on 20 and on 21 alike: every call wins at the book's line
    assert cell.wins == cell.n
    assert profit.max() == pytest.approx(1.2)  # +120 pays 1.2 units
    record = ev.record_of(["sportsbook", "sportsbook"], ["UNDER", "OVER"], [0.03, 0.03])
    assert record["record_n"].tolist() == [cell.n, 0]  # comparable: same side and bucket
    assert record["record_roi"][0] == pytest.approx(1.2)


def test_a_round_trip_keeps_every_cell() -> None:
    rows = _claims(500, claimed=0.06, win_rate=0.53, seed=7)
    rows["ev_calibrated"] = 0.01
    calibration = Calibration.from_history(
        rows.assign(pit=0.5, p_over_dist=0.5), "distribution", "multiplicative"
    )
    again = Calibration.from_dict(calibration.to_dict())
    assert again.ev == calibration.ev
    assert len(again.ev.cells) == len(again.ev.record) == 1
    assert (
        Calibration.from_dict({"pit": [], "platt": {"a": 0, "b": 1, "n": 0}}).ev == EvCalibration()
    )


def test_the_calibrated_value_of_a_date_uses_only_calls_graded_before_it() -> None:
    """Perturbation: change every result on or after D; D's calibration does not move."""
    rows = _claims(3000, claimed=0.07, win_rate=0.52, seed=8)
    rows["pit"], rows["p_over_dist"] = 0.5, 0.5
    day = rows["game_date"].iloc[1500]
    history = InMemoryHistory()
    history.add("s", rows)
    flipped = rows.copy()
    later = flipped["game_date"] >= day
    flipped.loc[later, "actual"] = 41.0 - flipped.loc[later, "actual"]  # every later call flips
    perturbed = InMemoryHistory()
    perturbed.add("s", flipped)
    before = calibration_before(history, "s", day).ev
    after = calibration_before(perturbed, "s", day).ev
    assert before == after
    assert before.cells[0].n < 1500 + 20
    everything = calibration_before(history, "s", rows["game_date"].max() + timedelta(days=1))
    changed = calibration_before(perturbed, "s", rows["game_date"].max() + timedelta(days=1))
    assert everything.ev != changed.ev  # the perturbation itself is visible later on


def test_totals_sum_every_cell() -> None:
    cells = (
        ClaimCell("sportsbook", "OVER", "2-5%", 10, 6, 1, 1.5, 9.0, 0.3),
        ClaimCell("sportsbook", "UNDER", ">10%", 30, 12, 0, -4.0, 29.0, 4.0),
    )
    total = EvCalibration(cells).totals()
    assert total is not None
    assert (total.n, total.wins, total.pushes) == (40, 18, 1)
    assert total.profit == pytest.approx(-2.5)
    assert EvCalibration().totals() is None
