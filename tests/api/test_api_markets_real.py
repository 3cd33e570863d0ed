"""The API and the dashboard per market, on the real data: the package's served warehouse
copied, given the rebounds champion the session bootstrapped once (tests/conftest.py's
``market_champions_warehouse``, registered here with ``carry_champion``), one real daily
run of DAY on points and rebounds, then each answer read one market at a time: rebounds
answers hold rebounds rows only, points answers are exactly those of the points-only
warehouse."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.cli.main import app as cli
from nbaprops.core.db import connect
from nbaprops.core.markets import LINE_BANDS
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import market_of_key
from nbaprops.grading.grade import grade_date
from nbaprops.pipeline.daily import run_daily
from nbaprops.pipeline.snapshot import publish_snapshot
from tests.api.conftest import copy_served
from tests.api.html import read_page
from tests.api.served import DAY, FIRST, PICK_ENV
from tests.conftest import CHAMPION_DAY, carry_champion

pytestmark = [pytest.mark.data, pytest.mark.slow]

REBOUNDS_MAX_LINE = 20.0  # every real rebounds line sits far below (16.5 in the data)
# The points answers' keys before markets (each gains ``market`` and nothing else).
PICKS_KEYS = {
    "date",
    "system",
    "model_version",
    "record",
    "verdict",
    "n_bets",
    "n_watchlist",
    "exposure_pct",
    "kelly_fraction",
    "unit_pct",
    "caps",
    "picks",
}
PREDICTIONS_KEYS = {"date", "system", "alias", "n", "predictions"}
SIGNALS_KEYS = {"date", "signals"}


def get(client: TestClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    return r.json() if "json" in r.headers["content-type"] else r.text


@pytest.fixture(scope="module")
def markets(
    served: Settings, market_champions_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The served warehouse, given the session's default rebounds champion (bootstrapped
    before DAY, as a daily run on a warehouse without a rebounds model does: done once per
    session), after one real daily run of DAY on points and rebounds."""
    assert DAY == CHAMPION_DAY
    settings = copy_served(served, tmp_path_factory.mktemp("markets"))
    with connect(settings.paths.db) as con:
        carried = carry_champion(market_champions_warehouse, con, "rebounds")
        assert carried == "catboost_full@1"
        result = run_daily(con, settings, DAY, skip_ingest=True, markets=("points", "rebounds"))
    assert result.bootstrapped is None  # the rebounds champion was there: none trained
    assert result.snapshot
    return settings


@pytest.fixture(scope="module")
def mclient(markets: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(markets)) as c:
        yield c


@pytest.fixture(scope="module")
def graded(markets: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """``markets`` with DAY graded (both markets), published: a track record per market."""
    settings = copy_served(markets, tmp_path_factory.mktemp("graded"))
    with connect(settings.paths.db) as con:
        result = grade_date(con, DAY)
        assert result.graded > 0
        publish_snapshot(con)
    return settings


@pytest.fixture(scope="module")
def gclient(graded: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(graded)) as c:
        yield c


def stored(settings: Settings, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connect(settings.paths.db, read_only=True) as con:
        return con.execute(sql, params).fetchall()


# --- JSON ----------------------------------------------------------------------------


def test_picks_of_rebounds_are_the_rebounds_champions_and_points_stay_as_they_were(
    client: TestClient, mclient: TestClient, markets: Settings
) -> None:
    reb = get(mclient, "/picks?market=rebounds")
    assert reb["market"] == "rebounds"
    assert reb["date"] == str(DAY)
    assert reb["system"] == "catboost_full"
    assert reb["record"]["market"] == "rebounds"
    assert reb["picks"], "the rebounds champion made no pick on a full slate"
    assert {p["market"] for p in reb["picks"]} == {"rebounds"}
    assert max(p["line"] for p in reb["picks"]) < REBOUNDS_MAX_LINE
    assert min(p["line"] for p in reb["picks"]) >= LINE_BANDS["rebounds"][0]
    ((n_stored,),) = stored(
        markets,
        "SELECT count(*) FROM predictions.pick WHERE game_date = ? AND is_active "
        "AND alias = 'champion' AND market = 'rebounds'",
        [DAY],
    )
    assert len(reb["picks"]) == n_stored
    # a feed key names the same market
    assert get(mclient, "/picks?market=player_rebounds") == reb

    points = get(mclient, "/picks")
    assert set(points) == PICKS_KEYS | {"market"}
    assert points["market"] == "points"
    assert {p["market"] for p in points["picks"]} == {"points"}
    assert max(p["line"] for p in points["picks"]) > REBOUNDS_MAX_LINE  # points-sized lines
    # the points answer is the points-only warehouse's, figure for figure
    assert points == get(client, "/picks")
    assert get(mclient, "/picks?market=points") == points


def test_predictions_per_market_and_the_cache_never_serves_one_for_another(
    client: TestClient, mclient: TestClient, markets: Settings
) -> None:
    points = get(mclient, f"/predictions?date={DAY}")
    reb = get(mclient, f"/predictions?date={DAY}&market=rebounds")  # same date, cached apart
    assert set(points) == PREDICTIONS_KEYS | {"market"}
    assert (points["market"], reb["market"]) == ("points", "rebounds")
    ((n_reb,),) = stored(
        markets,
        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND is_active "
        "AND market = 'rebounds'",
        [DAY],
    )
    assert reb["n"] == len(reb["predictions"]) == n_reb > 0
    assert {p["system_id"] for p in reb["predictions"]} == {"catboost_full"}
    lines = [p["line"] for p in reb["predictions"] if p["line"] is not None]
    assert lines
    assert max(lines) < REBOUNDS_MAX_LINE
    assert max(p["median"] for p in reb["predictions"]) < 25  # rebounds, not points
    assert points == get(client, f"/predictions?date={DAY}")
    assert {p["system_id"] for p in points["predictions"]} == {"season_average", "moving_average"}
    # asked again (cached now), each market still answers its own rows
    assert get(mclient, f"/predictions?date={DAY}&market=rebounds") == reb
    assert get(mclient, f"/predictions?date={DAY}") == points


def test_signal_labels_another_market_and_points_keep_theirs(
    client: TestClient, mclient: TestClient
) -> None:
    points = get(mclient, "/signal")
    assert set(points) == SIGNALS_KEYS | {"market"}
    assert set(points["signals"]) == {"season_average@champion", "moving_average@challenger"}
    assert points == get(client, "/signal")
    reb = get(mclient, "/signal?market=rebounds")
    assert reb["market"] == "rebounds"
    assert set(reb["signals"]) == {"catboost_full@champion (rebounds)"}
    assert reb["signals"]["catboost_full@champion (rebounds)"]["system_id"] == "catboost_full"


def test_health_lists_each_alias_with_its_market(mclient: TestClient) -> None:
    models = {(m["system_id"], m["alias"], m["market"]) for m in get(mclient, "/health")["models"]}
    assert models == {
        ("season_average", "champion", "points"),
        ("moving_average", "challenger", "points"),
        ("catboost_full", "champion", "rebounds"),
    }


def test_grading_and_bets_never_mix_markets(gclient: TestClient, graded: Settings) -> None:
    period = f"start={FIRST}&end={DAY}"
    reb = get(gclient, f"/grading?{period}&market=rebounds")
    points = get(gclient, f"/grading?{period}")
    assert (reb["market"], points["market"]) == ("rebounds", "points")
    assert {s["system"] for s in reb["systems"]} == {"catboost_full"}
    assert {s["system"] for s in points["systems"]} == {"season_average", "moving_average"}
    ((n_reb,),) = stored(
        graded,
        "SELECT count(*) FROM predictions.prediction p JOIN grading.grade g USING "
        "(prediction_id) WHERE p.market = 'rebounds' AND p.is_active AND NOT p.in_sample "
        "AND p.line_source = 'ACTUAL' AND p.line_kind = 'sportsbook' "
        "AND g.direction_vs_consensus <> 'void'",
        [],
    )
    (book,) = [s for s in reb["systems"] if s["line_kind"] == "sportsbook"]
    assert book["n"] == n_reb > 0
    assert [c["system_id"] for c in reb["completeness"]] == ["catboost_full"]
    assert book["model_mae"] < 5  # rebounds-sized errors (points' are larger)

    bets = get(gclient, f"/bets?{period}&market=rebounds")
    assert bets["market"] == "rebounds"
    (ledger,) = bets["systems"]
    assert ledger["system"] == "catboost_full"
    assert {b["market"] for b in ledger["bets"]} == {"rebounds"}
    n_bets = len(
        [p for p in get(gclient, "/picks?market=rebounds")["picks"] if p["status"] == "BET"]
    )
    assert len(ledger["bets"]) == n_bets > 0
    assert all(b["result"] for b in ledger["bets"])  # DAY graded
    points_bets = get(gclient, f"/bets?{period}")
    assert {b["market"] for s in points_bets["systems"] for b in s["bets"]} == {"points"}

    # the command line's ledger of a market is the API's
    result = CliRunner().invoke(
        cli,
        [
            "bets",
            "--start",
            str(FIRST),
            "--end",
            str(DAY),
            "--market",
            "rebounds",
            "--db",
            str(graded.paths.db),
            "--json",
        ],
        env=PICK_ENV,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(bets, default=str))


def test_a_players_predictions_are_of_the_market_asked(mclient: TestClient) -> None:
    reb = get(mclient, f"/predictions?date={DAY}&market=rebounds")["predictions"]
    player_id = reb[0]["player_id"]
    page = get(mclient, f"/players/{player_id}?market=rebounds")
    assert page["market"] == "rebounds"
    assert page["predictions"]
    assert {p["system_id"] for p in page["predictions"]} == {"catboost_full"}
    assert all(p["median"] < 25 for p in page["predictions"])
    points = get(mclient, f"/players/{player_id}")
    assert points["market"] == "points"
    assert "catboost_full" not in {p["system_id"] for p in points["predictions"]}


# --- pages ---------------------------------------------------------------------------


def test_tonight_shows_one_market_names_it_and_links_the_others(mclient: TestClient) -> None:
    text = get(mclient, f"/?date={DAY}&market=rebounds")
    page = read_page(text)
    assert '<span class="note" id="market-name">Rebounds</span>' in text
    assert f"/?date={DAY}&market=points" in page.links  # the switcher
    assert 'aria-current="page" data-market="rebounds"' in text
    rows = page.tables["slate"]
    assert rows
    assert {r[2].split()[0] for r in rows} == {"catboost_full"}
    shown = sorted(float(r[3].split()[0]) for r in rows if "sportsbook" in r[3])
    reb = get(mclient, f"/predictions?date={DAY}&market=rebounds&alias=champion")["predictions"]
    assert shown == sorted(p["line"] for p in reb if p["line_kind"] == "sportsbook")
    assert max(shown) < REBOUNDS_MAX_LINE
    assert "catboost_full@champion (rebounds)" in text  # its signal, with the aliased ones
    assert "/ui/track?system=catboost_full&market=rebounds" in page.links

    points = get(mclient, f"/?date={DAY}")
    assert '<span class="note" id="market-name">Points</span>' in points
    assert f"/?date={DAY}&market=rebounds" in read_page(points).links
    assert "catboost_full" not in points


def test_the_track_page_is_of_one_market(gclient: TestClient) -> None:
    period = f"start={FIRST}&end={DAY}"
    text = get(gclient, f"/ui/track?{period}&market=rebounds")
    assert "Track record: catboost_full" in text
    assert '<span class="note" id="market-name">Rebounds</span>' in text
    assert "/ui/track?market=points" in read_page(text).links
    (book,) = [
        s
        for s in get(gclient, f"/grading?{period}&market=rebounds")["systems"]
        if s["line_kind"] == "sportsbook"
    ]
    assert f"N={book['bets']:,}" in text
    assert f"{book['hit_rate'] * 100:.1f}%" in text
    assert re.search(r"mean CLV \(rebounds\)", text)

    points = get(gclient, f"/ui/track?{period}")
    assert '<span class="note" id="market-name">Points</span>' in points
    assert "catboost_full" not in points  # no rebounds system among the points ones
    assert "/ui/track?market=rebounds" in read_page(points).links


def test_an_unknown_market_on_the_real_warehouse_is_one_line_listing_the_known(
    mclient: TestClient,
) -> None:
    detail = get(mclient, "/picks?market=steals", 400)["detail"]
    assert detail == (
        "unknown market 'steals': use one of points, rebounds, assists, threes, pra, pr, pa, ra"
    )
    page = read_page(get(mclient, "/?market=steals", 400))
    assert page.errors == [detail]


def _player_with_rebounds_line(mclient: TestClient) -> int:
    reb = get(mclient, f"/predictions?date={DAY}&market=rebounds&alias=champion")["predictions"]
    return int(next(p["player_id"] for p in reb if p["line_kind"] == "sportsbook"))


def _shown_line(cell: str) -> float | None:
    return None if cell == "–" else float(cell.split(maxsplit=1)[0])


def test_a_players_page_of_rebounds_shows_their_rebounds_and_the_rebounds_line(
    client: TestClient, mclient: TestClient, markets: Settings
) -> None:
    player_id = _player_with_rebounds_line(mclient)
    text = get(mclient, f"/ui/players/{player_id}?date={DAY}&market=rebounds")
    page = read_page(text)
    assert '<span class="note" id="market-name">Rebounds</span>' in text
    assert 'aria-current="page" data-market="rebounds"' in text
    assert f"/ui/players/{player_id}?date={DAY}&market=points" in page.links
    games = page.tables["player-games"]
    box = stored(
        markets,
        "SELECT game_id, reb, points FROM core.player_game WHERE player_id = ? "
        "AND game_date <= ? ORDER BY game_date DESC LIMIT 20",
        [player_id, DAY],
    )
    assert len(games) == len(box) > 0
    assert [row[3] for row in games] == [str(b[1]) for b in box]  # rebounds, from box scores
    assert [row[3] for row in games] != [str(b[2]) for b in box]  # ... not the points
    lines = dict(
        stored(
            markets,
            "SELECT game_id, line FROM core.market_line WHERE market = 'rebounds' "
            "AND player_id = ? QUALIFY row_number() OVER ("
            "PARTITION BY game_id ORDER BY line_kind = 'sportsbook' DESC) = 1",
            [player_id],
        )
    )
    assert [_shown_line(row[4]) for row in games] == [lines.get(b[0]) for b in box]
    assert lines.get(box[0][0]) is not None  # DAY's game has its rebounds line
    assert max(v for v in lines.values()) < REBOUNDS_MAX_LINE
    assert games[0][5].split()[0] != "–"  # the rebounds champion's median of DAY
    assert "catboost_full@champion" in text
    chart = page.svgs[0]
    assert "rebounds" in chart["desc"]

    # the JSON answer carries the same: the market's outcome as ``actual``, its line
    answer = get(mclient, f"/players/{player_id}?date={DAY}&market=rebounds")
    assert [g["actual"] for g in answer["games"]] == [b[1] for b in box]
    assert [g["line"] for g in answer["games"]] == [lines.get(b[0]) for b in box]
    # points: the points-only warehouse's games, plus ``actual`` (the points)
    points = get(mclient, f"/players/{player_id}?date={DAY}")
    before = get(client, f"/players/{player_id}?date={DAY}")
    assert [g["actual"] for g in points["games"]] == [g["points"] for g in points["games"]]
    assert [{k: v for k, v in g.items() if k != "actual"} for g in points["games"]] == [
        {k: v for k, v in g.items() if k != "actual"} for g in before["games"]
    ]
    assert "catboost_full" not in get(mclient, f"/ui/players/{player_id}?date={DAY}")


def test_a_combo_markets_player_answer_sums_its_box_score_columns(
    mclient: TestClient, markets: Settings
) -> None:
    player_id = _player_with_rebounds_line(mclient)
    answer = get(mclient, f"/players/{player_id}?date={DAY}&market=pra")
    assert answer["market"] == "pra"
    box = stored(
        markets,
        "SELECT points, reb, ast FROM core.player_game WHERE player_id = ? AND game_date <= ? "
        "ORDER BY game_date DESC LIMIT 20",
        [player_id, DAY],
    )
    assert [g["actual"] for g in answer["games"]] == [sum(b) for b in box]
    n_lines = stored(
        markets,
        "SELECT count(DISTINCT game_id) FROM core.market_line WHERE market = 'pra' "
        "AND player_id = ? AND game_date <= ? AND game_id IN (SELECT game_id FROM "
        "core.player_game WHERE player_id = ? AND game_date <= ? "
        "ORDER BY game_date DESC LIMIT 20)",
        [player_id, DAY, player_id, DAY],
    )[0][0]
    assert sum(1 for g in answer["games"] if g["line"] is not None) == n_lines
    page = read_page(get(mclient, f"/ui/players/{player_id}?date={DAY}&market=pra"))
    assert [row[3] for row in page.tables["player-games"]] == [str(sum(b)) for b in box]


def test_tonights_player_links_carry_its_market(mclient: TestClient) -> None:
    reb = read_page(get(mclient, f"/?date={DAY}&market=rebounds")).links
    players = [link for link in reb if link.startswith("/ui/players/")]
    assert players
    assert all(link.endswith(f"?date={DAY}&market=rebounds") for link in players)
    points = read_page(get(mclient, f"/?date={DAY}")).links
    assert all(link.endswith(f"?date={DAY}") for link in points if "/ui/players/" in link)


def test_an_unknown_market_on_a_player_page_is_the_error_page_listing_the_known(
    mclient: TestClient,
) -> None:
    player_id = _player_with_rebounds_line(mclient)
    page = read_page(get(mclient, f"/ui/players/{player_id}?market=steals", 400))
    assert page.errors == [
        "unknown market 'steals': use one of points, rebounds, assists, threes, pra, pr, pa, ra"
    ]
    page = read_page(get(mclient, "/ui/models?market=steals", 400))
    assert len(page.errors) == 1
    assert "use one of points, rebounds" in page.errors[0]


def test_the_models_page_shows_each_versions_market_and_filters_one(
    mclient: TestClient, markets: Settings
) -> None:
    registered = stored(
        markets,
        "SELECT system_id, version, feature_set, feature_set_version FROM models.version",
        [],
    )
    by_market: dict[str, set[tuple[str, str]]] = {}
    for system, version, fs, fs_version in registered:
        market = market_of_key(f"{fs}_v{fs_version}")
        by_market.setdefault(market, set()).add((system, str(version)))
    assert set(by_market) == {"points", "rebounds"}
    champions = {
        (market, system, str(version))
        for system, market, version in stored(
            markets,
            "SELECT system_id, market, version FROM models.alias WHERE alias = 'champion'",
            [],
        )
    }
    assert {c[0] for c in champions} == {"points", "rebounds"}

    every = read_page(get(mclient, "/ui/models?versions=all"))
    rows = every.tables["versions"]
    assert {(r[0], r[1], r[3]) for r in rows} == {
        (s, v, m) for m, versions in by_market.items() for s, v in versions
    }
    assert {(r[0], r[1], r[2]) for r in every.tables["champions"]} == champions
    assert "/ui/models?market=rebounds&versions=all" in every.links

    text = get(mclient, "/ui/models?market=rebounds&versions=all")
    assert '<span class="note" id="market-name">Rebounds</span>' in text
    reb = read_page(text)
    assert {(r[0], r[1]) for r in reb.tables["versions"]} == by_market["rebounds"]
    assert {r[3] for r in reb.tables["versions"]} == {"rebounds"}
    assert {(r[0], r[1], r[2]) for r in reb.tables["champions"]} == {
        c for c in champions if c[0] == "rebounds"
    }
    points = read_page(get(mclient, "/ui/models?market=points&versions=all"))
    assert {(r[0], r[1]) for r in points.tables["versions"]} == by_market["points"]
    assert "catboost_full" not in {r[1] for r in points.tables["champions"]}
