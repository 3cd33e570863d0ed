"""Discrete predictive distributions for count markets (issue 26 §2).

A pmf-backed ``PredictiveDistribution`` must price half and whole lines exactly as the
negative binomial it holds (checked against scipy), and ``CountShape`` must recover the
dispersion (and zero share) it was simulated with.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import nbinom, poisson

from nbaprops.models.calibration import PitCalibrator, prob_over_under_push
from nbaprops.systems.base import QUANTILES, PredictiveDistribution
from nbaprops.systems.fitting import MIN_ALPHA, CountShape

ALPHA = 0.3
MEANS = np.array([0.05, 0.4, 1.3, 4.2, 9.7, 16.0])
TOP = 40


def nb_args(mu: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """scipy's (n, p) for mean mu and variance mu + alpha mu^2."""
    r = 1.0 / alpha
    return r, r / (r + mu)


@pytest.fixture
def dist() -> PredictiveDistribution:
    return CountShape(ALPHA, 0.0, TOP, zero_inflated=False).dist(MEANS)


def test_the_pmf_is_scipys_negative_binomial_with_the_tail_on_the_top_count() -> None:
    shape = CountShape(ALPHA, 0.0, TOP, zero_inflated=False)
    pmf = shape.pmf(MEANS)
    r, p = nb_args(MEANS, ALPHA)
    k = np.arange(TOP)
    np.testing.assert_allclose(pmf[:, :TOP], nbinom.pmf(k[None, :], r, p[:, None]), atol=1e-14)
    np.testing.assert_allclose(pmf[:, TOP], nbinom.sf(TOP - 1, r, p), atol=1e-12)
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-12)


def test_cdf_at_whole_and_half_lines_prob_over_and_push_are_exact(
    dist: PredictiveDistribution,
) -> None:
    r, p = nb_args(MEANS, ALPHA)
    assert dist.is_discrete
    for k in range(12):
        truth = nbinom.cdf(k, r, p)
        np.testing.assert_allclose(dist.cdf(float(k)), truth, atol=1e-12)
        np.testing.assert_allclose(dist.cdf(k + 0.5), truth, atol=1e-12)
        np.testing.assert_allclose(dist.cdf(k + 0.999), truth, atol=1e-12)
        np.testing.assert_allclose(dist.prob_over(k + 0.5), nbinom.sf(k, r, p), atol=1e-12)
        np.testing.assert_allclose(dist.prob_push(float(k)), nbinom.pmf(k, r, p), atol=1e-14)
        assert (dist.prob_push(k + 0.5) == 0.0).all()
        under = dist.cdf(k - 0.5)  # the scoring path's P(under) on a whole line
        total = under + dist.prob_push(float(k)) + dist.prob_over(float(k))
        np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert (dist.cdf(-0.5) == 0.0).all()
    assert (dist.cdf(float(TOP)) == 1.0).all()
    assert (dist.cdf(1e6) == 1.0).all()
    assert np.isnan(dist.cdf(np.array([np.nan, 1, 2, 3, 4, 5.0]))[0])
    pushes = dist.prob_push(np.array([np.nan, 2.0, 2.5, -1.0, 3.0, 1e9]))
    assert np.isnan(pushes[0])
    assert pushes[2] == 0.0
    assert pushes[3] == 0.0
    assert pushes[5] == dist.pmf[5, TOP]  # type: ignore[index]


def test_the_scoring_path_gives_exact_over_under_push_on_the_step_cdf(
    dist: PredictiveDistribution,
) -> None:
    r, p = nb_args(MEANS, ALPHA)
    lines = np.array([0.5, 1.0, 1.5, 4.0, 9.5, 16.0])
    over, under, push = prob_over_under_push(dist.cdf, lines, PitCalibrator.fit(np.array([])))
    whole = lines == np.round(lines)
    np.testing.assert_allclose(over, nbinom.sf(np.floor(lines), r, p), atol=1e-12)
    np.testing.assert_allclose(push, np.where(whole, nbinom.pmf(lines, r, p), 0.0), atol=1e-12)
    np.testing.assert_allclose(over + under + push, 1.0, atol=1e-12)


def test_quantiles_median_and_mean_are_the_discrete_ones(dist: PredictiveDistribution) -> None:
    r, p = nb_args(MEANS, ALPHA)
    levels = np.asarray(QUANTILES)
    np.testing.assert_array_equal(dist.quantiles, nbinom.ppf(levels[None, :], r, p[:, None]))
    np.testing.assert_array_equal(dist.median, nbinom.median(r, p))
    np.testing.assert_array_equal(dist.mean, MEANS)  # the model's mean, as passed
    assert dist.pmf is not None
    own = PredictiveDistribution.from_pmf(dist.pmf)  # mean from the pmf itself
    np.testing.assert_allclose(own.mean, dist.pmf @ np.arange(TOP + 1), rtol=1e-15)
    # E[min(X, 40)]: the tail beyond 40 sits on 40 (the model's mean is larger)
    truncated = nbinom.sf(np.arange(TOP)[:, None], r, p).sum(axis=0)
    np.testing.assert_allclose(own.mean, truncated, atol=1e-9)
    assert (own.mean <= MEANS + 1e-12).all()


def test_a_level_reached_exactly_is_that_count() -> None:
    # P(X <= 0) = 0.5 exactly: the median is 0, not 1 (float error is forgiven too)
    dist = PredictiveDistribution.from_pmf(np.array([[0.5, 0.25, 0.25], [0.3, 0.2, 0.5]]))
    np.testing.assert_array_equal(dist.median, [0.0, 1.0])
    np.testing.assert_array_equal(dist.quantiles[0], [0] * 10 + [1] * 5 + [2] * 4)
    np.testing.assert_array_equal(dist.mean, [0.75, 1.2])


def test_take_keeps_the_pmf_and_the_arrays_are_frozen(dist: PredictiveDistribution) -> None:
    part = dist.take(np.array([4, 1]))
    assert part.is_discrete
    assert len(part) == 2
    assert part.pmf is not None
    assert dist.pmf is not None
    np.testing.assert_array_equal(part.pmf, dist.pmf[[4, 1]])
    np.testing.assert_array_equal(part.cdf(3.5), dist.cdf(3.5)[[4, 1]])
    np.testing.assert_array_equal(part.quantiles, dist.quantiles[[4, 1]])
    masked = dist.take(MEANS > 1.0)
    np.testing.assert_array_equal(masked.prob_push(4.0), dist.prob_push(4.0)[MEANS > 1.0])
    for arr in (part.pmf, part.quantiles, part.mean, dist.pmf, dist.median):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0


def test_a_pmf_is_validated_and_renormalised() -> None:
    pmf = np.array([[0.2, 0.3, 0.5 + 5e-7]])
    dist = PredictiveDistribution.from_pmf(pmf)
    assert dist.pmf is not None
    assert dist.pmf.sum() == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(ValueError, match="sum to 1"):
        PredictiveDistribution.from_pmf(np.array([[0.2, 0.3, 0.6]]))
    with pytest.raises(ValueError, match="non-negative"):
        PredictiveDistribution.from_pmf(np.array([[-0.1, 0.6, 0.5]]))
    with pytest.raises(ValueError, match="finite"):
        PredictiveDistribution.from_pmf(np.array([[np.nan, 0.5, 0.5]]))
    good = PredictiveDistribution.from_pmf(np.array([[0.2, 0.3, 0.5]]))
    with pytest.raises(ValueError, match="discrete quantiles"):  # direct construction checks
        PredictiveDistribution(
            mean=good.mean, median=good.median, quantiles=good.quantiles * 0 + 1, pmf=good.pmf
        )
    rebuilt = PredictiveDistribution(
        mean=good.mean, median=good.median, quantiles=good.quantiles, pmf=good.pmf
    )
    np.testing.assert_array_equal(rebuilt.cdf(1.5), good.cdf(1.5))


def test_the_continuous_distribution_has_no_pmf_and_no_push() -> None:
    q = np.array([np.linspace(2.0, 20.0, 19), np.linspace(0.0, 9.0, 19)])
    dist = PredictiveDistribution.from_quantiles(q)
    assert not dist.is_discrete
    assert dist.pmf is None
    pushes = dist.prob_push(np.array([np.nan, 5.0]))
    assert np.isnan(pushes[0])
    assert pushes[1] == 0.0
    same = PredictiveDistribution(mean=dist.mean, median=dist.median, quantiles=dist.quantiles)
    xs = np.array([3.0, 7.25])
    np.testing.assert_array_equal(same.cdf(xs), dist.cdf(xs))
    assert dist.take(np.array([1])).pmf is None
    # the continuous cdf interpolates between quantiles: not a step
    assert dist.cdf(5.0)[0] != dist.cdf(5.5)[0]


def test_a_zero_inflated_shape_keeps_the_mean_and_adds_zeros() -> None:
    pi = 0.2
    shape = CountShape(ALPHA, pi, TOP, zero_inflated=True)
    pmf = shape.pmf(MEANS)
    r, p = nb_args(MEANS / (1 - pi), ALPHA)
    np.testing.assert_allclose(pmf[:, 0], pi + (1 - pi) * nbinom.pmf(0, r, p), atol=1e-14)
    np.testing.assert_allclose(pmf[:, 3], (1 - pi) * nbinom.pmf(3, r, p), atol=1e-14)
    wide = CountShape(ALPHA, pi, 400, zero_inflated=True)  # next to no mass beyond 400
    np.testing.assert_allclose(wide.pmf(MEANS) @ np.arange(401), MEANS, atol=1e-9)
    np.testing.assert_allclose(
        shape.log_pmf(MEANS, [0, 1, 0, 3, 12, 20]), np.log(pmf[np.arange(6), [0, 1, 0, 3, 12, 20]])
    )


def test_a_dispersion_varying_with_the_mean_is_scipys_per_row() -> None:
    shape = CountShape(0.2, 0.0, TOP, zero_inflated=False, slope=-0.8, ref_mean=3.0)
    alphas = shape.alphas(MEANS)
    np.testing.assert_allclose(alphas, 0.2 * (MEANS / 3.0) ** -0.8)
    r, p = 1.0 / alphas, 1.0 / alphas / (1.0 / alphas + MEANS)
    k = np.arange(TOP)
    np.testing.assert_allclose(
        shape.pmf(MEANS)[:, :TOP], nbinom.pmf(k[None, :], r[:, None], p[:, None]), atol=1e-14
    )
    ys = np.array([0, 2, 1, 7, 3, 30])
    np.testing.assert_allclose(shape.log_pmf(MEANS, ys), nbinom.logpmf(ys, r, p), atol=1e-9)


def simulated(seed: int, n: int, alpha: float, pi: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = rng.gamma(2.0, 2.0, n) + 0.1
    r = 1.0 / alpha
    m = mu / (1.0 - pi)
    y = rng.negative_binomial(r, r / (r + m))
    return mu, np.where(rng.random(n) < pi, 0, y)


def test_the_fit_recovers_the_dispersion() -> None:
    mu, y = simulated(1, 30_000, 0.25)
    one = CountShape.fit(mu, y, zero_inflated=False, max_count=TOP, vary_alpha=False)
    assert one.alpha == pytest.approx(0.25, abs=0.02)
    assert one.slope == 0.0
    assert one.pi == 0.0
    assert one.n == 30_000
    varying = CountShape.fit(mu, y, zero_inflated=False, max_count=TOP)
    assert varying.alpha == pytest.approx(0.25, abs=0.02)
    assert abs(varying.slope) < 0.1
    truth = float(np.sum(nbinom.logpmf(y, *nb_args(mu, 0.25))))
    assert one.log_likelihood == pytest.approx(truth, abs=30.0)
    assert one.log_likelihood >= truth  # the MLE is at least as likely as the truth
    assert one.to_dict()["family"] == "nb"
    assert one.to_dict()["n"] == 30_000


def test_the_fit_recovers_a_dispersion_that_falls_with_the_mean() -> None:
    rng = np.random.default_rng(3)
    mu = rng.gamma(2.0, 2.0, 30_000) + 0.1
    alphas = 0.3 * (mu / 4.0) ** -0.7
    r = 1.0 / alphas
    y = rng.negative_binomial(r, r / (r + mu))
    shape = CountShape.fit(mu, y, zero_inflated=False, max_count=TOP)
    assert shape.slope == pytest.approx(-0.7, abs=0.1)
    fitted = shape.alphas(np.array([1.0, 4.0, 10.0]))
    np.testing.assert_allclose(fitted, 0.3 * (np.array([1.0, 4.0, 10.0]) / 4.0) ** -0.7, rtol=0.15)
    one = CountShape.fit(mu, y, zero_inflated=False, max_count=TOP, vary_alpha=False)
    assert shape.log_likelihood > one.log_likelihood + 50


def test_the_fit_recovers_the_zero_share() -> None:
    mu, y = simulated(2, 30_000, 0.25, pi=0.15)
    shape = CountShape.fit(mu, y, zero_inflated=True, max_count=TOP, vary_alpha=False)
    assert shape.pi == pytest.approx(0.15, abs=0.02)
    assert shape.alpha == pytest.approx(0.25, abs=0.04)
    plain = CountShape.fit(mu, y, zero_inflated=False, max_count=TOP, vary_alpha=False)
    assert shape.log_likelihood > plain.log_likelihood + 100
    assert shape.to_dict()["family"] == "zinb"
    # no zero inflation in the data: the share stays near 0
    mu, y = simulated(4, 30_000, 0.25)
    assert CountShape.fit(mu, y, zero_inflated=True, max_count=TOP).pi < 0.02


def test_poisson_data_gives_a_dispersion_at_the_floor() -> None:
    rng = np.random.default_rng(5)
    mu = rng.gamma(2.0, 2.0, 30_000) + 0.1
    y = rng.poisson(mu)
    shape = CountShape.fit(mu, y, zero_inflated=False, max_count=TOP, vary_alpha=False)
    assert MIN_ALPHA <= shape.alpha < 0.01
    # and its distribution is the Poisson's
    pmf = shape.pmf(MEANS)
    np.testing.assert_allclose(
        pmf[:, :20], poisson.pmf(np.arange(20)[None, :], MEANS[:, None]), atol=0.003
    )


def test_no_rows_is_a_poisson_and_bad_outcomes_are_refused() -> None:
    shape = CountShape.fit(np.array([]), np.array([]), zero_inflated=True, max_count=10)
    assert shape.alpha == MIN_ALPHA
    assert shape.pi == 0.0
    with pytest.raises(ValueError, match="whole numbers"):
        CountShape.fit(np.array([1.0, 2.0]), np.array([1.5, 2.0]), zero_inflated=False, max_count=9)
    with pytest.raises(ValueError, match="whole numbers"):
        CountShape.fit(np.array([1.0]), np.array([-1.0]), zero_inflated=False, max_count=9)
    with pytest.raises(ValueError, match="zero share"):
        CountShape(0.1, 0.2, 10, zero_inflated=False)


def test_means_are_floored_and_the_distribution_is_fast_at_scale() -> None:
    import time

    shape = CountShape(0.15, 0.0, TOP, zero_inflated=False, slope=-1.0, ref_mean=4.0)
    low = shape.dist(np.array([-3.0, 0.0]))
    np.testing.assert_array_equal(low.mean, [0.05, 0.05])
    assert (low.prob_over(0.5) > 0).all()
    mu = np.random.default_rng(6).uniform(0.0, 14.0, 100_000)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        big = shape.dist(mu)
        best = min(best, time.perf_counter() - start)
    assert len(big) == 100_000
    assert big.pmf is not None
    assert big.pmf.shape == (100_000, TOP + 1)
    assert best < 1.0, best  # ~0.15 s on a quiet machine; generous for a shared CI box
