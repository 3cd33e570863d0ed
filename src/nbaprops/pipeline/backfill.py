"""Backfills: the daily job over a past date range, resumable, nothing duplicated.

``backfill_walk_forward`` is the walk-forward engine (``experiments.engine``) with a
warehouse sink: every system of the spec is refitted as the backtest of the same spec
does (same folds, windows, seeds; the ensemble and the anchored system composed over
the fold's fits), each fit registered as a model version of one experiment run, every
date of the fold predicted with ``score_date`` and the fold's dates graded before the
next fold, so each fold's calibration and stacking learn from exactly the graded rows a
daily job would have had. Its figures therefore equal the backtest's.

Each date is written in one transaction per model. After a crash a re-run finds the
same run (same config hash), loads the versions it already registered, skips the
dates already predicted by them, and finishes the rest.

``backfill_with_aliases`` predicts each date with the models that have aliases now
(no retraining); dates inside a model's training window are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from nbaprops.core.settings import Settings
from nbaprops.experiments import registry as reg
from nbaprops.experiments.backtest import eval_game_dates, plan_on_frames, prepare_frames
from nbaprops.experiments.engine import FitPolicy, FoldRows, run_walk_forward
from nbaprops.experiments.folds import Fold
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.grading.grade import grade_date
from nbaprops.grading.history import TableHistory
from nbaprops.models.calibration import Calibration
from nbaprops.models.registry import load_model, register_version
from nbaprops.pipeline.jobs import audit
from nbaprops.predictions.daily import (
    ModelDate,
    ServingModel,
    aliased_models,
    predict_date,
    write_models_date,
)
from nbaprops.predictions.scoring import ScoringModel
from nbaprops.systems.base import PredictionSystem

BACKFILL_TAG = "backfill"


@dataclass
class BackfillResult:
    run_id: str | None
    dates: int = 0
    dates_skipped: int = 0  # already predicted by this run's versions (resumed)
    rows_written: int = 0
    picks_written: int = 0
    versions_registered: int = 0
    versions_reused: int = 0
    graded_dates: int = 0
    notes: list[str] = field(default_factory=list)


def _find_resumable(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> str | None:
    row = con.execute(
        "SELECT experiment_id FROM experiments.run WHERE config_hash = ? AND list_contains("
        "tags, ?) AND status IN ('pending', 'running', 'failed') ORDER BY created_at DESC "
        "LIMIT 1",
        [spec.config_hash(), BACKFILL_TAG],
    ).fetchone()
    return None if row is None else str(row[0])


def _finished_run(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> str | None:
    row = con.execute(
        "SELECT experiment_id FROM experiments.run WHERE config_hash = ? AND list_contains("
        "tags, ?) AND status = 'completed' ORDER BY created_at DESC LIMIT 1",
        [spec.config_hash(), BACKFILL_TAG],
    ).fetchone()
    return None if row is None else str(row[0])


def _fold_version(
    con: duckdb.DuckDBPyConnection, run_id: str, system_id: str, train_end: date
) -> int | None:
    row = con.execute(
        "SELECT max(version) FROM models.version WHERE experiment_id = ? AND system_id = ? "
        "AND train_end = ?",
        [run_id, system_id, train_end],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _done(con: duckdb.DuckDBPyConnection, day: date, system_id: str, version: int) -> bool:
    row = con.execute(
        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND system_id = ? "
        "AND model_version = ? AND is_active",
        [day, system_id, version],
    ).fetchone()
    return bool(row and row[0])


@dataclass
class WarehouseSink:
    """The backfill's sink: each fit registered as a model version of the run (or the
    version a crashed run registered, loaded), each date's rows and picks written in
    one transaction per model, the fold's nights graded before the next fold fits."""

    con: duckdb.DuckDBPyConnection
    spec: ExperimentSpec
    settings: Settings
    run_id: str
    result: BackfillResult
    on_date: Callable[[str], None] | None = None
    sees_outcomes: bool = False
    keep_quantiles: bool = True
    history: TableHistory = field(init=False)

    def __post_init__(self) -> None:
        self.history = TableHistory(self.con, self.run_id, self.spec.market.name)
        self.git = reg.git_state()

    def existing(self, fold: Fold, system_ids: Sequence[str]) -> dict[str, ScoringModel]:
        models = {}
        for system_id in system_ids:
            version = _fold_version(self.con, self.run_id, system_id, fold.train_end)
            if version is None:
                continue
            loaded = load_model(
                self.con,
                f"{system_id}@v{version}",
                artifacts_dir=self.settings.paths.artifacts_dir,
            )
            self.result.versions_reused += 1
            models[system_id] = ScoringModel(
                system_id,
                loaded.system,
                loaded.calibration,
                version=version,
                train_end=fold.train_end,
            )
        return models

    def add_model(
        self,
        fold: Fold,
        system_id: str,
        fitted: PredictionSystem,
        calibration: Calibration,
        graded: pd.DataFrame,
        train: pd.DataFrame,
    ) -> ScoringModel:
        registered = register_version(
            self.con,
            system=fitted,
            calibration=calibration,
            oos=graded,
            experiment_id=self.run_id,
            mode=self.spec.mode,
            feature_set=self.spec.resolved_feature_set,
            eval_window=self.spec.eval_window,
            metrics={"fold": fold.index, "backfill": True},
            train_start=train["game_date"].min(),
            train_end=fold.train_end,
            train_rows=len(train),
            code_commit=self.git.commit,
            code_dirty=self.git.dirty,
            artifacts_root=self.settings.paths.resolved_artifacts_dir(),
            artifacts_dir=self.settings.paths.artifacts_dir,
        )
        self.result.versions_registered += 1
        return ScoringModel(
            system_id, fitted, calibration, version=registered.version, train_end=fold.train_end
        )

    def pending(self, day: date, models: Sequence[ScoringModel]) -> list[ScoringModel]:
        return [m for m in models if not _done(self.con, day, m.system_id, int(m.version or 0))]

    def write_day(
        self, fold: Fold, day: date, scored: pd.DataFrame | None, models: Sequence[ScoringModel]
    ) -> None:
        if scored is None:
            self.result.dates_skipped += 1
        else:
            written = write_models_date(
                self.con,
                day,
                [ModelDate(scored[scored["system"] == m.system_id], m) for m in models],
                settings=self.settings,
                as_of=None,
                minutes_before_tip=self.spec.decision_minutes,
                completeness_skipped=False,
                force=True,
            )
            for write, picked in written:
                self.result.rows_written += write.written
                self.result.picks_written += picked.written
            self.result.dates += 1
        if self.on_date:
            self.on_date(str(day))

    def end_fold(self, rows: FoldRows, models: Sequence[ScoringModel]) -> None:
        # the nights of the fold pass: its dates are graded before the next fold fits
        for day in sorted(set(rows.test["game_date"])):
            grade_date(self.con, day)
            self.result.graded_dates += 1


def backfill_walk_forward(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
    settings: Settings,
    *,
    force: bool = False,
    on_plan: Callable[[int], None] | None = None,
    on_date: Callable[[str], None] | None = None,
) -> BackfillResult:
    """Predict (and grade, fold by fold) every date of the spec's walk-forward."""
    result = BackfillResult(None)
    run_id = _find_resumable(con, spec)
    if run_id is None and not force:
        finished = _finished_run(con, spec)
        if finished is not None:
            result.run_id = finished
            result.notes.append(
                f"backfill run {finished[:8]} of this config is complete: nothing to do "
                "(--force re-runs it and supersedes its predictions)"
            )
            return result
    if run_id is None:
        run_id = reg.create_run(con, spec.with_overrides(tags=(*spec.tags, BACKFILL_TAG)))
    else:
        result.notes.append(f"resuming backfill run {run_id[:8]}")
    result.run_id = run_id
    reg.mark_running(con, run_id)
    try:
        frames = prepare_frames(con, spec)
        plan = plan_on_frames(frames, spec)
        if on_plan:
            on_plan(len(frames.dates))
        sink = WarehouseSink(con, spec, settings, run_id, result, on_date)
        run_walk_forward(
            plan,
            frames.train,
            frames.evaluation,
            frames.books,
            spec,
            FitPolicy(spec, settings.models.fit_workers),
            sink,
        )
        reg.complete_backfill(con, run_id, _summary(result), len(plan.folds))
        audit(con, "backfill", "predictions", f"run {run_id[:8]}: {_summary(result)}")
    except BaseException as exc:
        reg.fail_run(con, run_id, f"{type(exc).__name__}: {exc}"[:500])
        raise
    return result


def _summary(result: BackfillResult) -> dict[str, int]:
    return {
        "dates": result.dates,
        "dates_skipped": result.dates_skipped,
        "rows_written": result.rows_written,
        "picks_written": result.picks_written,
        "versions_registered": result.versions_registered,
        "versions_reused": result.versions_reused,
    }


def backfill_with_aliases(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    start: date,
    end: date,
    *,
    force: bool = False,
    on_plan: Callable[[int], None] | None = None,
    on_date: Callable[[str], None] | None = None,
    markets: Sequence[str] | None = None,
) -> BackfillResult:
    """Predict each finished date in [start, end] with today's aliased models (of
    ``markets``; None: every market)."""
    models: list[ServingModel] = aliased_models(
        con, artifacts_dir=settings.paths.artifacts_dir, markets=markets
    )
    audit(con, "backfill", "predictions_with_aliases", f"{start}..{end} force={force}")
    dates = eval_game_dates(con, start, end)
    result = BackfillResult(None)
    if on_plan:
        on_plan(len(dates))
    for day in dates:
        out = predict_date(
            con,
            day,
            models,
            settings=settings,
            minutes_before_tip=settings.models.decision_minutes_before_tip,
            ev_margin=settings.betting.ev_margin,
            force=force,
            skip_completeness_check=True,
            freshness_gates=False,  # a replay: equal to the backtest's rows and picks
        )
        if out.unchanged:
            result.dates_skipped += 1
        else:
            result.dates += 1
            result.rows_written += sum(w.written for w in out.writes)
        result.picks_written += sum(w.written for w in out.picks)
        if on_date:
            on_date(str(day))
    return result


def backfill_grading(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    *,
    on_plan: Callable[[int], None] | None = None,
    on_date: Callable[[str], None] | None = None,
) -> list:
    """Grade every date with predictions in [start, end] (idempotent)."""
    dates = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM predictions.prediction WHERE game_date BETWEEN ? AND ? "
            "ORDER BY 1",
            [start, end],
        ).fetchall()
    ]
    if on_plan:
        on_plan(len(dates))
    out = []
    for day in dates:
        out.append(grade_date(con, day))
        if on_date:
            on_date(str(day))
    return out
