"""Versioned, idempotent migrations: numbered SQL files applied once each, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from nbaprops.core.db import transaction

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, ordered by version."""
    found = []
    for entry in resources.files("nbaprops.warehouse.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_version'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def has_migration(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the migration called ``name`` (its file without number and ``.sql``,
    e.g. ``daily_operations``) has been applied to this warehouse."""
    versions = [m.version for m in available_migrations() if m.name == name]
    if not versions:
        raise ValueError(f"no migration named {name!r}")
    return current_version(con) >= versions[0]


def has_core_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """The core tables (games, box scores, prop lines) exist."""
    return has_migration(con, "core_tables")


def has_registries(con: duckdb.DuckDBPyConnection) -> bool:
    """The model and experiment registries (``models.version``, ``models.alias``) exist."""
    return has_migration(con, "registries")


def has_phase_records(con: duckdb.DuckDBPyConnection) -> bool:
    """The daily run's phase records (``pipeline.phase_run``) exist."""
    return has_migration(con, "daily_operations")


def has_diagnostics(con: duckdb.DuckDBPyConnection) -> bool:
    """The daily diagnostics (``monitoring.diagnostic``) exist."""
    return has_migration(con, "diagnostics")


def has_availability(con: duckdb.DuckDBPyConnection) -> bool:
    """The injury-report tables (``core.availability``, ``core.game_tip``) exist."""
    return has_migration(con, "availability")


def migrate(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply pending migrations, each in its own transaction; return those applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = current_version(con)
    applied = []
    for migration in available_migrations():
        if migration.version <= done:
            continue
        with transaction(con):
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
        applied.append(migration)
    return applied
