"""Typed read queries over core tables, shared by the CLI, API and jobs."""

from __future__ import annotations

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
        raise NbapropsError(f"no player named {name!r} in the warehouse")
    if len(rows) > 1:
        names = ", ".join(f"{n} ({i})" for i, n in rows)
        raise NbapropsError(f"{name!r} is ambiguous: {names}")
    return int(rows[0][0]), str(rows[0][1])
