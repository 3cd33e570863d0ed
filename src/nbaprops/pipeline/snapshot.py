"""The read-only snapshot a writer publishes for readers (the HTTP API).

DuckDB takes one writer per file, and a process holding the file, even read-only,
keeps every other process from opening it read-write. So readers never open the
warehouse: each writing job ends by checkpointing (the file then holds every
committed change) and copying the file beside it as ``<stem>.snapshot.duckdb``,
through a temporary file and an atomic rename, so a reader sees the old snapshot or
the new one, never half of one. See docs/adr/0008-api-reads.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

SNAPSHOT_SUFFIX = ".snapshot.duckdb"


def snapshot_path(db: Path | str) -> Path:
    """Where the snapshot of warehouse ``db`` is published (beside it)."""
    db = Path(db)
    return db.with_name(db.stem + SNAPSHOT_SUFFIX)


def connection_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind a connection's current database (None: in memory)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return None if row is None or not row[0] else Path(row[0])


def publish_snapshot(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Checkpoint the writer's connection, then publish a copy of its file atomically.

    ``con`` must be the warehouse's only writer and idle (no open transaction). An
    in-memory warehouse has nothing to publish (None).
    """
    db = connection_file(con)
    if db is None or not db.exists():
        return None
    con.execute("CHECKPOINT")
    target = snapshot_path(db)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(db, tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
