"""The daily run and its phase records: ingest → grade → diagnose → predict → signal.

Every phase of every run writes a record (EXPECTED when the run starts, then RUNNING,
COMPLETE or FAILED with rows, times and the error), so a missing or failed day is
visible in ``nbaprops status``, never silent. Every automated action (each force,
skip, supersede, regrade, promotion) leaves a line in the audit log.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from nbaprops.core.errors import NbapropsError
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
from nbaprops.pipeline.jobs import Progress, audit, ingest_job
from nbaprops.pipeline.snapshot import publish_snapshot
from nbaprops.predictions.breakout import (
    BreakoutWrite,
    active_breakout,
    flag_picks,
    predict_breakout_date,
    shadow_model,
)
from nbaprops.predictions.daily import (
    PredictResult,
    aliased_models,
    live_as_of,
    predict_date,
    version_feature_set,
)
from nbaprops.predictions.signal import SlateSignal, slate_signal, store_signal
from nbaprops.predictions.store import PICK_TABLE_COLUMNS, active_predictions
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM
from nbaprops.systems.breakout import BreakoutRules

T = TypeVar("T")
PHASES = ("ingest", "grade", "diagnose", "predict", "breakout_shadow", "signal")
# The model a warehouse without any registered model starts from (fast, near the best).
DEFAULT_CHAMPION = "xgboost"
# ... trained on this many days of history (two seasons: minutes, not a quarter hour).
BOOTSTRAP_HISTORY_DAYS = 730
# Dates a daily run looks back for predictions still ungraded (a missed night).
GRADE_LOOKBACK_DAYS = 14


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
    con.execute(
        """
        INSERT INTO pipeline.phase_run VALUES ($run, $day, $phase, $status, $rows,
            CASE WHEN $status = 'RUNNING' THEN now() END,
            CASE WHEN $status IN ('COMPLETE', 'FAILED') THEN now() END, $error)
        ON CONFLICT (run_id, phase) DO UPDATE SET
            status = excluded.status, rows = coalesce(excluded.rows, rows),
            started_at = coalesce(started_at, excluded.started_at),
            finished_at = excluded.finished_at, error = excluded.error
        """,
        {"run": run_id, "day": day, "phase": phase, "status": status, "rows": rows, "error": error},
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
    snapshot: str | None = None  # the published read-only snapshot's file name


def bootstrap_champion(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date, *, progress: Progress
) -> str:
    """Train, register and crown the default champion on data strictly before ``day``."""
    spec = build_spec(
        {
            "name": "default_champion",
            "hypothesis": "bootstrap: a warehouse without models gets a champion to start from",
            "systems": [DEFAULT_CHAMPION],
            "evaluation": {"start": day - timedelta(days=28), "end": day - timedelta(days=1)},
            "training": {"start": day - timedelta(days=BOOTSTRAP_HISTORY_DAYS)},
            "retrain_every": 14,
            "warmup_days": 14,
            "decision_minutes": settings.decision_minutes_before_tip,
            "tags": ["bootstrap"],
        }
    )
    outcome = run_experiment(
        con,
        spec,
        settings=settings,
        on_plan=lambda n: progress.begin("train default champion", n),
        on_fold=progress.step,
    )
    if outcome.model is None:
        raise NbapropsError("the default champion could not be registered")
    version = outcome.model
    gate = {"min_rows": settings.promotion_min_rows, "max_ece": settings.promotion_max_ece}
    ref = (version.system_id, version.version, "champion")
    try:
        promote(con, *ref, **gate)
        how = "promoted through the gate"
    except PromotionRefusedError as exc:
        promote(con, *ref, **gate, force=True, reason=f"bootstrap: no champion existed ({exc})")
        how = "forced (the gate's refusal is recorded)"
    message = (
        f"no registered model: trained {version.ref} on data up to {version.train_end} "
        f"and made it champion, {how}"
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
    now: datetime | None = None,
) -> PredictResult:
    """Predict a date with every aliased model, and audit what was forced or skipped."""
    result = predict_date(
        con,
        day,
        aliased_models(con),
        settings=settings,
        minutes_before_tip=settings.decision_minutes_before_tip,
        ev_margin=settings.ev_margin,
        as_of=live_as_of(day, now),
        force=force,
        skip_completeness_check=skip_completeness_check,
        allow_in_sample=allow_in_sample,
    )
    for w in result.writes:
        ref = f"{w.system_id}@v{w.model_version} ({w.alias})"
        if w.unchanged:
            audit(con, "predict", "skip", f"{day} {ref}: already predicted; nothing changed")
        elif w.superseded:
            audit(con, "predict", "supersede", f"{day} {ref}: {w.superseded} rows superseded")
    if skip_completeness_check:
        audit(con, "predict", "skip_completeness_check", f"{day}: {result.complete_share:.0%}")
    if allow_in_sample:
        audit(con, "predict", "allow_in_sample", f"{day}: in-sample rows marked")
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


def date_signals(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date
) -> dict[str, tuple[str, int, SlateSignal]]:
    """The slate signal of every active model of the date, by ``system@alias`` (read only)."""
    rows = active_predictions(con, day)
    out: dict[str, tuple[str, int, SlateSignal]] = {}
    for (system_id, version), group in rows.groupby(["system_id", "model_version"]):
        sig = slate_signal(group[~group["in_sample"]], settings)
        alias = group["alias"].dropna()
        label = f"{system_id}@{alias.iloc[0]}" if len(alias) else f"{system_id}@v{version}"
        out[label] = (str(system_id), int(version), sig)
    return out


def picks_system(con: duckdb.DuckDBPyConnection, settings: Settings) -> str | None:
    """The system whose champion drives picks: the configured one, else the champion
    promoted most recently (several systems may each have a champion)."""
    if settings.picks_system:
        return settings.picks_system
    row = con.execute(
        "SELECT system_id FROM models.alias WHERE alias = 'champion' "
        "ORDER BY set_at DESC, system_id LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def champion_picks(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> pd.DataFrame:
    """The stored picks of the picks system's champion on ``day`` (bets first), with
    player names, the breakout shadow's observation and, once graded, each bet's result."""
    system_id = picks_system(con, settings)
    if system_id is None:
        return pd.DataFrame(columns=[*PICK_TABLE_COLUMNS, "observation"])
    picks = con.execute(
        """
        SELECT k.*, coalesce(pl.player_name, CAST(k.player_id AS VARCHAR)) AS player_name,
               g.result, g.actual_points, g.profit_units, g.profit_share
        FROM predictions.pick k
        LEFT JOIN core.player pl USING (player_id)
        LEFT JOIN grading.bet_grade g USING (pick_id)
        WHERE k.game_date = ? AND k.is_active AND k.system_id = ? AND k.alias = 'champion'
        ORDER BY k.rank
        """,
        [day, system_id],
    ).df()
    return flag_picks(picks, active_breakout(con, day))  # the shadow's note, read-time


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
    now: datetime | None = None,
    on_message: Callable[[str], None] | None = None,
) -> DailyResult:
    """One day of operations; a failed phase is recorded and stops the run. Either way
    the run ends by publishing the read-only snapshot the API reads (ADR 0008), so a
    failed phase is visible there too."""
    try:
        result = _run_daily(
            con,
            settings,
            day,
            data_dir=data_dir,
            progress=progress,
            force=force,
            skip_completeness_check=skip_completeness_check,
            skip_ingest=skip_ingest,
            now=now,
            on_message=on_message,
        )
    except Exception:
        publish_for_readers(con)
        raise
    result.snapshot = publish_for_readers(con)
    return result


def _run_daily(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    data_dir: Path | None,
    progress: Progress | None,
    force: bool,
    skip_completeness_check: bool,
    skip_ingest: bool,
    now: datetime | None,
    on_message: Callable[[str], None] | None,
) -> DailyResult:
    progress = progress or Progress()
    run_id = str(uuid.uuid4())
    started = datetime.now().astimezone()
    for name in PHASES:
        _phase(con, run_id, day, name, "EXPECTED")
    result = DailyResult(run_id, day)
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
    with phase(con, run_id, day, "predict") as counter:
        if not aliased_models_exist(con):
            result.bootstrapped = bootstrap_champion(con, settings, day, progress=progress)
            if on_message:
                on_message(result.bootstrapped)
        result.predicted = predict_job(
            con,
            settings,
            day,
            force=force,
            skip_completeness_check=skip_completeness_check,
            now=now,
        )
        counter["rows"] = sum(w.written for w in result.predicted.writes)
    result.breakout = breakout_shadow_phase(con, run_id, settings, day)
    with phase(con, run_id, day, "signal") as counter:
        result.signals = signal_job(con, settings, day)
        result.picks = champion_picks(con, settings, day)
        counter["rows"] = len(result.signals)
    result.alerts = alerts_since(con, started)
    result.delivery = deliver_alerts(settings, result.alerts)
    return result


def publish_for_readers(con: duckdb.DuckDBPyConnection) -> str | None:
    """Publish the read-only snapshot the API serves; a failure is audited, never fatal
    (the run's work is committed; readers keep the previous snapshot)."""
    try:
        published = publish_snapshot(con)
    except (OSError, duckdb.Error) as exc:
        with contextlib.suppress(duckdb.Error):  # e.g. a connection left unusable
            audit(
                con,
                "daily",
                "publish_snapshot",
                f"{type(exc).__name__}: {exc}"[:500],
                success=False,
            )
        return None
    return None if published is None else published.name


def diagnose_job(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    graded: list[GradeResult] | None = None,
) -> list[Diagnostic]:
    """Diagnose the dates this run graded, else the last predicted date before ``day``."""
    dates = sorted({g.day for g in graded or []})
    if not dates:
        row = con.execute(
            "SELECT max(game_date) FROM predictions.prediction WHERE is_active AND game_date < ?",
            [day],
        ).fetchone()
        if row is None or row[0] is None:
            return []
        dates = [row[0]]
    return diagnose_range(con, settings, dates[0], dates[-1])


def deliver_alerts(settings: Settings, alerts: list[dict[str, Any]]) -> Delivery | None:
    """POST new alerts to the configured webhook (none configured, or none new: None)."""
    if not settings.alert_webhook_url or not alerts:
        return None
    return post_alerts(settings.alert_webhook_url, alerts, settings.alert_webhook_timeout_s)


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
    loaded = shadow_model(con)
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


def aliased_models_exist(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM models.alias WHERE system_id <> ?", [BREAKOUT_SYSTEM]
    ).fetchone()
    return bool(row and row[0])


def phase_history(con: duckdb.DuckDBPyConnection, days: int = 14) -> list[dict[str, Any]]:
    """Phase records of the last ``days`` run dates (latest run per date and phase)."""
    frame = con.execute(
        """
        SELECT run_date, phase, status, rows, started_at, finished_at, error
        FROM pipeline.phase_run
        WHERE run_date >= (SELECT max(run_date) FROM pipeline.phase_run) - CAST(? AS INTEGER)
        QUALIFY row_number() OVER (PARTITION BY run_date, phase
                                   ORDER BY coalesce(started_at, finished_at) DESC NULLS LAST) = 1
        ORDER BY run_date DESC, list_position(?, phase)
        """,
        [days - 1, list(PHASES)],
    ).df()
    out = []
    for r in frame.to_dict("records"):
        row: dict[str, Any] = {}
        for k, v in r.items():
            if pd.isna(v):
                row[k] = None
            elif k == "rows":
                row[k] = int(v)
            elif k == "run_date":
                row[k] = pd.Timestamp(v).date().isoformat()
            elif isinstance(v, pd.Timestamp):
                row[k] = v.isoformat()
            else:
                row[k] = str(v)
        out.append(row)
    return out
