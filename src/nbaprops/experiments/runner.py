"""Run an experiment: record it, replay the walk-forward, register its model.

The run is in the experiment registry before any work starts (``pending``), so a crash
leaves a ``failed`` row with its error rather than nothing. A completed run has its
figures and out-of-sample predictions in the warehouse, a report folder on disk, and
(unless asked not to) its primary system refitted up to the training end and
registered as a model version carrying the calibration its walk-forward earned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.experiments import registry as reg
from nbaprops.experiments.backtest import (
    BacktestFrames,
    BacktestResult,
    final_model,
    prepare_frames,
    run_on_frames,
)
from nbaprops.experiments.report import run_dir, write_report
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.models.registry import ModelVersion, register_version


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced (run_id is None for ``--no-registry``)."""

    run_id: str | None
    result: BacktestResult
    folder: Path
    model: ModelVersion | None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def one_line(exc: BaseException) -> str:
    """An error as the one line a registry row keeps."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def primary_figures(result: BacktestResult) -> dict[str, Any]:
    """The primary system's headline figures, under the metrics module's names."""
    return {
        f"{rows}.{metric}": value
        for system, rows, metric, value, _ in reg.metric_rows(result.metrics)
        if system == result.spec.primary and value is not None and math.isfinite(value)
    }


def _mlflow(
    settings: Settings, run_id: str, spec: ExperimentSpec, result: BacktestResult, folder: Path
) -> str:
    from nbaprops.experiments.tracking import log_run

    assert settings.models.mlflow_tracking_uri is not None
    return log_run(
        settings.models.mlflow_tracking_uri,
        experiment="nbaprops",
        run_name=spec.name,
        params=spec.resolved(),
        metrics=primary_figures(result),
        tags={
            "nbaprops.experiment_id": run_id,
            "nbaprops.mode": spec.mode,
            "nbaprops.eval_window": spec.eval_window,
            "nbaprops.primary_system": spec.primary,
            "nbaprops.config_hash": spec.config_hash(),
        },
        artefacts=[folder],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection | None,
    run_id: str | None,
    frames: BacktestFrames | None,
    result: BacktestResult,
    *,
    settings: Settings,
    register_model: bool,
) -> RunOutcome:
    """Write the report, register the model, record the figures, log to MLflow."""
    spec = result.spec
    folder = run_dir(settings.paths.runs_dir, re.sub(r"[^A-Za-z0-9_.-]", "_", spec.name))
    write_report(result, folder)
    artefacts = {"report": str(folder)}
    warnings: list[str] = []
    version = None
    if con is not None and run_id is not None:
        if register_model and frames is not None:
            final = final_model(frames, spec, result, settings.models.fit_workers)
            git = reg.git_state()
            version = register_version(
                con,
                system=final.system,
                calibration=final.calibration,
                oos=final.oos,
                experiment_id=run_id,
                mode=spec.mode,
                feature_set=spec.resolved_feature_set,
                eval_window=spec.eval_window,
                metrics=primary_figures(result),
                train_start=final.train_start,
                train_end=final.train_end,
                train_rows=final.train_rows,
                code_commit=git.commit,
                code_dirty=git.dirty,
                artifacts_root=settings.paths.resolved_artifacts_dir(),
                artifacts_dir=settings.paths.artifacts_dir,
            )
            artefacts["model"] = version.artefact_dir
        training_rows = version.train_rows if version is not None else None
        reg.complete_run(
            con,
            run_id,
            result,
            training_rows=training_rows,
            artefacts=artefacts,
            model_version=None if version is None else version.version,
        )
        if settings.models.mlflow_tracking_uri:
            try:
                reg.set_mlflow_run(con, run_id, _mlflow(settings, run_id, spec, result, folder))
            except NbapropsError as exc:
                warnings.append(f"MLflow logging failed (the run is recorded here): {exc}")
    return RunOutcome(run_id, result, folder, version, tuple(warnings))


def run_experiment(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
    *,
    settings: Settings,
    record: bool = True,
    register_model: bool = True,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Run one experiment end to end; with ``record`` it lands in both registries."""
    if spec.type == "breakout":
        raise NbapropsError(
            f"{spec.name}: type breakout runs through "
            "nbaprops.experiments.breakout.run_breakout_experiment (`nbaprops experiment run`)"
        )
    run_id = reg.create_run(con, spec) if record else None
    try:
        frames = prepare_frames(con, spec)
        if run_id is not None:
            reg.mark_running(con, run_id)
        result = run_on_frames(frames, spec, settings=settings, on_plan=on_plan, on_fold=on_fold)
        return finish_run(
            con if record else None,
            run_id,
            frames,
            result,
            settings=settings,
            register_model=register_model,
        )
    except BaseException as exc:
        if run_id is not None:
            reg.fail_run(con, run_id, one_line(exc))
        raise


@dataclass(frozen=True)
class RecordedSweep:
    """A sweep's outcome and the registry id of each of its runs (in spec order)."""

    outcome: Any  # sweep.SweepOutcome
    run_ids: tuple[str, ...]


def run_sweep_recorded(
    con: duckdb.DuckDBPyConnection,
    sweep_name: str,
    specs: list[ExperimentSpec],
    *,
    settings: Settings,
    scheduler: str | None = None,
    n_workers: int = 2,
    sequential: bool = False,
    on_progress: Callable[[str], None] | None = None,
    on_done: Callable[[str], None] | None = None,
) -> RecordedSweep:
    """Run a sweep's experiments (on Dask unless ``sequential``), recording every run.

    Each run is ``pending`` before any work and ``running`` once the sweep starts; as
    each result lands on the driver it is recorded like any run (report folder,
    figures, out-of-sample rows) or marked ``failed`` with its error. Sweep runs
    register no model version: run the winner with ``experiment run`` to register it.
    A sweep that is interrupted marks its unfinished runs failed.
    """
    from nbaprops.experiments.sweep import run_sweep

    ids = {spec.name: reg.create_run(con, spec, sweep=sweep_name) for spec in specs}
    finished: set[str] = set()
    for run_id in ids.values():
        reg.mark_running(con, run_id)

    def record(spec: ExperimentSpec, result: BacktestResult | BaseException) -> None:
        run_id = ids[spec.name]
        finished.add(run_id)
        status = "done"
        if isinstance(result, BaseException):
            reg.fail_run(con, run_id, one_line(result))
            status = "failed"
        else:
            try:
                finish_run(con, run_id, None, result, settings=settings, register_model=False)
            except Exception as exc:
                reg.fail_run(con, run_id, one_line(exc))
                status = "failed"
        if on_done:
            on_done(f"{spec.name}: {status}")

    try:
        outcome = run_sweep(
            con,
            specs,
            settings=settings,
            scheduler=scheduler,
            n_workers=n_workers,
            sequential=sequential,
            on_result=record,
            on_progress=on_progress,
        )
    except BaseException as exc:
        for run_id in ids.values():
            if run_id not in finished:
                reg.fail_run(con, run_id, f"sweep stopped: {one_line(exc)}")
        raise
    return RecordedSweep(outcome, tuple(ids[s.name] for s in specs))
