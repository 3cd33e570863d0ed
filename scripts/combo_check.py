"""A combo's direct model checked against the sum of its components' models.

Reads the run folders of one ``backtest --markets`` run (a combo such as pra and its
components points, rebounds, assists) and, for each system, on the player-games every
one of those runs predicted and that were played: the direct model's MAE and bias, and
those of the sum of the component models' means (and medians), with the share of rows
where the direct median and the components' summed mean sit more than 2 apart.
Run: python scripts/combo_check.py RUN_FOLDER ... [--combo pra] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core.markets import get_market

KEY = ["system", "player_id", "game_date"]


def _market(folder: Path) -> str:
    return str(json.loads((folder / "report.json").read_text()).get("market", "points"))


def check(folders: list[Path], combo: str) -> list[dict[str, Any]]:
    runs = {_market(f): pd.read_parquet(f / "predictions.parquet") for f in folders}
    market = get_market(combo)
    missing = [m for m in (combo, *market.components) if m not in runs]
    if missing:
        raise SystemExit(f"no run folder for {', '.join(missing)}")

    def rows(name: str) -> pd.DataFrame:
        p = runs[name]
        p = p[~p["warmup"].astype(bool) & p["played"].astype(bool)]
        return p[[*KEY, "actual", "median_model", "mean"]].set_index(KEY)

    joined = rows(combo)
    for part in market.components:
        joined = joined.join(rows(part).add_prefix(f"{part}_"), how="inner")
    out = []
    for system, g in joined.groupby(level="system"):
        actual = g["actual"].to_numpy()
        direct = g["median_model"].to_numpy()
        sum_mean = sum(g[f"{p}_mean"].to_numpy() for p in market.components)
        sum_median = sum(g[f"{p}_median_model"].to_numpy() for p in market.components)
        parts = sum(g[f"{p}_actual"].to_numpy() for p in market.components)
        out.append(
            {
                "system": str(system),
                "combo": combo,
                "rows": len(g),
                "outcome_is_the_sum": bool(np.array_equal(parts, actual)),
                "direct_mae": float(np.mean(np.abs(direct - actual))),
                "direct_bias": float(np.mean(direct - actual)),
                "direct_mean_bias": float(np.mean(g["mean"].to_numpy() - actual)),
                "sum_of_means_mae": float(np.mean(np.abs(sum_mean - actual))),
                "sum_of_means_bias": float(np.mean(sum_mean - actual)),
                "sum_of_medians_mae": float(np.mean(np.abs(sum_median - actual))),
                "apart_more_than_2": float(np.mean(np.abs(direct - sum_mean) > 2)),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--combo", default="pra")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = check(args.folders, args.combo)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for r in result:
        print(
            f"{r['combo']} {r['system']:>15}: {r['rows']:,} rows | direct MAE "
            f"{r['direct_mae']:.3f} (bias {r['direct_bias']:+.3f}) | sum of component means "
            f"MAE {r['sum_of_means_mae']:.3f} (bias {r['sum_of_means_bias']:+.3f}) | sum of "
            f"medians MAE {r['sum_of_medians_mae']:.3f} | apart > 2: "
            f"{100 * r['apart_more_than_2']:.1f}%"
        )


if __name__ == "__main__":
    main()
