"""DuckDB connection factory. Only pipeline jobs open the warehouse read-write.

``connect`` turns the ways opening a warehouse fails because of its file (a folder,
a missing file, a damaged or foreign file, a lock held by another process) into
``NbapropsError`` subclasses with one plain sentence each; ``warehouse_error`` does
the same for errors raised later by a query (a damaged page is only noticed when read).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.errors import (
    NbapropsError,
    NotReadyError,
    WarehouseBusyError,
    WarehouseDamagedError,
)

REBUILD_HINT = (
    "rebuild it from the data folder with `nbaprops run --db <a new file> --data-dir <data>` "
    "(raw files are archived, nothing is lost)"
)

_DAMAGED_MARKERS = ("Corrupt database file", "Could not read enough bytes")
_LOCK_MARKERS = ("Could not set lock on file", "Conflicting lock is held")


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating its folder when opened for writing."""
    path = Path(path)
    if str(path) != ":memory:":
        if path.is_dir():
            raise NbapropsError(
                f"{path} is a folder, not a warehouse file; pass --db the .duckdb file "
                f"(e.g. {path / 'nbaprops.duckdb'})"
            )
        if read_only and not path.exists():
            raise NotReadyError(f"no warehouse at {path}; run `nbaprops ingest` first")
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NbapropsError(
                    f"cannot create the warehouse folder {path.parent}: {exc.strerror or exc}"
                ) from None
    try:
        con = duckdb.connect(str(path), read_only=read_only)
        # DuckDB draws a progress bar on stdout for long queries: it would corrupt --json
        # output and anything reading ours; the CLI draws its own on stderr.
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error as exc:
        translated = warehouse_error(exc, path, read_only=read_only)
        if translated is None:
            raise
        raise translated from None
    return con


def warehouse_error(
    exc: duckdb.Error, path: Path | str | None, *, read_only: bool | None = None
) -> NbapropsError | None:
    """A plain-language error for a damaged, foreign or locked warehouse file, else None.

    ``read_only`` says how the failing connection was opened: a read-only open only
    conflicts with a writer, a read-write open with any other process.
    """
    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    where = str(path) if path is not None else "the warehouse file"
    if any(m in text for m in _LOCK_MARKERS):
        pid = re.search(r"\(PID (\d+)\)", text)
        who = f" (PID {pid.group(1)})" if pid else ""
        if read_only:
            return WarehouseBusyError(
                f"another nbaprops process is writing to {where}{who}; retry when it ends"
            )
        return WarehouseBusyError(
            f"another nbaprops process is using {where}{who} and a warehouse takes one "
            "writer at a time; retry when it ends"
        )
    if "not a valid DuckDB database file" in text:
        return WarehouseDamagedError(
            f"{where} is not a DuckDB warehouse (damaged, or the wrong file?); check --db, "
            f"or {REBUILD_HINT}"
        )
    if "database file with version number" in text:
        return WarehouseDamagedError(
            f"the warehouse file {where} was written by another DuckDB version "
            f"({_strip_prefix(first)}); {REBUILD_HINT}"
        )
    if any(m in text for m in _DAMAGED_MARKERS):
        return WarehouseDamagedError(
            f"the warehouse file {where} is damaged ({_strip_prefix(first)}); {REBUILD_HINT}"
        )
    return None


def _strip_prefix(line: str) -> str:
    return re.sub(r"^[A-Za-z ]*Error: ", "", line).strip()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing block: commit on success, roll back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def unique_name(prefix: str) -> str:
    """A temporary table's or registered frame's name no other query on the connection
    uses at the same time: ``prefix`` plus a random suffix (letters, digits, ``_`` only,
    so it can be spelled into SQL where a name cannot be bound)."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


@contextmanager
def temp_table(con: duckdb.DuckDBPyConnection, prefix: str) -> Iterator[str]:
    """A unique name for a temporary table the block creates; the table is dropped when
    the block ends, however it ends (a failed drop after a failed block, e.g. in an
    aborted transaction, never hides the block's own error)."""
    name = unique_name(prefix)
    try:
        yield name
    except BaseException:
        with suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        raise
    con.execute(f"DROP TABLE IF EXISTS {name}")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, prefix: str, frame: Any) -> Iterator[str]:
    """``frame`` (a pandas frame or an Arrow table) registered under a unique name for the
    block, unregistered after it."""
    name = unique_name(prefix)
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


def _plain(value: Any) -> Any:
    """A value DuckDB returned through pandas, as plain JSON-able Python."""
    if isinstance(value, pd.Timestamp):
        # the warehouse has no naive timestamps: a naive value is a DATE (YYYY-MM-DD)
        if value.tzinfo is None and value == value.normalize():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Query results as plain dicts: NULL/NaN become None, dates YYYY-MM-DD, timestamps
    ISO strings with their zone."""
    rows = cast("list[dict[str, object]]", frame.to_dict("records"))  # column names are str
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def upsert_grades(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    *,
    key: str,
    watched: tuple[str, ...],
) -> list[str]:
    """Insert or update graded rows by ``key`` (``frame``'s columns are the table's, one
    of them the ``regraded`` counter); a row whose ``watched`` values changed counts one
    more regrade. Returns the keys whose grade changed. ``table`` and the column names are
    the caller's constants, never user input."""
    columns = list(frame.columns)
    counter = "regraded"
    # Only identifiers are spelled into this SQL (the caller's table and column constants,
    # the frame's generated name); the changed keys are bound.
    with registered(con, "_grades", frame) as grades:
        differs = " OR ".join(f"g.{c} IS DISTINCT FROM n.{c}" for c in watched)
        changed = [
            str(r[0])
            for r in con.execute(
                f"SELECT g.{key} FROM {table} g JOIN {grades} n USING ({key}) "  # noqa: S608
                f"WHERE {differs}"
            ).fetchall()
        ]
        values = ", ".join(
            f"coalesce(g.{c}, 0) + CASE WHEN n.{key} IN (SELECT unnest($ids)) THEN 1 ELSE 0 END"
            if c == counter
            else f"n.{c}"
            for c in columns
        )
        con.execute(
            f"""
            INSERT INTO {table} ({", ".join(columns)})
            SELECT {values}
            FROM {grades} n LEFT JOIN {table} g USING ({key})
            ON CONFLICT ({key}) DO UPDATE SET
            {", ".join(f"{c} = excluded.{c}" for c in columns if c != key)}
            """,  # noqa: S608
            {"ids": changed},
        )
    return changed
