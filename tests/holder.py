"""Another process holding a warehouse open read-write, as a running job does (DuckDB
takes one writer per file): for the tests of what waits, refuses or records it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
    "time.sleep(120)"
)


@contextmanager
def holding(path: Path) -> Iterator[int]:
    """Hold ``path`` open read-write in a child process until the block ends; yields its
    PID once the file is held."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)
