"""The daily run and its phase records: ingest → grade → diagnose → bootstrap → predict
→ breakout_shadow → signal → publish.

``bootstrap`` trains, registers and crowns a default champion when the warehouse has no
aliased model (a walk-forward experiment through the one engine); otherwise it records
COMPLETE with 0 rows, so a bootstrap is a phase of its own, never a detour of predict.

Every phase of every run writes a record (EXPECTED when the run starts, then RUNNING,
COMPLETE or FAILED with rows, times and the error, and the process id and host that
wrote it), so a missing or failed day is visible in ``nbaprops status``, never silent.
Every automated action (each force, skip, supersede, regrade, promotion) leaves a line
in the audit log.

Three ways a run could leave no honest record, and how each is kept:

* **publish**: the read-only snapshot the API serves is a phase of its own. Its record
  is written COMPLETE *before* the copy, so the published snapshot shows it complete; a
  failed copy (a full disk) rewrites it FAILED in the warehouse, raises a CRITICAL
  alert (stored and sent to the webhook like every alert of the run) and makes
  ``run_daily`` raise ``PublishFailedError`` (the CLI exits non-zero), never only an
  audit line.
* **a run that cannot start**: when another process holds the warehouse, nothing can
  be written into it. The run appends one JSON line (phase ``start``, FAILED, the
  reason) to a sidecar file beside the warehouse, ``<file>.unstarted-runs.jsonl``
  (``record_unstarted_run``), under an advisory file lock. ``nbaprops status`` shows
  those lines with the recorded phases; the next run that takes the warehouse folds
  them into ``pipeline.phase_run`` (and raises a WARNING alert for each), then empties
  the file. A plain file beside the warehouse needs no lock but the file's own.
* **a killed run**: its phases would stay RUNNING (and its bootstrap experiment
  pending or running) forever. A run holds the warehouse's only write lock, so when
  the next run starts no other process is running any phase: every phase still
  RUNNING, and every EXPECTED phase of a run whose ``publish`` never ran, belongs to a
  dead run. The next run marks them ABANDONED with the time it noticed and the dead
  process's id (``abandon_dead_runs``); the dead run's bootstrap experiments are
  marked ``abandoned`` (an experiment registry status, migration 014).

``phase_history`` shows the latest run of each date with all its phases together (a
date's phases are never mixed from two runs).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from nbaprops.core.errors import LiveSourceError, NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, get_market
from nbaprops.core.settings import Settings
from nbaprops.experiments.runner import run_experiment
from nbaprops.experiments.spec import build_spec
from nbaprops.grading.breakout import (
    BreakoutGradeResult,
    grade_breakout_date,
    ungraded_breakout_dates,
)
from nbaprops.grading.grade import MIN_GRADED_SHARE, GradeResult, grade_date
from nbaprops.models.registry import PromotionRefusedError, promote
from nbaprops.monitoring.alerts import Delivery, alerts_since, post_alerts, raise_alert
from nbaprops.monitoring.diagnostics import Diagnostic, diagnose_range
from nbaprops.monitoring.picks_webhook import PicksDelivery, picks_payload, post_picks
from nbaprops.pipeline.fetch import FetchReport, fetch_date
from nbaprops.pipeline.jobs import Progress, audit, ingest_job
from nbaprops.pipeline.snapshot import (
    SnapshotPublishError,
    connection_file,
    publish_error,
    publish_snapshot,
)
from nbaprops.predictions.breakout import (
    BreakoutWrite,
    predict_breakout_date,
    shadow_model,
)
from nbaprops.predictions.daily import (
    PredictResult,
    aliased_models,
    live_as_of,
    predict_date,
    refuse_stale,
    version_feature_set,
)
from nbaprops.predictions.signal import SlateSignal, store_signal
from nbaprops.read.picks import champion_markets, champion_picks, picks_system
from nbaprops.read.predictions import date_signals
from nbaprops.read.status import FETCH_PHASE, PHASES, START_PHASE
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM
from nbaprops.systems.breakout import BreakoutRules

T = TypeVar("T")
UNSTARTED_SUFFIX = ".unstarted-runs.jsonl"
# The model a warehouse without any registered model starts from (fast, near the best).
DEFAULT_CHAMPION = "xgboost"
# ... in a market other than points (xgboost predicts points only; catboost_full
# predicts every market, a count distribution where the market is a small count).
DEFAULT_MARKET_CHAMPION = "catboost_full"
# ... trained on this many days of history (two seasons: minutes, not a quarter hour).
BOOTSTRAP_HISTORY_DAYS = 730
# Dates a daily run looks back for predictions still ungraded (a missed night).
GRADE_LOOKBACK_DAYS = 14


# Who hears each phase end (``run_daily(on_phase=...)``, e.g. ``--log-json``): set for
# the run, so every writer of a phase record, ``publish`` too, reports through ``_phase``.
_ON_PHASE: contextvars.ContextVar[Callable[[dict[str, Any]], None] | None] = contextvars.ContextVar(
    "on_phase", default=None
)
_PHASE_STARTED: dict[tuple[str, str], float] = {}


def _tell(run_id: str, phase: str, status: str, rows: int | None, error: str | None) -> None:
    """One event per phase end (COMPLETE or FAILED) to the run's listener, if any."""
    key = (run_id, phase)
    if status == "RUNNING":
        _PHASE_STARTED[key] = time.perf_counter()
        return
    if status not in ("COMPLETE", "FAILED"):
        return
    began = _PHASE_STARTED.pop(key, None)  # popped even when nobody listens
    listener = _ON_PHASE.get()
    if listener is None:
        return
    seconds = None if began is None else round(time.perf_counter() - began, 3)
    with contextlib.suppress(Exception):  # a listener never breaks the run
        listener(
            {
                "run_id": run_id,
                "phase": phase,
                "state": status,
                "rows": rows,
                "seconds": seconds,
                "error": error,
            }
        )


def _phase(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    day: date,
    phase: str,
    status: str,
    *,
    rows: int | None = None,
    error: str | None = None,
) -> None:
    _tell(run_id, phase, status, rows, error)
    con.execute(
        """
        INSERT INTO pipeline.phase_run
            (run_id, run_date, phase, status, rows, started_at, finished_at, error,
             pid, host, created_at)
        VALUES ($run, $day, $phase, $status, $rows,
            CASE WHEN $status = 'RUNNING' THEN now() END,
            CASE WHEN $status IN ('COMPLETE', 'FAILED') THEN now() END, $error,
            $pid, $host, now())
        ON CONFLICT (run_id, phase) DO UPDATE SET
            status = excluded.status, rows = coalesce(excluded.rows, rows),
            started_at = coalesce(started_at, excluded.started_at),
            finished_at = excluded.finished_at, error = excluded.error,
            pid = excluded.pid, host = excluded.host
        """,
        {
            "run": run_id,
            "day": day,
            "phase": phase,
            "status": status,
            "rows": rows,
            "error": error,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        },
    )


@contextmanager
def phase(
    con: duckdb.DuckDBPyConnection, run_id: str, day: date, name: str
) -> Iterator[dict[str, int]]:
    """Record a phase RUNNING, then COMPLETE with its row count or FAILED with its error."""
    _phase(con, run_id, day, name, "RUNNING")
    counter = {"rows": 0}
    started = time.perf_counter()
    try:
        yield counter
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"[:500]
        _phase(con, run_id, day, name, "FAILED", error=message)
        audit(con, "daily", name, message, success=False, duration_s=time.perf_counter() - started)
        raise
    _phase(con, run_id, day, name, "COMPLETE", rows=counter["rows"])
    audit(
        con,
        "daily",
        name,
        f"{day}: {counter['rows']} rows",
        duration_s=time.perf_counter() - started,
    )


@dataclass
class DailyResult:
    run_id: str
    day: date
    bootstrapped: str | None = None
    graded: list[GradeResult] = field(default_factory=list)
    predicted: PredictResult | None = None
    signals: dict[str, SlateSignal] = field(default_factory=dict)
    picks: pd.DataFrame = field(default_factory=pd.DataFrame)  # the champion's, stored
    diagnostics: list[Diagnostic] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # raised during the run
    delivery: Delivery | None = None
    breakout: BreakoutShadow | None = None  # None: the shadow phase failed (recorded)
    picks_delivery: PicksDelivery | None = None  # the picks webhook (None: not configured)
    snapshot: str | None = None  # the published read-only snapshot's file name
    fetched: FetchReport | None = None  # a live run's fetch (None: not live, or it crashed)


def bootstrap_champion(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    progress: Progress,
    market: str = DEFAULT_MARKET,
) -> str:
    """Train, register and crown the default champion of ``market`` on data strictly
    before ``day``."""
    points = market == DEFAULT_MARKET
    spec = build_spec(
        {
            "name": "default_champion" if points else f"default_champion_{market}",
            "hypothesis": "bootstrap: a warehouse without models gets a champion to start from"
            + ("" if points else f" ({market})"),
            "systems": [DEFAULT_CHAMPION if points else DEFAULT_MARKET_CHAMPION],
            "feature_set": get_market(market).feature_set,
            "evaluation": {"start": day - timedelta(days=28), "end": day - timedelta(days=1)},
            "training": {"start": day - timedelta(days=BOOTSTRAP_HISTORY_DAYS)},
            "retrain_every": 14,
            "warmup_days": 14,
            "decision_minutes": settings.models.decision_minutes_before_tip,
            "tags": ["bootstrap"],
        }
    )
    outcome = run_experiment(
        con,
        spec,
        settings=settings,
        on_plan=lambda n: progress.begin(
            "train default champion" + ("" if points else f" ({market})"), n
        ),
        on_fold=progress.step,
    )
    if outcome.model is None:
        raise NbapropsError(
            "the default champion"
            + ("" if points else f" of {market}")
            + " could not be registered"
        )
    version = outcome.model
    gate = {
        "min_rows": settings.models.promotion_min_rows,
        "max_ece": settings.models.promotion_max_ece,
    }
    ref = (version.system_id, version.version, "champion")
    try:
        promote(con, *ref, **gate, artifacts_dir=settings.paths.artifacts_dir)
        how = "promoted through the gate"
    except PromotionRefusedError as exc:
        promote(
            con,
            *ref,
            **gate,
            force=True,
            reason=f"bootstrap: no champion existed ({exc})",
            artifacts_dir=settings.paths.artifacts_dir,
        )
        how = "forced (the gate's refusal is recorded)"
    message = (
        ("no registered model" if points else f"no {market} model")
        + f": trained {version.ref} on data up to {version.train_end} "
        f"and made it {'' if points else market + ' '}champion, {how}"
    )
    audit(con, "daily", "bootstrap_champion", message)
    return message


def ungraded_dates(con: duckdb.DuckDBPyConnection, day: date) -> list[date]:
    return [
        r[0]
        for r in con.execute(
            """
            SELECT p.game_date FROM predictions.prediction p
            LEFT JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND p.game_date < $day AND p.game_date >= $since
              AND g.prediction_id IS NULL
            UNION
            SELECT b.game_date FROM predictions.bet b
            LEFT JOIN grading.bet_grade g USING (pick_id)
            WHERE b.is_active AND b.game_date < $day AND b.game_date >= $since
              AND g.pick_id IS NULL
            ORDER BY 1
            """,
            {"day": day, "since": day - timedelta(days=GRADE_LOOKBACK_DAYS)},
        ).fetchall()
    ]


def grade_job(con: duckdb.DuckDBPyConnection, day: date) -> GradeResult:
    """Grade a date, log regrades, and alert on grading completeness below 80%."""
    result = grade_date(con, day)
    if result.regraded:
        audit(
            con,
            "grading",
            "regrade",
            f"{day}: {len(result.regraded)} grades changed (box-score corrections)",
        )
    if result.bets is not None and result.bets.regraded:
        audit(
            con,
            "grading",
            "regrade_bets",
            f"{day}: {len(result.bets.regraded)} bet grades changed (box-score corrections): "
            + ", ".join(result.bets.regraded[:20]),
        )
    for row in result.completeness.itertuples():
        if row.predicted and row.graded_share < MIN_GRADED_SHARE and not result.pending:
            raise_alert(
                con,
                "WARNING",
                "grading",
                f"{row.system_id} on {day}: {row.graded_share:.0%} graded "
                f"({row.missing} of {row.predicted} missing)",
                game_date=day,
                system_id=row.system_id,
                market=row.market,
            )
    return result


def predict_job(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    force: bool = False,
    skip_completeness_check: bool = False,
    allow_in_sample: bool = False,
    allow_stale: bool = False,
    now: datetime | None = None,
    markets: Sequence[str] | None = None,
) -> PredictResult:
    """Predict a date with every aliased model of ``markets`` (None: every market), and
    audit what was forced, skipped or overridden (``allow_stale``) and which players were
    flagged for a team change."""
    result = predict_date(
        con,
        day,
        aliased_models(con, artifacts_dir=settings.paths.artifacts_dir, markets=markets),
        settings=settings,
        minutes_before_tip=settings.models.decision_minutes_before_tip,
        ev_margin=settings.betting.ev_margin,
        as_of=live_as_of(day, now),
        force=force,
        skip_completeness_check=skip_completeness_check,
        allow_in_sample=allow_in_sample,
        allow_stale=allow_stale,
        now=now,
    )
    for w in result.writes:
        ref = f"{w.system_id}@v{w.model_version} ({w.alias}" + (
            ")" if w.market == DEFAULT_MARKET else f", {w.market})"
        )
        if w.unchanged:
            audit(con, "predict", "skip", f"{day} {ref}: already predicted; nothing changed")
        elif w.superseded:
            audit(con, "predict", "supersede", f"{day} {ref}: {w.superseded} rows superseded")
    if skip_completeness_check:
        audit(con, "predict", "skip_completeness_check", f"{day}: {result.complete_share:.0%}")
    if allow_in_sample:
        audit(con, "predict", "allow_in_sample", f"{day}: in-sample rows marked")
    if result.stale_override:
        audit(
            con,
            "predict",
            "allow_stale",
            f"{day}: predicted over stale data ({result.stale_override}); recorded on every "
            "row, no bets",
        )
    if result.team_changes:
        flagged = sorted(result.team_changes.items())
        audit(
            con,
            "predict",
            "team_changed",
            f"{day}: {len(flagged)} players flagged, never bet: "
            + "; ".join(f"{p} {why}" for p, why in flagged[:10]),
        )
    return result


def signal_job(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date
) -> dict[str, SlateSignal]:
    """Compute and store the slate signal of every active model of the date."""
    out: dict[str, SlateSignal] = {}
    for label, (system_id, version, sig) in date_signals(con, settings, day).items():
        store_signal(con, day, system_id, version, sig)
        out[label] = sig
    return out


class PublishFailedError(SnapshotPublishError):
    """Every phase ran but the snapshot was not published (recorded, alerted); ``result``
    is the run's result, for the shell to show before the error."""

    def __init__(self, message: str, result: DailyResult) -> None:
        super().__init__(message)
        self.result = result


def run_daily(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    data_dir: Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
    skip_completeness_check: bool = False,
    skip_ingest: bool = False,
    allow_stale: bool = False,
    now: datetime | None = None,
    on_message: Callable[[str], None] | None = None,
    on_phase: Callable[[dict[str, Any]], None] | None = None,
    live: bool = False,
    markets: Sequence[str] | None = None,
) -> DailyResult:
    """One day of operations on ``markets``, each of which gets a default champion when
    it has no aliased model (None: every market with an aliased model, and a points
    champion on a warehouse without any); a failed phase is recorded and stops the run (``live``: a
    ``fetch`` phase first, ``fetch_phase``, whose failure never stops it). Either way
    the run ends with its ``publish`` phase: the read-only snapshot the API reads (ADR
    0008), so a failed phase is visible there too. A failed publish is recorded FAILED,
    alerted, and raised (``PublishFailedError``) once the run's work is done.

    ``on_phase`` hears each phase end: ``{run_id, phase, state (COMPLETE or FAILED),
    rows, seconds, error}`` (``--log-json``). The champion's picks are POSTed to the
    picks webhook, when one is set, right after the predict phase (``deliver_picks``)."""
    _ON_PHASE.set(on_phase)  # every run sets its own (None: nobody listens)
    run_id = str(uuid.uuid4())
    fold_unstarted_runs(con, settings)
    abandon_dead_runs(con, run_id)
    try:
        result = _run_daily(
            con,
            settings,
            day,
            run_id,
            data_dir=data_dir,
            progress=progress,
            force=force,
            skip_completeness_check=skip_completeness_check,
            skip_ingest=skip_ingest,
            allow_stale=allow_stale,
            now=now,
            on_message=on_message,
            live=live,
            markets=None if markets is None else tuple(markets),
        )
    except Exception:
        publish_phase(con, settings, run_id, day)
        raise
    result.snapshot, failure, alert = publish_phase(con, settings, run_id, day)
    if failure is not None:
        if alert is not None:
            result.alerts.append(alert)
        raise PublishFailedError(str(failure), result)
    return result


def publish_phase(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, day: date
) -> tuple[str | None, SnapshotPublishError | None, dict[str, Any] | None]:
    """The run's last phase: publish the snapshot; (its name, the failure, the alert).

    The phase is recorded COMPLETE (and audited) *before* the copy, so the snapshot
    readers get says so; a failed copy leaves readers the previous snapshot and rewrites
    the record FAILED in the warehouse, with a CRITICAL alert (stored and delivered)."""
    _phase(con, run_id, day, "publish", "RUNNING")
    db = connection_file(con)
    _phase(con, run_id, day, "publish", "COMPLETE", rows=0 if db is None else 1)
    audit(con, "daily", "publish", f"{day}: snapshot of the run {run_id}")
    try:
        published = publish_snapshot(con)
    except (OSError, duckdb.Error) as exc:
        failure = publish_error(db or Path("warehouse"), exc)
        message = f"{failure}"[:500]
        alert = None
        with contextlib.suppress(duckdb.Error):  # e.g. the disk is too full for a row
            _phase(con, run_id, day, "publish", "FAILED", error=message)
            audit(con, "daily", "publish", message, success=False)
            alert = raise_alert(con, "CRITICAL", "publish", message, game_date=day)
        if alert is not None:
            deliver_alerts(settings, [alert])
        return None, failure, alert
    return None if published is None else published.name, None, None


def abandon_dead_runs(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Mark the open phases of runs that died ABANDONED; returns how many phases.

    Called by a run that holds the warehouse's write lock, so no other process is
    running a phase: a phase still RUNNING, and the EXPECTED phases of a run whose
    ``publish`` never ran, belong to a run that was killed. Its bootstrap experiments
    still pending or running are marked ``abandoned`` too."""
    dead = con.execute(
        """
        SELECT run_id, any_value(pid), any_value(host),
               min(coalesce(created_at, started_at, finished_at))
        FROM pipeline.phase_run
        WHERE run_id <> $run AND run_id IN (
            SELECT run_id FROM pipeline.phase_run
            WHERE status = 'RUNNING' OR (status = 'EXPECTED' AND phase = 'publish'))
        GROUP BY run_id
        """,
        {"run": run_id},
    ).fetchall()
    marked = 0
    here = socket.gethostname()
    for dead_id, pid, host, began in dead:
        who = "a process" if pid is None else f"PID {pid}" + (f" on {host}" if host else "")
        gone = pid is not None and host == here and not _alive(int(pid))
        note = (
            f"abandoned: the run {dead_id} ({who}) ended without finishing"
            + (f"; {who} is gone" if gone else "")
            + f"; noticed by the run {run_id}"
        )
        changed = con.execute(
            """
            UPDATE pipeline.phase_run SET status = 'ABANDONED', finished_at = now(),
                error = $note
            WHERE run_id = $dead AND status IN ('RUNNING', 'EXPECTED')
            RETURNING phase
            """,
            {"note": note, "dead": dead_id},
        ).fetchall()
        marked += len(changed)
        audit(con, "daily", "abandon", f"{note}: {', '.join(r[0] for r in changed)}")
        if began is not None:
            _abandon_bootstrap_experiments(con, began, note)
    return marked


def _abandon_bootstrap_experiments(
    con: duckdb.DuckDBPyConnection, since: datetime, note: str
) -> None:
    rows = con.execute(
        "SELECT experiment_id FROM experiments.run WHERE list_contains(tags, 'bootstrap') "
        "AND status IN ('pending', 'running') AND created_at >= ?",
        [since],
    ).fetchall()
    for (experiment_id,) in rows:
        con.execute(
            "UPDATE experiments.run SET status = 'abandoned', error = ?, completed_at = now() "
            "WHERE experiment_id = ?",
            [note, experiment_id],
        )
        con.execute(
            "INSERT INTO experiments.run_event VALUES (?, 'abandoned', now(), ?)",
            [experiment_id, note],
        )
        audit(con, "daily", "abandon_experiment", f"{experiment_id}: {note}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


# --- runs that could not start: the sidecar beside the warehouse -------------------------


def unstarted_runs_path(db: Path | str) -> Path:
    """The sidecar file of runs that could not open warehouse ``db`` (beside it)."""
    db = Path(db)
    return db.with_name(db.name + UNSTARTED_SUFFIX)


@contextmanager
def _locked(path: Path, mode: str) -> Iterator[Any]:
    """``path`` opened with an exclusive advisory lock (where the OS has ``fcntl``)."""
    with path.open(mode, encoding="utf-8") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield handle
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def record_unstarted_run(db: Path | str, day: date, reason: str) -> Path | None:
    """Append a FAILED ``start`` record for a run of ``day`` that could not open the
    warehouse; None when even the sidecar cannot be written (the caller still fails)."""
    path = unstarted_runs_path(db)
    record = {
        "run_id": str(uuid.uuid4()),
        "run_date": day.isoformat(),
        "phase": START_PHASE,
        "status": "FAILED",
        "rows": None,
        "started_at": datetime.now(UTC).isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "error": reason[:500],
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    try:
        with _locked(path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        return None
    return path


def unstarted_runs(db: Path | str | None) -> list[dict[str, Any]]:
    """The sidecar's records not yet folded into the warehouse (read only)."""
    if db is None:
        return []
    path = unstarted_runs_path(db)
    if not path.exists():
        return []
    with _locked(path, "r") as handle:
        return _parse_records(handle.read())


def _parse_records(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line cut by a crash mid-write
            continue
        if isinstance(record, dict) and {"run_id", "run_date", "error"} <= record.keys():
            out.append(record)
    return out


def fold_unstarted_runs(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Move the sidecar's records into ``pipeline.phase_run`` (a WARNING alert each),
    then empty the sidecar; returns how many were folded."""
    db = connection_file(con) or settings.paths.db
    path = unstarted_runs_path(db)
    if not path.exists():
        return 0
    with _locked(path, "r+") as handle:
        records = _parse_records(handle.read())
        for r in records:
            con.execute(
                """
                INSERT INTO pipeline.phase_run
                    (run_id, run_date, phase, status, rows, started_at, finished_at, error,
                     pid, host, created_at)
                VALUES (?, ?, ?, 'FAILED', NULL, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, phase) DO NOTHING
                """,
                [
                    r["run_id"],
                    r["run_date"],
                    r.get("phase", START_PHASE),
                    r.get("started_at"),
                    r.get("finished_at"),
                    r["error"],
                    r.get("pid"),
                    r.get("host"),
                    r.get("started_at"),
                ],
            )
            message = f"the daily run of {r['run_date']} could not start: {r['error']}"
            audit(con, "daily", "unstarted_run", message, success=False)
            raise_alert(
                con, "WARNING", "daily", message, game_date=date.fromisoformat(r["run_date"])
            )
        handle.seek(0)
        handle.truncate()  # kept, empty: a run waiting on the lock appends to this file
    return len(records)


def _run_daily(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    run_id: str,
    *,
    data_dir: Path | None,
    progress: Progress | None,
    force: bool,
    skip_completeness_check: bool,
    skip_ingest: bool,
    allow_stale: bool,
    now: datetime | None,
    on_message: Callable[[str], None] | None,
    live: bool = False,
    markets: tuple[str, ...] | None = None,
) -> DailyResult:
    progress = progress or Progress()
    started = datetime.now().astimezone()
    for name in (FETCH_PHASE, *PHASES) if live else PHASES:
        _phase(con, run_id, day, name, "EXPECTED")
    result = DailyResult(run_id, day)
    if live:
        result.fetched = fetch_phase(con, run_id, settings, day, progress)
    with phase(con, run_id, day, "ingest") as counter:
        if not skip_ingest:
            ingested = ingest_job(con, settings, data_dir, progress=progress)
            counter["rows"] = sum(r.n_loaded for r in ingested.report.results)
    with phase(con, run_id, day, "grade") as counter:
        for past in ungraded_dates(con, day):
            graded = grade_job(con, past)
            result.graded.append(graded)
            counter["rows"] += graded.graded + graded.void
    result.diagnostics = (
        optional_phase(
            con,
            run_id,
            day,
            "diagnose",
            lambda: diagnose_job(con, settings, day, result.graded),
            len,
        )
        or []
    )
    with phase(con, run_id, day, "bootstrap") as counter:
        # a market without models gets a champion first (rows: versions registered)
        if markets is None:
            missing = [] if aliased_models_exist(con, None) else [DEFAULT_MARKET]
        else:
            missing = [m for m in markets if not aliased_models_exist(con, m)]
        if missing:
            # refused before minutes of training, not after
            refuse_stale(con, day, settings, allow_stale=allow_stale, now=now)
        for market in missing:
            message = bootstrap_champion(con, settings, day, progress=progress, market=market)
            result.bootstrapped = (
                message if result.bootstrapped is None else f"{result.bootstrapped}\n{message}"
            )
            counter["rows"] += 1
            if on_message:
                on_message(message)
    with phase(con, run_id, day, "predict") as counter:
        result.predicted = predict_job(
            con,
            settings,
            day,
            force=force,
            skip_completeness_check=skip_completeness_check,
            allow_stale=allow_stale,
            now=now,
            markets=markets,
        )
        counter["rows"] = sum(w.written for w in result.predicted.writes)
    result.picks_delivery = deliver_picks(con, settings, day, result.predicted)
    result.breakout = breakout_shadow_phase(con, run_id, settings, day)
    with phase(con, run_id, day, "signal") as counter:
        result.signals = signal_job(con, settings, day)
        result.picks = champion_picks(con, settings, day)
        counter["rows"] = len(result.signals)
    result.alerts = alerts_since(con, started)
    result.delivery = deliver_alerts(settings, result.alerts)
    return result


def fetch_phase(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    settings: Settings,
    day: date,
    progress: Progress | None = None,
) -> FetchReport | None:
    """Fetch the date's live sources and ingest them. A failed source is recorded (the
    phase FAILED with the failed sources' lines) but never stops the run: the usual
    phases go on with what the warehouse has, as they do after a night without fetch."""
    report: list[FetchReport] = []

    def work() -> FetchReport:
        report.append(fetch_date(con, settings, day, progress=progress))
        if report[0].failed:
            raise LiveSourceError(
                "; ".join(
                    [s.line() for s in report[0].failed_sources]
                    + [f"ingest: {e}" for e in report[0].ingest_failures]
                )
            )
        return report[0]

    optional_phase(con, run_id, day, FETCH_PHASE, work, lambda r: r.rows_loaded)
    return report[0] if report else None


def diagnose_job(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    graded: list[GradeResult] | None = None,
) -> list[Diagnostic]:
    """Diagnose the dates this run graded, else the last predicted date before ``day``, in
    every market with a champion (points alone on a warehouse without one): each market's
    rows and alerts name it (points as before markets)."""
    dates = sorted({g.day for g in graded or []})
    if not dates:
        row = con.execute(
            "SELECT max(game_date) FROM predictions.prediction WHERE is_active AND game_date < ?",
            [day],
        ).fetchone()
        if row is None or row[0] is None:
            return []
        dates = [row[0]]
    out: list[Diagnostic] = []
    for market in champion_markets(con) or [DEFAULT_MARKET]:
        out += diagnose_range(con, settings, dates[0], dates[-1], market=market)
    return out


def deliver_picks(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    predicted: PredictResult | None = None,
    *,
    fmt: str | None = None,
    opener: Callable[..., Any] | None = None,
) -> PicksDelivery | None:
    """POST the champion's stored picks of ``day`` (or "No bets today") to the picks
    webhook (``monitoring.picks_webhook``); None when no URL is set. A failed delivery
    is audited (success false) and returned, never raised: it never fails the run."""
    if not settings.alerts.picks_webhook_url:
        return None
    fmt = fmt or settings.alerts.picks_webhook_format
    n_bets = 0
    try:
        # every market's champion picks in one message (points alone: as before)
        markets = champion_markets(con) or [DEFAULT_MARKET]
        frames = [champion_picks(con, settings, day, m).assign(market=m) for m in markets]
        picks = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        unchanged = bool(predicted is not None and predicted.unchanged)
        systems = [(m, picks_system(con, settings, m)) for m in markets]
        system = (
            systems[0][1]
            if len(systems) == 1
            else ", ".join(f"{s}@champion ({m})" for m, s in systems if s is not None) or None
        )
        payload = picks_payload(
            day, system, picks, unit_share=settings.betting.unit_share, unchanged=unchanged, fmt=fmt
        )
        n_bets = int((picks["status"] == "BET").sum()) if "status" in picks else 0
        delivery = post_picks(
            settings.alerts.picks_webhook_url,
            payload,
            fmt=fmt,
            n_bets=n_bets,
            timeout_s=settings.alerts.picks_webhook_timeout_s,
            opener=opener,
        )
    except Exception as exc:  # the picks are stored; telling someone must not fail the run
        error = f"{type(exc).__name__}: {exc}"[:300]
        delivery = PicksDelivery(settings.alerts.picks_webhook_url, n_bets, fmt, False, None, error)
    what = f"{day}: {n_bets} bet(s) as {fmt}" if n_bets else f"{day}: no bets today, as {fmt}"
    if delivery.ok:
        audit(con, "notify", "picks_webhook", f"{what}: delivered (HTTP {delivery.status})")
    else:
        audit(
            con,
            "notify",
            "picks_webhook",
            f"{what}: NOT delivered ({delivery.error})",
            success=False,
        )
    return delivery


def deliver_alerts(settings: Settings, alerts: list[dict[str, Any]]) -> Delivery | None:
    """POST new alerts to the configured webhook (none configured, or none new: None)."""
    if not settings.alerts.alert_webhook_url or not alerts:
        return None
    return post_alerts(
        settings.alerts.alert_webhook_url, alerts, settings.alerts.alert_webhook_timeout_s
    )


@dataclass(frozen=True)
class BreakoutShadow:
    """What the breakout shadow did in a daily run (it never changes picks)."""

    graded: list[BreakoutGradeResult]
    write: BreakoutWrite | None  # None: no breakout@shadow model registered


def breakout_shadow_job(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date
) -> BreakoutShadow:
    """Grade the shadow's ungraded earlier dates, then score ``day`` with breakout@shadow."""
    graded = [
        grade_breakout_date(con, past)
        for past in ungraded_breakout_dates(con, day, GRADE_LOOKBACK_DAYS)
    ]
    loaded = shadow_model(con, artifacts_dir=settings.paths.artifacts_dir)
    if loaded is None:
        return BreakoutShadow(graded, None)
    write = predict_breakout_date(
        con,
        day,
        loaded,
        BreakoutRules.from_settings(settings),
        version_feature_set(loaded.version),
    )
    return BreakoutShadow(graded, write)


def optional_phase(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    day: date,
    name: str,
    work: Callable[[], T],
    rows: Callable[[T], int],
) -> T | None:
    """A phase picks never depend on (diagnostics, the shadow): a failure is recorded
    FAILED with its error (and seen by the next diagnosis), and the run goes on."""
    try:
        with phase(con, run_id, day, name) as counter:
            out = work()
            counter["rows"] = rows(out)
    except Exception:  # recorded by `phase`; this phase must not stop the picks
        return None
    return out


def breakout_shadow_phase(
    con: duckdb.DuckDBPyConnection, run_id: str, settings: Settings, day: date
) -> BreakoutShadow | None:
    """The shadow as its own phase: a failure is recorded FAILED and the run goes on
    (picks never depend on the shadow)."""
    return optional_phase(
        con,
        run_id,
        day,
        "breakout_shadow",
        lambda: breakout_shadow_job(con, settings, day),
        lambda shadow: 0 if shadow.write is None else shadow.write.written,
    )


def aliased_models_exist(
    con: duckdb.DuckDBPyConnection, market: str | None = DEFAULT_MARKET
) -> bool:
    """Whether ``market`` (None: any market) has a model under an alias (the breakout
    shadow aside)."""
    row = con.execute(
        "SELECT count(*) FROM models.alias WHERE system_id <> ? AND (? IS NULL OR market = ?)",
        [BREAKOUT_SYSTEM, market, market],
    ).fetchone()
    return bool(row and row[0])
