"""Attribution of a dip to one primary cause, and the alert conditions.

**Attribution** (``attribute``): data quality first (it invalidates the rest); else none
when nothing is degraded; else model drift when the drift score is past its threshold;
else sample size when the dip is within 1.96 standard errors of its expectation; else
the change of the model-minus-line MAE gap against a baseline (the version's reference,
or the system's 30 days before the week) split into "the line got better" (market
sharpness) and "the model got worse" (model drift), the larger part winning.

The alert conditions of a diagnosis (``conditions_of``) are judged here too.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd

from nbaprops.core.settings import Settings
from nbaprops.monitoring.diagnostics.common import lined_played, rounded
from nbaprops.monitoring.diagnostics.data import COMPLETENESS_WARN, FRESHNESS_DAYS
from nbaprops.monitoring.diagnostics.market import beats_line
from nbaprops.monitoring.diagnostics.model import MIN_DRIFT_ROWS, MIN_REFERENCE_ROWS

CAUSES = ("none", "market_sharpness", "model_drift", "data_quality", "sample_size")


def quality_factors(q: dict[str, Any], day: date, settings: Settings) -> list[dict[str, Any]]:
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
        source, rows = "trailing_30d", lined_played(trailing)
    if len(rows) < MIN_DRIFT_ROWS:
        return None
    return {
        "source": source,
        "n": len(rows),
        "model_mae": rounded((rows["median"] - rows["actual"]).abs().mean()),
        "line_mae": rounded((rows["line"] - rows["actual"]).abs().mean()),
        "beats_line_share": rounded(beats_line(rows)),
    }


def _z_below(expected: float, observed: float, n: int) -> float:
    se = math.sqrt(max(expected * (1 - expected), 1e-9) / n)
    return (expected - observed) / se


def _sample_size_confidence(worst: float, n_bets: int, settings: Settings) -> float:
    """How sure the dip is noise, in [0, 1]: 1 at z = 0, 0.5 at z = 1.96 (a dip further
    out is not noise unless the bets are too few to tell); with fewer bets than a warning
    needs, at least the share of those bets still missing (1 graded bet of 100: 0.99)."""
    noise = 1 - max(worst, 0.0) / 1.96 / 2
    noise = max(noise, 1 - n_bets / settings.alerts.alert_min_bets)  # > 0 with few bets
    return round(min(1.0, max(0.0, noise)), 3)


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
    expectation, or over fewer bets than a warning needs, is sample size (its confidence
    ``_sample_size_confidence``); else the change of the model-minus-line MAE gap against
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
        return "sample_size", _sample_size_confidence(worst, n_bets, settings), factors
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
