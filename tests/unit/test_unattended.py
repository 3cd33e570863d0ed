"""Unattended operation (issue 23): alerts that state their N and wait for evidence,
exit codes, one JSON line per phase, and the picks webhook."""

from __future__ import annotations

from datetime import date

import pandas as pd

from nbaprops.core.settings import Settings
from nbaprops.monitoring.alerts import raise_alert
from nbaprops.monitoring.diagnostics import (
    _should_raise,
    conditions_of,
    market_sharpness,
    model_drift,
)

QUIET_QUALITY = {
    "dates_without_grading": [],
    "dates_without_predictions": [],
    "dates_without_box_scores": [],
    "stale": False,
}


def _graded_day(n: int, hits: int) -> pd.DataFrame:
    """``n`` graded bets on real lines, ``hits`` of them right; the misses far off."""
    right = n * [True]
    right[hits:] = (n - hits) * [False]
    return pd.DataFrame(
        {
            "line": 20.5,
            "median": 25.0,
            "actual": [24.0 if r else 10.0 for r in right],
            "line_source": "ACTUAL",
            "result": ["right" if r else "wrong" for r in right],
            "n_defaulted": 0,
        }
    )


def _conditions(day: pd.DataFrame, settings: Settings) -> list[tuple[str, str, str]]:
    # the first graded day: the 7-, 14- and 30-day windows are the same bets
    drift = model_drift({7: day, 14: day, 30: day}, None)
    return conditions_of(market_sharpness(day, day), drift, QUIET_QUALITY, settings)


def test_the_first_graded_day_raises_nothing_above_info_and_states_its_n() -> None:
    conditions = _conditions(_graded_day(33, 11), Settings())
    codes = {c[1] for c in conditions}
    assert {"beats_line_and_hit_rate", "hit_rate_7d", "beats_line"} <= codes
    assert {c[0] for c in conditions} == {"INFO"}
    for _, _, message in conditions:
        assert "N = 33 graded bets" in message
        assert "fewer than the 100 a warning needs" in message


def test_the_same_rates_on_enough_bets_are_critical_and_the_bar_is_a_setting() -> None:
    conditions = _conditions(_graded_day(150, 50), Settings())
    severity = {c[1]: c[0] for c in conditions}
    assert severity["beats_line_and_hit_rate"] == "CRITICAL"
    assert severity["hit_rate_7d"] == "WARNING"
    assert all("N = 150 graded bets over 7 days" in c[2] for c in conditions)
    assert not any("a warning needs" in c[2] for c in conditions)
    lower = _conditions(_graded_day(33, 11), Settings(alert_min_graded_bets=30))
    assert {c[1]: c[0] for c in lower}["beats_line_and_hit_rate"] == "CRITICAL"


def test_data_quality_alerts_are_not_gated_by_bets() -> None:
    quality = {**QUIET_QUALITY, "stale": True, "train_end": "2024-01-01"}
    quality |= {"staleness_days": 30, "retrain_cadence_days": 7}
    day = _graded_day(5, 5)
    drift = model_drift({7: day, 14: day, 30: day}, None)
    out = conditions_of(market_sharpness(day, day), drift, quality, Settings())
    assert ("WARNING", "stale_model") in {(c[0], c[1]) for c in out}


def test_an_info_condition_that_gains_enough_bets_is_raised_again_as_a_warning(
    empty_con,
) -> None:
    day1, day2 = date(2024, 4, 1), date(2024, 4, 2)
    raise_alert(empty_con, "INFO", "diagnose:hit_rate_7d", "m", game_date=day1, system_id="s")
    previous = (day1, {"conditions": ["hit_rate_7d"]})
    assert _should_raise(empty_con, previous, "WARNING", "hit_rate_7d", "s", day2)
    assert not _should_raise(empty_con, previous, "INFO", "hit_rate_7d", "s", day2)
