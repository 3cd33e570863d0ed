"""A player's last games (points, minutes, one market's outcome and pre-tip line) and
the active predictions of that market on their last predicted dates, with grades and the
bets placed on them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from nbaprops.core.db import records
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG
from nbaprops.features.frame import market_lines
from nbaprops.read.params import NotFoundError, check_market

PLAYER_GAMES = 20  # games (and prediction dates) a player page shows


def player(
    con: duckdb.DuckDBPyConnection,
    player_id: int,
    until: date | None = None,
    n_games: int = PLAYER_GAMES,
    market: str = DEFAULT_MARKET,
) -> dict[str, Any]:
    """A player's last games up to ``until`` (default: all; points, minutes, ``actual``:
    the market's outcome, a sum of box-score columns for a combo, and the market's
    pre-tip line) and the active predictions of one market (default points) of their
    last dates predicted in it up to ``until``, with their grades. A points answer is
    what it was before markets, plus ``market`` and ``actual`` (the points)."""
    market = check_market(market)
    # catalog constants only reach the SQL: the box-score columns and the lines' source
    actual = " + ".join(MARKET_CATALOG[market].stats)
    lines = market_lines(market)
    row = con.execute(
        "SELECT player_id, player_name FROM core.player WHERE player_id = ?", [player_id]
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no player with id {player_id}")
    games = records(
        con.execute(
            f"""
            WITH g AS (
                SELECT game_id, game_date, season, season_type, team, opponent, home, starter,
                       minutes, points, {actual} AS actual
                FROM core.player_game
                WHERE player_id = $player AND ($until IS NULL OR game_date <= $until)
                ORDER BY game_date DESC LIMIT $n
            ),
            l AS (
                SELECT game_id, line_kind, line, n_books
                FROM {lines}
                WHERE player_id = $player AND game_id IN (SELECT game_id FROM g)
                QUALIFY row_number() OVER (
                    PARTITION BY game_id ORDER BY line_kind = 'sportsbook' DESC) = 1
            )
            SELECT g.*, l.line_kind, l.line, l.n_books
            FROM g LEFT JOIN l USING (game_id) ORDER BY g.game_date DESC
            """,  # noqa: S608
            {"player": player_id, "n": n_games, "until": until},
        ).df()
    )
    preds = records(
        con.execute(
            """
            SELECT p.game_date, p.game_id, p.system_id, p.model_version, p.alias,
                   p.line_source, p.line_kind, p.line, p.estimated_line, p.median, p.p_over,
                   p.edge AS edge_points, p.recommendation, p.bet_book, p.bet_line,
                   p.bet_price, g.actual_points, g.direction_vs_consensus, g.clv_line,
                   k.status AS pick_status, k.side AS bet_side, k.bet_book AS bet_placed_book,
                   k.bet_line AS bet_placed_line, k.bet_price AS bet_placed_price,
                   bg.result AS bet_result, bg.profit_units AS bet_profit_units
            FROM predictions.prediction p
            LEFT JOIN grading.grade g USING (prediction_id)
            LEFT JOIN predictions.pick k
              ON k.prediction_id = p.prediction_id AND k.is_active AND k.status = 'BET'
            LEFT JOIN grading.bet_grade bg ON bg.pick_id = k.pick_id
            WHERE p.player_id = $player AND p.is_active AND p.market = $market
              AND p.game_date IN (
                  SELECT DISTINCT game_date FROM predictions.prediction
                  WHERE player_id = $player AND is_active AND market = $market
                    AND ($until IS NULL OR game_date <= $until)
                  ORDER BY game_date DESC LIMIT $n)
            ORDER BY p.game_date DESC, p.system_id, p.alias
            """,
            {"player": player_id, "n": n_games, "until": until, "market": market},
        ).df()
    )
    return {
        "until": until,
        "market": market,
        "player_id": int(row[0]),
        "player_name": str(row[1]),
        "games": games,
        "predictions": preds,
    }


def predicted_markets(
    con: duckdb.DuckDBPyConnection, player_id: int, until: date | None = None
) -> list[str]:
    """The markets a player has active predictions in up to ``until`` (the page's
    market switcher)."""
    rows = con.execute(
        "SELECT DISTINCT market FROM predictions.prediction WHERE player_id = ? AND is_active "
        "AND (CAST(? AS DATE) IS NULL OR game_date <= ?)",
        [player_id, until, until],
    ).fetchall()
    return sorted(str(r[0]) for r in rows)
