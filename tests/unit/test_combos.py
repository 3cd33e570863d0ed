"""Combos by joint simulation: inverse CDFs, copula fits, point in time, the simulated sum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr, ndtri
from scipy.stats import poisson

from nbaprops.experiments.combos import (
    KEY,
    LEVELS,
    Marginal,
    continuous_ppf,
    copula_correlation,
    discrete_ppf,
    fit_copula,
    joint_probabilities,
    normal_scores,
    paired_brier,
    player_type,
    randomized_pit,
    rebound_assist_share,
    simulate_sum,
    type_edges,
)
from nbaprops.systems.base import PredictiveDistribution


def _normal_quantiles(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return mean[:, None] + sd[:, None] * ndtri(LEVELS)[None, :]


def _poisson_pmf(mean: np.ndarray, top: int = 40) -> np.ndarray:
    pmf = poisson.pmf(np.arange(top + 1)[None, :], mean[:, None])
    pmf[:, -1] += np.clip(1.0 - pmf.sum(axis=1), 0.0, None)
    return np.asarray(pmf / pmf.sum(axis=1, keepdims=True))


def test_the_continuous_inverse_cdf_inverts_the_distribution_s_cdf() -> None:
    rng = np.random.default_rng(1)
    q = np.sort(rng.uniform(0, 30, size=(50, 19)), axis=1)
    q[:5, :3] = q[:5, :1]  # tied outer quantiles
    dist = PredictiveDistribution.from_quantiles(q)
    u = rng.uniform(0.001, 0.999, size=(50, 40))
    x = continuous_ppf(dist.quantiles, u)
    for j in range(u.shape[1]):
        # the generalized inverse: F(x) >= u > F(x-), equal where F is continuous at x
        assert (dist.cdf(x[:, j]) >= u[:, j] - 1e-9).all()
        assert (dist.cdf(x[:, j] - 1e-7) <= u[:, j] + 1e-6).all()
        untied = np.diff(dist.quantiles, axis=1).min(axis=1) > 0
        positive = (x[:, j] > 0) & untied
        np.testing.assert_allclose(dist.cdf(x[:, j])[positive], u[positive, j], atol=1e-9)
    # the tied rows do have an atom: a whole band of uniforms lands on the tied quantile
    tied = continuous_ppf(dist.quantiles[:5], np.full((5, 1), 0.12))[:, 0]
    np.testing.assert_allclose(tied, dist.quantiles[:5, 0])


def test_the_discrete_inverse_cdf_is_the_smallest_count_reaching_the_uniform() -> None:
    rng = np.random.default_rng(2)
    pmf = _poisson_pmf(rng.uniform(0.5, 12, size=30))
    u = rng.uniform(size=(30, 25))
    got = discrete_ppf(pmf, u)
    cum = np.cumsum(pmf, axis=1)
    for i in range(30):
        want = np.searchsorted(cum[i], u[i], side="left")
        np.testing.assert_array_equal(got[i], np.minimum(want, pmf.shape[1] - 1))


def test_a_count_s_randomized_pit_is_uniform_when_the_pmf_is_right() -> None:
    rng = np.random.default_rng(3)
    mean = rng.uniform(1, 10, size=20_000)
    pmf = _poisson_pmf(mean)
    y = rng.poisson(mean)
    pit = randomized_pit(pmf, y, rng.uniform(size=len(y)))
    assert abs(pit.mean() - 0.5) < 0.01
    assert abs(pit.var() - 1 / 12) < 0.003
    # the stored P(X <= y) is not uniform: its mean sits clearly above one half
    assert (np.cumsum(pmf, axis=1)[np.arange(len(y)), y]).mean() > 0.55
    assert np.isnan(randomized_pit(pmf[:1], [np.nan], [0.5])).all()


def test_the_simulated_sum_s_mean_is_the_sum_of_the_component_means() -> None:
    rng = np.random.default_rng(4)
    n = 12
    points = PredictiveDistribution.from_quantiles(
        _normal_quantiles(rng.uniform(8, 30, n), rng.uniform(3, 8, n))
    )
    rebounds = PredictiveDistribution.from_pmf(_poisson_pmf(rng.uniform(2, 10, n)))
    marginals = [Marginal(points.quantiles), Marginal(rebounds.quantiles, rebounds.pmf)]
    corr = np.array([[1.0, 0.4], [0.4, 1.0]])
    sim = simulate_sum(marginals, corr, np.full(n, 25.5), draws=40_000, seed=5)
    summed = points.mean + rebounds.mean
    se = np.sqrt(sim.var / 40_000)
    assert (np.abs(sim.mean - summed) < 4 * se).all()
    # P(over) + P(under) + P(push) = 1 and a half line never pushes
    assert (sim.p_push == 0).all()
    assert ((sim.p_over > 0) & (sim.p_over < 1)).all()


def test_correlation_zero_adds_the_variances_and_a_positive_one_adds_more() -> None:
    n = 6
    means = (np.linspace(2, 9, n), np.linspace(1, 7, n))
    pmfs = [_poisson_pmf(m) for m in means]
    marginals = [PredictiveDistribution.from_pmf(p) for p in pmfs]
    ks = np.arange(pmfs[0].shape[1])
    variances = [p @ ks**2 - (p @ ks) ** 2 for p in pmfs]
    parts = [Marginal(d.quantiles, d.pmf) for d in marginals]
    lines = np.full(n, 9.0)
    draws = 60_000
    zero = simulate_sum(parts, np.eye(2), lines, draws=draws, seed=6)
    # the sample variance's relative standard error is about sqrt(2 / draws) = 0.6%
    np.testing.assert_allclose(zero.var, variances[0] + variances[1], rtol=0.03)
    plus = simulate_sum(parts, np.array([[1.0, 0.6], [0.6, 1.0]]), lines, draws=draws, seed=6)
    extra = plus.var - zero.var
    assert (extra > 0.9 * 0.6 * np.sqrt(variances[0] * variances[1])).all()
    # a whole line on a count sum has a push probability; same draws, same seed: repeatable
    assert (zero.p_push > 0).all()
    again = simulate_sum(parts, np.eye(2), lines, draws=draws, seed=6)
    np.testing.assert_array_equal(again.p_over, zero.p_over)


@pytest.mark.parametrize("rho", [0.0, 0.35, -0.3, 0.7])
def test_the_copula_correlation_is_recovered_from_correlated_pits(rho: float) -> None:
    rng = np.random.default_rng(7)
    z = rng.standard_normal((8_000, 2)) @ np.linalg.cholesky([[1, rho], [rho, 1]]).T
    got = copula_correlation(normal_scores(ndtr(z)))
    assert got[0, 1] == pytest.approx(rho, abs=0.04)
    # through counts: Poisson outcomes drawn at the copula's uniforms, randomized PITs
    mean = np.full(len(z), 7.0)
    pmf = _poisson_pmf(mean)
    counts = discrete_ppf(pmf, ndtr(z))
    pits = np.column_stack(
        [randomized_pit(pmf, counts[:, j], rng.uniform(size=len(z))) for j in range(2)]
    )
    from_counts = copula_correlation(normal_scores(pits))
    assert from_counts[0, 1] == pytest.approx(rho, abs=0.06)


def test_a_proper_correlation_matrix_comes_back_even_from_few_or_odd_rows() -> None:
    assert np.array_equal(copula_correlation(np.ones((2, 3))), np.eye(3))
    z = np.random.default_rng(8).standard_normal((50, 3))
    z[:, 2] = z[:, 0]  # perfectly correlated: repaired to positive definite
    corr = copula_correlation(z)
    np.linalg.cholesky(corr)
    np.testing.assert_allclose(np.diag(corr), 1.0)


def test_player_types_are_tertiles_of_the_rebound_assist_share() -> None:
    share = rebound_assist_share([20, 10, 0, np.nan], [5, 8, 0, 3], [5, 2, 0, 1])
    np.testing.assert_allclose(share[:2], [1 / 3, 0.5])
    assert np.isnan(share[2:]).all()
    edges = type_edges(np.arange(300) / 300)
    np.testing.assert_allclose(edges, [1 / 3, 2 / 3], atol=0.01)
    np.testing.assert_array_equal(player_type([0.1, 0.5, 0.9, np.nan], edges), [0, 1, 2, -1])
    assert (player_type([0.1], type_edges([])) == -1).all()


def _history(rows_per_day: int, days: int, rho_before: float, rho_after: float, cut: int):
    rng = np.random.default_rng(9)
    out = []
    for d in range(days):
        rho = rho_before if d < cut else rho_after
        z = rng.standard_normal((rows_per_day, 2)) @ np.linalg.cholesky([[1, rho], [rho, 1]]).T
        out.append(
            pd.DataFrame(
                {
                    "game_date": pd.Timestamp("2024-03-01") + pd.Timedelta(days=d),
                    "share": rng.uniform(0.1, 0.6, rows_per_day),
                    "z_a": z[:, 0],
                    "z_b": z[:, 1],
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def test_the_copula_for_a_date_reads_only_rows_dated_before_it() -> None:
    history = _history(200, 20, rho_before=0.0, rho_after=0.95, cut=10)
    start = pd.Timestamp("2024-03-11")  # day 10: the first correlated day
    fit = fit_copula(history, start, ["z_a", "z_b"])
    assert fit.n_rows == 10 * 200
    assert abs(fit.pooled[0, 1]) < 0.08
    assert sum(fit.type_rows.values()) == 2000
    assert set(fit.by_type) == {0, 1, 2}
    # later rows would change it: a fit one week on sees them
    later = fit_copula(history, pd.Timestamp("2024-03-18"), ["z_a", "z_b"])
    assert later.pooled[0, 1] > 0.3
    # rows on or after the date changed at will: the same fit
    changed = history.copy()
    after = (changed["game_date"] >= start).to_numpy()
    changed.loc[after, "z_b"] = changed.loc[after, "z_a"]
    changed.loc[after, "share"] = 0.99
    again = fit_copula(changed, start, ["z_a", "z_b"])
    np.testing.assert_array_equal(again.pooled, fit.pooled)
    np.testing.assert_array_equal(again.edges, fit.edges)


def _frames(seed: int = 10) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.Series]:
    """Two components (points: continuous, rebounds: a count) over 4 weekly folds of
    40 players a day, correlated at rho 0.5; a PR-like combo lined in the last 2 folds."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-03-01", periods=28)
    keys = pd.DataFrame([("s", p, d) for d in dates for p in range(40)], columns=KEY).reset_index(
        drop=True
    )
    n = len(keys)
    fold = ((keys["game_date"] - dates[0]).dt.days // 7).to_numpy()
    z = rng.standard_normal((n, 2)) @ np.linalg.cholesky([[1, 0.5], [0.5, 1]]).T
    pts_mean = rng.uniform(8, 28, n)
    reb_mean = rng.uniform(2, 10, n)
    pts = PredictiveDistribution.from_quantiles(_normal_quantiles(pts_mean, pts_mean / 3))
    reb = PredictiveDistribution.from_pmf(_poisson_pmf(reb_mean))
    pts_y = continuous_ppf(pts.quantiles, ndtr(z[:, :1]))[:, 0]
    reb_y = discrete_ppf(reb.pmf, ndtr(z[:, 1:]))[:, 0]
    components = {
        "points": keys.assign(
            played=True,
            actual=pts_y,
            pit=pts.cdf(pts_y),
            mean=pts.mean,
            quantiles=list(pts.quantiles),
            pmf=None,
        ),
        "rebounds": keys.assign(
            played=True,
            actual=reb_y,
            pit=reb.cdf(reb_y),
            mean=reb.mean,
            quantiles=list(reb.quantiles),
            pmf=list(reb.pmf),
        ),
    }
    combo = keys.assign(
        fold=fold,
        warmup=fold < 2,
        line=np.round(pts_mean + reb_mean) + 0.5,
        played=True,
        actual=pts_y + reb_y,
    )
    shares = pd.Series(
        rebound_assist_share(pts.mean, reb.mean, np.zeros(n)),
        index=pd.MultiIndex.from_frame(keys),
    )
    return combo, components, shares


def test_joint_probabilities_are_point_in_time_and_consistent_with_the_components() -> None:
    combo, components, shares = _frames()
    out, fits = joint_probabilities(combo, components, shares, draws=2000, seed=3)
    assert len(out) == 28 * 40
    assert set(out.loc[~out["warmup"], "fold"]) == {2, 3}
    assert [f.start for f in fits] == list(pd.date_range("2024-03-01", periods=4, freq="7D"))
    assert [f.n_rows for f in fits] == [0, 7 * 40, 14 * 40, 21 * 40]
    rho = out["rho_points_rebounds"]
    assert (rho[out["fold"] == 0] == 0).all()  # nothing earlier: independence
    assert rho[out["fold"] > 0].between(0.3, 0.7).all()
    # calibrated like the backtest: the first fold has nothing to learn from (raw), later
    # folds move the probabilities
    first = (out["fold"] == 0).to_numpy()
    np.testing.assert_allclose(out["p_over_sim_cal"][first], out["p_over_sim"][first])
    assert not np.allclose(out["p_over_sim_cal"][~first], out["p_over_sim"][~first])
    assert out["pit_sim"].between(0, 1).all()
    # the simulated sum's mean is the components' summed mean (2,000 draws: MC error)
    assert (
        np.abs(out["sim_mean"] - out["components_mean"]) < 4 * np.sqrt(out["sim_var"] / 2000)
    ).all()
    later = out[out["fold"] > 0]
    assert (later["sim_var"] > later["indep_var"]).mean() > 0.95
    # fold 2 is simulated from rows before 2024-03-15 only: change every later outcome
    # (and its PIT) and fold 2's probabilities stay exactly the same; fold 3's move
    changed = {k: v.copy() for k, v in components.items()}
    later = (changed["rebounds"]["game_date"] >= "2024-03-15").to_numpy()
    changed["rebounds"].loc[later, "actual"] = 0.0
    changed["points"].loc[later, "pit"] = 0.999
    again, _ = joint_probabilities(combo, changed, shares, draws=2000, seed=3)
    two = (out["fold"] <= 2).to_numpy()
    for col in ("p_over_sim", "p_over_sim_cal", "rho_points_rebounds"):
        np.testing.assert_array_equal(again[col][two], out[col][two])
    three = (out["fold"] == 3).to_numpy()
    assert not np.array_equal(again["p_over_sim"][three], out["p_over_sim"][three])
    # correlation 0 uses the same draws: its P(over) differs, its mean does not move
    assert not np.allclose(out["p_over_indep"], out["p_over_sim"])


def test_the_paired_brier_difference_and_its_date_interval() -> None:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 600).astype(float)
    days = np.repeat(np.arange(30), 20)
    good = np.clip(y * 0.3 + 0.35 + rng.normal(0, 0.05, 600), 0, 1)
    flat = np.full(600, 0.5)
    pb = paired_brier(good, flat, y, days)
    want = np.mean((good - y) ** 2) - np.mean((flat - y) ** 2)
    assert pb.diff == pytest.approx(want)
    assert pb.low < pb.diff < pb.high < 0  # clearly better than a coin
    same = paired_brier(flat, flat, y, days)
    assert same.diff == same.low == same.high == 0.0
    assert pb.n == 600
    assert pb.n_dates == 30


def test_each_system_gets_its_own_copula_and_calibration() -> None:
    combo, components, shares = _frames()
    # system t: the same rows with rebounds outcomes shuffled within each date
    # (the correlation gone, each marginal intact)
    other = {k: v.assign(system="t") for k, v in components.items()}
    reb = other["rebounds"]
    rng = np.random.default_rng(12)
    order = reb.groupby("game_date").indices
    for rows in order.values():
        shuffled = rng.permutation(rows)
        reb.iloc[rows, reb.columns.get_loc("actual")] = reb["actual"].to_numpy()[shuffled]
        reb.iloc[rows, reb.columns.get_loc("pmf")] = pd.Series(
            reb["pmf"].to_numpy()[shuffled], dtype=object
        ).to_numpy()
        reb.iloc[rows, reb.columns.get_loc("quantiles")] = pd.Series(
            reb["quantiles"].to_numpy()[shuffled], dtype=object
        ).to_numpy()
    both = {k: pd.concat([components[k], other[k]], ignore_index=True) for k in components}
    combo_t = combo.assign(system="t")
    shares_t = shares.copy()
    shares_t.index = shares_t.index.set_levels(["t"], level="system")
    out, fits = joint_probabilities(
        pd.concat([combo, combo_t], ignore_index=True),
        both,
        pd.concat([shares, shares_t]),
        draws=500,
        seed=3,
    )
    assert len(fits) == 8  # 4 folds per system
    late = out[out["fold"] == 3]
    s_rho = late.loc[late["system"] == "s", "rho_points_rebounds"]
    t_rho = late.loc[late["system"] == "t", "rho_points_rebounds"]
    assert s_rho.between(0.3, 0.7).all()
    assert t_rho.abs().lt(0.15).all()
    # system s alone gives exactly what it gets beside t
    alone, _ = joint_probabilities(combo, components, shares, draws=500, seed=3)
    mine = out[out["system"] == "s"].reset_index(drop=True)
    np.testing.assert_array_equal(mine["p_over_sim_cal"], alone["p_over_sim_cal"])
