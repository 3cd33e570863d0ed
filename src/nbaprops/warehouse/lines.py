"""The lines a prediction may use: those seen at or before its decision time.

A prediction for a player-game is decided at tip-off minus a set number of minutes
(and, for a live run, no later than the moment it runs). Its line is the consensus
of the books' quotes seen by then in its market, picked by the same rule as
``core.points_line`` / ``core.market_line`` (the line most books posted, then the lower
line); its book quotes are what line shopping chooses from, never a price flagged as an
outlier against the other books pricing its line, nor one incoherent with the consensus
(an easier line priced longer, or a harder one shorter: ``_incoherent``), nor one without
a capture time (an undated quote counts toward the consensus as seen in time, but a bet
is never placed at a price nobody can say was on offer at the decision).
The backtest, ``predict`` and ``backfill`` all read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from nbaprops.warehouse.transforms import _book_lines_sql, _consensus_sql, _decimal

_WHERE = (
    "game_date BETWEEN $first AND $last"
    " AND (snapshot_time IS NULL OR commence_time IS NULL"
    "      OR snapshot_time <= commence_time - to_minutes(CAST($minutes AS BIGINT)))"
    " AND ($as_of IS NULL OR snapshot_time IS NULL OR snapshot_time <= $as_of)"
)

LINE_FRAME_COLUMNS = (
    "player_id",
    "game_date",
    "game_id",
    "line",
    "line_kind",
    "n_books",
    "over_price",
    "under_price",
    "quote_time",
    "commence_time",
)
BOOK_FRAME_COLUMNS = (
    "player_id",
    "game_date",
    "book",
    "book_line",
    "book_over_price",
    "book_under_price",
    "book_quote_time",
)


@dataclass(frozen=True)
class DecisionLines:
    """Per player-game lines of one market at decision time, and the books' quotes behind
    them (``points`` holds the market's lines: the name predates the other markets)."""

    points: pd.DataFrame  # LINE_FRAME_COLUMNS, one row per player-game
    books: pd.DataFrame  # BOOK_FRAME_COLUMNS, one row per player-game and book
    minutes_before_tip: int
    as_of: datetime | None
    market: str = "points"

    def on(self, day: date) -> DecisionLines:
        return DecisionLines(
            self.points[self.points["game_date"] == day],
            self.books[self.books["game_date"] == day],
            self.minutes_before_tip,
            self.as_of,
            self.market,
        )


def _params(first: date, last: date, minutes: int, as_of: datetime | None) -> dict[str, object]:
    return {"first": first, "last": last, "minutes": minutes, "as_of": as_of}


def _incoherent(side: str, book: str = "b", consensus: str = "c") -> str:
    """SQL: true where a book's ``side`` quote contradicts the consensus of its market.

    P(over) falls as the line rises, so an over at a *lower* line than the consensus is
    worth more and must be priced *shorter* than the consensus over (an under at a
    higher line likewise); at a higher line, longer. A quote the other way round is one
    no book posting both lines would offer: a stale or mislabelled capture, never a
    price to act on (issue 26: on 2024-25 threes 197 of the market system's 793 calls
    were such quotes). Same-line quotes are the outlier check's (``QUOTE_OUTLIER_GAP``).
    """
    price, cons = f"{book}.{side}_price", f"{consensus}.{side}_price"
    easier = (
        f"{book}.line < {consensus}.line" if side == "over" else f"{book}.line > {consensus}.line"
    )
    harder = (
        f"{book}.line > {consensus}.line" if side == "over" else f"{book}.line < {consensus}.line"
    )
    return (
        f"coalesce(({easier} AND {_decimal(price)} > {_decimal(cons)})"
        f" OR ({harder} AND {_decimal(price)} < {_decimal(cons)}), false)"
    )


def _line_rule(market: str) -> str:
    """The one line rule over the decided consensus: points' own macro (migration 008,
    unchanged) or the same rule at another market (migration 019; market bound)."""
    if market == "points":
        return "core.points_line_of('_decided_consensus')"
    return "core.market_line_of('_decided_consensus', $market)"


def lines_at_decision(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    *,
    minutes_before_tip: int,
    as_of: datetime | None = None,
    market: str = "points",
) -> DecisionLines:
    """A market's lines and book quotes for games in [first, last] as seen at decision time.

    With 0 minutes and no ``as_of`` the lines equal ``core.points_line`` (another market:
    ``core.market_line``). The temporary tables it uses live on this connection only (a
    read-only connection can hold them).
    """
    books_cte = f"decided_books AS ({_book_lines_sql(_WHERE)}),"
    consensus = _consensus_sql("decided_books", books_cte)
    params = _params(first, last, minutes_before_tip, as_of)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _decided_consensus AS {consensus}", params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _decided_books AS {_book_lines_sql(_WHERE)}", params)
    rule = _line_rule(market)
    bound = {} if market == "points" else {"market": market}
    try:
        # the same rule as core.points_line / core.market_line (migrations 008 and 019)
        points = con.execute(
            # the rule is one of two fixed strings (_line_rule); the market is bound
            f"""
            SELECT player_id, game_date, game_id, line, line_kind,
                   CAST(n_books AS INTEGER) AS n_books, over_price, under_price,
                   last_snapshot_time AS quote_time, commence_time
            FROM {rule}
            """,  # noqa: S608
            bound,
        ).df()
        books = con.execute(
            # the rule is one of two fixed strings (_line_rule); the market is bound
            f"""
            SELECT b.player_id, b.game_date, b.book, b.line AS book_line,
                   -- an outlier, incoherent or undated price is never shopped (it
                   -- stays in core.prop_line_book, and in the consensus)
                   CASE WHEN NOT b.over_outlier AND NOT {_incoherent("over")}
                         AND b.snapshot_time IS NOT NULL
                        THEN b.over_price END AS book_over_price,
                   CASE WHEN NOT b.under_outlier AND NOT {_incoherent("under")}
                         AND b.snapshot_time IS NOT NULL
                        THEN b.under_price END AS book_under_price,
                   b.snapshot_time AS book_quote_time
            FROM _decided_books b
            JOIN {rule} c
              ON c.player_id = b.player_id AND c.game_date = b.game_date
             AND c.line_kind = b.line_kind
            WHERE b.market = $book_market AND b.line_kind = 'sportsbook'
            ORDER BY b.player_id, b.game_date, b.book
            """,  # noqa: S608
            {**bound, "book_market": market},
        ).df()
    finally:
        con.execute("DROP TABLE IF EXISTS _decided_consensus")
        con.execute("DROP TABLE IF EXISTS _decided_books")
    for frame in (points, books):
        frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
        frame["player_id"] = frame["player_id"].astype("int64")
    return DecisionLines(points, books, minutes_before_tip, as_of, market)
