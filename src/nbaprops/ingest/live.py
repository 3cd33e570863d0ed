"""Live clients for nba_api (stats.nba.com) and The Odds API.

They write exactly the raw file formats the file loaders read
(``sources.NBA_PLAYER_LOGS``, ``NBA_TEAM_LOGS`` and ``ODDS_API_PROPS``), so a user
without the public datasets fetches the same files and everything downstream is
unchanged. All HTTP goes through ``nbaprops.ingest.transport``; Odds API responses
are also kept as received, so the flattening can be replayed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from nbaprops.core.errors import LiveSourceError, NbapropsError
from nbaprops.core.settings import Settings, get_settings
from nbaprops.core.time import EASTERN, eastern_date
from nbaprops.ingest.transport import HttpTransport, Transport

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

SEASON_TYPES = {"regular": "Regular Season", "playoffs": "Playoffs"}
ODDS_SPORT = "basketball_nba"
# The Odds API limits request frequency; a short pause keeps a slate well under it.
ODDS_API_DELAY_S = 0.2
# Historical snapshots are taken this long before the day's first tip-off.
HISTORICAL_LEAD = timedelta(hours=2)

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


def fetch_nba_gamelogs(
    season: str,
    season_type: str,
    out_dir: Path,
    transport: Transport | None = None,
    settings: Settings | None = None,
) -> list[Path]:
    """Fetch a season's player and team game logs from stats.nba.com.

    Writes ``nba_api/player_logs/player_logs_<season>[_playoffs].csv.gz`` and
    ``nba_api/team_logs/nba_games_<yyyy_yy>[_playoffs].csv.gz`` under ``out_dir``.
    """
    _check_season(season)
    if season_type not in SEASON_TYPES:
        raise NbapropsError(
            f"unknown season type {season_type!r}: use one of {', '.join(SEASON_TYPES)}"
        )
    settings = settings or get_settings()
    transport = transport or HttpTransport.from_settings(settings, delay_s=settings.nba_api_delay_s)
    suffix = "_playoffs" if season_type == "playoffs" else ""
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
    written = []
    for mode, path, columns in targets:
        url, params, headers = leaguegamelog_request(season, SEASON_TYPES[season_type], mode)
        payload, _ = transport.get_json(url, params, headers)
        header, rows = parse_result_set(payload, "LeagueGameLog", url)
        _write_csv_gz(path, columns, _gamelog_records(header, rows, columns, season, url))
        written.append(path)
    return written


def leaguegamelog_request(
    season: str, season_type: str, mode: str
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


def odds_api_key(settings: Settings | None = None) -> str:
    """The Odds API key from the environment variable named by the settings."""
    settings = settings or get_settings()
    key = os.environ.get(settings.odds_api_key_env, "").strip()
    if not key:
        raise LiveSourceError(f"The Odds API key not set: export {settings.odds_api_key_env}=...")
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
    settings: Settings | None = None,
    markets: Sequence[str] = DEFAULT_MARKETS,
    historical: bool = False,
    *,
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
    settings = settings or get_settings()
    if not api_key:
        raise LiveSourceError(f"The Odds API key not set: export {settings.odds_api_key_env}=...")
    transport = transport or HttpTransport.from_settings(settings, delay_s=ODDS_API_DELAY_S)
    root = settings.odds_api_base_url.rstrip("/")
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
            "regions": settings.odds_api_regions,
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
