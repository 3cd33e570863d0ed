"""The one walk-forward engine: a fold plan, a fit policy, the one scorer, a sink.

Every walk-forward of the product runs here:

* the backtest (``experiments.backtest``): a memory sink that keeps every scored row;
* the backfill (``pipeline.backfill``): a warehouse sink that registers each fit as a
  model version, writes each date's predictions and picks, and grades the fold's
  nights before the next fold fits;
* the breakout walk-forward (``experiments.breakout``): its own classifier per fold,
  through ``walk_folds``;
* the daily job's champion bootstrap, through the experiment runner (a backtest).

``walk_folds`` selects each fold's rows once: the training window and the test dates
(a fold with test rows but no training rows is an error naming the fold). The
``FitPolicy`` fits the systems a fold needs in the order their declared dependencies
give (composites after their members), the plain systems side by side. Each date is
scored by ``score_date``, unchanged; the sink says which fits it already has (a resumed
backfill), which dates still need scoring, and what becomes of the scored rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, cast

import numpy as np
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.experiments.folds import Fold, FoldPlan
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.models.calibration import Calibration
from nbaprops.predictions.history import GradedHistory, calibration_of
from nbaprops.predictions.scoring import ScoringModel, score_date
from nbaprops.systems.base import PredictionSystem
from nbaprops.systems.boosting import BoostedSystem
from nbaprops.systems.composite import CompositeSystem
from nbaprops.systems.factory import make_system, system_class

# Columns of an evaluation frame that only grading may see (a serving row never has them).
OUTCOME_COLUMNS = ("actual", "actual_minutes", "played")


def rows_in(frame: pd.DataFrame, start: date | None, end: date) -> pd.DataFrame:
    """The rows of ``frame`` dated in [start, end] (start None: from the first row)."""
    dates = frame["game_date"]
    keep = dates <= end if start is None else (dates >= start) & (dates <= end)
    return frame[keep.to_numpy()]


@dataclass(frozen=True)
class FoldRows:
    """One fold and the rows it works on."""

    fold: Fold
    train: pd.DataFrame  # the fold's training window
    test: pd.DataFrame  # the evaluated rows of the fold's dates


def walk_folds(
    plan: FoldPlan,
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    *,
    history_start: date | None,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    what: str = "training rows",
) -> Iterator[FoldRows]:
    """Each fold of ``plan`` with its training window and test rows, in order.

    ``keep`` narrows the test rows (e.g. the breakout's in-scope players); a fold left
    with no test rows is passed over; one with test rows but no training rows is an
    error (``what`` names the rows it lacks).
    """
    for fold in plan.folds:
        test = rows_in(evaluation, fold.test_start, fold.test_end)
        if keep is not None:
            test = keep(test)
        if test.empty:
            continue
        window = rows_in(train, fold.train_start or history_start, fold.train_end)
        if window.empty:
            raise NbapropsError(f"fold {fold.index}: no {what} in its window")
        yield FoldRows(fold, window, test)


def day_books(books: pd.DataFrame | None, day: date) -> pd.DataFrame | None:
    """The books' quotes of one date (line shopping), or None when there are none."""
    return None if books is None else books[books["game_date"] == day]


def recency_weights(dates: pd.Series, train_end: date, half_life_days: float) -> np.ndarray:
    """0.5 ** (age / half-life), the age in days before the fold's training end."""
    age = (pd.Timestamp(train_end) - pd.to_datetime(dates)).dt.days.to_numpy(dtype=float)
    return np.power(0.5, np.clip(age, 0.0, None) / half_life_days)


def dependency_order(system_ids: Sequence[str], spec: ExperimentSpec) -> list[str]:
    """``system_ids`` and every member they are built from, members before composites
    (plain systems first, in the order given; then composites as their members allow)."""
    order: list[str] = []

    def visit(system_id: str, path: tuple[str, ...]) -> None:
        if system_id in order:
            return
        if system_id in path:
            raise NbapropsError(f"systems built from each other: {' -> '.join(path)}")
        for member in members_of(system_id, spec):
            visit(member, (*path, system_id))
        order.append(system_id)

    plain = [s for s in system_ids if not issubclass(system_class(s), CompositeSystem)]
    for system_id in (*plain, *system_ids):
        visit(system_id, ())
    return order


def members_of(system_id: str, spec: ExperimentSpec) -> tuple[str, ...]:
    """The systems a system of this spec is built from (none for a plain system)."""
    system = new_system(spec, system_id)
    return system.members if isinstance(system, CompositeSystem) else ()


def new_system(spec: ExperimentSpec, system_id: str) -> PredictionSystem:
    """An unfitted system with the spec's parameters and seed; a composite stacking the
    run (``members_from_run``) gets every other system of the run as its members."""
    params = spec.params_for(system_id)
    cls = system_class(system_id)
    if issubclass(cls, CompositeSystem) and cls.members_from_run and "members" not in params:
        params["members"] = tuple(s for s in spec.run_systems if s != system_id)
    return make_system(system_id, random_state=spec.seed, **params)


@dataclass(frozen=True)
class FitPolicy:
    """How a walk-forward fits: the spec's parameters, seed and recency weights, plain
    systems side by side (``workers``), composites after the members they declare.

    With ``workers`` > 1 the plain fits run side by side, longest first (``fit_cost``).
    They are independent and each is deterministic (own seed, fixed library thread
    counts, the frame only read), so the fits are the same for any ``workers``, only
    the wall time changes: the boosters leave part of each core idle (CatBoost's exact
    leaves and XGBoost's absolute-error leaf refresh run on one thread) and release the
    GIL, which lets another fit use it. BLAS runs one thread per fit either way (a
    thread-count-dependent sum would otherwise move the last bits of a LAD fit).

    Warm starts: the policy keeps each plain system's latest fit (``previous``) and
    hands it to the same system's next fit, which continues it only when the spec's
    parameters ask for it (a boosted system's ``warm_start_rounds``); every other fit
    ignores it, so without that parameter the fits are those of a cold walk-forward.
    """

    spec: ExperimentSpec
    workers: int = 1
    # each plain system's latest fit (the previous fold's), for warm starts
    previous: dict[str, PredictionSystem] = field(default_factory=dict, compare=False, repr=False)

    def fit_one(
        self,
        system_id: str,
        train: pd.DataFrame,
        train_end: date,
        previous: PredictionSystem | None = None,
    ) -> PredictionSystem:
        """One plain system fitted on ``train`` (the one fitting rule of every fold and of
        the model a run registers); ``previous``: a fit to warm-start from, if it asks."""
        spec = self.spec
        system = new_system(spec, system_id)
        if previous is not None and isinstance(system, BoostedSystem):
            system.warm_from(previous)
        weights = None
        if spec.recency.enabled and system.supports_sample_weight:
            weights = recency_weights(train["game_date"], train_end, spec.recency.half_life_days)
        label = spec.market.label
        return system.fit(train, train[label].to_numpy(dtype=float), sample_weight=weights)

    def fit(
        self,
        system_ids: Sequence[str],
        train: pd.DataFrame,
        train_end: date,
        *,
        given: Mapping[str, PredictionSystem] | None = None,
        history: GradedHistory | None = None,
        before: date | None = None,
    ) -> dict[str, PredictionSystem]:
        """Every system of ``system_ids`` (and the members they need) fitted on ``train``.

        ``given`` fits are reused, never refitted (a resumed backfill's loaded versions).
        A composite that ``needs_record`` learns from its members' graded rows in
        ``history`` dated before ``before`` (the fold's first date).
        """
        from threadpoolctl import threadpool_limits

        have: dict[str, PredictionSystem] = dict(given or {})
        order = [s for s in dependency_order(system_ids, self.spec) if s not in have]
        plain = sorted(
            (s for s in order if not issubclass(system_class(s), CompositeSystem)),
            key=lambda s: float(system_class(s).fit_cost),
            reverse=True,
        )
        with threadpool_limits(limits=1, user_api="blas"):
            if self.workers > 1 and len(plain) > 1:
                with ThreadPoolExecutor(min(self.workers, len(plain)), "nbaprops-fit") as pool:
                    futures = {
                        s: pool.submit(self.fit_one, s, train, train_end, self.previous.get(s))
                        for s in plain
                    }
                    have.update({s: futures[s].result() for s in plain})
            else:
                have.update(
                    {s: self.fit_one(s, train, train_end, self.previous.get(s)) for s in plain}
                )
            # kept only where a warm start will read it (no other fit outlives its fold)
            self.previous.update(
                {s: have[s] for s in plain if getattr(have[s], "warm_start_rounds", None)}
            )
        # composites outside the one-thread BLAS limit, as the walk-forward always composed
        # them (an ensemble's LAD weights move in their last bits with the thread count)
        for system_id in order:
            if system_id in have:
                continue
            composite = new_system(self.spec, system_id)
            assert isinstance(composite, CompositeSystem)
            record = None
            if composite.needs_record and history is not None and before is not None:
                record = {m: history.graded_before(m, before) for m in composite.members}
            have[system_id] = composite.compose(have, record)
        return {s: have[s] for s in system_ids}


class Sink(Protocol):
    """Where a walk-forward's models and scored dates go."""

    history: GradedHistory  # the graded rows calibration and stacking learn from
    sees_outcomes: bool  # score rows with their outcome columns (the PIT in the row)
    keep_quantiles: bool  # each scored row carries its predictive quantiles

    def existing(self, fold: Fold, system_ids: Sequence[str]) -> dict[str, ScoringModel]:
        """The fold's models made before (a resumed backfill's versions); usually none."""
        ...

    def add_model(
        self,
        fold: Fold,
        system_id: str,
        fitted: PredictionSystem,
        calibration: Calibration,
        graded: pd.DataFrame,
        train: pd.DataFrame,
    ) -> ScoringModel:
        """A new fit of the fold, calibrated on ``graded`` (its rows graded before the fold):
        kept (and registered with those rows, for the warehouse)."""
        ...

    def pending(self, day: date, models: Sequence[ScoringModel]) -> list[ScoringModel]:
        """The models that still need to score ``day``."""
        ...

    def write_day(
        self, fold: Fold, day: date, scored: pd.DataFrame | None, models: Sequence[ScoringModel]
    ) -> None:
        """One date's rows scored by ``models`` (None: every model had scored it already)."""
        ...

    def end_fold(self, rows: FoldRows, models: Sequence[ScoringModel]) -> None:
        """The fold's dates are done (the warehouse grades them here)."""
        ...


def run_walk_forward(
    plan: FoldPlan,
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    books: pd.DataFrame | None,
    spec: ExperimentSpec,
    policy: FitPolicy,
    sink: Sink,
    *,
    on_fold: Callable[[str], None] | None = None,
) -> None:
    """Fit, calibrate and score every fold of ``plan`` into ``sink``."""
    systems = dependency_order(spec.run_systems, spec)
    systems = [s for s in systems if s in spec.run_systems]
    for rows in walk_folds(plan, train, evaluation, history_start=spec.history_start):
        fold = rows.fold
        models = sink.existing(fold, systems)
        todo = [s for s in systems if s not in models]
        if todo:
            fits = policy.fit(
                todo,
                rows.train,
                fold.train_end,
                given={s: m.model for s, m in models.items()},
                history=sink.history,
                before=fold.test_start,
            )
            for system_id in todo:
                fitted = fits[system_id]
                graded = sink.history.graded_before(system_id, fold.test_start)
                calibration = calibration_of(fitted, graded)
                models[system_id] = sink.add_model(
                    fold, system_id, fitted, calibration, graded, rows.train
                )
        ordered = [models[s] for s in spec.run_systems]
        test = rows.test if sink.sees_outcomes else rows.test.drop(columns=list(OUTCOME_COLUMNS))
        for key, day_rows in test.groupby("game_date", sort=True):
            day = cast(date, key)
            pending = sink.pending(day, ordered)
            scored = None
            if pending:
                scored = score_date(
                    day_rows,
                    pending,
                    ev_margin=spec.ev_margin,
                    books=day_books(books, day),
                    keep_quantiles=sink.keep_quantiles,
                )
            sink.write_day(fold, day, scored, pending)
        sink.end_fold(rows, ordered)
        if on_fold:
            on_fold(f"fold {fold.index}: {fold.test_start}..{fold.test_end}")
