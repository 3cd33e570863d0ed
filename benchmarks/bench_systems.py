"""Systems speed and quality: fit seconds of the boosted systems, MAE of every system.

Speed: one fit of ``catboost_full`` and ``xgboost`` on the latest ~100k and on all
(~230k) player-games before the holdout month. Quality: every system fitted on all
games before the holdout month and judged on that month (all player-games, and
lined ones against the line's own MAE). The ensemble uses equal weights here
(its weights come from earlier folds' out-of-fold predictions in the backtest).

Floors (2-core machine): catboost_full <= 60 s and xgboost <= 20 s on 100k rows.
Run: python benchmarks/bench_systems.py [--db PATH] [--holdout 2024-03] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, training_spine
from nbaprops.systems import (
    BASELINE_ID,
    MEMBER_SYSTEM_IDS,
    EnsembleSystem,
    PredictionSystem,
    PredictiveDistribution,
    make_system,
)

FLOORS_100K_S = {"catboost_full": 60.0, "xgboost": 20.0}
SIZES = {"100k": 100_000, "230k": 230_000}


def _frames(db: Path, holdout: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    month_end = (pd.Timestamp(holdout) + pd.offsets.MonthEnd(0)).date()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.duckdb"
        shutil.copy(db, copy)  # states may need a refresh: never write the user's warehouse
        with connect(copy) as con:
            return _frames_from(con, holdout, month_end)


def _frames_from(con: Any, holdout: date, month_end: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = build_frame(con, training_spine(con, None, holdout - pd.Timedelta(days=1)), POINTS_V1)
    test = build_frame(con, training_spine(con, holdout, month_end), POINTS_V1)
    return train, test


def _fit_seconds(system_id: str, frame: pd.DataFrame) -> float:
    system = make_system(system_id)
    started = time.perf_counter()
    system.fit(frame, frame["points"])
    return time.perf_counter() - started


def _quality(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, dict[str, Any]]:
    y = test["points"].to_numpy()
    lined = test["has_line"].to_numpy() == 1
    dists: dict[str, PredictiveDistribution] = {}
    fitted: dict[str, PredictionSystem] = {}
    fit_s: dict[str, float] = {}
    for system_id in MEMBER_SYSTEM_IDS:
        system = make_system(system_id)
        assert isinstance(system, PredictionSystem)
        started = time.perf_counter()
        system.fit(train, train["points"])
        fit_s[system_id] = time.perf_counter() - started
        fitted[system_id] = system
        dists[system_id] = system.predict_dist(test)
    members = tuple(s for s in MEMBER_SYSTEM_IDS if s != BASELINE_ID)
    ensemble = EnsembleSystem(members=members).compose(fitted)  # no record: equal weights
    dists["ensemble"] = ensemble.predict_dist_from(dists)
    floor = float(np.mean(np.abs(dists[BASELINE_ID].median - y)))
    out: dict[str, dict[str, Any]] = {}
    for system_id, dist in dists.items():
        err = np.abs(dist.median - y)
        inside = (y >= dist.quantiles[:, 1]) & (y <= dist.quantiles[:, 17])
        out[system_id] = {
            "mae": round(float(err.mean()), 3),
            "vs_season_average_pct": round(100 * (1 - float(err.mean()) / floor), 1),
            "mae_lined": round(float(err[lined].mean()), 3) if lined.any() else None,
            "coverage_80": round(float(inside.mean()), 3),
            "fit_s": round(fit_s[system_id], 1) if system_id in fit_s else None,
        }
    if lined.any():
        line_err = np.abs(test["points_line"].to_numpy() - y)[lined]
        out["line"] = {"mae_lined": round(float(line_err.mean()), 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None, help="warehouse (default NBAPROPS_DB)")
    parser.add_argument("--holdout", default="2024-03", help="holdout month, YYYY-MM")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or Settings().paths.db
    holdout = date.fromisoformat(f"{args.holdout}-01")
    started = time.perf_counter()
    train, test = _frames(db, holdout)
    frame_s = time.perf_counter() - started
    ordered = train.sort_values("game_date", kind="stable")
    speed: dict[str, dict[str, float]] = {}
    rows: dict[str, int] = {}
    for label, size in SIZES.items():
        part = ordered.iloc[-size:].reset_index(drop=True)
        rows[label] = len(part)
        speed[label] = {
            sid: round(_fit_seconds(sid, part), 1) for sid in ("catboost_full", "xgboost")
        }
    figures = {
        "db": str(db),
        "frame_build_s": round(frame_s, 1),
        "train_rows": rows,
        "fit_s": speed,
        "floors_100k_s": FLOORS_100K_S,
        "holdout": {"month": args.holdout, "rows": len(test), "lined": int(test["has_line"].sum())},
        "quality": _quality(train, test),
    }
    ok = all(speed["100k"][sid] <= floor for sid, floor in FLOORS_100K_S.items())
    figures["floors_met"] = ok
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"frame build        {figures['frame_build_s']} s ({len(train)} + {len(test)} rows)")
    for label in SIZES:
        cells = "  ".join(f"{sid} {s:.1f} s" for sid, s in speed[label].items())
        print(f"fit on {rows[label]:>7} rows  {cells}")
    print(f"holdout {args.holdout}: {len(test)} player-games, {int(test['has_line'].sum())} lined")
    for system_id, q in figures["quality"].items():
        print(f"  {system_id:16s} " + "  ".join(f"{k} {v}" for k, v in q.items()))
    print("floors met" if ok else "FLOOR MISSED")


if __name__ == "__main__":
    main()
