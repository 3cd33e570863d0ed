"""Daily operations speed: predict one date with every system, backfill 80 dates.

Setup (not timed): on a scratch copy of the warehouse, every member system is fitted
on all games before ``--train-end`` and registered with an alias of its own (each
system's champion), as a daily job would find them. Then:

- predict one date for all systems (slate, features, decision-time lines, seven
  models, line shopping, writes): the median of ``--repeats`` forced re-predictions;
- backfill predictions for 80 game dates with those models already trained (one
  predict per date, each written in its own transactions).

Floors (2-core machine): one date <= 5 s (aim 1 s); 80 dates <= 300 s.
Run: python benchmarks/bench_daily.py [--db PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings, get_settings
from nbaprops.experiments.backtest import eval_game_dates
from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, training_spine
from nbaprops.models.calibration import Calibration
from nbaprops.models.registry import register_version
from nbaprops.pipeline.backfill import backfill_with_aliases
from nbaprops.pipeline.daily import predict_job
from nbaprops.systems import MEMBER_SYSTEM_IDS, make_system
from nbaprops.warehouse.migrate import migrate

FLOOR_ONE_DATE_S = 5.0
FLOOR_80_DATES_S = 300.0


def _register_all(con: Any, settings: Settings, train_end: date) -> dict[str, float]:
    spine = training_spine(con, None, train_end)
    train = build_frame(con, spine, POINTS_V1)
    fit_s: dict[str, float] = {}
    for system_id in MEMBER_SYSTEM_IDS:
        started = time.perf_counter()
        system = make_system(system_id, random_state=7).fit(
            train, train["points"].to_numpy(dtype=float)
        )
        fit_s[system_id] = time.perf_counter() - started
        version = register_version(
            con,
            system=system,
            calibration=Calibration.identity(),
            oos=pd.DataFrame({"game_date": pd.Series(dtype="datetime64[ns]")}),
            experiment_id="benchmark",
            mode="shared",
            feature_set=POINTS_V1,
            eval_window="benchmark",
            metrics={},
            train_start=None,
            train_end=train_end,
            train_rows=len(train),
            code_commit=None,
            code_dirty=None,
            artifacts_root=settings.resolved_artifacts_dir(),
        )
        # benchmark setup only: every system serves as its own champion
        con.execute(
            "INSERT OR REPLACE INTO models.alias VALUES (?, 'champion', ?, now())",
            [system_id, version.version],
        )
    return fit_s


def run(db: Path, train_end: date, day: date, first: date, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.duckdb"
        shutil.copy(db, copy)
        settings = Settings(db=copy, runs_dir=Path(tmp) / "runs")
        with connect(copy) as con:
            migrate(con)
            fit_s = _register_all(con, settings, train_end)
            predict_job(con, settings, day)  # first call warms caches (not timed)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                result = predict_job(con, settings, day, force=True)
                times.append(time.perf_counter() - started)
            dates = eval_game_dates(con, first, first + timedelta(days=120))[:80]
            started = time.perf_counter()
            backfill = backfill_with_aliases(con, settings, dates[0], dates[-1])
            backfill_s = time.perf_counter() - started
    return {
        "setup_fit_s": {k: round(v, 2) for k, v in fit_s.items()},
        "one_date": {
            "date": str(day),
            "systems": len(result.writes),
            "rows": sum(w.written for w in result.writes),
            "median_s": round(statistics.median(times), 3),
            "worst_s": round(max(times), 3),
            "floor_s": FLOOR_ONE_DATE_S,
        },
        "backfill": {
            "first": str(dates[0]),
            "last": str(dates[-1]),
            "dates": backfill.dates,
            "rows": backfill.rows_written,
            "seconds": round(backfill_s, 1),
            "per_date_s": round(backfill_s / max(backfill.dates, 1), 3),
            "floor_s": FLOOR_80_DATES_S,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--train-end", type=date.fromisoformat, default=date(2023, 12, 31))
    parser.add_argument("--date", type=date.fromisoformat, default=date(2024, 4, 12))
    parser.add_argument("--first", type=date.fromisoformat, default=date(2024, 1, 2))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or get_settings().db
    out = run(db, args.train_end, args.date, args.first, args.repeats)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"setup fits (s): {out['setup_fit_s']}")
    one = out["one_date"]
    print(
        f"predict {one['date']} with {one['systems']} systems ({one['rows']:,} rows): "
        f"median {one['median_s']:.2f} s, worst {one['worst_s']:.2f} s "
        f"(floor {one['floor_s']:g} s)"
    )
    bf = out["backfill"]
    print(
        f"backfill {bf['dates']} dates {bf['first']}..{bf['last']} ({bf['rows']:,} rows): "
        f"{bf['seconds']:.1f} s, {bf['per_date_s']:.2f} s per date (floor {bf['floor_s']:g} s)"
    )


if __name__ == "__main__":
    main()
