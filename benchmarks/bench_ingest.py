"""Ingest speed: a full ingest from an empty warehouse, re-ingests, and a partial change.

Floors (2-core machine): full ingest <= 60 s; re-ingest with nothing changed <= 5 s;
after one new file under prop_lines/, later re-ingests of the unchanged folder <= 2 s
(only what changed is rebuilt, once).
The data folder is mirrored with symlinks into a temporary folder, so the new file
never touches the real data.
Run: python benchmarks/bench_ingest.py [--data-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings, get_settings
from nbaprops.pipeline.jobs import IngestJobResult, ingest_job

FULL_FLOOR_S = 60.0
REINGEST_FLOOR_S = 5.0
AFTER_PARTIAL_FLOOR_S = 2.0

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or get_settings().data_dir
    with tempfile.TemporaryDirectory() as tmp:
        folder = mirror(Path(data_dir), Path(tmp) / "data")
        settings = Settings(data_dir=folder, db=Path(tmp) / "bench.duckdb")
        with connect(settings.db) as con:
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
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:46s} {value}")
        ok = full_s <= FULL_FLOOR_S and again_s <= REINGEST_FLOOR_S
        ok = ok and after_s <= AFTER_PARTIAL_FLOOR_S
        print("floors met" if ok else "FLOOR MISSED")


if __name__ == "__main__":
    main()
