"""The market as a calibration and the market anchor: start from the line, earn a say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbaprops.core import metrics as m
from nbaprops.core.devig import devig, market_p_over
from nbaprops.models.calibration import (
    ANCHOR_PRIOR_ROWS,
    Calibration,
    MarketAnchor,
    PlattCalibrator,
)
from nbaprops.predictions.scoring import score_rows
from nbaprops.systems.base import QUANTILES, PredictiveDistribution


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _history(n: int, model_info: float, seed: int = 0) -> pd.DataFrame:
    """Lined rows whose outcome depends on the market's log-odds and, by ``model_info``,
    on a signal only the model sees; points are Poisson around a mean the line misses."""
    rng = np.random.default_rng(seed)
    p_mkt = rng.uniform(0.35, 0.65, n)
    signal = rng.normal(0, 1, n)
    p_true = _sigmoid(np.log(p_mkt / (1 - p_mkt)) + model_info * signal)
    went_over = rng.uniform(size=n) < p_true
    # consensus prices with a 4.5% margin that de-vig back to p_mkt
    implied_over, implied_under = p_mkt * 1.045, (1 - p_mkt) * 1.045

    def american(p: np.ndarray) -> np.ndarray:
        return np.where(p >= 0.5, -100 * p / (1 - p), 100 * (1 - p) / p)

    line = rng.integers(8, 30, n) + 0.5
    mean = line + 3.0 * signal * model_info
    actual = np.where(went_over, np.ceil(line), np.floor(line)) + rng.integers(0, 4, n) * np.where(
        went_over, 1, -1
    )
    return pd.DataFrame(
        {
            "played": True,
            "line": line,
            "actual": np.clip(actual, 0, None),
            "median_model": mean,
            "p_over_dist": _sigmoid(0.5 * np.log(p_mkt / (1 - p_mkt)) + model_info * signal),
            "over_price": american(implied_over),
            "under_price": american(implied_under),
            "pit": rng.uniform(size=n),
        }
    )


def test_with_no_history_the_anchor_is_the_market() -> None:
    empty = MarketAnchor.fit(_history(0, 0.5))
    assert (empty.weight, empty.a, empty.b, empty.c, empty.n) == (0.0, 0.0, 0.0, 1.0, 0)
    p_model, p_market = np.array([0.9, 0.2]), np.array([0.45, 0.55])
    np.testing.assert_allclose(empty.p_over(p_model, p_market), p_market)
    np.testing.assert_allclose(
        empty.point(np.array([30.0, 4.0]), np.array([20.5, 9.5])), [20.5, 9.5]
    )
    anchored = Calibration.from_history(pd.DataFrame(), "anchored")
    assert anchored.anchor == MarketAnchor.market()


def test_a_model_that_knows_something_earns_weight_and_one_that_does_not_stays_near_zero() -> None:
    informed = MarketAnchor.fit(_history(6000, 0.6, seed=1))
    noise = _history(6000, 0.0, seed=2)
    noise["p_over_dist"] = _sigmoid(np.random.default_rng(3).normal(0, 0.6, len(noise)))
    blind = MarketAnchor.fit(noise)
    assert informed.b > 0.5
    assert informed.n == 6000
    assert abs(blind.b) < 0.1
    assert 0.0 < informed.c < 1.0  # what the model already carries of the market
    test = _history(6000, 0.6, seed=4)
    y = (test["actual"] > test["line"]).to_numpy(float)
    p_mkt = market_p_over(test["over_price"], test["under_price"])
    brier_market = np.mean((p_mkt - y) ** 2)
    brier_anchor = np.mean((informed.p_over(test["p_over_dist"].to_numpy(), p_mkt) - y) ** 2)
    assert brier_anchor < brier_market - 0.01


def test_the_point_weight_grows_with_evidence_and_is_shrunk_toward_the_line() -> None:
    rows = _history(ANCHOR_PRIOR_ROWS, 1.0, seed=5)
    few = MarketAnchor.fit(rows.head(40))
    many = MarketAnchor.fit(rows)
    assert 0 <= few.weight < many.weight <= 0.5 + 1e-9  # n / (n + prior) <= 1/2 at n = prior
    assert many.n_point == ANCHOR_PRIOR_ROWS


def _dist(medians: list[float]) -> PredictiveDistribution:
    offsets = np.linspace(-8, 8, len(QUANTILES))
    return PredictiveDistribution.from_quantiles(np.array(medians)[:, None] + offsets)


def test_the_market_calibration_scores_the_line_and_the_devigged_price() -> None:
    rows = pd.DataFrame(
        {
            "line": [20.5, 14.5, 9.5, np.nan],
            "line_kind": ["sportsbook", "sportsbook", "dfs", None],
            "over_price": [-130.0, 110.0, -137.0, np.nan],
            "under_price": [100.0, -140.0, -137.0, np.nan],
        }
    )
    dist = _dist([20.5, 14.5, 9.5, 12.0])
    scored = score_rows(rows, dist, Calibration.market("power"), ev_margin=0.0)
    fair = devig(np.array([-130.0, 110.0]), np.array([100.0, -140.0]), "power")[0]
    np.testing.assert_allclose(scored["p_over"].to_numpy()[:2], fair)
    assert scored["p_over"].iloc[2] == pytest.approx(0.5)  # a DFS line has no price
    np.testing.assert_allclose(scored["median"].to_numpy()[:3], [20.5, 14.5, 9.5])
    assert scored["median"].iloc[3] == 12.0  # no line: the distribution's own median
    assert (scored["side"].iloc[:2] == "PASS").all()  # the vig is never beaten at its own price
    assert (scored["line_calibration_n"] == 0).all()


def test_an_anchored_calibration_moves_the_point_and_survives_a_round_trip() -> None:
    anchor = MarketAnchor(0.25, 0.01, 0.4, 0.9, 900, 1000, "shin")
    calibration = Calibration(Calibration.identity().pit, Calibration.identity().platt, anchor)
    rows = pd.DataFrame(
        {
            "line": [20.5],
            "line_kind": ["sportsbook"],
            "over_price": [-110.0],
            "under_price": [-110.0],
        }
    )
    scored = score_rows(rows, _dist([24.5]), calibration, ev_margin=0.0)
    assert scored["median"].iloc[0] == pytest.approx(20.5 + 0.25 * 4.0)
    assert scored["median_model"].iloc[0] == pytest.approx(24.5)
    p_model = scored["p_over_dist"].iloc[0]
    expected = _sigmoid(0.01 + 0.4 * np.log(p_model / (1 - p_model)) + 0.9 * 0.0)
    assert scored["p_over"].iloc[0] == pytest.approx(expected)
    assert scored["line_calibration_slope"].iloc[0] == 0.4
    again = Calibration.from_dict(calibration.to_dict())
    assert again.anchor == anchor
    assert again.to_dict() == calibration.to_dict()
    assert Calibration.from_dict(Calibration.identity().to_dict()).anchor is None


def test_a_book_line_off_the_consensus_is_priced_along_the_models_slope() -> None:
    market = Calibration.market()
    dist = _dist([20.5])
    at_line = market.probabilities(dist.cdf, np.array([20.5]), np.array([0.55]), np.array([20.5]))
    higher = market.probabilities(dist.cdf, np.array([22.5]), np.array([0.55]), np.array([20.5]))
    assert at_line[1][0] == pytest.approx(0.55)
    assert higher[1][0] < 0.55  # a higher over line is less likely to go over


def test_on_a_whole_line_the_push_takes_its_share_from_both_sides() -> None:
    # rebounds around 5 with a real mass at exactly 5: a DFS pick'em (market 0.5) and a
    # priced line (market 0.6); the anchor's P is P(over | decided), as the price is
    pmf = np.array([[0.02, 0.05, 0.10, 0.15, 0.18, 0.18, 0.14, 0.09, 0.05, 0.03, 0.01]])
    dist = PredictiveDistribution.from_pmf(pmf)
    market = Calibration.market()
    whole = np.array([5.0])
    _, p_over, p_under, p_push = market.probabilities(dist.cdf, whole, np.array([0.5]), whole)
    assert p_push[0] == pytest.approx(0.18)
    assert p_over[0] == pytest.approx(p_under[0])  # a pick'em: no side favoured
    assert p_over[0] + p_under[0] + p_push[0] == pytest.approx(1.0)
    _, p_over, p_under, p_push = market.probabilities(dist.cdf, whole, np.array([0.6]), whole)
    assert p_over[0] / (p_over[0] + p_under[0]) == pytest.approx(0.6)
    # scored on decided rows, the market's P(over | decided) is its price again
    assert m.decided_p_over(p_over, p_push)[0] == pytest.approx(0.6)
    # a half line has no push: P(over) is the anchor's, bit for bit
    half = np.array([5.5])
    _, p_over, p_under, p_push = market.probabilities(dist.cdf, half, np.array([0.6]), half)
    assert p_push[0] == 0.0
    assert p_over[0] == MarketAnchor.market().p_over(np.array([0.4]), np.array([0.6]))[0]
    assert m.decided_p_over(p_over, p_push)[0] == p_over[0]


def test_a_models_whole_line_is_priced_on_decided_outcomes_on_both_sides() -> None:
    # no history: the distribution's own P(over | decided), its push shared by both sides
    pmf = np.array([[0.02, 0.05, 0.10, 0.15, 0.18, 0.18, 0.14, 0.09, 0.05, 0.03, 0.01]])
    dist = PredictiveDistribution.from_pmf(pmf)
    whole = np.array([5.0])
    _, p_over, p_under, p_push = Calibration.identity().probabilities(dist.cdf, whole)
    over, under = pmf[0, 6:].sum(), pmf[0, :5].sum()
    assert p_push[0] == pytest.approx(0.18)
    assert p_over[0] == pytest.approx(over)
    assert p_under[0] == pytest.approx(under)  # not 1 - P(over) - P(push) of a shifted P
    # a line-aware stage fitted on decided rows maps P(over | decided), then the push
    # is shared: the ratio over/under is the stage's odds
    platt = Calibration(Calibration.identity().pit, PlattCalibrator(0.0, 0.5, 500))
    _, p_over, p_under, p_push = platt.probabilities(dist.cdf, whole)
    decided = over / (over + under)
    expected = 1 / (1 + np.exp(-0.5 * np.log(decided / (1 - decided))))
    assert p_over[0] / (p_over[0] + p_under[0]) == pytest.approx(expected)
    assert p_over[0] + p_under[0] + p_push[0] == pytest.approx(1.0)
