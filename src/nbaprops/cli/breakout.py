"""`nbaprops breakout ...`: the role-player breakout classifier, run as a shadow.

evaluate (walk-forward figures), train (register a version, alias it ``shadow``),
predict (score a date with the shadow), grade (grade a date) and report (the
shadow's graded AUC over time and breakout rate by risk category).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    console,
    emit_json,
    open_writable,
    parse_day,
    query_and_print,
    rich_progress,
    settings_for,
    user_errors,
)
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings

breakout_app = typer.Typer(
    help="The role-player breakout classifier (shadow: scored and graded, never picks).",
    no_args_is_help=True,
)

StartOpt = Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")]
EndOpt = Annotated[str, typer.Option("--end", help="Last date, YYYY-MM-DD.")]
DayOpt = Annotated[str, typer.Option("--date", help="Game date, YYYY-MM-DD.")]


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def _range(start: str, end: str) -> tuple[date, date]:
    a, b = parse_day(start, "--start"), parse_day(end, "--end")
    if a > b:
        raise NbapropsError(f"--start {a} is after --end {b}")
    return a, b


def _rules(settings: Settings) -> Any:
    from nbaprops.systems.breakout import BreakoutRules

    return BreakoutRules.from_settings(settings)


def _feature_set(features: str | None) -> Any:
    from nbaprops.features.catalog import BREAKOUT_V1, FEATURES, experimental_feature_set

    if features is None:
        return BREAKOUT_V1
    chosen = tuple(f.strip() for f in features.split(",") if f.strip())
    if not chosen:
        raise NbapropsError("--features is empty; give a comma-separated list of features")
    unknown = [f for f in chosen if f not in FEATURES]
    if unknown:
        raise NbapropsError(f"--features: unknown features: {', '.join(unknown)}")
    return experimental_feature_set(chosen, "breakout research features")


def print_summary(title: str, summary: dict[str, Any]) -> None:
    console.print(
        f"[bold]{title}[/bold]: AUC {_fmt(summary.get('auc'))} on {summary.get('n', 0):,} "
        f"graded role-player games ({summary.get('voids', 0):,} voids, not scored); base rate "
        f"{_fmt(summary.get('base_rate'), pct=True)}; AUC of -season average alone "
        f"{_fmt(summary.get('auc_inverse_season_avg'))}"
    )
    t = Table(title="Breakout rate by risk category (rate = precision; 95% Wilson interval)")
    for col in ("risk", "N", "breakouts", "rate", "95% CI"):
        t.add_column(col)
    for cat, block in summary.get("by_risk", {}).items():
        low, high = block["ci95"]
        t.add_row(
            cat,
            f"{block['n']:,}",
            f"{block['breakouts']:,}",
            _fmt(block["rate"], pct=True),
            f"{_fmt(low, pct=True)}..{_fmt(high, pct=True)}",
        )
    console.print(t)


@breakout_app.command("evaluate")
@user_errors
def evaluate(
    start: StartOpt,
    end: EndOpt,
    retrain_every: Annotated[int, typer.Option(min=1, help="Days per fold.")] = 14,
    window_days: Annotated[int, typer.Option(min=1, help="Rolling training window (days).")] = 3
    * 365,
    iterations: Annotated[int, typer.Option(min=1, help="CatBoost iterations.")] = 300,
    features: Annotated[
        str | None,
        typer.Option(help="Comma-separated catalog features instead of breakout_v1 (research)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk-forward evaluation: AUC, base rate, breakout rate per risk category."""
    from nbaprops.experiments.breakout import BreakoutConfig, run_breakout_walk_forward

    first, last = _range(start, end)
    settings = settings_for(db)
    config = BreakoutConfig(
        first,
        last,
        feature_set=_feature_set(features),
        rules=_rules(settings),
        retrain_every=retrain_every,
        window_days=window_days,
        params={"iterations": iterations},
        seed=seed,
    )
    with open_writable(settings) as con, rich_progress(not as_json) as progress:
        result = run_breakout_walk_forward(
            con,
            config,
            on_plan=lambda n: progress.begin("breakout walk-forward", n),
            on_fold=progress.step,
        )
    if as_json:
        emit_json(
            {
                "feature_set": config.feature_set.key,
                "summary": result.summary,
                "folds": result.folds,
                "seconds": result.seconds,
            }
        )
        return
    print_summary(f"breakout {config.feature_set.key} {first}..{last}", result.summary)
    console.print(f"{len(result.folds)} folds, {result.seconds:.0f}s")


def run_breakout_spec(
    spec: Any, settings: Settings, *, record: bool, register_model: bool, as_json: bool
) -> None:
    """`experiment run` of a ``type: breakout`` spec."""
    from nbaprops.experiments.breakout import run_breakout_experiment

    with open_writable(settings) as con, rich_progress(not as_json) as progress:
        outcome = run_breakout_experiment(
            con,
            spec,
            rules=_rules(settings),
            runs_dir=settings.paths.runs_dir,
            artifacts_root=settings.paths.resolved_artifacts_dir(),
            artifacts_dir=settings.paths.artifacts_dir,
            record=record,
            register_model=register_model,
            on_plan=lambda n: progress.begin(f"{spec.name}: breakout folds", n),
            on_fold=progress.step,
        )
    model = outcome.model
    if as_json:
        emit_json(
            {
                "experiment_id": outcome.run_id,
                "name": spec.name,
                "mode": spec.mode,
                "folder": str(outcome.folder),
                "model": None if model is None else model.ref,
                "summary": outcome.evaluation.summary,
            }
        )
        return
    print_summary(f"{spec.name} ({spec.mode})", outcome.evaluation.summary)
    console.print(f"report: {outcome.folder}")
    if outcome.run_id is not None:
        console.print(f"experiment {outcome.run_id} completed ({spec.mode} mode)")
    if model is not None:
        console.print(
            f"registered {model.ref}: trained {model.train_start}..{model.train_end} on "
            f"{model.train_rows:,} rows (`nbaprops model promote breakout {model.version} "
            "--alias shadow` serves it as the shadow)"
        )


@breakout_app.command("train")
@user_errors
def train(
    end: Annotated[str, typer.Option("--end", help="Last training date (and evaluation end).")],
    eval_days: Annotated[
        int, typer.Option(min=7, help="Days of walk-forward evaluation before --end.")
    ] = 56,
    iterations: Annotated[int, typer.Option(min=1, help="CatBoost iterations.")] = 300,
    shadow: Annotated[
        bool, typer.Option("--shadow/--no-shadow", help="Point the shadow alias at it.")
    ] = True,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate, fit on history up to --end, register a version, alias it shadow."""
    from datetime import timedelta

    from nbaprops.experiments.breakout import run_breakout_experiment
    from nbaprops.experiments.spec import build_spec
    from nbaprops.models.registry import promote

    last = parse_day(end, "--end")
    settings = settings_for(db)
    spec = build_spec(
        {
            "name": f"breakout_shadow_{last}",
            "hypothesis": "the daily breakout shadow's model",
            "type": "breakout",
            "system": "breakout",
            "feature_set": "breakout_v1",
            "evaluation": {"start": last - timedelta(days=eval_days - 1), "end": last},
            "window": {"kind": "rolling", "days": 3 * 365},
            "retrain_every": 14,
            "hyperparameters": {"iterations": iterations},
            "tags": ["breakout", "shadow"],
        }
    )
    with open_writable(settings) as con:
        with rich_progress(not as_json) as progress:
            outcome = run_breakout_experiment(
                con,
                spec,
                rules=_rules(settings),
                runs_dir=settings.paths.runs_dir,
                artifacts_root=settings.paths.resolved_artifacts_dir(),
                artifacts_dir=settings.paths.artifacts_dir,
                on_plan=lambda n: progress.begin("breakout: train", n),
                on_fold=progress.step,
            )
        model = outcome.model
        assert model is not None
        if shadow:
            promote(
                con,
                model.system_id,
                model.version,
                "shadow",
                min_rows=settings.models.promotion_min_rows,
                max_ece=settings.models.promotion_max_ece,
                reason="breakout train",
                artifacts_dir=settings.paths.artifacts_dir,
            )
    if as_json:
        emit_json({"model": model.ref, "shadow": shadow, "summary": outcome.evaluation.summary})
        return
    print_summary(f"{model.ref} walk-forward {spec.start}..{spec.end}", outcome.evaluation.summary)
    console.print(
        f"registered {model.ref} (trained {model.train_start}..{model.train_end}, "
        f"{model.train_rows:,} rows){'; breakout@shadow now points at it' if shadow else ''}"
    )


@breakout_app.command("predict")
@user_errors
def predict(
    day: DayOpt,
    force: Annotated[bool, typer.Option("--force", help="Re-score a scored date.")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a date's role players with breakout@shadow and store the rows."""
    from nbaprops.predictions.breakout import (
        active_breakout,
        predict_breakout_date,
        shadow_model,
    )
    from nbaprops.predictions.daily import version_feature_set

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    with open_writable(settings) as con:
        loaded = shadow_model(con, artifacts_dir=settings.paths.artifacts_dir)
        if loaded is None:
            raise NbapropsError(
                "no breakout@shadow model; run `nbaprops breakout train --end <date>` first"
            )
        write = predict_breakout_date(
            con,
            the_day,
            loaded,
            _rules(settings),
            version_feature_set(loaded.version),
            force=force,
        )
        rows = active_breakout(con, the_day)
    if as_json:
        emit_json(
            {
                "date": str(the_day),
                "model": loaded.version.ref,
                "written": write.written,
                "unchanged": write.unchanged,
                "superseded": write.superseded,
                "rows": rows.drop(columns=["created_at"], errors="ignore").to_dict("records"),
            }
        )
        return
    state = "unchanged (already scored; --force re-scores)" if write.unchanged else "stored"
    console.print(f"{loaded.version.ref} on {the_day}: {len(rows)} role players, {state}")
    t = Table(title=f"Breakout risk {the_day} (HIGH / MEDIUM first)")
    for col in ("player_id", "team", "season avg", "breakout at", "score", "P(breakout)", "risk"):
        t.add_column(col)
    for r in rows[rows["risk"] != "LOW"].itertuples():
        t.add_row(
            str(r.player_id),
            str(r.team),
            f"{r.season_avg_before:.1f}",
            f"{r.breakout_threshold:.1f}",
            f"{r.risk_score:.3f}",
            f"{r.p_breakout:.1%}",
            str(r.risk),
        )
    console.print(t)


@breakout_app.command("grade")
@user_errors
def grade(day: DayOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Grade a date's shadow rows (idempotent)."""
    from nbaprops.grading.breakout import grade_breakout_date

    the_day = parse_day(day, "--date")
    with open_writable(settings_for(db)) as con:
        result = grade_breakout_date(con, the_day)
    if as_json:
        emit_json(result.__dict__)
        return
    console.print(
        f"{the_day}: {result.graded} graded, {result.void} void, {result.pending} pending, "
        f"{result.regraded} regraded"
    )


@breakout_app.command("report")
@user_errors
def report(start: StartOpt, end: EndOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The shadow's graded figures: AUC over time, base rate, rate by risk category."""
    from nbaprops.grading.breakout import breakout_report

    first, last = _range(start, end)
    query_and_print(
        settings_for(db),
        lambda con: breakout_report(con, first, last),
        lambda out: _print_report(first, last, out),
        as_json=as_json,
    )


def _print_report(first: date, last: date, out: dict[str, Any]) -> None:
    if not out["n"]:
        console.print(f"no graded shadow rows between {first} and {last}")
        return
    print_summary(f"breakout shadow {first}..{last} ({out['dates']} dates)", out)
    t = Table(title="AUC over time")
    for col in ("month", "N", "base rate", "AUC", "HIGH"):
        t.add_column(col)
    for row in out["by_month"]:
        t.add_row(
            row["month"],
            f"{row['n']:,}",
            _fmt(row["base_rate"], pct=True),
            _fmt(row["auc"]),
            str(row["n_high"]),
        )
    console.print(t)
