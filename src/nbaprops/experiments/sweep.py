"""Sweeps: one base experiment, a grid of changes, every combination walked forward.

A sweep file names a base spec and a grid of dotted spec paths (``window.days``,
``hyperparameters.depth``, ``system_params.catboost_full.depth`` ...). ``expand``
turns it into ordinary experiment specs, so every run is a run like any other
(same validation, same config hash, same backtest). ``run_sweep`` reads the warehouse
on the driver only, once per distinct set of frames, and fans the walk-forwards out
to Dask workers (or runs them one after another); the workers never open the
warehouse, so any number of them can share one DuckDB file.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nbaprops.core.errors import (
    NbapropsError,
    NotReadyError,
    WarehouseBusyError,
    WarehouseDamagedError,
)
from nbaprops.core.settings import Settings
from nbaprops.core.values import finite_or_none
from nbaprops.experiments.backtest import (
    BacktestFrames,
    BacktestResult,
    eval_game_dates,
    plan_for,
    prepare_frames,
    run_on_frames,
)
from nbaprops.experiments.folds import FoldPlan
from nbaprops.experiments.spec import (
    ExperimentSpec,
    build_spec,
    first_error,
    read_yaml_mapping,
)

MAX_CONFIGS = 500
METRICS = ("mae", "hit_rate", "roi", "brier")
LOWER_IS_BETTER = frozenset({"mae", "brier"})
CLUSTER_MISSING = "sweeps need the cluster extra: pip install 'nbaprops[cluster]'"
# Fields that label a run without changing its results (left out of the config hash):
# a grid over them would run the same experiment several times.
_LABELS = frozenset({"name", "hypothesis", "tags", "parent"})
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SPEC_FIELDS = frozenset(ExperimentSpec.model_fields) | {"system"}
# The warehouse's own state: no spec can run, so the sweep stops with one message.
_WAREHOUSE_STATE = (NotReadyError, WarehouseBusyError, WarehouseDamagedError)

Metric = Literal["mae", "hit_rate", "roi", "brier"]


def _canonical(value: Any) -> str:
    """A value as sorted JSON, so lists and mappings can be compared for duplicates."""
    return json.dumps(value, sort_keys=True, default=str)


class SweepSpec(BaseModel):
    """A base experiment and the grid of changes to walk forward (a sweep file).

    ``grid`` keys are dotted paths into the spec; a run sets each path to one value
    (a mapping value replaces the whole field, e.g. ``window: [{kind: expanding},
    {kind: rolling, days: 56}]``). The product is taken in the grid's key order,
    the last key varying fastest.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Runs are named "<name>-NNN" and a spec name has at most 100 characters.
    name: str = Field(max_length=96)
    hypothesis: str = ""
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    metric: Metric = "mae"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not _PLAIN_NAME.fullmatch(self.name):
            raise ValueError(
                f"name {self.name!r} must be a plain name (letters, digits, _ . -; no folders)"
            )
        unknown = sorted(set(self.base) - _SPEC_FIELDS)
        if unknown:
            raise ValueError(f"base: unknown experiment fields: {', '.join(unknown)}")
        if not self.grid:
            raise ValueError("grid is empty: give at least one dotted path and its values")
        for key, values in self.grid.items():
            parts = key.split(".")
            if any(not p for p in parts):
                raise ValueError(f"grid key {key!r} is not a dotted path like window.days")
            if parts[0] not in _SPEC_FIELDS:
                raise ValueError(f"grid key {key!r}: {parts[0]} is not an experiment field")
            if parts[0] in _LABELS:
                raise ValueError(
                    f"grid key {key!r}: {parts[0]} labels a run without changing its results"
                )
            if not values:
                raise ValueError(f"grid key {key!r} has no values")
            seen: set[str] = set()
            for value in values:
                canonical = _canonical(value)
                if canonical in seen:
                    raise ValueError(f"grid key {key!r} lists {value!r} twice")
                seen.add(canonical)
        keys = list(self.grid)
        for a, b in itertools.permutations(keys, 2):
            if b.startswith(a + "."):
                raise ValueError(f"grid keys {a!r} and {b!r} overlap: {a} would replace {b}")
        if {"system", "systems"} <= {*self.grid, *self.base}:
            raise ValueError("give either system or systems, in the base or the grid, not both")
        total = math.prod(len(v) for v in self.grid.values())
        if total > MAX_CONFIGS:
            raise ValueError(f"grid expands to {total} configs; at most {MAX_CONFIGS} per sweep")
        return self

    @property
    def size(self) -> int:
        """How many runs the grid expands to."""
        return math.prod(len(v) for v in self.grid.values())

    def points(self) -> list[dict[str, Any]]:
        """Every grid point (dotted path -> value), in the order runs are numbered."""
        keys = list(self.grid)
        return [
            dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.grid.values())
        ]


def load_sweep(path: Path) -> SweepSpec:
    """A sweep from a YAML file, checked all the way down to every run it expands to.

    Expanding here means a bad grid point is reported when the file is read, naming
    the file, not halfway through a sweep.
    """
    data = read_yaml_mapping(path, "sweep")
    try:
        sweep = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise NbapropsError(f"{path}: {first_error(exc)}") from None
    _expand(sweep, origin=str(path))
    return sweep


def _set_path(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted path in nested dicts, creating the missing levels."""
    *parents, leaf = key.split(".")
    node = data
    walked: list[str] = []
    for part in parents:
        walked.append(part)
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise NbapropsError(
                f"grid key {key!r}: base {'.'.join(walked)} is {child!r}, not a mapping"
            )
        else:
            child = node[part] = dict(child)
        node = child
    node[leaf] = value


def _describe(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_canonical(v)}" for k, v in point.items())


def _expand(sweep: SweepSpec, origin: str | None) -> list[ExperimentSpec]:
    where = f"{origin}: " if origin else ""
    base = dict(sweep.base)
    tags = tuple(dict.fromkeys([*base.get("tags", ()), "sweep", sweep.name]))
    specs: list[ExperimentSpec] = []
    seen: dict[str, int] = {}
    points = sweep.points()
    for i, point in enumerate(points):
        data = {key: value for key, value in base.items() if key != "name"}
        data["name"] = f"{sweep.name}-{i:03d}"
        data["tags"] = list(tags)
        data.setdefault("type", "hyperparameter")
        if not data.get("hypothesis"):
            data["hypothesis"] = sweep.hypothesis
        try:
            for key, value in point.items():
                _set_path(data, key, value)
            spec = build_spec(data)
        except NbapropsError as exc:
            raise NbapropsError(
                f"{where}sweep {sweep.name}, grid point {i} ({_describe(point)}): {exc}"
            ) from None
        if any(k.startswith("recency.half_life") for k in point) and not spec.recency.enabled:
            raise NbapropsError(
                f"{where}sweep {sweep.name}: the grid varies recency.half_life_days but "
                "recency is not enabled, so every value gives the same results "
                "(set recency.enabled: true in the base)"
            )
        digest = spec.config_hash()
        if digest in seen:
            j = seen[digest]
            raise NbapropsError(
                f"{where}sweep {sweep.name}: grid points {j} ({_describe(points[j])}) and "
                f"{i} ({_describe(point)}) give the same experiment (config {digest[:12]})"
            )
        seen[digest] = i
        specs.append(spec)
    return specs


def expand(sweep: SweepSpec) -> list[ExperimentSpec]:
    """Every run of the sweep, in grid order, named ``<sweep>-000``, ``<sweep>-001`` ...

    Each run is the base with the grid point's paths set, typed ``hyperparameter``
    unless the base says otherwise, tagged ``sweep`` and the sweep's name. A grid
    point that makes an invalid spec, or two that make the same experiment, is a
    NbapropsError naming the grid point(s).
    """
    return _expand(sweep, origin=None)


# --- frames: what the warehouse is read for -------------------------------------------


@dataclass(frozen=True)
class FramesKey:
    """What ``prepare_frames`` output depends on: specs with equal keys share frames.

    The window, recency, seed and model parameters only choose and weight rows of the
    same frames, so a sweep over them reads the warehouse once. An experimental
    feature set's key carries its spec's hash, so experimental specs never share.
    """

    feature_set: str
    features: tuple[str, ...]
    history_start: date | None
    decision_minutes: int
    start: date
    end: date
    warmup_days: int
    retrain_every: int
    gap_days: int
    final_train_end: date


def frames_key(spec: ExperimentSpec) -> FramesKey:
    fs = spec.resolved_feature_set
    return FramesKey(
        feature_set=fs.key,
        features=tuple(fs.features),
        history_start=spec.history_start,
        start=spec.start,
        end=spec.end,
        warmup_days=spec.warmup_days,
        retrain_every=spec.retrain_every,
        gap_days=spec.gap_days,
        final_train_end=spec.final_train_end,
        decision_minutes=spec.decision_minutes,
    )


def _spec_plan(spec: ExperimentSpec, dates: list[date]) -> FoldPlan:
    try:
        return plan_for(spec, dates)
    except ValueError as exc:
        raise NbapropsError(str(exc)) from None


# --- running ----------------------------------------------------------------------------


class SweepRun(NamedTuple):
    spec: ExperimentSpec
    result: BacktestResult | None
    error: str | None


@dataclass(frozen=True)
class SweepOutcome:
    """Every run's result or error, in the order of the specs given."""

    wall_s: float
    frames_s: float  # driver time spent reading the warehouse into frames
    mode: str  # sequential | local:N | scheduler:ADDR
    results: tuple[SweepRun, ...]

    @property
    def failures(self) -> list[SweepRun]:
        return [r for r in self.results if r.error is not None]


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, NbapropsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


ResultCallback = Callable[[ExperimentSpec, BacktestResult | BaseException], None]


def run_sweep(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[ExperimentSpec],
    *,
    settings: Settings,
    scheduler: str | None = None,
    n_workers: int = 2,
    sequential: bool = False,
    on_result: ResultCallback | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SweepOutcome:
    """Walk every spec forward: frames built here once per ``frames_key``, runs on Dask.

    ``sequential`` runs them in this process one after another (same results: every
    run is seeded and pure over its frames). Otherwise a client connects to
    ``scheduler`` or starts a local cluster of ``n_workers`` one-thread processes;
    each frames object is shipped to every worker once and each spec is one task.
    A run that fails is recorded with its error (and passed to ``on_result``); the
    others carry on. The cluster is always shut down, also on Ctrl-C.
    """
    started = time.perf_counter()
    specs = list(specs)
    if not specs:
        raise NbapropsError("a sweep needs at least one experiment")
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise NbapropsError(f"experiment names must be unique in a sweep: {', '.join(twice)}")
    say = on_progress or (lambda _message: None)
    results: dict[int, BacktestResult] = {}
    errors: dict[int, str] = {}

    def record(i: int, outcome: BacktestResult | BaseException) -> None:
        if isinstance(outcome, BaseException):
            errors[i] = _error_text(outcome)
        else:
            results[i] = outcome
        done = len(results) + len(errors)
        status = "failed: " + errors[i] if i in errors else "done"
        say(f"{specs[i].name} {status} ({done}/{len(specs)})")
        if on_result:
            on_result(specs[i], outcome)

    groups: dict[FramesKey, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(frames_key(spec), []).append(i)
    frames_by_key, plans, frames_s = _build_frames(con, specs, groups, record, say)

    runnable = [i for i in range(len(specs)) if i in plans]
    if sequential:
        mode = "sequential"
        for i in runnable:
            try:
                # each run plans its own folds over the shared frames (run_on_frames)
                outcome: BacktestResult | BaseException = run_on_frames(
                    frames_by_key[frames_key(specs[i])], specs[i], settings=settings
                )
            except Exception as exc:
                outcome = exc
            record(i, outcome)
    else:
        mode = _run_on_dask(
            specs, runnable, frames_by_key, record, say, scheduler, n_workers, settings
        )
    runs = tuple(SweepRun(s, results.get(i), errors.get(i)) for i, s in enumerate(specs))
    return SweepOutcome(time.perf_counter() - started, frames_s, mode, runs)


def _build_frames(
    con: duckdb.DuckDBPyConnection,
    specs: list[ExperimentSpec],
    groups: dict[FramesKey, list[int]],
    record: Callable[[int, BacktestResult | BaseException], None],
    say: Callable[[str], None],
) -> tuple[dict[FramesKey, BacktestFrames], dict[int, FoldPlan], float]:
    """Each group's frames (read once); each spec's plan, to refuse bad ones early and trim."""
    frames_by_key: dict[FramesKey, BacktestFrames] = {}
    plans: dict[int, FoldPlan] = {}
    frames_s = 0.0
    for n, (key, members) in enumerate(groups.items(), start=1):
        t0 = time.perf_counter()
        frames = _group_frames(con, specs, key, members, plans, record)
        frames_s += time.perf_counter() - t0
        if frames is None:
            continue
        frames_by_key[key] = frames
        say(
            f"frames {n}/{len(groups)}: {len(frames.train):,} training and "
            f"{len(frames.evaluation):,} evaluation rows for "
            f"{sum(i in plans for i in members)} runs ({frames.seconds:.1f} s)"
        )
    return frames_by_key, plans, frames_s


def _group_frames(
    con: duckdb.DuckDBPyConnection,
    specs: list[ExperimentSpec],
    key: FramesKey,
    members: list[int],
    plans: dict[int, FoldPlan],
    record: Callable[[int, BacktestResult | BaseException], None],
) -> BacktestFrames | None:
    """One group's frames, its members' plans added to ``plans``; None if none can run.

    A spec-level mistake (no games in its period, a window its period cannot have)
    fails only the runs concerned; a warehouse that is not ready fails the sweep.
    """
    first = key.start - timedelta(days=key.warmup_days)
    dates = eval_game_dates(con, first, key.end)
    if not dates:
        for i in members:
            record(i, NbapropsError(f"no finished games between {first} and {key.end}"))
        return None
    planned: dict[int, FoldPlan] = {}
    for i in members:
        try:
            planned[i] = _spec_plan(specs[i], dates)
        except NbapropsError as exc:
            record(i, exc)
    if not planned:
        return None
    try:
        frames = prepare_frames(con, specs[next(iter(planned))])
    except _WAREHOUSE_STATE:
        raise
    except NbapropsError as exc:
        for i in planned:
            record(i, exc)
        return None
    plans.update(planned)
    return _trimmed(frames, list(planned.values()))


def _trimmed(frames: BacktestFrames, plans: list[FoldPlan]) -> BacktestFrames:
    """Drop the training rows no fold of these plans reads (they only cost shipping).

    With rolling or current-season windows every fold starts its training at a date,
    so history before the earliest such date is never read: a sweep over short windows
    ships a small fraction of the frames to each worker. Expanding windows keep all.
    """
    starts = [fold.train_start for plan in plans for fold in plan.folds]
    if not starts or any(start is None for start in starts):
        return frames
    first = min(start for start in starts if start is not None)
    keep = (frames.train["game_date"] >= first).to_numpy()
    if keep.all():
        return frames
    return replace(frames, train=frames.train[keep])


def _run_on_dask(
    specs: list[ExperimentSpec],
    runnable: list[int],
    frames_by_key: dict[FramesKey, BacktestFrames],
    record: Callable[[int, BacktestResult | BaseException], None],
    say: Callable[[str], None],
    scheduler: str | None,
    n_workers: int,
    settings: Settings,
) -> str:
    """Submit one task per spec; the mode string says where they ran."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise NbapropsError(CLUSTER_MISSING) from None
    cluster: Any = None
    client: Any = None
    try:
        if scheduler:
            mode = f"scheduler:{scheduler}"
            try:
                client = Client(scheduler)
            except (OSError, TimeoutError) as exc:
                raise NbapropsError(
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                ) from None
        else:
            if n_workers < 1:
                raise NbapropsError(f"n_workers must be at least 1, not {n_workers}")
            mode = f"local:{n_workers}"
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        say(f"{mode}: {len(runnable)} runs on {len(client.scheduler_info()['workers'])} workers")
        if not runnable:
            return mode
        shipped = {
            key: client.scatter(frames, broadcast=True) for key, frames in frames_by_key.items()
        }
        futures = {
            # the cluster runs runs side by side, so each run fits its systems in turn
            client.submit(
                run_on_frames,
                shipped[frames_key(specs[i])],
                specs[i],
                settings=settings,
                fit_workers=1,
                pure=False,
            ): i
            for i in runnable
        }
        for future in as_completed(futures):
            i = futures[future]
            try:
                outcome: BacktestResult | BaseException = future.result()
            except Exception as exc:
                outcome = exc
            record(i, outcome)
        return mode
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


# --- ranking ----------------------------------------------------------------------------


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def figures(result: BacktestResult) -> dict[str, float | int | None]:
    """The primary system's sweep figures, each with its N (None when absent)."""
    entry = result.summary.get("systems", {}).get(result.spec.primary, {})
    rows = entry.get("all_rows", {})
    book = entry.get("lines", {}).get("sportsbook", {})
    betting = book.get("betting", {})
    probability = book.get("probability", {})
    return {
        "mae": finite_or_none(rows.get("mae")),
        "n_rows": _count(rows.get("n")),
        "hit_rate": finite_or_none(betting.get("hit_rate")),
        "roi": finite_or_none(betting.get("roi_actual")),
        "n_bets": _count(betting.get("n_bets")),
        "brier": finite_or_none(probability.get("brier")),
        "n_graded": _count(probability.get("n")),
    }


FIGURES = ("mae", "n_rows", "hit_rate", "roi", "n_bets", "brier", "n_graded")
_N_OF = {"mae": "n_rows", "hit_rate": "n_bets", "roi": "n_bets", "brier": "n_graded"}


def ranked(outcome: SweepOutcome, metric: str) -> list[dict[str, Any]]:
    """One row per run, best ``metric`` first; runs without a figure (or failed) last.

    Lower is better for mae and brier, higher for hit_rate and roi. Each figure keeps
    its N beside it (``value``/``n`` repeat the ranking metric's) so a small-sample
    winner is visible as such.
    """
    if metric not in METRICS:
        raise NbapropsError(f"unknown metric {metric!r} (known: {', '.join(METRICS)})")
    rows = []
    for spec, result, error in outcome.results:
        figs = figures(result) if result is not None else dict.fromkeys(FIGURES)
        rows.append(
            {
                "name": spec.name,
                "metric": metric,
                "value": figs[metric],
                "n": figs[_N_OF[metric]],
                **figs,
                "config_hash": spec.config_hash(),
                "error": error,
            }
        )
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    rows.sort(key=lambda r: (r["value"] is None, 0.0 if r["value"] is None else sign * r["value"]))
    return [{"rank": rank, **row} for rank, row in enumerate(rows, start=1)]
