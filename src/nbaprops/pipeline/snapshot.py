"""The read-only snapshot a writer publishes for readers (the HTTP API).

DuckDB takes one writer per file, and a process holding the file, even read-only,
keeps every other process from opening it read-write. So readers never open the
warehouse: each writing job ends by checkpointing (the file then holds every
committed change) and copying the file beside it as ``<stem>.snapshot.duckdb``,
through a temporary file and an atomic rename, so a reader sees the old snapshot or
the new one, never half of one. See docs/adr/0008-api-reads.md.

Every command that writes the warehouse publishes: the CLI notes the warehouse file's
state (size and modification time of the file and its write-ahead log) before a
command and, when the command changed it and no publish of that state was attempted in
this process, publishes after it (``publish_if_changed``). So a new writing command
publishes without having to remember to. A publish that fails is an error (non-zero
exit, ``SnapshotPublishError``), never only an audit line: readers would otherwise be
served a stale snapshot without anyone knowing.

A full disk is the usual reason a publish (or any write) fails: ``disk_full`` tells it
from other errors and ``disk_full_message`` says, in one line, which filesystem is full,
how much is free and about how much to free.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from pathlib import Path

import duckdb

from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError, WarehouseBusyError

SNAPSHOT_SUFFIX = ".snapshot.duckdb"
# A warehouse needs room to grow and for its snapshot (a full copy): about twice its
# size, and never less than this (an empty warehouse grows to ~100 MB on the real data).
MIN_FREE_MB = 256
# How long publishing after a command waits for another process to release the file.
BUSY_RETRY_S = 10.0

FileState = tuple[tuple[int, int] | None, tuple[int, int] | None]

# The last publish attempt of each warehouse in this process: the file's state then
# and whether it succeeded (so a failed publish is not retried and reported twice).
_attempts: dict[Path, tuple[FileState, bool]] = {}


class SnapshotPublishError(NbapropsError):
    """The warehouse changed but its snapshot for the API could not be published."""


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


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def warehouse_state(db: Path | str | None) -> FileState | None:
    """The warehouse file's and its write-ahead log's (mtime, size); None: no file.

    Reading the warehouse (even read-write) leaves both unchanged; a committed write
    changes the log at once and the file at the next checkpoint."""
    if db is None or str(db) == ":memory:":
        return None
    db = Path(db)
    main = _stat(db)
    if main is None:
        return None
    return (main, _stat(db.with_name(db.name + ".wal")))


def _key(db: Path) -> Path:
    return db.resolve()


def publish_snapshot(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Checkpoint the writer's connection, then publish a copy of its file atomically.

    ``con`` must be the warehouse's only writer and idle (no open transaction). An
    in-memory warehouse has nothing to publish (None). Errors (a full disk) propagate;
    the attempt is remembered either way (``attempted``).
    """
    db = connection_file(con)
    if db is None or not db.exists():
        return None
    target = snapshot_path(db)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        con.execute("CHECKPOINT")
        shutil.copyfile(db, tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        _attempts[_key(db)] = (warehouse_state(db), False)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    _attempts[_key(db)] = (warehouse_state(db), True)
    return target


def attempted(db: Path | str) -> tuple[FileState, bool] | None:
    """This process's last publish attempt of ``db``: the file's state then, and success."""
    return _attempts.get(_key(Path(db)))


def publish_if_changed(
    db: Path | str | None, before: FileState | None, *, retry_s: float = BUSY_RETRY_S
) -> Path | None:
    """After a command: publish when it changed the warehouse (its state differs from
    ``before``) and no publish of the current state was attempted (a failed attempt is
    not retried: it was reported where it happened).

    Raises ``WarehouseBusyError`` when another process keeps holding the file for
    ``retry_s`` seconds (that process publishes when it ends, if it writes) and
    ``SnapshotPublishError`` when the copy fails."""
    if db is None:
        return None
    db = Path(db)
    now = warehouse_state(db)
    if now is None or now == before:
        return None
    last = attempted(db)
    if last is not None and (not last[1] or last[0] == now):
        return None
    deadline = time.monotonic() + retry_s
    while True:
        try:
            con = connect(db)
            break
        except WarehouseBusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
    try:
        return publish_snapshot(con)
    except (OSError, duckdb.Error) as exc:
        raise publish_error(db, exc) from None
    finally:
        con.close()


def publish_error(db: Path | str, exc: BaseException) -> SnapshotPublishError:
    """The one line for a failed publish: why, and that readers keep the previous one."""
    db = Path(db)
    if disk_full(exc):
        why = disk_full_message(db, exc)
    else:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        why = f"{text}; fix that and re-run"
    return SnapshotPublishError(
        f"the warehouse changed but its snapshot for the API ({snapshot_path(db).name}) "
        f"was not published, the API still serves the previous one: {why} "
        "`nbaprops db publish`"
    )


def disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (an OSError or a DuckDB error) means the filesystem is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def _failing_path(exc: BaseException, db: Path) -> Path:
    """The warehouse, or the file a full-disk error was writing when that file is on
    another filesystem (an archive folder elsewhere, say)."""
    if isinstance(exc, OSError) and exc.filename:
        written = Path(os.fsdecode(exc.filename))
    else:
        quoted = re.search(r'"(/[^"]+)"', str(exc))
        written = Path(quoted.group(1)) if quoted else db
    return db if _device(written) == _device(db) else written


def _device(path: Path) -> int | None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        return existing.stat().st_dev
    except OSError:
        return None


def free_mb(path: Path) -> int:
    """Free space (MB) on the filesystem holding ``path`` (or its nearest existing parent)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        st = os.statvfs(existing)
    except OSError:
        return 0
    return int(st.f_bavail * st.f_frsize // 2**20)


def disk_full_message(db: Path | str, exc: BaseException | None = None) -> str:
    """One line: the filesystem that is full, what is free, about how much to free.

    Needed: room for the warehouse to grow and for its snapshot, about twice the
    warehouse's size and at least ``MIN_FREE_MB``; the failed write was rolled back, so
    what is free now is what the command had."""
    db = Path(db)
    where = db if exc is None else _failing_path(exc, db)
    free = free_mb(where)
    size = (_stat(db) or (0, 0))[1] // 2**20
    needed = max(MIN_FREE_MB, 2 * size + 64)
    return (
        f"no space left on the filesystem of {where} ({free} MB free); "
        f"free at least ~{max(needed - free, 64)} MB and re-run"
    )
