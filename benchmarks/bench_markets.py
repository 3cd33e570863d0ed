"""Every market: the walk-forward per market and phase, and one slate of every market.

Two figures (issue 26's floors):

* **walk-forward**: the spring-2024 walk-forward (2024-03-01..2024-05-24, weekly refits,
  21 warm-up days) of every market with the default systems (season_average,
  catboost_full, anchored, market), run exactly as ``nbaprops backtest --markets all``
  runs it (``run_markets``: ``--market-workers`` markets side by side, each in its own
  process; default the setting ``market_workers``, 2; 1: one after another). Per
  market, as its own run timed them: ``frames`` (states, training frame, serving slates
  with the market's decision-time lines), ``walk`` (every fold's fits, calibration,
  scoring and grading), ``report`` (the summary and the long metrics table), the total
  and its CPU seconds; overall the wall and the CPU of this process and its workers.
  Floor: 15 minutes for all markets on 2 cores.
* **predict**: one date's slate of every market scored by every system able to predict
  it (fitted beforehand on the history before the date; the fit is not timed): the
  slate (serving spine, features, decision-time lines, availability) and the one
  scoring path, per market. Floor: 10 seconds for all markets.

Without ``--db`` a warehouse is ingested from the real data (NBAPROPS_DATA_DIR) into a
temporary folder first; a warehouse whose states are stale is copied (never written).
Run: python benchmarks/bench_markets.py [--db FILE] [--markets all|a,b]
     [--start 2024-03-01] [--end 2024-05-24] [--day 2024-04-12] [--market-workers N]
     [--skip-walk] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from nbaprops.core.db import connect
from nbaprops.core.markets import Market, parse_markets
from nbaprops.core.settings import Settings
from nbaprops.experiments import backtest as bt
from nbaprops.experiments.engine import FitPolicy
from nbaprops.experiments.spec import ExperimentSpec, build_spec
from nbaprops.features.catalog import get_feature_set
from nbaprops.features.frame import build_frame, ensure_state, training_spine
from nbaprops.predictions.history import InMemoryHistory, calibration_before
from nbaprops.predictions.scoring import ScoringModel, score_date
from nbaprops.predictions.slate import build_slate

DEFAULT_SYSTEMS = ("season_average", "catboost_full", "anchored", "market")


@contextmanager
def clock() -> Iterator[dict[str, float]]:
    """Wall and CPU (user + system, this process and its threads) seconds of a block."""
    out: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield out
    finally:
        out["wall_s"] = time.perf_counter() - wall
        out["cpu_s"] = time.process_time() - cpu


@contextmanager
def warehouse(db: Path | None) -> Iterator[Path]:
    """A warehouse with fresh states: the one given (copied if its states are stale), or
    one ingested from the real data into a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        if db is None:
            from nbaprops.pipeline.jobs import ingest_job

            path = Path(tmp) / "nbaprops.duckdb"
            settings = Settings().replace(db=path)
            with connect(path) as con:
                result = ingest_job(con, settings)
                if result.report.failures:
                    raise SystemExit(f"ingest failed: {result.report.failures}")
                ensure_state(con)
            yield path
            return
        try:
            with connect(db, read_only=True) as con:
                ensure_state(con)
            yield db
        except Exception:  # stale states on a read-only warehouse: refresh a copy
            copy = Path(tmp) / "bench.duckdb"
            shutil.copy(db, copy)
            with connect(copy) as con:
                ensure_state(con)
            yield copy


def spec_for(market: Market, start: date, end: date) -> ExperimentSpec:
    return build_spec(
        {
            "name": f"bench-{market.name}",
            "systems": list(DEFAULT_SYSTEMS),
            "feature_set": market.feature_set,
            "evaluation": {"start": start, "end": end},
            "retrain_every": 7,
            "warmup_days": 21,
        }
    )


def walk_all(
    db: Path, markets: tuple[Market, ...], start: date, end: date, workers: int | None
) -> dict[str, Any]:
    """Every market's walk-forward, run exactly as ``nbaprops backtest --markets`` runs
    them (``run_markets``: ``workers`` markets side by side, each in its own process);
    per market the phases its own run timed, overall the wall and the CPU of this
    process and its worker processes."""
    settings = Settings()
    specs = [spec_for(m, start, end) for m in markets]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with clock() as all_t:
        results = bt.run_markets(db, specs, settings=settings, workers=workers)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    all_t["cpu_s"] += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    per = []
    for m, result in zip(markets, results, strict=True):
        t = result.timings
        scored = result.predictions[~result.predictions["warmup"]]
        per.append(
            {
                "market": m.name,
                "folds": len(result.plan.folds),
                "rows": len(scored),
                "lined_rows": int(scored["line"].notna().sum()),
                "frames_s": t["frames_s"],
                # every fold's fits, calibration, scoring and grading
                "walk_s": t["total_s"] - t["frames_s"],
                "report_s": t["report_s"],
                "total_s": t["total_s"] + t["report_s"],
                "cpu_s": t["cpu_s"],
            }
        )
    return {
        "workers": min(settings.models.market_workers if workers is None else workers, len(specs)),
        "markets": per,
        "wall_s": all_t["wall_s"],
        "cpu_s": all_t["cpu_s"],
    }


def fitted_models(con: duckdb.DuckDBPyConnection, market: Market, day: date) -> list[ScoringModel]:
    """Every default system of a market fitted on the history before ``day`` (untimed)."""
    spec = spec_for(market, day, day)
    fs = get_feature_set(market.feature_set)
    train = build_frame(con, training_spine(con, None, day - timedelta(days=1)), fs)
    policy = FitPolicy(spec, 2)
    fits = policy.fit(list(DEFAULT_SYSTEMS), train, day - timedelta(days=1))
    # no graded record yet: each system's calibration as a first fold has it
    history = InMemoryHistory()
    return [
        ScoringModel(s, fits[s], calibration_before(history, s, day, fits[s]))
        for s in DEFAULT_SYSTEMS
    ]


def predict(
    con: duckdb.DuckDBPyConnection, markets: tuple[Market, ...], day: date
) -> dict[str, Any]:
    """One slate of every market, every default system: slate and scoring timed."""
    models = {m.name: fitted_models(con, m, day) for m in markets}
    per: dict[str, Any] = {}
    with clock() as all_t:
        for m in markets:
            fs = get_feature_set(m.feature_set)
            with clock() as slate_t:
                slate = build_slate(con, [day], fs, minutes_before_tip=30)
            with clock() as score_t:
                scored = (
                    score_date(slate.frame, models[m.name], ev_margin=0.02, books=slate.books)
                    if len(slate.frame)
                    else slate.frame
                )
            per[m.name] = {
                "rows": len(slate.frame),
                "scored_rows": len(scored),
                "slate": slate_t,
                "score": score_t,
            }
    return {"day": str(day), "markets": per, "total": all_t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--markets", default="all")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 5, 24))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2024, 4, 12))
    parser.add_argument("--skip-walk", action="store_true", help="time the slate only")
    parser.add_argument(
        "--market-workers",
        type=int,
        default=None,
        help="markets walked side by side (default: the setting market_workers, 2)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    markets = parse_markets(args.markets)
    out: dict[str, Any] = {"cores": os.cpu_count(), "systems": list(DEFAULT_SYSTEMS)}
    with warehouse(args.db) as db, connect(db, read_only=True) as con:
        if not args.skip_walk:
            walked = walk_all(db, markets, args.start, args.end, args.market_workers)
            out["walk_forward"] = walked
            out["walk_forward_total_s"] = walked["wall_s"]
            out["walk_forward_floor_s"] = 15 * 60
            if not args.json:
                for w in walked["markets"]:
                    print(
                        f"{w['market']:>9}: {w['folds']} folds, {w['rows']:,} rows "
                        f"({w['lined_rows']:,} lined) | frames {w['frames_s']:6.1f}s "
                        f"walk {w['walk_s']:6.1f}s report {w['report_s']:5.1f}s "
                        f"| total {w['total_s']:6.1f}s wall, {w['cpu_s']:6.1f}s CPU",
                        flush=True,
                    )
        out["predict"] = predict(con, markets, args.day)
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
        return
    if not args.skip_walk:
        w = out["walk_forward"]
        verdict = "PASS" if w["wall_s"] <= 15 * 60 else "FAIL"
        print(
            f"walk-forward, {len(markets)} markets, {w['workers']} side by side: "
            f"{w['wall_s']:.0f} s wall, {w['cpu_s']:.0f} s CPU (floor 900 s): {verdict}"
        )
    p = out["predict"]
    for name, r in p["markets"].items():
        print(
            f"predict {p['day']} {name:>9}: {r['rows']:4d} rows | slate "
            f"{r['slate']['wall_s']:.2f}s score {r['score']['wall_s']:.2f}s"
        )
    verdict = "PASS" if p["total"]["wall_s"] <= 10 else "FAIL"
    print(f"predict, every market and system: {p['total']['wall_s']:.2f} s (floor 10 s): {verdict}")


if __name__ == "__main__":
    main()
