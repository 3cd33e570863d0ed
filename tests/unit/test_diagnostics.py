"""Diagnostics rules on tiny frames: sharpness, drift, attribution, conditions, webhook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pytest

from nbaprops.core.markets import MARKET_CATALOG
from nbaprops.core.settings import Settings
from nbaprops.monitoring.alerts import post_alerts
from nbaprops.monitoring.diagnostics.attribution import attribute, baseline_of, conditions_of
from nbaprops.monitoring.diagnostics.market import market_sharpness
from nbaprops.monitoring.diagnostics.model import model_drift
from tests.webhook import Receiver, receiving

SETTINGS = Settings()


def rows(
    actual: list[float], line: list[float], median: list[float], **cols: object
) -> pd.DataFrame:
    n = len(actual)
    return pd.DataFrame(
        {
            "actual": actual,
            "line": line,
            "median": median,
            "line_source": "ACTUAL",
            "result": cols.get("result", ["correct"] * n),
            "n_defaulted": 0,
        }
    )


def test_market_sharpness_tiers_share_and_regime() -> None:
    day = rows([10, 15, 30, 8], [9.5, 14.5, 25.5, 12.5], [10, 20, 28, 8])
    out = market_sharpness(day, day)
    assert out["line_mae_by_tier"]["lt12"] == {"n": 1, "line_mae": 0.5}
    assert out["line_mae_by_tier"]["12to20"]["n"] == 2
    assert out["line_mae_by_tier"]["12to20"]["line_mae"] == pytest.approx((0.5 + 4.5) / 2)
    assert out["line_mae_by_tier"]["gt20"] == {"n": 1, "line_mae": 4.5}
    # closer than the line: 10 (0 < .5), 30 (2 < 4.5), 8 (0 < 4.5); 15 is not (5 > .5)
    assert out["model_beats_line_share"] == pytest.approx(0.75)
    assert out["line_mae_7d"] == pytest.approx(2.5)
    assert out["market_regime"] == "TIGHT"
    # a = 1 (MAE 2.5 < 4), b = clip((0.55 - 0.75) / 0.2) = 0 -> 50
    assert out["sharpness_score"] == pytest.approx(50.0)
    assert out["sharpness_status"] == "normal"
    loose = rows([30, 2], [20.5, 12.5], [25, 3])
    assert market_sharpness(loose, loose)["market_regime"] == "LOOSE"


def test_another_market_reads_sharpness_on_its_own_scale() -> None:
    """A threes line missing by 1.25 threes is about its usual miss (1.17), not a sharp,
    tight market (points' 4.0 and 4.5 would read it so); its tiers are its own lines'."""
    threes = MARKET_CATALOG["threes"]
    day = rows([1, 2, 4, 0], [1.5, 1.5, 2.5, 2.5], [1, 1, 2, 2])  # misses .5 .5 1.5 2.5
    as_points = market_sharpness(day, day)
    out = market_sharpness(day, day, threes)
    assert out["line_mae_7d"] == pytest.approx(1.25) == as_points["line_mae_7d"]
    assert out["model_beats_line_share_7d"] == 0.5 == as_points["model_beats_line_share_7d"]
    # points: a = 1 (1.25 < 4.0), b = (0.55 - 0.5) / 0.2 = 0.25
    assert as_points["sharpness_score"] == pytest.approx(62.5)
    assert (as_points["sharpness_status"], as_points["market_regime"]) == ("sharp", "TIGHT")
    # threes: a = (6.5 x .23 - 1.25) / (2.5 x .23) = 0.426; regime 1.035 <= 1.25 < 1.495
    assert out["sharpness_score"] == pytest.approx(100 * ((1.495 - 1.25) / 0.575 + 0.25) / 2)
    assert (out["sharpness_status"], out["market_regime"]) == ("normal", "NORMAL")
    assert out["line_mae_by_tier"] == {
        "lt2": {"n": 2, "line_mae": 0.5},
        "2to3": {"n": 2, "line_mae": 2.0},
        "gt3": {"n": 0, "line_mae": None},
    }
    wide = rows([0, 4, 1, 5], [1.5, 2.5, 2.5, 3.5], [1, 2, 1, 4])  # misses 1.5 on average
    assert market_sharpness(wide, wide, threes)["market_regime"] == "LOOSE"
    assert market_sharpness(wide, wide)["market_regime"] == "TIGHT"
    assert market_sharpness(wide, wide, threes)["line_mae_by_tier"]["gt3"]["n"] == 1
    pra = MARKET_CATALOG["pra"]
    combo = rows([30, 18, 40, 25], [24.5, 23.5, 33.5, 30.5], [28, 20, 36, 26])  # MAE 5.75
    assert market_sharpness(combo, combo)["market_regime"] == "NORMAL"
    assert market_sharpness(combo, combo, pra)["market_regime"] == "NORMAL"  # 5.355..7.735
    assert [t["n"] for t in market_sharpness(combo, combo, pra)["line_mae_by_tier"].values()] == [
        0,
        2,
        2,
    ]


def test_drift_reads_bias_and_mae_on_the_markets_scale() -> None:
    """Half a three of bias is a direction in threes (±0.5 x 0.23), a point of MAE is
    severe drift there; neither would register on the points scale."""
    rng = np.random.default_rng(3)
    actual = rng.poisson(1.6, 600).astype(float)
    line = np.maximum(np.round(actual + rng.normal(0, 1, 600)) - 0.5, 0.5)
    reference = rows(list(actual), list(line), list(actual + rng.normal(0, 1.0, 600)))
    reference = reference.assign(played=True)
    now = rows(list(actual[:300]), list(line[:300]), list(actual[:300] + 1.4))
    windows = {7: now, 14: now, 30: now}
    scale = MARKET_CATALOG["threes"].error_scale
    on_points = model_drift(windows, reference)
    on_threes = model_drift(windows, reference, scale)
    assert on_points["mae_7d"] == on_threes["mae_7d"]
    assert on_threes["bias"] == on_points["bias"] == "over"  # 1.4 > 0.5
    half = rows(list(actual[:300]), list(line[:300]), list(actual[:300] + 0.3))
    assert model_drift({7: half, 14: half, 30: half}, reference)["bias"] == "neutral"
    assert model_drift({7: half, 14: half, 30: half}, reference, scale)["bias"] == "over"
    assert on_threes["drift_score"] > on_points["drift_score"]
    assert on_threes["components"]["mae"] > on_points["components"]["mae"]
    assert on_threes["drift_severity"] == "severe"


def test_a_median_on_the_line_ties_it_and_never_reads_as_losing_to_it() -> None:
    """The market system's median is the line: every row ties (0.5, not 0%), so it never
    raises a beats-line alert a day; a tie among other rows counts half."""
    line = [9.5, 14.5, 25.5, 12.5]
    market = rows([10, 15, 30, 8], line, line)
    out = market_sharpness(market, market)
    assert out["model_beats_line_share"] == out["model_beats_line_share_7d"] == 0.5
    mixed = rows([10, 15, 30, 8], line, [10, 15.5, 20, 8])
    # 10 closer, 15 tie (0.5 = 0.5), 30 farther (10 > 4.5), 8 closer
    assert market_sharpness(mixed, mixed)["model_beats_line_share"] == pytest.approx(2.5 / 4)
    base = {"source": "reference", "n": 900, "model_mae": 5.3, "line_mae": 5.3}
    market_in, drift = _inputs(0.55, 200, out["model_beats_line_share_7d"], 600, 5.0)
    cause, _, factors = attribute(market_in, drift, base | {"beats_line_share": 0.5}, [], SETTINGS)
    assert cause == "none"
    assert not any(f["factor"] == "model_beats_line_share_7d" for f in factors)


def test_a_big_dip_over_few_bets_is_sample_size_with_a_confidence_in_0_1() -> None:
    """One graded bet and a model far off the line for a few days: too few bets to be
    evidence; the confidence stays a probability (it read -2.9 on a real backfill)."""
    base = {"source": "trailing_30d", "n": 60, "model_mae": 5.0, "line_mae": 5.0}
    few = SETTINGS.alerts.alert_min_bets  # 30
    for n_bets, hit in ((1, 0.0), (few // 2, 0.2), (few - 1, 0.3)):
        market, drift = _inputs(hit, n_bets, 0.05, 400, None)
        cause, confidence, _ = attribute(
            market, drift, base | {"beats_line_share": 0.5}, [], SETTINGS
        )
        assert cause == "sample_size"
        assert 0.0 <= confidence <= 1.0
        assert confidence == pytest.approx(1 - n_bets / SETTINGS.alerts.alert_min_bets, abs=1e-3)
    # enough bets and a dip inside 1.96 standard errors: noise, confidence above 0.5
    market, drift = _inputs(0.50, 200, 0.49, 400, None)
    cause, confidence, _ = attribute(market, drift, base | {"beats_line_share": 0.5}, [], SETTINGS)
    assert cause == "sample_size"
    assert 0.5 < confidence <= 1.0


def _window(n: int, error: float, rng: np.random.Generator) -> pd.DataFrame:
    actual = rng.integers(5, 30, n).astype(float)
    line = actual + rng.normal(0, 5, n)
    median = actual + rng.normal(0, 5, n) + error
    return rows(list(actual), list(line), list(median))


def test_drift_score_is_low_against_itself_and_severe_when_the_model_breaks() -> None:
    rng = np.random.default_rng(1)
    reference = _window(600, 0.0, rng).assign(played=True)
    same = _window(300, 0.0, rng)
    calm = model_drift({7: same, 14: same, 30: same}, reference)
    assert calm["drift_severity"] in ("none", "minor")
    assert calm["drift_score"] < 20
    broken = _window(300, 6.0, rng)
    drift = model_drift({7: broken, 14: broken, 30: broken}, reference)
    assert drift["drift_score"] >= 70
    assert drift["drift_severity"] == "severe"
    assert drift["bias"] == "over"
    no_ref = model_drift({7: same, 14: same, 30: same}, reference.head(10))
    assert no_ref["drift_score"] is None
    assert "reference" in no_ref["drift_reason"]


def _inputs(hit: float, n_bets: int, beat: float, n_lined: int, score: float | None) -> tuple:
    market = {
        "model_beats_line_share_7d": beat,
        "n_lined_7d": n_lined,
        "line_mae_7d": 5.0,
        "sharpness_score": 50.0,
        "market_regime": "NORMAL",
    }
    drift = {"hit_rate_7d": hit, "bets_7d": n_bets, "drift_score": score, "mae_7d": 5.3}
    return market, drift


def test_attribution_names_each_cause_from_its_evidence() -> None:
    base = {
        "source": "reference",
        "n": 900,
        "model_mae": 5.3,
        "line_mae": 5.5,
        "beats_line_share": 0.50,
    }
    market, drift = _inputs(0.55, 200, 0.50, 600, 5.0)
    assert attribute(market, drift, base, [], SETTINGS)[0] == "none"
    quality = [{"factor": "feature_completeness", "value": 0.5, "threshold": 0.9}]
    assert attribute(market, drift, base, quality, SETTINGS)[0] == "data_quality"
    old_gap = [{"factor": "missing_dates", "value": 1, "in_last_7_days": 0}]
    assert attribute(market, drift, base, old_gap, SETTINGS)[0] == "none"
    market, drift = _inputs(0.50, 120, 0.48, 300, 5.0)  # a small dip: noise
    cause, confidence, factors = attribute(market, drift, base, [], SETTINGS)
    assert cause == "sample_size"
    assert 0.5 <= confidence <= 1
    assert any(f["factor"] == "hit_rate_z_below_break_even" for f in factors)
    market, drift = _inputs(0.40, 600, 0.40, 1500, 80.0)
    assert attribute(market, drift, base, [], SETTINGS)[0] == "model_drift"
    # a significant dip while the model's MAE held and the line's fell by a point: market
    market, drift = _inputs(0.44, 600, 0.40, 1500, 5.0)
    market["line_mae_7d"], drift["mae_7d"] = 4.5, 5.3
    cause, confidence, _ = attribute(market, drift, base, [], SETTINGS)
    assert cause == "market_sharpness"
    assert confidence == 1.0
    # ... and the model's MAE rose while the line held: model drift
    market["line_mae_7d"], drift["mae_7d"] = 5.5, 6.3
    cause, confidence, _ = attribute(market, drift, base, [], SETTINGS)
    assert cause == "model_drift"
    assert confidence == 1.0


def test_baseline_falls_back_to_the_trailing_month_when_the_reference_is_small() -> None:
    rng = np.random.default_rng(2)
    trailing = _window(200, 0.0, rng)
    small = _window(20, 0.0, rng).assign(played=True)
    assert baseline_of(small, trailing)["source"] == "trailing_30d"
    big = _window(400, 0.0, rng).assign(played=True)
    assert baseline_of(big, trailing)["source"] == "reference"
    assert baseline_of(None, trailing.head(5)) is None


def test_conditions_follow_the_thresholds_in_settings() -> None:
    market, drift = _inputs(0.45, 100, 0.40, 300, 45.0)
    drift["drift_severity"] = "moderate"
    quality = {
        "dates_without_grading": ["2024-04-12"],
        "dates_without_predictions": [],
        "dates_without_box_scores": ["2024-04-12"],
        "stale": True,
        "train_end": "2024-03-01",
        "staleness_days": 20,
        "retrain_cadence_days": 7,
    }
    codes = [(c[0], c[1]) for c in conditions_of(market, drift, quality, SETTINGS)]
    assert codes == [
        ("CRITICAL", "beats_line_and_hit_rate"),
        ("WARNING", "drift"),
        ("WARNING", "beats_line"),
        ("WARNING", "hit_rate_7d"),
        ("WARNING", "graded_completeness"),
        ("WARNING", "missing_dates"),
        ("WARNING", "stale_model"),
    ]
    relaxed = Settings(alert_critical_beat_share=0.3, alert_warn_drift=50)
    codes = [c[1] for c in conditions_of(market, drift, quality, relaxed)]
    assert "beats_line_and_hit_rate" not in codes
    assert "drift" not in codes


@pytest.fixture
def server() -> Iterator[Receiver]:
    with receiving("/") as receiver:
        yield receiver


def test_post_alerts_sends_json_and_reports_failures_without_raising(server: Receiver) -> None:
    alerts = [{"severity": "WARNING", "message": "m", "game_date": "2024-04-12"}]
    ok = post_alerts(server.url, alerts)
    assert ok.ok
    assert ok.status == 200
    assert ok.n_alerts == 1
    assert server.bodies == [{"source": "nbaprops", "alerts": alerts}]
    server.status = 500
    failed = post_alerts(server.url, alerts)
    assert not failed.ok
    assert failed.status == 500
    refused = post_alerts("http://127.0.0.1:9/", alerts, timeout_s=1)
    assert not refused.ok
    assert refused.error


def test_an_optional_phase_records_its_failure_and_lets_the_run_go_on(empty_con) -> None:
    from nbaprops.pipeline.daily import optional_phase

    def broken() -> list[int]:
        raise RuntimeError("diagnostics exploded")

    day = date(2024, 4, 12)
    assert optional_phase(empty_con, "run-1", day, "diagnose", broken, len) is None
    assert optional_phase(empty_con, "run-1", day, "breakout_shadow", lambda: [1, 2], len) == [1, 2]
    rows = empty_con.execute(
        "SELECT phase, status, rows, error FROM pipeline.phase_run ORDER BY phase"
    ).fetchall()
    assert rows == [
        ("breakout_shadow", "COMPLETE", 2, None),
        ("diagnose", "FAILED", None, "RuntimeError: diagnostics exploded"),
    ]
