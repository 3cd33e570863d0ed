"""Daily diagnostics: did the market get sharper, the model drift, or the data go bad?

One row per date, system and market (``monitoring.diagnostic``), computed from what the daily
job stored: active out-of-sample predictions, their grades, grading completeness,
phase records, the model registry (each version's training end and walk-forward
reference rows) and the warehouse's own box scores, games and line snapshots.

The run lives here (read the inputs once, diagnose each date and system, store the
row, raise the alerts); each family is computed in its own module: ``market``
(market sharpness), ``model`` (model drift), ``data`` (data quality) and
``attribution`` (the primary cause and the alert conditions).

Diagnostics are of one market at a time (``market``, default points): every query reads
that market only (``market = ?``, bound; another market's predictions and completeness
never enter a figure), the outcome is the graded ``actual`` (the market's, e.g. box-score
rebounds). A row is keyed by date, system and market (``system_id`` is always the plain
system; migration 021 split the interim combined ids ``"<system> [<market>]"`` back).
An alert carries its market (``monitoring.alert.market``, migration 022) and is
deduplicated and reminded within it; its text names another market,
``"<system> [<market>] on <date>: ..."`` (``system_label``), and a points alert reads
``"<system> on <date>: ..."`` as before markets. The thresholds in outcome units
(sharpness, regime, drift, bias) are calibrated on points lines and scaled to each
market by its catalog ``error_scale``; its line tiers are its catalog ``line_tiers``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from nbaprops.core.db import transaction
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, get_market
from nbaprops.core.settings import Settings
from nbaprops.core.values import json_safe
from nbaprops.models.registry import ModelVersion, get_version, reference_rows
from nbaprops.monitoring.alerts import raise_alert
from nbaprops.monitoring.diagnostics.attribution import (
    attribute,
    baseline_of,
    conditions_of,
    quality_factors,
)
from nbaprops.monitoring.diagnostics.data import (
    Season,
    data_quality,
    read_season,
    recent_phase_failures,
    season_of,
)
from nbaprops.monitoring.diagnostics.market import market_sharpness
from nbaprops.monitoring.diagnostics.model import WINDOWS, model_drift

LOOKBACK_DAYS = 37  # the 30-day window and the trailing baseline before the week
REMIND_EVERY_DAYS = 7  # a persisting WARNING is raised again after this many days

_PREDICTIONS_SQL = """
SELECT p.system_id, p.game_date, p.model_version, p.line_source, p.line, p.median,
       p.recommendation, p.n_defaulted, g.actual_points AS actual,
       g.direction_vs_consensus AS result
FROM predictions.prediction p LEFT JOIN grading.grade g USING (prediction_id)
WHERE p.is_active AND NOT p.in_sample AND p.game_date BETWEEN ? AND ?
  AND p.market = ?
"""


def system_label(system: str, market: str = DEFAULT_MARKET) -> str:
    """How an alert's text names a diagnosis of ``system`` in ``market`` (a display label,
    never a stored key): the system for points (as before markets), ``"<system>
    [<market>]"`` for another market."""
    return system if market == DEFAULT_MARKET else f"{system} [{market}]"


@dataclass
class Diagnostic:
    game_date: date
    system_id: str
    model_version: int | None
    market: dict[str, Any]
    drift: dict[str, Any]
    quality: dict[str, Any]
    primary_cause: str
    confidence: float
    factors: list[dict[str, Any]]
    conditions: list[str]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    market_name: str = DEFAULT_MARKET  # the prop market diagnosed (``market``: sharpness)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["game_date"] = str(self.game_date)
        return out


def _previous(
    con: duckdb.DuckDBPyConnection, system: str, day: date, market: str = DEFAULT_MARKET
) -> tuple[date, dict[str, Any]] | None:
    row = con.execute(
        """
        SELECT game_date, details FROM monitoring.diagnostic
        WHERE system_id = ? AND market = ? AND game_date < ?
        ORDER BY game_date DESC LIMIT 1
        """,
        [system, market, day],
    ).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def _notable_changes(
    previous: dict[str, Any] | None, market: dict[str, Any], drift: dict[str, Any]
) -> list[str]:
    if previous is None:
        return []
    out = []
    pairs = (
        ("market regime", previous["market"].get("market_regime"), market["market_regime"]),
        ("sharpness", previous["market"].get("sharpness_status"), market["sharpness_status"]),
        ("drift severity", previous["drift"].get("drift_severity"), drift["drift_severity"]),
    )
    for name, before, now in pairs:
        if before is not None and now is not None and before != now:
            out.append(f"{name} changed: {before} -> {now}")
    return out


def _mode_version(rows: pd.DataFrame) -> int | None:
    if rows.empty:
        return None
    return int(rows["model_version"].mode().iloc[0])


def _store(con: duckdb.DuckDBPyConnection, d: Diagnostic) -> None:
    mk, dr, q = d.market, d.drift, d.quality
    con.execute(
        """
        INSERT OR REPLACE INTO monitoring.diagnostic VALUES (
            ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
            ?, ?, ?, ?, ?, ?, ?, now())
        """,
        [
            d.game_date,
            d.system_id,
            d.market_name,
            d.model_version,
            mk["n_lined"],
            mk["line_mae"],
            mk["line_mae_7d"],
            mk["model_beats_line_share"],
            mk["model_beats_line_share_7d"],
            mk["sharpness_score"],
            mk["sharpness_status"],
            mk["market_regime"],
            dr["hit_rate_7d"],
            dr["bets_7d"],
            dr["hit_rate_14d"],
            dr["bets_14d"],
            dr["hit_rate_30d"],
            dr["bets_30d"],
            dr["mae_7d"],
            dr["mean_signed_error_7d"],
            dr["bias"],
            dr["drift_score"],
            dr["drift_severity"],
            q["feature_completeness"],
            q["defaulted_rate"],
            q["days_since_box_score"],
            q["days_since_line"],
            [date.fromisoformat(x) for x in q["missing_dates"]],
            len(q["phase_failures"]),
            q["staleness_days"],
            d.primary_cause,
            d.confidence,
            d.conditions,
            json.dumps(
                {
                    "market": mk,
                    "drift": dr,
                    "quality": q,
                    "factors": d.factors,
                    "conditions": d.conditions,
                    "primary_cause": d.primary_cause,
                    "confidence": d.confidence,
                },
                default=str,
            ),
        ],
    )


class _VersionCache:
    def __init__(self, con: duckdb.DuckDBPyConnection, artifacts_dir: Path | None) -> None:
        self.con = con
        self.artifacts_dir = artifacts_dir
        self.versions: dict[tuple[str, int], ModelVersion | None] = {}
        self.references: dict[tuple[str, int], pd.DataFrame | None] = {}

    def version(self, system: str, number: int | None) -> ModelVersion | None:
        if number is None:
            return None
        key = (system, number)
        if key not in self.versions:
            try:
                self.versions[key] = get_version(
                    self.con, system, number, artifacts_dir=self.artifacts_dir
                )
            except NbapropsError:
                self.versions[key] = None
        return self.versions[key]

    def reference(self, version: ModelVersion | None) -> pd.DataFrame | None:
        if version is None:
            return None
        key = (version.system_id, version.version)
        if key not in self.references:
            try:
                self.references[key] = reference_rows(version)
            except (NbapropsError, OSError, ValueError):
                self.references[key] = None
        return self.references[key]


def diagnose_range(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    first: date,
    last: date,
    *,
    systems: Iterable[str] | None = None,
    progress: Callable[[date], None] | None = None,
    market: str = DEFAULT_MARKET,
) -> list[Diagnostic]:
    """Diagnose every date of [first, last] with predictions in ``market`` (and any date
    with games since a system's first prediction of the season), store the rows, raise
    the alerts."""
    market = get_market(market).name
    if last < first:
        raise NbapropsError(f"--end {last} is before --start {first}")
    rows = con.execute(_PREDICTIONS_SQL, [first - timedelta(days=LOOKBACK_DAYS), last, market]).df()
    if systems is not None:
        wanted = set(systems)
        rows = rows[rows["system_id"].isin(wanted)]
    rows["game_date"] = pd.to_datetime(rows["game_date"]).dt.date
    seasons: dict[str, Season] = {}
    cache = _VersionCache(con, settings.paths.artifacts_dir)
    out: list[Diagnostic] = []
    day = first
    by_system = dict(list(rows.groupby("system_id")))
    while day <= last:
        season_key = season_of(con, day)
        if season_key not in seasons:
            season_end = con.execute(
                "SELECT max(game_date) FROM core.game WHERE season = ?", [season_key]
            ).fetchone()
            seasons[season_key] = read_season(
                con,
                season_key,
                min(last, season_end[0]),
                settings.alerts.alert_min_graded_share,
                market,
            )
        season = seasons[season_key]
        failures = recent_phase_failures(con, day)
        for system, srows in sorted(by_system.items()):
            start = season.first_prediction.get(system)
            has_games = day in set(season.game_dates)
            day_rows = srows[srows["game_date"] == day]
            if day_rows.empty and not (has_games and start is not None and start <= day):
                continue
            d = _diagnose_one(con, settings, day, system, srows, season, failures, cache, market)
            out.append(d)
        if progress is not None:
            progress(day)
        day += timedelta(days=1)
    return out


def _diagnose_one(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    system: str,
    srows: pd.DataFrame,
    season: Season,
    failures: list[dict[str, Any]],
    cache: _VersionCache,
    market_name: str = DEFAULT_MARKET,
) -> Diagnostic:
    def window(days: int) -> pd.DataFrame:
        return srows[
            (srows["game_date"] > day - timedelta(days=days)) & (srows["game_date"] <= day)
        ]

    day_rows = srows[srows["game_date"] == day]
    windows = {w: window(w) for w in WINDOWS}
    number = _mode_version(day_rows) if len(day_rows) else _mode_version(windows[30])
    version = cache.version(system, number)
    catalog = get_market(market_name)
    market = market_sharpness(day_rows, windows[7], catalog)
    drift = model_drift(windows, cache.reference(version), catalog.error_scale)
    quality = data_quality(day, system, day_rows, season, version, failures, settings)
    qfactors = quality_factors(quality, day, settings)
    trailing = srows[
        (srows["game_date"] > day - timedelta(days=37))
        & (srows["game_date"] <= day - timedelta(days=7))
    ]
    baseline = baseline_of(cache.reference(version), trailing)
    cause, confidence, factors = attribute(market, drift, baseline, qfactors, settings)
    conditions = conditions_of(market, drift, quality, settings)
    label = system_label(system, market_name)
    diag = Diagnostic(
        game_date=day,
        system_id=system,
        model_version=number,
        market=market,
        drift=drift,
        quality=quality,
        primary_cause=cause,
        confidence=float(confidence),
        factors=factors,
        conditions=[c[1] for c in conditions],
        market_name=market_name,
    )
    previous = _previous(con, system, day, market_name)
    with transaction(con):
        for severity, code, message in conditions:
            if not _should_raise(con, previous, severity, code, system, day, market_name):
                continue
            diag.alerts.append(
                raise_alert(
                    con,
                    severity,
                    f"diagnose:{code}",
                    f"{label} on {day}: {message} [cause: {cause}, confidence "
                    f"{confidence:.2f}; {_n_text(drift)}]",
                    game_date=day,
                    system_id=system,
                    market=market_name,
                )
            )
        for change in _notable_changes(None if previous is None else previous[1], market, drift):
            if not _already(con, "diagnose:change", system, day, change, market_name):
                diag.alerts.append(
                    raise_alert(
                        con,
                        "INFO",
                        "diagnose:change",
                        f"{label} on {day}: {change} [{_n_text(drift)}]",
                        game_date=day,
                        system_id=system,
                        market=market_name,
                    )
                )
        _store(con, diag)
    return diag


def _n_text(drift: dict[str, Any]) -> str:
    return (
        f"N = {drift.get('bets_7d', 0)} graded bets over 7 days, "
        f"{drift.get('bets_30d', 0)} over 30 days"
    )


def _already(
    con: duckdb.DuckDBPyConnection,
    source: str,
    system: str,
    day: date,
    text: str | None = None,
    market: str = DEFAULT_MARKET,
) -> bool:
    row = con.execute(
        """
        SELECT count(*) FROM monitoring.alert
        WHERE source = ? AND system_id = ? AND game_date = ?
          AND (CAST(? AS VARCHAR) IS NULL OR contains(message, ?))
          AND coalesce(market, 'points') = ?
        """,
        [source, system, day, text, text, market],
    ).fetchone()
    return bool(row and row[0])


def _should_raise(
    con: duckdb.DuckDBPyConnection,
    previous: tuple[date, dict[str, Any]] | None,
    severity: str,
    code: str,
    system: str,
    day: date,
    market: str = DEFAULT_MARKET,
) -> bool:
    """CRITICAL every date it holds; a WARNING (or INFO) when it starts (it did not hold
    on the previous diagnosed date), when its severity changed (an INFO on a few bets
    becoming a WARNING once N is enough), and again every ``REMIND_EVERY_DAYS`` while it
    persists. Never twice for the same date, system, market and condition (rediagnosing is
    idempotent)."""
    source = f"diagnose:{code}"
    if _already(con, source, system, day, market=market):
        return False
    if severity == "CRITICAL" or previous is None:
        return True
    _, prev = previous
    if code not in prev.get("conditions", []):
        return True
    # the last alert before this date (a rediagnosis of an earlier date must not compare
    # against alerts raised for later dates)
    last = con.execute(
        """
        SELECT game_date, severity FROM monitoring.alert
        WHERE source = ? AND system_id = ? AND game_date < ?
          AND coalesce(market, 'points') = ?
        ORDER BY game_date DESC, raised_at DESC LIMIT 1
        """,
        [source, system, day, market],
    ).fetchone()
    if last is None or last[0] is None or last[1] != severity:
        return True
    return (day - last[0]).days >= REMIND_EVERY_DAYS


def diagnose_date(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date, market: str = DEFAULT_MARKET
) -> list[Diagnostic]:
    return diagnose_range(con, settings, day, day, market=market)


def stored_diagnostics(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    market: str | None = DEFAULT_MARKET,
) -> pd.DataFrame:
    """The stored rows of [first, last] (without ``details``) in ``market`` (None: every
    market), by date, system and market."""
    return con.execute(
        "SELECT * EXCLUDE (details) FROM monitoring.diagnostic "
        "WHERE game_date BETWEEN ? AND ? AND (CAST(? AS VARCHAR) IS NULL OR market = ?) "
        "ORDER BY game_date, system_id, market",
        [first, last, market, market],
    ).df()


def latest_diagnostics(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Each system's most recent diagnosis in each market: date, cause, confidence,
    active conditions."""
    frame = con.execute(
        """
        SELECT CAST(game_date AS VARCHAR) AS game_date, system_id, market, model_version,
               primary_cause, confidence, conditions, hit_rate_7d, bets_7d,
               model_beats_line_share_7d, drift_score, len(missing_dates) AS n_missing_dates
        FROM monitoring.diagnostic
        QUALIFY row_number() OVER (PARTITION BY system_id, market ORDER BY game_date DESC) = 1
        ORDER BY system_id, market = 'points' DESC, market
        """
    ).df()
    return [
        {k: (list(v) if k == "conditions" else json_safe(v)) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
