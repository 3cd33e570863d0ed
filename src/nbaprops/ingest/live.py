"""Live clients for nba_api (stats.nba.com), the NBA's schedule JSON and The Odds API.

They write exactly the raw file formats the file loaders read
(``sources.NBA_PLAYER_LOGS``, ``NBA_TEAM_LOGS``, ``SCHEDULE``, ``GAME_LINES`` and
``ODDS_API_PROPS``), so a user without the public datasets fetches the same files and
everything downstream is unchanged. All HTTP goes through ``nbaprops.ingest.transport``;
Odds API responses are also kept as received, so the flattening can be replayed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import statistics
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from nbaprops.core.errors import LiveSourceError, NbapropsError
from nbaprops.core.settings import Http
from nbaprops.core.time import EASTERN, eastern_date, season_of
from nbaprops.ingest.transport import FileTransport, HttpStatusError, HttpTransport, Transport

_BOX_COLUMNS = (
    "MIN",
    "PTS",
    "FGM",
    "FGA",
    "FG_PCT",
    "FG3M",
    "FG3A",
    "FG3_PCT",
    "FTM",
    "FTA",
    "FT_PCT",
    "OREB",
    "DREB",
    "REB",
    "AST",
    "STL",
    "BLK",
    "TOV",
    "PF",
    "PLUS_MINUS",
)
_GAME_COLUMNS = ("GAME_ID", "GAME_DATE", "MATCHUP", "WL")

# Column order of the public nba_api files; the last column is added by us (season label).
PLAYER_LOG_COLUMNS: tuple[str, ...] = (
    "SEASON_ID",
    "PLAYER_ID",
    "PLAYER_NAME",
    "TEAM_ID",
    "TEAM_ABBREVIATION",
    "TEAM_NAME",
    *_GAME_COLUMNS,
    *_BOX_COLUMNS,
    "SEASON_LABEL",
)
TEAM_LOG_COLUMNS: tuple[str, ...] = (
    "SEASON_ID",
    "TEAM_ID",
    "TEAM_ABBREVIATION",
    "TEAM_NAME",
    *_GAME_COLUMNS,
    *_BOX_COLUMNS,
    "SEASON",
)
# Column order of the public Odds API prop files; the first column is an unnamed row index.
ODDS_PROPS_COLUMNS: tuple[str, ...] = (
    "",
    "outcomes_name",
    "outcomes_description",
    "outcomes_price",
    "outcomes_point",
    "id",
    "sport_key",
    "sport_title",
    "commence_time",
    "home_team",
    "away_team",
    "bookmakers.key",
    "bookmakers.title",
    "bookmakers.last_update",
    "bookmakers.markets.key",
    "bookmakers.markets.last_update",
)

DEFAULT_MARKETS: tuple[str, ...] = (
    "player_points",
    "player_rebounds",
    "player_assists",
    "player_threes",
    "player_points_rebounds_assists",
    "player_points_rebounds",
    "player_points_assists",
    "player_rebounds_assists",
)

SEASON_TYPES = {"regular": "Regular Season", "playoffs": "Playoffs", "playin": "PlayIn"}
_SEASON_FILE_SUFFIX = {"regular": "", "playoffs": "_playoffs", "playin": "_playin"}
ODDS_SPORT = "basketball_nba"
# The Odds API limits request frequency; a short pause keeps a slate well under it.
ODDS_API_DELAY_S = 0.2
# Historical snapshots are taken this long before the day's first tip-off.
HISTORICAL_LEAD = timedelta(hours=2)

# Column order of the public schedule file (``schedule/nba_2025_26_schedule.csv``).
SCHEDULE_COLUMNS: tuple[str, ...] = (
    "game_id",
    "season_type",
    "tip_utc",
    "tip_et",
    "away_team",
    "home_team",
    "venue",
    "city",
    "state",
    "national_tv",
    "home_rsns",
    "away_rsns",
    "international",
    "is_tbd",
)
# The schedule's season types by the game id's third digit. All-Star exhibitions (3)
# and the Cup final (6) are left out: no box score of theirs is ever graded.
SCHEDULE_SEASON_TYPES = {"1": "Preseason", "2": "Regular Season", "4": "Playoffs", "5": "PlayIn"}
# Column order of the public closing-line file (``game_lines/nba_2008-2025_raw.csv.gz``),
# up to the moneylines: the quarter scores and the rest are unknown before tip-off.
GAME_LINE_COLUMNS: tuple[str, ...] = (
    "season",
    "date",
    "regular",
    "playoffs",
    "away",
    "home",
    "score_away",
    "score_home",
    "whos_favored",
    "spread",
    "total",
    "moneyline_away",
    "moneyline_home",
)
GAME_LINE_MARKETS: tuple[str, ...] = ("spreads", "totals")

_SEASON = re.compile(r"^(\d{4})-(\d{2})$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class OddsFetchResult:
    """What one Odds API fetch wrote and how much quota is left."""

    path: Path
    responses_dir: Path
    n_events: int
    n_rows: int
    requests_remaining: int | None = None
    requests_used: int | None = None
    snapshot_time: datetime | None = None


@dataclass(frozen=True)
class GamelogFile:
    """One written game-log file and how many rows it holds."""

    path: Path
    mode: str  # "player" or "team"
    season_type: str  # a key of SEASON_TYPES
    n_rows: int


@dataclass(frozen=True)
class ScheduleFetchResult:
    """What one schedule fetch wrote: the season's games, and the games left out."""

    path: Path
    season: str
    n_games: int
    n_tbd: int  # tip-off time not set yet: left out until a later fetch knows it
    n_other: int  # All-Star exhibitions and the Cup final


@dataclass(frozen=True)
class GameLinesFetchResult:
    """What one Odds API game-lines fetch wrote (the books' median per game)."""

    path: Path
    responses_dir: Path
    n_games: int
    n_books: int
    n_unknown_teams: int
    requests_remaining: int | None = None
    requests_used: int | None = None


def fetch_nba_gamelogs(
    season: str,
    season_type: str,
    out_dir: Path,
    transport: Transport | None = None,
    *,
    http: Http,
) -> list[Path]:
    """Fetch a season's player and team game logs from stats.nba.com.

    Writes ``nba_api/player_logs/player_logs_<season>[_playoffs|_playin].csv.gz`` and
    ``nba_api/team_logs/nba_games_<yyyy_yy>[_playoffs|_playin].csv.gz`` under ``out_dir``.
    """
    written = fetch_gamelog_files(season, season_type, out_dir, transport, http=http)
    return [f.path for f in written]


def fetch_gamelog_files(
    season: str,
    season_type: str,
    out_dir: Path,
    transport: Transport | None = None,
    *,
    http: Http,
    since: date | None = None,
    until: date | None = None,
    skip_empty: bool = False,
) -> list[GamelogFile]:
    """Player and team game logs of a season type, optionally only games ``since`` …
    ``until`` (inclusive, US/Eastern game dates; the name then ends ``_from_<since>``, so
    a later fetch from the same date replaces it with a superset, and one from a later
    date adds a file beside it). ``skip_empty`` writes nothing when neither mode has a
    row (the play-in in December)."""
    _check_season(season)
    if season_type not in SEASON_TYPES:
        raise NbapropsError(
            f"unknown season type {season_type!r}: use one of {', '.join(SEASON_TYPES)}"
        )
    transport = transport or HttpTransport.from_settings(http, delay_s=http.nba_api_delay_s)
    suffix = _SEASON_FILE_SUFFIX[season_type] + (f"_from_{since.isoformat()}" if since else "")
    targets = (
        (
            "P",
            out_dir / "nba_api" / "player_logs" / f"player_logs_{season}{suffix}.csv.gz",
            PLAYER_LOG_COLUMNS,
        ),
        (
            "T",
            out_dir
            / "nba_api"
            / "team_logs"
            / f"nba_games_{season.replace('-', '_')}{suffix}.csv.gz",
            TEAM_LOG_COLUMNS,
        ),
    )
    fetched = []
    for mode, path, columns in targets:
        url, params, headers = leaguegamelog_request(
            season, SEASON_TYPES[season_type], mode, since=since, until=until
        )
        payload, _ = transport.get_json(url, params, headers)
        header, rows = parse_result_set(payload, "LeagueGameLog", url)
        fetched.append((mode, path, columns, _gamelog_records(header, rows, columns, season, url)))
    if skip_empty and not any(records for *_, records in fetched):
        return []
    written = []
    for mode, path, columns, records in fetched:
        _write_csv_gz(path, columns, records)
        kind = "player" if mode == "P" else "team"
        written.append(GamelogFile(path, kind, season_type, len(records)))
    return written


def leaguegamelog_request(
    season: str,
    season_type: str,
    mode: str,
    *,
    since: date | None = None,
    until: date | None = None,
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """URL, query and headers exactly as nba_api's ``LeagueGameLog`` would send them."""
    try:
        from nba_api.stats.endpoints.leaguegamelog import LeagueGameLog
        from nba_api.stats.library.http import NBAStatsHTTP
    except ImportError:
        raise LiveSourceError("nba_api is not installed: pip install 'nbaprops[live]'") from None
    endpoint = LeagueGameLog(
        season=season,
        season_type_all_star=season_type,
        player_or_team_abbreviation=mode,
        date_from_nullable=since.strftime("%m/%d/%Y") if since else "",
        date_to_nullable=until.strftime("%m/%d/%Y") if until else "",
        get_request=False,
    )
    url = NBAStatsHTTP.base_url.format(endpoint=endpoint.endpoint)
    params = dict(sorted(endpoint.parameters.items()))
    # requests cannot decode brotli without an extra package, so do not offer it.
    headers = {**NBAStatsHTTP.headers, "Accept-Encoding": "gzip, deflate"}
    return url, params, headers


def parse_result_set(payload: Any, name: str, url: str) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of one stats.nba.com result set (``resultSets`` or ``resultSet``)."""
    if not isinstance(payload, dict):
        raise LiveSourceError(f"{url}: unexpected response (not a JSON object)")
    sets = payload.get("resultSets", payload.get("resultSet"))
    if isinstance(sets, dict):
        sets = [sets]
    if not isinstance(sets, list) or not sets:
        raise LiveSourceError(f"{url}: unexpected response (no resultSets)")
    chosen = next((s for s in sets if isinstance(s, dict) and s.get("name") == name), sets[0])
    headers, rows = chosen.get("headers"), chosen.get("rowSet")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise LiveSourceError(f"{url}: unexpected response (result set without headers/rowSet)")
    return [str(h) for h in headers], rows


def _gamelog_records(
    header: list[str],
    rows: list[list[Any]],
    columns: Sequence[str],
    season: str,
    url: str,
) -> list[list[Any]]:
    """Rows in the file's column order; extra API columns dropped, season label appended."""
    api_columns = columns[:-1]
    index = {name: i for i, name in enumerate(header)}
    missing = [c for c in api_columns if c not in index]
    if missing:
        raise LiveSourceError(f"{url}: response lacks columns: {', '.join(missing)}")
    positions = [index[c] for c in api_columns]
    game_id_at = api_columns.index("GAME_ID")
    records = []
    for row in rows:
        record = [row[i] for i in positions]
        if isinstance(record[game_id_at], int):
            record[game_id_at] = f"{record[game_id_at]:010d}"
        records.append([*record, season])
    return records


def odds_api_key(http: Http) -> str:
    """The Odds API key from the environment variable the settings name."""
    key = os.environ.get(http.odds_api_key_env, "").strip()
    if not key:
        raise LiveSourceError(f"The Odds API key not set: export {http.odds_api_key_env}=...")
    return key


def eastern_day_bounds(day: date) -> tuple[datetime, datetime]:
    """First and last second (UTC) of the US/Eastern calendar day: game dates are ET."""
    start = datetime.combine(day, time.min, tzinfo=EASTERN)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=EASTERN)
    return start.astimezone(UTC), end.astimezone(UTC) - timedelta(seconds=1)


def fetch_odds_props(
    day: date,
    out_dir: Path,
    api_key: str,
    transport: Transport | None = None,
    markets: Sequence[str] = DEFAULT_MARKETS,
    historical: bool = False,
    *,
    http: Http,
    snapshot_time: datetime | None = None,
    fetched_at: datetime | None = None,
) -> OddsFetchResult:
    """Fetch every NBA event's player props for the ET day ``day`` from The Odds API v4.

    Each fetch writes its own file, ``odds_api/player_props_live/
    data_points_<day>_<HHMMSS>Z.csv.gz`` (one row per outcome; the time is when it was
    fetched, UTC), and keeps each raw response under ``odds_api/responses/<day>/
    <HHMMSS>Z/``: a second fetch of the day adds the quotes seen since and never
    replaces the earlier ones (they are the point-in-time record of the lines).
    ``historical`` reads the paid snapshot endpoints at ``snapshot_time``
    (default: two hours before the day's first tip-off).
    """
    if not api_key:
        raise LiveSourceError(f"The Odds API key not set: export {http.odds_api_key_env}=...")
    transport = transport or HttpTransport.from_settings(http, delay_s=ODDS_API_DELAY_S)
    root = http.odds_api_base_url.rstrip("/")
    prefix = (
        f"{root}/v4/historical/sports/{ODDS_SPORT}"
        if historical
        else f"{root}/v4/sports/{ODDS_SPORT}"
    )
    stamp = (fetched_at or datetime.now(UTC)).astimezone(UTC).strftime("%H%M%SZ")
    responses_dir = out_dir / "odds_api" / "responses" / day.isoformat() / stamp
    start, end = eastern_day_bounds(day)

    params: dict[str, Any] = {
        "apiKey": api_key,
        "commenceTimeFrom": _zulu(start),
        "commenceTimeTo": _zulu(end),
    }
    if historical:
        params["date"] = _zulu(snapshot_time or start)
    url = f"{prefix}/events"
    payload, headers = transport.get_json(url, params)
    _write_atomic(responses_dir / "events.json", _json_bytes(payload))
    events = [
        e
        for e in _expect_list(_unwrap(payload, historical, url), url)
        if eastern_date(_parse_instant(e.get("commence_time"), url)) == day
    ]

    odds_snapshot = snapshot_time
    if historical and odds_snapshot is None and events:
        odds_snapshot = (
            min(_parse_instant(e["commence_time"], url) for e in events) - HISTORICAL_LEAD
        )
    rows: list[list[Any]] = []
    for event in events:
        event_id = str(event.get("id", ""))
        if not _EVENT_ID.match(event_id):
            raise LiveSourceError(f"{url}: unexpected event id {event_id!r}")
        params = {
            "apiKey": api_key,
            "regions": http.odds_api_regions,
            "markets": ",".join(markets),
            "oddsFormat": "american",
        }
        if historical and odds_snapshot is not None:
            params["date"] = _zulu(odds_snapshot)
        odds_url = f"{prefix}/events/{event_id}/odds"
        payload, headers = transport.get_json(odds_url, params)
        _write_atomic(responses_dir / f"{event_id}.json", _json_bytes(payload))
        rows.extend(flatten_event_odds(_unwrap(payload, historical, odds_url), odds_url))

    path = (
        out_dir / "odds_api" / "player_props_live" / f"data_points_{day.isoformat()}_{stamp}.csv.gz"
    )
    _write_csv_gz(path, ODDS_PROPS_COLUMNS, ([i, *row] for i, row in enumerate(rows)))
    return OddsFetchResult(
        path=path,
        responses_dir=responses_dir,
        n_events=len(events),
        n_rows=len(rows),
        requests_remaining=_quota(headers, "x-requests-remaining"),
        requests_used=_quota(headers, "x-requests-used"),
        snapshot_time=odds_snapshot if historical else None,
    )


def flatten_event_odds(event: Any, url: str = "event odds") -> list[list[Any]]:
    """One row per outcome, in ``ODDS_PROPS_COLUMNS`` order without the index."""
    if not isinstance(event, dict):
        raise LiveSourceError(f"{url}: unexpected response (event odds is not a JSON object)")
    head = [
        event.get("id"),
        event.get("sport_key"),
        event.get("sport_title"),
        event.get("commence_time"),
        event.get("home_team"),
        event.get("away_team"),
    ]
    rows = []
    for book in event.get("bookmakers") or []:
        for market in book.get("markets") or []:
            for outcome in market.get("outcomes") or []:
                rows.append(
                    [
                        outcome.get("name"),
                        outcome.get("description"),
                        outcome.get("price"),
                        outcome.get("point"),
                        *head,
                        book.get("key"),
                        book.get("title"),
                        book.get("last_update"),
                        market.get("key"),
                        market.get("last_update"),
                    ]
                )
    return rows


def fetch_schedule(
    out_dir: Path,
    transport: Transport | None = None,
    *,
    http: Http,
) -> ScheduleFetchResult:
    """Fetch the season's schedule (the NBA's public ``scheduleLeagueV2`` JSON) with
    tip-off times, into ``schedule/nba_<yyyy>_<yy>_schedule_live.csv.gz``: one file per
    season, replaced by each fetch (a game is keyed by its id; a moved tip-off moves)."""
    transport = transport or HttpTransport.from_settings(http)
    url = http.nba_schedule_url
    payload, _ = transport.get_json(url, {}, {"Referer": "https://www.nba.com/"})
    season, rows, n_tbd, n_other = parse_schedule(payload, url)
    path = out_dir / "schedule" / f"nba_{season.replace('-', '_')}_schedule_live.csv.gz"
    _write_csv_gz(path, SCHEDULE_COLUMNS, rows)
    return ScheduleFetchResult(path, season, len(rows), n_tbd, n_other)


def parse_schedule(payload: Any, url: str = "schedule") -> tuple[str, list[list[Any]], int, int]:
    """(season, rows in ``SCHEDULE_COLUMNS`` order, games with no tip-off time yet, games
    of other types) from a ``scheduleLeagueV2`` payload."""
    league = payload.get("leagueSchedule") if isinstance(payload, dict) else None
    if not isinstance(league, dict) or not isinstance(league.get("gameDates"), list):
        raise LiveSourceError(f"{url}: unexpected response (no leagueSchedule.gameDates)")
    season = str(league.get("seasonYear", ""))
    _check_season(season)
    rows: list[list[Any]] = []
    n_tbd = n_other = 0
    for game_date in league["gameDates"]:
        for game in (game_date or {}).get("games") or []:
            game_id = str(game.get("gameId", ""))
            season_type = SCHEDULE_SEASON_TYPES.get(game_id[2:3])
            if season_type is None:
                n_other += 1
                continue
            tip = _schedule_tip(game, url)
            if tip is None:
                n_tbd += 1
                continue
            casts = game.get("broadcasters") or {}
            rows.append(
                [
                    game_id,
                    season_type,
                    _zulu(tip),
                    tip.astimezone(EASTERN).isoformat(),
                    _schedule_team(game.get("awayTeam"), game_id, url),
                    _schedule_team(game.get("homeTeam"), game_id, url),
                    game.get("arenaName") or "",
                    game.get("arenaCity") or "",
                    game.get("arenaState") or "",
                    _broadcasters(casts, "nationalBroadcasters"),
                    _broadcasters(casts, "homeTvBroadcasters"),
                    _broadcasters(casts, "awayTvBroadcasters"),
                    _broadcasters(casts, "intlTvBroadcasters"),
                    "false",
                ]
            )
    return season, rows, n_tbd, n_other


def _schedule_tip(game: Mapping[str, Any], url: str) -> datetime | None:
    """The UTC tip-off, or None when the league has not set it (``TBD``; a playoff game's
    midnight placeholder): such a game would place quotes against a wrong tip-off."""
    status = str(game.get("gameStatusText") or "").upper()
    text = game.get("gameDateTimeUTC")
    if "TBD" in status or not text:
        return None
    tip = _parse_instant(str(text).replace("Z", "+00:00"), url)
    if tip.astimezone(EASTERN).time() == time(0, 0):
        return None
    return tip


def _schedule_team(team: Any, game_id: str, url: str) -> str:
    """``"PHI (76ers)"``: tricode and nickname, as the public schedule file writes teams."""
    if not isinstance(team, dict) or not team.get("teamTricode"):
        raise LiveSourceError(f"{url}: game {game_id} has a team without a tricode")
    return f"{team['teamTricode']} ({team.get('teamName') or ''})"


def _broadcasters(casts: Mapping[str, Any], kind: str) -> str:
    names = [str(b.get("broadcasterDisplay") or "") for b in casts.get(kind) or []]
    return " / ".join(n for n in names if n)


def fetch_game_lines(
    day: date,
    out_dir: Path,
    api_key: str,
    team_codes: Mapping[str, str],
    transport: Transport | None = None,
    *,
    http: Http,
    season_types: Mapping[tuple[str, str], str] | None = None,
    fetched_at: datetime | None = None,
) -> GameLinesFetchResult:
    """Spreads and totals of the ET day's games from The Odds API v4 ``/odds``, written
    as the closing-line file's format (``game_lines/game_lines_live_<day>_<HHMMSS>Z.csv.gz``,
    one file per fetch): each game's consensus is the median over the books.

    ``team_codes`` maps the API's team names to the ESPN-style codes of that format;
    ``season_types`` maps (away, home) codes to a schedule season type, which fills the
    ``regular`` / ``playoffs`` columns (unknown: left empty).
    """
    if not api_key:
        raise LiveSourceError(f"The Odds API key not set: export {http.odds_api_key_env}=...")
    transport = transport or HttpTransport.from_settings(http, delay_s=ODDS_API_DELAY_S)
    stamp = (fetched_at or datetime.now(UTC)).astimezone(UTC).strftime("%H%M%SZ")
    responses_dir = out_dir / "odds_api" / "responses" / day.isoformat() / stamp
    start, end = eastern_day_bounds(day)
    url = f"{http.odds_api_base_url.rstrip('/')}/v4/sports/{ODDS_SPORT}/odds"
    params = {
        "apiKey": api_key,
        "regions": http.odds_api_regions,
        "markets": ",".join(GAME_LINE_MARKETS),
        "oddsFormat": "american",
        "commenceTimeFrom": _zulu(start),
        "commenceTimeTo": _zulu(end),
    }
    payload, headers = transport.get_json(url, params)
    _write_atomic(responses_dir / "game_lines.json", _json_bytes(payload))
    events = [
        e
        for e in _expect_list(payload, url)
        if eastern_date(_parse_instant(e.get("commence_time"), url)) == day
    ]
    rows, n_books, n_unknown = consensus_game_lines(events, day, team_codes, season_types or {})
    path = out_dir / "game_lines" / f"game_lines_live_{day.isoformat()}_{stamp}.csv.gz"
    _write_csv_gz(path, GAME_LINE_COLUMNS, rows)
    return GameLinesFetchResult(
        path=path,
        responses_dir=responses_dir,
        n_games=len(rows),
        n_books=n_books,
        n_unknown_teams=n_unknown,
        requests_remaining=_quota(headers, "x-requests-remaining"),
        requests_used=_quota(headers, "x-requests-used"),
    )


def consensus_game_lines(
    events: Sequence[Mapping[str, Any]],
    day: date,
    team_codes: Mapping[str, str],
    season_types: Mapping[tuple[str, str], str],
) -> tuple[list[list[Any]], int, int]:
    """(rows in ``GAME_LINE_COLUMNS`` order, distinct books quoted, events whose teams
    have no code). A game's spread is the median of the books' home points (its sign says
    who is favoured), its total the median of the books' Over points; a game no book
    quotes is left out."""
    season_end = int(season_of(day)[:4]) + 1
    rows: list[list[Any]] = []
    books: set[str] = set()
    n_unknown = 0
    for event in events:
        home_name, away_name = str(event.get("home_team")), str(event.get("away_team"))
        home, away = team_codes.get(home_name), team_codes.get(away_name)
        if home is None or away is None:
            n_unknown += 1
            continue
        home_points: list[float] = []
        totals: list[float] = []
        for book in event.get("bookmakers") or []:
            quoted = False
            for market in book.get("markets") or []:
                for outcome in market.get("outcomes") or []:
                    point = outcome.get("point")
                    if not isinstance(point, int | float):
                        continue
                    if market.get("key") == "spreads" and outcome.get("name") == home_name:
                        home_points.append(float(point))
                        quoted = True
                    elif market.get("key") == "totals" and outcome.get("name") == "Over":
                        totals.append(float(point))
                        quoted = True
            if quoted:
                books.add(str(book.get("key")))
        if not home_points and not totals:
            continue
        spread = statistics.median(home_points) if home_points else None
        season_type = season_types.get((away, home))
        rows.append(
            [
                season_end,
                day.isoformat(),
                _flag(season_type, "Regular Season"),
                _flag(season_type, "Playoffs"),
                away,
                home,
                "",
                "",
                "" if not spread else ("home" if spread < 0 else "away"),
                "" if spread is None else abs(spread),
                "" if not totals else statistics.median(totals),
                "",
                "",
            ]
        )
    return rows, len(books), n_unknown


def _flag(season_type: str | None, wanted: str) -> str:
    return "" if season_type is None else str(season_type == wanted)


def _check_season(season: str) -> None:
    match = _SEASON.match(season)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise NbapropsError(f"not a season (like 2024-25): {season!r}")


def _unwrap(payload: Any, historical: bool, url: str) -> Any:
    """Historical endpoints wrap the live payload in ``{"timestamp": ..., "data": ...}``."""
    if not historical:
        return payload
    if not isinstance(payload, dict) or "data" not in payload:
        raise LiveSourceError(f"{url}: unexpected response (no 'data' in historical snapshot)")
    return payload["data"]


def _expect_list(payload: Any, url: str) -> list[dict[str, Any]]:
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise LiveSourceError(f"{url}: unexpected response (events is not a JSON list)")
    return payload


def _parse_instant(text: Any, url: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(text))
    except ValueError:
        raise LiveSourceError(f"{url}: unexpected commence_time {text!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _zulu(instant: datetime) -> str:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quota(headers: Mapping[str, str], name: str) -> int | None:
    value = next((v for k, v in headers.items() if k.lower() == name), None)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _write_csv_gz(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Gzip CSV with a fixed gzip mtime, so an unchanged fetch has an unchanged hash."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    _write_atomic(path, gzip.compress(text.getvalue().encode("utf-8"), mtime=0))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target then rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the official injury report (PDF) ----------------------------------------------------

# The CDN answers a report that is not out yet (or never was) with one of these.
NOT_PUBLISHED_STATUSES = frozenset({403, 404})
# The report host is a static CDN: a browser's headers, and a short pause between files.
INJURY_REPORT_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "Referer": "https://www.nba.com/",
}
INJURY_REPORT_DELAY_S = 0.5


@dataclass(frozen=True)
class InjuryReportFile:
    """One fetched report: its CSV in the availability format and the PDF as received."""

    url: str
    csv_path: Path
    pdf_path: Path
    report_time_et: str
    n_rows: int


@dataclass(frozen=True)
class InjuryFetchResult:
    """What one injury-report fetch wrote (newest report first) and what it could not."""

    day: date
    reports: tuple[InjuryReportFile, ...]
    not_published: tuple[str, ...]  # file names the CDN answered 403/404
    unreadable: tuple[str, ...]  # one line per PDF that did not parse

    @property
    def n_rows(self) -> int:
        return sum(r.n_rows for r in self.reports)


def fetch_injury_reports(
    day: date,
    live_dir: Path,
    transport: FileTransport | None = None,
    now: datetime | None = None,
    *,
    http: Http,
    every: bool = False,
) -> InjuryFetchResult:
    """The official injury report(s) of the US/Eastern ``day`` due by ``now``: the latest
    published one (walking back from the newest due time past any the CDN does not have),
    or with ``every`` all of them. Each is written as ``availability/<name>.csv`` (the
    availability format) beside ``availability/pdf/<name>.pdf`` (the bytes as received,
    which the loader ignores). Raises ``LiveSourceError`` when none could be had."""
    from nbaprops.ingest.injury_pdf import (
        CSV_COLUMNS,
        parse_injury_report,
        published_at,
        report_slots,
        report_urls,
        source_file_of,
    )

    transport = transport or HttpTransport(
        retries=http.http_retries,
        timeout_s=http.http_timeout_s,
        delay_s=INJURY_REPORT_DELAY_S,
    )
    now = now or datetime.now(UTC)
    urls = report_urls(day, now)
    if not urls:
        first = published_at(report_slots(day)[0]).strftime("%Y-%m-%d %H:%M")
        raise LiveSourceError(
            f"injury report {day}: no report published yet (the first is due at {first} ET)"
        )
    out = live_dir / "availability"
    reports: list[InjuryReportFile] = []
    not_published: list[str] = []
    unreadable: list[str] = []
    for url in reversed(urls):
        name = url.rsplit("/", 1)[-1]
        try:
            pdf = transport.get_bytes(url, INJURY_REPORT_HEADERS)
        except HttpStatusError as exc:
            if exc.status not in NOT_PUBLISHED_STATUSES:
                raise
            not_published.append(f"HTTP {exc.status} for {name}")
            continue
        pdf_path = out / "pdf" / name
        _write_atomic(pdf_path, pdf)
        try:
            rows = parse_injury_report(pdf, source_file_of(url))
        except LiveSourceError as exc:
            unreadable.append(str(exc))
            continue
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(r.as_list() for r in rows)
        csv_path = out / f"{Path(name).stem}.csv"
        _write_atomic(csv_path, text.getvalue().encode("utf-8"))
        report_time = rows[0].report_time_et if rows else ""
        reports.append(InjuryReportFile(url, csv_path, pdf_path, report_time, len(rows)))
        if not every:
            break
    if not reports:
        why = unreadable[0] if unreadable else not_published[0]
        more = len(unreadable) + len(not_published) - 1
        what = "no readable report" if unreadable else "no report published yet"
        raise LiveSourceError(
            f"injury report {day}: {what} ({why}" + (f", and {more} earlier)" if more else ")")
        )
    return InjuryFetchResult(day, tuple(reports), tuple(not_published), tuple(unreadable))
