"""Walk-forward speed: seconds per fold per system, split into phases.

Runs the spring-2024 walk-forward of docs/results.md (2024-03-01..2024-05-24, weekly
retrain, 21 warm-up days, every system) exactly as ``nbaprops backtest`` does, and
times it from outside: the functions the backtest calls are wrapped in this process
(nothing under src/ is changed), each timer counting its own time only (nested timers
are subtracted), so the phases of a fold add up to its wall time.

Phases per system and fold:
  fit          ``FitPolicy.fit_one`` (boosted systems split further: ``fit.matrix`` frame
               to float32, ``fit.train_es`` early-stopped training on the head,
               ``fit.tail_predict`` predicting the tail, ``fit.shape`` residual shape,
               ``fit.refit`` the full-window refit; ``_warm`` when continuing the
               previous fold's booster, ``warm_start_rounds``); a composite's ``compose`` (the
               ensemble's stacker weights)
  calibration  ``calibration_of`` (PIT/Platt fit on the graded rows), ``history`` the
               graded rows read and the ensemble's out-of-fold member rows
  predict      ``predict_dist`` (``predict.model`` the booster's own predict), or a
               composite's ``predict_dist_from`` its members' distributions
  score        ``score_rows`` (probabilities, EV, line shopping)
and shared: ``score.date`` (``score_date`` identity frames and concat), ``score.replay``
(each date's book quotes, the sink keeping the date's rows), ``fold.grading`` (the
memory sink's ``end_fold``: outcomes joined, picks replayed, per-system split),
``fold.other`` (the rest of the fold: fold rows, per-date grouping, dependency order).
Frame building (``prepare_frames``: states, training frame, serving slates) runs once.

Without ``--db`` a warehouse is ingested from the real data (NBAPROPS_DATA_DIR) into a
temporary folder first. ``--folds N`` runs the first N folds only (warm-up folds
first); ``--profile N`` also runs the folds under cProfile and prints the top N
functions by cumulative and by own time (cProfile slows Python-heavy code).
``--fit-workers N`` fits N systems of a fold side by side (default: the ``fit_workers``
setting, 2); with N > 1 each system's seconds are its own wall while sharing the cores
(they overlap) and CPU seconds are not split by system; ``--fit-workers 1`` gives the
exclusive per-system split. The fold wall is the figure either way.
``--param SYSTEM.NAME=VALUE`` (repeatable) sets a system parameter as ``nbaprops
backtest --param`` does, e.g. to time earlier defaults against the current ones.
Run: python benchmarks/bench_walkforward.py [--db FILE] [--systems all|a,b] [--folds N]
     [--start 2024-03-01] [--end 2024-05-24] [--retrain-every 7] [--profile 30] [--json]
     [--fit-workers 1] [--param catboost_full.learning_rate=0.06 ...]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import inspect
import io
import json
import os
import pstats
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import nbaprops.experiments.backtest as bt
from nbaprops.core.db import connect
from nbaprops.core.errors import NotReadyError
from nbaprops.core.settings import Settings
from nbaprops.experiments import engine
from nbaprops.experiments.folds import FoldPlan
from nbaprops.experiments.spec import ExperimentSpec, build_spec
from nbaprops.predictions import scoring
from nbaprops.predictions.history import InMemoryHistory
from nbaprops.systems import SYSTEM_IDS, ensemble
from nbaprops.systems.anchored import AnchoredSystem
from nbaprops.systems.base import PredictionSystem
from nbaprops.systems.boosting import BoostedSystem
from nbaprops.systems.catboost_full import CatBoostSystem
from nbaprops.systems.composite import CompositeSystem
from nbaprops.systems.ensemble import EnsembleSystem
from nbaprops.systems.fitting import ResidualShape
from nbaprops.systems.xgboost_system import XGBoostSystem

SHARED = "(shared)"
FRAMES = "(frames)"
# Phase columns of the printed table, in order; fine phases roll up to these.
COARSE = ("fit", "calibration", "predict", "score", "other")


def coarse(phase: str) -> str:
    head = phase.split(".", maxsplit=1)[0]
    if head in ("fit", "predict", "score"):
        return head
    if head in ("calibration", "history"):
        return "calibration"
    return "other"


class Recorder:
    """Exclusive seconds per (fold, system, phase), and one record per boosted training.

    Fits may run side by side (``--fit-workers``): each thread keeps its own timer stack
    and current system, and the totals are updated under a lock.
    """

    def __init__(self) -> None:
        self.fold: int | None = None
        self.local = threading.local()
        self.lock = threading.Lock()
        self.seconds: dict[tuple[Any, str, str], float] = defaultdict(float)
        self.cpu: dict[tuple[Any, str, str], float] = defaultdict(float)
        self.calls: dict[tuple[Any, str, str], int] = defaultdict(int)
        self.trainings: list[dict[str, Any]] = []
        self.fits_wall: dict[Any, float] = defaultdict(float)

    @property
    def stack(self) -> list[list[float]]:  # child wall and CPU seconds of each open timer
        if not hasattr(self.local, "stack"):
            self.local.stack = []
        return self.local.stack  # type: ignore[no-any-return]

    @property
    def system(self) -> str | None:
        return getattr(self.local, "system", None)

    @system.setter
    def system(self, value: str | None) -> None:
        self.local.system = value

    @contextlib.contextmanager
    def timer(self, system: str | None, phase: str) -> Iterator[None]:
        fold = FRAMES if self.fold is None else self.fold
        self.stack.append([0.0, 0.0])
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            children, cpu_children = self.stack.pop()
            key = (fold, system or self.system or SHARED, phase)
            with self.lock:
                self.seconds[key] += spent - children
                self.cpu[key] += cpu - cpu_children
                self.calls[key] += 1
            if self.stack:
                self.stack[-1][0] += spent
                self.stack[-1][1] += cpu

    def wrap(
        self,
        owner: Any,
        name: str,
        phase: str | Callable[[tuple[Any, ...]], str],
        system: Callable[[tuple[Any, ...]], str | None] | None = None,
        before: Callable[[tuple[Any, ...], dict[str, Any]], None] | None = None,
    ) -> None:
        """Replace ``owner.name`` by a timed call-through (functions, methods, classmethods)."""
        static = inspect.getattr_static(owner, name)
        is_classmethod = isinstance(static, classmethod)
        original = static.__func__ if is_classmethod else getattr(owner, name)
        recorder = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            sys_id = system(args) if system else None
            if before:
                before(args, kwargs)
            label = phase(args) if callable(phase) else phase
            with recorder.timer(sys_id, label):
                return original(*args, **kwargs)

        setattr(owner, name, classmethod(timed) if is_classmethod else timed)


def instrument(rec: Recorder) -> None:
    """Wrap what the walk-forward calls (module globals are looked up at call time)."""

    # Frames (once per run).
    rec.wrap(bt, "ensure_state", "frames.ensure_state", lambda a: FRAMES)
    rec.wrap(bt, "plan_spec", "frames.plan", lambda a: FRAMES)
    rec.wrap(bt, "build_frame", "frames.train_frame", lambda a: FRAMES)
    rec.wrap(bt, "eval_frame", "frames.eval_slates", lambda a: FRAMES)

    # The fold: the sink is asked for its existing models when a fold starts, and grades
    # the fold's rows (outcomes joined, picks replayed, split per system) when it ends.
    def set_fold(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rec.fold = args[1].index
        rec.system = None

    rec.wrap(bt.MemorySink, "existing", "fold.other", lambda a: SHARED, before=set_fold)
    rec.wrap(bt.MemorySink, "end_fold", "fold.grading", lambda a: SHARED)
    rec.wrap(engine, "day_books", "score.replay", lambda a: SHARED)
    rec.wrap(bt.MemorySink, "write_day", "score.replay", lambda a: SHARED)
    rec.wrap(engine, "score_date", "score.date", lambda a: SHARED)

    # Fitting.
    def fitting(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rec.system = args[1]

    rec.wrap(engine.FitPolicy, "fit_one", "fit", lambda a: a[1], before=fitting)
    rec.wrap(
        engine, "make_system", "fit.make", lambda a: a[0], before=lambda a, k: fitting((0, *a), k)
    )
    rec.wrap(CompositeSystem, "compose", "fit", lambda a: a[0].system_id)
    rec.wrap(ensemble, "oof_member_frame", "history.oof_frame", lambda a: "ensemble")
    rec.wrap(BoostedSystem, "_matrix", lambda a: _in_fit(rec, "matrix"), lambda a: a[0].system_id)
    rec.wrap(ResidualShape, "fit", lambda a: _in_fit(rec, "shape"))
    for cls in (CatBoostSystem, XGBoostSystem):
        _wrap_train(rec, cls)
        rec.wrap(cls, "_raw_predict", lambda a: _in_fit(rec, "tail_predict", "predict.model"))

    # Calibration and the history it reads.
    def calibrating(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rec.system = args[0].system_id

    rec.wrap(engine, "calibration_of", "calibration", lambda a: a[0].system_id, before=calibrating)
    rec.wrap(InMemoryHistory, "graded_before", "history")  # for whom: calibration or stack

    # Predicting and scoring (score_rows follows the predict of the same system).
    def predicting(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rec.system = args[0].system_id

    rec.wrap(PredictionSystem, "predict_dist", "predict", lambda a: a[0].system_id, predicting)
    for composite in (EnsembleSystem, AnchoredSystem):  # from members' distributions
        rec.wrap(composite, "predict_dist_from", "predict", lambda a: a[0].system_id, predicting)
    rec.wrap(scoring, "score_rows", "score", lambda a: rec.system)


def _in_fit(rec: Recorder, fit_phase: str, other: str | None = None) -> str:
    """A fit sub-phase inside ``FitPolicy.fit_one``, else ``other`` (e.g. the booster's predict)."""
    inside = any(key == "fit" for key in _open_phases(rec))
    if inside:
        return f"fit.{fit_phase}"
    return other or f"predict.{fit_phase}"


def _open_phases(rec: Recorder) -> list[str]:
    return getattr(rec.local, "open_phases", [])


def _wrap_train(rec: Recorder, cls: type[BoostedSystem]) -> None:
    """Time each boosted training and keep its rows, requested and trained rounds."""
    original = cls._train

    def timed(
        self: Any, x: Any, y: Any, weight: Any, valid: Any, rounds: int | None, init: Any = None
    ) -> Any:
        kind = "train_es" if valid is not None else ("refit" if rounds else "train_full")
        kind = kind if init is None else f"{kind}_warm"  # continuing the previous fold's fit
        started, cpu_started = time.perf_counter(), time.process_time()
        with rec.timer(self.system_id, f"fit.{kind}"):
            model, used = original(self, x, y, weight, valid, rounds, init)
        trained = _trained_rounds(self, model, used, valid, init)
        with rec.lock:
            rec.trainings.append(
                {
                    "fold": rec.fold,
                    "system": self.system_id,
                    "kind": kind,
                    "rows": len(x),
                    "tail_rows": 0 if valid is None else len(valid[0]),
                    "init_rounds": _rounds_of(init),
                    "max_rounds": int(
                        rounds
                        or (self.warm_start_rounds if init is not None else None)
                        or getattr(self, "iterations", 0)
                        or self.n_estimators
                    ),
                    "best_rounds": int(used),
                    "trained_rounds": int(trained),
                    "seconds": round(time.perf_counter() - started, 3),
                    "cpu_s": round(time.process_time() - cpu_started, 3),
                }
            )
        return model, used

    cls._train = timed  # type: ignore[method-assign]


def _trained_rounds(system: Any, model: Any, used: int, valid: Any, init: Any) -> int:
    """Rounds the model holds once boosted (a warm start's own rounds included): early
    stopping trains ``early_stopping_rounds`` past the best."""
    if valid is None:
        return used
    before = _rounds_of(init)
    evals = getattr(model, "evals_result_", None)
    if evals:  # CatBoost keeps the whole curve (of the new rounds) even with use_best_model
        curve = next(iter(evals.get("validation", {}).values()), [])
        if curve:
            return before + len(curve)
    cap = system.warm_start_rounds if init is not None else None
    cap = cap or getattr(system, "iterations", None) or system.n_estimators
    return min(used + system.early_stopping_rounds, before + cap)


def _rounds_of(init: Any) -> int:
    """The rounds of a booster a warm start continues (0 for none)."""
    if init is None:
        return 0
    count = getattr(init, "tree_count_", None)
    return int(count) if count is not None else int(init.num_boosted_rounds())


def _track_open_phases(rec: Recorder) -> None:
    """Let sub-phase names see whether a ``fit`` timer is open (a stack of labels per thread)."""
    timer = rec.timer

    @contextlib.contextmanager
    def tracked(system: str | None, phase: str) -> Iterator[None]:
        if not hasattr(rec.local, "open_phases"):
            rec.local.open_phases = []
        rec.local.open_phases.append(phase)
        try:
            with timer(system, phase):
                yield
        finally:
            rec.local.open_phases.pop()

    rec.timer = tracked  # type: ignore[method-assign]


def _time_fits(rec: Recorder) -> None:
    """The wall time of each fold's fits, however many run side by side."""
    original = engine.FitPolicy.fit

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            rec.fits_wall[rec.fold] += time.perf_counter() - started

    engine.FitPolicy.fit = timed  # type: ignore[method-assign]


def make_spec(args: argparse.Namespace) -> ExperimentSpec:
    systems = list(SYSTEM_IDS) if args.systems == "all" else args.systems.split(",")
    return build_spec(
        {
            "name": "bench_walkforward",
            "systems": systems,
            "evaluation": {"start": args.start, "end": args.end},
            "retrain_every": args.retrain_every,
            "warmup_days": args.warmup_days,
            "seed": args.seed,
            "system_params": parse_params(args.param),
        }
    )


def parse_params(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``--param catboost_full.learning_rate=0.06`` (repeatable), as ``nbaprops backtest``."""
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        key, _, raw = item.partition("=")
        system, _, name = key.partition(".")
        if not raw or not system or not name:
            raise SystemExit(f"--param {item!r}: expected SYSTEM.NAME=VALUE")
        out.setdefault(system.strip(), {})[name.strip()] = yaml.safe_load(raw)
    return out


def first_folds(frames: bt.BacktestFrames, n: int | None) -> bt.BacktestFrames:
    """The frames cut to the plan's first ``n`` folds (the same folds, re-planned alike)."""
    if not n or n >= len(frames.plan.folds):
        return frames
    folds = frames.plan.folds[:n]
    plan = FoldPlan(
        folds,
        frames.plan.window,
        frames.plan.window_days,
        frames.plan.retrain_every,
        frames.plan.gap_days,
    )
    last = folds[-1].test_end
    return replace(frames, plan=plan, dates=tuple(d for d in frames.dates if d <= last))


@contextlib.contextmanager
def warehouse(db: Path | None, keep: Path | None, base: Settings) -> Iterator[tuple[Path, float]]:
    """The given warehouse, or one ingested from the real data into a temporary folder."""
    if db is not None:
        yield db, 0.0
        return
    from nbaprops.pipeline.jobs import ingest_job

    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "nbaprops.duckdb"
        settings = base.replace(db=path)
        started = time.perf_counter()
        with connect(path) as con:
            result = ingest_job(con, settings)
            if result.report.failures:
                raise SystemExit(f"ingest failed: {result.report.failures}")
            bt.ensure_state(con)
        yield path, time.perf_counter() - started


def prepare(db: Path, spec: ExperimentSpec) -> bt.BacktestFrames:
    """Frames from a read-only connection, or from a copy when the states need a refresh."""
    try:
        with connect(db, read_only=True) as con:
            return bt.prepare_frames(con, spec)
    except NotReadyError:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "bench.duckdb"
            shutil.copy(db, copy)  # never write the user's warehouse
            with connect(copy) as con:
                return bt.prepare_frames(con, spec)


def table(
    rec: Recorder, folds: list[int], systems: list[str], *, split_cpu: bool = True
) -> dict[str, dict[str, float | None]]:
    """Mean seconds per fold by system and coarse phase (shared rows included).

    CPU seconds are process-wide, so they are split by system only when fits run one
    after another (``split_cpu``); otherwise the column is None.
    """
    out: dict[str, dict[str, float | None]] = {}
    for system in [*systems, SHARED]:
        row = dict.fromkeys(COARSE, 0.0)
        for (fold, sys_id, phase), s in rec.seconds.items():
            if sys_id == system and fold in folds:
                row[coarse(phase)] += s / len(folds)
        row["total"] = sum(row[c] for c in COARSE)
        row["cpu"] = sum(
            s for (fold, sys_id, _), s in rec.cpu.items() if sys_id == system and fold in folds
        ) / len(folds)
        cells: dict[str, float | None] = {k: round(v, 3) for k, v in row.items()}
        if not split_cpu:
            cells["cpu"] = None
        out[system] = cells
    return out


def fine(rec: Recorder, folds: list[int]) -> dict[str, dict[str, float]]:
    """Mean seconds per fold by system and fine phase."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (fold, sys_id, phase), s in sorted(rec.seconds.items(), key=lambda kv: str(kv[0])):
        if fold in folds:
            out[sys_id][phase] = round(out[sys_id].get(phase, 0.0) + s / len(folds), 3)
    return dict(out)


def profile_text(profile: cProfile.Profile, top: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=None, help="warehouse (default: ingest one)")
    parser.add_argument("--keep-db", type=Path, default=None, help="where to keep the ingest")
    parser.add_argument("--systems", default="all", help="'all' or comma-separated ids")
    parser.add_argument("--start", default="2024-03-01")
    parser.add_argument("--end", default="2024-05-24")
    parser.add_argument("--retrain-every", type=int, default=7)
    parser.add_argument("--warmup-days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folds", type=int, default=None, help="run the first N folds only")
    parser.add_argument(
        "--param", action="append", default=None, help="SYSTEM.NAME=VALUE (repeatable)"
    )
    parser.add_argument(
        "--fit-workers",
        type=int,
        default=None,
        help="systems a fold fits side by side (default: the fit_workers setting)",
    )
    parser.add_argument("--profile", type=int, default=0, help="cProfile: print the top N")
    parser.add_argument("--profile-out", type=Path, default=None, help="save the .prof here")
    parser.add_argument("--save", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.start, args.end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    spec = make_spec(args)
    systems = engine.dependency_order(spec.run_systems, spec)  # members fitted for composites too

    rec = Recorder()
    _track_open_phases(rec)
    instrument(rec)
    _time_fits(rec)
    settings = Settings()  # the environment's settings, read once here
    workers = settings.models.fit_workers if args.fit_workers is None else args.fit_workers
    with warehouse(args.db, args.keep_db, settings) as (db, ingest_s):
        started = time.perf_counter()
        frames = prepare(db, spec)
        frames_s = time.perf_counter() - started
    all_folds = len(frames.plan.folds)
    frames = first_folds(frames, args.folds)
    profile = cProfile.Profile() if args.profile else None
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    if profile:
        profile.enable()
    result = bt.run_on_frames(frames, spec, settings=settings, fit_workers=workers)
    if profile:
        profile.disable()
    walk_s = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    folds = [f.index for f in frames.plan.folds]
    fold_wall = {i: result.timings.get(f"fold_{i}_s", 0.0) for i in folds}
    for i in folds:  # what no timer saw: windows, history.add, fold rows
        seen = sum(s for (f, _, _), s in rec.seconds.items() if f == i)
        rec.seconds[(i, SHARED, "fold.other")] += max(fold_wall[i] - seen, 0.0)
    per_fold = {
        i: {
            "test": f"{f.test_start}..{f.test_end}",
            "warmup": f.warmup,
            "dates": sum(1 for d in frames.dates if f.test_start <= d <= f.test_end),
            "wall_s": round(fold_wall[i], 2),
            "fits_wall_s": round(rec.fits_wall.get(i, 0.0), 2),
            "by_system_s": {
                s: round(sum(v for (fo, sy, _), v in rec.seconds.items() if fo == i and sy == s), 2)
                for s in [*systems, SHARED]
            },
        }
        for i, f in zip(folds, frames.plan.folds, strict=True)
    }
    frame_phases = {phase: round(s, 2) for (f, _, phase), s in rec.seconds.items() if f == FRAMES}
    mean_fold = sum(fold_wall.values()) / len(folds)
    folds_end = frames.plan.folds[-1].train_end
    figures: dict[str, Any] = {
        "db": str(db),
        "cpus": os.cpu_count(),
        # 1-minute load average before and after the folds: above ~1 (this run alone, or
        # 2 during 2-thread fits) another job shared the cores and the seconds are inflated
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "systems": systems,
        "system_params": spec.system_params,
        # fits side by side: then each system's seconds are its own wall while sharing
        # the cores (they overlap, and add up to more than the fold), CPU is not split
        "fit_workers": workers,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "folds_run": len(folds),
        "folds_in_plan": all_folds,
        "train_rows_last_fold": len(engine.rows_in(frames.train, None, folds_end)),
        "eval_rows": len(frames.evaluation),
        "ingest_s": round(ingest_s, 1),
        "frames_s": round(frames_s, 2),
        "frame_phases_s": frame_phases,
        "walk_forward_s": round(walk_s, 2),
        "summary_s": round(walk_s - sum(fold_wall.values()), 2),
        "mean_fold_s": round(mean_fold, 2),
        "projected_full_plan_s": round(frames_s + mean_fold * all_folds, 1),
        "mean_fits_wall_s": round(sum(rec.fits_wall.get(i, 0.0) for i in folds) / len(folds), 2),
        "per_system_s_per_fold": table(rec, folds, systems, split_cpu=workers == 1),
        "phases_s_per_fold": fine(rec, folds),
        "per_fold": per_fold,
        "boosted_trainings": rec.trainings,
        "profiled": bool(profile),
    }
    if profile and args.profile_out:
        profile.dump_stats(args.profile_out)
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
        return
    print_figures(figures)
    if profile:
        print(profile_text(profile, args.profile))


def print_figures(f: dict[str, Any]) -> None:
    print(
        f"warehouse {f['db']}  (ingest {f['ingest_s']} s)  cpus {f['cpus']}  "
        f"load average before/after {f['load_average'][0]}/{f['load_average'][1]}"
    )
    print(
        f"frames (once) {f['frames_s']} s: "
        + ", ".join(f"{k} {v}" for k, v in f["frame_phases_s"].items())
    )
    print(
        f"fit workers {f['fit_workers']} (OMP_WAIT_POLICY {f['omp_wait_policy']}); fits of a fold"
        f" take {f['mean_fits_wall_s']} s of wall on average"
        + ("; systems' seconds below overlap (fits side by side)" if f["fit_workers"] > 1 else "")
    )
    print(
        f"folds run {f['folds_run']} of {f['folds_in_plan']}; walk-forward {f['walk_forward_s']} s"
        f" (summary {f['summary_s']} s); mean fold {f['mean_fold_s']} s; projected full plan "
        f"{f['projected_full_plan_s']} s" + ("  [under cProfile]" if f["profiled"] else "")
    )
    print("\nseconds per fold (mean), by system and phase")
    header = f"{'system':18s}" + "".join(f"{c:>12s}" for c in (*COARSE, "total", "share", "cpu s"))
    print(header)
    rows = f["per_system_s_per_fold"]
    grand = sum(r["total"] for r in rows.values()) or 1.0
    for system, r in rows.items():
        cells = "".join(f"{r[c]:12.2f}" for c in (*COARSE, "total"))
        cpu = "—" if r["cpu"] is None else f"{r['cpu']:.2f}"
        print(f"{system:18s}{cells}{100 * r['total'] / grand:11.1f}%{cpu:>12s}")
    print(f"{'all':18s}" + " " * 12 * len(COARSE) + f"{grand:12.2f}")
    print("\nfine phases (mean s per fold)")
    for system, phases in f["phases_s_per_fold"].items():
        cells = ", ".join(f"{k} {v:.2f}" for k, v in sorted(phases.items(), key=lambda kv: -kv[1]))
        print(f"  {system:16s} {cells}")
    print("\nper fold: wall s, then seconds by system")
    for i, fold in f["per_fold"].items():
        parts = "  ".join(f"{s} {v:.1f}" for s, v in fold["by_system_s"].items())
        warm = " warm-up" if fold["warmup"] else ""
        print(
            f"  fold {i} {fold['test']} ({fold['dates']} dates{warm}): {fold['wall_s']} s"
            f" (fits {fold['fits_wall_s']} s)"
        )
        print(f"      {parts}")
    print(
        "\nboosted trainings: fold system kind rows(tail) best/trained/max new rounds"
        " (warm: best and trained count the rounds continued from), s, CPU s"
    )
    for t in f["boosted_trainings"]:
        print(
            f"  {t['fold']:>2} {t['system']:16s} {t['kind']:10s} {t['rows']:>7}({t['tail_rows']})"
            f"  {t['best_rounds']}/{t['trained_rounds']}/{t['max_rounds']}"
            + (f" (warm from {t['init_rounds']})" if t["init_rounds"] else "")
            + f"  {t['seconds']:.1f}"
            f"  {t['cpu_s']:.1f}"
        )


if __name__ == "__main__":
    main()
