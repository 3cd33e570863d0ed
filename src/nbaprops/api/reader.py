"""Read-only connections for the API: the published snapshot, never the live warehouse.

The snapshot (``pipeline.snapshot``) is attached read-only inside a private in-memory
DuckDB (``ATTACH ... (READ_ONLY)``, then ``USE``), not opened with ``duckdb.connect``:
DuckDB caches database instances by path within a process, so a second ``connect`` to
a replaced snapshot could hand back the old file. A new snapshot (another inode or
mtime) is attached afresh on the next request; requests still running on the old
one finish on it.

The live warehouse is never opened, not even read-only for one request: a process
holding the file, even read-only, makes the daily job fail to open it (DuckDB's lock
is per process). Without a snapshot every request is ``UnavailableError`` (503) with
one line saying which command publishes one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from nbaprops.core.errors import NbapropsError
from nbaprops.pipeline.snapshot import snapshot_path

_ALIAS = "warehouse"
# How long a replaced snapshot stays attached for the requests still reading it.
RETIRE_AFTER_S = 120.0


class UnavailableError(NbapropsError):
    """Nothing can be read: no snapshot of the warehouse is published yet."""


def _attach(path: Path) -> duckdb.DuckDBPyConnection:
    root = duckdb.connect(":memory:")
    quoted = str(path).replace("'", "''")  # a server-side setting, never client input
    root.execute(f"ATTACH '{quoted}' AS {_ALIAS} (READ_ONLY)")
    return root


def _session(cur: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    cur.execute(f"USE {_ALIAS}")
    cur.execute("SET TimeZone = 'UTC'")
    cur.execute("SET enable_progress_bar = false")
    return cur


class SnapshotReader:
    """Hands out read-only cursors on the newest snapshot of one warehouse."""

    def __init__(self, db: Path) -> None:
        self.db = Path(db)
        self.snapshot = snapshot_path(self.db)
        self._lock = threading.Lock()
        self._root: duckdb.DuckDBPyConnection | None = None
        self._key: tuple[int, int, int] | None = None
        self._retired: list[tuple[float, duckdb.DuckDBPyConnection]] = []

    @property
    def warehouse_name(self) -> str:
        return self.db.name

    def snapshot_key(self) -> tuple[int, int, int] | None:
        """The published snapshot's identity (inode, mtime, size); None: none published.
        A new snapshot (published by replace) has another key."""
        try:
            st = self.snapshot.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _current(self) -> tuple[duckdb.DuckDBPyConnection, tuple[int, int, int]] | None:
        key = self.snapshot_key()
        if key is None:
            return None
        with self._lock:
            if key != self._key or self._root is None:
                fresh = _attach(self.snapshot)
                now = time.monotonic()
                if self._root is not None:
                    self._retired.append((now, self._root))
                keep = [(t, c) for t, c in self._retired if now - t < RETIRE_AFTER_S]
                for t, c in self._retired:
                    if now - t >= RETIRE_AFTER_S:
                        c.close()
                self._retired = keep
                self._root, self._key = fresh, key
            return self._root, self._key

    @contextmanager
    def cursor(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
        """A cursor and where it reads from (always ``snapshot``)."""
        with self.keyed_cursor() as (cur, where, _):
            yield cur, where

    @contextmanager
    def keyed_cursor(
        self,
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, tuple[int, int, int]]]:
        """``cursor`` and the key of the snapshot it reads."""
        current = self._current()
        if current is not None:
            root, key = current
            cur = _session(root.cursor())
            try:
                yield cur, "snapshot", key
            finally:
                cur.close()
            return
        raise UnavailableError(
            f"no snapshot of {self.db.name} is published yet; run `nbaprops db publish` "
            "(every writing command, e.g. `nbaprops ingest` or `nbaprops run daily`, "
            "publishes one)"
        )

    def close(self) -> None:
        with self._lock:
            for _, c in self._retired:
                c.close()
            if self._root is not None:
                self._root.close()
            self._root, self._key, self._retired = None, None, []
