"""Backtest figures and reports: the summary, the long metrics table, JSON + Markdown +
PNG plots under one run folder.

``summarize`` turns a walk-forward's scored rows into per-system figures with their N;
``metrics_table`` flattens them once into the long table every consumer reads (the
experiment registry, the runner's headline figures, the CLI's ``--json``): one row per
(system, line kind, side, metric) with its value, N and interval where it has one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core import odds
from nbaprops.core.alarms import leakage_alarms
from nbaprops.core.bankroll import STAKINGS, ledger, simulate_bankroll
from nbaprops.core.settings import Settings
from nbaprops.core.values import json_safe
from nbaprops.experiments.spec import BASELINE, ExperimentSpec
from nbaprops.grading.report import (
    best_price_frame,
    bets_figures,
    ev_reliability_figures,
    market_figures,
    side_figures,
)
from nbaprops.models.calibration import EvCalibration
from nbaprops.predictions.picks import BET, PickPolicy, cap_across_markets, select_picks
from nbaprops.predictions.scoring import PASS_SIDE
from nbaprops.predictions.signal import GREEN, RED, YELLOW, slate_signal

if TYPE_CHECKING:
    from nbaprops.experiments.backtest import BacktestResult

# The long metrics table: one figure per row.
METRIC_COLUMNS = ("system", "line_kind", "side", "metric", "value", "n", "ci_low", "ci_high")
ALL = "all"  # line_kind of the all-rows figures; side of figures over both sides


def run_dir(root: Path, name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = root / f"{stamp}-{name}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def interval_text(low: Any, high: Any) -> str:
    """A signed 95% interval, or why there is none (fewer than two dates): the report's
    and the backtest command's Brier difference."""
    if _fmt(low) == "—" or _fmt(high) == "—":
        return "[no interval: one date]"
    return f"[{low:+.4f}, {high:+.4f}]"


def _fmt(value: Any, pct: bool = False, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if pct:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_tables(result: BacktestResult) -> dict[str, list[dict[str, Any]]]:
    """Flat per-system rows for the CLI and Markdown (all rows; each real line source)."""
    points, lines = [], []
    for system, entry in result.summary["systems"].items():
        allrows = entry["all_rows"]
        vs = entry.get("vs_baseline", {})
        points.append(
            {
                "system": system,
                "n": allrows["n"],
                "voids": entry["voids"],
                "mae": allrows["mae"],
                "rmse": allrows["rmse"],
                "bias": allrows["bias"],
                "r2": allrows["r2"],
                "baseline_mae_same_rows": vs.get("baseline_mae"),
                "improvement": vs.get("improvement"),
            }
        )
        for kind, block in entry["lines"].items():
            pts, bet = block["points"], block["betting"]
            prob = block.get("probability", {})
            lines.append(
                {
                    "system": system,
                    "line_kind": kind,
                    "n": pts["n"],
                    "model_mae": pts["model_mae"],
                    "line_mae": pts["line_mae"],
                    "mae_gap": pts["mae_gap"],
                    "bets": bet["n_bets"],
                    "pushes": bet["pushes"],
                    "voids": bet["voids"],
                    "hit_rate": bet["hit_rate"],
                    "ci_low": bet["ci_low"],
                    "ci_high": bet["ci_high"],
                    "roi_actual": bet["roi_actual"],
                    "roi_flat": bet["roi_flat"],
                    "roi_best": block.get("betting_best", {}).get(
                        "roi_actual" if kind == "sportsbook" else "roi_flat"
                    ),
                    "clv_line": block.get("clv", {}).get("line"),
                    "brier": prob.get("brier"),
                    "ece": prob.get("ece"),
                    "ece_noise_floor": block.get("ece_noise_floor"),
                    "line_calibrated_share": block.get("line_calibrated_share"),
                    "ece_line_calibrated": block.get("probability_line_calibrated", {}).get("ece"),
                    "market": block.get("market"),
                }
            )
    return {"points": points, "lines": lines}


def market_markdown(lines: list[dict[str, Any]]) -> list[str]:
    """The market as a forecaster on each system's own rows (priced, decided)."""
    rows = [r for r in lines if r.get("market")]
    if not rows:
        return []
    out = [
        "",
        "## Against the market (its de-vigged consensus P(over), same rows)",
        "",
        "Sportsbook lines: the consensus prices at decision time, margin removed "
        "(multiplicative). DFS boards: a pick'em pays alike on both sides, so the market's "
        "P(over) is 0.5 (Brier 0.25).",
        "",
        "| system | lines | N (dates) | Brier | market Brier | difference [95% CI, dates "
        "resampled] | log loss | market log loss | ECE | market ECE | |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        k = r["market"]
        out.append(
            f"| {r['system']} | {r['line_kind']} | {k['n']:,} ({k['n_dates']}) | "
            f"{_fmt(k['brier'], digits=4)} | {_fmt(k['brier_market'], digits=4)} | "
            f"{k['brier_diff']:+.4f} {interval_text(k['brier_diff_low'], k['brier_diff_high'])}"
            f" | {_fmt(k['log_loss'], digits=4)} | {_fmt(k['log_loss_market'], digits=4)} | "
            f"{_fmt(k['ece'], digits=4)} | {_fmt(k['ece_market'], digits=4)} | "
            f"{'**worse than the market**' if k['worse_than_market'] else 'better'} |"
        )
    return out


def side_markdown(result: BacktestResult) -> list[str]:
    """Hit rate, ROI and CLV of OVER and UNDER bets apart, per system and real line kind."""
    out = [
        "",
        "## By side (bets on real lines)",
        "",
        "| system | lines | side | bets | hit rate [95% CI] | ROI @ consensus | ROI @ best price "
        "| CLV (pts, N) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for system, entry in result.summary["systems"].items():
        for kind, block in entry["lines"].items():
            for r in block.get("by_side", []):
                out.append(
                    f"| {system} | {kind} | {r['side']} | {r['bets']:,} | "
                    f"{_fmt(r['hit_rate'], pct=True)} [{_fmt(r['ci_low'], pct=True)}, "
                    f"{_fmt(r['ci_high'], pct=True)}] | {_fmt(r['roi_consensus'], pct=True)} | "
                    f"{_fmt(r['roi_best'], pct=True)} | {_fmt(r['clv_line'], digits=2)} "
                    f"({r['clv_n']:,}) |"
                )
    return out


def bankroll_markdown(result: BacktestResult) -> list[str]:
    """Flat vs fractional-Kelly bankrolls at consensus and at the best price."""
    out = [
        "",
        "## Bankroll (100 units at the start; sportsbook lines; bankroll.png)",
        "",
        "| system | staking | prices | bets | final | return | max drawdown |",
        "|---|---|---|---|---|---|---|",
    ]
    for system, entry in result.summary["systems"].items():
        for key, b in entry["lines"].get("sportsbook", {}).get("bankroll", {}).items():
            staking, prices = key.split("_", 1)
            out.append(
                f"| {system} | {staking} | {prices} | {b['n_bets']:,} | {b['final']:.1f} | "
                f"{_fmt(b['roi_on_start'], pct=True)} | {_fmt(b['max_drawdown'], pct=True)} |"
            )
    return out if len(out) > 5 else []  # no real prices (DFS boards): nothing to stake


def ev_reliability_markdown(summary: dict[str, Any]) -> list[str]:
    """Expected value claimed against realised, before and after EV calibration, per
    system, line kind and side (the reliability table of money, as P(over) has its own)."""
    out = [
        "",
        "## Expected value: claimed against realised (calls on real lines)",
        "",
        "Each call is graded at the book, line and price it was placed at. *Claimed*: the "
        "raw EV at the best price line shopping found; *calibrated*: the EV after calibration "
        "on earlier folds' graded calls (their realised return per unit, shrunk toward zero "
        "edge). ROI interval: dates resampled. DFS boards carry no prices: their EV and ROI "
        "are at a nominal -110, a proxy for a pick'em, and only the hit rate is real.",
        "",
        "| system | lines | EV | side | bucket | N | hit rate [95% CI] | mean EV | ROI [95% CI] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for system, entry in summary["systems"].items():
        for kind, block in entry["lines"].items():
            for name, per_side in block.get("ev_reliability", {}).items():
                for side, buckets in per_side.items():
                    for b in buckets:
                        if not b["n"]:
                            continue
                        out.append(
                            f"| {system} | {kind} | {name} | {side} | {b['label']} | "
                            f"{b['n']:,} | {_fmt(b['hit_rate'], pct=True)} "
                            f"[{_fmt(b['ci_low'], pct=True)}, {_fmt(b['ci_high'], pct=True)}] | "
                            f"{_fmt(b['mean_ev'], pct=True)} | {_fmt(b['roi'], pct=True)} "
                            f"[{_fmt(b['roi_low'], pct=True)}, {_fmt(b['roi_high'], pct=True)}] |"
                        )
    return out


def picks_markdown(summary: dict[str, Any]) -> list[str]:
    """The picks before the new rule (raw EV, uncapped) and after it (calibrated EV, the
    record, the caps): bets, hit rate, ROI at the price taken, bankrolls, exposure."""
    out = [
        "",
        "## Picks before and after the rule (bets graded as placed)",
        "",
        "*Before*: every call with a raw EV above the margin and |edge| >= the minimum, up "
        "to the per-team and per-day limits, staked at fractional Kelly on the raw EV, "
        "uncapped. *After*: the calibrated EV must beat the margin with enough comparable "
        "graded bets that returned a profit; one bet per player, per-game, per-team and "
        "per-day limits; stakes on the calibrated EV, x the RED multiplier, capped per bet "
        "and per slate. Bankrolls "
        "start at 100 units (1 unit = 1%); exposure = a slate's total stake.",
        "",
        "| system | lines | rule | bets | hit rate [95% CI] | ROI | units | final flat | "
        "final Kelly (max drawdown) | largest exposure | mean exposure |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system, entry in summary["systems"].items():
        for kind, block in entry["lines"].items():
            for rule, f in block.get("picks", {}).items():
                out.append(
                    f"| {system} | {kind} | {rule} | {f['n_bets'] - f['voids']:,} | "
                    f"{_fmt(f['hit_rate'], pct=True)} [{_fmt(f['ci_low'], pct=True)}, "
                    f"{_fmt(f['ci_high'], pct=True)}] | {_fmt(f['roi'], pct=True)} | "
                    f"{f['units']:+.1f} | {f['final_flat']:.1f} | {f['final_kelly']:.1f} "
                    f"({_fmt(f['max_drawdown_kelly'], pct=True)}) | "
                    f"{_fmt(f['max_exposure'], pct=True)} | {_fmt(f['mean_exposure'], pct=True)} |"
                )
    return out


def _markdown(result: BacktestResult, tables: dict[str, list[dict[str, Any]]]) -> str:
    spec = result.spec
    out = [
        f"# Backtest `{spec.name}`: {spec.market.title.lower()}, {spec.start} → {spec.end}",
        "",
        f"Walk-forward, {spec.window.kind} window"
        + (f" of {spec.window.days} days" if spec.window.days else "")
        + (
            f", recency half-life {spec.recency.half_life_days:g} days"
            if spec.recency.enabled
            else ""
        )
        + f", retrain every {spec.retrain_every} days, gap "
        f"{spec.gap_days} days, {len(result.plan.reported)} reported folds "
        f"(+{len(result.plan.folds) - len(result.plan.reported)} warm-up folds for "
        f"calibration), feature set `{spec.resolved_feature_set.key}` ({spec.mode}). Each date "
        "predicted from its serving "
        "spine with lines quoted before tip-off; P(over) recalibrated on earlier folds only.",
        "",
    ]
    alarms = result.summary.get("alarms", {})
    if alarms:
        out += ["## ⚠ LEAKAGE ALARMS", ""]
        for system, msgs in alarms.items():
            out += [f"- **{system}**: {msg}" for msg in msgs]
        out.append("")
    else:
        out += [
            "Leakage tripwire: silent (no MAE < 4.5 on lined rows, no hit rate > 58% "
            "over 1,000+ bets, no R² > 0.6).",
            "",
        ]
    out += [
        "## Points, every player-game predicted (played rows)",
        "",
        "| system | N | voids | MAE | RMSE | bias | R² | baseline MAE (same rows) | vs baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in tables["points"]:
        out.append(
            f"| {r['system']} | {r['n']:,} | {r['voids']:,} | {_fmt(r['mae'])} | "
            f"{_fmt(r['rmse'])} | {_fmt(r['bias'])} | {_fmt(r['r2'])} | "
            f"{_fmt(r['baseline_mae_same_rows'])} | {_fmt(r['improvement'], pct=True)} |"
        )
    out += [
        "",
        "## Against real lines (model MAE and the line's own MAE on the same rows)",
        "",
        "| system | lines | N | model MAE | line MAE | gap | bets | pushes | hit rate "
        "[95% CI] | ROI @ consensus prices | ROI @ -110 | ROI @ best price | CLV (pts) | "
        "Brier | ECE (noise floor) | line-calibrated rows (their ECE) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in tables["lines"]:
        out.append(
            f"| {r['system']} | {r['line_kind']} | {r['n']:,} | {_fmt(r['model_mae'])} | "
            f"{_fmt(r['line_mae'])} | {_fmt(r['mae_gap'])} | {r['bets']:,} | {r['pushes']} | "
            f"{_fmt(r['hit_rate'], pct=True)} [{_fmt(r['ci_low'], pct=True)}, "
            f"{_fmt(r['ci_high'], pct=True)}] | {_fmt(r['roi_actual'], pct=True)} | "
            f"{_fmt(r['roi_flat'], pct=True)} | {_fmt(r['roi_best'], pct=True)} | "
            f"{_fmt(r['clv_line'], digits=2)} | {_fmt(r['brier'])} | "
            f"{_fmt(r['ece'])} ({_fmt(r['ece_noise_floor'])}) | "
            f"{_fmt(r['line_calibrated_share'], pct=True)} ({_fmt(r['ece_line_calibrated'])}) |"
        )
    out += market_markdown(tables["lines"])
    out += side_markdown(result)
    out += ev_reliability_markdown(result.summary)
    out += picks_markdown(result.summary)
    out += bankroll_markdown(result)
    out += [
        "",
        "DFS lines carry no real prices: their ROI is only at a flat -110. ROI @ best price "
        "grades each bet at the book, line and price line shopping chose at decision time; "
        "CLV is the bet's line against the last pre-tip consensus (positive: better).",
        "",
        "## Hit rate by slate signal (bets on real lines; the signal earns its keep or goes)",
        "",
        "| system | colour | dates | bets | hit rate [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for system, entry in result.summary["systems"].items():
        for colour, g in entry.get("by_signal", {}).items():
            out.append(
                f"| {system} | {colour} | {g['dates']} | {g['n']:,} | "
                f"{_fmt(g['hit_rate'], pct=True)} [{_fmt(g['ci_low'], pct=True)}, "
                f"{_fmt(g['ci_high'], pct=True)}] |"
            )
    out.append("")
    kinds = sorted({k for e in result.summary["systems"].values() for k in e["lines"]})
    for kind in kinds:
        out += [f"## Hit rate by edge bucket ({kind} lines)", ""]
        for system, entry in result.summary["systems"].items():
            bet = entry["lines"].get(kind, {}).get("betting")
            if not bet:
                continue
            out.append(
                f"**{system}**: "
                + "; ".join(
                    f"|edge| {g['label']}: {g['wins']}-{g['losses']} "
                    f"({_fmt(g['hit_rate'], pct=True)}, N={g['n']})"
                    for g in bet["by_edge"]
                )
            )
            out.append("")
    out += [
        "## Folds",
        "",
        "Lined history: the earlier folds' graded lined rows (no push) the line-aware stage "
        "(or the market anchor) learned from; anchor w: the model's weight on its point "
        "against the line (0: the line).",
        "",
        "| fold | system | train | test | rows | MAE | bets | hit | ROI -110 | lined history "
        "| anchor w |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result.folds.to_dict("records"):
        if r["warmup"]:
            continue
        out.append(
            f"| {r['fold']} | {r['system']} | {r['train_start']}..{r['train_end']} "
            f"({r['train_rows']:,}) | {r['test_start']}..{r['test_end']} | {r['rows']} | "
            f"{_fmt(r['mae'])} | {r['bets']} | {_fmt(r['hit_rate'], pct=True)} | "
            f"{_fmt(r['roi_flat'], pct=True)} | {r.get('lined_history', 0):,} | "
            f"{_fmt(r.get('anchor_weight'))} |"
        )
    return "\n".join(out) + "\n"


def _save(fig: Any, ax: Any, path: Path) -> str:
    """Legend, layout, write the PNG, free the figure; return the file name."""
    import matplotlib.pyplot as plt

    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _plots(result: BacktestResult, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    preds = result.predictions[~result.predictions["warmup"]]
    lined = preds[(preds["line_kind"] == "sportsbook") & preds["played"]]
    lined = lined[lined["actual"] != lined["line"]]
    if len(lined):
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
        for system, rows in lined.groupby("system", sort=False):
            rel = m.probability_metrics(
                rows["p_over"].to_numpy(), (rows["actual"] > rows["line"]).to_numpy()
            ).reliability
            xs = [b.mean_p for b in rel if b.n >= 20]
            ys = [b.observed_rate for b in rel if b.n >= 20]
            ax.plot(xs, ys, marker="o", label=str(system))
        ax.set_xlabel("predicted P(over)")
        ax.set_ylabel("observed over rate")
        ax.set_title("Calibration on sportsbook lines (bins with N >= 20)")
        made.append(_save(fig, ax, folder / "calibration.png"))
    bets = preds[(preds["side"] != PASS_SIDE) & (preds["line_kind"] == "sportsbook")]
    if len(bets):
        fig, ax = plt.subplots(figsize=(7, 4))
        for system, group in bets.groupby("system", sort=False):
            rows = group.sort_values(["game_date", "player_id"])
            outcome = m.grade_bets(
                rows["actual"].to_numpy(),
                rows["line"].to_numpy(),
                rows["side"].to_numpy(),
                rows["played"].to_numpy(),
            )
            price = np.where(rows["side"] == m.OVER, rows["over_price"], rows["under_price"])
            # As roi_actual: decided bets with a quoted price only (none is invented).
            decided = (outcome == m.WIN) | (outcome == m.LOSS)
            priced = decided & np.isfinite(price)
            profit = np.asarray(m.bet_profit(outcome[priced], price[priced]), dtype=float)
            ax.plot(
                np.arange(len(profit)), np.cumsum(profit), label=f"{system} (N={len(profit):,})"
            )
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("priced bets in date order")
        ax.set_ylabel("units")
        ax.set_title("Cumulative profit at the quoted prices (1 unit per priced bet)")
        made.append(_save(fig, ax, folder / "cumulative_roi.png"))
        fig, ax = plt.subplots(figsize=(7, 4))
        for system, entry in result.summary["systems"].items():
            for key, b in entry["lines"].get("sportsbook", {}).get("bankroll", {}).items():
                if not b["curve"]:
                    continue
                days = pd.to_datetime([d for d, _ in b["curve"]])
                style = "-" if key.startswith("kelly") else ":"
                ax.plot(days, [v for _, v in b["curve"]], style, label=f"{system} {key}")
        ax.axhline(100, color="k", lw=0.8)
        ax.set_ylabel("bankroll (units)")
        ax.set_title("Bankroll: flat (dotted) and fractional Kelly (solid)")
        fig.autofmt_xdate()
        made.append(_save(fig, ax, folder / "bankroll.png"))
        fig, ax = plt.subplots(figsize=(7, 4))
        systems = list(result.summary["systems"])
        width = 0.8 / max(len(systems), 1)
        for i, system in enumerate(systems):
            bet = result.summary["systems"][system]["lines"].get("sportsbook", {}).get("betting")
            if not bet:
                continue
            labels = [g["label"] for g in bet["by_edge"]]
            rates = [g["hit_rate"] if g["hit_rate"] is not None else 0 for g in bet["by_edge"]]
            ax.bar(np.arange(len(labels)) + i * width, rates, width, label=system)
            ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels)
        ax.axhline(m.BREAK_EVEN_110, color="r", lw=1, ls="--", label="break-even -110")
        ax.set_ylim(0.3, 0.75)
        ax.set_xlabel("|edge| (points)")
        ax.set_ylabel("hit rate")
        ax.set_title("Hit rate by edge bucket, sportsbook lines")
        made.append(_save(fig, ax, folder / "hit_rate_by_edge.png"))
    return made


def write_report(result: BacktestResult, folder: Path) -> dict[str, Any]:
    """Write report.json, report.md, predictions.parquet, metrics.csv (the long metrics
    table), folds.csv and the plots."""
    tables = summary_tables(result)
    payload = {
        "market": result.spec.market.name,
        "spec": result.spec.resolved(),
        "plan": result.plan.describe(),
        "summary": result.summary,
        "metrics": metric_records(result.metrics),
        "tables": tables,
        "timings": {k: round(v, 2) for k, v in result.timings.items()},
        "folds": result.folds.to_dict("records"),
    }
    (folder / "report.json").write_text(json.dumps(json_safe(payload), indent=2, allow_nan=False))
    (folder / "report.md").write_text(_markdown(result, tables))
    preds = result.predictions.copy()
    preds["game_date"] = pd.to_datetime(preds["game_date"])
    preds.to_parquet(folder / "predictions.parquet", index=False)
    if len(result.picks):
        picks = result.picks.copy()
        picks["game_date"] = pd.to_datetime(picks["game_date"])
        picks.drop(columns=["decision_time"], errors="ignore").to_parquet(
            folder / "picks.parquet", index=False
        )
    result.folds.to_csv(folder / "folds.csv", index=False)
    result.metrics.to_csv(folder / "metrics.csv", index=False)
    payload["plots"] = _plots(result, folder)
    payload["folder"] = str(folder)
    return payload


# --- the summary -----------------------------------------------------------------


def _clv(rows: pd.DataFrame) -> dict[str, Any]:
    """Mean closing line value of the bets (points; probability where the close is at the
    bet's own line), against the last pre-tip consensus."""
    bets = rows[rows["side"].isin(m.SIDES)]
    if bets.empty:
        return {"n": 0, "line": None, "prob": None, "n_prob": 0}
    bet_line = bets["bet_line"].fillna(bets["line"])
    clv_line, clv_prob = m.closing_line_value(
        bets["side"],
        bet_line,
        bets["bet_price"],
        bets["closing_line"],
        bets["closing_over_price"],
        bets["closing_under_price"],
    )
    ok_line, ok_prob = ~np.isnan(clv_line), ~np.isnan(clv_prob)
    return {
        "n": int(ok_line.sum()),
        "line": float(clv_line[ok_line].mean()) if ok_line.any() else None,
        "n_prob": int(ok_prob.sum()),
        "prob": float(clv_prob[ok_prob].mean()) if ok_prob.any() else None,
    }


def bankrolls(lined: pd.DataFrame, kelly_fraction: float) -> dict[str, Any]:
    """Flat and fractional-Kelly bankrolls (100 units at the start) at the consensus
    price and at the best price line shopping found, bets in date order."""
    out: dict[str, Any] = {}
    for prices, placed in (("consensus", lined), ("best", best_price_frame(lined))):
        rows = placed.assign(
            game_date=lined["game_date"], p_over=lined["p_over"], p_under=lined["p_under"]
        )
        outcome = m.grade_bets(rows["actual"], rows["line"], rows["side"], rows["played"])
        over = rows["side"] == m.OVER
        price = np.where(over, rows["over_price"], rows["under_price"])
        p_win = np.where(over, rows["p_over"], rows["p_under"])
        p_lose = np.where(over, rows["p_under"], rows["p_over"])
        if prices == "best":
            p_win, p_lose = _p_win_at_bet(lined, p_win, p_lose)
        for staking in STAKINGS:
            out[f"{staking}_{prices}"] = simulate_bankroll(
                rows["game_date"],
                outcome,
                price,
                p_win,
                p_lose,
                staking=staking,
                kelly_fraction=kelly_fraction,
            ).to_dict()
    return out


def _p_win_at_bet(
    lined: pd.DataFrame, p_win: np.ndarray, p_lose: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """P(win) and P(lose) at the line and price line shopping chose: on a half-point line
    (no push) the scored expected value there is p * decimal price - 1, so p follows."""
    price = lined["bet_price"].to_numpy(dtype=float)
    line = lined["bet_line"].to_numpy(dtype=float)
    ev = lined["ev"].to_numpy(dtype=float)
    ok = np.isfinite(price) & np.isfinite(line) & np.isfinite(ev) & (line % 1 != 0)
    decimal = np.asarray(odds.american_to_decimal(np.where(ok, price, -110.0)), dtype=float)
    at_bet = np.clip((ev + 1.0) / decimal, 0.0, 1.0)
    return np.where(ok, at_bet, p_win), np.where(ok, 1.0 - at_bet, p_lose)


def by_side(kind_entry: dict[str, Any], lined: pd.DataFrame) -> list[dict[str, Any]]:
    """Hit rate with its interval, ROI at consensus and at the best price, and closing
    line value, for OVER and UNDER bets apart (``side_figures``, as graded reports)."""
    clv = {}
    for side in m.SIDES:
        entry = _clv(lined[lined["side"] == side])
        clv[side] = (entry["line"], entry["n"])
    real_prices = str(lined["line_kind"].iloc[0]) == "sportsbook" if len(lined) else False
    return side_figures(
        kind_entry["betting"]["by_direction"],
        kind_entry["betting_best"]["by_direction"],
        clv,
        real_prices,
    )


def hit_rate_by_signal(rows: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    """Each date's slate signal (as the daily job computes it), and the hit rate of the
    bets on real lines made under each colour, with N and interval."""
    colour = {
        day: slate_signal(day_rows, settings).signal
        for day, day_rows in rows.groupby("game_date", sort=True)
    }
    bets = rows[rows["side"].isin(m.SIDES) & rows["line"].notna()]
    out: dict[str, Any] = {}
    for name in (RED, YELLOW, GREEN):
        mine = bets[bets["game_date"].map(colour) == name]
        stats = m.outcome_stats(
            m.grade_bets(mine["actual"], mine["line"], mine["side"], mine["played"]), name
        )
        out[name] = {
            "dates": sum(1 for c in colour.values() if c == name),
            **stats.to_dict(),
        }
    return out


def picks_before_calibration(
    predictions: pd.DataFrame, settings: Settings, policy: PickPolicy
) -> pd.DataFrame:
    """Every system's picks of every date under the rule before EV calibration (raw EV,
    no record, uncapped stakes), to measure what the new rule changes."""
    before = policy.before_calibration()
    parts = []
    for (system_id, _), rows in predictions.groupby(["system", "game_date"], sort=True):
        signal = slate_signal(rows, settings).signal
        picks = select_picks(rows, EvCalibration(), signal, before)
        if len(picks):
            keyed = rows.set_index("player_id")
            picks["actual"] = keyed["actual"].reindex(picks["player_id"]).to_numpy(dtype=float)
            picks["played"] = ~np.isnan(picks["actual"].to_numpy())
            parts.append(picks.assign(system=str(system_id)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def summarize(
    predictions: pd.DataFrame,
    spec: ExperimentSpec,
    settings: Settings,
    picks: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Per-system figures with their N; the baseline on the same rows; leakage alarms;
    expected value claimed against realised; the picks before and after the rule."""
    policy = PickPolicy.from_settings(settings)
    picks = picks if picks is not None else pd.DataFrame()
    before = picks_before_calibration(predictions, settings, policy)
    out: dict[str, Any] = {"systems": {}, "alarms": {}}
    played_all = predictions[predictions["played"]]
    base = played_all[played_all["system"] == BASELINE].set_index(["player_id", "game_date"])
    for system_id, rows in predictions.groupby("system", sort=False):
        played = rows[rows["played"]]
        entry: dict[str, Any] = {
            "rows": len(rows),
            "voids": int((~rows["played"]).sum()),
            "all_rows": m.point_metrics(played["actual"], played["median"]).to_dict(),
        }
        keyed = played.set_index(["player_id", "game_date"])
        common = keyed.index.intersection(base.index)
        if len(common):
            sys_mae = float(
                np.mean(np.abs(keyed.loc[common, "median"] - keyed.loc[common, "actual"]))
            )
            base_mae = float(
                np.mean(np.abs(base.loc[common, "median"] - base.loc[common, "actual"]))
            )
            entry["vs_baseline"] = {
                "n": len(common),
                "mae": sys_mae,
                "baseline_mae": base_mae,
                "improvement": 1.0 - sys_mae / base_mae if base_mae else float("nan"),
            }
        by_kind = {}
        for kind, lined in rows[rows["line"].notna()].groupby("line_kind"):
            lp = lined[lined["played"]]
            kind_entry: dict[str, Any] = {
                "points": m.lined_point_metrics(lp["actual"], lp["median"], lp["line"]).to_dict(),
                # share of these lines priced with the line-aware calibration stage fitted
                # (the first lined fold has no earlier lined outcomes to learn it from)
                "line_calibrated_share": float((lined["line_calibration_n"] > 0).mean()),
            }
            betting = lined[list(m.BETTING_COLUMNS)].copy()
            kind_entry["betting"] = m.betting_summary(betting).to_dict()
            kind_entry["betting_best"] = m.betting_summary(best_price_frame(lined)).to_dict()
            kind_entry["clv"] = _clv(lined)
            kind_entry["by_side"] = by_side(kind_entry, lined)
            kind_entry["ev_reliability"] = ev_reliability_figures(lined)
            kind_entry["picks"] = {
                name: bets_figures(
                    chosen[(chosen["system"] == system_id) & (chosen["line_kind"] == kind)]
                )
                for name, chosen in (("before", before), ("after", picks))
                if len(chosen)
            }
            if kind == "sportsbook":
                kind_entry["bankroll"] = bankrolls(lined, settings.betting.kelly_fraction)
            graded = lp[lp["actual"] != lp["line"]]
            if len(graded):
                # a decided row is scored on P(over | decided) (the push's share removed
                # on whole lines; half lines keep P(over) as it is)
                graded = graded.assign(
                    p_over=m.decided_p_over(graded["p_over"], graded.get("p_push")),
                    p_push=0.0,  # removed once: market_figures sees decided P already
                )
                kind_entry["probability"] = m.probability_metrics(
                    graded["p_over"].to_numpy(), (graded["actual"] > graded["line"]).to_numpy()
                ).to_dict()
                kind_entry["ece_noise_floor"] = m.ece_noise_floor(graded["p_over"].to_numpy())
                market = market_figures(graded)
                if market is not None:
                    kind_entry["market"] = market
                calibrated = graded[graded["line_calibration_n"] > 0]
                if len(calibrated):
                    kind_entry["probability_line_calibrated"] = m.probability_metrics(
                        calibrated["p_over"].to_numpy(),
                        (calibrated["actual"] > calibrated["line"]).to_numpy(),
                    ).to_dict()
                kind_entry["probability_raw"] = m.probability_metrics(
                    np.clip(graded["p_over_raw"].to_numpy(), 0, 1),
                    (graded["actual"] > graded["line"]).to_numpy(),
                ).to_dict()
            by_kind[str(kind)] = kind_entry
        entry["lines"] = by_kind
        entry["by_signal"] = hit_rate_by_signal(rows, settings)
        sportsbook = by_kind.get("sportsbook", {})
        lined_mae = sportsbook.get("points", {}).get("model_mae")
        bet = sportsbook.get("betting", {})
        alarms = leakage_alarms(
            lined_mae,
            bet.get("hit_rate"),
            int(bet.get("n_bets") or 0),
            entry["all_rows"].get("r2"),
            market=spec.market.name,
            line_mae=sportsbook.get("points", {}).get("line_mae"),
        )
        entry["alarms"] = alarms
        out["systems"][str(system_id)] = entry
        if alarms:
            out["alarms"][str(system_id)] = alarms
    return out


def _value(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def metrics_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Every headline figure of ``summarize`` as one long table (``METRIC_COLUMNS``).

    All-rows point figures have line kind ``all``; the per-line-kind figures (the
    line's MAE beside the model's, betting at the consensus and the best price, CLV,
    Brier / log loss / ECE, the market comparison) have side ``all``; hit rate, ROI and
    CLV by side carry their side. ``ci_low`` / ``ci_high`` are the 95% interval where
    the figure has one (hit rates, the paired Brier difference to the market)."""
    rows: list[tuple[Any, ...]] = []

    def add(
        system: str,
        kind: str,
        side: str,
        metric: str,
        value: Any,
        n: Any,
        low: Any = None,
        high: Any = None,
    ) -> None:
        count = None if n is None or isinstance(n, bool) else int(n)
        rows.append((system, kind, side, metric, _value(value), count, _value(low), _value(high)))

    def block(
        system: str, kind: str, values: dict[str, Any], n: Any, names: tuple[str, ...]
    ) -> None:
        for name in names:
            value = values.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                add(system, kind, ALL, name, value, n)

    for system, entry in summary["systems"].items():
        allrows = entry["all_rows"]
        block(system, ALL, allrows, allrows.get("n"), ("n", "mae", "rmse", "bias", "r2"))
        add(system, ALL, ALL, "voids", entry.get("voids"), entry.get("rows"))
        vs = entry.get("vs_baseline")
        if vs:
            add(system, ALL, ALL, "improvement_vs_baseline", vs.get("improvement"), vs.get("n"))
        for kind, lines in entry.get("lines", {}).items():
            pts = lines["points"]
            block(system, kind, pts, pts.get("n"), ("model_mae", "line_mae", "mae_gap"))
            bet = lines["betting"]
            n_bets = bet.get("n_bets")
            block(system, kind, bet, n_bets, ("n_bets", "roi_flat", "roi_actual", "pushes"))
            if isinstance(bet.get("hit_rate"), int | float):
                add(
                    system,
                    kind,
                    ALL,
                    "hit_rate",
                    bet["hit_rate"],
                    n_bets,
                    bet.get("ci_low"),
                    bet.get("ci_high"),
                )
            best = lines.get("betting_best", {})
            if best:
                add(system, kind, ALL, "roi_best", best.get("roi_actual"), best.get("n_bets"))
            clv = lines.get("clv", {})
            if clv.get("n"):
                add(system, kind, ALL, "clv_line", clv.get("line"), clv["n"])
            prob = lines.get("probability", {})
            block(system, kind, prob, prob.get("n"), ("brier", "log_loss", "ece"))
            if "n" in prob:
                add(system, kind, ALL, "n_graded", prob["n"], prob["n"])
            if "ece_noise_floor" in lines:
                add(system, kind, ALL, "ece_noise_floor", lines["ece_noise_floor"], prob.get("n"))
            market = lines.get("market") or {}
            if "brier_diff" in market:
                add(
                    system,
                    kind,
                    ALL,
                    "brier_minus_market",
                    market.get("brier_diff"),
                    market.get("n"),
                    market.get("brier_diff_low"),
                    market.get("brier_diff_high"),
                )
                add(system, kind, ALL, "brier_market", market.get("brier_market"), market.get("n"))
            for r in lines.get("by_side", []):
                side = str(r.get("side", "")).lower()
                add(
                    system,
                    kind,
                    side,
                    "hit_rate",
                    r.get("hit_rate"),
                    r.get("bets"),
                    r.get("ci_low"),
                    r.get("ci_high"),
                )
                add(system, kind, side, "roi_consensus", r.get("roi_consensus"), r.get("bets"))
                add(system, kind, side, "roi_best", r.get("roi_best"), r.get("bets"))
                add(system, kind, side, "clv_line", r.get("clv_line"), r.get("clv_n"))
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def metric_records(metrics: pd.DataFrame) -> list[dict[str, Any]]:
    """The long metrics table as JSON-ready records (NaN as None)."""
    clean = metrics.astype(object).where(metrics.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in clean.to_dict("records")]


def portfolio(results: Sequence[BacktestResult], settings: Settings) -> list[dict[str, Any]]:
    """The bets of several markets' runs taken together, per system, once the exposure
    rule across markets has turned a player's second bet of a night into a watchlist
    pick (``predictions.picks.cap_across_markets``): what a user following every market
    would have staked. Each market's own figures stay in its own report."""
    parts = [
        r.picks.assign(market=r.spec.market.name)
        for r in results
        if len(r.picks) and "status" in r.picks.columns
    ]
    if not parts:
        return []
    picks = pd.concat(parts, ignore_index=True)
    picks = picks[~picks["warmup"].astype(bool)]
    capped = cap_across_markets(picks, PickPolicy.from_settings(settings))
    rows: list[dict[str, Any]] = []
    for system_id, mine in capped.groupby("system", sort=True):
        before = mine[mine["status"] == BET]
        bets = before.sort_values("game_date", kind="stable")
        # a pick holds its bet as placed: the line and price taken
        outcome, per_unit = m.graded_as_placed(
            bets["actual"], bets["side"], bets["played"], bets["bet_line"], bets["bet_price"]
        )
        _, summary = ledger(
            bets["game_date"].astype(str),
            outcome,
            per_unit,
            bets["stake_flat"],
            bets["stake_kelly"],
        )
        dropped = int(
            (mine["reason"].astype(str).str.contains("across markets", regex=False)).sum()
        )
        rows.append(
            {
                "system": str(system_id),
                "markets": ", ".join(sorted(bets["market"].unique())),
                "dropped_across_markets": dropped,
                **summary.to_dict(),
            }
        )
    return rows
