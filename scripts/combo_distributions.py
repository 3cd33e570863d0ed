"""Keep the predictive distributions of a backtest run folder's rows, for combo simulation.

A run folder's predictions.parquet holds each row's mean, median and P(over) but not its
predictive quantiles (nor a count market's pmf). This re-runs the folder's own spec (from
its report.json: same folds, fits and seeds) on the warehouse, checks the re-run's
medians and means equal the folder's, and writes ``distributions.parquet`` into the
folder (system, player_id, game_date, mean, median_model, quantiles, pmf), which
``scripts/combo_calibration.py`` reads for the component markets.
Run: python scripts/combo_distributions.py RUN_FOLDER ... --db WAREHOUSE
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.experiments.combos import KEY, component_distributions
from nbaprops.experiments.spec import build_spec


def keep(folder: Path, db: Path) -> Path:
    report = folder / "report.json"
    if not report.is_file():
        raise NbapropsError(f"{folder} is not a run folder (no report.json)")
    spec = build_spec(json.loads(report.read_text())["spec"])
    settings = Settings(db=str(db))
    with connect(db, read_only=True) as con:
        dists = component_distributions(spec, con, settings)
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
    out = folder / "distributions.parquet"
    tmp = out.with_suffix(".tmp")
    dists.to_parquet(tmp, index=False)
    tmp.replace(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    try:
        for folder in args.folders:
            print(keep(folder, args.db), flush=True)
    except NbapropsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
