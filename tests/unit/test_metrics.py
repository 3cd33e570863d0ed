"""Hand-computed cases for the shared metrics; every figure here is one a reader can redo."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from nbaprops.core import metrics as m
from nbaprops.core.alarms import leakage_alarms
from nbaprops.core.bankroll import ledger, simulate_bankroll
from nbaprops.core.market_compare import versus_market
from nbaprops.core.metrics import (
    BREAK_EVEN_110,
    american_to_decimal,
    bet_profit,
    betting_summary,
    brier_skill,
    expected_value,
    grade_bets,
    implied_probability,
    lined_point_metrics,
    no_vig_probabilities,
    point_metrics,
    probability_metrics,
    wilson_interval,
)


def _bets(**columns: Sequence[object]) -> pd.DataFrame:
    """A betting frame with honest defaults: played, priced at -110, sportsbook lines."""
    n = len(next(iter(columns.values())))
    base: dict[str, Sequence[object]] = {
        "actual": [25.0] * n,
        "line": [20.5] * n,
        "side": ["OVER"] * n,
        "edge": [1.5] * n,
        "played": [True] * n,
        "over_price": [-110.0] * n,
        "under_price": [-110.0] * n,
        "line_kind": ["sportsbook"] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


# --- points ---------------------------------------------------------------------------


def test_mae_of_10_20_against_12_17_is_2_5() -> None:
    m = point_metrics([10, 20], [12, 17])
    assert m.n == 2
    assert m.mae == pytest.approx(2.5)
    assert m.rmse == pytest.approx(math.sqrt(6.5))
    assert m.bias == pytest.approx(-0.5)
    assert m.r2 == pytest.approx(1 - 13 / 50)


def test_point_metrics_drop_rows_with_a_missing_value_and_count_them() -> None:
    m = point_metrics([10, 20, np.nan, 30], [12, 17, 15, None])
    assert (m.n, m.n_excluded) == (2, 2)
    assert m.mae == pytest.approx(2.5)


def test_r2_is_undefined_when_actual_points_are_constant() -> None:
    m = point_metrics([10, 10, 10], [9, 10, 11])
    assert math.isnan(m.r2)
    assert m.to_dict()["r2"] is None


def test_arrays_of_different_length_are_refused() -> None:
    with pytest.raises(ValueError, match="length"):
        point_metrics([1, 2, 3], [1, 2])


def test_model_and_line_are_scored_on_exactly_the_same_rows() -> None:
    actual = [10, 20, 30, 40]
    predicted = [12, 17, 0, np.nan]
    line = [11.5, 18.5, np.nan, 39.5]
    m = lined_point_metrics(actual, predicted, line)
    assert (m.n, m.n_excluded) == (2, 2)
    assert m.model_mae == pytest.approx(2.5)
    assert m.line_mae == pytest.approx(1.5)
    assert m.line_bias == pytest.approx(0.0)
    assert m.line_rmse == pytest.approx(1.5)
    assert m.mae_gap == pytest.approx(1.0)


def test_mae_gap_is_negative_when_the_model_beats_the_line() -> None:
    m = lined_point_metrics([10, 20], [10.5, 19.5], [12.5, 17.5])
    assert m.mae_gap == pytest.approx(0.5 - 2.5)
    assert m.model_bias == pytest.approx(0.0)


# --- odds -----------------------------------------------------------------------------


def test_minus_110_is_decimal_1_9091_and_plus_150_is_2_5() -> None:
    assert american_to_decimal(-110) == pytest.approx(1.9091, abs=1e-4)
    assert american_to_decimal(150) == pytest.approx(2.5)
    assert american_to_decimal(100) == pytest.approx(2.0)
    assert american_to_decimal(-100) == pytest.approx(2.0)


def test_american_to_decimal_is_vectorised_and_keeps_missing_prices_missing() -> None:
    out = american_to_decimal(np.array([-200.0, np.nan, 150.0]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [1.5, np.nan, 2.5])


def test_prices_between_minus_100_and_plus_100_are_refused() -> None:
    with pytest.raises(ValueError, match="-100"):
        american_to_decimal([-110, 50])


def test_implied_probability_of_minus_110_is_the_break_even_rate() -> None:
    assert implied_probability(-110) == pytest.approx(0.5238, abs=1e-4)
    assert implied_probability(-110) == pytest.approx(BREAK_EVEN_110)
    np.testing.assert_allclose(implied_probability([150, -200]), [0.4, 2 / 3])


def test_no_vig_probabilities_remove_the_margin_and_sum_to_one() -> None:
    p_over, p_under = no_vig_probabilities(-120, 100)
    assert p_over == pytest.approx((120 / 220) / (120 / 220 + 0.5))
    assert p_over + p_under == pytest.approx(1.0)
    even_over, even_under = no_vig_probabilities([-110], [-110])
    np.testing.assert_allclose(even_over, [0.5])
    np.testing.assert_allclose(even_under, [0.5])


def test_expected_value_is_zero_at_break_even_and_ten_percent_at_55_on_evens() -> None:
    assert expected_value(BREAK_EVEN_110, -110) == pytest.approx(0.0)
    assert expected_value(0.55, 100) == pytest.approx(0.10)
    np.testing.assert_allclose(expected_value([0.4, 0.5], [150, 150]), [0.0, 0.25])


# --- grading --------------------------------------------------------------------------


def test_over_above_the_line_wins_and_under_above_the_line_loses() -> None:
    out = grade_bets([25, 25, 15, 15], [20.5] * 4, ["OVER", "UNDER", "OVER", "UNDER"], [True] * 4)
    assert out.tolist() == ["win", "loss", "loss", "win"]


def test_a_push_on_a_whole_number_line_is_neither_win_nor_loss() -> None:
    out = grade_bets([20, 20], [20.0, 20.0], ["OVER", "UNDER"], [True, True])
    assert out.tolist() == ["push", "push"]


def test_voids_are_counted_and_never_graded() -> None:
    out = grade_bets(
        [30, np.nan, 30], [20.5, 20.5, 20.5], ["OVER", "OVER", "OVER"], [False, True, True]
    )
    assert out.tolist() == ["void", "void", "win"]


def test_unknown_played_status_defers_to_the_box_score() -> None:
    out = grade_bets([30, np.nan], [20.5, 20.5], ["OVER", "OVER"], [None, None])
    assert out.tolist() == ["win", "void"]


def test_a_pass_or_none_side_is_a_pass_even_when_the_player_sat() -> None:
    out = grade_bets(
        [30, 30, np.nan], [20.5, 20.5, np.nan], ["PASS", None, "pass"], [True, True, False]
    )
    assert out.tolist() == ["pass", "pass", "pass"]


def test_an_unknown_side_is_refused() -> None:
    with pytest.raises(ValueError, match="side"):
        grade_bets([30], [20.5], ["HIGHER"], [True])


def test_a_placed_bet_without_a_line_cannot_be_graded() -> None:
    with pytest.raises(ValueError, match="without a line"):
        grade_bets([30], [np.nan], ["OVER"], [True])


def test_bet_profit_pays_decimal_minus_one_on_a_win_and_costs_the_stake_on_a_loss() -> None:
    out = bet_profit(
        ["win", "win", "loss", "push", "void", "pass"], [150, -110, 150, -110, -110, -110]
    )
    np.testing.assert_allclose(out, [1.5, 100 / 110, -1.0, 0.0, 0.0, 0.0])
    assert bet_profit("win", 150) == pytest.approx(1.5)


def test_a_win_without_a_price_has_unknown_profit() -> None:
    out = bet_profit(["win", "loss", "void"], [np.nan, np.nan, np.nan])
    assert math.isnan(out[0])
    assert out[1:].tolist() == [-1.0, 0.0]


def test_bet_profit_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="unknown outcomes"):
        bet_profit(["won"], [-110])


# --- wilson ---------------------------------------------------------------------------


def test_wilson_interval_for_55_of_100() -> None:
    low, high = wilson_interval(55, 100)
    assert low == pytest.approx(0.452, abs=1e-3)
    assert high == pytest.approx(0.644, abs=1e-3)


def test_wilson_interval_with_no_trials_is_nan() -> None:
    low, high = wilson_interval(0, 0)
    assert math.isnan(low)
    assert math.isnan(high)


def test_wilson_interval_stays_inside_zero_and_one() -> None:
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)


def test_wilson_interval_refuses_more_successes_than_trials() -> None:
    with pytest.raises(ValueError, match="k <= n"):
        wilson_interval(11, 10)


# --- betting summary ------------------------------------------------------------------


def test_betting_summary_refuses_mixed_line_kinds() -> None:
    frame = _bets(line_kind=["sportsbook", "estimated"])
    with pytest.raises(ValueError, match="more than one line_kind"):
        betting_summary(frame)


def test_betting_summary_refuses_rows_without_a_line_kind() -> None:
    with pytest.raises(ValueError, match="line source"):
        betting_summary(_bets(line_kind=["sportsbook", None]))


def test_betting_summary_names_the_missing_columns() -> None:
    frame = _bets(actual=[25.0]).drop(columns=["edge", "under_price"])
    with pytest.raises(ValueError, match="edge, under_price"):
        betting_summary(frame)


def test_roi_at_minus_110_with_11_wins_and_10_losses_is_about_zero() -> None:
    frame = _bets(actual=[25.0] * 11 + [15.0] * 10)
    s = betting_summary(frame)
    assert (s.wins, s.losses, s.n_bets) == (11, 10, 21)
    assert s.roi_flat == pytest.approx(0.0, abs=1e-12)
    assert s.roi_actual == pytest.approx(0.0, abs=1e-12)
    assert s.hit_rate == pytest.approx(11 / 21)
    assert s.break_even == pytest.approx(0.5238, abs=1e-4)


def test_summary_counts_pushes_voids_and_passes_without_grading_them() -> None:
    frame = _bets(
        actual=[25.0, 20.0, np.nan, 30.0, 15.0],
        line=[20.5, 20.0, 20.5, 20.5, 20.5],
        side=["OVER", "OVER", "OVER", "PASS", "OVER"],
        played=[True, True, False, True, True],
    )
    s = betting_summary(frame)
    assert (s.n_rows, s.wins, s.losses, s.pushes, s.voids, s.passes) == (5, 1, 1, 1, 1, 1)
    assert s.n_bets == 2
    assert s.hit_rate == pytest.approx(0.5)
    assert s.roi_flat == pytest.approx((100 / 110 - 1) / 2)


def test_roi_at_actual_prices_excludes_rows_without_a_real_price() -> None:
    frame = _bets(
        actual=[25.0, 25.0, 15.0],
        over_price=[150.0, np.nan, -110.0],
    )
    s = betting_summary(frame)
    assert (s.n_bets, s.n_priced, s.n_no_price) == (3, 2, 1)
    assert s.roi_actual == pytest.approx((1.5 - 1.0) / 2)
    assert s.roi_flat == pytest.approx((2 * 100 / 110 - 1) / 3)


def test_roi_at_actual_prices_uses_the_price_of_the_side_bet() -> None:
    frame = _bets(
        actual=[15.0],
        side=["UNDER"],
        over_price=[-300.0],
        under_price=[200.0],
    )
    s = betting_summary(frame)
    assert s.roi_actual == pytest.approx(2.0)


def test_direction_table_splits_over_and_under() -> None:
    frame = _bets(
        actual=[25.0, 15.0, 15.0, 25.0, 20.0],
        line=[20.5, 20.5, 20.5, 20.5, 20.0],
        side=["OVER", "OVER", "UNDER", "UNDER", "UNDER"],
    )
    s = betting_summary(frame)
    over, under = s.by_direction
    assert (over.label, over.n, over.wins, over.losses, over.pushes) == ("OVER", 2, 1, 1, 0)
    assert (under.label, under.n, under.wins, under.losses, under.pushes) == ("UNDER", 2, 1, 1, 1)
    assert over.ci_low < over.hit_rate < over.ci_high


def test_edge_buckets_use_absolute_edge_and_are_half_open() -> None:
    frame = _bets(
        actual=[25.0, 15.0, 15.0, 25.0],
        side=["OVER", "UNDER", "UNDER", "OVER"],
        edge=[0.5, -1.0, -6.0, 1.99],
    )
    s = betting_summary(frame, edge_buckets=(0, 1, 2, math.inf))
    labels = [row.label for row in s.by_edge]
    counts = [row.n for row in s.by_edge]
    assert labels == ["0-1", "1-2", "2+"]
    assert counts == [1, 2, 1]
    assert s.n_unbucketed == 0


def test_bets_outside_the_buckets_are_counted_as_unbucketed() -> None:
    frame = _bets(actual=[25.0, 25.0, 25.0], edge=[0.5, np.nan, 1.5])
    s = betting_summary(frame, edge_buckets=(1, 2))
    assert [row.n for row in s.by_edge] == [1]
    assert s.n_unbucketed == 2
    assert s.n_bets == 3


def test_summary_hit_rate_carries_its_n_interval_and_line_source() -> None:
    frame = _bets(actual=[25.0] * 55 + [15.0] * 45, line_kind=["dfs"] * 100)
    s = betting_summary(frame)
    assert s.line_kind == "dfs"
    assert s.n_bets == 100
    assert s.ci_low == pytest.approx(0.452, abs=1e-3)
    assert s.ci_high == pytest.approx(0.644, abs=1e-3)


def test_summary_to_dict_is_strict_json() -> None:
    frame = _bets(actual=[25.0], side=["UNDER"], under_price=[np.nan])
    s = betting_summary(frame)
    encoded = json.dumps(s.to_dict(), allow_nan=False)
    decoded = json.loads(encoded)
    assert decoded["roi_actual"] is None
    assert decoded["by_direction"][0]["n"] == 0
    assert decoded["edge_buckets"][-1] is None


# --- probabilities --------------------------------------------------------------------


def test_brier_and_log_loss_by_hand() -> None:
    m = probability_metrics([0.8, 0.3], [1, 0])
    assert m.n == 2
    assert m.brier == pytest.approx((0.04 + 0.09) / 2)
    assert m.log_loss == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)


def test_log_loss_is_finite_for_a_certain_and_wrong_forecast() -> None:
    m = probability_metrics([1.0], [0])
    assert m.log_loss == pytest.approx(-math.log(1e-6), rel=1e-6)


def test_ece_is_zero_for_perfectly_calibrated_binned_data() -> None:
    p = [0.25] * 4 + [0.75] * 4
    outcome = [1, 0, 0, 0, 1, 1, 1, 0]
    assert probability_metrics(p, outcome).ece == pytest.approx(0.0, abs=1e-12)


def test_ece_is_large_for_a_constant_0_9_forecast_on_fifty_percent_outcomes() -> None:
    m = probability_metrics([0.9] * 10, [1, 0] * 5)
    assert m.ece == pytest.approx(0.4)


def test_seeded_calibrated_forecasts_have_small_ece_and_overconfident_ones_do_not() -> None:
    rng = np.random.default_rng(20240415)
    p = rng.uniform(0.2, 0.8, size=20_000)
    outcome = (rng.uniform(size=p.size) < p).astype(int)
    overconfident = np.clip(0.5 + 2 * (p - 0.5), 0, 1)
    assert probability_metrics(p, outcome).ece < 0.02
    assert probability_metrics(overconfident, outcome).ece > 0.1


def test_reliability_lists_every_bin_and_puts_one_in_the_last() -> None:
    m = probability_metrics([0.3, 1.0, 0.0], [1, 1, 0], n_bins=10)
    assert len(m.reliability) == 10
    assert [b.n for b in m.reliability] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert m.reliability[3].p_low == pytest.approx(0.3)
    assert m.reliability[9].observed_rate == 1.0
    assert math.isnan(m.reliability[5].mean_p)


def test_probability_metrics_refuse_nan_so_exclusions_stay_with_the_caller() -> None:
    with pytest.raises(ValueError, match="NaN"):
        probability_metrics([0.5, np.nan], [1, 0])
    with pytest.raises(ValueError, match="0 or 1"):
        probability_metrics([0.5], [0.5])


def test_brier_skill_is_zero_for_the_base_rate_and_positive_for_a_sharper_forecast() -> None:
    outcome = [1, 0, 1, 0]
    assert brier_skill([0.5] * 4, outcome, base_rate=0.5) == pytest.approx(0.0)
    assert brier_skill([0.9, 0.1, 0.9, 0.1], outcome, base_rate=0.5) == pytest.approx(
        1 - 0.01 / 0.25
    )


# --- leakage tripwire -----------------------------------------------------------------


def test_leakage_alarm_fires_for_mae_3_4_and_74_percent_over_1200_bets() -> None:
    alarms = leakage_alarms(3.4, 0.74, 1200, None)
    assert len(alarms) == 2
    assert all("LEAKAGE" in a for a in alarms)
    text = " ".join(alarms)
    for cause in ("rolling window", "future games", "after tip-off", "date-grouped"):
        assert cause in text


def test_leakage_alarm_stays_silent_for_mae_5_2_and_53_percent() -> None:
    assert leakage_alarms(5.2, 0.53, 1200, 0.45) == []


def test_a_high_hit_rate_on_a_small_sample_is_not_an_alarm() -> None:
    assert leakage_alarms(None, 0.62, 300, None) == []


def test_r2_above_0_6_on_single_games_is_an_alarm() -> None:
    alarms = leakage_alarms(None, None, 0, 0.72)
    assert len(alarms) == 1
    assert "R²" in alarms[0]


def test_a_hit_rate_given_as_a_percentage_is_refused() -> None:
    with pytest.raises(ValueError, match="fraction"):
        leakage_alarms(5.0, 74.0, 1200, None)


def test_the_ece_noise_floor_matches_what_a_calibrated_forecast_shows() -> None:
    from nbaprops.core.metrics import ece_noise_floor

    rng = np.random.default_rng(11)
    p = rng.uniform(0.35, 0.65, 2_000)
    simulated = [probability_metrics(p, rng.uniform(size=len(p)) < p).ece for _ in range(100)]
    assert ece_noise_floor(p) == pytest.approx(np.mean(simulated), rel=0.15)
    assert ece_noise_floor(np.repeat(p, 25)) < ece_noise_floor(p) / 4  # shrinks like 1/sqrt(N)


def test_versus_market_scores_both_on_the_same_priced_rows() -> None:
    # -110/-110 de-vigs to 0.5; +100/-120 to 0.5238/0.4762 (multiplicative: 0.5/(0.5+0.5455))
    p = [0.6, 0.4, 0.7, np.nan]
    over = [-110, -110, 100, -110]
    under = [-110, -110, -120, -110]
    outcome = [1, 1, 0, 1]
    dates = ["d1", "d1", "d2", "d2"]
    k = versus_market(p, over, under, outcome, dates, n_boot=200)
    assert k is not None
    assert k.n == 3  # the row without a probability is out of both
    assert k.n_dates == 2
    market_over = 0.5 / (0.5 + 120 / 220)
    expected_market = ((0.5 - 1) ** 2 + (0.5 - 1) ** 2 + (market_over - 0) ** 2) / 3
    expected_model = ((0.6 - 1) ** 2 + (0.4 - 1) ** 2 + 0.7**2) / 3
    assert k.brier_market == pytest.approx(expected_market)
    assert k.brier == pytest.approx(expected_model)
    assert k.brier_diff == pytest.approx(expected_model - expected_market)
    assert k.worse_than_market is (expected_model > expected_market)
    assert k.brier_diff_low <= k.brier_diff <= k.brier_diff_high


def test_versus_market_without_prices_is_none() -> None:
    assert versus_market([0.5], [np.nan], [np.nan], [1], ["d"]) is None


def test_flat_bankroll_adds_each_bets_profit_and_tracks_the_drawdown() -> None:
    # +100: a win pays 1 unit; -110: a loss costs 1; a push returns the stake
    b = simulate_bankroll(
        ["d1", "d1", "d2", "d3", "d3"],
        ["win", "loss", "loss", "push", "pass"],
        [100, -110, -110, -110, -110],
        [0.6] * 5,
        [0.4] * 5,
        staking="flat",
        start=10.0,
    )
    assert b.n_bets == 4  # the pass is not a bet
    assert [v for _, v in b.curve] == [10.0, 9.0, 9.0]
    assert b.final == 9.0
    assert b.max_drawdown == pytest.approx(0.1)
    assert b.roi_on_start == pytest.approx(-0.1)


def test_kelly_bankroll_sizes_a_dates_bets_off_the_bankroll_at_its_start() -> None:
    # p=0.6 at +100 (b=1): full Kelly 0.2, quarter Kelly 0.05 of the bankroll per bet
    b = simulate_bankroll(
        ["d1", "d1", "d2"],
        ["win", "loss", "win"],
        [100, 100, 100],
        [0.6, 0.6, 0.6],
        [0.4, 0.4, 0.4],
        staking="kelly",
        kelly_fraction=0.25,
        start=100.0,
    )
    # d1: two stakes of 5 from 100: +5 -5 -> 100; d2: 5 on 100 wins -> 105
    assert [v for _, v in b.curve] == [pytest.approx(100.0), pytest.approx(105.0)]
    no_edge = simulate_bankroll(
        ["d1"], ["loss"], [-110], [0.5], [0.5], staking="kelly", start=100.0
    )
    assert no_edge.final == 100.0  # no edge, no stake
    with pytest.raises(ValueError, match="staking"):
        simulate_bankroll(["d1"], ["win"], [100], [0.6], [0.4], staking="martingale")


def test_the_ledger_runs_units_and_bankrolls_bet_by_bet_and_never_stakes_past_the_bankroll() -> (
    None
):
    days = ["2024-03-01", "2024-03-01", "2024-03-02"]
    running, summary = ledger(
        days, ["win", "loss", "push"], [0.9, -1.0, 0.0], [1, 1, 1], [0.02, 0.01, 0.05]
    )
    assert running["running_units"].tolist() == pytest.approx([0.9, -0.1, -0.1])
    assert running["bankroll_flat"].tolist() == pytest.approx([100.9, 99.9, 99.9])
    # both bets of a date are sized off the bankroll at its start
    assert running["bankroll_kelly"].tolist() == pytest.approx([101.8, 100.8, 100.8])
    assert (summary.wins, summary.losses, summary.pushes, summary.n_dates) == (1, 1, 1, 2)
    assert summary.roi == pytest.approx(-0.05)  # per decided bet
    assert summary.max_drawdown_flat == pytest.approx(1.0 / 100.9)
    # stakes of a date adding to more than the bankroll are scaled down to all of it
    _, ruined = ledger(["d", "d"], ["loss", "loss"], [-1.0, -1.0], [1, 1], [0.8, 0.8])
    assert ruined.final_kelly == pytest.approx(0.0)
    assert ruined.max_drawdown_kelly == pytest.approx(1.0)


def test_ev_reliability_puts_each_bet_in_its_claimed_bucket_with_its_own_return() -> None:
    ev = [0.01, 0.03, 0.04, 0.07, 0.20, 0.25, np.nan]
    outcome = ["win", "loss", "win", "push", "loss", "win", "win"]
    profit = [0.9, -1.0, 1.2, 0.0, -1.0, 2.0, 0.9]
    days = ["a", "a", "b", "b", "c", "c", "c"]
    buckets = {b.label: b for b in m.ev_reliability(ev, outcome, profit, days, n_boot=200)}
    assert list(buckets) == ["<=2%", "2-5%", "5-10%", ">10%"]
    assert (buckets["2-5%"].n, buckets["2-5%"].wins) == (2, 1)
    assert buckets["2-5%"].mean_ev == pytest.approx(0.035)
    assert buckets["2-5%"].roi == pytest.approx(0.1)
    assert (buckets["5-10%"].n, buckets["5-10%"].pushes) == (0, 1)  # a push is not decided
    assert buckets[">10%"].roi == pytest.approx(0.5)
    # the 2-5% bets fell on two dates: an interval; the >10% ones on one: none (not a
    # zero-width interval around its mean)
    assert buckets["2-5%"].n_dates == 2
    assert buckets["2-5%"].roi_low <= 0.1 <= buckets["2-5%"].roi_high
    assert buckets["2-5%"].roi_low < buckets["2-5%"].roi_high
    assert buckets[">10%"].n_dates == 1
    assert np.isnan(buckets[">10%"].roi_low)
    assert np.isnan(buckets[">10%"].roi_high)


def test_a_brier_difference_over_one_date_says_it_has_no_interval() -> None:
    """versus_market over one date: no interval (NaN), and the report and the backtest
    command say why instead of printing a zero-width one or "nan"."""
    from nbaprops.experiments.report import interval_text

    one = versus_market([0.6, 0.4, 0.7], [-110] * 3, [-110] * 3, [1, 0, 1], ["d"] * 3)
    assert one is not None
    assert one.n_dates == 1
    assert np.isnan(one.brier_diff_low)
    assert np.isnan(one.brier_diff_high)
    assert interval_text(one.brier_diff_low, one.brier_diff_high) == "[no interval: one date]"
    assert interval_text(None, None) == "[no interval: one date]"
    assert interval_text(-0.001, 0.0025) == "[-0.0010, +0.0025]"


def test_another_market_is_held_to_its_own_line_not_to_the_points_floor() -> None:
    # rebounds: a 2.09 MAE against a 2.10 line is honest; 1.7 against 2.1 is not
    assert leakage_alarms(2.09, 0.51, 1200, 0.45, market="rebounds", line_mae=2.10) == []
    alarms = leakage_alarms(1.7, 0.51, 1200, 0.45, market="rebounds", line_mae=2.10)
    assert len(alarms) == 1
    assert "rebounds MAE 1.70" in alarms[0]
    assert "the line's own (2.10)" in alarms[0]
    assert len(leakage_alarms(6.0, 0.62, 1500, None, market="pra", line_mae=6.1)) == 1
    # without the line's MAE nothing is measured, so nothing trips
    assert leakage_alarms(1.0, None, 0, None, market="threes") == []
