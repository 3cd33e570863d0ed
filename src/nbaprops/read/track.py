"""A system's graded record: the track record of one kind of real line, the daily
record behind its ROI curve, and the graded figures of a period (``/grading``).

Real lines and estimated lines are never mixed in one figure, nor are markets: every
function reads one market (default points).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from nbaprops.core.markets import DEFAULT_MARKET, MARKET_NAMES
from nbaprops.core.metrics import (
    BETTING_COLUMNS,
    betting_summary,
    decided_p_over,
    probability_metrics,
)
from nbaprops.grading.report import (
    best_price_frame,
    estimated_figures,
    graded_rows,
    graded_summary,
    system_figures,
)
from nbaprops.read.convert import num
from nbaprops.read.params import (
    LINE_KINDS_REAL,
    MAX_RANGE_DAYS,
    BadRequestError,
    check_market,
    check_period,
    check_system,
)


def _kinds(con: duckdb.DuckDBPyConnection, system: str, market: str = DEFAULT_MARKET) -> list[str]:
    """The real line kinds a system has graded rows on in ``market`` (sportsbook first)."""
    return [
        str(r[0])
        for r in con.execute(
            """
            SELECT DISTINCT p.line_kind
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.system_id = ? AND p.market = ? AND p.is_active AND NOT p.in_sample
              AND p.line_source = 'ACTUAL' AND p.line_kind IS NOT NULL
            ORDER BY p.line_kind <> 'sportsbook', p.line_kind
            """,
            [system, market],
        ).fetchall()
    ]


def graded_systems(con: duckdb.DuckDBPyConnection, market: str = DEFAULT_MARKET) -> list[str]:
    """Systems with graded out-of-sample predictions in ``market``, the champion's
    system first."""
    return [
        str(r[0])
        for r in con.execute(
            """
            SELECT p.system_id
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample AND p.market = ?
            GROUP BY 1
            ORDER BY bool_or(p.alias = 'champion') DESC, 1
            """,
            [market],
        ).fetchall()
    ]


def graded_markets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The markets with graded out-of-sample predictions, in catalog order (the track
    page's market switcher)."""
    have = {
        str(r[0])
        for r in con.execute(
            """
            SELECT DISTINCT p.market
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample
            """
        ).fetchall()
    }
    return [m for m in MARKET_NAMES if m in have]


def daily_record(
    con: duckdb.DuckDBPyConnection,
    system: str,
    kind: str,
    first: date,
    last: date,
    market: str = DEFAULT_MARKET,
) -> list[dict[str, Any]]:
    """Per date: decided bets (wins + losses) on real ``kind`` lines of ``market``, wins,
    profit at consensus and at the best price, and mean closing line value with its N."""
    rows = con.execute(
        """
        SELECT p.game_date, count(*) AS bets,
               count(*) FILTER (g.direction_vs_consensus = 'right') AS wins,
               sum(g.profit_consensus) AS profit_consensus, sum(g.profit_best) AS profit_best,
               avg(g.clv_line) AS clv_line, count(g.clv_line) AS clv_n
        FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
        WHERE p.system_id = $system AND p.market = $market AND p.is_active
          AND NOT p.in_sample AND p.line_source = 'ACTUAL' AND p.line_kind = $kind
          AND p.game_date BETWEEN $first AND $last
          AND g.direction_vs_consensus IN ('right', 'wrong')
        GROUP BY 1 ORDER BY 1
        """,
        {"system": system, "kind": kind, "first": first, "last": last, "market": market},
    ).fetchall()
    return [
        {
            "date": d,
            "bets": int(n),
            "wins": int(w),
            "profit_consensus": float(pc or 0.0),
            "profit_best": float(pb or 0.0),
            "clv_line": num(clv),
            "clv_n": int(clv_n),
        }
        for d, n, w, pc, pb, clv, clv_n in rows
    ]


def track_record(
    con: duckdb.DuckDBPyConnection,
    system: str,
    kind: str | None = None,
    first: date | None = None,
    last: date | None = None,
    max_days: int = MAX_RANGE_DAYS,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """A system's graded record in one market (default points) on one kind of real line
    (never mixed with another):
    daily bets, wins and profit at consensus and at the best price (for cumulative
    ROI), the bets in order (rolling hit rate), model and line MAE by month, P(over)
    against the outcome (reliability), hit rate by |edge| bucket with intervals, and
    closing line value by date. Estimated-line rows are reported apart, MAE only.

    The period defaults to the ``max_days`` ending at the system's last graded date."""
    market = check_market(market)
    check_system(con, system)
    if first is not None and last is not None:
        check_period(first, last, max_days)
    kinds = _kinds(con, system, market)
    if kind is not None and kind not in LINE_KINDS_REAL:
        raise BadRequestError(f"unknown line kind {kind!r} (one of: {', '.join(LINE_KINDS_REAL)})")
    kind = kind or (kinds[0] if kinds else "sportsbook")
    bounds = con.execute(
        """
        SELECT min(p.game_date), max(p.game_date)
        FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
        WHERE p.system_id = ? AND p.market = ? AND p.is_active AND NOT p.in_sample
        """,
        [system, market],
    ).fetchone()
    graded_first, graded_last = (bounds or (None, None))[0], (bounds or (None, None))[1]
    if last is None:
        last = graded_last or first or date.today()
    if first is None:
        first = max(graded_first or last, last - timedelta(days=max_days - 1))
    check_period(first, last, max_days)
    rows = graded_rows(con, first, last, system, market)
    real = rows[(rows["line_source"] == "ACTUAL") & (rows["line_kind"] == kind)]
    base: dict[str, Any] = {
        "system": system,
        "market": market,
        "line_kind": kind,
        "line_kinds": kinds,
        "start": first,
        "end": last,
        "graded_first": graded_first,
        "graded_last": graded_last,
        "n_rows": len(real),
    }
    summary = system_figures(real) if len(real) else []
    base["summary"] = summary[0] if summary else None
    est = estimated_figures(rows) if len(rows) else []
    base["estimated_lines"] = est[0] if est else None
    if real.empty:
        return {
            **base,
            "daily": [],
            "bets": [],
            "monthly": [],
            "reliability": [],
            "by_edge": [],
            "by_side": [],
        }

    played = real[real["played"]]
    decided = real[real["direction_vs_consensus"].isin(["right", "wrong"])]
    daily = daily_record(con, system, kind, first, last, market)
    bets = [
        {"date": d.date() if hasattr(d, "date") else d, "won": bool(res == "right")}
        for d, res in zip(decided["game_date"], decided["direction_vs_consensus"], strict=True)
    ]
    monthly = []
    if len(played):
        month = pd.to_datetime(played["game_date"]).dt.strftime("%Y-%m")
        err = played.assign(
            month=month,
            model_err=(played["actual"] - played["median"]).abs(),
            line_err=(played["actual"] - played["line"]).abs(),
        )
        for m_, g in err.groupby("month", sort=True):
            monthly.append(
                {
                    "month": str(m_),
                    "n": len(g),
                    "model_mae": float(g["model_err"].mean()),
                    "line_mae": float(g["line_err"].mean()),
                }
            )
    scored = played[played["p_over"].notna() & (played["actual"] != played["line"])]
    reliability = (
        [
            b.to_dict()
            for b in probability_metrics(
                decided_p_over(scored["p_over"], scored.get("p_push")),  # P(over | decided)
                (scored["actual"] > scored["line"]).to_numpy(int),
            ).reliability
        ]
        if len(scored)
        else []
    )
    summary_at_consensus = betting_summary(real[list(BETTING_COLUMNS)])
    by_edge = [
        {
            "label": s.label,
            "n": s.n,
            "hit_rate": num(s.hit_rate),
            "ci_low": num(s.ci_low),
            "ci_high": num(s.ci_high),
        }
        for s in summary_at_consensus.by_edge
    ]
    roi = "roi_actual" if kind == "sportsbook" else "roi_flat"
    at_best = {g.label: g for g in betting_summary(best_price_frame(real)).by_direction}
    by_side = [
        {
            "side": s.label,
            "n": s.n,
            "hit_rate": num(s.hit_rate),
            "ci_low": num(s.ci_low),
            "ci_high": num(s.ci_high),
            "roi_consensus": num(getattr(s, roi)),
            "roi_best": num(getattr(at_best[s.label], roi)) if s.label in at_best else None,
        }
        for s in summary_at_consensus.by_direction
    ]
    return {
        **base,
        "daily": daily,
        "bets": bets,
        "monthly": monthly,
        "reliability": reliability,
        "by_edge": by_edge,
        "by_side": by_side,
    }


def grading(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    system: str | None = None,
    max_days: int = MAX_RANGE_DAYS,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """Graded figures of a period in one market (default points) per system and line
    kind (``graded_summary``): hit rate with N and interval, MAE against the line's, ROI
    at consensus and best price, closing line value. Real and estimated lines are
    reported apart."""
    market = check_market(market)
    check_period(first, last, max_days)
    check_system(con, system)
    summary = graded_summary(con, first, last, market)
    if system is not None:
        for key in ("systems", "estimated_lines"):
            summary[key] = [r for r in summary[key] if r["system"] == system]
        summary["completeness"] = [r for r in summary["completeness"] if r["system_id"] == system]
    summary["completeness"] = [
        {k: (int(v) if k != "system_id" else v) for k, v in r.items()}
        for r in summary["completeness"]
    ]
    summary["system"] = system
    return summary
