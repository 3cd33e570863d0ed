"""`nbaprops experiment ...`: run YAML experiments and query the experiment registry."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nbaprops.cli.backtest import print_backtest, print_plan
from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    console,
    emit_json,
    err_console,
    parse_optional_day,
    query_and_print,
    rich_progress,
    settings_for,
    user_errors,
)
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError

experiment_app = typer.Typer(
    help="Experiments from YAML files, and the registry of every run.", no_args_is_help=True
)


def _pct(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def _num(v: Any, digits: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def spec_with_flags(
    file: Path,
    *,
    name: str | None = None,
    train_end: str | None = None,
    eval_start: str | None = None,
    eval_end: str | None = None,
    depth: int | None = None,
    iterations: int | None = None,
    features: str | None = None,
) -> Any:
    """The YAML spec with command-line overrides applied (and validated again)."""
    from nbaprops.experiments.spec import load_spec

    spec = load_spec(file)
    changes: dict[str, Any] = {"name": name}
    if train_end is not None:
        changes["training"] = {"end": parse_optional_day(train_end, "--train-end")}
    period = {
        k: v
        for k, v in (
            ("start", parse_optional_day(eval_start, "--eval-start")),
            ("end", parse_optional_day(eval_end, "--eval-end")),
        )
        if v is not None
    }
    if period:
        changes["evaluation"] = period
    hyper = {k: v for k, v in (("depth", depth), ("iterations", iterations)) if v is not None}
    if hyper:
        changes["hyperparameters"] = hyper
    if features is not None:
        chosen = [f.strip() for f in features.split(",") if f.strip()]
        if not chosen:
            raise NbapropsError("--features is empty; give a comma-separated list of features")
        changes["mode"] = "experimental"
        changes["features"] = chosen
    return spec.with_overrides(**changes)


@experiment_app.command("run")
@user_errors
def experiment_run(
    file: Annotated[Path, typer.Argument(help="Experiment YAML file (see experiments/).")],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print config, fold plan and features; train nothing."),
    ] = False,
    no_registry: Annotated[
        bool, typer.Option("--no-registry", help="Run without recording it in any registry.")
    ] = False,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Record the run but register no model version.")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Override the run's name.")] = None,
    train_end: Annotated[
        str | None, typer.Option(help="Override training.end (the registered model's).")
    ] = None,
    eval_start: Annotated[str | None, typer.Option(help="Override evaluation.start.")] = None,
    eval_end: Annotated[str | None, typer.Option(help="Override evaluation.end.")] = None,
    depth: Annotated[
        int | None, typer.Option(min=1, help="Override the primary system's depth.")
    ] = None,
    iterations: Annotated[
        int | None, typer.Option(min=1, help="Override the primary system's iterations.")
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(help="Comma-separated catalog features (switches to mode: experimental)."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run one experiment: the walk-forward, its registry record and its model version."""
    import yaml

    from nbaprops.experiments.backtest import plan_spec
    from nbaprops.experiments.runner import run_experiment
    from nbaprops.warehouse.migrate import migrate

    spec = spec_with_flags(
        file,
        name=name,
        train_end=train_end,
        eval_start=eval_start,
        eval_end=eval_end,
        depth=depth,
        iterations=iterations,
        features=features,
    )
    settings = settings_for(db)
    if dry_run:
        with connect(settings.paths.db, read_only=True) as con:
            plan = plan_spec(con, spec)
        fs = spec.resolved_feature_set
        feature_rows = [
            {"name": f.name, "default": f.default, "description": f.description}
            for f in fs.definitions()
        ]
        if as_json:
            emit_json(
                {
                    "spec": spec.resolved(),
                    "config_hash": spec.config_hash(),
                    "feature_set": fs.key,
                    "plan": plan.describe(),
                    "features": feature_rows,
                    "trained": False,
                }
            )
            return
        console.print(f"[bold]{file}[/bold] resolved (config hash {spec.config_hash()[:12]}):")
        console.print(yaml.safe_dump(spec.resolved(), sort_keys=False), highlight=False)
        print_plan(plan, spec)
        t = Table(title=f"Features ({fs.key}, {len(feature_rows)}; default when unknown)")
        for col in ("feature", "default", "description"):
            t.add_column(col, overflow="fold")
        for f in feature_rows:
            t.add_row(f["name"], f"{f['default']:g}", f["description"])
        console.print(t)
        console.print("dry run: nothing trained, nothing recorded")
        return
    if spec.type == "breakout":
        from nbaprops.cli.breakout import run_breakout_spec

        run_breakout_spec(
            spec, settings, record=not no_registry, register_model=not no_model, as_json=as_json
        )
        return
    with connect(settings.paths.db) as con:
        migrate(con)
        with rich_progress(not as_json) as progress:
            outcome = run_experiment(
                con,
                spec,
                settings=settings,
                record=not no_registry,
                register_model=not no_model,
                on_plan=lambda n: progress.begin(f"{spec.name}: walk-forward folds", n),
                on_fold=progress.step,
            )
    for warning in outcome.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    model = outcome.model
    if as_json:
        emit_json(
            {
                "experiment_id": outcome.run_id,
                "name": spec.name,
                "mode": spec.mode,
                "folder": str(outcome.folder),
                "model": None if model is None else model.ref,
                "summary": outcome.result.summary["systems"].get(spec.primary, {}),
            }
        )
        return
    print_backtest(outcome.result, outcome.folder)
    if outcome.run_id is None:
        console.print("not recorded (--no-registry)")
        return
    console.print(f"experiment {outcome.run_id} completed ({spec.mode} mode)")
    if model is not None:
        note = " (experimental: never promotable)" if spec.mode != "shared" else ""
        console.print(
            f"registered {model.ref}: trained {model.train_start}..{model.train_end} on "
            f"{model.train_rows:,} rows, calibrated on {model.calibration['pit_n']:,} "
            f"out-of-sample rows{note}"
        )


@experiment_app.command("features")
@user_errors
def experiment_features(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every catalog feature an experiment may use (mode: experimental takes any)."""
    from nbaprops.cli.features import features_list

    features_list(feature_set=None, db=db, as_json=as_json)


@experiment_app.command("list")
@user_errors
def experiment_list(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only runs with this tag.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many runs.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded runs, newest first, with the primary system's MAE and hit rate and N."""
    from nbaprops.experiments.registry import list_runs

    query_and_print(
        settings_for(db),
        lambda con: list_runs(con, status=status, tag=tag, limit=limit),
        _print_runs,
        as_json=as_json,
        payload=lambda rows: {"runs": rows},
    )


def _print_runs(rows: list[dict[str, Any]]) -> None:
    t = Table(title=f"Experiment runs ({len(rows)})")
    for col in (
        "id",
        "name",
        "type",
        "mode",
        "status",
        "system",
        "eval window",
        "MAE (N)",
        "hit rate (bets)",
        "model",
    ):
        t.add_column(col, overflow="fold")
    for r in rows:
        more = (r.get("n_systems") or 1) - 1  # a run of several systems (a backfill)
        t.add_row(
            r["experiment_id"][:8],
            r["name"],
            r["type"],
            r["mode"],
            r["status"] + (f": {r['error'][:60]}" if r["error"] else ""),
            r["primary_system"] + (f" +{more} more" if more > 0 else ""),
            r["eval_window"],
            "—" if r["mae"] is None else f"{r['mae']:.3f} ({int(r['n']):,})",
            "—" if r["hit_rate"] is None else f"{_pct(r['hit_rate'])} ({int(r['n_bets']):,})",
            "—" if r["model_version"] is None else f"v{r['model_version']}",
        )
    console.print(t)


@experiment_app.command("show")
@user_errors
def experiment_show(
    experiment_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything recorded about one run: config, periods, figures, artefacts, events."""
    from nbaprops.experiments.registry import get_run

    query_and_print(
        settings_for(db), lambda con: get_run(con, experiment_id), _print_run, as_json=as_json
    )


def _print_run(run: dict[str, Any]) -> None:
    for key in (
        "experiment_id",
        "name",
        "hypothesis",
        "type",
        "mode",
        "status",
        "error",
        "primary_system",
        "feature_set",
        "config_hash",
        "tags",
        "training_start",
        "training_end",
        "training_rows",
        "eval_window",
        "eval_rows",
        "n_folds",
        "model_version",
        "git_commit",
        "git_dirty",
        "parent_id",
        "sweep",
        "mlflow_run_id",
        "created_at",
        "completed_at",
    ):
        console.print(f"[bold]{key}[/bold]: {run.get(key)}", highlight=False)
    for key, path in (run.get("artefacts") or {}).items():
        console.print(f"[bold]artefact {key}[/bold]: {path}", highlight=False)
    t = Table(title="Figures (metrics-module names)")
    for col in ("system", "rows", "metric", "value", "N"):
        t.add_column(col)
    for f in run["figures"]:
        t.add_row(f["system"], f["rows"], f["metric"], _num(f["value"], 4), str(f["n"] or "—"))
    console.print(t)
    for e in run["events"]:
        console.print(f"{e['at']}  {e['status']}  {e['detail'] or ''}", highlight=False)


@experiment_app.command("best")
@user_errors
def experiment_best(
    metric: Annotated[str, typer.Option(help="mae, hit_rate, roi or brier.")] = "mae",
    eval_window: Annotated[
        str | None,
        typer.Option(help="START:END; only runs on one window compete (default: most used)."),
    ] = None,
    lines: Annotated[str, typer.Option(help="Line source for hit_rate/roi/brier.")] = "sportsbook",
    limit: Annotated[int, typer.Option(min=1)] = 10,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Finished runs on one evaluation window, ranked by a metric, with N beside it."""
    from nbaprops.experiments.registry import best_runs

    def show(found: tuple[str, list[dict[str, Any]]]) -> None:
        _print_best(metric, lines, *found)

    query_and_print(
        settings_for(db),
        lambda con: best_runs(con, metric, eval_window=eval_window, lines=lines, limit=limit),
        show,
        as_json=as_json,
        payload=lambda found: {"metric": metric, "eval_window": found[0], "runs": found[1]},
    )


def _print_best(metric: str, lines: str, window: str, rows: list[dict[str, Any]]) -> None:
    t = Table(title=f"Best by {metric} on {window} ({rows[0]['rows'] if rows else lines} rows)")
    for col in ("rank", "id", "name", "mode", "status", metric, "N", "model"):
        t.add_column(col, justify="right" if col in (metric, "N", "rank") else "left")
    for r in rows:
        value = _pct(r["value"]) if metric in ("hit_rate", "roi") else _num(r["value"], 4)
        t.add_row(
            str(r["rank"]),
            r["experiment_id"][:8],
            r["name"],
            r["mode"],
            r["status"],
            value,
            "—" if r["n"] is None else f"{r['n']:,}",
            "—" if r["model_version"] is None else f"{r['primary_system']}@v{r['model_version']}",
        )
    console.print(t)


@experiment_app.command("compare")
@user_errors
def experiment_compare(
    first: Annotated[str, typer.Argument(help="Run A (id or prefix).")],
    second: Annotated[str, typer.Argument(help="Run B (id or prefix).")],
    lines: Annotated[str, typer.Option(help="Line source of the lined figures.")] = "sportsbook",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Two runs on exactly the same player-games: A, B, A − B and its 95% interval."""
    from nbaprops.experiments.compare import compare_predictions
    from nbaprops.experiments.registry import get_run, resolve_id, run_predictions

    with connect(settings_for(db).paths.db, read_only=True) as con:
        ids = [resolve_id(con, first), resolve_id(con, second)]
        runs = [get_run(con, i) for i in ids]
        for run in runs:
            if run["status"] not in ("completed", "promoted", "archived"):
                raise NbapropsError(f"run {run['experiment_id']} is {run['status']}: no figures")
        frames = [run_predictions(con, i) for i in ids]
    out = compare_predictions(frames[0], frames[1], lines=lines)
    out["a"] = {k: runs[0][k] for k in ("experiment_id", "name", "eval_window")}
    out["b"] = {k: runs[1][k] for k in ("experiment_id", "name", "eval_window")}
    if as_json:
        emit_json(out)
        return
    console.print(
        f"A = {runs[0]['name']} ({ids[0][:8]}), B = {runs[1]['name']} ({ids[1][:8]}): "
        f"{out['common']:,} player-games in common (A has {out['rows_a']:,}, "
        f"B {out['rows_b']:,})",
        highlight=False,
    )
    t = Table(title="Same rows, side by side (paired bootstrap 95% interval of A − B)")
    for col in ("figure", "rows", "N", "A", "B", "A − B", "95% interval"):
        t.add_column(col, justify="left" if col in ("figure", "rows") else "right")
    for f in out["figures"]:
        rate = f["figure"] in ("hit_rate", "roi_actual")
        fmt = _pct if rate else (lambda v: _num(v, 4))
        n = f"{f['n']:,}" if f["n_a"] is None else f"{f['n_a']:,} / {f['n_b']:,} bets"
        t.add_row(
            f["figure"],
            f["rows"],
            n,
            fmt(f["a"]),
            fmt(f["b"]),
            fmt(f["diff"]),
            f"[{fmt(f['ci_low'])}, {fmt(f['ci_high'])}]",
        )
    console.print(t)


@experiment_app.command("archive")
@user_errors
def experiment_archive(
    experiment_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    reason: Annotated[str | None, typer.Option(help="Why (kept with the event).")] = None,
    db: DbOpt = None,
) -> None:
    """Mark a finished run archived (kept, with its figures; it no longer competes)."""
    from nbaprops.experiments.registry import resolve_id, set_status

    with connect(settings_for(db).paths.db) as con:
        run_id = resolve_id(con, experiment_id)
        set_status(con, run_id, "archived", reason)
    console.print(f"experiment {run_id} archived")


@experiment_app.command("sweep")
@user_errors
def experiment_sweep(
    file: Annotated[Path, typer.Argument(help="Sweep YAML file: a base experiment and a grid.")],
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local Dask worker processes (default: settings).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler (tcp://host:8786).")
    ] = None,
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Run in this process, one after another.")
    ] = False,
    metric: Annotated[
        str | None, typer.Option(help="Rank by mae, hit_rate, roi or brier (default: file's).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the expanded experiments; run nothing.")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Expand a grid into experiments, run them on Dask, record each, rank them."""
    from nbaprops.experiments.runner import run_sweep_recorded
    from nbaprops.experiments.sweep import METRICS, expand, load_sweep, ranked
    from nbaprops.warehouse.migrate import migrate

    if scheduler and sequential:
        raise NbapropsError("give --scheduler or --sequential, not both")
    sweep = load_sweep(file)
    chosen = metric or sweep.metric
    if chosen not in METRICS:
        raise NbapropsError(f"--metric {chosen!r}: use one of {', '.join(METRICS)}")
    specs = expand(sweep)
    if dry_run:
        rows = [
            {"name": s.name, "config_hash": s.config_hash(), **_grid_values(s, sweep.grid)}
            for s in specs
        ]
        if as_json:
            emit_json({"sweep": sweep.name, "experiments": rows})
        else:
            for r in rows:
                console.print(r, highlight=False)
        return
    settings = settings_for(db)
    n_workers = workers or settings.models.sweep_workers
    with connect(settings.paths.db) as con:
        migrate(con)
        with rich_progress(not as_json) as progress:
            progress.begin(f"{sweep.name}: {len(specs)} experiments", len(specs))
            done = run_sweep_recorded(
                con,
                sweep.name,
                specs,
                settings=settings,
                scheduler=scheduler,
                n_workers=n_workers,
                sequential=sequential,
                on_done=progress.step,
            )
    table = ranked(done.outcome, chosen)
    ids = dict(zip([s.name for s in specs], done.run_ids, strict=True))
    for row in table:
        row["experiment_id"] = ids[row["name"]]
    if as_json:
        emit_json(
            {
                "sweep": sweep.name,
                "mode": done.outcome.mode,
                "wall_s": round(done.outcome.wall_s, 2),
                "frames_s": round(done.outcome.frames_s, 2),
                "metric": chosen,
                "runs": table,
            }
        )
    else:
        t = Table(
            title=f"{sweep.name}: {len(specs)} experiments by {chosen} "
            f"({done.outcome.mode}, {done.outcome.wall_s:.0f}s)"
        )
        others = [c for c in ("mae", "hit_rate", "brier") if c != chosen]
        for col in ("rank", "id", "name", chosen, "N", *others, "error"):
            t.add_column(col, justify="left" if col in ("id", "name", "error") else "right")
        for r in table:
            rate = chosen in ("hit_rate", "roi")
            t.add_row(
                str(r["rank"]),
                r["experiment_id"][:8],
                r["name"],
                _pct(r["value"]) if rate else _num(r["value"], 4),
                "—" if r["n"] is None else f"{r['n']:,}",
                *(
                    f"{_pct(r['hit_rate'])} ({r['n_bets']:,})"
                    if c == "hit_rate" and r["hit_rate"] is not None
                    else _num(r[c], 4)
                    for c in others
                ),
                (r["error"] or "")[:80],
            )
        console.print(t)
    if done.outcome.failures:
        raise NbapropsError(
            f"{len(done.outcome.failures)} of {len(specs)} sweep runs failed (recorded with "
            "their errors; see `nbaprops experiment list --status failed`)"
        )


def _grid_values(spec: Any, grid: dict[str, Any]) -> dict[str, Any]:
    """The value each grid path took in this spec (read back from the resolved spec)."""
    resolved = spec.resolved()
    out = {}
    for path in grid:
        node: Any = resolved
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        out[path] = node
    return out
