"""The dashboard's view models on tiny inputs: pure functions (data in, template context
out) computing what the pages show, checked without a warehouse or a request; and the
one exception → status table both the API and the pages read."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.exceptions import RequestValidationError

from nbaprops.api.dashboard.health import ALERT_DAYS, alerts_start, health_view
from nbaprops.api.dashboard.player import player_view, stat_heading
from nbaprops.api.dashboard.registry import champions, models_view, recent_versions, sorted_runs
from nbaprops.api.dashboard.tonight import ALL, champion_kind, champion_of, tonight_view
from nbaprops.api.dashboard.track import cumulative_roi, running_clv, track_view
from nbaprops.api.errors import status_of
from nbaprops.api.reader import UnavailableError
from nbaprops.core.errors import NbapropsError
from nbaprops.read.params import BadRequestError, NotFoundError

D1, D2, D3 = date(2024, 4, 1), date(2024, 4, 2), date(2024, 4, 3)


def _day(d: date, bets: int, pc: float, pb: float, clv: float | None, clv_n: int) -> dict:
    return {
        "date": d,
        "bets": bets,
        "wins": 0,
        "profit_consensus": pc,
        "profit_best": pb,
        "clv_line": clv,
        "clv_n": clv_n,
    }


def test_cumulative_roi_is_profit_to_date_over_bets_to_date_skipping_days_before_any_bet() -> None:
    daily = [
        _day(D1, 0, 0.0, 0.0, None, 0),
        _day(D2, 2, 1.0, 1.5, 0.5, 2),
        _day(D3, 2, -3.0, -2.5, None, 0),
    ]
    roi = cumulative_roi(daily)
    assert roi["at consensus"] == [(D2, 0.5), (D3, -0.5)]
    assert roi["at best price"] == [(D2, 0.75), (D3, -0.25)]


def test_running_clv_weights_each_day_by_its_n() -> None:
    daily = [_day(D1, 1, 0, 0, 1.0, 1), _day(D2, 3, 0, 0, 0.0, 3), _day(D3, 1, 0, 0, None, 0)]
    assert running_clv(daily) == [(D1, 1.0), (D2, 0.25), (D3, 0.25)]


def test_recent_versions_keeps_the_newest_and_every_aliased_one() -> None:
    versions = [
        {"system_id": "a", "version": v, "aliases": ["champion"] if v == 1 else []}
        for v in (1, 2, 3, 4)
    ] + [{"system_id": "b", "version": 1, "aliases": []}]
    kept = [(v["system_id"], v["version"]) for v in recent_versions(versions, keep=2)]
    assert kept == [("a", 4), ("a", 3), ("a", 1), ("b", 1)]


def test_runs_sort_by_the_column_with_missing_values_last() -> None:
    runs = [{"name": "x", "mae": 5.0}, {"name": "y", "mae": None}, {"name": "z", "mae": 4.0}]
    assert [r["name"] for r in sorted_runs(runs, "mae", "asc")] == ["z", "x", "y"]
    assert [r["name"] for r in sorted_runs(runs, "mae", "desc")] == ["x", "z", "y"]
    view = models_view({"versions": [], "history": {}}, runs, "mae", "asc", "all")
    assert view["all_versions"]
    assert view["n_versions"] == 0
    assert [r["name"] for r in view["runs"]] == ["z", "x", "y"]


def _version(system: str, version: int, market: str, aliases: tuple[str, ...] = ()) -> dict:
    return {"system_id": system, "version": version, "market": market, "aliases": list(aliases)}


def test_recent_versions_keep_the_newest_per_system_and_market() -> None:
    versions = [_version("a", v, "points") for v in (1, 2, 3)]
    versions += [_version("a", v, "rebounds") for v in (4, 5)]
    kept = [(v["version"], v["market"]) for v in recent_versions(versions, keep=1)]
    # the newest of each market: a rebounds refit never hides the newest points version
    assert kept == [(5, "rebounds"), (3, "points")]


def test_models_view_filters_one_market_and_names_each_markets_champion() -> None:
    versions = [
        _version("xgboost", 1, "points", ("champion",)),
        _version("xgboost", 2, "points"),
        _version("catboost_full", 1, "rebounds", ("champion",)),
        _version("catboost_full", 2, "rebounds", ("challenger",)),
        _version("lgbm", 1, "pra"),
    ]
    history = {
        "catboost_full": [{"alias": "champion", "market": "rebounds", "version": 1}],
        "xgboost": [{"alias": "champion", "market": "points", "version": 1}],
    }
    registry = {"versions": versions, "history": history}
    every = models_view(registry, [], "name", "asc", "all")
    assert every["market"] is None
    assert every["n_versions"] == 5
    assert [(v["market"], v["system_id"]) for v in every["champions"]] == [
        ("points", "xgboost"),
        ("rebounds", "catboost_full"),
    ]
    # the switcher: every registered market, none current
    assert [(m["name"], m["current"]) for m in every["markets"]] == [
        ("points", ""),
        ("rebounds", ""),
        ("pra", ""),
    ]
    assert set(every["history"]) == {"catboost_full", "xgboost"}

    reb = models_view(registry, [], "name", "asc", "all", market="rebounds")
    assert [(v["system_id"], v["version"]) for v in reb["versions"]] == [
        ("catboost_full", 1),
        ("catboost_full", 2),
    ]
    assert reb["n_versions"] == 2
    assert [v["system_id"] for v in reb["champions"]] == ["catboost_full"]
    assert list(reb["history"]) == ["catboost_full"]
    assert reb["market_title"] == "Rebounds"
    assert [m["name"] for m in reb["markets"] if m["current"]] == ["rebounds"]
    # a market with versions but no champion shows none
    assert models_view(registry, [], "name", "asc", "all", market="pra")["champions"] == []
    assert champions([_version("a", 1, "points")]) == []


def _player(market: str) -> dict:
    games = [
        {"game_id": "g2", "game_date": D2, "points": 20, "actual": 31, "line": 29.5},
        {"game_id": "g1", "game_date": D1, "points": 12, "actual": 18, "line": None},
    ]
    if market == "points":
        games = [{**g, "actual": g["points"], "line": 18.5} for g in games]
    preds = [{"game_id": "g2", "game_date": D2, "system_id": "s", "alias": "champion",
              "median": 30.0}]  # fmt: skip
    return {"market": market, "player_name": "P", "games": games, "predictions": preds}


def test_player_view_shows_the_markets_own_outcome_line_and_names_it() -> None:
    view = player_view(_player("pra"), ["points", "pra"])
    assert [g["stat"] for g in view["games"]] == [31, 18]  # the market's outcome, not points
    assert view["market"] == "pra"
    assert view["market_title"] == "Points + rebounds + assists"
    assert view["stat_heading"] == "P+R+A"
    assert [(m["name"], m["current"]) for m in view["markets"]] == [
        ("points", ""),
        ("pra", "yes"),
    ]
    assert "P: pra, line and prediction" in view["chart"]
    assert view["by_game"]["g2"]["s@champion"]["median"] == 30.0

    points = player_view(_player("points"))
    assert [g["stat"] for g in points["games"]] == [20, 12]
    assert points["stat_heading"] == "Pts"
    assert "P: points, line and prediction" in points["chart"]
    assert [m["name"] for m in points["markets"]] == ["points"]  # the one shown, always
    assert [stat_heading(m) for m in ("rebounds", "threes", "ra")] == ["Reb", "3PM", "R+A"]


def test_health_lists_recent_game_dates_newest_first_and_caps_nothing_small() -> None:
    status = {"freshness": {"last_prediction_date": D3}}
    since = alerts_start(status, {"date": None}, date(2030, 1, 1))
    assert since == date(2024, 3, 20)
    assert (D3 - since).days == ALERT_DAYS
    raised = [
        {"game_date": "2024-01-01", "raised_at": "t1"},  # an old date rediagnosed: left out
        {"game_date": "2024-04-01", "raised_at": "t2"},
        {"game_date": None, "raised_at": "t3"},  # no date: kept, listed last
        {"game_date": "2024-04-03", "raised_at": "t4"},
    ]
    view = health_view(status, {"date": None, "diagnostics": []}, raised, since)
    assert [a["raised_at"] for a in view["alerts"]["alerts"]] == ["t4", "t2", "t3"]
    assert view["alerts"]["total"] == 3
    assert not view["alerts"]["more"]


def _pred(system: str, alias: str | None, team: str, edge: float | None, **kw: object) -> dict:
    return {
        "system_id": system,
        "alias": alias,
        "team": team,
        "edge_points": edge,
        "player_name": f"{system}-{team}-{edge}",
        "line_kind": kw.get("line_kind", "sportsbook"),
        "line_source": kw.get("line_source", "ACTUAL"),
        "recommendation": kw.get("recommendation", "OVER"),
    }


def test_tonight_shows_the_champions_rows_by_edge_and_counts_them() -> None:
    everything = [
        _pred("a", "champion", "BOS", 1.0),
        _pred("a", "champion", "NYK", -3.0, recommendation="PASS"),
        _pred("a", "champion", "BOS", None, line_source="ESTIMATED", line_kind=None),
        _pred("b", "challenger", "BOS", 4.0, line_kind="dfs"),
    ]
    picks = {"system": None}
    champion = champion_of(picks, everything)
    assert champion == "a"
    assert champion_kind(everything, "a") == "sportsbook"
    assert champion_kind(everything, "b") == "dfs"
    view = tonight_view(
        D1,
        everything,
        {"a@champion": {"x": 1}, "a@v3": {"x": 2}},
        picks,
        {"games": []},
        system=None,
        team=None,
        champion=champion,
        kind="sportsbook",
        daily=[],
    )
    assert [r["edge_points"] for r in view["rows"]] == [-3.0, 1.0, None]
    assert view["counts"] == {"lined": 2, "estimated": 1, "bets": 2}
    assert view["system"] == "a"
    assert view["systems"] == ["a", "b"]
    assert view["n_all"] == 4
    assert [k for k, _ in view["signals"]["aliased"]] == ["a@champion"]
    assert [k for k, _ in view["signals"]["others"]] == ["a@v3"]
    assert set(view["charts"]) == {"edge", "roi"}
    every = tonight_view(D1, everything, {}, picks, {}, system=ALL, team="BOS", champion=None)
    assert every["system"] == ALL
    assert len(every["rows"]) == 3
    assert set(every["charts"]) == {"edge"}


def test_track_view_picks_the_systems_own_ledger() -> None:
    record = {
        "system": "a",
        "line_kind": "sportsbook",
        "daily": [],
        "bets": [],
        "monthly": [],
        "reliability": [],
        "by_edge": [],
    }
    view = track_view(["a", "b"], record, [{"system": "b"}, {"system": "a", "n": 1}])
    assert view["ledger"] == {"system": "a", "n": 1}
    assert set(view["charts"]) == {"roi", "rolling", "mae", "reliability", "edge", "clv"}
    assert track_view(["a"], record, [])["ledger"] is None


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (BadRequestError("x"), 400),
        (NotFoundError("x"), 404),
        (RequestValidationError([]), 422),
        (UnavailableError("x"), 503),
        (NbapropsError("x"), 400),
    ],
)
def test_one_table_gives_every_error_its_status(exc: Exception, status: int) -> None:
    assert status_of(exc) == status
