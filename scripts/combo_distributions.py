"""Component backtests that keep their predictive distributions, for combo simulation.

A backtest run folder's predictions.parquet holds each row's mean, median and P(over) but
not its predictive quantiles (nor a count market's pmf), which the joint simulation of a
combo draws from. Two ways to get them, both the backtest's own walk-forward:

* ``--plan PLAN.json --out RUNS``: run each spec of ``nbaprops backtest ... --plan-only
  --json`` (the CLI's specs, exactly) and write its run folder as ``backtest`` does
  (report.json, predictions.parquet, ...) plus ``distributions.parquet``;
* ``RUN_FOLDER ...``: re-run a folder's spec (its report.json), check the re-run's means
  and medians equal the folder's, and add ``distributions.parquet`` to it.

distributions.parquet: system, player_id, game_date, mean, median_model, quantiles, pmf.
Run: python scripts/combo_distributions.py (--plan PLAN.json --out RUNS | RUN_FOLDER ...)
--db WAREHOUSE
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import get_settings
from nbaprops.experiments.combos import KEY, component_backtest
from nbaprops.experiments.report import run_dir, write_report
from nbaprops.experiments.spec import build_spec


def _write(dists: pd.DataFrame, folder: Path) -> Path:
    out = folder / "distributions.parquet"
    tmp = out.with_suffix(".tmp")
    dists.to_parquet(tmp, index=False)
    tmp.replace(out)
    return out


def from_plan(plan: Path, out: Path, db: Path) -> list[Path]:
    data: Any = json.loads(plan.read_text())
    entries = data if isinstance(data, list) else [data]
    specs = [build_spec(e["spec"]) for e in entries]
    settings = get_settings(db=db)
    written = []
    with connect(db, read_only=True) as con:
        for spec in specs:
            result, dists = component_backtest(spec, con, settings)
            folder = run_dir(out, spec.name)
            write_report(result, folder)
            written.append(_write(dists, folder))
            print(written[-1], flush=True)
    return written


def to_folder(folder: Path, db: Path) -> Path:
    report = folder / "report.json"
    if not report.is_file():
        raise NbapropsError(f"{folder} is not a run folder (no report.json)")
    spec = build_spec(json.loads(report.read_text())["spec"])
    with connect(db, read_only=True) as con:
        _, dists = component_backtest(spec, con, get_settings(db=db))
    preds = pd.read_parquet(folder / "predictions.parquet")
    preds["game_date"] = pd.to_datetime(preds["game_date"])
    rerun = dists.set_index(KEY)[["mean", "median_model"]].add_suffix("_rerun")
    joined = preds.set_index(KEY)[["mean", "median_model"]].join(rerun, how="inner")
    if len(joined) != len(preds) or len(dists) != len(preds):
        raise NbapropsError(
            f"{folder}: the re-run scored {len(dists)} rows, the folder holds {len(preds)}"
        )
    for col in ("mean", "median_model"):
        if not np.allclose(joined[col], joined[f"{col}_rerun"], atol=1e-6):
            worst = float(np.max(np.abs(joined[col] - joined[f"{col}_rerun"])))
            raise NbapropsError(f"{folder}: the re-run's {col} differs (by up to {worst:.4g})")
    return _write(dists, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    try:
        if not args.db.is_file():
            raise NbapropsError(f"no warehouse at {args.db}")
        if args.plan is not None:
            if args.folders or args.out is None:
                raise NbapropsError("--plan takes --out and no run folders")
            from_plan(args.plan, args.out, args.db)
        elif args.folders:
            for folder in args.folders:
                print(to_folder(folder, args.db), flush=True)
        else:
            raise NbapropsError("give run folders, or --plan PLAN.json --out RUNS")
    except NbapropsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
