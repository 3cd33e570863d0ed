"""Is the data fresh enough to predict a date? One answer for ``predict``, ``status``,
``/health`` and the dashboard's Health page.

Each source (box scores, schedule, prop lines, game lines) gets a state for a date: ok,
stale or missing, with one line saying what it found and how to fix it. A past date is
judged against the data as of that date (box scores before it), so a backfill or a
replay of an old date meets the gates the night itself would have met, and passes.

* **Box scores** are stale when league games more than N days before the date have
  none: the age counts from the first scheduled league game after the newest box score.
  A season's first days (the newest box score is last June's) and a break when no team
  played (the All-Star break, the days between playoff rounds) therefore never count,
  and a new season whose schedule is loaded but whose box scores are not does.
* **Prop lines** gate live dates only (today or later, US/Eastern): the newest points
  snapshot of the date older than M hours, or no real line at all (every prediction
  would use an estimated line, which is never bet), refuses the date.
* **Schedule** and **game lines** are reported, never gated (a date without games is
  refused by ``predict`` with its own message, ``no_games_message``).

A player whose team on the date's lines differs from his latest box score's team (a
trade the box scores have not seen) is flagged by ``team_changes``: he may be predicted,
never bet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from nbaprops.core.settings import Settings
from nbaprops.core.time import eastern_date, season_of

OK, STALE, MISSING = "ok", "stale", "missing"
SOURCES = ("box_scores", "schedule", "prop_lines", "game_lines")
# The season types the serving spine predicts (features.state.STATE_SEASON_TYPES; the
# warehouse sits below features, so the tuple is repeated here and a test pins it).
LEAGUE_SEASON_TYPES = ("regular", "playoffs")
ALLOW_STALE = (
    "or pass --allow-stale to predict anyway (recorded on every row and in the audit log; no bets)"
)


@dataclass(frozen=True)
class SourceFreshness:
    """One source's freshness for a date."""

    source: str
    state: str  # ok | stale | missing
    latest: str | None  # its newest date (or UTC instant), ISO
    detail: str  # one line: what was found and, when not ok, how to fix it
    gate: bool = False  # predict refuses the date on this source


@dataclass(frozen=True)
class DateFreshness:
    """Every source's freshness for a date, and whether ``predict`` may go ahead."""

    day: date
    live: bool
    n_games: int
    sources: tuple[SourceFreshness, ...]

    @property
    def refusals(self) -> list[SourceFreshness]:
        return [s for s in self.sources if s.gate]

    @property
    def state(self) -> str:
        """stale when ``predict`` would refuse the date, else ok."""
        return STALE if self.refusals else OK

    def message(self) -> str:
        """The refusal as one line: what is stale, how to fix it."""
        return "; ".join(s.detail for s in self.refusals) + f"; {ALLOW_STALE}"

    def override(self) -> str | None:
        """What ``--allow-stale`` overrode (stored on every row), or None."""
        if not self.refusals:
            return None
        return "; ".join(
            f"{s.source} {s.state} (latest {s.latest or 'none'})" for s in self.refusals
        )

    def source(self, name: str) -> SourceFreshness:
        return next(s for s in self.sources if s.source == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": str(self.day),
            "live": self.live,
            "games": self.n_games,
            "state": self.state,
            "sources": {s.source: asdict(s) for s in self.sources},
        }


def today_eastern(now: datetime | None = None) -> date:
    return eastern_date(now or datetime.now(UTC))


def is_live(day: date, now: datetime | None = None) -> bool:
    """A live date is today or later, US/Eastern (its games have not all been played)."""
    return day >= today_eastern(now)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    row = con.execute(sql, params).fetchone()
    return tuple(row) if row else ()


def league_games(con: duckdb.DuckDBPyConnection, day: date) -> int:
    """League games (the season types predictions cover) scheduled on ``day``."""
    row = _one(
        con,
        "SELECT count(*) FROM core.game WHERE game_date = $day "
        "AND season_type IN (SELECT unnest($types))",
        {"day": day, "types": list(LEAGUE_SEASON_TYPES)},
    )
    return int(row[0]) if row else 0


def box_scores(con: duckdb.DuckDBPyConnection, day: date, max_age_days: int) -> SourceFreshness:
    """Box scores before ``day`` against the schedule: stale when a league game more than
    ``max_age_days`` before the date, after the newest box score, has none."""
    latest, first_missing = _one(
        con,
        """
        WITH b AS (SELECT max(game_date) AS latest FROM core.player_game WHERE game_date < $day)
        SELECT b.latest,
               (SELECT min(g.game_date) FROM core.game g
                WHERE g.game_date < $day AND g.game_date > coalesce(b.latest, DATE '1900-01-01')
                  AND g.season_type IN (SELECT unnest($types))) AS first_missing
        FROM b
        """,
        {"day": day, "types": list(LEAGUE_SEASON_TYPES)},
    )
    if latest is None:
        return SourceFreshness(
            "box_scores",
            MISSING,
            None,
            f"no box scores before {day}; fetch them with `nbaprops fetch --date {day}` "
            f"(or `nbaprops ingest nba-api --season {season_of(day)}`)",
            gate=first_missing is not None,
        )
    age = (day - latest).days
    if first_missing is None:
        return SourceFreshness(
            "box_scores",
            OK,
            str(latest),
            f"newest {latest} ({age} days before {day}); no league game since lacks one",
        )
    lag = (day - first_missing).days
    if lag <= max_age_days:
        return SourceFreshness(
            "box_scores",
            OK,
            str(latest),
            f"newest {latest}; league games since {first_missing} are within "
            f"{max_age_days} days of {day}",
        )
    return SourceFreshness(
        "box_scores",
        STALE,
        str(latest),
        f"box scores are stale for {day}: the newest is from {latest}, {age} days before, "
        f"and the league games scheduled since {first_missing} have none (limit "
        f"{max_age_days} days, NBAPROPS_FRESHNESS_MAX_BOX_SCORE_AGE_DAYS); fetch them with "
        f"`nbaprops fetch --date {day}` (or `nbaprops ingest nba-api --season "
        f"{season_of(first_missing)}`)",
        gate=True,
    )


def schedule(con: duckdb.DuckDBPyConnection, day: date) -> SourceFreshness:
    """Whether the schedule reaches ``day`` (reported, never gated)."""
    n, first, last = _one(
        con,
        "SELECT count(*) FILTER (game_date = $day), min(game_date), max(game_date) "
        "FROM core.game WHERE season_type IN (SELECT unnest($types))",
        {"day": day, "types": list(LEAGUE_SEASON_TYPES)},
    )
    if last is None:
        return SourceFreshness(
            "schedule",
            MISSING,
            None,
            f"no schedule loaded; fetch it with `nbaprops fetch --date {day}` (or put a "
            "schedule file under the data folder's schedule/ and run `nbaprops ingest`)",
        )
    if day > last:
        return SourceFreshness(
            "schedule",
            STALE,
            str(last),
            f"the schedule ends {last}, before {day}; fetch the {season_of(day)} schedule "
            f"with `nbaprops fetch --date {day}` (or put it under the data folder's "
            "schedule/ and run `nbaprops ingest`)",
        )
    return SourceFreshness(
        "schedule", OK, str(last), f"{n} league games on {day}; schedule {first} to {last}"
    )


def prop_lines(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    n_games: int,
    live: bool,
    max_age_hours: float,
    now: datetime,
) -> SourceFreshness:
    """Real points lines of ``day``: gated on a live date (old, or none at all)."""
    players, newest_of_day, newest = _one(
        con,
        """
        SELECT count(DISTINCT player_id) FILTER (game_date = $day),
               max(snapshot_time) FILTER (game_date = $day), max(snapshot_time)
        FROM core.prop_line_snapshot
        WHERE market = 'points' AND player_id IS NOT NULL AND NOT after_tipoff
          AND (snapshot_time IS NULL OR snapshot_time <= $now)
        """,
        {"day": day, "now": now},
    )
    latest = newest_of_day or newest
    latest_text = None if latest is None else latest.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    fetch = f"fetch them with `nbaprops fetch --date {day}`"
    if n_games == 0:
        state = OK if newest is not None or players else MISSING
        return SourceFreshness("prop_lines", state, latest_text, f"no league games on {day}")
    if not players:
        return SourceFreshness(
            "prop_lines",
            MISSING,
            latest_text,
            f"no real prop lines for {day}: every prediction would use an estimated line, "
            f"never bet; {fetch}",
            gate=live,
        )
    if not live:
        return SourceFreshness(
            "prop_lines", OK, latest_text, f"real points lines for {players} players on {day}"
        )
    if newest_of_day is None:
        age_text, stale = "have no snapshot time", True
    else:
        hours = (now - newest_of_day).total_seconds() / 3600
        age_text, stale = f"were last seen {hours:.1f} hours ago", hours > max_age_hours
    if not stale:
        return SourceFreshness(
            "prop_lines",
            OK,
            latest_text,
            f"real points lines for {players} players on {day}; newest {latest_text}",
        )
    return SourceFreshness(
        "prop_lines",
        STALE,
        latest_text,
        f"prop lines are stale for {day}: they {age_text} (limit {max_age_hours:g} hours, "
        f"NBAPROPS_FRESHNESS_MAX_LINE_AGE_HOURS); {fetch.replace('them', 'fresh ones')}",
        gate=True,
    )


def game_lines(con: duckdb.DuckDBPyConnection, day: date, n_games: int) -> SourceFreshness:
    """Closing game lines (spread, total) of ``day``'s games (reported, never gated)."""
    lined, latest = _one(
        con,
        """
        SELECT (SELECT count(DISTINCT l.game_id) FROM core.game_line l
                JOIN core.game g USING (game_id)
                WHERE g.game_date = $day AND g.season_type IN (SELECT unnest($types))),
               (SELECT max(game_date) FROM core.game_line)
        """,
        {"day": day, "types": list(LEAGUE_SEASON_TYPES)},
    )
    fix = "put game lines under the data folder's game_lines/ and run `nbaprops ingest`"
    if latest is None:
        return SourceFreshness("game_lines", MISSING, None, f"no game lines loaded; {fix}")
    if n_games == 0:
        return SourceFreshness("game_lines", OK, str(latest), f"no league games on {day}")
    if not lined:
        return SourceFreshness(
            "game_lines",
            MISSING,
            str(latest),
            f"no game lines for the {n_games} games on {day} (newest {latest}); {fix}",
        )
    return SourceFreshness(
        "game_lines", OK, str(latest), f"game lines for {lined} of {n_games} games on {day}"
    )


def check_date(
    con: duckdb.DuckDBPyConnection,
    day: date,
    settings: Settings,
    now: datetime | None = None,
) -> DateFreshness:
    """Every source's freshness for ``day``, as of ``now`` (default: this moment)."""
    now = now or datetime.now(UTC)
    live = is_live(day, now)
    n_games = league_games(con, day)
    return DateFreshness(
        day,
        live,
        n_games,
        (
            box_scores(con, day, settings.freshness.freshness_max_box_score_age_days),
            schedule(con, day),
            prop_lines(
                con,
                day,
                n_games=n_games,
                live=live,
                max_age_hours=settings.freshness.freshness_max_line_age_hours,
                now=now,
            ),
            game_lines(con, day, n_games),
        ),
    )


def no_games_message(con: duckdb.DuckDBPyConnection, day: date) -> str | None:
    """Why ``day`` has nothing to predict, with a next step that works; None when it has
    league games."""
    n_league, n_all, types, before, after, first, last = _one(
        con,
        """
        SELECT count(*) FILTER (game_date = $day AND season_type IN (SELECT unnest($types))),
               count(*) FILTER (game_date = $day),
               string_agg(DISTINCT season_type, ', ') FILTER (game_date = $day),
               max(game_date) FILTER (game_date < $day AND season_type IN (SELECT unnest($types))),
               min(game_date) FILTER (game_date > $day AND season_type IN (SELECT unnest($types))),
               min(game_date) FILTER (season_type IN (SELECT unnest($types))),
               max(game_date) FILTER (season_type IN (SELECT unnest($types)))
        FROM core.game
        """,
        {"day": day, "types": list(LEAGUE_SEASON_TYPES)},
    )
    if n_league:
        return None
    if n_all:
        return (
            f"only {types} games on {day} ({n_all}); predictions cover regular-season and "
            f"playoff games (the nearest: {before or 'none'} and {after or 'none'})"
        )
    if last is None:
        return (
            f"no games on {day}: the warehouse has no schedule; fetch it with "
            f"`nbaprops fetch --date {day}` (or put a schedule file under the data folder's "
            "schedule/ and run `nbaprops ingest`)"
        )
    if day > last:
        return (
            f"no games on {day} in the warehouse's schedule (the last game loaded is {last}); "
            f"fetch the {season_of(day)} schedule with `nbaprops fetch --date {day}` (or put "
            "it under the data folder's schedule/ and run `nbaprops ingest`)"
        )
    if day < first:
        return (
            f"no games on {day} in the warehouse's schedule (the first game loaded is "
            f"{first}); load that season with `nbaprops ingest nba-api --season "
            f"{season_of(day)}`"
        )
    return (
        f"no games on {day} in the warehouse's schedule (the nearest game dates are "
        f"{before} and {after}); choose a date with games"
    )


def missing_predictions_message(
    con: duckdb.DuckDBPyConnection, day: date, what: str = "predictions"
) -> str:
    """Why a date has no ``what`` (e.g. "champion predictions"): no games (and what to
    load), or not predicted yet (and the command that predicts it)."""
    return no_games_message(con, day) or (
        f"no {what} on {day} ({league_games(con, day)} games scheduled); "
        f"run `nbaprops predict --date {day}`"
    )


def team_changes(
    con: duckdb.DuckDBPyConnection, day: date, players: Iterable[tuple[int, str | None]]
) -> dict[int, str]:
    """Players (id, team on the date's slate) whose team on the date's lines or slate
    differs from the team of their latest box score before ``day``, with the reason,
    e.g. ``team changed: BKN → MIL @ HOU (his line's game)``."""
    pairs = [(int(p), t) for p, t in players]
    if not pairs:
        return {}
    rows = con.execute(
        """
        WITH asked AS (SELECT unnest($ids) AS player_id),
        last_team AS (
            SELECT pg.player_id, arg_max(pg.team, pg.game_date) AS team
            FROM core.player_game pg JOIN asked USING (player_id)
            WHERE pg.game_date < $day GROUP BY pg.player_id
        ),
        line_game AS (
            SELECT s.player_id,
                   arg_max(g.home_team, coalesce(s.snapshot_time, $epoch)) AS home,
                   arg_max(g.away_team, coalesce(s.snapshot_time, $epoch)) AS away
            FROM core.prop_line_snapshot s JOIN asked USING (player_id)
            JOIN core.game g ON g.game_id = s.game_id
            WHERE s.game_date = $day AND s.market = 'points' AND NOT s.after_tipoff
            GROUP BY s.player_id
        )
        SELECT a.player_id, lt.team, lg.home, lg.away
        FROM asked a JOIN last_team lt USING (player_id) LEFT JOIN line_game lg USING (player_id)
        """,
        {"ids": [p for p, _ in pairs], "day": day, "epoch": datetime(1970, 1, 1, tzinfo=UTC)},
    ).fetchall()
    slate_team = dict(pairs)
    out: dict[int, str] = {}
    for player_id, last, home, away in rows:
        team = slate_team.get(int(player_id))
        if home is not None and last not in (home, away):
            out[int(player_id)] = f"team changed: {last} → {away} @ {home} (his line's game)"
        elif team is not None and team != last:
            out[int(player_id)] = f"team changed: {last} → {team}"
    return out


def latest_predicted_date(con: duckdb.DuckDBPyConnection) -> date | None:
    row = _one(con, "SELECT max(game_date) FROM predictions.prediction WHERE is_active", {})
    return row[0] if row else None


def report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date | None = None,
    now: datetime | None = None,
) -> DateFreshness:
    """The freshness ``status``, ``/health`` and the Health page show: for ``day``, else
    the latest predicted date (the date the served predictions stand on), else today
    (US/Eastern)."""
    now = now or datetime.now(UTC)
    if day is None:
        try:
            day = latest_predicted_date(con)
        except duckdb.CatalogException:  # a warehouse before the predictions schema
            day = None
    return check_date(con, day or today_eastern(now), settings, now)
