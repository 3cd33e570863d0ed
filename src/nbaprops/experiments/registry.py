"""The experiment registry: every run's permanent, queryable record in the warehouse.

A run is written ``pending`` before any work, ``running`` when its frames are built,
and ``completed`` (with its figures, out-of-sample predictions and artefacts) or
``failed`` (with its error) at the end; ``promoted`` and ``archived`` come later.
Rows are never deleted: ``experiments.run_event`` keeps every status change.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.db import records, registered, transaction
from nbaprops.core.errors import NbapropsError
from nbaprops.core.values import finite_or_none
from nbaprops.experiments.backtest import SCORED_COLUMNS, BacktestResult
from nbaprops.experiments.report import ALL
from nbaprops.experiments.spec import ExperimentSpec

STATUSES = (
    "pending",
    "running",
    "completed",
    "failed",
    "promoted",
    "archived",
    "abandoned",
)
# Runs whose figures count (a promoted run is a completed run that went on to serve).
FINISHED = ("completed", "promoted", "archived")
# What ``best`` ranks on: (rows, metric name in the metrics module, N metric, higher is better)
RANKABLE = {
    "mae": ("all", "mae", "n", False),
    "hit_rate": ("lines", "hit_rate", "n_bets", True),
    "roi": ("lines", "roi_actual", "n_bets", True),
    "brier": ("lines", "brier", "n_graded", False),
}
# The scored columns a run keeps: the columns of experiments.prediction after its id, in
# the backtest's order (line provenance, shopping and closing lines live with the daily
# job's predictions; the run's roi_best and clv_line are in run_metric).
_KEPT = frozenset(
    {
        "system",
        "fold",
        "warmup",
        "player_id",
        "game_id",
        "game_date",
        "played",
        "actual",
        "median",
        "mean",
        "line",
        "line_kind",
        "n_books",
        "over_price",
        "under_price",
        "p_over",
        "p_under",
        "p_push",
        "side",
        "ev",
        "pit",
    }
)
_PREDICTION_COLUMNS = tuple(c for c in SCORED_COLUMNS if c in _KEPT)


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool | None


def git_state(where: Path | None = None) -> GitState:
    """The code's commit and whether its tree had uncommitted changes (None outside git)."""
    cwd = where or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return GitState(None, None)
    return GitState(commit or None, bool(status.strip()))


def _now(con: duckdb.DuckDBPyConnection) -> Any:
    row = con.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]


def _event(con: duckdb.DuckDBPyConnection, run_id: str, status: str, detail: str | None) -> None:
    con.execute(
        "INSERT INTO experiments.run_event VALUES (?, ?, now(), ?)", [run_id, status, detail]
    )


def create_run(
    con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, *, sweep: str | None = None
) -> str:
    """Record a new run as ``pending`` before any work is done; return its id."""
    run_id = str(uuid.uuid4())
    git = git_state()
    with transaction(con):
        con.execute(
            """
            INSERT INTO experiments.run (
                experiment_id, name, hypothesis, type, mode, primary_system, systems,
                feature_set, config, config_hash, tags, training_start, training_end,
                eval_start, eval_end, eval_window, status, git_commit, git_dirty,
                parent_id, sweep, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, now())
            """,
            [
                run_id,
                spec.name,
                spec.hypothesis,
                spec.type,
                spec.mode,
                spec.primary,
                list(spec.run_systems),
                spec.resolved_feature_set.key,
                json.dumps(spec.resolved(), sort_keys=True),
                spec.config_hash(),
                list(spec.tags),
                spec.history_start,
                spec.final_train_end,
                spec.start,
                spec.end,
                spec.eval_window,
                git.commit,
                git.dirty,
                spec.parent,
                sweep,
            ],
        )
        _event(con, run_id, "pending", None)
    return run_id


def mark_running(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    with transaction(con):
        con.execute(
            "UPDATE experiments.run SET status = 'running', started_at = now() "
            "WHERE experiment_id = ?",
            [run_id],
        )
        _event(con, run_id, "running", None)


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, error: str) -> None:
    """End a run ``failed``, keeping its error (its figures are written all-or-nothing,
    so a failed run has none)."""
    with transaction(con):
        con.execute(
            "UPDATE experiments.run SET status = 'failed', error = ?, completed_at = now() "
            "WHERE experiment_id = ?",
            [error, run_id],
        )
        _event(con, run_id, "failed", error)


def metric_rows(metrics: pd.DataFrame) -> list[tuple[str, str, str, float | None, int | None]]:
    """(system, rows, metric, value, n) for the registry, read from the run's long metrics
    table (``report.metrics_table``): a figure over both sides under its own name, a
    side's as ``name.side``; an interval's ends as ``ci_low`` / ``ci_high`` for the hit
    rate over both sides (as always), ``name.ci_low`` / ``name.ci_high`` otherwise."""
    out: list[tuple[str, str, str, float | None, int | None]] = []
    for row in metrics.to_dict("records"):
        system, kind, metric, side = (
            str(row[k]) for k in ("system", "line_kind", "metric", "side")
        )
        name = metric if side == ALL else f"{metric}.{side}"
        count = finite_or_none(row["n"])
        n = None if count is None else int(count)
        out.append((system, kind, name, finite_or_none(row["value"]), n))
        prefix = "" if (metric == "hit_rate" and side == ALL) else f"{name}."
        for end in ("ci_low", "ci_high"):
            value = finite_or_none(row[end])
            if value is not None:
                out.append((system, kind, f"{prefix}{end}", value, n))
    return out


def complete_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    result: BacktestResult,
    *,
    training_rows: int | None,
    artefacts: dict[str, str],
    model_version: int | None = None,
    mlflow_run_id: str | None = None,
) -> None:
    """Record a finished run's figures and out-of-sample predictions in one transaction."""
    spec = result.spec
    primary = result.predictions[result.predictions["system"] == spec.primary]
    reported = primary[~primary["warmup"]]
    preds = result.predictions[list(_PREDICTION_COLUMNS)].copy()
    preds.insert(0, "experiment_id", run_id)
    preds["game_date"] = pd.to_datetime(preds["game_date"])
    metrics = metric_rows(result.metrics)
    with transaction(con):
        with registered(con, "_run_predictions", preds) as frame:
            columns = ", ".join(_PREDICTION_COLUMNS)
            selected = ", ".join(
                "game_date::DATE" if c == "game_date" else c for c in _PREDICTION_COLUMNS
            )
            # identifiers only: a fixed column list and a registered frame's unique name
            con.execute(
                f"INSERT INTO experiments.prediction (experiment_id, {columns}) "  # noqa: S608
                f"SELECT experiment_id, {selected} FROM {frame}"
            )
        con.executemany(
            "INSERT INTO experiments.run_metric VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, *row) for row in metrics],
        )
        con.execute(
            """
            UPDATE experiments.run SET status = 'completed', metrics = ?, artefacts = ?,
                training_rows = ?, eval_rows = ?, n_folds = ?, model_version = ?,
                mlflow_run_id = ?, completed_at = now()
            WHERE experiment_id = ?
            """,
            [
                json.dumps(result.summary["systems"].get(spec.primary, {}), default=_json_default),
                json.dumps(artefacts, sort_keys=True),
                training_rows,
                int(reported["played"].sum()),
                len(result.plan.reported),
                model_version,
                mlflow_run_id,
                run_id,
            ],
        )
        _event(con, run_id, "completed", None)


def complete_backfill(
    con: duckdb.DuckDBPyConnection, run_id: str, figures: dict[str, Any], n_folds: int
) -> None:
    """Mark a backfill run completed; its predictions live in the predictions table."""
    with transaction(con):
        con.execute(
            "UPDATE experiments.run SET status = 'completed', metrics = ?, n_folds = ?, "
            "completed_at = now() WHERE experiment_id = ?",
            [json.dumps(figures, default=_json_default), n_folds, run_id],
        )
        _event(con, run_id, "completed", "backfill")


def set_model_version(
    con: duckdb.DuckDBPyConnection, run_id: str, version: int, artefact_dir: str
) -> None:
    con.execute(
        "UPDATE experiments.run SET model_version = ?, "
        "artefacts = json_merge_patch(coalesce(artefacts, '{}'), ?) WHERE experiment_id = ?",
        [version, json.dumps({"model": artefact_dir}), run_id],
    )


def set_mlflow_run(con: duckdb.DuckDBPyConnection, run_id: str, mlflow_run_id: str) -> None:
    con.execute(
        "UPDATE experiments.run SET mlflow_run_id = ? WHERE experiment_id = ?",
        [mlflow_run_id, run_id],
    )


def set_status(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, detail: str | None = None
) -> None:
    """Move a finished run to ``promoted`` or ``archived`` (recorded as an event)."""
    if status not in ("promoted", "archived", "completed"):
        raise NbapropsError(f"a run can be set promoted, archived or completed, not {status!r}")
    row = con.execute(
        "SELECT status FROM experiments.run WHERE experiment_id = ?", [resolve_id(con, run_id)]
    ).fetchone()
    current = row[0] if row else None
    if current not in FINISHED:
        raise NbapropsError(f"run {run_id} is {current}; only finished runs change status")
    with transaction(con):
        con.execute(
            "UPDATE experiments.run SET status = ? WHERE experiment_id = ?", [status, run_id]
        )
        _event(con, run_id, status, detail)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# --- queries -------------------------------------------------------------------------


def resolve_id(con: duckdb.DuckDBPyConnection, ref: str) -> str:
    """A run id from its full id or a unique prefix (at least 4 characters)."""
    ref = ref.strip()
    if len(ref) < 4:
        raise NbapropsError(f"experiment id {ref!r} is too short; give at least 4 characters")
    rows = con.execute(
        "SELECT experiment_id FROM experiments.run WHERE starts_with(experiment_id, ?)", [ref]
    ).fetchall()
    if not rows:
        raise NbapropsError(f"no experiment run {ref!r}; see `nbaprops experiment list`")
    if len(rows) > 1:
        raise NbapropsError(f"experiment id {ref!r} is ambiguous ({len(rows)} runs); give more")
    return str(rows[0][0])


def list_runs(
    con: duckdb.DuckDBPyConnection,
    *,
    status: str | None = None,
    tag: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first, with the headline figures of each run's primary system and the
    number of systems it fitted (``n_systems``: a backfill of every system is one run)."""
    if status is not None and status not in STATUSES:
        raise NbapropsError(f"unknown status {status!r} (one of: {', '.join(STATUSES)})")
    if limit < 1:
        raise NbapropsError("--limit must be at least 1")
    rows = con.execute(
        """
        SELECT r.experiment_id, r.name, r.type, r.mode, r.status, r.primary_system,
               len(r.systems) AS n_systems, r.eval_window, r.tags, r.created_at,
               r.model_version, r.error,
               max(CASE WHEN m.row_set = 'all' AND m.metric = 'mae' THEN m.value END) AS mae,
               max(CASE WHEN m.row_set = 'all' AND m.metric = 'mae' THEN m.n END) AS n,
               max(CASE WHEN m.row_set = 'sportsbook' AND m.metric = 'hit_rate'
                   THEN m.value END) AS hit_rate,
               max(CASE WHEN m.row_set = 'sportsbook' AND m.metric = 'hit_rate'
                   THEN m.n END) AS n_bets
        FROM experiments.run r
        LEFT JOIN experiments.run_metric m
          ON m.experiment_id = r.experiment_id AND m.system = r.primary_system
        WHERE (? IS NULL OR r.status = ?) AND (? IS NULL OR list_contains(r.tags, ?))
        GROUP BY ALL
        ORDER BY r.created_at DESC, r.experiment_id
        LIMIT ?
        """,
        [status, status, tag, tag, limit],
    ).df()
    return records(rows)


def get_run(con: duckdb.DuckDBPyConnection, ref: str) -> dict[str, Any]:
    """Everything recorded about one run: config, figures, artefacts, events."""
    run_id = resolve_id(con, ref)
    frame = con.execute("SELECT * FROM experiments.run WHERE experiment_id = ?", [run_id]).df()
    run = records(frame)[0]
    for key in ("config", "metrics", "artefacts"):
        if run.get(key):
            run[key] = json.loads(run[key])
    run["events"] = records(
        con.execute(
            "SELECT status, changed_at AS at, detail FROM experiments.run_event "
            "WHERE experiment_id = ? ORDER BY changed_at, status",
            [run_id],
        ).df()
    )
    run["figures"] = records(
        con.execute(
            "SELECT system, row_set AS rows, metric, value, n FROM experiments.run_metric "
            "WHERE experiment_id = ? ORDER BY system, row_set, metric",
            [run_id],
        ).df()
    )
    return run


def eval_windows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Evaluation windows with competing (completed or promoted) runs, most used first."""
    return [
        (str(w), int(n))
        for w, n in con.execute(
            "SELECT eval_window, count(*) FROM experiments.run WHERE status IN "
            "('completed', 'promoted') GROUP BY 1 ORDER BY 2 DESC, 1 DESC"
        ).fetchall()
    ]


def best_runs(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    *,
    eval_window: str | None = None,
    lines: str = "sportsbook",
    limit: int = 10,
) -> tuple[str, list[dict[str, Any]]]:
    """Competing runs (completed or promoted; archived ones are kept but retired) on one
    evaluation window, ranked by ``metric``, N beside each.

    Runs on other windows never compete: without ``eval_window``, the window with the
    most finished runs is used (and returned).
    """
    if metric not in RANKABLE:
        raise NbapropsError(f"unknown metric {metric!r} (one of: {', '.join(RANKABLE)})")
    windows = eval_windows(con)
    if not windows:
        raise NbapropsError("no finished experiment runs yet; run `nbaprops experiment run`")
    window = eval_window or windows[0][0]
    if window not in dict(windows):
        known = ", ".join(w for w, _ in windows)
        raise NbapropsError(f"no finished runs on evaluation window {window} (known: {known})")
    rows_kind, name, n_name, higher = RANKABLE[metric]
    rows_key = "all" if rows_kind == "all" else lines
    order = "DESC" if higher else "ASC"
    # the sort direction is one of two keywords; every value is bound
    frame = con.execute(
        f"""
        SELECT r.experiment_id, r.name, r.mode, r.status, r.primary_system, r.model_version,
               v.value AS value, nn.value AS n
        FROM experiments.run r
        JOIN experiments.run_metric v ON v.experiment_id = r.experiment_id
         AND v.system = r.primary_system AND v.row_set = ? AND v.metric = ?
        LEFT JOIN experiments.run_metric nn ON nn.experiment_id = r.experiment_id
         AND nn.system = r.primary_system AND nn.row_set = ? AND nn.metric = ?
        WHERE r.eval_window = ? AND r.status IN ('completed', 'promoted')
        ORDER BY v.value {order} NULLS LAST, r.created_at
        LIMIT ?
        """,  # noqa: S608
        [rows_key, name, rows_key, n_name, window, limit],
    ).df()
    ranked = records(frame)
    for i, row in enumerate(ranked, start=1):
        row["rank"] = i
        row["metric"] = metric
        row["rows"] = rows_key
        row["n"] = None if row["n"] is None else int(row["n"])
    return window, ranked


def run_predictions(
    con: duckdb.DuckDBPyConnection, run_id: str, system: str | None = None
) -> pd.DataFrame:
    """A run's reported (not warm-up) out-of-sample rows of one system (default: primary)."""
    frame = con.execute(
        """
        SELECT p.* EXCLUDE (experiment_id)
        FROM experiments.prediction p JOIN experiments.run r USING (experiment_id)
        WHERE p.experiment_id = ? AND p.system = coalesce(?, r.primary_system) AND NOT p.warmup
        ORDER BY p.game_date, p.player_id
        """,
        [run_id, system],
    ).df()
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame
