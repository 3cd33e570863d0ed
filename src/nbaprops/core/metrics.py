"""The one place figures are computed, so backtest, grading and dashboard cannot disagree.

Every function is pure over numpy arrays or a pandas frame. Results are frozen
dataclasses whose ``to_dict()`` is strict JSON (NaN and infinity become ``None``).
Figures carry their N (invariant 7) and probabilities are judged as
probabilities (invariant 6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.odds import (
    FLAT_PRICE,
    american_to_decimal,
    expected_value,
    expected_value_with_push,
    implied_probability,
    no_vig_probabilities,
)
from nbaprops.core.odds import (
    as_output as _as_output,
)
from nbaprops.core.values import json_safe

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "FLAT_PRICE",
    "american_to_decimal",
    "expected_value",
    "expected_value_with_push",
    "implied_probability",
    "no_vig_probabilities",
]

WIN = "win"
LOSS = "loss"
PUSH = "push"
VOID = "void"
PASS = "pass"
OUTCOMES = (WIN, LOSS, PUSH, VOID, PASS)

OVER = "OVER"
UNDER = "UNDER"
SIDES = (OVER, UNDER)

LINE_KINDS = ("sportsbook", "dfs", "estimated")
BREAK_EVEN_110 = 110.0 / 210.0
LOG_LOSS_CLIP = 1e-6
DEFAULT_EDGE_BUCKETS = (0.0, 1.0, 2.0, 3.0, 5.0, math.inf)

BETTING_COLUMNS = (
    "actual",
    "line",
    "side",
    "edge",
    "played",
    "over_price",
    "under_price",
    "line_kind",
)


class Record:
    """Mixin giving result dataclasses a JSON-ready dict."""

    def to_dict(self) -> dict[str, Any]:
        """Fields as plain Python; non-finite floats become None."""
        return cast(dict[str, Any], json_safe(self))


def float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    """A 1-D float array; None/pd.NA become NaN so missing values are visible, not errors."""
    raw = np.asarray(values)
    if raw.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {raw.shape}")
    if raw.dtype.kind in "biuf":
        return raw.astype(float).ravel()
    series = pd.to_numeric(pd.Series(raw.ravel(), dtype=object), errors="raise")
    return series.to_numpy(dtype=float, na_value=np.nan)


def same_length(**arrays: np.ndarray) -> int:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays differ in length: {lengths}")
    return next(iter(lengths.values()), 0)


# --- points -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PointMetrics(Record):
    """Error of point predictions; ``bias`` > 0 means the model predicts too many points."""

    n: int
    n_excluded: int
    mae: float
    rmse: float
    bias: float
    r2: float


@dataclass(frozen=True)
class LinedPointMetrics(Record):
    """Model and line scored on exactly the same rows, so the gap is like for like."""

    n: int
    n_excluded: int
    model_mae: float
    model_rmse: float
    model_bias: float
    line_mae: float
    line_rmse: float
    line_bias: float
    mae_gap: float


def _errors(actual: FloatArray, predicted: FloatArray) -> tuple[float, float, float]:
    if actual.size == 0:
        return math.nan, math.nan, math.nan
    err = predicted - actual
    return (
        float(np.mean(np.abs(err))),
        float(np.sqrt(np.mean(err**2))),
        float(np.mean(err)),
    )


def point_metrics(actual: npt.ArrayLike, predicted: npt.ArrayLike) -> PointMetrics:
    """MAE, RMSE, bias and R² over rows where both values exist (``n_excluded`` counts the rest).

    R² is NaN with fewer than two rows or constant actuals, where it has no meaning.
    """
    a = float_array(actual, "actual")
    p = float_array(predicted, "predicted")
    same_length(actual=a, predicted=p)
    keep = np.isfinite(a) & np.isfinite(p)
    a, p = a[keep], p[keep]
    mae, rmse, bias = _errors(a, p)
    r2 = math.nan
    if a.size >= 2:
        ss_tot = float(np.sum((a - a.mean()) ** 2))
        if ss_tot > 0:
            r2 = 1.0 - float(np.sum((a - p) ** 2)) / ss_tot
    return PointMetrics(
        n=int(a.size), n_excluded=int((~keep).sum()), mae=mae, rmse=rmse, bias=bias, r2=r2
    )


def lined_point_metrics(
    actual: npt.ArrayLike, predicted: npt.ArrayLike, line: npt.ArrayLike
) -> LinedPointMetrics:
    """Model vs the line as a predictor of points; ``mae_gap`` < 0 means the model beats the line.

    A row missing any of the three is dropped from both sides; comparing a model on
    all players with a line on lined players only would flatter whichever had easier rows.
    """
    a = float_array(actual, "actual")
    p = float_array(predicted, "predicted")
    ln = float_array(line, "line")
    same_length(actual=a, predicted=p, line=ln)
    keep = np.isfinite(a) & np.isfinite(p) & np.isfinite(ln)
    a, p, ln = a[keep], p[keep], ln[keep]
    model_mae, model_rmse, model_bias = _errors(a, p)
    line_mae, line_rmse, line_bias = _errors(a, ln)
    return LinedPointMetrics(
        n=int(a.size),
        n_excluded=int((~keep).sum()),
        model_mae=model_mae,
        model_rmse=model_rmse,
        model_bias=model_bias,
        line_mae=line_mae,
        line_rmse=line_rmse,
        line_bias=line_bias,
        mae_gap=model_mae - line_mae,
    )


# --- grading ----------------------------------------------------------------------------


def _sides(side: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Sides upper-cased, with None/NaN/'PASS' as PASS; anything else is a caller bug."""
    values = np.ravel(np.asarray(side, dtype=object))
    if np.isin(values, (OVER, UNDER, "PASS")).all():  # already clean: the common case
        return values
    raw = pd.Series(values, dtype=object)
    norm = raw.where(raw.notna(), "PASS").astype(str).str.strip().str.upper()
    unknown = sorted(set(norm) - {OVER, UNDER, "PASS"})
    if unknown:
        raise ValueError(f"side must be OVER, UNDER, PASS or None, got {unknown[:5]}")
    return norm.to_numpy(dtype=object)


def _not_played(played: npt.ArrayLike, n: int) -> npt.NDArray[np.bool_]:
    """True only where played is explicitly False; unknown (None/NaN) defers to actual."""
    s = pd.Series(np.ravel(np.asarray(played, dtype=object)), dtype=object)
    if len(s) != n:
        raise ValueError(f"played has {len(s)} rows, expected {n}")
    return s.map(lambda v: v is not None and not pd.isna(v) and not bool(v)).to_numpy(bool)


def grade_bets(
    actual: npt.ArrayLike,
    line: npt.ArrayLike,
    side: npt.ArrayLike,
    played: npt.ArrayLike,
) -> npt.NDArray[np.object_]:
    """Outcome per row: 'win', 'loss', 'push', 'void' or 'pass'.

    Precedence: no bet ('pass') before did-not-play ('void'), so a PASS on an injured
    player is still a pass. ``actual == line`` is a push (whole-number lines), never
    a win or loss. A placed bet on a player who played but has no line raises:
    it cannot be graded and must not vanish.
    """
    a = float_array(actual, "actual")
    ln = float_array(line, "line")
    s = _sides(side)
    n = same_length(actual=a, line=ln, side=s)
    not_played = _not_played(played, n)

    is_pass = s == "PASS"
    is_void = ~is_pass & (not_played | np.isnan(a))
    graded = ~is_pass & ~is_void
    missing_line = graded & np.isnan(ln)
    if np.any(missing_line):
        rows = np.flatnonzero(missing_line)[:5].tolist()
        raise ValueError(f"bets without a line cannot be graded (rows {rows})")

    out = np.full(n, LOSS, dtype=object)
    over_wins = (s == OVER) & (a > ln)
    under_wins = (s == UNDER) & (a < ln)
    out[over_wins | under_wins] = WIN
    out[graded & (a == ln)] = PUSH
    out[is_void] = VOID
    out[is_pass] = PASS
    return out


def bet_profit(outcome: npt.ArrayLike, price: npt.ArrayLike) -> float | FloatArray:
    """Profit per 1-unit stake: win decimal − 1, loss −1, push/void/pass 0.

    A win with no price (NaN) has unknown profit and returns NaN; callers decide how
    to count it rather than have a default price invented here.
    """
    o = np.asarray(outcome, dtype=object)
    unknown = sorted({str(v) for v in np.ravel(o)} - set(OUTCOMES))
    if unknown:
        raise ValueError(f"unknown outcomes {unknown[:5]}; expected one of {OUTCOMES}")
    dec = np.asarray(american_to_decimal(price), dtype=float)
    o_b, dec_b = np.broadcast_arrays(o, dec)
    profit = np.zeros(o_b.shape, dtype=float)
    profit[o_b == LOSS] = -1.0
    wins = o_b == WIN
    profit[wins] = dec_b[wins] - 1.0
    return _as_output(profit)


def closing_line_value(
    side: npt.ArrayLike,
    bet_line: npt.ArrayLike,
    bet_price: npt.ArrayLike,
    close_line: npt.ArrayLike,
    close_over_price: npt.ArrayLike,
    close_under_price: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Closing line value of each bet: (points, probability).

    Points: how much better the bet's line is than the closing consensus for its side
    (an OVER at 20.5 against a 21.5 close is +1). Probability: the de-vigged closing
    P(side) minus the probability the bet's price implied, where the close is at the
    bet's own line (NaN otherwise, and for unpriced or unbet rows).
    """
    s = _sides(side)
    bl, bp = float_array(bet_line, "bet_line"), float_array(bet_price, "bet_price")
    cl = float_array(close_line, "close_line")
    co, cu = float_array(close_over_price, "close_over_price"), float_array(close_under_price, "cu")
    over, under = s == OVER, s == UNDER
    clv_line = np.where(over, cl - bl, np.where(under, bl - cl, np.nan))
    p_over, p_under = no_vig_probabilities(co, cu)
    close_p = np.where(over, p_over, np.where(under, p_under, np.nan))
    at_price = np.asarray(implied_probability(np.where(np.isfinite(bp), bp, np.nan)), dtype=float)
    clv_prob = np.where(bl == cl, close_p - at_price, np.nan)
    return clv_line.astype(float), np.asarray(clv_prob, dtype=float)


def as_placed(
    side: npt.ArrayLike,
    line: npt.ArrayLike,
    over_price: npt.ArrayLike,
    under_price: npt.ArrayLike,
    bet_line: npt.ArrayLike,
    bet_price: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """The line and price a bet is placed at: the shopped book's line and price where line
    shopping chose one, else the consensus line and its price on the side taken, else the
    conventional -110 (DFS boards, books without prices)."""
    s = _sides(side)
    ln, bl = float_array(line, "line"), float_array(bet_line, "bet_line")
    op, up = float_array(over_price, "over_price"), float_array(under_price, "under_price")
    bp = float_array(bet_price, "bet_price")
    consensus = np.where(s == OVER, op, np.where(s == UNDER, up, np.nan))
    price = np.where(np.isfinite(bp), bp, np.where(np.isfinite(consensus), consensus, FLAT_PRICE))
    return np.where(np.isfinite(bl), bl, ln), price


def graded_as_placed(
    actual: npt.ArrayLike,
    side: npt.ArrayLike,
    played: npt.ArrayLike,
    line: npt.ArrayLike,
    price: npt.ArrayLike,
) -> tuple[npt.NDArray[np.object_], FloatArray]:
    """Outcome and profit per unit staked of bets graded at their own line and price
    (``as_placed``): a win pays decimal - 1, a loss costs 1, a push or void returns the
    stake, a pass is no bet."""
    outcome = grade_bets(actual, line, side, played)
    price_ = float_array(price, "price")
    safe = np.where(np.isfinite(price_), price_, FLAT_PRICE)
    return outcome, np.asarray(bet_profit(outcome, safe), dtype=float).reshape(-1)


def calls_as_placed(rows: pd.DataFrame) -> pd.DataFrame:
    """The OVER / UNDER calls on real lines of ``rows`` (scoring vocabulary: ``side``,
    ``line``, consensus prices, ``bet_line``, ``bet_price``, ``actual``, ``played``) with
    their ``outcome`` and ``profit`` per unit graded as placed (``as_placed``)."""
    calls = rows[rows["side"].isin(SIDES) & rows["line"].notna()]
    line, price = as_placed(
        calls["side"],
        calls["line"],
        calls["over_price"] if "over_price" in calls.columns else np.nan,
        calls["under_price"] if "under_price" in calls.columns else np.nan,
        calls["bet_line"],
        calls["bet_price"],
    )
    outcome, profit = graded_as_placed(calls["actual"], calls["side"], calls["played"], line, price)
    return calls.assign(outcome=outcome, profit=profit)


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes in n; honest near 0, 1 and small n, unlike Wald."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return math.nan, math.nan
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# --- betting summary --------------------------------------------------------------------


@dataclass(frozen=True)
class GroupStats(Record):
    """One row of a breakdown table; ``n`` = wins + losses, the hit-rate denominator."""

    label: str
    n: int
    wins: int
    losses: int
    pushes: int
    voids: int
    hit_rate: float
    ci_low: float
    ci_high: float
    roi_flat: float
    roi_actual: float
    n_priced: int


@dataclass(frozen=True)
class BettingSummary(Record):
    """Hit rate and ROI of graded recommendations, with their N, interval and line source.

    ROI denominators are decided bets (wins + losses): pushes and voids return the
    stake, so they are counted in ``pushes``/``voids`` but earn and cost nothing.
    ``roi_flat`` prices every decided bet at -110. ``roi_actual`` uses the quoted price
    of the side bet and covers only the ``n_priced`` decided bets that have one;
    ``n_no_price`` are the decided bets without (``n_priced + n_no_price == n_bets``).
    Bets whose |edge| is NaN or outside the buckets are counted in ``n_unbucketed``.
    """

    line_kind: str
    n_rows: int
    n_bets: int
    wins: int
    losses: int
    pushes: int
    voids: int
    passes: int
    hit_rate: float
    ci_low: float
    ci_high: float
    break_even: float
    roi_flat: float
    roi_actual: float
    n_priced: int
    n_no_price: int
    n_unbucketed: int
    edge_buckets: tuple[float, ...]
    by_direction: tuple[GroupStats, ...]
    by_edge: tuple[GroupStats, ...]


_FLAT_WIN_PROFIT = 100.0 / -FLAT_PRICE


def _group_stats(
    label: str,
    outcome: npt.NDArray[np.object_],
    profit_actual: FloatArray,
    priced: npt.NDArray[np.bool_],
) -> GroupStats:
    wins = int(np.sum(outcome == WIN))
    losses = int(np.sum(outcome == LOSS))
    decided = wins + losses
    low, high = wilson_interval(wins, decided)
    n_priced = int(priced.sum())
    return GroupStats(
        label=label,
        n=decided,
        wins=wins,
        losses=losses,
        pushes=int(np.sum(outcome == PUSH)),
        voids=int(np.sum(outcome == VOID)),
        hit_rate=wins / decided if decided else math.nan,
        ci_low=low,
        ci_high=high,
        roi_flat=(wins * _FLAT_WIN_PROFIT - losses) / decided if decided else math.nan,
        roi_actual=float(profit_actual[priced].sum()) / n_priced if n_priced else math.nan,
        n_priced=n_priced,
    )


def outcome_stats(outcome: npt.ArrayLike, label: str = "all") -> GroupStats:
    """Hit rate with its interval, and ROI at -110, of graded outcomes (no prices needed)."""
    o = np.asarray(outcome, dtype=object).reshape(-1)
    return _group_stats(label, o, np.zeros(len(o)), np.zeros(len(o), dtype=bool))


def _bucket_label(low: float, high: float) -> str:
    return f"{low:g}+" if math.isinf(high) else f"{low:g}-{high:g}"


def _line_kind(frame: pd.DataFrame) -> str:
    """The single line source of the frame; mixing real and estimated lines is refused."""
    kinds = frame["line_kind"]
    if kinds.isna().any():
        raise ValueError("line_kind is missing on some rows; every hit rate needs its line source")
    found = sorted({str(k) for k in kinds})
    if len(found) > 1:
        raise ValueError(
            f"more than one line_kind in one summary: {found}; summarise each source separately"
        )
    if found[0] not in LINE_KINDS:
        raise ValueError(f"unknown line_kind {found[0]!r}; expected one of {LINE_KINDS}")
    return found[0]


def betting_summary(
    frame: pd.DataFrame, *, edge_buckets: Sequence[float] = DEFAULT_EDGE_BUCKETS
) -> BettingSummary:
    """Grade every row and summarise hit rate and ROI overall, by direction and by |edge|.

    Raises ValueError on missing columns, an empty frame (no line source to report)
    or more than one ``line_kind``. Edge buckets are half-open ``[low, high)`` on
    |edge|. See ``BettingSummary`` for the ROI denominators.
    """
    missing = [c for c in BETTING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"betting frame is missing columns: {', '.join(missing)}")
    if frame.empty:
        raise ValueError("betting frame has no rows; nothing to summarise")
    buckets = tuple(float(b) for b in edge_buckets)
    if len(buckets) < 2 or any(b >= c for b, c in pairwise(buckets)):
        raise ValueError(f"edge_buckets must be at least two increasing edges, got {buckets}")
    line_kind = _line_kind(frame)

    outcome = grade_bets(frame["actual"], frame["line"], frame["side"], frame["played"])
    side = _sides(frame["side"])
    over_price = float_array(frame["over_price"], "over_price")
    under_price = float_array(frame["under_price"], "under_price")
    price = np.where(side == OVER, over_price, np.where(side == UNDER, under_price, np.nan))
    profit_actual = np.asarray(bet_profit(outcome, price), dtype=float)
    decided = (outcome == WIN) | (outcome == LOSS)
    priced = decided & np.isfinite(price)

    overall = _group_stats("all", outcome, profit_actual, priced)
    by_direction = tuple(
        _group_stats(s, outcome[side == s], profit_actual[side == s], priced[side == s])
        for s in SIDES
    )

    abs_edge = np.abs(float_array(frame["edge"], "edge"))
    is_bet = outcome != PASS
    in_any = np.zeros(len(frame), dtype=bool)
    by_edge = []
    for low, high in pairwise(buckets):
        mask = is_bet & (abs_edge >= low) & (abs_edge < high)
        in_any |= mask
        by_edge.append(
            _group_stats(_bucket_label(low, high), outcome[mask], profit_actual[mask], priced[mask])
        )

    return BettingSummary(
        line_kind=line_kind,
        n_rows=len(frame),
        n_bets=overall.n,
        wins=overall.wins,
        losses=overall.losses,
        pushes=overall.pushes,
        voids=overall.voids,
        passes=int(np.sum(outcome == PASS)),
        hit_rate=overall.hit_rate,
        ci_low=overall.ci_low,
        ci_high=overall.ci_high,
        break_even=BREAK_EVEN_110,
        roi_flat=overall.roi_flat,
        roi_actual=overall.roi_actual,
        n_priced=overall.n_priced,
        n_no_price=int(np.sum(decided & ~np.isfinite(price))),
        n_unbucketed=int(np.sum(is_bet & ~in_any)),
        edge_buckets=buckets,
        by_direction=by_direction,
        by_edge=tuple(by_edge),
    )


# --- probabilities ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityBin(Record):
    """One equal-width bin of a reliability diagram; empty bins keep the axis fixed."""

    p_low: float
    p_high: float
    n: int
    mean_p: float
    observed_rate: float


@dataclass(frozen=True)
class ProbabilityMetrics(Record):
    """Brier, log loss and ECE of P(over); edge is never scored here, only probabilities."""

    n: int
    brier: float
    log_loss: float
    ece: float
    reliability: tuple[ReliabilityBin, ...]


def decided_p_over(p_over: npt.ArrayLike, p_push: npt.ArrayLike | None) -> FloatArray:
    """P(over | the bet is decided): what a forecast of a decided row (no push) is scored
    on, and what a de-vigged price is. On a whole line, P(over) / (1 - P(push)); where
    P(push) is 0 or unknown (half lines), P(over) itself, bit for bit."""
    p = np.asarray(p_over, dtype=float)
    if p_push is None:
        return p
    push = np.nan_to_num(np.asarray(p_push, dtype=float))
    whole = (push > 0) & (push < 1)
    return np.where(whole, p / np.where(whole, 1.0 - push, 1.0), p)


def _checked_probabilities(
    p: npt.ArrayLike, outcome: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Refuse NaN, out-of-range p and non-binary outcomes: the caller owns exclusions."""
    pr = float_array(p, "p")
    y = float_array(outcome, "outcome")
    same_length(p=pr, outcome=y)
    if np.any(~np.isfinite(pr)) or np.any(~np.isfinite(y)):
        raise ValueError(
            "p and outcome must have no NaN; drop pushes, voids and unpriced rows first"
        )
    if np.any((pr < 0) | (pr > 1)):
        raise ValueError("p must lie in [0, 1]")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("outcome must be 0 or 1 (1 = over hit)")
    return pr, y


def probability_metrics(
    p: npt.ArrayLike, outcome: npt.ArrayLike, n_bins: int = 10
) -> ProbabilityMetrics:
    """Score probabilities against binary outcomes.

    The caller excludes rows with no probability and pushes/voids (they have no
    binary outcome); NaN here raises instead of being dropped silently. Bins are
    ``[i/n_bins, (i+1)/n_bins)`` with 1.0 in the last bin. ECE is the row-weighted
    mean of |mean p − observed rate| over non-empty bins.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    pr, y = _checked_probabilities(p, outcome)
    n = int(pr.size)
    idx = np.clip(np.floor(pr * n_bins).astype(int), 0, n_bins - 1)
    bins = []
    ece = 0.0
    for b in range(n_bins):
        mask = idx == b
        count = int(mask.sum())
        mean_p = float(pr[mask].mean()) if count else math.nan
        observed = float(y[mask].mean()) if count else math.nan
        if count:
            ece += count / n * abs(mean_p - observed)
        bins.append(ReliabilityBin(b / n_bins, (b + 1) / n_bins, count, mean_p, observed))
    if n == 0:
        return ProbabilityMetrics(0, math.nan, math.nan, math.nan, tuple(bins))
    clipped = np.clip(pr, LOG_LOSS_CLIP, 1 - LOG_LOSS_CLIP)
    log_loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    return ProbabilityMetrics(
        n=n,
        brier=float(np.mean((pr - y) ** 2)),
        log_loss=log_loss,
        ece=ece,
        reliability=tuple(bins),
    )


def brier_skill(p: npt.ArrayLike, outcome: npt.ArrayLike, base_rate: float) -> float:
    """1 − Brier / Brier of always forecasting ``base_rate``; > 0 beats the base rate.

    ``base_rate`` is an argument, not the sample mean, so it can come from earlier
    folds only; NaN when the reference Brier is 0.
    """
    pr, y = _checked_probabilities(p, outcome)
    if pr.size == 0:
        return math.nan
    reference = float(np.mean((base_rate - y) ** 2))
    if reference == 0:
        return math.nan
    return 1.0 - float(np.mean((pr - y) ** 2)) / reference


def ece_noise_floor(p: npt.ArrayLike, n_bins: int = 10) -> float:
    """ECE a perfectly calibrated forecast would still show at this N, on average.

    Within a bin of n rows and mean probability p, the observed rate of a calibrated
    forecast deviates from p by about sqrt(2 p (1 - p) / (pi n)) in absolute value;
    weighting by bin size gives the floor. An ECE near it is indistinguishable from
    perfect calibration; report both (figures carry their N).
    """
    pr = float_array(p, "p")
    if len(pr) == 0:
        return math.nan
    idx = np.clip(np.floor(pr * n_bins).astype(int), 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        in_bin = pr[idx == b]
        if len(in_bin):
            mean_p = float(in_bin.mean())
            total += (
                len(in_bin)
                / len(pr)
                * math.sqrt(2 * mean_p * (1 - mean_p) / (math.pi * len(in_bin)))
            )
    return total


def roc_auc(score: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    """Area under the ROC curve: P(a random positive scores above a random negative),
    ties counted half (the Mann-Whitney statistic); NaN without both classes."""
    s = float_array(score, "score")
    y = float_array(outcome, "outcome")
    same_length(score=s, outcome=y)
    if np.any(~np.isfinite(s)) or np.any((y != 0) & (y != 1)):
        raise ValueError("score must be finite and outcome 0 or 1")
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return math.nan
    from scipy.stats import rankdata

    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# --- expected value: claimed against realised ---------------------------------------------

# Buckets of expected value per unit staked: <= 2%, 2-5%, 5-10%, > 10% (upper edges closed).
EV_BUCKET_EDGES = (0.02, 0.05, 0.10)
EV_BUCKET_LABELS = ("<=2%", "2-5%", "5-10%", ">10%")


def ev_bucket(ev: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """The EV bucket label of each value (None where the value is missing)."""
    e = float_array(ev, "ev")
    index = np.searchsorted(np.asarray(EV_BUCKET_EDGES), e, side="left")
    index = np.clip(index, 0, len(EV_BUCKET_LABELS) - 1)
    labels = np.asarray(EV_BUCKET_LABELS, dtype=object)[index]
    # numpy's stubs reject None as a branch; an object array takes it at run time
    out = np.where(np.isfinite(e), labels, None)  # type: ignore[call-overload]
    return cast(npt.NDArray[np.object_], out)


@dataclass(frozen=True)
class EvBucket(Record):
    """Bets whose expected value fell in one bucket: what was claimed, what came back.

    ``n`` = wins + losses (pushes and voids return the stake and are counted apart);
    ``mean_ev`` is the mean claimed EV of those ``n`` bets and ``roi`` their realised
    profit per unit at the price each was placed at, with an interval from resampling
    whole dates (bets of one date share news and line moves)."""

    label: str
    n: int
    wins: int
    losses: int
    pushes: int
    hit_rate: float
    ci_low: float
    ci_high: float
    mean_ev: float
    roi: float
    roi_low: float
    roi_high: float
    n_dates: int


def date_bootstrap(
    values: FloatArray, days: npt.NDArray[Any], n_boot: int, seed: int
) -> tuple[float, float]:
    """95% interval of the mean of ``values`` resampling whole dates (rows of a date
    share news and line moves): the one interval every paired figure uses. Fewer than two
    dates give none (NaN): resampling one date returns that date every time, a
    zero-width interval claiming a certainty its rows, moving together, cannot give."""
    if values.size == 0:
        return math.nan, math.nan
    _, index = np.unique(days, return_inverse=True)
    n_dates = int(index.max()) + 1
    if n_dates < 2:
        return math.nan, math.nan
    sums = np.bincount(index, weights=values, minlength=n_dates)
    counts = np.bincount(index, minlength=n_dates).astype(float)
    draws = np.random.default_rng(seed).integers(0, n_dates, size=(n_boot, n_dates))
    boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.quantile(boot, [0.025, 0.975])
    return float(low), float(high)


def ev_reliability(
    ev: npt.ArrayLike,
    outcome: npt.ArrayLike,
    profit: npt.ArrayLike,
    dates: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[EvBucket, ...]:
    """Claimed expected value against realised return, bucket by bucket (every bucket is
    listed, empty ones too, so tables line up). ``outcome`` and ``profit`` are the bets
    graded as placed (``graded_as_placed``); rows that are no bet ('pass') are ignored."""
    e = float_array(ev, "ev")
    o = np.asarray(outcome, dtype=object).reshape(-1)
    r = float_array(profit, "profit")
    days = np.asarray(dates).reshape(-1)
    same_length(ev=e, outcome=o, profit=r)
    labels = ev_bucket(e)
    decided = (o == WIN) | (o == LOSS)
    out = []
    for label in EV_BUCKET_LABELS:
        mine = labels == label
        d = mine & decided
        wins, losses = int(np.sum(mine & (o == WIN))), int(np.sum(mine & (o == LOSS)))
        n = wins + losses
        low, high = wilson_interval(wins, n)
        roi_low, roi_high = date_bootstrap(r[d], days[d], n_boot, seed)
        out.append(
            EvBucket(
                label=label,
                n=n,
                wins=wins,
                losses=losses,
                pushes=int(np.sum(mine & (o == PUSH))),
                hit_rate=wins / n if n else math.nan,
                ci_low=low,
                ci_high=high,
                mean_ev=float(e[d].mean()) if n else math.nan,
                roi=float(r[d].mean()) if n else math.nan,
                roi_low=roi_low,
                roi_high=roi_high,
                n_dates=len(set(days[d].tolist())),
            )
        )
    return tuple(out)
