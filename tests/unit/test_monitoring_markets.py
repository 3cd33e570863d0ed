"""Monitoring per market, on tiny hand-made rows: the market's feature set for drift, the
market's backtest run for compare-production, stored predictions and alerts of one market
only, and the daily diagnose phase over every champion market."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest

from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import get_feature_set
from nbaprops.monitoring.alerts import raise_alert
from nbaprops.monitoring.compare import find_backtest_run, production_context
from nbaprops.monitoring.diagnostics import _already, _should_raise, system_key
from nbaprops.monitoring.drift import Period, market_feature_set, stored_predictions
from nbaprops.pipeline import daily
from tests.unit.test_drift_compare import D1, D3, _add_run

DAY1, DAY2 = date(2024, 4, 1), date(2024, 4, 2)


def test_drift_tests_the_market_s_own_feature_set_and_refuses_another_market_s() -> None:
    assert market_feature_set("points", None) == ("points", get_feature_set("points_v1"))
    name, fs = market_feature_set("player_rebounds", None)  # a feed key names the market
    assert (name, fs.key, fs.market) == ("rebounds", "rebounds_v1", "rebounds")
    assert market_feature_set("pra", None)[1].key == "pra_v1"
    given = get_feature_set("rebounds_v1")
    assert market_feature_set("rebounds", given) == ("rebounds", given)
    with pytest.raises(NbapropsError, match="points_v1 is of the points market, not rebounds"):
        market_feature_set("rebounds", get_feature_set("points_v1"))
    with pytest.raises(NbapropsError, match="unknown market 'steals'"):
        market_feature_set("steals", None)


def _predict(con: duckdb.DuckDBPyConnection, market: str, player: int, median: float) -> None:
    con.execute(
        """
        INSERT INTO predictions.prediction (prediction_id, batch_id, system_id, model_version,
            player_id, game_id, game_date, team, line_source, median, mean, p_over,
            recommendation, confidence, n_defaulted, quantiles, in_sample,
            completeness_skipped, created_at, is_active, market)
        VALUES (?, 'b', 'season_average', 1, ?, 'g1', ?, 'BOS', 'ACTUAL', ?, ?, 0.5, 'OVER',
                'LOW', 0, [], false, false, now(), true, ?)
        """,
        [f"{market}-{player}", player, DAY1, median, median, market],
    )


def test_stored_predictions_and_production_context_read_one_market(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    con = empty_con
    _predict(con, "points", 1, 21.5)
    _predict(con, "rebounds", 1, 7.0)
    _predict(con, "rebounds", 2, 4.0)
    period = Period(DAY1, DAY1)
    points = stored_predictions(con, period)
    assert points["median"].tolist() == [21.5]  # the default is points
    rebounds = stored_predictions(con, period, market="rebounds")
    assert rebounds["median"].tolist() == [7.0, 4.0]
    assert stored_predictions(con, period, market="threes").empty
    context = production_context(con, "season_average", DAY1, DAY1, "rebounds")
    assert sorted(context["player_id"]) == [1, 2]
    assert len(production_context(con, "season_average", DAY1, DAY1)) == 1


def test_a_backtest_is_found_in_the_market_of_its_feature_set(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    con = empty_con
    points = _add_run(con, D1, D3, created="2024-06-01")
    rebounds = _add_run(con, D1, D3, created="2024-06-02")
    con.execute("UPDATE experiments.run SET feature_set = 'rebounds_v1' WHERE experiment_id = ?",
                [rebounds])  # fmt: skip
    # the newer run predicts rebounds: points keeps its own run, rebounds gets the newer
    assert find_backtest_run(con, "moving_average", D1, D3).experiment_id == points
    found = find_backtest_run(con, "moving_average", D1, D3, market="rebounds")
    assert (found.experiment_id, found.feature_set) == (rebounds, "rebounds_v1")
    with pytest.raises(NbapropsError, match="of moving_average in the threes market covers"):
        find_backtest_run(con, "moving_average", D1, D3, market="threes")
    with pytest.raises(NbapropsError, match=r"predicts rebounds .*not points"):
        find_backtest_run(con, "moving_average", D1, D3, rebounds[:8])


def test_a_market_s_diagnosis_is_keyed_and_named_by_its_market() -> None:
    assert system_key("season_average") == "season_average"  # points: as before markets
    assert system_key("season_average", "points") == "season_average"
    assert system_key("season_average", "rebounds") == "season_average [rebounds]"


def test_alerts_of_one_market_never_stand_for_another_s(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    con, s = empty_con, "season_average"
    reb = system_key(s, "rebounds")
    source = "diagnose:hit_rate_7d"
    raise_alert(con, "WARNING", source, f"{s} on {DAY1}: low", game_date=DAY1, system_id=s)
    assert _already(con, source, s, DAY1)  # points: as before
    assert not _already(con, source, s, DAY1, key=reb)  # a points alert is not rebounds'
    # rebounds raises its own on the same date, system and condition
    assert _should_raise(con, None, "WARNING", "hit_rate_7d", s, DAY1, reb)
    raise_alert(con, "WARNING", source, f"{reb} on {DAY1}: low", game_date=DAY1, system_id=s)
    assert _already(con, source, s, DAY1, key=reb)
    assert not _should_raise(con, None, "WARNING", "hit_rate_7d", s, DAY1, reb)
    # a persisting WARNING is not raised again the next day, in each market on its own
    previous = (DAY1, {"conditions": ["hit_rate_7d"]})
    assert not _should_raise(con, previous, "WARNING", "hit_rate_7d", s, DAY2)
    assert not _should_raise(con, previous, "WARNING", "hit_rate_7d", s, DAY2, reb)
    threes = system_key(s, "threes")
    assert _should_raise(con, previous, "WARNING", "hit_rate_7d", s, DAY2, threes)
    # a rebounds INFO later than the points WARNING does not change what points last saw
    raise_alert(con, "INFO", source, f"{reb} on {DAY2}: few", game_date=DAY2, system_id=s)
    later = (DAY2, {"conditions": ["hit_rate_7d"]})
    assert not _should_raise(con, later, "WARNING", "hit_rate_7d", s, date(2024, 4, 3))


def test_the_daily_diagnose_phase_runs_every_champion_market(
    empty_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[date, date, str]] = []

    def fake(con: Any, settings: Any, first: date, last: date, *, market: str) -> list[str]:
        calls.append((first, last, market))
        return [f"{market} diagnosis"]

    monkeypatch.setattr(daily, "diagnose_range", fake)
    graded = [Graded(DAY2), Graded(DAY1)]
    monkeypatch.setattr(daily, "champion_markets", lambda con: ["points", "rebounds", "pra"])
    out = daily.diagnose_job(empty_con, Settings(), DAY2, graded)  # type: ignore[arg-type]
    assert calls == [(DAY1, DAY2, m) for m in ("points", "rebounds", "pra")]
    assert out == ["points diagnosis", "rebounds diagnosis", "pra diagnosis"]
    calls.clear()
    monkeypatch.setattr(daily, "champion_markets", lambda con: [])  # no champion yet
    daily.diagnose_job(empty_con, Settings(), DAY2, graded)  # type: ignore[arg-type]
    assert calls == [(DAY1, DAY2, "points")]


class Graded:  # what diagnose_job reads of a GradeResult: its day
    def __init__(self, day: date) -> None:
        self.day = day
