"""Every market: the walk-forward per market and phase, and one slate of every market.

Two figures (issue 26's floors):

* **walk-forward**: the spring-2024 walk-forward (2024-03-01..2024-05-24, weekly refits,
  21 warm-up days) of every market with the default systems (season_average,
  catboost_full, anchored, market), run exactly as ``nbaprops backtest --markets all``
  runs it, one market after another. Per market: ``frames`` (states, training frame,
  serving slates with the market's decision-time lines), ``walk`` (every fold's fits,
  calibration, scoring and grading), ``report`` (the summary and the long metrics
  table, inside ``run_on_frames``, timed apart here) and the total; wall and CPU
  seconds. Floor: 15 minutes for all markets on 2 cores.
* **predict**: one date's slate of every market scored by every system able to predict
  it (fitted beforehand on the history before the date; the fit is not timed): the
  slate (serving spine, features, decision-time lines, availability) and the one
  scoring path, per market. Floor: 10 seconds for all markets.

Without ``--db`` a warehouse is ingested from the real data (NBAPROPS_DATA_DIR) into a
temporary folder first; a warehouse whose states are stale is copied (never written).
Run: python benchmarks/bench_markets.py [--db FILE] [--markets all|a,b]
     [--start 2024-03-01] [--end 2024-05-24] [--day 2024-04-12] [--skip-walk] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
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
from nbaprops.experiments.report import metrics_table
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


def walk(con: duckdb.DuckDBPyConnection, market: Market, start: date, end: date) -> dict[str, Any]:
    """One market's walk-forward, by phase."""
    spec = spec_for(market, start, end)
    settings = Settings()
    with clock() as frames_t:
        frames = bt.prepare_frames(con, spec)
    summarize_t: dict[str, float] = {"wall_s": 0.0, "cpu_s": 0.0}
    original = bt.summarize

    def timed_summarize(*args: Any, **kwargs: Any) -> dict[str, Any]:
        with clock() as t:
            out = original(*args, **kwargs)
        summarize_t["wall_s"] += t["wall_s"]
        summarize_t["cpu_s"] += t["cpu_s"]
        return out

    bt.summarize = timed_summarize  # type: ignore[assignment]
    try:
        with clock() as run_t:
            result = bt.run_on_frames(frames, spec, settings=settings)
    finally:
        bt.summarize = original  # type: ignore[assignment]
    with clock() as table_t:
        metrics_table(result.summary)
    scored = result.predictions[~result.predictions["warmup"]]
    return {
        "market": market.name,
        "folds": len(result.plan.folds),
        "rows": len(scored),
        "lined_rows": int(scored["line"].notna().sum()),
        "frames": frames_t,
        "walk": {k: run_t[k] - summarize_t[k] for k in run_t},
        "report": {k: summarize_t[k] + table_t[k] for k in run_t},
        "total": {k: frames_t[k] + run_t[k] + table_t[k] for k in run_t},
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    markets = parse_markets(args.markets)
    out: dict[str, Any] = {"cores": os.cpu_count(), "systems": list(DEFAULT_SYSTEMS)}
    with warehouse(args.db) as db, connect(db, read_only=True) as con:
        if not args.skip_walk:
            out["walk_forward"] = []
            for m in markets:
                out["walk_forward"].append(walk(con, m, args.start, args.end))
                if not args.json:
                    w = out["walk_forward"][-1]
                    print(
                        f"{m.name:>9}: {w['folds']} folds, {w['rows']:,} rows "
                        f"({w['lined_rows']:,} lined) | frames {w['frames']['wall_s']:6.1f}s "
                        f"walk {w['walk']['wall_s']:6.1f}s report {w['report']['wall_s']:5.1f}s "
                        f"| total {w['total']['wall_s']:6.1f}s wall, "
                        f"{w['total']['cpu_s']:6.1f}s CPU",
                        flush=True,
                    )
            total = sum(w["total"]["wall_s"] for w in out["walk_forward"])
            out["walk_forward_total_s"] = total
            out["walk_forward_floor_s"] = 15 * 60
        out["predict"] = predict(con, markets, args.day)
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
        return
    if not args.skip_walk:
        verdict = "PASS" if out["walk_forward_total_s"] <= 15 * 60 else "FAIL"
        print(
            f"walk-forward, {len(markets)} markets: {out['walk_forward_total_s']:.0f} s "
            f"(floor 900 s): {verdict}"
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
