"""Daily operations on tiny frames: line shopping, stakes, CLV, signals, picks, supersede."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core import metrics as m
from nbaprops.core import odds
from nbaprops.core.settings import Settings
from nbaprops.grading.bets import grade_bet_rows
from nbaprops.grading.grade import grade_rows
from nbaprops.models.calibration import Calibration, ClaimCell, EvCalibration
from nbaprops.predictions.picks import PickPolicy, select_picks
from nbaprops.predictions.scoring import score_rows
from nbaprops.predictions.signal import slate_signal
from nbaprops.predictions.store import active_predictions, write_batch, write_picks
from nbaprops.systems import PredictiveDistribution

DAY = date(2024, 4, 12)


def _dist(centres: list[float]) -> PredictiveDistribution:
    levels = np.linspace(-9, 9, 19)
    return PredictiveDistribution.from_quantiles(
        np.array([[c + q for q in levels] for c in centres])
    )


def _rows(n: int, line: float = 20.5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "player_id": list(range(1, n + 1)),
            "game_date": [DAY] * n,
            "line": [line] * n,
            "line_kind": ["sportsbook"] * n,
            "over_price": [-110.0] * n,
            "under_price": [-110.0] * n,
        }
    )


def test_line_shopping_takes_the_book_with_the_best_value_for_the_side() -> None:
    books = pd.DataFrame(
        {
            "player_id": [1, 1, 1, 2, 2],
            "game_date": [DAY] * 5,
            "book": ["a", "b", "c", "a", "b"],
            "book_line": [20.5, 20.5, 19.5, 20.5, 21.5],
            "book_over_price": [-110.0, -102.0, -150.0, -110.0, -110.0],
            "book_under_price": [-110.0, -118.0, 120.0, -110.0, -110.0],
        }
    )
    out = score_rows(
        _rows(2), _dist([24.0, 16.0]), Calibration.identity(), ev_margin=0.02, books=books
    )
    assert out["side"].tolist() == ["OVER", "UNDER"]
    # player 1: the better price at the same line beats the lower line at -150
    p_over_205 = out.loc[0, "p_over"]
    ev_b = odds.expected_value_with_push(p_over_205, out.loc[0, "p_under"], -102)
    assert out.loc[0, "bet_book"] == "b"
    assert out.loc[0, "bet_price"] == -102.0
    assert out.loc[0, "ev"] == pytest.approx(ev_b)
    # player 2: an under at a higher line at the same price is worth more
    assert out.loc[1, "bet_book"] == "b"
    assert out.loc[1, "bet_line"] == 21.5
    assert out.loc[1, "ev"] > odds.expected_value_with_push(
        out.loc[1, "p_under"], out.loc[1, "p_over"], -110
    )


def test_without_book_quotes_the_consensus_is_the_bet() -> None:
    out = score_rows(_rows(1), _dist([26.0]), Calibration.identity(), ev_margin=0.02)
    assert out.loc[0, "side"] == "OVER"
    assert out.loc[0, "bet_line"] == 20.5
    assert out.loc[0, "bet_price"] == -110.0
    assert out.loc[0, "bet_book"] is None


def test_kelly_stakes_a_fraction_of_the_optimum_and_nothing_without_an_edge() -> None:
    full = (0.55 * (100 / 110) - 0.45) / (100 / 110)
    assert odds.kelly_stake(0.55, 0.45, -110) == pytest.approx(full)
    assert odds.kelly_stake(0.55, 0.45, -110, 0.25) == pytest.approx(full / 4)
    assert odds.kelly_stake(0.50, 0.50, -110) == 0.0
    # a push returns the stake: only the lose probability counts against
    assert odds.kelly_stake(0.50, 0.40, 100) == pytest.approx(0.10)


def test_closing_line_value_in_points_and_probability() -> None:
    clv_line, clv_prob = m.closing_line_value(
        ["OVER", "UNDER", "OVER", "PASS"],
        [20.5, 20.5, 20.5, 20.5],
        [-110.0, -110.0, -110.0, np.nan],
        [21.5, 21.5, 20.5, 20.5],
        [-110.0, -110.0, -120.0, -110.0],
        [-110.0, -110.0, 100.0, -110.0],
    )
    assert clv_line[:3].tolist() == [1.0, -1.0, 0.0]
    assert np.isnan(clv_line[3])
    p_close = (120 / 220) / (120 / 220 + 0.5)
    assert clv_prob[2] == pytest.approx(p_close - 110 / 210)
    assert np.isnan(clv_prob[0])  # the close is at another line: no probability CLV


def _slate(n_games: int, sides: list[str], edges: list[float]) -> pd.DataFrame:
    n = len(sides)
    return pd.DataFrame(
        {
            "game_id": [f"g{i % n_games}" for i in range(n)],
            "recommendation": sides,
            "edge": edges,
        }
    )


def test_the_slate_signal_follows_its_thresholds() -> None:
    s = Settings()
    thin = slate_signal(_slate(3, ["OVER", "UNDER"] * 5, [4.0] * 10), s)
    assert thin.signal == "RED"
    assert "games" in thin.reasons
    unders = slate_signal(_slate(8, ["OVER"] + ["UNDER"] * 9, [4.0] * 10), s)
    assert unders.signal == "RED"
    assert unders.skew == "UNDER_HEAVY"
    overs = slate_signal(_slate(8, ["OVER"] * 6 + ["UNDER"] * 4, [4.0] * 10), s)
    assert overs.signal == "YELLOW"
    flat = slate_signal(_slate(8, ["OVER", "UNDER"] * 5, [1.0] * 10), s)
    assert flat.signal == "YELLOW"
    assert flat.n_high_edge == 0
    good = slate_signal(_slate(8, ["OVER"] * 4 + ["UNDER"] * 6, [4.0] * 10), s)
    assert good.signal == "GREEN"
    assert good.skew == "BALANCED"
    assert good.over_share == pytest.approx(0.4)


def _calls(n: int, **columns: object) -> pd.DataFrame:
    """``n`` OVER calls at 20.5, -110, claimed EV falling from 20% and calibrated EV
    from 10%, each on its own team and game unless told otherwise."""
    base: dict[str, object] = {
        "player_id": list(range(n)),
        "game_date": [DAY] * n,
        "team": [f"T{i}" for i in range(n)],
        "game_id": [f"g{i}" for i in range(n)],
        "side": ["OVER"] * n,
        "line_kind": ["sportsbook"] * n,
        "line": [20.5] * n,
        "over_price": [-110.0] * n,
        "under_price": [-110.0] * n,
        "bet_book": ["b"] * n,
        "bet_line": [20.5] * n,
        "bet_price": [-110.0] * n,
        "p_win": [0.6] * n,
        "edge": [2.0] * n,
        "ev": np.linspace(0.2, 0.05, n),
        "ev_calibrated": np.linspace(0.10, 0.03, n),
        "in_sample": [False] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_picks_limit_bets_per_team_game_player_and_day_and_rank_by_calibrated_value() -> None:
    n = 14
    rows = _calls(
        n,
        team=["AAA"] * 4 + [f"T{i}" for i in range(n - 4)],
        game_id=["g0", "g0", "g1", "g1", "g2", "g2", "g2"] + [f"h{i}" for i in range(n - 7)],
        side=["OVER"] * (n - 1) + ["PASS"],
        edge=[2.0] * (n - 3) + [0.5, 2.0, 2.0],
    )
    picks = select_picks(rows, EvCalibration(), "GREEN", PickPolicy(min_record=0, max_per_day=6))
    bets = picks[picks["status"] == "BET"]
    assert bets["player_id"].tolist() == [0, 1, 4, 5, 7, 8]
    assert bets["ev_calibrated"].is_monotonic_decreasing
    reasons = picks.set_index("player_id")["reason"]
    assert reasons[2] == "2 bets on this team already"  # AAA twice (0, 1)
    assert reasons[6] == "2 bets on this game already"  # g2 twice (4, 5)
    assert reasons[9] == "6 bets on this date already"
    assert reasons[11] == "edge +0.5 pts under 1"
    assert 13 not in reasons.index  # a PASS is no call, not a pick
    assert (picks.loc[picks["status"] == "WATCHLIST", "stake_kelly"] == 0).all()
    assert (bets["stake_flat"] == 1.0).all()


def test_a_pick_is_staked_only_when_its_calibrated_value_and_its_record_back_it() -> None:
    rows = _calls(3, ev=[0.15, 0.15, 0.15], ev_calibrated=[0.01, 0.04, 0.04])
    cell = ClaimCell("sportsbook", "OVER", "2-5%", 150, 80, 0, 6.0, 150.0, 5.0)
    thin = EvCalibration(record=(replace(cell, n=40, wins=21),))
    picks = select_picks(rows, thin, "GREEN", PickPolicy(min_record=100)).set_index("player_id")
    assert picks.loc[0, "reason"].startswith("calibrated EV +1.0% at or under the margin +2.0%")
    assert picks.loc[1, "reason"] == "40 comparable graded bets (fewer than 100)"
    assert picks.loc[1, "record_n"] == 40
    assert (picks["status"] == "WATCHLIST").all()
    backed = select_picks(rows, EvCalibration(record=(cell,)), "GREEN", PickPolicy())
    backed = backed.set_index("player_id")
    assert backed.loc[[1, 2], "status"].tolist() == ["BET", "BET"]
    assert backed.loc[1, "record_hit_rate"] == pytest.approx(80 / 150)
    assert backed.loc[1, "record_roi"] == pytest.approx(6.0 / 150)
    low, high = m.wilson_interval(80, 150)
    assert backed.loc[1, "record_ci_low"] == pytest.approx(low)
    assert backed.loc[1, "record_ci_high"] == pytest.approx(high)
    # the stake is fractional Kelly on the calibrated EV, not on the 15% claimed
    assert backed.loc[1, "stake_kelly"] == pytest.approx(0.25 * 0.04 / (100 / 110))


def test_a_record_that_lost_backs_no_bet_even_with_enough_comparable_bets() -> None:
    """Calibrated EV +4% beside 154 comparable calls that returned -1.9%: the shown record
    contradicts the claim, so the pick stays on the watchlist and says why; a record that
    made money backs the same pick; a policy requiring no record does not look."""
    rows = _calls(2, ev=[0.08, 0.08], ev_calibrated=[0.04, 0.04])
    lost = ClaimCell("sportsbook", "OVER", "2-5%", 154, 79, 0, -2.9, 150.0, 5.0)
    picks = select_picks(rows, EvCalibration(record=(lost,)), "GREEN", PickPolicy())
    assert (picks["status"] == "WATCHLIST").all()
    assert (
        picks["reason"].tolist()
        == ["comparable graded bets returned -1.9% over 154 (a record that lost backs no bet)"] * 2
    )
    assert (picks["stake_kelly"] == 0).all()
    assert picks["record_roi"].tolist() == pytest.approx([-2.9 / 154] * 2)
    even = replace(lost, profit=0.0)  # broke even: not a profit either
    flat = select_picks(rows, EvCalibration(record=(even,)), "GREEN", PickPolicy())
    assert (flat["status"] == "WATCHLIST").all()
    won = replace(lost, profit=2.9)
    backed = select_picks(rows, EvCalibration(record=(won,)), "GREEN", PickPolicy())
    assert (backed["status"] == "BET").all()
    no_record = PickPolicy(min_record=0)
    assert (
        select_picks(rows, EvCalibration(record=(lost,)), "GREEN", no_record)["status"] == "BET"
    ).all()


def test_stakes_are_capped_per_bet_halved_on_a_red_slate_and_scaled_to_the_slate_cap() -> None:
    rows = _calls(8, ev_calibrated=[0.30, 0.20, 0.10, 0.09, 0.08, 0.07, 0.06, 0.05])
    policy = PickPolicy(min_record=0, kelly_fraction=0.5, max_bet=0.02, max_slate=0.06)
    green = select_picks(rows, EvCalibration(), "GREEN", policy)
    before = green["stake_kelly_before"].to_numpy()
    assert before == pytest.approx(0.5 * green["ev_calibrated"].to_numpy() / (100 / 110))
    capped = np.minimum(before, 0.02)
    expected = capped * 0.06 / capped.sum()  # the per-bet cap binds, then the slate cap
    assert green["stake_kelly"].to_numpy() == pytest.approx(expected)
    assert green["stake_kelly"].sum() == pytest.approx(0.06)
    assert green["stake_kelly"].max() <= 0.02 + 1e-12
    assert "per-bet cap 2%" in green.loc[0, "capped_by"]
    red = select_picks(rows.head(2), EvCalibration(), "RED", policy)
    half = np.minimum(red["stake_kelly_before"].to_numpy() * 0.5, 0.02)
    assert red["stake_kelly"].to_numpy() == pytest.approx(half)
    assert red["capped_by"].str.startswith("RED slate x0.5").all()
    old = select_picks(rows, EvCalibration(), "RED", policy.before_calibration())
    assert old["stake_kelly"].to_numpy() == pytest.approx(
        0.5 * old["ev_raw"].to_numpy() / (100 / 110)
    )  # the rule before: raw EV, uncapped
    assert old["stake_kelly"].sum() > 0.5


def _prediction_rows(n: int, median: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "system_id": "season_average",
            "model_version": 1,
            "alias": "champion",
            "player_id": list(range(1, n + 1)),
            "game_id": "g1",
            "game_date": DAY,
            "team": "AAA",
            "line_source": "ACTUAL",
            "line_kind": "sportsbook",
            "line": 20.5,
            "n_books": 3,
            "quote_time": pd.Timestamp("2024-04-12 18:00", tz="UTC"),
            "over_price": -110.0,
            "under_price": -110.0,
            "estimated_line": np.nan,
            "estimate_method": None,
            "decision_time": pd.Timestamp("2024-04-12 22:30", tz="UTC"),
            "median": median,
            "mean": median,
            "p_over": 0.5,
            "p_under": 0.5,
            "p_push": 0.0,
            "p_over_dist": 0.5,
            "edge": median - 20.5,
            "ev": np.nan,
            "recommendation": "PASS",
            "confidence": "NONE",
            "bet_book": None,
            "bet_line": np.nan,
            "bet_price": np.nan,
            "n_defaulted": 0,
            "quantiles": [list(np.linspace(median - 9, median + 9, 19))] * n,
            "in_sample": False,
            "completeness_skipped": False,
            "ev_calibrated": np.nan,
            "decision": "PASS",
            "p_win": np.nan,
        }
    )


def test_a_rerun_changes_nothing_and_force_supersedes_and_links(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    key = {"system_id": "season_average", "model_version": 1, "alias": "champion", "day": DAY}
    first = write_batch(empty_con, _prediction_rows(3, 20.0), force=False, **key)
    again = write_batch(empty_con, _prediction_rows(3, 21.0), force=False, **key)
    assert first.written == 3
    assert again.unchanged
    assert again.written == 0
    assert active_predictions(empty_con, DAY)["median"].tolist() == [20.0] * 3
    forced = write_batch(empty_con, _prediction_rows(2, 22.0), force=True, **key)
    assert forced.superseded == 3
    rows = empty_con.execute(
        "SELECT player_id, median, is_active, superseded_by, batch_id, prediction_id "
        "FROM predictions.prediction ORDER BY is_active, player_id"
    ).df()
    assert len(rows) == 5  # nothing deleted
    old, new = rows[~rows["is_active"]], rows[rows["is_active"]]
    assert new["median"].tolist() == [22.0, 22.0]
    by_id = dict(zip(new["prediction_id"], new["player_id"], strict=True))
    # players still on the slate point at their new row; the one who left, at the batch
    assert [by_id.get(s) for s in old["superseded_by"][:2]] == [1, 2]
    assert old["superseded_by"].iloc[2] == new["batch_id"].iloc[0]


def test_a_bet_is_graded_at_its_own_line_and_price_not_against_the_consensus() -> None:
    """UNDER 25.5 at +110 against 26 points loses one unit, although the call was on the
    right side of the 26.5 consensus (as Zion Williamson's top pick of 2024-04-12 did)."""
    bet = pd.DataFrame(
        {
            "pick_id": ["k"],
            "system_id": ["s"],
            "game_date": [DAY],
            "player_id": [1629627],
            "side": ["UNDER"],
            "bet_line": [25.5],
            "bet_price": [110.0],
            "stake_flat": [1.0],
            "stake_kelly": [0.02],
            "actual_points": [26.0],
        }
    )
    graded = grade_bet_rows(bet, pd.Timestamp("2024-04-13", tz="UTC")).iloc[0]
    assert graded["result"] == "LOSS"
    assert graded["profit_units"] == -1.0
    assert graded["profit_share"] == pytest.approx(-0.02)
    won = grade_bet_rows(bet.assign(actual_points=25.0), pd.Timestamp.now(tz="UTC")).iloc[0]
    assert won["result"] == "WIN"
    assert won["profit_units"] == pytest.approx(1.10)
    assert (
        grade_bet_rows(bet.assign(actual_points=np.nan), pd.Timestamp.now(tz="UTC")).iloc[0][
            "result"
        ]
        == "VOID"
    )
    call = pd.DataFrame(
        {
            "prediction_id": ["p"],
            "system_id": ["s"],
            "game_date": [DAY],
            "player_id": [1629627],
            "line_source": ["ACTUAL"],
            "line": [26.5],
            "over_price": [-115.0],
            "under_price": [-105.0],
            "median": [24.0],
            "quantiles": [list(np.linspace(15, 33, 19))],
            "recommendation": ["UNDER"],
            "bet_line": [25.5],
            "bet_price": [110.0],
            "actual_points": [26.0],
            "actual_minutes": [33.0],
            "closing_line": [26.5],
            "closing_over_price": [-115.0],
            "closing_under_price": [-105.0],
        }
    )
    direction = grade_rows(call, pd.Timestamp.now(tz="UTC")).iloc[0]["direction_vs_consensus"]
    assert direction == "right"  # the call's direction, never a bet's "correct"


def test_forced_picks_supersede_the_dates_earlier_ones_and_link_them(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    rows = _calls(3).assign(decision_time=pd.Timestamp("2024-04-12 22:30", tz="UTC"))
    picks = select_picks(rows, EvCalibration(), "GREEN", PickPolicy(min_record=0))
    key = {"system_id": "s", "model_version": 1, "alias": "champion", "day": DAY}
    first = write_picks(empty_con, picks, force=False, **key)
    again = write_picks(empty_con, picks, force=False, **key)
    assert (first.written, again.unchanged) == (3, True)
    forced = write_picks(empty_con, picks.head(2), force=True, **key)
    assert (forced.written, forced.superseded) == (2, 3)
    rows = empty_con.execute(
        "SELECT player_id, pick_id, batch_id, is_active, superseded_by FROM predictions.pick "
        "ORDER BY is_active, player_id"
    ).df()
    old, new = rows[~rows["is_active"]], rows[rows["is_active"]]
    assert len(old) == 3  # nothing deleted
    by_id = dict(zip(new["pick_id"], new["player_id"], strict=True))
    assert [by_id.get(s) for s in old["superseded_by"][:2]] == [0, 1]
    assert old["superseded_by"].iloc[2] == new["batch_id"].iloc[0]  # player 2 left the slate
    assert empty_con.execute("SELECT count(*) FROM predictions.bet WHERE is_active").fetchone() == (
        2,
    )
