"""Live clients replayed from recorded responses: same files as the public datasets, no sockets."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from nbaprops.core.db import connect
from nbaprops.core.errors import LiveSourceError
from nbaprops.core.settings import Http
from nbaprops.ingest import sources
from nbaprops.ingest.live import (
    DEFAULT_MARKETS,
    fetch_nba_gamelogs,
    fetch_odds_props,
    odds_api_key,
)
from nbaprops.ingest.loader import ingest_dir, load_file
from nbaprops.ingest.transport import HttpTransport
from nbaprops.warehouse.migrate import migrate
from tests.replay import Replay

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "live"
ODDS_DAY = date(2024, 3, 10)
EARLY_GAME = "b897de99eed5e829d52d93a078ce4db4"  # Bucks @ Clippers, 2024-03-10T19:10Z
LATE_GAME = "aca24cd0644b7afb7edf2de46f01c241"  # Wolves @ Lakers, 2024-03-11T01:40Z = 3/10 ET
SECRET = "sk-test-4f1d9c0b7e"

# Header lines exactly as in the public files under shared/data.
PLAYER_HEADER = (
    "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,"
    "MATCHUP,WL,MIN,PTS,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,"
    "BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL"
)
TEAM_HEADER = (
    "SEASON_ID,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,PTS,FGM,FGA,"
    "FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,PLUS_MINUS,SEASON"
)
ODDS_HEADER = (
    ",outcomes_name,outcomes_description,outcomes_price,outcomes_point,id,sport_key,sport_title,"
    "commence_time,home_team,away_team,bookmakers.key,bookmakers.title,bookmakers.last_update,"
    "bookmakers.markets.key,bookmakers.markets.last_update"
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def nba_route(url: str, params: Mapping[str, Any]) -> Any:
    assert url == "https://stats.nba.com/stats/leaguegamelog"
    mode = {"P": "player", "T": "team"}[params["PlayerOrTeam"]]
    return fixture(f"nba_leaguegamelog_{mode}_2024-25.json")


def odds_route(url: str, params: Mapping[str, Any]) -> Any:
    if url.endswith("/events"):
        return fixture("odds_events_2024-03-10.json")
    event_id = url.rsplit("/", 2)[-2]
    return fixture(f"odds_event_{event_id}.json")


def historical_route(url: str, params: Mapping[str, Any]) -> Any:
    return {
        "timestamp": params["date"],
        "previous_timestamp": None,
        "data": odds_route(url, params),
    }


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(":memory:") as connection:
        migrate(connection)
        yield connection


def header_of(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return handle.readline().rstrip("\n")


def test_nba_client_writes_player_logs_the_file_loader_reads(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    transport = Replay(nba_route)
    player_path, _ = fetch_nba_gamelogs("2024-25", "regular", tmp_path, transport, http=Http())

    assert player_path == tmp_path / "nba_api/player_logs/player_logs_2024-25.csv.gz"
    assert header_of(player_path) == PLAYER_HEADER
    result = load_file(con, sources.NBA_PLAYER_LOGS, player_path)
    assert (result.status, result.n_loaded, result.n_quarantined) == ("loaded", 9, 0)
    lavine = con.execute(
        "SELECT game_id, pts, min, matchup, game_date FROM raw.nba_player_log "
        "WHERE player_name = 'Zach LaVine'"
    ).fetchall()
    assert lavine == [("0022400108", 30, 35.0, "CHI @ MEM", date(2024, 10, 28))]
    luka = con.execute(
        "SELECT pts FROM raw.nba_player_log WHERE player_name = 'Luka Dončić'"
    ).fetchone()
    assert luka == (15,)


def test_nba_client_keeps_game_ids_zero_padded_and_drops_api_only_columns(
    tmp_path: Path,
) -> None:
    player_path, _ = fetch_nba_gamelogs(
        "2024-25", "regular", tmp_path, Replay(nba_route), http=Http()
    )
    with gzip.open(player_path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    assert "FANTASY_PTS" not in text
    assert "VIDEO_AVAILABLE" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["GAME_ID"] for r in rows} == {"0022400108", "0022400110"}
    assert {r["SEASON_LABEL"] for r in rows} == {"2024-25"}
    edey = next(r for r in rows if r["PLAYER_NAME"] == "Zach Edey")
    assert edey["FT_PCT"] == ""


def test_nba_client_writes_team_logs_the_file_loader_reads(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    _, team_path = fetch_nba_gamelogs(
        "2024-25", "regular", tmp_path, Replay(nba_route), http=Http()
    )

    assert team_path == tmp_path / "nba_api/team_logs/nba_games_2024_25.csv.gz"
    assert header_of(team_path) == TEAM_HEADER
    result = load_file(con, sources.NBA_TEAM_LOGS, team_path)
    assert (result.status, result.n_loaded, result.n_quarantined) == ("loaded", 4, 0)
    rows = con.execute(
        "SELECT team_abbreviation, game_id, pts, plus_minus FROM raw.nba_team_log "
        "WHERE game_id = '0022400108' ORDER BY team_abbreviation"
    ).fetchall()
    assert rows == [("CHI", "0022400108", 126, 3.0), ("MEM", "0022400108", 123, -3.0)]


def test_nba_client_asks_stats_nba_com_what_nba_api_would(tmp_path: Path) -> None:
    transport = Replay(nba_route)
    fetch_nba_gamelogs("2024-25", "playoffs", tmp_path, transport, http=Http())

    assert [r.params["PlayerOrTeam"] for r in transport.requests] == ["P", "T"]
    for request in transport.requests:
        assert request.url == "https://stats.nba.com/stats/leaguegamelog"
        assert request.params["Season"] == "2024-25"
        assert request.params["SeasonType"] == "Playoffs"
        assert request.params["LeagueID"] == "00"
        assert request.headers["Referer"] == "https://www.nba.com/"
        assert "User-Agent" in request.headers
    assert (tmp_path / "nba_api/player_logs/player_logs_2024-25_playoffs.csv.gz").is_file()
    assert (tmp_path / "nba_api/team_logs/nba_games_2024_25_playoffs.csv.gz").is_file()


def test_refetching_unchanged_logs_is_an_unchanged_file_for_the_loader(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    player_path, _ = fetch_nba_gamelogs(
        "2024-25", "regular", tmp_path, Replay(nba_route), http=Http()
    )
    load_file(con, sources.NBA_PLAYER_LOGS, player_path)
    fetch_nba_gamelogs("2024-25", "regular", tmp_path, Replay(nba_route), http=Http())

    assert load_file(con, sources.NBA_PLAYER_LOGS, player_path).status == "unchanged"
    assert not list(player_path.parent.glob("*.part"))


def test_odds_client_writes_the_same_format_the_file_loader_reads(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    transport = Replay(odds_route, {"x-requests-remaining": "480", "x-requests-used": "20"})
    result = fetch_odds_props(
        ODDS_DAY,
        tmp_path,
        SECRET,
        transport,
        http=Http(),
        markets=("player_points", "player_rebounds"),
        fetched_at=datetime(2024, 3, 10, 20, 5, 9, tzinfo=UTC),
    )

    assert result.path == (
        tmp_path / "odds_api/player_props_live/data_points_2024-03-10_200509Z.csv.gz"
    )
    assert result.responses_dir == tmp_path / "odds_api/responses/2024-03-10/200509Z"
    assert (result.n_events, result.n_rows) == (2, 72)
    assert (result.requests_remaining, result.requests_used) == (480, 20)
    assert header_of(result.path) == ODDS_HEADER
    loaded = load_file(con, sources.ODDS_API_PROPS, result.path)
    assert (loaded.status, loaded.n_loaded, loaded.n_quarantined) == ("loaded", 72, 0)
    portis = con.execute(
        "SELECT side, price, line FROM raw.odds_api_outcome "
        "WHERE player = 'Bobby Portis' AND book = 'draftkings' AND market = 'player_points' "
        "ORDER BY side"
    ).fetchall()
    assert portis == [("Over", -135.0, 15.5), ("Under", 105.0, 15.5)]
    with gzip.open(result.path, "rt", encoding="utf-8") as handle:
        index = [row[0] for row in csv.reader(handle)][1:]
    assert index == [str(i) for i in range(72)]


def test_odds_client_asks_for_the_eastern_day_in_utc_and_each_events_markets(
    tmp_path: Path,
) -> None:
    transport = Replay(odds_route)
    fetch_odds_props(ODDS_DAY, tmp_path, SECRET, transport, http=Http())

    events, *odds = transport.requests
    assert events.url == "https://api.the-odds-api.com/v4/sports/basketball_nba/events"
    # DST began on 2024-03-10: the ET day starts at 05:00Z and ends at 03:59:59Z.
    assert events.params == {
        "apiKey": SECRET,
        "commenceTimeFrom": "2024-03-10T05:00:00Z",
        "commenceTimeTo": "2024-03-11T03:59:59Z",
    }
    assert [r.url for r in odds] == [
        f"https://api.the-odds-api.com/v4/sports/basketball_nba/events/{e}/odds"
        for e in (EARLY_GAME, LATE_GAME)
    ]
    for request in odds:
        assert request.params == {
            "apiKey": SECRET,
            "regions": "us",
            "markets": ",".join(DEFAULT_MARKETS),
            "oddsFormat": "american",
        }


def test_odds_client_keeps_every_raw_response_as_received(tmp_path: Path) -> None:
    at = datetime(2024, 3, 10, 16, 0, tzinfo=UTC)
    result = fetch_odds_props(
        ODDS_DAY, tmp_path, SECRET, Replay(odds_route), http=Http(), fetched_at=at
    )

    kept = tmp_path / "odds_api/responses/2024-03-10/160000Z"
    assert result.responses_dir == kept
    assert sorted(p.name for p in kept.iterdir()) == sorted(
        ["events.json", f"{EARLY_GAME}.json", f"{LATE_GAME}.json"]
    )
    assert json.loads((kept / "events.json").read_text()) == fixture("odds_events_2024-03-10.json")
    assert json.loads((kept / f"{LATE_GAME}.json").read_text()) == fixture(
        f"odds_event_{LATE_GAME}.json"
    )


def test_odds_client_skips_events_outside_the_eastern_day(tmp_path: Path) -> None:
    def route(url: str, params: Mapping[str, Any]) -> Any:
        payload = odds_route(url, params)
        if url.endswith("/events"):
            payload.append(
                {**payload[0], "id": "next0day", "commence_time": "2024-03-11T23:00:00Z"}
            )
        return payload

    transport = Replay(route)
    result = fetch_odds_props(ODDS_DAY, tmp_path, SECRET, transport, http=Http())

    assert result.n_events == 2
    assert not any("next0day" in r.url for r in transport.requests)


def test_historical_odds_use_snapshot_endpoints_before_the_first_tipoff(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    transport = Replay(historical_route)
    result = fetch_odds_props(
        ODDS_DAY,
        tmp_path,
        SECRET,
        transport,
        http=Http(),
        markets=("player_points", "player_rebounds"),
        historical=True,
    )

    events, *odds = transport.requests
    assert events.url == "https://api.the-odds-api.com/v4/historical/sports/basketball_nba/events"
    assert events.params["date"] == "2024-03-10T05:00:00Z"
    assert {r.params["date"] for r in odds} == {"2024-03-10T17:10:00Z"}
    assert all("/v4/historical/sports/basketball_nba/events/" in r.url for r in odds)
    assert result.snapshot_time == datetime(2024, 3, 10, 17, 10, tzinfo=UTC)
    assert load_file(con, sources.ODDS_API_PROPS, result.path).n_loaded == 72


def test_a_day_without_games_writes_an_empty_file_that_still_loads(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    result = fetch_odds_props(
        ODDS_DAY, tmp_path, SECRET, Replay(lambda url, params: []), http=Http()
    )

    assert (result.n_events, result.n_rows) == (0, 0)
    assert header_of(result.path) == ODDS_HEADER
    assert load_file(con, sources.ODDS_API_PROPS, result.path).n_loaded == 0


def test_missing_odds_api_key_is_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODDS_API_KEY", raising=False)
    with pytest.raises(LiveSourceError, match=r"^The Odds API key not set: export ODDS_API_KEY="):
        odds_api_key(Http())

    monkeypatch.setenv("MY_ODDS_KEY", SECRET)
    assert odds_api_key(Http(odds_api_key_env="MY_ODDS_KEY")) == SECRET


def test_an_empty_api_key_is_refused_before_any_request(tmp_path: Path) -> None:
    transport = Replay(odds_route)
    with pytest.raises(LiveSourceError, match="key not set"):
        fetch_odds_props(ODDS_DAY, tmp_path, "", transport, http=Http())
    assert transport.requests == []


def response(
    status: int, body: Any = None, headers: Mapping[str, str] | None = None
) -> requests.Response:
    built = requests.Response()
    built.status_code = status
    built.reason = {200: "OK", 401: "Unauthorized", 429: "Too Many Requests"}.get(status, "Error")
    built._content = json.dumps(body if body is not None else {}).encode()
    built.headers.update(headers or {})
    return built


@dataclass
class FakeSession:
    """Stands in for ``requests.Session``: returns or raises scripted outcomes in order."""

    script: list[requests.Response | Exception]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"url": url, **kwargs})
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def transport_for(session: FakeSession, sleeps: list[float], **kwargs: Any) -> HttpTransport:
    return HttpTransport(
        retries=3,
        timeout_s=5.0,
        backoff_s=kwargs.pop("backoff_s", 0.0),
        session=session,  # type: ignore[arg-type]
        sleep=sleeps.append,
        **kwargs,
    )


def test_transport_retries_rate_limits_and_server_errors_then_succeeds() -> None:
    session = FakeSession(
        [
            response(429, {"message": "slow down"}),
            response(500),
            response(200, [{"id": "e1"}], {"X-Requests-Remaining": "7"}),
        ]
    )
    sleeps: list[float] = []
    payload, headers = transport_for(session, sleeps, backoff_s=1.0).get_json(
        "https://api.example.test/v4/x", {"apiKey": SECRET}
    )

    assert payload == [{"id": "e1"}]
    assert headers["x-requests-remaining"] == "7"
    assert len(session.calls) == 3
    assert sleeps == [1.0, 2.0]
    assert session.calls[0]["timeout"] == 5.0


def test_transport_gives_up_with_one_line_that_never_shows_the_api_key() -> None:
    session = FakeSession(
        [
            requests.ConnectionError(f"Max retries exceeded with url: /v4/x?apiKey={SECRET}"),
            requests.Timeout("read timed out"),
            response(503),
            response(429, {"message": f"quota for key {SECRET} exceeded"}),
        ]
    )
    with pytest.raises(LiveSourceError) as caught:
        transport_for(session, []).get_json("https://api.example.test/v4/x", {"apiKey": SECRET})

    message = str(caught.value)
    assert SECRET not in message
    assert "\n" not in message
    assert message.startswith("GET https://api.example.test/v4/x failed after 4 attempts")
    assert "HTTP 429" in message
    assert caught.value.__cause__ is None
    assert len(session.calls) == 4


def test_transport_does_not_retry_a_rejected_key() -> None:
    session = FakeSession([response(401, {"message": f"API key {SECRET} is not valid"})])
    with pytest.raises(LiveSourceError, match="HTTP 401 Unauthorized") as caught:
        transport_for(session, []).get_json("https://api.example.test/v4/x", {"apiKey": SECRET})

    assert SECRET not in str(caught.value)
    assert len(session.calls) == 1


def test_transport_pauses_politely_between_requests() -> None:
    session = FakeSession([response(200, {}), response(200, {})])
    sleeps: list[float] = []
    transport = transport_for(session, sleeps, delay_s=0.7, clock=lambda: 100.0)
    transport.get_json("https://stats.example.test/a", {})
    transport.get_json("https://stats.example.test/b", {})

    assert sleeps == [0.7]


def test_a_second_fetch_of_the_day_keeps_the_first_and_loads_beside_it(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """Each fetch is its own file: re-fetching tonight's props never replaces (and so is
    never refused as dropping) the quotes an earlier fetch saw."""
    first, second = (
        fetch_odds_props(ODDS_DAY, tmp_path, SECRET, Replay(odds_route), http=Http(), fetched_at=at)
        for at in (
            datetime(2024, 3, 10, 15, 0, tzinfo=UTC),
            datetime(2024, 3, 10, 22, 30, tzinfo=UTC),
        )
    )
    assert first.path != second.path
    assert first.path.exists()
    report = ingest_dir(con, tmp_path)
    # the recorded books quoted nothing new between the fetches: the second file holds the
    # same quotes, so it is unchanged, not a replacement of the first
    assert [(r.path, r.status) for r in report.results] == [
        (str(first.path), "loaded"),
        (str(second.path), "unchanged"),
    ]
    assert report.results[0].n_loaded == first.n_rows == second.n_rows
