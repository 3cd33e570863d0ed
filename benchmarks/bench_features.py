"""Feature-store speed on the real warehouse.

Floors (2-core machine): training frame for all ~260k player-games <= 15 s;
serving frame (spine + features) for one date <= 1 s.
Run after `nbaprops run`: python benchmarks/bench_features.py [--db FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from nbaprops.core.db import connect
from nbaprops.core.settings import get_settings
from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, serving_spine, training_spine
from nbaprops.features.state import refresh_state

TRAINING_FLOOR_S = 15.0
SERVING_FLOOR_S = 1.0
SERVING_DATES = [
    date(2023, 11, 15),
    date(2023, 12, 25),
    date(2024, 1, 20),
    date(2024, 2, 28),
    date(2024, 3, 10),
    date(2024, 4, 3),
    date(2024, 4, 24),
    date(2024, 11, 12),
    date(2025, 1, 15),
    date(2025, 3, 3),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    source = args.db or get_settings().paths.db
    if not source.exists():
        raise SystemExit(f"no warehouse at {source}: run `nbaprops run` first")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        shutil.copy(source, db)
        with connect(db) as con:
            started = time.perf_counter()
            refresh_state(con, force=True)
            state_s = time.perf_counter() - started
            started = time.perf_counter()
            spine = training_spine(con)
            frame = build_frame(con, spine, POINTS_V1)
            training_s = time.perf_counter() - started
            serving = []
            rows = []
            for day in SERVING_DATES:
                started = time.perf_counter()
                served = build_frame(con, serving_spine(con, day), POINTS_V1)
                serving.append(time.perf_counter() - started)
                rows.append(len(served))
    figures = {
        "state_refresh_s": round(state_s, 2),
        "training_rows": len(frame),
        "training_frame_s": round(training_s, 2),
        "training_floor_s": TRAINING_FLOOR_S,
        "training_with_state_refresh_s": round(training_s + state_s, 2),
        "serving_dates": len(SERVING_DATES),
        "serving_rows_median": int(statistics.median(rows)),
        "serving_frame_median_s": round(statistics.median(serving), 3),
        "serving_frame_max_s": round(max(serving), 3),
        "serving_floor_s": SERVING_FLOOR_S,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:32s} {value}")
    ok = training_s + state_s <= TRAINING_FLOOR_S and max(serving) <= SERVING_FLOOR_S
    print("floors met" if ok else "FLOOR MISSED")


if __name__ == "__main__":
    main()
