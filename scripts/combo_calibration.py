"""Combos: the direct model's P(over) against a joint simulation of its components.

Reads the run folders of one ``backtest --markets points,rebounds,assists,pra,pr,pa,ra``
run (the component folders need ``distributions.parquet``: make it with
``scripts/combo_distributions.py``). For each combo present with its components, on the
decided lined rows every run shares (the combo's line; played, actual != line, not
warm-up), per system: N, Brier, log loss and ECE of

* direct: the combo model's P(over) as the backtest priced it (``p_over``: the PIT stage
  and the line-aware stage, both fitted on earlier folds), after the PIT stage only
  (``p_over_dist``) and raw (``p_over_raw``);
* joint: the components drawn from their own predictive distributions, tied by a Gaussian
  copula fitted per player type on earlier dates only (``nbaprops.experiments.combos``),
  calibrated by the same two stages on its own earlier folds (and after the PIT stage
  only, and raw);
* independent: the same draws with correlation 0 (raw);
* market: the de-vigged (multiplicative) prices, on the rows priced on both sides;

and the paired Brier differences joint − direct at each stage, joint − independent (raw)
and joint / direct − market, each with a 95% interval resampling whole dates.
Run: python scripts/combo_calibration.py RUN_FOLDER ... [--draws 4000] [--seed 26] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core.devig import devig
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import get_market
from nbaprops.experiments.combos import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    KEY,
    joint_probabilities,
    paired_brier,
    rebound_assist_share,
    scores,
)

COMBOS = ("pra", "pr", "pa", "ra")
# name -> column: the direct model's P(over) as the backtest priced it (both calibration
# stages), after the PIT stage only, and raw; the joint simulation the same three ways;
# the independent sum raw.
FORECASTS = {
    "direct": "p_over",
    "direct_pit": "p_over_dist",
    "direct_raw": "p_over_raw",
    "joint": "p_over_sim_cal",
    "joint_pit": "p_over_sim_dist",
    "joint_raw": "p_over_sim",
    "independent_raw": "p_over_indep",
}


def _read(folder: Path) -> tuple[str, pd.DataFrame, pd.DataFrame | None]:
    report = folder / "report.json"
    if not report.is_file() or not (folder / "predictions.parquet").is_file():
        raise NbapropsError(f"{folder} is not a backtest run folder")
    market = str(json.loads(report.read_text()).get("market", "points"))
    preds = pd.read_parquet(folder / "predictions.parquet")
    preds["game_date"] = pd.to_datetime(preds["game_date"])
    dist_file = folder / "distributions.parquet"
    dists = None
    if dist_file.is_file():
        dists = pd.read_parquet(dist_file)
        dists["game_date"] = pd.to_datetime(dists["game_date"])
    return market, preds, dists


def _shares(runs: dict[str, pd.DataFrame]) -> pd.Series:
    """The rebounds + assists share of predicted PRA by (system, player, date)."""
    parts = ["points", "rebounds", "assists"]
    if not all(p in runs for p in parts):
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=KEY))
    joined = None
    for p in parts:
        mean = runs[p].set_index(KEY)["mean"].rename(p)
        joined = mean.to_frame() if joined is None else joined.join(mean, how="inner")
    assert joined is not None
    share = rebound_assist_share(joined["points"], joined["rebounds"], joined["assists"])
    return pd.Series(share, index=joined.index)


def evaluate(folders: list[Path], *, draws: int, seed: int) -> list[dict[str, Any]]:
    runs: dict[str, pd.DataFrame] = {}
    dists: dict[str, pd.DataFrame] = {}
    for folder in folders:
        market, preds, dist = _read(folder)
        if market in runs:
            raise NbapropsError(f"two run folders for {market}")
        runs[market] = preds
        if dist is not None:
            dists[market] = dist
    shares = _shares(runs)
    out = []
    for combo in COMBOS:
        parts = get_market(combo).components
        if combo not in runs or not all(p in runs for p in parts):
            continue
        lacking = [p for p in parts if p not in dists]
        if lacking:
            raise NbapropsError(
                f"{combo}: no distributions.parquet for {', '.join(lacking)} "
                "(make it with scripts/combo_distributions.py)"
            )
        components = {
            p: runs[p].merge(
                dists[p][[*KEY, "quantiles", "pmf"]], on=KEY, how="inner", validate="1:1"
            )
            for p in parts
        }
        sim, fits = joint_probabilities(runs[combo], components, shares, draws=draws, seed=seed)
        sim = sim[~sim["warmup"].astype(bool) & sim["line"].notna()]
        rows = runs[combo].merge(sim.drop(columns=["fold", "line", "warmup"]), on=KEY)
        rows = rows[rows["played"].astype(bool) & (rows["actual"] != rows["line"])]
        for system, g in rows.groupby("system"):
            out.append(_figures(combo, str(system), g, fits))
    return out


def _figures(combo: str, system: str, g: pd.DataFrame, fits: list[Any]) -> dict[str, Any]:
    y = (g["actual"] > g["line"]).to_numpy(dtype=float)
    days = g["game_date"].to_numpy()
    figures: dict[str, Any] = {
        "combo": combo,
        "system": system,
        "rows": len(g),
        "dates": int(g["game_date"].nunique()),
        "forecasts": {name: scores(g[col], y) for name, col in FORECASTS.items()},
    }
    over = g["over_price"].to_numpy(dtype=float)
    under = g["under_price"].to_numpy(dtype=float)
    priced = np.isfinite(over) & np.isfinite(under)
    market = np.full(len(g), np.nan)
    if priced.any():
        market[priced] = np.asarray(devig(over[priced], under[priced])[0], dtype=float)
        figures["forecasts"]["market"] = scores(market[priced], y[priced])
        for name in ("direct", "joint"):
            figures["forecasts"][f"{name}_on_priced"] = scores(
                g[FORECASTS[name]].to_numpy()[priced], y[priced]
            )
    joint = g["p_over_sim_cal"].to_numpy(dtype=float)
    raw = g["p_over_sim"].to_numpy(dtype=float)
    paired = {
        "joint_minus_direct": paired_brier(joint, g["p_over"], y, days),
        "joint_pit_minus_direct_pit": paired_brier(g["p_over_sim_dist"], g["p_over_dist"], y, days),
        "joint_raw_minus_direct_raw": paired_brier(
            raw, np.clip(g["p_over_raw"].to_numpy(dtype=float), 0, 1), y, days
        ),
        "joint_raw_minus_independent_raw": paired_brier(raw, g["p_over_indep"], y, days),
    }
    if priced.any():
        paired["joint_minus_market"] = paired_brier(
            joint[priced], market[priced], y[priced], days[priced]
        )
        paired["direct_minus_market"] = paired_brier(
            g["p_over"].to_numpy(dtype=float)[priced], market[priced], y[priced], days[priced]
        )
    figures["paired_brier"] = {k: v.__dict__ for k, v in paired.items()}
    rho = [c for c in g.columns if c.startswith("rho_")]
    figures["mean_correlation"] = {c.removeprefix("rho_"): float(g[c].mean()) for c in rho}
    figures["by_type_correlation"] = {
        str(int(t)): {c.removeprefix("rho_"): float(v[c].mean()) for c in rho}
        for t, v in g.groupby("player_type")
    }
    figures["copula_refits"] = len({f.start for f in fits})  # weekly, per system
    # Monte-Carlo check: the simulated mean against the components' own means
    figures["mc_mean_gap"] = float(np.mean(np.abs(g["sim_mean"] - g["components_dist_mean"])))
    # the components' point means against their distributions' means (a model property)
    figures["point_vs_distribution_mean"] = float(
        np.mean(g["components_mean"] - g["components_dist_mean"])
    )
    figures["variance_ratio"] = float(np.mean(g["sim_var"]) / np.mean(g["indep_var"]))
    return figures


def _print(results: list[dict[str, Any]]) -> None:
    for r in results:
        print(
            f"\n{r['combo']} / {r['system']}: {r['rows']:,} decided lined rows over "
            f"{r['dates']} dates; copula refits {r['copula_refits']}; mean correlation "
            + ", ".join(f"{k} {v:+.2f}" for k, v in r["mean_correlation"].items())
            + f"; variance joint/independent {r['variance_ratio']:.3f}; "
            f"|sim mean - summed distribution means| {r['mc_mean_gap']:.3f} (point means "
            f"{r['point_vs_distribution_mean']:+.3f} from them)"
        )
        print(f"  {'forecast':<16} {'N':>6} {'Brier':>8} {'log loss':>9} {'ECE':>7}")
        for name, f in r["forecasts"].items():
            print(
                f"  {name:<16} {int(f['n']):>6} {f['brier']:>8.4f} {f['log_loss']:>9.4f} "
                f"{f['ece']:>7.4f}"
            )
        for name, d in r["paired_brier"].items():
            print(
                f"  {name:<26} {d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] "
                f"(N {d['n']}, {d['n_dates']} dates)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        if args.draws < 100:
            raise NbapropsError("--draws must be at least 100")
        results = evaluate(args.folders, draws=args.draws, seed=args.seed)
        if not results:
            raise NbapropsError("no combo run folder with all its components' folders")
    except NbapropsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)


if __name__ == "__main__":
    main()
