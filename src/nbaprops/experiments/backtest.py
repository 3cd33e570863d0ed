"""Walk-forward backtest: the daily job replayed over past dates.

For each fold, every system is fitted on player-games strictly before the fold,
then every date of the fold is predicted from its *serving* spine (the players
expected that day) with the lines quoted before tip-off. P(over) is recalibrated
with each system's own earlier folds only; players who then did not play are
voids. The function is pure over (warehouse, spec): it never writes the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.experiments.folds import Fold, FoldPlan, plan_folds
from nbaprops.features.catalog import get_feature_set
from nbaprops.features.frame import build_frame, ensure_state, serving_spine, training_spine
from nbaprops.models.calibration import (
    PitCalibrator,
    PlattCalibrator,
    prob_over_under_push,
)
from nbaprops.systems import SYSTEM_IDS, make_system

ENSEMBLE = "ensemble"
PASS_SIDE = "PASS"
BASELINE = "season_average"


@dataclass(frozen=True)
class BacktestSpec:
    """What to replay. Mirrors the CLI options (and, later, YAML experiment specs)."""

    systems: tuple[str, ...]
    start: date
    end: date
    retrain_every: int = 7
    gap_days: int = 0
    window: str = "expanding"
    window_days: int | None = None
    history_start: date | None = None
    warmup_days: int = 21
    feature_set: str = "points_v1"
    ev_margin: float = 0.02
    seed: int = 7
    system_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: str = "backtest"

    def validate(self) -> None:
        unknown = [s for s in self.systems if s not in SYSTEM_IDS]
        if unknown:
            raise ValueError(
                f"unknown systems: {', '.join(unknown)} (known: {', '.join(SYSTEM_IDS)})"
            )
        if not self.systems:
            raise ValueError("no systems to backtest")
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        get_feature_set(self.feature_set)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (str(v) if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
            for k, v in self.__dict__.items()
        }


@dataclass
class BacktestResult:
    spec: BacktestSpec
    plan: FoldPlan
    predictions: pd.DataFrame  # one row per (system, eval player-date)
    folds: pd.DataFrame  # per fold and system
    summary: dict[str, Any]
    timings: dict[str, float]


def expand_systems(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """'all' means every system; the ensemble needs members and the baseline is always run."""
    chosen = list(SYSTEM_IDS) if not names or "all" in names else list(names)
    if BASELINE not in chosen:
        chosen.insert(0, BASELINE)
    return tuple(dict.fromkeys(chosen))


def eval_game_dates(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[date]:
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.game WHERE game_date BETWEEN ? AND ? "
            "AND season_type IN ('regular', 'playoffs') AND status = 'final' ORDER BY 1",
            [first, last],
        ).fetchall()
    ]


def _eval_frame(
    con: duckdb.DuckDBPyConnection, dates: list[date], feature_set: str
) -> pd.DataFrame:
    spines = [serving_spine(con, d) for d in dates]
    spine = pd.concat([s for s in spines if not s.empty], ignore_index=True)
    frame = build_frame(con, spine, feature_set)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    outcomes = con.execute(
        "SELECT player_id, game_date, CAST(points AS DOUBLE) AS actual, minutes AS actual_minutes "
        "FROM core.player_game WHERE game_date BETWEEN ? AND ?",
        [min(dates), max(dates)],
    ).df()
    outcomes["game_date"] = pd.to_datetime(outcomes["game_date"]).dt.date
    lines = con.execute(
        """
        SELECT player_id, game_date, line, line_kind, n_books, over_price, under_price
        FROM core.prop_line
        WHERE market = 'points' AND player_id IS NOT NULL AND game_date BETWEEN ? AND ?
        QUALIFY row_number() OVER (
            PARTITION BY player_id, game_date ORDER BY n_books DESC, line) = 1
        """,
        [min(dates), max(dates)],
    ).df()
    lines["game_date"] = pd.to_datetime(lines["game_date"]).dt.date
    frame = frame.merge(outcomes, on=["player_id", "game_date"], how="left")
    frame = frame.merge(lines, on=["player_id", "game_date"], how="left")
    frame["played"] = frame["actual"].notna()
    return frame


def _rows_in(frame: pd.DataFrame, start: date | None, end: date) -> pd.DataFrame:
    dates = frame["game_date"]
    keep = dates <= end if start is None else (dates >= start) & (dates <= end)
    return frame[keep.to_numpy()]


def _decide(
    p_over: np.ndarray,
    p_under: np.ndarray,
    over_price: np.ndarray,
    under_price: np.ndarray,
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """OVER / UNDER when the expected value at the quoted prices beats the margin."""
    over_dec = m.american_to_decimal(np.where(np.isnan(over_price), m.FLAT_PRICE, over_price))
    under_dec = m.american_to_decimal(np.where(np.isnan(under_price), m.FLAT_PRICE, under_price))
    ev_over = p_over * (over_dec - 1.0) - p_under
    ev_under = p_under * (under_dec - 1.0) - p_over
    side = np.where(
        (ev_over > margin) & (ev_over >= ev_under),
        m.OVER,
        np.where(ev_under > margin, m.UNDER, PASS_SIDE),
    )
    ev = np.where(side == m.OVER, ev_over, np.where(side == m.UNDER, ev_under, np.nan))
    return side, ev


def _predict_fold(
    spec: BacktestSpec,
    fold: Fold,
    train: pd.DataFrame,
    test: pd.DataFrame,
    history: dict[str, list[pd.DataFrame]],
) -> list[pd.DataFrame]:
    """Fit every system on ``train`` and predict ``test``; calibrate on ``history``."""
    y = train["points"].to_numpy(dtype=float)
    dists: dict[str, Any] = {}
    out = []
    members = [s for s in spec.systems if s != ENSEMBLE]
    for system_id in spec.systems:
        params = dict(spec.system_params.get(system_id, {}))
        if system_id == ENSEMBLE:
            ensemble = make_system(ENSEMBLE, members=tuple(members), **params)
            past = [h for s in members for h in history.get(s, [])]
            oof = _oof_member_frame(past, members)
            if len(oof):
                ensemble.fit(oof[[f"pred_{s}" for s in members]], oof["actual"].to_numpy())
            else:
                ensemble.fit(pd.DataFrame(columns=[f"pred_{s}" for s in members]), np.array([]))
            dist = ensemble.predict_dist_from_members({s: dists[s] for s in members})
        else:
            system = make_system(system_id, random_state=spec.seed, **params)
            system.fit(train, y)
            dist = system.predict_dist(test)
        dists[system_id] = dist
        out.append(_score(spec, fold, system_id, test, dist, history.get(system_id, [])))
    return out


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


def _fit_platt(past: list[pd.DataFrame]) -> PlattCalibrator:
    """Line-aware stage fitted on earlier folds' graded lined rows (pushes excluded)."""
    if not past:
        return PlattCalibrator.identity()
    rows = pd.concat(past, ignore_index=True)
    rows = rows[rows["played"] & rows["line"].notna() & (rows["actual"] != rows["line"])]
    return PlattCalibrator.fit(
        rows["p_over_dist"].to_numpy(dtype=float),
        (rows["actual"] > rows["line"]).to_numpy(dtype=float),
    )


def _score(
    spec: BacktestSpec,
    fold: Fold,
    system_id: str,
    test: pd.DataFrame,
    dist: Any,
    past: list[pd.DataFrame],
) -> pd.DataFrame:
    pit_history = (
        np.concatenate([p["pit"].to_numpy(dtype=float) for p in past]) if past else np.array([])
    )
    calibrator = PitCalibrator.fit(pit_history)
    actual = test["actual"].to_numpy(dtype=float)
    line = test["line"].to_numpy(dtype=float)
    has_line = ~np.isnan(line)
    safe_line = np.where(has_line, line, 0.0)
    p_over_dist, _, p_push = prob_over_under_push(dist.cdf, safe_line, calibrator)
    platt = _fit_platt(past)
    p_over = platt(p_over_dist)
    p_under = np.clip(1.0 - p_over - p_push, 0.0, 1.0)
    raw_over = 1.0 - np.clip(dist.cdf(safe_line), 0, 1)
    p_over = np.where(has_line, p_over, np.nan)
    p_under = np.where(has_line, p_under, np.nan)
    p_push = np.where(has_line, p_push, np.nan)
    raw_over = np.where(has_line, raw_over, np.nan)
    played = ~np.isnan(actual)
    # PIT u = F(actual): for integer points, G(F(x)) with G the ECDF of earlier u is
    # exactly the empirical P(points <= x) at every half-point and whole-number line.
    pit = np.where(played, dist.cdf(np.where(played, actual, 0.0)), np.nan)
    over_price = test["over_price"].to_numpy(dtype=float)
    under_price = test["under_price"].to_numpy(dtype=float)
    dfs = (test["line_kind"] == "dfs").to_numpy()
    side, ev = _decide(
        np.nan_to_num(p_over),
        np.nan_to_num(p_under),
        np.where(dfs, np.nan, over_price),
        np.where(dfs, np.nan, under_price),
        spec.ev_margin,
    )
    side = np.where(has_line, side, PASS_SIDE)
    median = np.asarray(dist.median, dtype=float)
    return pd.DataFrame(
        {
            "system": system_id,
            "fold": fold.index,
            "warmup": fold.warmup,
            "player_id": test["player_id"].to_numpy(),
            "game_date": test["game_date"].to_numpy(),
            "game_id": test["game_id"].to_numpy(),
            "team": test["team"].to_numpy(),
            "has_prop_line": test["has_prop_line"].to_numpy(),
            "played": played,
            "actual": actual,
            "median": median,
            "mean": np.asarray(dist.mean, dtype=float),
            "line": line,
            "line_kind": test["line_kind"].to_numpy(),
            "n_books": test["n_books"].to_numpy(dtype=float),
            "over_price": np.where(dfs, np.nan, over_price),
            "under_price": np.where(dfs, np.nan, under_price),
            "edge": median - line,
            "p_over_raw": raw_over,
            "p_over_dist": np.where(has_line, p_over_dist, np.nan),
            "p_over": p_over,
            "p_under": p_under,
            "p_push": p_push,
            "side": side,
            "ev": ev,
            "pit": pit,
            "calibration_n": calibrator.n,
            "line_calibration_n": platt.n,
            "line_calibration_slope": platt.b,
        }
    )


def run_backtest(
    con: duckdb.DuckDBPyConnection,
    spec: BacktestSpec,
    *,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Replay the daily job over [spec.start, spec.end]; nothing is written."""
    import time

    spec.validate()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ensure_state(con)
    dates = eval_game_dates(
        con, spec.start - pd.Timedelta(days=spec.warmup_days).to_pytimedelta(), spec.end
    )
    if not dates:
        raise ValueError(f"no finished games between {spec.start} and {spec.end}")
    plan = plan_folds(
        dates,
        spec.start,
        spec.end,
        retrain_every=spec.retrain_every,
        gap_days=spec.gap_days,
        window=spec.window,
        window_days=spec.window_days,
        warmup_days=spec.warmup_days,
    )
    if on_plan:
        on_plan(len(plan.folds))
    train_all = build_frame(
        con, training_spine(con, spec.history_start, plan.folds[-1].train_end), spec.feature_set
    )
    train_all["game_date"] = pd.to_datetime(train_all["game_date"]).dt.date
    eval_all = _eval_frame(con, dates, spec.feature_set)
    timings["frames_s"] = time.perf_counter() - started
    history: dict[str, list[pd.DataFrame]] = {}
    scored: list[pd.DataFrame] = []
    fold_rows = []
    for fold in plan.folds:
        t0 = time.perf_counter()
        train = _rows_in(train_all, fold.train_start or spec.history_start, fold.train_end)
        test = _rows_in(eval_all, fold.test_start, fold.test_end)
        if test.empty:
            continue
        results = _predict_fold(spec, fold, train, test, history)
        for frame in results:
            system_id = frame["system"].iloc[0]
            history.setdefault(system_id, []).append(frame)
            scored.append(frame)
            fold_rows.append(_fold_row(fold, train, frame))
        timings[f"fold_{fold.index}_s"] = time.perf_counter() - t0
        if on_fold:
            on_fold(f"fold {fold.index}: {fold.test_start}..{fold.test_end}")
    predictions = pd.concat(scored, ignore_index=True)
    timings["total_s"] = time.perf_counter() - started
    summary = summarize(predictions[~predictions["warmup"]], spec)
    return BacktestResult(spec, plan, predictions, pd.DataFrame(fold_rows), summary, timings)


def _fold_row(fold: Fold, train: pd.DataFrame, frame: pd.DataFrame) -> dict[str, Any]:
    played = frame[frame["played"]]
    bets = frame[(frame["side"] != PASS_SIDE) & frame["played"]]
    outcomes = (
        m.grade_bets(
            bets["actual"].to_numpy(),
            bets["line"].to_numpy(),
            bets["side"].to_numpy(),
            bets["played"].to_numpy(),
        )
        if len(bets)
        else np.array([])
    )
    wins = int((outcomes == m.WIN).sum())
    losses = int((outcomes == m.LOSS).sum())
    profit = m.bet_profit(outcomes, np.full(len(outcomes), m.FLAT_PRICE)) if len(outcomes) else []
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
        "mae": float(np.mean(np.abs(played["median"] - played["actual"])))
        if len(played)
        else float("nan"),
        "bets": wins + losses,
        "hit_rate": wins / (wins + losses) if wins + losses else float("nan"),
        "roi_flat": float(np.sum(profit)) / (wins + losses) if wins + losses else float("nan"),
    }


def summarize(predictions: pd.DataFrame, spec: BacktestSpec) -> dict[str, Any]:
    """Per-system figures with their N; the baseline on the same rows; leakage alarms."""
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
            graded = lp[lp["actual"] != lp["line"]]
            if len(graded):
                kind_entry["probability"] = m.probability_metrics(
                    graded["p_over"].to_numpy(), (graded["actual"] > graded["line"]).to_numpy()
                ).to_dict()
                kind_entry["ece_noise_floor"] = m.ece_noise_floor(graded["p_over"].to_numpy())
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
