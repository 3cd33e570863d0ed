"""The champion's picks as recommended, its record, and the ledger of placed bets.

``picks_system`` names the system whose champion drives picks, ``champion_picks`` reads
its stored picks of a date (``pipeline.daily`` delivers them; the API and CLI show
them through ``picks``); ``bets`` is the ledger of a period with running bankrolls.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from nbaprops.core.db import records
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_NAMES
from nbaprops.core.metrics import BREAK_EVEN_110, wilson_interval
from nbaprops.core.settings import Settings
from nbaprops.grading.report import bet_rows, ledger_of
from nbaprops.predictions.breakout import active_breakout, flag_picks
from nbaprops.predictions.store import PICK_TABLE_COLUMNS
from nbaprops.read.convert import day_of, num, pct
from nbaprops.read.params import (
    MAX_RANGE_DAYS,
    NotFoundError,
    check_market,
    check_period,
    check_system,
)
from nbaprops.read.status import latest_prediction_date
from nbaprops.warehouse.freshness import missing_predictions_message


def picks_system(
    con: duckdb.DuckDBPyConnection, settings: Settings, market: str = DEFAULT_MARKET
) -> str | None:
    """The system whose champion drives ``market``'s picks: the configured one where it
    has a champion in the market (points: always the configured one), else the market's
    champion promoted most recently (several systems may each have a champion)."""
    configured = settings.picks.picks_system
    row = con.execute(
        "SELECT system_id FROM models.alias WHERE alias = 'champion' AND market = ? "
        "ORDER BY system_id = ? DESC, set_at DESC, system_id LIMIT 1",
        [market, configured],
    ).fetchone()
    if configured and (market == DEFAULT_MARKET or (row is not None and row[0] == configured)):
        return configured
    return None if row is None else str(row[0])


def champion_markets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The markets with a champion, in catalog order."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT market FROM models.alias WHERE alias = 'champion'"
        ).fetchall()
    }
    return [m for m in MARKET_NAMES if m in have]


def champion_markets_on(con: duckdb.DuckDBPyConnection, day: date) -> list[str]:
    """The markets with active champion predictions on ``day``, in catalog order (what
    the dashboard's market switcher links to)."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT market FROM predictions.prediction "
            "WHERE game_date = ? AND is_active AND alias = 'champion'",
            [day],
        ).fetchall()
    }
    return [m for m in MARKET_NAMES if m in have]


def champion_picks(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """The stored picks of ``market``'s picks system's champion on ``day`` (bets first),
    with player names, the breakout shadow's observation (points) and, once graded, each
    bet's result."""
    system_id = picks_system(con, settings, market)
    if system_id is None:
        return pd.DataFrame(columns=[*PICK_TABLE_COLUMNS, "observation"])
    picks = con.execute(
        """
        SELECT k.*, coalesce(pl.player_name, CAST(k.player_id AS VARCHAR)) AS player_name,
               g.result, g.actual_points, g.profit_units, g.profit_share
        FROM predictions.pick k
        LEFT JOIN core.player pl USING (player_id)
        LEFT JOIN grading.bet_grade g USING (pick_id)
        WHERE k.game_date = ? AND k.is_active AND k.system_id = ? AND k.alias = 'champion'
          AND k.market = ?
        ORDER BY k.rank
        """,
        [day, system_id, market],
    ).df()
    if market != DEFAULT_MARKET:  # the breakout shadow watches points
        return picks.assign(observation=None)
    return flag_picks(picks, active_breakout(con, day))  # the shadow's note, read-time


def picks_frame(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """The champion's stored picks of a date in ``market``; no champion predictions of
    the market is NotFoundError."""
    found = con.execute(
        "SELECT count(*) FROM predictions.prediction "
        "WHERE game_date = ? AND is_active AND alias = 'champion' AND market = ?",
        [day, market],
    ).fetchone()
    if not found or not found[0]:
        what = "champion predictions" + ("" if market == DEFAULT_MARKET else f" of {market}")
        raise NotFoundError(missing_predictions_message(con, day, what))
    return champion_picks(con, settings, day, market)


def pick_out(row: dict[str, Any], unit_share: float) -> dict[str, Any]:
    """One pick in the product's units: EV in percent, edge in points, stakes in units
    and in percent of the bankroll, P(win) of the side taken; its record; its result."""
    return {
        "rank": int(row["rank"]),
        "status": row["status"],
        "reason": row["reason"] or None,
        "system_id": row["system_id"],
        "market": row.get("market") or DEFAULT_MARKET,
        "model_version": int(row["model_version"]),
        "alias": row.get("alias"),
        "game_date": day_of(row["game_date"]),
        "game_id": row["game_id"],
        "player_id": int(row["player_id"]),
        "player_name": row.get("player_name") or str(row["player_id"]),
        "team": row["team"],
        # his injury-report status at decision time ('Not listed', or None: no report)
        "availability_status": row.get("availability_status") or None,
        "line_kind": row["line_kind"],
        "side": row["side"],
        "line": num(row["line"]),
        "bet_book": row.get("bet_book"),
        "bet_line": num(row["bet_line"]),
        "bet_price": num(row["bet_price"]),
        "priced": bool(row["priced"]),
        "p_win": num(row.get("p_win")),
        "edge_points": num(row.get("edge")),
        "ev_pct": pct(row.get("ev_raw")),
        "ev_calibrated_pct": pct(row.get("ev_calibrated")),
        "ev_bucket": row.get("ev_bucket"),
        "record": {
            "n": int(row["record_n"]),
            "wins": int(row["record_wins"]),
            "hit_rate": num(row.get("record_hit_rate")),
            "ci_low": num(row.get("record_ci_low")),
            "ci_high": num(row.get("record_ci_high")),
            "roi_pct": pct(row.get("record_roi")),
        },
        "slate_signal": row.get("slate_signal"),
        "flat_units": float(row["stake_flat"]),
        "stake_before_pct": 100.0 * float(row["stake_kelly_before"]),
        "stake_before_units": float(row["stake_kelly_before"]) / unit_share,
        "stake_pct": 100.0 * float(row["stake_kelly"]),
        "stake_units": float(row["stake_kelly"]) / unit_share,
        "capped_by": row.get("capped_by") or None,
        "observation": row.get("observation") or None,
        "result": row.get("result"),
        "actual_points": num(row.get("actual_points")),
        "profit_units": num(row.get("profit_units")),
        "profit_pct": pct(row.get("profit_share")),
    }


def champion_record(
    con: duckdb.DuckDBPyConnection, system: str | None, market: str = DEFAULT_MARKET
) -> dict[str, Any] | None:
    """The champion's out-of-sample record at the prices taken, and whether it beats the
    break-even: the calls its version's walk-forward graded (what calibrates its EV and
    backs its picks), else the calls of the system graded in this warehouse."""
    if system is None:
        return None
    row = con.execute(
        """
        SELECT v.version, v.calibration FROM models.alias a
        JOIN models.version v ON v.system_id = a.system_id AND v.version = a.version
        WHERE a.system_id = ? AND a.alias = 'champion' AND a.market = ?
        """,
        [system, market],
    ).fetchone()
    if row is None:
        return None
    version, meta = int(row[0]), json.loads(row[1] or "{}")
    claims = meta.get("claims")
    if claims:
        n, wins, profit = int(claims["n"]), int(claims["wins"]), float(claims["profit"])
        span = f"{meta.get('first_date')}..{meta.get('last_date')}"
        source = f"walk-forward of {system}@v{version}, {span} (out of sample)"
    else:
        graded = con.execute(
            """
            SELECT count(*) FILTER (g.direction_vs_consensus IN ('right', 'wrong')),
                   count(*) FILTER (g.direction_vs_consensus = 'right'),
                   coalesce(sum(g.profit_best)
                            FILTER (g.direction_vs_consensus IN ('right', 'wrong')), 0)
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.system_id = ? AND p.market = ? AND p.is_active AND NOT p.in_sample
              AND p.line_source = 'ACTUAL' AND p.recommendation IN ('OVER', 'UNDER')
            """,
            [system, market],
        ).fetchone()
        n, wins, profit = (
            (int(graded[0]), int(graded[1]), float(graded[2])) if graded else (0, 0, 0.0)
        )
        source = f"calls of {system} graded in this warehouse"
    low, high = wilson_interval(wins, n)
    roi = profit / n if n else None
    beats = roi is not None and roi > 0
    if not n:
        statement = f"{system}@champion has no graded record yet: nothing backs a bet."
    else:
        statement = (
            f"{system}@champion's record ({source}): {wins / n:.1%} of {n:,} calls won "
            f"[{low:.1%}, {high:.1%}], ROI {roi:+.1%} at the prices taken; "
            + (
                "it beats the break-even"
                + (" (not significantly)" if low <= BREAK_EVEN_110 else "")
                if beats
                else f"it does not beat the break-even ({BREAK_EVEN_110:.1%} at -110)"
            )
            + "."
        )
    return {
        "system": system,
        "market": market,
        "version": version,
        "source": source,
        "n": n,
        "wins": wins,
        "hit_rate": wins / n if n else None,
        "ci_low": num(low),
        "ci_high": num(high),
        "roi_pct": None if roi is None else 100.0 * roi,
        "break_even": BREAK_EVEN_110,
        "beats_break_even": beats,
        "statement": statement,
    }


def _caps(settings: Settings) -> dict[str, Any]:
    return {
        "bet_pct": 100.0 * settings.picks.picks_max_bet_share,
        "slate_pct": 100.0 * settings.picks.picks_max_slate_share,
        "red_multiplier": settings.picks.picks_red_multiplier,
        "per_game": settings.picks.picks_max_per_game,
        "per_team": settings.picks.picks_max_per_team,
        "per_day": settings.picks.picks_max_per_day,
        "min_record": settings.picks.picks_min_record_bets,
        "ev_margin_pct": 100.0 * settings.betting.ev_margin,
    }


def _no_calls_verdict(
    con: duckdb.DuckDBPyConnection, day: date, market: str = DEFAULT_MARKET
) -> str:
    """Why a slate with champion predictions has no call: only estimated lines (never
    bet; name the fetch), or no call beat the margin."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (line_source = 'ACTUAL') "
        "FROM predictions.prediction WHERE game_date = ? AND is_active AND alias = 'champion' "
        "AND market = ?",
        [day, market],
    ).fetchone()
    n, actual = (int(row[0]), int(row[1])) if row else (0, 0)
    if n and not actual:
        return (
            f"no real prop lines on {day}: all {n} champion predictions use estimated lines, "
            f"which are never bet; fetch lines with `nbaprops fetch --date {day}` "
            f"and predict again (`nbaprops predict --date {day} --force`)"
        )
    return "no calls on this slate: no bets today"


def no_picks(
    settings: Settings, day: date, why: str | None = None, market: str = DEFAULT_MARKET
) -> dict[str, Any]:
    """The picks payload of a date without champion predictions (the dashboard's);
    ``why`` is the real reason (``NotFoundError``'s line)."""
    return {
        "date": day,
        "market": market,
        "system": None,
        "model_version": None,
        "record": None,
        "verdict": f"{why or 'no champion predictions on this date'}: no picks",
        "n_bets": 0,
        "n_watchlist": 0,
        "exposure_pct": 0.0,
        "kelly_fraction": settings.betting.kelly_fraction,
        "unit_pct": 100.0 * settings.betting.unit_share,
        "caps": _caps(settings),
        "picks": [],
    }


def picks(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date | None = None,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """The champion's picks of a date in ``market`` as recommended (bets first, then the
    watchlist with each reason), with the champion's record, the caps and the slate's
    exposure; a past date's bets carry their result."""
    market = check_market(market)
    day = day or latest_prediction_date(con, market)
    chosen = picks_frame(con, settings, day, market)
    system = picks_system(con, settings, market)
    rows = [pick_out(r, settings.betting.unit_share) for r in records(chosen)]
    bets = [r for r in rows if r["status"] == "BET"]
    exposure = sum(r["stake_pct"] for r in bets)
    if not rows:
        verdict = _no_calls_verdict(con, day, market)
    elif not bets:
        verdict = f"no bets today: the record backs none of the {len(rows)} calls"
    else:
        verdict = (
            f"{len(bets)} bet{'s' * (len(bets) > 1)}, {exposure:.2f}% of the bankroll staked "
            f"(slate cap {100 * settings.picks.picks_max_slate_share:g}%)"
        )
    return {
        "date": day,
        "market": market,
        "system": system,
        "model_version": rows[0]["model_version"] if rows else None,
        "record": champion_record(con, system, market),
        "verdict": verdict,
        "n_bets": len(bets),
        "n_watchlist": len(rows) - len(bets),
        "exposure_pct": exposure,
        "kelly_fraction": settings.betting.kelly_fraction,
        "unit_pct": 100.0 * settings.betting.unit_share,
        "caps": _caps(settings),
        "picks": rows,
    }


def bets(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    system: str | None = None,
    max_days: int = MAX_RANGE_DAYS,
    unit_share: float = 0.01,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """The ledger of [first, last] in one market (default points; markets never share a
    ledger): every bet as placed with its result and, per system, running units and
    bankrolls at flat and recommended stakes, and a summary (N, hit rate with its
    interval, ROI at the prices taken, final bankrolls, drawdowns)."""
    market = check_market(market)
    check_period(first, last, max_days)
    check_system(con, system)
    rows = bet_rows(con, first, last, system, market)
    if rows.empty:
        scope = f" of {system}" if system else ""
        scope += "" if market == DEFAULT_MARKET else f" in {market}"
        raise NotFoundError(f"no bets{scope} in {first}..{last}")
    systems = []
    for system_id, mine in rows.groupby("system_id", sort=True):
        lines, summary = ledger_of(mine)
        systems.append(
            {
                "system": str(system_id),
                "summary": {
                    **{
                        k: num(v) if isinstance(v, float) else v
                        for k, v in summary.items()
                        if k != "roi"
                    },
                    "roi_pct": pct(summary["roi"]),
                    "units": num(summary["units"]),
                },
                "bets": [
                    {
                        **pick_out(r, unit_share),
                        "running_units": num(r["running_units"]),
                        "bankroll_flat": num(r["bankroll_flat"]),
                        "bankroll_kelly": num(r["bankroll_kelly"]),
                    }
                    for r in records(lines)
                ],
            }
        )
    return {"start": first, "end": last, "market": market, "system": system, "systems": systems}
