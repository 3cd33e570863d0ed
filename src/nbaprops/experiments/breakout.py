"""Walk-forward evaluation of the breakout classifier (the shadow's backtest).

Folds come from ``plan_folds`` (date-grouped, every test date after its whole training
window). Each fold fits on the in-scope training rows up to the day before it (the
history path, ``training_spine``) and scores every date of the fold from that date's
serving spine (``breakout_slate``, the daily shadow's own path), after
``validate_feature_distributions`` has compared the two frames. Unplayed games are
voids and left out of every figure.

Reported: AUC of the risk score, the base rate, the breakout rate (precision) per
risk category with N and a 95% interval, and the probability's Brier score and ECE.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.db import transaction
from nbaprops.core.errors import NbapropsError
from nbaprops.experiments import registry as reg
from nbaprops.experiments.backtest import eval_game_dates
from nbaprops.experiments.engine import walk_folds
from nbaprops.experiments.folds import FoldPlan, plan_folds, window_start
from nbaprops.experiments.registry import git_state
from nbaprops.experiments.report import run_dir
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.features.catalog import BREAKOUT_V1, FeatureSet
from nbaprops.features.checks import validate_feature_distributions
from nbaprops.features.frame import ensure_state, training_spine
from nbaprops.models.calibration import Calibration
from nbaprops.models.registry import ModelVersion, register_version
from nbaprops.predictions.breakout import breakout_slate, score_breakout
from nbaprops.systems.breakout import (
    CATEGORIES,
    HIGH,
    BreakoutClassifier,
    BreakoutRules,
    breakout_frame,
)

EVAL_COLUMNS = (
    "fold",
    "player_id",
    "game_id",
    "game_date",
    "team",
    "season_avg_before",
    "breakout_threshold",
    "risk_score",
    "p_breakout",
    "risk",
    "actual",
    "played",
    "breakout",
)


SEASON_AVG_BANDS = ((6.0, 10.0), (10.0, 14.0), (14.0, 20.01))


@dataclass(frozen=True)
class BreakoutConfig:
    """What a breakout walk-forward runs: evaluation range, fold policy, model."""

    start: date
    end: date
    feature_set: FeatureSet = BREAKOUT_V1
    rules: BreakoutRules = field(default_factory=BreakoutRules)
    retrain_every: int = 14
    window: str = "rolling"
    window_days: int | None = 3 * 365
    history_start: date | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 7

    def classifier(self) -> BreakoutClassifier:
        try:
            return BreakoutClassifier(random_state=self.seed, **self.params)
        except TypeError as exc:
            raise NbapropsError(f"bad parameters for breakout: {exc}") from None


@dataclass
class BreakoutEvaluation:
    config: BreakoutConfig
    plan: FoldPlan
    predictions: pd.DataFrame  # one row per scored in-scope serving row
    folds: list[dict[str, Any]]
    summary: dict[str, Any]
    train_rows: int
    seconds: float


def plan_breakout(con: duckdb.DuckDBPyConnection, config: BreakoutConfig) -> FoldPlan:
    dates = eval_game_dates(con, config.start, config.end)
    if not dates:
        raise NbapropsError(f"no finished games between {config.start} and {config.end}")
    try:
        return plan_folds(
            dates,
            config.start,
            config.end,
            retrain_every=config.retrain_every,
            window=config.window,
            window_days=config.window_days,
        )
    except ValueError as exc:
        raise NbapropsError(str(exc)) from None


def training_rows(
    con: duckdb.DuckDBPyConnection,
    config: BreakoutConfig,
    first: date | None,
    last: date,
) -> pd.DataFrame:
    """In-scope, played training rows of [first, last] from the history path."""
    frame = breakout_frame(con, training_spine(con, first, last), config.rules, config.feature_set)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    keep = frame["in_scope"].astype(bool) & frame["breakout"].notna()
    return frame[keep.to_numpy()].reset_index(drop=True)


def with_outcomes(con: duckdb.DuckDBPyConnection, scored: pd.DataFrame) -> pd.DataFrame:
    """Scored serving rows with their outcome (for grading only): played, actual, breakout."""
    if scored.empty:
        out = scored.copy()
        for col in ("actual", "played", "breakout"):
            out[col] = pd.Series(dtype=float)
        return out
    outcomes = con.execute(
        "SELECT player_id, game_date, CAST(points AS DOUBLE) AS actual FROM core.player_game "
        "WHERE game_date BETWEEN ? AND ?",
        [min(scored["game_date"]), max(scored["game_date"])],
    ).df()
    outcomes["game_date"] = pd.to_datetime(outcomes["game_date"]).dt.date
    out = scored.merge(outcomes, on=["player_id", "game_date"], how="left")
    out["played"] = out["actual"].notna()
    hit = out["actual"].to_numpy(dtype=float) >= out["breakout_threshold"].to_numpy(dtype=float)
    out["breakout"] = np.where(out["played"], hit.astype(float), np.nan)
    return out


def run_breakout_walk_forward(
    con: duckdb.DuckDBPyConnection,
    config: BreakoutConfig,
    *,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
) -> BreakoutEvaluation:
    """Fit per fold on earlier dates, score each fold's serving rows; nothing is written."""
    started = time.perf_counter()
    ensure_state(con)
    plan = plan_breakout(con, config)
    if on_plan:
        on_plan(len(plan.folds) + 1)
    starts = [f.train_start for f in plan.folds]
    first = None if None in starts else min(s for s in starts if s is not None)
    if config.history_start is not None:
        first = config.history_start if first is None else max(first, config.history_start)
    train_all = training_rows(con, config, first, plan.folds[-1].train_end)
    dates = eval_game_dates(con, plan.folds[0].test_start, plan.folds[-1].test_end)
    evaluation = breakout_slate(con, dates, config.rules, config.feature_set)
    if on_fold:
        on_fold("frames built")
    features = list(config.feature_set.features)
    parts, fold_rows = [], []
    folds = walk_folds(
        plan,
        train_all,
        evaluation,
        history_start=config.history_start,
        keep=lambda test: test[test["in_scope"].astype(bool).to_numpy()],
        what="in-scope training rows",
    )
    for rows in folds:
        fold, train, test = rows.fold, rows.train, rows.test
        validate_feature_distributions(train, test, features)
        model = config.classifier().fit(train, train["breakout"].to_numpy())
        scored = with_outcomes(con, score_breakout(test, model, config.rules))
        scored["fold"] = fold.index
        parts.append(scored[list(EVAL_COLUMNS)])
        played = scored[scored["played"]]
        fold_rows.append(
            {
                "fold": fold.index,
                "train_start": str(train["game_date"].min()),
                "train_end": str(fold.train_end),
                "train_rows": len(train),
                "train_base_rate": model.base_rate_,
                "test_start": str(fold.test_start),
                "test_end": str(fold.test_end),
                "rows": len(scored),
                "played": len(played),
                "auc": _auc(played),
            }
        )
        if on_fold:
            on_fold(f"fold {fold.index}: {fold.test_start}..{fold.test_end}")
    if not parts:
        raise NbapropsError(f"no in-scope role players between {config.start} and {config.end}")
    predictions = pd.concat(parts, ignore_index=True)
    base = float(np.mean([r["train_base_rate"] for r in fold_rows]))
    summary = summarize_breakout(predictions, config.rules, train_base_rate=base)
    return BreakoutEvaluation(
        config,
        plan,
        predictions,
        fold_rows,
        summary,
        len(train_all),
        time.perf_counter() - started,
    )


def _auc(rows: pd.DataFrame) -> float:
    if rows.empty:
        return math.nan
    return m.roc_auc(rows["risk_score"].to_numpy(), rows["breakout"].to_numpy())


def _rate(k: int, n: int) -> dict[str, Any]:
    low, high = m.wilson_interval(k, n)
    return {"n": n, "breakouts": k, "rate": k / n if n else None, "ci95": [low, high]}


def summarize_breakout(
    predictions: pd.DataFrame, rules: BreakoutRules, *, train_base_rate: float | None = None
) -> dict[str, Any]:
    """AUC, base rate, breakout rate per risk category (precision at HIGH), probability
    scores; every figure with its N. Voids (did not play) are counted, never scored."""
    played = predictions[predictions["played"].astype(bool)]
    y = played["breakout"].to_numpy(dtype=float)
    k, n = int(y.sum()), len(played)
    out: dict[str, Any] = {
        "rows": len(predictions),
        "voids": int(len(predictions) - n),
        "n": n,
        "breakouts": k,
        "base_rate": k / n if n else None,
        "auc": _auc(played),
        # Context, not a model: the lower a player's season average, the smaller the
        # jump a breakout needs in points, so -season average alone ranks breakouts.
        "auc_inverse_season_avg": m.roc_auc(-played["season_avg_before"].to_numpy(), y)
        if n
        else math.nan,
        "thresholds": {"high": rules.high, "medium": rules.medium},
        "scope": {
            "min_season_avg": rules.min_avg,
            "max_season_avg": rules.max_avg,
            "min_season_games": rules.min_season_games,
            "multiplier": rules.multiplier,
        },
    }
    # Within bands of season average the structural effect above is mostly removed:
    # what the model ranks beyond "a lower average needs a smaller jump".
    out["auc_by_season_avg_band"] = {
        f"{lo:g}-{hi:g}": {"n": int(band.sum()), "auc": _auc(played[band])}
        for lo, hi in SEASON_AVG_BANDS
        for band in [
            (played["season_avg_before"] >= lo).to_numpy()
            & (played["season_avg_before"] < hi).to_numpy()
        ]
    }
    out["by_risk"] = {
        cat: _rate(int(played.loc[played["risk"] == cat, "breakout"].sum()), int(mask.sum()))
        for cat in CATEGORIES
        for mask in [(played["risk"] == cat).to_numpy()]
    }
    out["precision_high"] = out["by_risk"][HIGH]["rate"]
    if n:
        prob = m.probability_metrics(played["p_breakout"].to_numpy(), y)
        out["probability"] = {
            "brier": prob.brier,
            "log_loss": prob.log_loss,
            "ece": prob.ece,
            "ece_noise_floor": m.ece_noise_floor(played["p_breakout"].to_numpy()),
            "mean_p": float(played["p_breakout"].mean()),
        }
        if train_base_rate is not None:
            out["probability"]["brier_skill_vs_train_base_rate"] = m.brier_skill(
                played["p_breakout"].to_numpy(), y, train_base_rate
            )
        top = played.sort_values("risk_score", ascending=False).head(max(1, n // 10))
        out["top_decile"] = _rate(int(top["breakout"].sum()), len(top))
    return out


# --- the experiment runner's ``type: breakout`` ---------------------------------------


def config_from_spec(spec: ExperimentSpec, rules: BreakoutRules) -> BreakoutConfig:
    """A breakout walk-forward from an experiment spec (evaluation, window, training
    start, hyperparameters, seed and the resolved feature set)."""
    window_days = spec.window.days if spec.window.kind == "rolling" else None
    return BreakoutConfig(
        start=spec.start,
        end=spec.end,
        feature_set=spec.resolved_feature_set,
        rules=rules,
        retrain_every=spec.retrain_every,
        window=spec.window.kind,
        window_days=window_days,
        history_start=spec.history_start,
        params=dict(spec.hyperparameters),
        seed=spec.seed,
    )


def final_breakout_model(
    con: duckdb.DuckDBPyConnection, config: BreakoutConfig, train_end: date
) -> tuple[BreakoutClassifier, pd.DataFrame]:
    """The classifier a run registers: fitted on the window's rows up to ``train_end``."""
    start = window_start(config.window, config.window_days, train_end, train_end + timedelta(1))
    train = training_rows(con, config, start or config.history_start, train_end)
    if train.empty:
        raise NbapropsError(f"no in-scope training rows up to {train_end}")
    return config.classifier().fit(train, train["breakout"].to_numpy()), train


def metric_rows(summary: dict[str, Any]) -> list[tuple[str, str, str, float | None, int | None]]:
    """(system, row_set, metric, value, n): the experiment registry's long format."""
    rows: list[tuple[str, str, str, float | None, int | None]] = []

    def add(row_set: str, metric: str, value: Any, n: int | None) -> None:
        v = None if value is None or not math.isfinite(float(value)) else float(value)
        rows.append(("breakout", row_set, metric, v, n))

    add("all", "auc", summary["auc"], summary["n"])
    add("all", "auc_inverse_season_avg", summary["auc_inverse_season_avg"], summary["n"])
    add("all", "base_rate", summary["base_rate"], summary["n"])
    add("all", "precision_high", summary["precision_high"], summary["by_risk"][HIGH]["n"])
    for cat, block in summary["by_risk"].items():
        add(cat.lower(), "breakout_rate", block["rate"], block["n"])
    prob = summary.get("probability", {})
    for name in ("brier", "log_loss", "ece"):
        if name in prob:
            add("all", name, prob[name], summary["n"])
    return rows


def record_breakout_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    evaluation: BreakoutEvaluation,
    *,
    artefacts: dict[str, str],
    model_version: int | None,
    training_rows_n: int | None,
) -> None:
    """Mark a ``type: breakout`` run completed with its figures (one transaction)."""
    summary = evaluation.summary
    with transaction(con):
        con.executemany(
            "INSERT INTO experiments.run_metric VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, *row) for row in metric_rows(summary)],
        )
        con.execute(
            """
            UPDATE experiments.run SET status = 'completed', metrics = ?, artefacts = ?,
                training_rows = ?, eval_rows = ?, n_folds = ?, model_version = ?,
                completed_at = now()
            WHERE experiment_id = ?
            """,
            [
                json.dumps(summary, default=str),
                json.dumps(artefacts, sort_keys=True),
                training_rows_n,
                int(summary["n"]),
                len(evaluation.folds),
                model_version,
                run_id,
            ],
        )
        con.execute(
            "INSERT INTO experiments.run_event VALUES (?, 'completed', now(), NULL)", [run_id]
        )


@dataclass(frozen=True)
class BreakoutRunOutcome:
    run_id: str | None
    evaluation: BreakoutEvaluation
    folder: Path
    model: ModelVersion | None


def write_breakout_report(evaluation: BreakoutEvaluation, folder: Path) -> None:
    """report.json (summary, folds, config) and the out-of-sample rows as parquet."""
    cfg = evaluation.config
    payload = {
        "config": {
            "start": str(cfg.start),
            "end": str(cfg.end),
            "feature_set": cfg.feature_set.key,
            "features": list(cfg.feature_set.features),
            "retrain_every": cfg.retrain_every,
            "window": cfg.window,
            "window_days": cfg.window_days,
            "params": cfg.params,
            "seed": cfg.seed,
        },
        "summary": evaluation.summary,
        "folds": evaluation.folds,
        "seconds": evaluation.seconds,
    }
    (folder / "report.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    evaluation.predictions.to_parquet(folder / "predictions.parquet", index=False)


def register_breakout(
    con: duckdb.DuckDBPyConnection,
    config: BreakoutConfig,
    evaluation: BreakoutEvaluation,
    *,
    experiment_id: str,
    mode: str,
    train_end: date,
    artifacts_root: Path,
    artifacts_dir: Path | None = None,
) -> ModelVersion:
    """Fit the classifier up to ``train_end`` and register it as a ``breakout`` version.

    The points calibration a version carries does not apply to a classifier: it is
    registered with the identity; the out-of-sample rows kept with it are the
    walk-forward's scored rows (``warmup`` false), the reference its AUC over time is
    compared against.
    """
    model, train = final_breakout_model(con, config, train_end)
    oos = evaluation.predictions.copy()
    oos["warmup"] = False
    git = git_state()
    return register_version(
        con,
        system=model,
        calibration=Calibration.identity(),
        oos=oos,
        experiment_id=experiment_id,
        mode=mode,
        feature_set=config.feature_set,
        eval_window=f"{config.start}:{config.end}",
        metrics={
            r[2] if r[1] == "all" else f"{r[1]}.{r[2]}": r[3]
            for r in metric_rows(evaluation.summary)
        },
        train_start=train["game_date"].min(),
        train_end=train_end,
        train_rows=len(train),
        code_commit=git.commit,
        code_dirty=git.dirty,
        artifacts_root=artifacts_root,
        artifacts_dir=artifacts_dir,
    )


def run_breakout_experiment(
    con: duckdb.DuckDBPyConnection,
    spec: ExperimentSpec,
    *,
    rules: BreakoutRules,
    runs_dir: Path,
    artifacts_root: Path,
    artifacts_dir: Path | None = None,
    record: bool = True,
    register_model: bool = True,
    on_plan: Callable[[int], None] | None = None,
    on_fold: Callable[[str], None] | None = None,
) -> BreakoutRunOutcome:
    """An experiment of ``type: breakout``: recorded ``pending`` first, then the
    walk-forward, its report, its model version (fitted up to ``training.end``) and
    its figures; a failure leaves the run ``failed`` with its error."""
    if spec.type != "breakout":
        raise NbapropsError(f"{spec.name} is type {spec.type}, not breakout")
    config = config_from_spec(spec, rules)
    run_id = reg.create_run(con, spec) if record else None
    try:
        if run_id is not None:
            reg.mark_running(con, run_id)
        evaluation = run_breakout_walk_forward(con, config, on_plan=on_plan, on_fold=on_fold)
        folder = run_dir(runs_dir, re.sub(r"[^A-Za-z0-9_.-]", "_", spec.name))
        write_breakout_report(evaluation, folder)
        version = None
        if run_id is not None:
            if register_model:
                version = register_breakout(
                    con,
                    config,
                    evaluation,
                    experiment_id=run_id,
                    mode=spec.mode,
                    train_end=spec.final_train_end,
                    artifacts_root=artifacts_root,
                    artifacts_dir=artifacts_dir,
                )
            artefacts = {"report": str(folder)}
            if version is not None:
                artefacts["model"] = version.artefact_dir
            record_breakout_run(
                con,
                run_id,
                evaluation,
                artefacts=artefacts,
                model_version=None if version is None else version.version,
                training_rows_n=None if version is None else version.train_rows,
            )
        return BreakoutRunOutcome(run_id, evaluation, folder, version)
    except BaseException as exc:
        if run_id is not None:
            reg.fail_run(con, run_id, f"{type(exc).__name__}: {exc}"[:2000])
        raise
