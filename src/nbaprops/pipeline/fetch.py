"""One live fetch: everything a date's slate needs, then the normal ingest of it.

``fetch_date`` brings in the season's schedule (tip-off times), the box scores since
the last loaded date (regular season, play-in, playoffs), the date's game lines
(spreads and totals: implied team totals), its player props from The Odds API and the
latest official injury report published by then (the league's PDF, as an availability
CSV), writes each in its public file format under ``settings.paths.live_dir``, and runs the
normal ingest job on that folder, so fetched data is archived, quarantined and
loaded idempotently exactly like files a user copied in.

Each source is optional: one that fails (unreachable after the transport's retries,
an unexpected payload) is one ``failed`` line and never stops the others; The Odds
API sources without a key are ``skipped``. ``default_transports`` is the seam tests
replace with recorded responses.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from nbaprops.core.errors import LiveSourceError, NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.core.time import season_of
from nbaprops.ingest import live
from nbaprops.ingest.transport import FileTransport, HttpTransport, Transport
from nbaprops.pipeline.jobs import IngestJobResult, Progress, audit, ingest_job
from nbaprops.warehouse.migrate import migrate
from nbaprops.warehouse.transforms import team_table

SOURCE_NAMES = ("schedule", "box scores", "game lines", "prop lines", "injury report")


@dataclass(frozen=True)
class Transports:
    """One transport per host: each keeps its own polite delay between requests."""

    nba_stats: Transport
    nba_cdn: Transport
    odds: Transport
    nba_injury: FileTransport


def default_transports(settings: Settings) -> Transports:
    """Real HTTP with the configured timeout and retries (exponential backoff)."""
    return Transports(
        nba_stats=HttpTransport.from_settings(settings.http, delay_s=settings.http.nba_api_delay_s),
        nba_cdn=HttpTransport.from_settings(settings.http),
        odds=HttpTransport.from_settings(settings.http, delay_s=live.ODDS_API_DELAY_S),
        nba_injury=HttpTransport(
            retries=settings.http.http_retries,
            timeout_s=settings.http.http_timeout_s,
            delay_s=live.INJURY_REPORT_DELAY_S,
        ),
    )


@dataclass(frozen=True)
class SourceOutcome:
    """One source's line: ``ok`` with counts, ``skipped`` or ``failed`` with why."""

    name: str
    status: str  # ok, skipped, failed
    detail: str
    counts: dict[str, int] = field(default_factory=dict)
    paths: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.name}: {self.status} ({self.detail})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.name,
            "status": self.status,
            "detail": self.detail,
            "counts": self.counts,
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class FetchReport:
    """What one fetch did, source by source, and what the ingest of it loaded."""

    day: date
    live_dir: Path
    sources: tuple[SourceOutcome, ...]
    credits_used: int | None = None
    credits_remaining: int | None = None
    ingest: IngestJobResult | None = None
    ingest_error: str | None = None

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        return [s for s in self.sources if s.status == "failed"]

    @property
    def ingest_failures(self) -> list[str]:
        failures = [] if self.ingest is None else [f.error for f in self.ingest.report.failures]
        return [e or "" for e in failures] + ([self.ingest_error] if self.ingest_error else [])

    @property
    def failed(self) -> bool:
        """A source failed or a fetched file was refused (a missing key is no failure)."""
        return bool(self.failed_sources or self.ingest_failures)

    @property
    def rows_loaded(self) -> int:
        if self.ingest is None:
            return 0
        return sum(r.n_loaded for r in self.ingest.report.results)

    def credits_line(self) -> str:
        if self.credits_used is None and self.credits_remaining is None:
            return "The Odds API credits: not reported (no Odds API request made)"
        used = "?" if self.credits_used is None else f"{self.credits_used:,}"
        left = "?" if self.credits_remaining is None else f"{self.credits_remaining:,}"
        return f"The Odds API credits: {used} used, {left} left"

    def ingest_line(self) -> str:
        if self.ingest_error:
            return f"ingest: failed ({self.ingest_error})"
        if self.ingest is None:
            return "ingest: skipped (nothing fetched)"
        results = self.ingest.report.results
        loaded = sum(1 for r in results if r.status in ("loaded", "replaced"))
        unchanged = sum(1 for r in results if r.status == "unchanged")
        refused = len(self.ingest.report.failures)
        rows = sum(r.n_loaded for r in results)
        quarantined = sum(r.n_quarantined for r in results)
        counts = (
            f"{len(results)} files: {loaded} loaded, {unchanged} unchanged, {refused} refused; "
            f"{rows:,} rows loaded, {quarantined:,} quarantined"
        )
        if refused:
            return f"ingest: failed ({counts}; {self.ingest_failures[0]})"
        return f"ingest: ok ({counts})"

    def lines(self) -> list[str]:
        return [*(s.line() for s in self.sources), self.credits_line(), self.ingest_line()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "live_dir": str(self.live_dir),
            "sources": [s.to_dict() for s in self.sources],
            "credits": {"used": self.credits_used, "remaining": self.credits_remaining},
            "ingest": None
            if self.ingest is None
            else {
                "files": [
                    {
                        "path": r.path,
                        "source": r.source,
                        "status": r.status,
                        "loaded": r.n_loaded,
                        "quarantined": r.n_quarantined,
                        "unchanged": r.n_unchanged,
                        "error": r.error,
                    }
                    for r in self.ingest.report.results
                ],
                "builds": [b.table for b in self.ingest.builds],
            },
            "ingest_error": self.ingest_error,
            "failed": self.failed,
        }


def fetch_date(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    transports: Transports | None = None,
    fetched_at: datetime | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch every live source for the US/Eastern date ``day`` into ``settings``' live
    folder, then ingest that folder into the warehouse behind ``con``."""
    transports = transports or default_transports(settings)
    fetched_at = fetched_at or datetime.now(UTC)
    live_dir = settings.paths.resolved_live_dir()
    migrate(con)
    key = _odds_key(settings)
    credits: dict[str, int | None] = {"used": None, "remaining": None}
    season_types: dict[tuple[str, str], str] = {}

    def schedule() -> SourceOutcome:
        got = live.fetch_schedule(live_dir, transports.nba_cdn, http=settings.http)
        season_types.update(_season_types_on(got.path, day, _team_codes()[1]))
        left_out = [
            f"{n} {what} left out"
            for n, what in ((got.n_tbd, "with tip-off TBD"), (got.n_other, "All-Star/Cup final"))
            if n
        ]
        return SourceOutcome(
            "schedule",
            "ok",
            f"{got.n_games:,} games of {got.season}"
            + (f", {', '.join(left_out)}" if left_out else ""),
            {"games": got.n_games, "tbd": got.n_tbd, "other": got.n_other},
            (str(got.path),),
        )

    def box_scores() -> SourceOutcome:
        season = season_of(day)
        since = last_loaded_date(con, season)
        files: list[live.GamelogFile] = []
        for season_type in ("regular", "playin", "playoffs"):
            files += live.fetch_gamelog_files(
                season,
                season_type,
                live_dir,
                transports.nba_stats,
                http=settings.http,
                since=since,
                until=day,
                skip_empty=True,
            )
        players = sum(f.n_rows for f in files if f.mode == "player")
        teams = sum(f.n_rows for f in files if f.mode == "team")
        by_type = ", ".join(
            f"{t} {sum(f.n_rows for f in files if f.season_type == t and f.mode == 'player')}"
            for t in ("regular", "playin", "playoffs")
        )
        return SourceOutcome(
            "box scores",
            "ok",
            f"{season} {'since ' + since.isoformat() if since else 'whole season'} to {day}: "
            f"{players:,} player rows ({by_type}), {teams:,} team rows",
            {"player_rows": players, "team_rows": teams, "files": len(files)},
            tuple(str(f.path) for f in files),
        )

    def game_lines() -> SourceOutcome:
        got = live.fetch_game_lines(
            day,
            live_dir,
            key or "",
            _team_codes()[0],
            transports.odds,
            http=settings.http,
            season_types=season_types,
            fetched_at=fetched_at,
        )
        _note_credits(credits, got.requests_used, got.requests_remaining)
        unknown = f", {got.n_unknown_teams} with unknown teams left out"
        return SourceOutcome(
            "game lines",
            "ok",
            f"{got.n_games} games, median of {got.n_books} book{'' if got.n_books == 1 else 's'}"
            + (unknown if got.n_unknown_teams else ""),
            {"games": got.n_games, "books": got.n_books, "unknown_teams": got.n_unknown_teams},
            (str(got.path),),
        )

    def prop_lines() -> SourceOutcome:
        got = live.fetch_odds_props(
            day, live_dir, key or "", transports.odds, http=settings.http, fetched_at=fetched_at
        )
        _note_credits(credits, got.requests_used, got.requests_remaining)
        return SourceOutcome(
            "prop lines",
            "ok",
            f"{got.n_events} games, {got.n_rows:,} quotes",
            {"games": got.n_events, "quotes": got.n_rows},
            (str(got.path),),
        )

    def injury_report() -> SourceOutcome:
        got = live.fetch_injury_reports(
            day, live_dir, transports.nba_injury, now=fetched_at, http=settings.http
        )
        latest = got.reports[0]
        return SourceOutcome(
            "injury report",
            "ok",
            f"the {latest.report_time_et} ET report, {latest.n_rows:,} entries",
            {"reports": len(got.reports), "entries": got.n_rows},
            tuple(str(r.csv_path) for r in got.reports),
        )

    missing_key = f"The Odds API key not set: export {settings.http.odds_api_key_env}=..."
    outcomes = [
        _attempt("schedule", schedule),
        _attempt("box scores", box_scores),
        _attempt("game lines", game_lines) if key else _skip("game lines", missing_key),
        _attempt("prop lines", prop_lines) if key else _skip("prop lines", missing_key),
        _attempt("injury report", injury_report),
    ]
    for outcome in outcomes:
        audit(
            con,
            "fetch",
            outcome.name,
            f"{day}: {outcome.line()}",
            success=outcome.status != "failed",
        )
    ingest, ingest_error = None, None
    if any(o.status == "ok" and o.paths for o in outcomes):
        try:
            ingest = ingest_job(con, settings, data_dir=live_dir, progress=progress)
        except NbapropsError as exc:
            ingest_error = str(exc)
    return FetchReport(
        day,
        live_dir,
        tuple(outcomes),
        credits["used"],
        credits["remaining"],
        ingest,
        ingest_error,
    )


def last_loaded_date(con: duckdb.DuckDBPyConnection, season: str) -> date | None:
    """The newest game date both the player and the team logs of ``season`` hold (the
    earlier of the two), or None: then the whole season is fetched. The fetch starts *on*
    that date, not after it: a night's late games may have been missing then."""
    start = season[:4]
    newest = []
    for table in ("raw.nba_player_log", "raw.nba_team_log"):
        row = con.execute(
            # one of the two raw tables above (a table name cannot be bound)
            f"SELECT max(r.game_date) FROM {table} r "  # noqa: S608
            "JOIN raw.file f ON f.file_id = r._file_id AND f.is_current "
            "WHERE right(r.season_id, 4) = ?",
            [start],
        ).fetchone()
        newest.append(None if row is None else row[0])
    if any(d is None for d in newest):
        return None
    return min(newest)


def _attempt(name: str, work: Callable[[], SourceOutcome]) -> SourceOutcome:
    """Run one source; whatever goes wrong is its one ``failed`` line, never the others'."""
    try:
        return work()
    except (LiveSourceError, NbapropsError) as exc:
        return SourceOutcome(name, "failed", _one_line(str(exc)))
    except OSError as exc:
        return SourceOutcome(name, "failed", f"cannot write: {exc.strerror or exc}")
    except Exception as exc:  # one source's surprise must not stop the others
        return SourceOutcome(name, "failed", _one_line(f"{type(exc).__name__}: {exc}"))


def _skip(name: str, why: str) -> SourceOutcome:
    return SourceOutcome(name, "skipped", why)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _odds_key(settings: Settings) -> str | None:
    try:
        return live.odds_api_key(settings.http)
    except LiveSourceError:
        return None


def _note_credits(credits: dict[str, int | None], used: int | None, left: int | None) -> None:
    """The latest response's counts (the API reports the period's totals on each)."""
    if used is not None:
        credits["used"] = used
    if left is not None:
        credits["remaining"] = left


def _team_codes() -> tuple[dict[str, str], dict[str, str]]:
    """(the Odds API's full team names and other names → ESPN-style codes, NBA tricodes
    → ESPN-style codes), from the team table the warehouse is seeded with."""
    by_name: dict[str, str] = {}
    by_tricode: dict[str, str] = {}
    for team in team_table():
        code = team["espn_code"]
        by_tricode[team["tricode"]] = code
        by_name[team["full_name"]] = code
        for other in filter(None, (team.get("other_names") or "").split("|")):
            by_name.setdefault(other, code)
    return by_name, by_tricode


def _season_types_on(path: Path, day: date, codes: dict[str, str]) -> dict[tuple[str, str], str]:
    """(away, home) ESPN codes → season type of the schedule's games on ``day`` (ET)."""
    out: dict[tuple[str, str], str] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["tip_et"].startswith(day.isoformat()):
                continue
            away = codes.get(row["away_team"].split(" (")[0])
            home = codes.get(row["home_team"].split(" (")[0])
            if away and home:
                out[(away, home)] = row["season_type"]
    return out
