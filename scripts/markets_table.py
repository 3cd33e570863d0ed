"""Every market's honest figures from backtest run folders, as one markdown table.

Reads each folder's ``metrics.csv`` (the long metrics table) and ``report.json`` (its
market) and prints, per market, line kind and system: the lined rows, model MAE against
the line's on the same rows, Brier minus the de-vigged market's with its paired 95%
interval, ECE, CLV, and the bets by side with hit rate [95% CI] and ROI at the price
taken (the book, line and price line shopping chose). DFS rows have no prices: their
ROI is shown as "—" (their figures are slips, ``docs/slips.md``).
``--half-lines`` instead prints each system's Brier minus the market's on half lines
only (no push can play a part), with a 95% interval from 1,000 date-block bootstraps.
Run: python scripts/markets_table.py RUN_FOLDER [RUN_FOLDER ...] [--systems a,b]
     [--half-lines] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ORDER = ("season_average", "catboost_full", "anchored", "market")


def _market(folder: Path) -> str:
    report = json.loads((folder / "report.json").read_text())
    if "market" in report:
        return str(report["market"])
    return str(report["spec"]["feature_set"]).rsplit("_v", 1)[0]


def rows_of(folder: Path, systems: tuple[str, ...]) -> list[dict[str, Any]]:
    metrics = pd.read_csv(folder / "metrics.csv")
    market = _market(folder)
    out = []
    for (system, kind), block in metrics.groupby(["system", "line_kind"], sort=False):
        if kind == "all" or system not in systems:
            continue

        def get(
            metric: str, side: str = "all", field: str = "value", block: pd.DataFrame = block
        ) -> float:
            hit = block[(block["metric"] == metric) & (block["side"] == side)]
            return float(hit[field].iloc[0]) if len(hit) else math.nan

        row: dict[str, Any] = {
            "market": market,
            "line_kind": kind,
            "system": system,
            "n": int(get("model_mae", field="n")),
            "model_mae": get("model_mae"),
            "line_mae": get("line_mae"),
            "brier": get("brier"),
            "brier_minus_market": get("brier_minus_market"),
            "brier_diff_low": get("brier_minus_market", field="ci_low"),
            "brier_diff_high": get("brier_minus_market", field="ci_high"),
            "ece": get("ece"),
            "clv": get("clv_line"),
        }
        for side in ("over", "under"):
            row[f"{side}_bets"] = get("hit_rate", side, "n")
            row[f"{side}_hit"] = get("hit_rate", side)
            row[f"{side}_low"] = get("hit_rate", side, "ci_low")
            row[f"{side}_high"] = get("hit_rate", side, "ci_high")
            row[f"{side}_roi"] = get("roi_best", side)
        out.append(row)
    out.sort(key=lambda r: (r["line_kind"], systems.index(r["system"])))
    return out


def _pct(v: float) -> str:
    return "—" if v is None or math.isnan(v) else f"{100 * v:.1f}%"


def _num(v: float, fmt: str) -> str:
    return "—" if v is None or math.isnan(v) else format(v, fmt)


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| market | lines | system | N | model MAE | line MAE | Brier − market [95% CI] | ECE "
        "| CLV | over: bets, hit [CI], ROI | under: bets, hit [CI], ROI |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        brier = (
            "—"
            if math.isnan(r["brier_minus_market"])
            else f"{r['brier_minus_market']:+.4f} [{r['brier_diff_low']:+.4f}, "
            f"{r['brier_diff_high']:+.4f}]"
        )
        sides = []
        for side in ("over", "under"):
            n = r[f"{side}_bets"]
            roi = "—" if r["line_kind"] == "dfs" else _pct(r[f"{side}_roi"])
            sides.append(
                "—"
                if math.isnan(n)
                else f"{int(n):,}, {_pct(r[f'{side}_hit'])} [{_pct(r[f'{side}_low'])}, "
                f"{_pct(r[f'{side}_high'])}], {roi}"
            )
        lines.append(
            f"| {r['market']} | {r['line_kind']} | {r['system']} | {r['n']:,} "
            f"| {_num(r['model_mae'], '.3f')} | {_num(r['line_mae'], '.3f')} | {brier} "
            f"| {_num(r['ece'], '.4f')} | {_num(r['clv'], '+.3f')} | {sides[0]} | {sides[1]} |"
        )
    return "\n".join(lines)


def half_lines(folder: Path, systems: tuple[str, ...]) -> list[dict[str, Any]]:
    """Brier minus the market's on the played half-line rows both priced, paired, with a
    date-block bootstrap interval (seed 7)."""
    rng = np.random.default_rng(7)
    market = _market(folder)
    p = pd.read_parquet(folder / "predictions.parquet")
    p = p[~p["warmup"] & p["played"] & p["line"].notna() & (p["line"] % 1 != 0)]
    ref = p[p["system"] == "market"].set_index(["player_id", "game_date"])
    out = []
    for system in systems:
        if system == "market":
            continue
        mine = p[p["system"] == system].set_index(["player_id", "game_date"])
        common = mine.index.intersection(ref.index)
        a, b = mine.loc[common], ref.loc[common]
        y = (a["actual"] > a["line"]).to_numpy(dtype=float)
        diff = (a["p_over"].to_numpy() - y) ** 2 - (b["p_over"].to_numpy() - y) ** 2
        days = np.asarray([str(d) for d in common.get_level_values("game_date")])
        unique = np.unique(days)
        rows = {d: np.flatnonzero(days == d) for d in unique}
        boots = [
            diff[np.concatenate([rows[d] for d in rng.choice(unique, len(unique))])].mean()
            for _ in range(1000)
        ]
        low, high = np.percentile(boots, [2.5, 97.5])
        out.append(
            {
                "market": market,
                "system": system,
                "n": len(diff),
                "brier_minus_market": float(diff.mean()),
                "ci_low": float(low),
                "ci_high": float(high),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--systems", default=",".join(ORDER))
    parser.add_argument("--half-lines", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    if args.half_lines:
        found = [r for folder in args.folders for r in half_lines(folder, systems)]
        if args.json:
            print(json.dumps(found, indent=2))
            return
        for r in found:
            print(
                f"{r['market']:>9} {r['system']:>15} half lines, {r['n']:,} rows: Brier - market "
                f"{r['brier_minus_market']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]"
            )
        return
    rows = [r for folder in args.folders for r in rows_of(folder, systems)]
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=True))
    else:
        print(markdown(rows))


if __name__ == "__main__":
    main()
