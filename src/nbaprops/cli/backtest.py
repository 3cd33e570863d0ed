"""`nbaprops backtest`: the walk-forward backtest from the command line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    console,
    emit_json,
    err_console,
    parse_optional_day,
    parse_period,
    rich_progress,
    settings_for,
    user_errors,
    writable_folder,
)
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError

if TYPE_CHECKING:
    from nbaprops.core.settings import Settings
    from nbaprops.experiments.backtest import BacktestResult
    from nbaprops.experiments.folds import FoldPlan
    from nbaprops.experiments.spec import ExperimentSpec


# The backtest's flags, by the spec field they set (so spec errors name the flag).
FLAG_NAMES = {
    "systems": "--systems",
    "evaluation": "--start/--end",
    "training": "--history-start",
    "window": "--window/--window-days",
    "recency": "--half-life",
    "name": "--name",
    "feature_set": "--set",
    "system_params": "--param",
    "hyperparameters": "--param",
}


def parse_systems(text: str) -> list[str]:
    """'all' or a comma-separated list of system ids (validated by the spec)."""
    from nbaprops.systems import SYSTEM_IDS

    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        known = ", ".join(("all", *SYSTEM_IDS))
        raise NbapropsError(f"--systems is empty; give 'all' or some of: {known}")
    unknown = [n for n in names if n != "all" and n not in SYSTEM_IDS]
    if unknown:
        known = ", ".join(("all", *SYSTEM_IDS))
        raise NbapropsError(f"unknown systems: {', '.join(unknown)} (known: {known})")
    return list(SYSTEM_IDS) if "all" in names else names


def parse_params(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``--param catboost_full.depth=8`` (repeatable): values are read as YAML scalars."""
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        system, dot, param = key.partition(".")
        if not sep or not dot or not system or not param:
            raise NbapropsError(f"--param {item!r}: expected SYSTEM.NAME=VALUE")
        out.setdefault(system.strip(), {})[param.strip()] = yaml.safe_load(raw)
    return out


def print_plan(plan: FoldPlan, spec: ExperimentSpec) -> None:
    """The fold plan as a table (shared by backtest --plan-only and experiment --dry-run)."""
    t = Table(
        title=f"Fold plan ({len(plan.folds)} folds, {spec.window.kind} window, systems: "
        f"{', '.join(spec.run_systems)})"
    )
    for col in ("fold", "train", "test", "warm-up"):
        t.add_column(col)
    for f in plan.folds:
        t.add_row(
            str(f.index),
            f"{f.train_start or spec.history_start or 'all history'} .. {f.train_end}",
            f"{f.test_start} .. {f.test_end}",
            "yes" if f.warmup else "",
        )
    console.print(t)


@user_errors
def backtest(
    systems: Annotated[str, typer.Option(help="Comma-separated system ids, or 'all'.")] = "all",
    start: Annotated[str, typer.Option(help="First evaluated date.")] = "2024-03-01",
    end: Annotated[str, typer.Option(help="Last evaluated date.")] = "2024-05-24",
    retrain_every: Annotated[
        int, typer.Option(min=1, help="Refit every N days (fold length).")
    ] = 7,
    gap_days: Annotated[int, typer.Option(min=0, help="Days between training end and test.")] = 0,
    window: Annotated[
        str, typer.Option(help="expanding, rolling or current_season.")
    ] = "expanding",
    window_days: Annotated[
        int | None, typer.Option(min=1, help="Rolling window length in days.")
    ] = None,
    half_life: Annotated[
        float | None,
        typer.Option("--half-life", min=0.1, help="Recency weighting half-life in days."),
    ] = None,
    history_start: Annotated[
        str | None, typer.Option(help="First date of training history (default: all).")
    ] = None,
    warmup_days: Annotated[
        int, typer.Option(min=0, help="Unreported folds before start that seed calibration.")
    ] = 21,
    ev_margin: Annotated[
        float, typer.Option(help="Bet only when expected value per unit exceeds this.")
    ] = 0.02,
    seed: Annotated[int, typer.Option(help="Random seed of every model.")] = 7,
    decision_minutes: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Use only quotes seen this many minutes before tip-off "
            "(default: NBAPROPS_DECISION_MINUTES_BEFORE_TIP).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="A system parameter, SYSTEM.NAME=VALUE (repeatable)."),
    ] = None,
    feature_set: Annotated[
        str | None,
        typer.Option("--set", help="Feature set (default: the market's, e.g. points_v1)."),
    ] = None,
    market: Annotated[
        str,
        typer.Option(
            "--market",
            "--markets",
            help="Market(s): points (default), rebounds, assists, threes, pra, pr, pa, ra; "
            "a comma-separated list, or all (each reported apart).",
        ),
    ] = "points",
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="Print the fold plan and stop.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Folder for run folders (default: $NBAPROPS_RUNS_DIR).")
    ] = None,
    name: Annotated[str, typer.Option(help="Run name.")] = "backtest",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk-forward backtest: the daily job replayed, with honest metrics and a report."""
    from nbaprops.core.markets import parse_markets
    from nbaprops.experiments import report
    from nbaprops.experiments.backtest import plan_spec, run_markets
    from nbaprops.experiments.report import run_dir, write_report
    from nbaprops.experiments.spec import build_spec

    first, last = parse_period(start, end)
    markets = parse_markets(market)
    if feature_set is not None and len(markets) > 1:
        raise NbapropsError("--set names one market's feature set; give it with one --market")
    if feature_set is not None:
        from nbaprops.features.catalog import FEATURE_SETS

        named = FEATURE_SETS.get(feature_set)
        if named is not None and named.market != markets[0].name:
            raise NbapropsError(
                f"--set {feature_set} predicts {named.market}, not {markets[0].name}; "
                f"for {markets[0].name} use --set {markets[0].feature_set}"
            )
    settings = settings_for(db)
    if decision_minutes is None:
        decision_minutes = settings.models.decision_minutes_before_tip
    specs = [
        build_spec(
            {
                "name": name if len(markets) == 1 else f"{name}-{m.name}",
                "systems": parse_systems(systems),
                "system_params": parse_params(param),
                "evaluation": {"start": first, "end": last},
                "training": {"start": parse_optional_day(history_start, "--history-start")},
                "window": {"kind": window, "days": window_days},
                "recency": {"enabled": half_life is not None, "half_life_days": half_life or 60.0},
                "retrain_every": retrain_every,
                "gap_days": gap_days,
                "warmup_days": warmup_days,
                "feature_set": feature_set or m.feature_set,
                "ev_margin": ev_margin,
                "seed": seed,
                "decision_minutes": decision_minutes,
            },
            names=FLAG_NAMES,
        )
        for m in markets
    ]
    runs_root = out or settings.paths.runs_dir
    if not plan_only:
        origin = "--out" if out else "NBAPROPS_RUNS_DIR"
        if runs_root.exists() and not runs_root.is_dir():
            raise NbapropsError(f"{origin} {runs_root} is a file; give a folder for run folders")
        writable_folder(runs_root, f"run folders under {runs_root}")
    outputs: list[dict[str, Any]] = []
    results: list[BacktestResult] = []
    with connect(settings.paths.db, read_only=True) as con:
        plans = [plan_spec(con, spec) for spec in specs]
        if plan_only:
            if as_json:
                emit_json(
                    [
                        {"spec": sp.resolved(), "plan": p.describe()}
                        for sp, p in zip(specs, plans, strict=True)
                    ]
                    if len(specs) > 1
                    else {"spec": specs[0].resolved(), "plan": plans[0].describe()}
                )
            else:
                for sp, p in zip(specs, plans, strict=True):
                    print_plan(p, sp)
            return
    with rich_progress(not as_json) as progress:
        names = ", ".join(spec.market.name for spec in specs)
        progress.begin(
            "walk-forward folds" + (f" ({names})" if len(specs) > 1 else ""),
            sum(len(p.folds) for p in plans),
        )
        done = run_markets(settings.paths.db, specs, settings=settings, on_fold=progress.step)
    for spec, result in zip(specs, done, strict=True):
        folder = run_dir(runs_root, spec.name)
        payload = write_report(result, folder)
        results.append(result)
        if as_json:
            outputs.append(
                {
                    "market": spec.market.name,
                    "folder": str(folder),
                    "tables": payload["tables"],
                    "metrics": report.metric_records(result.metrics),
                    "alarms": result.summary.get("alarms", {}),
                    "timings": payload["timings"],
                }
            )
        else:
            print_backtest(result, folder)
    together = report.portfolio(results, settings) if len(results) > 1 else []
    slips = dfs_slips(results, settings)
    if as_json:
        if len(outputs) == 1:  # one market keeps the one-run shape, its slips beside
            emit_json({**outputs[0], "dfs_slips": slips} if slips else outputs[0])
        else:
            emit_json({"markets": outputs, "portfolio": together, "dfs_slips": slips})
        return
    if together:
        print_portfolio(together)
    if slips:
        print_slips(slips)


def dfs_slips(results: list[BacktestResult], settings: Settings) -> list[dict[str, Any]]:
    """The DFS rows' slips replayed at the configured slip type (empty without DFS rows)."""
    from nbaprops.cli.slips import load_payout_table
    from nbaprops.experiments.slips_replay import replay_slips

    conf = settings.slips
    table = load_payout_table(conf)
    return replay_slips(
        results,
        table.get(conf.slips_default_type),
        table,
        margin=conf.slips_min_margin,
        same_game=conf.slips_same_game,
        correlation=conf.slips_game_correlation,
    )


def print_slips(rows: list[dict[str, Any]]) -> None:
    """DFS pick'em: slips of legs clearing the break-even, paid by the slip table."""
    first = rows[0]
    t = Table(
        title=f"DFS pick'em slips ({first['slip_type']}, break-even "
        f"{100 * first['break_even']:.1f}% per leg): legs whose calibrated P clears it, "
        "at most one per player; paid by the slip table, never -110"
    )
    for col in ("system", "markets", "slips", "ROI", "units", "claimed EV", "legs", "leg hit rate"):
        t.add_column(col, justify="left" if col in ("system", "markets") else "right")
    for r in rows:
        t.add_row(
            r["system"],
            r["markets"],
            f"{r['slips']:,}",
            _pct(r["roi"]),
            f"{r['units']:+.1f}",
            _pct(r["claimed_ev"]),
            f"{r['legs']:,}",
            f"{_pct(r['leg_hit_rate'])} [{_pct(r['leg_ci_low'])}, {_pct(r['leg_ci_high'])}]",
        )
    console.print(t)


def print_portfolio(rows: list[dict[str, Any]]) -> None:
    """Every market's bets together, a player's second bet of a night dropped."""
    t = Table(
        title="All markets together: one bet per player per date across markets "
        "(NBAPROPS_PICKS_MAX_MARKETS_PER_PLAYER); bets graded as placed"
    )
    for col in ("system", "markets", "bets", "dropped", "hit rate [95% CI]", "ROI", "Kelly final"):
        t.add_column(col, justify="left" if col in ("system", "markets") else "right")
    for r in rows:
        t.add_row(
            r["system"],
            r["markets"],
            f"{r['n_bets'] - r['voids']:,}",
            f"{r['dropped_across_markets']:,}",
            f"{_pct(r['hit_rate'])} [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]",
            _pct(r["roi"]),
            f"{r['final_kelly']:.1f}",
        )
    console.print(t)


def _pct(v: float | None) -> str:
    return "—" if v is None or math.isnan(v) else f"{100 * v:.1f}%"


def print_backtest(result: BacktestResult, folder: Path) -> None:
    """The walk-forward's tables: points, real lines, alarms, folds (backtest and experiment)."""
    from nbaprops.experiments.report import summary_tables

    tables = summary_tables(result)
    market = result.spec.market
    t = Table(title=f"{market.title}: every predicted player-game that was played")
    for col in ("system", "N", "voids", "MAE", "bias", "R²", "baseline MAE", "vs baseline"):
        t.add_column(col, justify="left" if col == "system" else "right")
    for r in tables["points"]:
        t.add_row(
            r["system"],
            f"{r['n']:,}",
            f"{r['voids']:,}",
            f"{r['mae']:.3f}",
            f"{r['bias']:+.3f}",
            f"{r['r2']:.3f}",
            f"{r['baseline_mae_same_rows']:.3f}" if r["baseline_mae_same_rows"] else "—",
            f"{100 * r['improvement']:+.1f}%" if r["improvement"] is not None else "—",
        )
    console.print(t)
    t = Table(
        title=f"{market.title}, real lines: model vs the line on the same rows; bets at real prices"
    )
    for col in (
        "system",
        "lines",
        "N",
        "model MAE",
        "line MAE",
        "bets",
        "hit rate [95% CI]",
        "ROI @prices",
        "ROI @-110",
        "Brier",
        "vs market",
        "ECE",
    ):
        t.add_column(col, justify="left" if col in ("system", "lines") else "right")

    def versus(k: dict[str, Any] | None) -> str:
        """Brier difference to the market's on the same rows (+: worse), with its CI."""
        if not k:
            return "—"
        mark = " worse" if k["worse_than_market"] else ""
        from nbaprops.experiments.report import interval_text

        interval = interval_text(k["brier_diff_low"], k["brier_diff_high"])
        return f"{k['brier_diff']:+.4f} {interval}{mark}"

    def pct(v: float | None) -> str:
        return "—" if v is None or math.isnan(v) else f"{100 * v:.1f}%"

    for r in tables["lines"]:
        t.add_row(
            r["system"],
            r["line_kind"],
            f"{r['n']:,}",
            f"{r['model_mae']:.3f}",
            f"{r['line_mae']:.3f}",
            f"{r['bets']:,}",
            f"{pct(r['hit_rate'])} [{pct(r['ci_low'])}, {pct(r['ci_high'])}]",
            pct(r["roi_actual"]),
            pct(r["roi_flat"]),
            "—" if r["brier"] is None else f"{r['brier']:.4f}",
            versus(r.get("market")),
            "—" if r["ece"] is None else f"{r['ece']:.4f}",
        )
    console.print(t)
    t = Table(
        title="Picks: calls staked before EV calibration (raw EV, uncapped) and after "
        "(calibrated EV, the record, the caps); bets graded as placed"
    )
    for col in ("system", "lines", "rule", "bets", "hit rate [95% CI]", "ROI", "Kelly final"):
        t.add_column(col, justify="left" if col in ("system", "lines", "rule") else "right")
    t.add_column("largest exposure", justify="right")
    for system, entry in result.summary["systems"].items():
        for kind, block in entry["lines"].items():
            for rule, f in block.get("picks", {}).items():
                t.add_row(
                    system,
                    kind,
                    rule,
                    f"{f['n_bets'] - f['voids']:,}",
                    f"{pct(f['hit_rate'])} [{pct(f['ci_low'])}, {pct(f['ci_high'])}]",
                    pct(f["roi"]),
                    f"{f['final_kelly']:.1f}",
                    pct(f["max_exposure"]),
                )
    console.print(t)
    for system, msgs in result.summary.get("alarms", {}).items():
        for msg in msgs:
            err_console.print(f"[bold red]LEAKAGE ALARM[/bold red] {system}: {msg}")
    best = min(tables["points"], key=lambda r: r["mae"])["system"]
    t = Table(title=f"Folds ({best}, the lowest MAE; every system's folds are in the report)")
    for col in ("fold", "train", "test", "rows", "MAE", "bets", "hit rate", "ROI @-110"):
        t.add_column(col, justify="left" if col in ("train", "test") else "right")
    for r in result.folds[result.folds["system"] == best].to_dict("records"):
        if r["warmup"]:
            continue
        t.add_row(
            str(r["fold"]),
            f"{r['train_start']}..{r['train_end']} ({r['train_rows']:,})",
            f"{r['test_start']}..{r['test_end']}",
            f"{r['rows']:,}",
            f"{r['mae']:.3f}",
            str(r["bets"]),
            pct(r["hit_rate"]),
            pct(r["roi_flat"]),
        )
    console.print(t)
    console.print(f"report: {folder / 'report.md'} ({result.timings['total_s']:.0f}s)")
