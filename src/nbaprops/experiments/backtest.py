"""Walk-forward backtest: the daily job replayed over past dates.

For each fold, every system is fitted on player-games strictly before the fold,
then every date of the fold is predicted from its *serving* spine (the players
expected that day) with the lines quoted before tip-off. P(over) is recalibrated
with each system's own earlier folds only; players who then did not play are
voids. The function is pure over (warehouse, spec): it never writes the warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import get_market
from nbaprops.core.settings import Settings
from nbaprops.experiments.engine import FitPolicy, FoldRows, rows_in, run_walk_forward
from nbaprops.experiments.folds import Fold, FoldPlan, plan_folds, window_start
from nbaprops.experiments.report import metrics_table, summarize
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import build_frame, ensure_state, market_lines, training_spine
from nbaprops.models.calibration import Calibration
from nbaprops.predictions.history import InMemoryHistory, calibration_of
from nbaprops.predictions.picks import PickPolicy, select_picks
from nbaprops.predictions.scoring import PASS_SIDE, ScoringModel
from nbaprops.predictions.signal import slate_signal
from nbaprops.predictions.slate import build_slate
from nbaprops.systems.base import PredictionSystem

# The backtest's rows, in the order its reports and registry read them.
SCORED_COLUMNS = (
    "system",
    "fold",
    "warmup",
    "player_id",
    "game_date",
    "game_id",
    "team",
    "has_prop_line",
    "played",
    "actual",
    "median",
    "mean",
    "median_model",
    "line",
    "line_kind",
    "line_source",
    "n_books",
    "quote_time",
    "n_defaulted",
    "over_price",
    "under_price",
    "edge",
    "p_market",
    "p_over_raw",
    "p_over_dist",
    "p_over",
    "p_under",
    "p_push",
    "side",
    "ev",
    "ev_calibrated",
    "decision",
    "p_win",
    "bet_book",
    "bet_line",
    "bet_price",
    "confidence",
    "estimated_line",
    "closing_line",
    "closing_over_price",
    "closing_under_price",
    "pit",
    "calibration_n",
    "line_calibration_n",
    "line_calibration_slope",
    "anchor_weight",
)


# What grading reads beside a scored row: the outcome and the last pre-tip consensus.
GRADING_COLUMNS = ("actual", "closing_line", "closing_over_price", "closing_under_price")


@dataclass
class BacktestResult:
    spec: ExperimentSpec
    plan: FoldPlan
    predictions: pd.DataFrame  # one row per (system, eval player-date)
    folds: pd.DataFrame  # per fold and system
    summary: dict[str, Any]  # the nested figures the report's detail tables read
    timings: dict[str, float]
    # every system's picks of every date (bets and watchlist) with their outcome
    picks: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the headline figures, one per row (``report.METRIC_COLUMNS``), made once from summary
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class BacktestFrames:
    """What a walk-forward reads from the warehouse, built once: workers need nothing else."""

    plan: FoldPlan
    train: pd.DataFrame  # training rows up to the last fold's training end
    evaluation: pd.DataFrame  # serving-spine rows of every evaluated date, lines, outcomes
    seconds: float
    dates: tuple[date, ...] = ()  # the game dates the plan was made over
    books: pd.DataFrame | None = None  # the books' quotes at decision time (line shopping)


def plan_for(spec: ExperimentSpec, dates: list[date]) -> FoldPlan:
    """The spec's fold policy over these game dates (what --dry-run prints)."""
    return plan_folds(
        dates,
        spec.start,
        spec.end,
        retrain_every=spec.retrain_every,
        gap_days=spec.gap_days,
        window=spec.window.kind,
        window_days=spec.window.days,
        warmup_days=spec.warmup_days,
    )


def eval_game_dates(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[date]:
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.game WHERE game_date BETWEEN ? AND ? "
            "AND season_type IN ('regular', 'playoffs') AND status = 'final' ORDER BY 1",
            [first, last],
        ).fetchall()
    ]


def eval_frame(
    con: duckdb.DuckDBPyConnection,
    dates: list[date],
    feature_set: FeatureSet,
    *,
    minutes_before_tip: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The daily job's slates of every date, with outcomes joined for grading only (the
    feature set's market: its outcome, its closing line)."""
    market = get_market(feature_set.market)
    slate = build_slate(con, dates, feature_set, minutes_before_tip=minutes_before_tip)
    outcomes = con.execute(
        # the outcome's SQL comes from the market catalog; values bound
        f"SELECT player_id, game_date, {market.label_sql} AS actual, "  # noqa: S608
        "minutes AS actual_minutes FROM core.player_game WHERE game_date BETWEEN ? AND ?",
        [min(dates), max(dates)],
    ).df()
    outcomes["game_date"] = pd.to_datetime(outcomes["game_date"]).dt.date
    frame = slate.frame.merge(outcomes, on=["player_id", "game_date"], how="left")
    closing = con.execute(
        # the lines' FROM item comes from the market catalog; values bound
        "SELECT player_id, game_date, line AS closing_line, over_price AS closing_over_price, "  # noqa: S608
        f"under_price AS closing_under_price FROM {market_lines(market.name)} "
        "WHERE game_date BETWEEN ? AND ?",
        [min(dates), max(dates)],
    ).df()
    closing["game_date"] = pd.to_datetime(closing["game_date"]).dt.date
    frame = frame.merge(closing, on=["player_id", "game_date"], how="left")
    frame["played"] = frame["actual"].notna()
    return frame, slate.books


@dataclass(frozen=True)
class FinalModel:
    """The primary system refitted on every row up to the spec's training end, with the
    calibration its walk-forward earned (all of it out of sample, before that end)."""

    system: PredictionSystem
    calibration: Calibration
    oos: pd.DataFrame  # the walk-forward rows the calibration was fitted on
    train_start: date | None
    train_end: date
    train_rows: int


def final_model(
    frames: BacktestFrames, spec: ExperimentSpec, result: BacktestResult, workers: int = 1
) -> FinalModel:
    """Fit the model a run registers (pure over frames, so a worker can do it too). A
    composite is built from its members fitted the same way; an ensemble's weights
    learn from its members' walk-forward rows."""
    system_id = spec.primary
    end = spec.final_train_end
    start = window_start(spec.window.kind, spec.window.days, end, end + timedelta(days=1))
    train = rows_in(frames.train, start or spec.history_start, end)
    if train.empty:
        raise NbapropsError(f"no training rows up to {end} for the registered model")
    history = InMemoryHistory()
    for other, rows in result.predictions.groupby("system", sort=False):
        history.add(str(other), rows)
    policy = FitPolicy(spec, workers)
    after = end + timedelta(days=1)
    system = policy.fit([system_id], train, end, history=history, before=after)[system_id]
    oos = result.predictions[result.predictions["system"] == system_id]
    return FinalModel(
        system=system,
        calibration=calibration_of(system, oos),
        oos=oos.reset_index(drop=True),
        train_start=train["game_date"].min(),
        train_end=end,
        train_rows=len(train),
    )


def replay_picks(
    models: Sequence[ScoringModel],
    scored: pd.DataFrame,
    settings: Settings,
    policy: PickPolicy,
) -> pd.DataFrame:
    """Each system's picks of each date, as the daily job selects them: that date's slate
    signal, the calibration's record, the same policy (outcomes joined for grading)."""
    parts = []
    for model in models:
        mine = scored[scored["system"] == model.system_id]
        for _, rows in mine.groupby("game_date", sort=True):
            signal = slate_signal(rows, settings).signal
            picks = select_picks(rows, model.calibration.ev, signal, policy)
            if len(picks):
                parts.append(picks.assign(system=model.system_id))
    if not parts:
        return pd.DataFrame()
    picks = pd.concat(parts, ignore_index=True)
    outcomes = scored.set_index(["system", "player_id", "game_date"])
    keys = pd.MultiIndex.from_frame(picks[["system", "player_id", "game_date"]])
    picks["actual"] = outcomes["actual"].reindex(keys).to_numpy(dtype=float)
    picks["played"] = ~np.isnan(picks["actual"].to_numpy())
    return picks


@dataclass
class MemorySink:
    """The backtest's sink: every scored row kept in memory, each fold's rows graded at
    once (the outcomes are in the evaluation frame) and fed to the next folds'
    calibration and stacking, each date's picks replayed as the daily job selects them."""

    settings: Settings
    history: InMemoryHistory = field(default_factory=InMemoryHistory)
    sees_outcomes: bool = True
    keep_quantiles: bool = False
    scored: list[pd.DataFrame] = field(default_factory=list)
    picks: list[pd.DataFrame] = field(default_factory=list)
    fold_rows: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _days: list[pd.DataFrame] = field(default_factory=list)
    _started: float = 0.0

    def existing(self, fold: Fold, system_ids: Sequence[str]) -> dict[str, ScoringModel]:
        self._started = time.perf_counter()
        return {}

    def add_model(
        self,
        fold: Fold,
        system_id: str,
        fitted: PredictionSystem,
        calibration: Calibration,
        graded: pd.DataFrame,
        train: pd.DataFrame,
    ) -> ScoringModel:
        return ScoringModel(system_id, fitted, calibration, train_end=fold.train_end)

    def pending(self, day: date, models: Sequence[ScoringModel]) -> list[ScoringModel]:
        return list(models)

    def write_day(
        self, fold: Fold, day: date, scored: pd.DataFrame | None, models: Sequence[ScoringModel]
    ) -> None:
        if scored is not None:
            self._days.append(scored)

    def end_fold(self, rows: FoldRows, models: Sequence[ScoringModel]) -> None:
        fold, test = rows.fold, rows.test
        scored = pd.concat(self._days, ignore_index=True)
        self._days = []
        keys = pd.MultiIndex.from_frame(scored[["player_id", "game_date"]])
        outcomes = test.set_index(["player_id", "game_date"])
        for col in GRADING_COLUMNS:
            scored[col] = outcomes[col].reindex(keys).to_numpy(dtype=float)
        scored["played"] = ~np.isnan(scored["actual"].to_numpy())
        scored["fold"] = fold.index
        scored["warmup"] = fold.warmup
        picks = replay_picks(models, scored, self.settings, PickPolicy.from_settings(self.settings))
        if len(picks):
            picks["fold"] = fold.index
            picks["warmup"] = fold.warmup
        self.picks.append(picks)
        for _, system_rows in scored.groupby("system", sort=False):
            frame = system_rows[list(SCORED_COLUMNS)].reset_index(drop=True)
            system_id = frame["system"].iloc[0]
            self.history.add(system_id, frame)
            self.scored.append(frame)
            self.fold_rows.append(_fold_row(fold, rows.train, frame))
        self.timings[f"fold_{fold.index}_s"] = time.perf_counter() - self._started


def plan_spec(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> FoldPlan:
    """The spec's fold plan over the finished games of its evaluation (and warm-up) period."""
    first = spec.start - timedelta(days=spec.warmup_days)
    dates = eval_game_dates(con, first, spec.end)
    if not dates:
        raise NbapropsError(f"no finished games between {first} and {spec.end}")
    try:
        return plan_for(spec, dates)
    except ValueError as exc:
        raise NbapropsError(str(exc)) from None


def _no_rows_to_score(spec: ExperimentSpec) -> NbapropsError:
    market = spec.market
    return NbapropsError(
        f"no {market.name} rows to score between {spec.start} and {spec.end}: "
        + (
            f"no {market.name} line was seen {spec.decision_minutes} minutes before "
            "tip-off (a market without an estimated line has rows only where a line "
            "was seen; --decision-minutes sets when)"
            if not market.estimated_line
            else "no serving rows on those dates"
        )
    )


def prepare_frames(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
    *,
    require_rows: bool = False,
) -> BacktestFrames:
    """Plan the folds and build the evaluation and training frames (reads the warehouse).

    ``require_rows``: an evaluation frame without a row is the walk-forward's "no rows
    to score" error, raised before the training frame is built (the longest part)."""
    started = time.perf_counter()
    ensure_state(con)
    plan = plan_spec(con, spec)
    fs = spec.resolved_feature_set
    dates = eval_game_dates(con, plan.folds[0].test_start, plan.folds[-1].test_end)
    evaluation, books = eval_frame(con, dates, fs, minutes_before_tip=spec.decision_minutes)
    if require_rows and evaluation.empty:
        raise _no_rows_to_score(spec)
    # Up to the registered model's training end too (each fold filters its own window).
    last = max(plan.folds[-1].train_end, spec.final_train_end)
    train = build_frame(con, training_spine(con, spec.history_start, last), fs)
    train["game_date"] = pd.to_datetime(train["game_date"]).dt.date
    return BacktestFrames(
        plan, train, evaluation, time.perf_counter() - started, tuple(dates), books
    )


def plan_on_frames(frames: BacktestFrames, spec: ExperimentSpec) -> FoldPlan:
    """The spec's own fold plan over the frames' dates (frames may have been built for
    another spec, e.g. in a sweep: same test ranges, the spec's own training windows)."""
    if not frames.dates:
        return frames.plan
    plan = plan_for(spec, list(frames.dates))
    tests = [(f.test_start, f.test_end) for f in plan.folds]
    if tests != [(f.test_start, f.test_end) for f in frames.plan.folds]:
        raise NbapropsError(f"{spec.name}: its folds differ from those the frames were built for")
    return plan


def run_backtest(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
    *,
    settings: Settings,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Replay the daily job over the spec's evaluation period; nothing is written."""
    frames = prepare_frames(con, spec, require_rows=True)
    return run_on_frames(frames, spec, settings=settings, on_plan=on_plan, on_fold=on_fold)


def run_on_frames(
    frames: BacktestFrames,
    spec: ExperimentSpec,
    *,
    settings: Settings,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
    fit_workers: int | None = None,
    sink: MemorySink | None = None,
) -> BacktestResult:
    """The walk-forward over prepared frames: pure, so it runs anywhere (e.g. a worker).

    ``fit_workers``: how many systems a fold fits side by side (default: the setting
    ``fit_workers``); the predictions are the same for any value. ``settings`` give the
    slate signal's thresholds, the picks policy and the report's Kelly fraction, as the
    daily job's do (the caller's, command-line overrides included). ``sink``: a
    ``MemorySink`` (or a subclass keeping more of each day, e.g. the combos' component
    distributions); None: a new one.
    """
    started = time.perf_counter()
    workers = settings.models.fit_workers if fit_workers is None else fit_workers
    plan = plan_on_frames(frames, spec)
    if on_plan:
        on_plan(len(plan.folds))
    sink = MemorySink(settings) if sink is None else sink
    run_walk_forward(
        plan,
        frames.train,
        frames.evaluation,
        frames.books,
        spec,
        FitPolicy(spec, workers),
        sink,
        on_fold=on_fold,
    )
    if not sink.scored:
        raise _no_rows_to_score(spec)
    timings: dict[str, float] = {"frames_s": frames.seconds, **sink.timings}
    predictions = pd.concat(sink.scored, ignore_index=True)
    picked = [p for p in sink.picks if len(p)]
    picks = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame()
    timings["total_s"] = frames.seconds + time.perf_counter() - started
    reported = picks[~picks["warmup"].astype(bool)] if len(picks) else picks
    summary = summarize(predictions[~predictions["warmup"]], spec, settings, reported)
    metrics = metrics_table(summary)
    timings["report_s"] = frames.seconds + time.perf_counter() - started - timings["total_s"]
    return BacktestResult(
        spec,
        plan,
        predictions,
        pd.DataFrame(sink.fold_rows),
        summary,
        timings,
        picks,
        metrics,
    )


def _walk_one(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
    settings: Settings,
    on_fold: Callable[[str], None] | None,
) -> BacktestResult:
    """One market's walk-forward, with the CPU seconds it took (``timings["cpu_s"]``: this
    process and its threads, which run nothing else meanwhile)."""
    cpu = time.process_time()
    result = run_backtest(con, spec, settings=settings, on_fold=on_fold)
    result.timings["cpu_s"] = time.process_time() - cpu
    return result


def _walk_in_worker(
    db: str, spec: ExperimentSpec, settings: Settings, queue: Any | None
) -> BacktestResult:
    """A worker process's market: its own read-only connection; folds reported on ``queue``."""
    from nbaprops.core.db import connect

    name = spec.market.name

    def on_fold(item: str) -> None:
        if queue is not None:
            queue.put(f"{name} {item}")

    with connect(Path(db), read_only=True) as con:
        return _walk_one(con, spec, settings, on_fold)


def run_markets(
    db: Path,
    specs: Sequence[ExperimentSpec],
    *,
    settings: Settings,
    workers: int | None = None,
    on_fold: Callable[[str], None] | None = None,
) -> list[BacktestResult]:
    """Each spec's walk-forward (one market each), in the order given.

    ``workers`` (default: the setting ``market_workers``) markets are walked side by side,
    each in its own process with its own read-only connection: a fold's fits leave cores
    idle while the fold is calibrated, scored and graded, and another market's fits take
    them. Every figure is the same as walking the markets one after another (the fits are
    seeded and use the threads they always use; a test pins it); only the wall time moves.
    The warehouse must be read-only-ready (fresh feature states), as for one market.
    """
    count = min(settings.models.market_workers if workers is None else workers, len(specs))
    if count <= 1:
        from nbaprops.core.db import connect

        with connect(db, read_only=True) as con:
            return [_walk_one(con, spec, settings, on_fold) for spec in specs]
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from queue import Empty

    # spawn, never fork: the parent holds threads (and a DuckDB connection, maybe)
    context = multiprocessing.get_context("spawn")
    # the market with unlined rows too (an estimated line: points) is the longest: first
    order = sorted(range(len(specs)), key=lambda i: not specs[i].market.estimated_line)
    with context.Manager() as manager, ProcessPoolExecutor(count, mp_context=context) as pool:
        queue = manager.Queue() if on_fold else None
        futures = {
            i: pool.submit(_walk_in_worker, str(db), specs[i], settings, queue) for i in order
        }
        pending = set(futures.values())

        def drain() -> None:
            while queue is not None and on_fold is not None:
                try:
                    on_fold(queue.get_nowait())
                except Empty:
                    return

        while pending:
            _, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            drain()
        drain()
        return [futures[i].result() for i in range(len(specs))]


def _fold_row(fold: Fold, train: pd.DataFrame, frame: pd.DataFrame) -> dict[str, Any]:
    played = frame[frame["played"]]
    bets = played[played["side"] != PASS_SIDE]
    stats = m.outcome_stats(
        m.grade_bets(
            bets["actual"].to_numpy(),
            bets["line"].to_numpy(),
            bets["side"].to_numpy(),
            bets["played"].to_numpy(),
        )
    )
    return {
        "fold": fold.index,
        "warmup": fold.warmup,
        "system": frame["system"].iloc[0],
        "train_start": str(train["game_date"].min()) if len(train) else None,
        "train_end": str(fold.train_end),
        "train_rows": len(train),
        "test_start": str(fold.test_start),
        "test_end": str(fold.test_end),
        "rows": len(frame),
        "played": len(played),
        "mae": m.point_metrics(played["actual"], played["median"]).mae
        if len(played)
        else float("nan"),
        "bets": stats.n,
        "hit_rate": stats.hit_rate,
        "roi_flat": stats.roi_flat,
        # what the line-aware stage (or the market anchor) had to learn from
        "lined_history": int(frame["line_calibration_n"].iloc[0]) if len(frame) else 0,
        "anchor_weight": float(frame["anchor_weight"].iloc[0]) if len(frame) else float("nan"),
    }
