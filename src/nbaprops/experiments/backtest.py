"""Walk-forward backtest: the daily job replayed over past dates.

For each fold, every system is fitted on player-games strictly before the fold,
then every date of the fold is predicted from its *serving* spine (the players
expected that day) with the lines quoted before tip-off. P(over) is recalibrated
with each system's own earlier folds only; players who then did not play are
voids. The function is pure over (warehouse, spec): it never writes the warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core import odds
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings, get_settings
from nbaprops.experiments.folds import Fold, FoldPlan, plan_folds, window_start
from nbaprops.experiments.spec import (
    ANCHORED,
    BASELINE,
    ENSEMBLE,
    WEIGHTED_SYSTEMS,
    ExperimentSpec,
)
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import build_frame, ensure_state, training_spine
from nbaprops.grading.report import (
    best_price_frame,
    bets_figures,
    ev_reliability_figures,
    market_figures,
    side_figures,
)
from nbaprops.models.calibration import Calibration, EvCalibration
from nbaprops.predictions.history import InMemoryHistory, calibration_before, calibration_of
from nbaprops.predictions.picks import PickPolicy, select_picks
from nbaprops.predictions.scoring import PASS_SIDE, ScoringModel, score_date
from nbaprops.predictions.signal import GREEN, RED, YELLOW, slate_signal
from nbaprops.predictions.slate import build_slate
from nbaprops.systems import make_system, system_class

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
    summary: dict[str, Any]
    timings: dict[str, float]
    # every system's picks of every date (bets and watchlist) with their outcome
    picks: pd.DataFrame = field(default_factory=pd.DataFrame)


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
    """The daily job's slates of every date, with outcomes joined for grading only."""
    slate = build_slate(con, dates, feature_set, minutes_before_tip=minutes_before_tip)
    outcomes = con.execute(
        "SELECT player_id, game_date, CAST(points AS DOUBLE) AS actual, minutes AS actual_minutes "
        "FROM core.player_game WHERE game_date BETWEEN ? AND ?",
        [min(dates), max(dates)],
    ).df()
    outcomes["game_date"] = pd.to_datetime(outcomes["game_date"]).dt.date
    frame = slate.frame.merge(outcomes, on=["player_id", "game_date"], how="left")
    closing = con.execute(
        "SELECT player_id, game_date, line AS closing_line, over_price AS closing_over_price, "
        "under_price AS closing_under_price FROM core.points_line WHERE game_date BETWEEN ? AND ?",
        [min(dates), max(dates)],
    ).df()
    closing["game_date"] = pd.to_datetime(closing["game_date"]).dt.date
    frame = frame.merge(closing, on=["player_id", "game_date"], how="left")
    frame["played"] = frame["actual"].notna()
    return frame, slate.books


def rows_in(frame: pd.DataFrame, start: date | None, end: date) -> pd.DataFrame:
    dates = frame["game_date"]
    keep = dates <= end if start is None else (dates >= start) & (dates <= end)
    return frame[keep.to_numpy()]


def recency_weights(dates: pd.Series, train_end: date, half_life_days: float) -> np.ndarray:
    """0.5 ** (age / half-life), the age in days before the fold's training end."""
    age = (pd.Timestamp(train_end) - pd.to_datetime(dates)).dt.days.to_numpy(dtype=float)
    return np.power(0.5, np.clip(age, 0.0, None) / half_life_days)


def fit_system(
    spec: ExperimentSpec,
    system_id: str,
    train: pd.DataFrame,
    train_end: date,
    base: Any = None,
) -> Any:
    """One member system fitted as the spec says (parameters, seed, recency weights).

    The one fitting rule for every fold and for the model a run registers. An anchored
    system wraps its base fitted by this same rule (``base`` given: that fit, reused).
    """
    if system_id == ANCHORED:
        anchored = make_system(ANCHORED, random_state=spec.seed, **spec.params_for(ANCHORED))
        if base is None:
            base = fit_system(spec, anchored.base, train, train_end)
        return anchored.wrap(base)
    system = make_system(system_id, random_state=spec.seed, **spec.params_for(system_id))
    weights = None
    if spec.recency.enabled and system_id in WEIGHTED_SYSTEMS:
        weights = recency_weights(train["game_date"], train_end, spec.recency.half_life_days)
    return system.fit(train, train["points"].to_numpy(dtype=float), sample_weight=weights)


@dataclass(frozen=True)
class FinalModel:
    """The primary system refitted on every row up to the spec's training end, with the
    calibration its walk-forward earned (all of it out of sample, before that end)."""

    system: Any
    calibration: Calibration
    oos: pd.DataFrame  # the walk-forward rows the calibration was fitted on
    train_start: date | None
    train_end: date
    train_rows: int


def final_model(frames: BacktestFrames, spec: ExperimentSpec, result: BacktestResult) -> FinalModel:
    """Fit the model a run registers (pure over frames, so a worker can do it too)."""
    system_id = spec.primary
    if system_id == ENSEMBLE:
        raise NbapropsError("the ensemble is registered through its members, not on its own")
    end = spec.final_train_end
    start = window_start(spec.window.kind, spec.window.days, end, end + timedelta(days=1))
    train = rows_in(frames.train, start or spec.history_start, end)
    if train.empty:
        raise NbapropsError(f"no training rows up to {end} for the registered model")
    system = fit_systems(spec, [system_id], train, end)[system_id]
    oos = result.predictions[result.predictions["system"] == system_id]
    return FinalModel(
        system=system,
        calibration=calibration_of(system, oos),
        oos=oos.reset_index(drop=True),
        train_start=train["game_date"].min(),
        train_end=end,
        train_rows=len(train),
    )


def fit_systems(
    spec: ExperimentSpec,
    system_ids: list[str],
    train: pd.DataFrame,
    train_end: date,
    workers: int = 1,
) -> dict[str, Any]:
    """Every system of ``system_ids`` fitted on ``train`` by ``fit_system``.

    With ``workers`` > 1 the fits run side by side, longest first (``fit_cost``). They
    are independent and each is deterministic (own seed, fixed library thread counts,
    the frame only read), so the fits are the same for any ``workers``, only the wall
    time changes: the boosters leave part of each core idle (CatBoost's exact leaves
    and XGBoost's absolute-error leaf refresh run on one thread) and release the GIL,
    which lets another fit use it. BLAS runs one thread per fit either way (a
    thread-count-dependent sum would otherwise move the last bits of a LAD fit).
    An anchored system comes last and wraps its base's fit when its base is among
    ``system_ids``.
    """
    from threadpoolctl import threadpool_limits

    plain = sorted(
        (s for s in system_ids if s != ANCHORED),
        key=lambda s: float(getattr(system_class(s), "fit_cost", 1.0)),
        reverse=True,
    )
    fitted: dict[str, Any] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        if workers > 1 and len(plain) > 1:
            with ThreadPoolExecutor(min(workers, len(plain)), "nbaprops-fit") as pool:
                futures = {s: pool.submit(fit_system, spec, s, train, train_end) for s in plain}
                fitted = {s: futures[s].result() for s in plain}
        else:
            fitted = {s: fit_system(spec, s, train, train_end) for s in plain}
        if ANCHORED in system_ids:
            base = fitted.get(make_system(ANCHORED, **spec.params_for(ANCHORED)).base)
            fitted[ANCHORED] = fit_system(spec, ANCHORED, train, train_end, base=base)
    return {s: fitted[s] for s in system_ids}


def fold_models(
    spec: ExperimentSpec,
    fold: Fold,
    train: pd.DataFrame,
    history: InMemoryHistory,
    fit_workers: int = 1,
) -> list[ScoringModel]:
    """Every system fitted on ``train``, calibrated on its graded rows before the fold."""
    models = []
    members = [s for s in spec.run_systems if s != ENSEMBLE]
    fitted = fit_systems(spec, members, train, fold.train_end, workers=fit_workers)
    for system_id in spec.run_systems:
        if system_id == ENSEMBLE:
            params = spec.params_for(system_id)
            model = make_system(ENSEMBLE, members=tuple(members), **params)
            past = [history.graded_before(s, fold.test_start) for s in members]
            oof = _oof_member_frame([p for p in past if len(p)], members)
            if len(oof):
                model.fit(oof[[f"pred_{s}" for s in members]], oof["actual"].to_numpy())
            else:
                model.fit(pd.DataFrame(columns=[f"pred_{s}" for s in members]), np.array([]))
        else:
            model = fitted[system_id]
        calibration = calibration_before(history, system_id, fold.test_start, model)
        models.append(ScoringModel(system_id, model, calibration, train_end=fold.train_end))
    return models


def replay_dates(
    spec: ExperimentSpec,
    models: list[ScoringModel],
    test: pd.DataFrame,
    books: pd.DataFrame | None,
) -> pd.DataFrame:
    """Score each date of ``test`` with ``score_date``, as the daily job would have."""
    parts = []
    for day, rows in test.groupby("game_date", sort=True):
        day_books = None if books is None else books[books["game_date"] == day]
        parts.append(score_date(rows, models, ev_margin=spec.ev_margin, books=day_books))
    return pd.concat(parts, ignore_index=True)


def replay_picks(
    models: list[ScoringModel],
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


def _predict_fold(
    spec: ExperimentSpec,
    fold: Fold,
    train: pd.DataFrame,
    test: pd.DataFrame,
    history: InMemoryHistory,
    books: pd.DataFrame | None,
    settings: Settings,
    fit_workers: int = 1,
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Fit every system on ``train``, replay the fold's dates and their picks; calibrate
    on ``history``."""
    models = fold_models(spec, fold, train, history, fit_workers)
    scored = replay_dates(spec, models, test, books)
    keys = pd.MultiIndex.from_frame(scored[["player_id", "game_date"]])
    outcomes = test.set_index(["player_id", "game_date"])
    for col in GRADING_COLUMNS:
        scored[col] = outcomes[col].reindex(keys).to_numpy(dtype=float)
    scored["played"] = ~np.isnan(scored["actual"].to_numpy())
    scored["fold"] = fold.index
    scored["warmup"] = fold.warmup
    picks = replay_picks(models, scored, settings, PickPolicy.from_settings(settings))
    if len(picks):
        picks["fold"] = fold.index
        picks["warmup"] = fold.warmup
    frames = [
        rows[list(SCORED_COLUMNS)].reset_index(drop=True)
        for _, rows in scored.groupby("system", sort=False)
    ]
    return frames, picks


def _oof_member_frame(past: list[pd.DataFrame], members: list[str]) -> pd.DataFrame:
    if not past:
        return pd.DataFrame()
    rows = pd.concat(past, ignore_index=True)
    rows = rows[rows["played"]]
    wide = rows.pivot_table(
        index=["player_id", "game_date"], columns="system", values="median", aggfunc="first"
    )
    actual = rows.groupby(["player_id", "game_date"])["actual"].first()
    wide = wide.reindex(columns=members).dropna()
    wide.columns = [f"pred_{c}" for c in wide.columns]
    wide["actual"] = actual.reindex(wide.index)
    return wide.reset_index()


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


def prepare_frames(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
) -> BacktestFrames:
    """Plan the folds and build the training and evaluation frames (reads the warehouse)."""
    started = time.perf_counter()
    ensure_state(con)
    plan = plan_spec(con, spec)
    fs = spec.resolved_feature_set
    # Up to the registered model's training end too (each fold filters its own window).
    last = max(plan.folds[-1].train_end, spec.final_train_end)
    train = build_frame(con, training_spine(con, spec.history_start, last), fs)
    train["game_date"] = pd.to_datetime(train["game_date"]).dt.date
    dates = eval_game_dates(con, plan.folds[0].test_start, plan.folds[-1].test_end)
    evaluation, books = eval_frame(con, dates, fs, minutes_before_tip=spec.decision_minutes)
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
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
    settings: Settings | None = None,
) -> BacktestResult:
    """Replay the daily job over the spec's evaluation period; nothing is written."""
    frames = prepare_frames(con, spec)
    return run_on_frames(frames, spec, on_plan=on_plan, on_fold=on_fold, settings=settings)


def run_on_frames(
    frames: BacktestFrames,
    spec: ExperimentSpec,
    *,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
    fit_workers: int | None = None,
    settings: Settings | None = None,
) -> BacktestResult:
    """The walk-forward over prepared frames: pure, so it runs anywhere (e.g. a worker).

    ``fit_workers``: how many systems a fold fits side by side (default: the setting
    ``fit_workers``); the predictions are the same for any value. ``settings`` (default:
    the environment's) give the slate signal's thresholds and the picks policy, as the
    daily job's do.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    workers = settings.models.fit_workers if fit_workers is None else fit_workers
    plan = plan_on_frames(frames, spec)
    timings: dict[str, float] = {"frames_s": frames.seconds}
    if on_plan:
        on_plan(len(plan.folds))
    train_all, eval_all = frames.train, frames.evaluation
    history = InMemoryHistory()
    scored: list[pd.DataFrame] = []
    picked: list[pd.DataFrame] = []
    fold_rows = []
    for fold in plan.folds:
        t0 = time.perf_counter()
        train = rows_in(train_all, fold.train_start or spec.history_start, fold.train_end)
        test = rows_in(eval_all, fold.test_start, fold.test_end)
        if test.empty:
            continue
        if train.empty:
            raise NbapropsError(f"fold {fold.index}: no training rows in its window")
        results, picks = _predict_fold(
            spec, fold, train, test, history, frames.books, settings, workers
        )
        picked.append(picks)
        for frame in results:
            system_id = frame["system"].iloc[0]
            history.add(system_id, frame)
            scored.append(frame)
            fold_rows.append(_fold_row(fold, train, frame))
        timings[f"fold_{fold.index}_s"] = time.perf_counter() - t0
        if on_fold:
            on_fold(f"fold {fold.index}: {fold.test_start}..{fold.test_end}")
    predictions = pd.concat(scored, ignore_index=True)
    picks = (
        pd.concat([p for p in picked if len(p)], ignore_index=True)
        if any(len(p) for p in picked)
        else pd.DataFrame()
    )
    timings["total_s"] = frames.seconds + time.perf_counter() - started
    reported = picks[~picks["warmup"].astype(bool)] if len(picks) else picks
    summary = summarize(predictions[~predictions["warmup"]], spec, settings, reported)
    return BacktestResult(spec, plan, predictions, pd.DataFrame(fold_rows), summary, timings, picks)


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
        for staking in m.STAKINGS:
            out[f"{staking}_{prices}"] = m.simulate_bankroll(
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


def hit_rate_by_signal(rows: pd.DataFrame, settings: Settings | None = None) -> dict[str, Any]:
    """Each date's slate signal (as the daily job computes it), and the hit rate of the
    bets on real lines made under each colour, with N and interval."""
    settings = settings or Settings()
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
            parts.append(picks.assign(system=system_id))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def summarize(
    predictions: pd.DataFrame,
    spec: ExperimentSpec,
    settings: Settings | None = None,
    picks: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Per-system figures with their N; the baseline on the same rows; leakage alarms;
    expected value claimed against realised; the picks before and after the rule."""
    settings = settings or get_settings()
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
        alarms = m.leakage_alarms(
            lined_mae,
            bet.get("hit_rate"),
            int(bet.get("n_bets") or 0),
            entry["all_rows"].get("r2"),
        )
        entry["alarms"] = alarms
        out["systems"][str(system_id)] = entry
        if alarms:
            out["alarms"][str(system_id)] = alarms
    return out
