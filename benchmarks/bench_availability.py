"""Availability speed (issue 24): ingest of three seasons of injury reports, and the
daily slate with the availability features.

(a) ``ingest_job`` of the availability folder alone (the three season files, mirrored
with symlinks), timed end to end (load, core rebuild, feature-state refresh):
  - into a fresh migrated warehouse (nothing to match the names against);
  - into a copy of a warehouse that already has the box scores (``--db``, default the
    dev warehouse without availability), where matching names to players does real
    work and the feature states are rebuilt.
(b) the slate of one date (``build_slate(con, [day], fs, minutes_before_tip=30)``:
decision-time lines, serving spine, features) for points_v3 and, for comparison,
points_v1, on the warehouse of (a); median of ``--repeats``. The whole predict with
every system is not timed here: it needs models registered on points_v3.

Floors (2-core machine): each ingest <= 15 s; the points_v3 slate <= 5 s.
Run: python benchmarks/bench_availability.py [--db PATH] [--data-dir DIR] [--date D]
[--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings, get_settings
from nbaprops.features.catalog import POINTS_V1, POINTS_V3
from nbaprops.pipeline.jobs import ingest_job
from nbaprops.predictions.slate import build_slate

FLOOR_INGEST_S = 15.0
FLOOR_SLATE_S = 5.0
DEFAULT_DB = Path("/work/dev/base.duckdb")


def availability_only(data_dir: Path, into: Path) -> Path:
    """A data folder holding only the availability season files (symlinks)."""
    folder = into / "availability"
    folder.mkdir(parents=True)
    for season in sorted((data_dir / "availability").glob("*.csv*")):
        (folder / season.name).symlink_to(season.resolve())
    return into


def timed_ingest(db: Path, data: Path) -> dict[str, Any]:
    settings = Settings(data_dir=data, db=db, archive_dir=db.parent / "archive")
    with connect(db) as con:
        started = time.perf_counter()
        result = ingest_job(con, settings)
        seconds = time.perf_counter() - started
        entries, matched = con.execute(
            "SELECT count(*) FILTER (WHERE player IS NOT NULL), count(player_id) "
            "FROM core.availability"
        ).fetchone() or (0, 0)
    files = result.report.results
    return {
        "seconds": round(seconds, 2),
        "rows_loaded": sum(r.n_loaded for r in files),
        "rows_quarantined": sum(r.n_quarantined for r in files),
        "files_failed": sum(r.status == "failed" for r in files),
        "builds_s": {b.table: round(b.seconds, 2) for b in result.builds},
        "features_refreshed": result.features_refreshed,
        "matched_share": round(matched / entries, 4) if entries else 0.0,
        "floor_s": FLOOR_INGEST_S,
        "verdict": "PASS" if seconds <= FLOOR_INGEST_S else "FAIL",
    }


def timed_slate(db: Path, day: date, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {"date": str(day), "floor_s": FLOOR_SLATE_S}
    with connect(db, read_only=True) as con:
        for fs in (POINTS_V3, POINTS_V1):
            build_slate(con, [day], fs, minutes_before_tip=30)  # warm-up, not timed
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                slate = build_slate(con, [day], fs, minutes_before_tip=30)
                times.append(time.perf_counter() - started)
            out[fs.key] = {
                "rows": len(slate.frame),
                "features": len(fs.features),
                "median_s": round(statistics.median(times), 3),
                "worst_s": round(max(times), 3),
            }
    v3 = out[POINTS_V3.key]["median_s"]
    out["verdict"] = "PASS" if v3 <= FLOOR_SLATE_S else "FAIL"
    return out


def run(db: Path, data_dir: Path, day: date, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = availability_only(data_dir, root / "data")
        empty = timed_ingest(root / "empty" / "nbaprops.duckdb", data)
        copy = root / "boxed" / "nbaprops.duckdb"
        copy.parent.mkdir()
        shutil.copy(db, copy)
        boxed = timed_ingest(copy, data)
        slate = timed_slate(copy, day, repeats)
    return {
        "ingest_empty": empty,
        "ingest_with_box_scores": boxed,
        "slate": slate,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", type=Path, default=None, help="a warehouse with box scores, no availability"
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2024, 3, 12))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or (DEFAULT_DB if DEFAULT_DB.exists() else get_settings().paths.db)
    data_dir = Path(args.data_dir or get_settings().paths.data_dir)
    out = run(db, data_dir, args.date, args.repeats)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for key, label in (
        ("ingest_empty", "ingest reports into a fresh warehouse"),
        ("ingest_with_box_scores", "ingest reports into a warehouse with box scores"),
    ):
        r = out[key]
        builds = ", ".join(f"{k} {v:.2f}" for k, v in r["builds_s"].items())
        print(
            f"{label}: {r['seconds']:.2f} s [{r['verdict']} <= {r['floor_s']:g} s]; "
            f"{r['rows_loaded']:,} rows, {r['rows_quarantined']} quarantined, "
            f"{r['files_failed']} files failed; matched {100 * r['matched_share']:.2f}%; "
            f"builds (s): {builds}; feature states rebuilt: {r['features_refreshed']}"
        )
    s = out["slate"]
    for fs in (POINTS_V3.key, POINTS_V1.key):
        r = s[fs]
        print(
            f"slate {s['date']} {fs} ({r['features']} features, {r['rows']} rows): "
            f"median {r['median_s']:.2f} s, worst {r['worst_s']:.2f} s"
        )
    print(f"points_v3 slate [{s['verdict']} <= {s['floor_s']:g} s]")
    print(f"machine: {out['cpus']} CPUs, load average (1 min) {out['load_average_1min']}")


if __name__ == "__main__":
    main()
