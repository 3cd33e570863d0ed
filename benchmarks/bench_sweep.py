"""Sweep speed: the example sweep run in one process, then on a local Dask cluster.

Both runs read the warehouse once per distinct set of frames (on the driver, read-only)
and walk every config forward; the parallel wall time includes starting and stopping
the cluster and shipping the frames to each worker. Every run's predictions must be
identical between the two (seeded CatBoost on one thread per run).
Run: python benchmarks/bench_sweep.py [--db FILE] [--sweep FILE] [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nbaprops.core.db import connect
from nbaprops.core.settings import get_settings
from nbaprops.experiments.sweep import SweepOutcome, expand, load_sweep, ranked, run_sweep

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SWEEP = REPO / "experiments" / "sweep_catboost_window.yaml"


def identical(a: SweepOutcome, b: SweepOutcome) -> bool:
    """Every run succeeded in both and its predictions are equal, cell for cell."""
    for one, other in zip(a.results, b.results, strict=True):
        if one.result is None or other.result is None:
            return False
        if not one.result.predictions.equals(other.result.predictions):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--sweep", type=Path, default=DEFAULT_SWEEP)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or get_settings().paths.db
    sweep = load_sweep(args.sweep)
    specs = expand(sweep)
    with connect(db, read_only=True) as con:
        sequential = run_sweep(con, specs, sequential=True)
        parallel = run_sweep(con, specs, n_workers=args.workers)
    table = ranked(parallel, sweep.metric)
    figures = {
        "sweep": sweep.name,
        "configs": len(specs),
        "failed_runs": len(sequential.failures) + len(parallel.failures),
        "frames_build_s": round(sequential.frames_s, 2),
        "sequential_wall_s": round(sequential.wall_s, 2),
        "parallel_mode": parallel.mode,
        "parallel_wall_s": round(parallel.wall_s, 2),
        "sequential_over_parallel": round(sequential.wall_s / parallel.wall_s, 2),
        "runs_only_ratio": round(
            (sequential.wall_s - sequential.frames_s) / (parallel.wall_s - parallel.frames_s), 2
        ),
        "predictions_identical": identical(sequential, parallel),
        f"best_by_{sweep.metric}": table[0]["name"],
        f"best_{sweep.metric}": table[0]["value"],
        f"best_{sweep.metric}_n": table[0]["n"],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:30s} {value}")
        print("identical" if figures["predictions_identical"] else "PREDICTIONS DIFFER")


if __name__ == "__main__":
    main()
