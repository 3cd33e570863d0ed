"""De-vig maths against published worked examples, hand-derived cases and properties.

Sources of the published numbers (decimal odds in, fair probabilities out):

* [implied] J. C. Lindstrøm, R package ``implied``, README of github.com/opisthokonta/implied
  ("three sets of bookmaker odds from three football matches"), same example as the CRAN
  vignette "Introduction to the implied package". Its power exponents come from R's
  ``uniroot`` at its default tolerance (~1.2e-4 on the parameter; the printed exponents
  leave a residual of up to 2e-5 in sum(p) before its final normalisation) and its Shin
  z from an older, looser iteration, so those two agree with the exact roots to about
  3e-6 in probability and 2e-5 in the parameter (the ``shin`` package's own solver
  agrees with ours to 1e-12 on the same odds); the multiplicative figures are exact.
* [shin] M. Berk, Python package ``shin`` 0.2.2, README on PyPI / github.com/mberk/shin:
  a three-way market solved by the Jullien & Salanié iteration, and a two-way one by the
  closed form of Štrumbelj (2014), both with z printed to full precision.
* [CKI] S. Clarke, S. Kovalchik, M. Ingram (2017), "Adjusting bookmaker's odds to allow
  for overround", American Journal of Sports Science 5(6) 45-49: "the Shin and additive
  methods are equivalent for races with two competitors". We could not retrieve the
  paper's tables, so we test that statement as a property rather than its numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nbaprops.core.devig import (
    METHODS,
    consensus_devig,
    devig,
    devig_implied,
    overround,
    power_exponent,
    shin_z,
)
from nbaprops.core.odds import implied_probability, no_vig_probabilities

IMPLIED_README_ODDS = np.array([[4.20, 3.70, 1.95], [2.45, 3.70, 2.90], [2.05, 3.20, 3.80]])


# --- published worked examples -----------------------------------------------------------


def test_multiplicative_matches_the_implied_readme():
    # [implied] res1$probabilities and res1$margin (the "basic" method)
    expected = [
        [0.2331556, 0.2646631, 0.5021813],
        [0.3988848, 0.2641264, 0.3369888],
        [0.4586948, 0.2938514, 0.2474538],
    ]
    r = 1.0 / IMPLIED_README_ODDS
    np.testing.assert_allclose(devig_implied(r, "multiplicative"), expected, atol=1e-7)
    np.testing.assert_allclose(r.sum(axis=1) - 1.0, [0.02118602, 0.02326112, 0.06346277], atol=1e-8)


def test_power_matches_the_implied_readme():
    # [implied] res4 <- implied_probabilities(my_odds, method = 'power'); p_i = r_i^(1/n)
    expected = [
        [0.2311414, 0.2630644, 0.5057942],
        [0.4003156, 0.2627189, 0.3369655],
        [0.4667139, 0.2908985, 0.2423876],
    ]
    r = 1.0 / IMPLIED_README_ODDS
    np.testing.assert_allclose(devig_implied(r, "power"), expected, atol=5e-6)
    inverse_exponents = [0.9797664, 0.9788115, 0.9419744]  # res4$exponents (n = 1/k)
    np.testing.assert_allclose(1.0 / power_exponent(r), inverse_exponents, atol=5e-5)
    # ...and our k is the exact root, which the published one (uniroot tolerance) is not
    k = power_exponent(r)
    np.testing.assert_allclose((r ** k[:, None]).sum(axis=1), 1.0, atol=1e-13)


def test_shin_matches_the_implied_readme():
    # [implied] res2 <- implied_probabilities(my_odds, method = 'shin'); res2$zvalues
    expected = [
        [0.2315716, 0.2635742, 0.5048542],
        [0.4000221, 0.2629271, 0.3370508],
        [0.4645882, 0.2919788, 0.2434331],
    ]
    r = 1.0 / IMPLIED_README_ODDS
    np.testing.assert_allclose(devig_implied(r, "shin"), expected, atol=5e-6)
    np.testing.assert_allclose(shin_z(r), [0.01061048, 0.01163552, 0.03182353], atol=2e-5)


def test_shin_three_way_matches_the_shin_package_readme():
    # [shin] shin.calculate_implied_probabilities([2.6, 2.4, 4.3], full_output=True)
    r = 1.0 / np.array([2.6, 2.4, 4.3])
    np.testing.assert_allclose(
        devig_implied(r, "shin"),
        [0.37299406033208965, 0.4047794109200184, 0.2222265287474275],
        atol=1e-10,
    )
    assert shin_z(r) == pytest.approx(0.01694251276407055, abs=1e-10)


def test_shin_two_way_matches_the_shin_package_readme():
    # [shin] shin.calculate_implied_probabilities([1.5, 2.74], full_output=True):
    # decimal 1.5 is American -200 and 2.74 is +174.
    p_over, p_under = devig(-200, 174, "shin")
    assert p_over == pytest.approx(0.6508515815085157, abs=1e-12)
    assert p_under == pytest.approx(0.3491484184914841, abs=1e-12)
    assert shin_z(1.0 / np.array([1.5, 2.74])) == pytest.approx(0.03172728540646625, abs=1e-14)


# --- hand-derived cases -------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_a_symmetric_market_is_a_coin_flip_for_every_method(method):
    for price in (-110, -105, -120, 100, 110):
        p_over, p_under = devig(price, price, method)
        assert p_over == pytest.approx(0.5, abs=1e-12)
        assert p_under == pytest.approx(0.5, abs=1e-12)


def test_overround_of_minus_110_both_ways_is_one_twenty_first():
    # 110/210 + 110/210 - 1 = 20/420 = 1/21
    assert overround(-110, -110) == pytest.approx(1 / 21, abs=1e-15)
    assert overround(-100, -100) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(overround([-110, np.nan], [-110, -110]), [1 / 21, np.nan])


def test_minus_150_plus_130_by_hand():
    # implied: 150/250 = 3/5 and 100/230 = 10/23; booksum = 119/115
    # multiplicative: (3/5) / (119/115) = 69/119
    p_over, p_under = devig(-150, 130, "multiplicative")
    assert p_over == pytest.approx(69 / 119, abs=1e-15)
    assert p_under == pytest.approx(50 / 119, abs=1e-15)
    # additive: 3/5 - (119/115 - 1)/2 = 3/5 - 2/115 = 67/115; Shin equals it with two outcomes
    for method in ("additive", "shin"):
        p_over, p_under = devig(-150, 130, method)
        assert p_over == pytest.approx(67 / 115, abs=1e-14)
        assert p_under == pytest.approx(48 / 115, abs=1e-14)


def test_power_with_a_pythagorean_book_has_k_equal_two():
    # -400 and -150 imply 0.8 and 0.6; 0.8^2 + 0.6^2 = 1, so k = 2 and p = (0.64, 0.36)
    p_over, p_under = devig(-400, -150, "power")
    assert p_over == pytest.approx(0.64, abs=1e-13)
    assert p_under == pytest.approx(0.36, abs=1e-13)
    assert power_exponent([0.8, 0.6]) == pytest.approx(2.0, abs=1e-13)


def test_a_book_without_margin_is_left_alone():
    # -100/-100 and -200/+200 sum to exactly 1: k = 1, z = 0, every method returns r
    for method in METHODS:
        p_over, p_under = devig(-200, 200, method)
        assert p_over == pytest.approx(2 / 3, abs=1e-13)
        assert p_under == pytest.approx(1 / 3, abs=1e-13)
    assert power_exponent([2 / 3, 1 / 3]) == pytest.approx(1.0, abs=1e-13)
    assert shin_z([2 / 3, 1 / 3]) == pytest.approx(0.0, abs=1e-13)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("over", "under"), [(-1000, 650), (650, -1000), (-100000, 50000)])
def test_extreme_prices_are_solved(method, over, under):
    p_over, p_under = devig(over, under, method)
    assert 0.0 < p_over < 1.0
    assert 0.0 < p_under < 1.0
    assert p_over + p_under == pytest.approx(1.0, abs=1e-12)
    mult_over, mult_under = devig(over, under, "multiplicative")
    longshot, mult_longshot = (p_under, mult_under) if over < 0 else (p_over, mult_over)
    assert longshot <= mult_longshot + 1e-15


def test_power_root_is_exact_at_extreme_prices():
    r = np.array([implied_probability(-1000), implied_probability(650)])
    k = power_exponent(r)
    assert k > 1.0
    assert float(np.sum(r**k)) == pytest.approx(1.0, abs=1e-14)


def test_multiplicative_is_the_existing_no_vig_helper():
    over = np.array([-110, -150, 130, -1000, 650, np.nan])
    under = np.array([-110, 130, -150, 650, -1000, -110])
    for mine, theirs in zip(
        devig(over, under, "multiplicative"), no_vig_probabilities(over, under), strict=True
    ):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-15)


# --- missing prices, bad input ------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_missing_prices_give_nan_not_errors(method):
    over = [np.nan, -110, -150, np.nan]
    under = [-110, np.nan, 130, np.nan]
    p_over, p_under = devig(over, under, method)
    assert np.isnan(p_over[[0, 1, 3]]).all()
    assert np.isnan(p_under[[0, 1, 3]]).all()
    assert np.isfinite(p_over[2])
    assert np.isnan(devig(np.nan, -110, method)[0])


@pytest.mark.parametrize("method", METHODS)
def test_vectorised_equals_one_at_a_time_and_keeps_shape(method):
    over = np.array([[-110, -150, 130], [-1000, 650, -105]])
    under = np.array([[-110, 130, -160], [650, -1000, -115]])
    p_over, p_under = devig(over, under, method)
    assert p_over.shape == (2, 3)
    for i, j in np.ndindex(2, 3):
        one_over, one_under = devig(float(over[i, j]), float(under[i, j]), method)
        assert isinstance(one_over, float)
        assert p_over[i, j] == pytest.approx(one_over, abs=1e-15)
        assert p_under[i, j] == pytest.approx(one_under, abs=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_impossible_prices_raise(method):
    with pytest.raises(ValueError, match="American prices"):
        devig(-99, -110, method)
    with pytest.raises(ValueError, match="American prices"):
        devig([-110, 50], [-110, -110], method)
    with pytest.raises(ValueError, match="American prices"):
        overround(0, -110)


def test_unknown_method_raises():
    with pytest.raises(ValueError, match="unknown de-vig method"):
        devig(-110, -110, "wpo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown de-vig method"):
        consensus_devig([-110], [-110], "basic")  # type: ignore[arg-type]


def test_devig_implied_rejects_non_probabilities_and_single_outcomes():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        devig_implied([0.5, 1.2])
    with pytest.raises(ValueError, match="two outcomes"):
        devig_implied([0.5])


def test_additive_three_way_can_go_negative_and_then_says_nan():
    # [CKI] the additive model can give negative probabilities: a 1/50 longshot in a book
    # with a 10% margin would get 0.02 - 0.10/3 < 0
    r = np.array([0.80, 0.28, 0.02])
    assert np.isnan(devig_implied(r, "additive")).all()
    assert np.isfinite(devig_implied(r, "power")).all()
    assert np.isfinite(devig_implied(r, "shin")).all()


# --- properties ---------------------------------------------------------------------------

american = st.one_of(
    st.floats(min_value=-20000, max_value=-100, allow_nan=False),
    st.floats(min_value=100, max_value=20000, allow_nan=False),
)
method_st = st.sampled_from(METHODS)


@settings(max_examples=300, deadline=None)
@given(over=american, under=american, method=method_st)
def test_probabilities_are_proper(over, under, method):
    # Any pair of prices, even one with a negative margin (e.g. +150/+150).
    p_over, p_under = devig(over, under, method)
    assert 0.0 < p_over < 1.0
    assert 0.0 < p_under < 1.0
    assert abs(p_over + p_under - 1.0) < 1e-9


@settings(max_examples=300, deadline=None)
@given(a=american, b=american, under=american, method=method_st)
def test_a_shorter_over_price_means_a_likelier_over(a, b, under, method):
    ra, rb = implied_probability(a), implied_probability(b)
    assume(abs(ra - rb) > 1e-6)
    short, long_ = (a, b) if ra > rb else (b, a)
    assert devig(short, under, method)[0] > devig(long_, under, method)[0]


@settings(max_examples=300, deadline=None)
@given(over=american, under=american)
def test_power_and_shin_take_more_off_the_longshot_than_multiplicative(over, under):
    # The favourite-longshot correction: with a positive margin, the side with the lower
    # implied probability keeps less of it under power and Shin than under multiplicative.
    assume(overround(over, under) > 1e-9)
    r_over, r_under = implied_probability(over), implied_probability(under)
    assume(abs(r_over - r_under) > 1e-9)
    side = 0 if r_over < r_under else 1
    mult = devig(over, under, "multiplicative")[side]
    assert devig(over, under, "power")[side] < mult
    assert devig(over, under, "shin")[side] < mult


@settings(max_examples=300, deadline=None)
@given(over=american, under=american)
def test_shin_equals_additive_with_two_outcomes(over, under):
    # [CKI]: "the Shin and additive methods are equivalent for races with two competitors"
    shin_over, _ = devig(over, under, "shin")
    additive_over, _ = devig(over, under, "additive")
    assert shin_over == pytest.approx(additive_over, abs=1e-12)


# --- consensus ----------------------------------------------------------------------------


def test_consensus_is_the_mean_of_each_books_devigged_p_over():
    over = np.array([[-110, -120, -105], [130, np.nan, 120]])
    under = np.array([[-110, 100, -115], [-150, -140, -140]])
    per_book = np.asarray(devig(over, under, "power")[0])
    got = consensus_devig(over, under, "power")
    assert got.shape == (2,)
    assert got[0] == pytest.approx(per_book[0].mean(), abs=1e-15)
    assert got[1] == pytest.approx(np.mean(per_book[1, [0, 2]]), abs=1e-15)  # book 2: no over
    median = consensus_devig(over, under, "power", statistic="median")
    assert median[0] == pytest.approx(np.median(per_book[0]), abs=1e-15)


def test_consensus_of_one_prop_is_a_float_and_no_quotes_is_nan_without_warnings():
    assert consensus_devig([-110, -110], [-110, -110]) == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for statistic in ("mean", "median"):
            got = consensus_devig([np.nan, -110], [-110, np.nan], statistic=statistic)
            assert isinstance(got, float)
            assert np.isnan(got)


def test_consensus_in_long_layout_is_a_groupby_transform():
    # one row per (prop, book) quote, as a frame holds them; labels need not be sorted
    group = np.array(["b", "a", "b", "a", "c"])
    over = np.array([-120, -110, -130, 105, np.nan])
    under = np.array([100, -110, 110, -125, -110])
    got = consensus_devig(over, under, "shin", group=group)
    p = np.asarray(devig(over, under, "shin")[0])
    a, b = np.mean(p[[1, 3]]), np.mean(p[[0, 2]])
    np.testing.assert_allclose(got, [b, a, b, a, np.nan], atol=1e-15)
    wide = consensus_devig(
        np.array([[-110, 105], [-120, -130]]), np.array([[-110, -125], [100, 110]]), "shin"
    )
    np.testing.assert_allclose(wide, [a, b], atol=1e-15)


def test_consensus_rejects_bad_arguments():
    with pytest.raises(ValueError, match="one group label per quote"):
        consensus_devig([-110, -110], [-110, -110], group=[1])
    with pytest.raises(ValueError, match="unknown statistic"):
        consensus_devig([-110], [-110], statistic="mode")  # type: ignore[arg-type]
