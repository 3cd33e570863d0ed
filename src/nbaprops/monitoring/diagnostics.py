"""Daily diagnostics: did the market get sharper, the model drift, or the data go bad?

One row per date and system (``monitoring.diagnostic``), computed from what the daily
job stored: active out-of-sample predictions, their grades, grading completeness,
phase records, the model registry (each version's training end and walk-forward
reference rows) and the warehouse's own box scores, games and line snapshots.

**Market sharpness** (lined, played player-games): the line's MAE against actual points
by line tier (< 12, 12–20, > 20), the share of player-games where the model's median was
strictly closer to the result than the line, and a 0–100 score, the mean of

- ``a = clip((6.5 - line MAE 7d) / (6.5 - 4.0), 0, 1)`` (a line that misses by less is
  sharper), and
- ``b = clip((0.55 - model-beats-line share 7d) / 0.20, 0, 1)`` (a model that beats it
  less often faces a sharper line),

with a status dull < 30 ≤ normal < 60 ≤ sharp < 80 ≤ razor_sharp; the market regime is
TIGHT when the 7-day line MAE is < 4.5, LOOSE when ≥ 6.5, else NORMAL.

**Model drift**: hit rates over 7/14/30 days with N (real lines only), MAE and mean
signed error (prediction − actual) over 7 days on lined played rows with a bias direction
at ±0.5, and a 0–100 drift score of the last 30 days against the version's own
walk-forward reference rows (stored with its registry version; the same lined, played
population on both sides): ``100 × (0.4·mae + 0.4·direction + 0.2·bias)`` where
``mae = clip(ΔMAE / 1.0)``, ``direction = clip(drop in the share of games called on the
right side of the line / 0.10)``, ``bias = clip((|bias| - |reference bias|) / 1.5)``.
Severity none < 20 ≤ minor < 40 ≤ moderate < 70 ≤ severe. A version whose reference
holds fewer than ``MIN_REFERENCE_ROWS`` lined rows has no drift score (said so).

**Data quality**: the date's feature completeness and defaulted-feature rate, days since
the last box score and the last line snapshot, every date of the season (from the
system's first prediction of the season) with games but no predictions, no complete
grading, or final games without box scores — the whole season, never a recent window —,
failed phases over 7 days, and days since the version's training end against the
retrain cadence.

**Attribution** (``attribute``): data quality first (it invalidates the rest); else none
when nothing is degraded; else model drift when the drift score is past its threshold;
else sample size when the dip is within 1.96 standard errors of its expectation; else
the change of the model-minus-line MAE gap against a baseline (the version's reference,
or the system's 30 days before the week) split into "the line got better" (market
sharpness) and "the model got worse" (model drift), the larger part winning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.db import transaction
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import get_feature_set
from nbaprops.models.registry import ModelVersion, get_version, reference_rows
from nbaprops.monitoring.alerts import raise_alert

TIERS = (("lt12", -math.inf, 12.0), ("12to20", 12.0, 20.0), ("gt20", 20.0, math.inf))
REGIME_TIGHT = 4.5
REGIME_LOOSE = 6.5
SHARP_MAE_HIGH, SHARP_MAE_LOW = 6.5, 4.0
SHARP_BEAT_HIGH, SHARP_BEAT_SPAN = 0.55, 0.20
SHARPNESS_STATUS = ((30.0, "dull"), (60.0, "normal"), (80.0, "sharp"), (math.inf, "razor_sharp"))
BIAS_POINTS = 0.5
DRIFT_SEVERITY = ((20.0, "none"), (40.0, "minor"), (70.0, "moderate"), (math.inf, "severe"))
MIN_REFERENCE_ROWS = 100
MIN_DRIFT_ROWS = 50  # lined played rows in the 30-day window before a drift score
WINDOWS = (7, 14, 30)
LOOKBACK_DAYS = 37  # the 30-day window and the trailing baseline before the week
COMPLETENESS_WARN = 0.90
FRESHNESS_DAYS = 2  # box score / line snapshot older than this (on a date with games)
REMIND_EVERY_DAYS = 7  # a persisting WARNING is raised again after this many days
# Dates whose games the daily job must cover. The NBA Cup final is left out: it does
# not count toward player statistics, so the box-score source never holds it.
GAME_SEASON_TYPES = ("regular", "playin", "playoffs")
CAUSES = ("none", "market_sharpness", "model_drift", "data_quality", "sample_size")

_PREDICTIONS_SQL = """
SELECT p.system_id, p.game_date, p.model_version, p.line_source, p.line, p.median,
       p.recommendation, p.n_defaulted, g.actual_points AS actual,
       g.direction_vs_consensus AS result
FROM predictions.prediction p LEFT JOIN grading.grade g USING (prediction_id)
WHERE p.is_active AND NOT p.in_sample AND p.game_date BETWEEN ? AND ?
"""


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def _status(score: float | None, table: tuple[tuple[float, str], ...]) -> str | None:
    if score is None:
        return None
    return next(name for bound, name in table if score < bound)


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

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["game_date"] = str(self.game_date)
        return out


# --- inputs ---------------------------------------------------------------------------


@dataclass
class _Season:
    """What the season of the diagnosed dates holds, read once per run."""

    game_dates: list[date]  # dates with (non-preseason) games
    final_without_box: set[date]  # final games with no box-score row at all
    first_prediction: dict[str, date]  # per system, in the season
    prediction_dates: dict[str, set[date]]
    graded_ok: dict[str, set[date]]  # completeness at or above the settings' share
    box_dates: list[date]  # dates with box-score rows (sorted)
    line_dates: list[date]  # dates with line snapshots (sorted)


def _season_of(con: duckdb.DuckDBPyConnection, day: date) -> str:
    row = con.execute(
        "SELECT season FROM core.game WHERE game_date <= ? ORDER BY game_date DESC LIMIT 1",
        [day],
    ).fetchone()
    if row is None:
        raise NbapropsError(f"no games on or before {day}: nothing to diagnose")
    return str(row[0])


def _season(
    con: duckdb.DuckDBPyConnection, season: str, last: date, min_graded_share: float
) -> _Season:
    types = list(GAME_SEASON_TYPES)
    games = con.execute(
        """
        SELECT g.game_date, bool_or(g.status = 'final' AND NOT EXISTS (
                   SELECT 1 FROM core.player_game b WHERE b.game_id = g.game_id)) AS no_box
        FROM core.game g
        WHERE g.season = ? AND list_contains(?, g.season_type) AND g.game_date <= ?
        GROUP BY 1 ORDER BY 1
        """,
        [season, types, last],
    ).fetchall()
    first_day = games[0][0] if games else last
    preds = con.execute(
        """
        SELECT DISTINCT system_id, game_date FROM predictions.prediction
        WHERE is_active AND NOT in_sample AND game_date BETWEEN ? AND ?
        """,
        [first_day, last],
    ).fetchall()
    graded = con.execute(
        """
        SELECT system_id, game_date FROM grading.completeness
        WHERE game_date BETWEEN ? AND ? AND predicted > 0
          AND (graded + void) / predicted >= ?
        """,
        [first_day, last, min_graded_share],
    ).fetchall()
    prediction_dates: dict[str, set[date]] = {}
    for system, day in preds:
        prediction_dates.setdefault(system, set()).add(day)
    graded_ok: dict[str, set[date]] = {}
    for system, day in graded:
        graded_ok.setdefault(system, set()).add(day)
    box = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.player_game WHERE game_date <= ? ORDER BY 1",
            [last],
        ).fetchall()
    ]
    lines = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.prop_line_snapshot WHERE game_date <= ? "
            "ORDER BY 1",
            [last],
        ).fetchall()
    ]
    return _Season(
        game_dates=[g[0] for g in games],
        final_without_box={g[0] for g in games if g[1]},
        first_prediction={s: min(d) for s, d in prediction_dates.items()},
        prediction_dates=prediction_dates,
        graded_ok=graded_ok,
        box_dates=box,
        line_dates=lines,
    )


def _days_since(dates: list[date], day: date) -> int | None:
    i = int(np.searchsorted(np.array(dates, dtype="datetime64[D]"), np.datetime64(day), "right"))
    return None if i == 0 else (day - dates[i - 1]).days


def _phase_failures(con: duckdb.DuckDBPyConnection, day: date) -> list[dict[str, Any]]:
    rows = con.execute(
        """
        SELECT run_date, phase, status, error FROM pipeline.phase_run
        WHERE run_date BETWEEN ? AND ?
        QUALIFY row_number() OVER (PARTITION BY run_date, phase
                                   ORDER BY coalesce(started_at, finished_at) DESC NULLS LAST) = 1
        """,
        [day - timedelta(days=6), day],
    ).fetchall()
    return [
        {"run_date": str(r[0]), "phase": r[1], "status": r[2], "error": r[3]}
        for r in rows
        if r[2] == "FAILED"
    ]


# --- the three families ------------------------------------------------------------------


def _lined_played(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[
        (rows["line_source"] == "ACTUAL")
        & rows["actual"].notna()
        & rows["result"].notna()
        & (rows["result"] != "void")
    ]


def _beats_line(rows: pd.DataFrame) -> float | None:
    if rows.empty:
        return None
    model = (rows["actual"] - rows["median"]).abs()
    line = (rows["actual"] - rows["line"]).abs()
    return float((model < line).mean())


def market_sharpness(day_rows: pd.DataFrame, week_rows: pd.DataFrame) -> dict[str, Any]:
    day_lined, week_lined = _lined_played(day_rows), _lined_played(week_rows)
    tiers = {}
    for name, low, high in TIERS:
        t = day_lined[(day_lined["line"] >= low) & (day_lined["line"] < high)]
        tiers[name] = {
            "n": len(t),
            "line_mae": _f((t["actual"] - t["line"]).abs().mean()) if len(t) else None,
        }
    mae_7 = (week_lined["actual"] - week_lined["line"]).abs().mean() if len(week_lined) else None
    beat_7 = _beats_line(week_lined)
    score = None
    if mae_7 is not None and beat_7 is not None:
        a = np.clip((SHARP_MAE_HIGH - mae_7) / (SHARP_MAE_HIGH - SHARP_MAE_LOW), 0, 1)
        b = np.clip((SHARP_BEAT_HIGH - beat_7) / SHARP_BEAT_SPAN, 0, 1)
        score = float(100 * (a + b) / 2)
    regime = None
    if mae_7 is not None:
        regime = "TIGHT" if mae_7 < REGIME_TIGHT else "LOOSE" if mae_7 >= REGIME_LOOSE else "NORMAL"
    return {
        "n_lined": len(day_lined),
        "line_mae": _f((day_lined["actual"] - day_lined["line"]).abs().mean())
        if len(day_lined)
        else None,
        "line_mae_by_tier": tiers,
        "model_beats_line_share": _f(_beats_line(day_lined)),
        "n_lined_7d": len(week_lined),
        "line_mae_7d": _f(mae_7),
        "model_beats_line_share_7d": _f(beat_7),
        "sharpness_score": _f(score),
        "sharpness_status": _status(score, SHARPNESS_STATUS),
        "market_regime": regime,
    }


def _hit_rate(rows: pd.DataFrame) -> tuple[float | None, int, list[float | None]]:
    bets = rows[(rows["line_source"] == "ACTUAL") & rows["result"].isin(["right", "wrong"])]
    wins, n = int((bets["result"] == "right").sum()), len(bets)
    low, high = m.wilson_interval(wins, n)
    return (wins / n if n else None), n, [_f(low), _f(high)]


def _direction(rows: pd.DataFrame) -> float | None:
    """Share of lined played games (no push) where the median was on the result's side."""
    rows = rows[rows["actual"] != rows["line"]]
    if rows.empty:
        return None
    return float(
        (np.sign(rows["median"] - rows["line"]) == np.sign(rows["actual"] - rows["line"])).mean()
    )


def _errors(rows: pd.DataFrame) -> tuple[float | None, float | None]:
    if rows.empty:
        return None, None
    err = rows["median"] - rows["actual"]
    return float(err.abs().mean()), float(err.mean())


def model_drift(windows: dict[int, pd.DataFrame], reference: pd.DataFrame | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for days, rows in windows.items():
        rate, n, ci = _hit_rate(rows)
        out[f"hit_rate_{days}d"], out[f"bets_{days}d"], out[f"hit_rate_{days}d_ci"] = (
            _f(rate),
            n,
            ci,
        )
    week = _lined_played(windows[7])
    mae, bias = _errors(week)
    out["n_lined_7d"] = len(week)
    out["mae_7d"], out["mean_signed_error_7d"] = _f(mae), _f(bias)
    out["bias"] = (
        None
        if bias is None
        else "over"
        if bias > BIAS_POINTS
        else "under"
        if bias < -BIAS_POINTS
        else "neutral"
    )
    month = _lined_played(windows[30])
    out["n_lined_30d"] = len(month)
    out["drift_score"] = None
    out["drift_severity"] = None
    ref = None
    if reference is not None:
        ref = reference[reference["line"].notna() & reference["played"].astype(bool)]
        ref = ref[ref["actual"].notna()]
    out["n_reference"] = 0 if ref is None else len(ref)
    if ref is None or len(ref) < MIN_REFERENCE_ROWS:
        out["drift_reason"] = (
            f"reference holds {out['n_reference']} lined rows (< {MIN_REFERENCE_ROWS})"
        )
        return out
    if len(month) < MIN_DRIFT_ROWS:
        out["drift_reason"] = f"{len(month)} lined rows in 30 days (< {MIN_DRIFT_ROWS})"
        return out
    ref_mae, ref_bias = _errors(ref)
    cur_mae, cur_bias = _errors(month)
    ref_dir, cur_dir = _direction(ref), _direction(month)
    if ref_mae is None or cur_mae is None or ref_bias is None or cur_bias is None:
        out["drift_reason"] = "no lined rows to compare"
        return out
    c_mae = float(np.clip((cur_mae - ref_mae) / 1.0, 0, 1))
    c_dir = (
        float(np.clip((ref_dir - cur_dir) / 0.10, 0, 1))
        if ref_dir is not None and cur_dir is not None
        else 0.0
    )
    c_bias = float(np.clip((abs(cur_bias) - abs(ref_bias)) / 1.5, 0, 1))
    score = 100 * (0.4 * c_mae + 0.4 * c_dir + 0.2 * c_bias)
    out.update(
        {
            "drift_score": _f(score),
            "drift_severity": _status(score, DRIFT_SEVERITY),
            "reference": {
                "mae": _f(ref_mae),
                "mean_signed_error": _f(ref_bias),
                "direction_share": _f(ref_dir),
            },
            "current_30d": {
                "mae": _f(cur_mae),
                "mean_signed_error": _f(cur_bias),
                "direction_share": _f(cur_dir),
            },
            "components": {"mae": c_mae, "direction": c_dir, "bias": c_bias},
        }
    )
    return out


def data_quality(
    day: date,
    system: str,
    day_rows: pd.DataFrame,
    season: _Season,
    version: ModelVersion | None,
    phase_failures: list[dict[str, Any]],
    settings: Settings,
) -> dict[str, Any]:
    n = len(day_rows)
    n_features = None
    if version is not None:
        n_features = len(version.feature_columns) or None
    if n_features is None and version is not None:
        n_features = len(get_feature_set(version.feature_set_key).features)
    defaulted = (
        float(day_rows["n_defaulted"].sum() / (n * n_features)) if n and n_features else None
    )
    # Share of the date's feature values computed from history (not defaulted); rows with
    # every feature computed are reported beside it (optional features default often).
    completeness = None if defaulted is None else 1.0 - defaulted
    rows_complete = float((day_rows["n_defaulted"] == 0).mean()) if n else None
    start = season.first_prediction.get(system)
    dates = [d for d in season.game_dates if start is not None and start <= d <= day]
    predicted = season.prediction_dates.get(system, set())
    graded = season.graded_ok.get(system, set())
    no_predictions = [d for d in dates if d not in predicted]
    no_grading = [d for d in dates if d in predicted and d not in graded]
    no_box = sorted(d for d in season.final_without_box if d <= day)
    missing = sorted(set(no_predictions) | set(no_grading) | set(no_box))
    before = [d for d in season.game_dates if start is None or d < start]
    staleness = None if version is None else (day - version.train_end).days
    cadence = settings.alerts.retrain_cadence_days
    return {
        "n_predictions": n,
        "feature_completeness": _f(completeness),
        "defaulted_rate": _f(defaulted),
        "rows_fully_complete": _f(rows_complete),
        "days_since_box_score": _days_since(season.box_dates, day),
        "days_since_line": _days_since(season.line_dates, day),
        "season_first_prediction": None if start is None else str(start),
        "season_dates_before_first_prediction": len(before),
        "missing_dates": [str(d) for d in missing],
        "dates_without_predictions": [str(d) for d in no_predictions],
        "dates_without_grading": [str(d) for d in no_grading],
        "dates_without_box_scores": [str(d) for d in no_box],
        "phase_failures": phase_failures,
        "staleness_days": staleness,
        "retrain_cadence_days": cadence,
        "stale": staleness is not None and staleness > settings.alerts.alert_stale_factor * cadence,
        "train_end": None if version is None else str(version.train_end),
    }


# --- attribution and alerts ---------------------------------------------------------------


def _quality_factors(q: dict[str, Any], day: date, settings: Settings) -> list[dict[str, Any]]:
    factors = []
    recent = [d for d in q["missing_dates"] if date.fromisoformat(d) > day - timedelta(days=7)]
    if q["missing_dates"]:
        factors.append(
            {
                "factor": "missing_dates",
                "value": len(q["missing_dates"]),
                "in_last_7_days": len(recent),
                "dates": q["missing_dates"][-10:],
            }
        )
    if q["feature_completeness"] is not None and q["feature_completeness"] < COMPLETENESS_WARN:
        factors.append(
            {
                "factor": "feature_completeness",
                "value": q["feature_completeness"],
                "threshold": COMPLETENESS_WARN,
            }
        )
    for key in ("days_since_box_score", "days_since_line"):
        if q[key] is not None and q[key] > FRESHNESS_DAYS:
            factors.append({"factor": key, "value": q[key], "threshold": FRESHNESS_DAYS})
    if q["phase_failures"]:
        factors.append({"factor": "phase_failures", "value": len(q["phase_failures"])})
    if q["stale"]:
        factors.append(
            {
                "factor": "model_staleness",
                "value": q["staleness_days"],
                "threshold": settings.alerts.alert_stale_factor
                * settings.alerts.retrain_cadence_days,
            }
        )
    return factors


def baseline_of(reference: pd.DataFrame | None, trailing: pd.DataFrame) -> dict[str, Any] | None:
    """What the last 7 days are compared with: the version's walk-forward reference rows
    when it holds enough lined rows, else the system's own 30 days before the week."""
    source, rows = "reference", None
    if reference is not None:
        rows = reference[reference["line"].notna() & reference["played"].astype(bool)]
        rows = rows[rows["actual"].notna()]
    if rows is None or len(rows) < MIN_REFERENCE_ROWS:
        source, rows = "trailing_30d", _lined_played(trailing)
    if len(rows) < MIN_DRIFT_ROWS:
        return None
    return {
        "source": source,
        "n": len(rows),
        "model_mae": _f((rows["median"] - rows["actual"]).abs().mean()),
        "line_mae": _f((rows["line"] - rows["actual"]).abs().mean()),
        "beats_line_share": _f(_beats_line(rows)),
    }


def _z_below(expected: float, observed: float, n: int) -> float:
    se = math.sqrt(max(expected * (1 - expected), 1e-9) / n)
    return (expected - observed) / se


def attribute(
    market: dict[str, Any],
    drift: dict[str, Any],
    baseline: dict[str, Any] | None,
    quality_factors: list[dict[str, Any]],
    settings: Settings,
) -> tuple[str, float, list[dict[str, Any]]]:
    """The primary cause, a confidence in [0, 1], and the factors with their numbers.

    Data quality comes first (a missing date counts when it falls in the 7-day window
    the other figures read; older ones stay listed as factors). Otherwise, when the last
    7 days are degraded (hit rate, share of games beating the line, or drift past their
    thresholds): a drift score at
    the warning threshold is model drift; a dip within 1.96 standard errors of its
    expectation is sample size; else the change of the model-minus-line MAE gap against
    the baseline is split into the line getting better (market sharpness) and the model
    getting worse (model drift), and the larger part wins with its share as confidence.
    """
    factors = list(quality_factors)
    hit, n_bets = drift["hit_rate_7d"], drift["bets_7d"]
    beat, n_lined = market["model_beats_line_share_7d"], market["n_lined_7d"]
    score = drift["drift_score"]
    degraded = []
    if hit is not None and hit < settings.alerts.alert_warn_hit_rate:
        degraded.append({"factor": "hit_rate_7d", "value": hit, "n": n_bets})
    if beat is not None and beat < settings.alerts.alert_warn_beat_share:
        degraded.append({"factor": "model_beats_line_share_7d", "value": beat, "n": n_lined})
    if score is not None and score >= settings.alerts.alert_warn_drift:
        degraded.append({"factor": "drift_score", "value": score})
    factors += degraded
    serious_quality = [
        f
        for f in quality_factors
        if f["factor"] != "missing_dates" or f.get("in_last_7_days", 0) > 0
    ]
    if serious_quality:
        return "data_quality", min(0.95, 0.6 + 0.1 * len(serious_quality)), factors
    if not degraded:
        return "none", round(min(1.0, n_lined / 300), 3), factors
    if score is not None and score >= settings.alerts.alert_warn_drift:
        return "model_drift", round(min(0.95, 0.5 + score / 200), 3), factors
    z = []
    if hit is not None and n_bets:
        z_hit = _z_below(settings.alerts.alert_warn_hit_rate, hit, n_bets)
        factors.append({"factor": "hit_rate_z_below_break_even", "value": round(z_hit, 3)})
        z.append(z_hit)
    if beat is not None and n_lined:
        expected = (
            baseline["beats_line_share"]
            if baseline and baseline["beats_line_share"] is not None
            else settings.alerts.alert_warn_beat_share
        )
        z_beat = _z_below(expected, beat, n_lined)
        factors.append(
            {
                "factor": "beats_line_z_below_baseline",
                "value": round(z_beat, 3),
                "baseline": expected,
            }
        )
        z.append(z_beat)
    worst = max(z) if z else 0.0
    if n_bets < settings.alerts.alert_min_bets or worst < 1.96:
        return "sample_size", round(1 - max(worst, 0.0) / 1.96 / 2, 3), factors
    model_now, line_now = drift["mae_7d"], market["line_mae_7d"]
    if baseline is None or model_now is None or line_now is None:
        return "sample_size", 0.5, factors
    d_model = model_now - baseline["model_mae"]
    d_line = line_now - baseline["line_mae"]
    market_part, model_part = max(0.0, -d_line), max(0.0, d_model)
    factors.append(
        {
            "factor": "gap_decomposition",
            "baseline": baseline,
            "model_mae_change": round(d_model, 4),
            "line_mae_change": round(d_line, 4),
        }
    )
    total = market_part + model_part
    if total == 0:
        return "sample_size", 0.5, factors
    if market_part >= model_part:
        return "market_sharpness", round(market_part / total, 3), factors
    return "model_drift", round(model_part / total, 3), factors


def conditions_of(
    market: dict[str, Any], drift: dict[str, Any], quality: dict[str, Any], settings: Settings
) -> list[tuple[str, str, str]]:
    """(severity, code, message) for every alert condition active on the date. Hit-rate
    conditions need ``alert_min_bets`` bets in the 7 days; every performance condition
    (hit rate, beating the line, drift) states its N and, on fewer graded bets than
    ``alert_min_graded_bets`` in its window (7 days; 30 for drift), is INFO."""
    out = []
    beat, hit, n = market["model_beats_line_share_7d"], drift["hit_rate_7d"], drift["bets_7d"]
    hit_text = "n/a" if hit is None else f"{hit:.1%} on {n} bets"
    if n < settings.alerts.alert_min_bets:
        hit = None  # a hit rate on a handful of bets is no evidence either way
    if (
        beat is not None
        and hit is not None
        and beat < settings.alerts.alert_critical_beat_share
        and hit < settings.alerts.alert_critical_hit_rate
    ):
        out.append(
            (
                "CRITICAL",
                "beats_line_and_hit_rate",
                f"model beat the line on {beat:.1%} of player-games over 7 days "
                f"(< {settings.alerts.alert_critical_beat_share:.0%}) and hit {hit_text} "
                f"(< {settings.alerts.alert_critical_hit_rate:.0%})",
            )
        )
    score = drift["drift_score"]
    if score is not None and score >= settings.alerts.alert_warn_drift:
        out.append(
            (
                "WARNING",
                "drift",
                f"drift score {score:.0f} ({drift['drift_severity']}) vs reference",
            )
        )
    if beat is not None and beat < settings.alerts.alert_warn_beat_share:
        out.append(
            (
                "WARNING",
                "beats_line",
                f"model beat the line on {beat:.1%} of player-games over 7 days "
                f"(< {settings.alerts.alert_warn_beat_share:.0%})",
            )
        )
    if hit is not None and hit < settings.alerts.alert_warn_hit_rate:
        out.append(
            (
                "WARNING",
                "hit_rate_7d",
                f"7-day hit rate {hit_text} (< {settings.alerts.alert_warn_hit_rate:.1%})",
            )
        )
    if quality["dates_without_grading"]:
        dates = quality["dates_without_grading"]
        out.append(
            (
                "WARNING",
                "graded_completeness",
                f"graded below {settings.alerts.alert_min_graded_share:.0%} "
                f"on {len(dates)} date(s): " + ", ".join(dates[-10:]),
            )
        )
    missing = sorted(
        set(quality["dates_without_predictions"]) | set(quality["dates_without_box_scores"])
    )
    if missing:
        parts = []
        if quality["dates_without_predictions"]:
            parts.append("no predictions: " + ", ".join(quality["dates_without_predictions"][-10:]))
        if quality["dates_without_box_scores"]:
            parts.append(
                "final games without box scores: "
                + ", ".join(quality["dates_without_box_scores"][-10:])
            )
        out.append(
            (
                "WARNING",
                "missing_dates",
                f"{len(missing)} missing date(s) this season; " + "; ".join(parts),
            )
        )
    if quality["stale"]:
        out.append(
            (
                "WARNING",
                "stale_model",
                f"model trained to {quality['train_end']}: {quality['staleness_days']} days old "
                f"(> {settings.alerts.alert_stale_factor:g} x "
                f"{quality['retrain_cadence_days']}-day cadence)",
            )
        )
    return [_gated(c, drift, settings) for c in out]


# Conditions judged on graded outcomes, and the window of graded bets each rests on.
PERFORMANCE_WINDOWS = {
    "beats_line_and_hit_rate": 7,
    "beats_line": 7,
    "hit_rate_7d": 7,
    "drift": 30,
}


def condition_n(code: str, drift: dict[str, Any]) -> int | None:
    """The graded bets a performance condition rests on (None: not a performance one)."""
    days = PERFORMANCE_WINDOWS.get(code)
    if days is None:
        return None
    return int(drift.get(f"bets_{days}d", drift.get("bets_7d")) or 0)


def _gated(
    condition: tuple[str, str, str], drift: dict[str, Any], settings: Settings
) -> tuple[str, str, str]:
    """A performance condition states its N; on fewer than ``alert_min_graded_bets``
    graded bets it is INFO (the first graded days cannot tell drift from luck)."""
    severity, code, message = condition
    n = condition_n(code, drift)
    if n is None:
        return condition
    days = PERFORMANCE_WINDOWS[code]
    message = f"{message}; N = {n} graded bets over {days} days"
    if n < settings.alerts.alert_min_graded_bets and severity != "INFO":
        severity = "INFO"
        message += (
            f" (fewer than the {settings.alerts.alert_min_graded_bets} a warning needs, "
            "so INFO: not yet evidence)"
        )
    return severity, code, message


# --- the run ---------------------------------------------------------------------------


def _previous(
    con: duckdb.DuckDBPyConnection, system: str, day: date
) -> tuple[date, dict[str, Any]] | None:
    row = con.execute(
        """
        SELECT game_date, details FROM monitoring.diagnostic
        WHERE system_id = ? AND game_date < ? ORDER BY game_date DESC LIMIT 1
        """,
        [system, day],
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
            ?, ?, ?, ?, ?, ?, now())
        """,
        [
            d.game_date,
            d.system_id,
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
) -> list[Diagnostic]:
    """Diagnose every date of [first, last] with predictions (and any date with games
    since a system's first prediction of the season), store the rows, raise the alerts."""
    if last < first:
        raise NbapropsError(f"--end {last} is before --start {first}")
    rows = con.execute(_PREDICTIONS_SQL, [first - timedelta(days=LOOKBACK_DAYS), last]).df()
    if systems is not None:
        wanted = set(systems)
        rows = rows[rows["system_id"].isin(wanted)]
    rows["game_date"] = pd.to_datetime(rows["game_date"]).dt.date
    seasons: dict[str, _Season] = {}
    cache = _VersionCache(con, settings.paths.artifacts_dir)
    out: list[Diagnostic] = []
    day = first
    by_system = dict(list(rows.groupby("system_id")))
    while day <= last:
        season_key = _season_of(con, day)
        if season_key not in seasons:
            season_end = con.execute(
                "SELECT max(game_date) FROM core.game WHERE season = ?", [season_key]
            ).fetchone()
            seasons[season_key] = _season(
                con, season_key, min(last, season_end[0]), settings.alerts.alert_min_graded_share
            )
        season = seasons[season_key]
        failures = _phase_failures(con, day)
        for system, srows in sorted(by_system.items()):
            start = season.first_prediction.get(system)
            has_games = day in set(season.game_dates)
            day_rows = srows[srows["game_date"] == day]
            if day_rows.empty and not (has_games and start is not None and start <= day):
                continue
            d = _diagnose_one(con, settings, day, system, srows, season, failures, cache)
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
    season: _Season,
    failures: list[dict[str, Any]],
    cache: _VersionCache,
) -> Diagnostic:
    def window(days: int) -> pd.DataFrame:
        return srows[
            (srows["game_date"] > day - timedelta(days=days)) & (srows["game_date"] <= day)
        ]

    day_rows = srows[srows["game_date"] == day]
    windows = {w: window(w) for w in WINDOWS}
    number = _mode_version(day_rows) if len(day_rows) else _mode_version(windows[30])
    version = cache.version(system, number)
    market = market_sharpness(day_rows, windows[7])
    drift = model_drift(windows, cache.reference(version))
    quality = data_quality(day, system, day_rows, season, version, failures, settings)
    qfactors = _quality_factors(quality, day, settings)
    trailing = srows[
        (srows["game_date"] > day - timedelta(days=37))
        & (srows["game_date"] <= day - timedelta(days=7))
    ]
    baseline = baseline_of(cache.reference(version), trailing)
    cause, confidence, factors = attribute(market, drift, baseline, qfactors, settings)
    conditions = conditions_of(market, drift, quality, settings)
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
    )
    previous = _previous(con, system, day)
    with transaction(con):
        for severity, code, message in conditions:
            if not _should_raise(con, previous, severity, code, system, day):
                continue
            diag.alerts.append(
                raise_alert(
                    con,
                    severity,
                    f"diagnose:{code}",
                    f"{system} on {day}: {message} [cause: {cause}, confidence "
                    f"{confidence:.2f}; {_n_text(drift)}]",
                    game_date=day,
                    system_id=system,
                )
            )
        for change in _notable_changes(None if previous is None else previous[1], market, drift):
            if not _already(con, "diagnose:change", system, day, change):
                diag.alerts.append(
                    raise_alert(
                        con,
                        "INFO",
                        "diagnose:change",
                        f"{system} on {day}: {change} [{_n_text(drift)}]",
                        game_date=day,
                        system_id=system,
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
    con: duckdb.DuckDBPyConnection, source: str, system: str, day: date, text: str | None = None
) -> bool:
    row = con.execute(
        """
        SELECT count(*) FROM monitoring.alert
        WHERE source = ? AND system_id = ? AND game_date = ?
          AND (CAST(? AS VARCHAR) IS NULL OR contains(message, ?))
        """,
        [source, system, day, text, text],
    ).fetchone()
    return bool(row and row[0])


def _should_raise(
    con: duckdb.DuckDBPyConnection,
    previous: tuple[date, dict[str, Any]] | None,
    severity: str,
    code: str,
    system: str,
    day: date,
) -> bool:
    """CRITICAL every date it holds; a WARNING (or INFO) when it starts (it did not hold
    on the previous diagnosed date), when its severity changed (an INFO on a few bets
    becoming a WARNING once N is enough), and again every ``REMIND_EVERY_DAYS`` while it
    persists. Never twice for the same date, system and condition (rediagnosing is
    idempotent)."""
    source = f"diagnose:{code}"
    if _already(con, source, system, day):
        return False
    if severity == "CRITICAL" or previous is None:
        return True
    _, prev = previous
    if code not in prev.get("conditions", []):
        return True
    # the last alert before this date (a rediagnosis of an earlier date must not compare
    # against alerts raised for later dates)
    last = con.execute(
        "SELECT game_date, severity FROM monitoring.alert WHERE source = ? AND system_id = ? "
        "AND game_date < ? ORDER BY game_date DESC, raised_at DESC LIMIT 1",
        [source, system, day],
    ).fetchone()
    if last is None or last[0] is None or last[1] != severity:
        return True
    return (day - last[0]).days >= REMIND_EVERY_DAYS


def diagnose_date(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date
) -> list[Diagnostic]:
    return diagnose_range(con, settings, day, day)


def stored_diagnostics(con: duckdb.DuckDBPyConnection, first: date, last: date) -> pd.DataFrame:
    return con.execute(
        "SELECT * EXCLUDE (details) FROM monitoring.diagnostic "
        "WHERE game_date BETWEEN ? AND ? ORDER BY game_date, system_id",
        [first, last],
    ).df()


def latest_diagnostics(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Each system's most recent diagnosis: date, cause, confidence, active conditions."""
    frame = con.execute(
        """
        SELECT CAST(game_date AS VARCHAR) AS game_date, system_id, model_version,
               primary_cause, confidence, conditions, hit_rate_7d, bets_7d,
               model_beats_line_share_7d, drift_score, len(missing_dates) AS n_missing_dates
        FROM monitoring.diagnostic
        QUALIFY row_number() OVER (PARTITION BY system_id ORDER BY game_date DESC) = 1
        ORDER BY system_id
        """
    ).df()
    return [
        {k: (list(v) if k == "conditions" else _clean(v)) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value
