"""Ingest speed: full ingest of the data folder from an empty warehouse, then a re-ingest.

Floors (2-core machine): full ingest <= 60 s, re-ingest with nothing changed <= 5 s.
Run: python benchmarks/bench_ingest.py [--data-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings, get_settings
from nbaprops.pipeline.jobs import ingest_job

FULL_FLOOR_S = 60.0
REINGEST_FLOOR_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or get_settings().data_dir
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=data_dir, db=Path(tmp) / "bench.duckdb")
        with connect(settings.db) as con:
            started = time.perf_counter()
            first = ingest_job(con, settings)
            full_s = time.perf_counter() - started
            started = time.perf_counter()
            second = ingest_job(con, settings)
            again_s = time.perf_counter() - started
            rows = con.execute("SELECT count(*) FROM core.player_game").fetchone()
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
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:28s} {value}")
        ok = full_s <= FULL_FLOOR_S and again_s <= REINGEST_FLOOR_S
        print("floors met" if ok else "FLOOR MISSED")


if __name__ == "__main__":
    main()
