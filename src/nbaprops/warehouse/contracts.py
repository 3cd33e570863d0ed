"""Data contracts on core tables: unique keys, not-null columns, accepted values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class Contract:
    table: str
    kind: str  # unique, not_null, accepted
    columns: tuple[str, ...]
    accepted: tuple[str, ...] = ()

    def violation_sql(self) -> tuple[str, list[Any]]:
        """The query counting violating rows, and the values it binds. Only the
        contract's own table and column names (constants below) are spelled into it."""
        cols = ", ".join(self.columns)
        if self.kind == "unique":
            return (
                f"SELECT count(*) FROM (SELECT {cols} FROM {self.table} "  # noqa: S608
                f"GROUP BY {cols} HAVING count(*) > 1)"
            ), []
        if self.kind == "not_null":
            cond = " OR ".join(f"{c} IS NULL" for c in self.columns)
            return f"SELECT count(*) FROM {self.table} WHERE {cond}", []  # noqa: S608
        return (
            f"SELECT count(*) FROM {self.table} "  # noqa: S608
            f"WHERE {self.columns[0]} NOT IN (SELECT unnest(?))"
        ), [list(self.accepted)]


@dataclass(frozen=True)
class Violation:
    contract: Contract
    n_rows: int

    def __str__(self) -> str:
        c = self.contract
        return f"{c.table}: {c.kind}({', '.join(c.columns)}) violated by {self.n_rows} rows"


CONTRACTS: tuple[Contract, ...] = (
    Contract("core.game", "unique", ("game_id",)),
    Contract("core.game", "not_null", ("game_id", "season", "season_type", "game_date")),
    Contract(
        "core.game",
        "accepted",
        ("season_type",),
        ("preseason", "regular", "allstar", "playoffs", "playin", "cup_final", "other"),
    ),
    Contract("core.game", "accepted", ("status",), ("final", "scheduled")),
    Contract("core.team_game", "unique", ("game_id", "team_id")),
    Contract("core.team_game", "not_null", ("game_id", "team", "opponent", "points", "pace")),
    Contract("core.player_game", "unique", ("player_id", "game_id")),
    Contract("core.player_game", "unique", ("player_id", "game_date")),
    Contract(
        "core.player_game",
        "not_null",
        ("player_id", "game_id", "game_date", "team", "opponent", "minutes", "points"),
    ),
    Contract("core.player_game", "accepted", ("season_type",), ("regular", "playoffs", "playin")),
    Contract("core.player", "unique", ("player_id",)),
    Contract("core.game_line", "unique", ("game_id",)),
    Contract(
        "core.prop_line_snapshot",
        "accepted",
        ("match_status",),
        ("matched", "did_not_play", "no_box_score", "no_game", "unknown_name"),
    ),
    Contract("core.prop_line_snapshot", "accepted", ("line_kind",), ("sportsbook", "dfs")),
    Contract(
        "core.prop_line_snapshot",
        "accepted",
        ("market",),
        ("points", "rebounds", "assists", "threes", "pra", "pr", "pa", "ra"),
    ),
    Contract("core.prop_line_book", "unique", ("market", "game_date", "player_name_norm", "book")),
    Contract("core.prop_line", "unique", ("market", "game_date", "player_name_norm")),
    Contract("core.prop_line", "not_null", ("market", "game_date", "line", "line_kind")),
)


def check_contracts(con: duckdb.DuckDBPyConnection) -> list[Violation]:
    """Every contract that fails, with how many rows break it."""
    found = []
    for contract in CONTRACTS:
        sql, params = contract.violation_sql()
        row = con.execute(sql, params).fetchone()
        n = int(row[0]) if row else 0
        if n:
            found.append(Violation(contract, n))
    return found
