"""Score a date: the one path from a model's predictive distribution to a decision.

Predictive distribution → calibrated P(over) / P(under) / P(push) at each line →
expected value at the quoted prices (pushes return the stake; line shopping takes the
book worth most) → the model's call (OVER / UNDER / PASS on its raw EV) → the EV
calibrated against what such calls returned out of sample → the decision (a call whose
calibrated EV beats the margin). The walk-forward backtest calls it fold by fold with the
calibration its earlier folds earned; the daily job calls it with the calibration a
registered version carries. Nothing here reads the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd

from nbaprops.core import odds
from nbaprops.core.devig import Method, market_p_over
from nbaprops.core.metrics import OVER, UNDER
from nbaprops.models.calibration import Calibration
from nbaprops.systems.base import PredictionSystem, PredictiveDistribution
from nbaprops.systems.composite import CompositeSystem

PASS_SIDE = "PASS"
# Columns a scored frame must have: the lines known at decision time and their prices.
LINE_COLUMNS = ("line", "line_kind", "over_price", "under_price")
# Confidence tiers by expected value per unit staked (labels, not probabilities).
HIGH_EV = 0.08
MEDIUM_EV = 0.04


def decide(
    p_over: np.ndarray,
    p_under: np.ndarray,
    over_price: np.ndarray,
    under_price: np.ndarray,
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """OVER / UNDER when the expected value at the quoted price beats the margin.

    An unquoted price is taken at the conventional -110; a push returns the stake.
    """
    over_px = np.where(np.isnan(over_price), odds.FLAT_PRICE, over_price)
    under_px = np.where(np.isnan(under_price), odds.FLAT_PRICE, under_price)
    ev_over = np.asarray(odds.expected_value_with_push(p_over, p_under, over_px))
    ev_under = np.asarray(odds.expected_value_with_push(p_under, p_over, under_px))
    side = np.where(
        (ev_over > margin) & (ev_over >= ev_under),
        OVER,
        np.where(ev_under > margin, UNDER, PASS_SIDE),
    )
    ev = np.where(side == OVER, ev_over, np.where(side == UNDER, ev_under, np.nan))
    return side, ev


def _shop(
    dist: Any,
    calibration: Calibration,
    books: pd.DataFrame,
    keys: pd.DataFrame,
    p_market: np.ndarray,
    consensus_line: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per row and side, the book quote with the highest expected value at decision time.

    Each book's own line is priced with the row's calibrated distribution, so a lower
    over line at a worse price and a higher one at a better price compare fairly.
    """
    n = len(keys)
    best: dict[str, np.ndarray] = {}
    for side in ("over", "under"):
        best[f"{side}_ev"] = np.full(n, -np.inf)
        best[f"{side}_book"] = np.full(n, None, dtype=object)
        best[f"{side}_line"] = np.full(n, np.nan)
        best[f"{side}_price"] = np.full(n, np.nan)
        best[f"{side}_p_win"] = np.full(n, np.nan)
    if books.empty or n == 0:
        return best
    pos = keys.reset_index(drop=True).reset_index().rename(columns={"index": "_pos"})
    quotes = books.merge(pos, on=["player_id", "game_date"], how="inner")
    if quotes.empty:
        return best
    quotes = quotes.sort_values(["_pos", "book"], kind="stable")
    # Layer k holds each row's k-th quote (by book): one quote per row per layer, so
    # each layer prices every row's quote at once. Plain arrays, not a groupby: this
    # runs for every system and date of a backtest.
    all_pos = quotes["_pos"].to_numpy()
    all_line = quotes["book_line"].to_numpy(dtype=float)
    all_book = quotes["book"].to_numpy()
    all_price = {
        "over": quotes["book_over_price"].to_numpy(dtype=float),
        "under": quotes["book_under_price"].to_numpy(dtype=float),
    }
    starts = np.r_[0, np.flatnonzero(all_pos[1:] != all_pos[:-1]) + 1]
    layer_of = np.arange(len(all_pos)) - np.repeat(starts, np.diff(np.r_[starts, len(all_pos)]))
    for k in range(int(layer_of.max()) + 1):
        in_layer = layer_of == k
        rows = all_pos[in_layer]
        layer_line = all_line[in_layer]
        layer_book = all_book[in_layer]
        line = np.zeros(n)
        line[rows] = layer_line
        _, p_over, p_under, _ = calibration.probabilities(dist.cdf, line, p_market, consensus_line)
        for side, p_win, p_lose in (("over", p_over, p_under), ("under", p_under, p_over)):
            price = all_price[side][in_layer]
            ok = np.isfinite(price)
            r, px = rows[ok], price[ok]
            ev = np.asarray(odds.expected_value_with_push(p_win[r], p_lose[r], px), dtype=float)
            better = ev > best[f"{side}_ev"][r]
            r, ev = r[better], ev[better]
            best[f"{side}_ev"][r] = ev
            best[f"{side}_book"][r] = layer_book[ok][better]
            best[f"{side}_line"][r] = layer_line[ok][better]
            best[f"{side}_price"][r] = px[better]
            best[f"{side}_p_win"][r] = p_win[r]
    for side in ("over", "under"):
        best[f"{side}_ev"][np.isinf(best[f"{side}_ev"])] = np.nan
    return best


def confidence_tier(side: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """A label for how much expected value a call carries (never a probability)."""
    ev = np.nan_to_num(ev, nan=-1.0)
    bet = np.isin(side, (OVER, UNDER))
    return np.where(
        ~bet,
        "NONE",
        np.where(ev >= HIGH_EV, "HIGH", np.where(ev >= MEDIUM_EV, "MEDIUM", "LOW")),
    )


def score_rows(
    rows: pd.DataFrame,
    dist: Any,
    calibration: Calibration,
    *,
    ev_margin: float,
    books: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Probabilities, expected value and a decision for every row (one per player-game).

    ``rows`` carry the consensus line known at decision time (NaN: no line) with its
    kind and prices; ``books`` the books' own quotes then (line shopping). A side is
    called when its expected value at the best price actually available beats the
    margin; without book quotes (DFS) the consensus line is decided at -110. ``ev`` is
    that raw claim, ``ev_calibrated`` what the calibration's record says such claims are
    worth (never more than claimed), ``decision`` the call where that beats the margin,
    ``p_win`` the model's P(win) of the side at the line taken.
    With an ``actual`` column (a replay) the PIT value of the outcome is kept for
    later calibration.
    """
    missing = [c for c in LINE_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows to score lack: {', '.join(missing)}")
    line = rows["line"].to_numpy(dtype=float)
    has_line = ~np.isnan(line)
    safe_line = np.where(has_line, line, 0.0)
    dfs = (rows["line_kind"] == "dfs").to_numpy()
    over_price = np.where(dfs, np.nan, rows["over_price"].to_numpy(dtype=float))
    under_price = np.where(dfs, np.nan, rows["under_price"].to_numpy(dtype=float))
    anchor = calibration.anchor
    p_market = market_p_over(
        over_price, under_price, "multiplicative" if anchor is None else cast(Method, anchor.method)
    )
    p_over_dist, p_over, p_under, p_push = calibration.probabilities(
        dist.cdf, safe_line, p_market, safe_line
    )
    raw_over = 1.0 - np.clip(dist.cdf(safe_line), 0, 1)
    p_o = np.nan_to_num(np.where(has_line, p_over, np.nan))
    p_u = np.nan_to_num(np.where(has_line, p_under, np.nan))
    side, ev = decide(p_o, p_u, over_price, under_price, ev_margin)
    shop = _shop(
        dist,
        calibration,
        books if books is not None else pd.DataFrame(),
        rows,
        p_market,
        safe_line,
    )
    shopped = has_line & (np.isfinite(shop["over_ev"]) | np.isfinite(shop["under_ev"]))
    ev_o, ev_u = shop["over_ev"], shop["under_ev"]
    shop_side = np.where(
        (np.nan_to_num(ev_o, nan=-np.inf) > ev_margin)
        & (np.nan_to_num(ev_o, nan=-np.inf) >= np.nan_to_num(ev_u, nan=-np.inf)),
        OVER,
        np.where(np.nan_to_num(ev_u, nan=-np.inf) > ev_margin, UNDER, PASS_SIDE),
    )
    side = np.where(shopped, shop_side, side)
    ev = np.where(shopped, np.where(side == OVER, ev_o, np.where(side == UNDER, ev_u, np.nan)), ev)
    is_over, is_under = side == OVER, side == UNDER
    consensus_price = np.where(is_over, over_price, np.where(is_under, under_price, np.nan))
    # numpy's stubs reject None as a branch; an object array takes it at run time
    bet_book = np.where(
        shopped & is_over,
        shop["over_book"],
        np.where(shopped & is_under, shop["under_book"], None),  # type: ignore[call-overload]
    )
    bet_line = np.where(
        shopped & is_over,
        shop["over_line"],
        np.where(
            shopped & is_under, shop["under_line"], np.where(is_over | is_under, line, np.nan)
        ),
    )
    bet_price = np.where(
        shopped & is_over,
        shop["over_price"],
        np.where(shopped & is_under, shop["under_price"], consensus_price),
    )
    side = np.where(has_line, side, PASS_SIDE)
    p_win = np.where(
        shopped & is_over,
        shop["over_p_win"],
        np.where(
            shopped & is_under,
            shop["under_p_win"],
            np.where(is_over, p_o, np.where(is_under, p_u, np.nan)),
        ),
    )
    ev = np.where(has_line, ev, np.nan)
    # expected value is calibrated like a probability: against what such claims returned
    ev_calibrated = calibration.ev.calibrate(rows["line_kind"].to_numpy(dtype=object), side, ev)
    decision = np.where(
        np.isin(side, (OVER, UNDER)) & (np.nan_to_num(ev_calibrated, nan=-np.inf) > ev_margin),
        side,
        PASS_SIDE,
    )
    median_model = np.asarray(dist.median, dtype=float)
    median, mean = median_model, np.asarray(dist.mean, dtype=float)
    if anchor is not None:  # the point starts from the line; unlined rows keep the model's
        median = np.where(has_line, anchor.point(median_model, safe_line), median_model)
        mean = np.clip(mean + (median - median_model), 0.0, None)
    out = pd.DataFrame(
        {
            "median": median,
            "mean": mean,
            "median_model": median_model,
            "line": line,
            "over_price": over_price,
            "under_price": under_price,
            "edge": median - line,
            "p_market": np.where(has_line, p_market, np.nan),
            "p_over_raw": np.where(has_line, raw_over, np.nan),
            "p_over_dist": np.where(has_line, p_over_dist, np.nan),
            "p_over": np.where(has_line, p_over, np.nan),
            "p_under": np.where(has_line, p_under, np.nan),
            "p_push": np.where(has_line, p_push, np.nan),
            "side": side,
            "ev": ev,
            "ev_calibrated": ev_calibrated,
            "decision": decision,
            "p_win": np.where(has_line & np.isin(side, (OVER, UNDER)), p_win, np.nan),
            "bet_book": np.where(has_line, bet_book, None),  # type: ignore[call-overload]
            "bet_line": np.where(has_line, bet_line, np.nan),
            "bet_price": np.where(has_line, bet_price, np.nan),
            "confidence": confidence_tier(side, ev),
            "calibration_n": calibration.pit.n,
            "line_calibration_n": calibration.line_stage_n,
            "line_calibration_slope": calibration.line_stage_slope,
            "anchor_weight": np.nan if anchor is None else anchor.weight,
        },
        index=rows.index,
    )
    if "actual" in rows.columns:
        actual = rows["actual"].to_numpy(dtype=float)
        played = ~np.isnan(actual)
        # PIT u = F(actual): for integer points, G(F(x)) with G the ECDF of earlier u is
        # exactly the empirical P(points <= x) at every half-point and whole-number line.
        out["pit"] = np.where(played, dist.cdf(np.where(played, actual, 0.0)), np.nan)
    return out


@dataclass(frozen=True)
class ScoringModel:
    """A fitted system ready to score: its calibration and where it came from.

    ``model`` is any fitted system; a composite scored after the very member fits it
    was built from combines their distributions instead of predicting them again.
    """

    system_id: str
    model: PredictionSystem
    calibration: Calibration
    version: int | None = None
    alias: str | None = None
    train_end: date | None = None


# What a date's scored rows carry besides the scores (identity, line provenance).
IDENTITY_COLUMNS = (
    "system",
    "model_version",
    "alias",
    "player_id",
    "game_date",
    "game_id",
    "team",
    "has_prop_line",
    "n_defaulted",
    "line_kind",
    "line_source",
    "n_books",
    "quote_time",
    "commence_time",
    "estimated_line",
)
ACTUAL, ESTIMATED, NO_LINE = "ACTUAL", "ESTIMATED", "NO_LINE"
# How a line is estimated for a player the books did not price (MAE only, never bets).
ESTIMATE_METHOD = "season average rounded to .5"


def estimated_line(frame: pd.DataFrame) -> np.ndarray:
    if "points_avg_season" not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.round(frame["points_avg_season"].to_numpy(dtype=float) * 2.0) / 2.0


# The gate's inputs, carried from the slate to every scored row (``predictions.slate``).
AVAILABILITY_COLUMNS = ("availability_status", "availability_report_utc")


def score_date(
    frame: pd.DataFrame,
    models: Sequence[ScoringModel],
    *,
    ev_margin: float,
    books: pd.DataFrame | None = None,
    keep_quantiles: bool = False,
) -> pd.DataFrame:
    """Score one date's serving rows with every model: the one scoring path.

    ``frame`` is ``build_frame`` over the date's serving spine with the lines seen at
    decision time merged in (``line``, ``line_kind``, ``n_books``, ``over_price``,
    ``under_price``, ``quote_time``); ``books`` are the books' quotes then. The
    backtest calls it date by date with fold models, ``predict`` with registered ones.
    With ``keep_quantiles`` each row also carries its predictive quantiles (to store).
    """
    dists: dict[str, PredictiveDistribution] = {}
    fits: dict[str, PredictionSystem] = {}
    parts = []
    has_line = frame["line"].notna().to_numpy()
    estimate = np.where(has_line, np.nan, estimated_line(frame))
    source = np.where(has_line, ACTUAL, np.where(np.isnan(estimate), NO_LINE, ESTIMATED))
    for model in models:
        system = model.model
        if isinstance(system, CompositeSystem) and system.shares_fits(fits):
            dist = system.predict_dist_from(dists)
        else:
            dist = system.predict_dist(frame)
        dists[model.system_id] = dist
        fits[model.system_id] = system
        scored = score_rows(frame, dist, model.calibration, ev_margin=ev_margin, books=books)
        identity = pd.DataFrame(
            {
                "system": model.system_id,
                "model_version": model.version,
                "alias": model.alias,
                "player_id": frame["player_id"].to_numpy(),
                "game_date": frame["game_date"].to_numpy(),
                "game_id": frame["game_id"].to_numpy(),
                "team": frame["team"].to_numpy(),
                "has_prop_line": frame["has_prop_line"].to_numpy(dtype=bool),
                "n_defaulted": frame["n_defaulted"].to_numpy(),
                "line_kind": frame["line_kind"].to_numpy(),
                "line_source": source,
                "n_books": frame["n_books"].to_numpy(dtype=float),
                "quote_time": frame["quote_time"].to_numpy(),
                "commence_time": frame["commence_time"].to_numpy(),
                "estimated_line": estimate,
            },
            index=frame.index,
        )
        for col in AVAILABILITY_COLUMNS:
            if col in frame.columns:
                identity[col] = frame[col].to_numpy()
        if keep_quantiles:
            scored["quantiles"] = list(np.asarray(dist.quantiles, dtype=float))
        parts.append(pd.concat([identity, scored], axis=1))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
