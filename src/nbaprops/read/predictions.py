"""A date's active predictions (with names, grades and picks) and its slate signals.

``date_signals`` computes the slate signal of every active model of a date (read
only; ``pipeline.daily`` stores them), ``signals`` is its answer for the API and CLI.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.core.settings import Settings
from nbaprops.predictions.signal import SlateSignal, slate_signal
from nbaprops.predictions.store import active_predictions
from nbaprops.read.params import NotFoundError, check_alias, check_market, check_system
from nbaprops.read.status import latest_prediction_date
from nbaprops.warehouse.freshness import missing_predictions_message

PREDICTION_COLUMNS = (
    "player_id",
    "player_name",
    "team",
    "game_id",
    "system_id",
    "model_version",
    "alias",
    "line_source",
    "line_kind",
    "line",
    "n_books",
    "over_price",
    "under_price",
    "estimated_line",
    "median",
    "mean",
    "p_over",
    "p_under",
    "p_push",
    "edge_points",
    "ev_pct",
    "ev_calibrated_pct",
    "recommendation",
    "decision",
    "confidence",
    "bet_book",
    "bet_line",
    "bet_price",
    "p_win",
    "in_sample",
    "direction_vs_consensus",
    "pick_status",
    "bet_result",
    "bet_profit_units",
)


def predictions(
    con: duckdb.DuckDBPyConnection,
    day: date | None = None,
    system: str | None = None,
    alias: str | None = None,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """A date's active predictions of one market (default: points, on the latest date it
    was predicted), with names; once graded, the call's direction against the consensus
    line and, where the call was picked, the pick's status and the bet's result at its
    own line and price."""
    market = check_market(market)
    check_system(con, system)
    check_alias(alias)
    day = day or latest_prediction_date(con, market)
    frame = con.execute(
        """
        SELECT p.player_id, coalesce(pl.player_name, CAST(p.player_id AS VARCHAR))
                   AS player_name,
               p.team, p.game_id, p.system_id, p.model_version, p.alias, p.line_source,
               p.line_kind, p.line, p.n_books, p.over_price, p.under_price, p.estimated_line,
               p.median, p.mean, p.p_over, p.p_under, p.p_push, p.edge, 100 * p.ev,
               100 * p.ev_calibrated, p.recommendation, coalesce(p.decision, 'PASS'),
               p.confidence, p.bet_book, p.bet_line, p.bet_price, p.p_win, p.in_sample,
               g.direction_vs_consensus, k.status, bg.result, bg.profit_units
        FROM predictions.prediction p
        LEFT JOIN core.player pl USING (player_id)
        LEFT JOIN grading.grade g USING (prediction_id)
        LEFT JOIN predictions.pick k ON k.prediction_id = p.prediction_id AND k.is_active
        LEFT JOIN grading.bet_grade bg ON bg.pick_id = k.pick_id
        WHERE p.game_date = $day AND p.is_active
          AND ($system IS NULL OR p.system_id = $system)
          AND ($alias IS NULL OR p.alias = $alias)
          AND p.market = $market
        ORDER BY p.system_id, p.alias, p.player_id
        """,
        {"day": day, "system": system, "alias": alias, "market": market},
    ).fetchall()
    rows = [dict(zip(PREDICTION_COLUMNS, r, strict=True)) for r in frame]
    return {
        "date": day,
        "market": market,
        "system": system,
        "alias": alias,
        "n": len(rows),
        "predictions": rows,
    }


def date_signals(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date, market: str | None = None
) -> dict[str, tuple[str, int, SlateSignal]]:
    """The slate signal of every active model of the date (of ``market``; None: of every
    market), by ``system@alias`` (with its market in brackets when not points; a version
    predicts one market) (read only)."""
    rows = active_predictions(con, day, market=market)
    out: dict[str, tuple[str, int, SlateSignal]] = {}
    for (system_id, version), group in rows.groupby(["system_id", "model_version"]):
        sig = slate_signal(group[~group["in_sample"]], settings)
        alias = group["alias"].dropna()
        label = f"{system_id}@{alias.iloc[0]}" if len(alias) else f"{system_id}@v{version}"
        market = str(group["market"].iloc[0]) if "market" in group else DEFAULT_MARKET
        if market != DEFAULT_MARKET:
            label = f"{label} ({market})"
        out[label] = (str(system_id), int(str(version)), sig)
    return out


def signals(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date | None = None,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """The slate signal of every model that predicted a date in one market (default
    points; computed, not stored)."""
    market = check_market(market)
    day = day or latest_prediction_date(con, market)
    computed = date_signals(con, settings, day, market)
    if not computed:
        what = "predictions" if market == DEFAULT_MARKET else f"{market} predictions"
        raise NotFoundError(missing_predictions_message(con, day, what))
    return {
        "date": day,
        "market": market,
        "signals": {
            label: {"system_id": system_id, "model_version": version, **sig.to_dict()}
            for label, (system_id, version, sig) in computed.items()
        },
    }
