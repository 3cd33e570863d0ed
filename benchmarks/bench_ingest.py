"""Ingest speed and memory: a full ingest from an empty warehouse, re-ingests, and a
partial change.

Peak memory: the real CLI, ``nbaprops ingest --db <tmp>/x.duckdb`` with
NBAPROPS_DATA_DIR set to the data folder, runs from an empty warehouse in a child
process; its peak resident memory is the larger of the kernel's figure for the child
and everything it waited for (``os.wait4``'s ``ru_maxrss``) and the largest sum of RSS
over the child's whole process tree, polled every 20 ms (psutil; skipped if it is not
installed). Its wall time (Python start-up included) is reported too.

Floors (2-core machine): peak memory of the full ingest <= 1.5 GB; full ingest <= 60 s;
re-ingest with nothing changed <= 5 s; after one new file under prop_lines/, later
re-ingests of the unchanged folder <= 2 s (only what changed is rebuilt, once).
The data folder is mirrored with symlinks into a temporary folder, so the new file
never touches the real data.
Run: python benchmarks/bench_ingest.py [--data-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings, get_settings
from nbaprops.pipeline.jobs import IngestJobResult, ingest_job

FULL_FLOOR_S = 60.0
REINGEST_FLOOR_S = 5.0
AFTER_PARTIAL_FLOOR_S = 2.0
PEAK_MEMORY_FLOOR_MB = 1536.0  # 1.5 GB
MB = 1024 * 1024  # figures in MB are MiB (2**20 bytes)

NEW_PROP_FILE = """player,game_date,market,book,line,over_price,under_price,snapshot_time
Jalen Brunson,2024-03-10,points,benchbook,27.5,-115,-105,2024-03-09T20:00:00Z
"""


def mirror(data_dir: Path, into: Path) -> Path:
    """A folder whose entries are symlinks to the data folder's (plus our own prop_lines/)."""
    into.mkdir()
    for entry in data_dir.iterdir():
        if entry.name != "prop_lines":
            (into / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    return into


def timed(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[IngestJobResult, float]:
    started = time.perf_counter()
    result = ingest_job(con, settings)
    return result, time.perf_counter() - started


def _tree_rss_peak(pid: int, done: threading.Event, peak: list[int]) -> None:
    """Poll the summed RSS of ``pid`` and all its descendants until ``done``; keep the max."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not done.is_set():
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += proc.memory_info().rss
        peak[0] = max(peak[0], total)
        done.wait(0.02)


def cli_peak_memory(data_dir: Path, tmp: Path) -> dict[str, Any]:
    """Run ``nbaprops ingest`` from an empty warehouse in a child process; its peak RSS."""
    exe = Path(sys.executable).with_name("nbaprops")
    db = tmp / "x.duckdb"
    env = {**os.environ, "NBAPROPS_DATA_DIR": str(data_dir), "NBAPROPS_DB": str(db)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "ingest", "--db", str(db), "--json"],
        env=env,
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    done, polled = threading.Event(), [0]
    try:
        import psutil  # noqa: F401

        poller: threading.Thread | None = threading.Thread(
            target=_tree_rss_peak, args=(proc.pid, done, polled), daemon=True
        )
    except ImportError:
        poller = None
    if poller is not None:
        poller.start()
    # drain the pipes in threads so a full pipe never blocks the child
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=n, f=f: out.__setitem__(n, f.read()), daemon=True)
        for n, f in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for thread in (*readers, *([poller] if poller else [])):
        thread.join()
    if proc.returncode != 0:
        raise SystemExit(
            f"nbaprops ingest exited {proc.returncode}:\n{out['stderr'].decode()[-2000:]}"
        )
    maxrss_mb = usage.ru_maxrss * 1024 / MB  # Linux: ru_maxrss is in KiB
    polled_mb = polled[0] / MB if poller is not None else None
    peak_mb = max(maxrss_mb, polled_mb or 0.0)
    return {
        "cli_full_ingest_s": round(seconds, 2),
        "cli_peak_rss_mb (wait4 ru_maxrss)": round(maxrss_mb, 1),
        "cli_peak_tree_rss_mb (polled)": None if polled_mb is None else round(polled_mb, 1),
        "cli_peak_memory_mb": round(peak_mb, 1),
        "cli_peak_memory_floor_mb": PEAK_MEMORY_FLOOR_MB,
        "cli_peak_memory_verdict": "PASS" if peak_mb <= PEAK_MEMORY_FLOOR_MB else "FAIL",
        "cli_warehouse_mb": round(db.stat().st_size / MB, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or get_settings().paths.data_dir
    with tempfile.TemporaryDirectory() as tmp:
        memory = cli_peak_memory(Path(data_dir).resolve(), Path(tmp))
        folder = mirror(Path(data_dir), Path(tmp) / "data")
        settings = Settings(data_dir=folder, db=Path(tmp) / "bench.duckdb")
        with connect(settings.paths.db) as con:
            first, full_s = timed(con, settings)
            second, again_s = timed(con, settings)
            (folder / "prop_lines").mkdir()
            (folder / "prop_lines" / "new_lines.csv").write_text(NEW_PROP_FILE)
            partial, partial_s = timed(con, settings)
            after = [timed(con, settings) for _ in range(3)]
            rows = con.execute("SELECT count(*) FROM core.player_game").fetchone()
    after_s = max(s for _, s in after)
    figures = {
        "files": len(first.report.results),
        "rows_loaded": sum(r.n_loaded for r in first.report.results),
        "player_game_rows": rows[0] if rows else 0,
        "full_ingest_s": round(full_s, 2),
        "full_ingest_floor_s": FULL_FLOOR_S,
        "reingest_unchanged_s": round(again_s, 2),
        "reingest_floor_s": REINGEST_FLOOR_S,
        "reingest_files_loaded": sum(r.status != "unchanged" for r in second.report.results),
        "core_builds_on_reingest": len(second.builds),
        "partial_change_ingest_s": round(partial_s, 2),
        "partial_change_core_builds": [b.table for b in partial.builds],
        "reingest_after_partial_change_s (worst of 3)": round(after_s, 2),
        "reingest_after_partial_change_floor_s": AFTER_PARTIAL_FLOOR_S,
        "core_builds_after_partial_change": sum(len(r.builds) for r, _ in after),
        **memory,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:46s} {value}")
        ok = full_s <= FULL_FLOOR_S and again_s <= REINGEST_FLOOR_S
        ok = ok and after_s <= AFTER_PARTIAL_FLOOR_S
        ok = ok and memory["cli_peak_memory_verdict"] == "PASS"
        print("floors met" if ok else "FLOOR MISSED")


if __name__ == "__main__":
    main()
