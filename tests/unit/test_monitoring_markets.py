"""Monitoring per market, on tiny hand-made rows: the market's feature set for drift, the
market's backtest run for compare-production, stored predictions and alerts of one market
only, diagnostics stored per market (and migration 021 splitting the interim combined
ids), and the daily diagnose phase over every champion market."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import get_feature_set
from nbaprops.monitoring.alerts import raise_alert
from nbaprops.monitoring.compare import find_backtest_run, production_context
from nbaprops.monitoring.diagnostics import (
    Diagnostic,
    _already,
    _previous,
    _should_raise,
    _store,
    latest_diagnostics,
    stored_diagnostics,
    system_label,
)
from nbaprops.monitoring.drift import Period, market_feature_set, stored_predictions
from nbaprops.pipeline import daily
from nbaprops.read.monitoring import diagnostics as read_diagnostics
from nbaprops.read.params import NotFoundError
from nbaprops.warehouse.migrate import available_migrations, migrate
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


def test_an_alert_names_another_market_beside_the_system() -> None:
    assert system_label("season_average") == "season_average"  # points: as before markets
    assert system_label("season_average", "points") == "season_average"
    assert system_label("season_average", "rebounds") == "season_average [rebounds]"


def test_alerts_of_one_market_never_stand_for_another_s(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    con, s = empty_con, "season_average"
    reb = system_label(s, "rebounds")
    source = "diagnose:hit_rate_7d"
    raise_alert(
        con, "WARNING", source, f"{s} on {DAY1}: low", game_date=DAY1, system_id=s, market="points"
    )
    assert _already(con, source, s, DAY1)  # points: as before
    assert not _already(con, source, s, DAY1, market="rebounds")  # not rebounds'
    # rebounds raises its own on the same date, system and condition
    assert _should_raise(con, None, "WARNING", "hit_rate_7d", s, DAY1, "rebounds")
    raise_alert(
        con,
        "WARNING",
        source,
        f"{reb} on {DAY1}: low",
        game_date=DAY1,
        system_id=s,
        market="rebounds",
    )
    assert _already(con, source, s, DAY1, market="rebounds")
    assert not _should_raise(con, None, "WARNING", "hit_rate_7d", s, DAY1, "rebounds")
    # a persisting WARNING is not raised again the next day, in each market on its own
    previous = (DAY1, {"conditions": ["hit_rate_7d"]})
    assert not _should_raise(con, previous, "WARNING", "hit_rate_7d", s, DAY2)
    assert not _should_raise(con, previous, "WARNING", "hit_rate_7d", s, DAY2, "rebounds")
    assert _should_raise(con, previous, "WARNING", "hit_rate_7d", s, DAY2, "threes")
    # a rebounds INFO later than the points WARNING does not change what points last saw
    raise_alert(
        con, "INFO", source, f"{reb} on {DAY2}: few", game_date=DAY2, system_id=s, market="rebounds"
    )
    # the market is the stored column's, never read from the text
    stored = con.execute("SELECT market FROM monitoring.alert ORDER BY raised_at").fetchall()
    assert stored == [("points",), ("rebounds",), ("rebounds",)]
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


def _diagnostic(system: str, market: str, day: date, cause: str) -> Diagnostic:
    """A hand-made diagnosis (every stored figure; ``cause`` tells rows apart)."""
    sharp = {
        "n_lined": 10,
        "line_mae": 2.0,
        "line_mae_7d": 2.1,
        "model_beats_line_share": 0.5,
        "model_beats_line_share_7d": 0.5,
        "sharpness_score": 50.0,
        "sharpness_status": "normal",
        "market_regime": "TIGHT",
    }
    drift: dict[str, Any] = {f"hit_rate_{w}d": 0.5 for w in (7, 14, 30)}
    drift |= {f"bets_{w}d": 10 for w in (7, 14, 30)}
    drift |= {"mae_7d": 2.0, "mean_signed_error_7d": 0.1, "bias": "neutral"}
    drift |= {"drift_score": 0.0, "drift_severity": "none"}
    quality = {
        "feature_completeness": 1.0,
        "defaulted_rate": 0.0,
        "days_since_box_score": 1,
        "days_since_line": 1,
        "missing_dates": [],
        "phase_failures": [],
        "staleness_days": 0,
    }
    return Diagnostic(
        game_date=day,
        system_id=system,
        model_version=1,
        market=sharp,
        drift=drift,
        quality=quality,
        primary_cause=cause,
        confidence=0.5,
        factors=[{"factor": cause}],
        conditions=[cause],
        market_name=market,
    )


def test_diagnostics_are_stored_and_read_per_market_under_the_plain_system(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    con, s = empty_con, "season_average"
    with pytest.raises(NotFoundError, match="no diagnostics yet"):
        read_diagnostics(con)
    _store(con, _diagnostic(s, "points", DAY1, "p1"))
    _store(con, _diagnostic(s, "rebounds", DAY1, "r1"))
    _store(con, _diagnostic(s, "rebounds", DAY2, "r2"))
    _store(con, _diagnostic(s, "rebounds", DAY2, "r2b"))  # rediagnosing replaces the row
    rows = con.execute(
        "SELECT game_date, system_id, market, primary_cause FROM monitoring.diagnostic "
        "ORDER BY 1, 3"
    ).fetchall()
    assert rows == [(DAY1, s, "points", "p1"), (DAY1, s, "rebounds", "r1"),
                    (DAY2, s, "rebounds", "r2b")]  # fmt: skip
    # the previous diagnosis (notable changes, reminders) is the market's own
    assert _previous(con, s, DAY2) is not None
    previous = _previous(con, s, date(2024, 4, 3), "rebounds")
    assert previous is not None
    assert previous[0] == DAY2
    assert previous[1]["primary_cause"] == "r2b"
    assert _previous(con, s, DAY2, "threes") is None
    assert stored_diagnostics(con, DAY1, DAY2)["primary_cause"].tolist() == ["p1"]
    assert stored_diagnostics(con, DAY1, DAY2, "rebounds")["primary_cause"].tolist() == [
        "r1", "r2b"]  # fmt: skip
    assert len(stored_diagnostics(con, DAY1, DAY2, None)) == 3
    latest = [(r["system_id"], r["market"], r["primary_cause"]) for r in latest_diagnostics(con)]
    assert latest == [(s, "points", "p1"), (s, "rebounds", "r2b")]
    # the read layer (API /diagnostics, the health page): one market, the latest date of it
    points = read_diagnostics(con)
    assert (points["date"], points["market"]) == (DAY1, "points")
    assert [(d["system_id"], d["market"], d["factors"]) for d in points["diagnostics"]] == [
        (s, "points", [{"factor": "p1"}])]  # fmt: skip
    reb = read_diagnostics(con, market="rebounds")
    assert reb["date"] == DAY2
    assert [(d["market"], d["primary_cause"]) for d in reb["diagnostics"]] == [
        ("rebounds", "r2b")]  # fmt: skip
    every = read_diagnostics(con, DAY1, market=None)
    assert [(d["market"], d["factors"][0]["factor"]) for d in every["diagnostics"]] == [
        ("points", "p1"), ("rebounds", "r1")]  # fmt: skip
    with pytest.raises(
        NotFoundError, match="of threes yet; run `nbaprops diagnose --market threes`"
    ):
        read_diagnostics(con, market="threes")


def test_migration_021_gives_diagnostics_a_market_and_splits_the_combined_ids(
    tmp_path: Path,
) -> None:
    """A warehouse at 020 holding a points row and rows stored under the interim combined
    id "<system> [<market>]" migrates to 021: the points row is a points row, the combined
    ones are split back into their system and market (even beside the points row of the
    same date and system), every other figure kept."""
    (m021,) = [m for m in available_migrations() if m.version == 21]
    assert m021.name == "diagnostic_market"
    with connect(tmp_path / "w.duckdb") as con:
        con.execute(
            "CREATE TABLE schema_version ("
            "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        for m in available_migrations():
            if m.version < 21:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        old = """
            INSERT INTO monitoring.diagnostic (game_date, system_id, model_version, n_lined,
                mae_7d, missing_dates, phase_failures, primary_cause, confidence, conditions,
                details, computed_at)
            VALUES (?, ?, ?, 5, ?, [DATE '2024-03-30'], 0, ?, 0.7, ['hit_rate_7d'], ?, now())
        """
        s = "season_average"
        con.execute(old, [DAY1, s, 3, 5.5, "model_drift", '{"factors": [1]}'])
        con.execute(old, [DAY1, f"{s} [rebounds]", 4, 1.5, "none", '{"factors": [2]}'])
        con.execute(old, [DAY2, f"{s} [pra]", 5, 6.5, "data_quality", '{"factors": [3]}'])
        assert min(m.version for m in migrate(con)) == 21  # 021 (and any later) applied
        rows = con.execute(
            "SELECT game_date, system_id, market, model_version, mae_7d, primary_cause, "
            "missing_dates, conditions, details FROM monitoring.diagnostic ORDER BY 1, 3"
        ).fetchall()
        key = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE schema_name = 'monitoring' AND table_name = 'diagnostic' "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    lost = [date(2024, 3, 30)]
    assert rows == [
        (DAY1, s, "points", 3, 5.5, "model_drift", lost, ["hit_rate_7d"], '{"factors": [1]}'),
        (DAY1, s, "rebounds", 4, 1.5, "none", lost, ["hit_rate_7d"], '{"factors": [2]}'),
        (DAY2, s, "pra", 5, 6.5, "data_quality", lost, ["hit_rate_7d"], '{"factors": [3]}'),
    ]
    assert key == [(["game_date", "system_id", "market"],)]


def test_migration_022_gives_alerts_their_market_from_the_system_and_interim_text(
    tmp_path: Path,
) -> None:
    """A warehouse at 021 holding a points alert, an interim "<system> [<market>] on ..."
    alert and an alert about no system migrates to 022: points, the market of the text,
    and no market."""
    (m022,) = [m for m in available_migrations() if m.version == 22]
    assert m022.name == "alert_market"
    with connect(tmp_path / "w.duckdb") as con:
        con.execute(
            "CREATE TABLE schema_version ("
            "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        for m in available_migrations():
            if m.version < 22:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        s = "season_average"
        for system, message in (
            (s, f"{s} on {DAY1}: low hit rate"),
            (s, f"{s} [rebounds] on {DAY1}: low hit rate"),
            (None, "the daily run of 2024-04-02 could not start: held"),
        ):
            con.execute(
                "INSERT INTO monitoring.alert VALUES (now(), ?, 'WARNING', 'x', ?, ?)",
                [DAY1, system, message],
            )
        assert min(m.version for m in migrate(con)) == 22
        rows = con.execute("SELECT system_id, market, message FROM monitoring.alert").fetchall()
    assert sorted(rows, key=str) == sorted(
        [
            (s, "points", f"{s} on {DAY1}: low hit rate"),
            (s, "rebounds", f"{s} [rebounds] on {DAY1}: low hit rate"),
            (None, None, "the daily run of 2024-04-02 could not start: held"),
        ],
        key=str,
    )
