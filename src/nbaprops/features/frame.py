"""``build_frame(spine, feature_set)``: the only way any part of the system gets features.

Training and serving differ only in the spine: historical player-games (with their
labels) versus the players expected to play on a date. Everything after the spine
is one SQL statement over the history state tables, joined strictly before the
spine's game date.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import duckdb
import pandas as pd

from nbaprops.core.errors import NotReadyError
from nbaprops.core.settings import DEFAULT_DECISION_MINUTES
from nbaprops.features import availability
from nbaprops.features.catalog import FeatureSet, get_feature_set
from nbaprops.features.state import STATE_SEASON_TYPES, refresh_state, state_is_fresh

SPINE_COLUMNS = (
    "player_id",
    "game_date",
    "game_id",
    "team",
    "opponent",
    "home",
    "season",
    "season_type",
)
LABEL_COLUMNS = ("points", "minutes")
# Serving spine: a rotation player appeared in >= this many of his team's last 10 games ...
ROTATION_MIN_GAMES = 5
# ... averaging at least this many minutes in them.
ROTATION_MIN_MINUTES = 12.0


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh stale history states, or explain how when the connection is read-only."""
    if state_is_fresh(con):
        return
    try:
        refresh_state(con)
    except duckdb.InvalidInputException as exc:
        if "read-only" in str(exc).lower():
            raise NotReadyError(
                "feature state is older than the warehouse; run `nbaprops features build` "
                "(or `nbaprops run`) first"
            ) from None
        raise


def training_spine(
    con: duckdb.DuckDBPyConnection,
    start: date | None = None,
    end: date | None = None,
    season_types: tuple[str, ...] = STATE_SEASON_TYPES,
) -> pd.DataFrame:
    """Historical player-games in [start, end] with their labels (points, minutes)."""
    return con.execute(
        f"""
        SELECT {", ".join(SPINE_COLUMNS)}, CAST(points AS DOUBLE) AS points, minutes
        FROM core.player_game
        WHERE season_type IN (SELECT unnest(?))
          AND (CAST(? AS DATE) IS NULL OR game_date >= ?)
          AND (CAST(? AS DATE) IS NULL OR game_date <= ?)
        ORDER BY game_date, game_id, player_id
        """,
        [list(season_types), start, start, end, end],
    ).df()


def serving_spine(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    min_games: int = ROTATION_MIN_GAMES,
    min_minutes: float = ROTATION_MIN_MINUTES,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Players expected on ``day``: everyone with a points line, plus each team's rotation.

    Uses nothing dated on or after ``day`` except the schedule and the pre-tip lines:
    ``lines`` (player_id, game_date, game_id), when given, are the lines seen at the
    prediction's decision time; otherwise every pre-tip points line counts.
    A player's team is the team of his last game; a lined player whose last team does
    not play that day (a trade not yet in the box scores) is placed in the line's game.
    """
    ensure_state(con)
    with _lines_table(con, lines) as source:
        return _serving_spine(con, day, min_games, min_minutes, source)


@contextmanager
def _lines_table(con: duckdb.DuckDBPyConnection, lines: pd.DataFrame | None) -> Iterator[str]:
    """The points lines a frame reads: core.points_line, or given decision-time lines
    held in a temporary table for the duration of one query."""
    if lines is None:
        yield "core.points_line"
        return
    frame = lines[["player_id", "game_date", "game_id", "line"]].copy()
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    con.register("_lines_df", frame)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _decision_lines AS SELECT "
            "CAST(player_id AS BIGINT) AS player_id, CAST(game_date AS DATE) AS game_date, "
            "CAST(game_id AS VARCHAR) AS game_id, CAST(line AS DOUBLE) AS line FROM _lines_df"
        )
    finally:
        con.unregister("_lines_df")
    try:
        yield "_decision_lines"
    finally:
        con.execute("DROP TABLE IF EXISTS _decision_lines")


def _serving_spine(
    con: duckdb.DuckDBPyConnection, day: date, min_games: int, min_minutes: float, lines: str
) -> pd.DataFrame:
    return con.execute(
        f"""
        WITH games AS (
            SELECT game_id, season, season_type, home_team, away_team FROM core.game
            WHERE game_date = $day AND season_type IN (SELECT unnest($types))
              AND home_team IS NOT NULL AND away_team IS NOT NULL
        ),
        sides AS (
            SELECT game_id, season, season_type, home_team AS team, away_team AS opponent,
                   true AS home FROM games
            UNION ALL
            SELECT game_id, season, season_type, away_team, home_team, false FROM games
        ),
        last_game AS (
            SELECT player_id, arg_max(team, game_date) AS team
            FROM features.player_state WHERE game_date < $day GROUP BY player_id
        ),
        recent AS (
            SELECT team, game_id FROM features.team_state WHERE game_date < $day
            QUALIFY row_number() OVER (PARTITION BY team ORDER BY game_date DESC) <= 10
        ),
        rotation AS (
            SELECT pg.player_id, pg.team
            FROM recent r JOIN core.player_game pg ON pg.game_id = r.game_id AND pg.team = r.team
            GROUP BY ALL HAVING count(*) >= $min_games AND avg(pg.minutes) >= $min_minutes
        ),
        rotation_now AS (
            SELECT r.player_id, r.team FROM rotation r
            JOIN last_game lg ON lg.player_id = r.player_id AND lg.team = r.team
        ),
        lined AS (
            SELECT pl.player_id, any_value(pl.game_id) AS game_id
            FROM {lines} pl
            WHERE pl.game_date = $day AND pl.player_id IS NOT NULL
            GROUP BY pl.player_id
        ),
        lined_team AS (
            SELECT l.player_id,
                   CASE WHEN EXISTS (SELECT 1 FROM sides x WHERE x.team = lg.team) THEN lg.team
                        ELSE (SELECT x.team FROM sides x WHERE x.game_id = l.game_id
                              ORDER BY x.home DESC LIMIT 1) END AS team
            FROM lined l LEFT JOIN last_game lg ON lg.player_id = l.player_id
        ),
        players AS (
            SELECT player_id, team, bool_or(is_rotation) AS is_rotation,
                   bool_or(has_prop_line) AS has_prop_line
            FROM (
                SELECT player_id, team, true AS is_rotation, false AS has_prop_line
                FROM rotation_now
                UNION ALL
                SELECT player_id, team, false, true FROM lined_team WHERE team IS NOT NULL
            ) GROUP BY ALL
        )
        SELECT p.player_id, CAST($day AS DATE) AS game_date, sd.game_id, sd.team, sd.opponent,
               sd.home, sd.season, sd.season_type, p.is_rotation, p.has_prop_line
        FROM players p JOIN sides sd ON sd.team = p.team
        ORDER BY sd.game_id, sd.team, p.player_id
        """,
        {
            "day": day,
            "types": list(STATE_SEASON_TYPES),
            "min_games": min_games,
            "min_minutes": min_minutes,
        },
    ).df()


def _timed(feature_set: FeatureSet) -> bool:
    """True when the set reads what was published by decision time (availability, the
    board, line moves): its SQL then takes the decision minutes and as-of."""
    return any(f.group in availability.GROUPS for f in feature_set.definitions())


def _feature_sql(feature_set: FeatureSet, with_flags: bool, lines: str) -> str:
    defs = feature_set.definitions()
    raw = ",\n".join(
        f'CAST({f.sql} AS DOUBLE) AS "{f.name}__raw", '
        f'CAST({f.fallback or "NULL"} AS DOUBLE) AS "{f.name}__fb"'
        for f in defs
    )
    values = ",\n".join(
        f'CAST(coalesce("{f.name}__raw", "{f.name}__fb", {f.default!r}) AS DOUBLE) AS "{f.name}"'
        for f in defs
    )
    flags = " + ".join(f'CAST("{f.name}__raw" IS NULL AS INTEGER)' for f in defs)
    required = [f for f in defs if f.required]
    req_flags = " + ".join(f'CAST("{f.name}__raw" IS NULL AS INTEGER)' for f in required) or "0"
    flag_cols = (
        ",\n" + ",\n".join(f'"{f.name}__raw" IS NULL AS "{f.name}__defaulted"' for f in defs)
        if with_flags
        else ""
    )
    timed = _timed(feature_set)
    timed_ctes = availability.availability_ctes(lines) if timed else ""
    timed_joins = availability.JOINS if timed else ""
    return f"""
    WITH s AS (SELECT * FROM _spine),
    {timed_ctes}
    h2h AS (
        SELECT s._row, avg(pg.points) AS pts_avg, count(*) AS n_games
        FROM s JOIN core.player_game pg
          ON pg.player_id = s.player_id AND pg.opponent = s.opponent
         AND pg.game_date < s.game_date AND pg.game_date >= s.game_date - 365
        WHERE pg.season_type IN {STATE_SEASON_TYPES}
        GROUP BY s._row
    ),
    pl AS (
        SELECT player_id, game_date, line FROM {lines}
        WHERE game_date IN (SELECT DISTINCT game_date FROM _spine)
    ),
    step1 AS (
        SELECT s._row, s.player_id AS _pid, ts.first_date_10 AS _first_date_10
        FROM s ASOF LEFT JOIN features.team_state ts
          ON ts.team = s.team AND ts.game_date < s.game_date
    ),
    win AS (
        SELECT step1._row, pw.career_games
        FROM step1 ASOF LEFT JOIN features.player_state pw
          ON pw.player_id = step1._pid AND pw.game_date < step1._first_date_10
    ),
    joined AS (
        SELECT s._row, {raw}
        FROM s
        ASOF LEFT JOIN features.player_state ps
          ON ps.player_id = s.player_id AND ps.game_date < s.game_date
        ASOF LEFT JOIN features.player_state p7
          ON p7.player_id = s.player_id AND p7.game_date < s.game_date - 7
        ASOF LEFT JOIN features.team_state ts ON ts.team = s.team AND ts.game_date < s.game_date
        ASOF LEFT JOIN features.team_state os
          ON os.team = s.opponent AND os.game_date < s.game_date
        ASOF LEFT JOIN features.team_absence ta
          ON ta.team = s.team AND ta.game_date < s.game_date
        ASOF LEFT JOIN features.lined_state ls
          ON ls.player_id = s.player_id AND ls.game_date < s.game_date
        LEFT JOIN win pw ON pw._row = s._row
        LEFT JOIN h2h ON h2h._row = s._row
        LEFT JOIN core.game_line gl ON gl.game_id = s.game_id
        LEFT JOIN pl ON pl.player_id = s.player_id AND pl.game_date = s.game_date{timed_joins}
    )
    SELECT _row, {values},
           CAST({flags} AS INTEGER) AS n_defaulted,
           CAST({req_flags} AS INTEGER) AS n_required_defaulted{flag_cols}
    FROM joined
    ORDER BY _row
    """


def build_frame(
    con: duckdb.DuckDBPyConnection,
    spine: pd.DataFrame,
    feature_set: FeatureSet | str,
    *,
    with_flags: bool = False,
    lines: pd.DataFrame | None = None,
    minutes_before_tip: int = DEFAULT_DECISION_MINUTES,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """Features of ``feature_set`` for every spine row, in spine order.

    The result holds the spine's columns (and labels, when the spine has them),
    every feature as float64, ``n_defaulted`` (features that fell back to a default)
    and ``n_required_defaulted``; with ``with_flags`` also ``<feature>__defaulted``.
    ``lines`` (player_id, game_date, game_id, line) are the lines seen at a prediction's
    decision time; without them each game's line is its last pre-tip consensus.
    Availability, board and line-move features read what was published by each row's
    decision time: tip-off minus ``minutes_before_tip``, no later than ``as_of``.
    """
    fs = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    missing = [c for c in SPINE_COLUMNS if c not in spine.columns]
    if missing:
        raise ValueError(f"spine lacks columns: {', '.join(missing)}")
    ensure_state(con)
    frame = spine.reset_index(drop=True).copy()
    keyed = frame[list(SPINE_COLUMNS)].copy()
    keyed["game_date"] = pd.to_datetime(keyed["game_date"]).dt.date
    keyed.insert(0, "_row", range(len(keyed)))
    con.register("_spine_df", keyed)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _spine AS SELECT _row, CAST(player_id AS BIGINT) "
            "AS player_id, CAST(game_date AS DATE) AS game_date, CAST(game_id AS VARCHAR) "
            "AS game_id, CAST(team AS VARCHAR) AS team, CAST(opponent AS VARCHAR) AS opponent, "
            "CAST(home AS BOOLEAN) AS home, CAST(season AS VARCHAR) AS season, "
            "CAST(season_type AS VARCHAR) AS season_type FROM _spine_df"
        )
    finally:
        con.unregister("_spine_df")
    with _lines_table(con, lines) as source:
        sql = _feature_sql(fs, with_flags, source)
        params = {"minutes": int(minutes_before_tip), "as_of": as_of} if _timed(fs) else {}
        features = con.execute(sql, params).df()
    con.execute("DROP TABLE IF EXISTS _spine")
    features = features.drop(columns="_row")
    out = pd.concat([frame, features], axis=1)
    out["feature_set"] = fs.key
    return out


def feature_columns(feature_set: FeatureSet | str) -> list[str]:
    fs = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    return list(fs.features)
