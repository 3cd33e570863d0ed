"""Typed read queries over core tables, shared by the CLI, API and jobs."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date

import duckdb

from nbaprops.core.errors import NbapropsError
from nbaprops.core.names import normalize_name


def find_player(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, str]:
    """(player_id, nba.com name) for a name as nba.com or a book writes it."""
    norm = normalize_name(name)
    rows = con.execute(
        """
        SELECT p.player_id, p.player_name FROM core.player p
        WHERE p.name_norm = ? OR p.name_norm IN (
            SELECT nba_name_norm FROM core.player_alias WHERE book_name_norm = ?)
        ORDER BY p.last_game DESC
        """,
        [norm, norm],
    ).fetchall()
    if not rows:
        close = closest_players(con, name)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise NbapropsError(f"no player named {name!r} in the warehouse{hint}")
    if len(rows) > 1:
        names = ", ".join(f"{n} ({i})" for i, n in rows)
        raise NbapropsError(f"{name!r} is ambiguous: {names}")
    return int(rows[0][0]), str(rows[0][1])


def closest_players(con: duckdb.DuckDBPyConnection, name: str, n: int = 3) -> list[str]:
    """The nba.com names nearest a name that matched nobody ("Jalen Brunsen" → Jalen
    Brunson; "brunson" → every Brunson), most recent players first among equals."""
    norm = normalize_name(name)
    if not norm:
        return []
    players = con.execute(
        "SELECT player_name, name_norm FROM core.player ORDER BY last_game DESC, player_name"
    ).fetchall()
    by_norm: dict[str, str] = {}
    for shown, key in players:
        by_norm.setdefault(str(key), str(shown))
    words = norm.split()
    # every word given is one of the name's words: a surname or first name alone
    whole = [k for k in by_norm if all(w in k.split() for w in words)]
    scored = []
    for key in by_norm:
        matcher = difflib.SequenceMatcher(None, norm, key)
        if matcher.real_quick_ratio() >= 0.75 and matcher.quick_ratio() >= 0.75:
            scored.append((matcher.ratio(), key))
    best = max((score for score, _ in scored), default=0.0)
    # only the names nearly as close as the closest: one typo suggests one player
    ranked = sorted(scored, key=lambda pair: -pair[0])  # stable: recent players first
    close = [k for score, k in ranked if score >= max(0.75, best - 0.05)]
    picked = list(dict.fromkeys([*close, *whole]))[:n]
    return [by_norm[k] for k in picked]


def known_markets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every market the warehouse holds prop quotes for, sorted."""
    rows = con.execute("SELECT DISTINCT market FROM core.prop_line_snapshot ORDER BY 1")
    return [r[0] for r in rows.fetchall()]


def schedule_span(
    con: duckdb.DuckDBPyConnection, day: date, season_types: Sequence[str]
) -> tuple[int, date | None, date | None]:
    """Games of ``season_types`` on ``day``, and the first and last date of such games."""
    row = con.execute(
        "SELECT count(*) FILTER (game_date = ?), min(game_date), max(game_date) "
        "FROM core.game WHERE season_type IN (SELECT unnest(?))",
        [day, list(season_types)],
    ).fetchone()
    return (int(row[0]), row[1], row[2]) if row else (0, None, None)
