"""Figures of graded predictions, per system and line kind, from the metrics module.

``system_figures`` is pure over rows in the scoring vocabulary (the backtest's scored
rows or the graded predictions table read back), so a backfill and a backtest of the
same dates and models report their figures through one function. Only real lines
(``ACTUAL``) enter hit rates; in-sample rows never enter anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core import odds
from nbaprops.core.bankroll import ledger
from nbaprops.core.market_compare import versus_market
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.core.values import finite_or_none


def best_price_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The bets as placed at the shopped book: its line, its price on the side taken."""
    best = rows[list(m.BETTING_COLUMNS)].copy()
    shopped = rows["bet_line"].notna()
    best.loc[shopped, "line"] = rows.loc[shopped, "bet_line"]
    over = rows["side"] == m.OVER
    under = rows["side"] == m.UNDER
    price = rows["bet_price"]
    best["over_price"] = np.where(over & price.notna(), price, best["over_price"])
    best["under_price"] = np.where(under & price.notna(), price, best["under_price"])
    return best


def market_figures(played: pd.DataFrame) -> dict[str, Any] | None:
    """The system's P(over) against the market's (de-vigged consensus prices at decision
    time) on the played lined rows that were decided (no push) and priced; None if none.

    A DFS pick'em pays the same on both sides: its market P(over) is 0.5 (equal prices
    de-vig to exactly that under every method)."""
    decided = played[played["actual"] != played["line"]]
    pickem = (decided["line_kind"] == "dfs").to_numpy()
    market = versus_market(
        # P(over | decided), as the de-vigged price is (whole lines; half lines as they are)
        m.decided_p_over(decided["p_over"], decided.get("p_push")),
        np.where(pickem, odds.FLAT_PRICE, decided["over_price"]),
        np.where(pickem, odds.FLAT_PRICE, decided["under_price"]),
        (decided["actual"] > decided["line"]).astype(float),
        decided["game_date"],
    )
    return market.to_dict() if market is not None else None


def side_figures(
    consensus: Iterable[Mapping[str, Any]],
    best: Iterable[Mapping[str, Any]],
    clv: Mapping[str, tuple[float | None, int]],
    real_prices: bool,
) -> list[dict[str, Any]]:
    """OVER and UNDER bets apart (an edge may live on one side only): bets, hit rate with
    its interval, ROI at consensus and at the best price (from the betting summaries'
    ``by_direction`` groups), and mean closing line value with its N (``clv`` by side)."""
    at_consensus = {g["label"]: g for g in consensus}
    at_best = {g["label"]: g for g in best}
    roi = "roi_actual" if real_prices else "roi_flat"
    out = []
    for side in m.SIDES:
        g, b = at_consensus.get(side, {}), at_best.get(side, {})
        clv_line, clv_n = clv.get(side, (None, 0))
        out.append(
            {
                "side": side,
                "bets": int(g.get("n", 0)),
                "hit_rate": finite_or_none(g.get("hit_rate")),
                "ci_low": finite_or_none(g.get("ci_low")),
                "ci_high": finite_or_none(g.get("ci_high")),
                "roi_consensus": finite_or_none(g.get(roi)),
                "roi_best": finite_or_none(b.get(roi)),
                "clv_line": finite_or_none(clv_line),
                "clv_n": int(clv_n),
            }
        )
    return out


def system_figures(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Per system and line kind: MAE against the line's, hit rate with N and interval,
    pushes, voids, ROI at consensus and at the best available price, mean CLV."""
    out = []
    lined = rows[rows["line"].notna()]
    for (system, kind), group in lined.groupby(["system", "line_kind"], sort=True):
        played = group[group["played"]]
        points = m.lined_point_metrics(played["actual"], played["median"], played["line"])
        at_consensus = m.betting_summary(group[list(m.BETTING_COLUMNS)])
        at_best = m.betting_summary(best_price_frame(group))
        market = market_figures(played)
        bets = group[group["side"].isin(m.SIDES) & group["played"]]
        clv = bets["clv_line"] if "clv_line" in bets.columns else pd.Series(dtype=float)
        per_side = clv.groupby(bets["side"]).agg(["mean", "count"])
        clv_by_side = {
            side: (per_side.at[side, "mean"], int(per_side.at[side, "count"]))
            for side in per_side.index
        }
        out.append(
            {
                "system": str(system),
                "line_kind": str(kind),
                "n": points.n,
                "model_mae": finite_or_none(points.model_mae),
                "line_mae": finite_or_none(points.line_mae),
                "bets": at_consensus.n_bets,
                "hit_rate": finite_or_none(at_consensus.hit_rate),
                "ci_low": finite_or_none(at_consensus.ci_low),
                "ci_high": finite_or_none(at_consensus.ci_high),
                "pushes": at_consensus.pushes,
                "voids": int((~group["played"]).sum()),
                "roi_consensus": finite_or_none(
                    at_consensus.roi_actual if kind == "sportsbook" else at_consensus.roi_flat
                ),
                "roi_best": finite_or_none(
                    at_best.roi_actual if kind == "sportsbook" else at_best.roi_flat
                ),
                "clv_line": finite_or_none(clv.mean()) if clv.notna().any() else None,
                "clv_n": int(clv.notna().sum()),
                "market": market,
                "ev_reliability": ev_reliability_figures(group)
                if {"ev", "ev_calibrated"} <= set(group.columns)
                else {},
                "by_side": side_figures(
                    [g.to_dict() for g in at_consensus.by_direction],
                    [g.to_dict() for g in at_best.by_direction],
                    clv_by_side,
                    real_prices=kind == "sportsbook",
                ),
            }
        )
    return out


def estimated_figures(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Players without a real line: the model's MAE against the estimated line's
    (season average rounded to .5). Error only: never a bet, never a hit rate."""
    out = []
    est = rows[(rows["line_source"] == "ESTIMATED") & rows["played"]]
    for system, group in est.groupby("system", sort=True):
        points = m.lined_point_metrics(group["actual"], group["median"], group["estimated_line"])
        out.append(
            {
                "system": str(system),
                "n": points.n,
                "model_mae": finite_or_none(points.model_mae),
                "estimated_line_mae": finite_or_none(points.line_mae),
            }
        )
    return out


def graded_rows(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    system: str | None = None,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """Active, out-of-sample, graded predictions of [first, last] in one market (default
    points: figures never mix markets; of one system, or all) in scoring vocabulary."""
    frame = con.execute(
        """
        SELECT p.system_id AS system, p.model_version, p.alias, p.player_id, p.game_id,
               p.game_date,
               p.line_kind, p.line, p.median, p.edge, p.over_price, p.under_price,
               p.recommendation, p.bet_line, p.bet_price, p.p_over, p.p_push, p.line_source,
               p.estimated_line, p.ev, p.ev_calibrated, p.decision,
               g.actual_points AS actual, g.direction_vs_consensus,
               g.direction_vs_consensus <> 'void' AS played,
               g.clv_line, g.clv_prob
        FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
        WHERE p.game_date BETWEEN ? AND ? AND p.is_active AND NOT p.in_sample
          AND (CAST(? AS VARCHAR) IS NULL OR p.system_id = ?)
          AND p.market = ?
        ORDER BY p.system_id, p.game_date, p.player_id
        """,
        [first, last, system, system, market],
    ).df()
    frame["side"] = frame["recommendation"].where(
        frame["recommendation"].isin(m.SIDES), m.PASS.upper()
    )
    return frame


def graded_summary(
    con: duckdb.DuckDBPyConnection, first: date, last: date, market: str = DEFAULT_MARKET
) -> dict[str, Any]:
    """The graded figures of [first, last] in one market (default points), per system
    and line kind, with each system's completeness and ledger of that market."""
    rows = graded_rows(con, first, last, market=market)
    completeness = con.execute(
        """
        SELECT system_id, sum(predicted) AS predicted, sum(graded) AS graded,
               sum(void) AS void, sum(missing) AS missing
        FROM grading.completeness WHERE game_date BETWEEN ? AND ? AND market = ? GROUP BY 1
        """,
        [first, last, market],
    ).df()
    share = {
        r.system_id: (r.graded + r.void) / r.predicted if r.predicted else None
        for r in completeness.itertuples()
    }
    systems = system_figures(rows) if len(rows) else []
    bets = bet_rows(con, first, last, market=market)
    for entry in systems:
        entry["graded_share"] = share.get(entry["system"])
        mine = bets[
            (bets["system_id"] == entry["system"]) & (bets["line_kind"] == entry["line_kind"])
        ]
        entry["bets_ledger"] = ledger_of(mine)[1]
    return {
        "start": str(first),
        "end": str(last),
        "market": market,
        "systems": systems,
        "estimated_lines": estimated_figures(rows) if len(rows) else [],
        "completeness": completeness.to_dict("records"),
    }


def ev_reliability_figures(rows: pd.DataFrame) -> dict[str, Any]:
    """Claimed expected value against realised return of one system's calls on one kind
    of line, before EV calibration (the raw ``ev`` claimed) and after (``ev_calibrated``),
    for all calls and by side: N, hit rate with its interval, mean EV, ROI at the price
    taken with an interval from resampling dates (``metrics.ev_reliability``)."""
    calls = m.calls_as_placed(rows)
    out: dict[str, Any] = {}
    for name, column in (("claimed", "ev"), ("calibrated", "ev_calibrated")):
        if column not in calls.columns:
            continue
        per_side = {}
        for side in ("all", *m.SIDES):
            mine = calls if side == "all" else calls[calls["side"] == side]
            per_side[side] = [
                b.to_dict()
                for b in m.ev_reliability(
                    mine[column], mine["outcome"], mine["profit"], mine["game_date"]
                )
            ]
        out[name] = per_side
    return out


def bets_figures(picks: pd.DataFrame, start: float = 100.0) -> dict[str, Any]:
    """A set of picks as a ledger: the bets (status BET) graded at their own line and
    price in date order, N, hit rate with its interval, ROI at the price taken, units,
    final bankrolls at flat and recommended stakes with their drawdowns, and exposure
    (a date's total recommended stake, as a share of the bankroll)."""
    bets = picks[picks["status"] == "BET"].sort_values(["game_date", "rank"], kind="stable")
    outcome, per_unit = m.graded_as_placed(
        bets["actual"], bets["side"], bets["played"], bets["bet_line"], bets["bet_price"]
    )
    _, summary = ledger(
        bets["game_date"], outcome, per_unit, bets["stake_flat"], bets["stake_kelly"], start=start
    )
    per_date = bets.groupby("game_date")["stake_kelly"].sum()
    slates = picks["game_date"].nunique()
    return {
        **summary.to_dict(),
        "watchlist": int((picks["status"] != "BET").sum()),
        "slates": int(slates),
        "max_exposure": float(per_date.max()) if len(per_date) else 0.0,
        "mean_exposure": float(per_date.sum() / slates) if slates else 0.0,
        "max_stake": float(bets["stake_kelly"].max()) if len(bets) else 0.0,
    }


def bet_rows(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    system: str | None = None,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """The active bets of [first, last] in one market (default points; of one system, or
    all) with their grades (NULL until graded), in ledger order: system, date, rank."""
    frame = con.execute(
        """
        SELECT b.* EXCLUDE (batch_id, created_at, is_active, superseded_by),
               coalesce(pl.player_name, CAST(b.player_id AS VARCHAR)) AS player_name,
               g.result, g.actual_points, g.profit_per_unit, g.profit_units, g.profit_share
        FROM predictions.bet b
        LEFT JOIN core.player pl USING (player_id)
        LEFT JOIN grading.bet_grade g USING (pick_id)
        WHERE b.is_active AND b.game_date BETWEEN ? AND ?
          AND (CAST(? AS VARCHAR) IS NULL OR b.system_id = ?)
          AND b.market = ?
        ORDER BY b.system_id, b.game_date, b.rank
        """,
        [first, last, system, system, market],
    ).df()
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


_LEDGER_OUTCOME = {"WIN": m.WIN, "LOSS": m.LOSS, "PUSH": m.PUSH, "VOID": m.VOID}


def ledger_of(bets: pd.DataFrame, start: float = 100.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One system's bets (``bet_rows``) as a ledger: each line with its result and the
    running units and bankrolls at flat and recommended stakes; ungraded bets are listed
    as pending and move nothing. The summary is ``metrics.ledger``'s over graded bets."""
    graded = bets["result"].notna().to_numpy()
    outcome = bets["result"].map(_LEDGER_OUTCOME).fillna(m.PASS).to_numpy(dtype=object)
    running, summary = ledger(
        bets["game_date"],
        outcome,
        bets["profit_per_unit"].where(graded, 0.0),
        bets["stake_flat"].where(graded, 0.0),
        bets["stake_kelly"].where(graded, 0.0),
        start=start,
    )
    lines = pd.concat([bets.reset_index(drop=True), running.drop(columns="profit_units")], axis=1)
    out = summary.to_dict()
    out["pending"] = int((~graded).sum())
    out["n_bets"] = int(graded.sum())
    return lines, out
