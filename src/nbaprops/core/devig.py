"""De-vigging: the probabilities a book's prices imply once its margin is removed.

A book quoting -110/-110 implies 52.4% + 52.4% = 104.8%; the 4.8% over one is its margin
(the overround). Removing it needs a model of how the book spread the margin over the
outcomes, and the models differ in how much they take from the longshot:

* ``multiplicative`` (a.k.a. basic, normalisation): p_i = r_i / sum(r). Spreads the margin
  in proportion to each side, so it keeps the favourite-longshot bias. Same numbers as
  ``nbaprops.core.odds.no_vig_probabilities``.
* ``additive``: p_i = r_i - (sum(r) - 1) / n. Every side gives up the same amount, so the
  longshot gives up more, relative to its size, than under ``multiplicative``.
* ``power``: p_i = r_i ** k with k solved from sum(r_i ** k) = 1 (Vovk & Zhdanov 2009;
  Clarke 2016; Buchdahl's "logarithmic" method). k > 1 when there is a margin, so small
  r shrink most; it never leaves (0, 1), however extreme the prices.
* ``shin``: Shin (1992, 1993): a share z of the money is from insiders; p solves Shin's
  equations, fitted as in Jullien & Salanié (1994). With two outcomes z has a closed form
  (Štrumbelj 2014) and the probabilities equal the additive ones exactly (Clarke,
  Kovalchik & Ingram 2017), so for an over/under the two are one method under two names.

Here r_i = 1 / decimal odds are the implied probabilities, vig included.

Library or our own code (decided when this module was written)
--------------------------------------------------------------
* ``penaltyblog`` (MIT, 1.13, maintained) has every method we want in
  ``penaltyblog.implied``, but the package is a football-analytics suite: it requires
  plotly, kaleido, matplotlib, statsbombpy, ipywidgets, cython, lxml, pulp,
  wrapper-tls-requests and more. Too heavy for the bottom layer, and it solves one market
  at a time (a scalar root-finder per call), not arrays of props.
* ``shin`` (MIT, 0.2.2 of Oct 2025, no dependencies, compiled cp311 wheels) is small and
  well kept but covers Shin's method only, one market per call, and for two outcomes it
  is the two-line closed form below.
* The R package ``implied`` (Lindstrøm, GPL-3) is the reference implementation of the
  whole family, but R.

So the maths is ours, a few short numpy functions vectorised over any number of props, and
the tests check it against the libraries' *published* worked examples: the ``implied``
README (multiplicative, Shin with its z, power with its exponents, three-way markets) and
the ``shin`` README (three-way and two-way, with z). Three-way markets are supported by
``devig_implied`` so that those examples test the same power solver the over/under path
runs (Shin's two-outcome closed form has its own two-way example).

Solvers: ``power`` uses Newton's method on k, started left of the root (k = 1 when there is
a margin, else 0). sum(r ** k) - 1 is convex and decreasing in k, so the iterates rise
monotonically to the root and never overshoot; a few steps reach machine precision even at
-10000/+2000. ``shin`` uses the closed form for two outcomes and vectorised bisection on z
otherwise. A book with a negative margin (possible when prices are mis-keyed or boosted)
still gets an answer from every method: k < 1, z < 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from nbaprops.core.odds import as_output, implied_probability

FloatArray = npt.NDArray[np.float64]

Method = Literal["multiplicative", "additive", "power", "shin"]
METHODS: tuple[str, ...] = get_args(Method)
Statistic = Literal["mean", "median"]
STATISTICS: tuple[str, ...] = get_args(Statistic)

__all__ = [
    "METHODS",
    "STATISTICS",
    "consensus_devig",
    "devig",
    "devig_implied",
    "market_p_over",
    "overround",
    "power_exponent",
    "shin_z",
]

_NEWTON_MAX_STEPS = 100
_BISECTION_STEPS = 200


def overround(over_price: npt.ArrayLike, under_price: npt.ArrayLike) -> float | FloatArray:
    """The book's margin: implied P(over) + implied P(under) − 1 (0.0476 at -110/-110).

    NaN where either side is missing; ValueError for a price between -100 and +100.
    """
    po = np.asarray(implied_probability(over_price), dtype=float)
    pu = np.asarray(implied_probability(under_price), dtype=float)
    return as_output(po + pu - 1.0)


def devig(
    over_price: npt.ArrayLike, under_price: npt.ArrayLike, method: Method = "multiplicative"
) -> tuple[float | FloatArray, float | FloatArray]:
    """(P(over), P(under)) one book's American prices imply once its margin is removed.

    Vectorised: prices broadcast against each other; floats in, floats out. A missing price
    (NaN) on either side gives NaN for both, never an error. Raises ValueError for a price
    strictly between -100 and +100 or an unknown ``method`` (see ``METHODS``). The two
    probabilities sum to 1 up to rounding.
    """
    _check_method(method)
    po = np.asarray(implied_probability(over_price), dtype=float)
    pu = np.asarray(implied_probability(under_price), dtype=float)
    po, pu = np.broadcast_arrays(po, pu)
    fair = devig_implied(np.stack([po, pu], axis=-1), method)
    return as_output(fair[..., 0]), as_output(fair[..., 1])


def devig_implied(implied: npt.ArrayLike, method: Method = "multiplicative") -> FloatArray:
    """Fair probabilities from implied ones (1 / decimal odds), one market per row.

    The last axis holds the outcomes of one market (two for an over/under, three for a
    1X2); rows with any NaN come back all NaN. With three or more outcomes the additive
    method can push a longshot below zero; such rows are NaN too (no valid answer).
    """
    _check_method(method)
    return _by_row(implied, _SOLVERS[method], keep_last_axis=True)


def power_exponent(implied: npt.ArrayLike) -> float | FloatArray:
    """The power method's k, with fair p_i = r_i ** k (1.0 for a book with no margin)."""
    return as_output(_by_row(implied, _power_exponent, keep_last_axis=False))


def shin_z(implied: npt.ArrayLike) -> float | FloatArray:
    """Shin's z, the share of the money the book prices as coming from insiders."""
    return as_output(_by_row(implied, _shin_z, keep_last_axis=False))


def consensus_devig(
    over_price: npt.ArrayLike,
    under_price: npt.ArrayLike,
    method: Method = "multiplicative",
    *,
    group: npt.ArrayLike | None = None,
    statistic: Statistic = "mean",
) -> float | FloatArray:
    """The market's P(over) for a prop: the mean of each book's de-vigged P(over).

    Two layouts, matching how the quotes are held:

    * wide (``group`` is None): books on the last axis, e.g. shape (props, books) with NaN
      where a book has no quote; returns one probability per prop (a float for 1-D input);
    * long (``group`` given): one row per book quote, ``group`` a 1-D label per row saying
      which prop it belongs to (ints or strings; for composite keys pass
      ``frame.groupby(keys).ngroup()``); returns the consensus on every row, like a
      groupby-transform, so it can be assigned straight back to the frame.

    Every book quoted at the same line is assumed (P(over 24.5) and P(over 25.5) do not
    average); choosing the line, and only quotes seen by the decision time, is the caller's
    job. A book missing either side is skipped; a prop with no complete quote is NaN.

    Why the mean (the default) rather than the median: with the 2-8 books a points prop
    usually has, every book's price carries information and the mean uses all of it and
    moves smoothly when one book moves; the median of two books is their mean anyway, and
    of a few books it jumps from one book to another. A stale outlier is better removed
    upstream (by the decision-time rule) than voted down here. ``statistic="median"`` is
    there for comparing the two.
    """
    _check_method(method)
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of {STATISTICS}")
    p_over = np.asarray(devig(over_price, under_price, method)[0], dtype=float)
    if group is None:
        return as_output(_reduce(np.atleast_1d(p_over), statistic))
    labels = np.asarray(group)
    if p_over.ndim != 1 or labels.shape != p_over.shape:
        raise ValueError(
            f"long layout needs 1-D prices and one group label per quote, got prices of "
            f"shape {p_over.shape} and labels of shape {labels.shape}"
        )
    if p_over.size == 0:
        return p_over
    _, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(order.size) - starts[inverse[order]]
    wide = np.full((counts.size, int(counts.max())), np.nan)
    wide[inverse[order], position] = p_over[order]
    return np.asarray(_reduce(wide, statistic)[inverse], dtype=float)


def market_p_over(
    over_price: npt.ArrayLike, under_price: npt.ArrayLike, method: Method = "multiplicative"
) -> FloatArray:
    """The market's P(over) per row: the de-vigged consensus prices, 0.5 where a side is
    unpriced (a DFS pick'em line is set to be a coin flip and carries no price)."""
    over = np.atleast_1d(np.asarray(over_price, dtype=float))
    under = np.atleast_1d(np.asarray(under_price, dtype=float))
    over, under = np.broadcast_arrays(over, under)
    out = np.full(over.shape, 0.5)
    priced = np.isfinite(over) & np.isfinite(under)
    if priced.any():
        out[priced] = np.asarray(devig(over[priced], under[priced], method)[0], dtype=float)
    return out


# --- internals ----------------------------------------------------------------------------


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown de-vig method {method!r}; expected one of {METHODS}")


def _by_row(
    implied: npt.ArrayLike, solve: Callable[[FloatArray], FloatArray], *, keep_last_axis: bool
) -> FloatArray:
    """Apply ``solve`` to the complete rows of an (..., n_outcomes) array; NaN elsewhere."""
    r = np.asarray(implied, dtype=float)
    if r.ndim == 0 or r.shape[-1] < 2:
        raise ValueError(f"need at least two outcomes on the last axis, got shape {r.shape}")
    bad = np.isfinite(r) & ((r <= 0.0) | (r >= 1.0))
    if np.any(bad):
        raise ValueError(f"implied probabilities must lie in (0, 1), got {r[bad][:5].tolist()}")
    flat = r.reshape(-1, r.shape[-1])
    ok = np.isfinite(flat).all(axis=1)
    width = flat.shape[1] if keep_last_axis else 1
    out = np.full((flat.shape[0], width), np.nan)
    if np.any(ok):
        out[ok] = solve(flat[ok]).reshape(int(ok.sum()), width)
    return out.reshape(r.shape if keep_last_axis else r.shape[:-1])


def _multiplicative(r: FloatArray) -> FloatArray:
    p: FloatArray = r / r.sum(axis=1, keepdims=True)
    return p


def _additive(r: FloatArray) -> FloatArray:
    p = r - (r.sum(axis=1, keepdims=True) - 1.0) / r.shape[1]
    return np.where((p > 0.0).all(axis=1, keepdims=True), p, np.nan)


def _power_exponent(r: FloatArray) -> FloatArray:
    """Solve sum(r_i ** k) = 1 by Newton's method from the left of the root (see module)."""
    log_r = np.log(r)
    k: FloatArray = np.where(r.sum(axis=1) > 1.0, 1.0, 0.0)
    for _ in range(_NEWTON_MAX_STEPS):
        rk = np.exp(k[:, None] * log_r)
        step = (rk.sum(axis=1) - 1.0) / (rk * log_r).sum(axis=1)
        k = k - step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(k, 1.0)):
            break
    return k


def _power(r: FloatArray) -> FloatArray:
    p = r ** _power_exponent(r)[:, None]
    fair: FloatArray = p / p.sum(axis=1, keepdims=True)
    return fair


def _shin_probabilities(r: FloatArray, z: FloatArray) -> FloatArray:
    """Shin's fair probabilities for a given z (Jullien & Salanié 1994, eq. for p_i)."""
    zz = z[:, None]
    share = r**2 / r.sum(axis=1, keepdims=True)
    p: FloatArray = (np.sqrt(zz**2 + 4.0 * (1.0 - zz) * share) - zz) / (2.0 * (1.0 - zz))
    return p


def _shin_z(r: FloatArray) -> FloatArray:
    booksum = r.sum(axis=1)
    if r.shape[1] == 2:
        # Closed form for two outcomes (Štrumbelj 2014), as in the ``shin`` package.
        d2 = (r[:, 0] - r[:, 1]) ** 2
        z: FloatArray = (booksum - 1.0) * (d2 - booksum) / (booksum * (d2 - 1.0))
        return z
    # sum_i p_i(z) falls from >= 1.5 at z = -1 to sum(r_i^2)/sum(r) < 1 as z -> 1.
    lo = np.full(r.shape[0], -1.0)
    hi = np.full(r.shape[0], 1.0 - 1e-9)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = _shin_probabilities(r, mid).sum(axis=1) > 1.0
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
        if np.all(hi - lo <= 1e-16):
            break
    root: FloatArray = 0.5 * (lo + hi)
    return root


def _shin(r: FloatArray) -> FloatArray:
    p = _shin_probabilities(r, _shin_z(r))
    fair: FloatArray = p / p.sum(axis=1, keepdims=True)
    return fair


_SOLVERS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "multiplicative": _multiplicative,
    "additive": _additive,
    "power": _power,
    "shin": _shin,
}


def _reduce(p: FloatArray, statistic: str) -> FloatArray:
    """Mean or median over the last axis, skipping NaN; NaN where nothing is left."""
    if statistic == "median":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
            return np.asarray(np.nanmedian(p, axis=-1), dtype=float)
    finite = np.isfinite(p)
    count = finite.sum(axis=-1)
    total = np.where(finite, p, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count > 0, total / count, np.nan), dtype=float)
