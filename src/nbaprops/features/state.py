"""History state tables: what is known about a player / team *after* each game.

Every feature reads a state row through an as-of join with ``state.game_date <
spine.game_date``, so a game can never feed its own features, nor can any later
game. The states are derived from core tables only and rebuilt whenever a core
table they read is rebuilt.
"""

from __future__ import annotations

import hashlib
from typing import Any

import duckdb

from nbaprops.core.db import transaction
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG, Market

# Season types whose box scores the states read (preseason and play-in have no player rows).
STATE_SEASON_TYPES = ("regular", "playoffs")

# Breakout: a game at least this many points above the player's season average before it.
BREAKOUT_MARGIN = 10.0

# Every market's own history, as columns ``<market>_<kind>`` over its outcome (the sum of
# its box-score stats): the same windows and point-in-time rule as points. Points keeps its
# hand-written ``pts_*`` columns below (frozen), so it is not generated.
MARKET_STATE_KINDS: dict[str, str] = {
    "avg_3": "avg({x}) OVER w3",
    "avg_5": "avg({x}) OVER w5",
    "avg_10": "avg({x}) OVER w10",
    "avg_20": "avg({x}) OVER w20",
    "season_avg": "avg({x}) OVER ws",
    "std_10": "stddev_samp({x}) OVER w10",
    "per_min_10": "sum({x}) OVER w10 / nullif(sum(minutes) OVER w10, 0)",
}


def state_markets() -> tuple[Market, ...]:
    """The markets whose history columns are generated (all but points)."""
    return tuple(m for m in MARKET_CATALOG.values() if m.name != DEFAULT_MARKET)


def market_state_column(market: Market, kind: str) -> str:
    """The player_state column holding ``kind`` (a ``MARKET_STATE_KINDS`` key) of a market."""
    if kind not in MARKET_STATE_KINDS:
        raise KeyError(f"unknown market state column kind {kind!r}")
    return f"{market.name}_{kind}"


# Kinds over the season window ``ws``: computed in their own step (``_season_columns``),
# before the wide last-N windows, so the wide rows are sorted only once.
_SEASON_KINDS = frozenset(k for k, t in MARKET_STATE_KINDS.items() if t.endswith(" OVER ws"))


def _market_columns() -> str:
    return "".join(
        ",\n       "
        + (
            market_state_column(m, kind)
            if kind in _SEASON_KINDS
            else f"{template.format(x=m.label_sql)} AS {market_state_column(m, kind)}"
        )
        for m in state_markets()
        for kind, template in MARKET_STATE_KINDS.items()
    )


def _season_columns() -> str:
    return "".join(
        f",\n           {MARKET_STATE_KINDS[kind].format(x=m.label_sql)} "
        f"AS {market_state_column(m, kind)}"
        for m in state_markets()
        for kind in MARKET_STATE_KINDS
        if kind in _SEASON_KINDS
    )


# What a team's opponent put up against it, per box-score stat a market sums (the team_game
# expression of each stat over the alias ``{t}``): ``allowed_<stat>_10`` in team_state, the
# mean over the team's last 10 games.
TEAM_STAT_SQL: dict[str, str] = {
    "points": "{t}.points",
    "reb": "{t}.oreb + {t}.dreb",
    "ast": "{t}.ast",
    "fg3m": "{t}.fg3m",
}


def market_stats() -> tuple[str, ...]:
    """Every box-score stat some market sums, in catalog order."""
    return tuple(dict.fromkeys(s for m in MARKET_CATALOG.values() for s in m.stats))


def allowed_column(stat: str) -> str:
    """The team_state column: the mean ``stat`` its opponents scored over its last 10 games."""
    return f"allowed_{stat}_10"


def _allowed_sums() -> str:
    return ", ".join(f"sum({TEAM_STAT_SQL[s].format(t='b')}) AS opp_{s}" for s in market_stats())


def _allowed_columns() -> str:
    return "".join(
        f",\n       avg(o.opp_{s}) OVER t10 AS {allowed_column(s)}" for s in market_stats()
    )


PLAYER_STATE_SQL = (
    # generated columns from the market catalog (no user text)
    f"""
CREATE OR REPLACE TABLE features.player_state AS
WITH tseq AS (
    SELECT game_id, team,
           row_number() OVER (PARTITION BY team ORDER BY game_date, game_id) AS team_seq
    FROM core.team_game WHERE season_type IN (SELECT unnest($types))
),
pg AS (
    SELECT p.*, tg.minutes AS team_minutes, tg.points AS team_points, tseq.team_seq,
           tg.oreb + tg.dreb AS team_reb, tg.ast AS team_ast,
           p.fga + 0.44 * p.fta + coalesce(p.tov, 0) AS used,
           tg.fga + 0.44 * tg.fta + coalesce(tg.tov, 0) AS team_used
    FROM core.player_game p
    LEFT JOIN core.team_game tg ON tg.game_id = p.game_id AND tg.team = p.team
    LEFT JOIN tseq ON tseq.game_id = p.game_id AND tseq.team = p.team
    WHERE p.season_type IN (SELECT unnest($types))
),
g AS (
    SELECT *,
           CASE WHEN minutes > 0 AND team_used > 0
                THEN used * (coalesce(team_minutes, 240) / 5) / (minutes * team_used) END AS usage,
           row_number() OVER (PARTITION BY player_id ORDER BY game_date) AS career_games,
           lag(game_date) OVER (PARTITION BY player_id ORDER BY game_date) AS prev_date,
           lag(team) OVER (PARTITION BY player_id ORDER BY game_date) AS prev_team,
           lag(team_seq) OVER (PARTITION BY player_id ORDER BY game_date) AS prev_team_seq,
           avg(points) OVER (
               PARTITION BY player_id, season ORDER BY game_date
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS season_avg_before,
           count(*) OVER (
               PARTITION BY player_id, season ORDER BY game_date
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS season_games_before
    FROM pg
),
s AS (
    SELECT *,
           sum(CASE WHEN prev_team IS NULL OR prev_team <> team
                         OR datediff('day', prev_date, game_date) > 14 THEN 1 ELSE 0 END)
               OVER (PARTITION BY player_id ORDER BY game_date ROWS UNBOUNDED PRECEDING)
               AS stint,
           -- a new run of consecutive team games whenever he missed one or changed team
           sum(CASE WHEN prev_team IS NULL OR prev_team <> team OR team_seq IS NULL
                         OR prev_team_seq IS NULL OR team_seq <> prev_team_seq + 1
                    THEN 1 ELSE 0 END)
               OVER (PARTITION BY player_id ORDER BY game_date ROWS UNBOUNDED PRECEDING)
               AS played_run,
           CASE WHEN season_games_before >= 3
                 AND points >= season_avg_before + $margin THEN game_date END
               AS breakout_date
    FROM g
),
r AS (
    -- the windows over other partitions than the player's games (runs, stints, seasons),
    -- on the narrow rows: the wide last-N windows below then sort the rows only once
    SELECT *,
           row_number() OVER (PARTITION BY player_id, played_run ORDER BY game_date)
               AS consec_games,
           row_number() OVER (PARTITION BY player_id, stint ORDER BY game_date) AS stint_games,
           avg(points) OVER ws AS season_pts_avg,
           stddev_samp(points) OVER ws AS season_pts_std,
           count(*) OVER ws AS season_games{_season_columns()}
    FROM s
    WINDOW ws AS (PARTITION BY player_id, season ORDER BY game_date ROWS UNBOUNDED PRECEDING)
)
SELECT player_id, game_date, game_id, season, team, minutes, points,
       avg(points) OVER w3 AS pts_avg_3,
       avg(points) OVER w5 AS pts_avg_5,
       avg(points) OVER w10 AS pts_avg_10,
       stddev_samp(points) OVER w10 AS pts_std_10,
       max(points) OVER w5 AS pts_max_5,
       avg(minutes) OVER w10 AS min_avg_10,
       avg(minutes) OVER w3 AS min_avg_3,
       avg(points) OVER w20 AS pts_avg_20,
       avg(minutes) OVER w20 AS min_avg_20,
       sum(points) OVER w20 / nullif(sum(minutes) OVER w20, 0) AS pts_per_min_20,
       stddev_samp(minutes) OVER w10 AS min_std_10,
       sum(points) OVER w10 / nullif(sum(minutes) OVER w10, 0) AS pts_per_min_10,
       avg(usage) OVER w10 AS usage_10,
       -- his share of his teams' (FGA + 0.44 FTA + TOV) and points over his last 10 games:
       -- what his absence vacates (the availability features)
       sum(used) OVER w10 / nullif(sum(team_used) OVER w10, 0) AS used_share_10,
       sum(points) OVER w10 / nullif(sum(team_points) OVER w10, 0) AS pts_share_10,
       avg(blk) OVER w10 AS blk_avg_10,
       avg(usage) OVER w5 AS usage_5,
       CASE WHEN count(*) OVER w10 >= 3 THEN regr_slope(minutes, career_games) OVER w10 END
           AS min_slope_10,
       consec_games,
       sum(fga) OVER w10 / nullif(sum(minutes) OVER w10, 0) AS fga_per_min_10,
       sum(fta) OVER w10 / nullif(sum(minutes) OVER w10, 0) AS fta_per_min_10,
       sum(fg3a) OVER w10 / nullif(sum(minutes) OVER w10, 0) AS fg3a_per_min_10,
       CASE WHEN count(*) OVER w10 >= 3 THEN regr_slope(points, career_games) OVER w10 END
           AS pts_slope_10,
       season_pts_avg,
       season_pts_std,
       season_games,
       career_games,
       sum(minutes) OVER (PARTITION BY player_id ORDER BY game_date ROWS UNBOUNDED PRECEDING)
           AS career_minutes,
       stint_games,
       max(breakout_date) OVER (
           PARTITION BY player_id ORDER BY game_date ROWS UNBOUNDED PRECEDING) AS last_breakout,
       -- the other markets: rebounding and three-point detail, and his share of his teams'
       -- rebounds and assists over his last 10 games (what his absence vacates)
       avg(oreb) OVER w10 AS oreb_avg_10,
       avg(dreb) OVER w10 AS dreb_avg_10,
       avg(fg3a) OVER w10 AS fg3a_avg_10,
       sum(fg3m) OVER w20 / nullif(sum(fg3a) OVER w20, 0) AS fg3_pct_20,
       sum(reb) OVER w10 / nullif(sum(team_reb) OVER w10, 0) AS reb_share_10,
       sum(ast) OVER w10 / nullif(sum(team_ast) OVER w10, 0) AS ast_share_10{_market_columns()}
FROM r
WINDOW w3 AS (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 2 PRECEDING AND CURRENT ROW),
       w5 AS (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 4 PRECEDING AND CURRENT ROW),
       w10 AS (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 9 PRECEDING AND CURRENT ROW),
       w20 AS (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)
ORDER BY player_id, game_date
"""  # noqa: S608
)

TEAM_STATE_SQL = (
    # generated columns from the market catalog (no user text)
    f"""
CREATE OR REPLACE TABLE features.team_state AS
WITH o AS (
    -- per team game: what the other team of the game put up against it
    SELECT a.game_id, a.team, {_allowed_sums()}
    FROM core.team_game a
    JOIN core.team_game b ON b.game_id = a.game_id AND b.team <> a.team
    GROUP BY a.game_id, a.team
)
SELECT team, game_date, game_id, season,
       avg(pace) OVER t10 AS pace_10,
       avg(pace) OVER t15 AS pace_15,
       avg(off_rating) OVER t10 AS off_rtg_10,
       avg(def_rating) OVER t10 AS def_rtg_10,
       avg(def_rating) OVER t15 AS def_rtg_15,
       avg(CASE WHEN won THEN 1.0 ELSE 0.0 END) OVER ts AS win_pct_season,
       count(*) OVER ts AS season_games,
       first_value(game_date) OVER t10 AS first_date_10,
       count(*) OVER t10 AS n_games_10{_allowed_columns()}
FROM core.team_game
LEFT JOIN o USING (game_id, team)
WHERE season_type IN (SELECT unnest($types))
WINDOW t10 AS (PARTITION BY team ORDER BY game_date ROWS BETWEEN 9 PRECEDING AND CURRENT ROW),
       t15 AS (PARTITION BY team ORDER BY game_date ROWS BETWEEN 14 PRECEDING AND CURRENT ROW),
       ts AS (PARTITION BY team, season ORDER BY game_date ROWS UNBOUNDED PRECEDING)
ORDER BY team, game_date
"""  # noqa: S608
)

# Rotation players (>= 3 of the team's previous 5 games at >= 15 minutes) missing from a game.
TEAM_ABSENCE_SQL = """
CREATE OR REPLACE TABLE features.team_absence AS
WITH tg AS (
    SELECT team, game_id, game_date,
           row_number() OVER (PARTITION BY team ORDER BY game_date) AS seq
    FROM core.team_game WHERE season_type IN (SELECT unnest($types))
),
prev AS (
    -- the team's 5 previous games, each found by its own sequence number (an equality join:
    -- a range join over every pair of a team's games costs seconds)
    SELECT t.team, t.game_id, t.game_date, p.game_id AS prev_game_id
    FROM tg t CROSS JOIN (SELECT unnest(range(1, 6)) AS back) b
    JOIN tg p ON p.team = t.team AND p.seq = t.seq - b.back
),
rotation AS (
    SELECT prev.team, prev.game_id, pg.player_id, avg(pg.minutes) AS usual_minutes
    FROM prev JOIN core.player_game pg ON pg.game_id = prev.prev_game_id AND pg.team = prev.team
    GROUP BY ALL HAVING count(*) >= 3 AND avg(pg.minutes) >= 15
),
missing AS (
    SELECT r.team, r.game_id,
           sum(CASE WHEN pg.player_id IS NULL THEN r.usual_minutes ELSE 0 END) AS minutes_out,
           count(*) FILTER (WHERE pg.player_id IS NULL) AS players_out
    FROM rotation r
    LEFT JOIN core.player_game pg ON pg.game_id = r.game_id AND pg.player_id = r.player_id
    GROUP BY ALL
)
SELECT tg.team, tg.game_date, tg.game_id,
       coalesce(m.minutes_out, 0) AS rotation_minutes_out,
       coalesce(m.players_out, 0) AS rotation_players_out
FROM tg LEFT JOIN missing m USING (team, game_id)
ORDER BY tg.team, tg.game_date
"""

# The player's record against his points lines (pre-tip consensus), after each lined game.
LINED_STATE_SQL = """
CREATE OR REPLACE TABLE features.lined_state AS
WITH l AS (
    SELECT pl.player_id, pl.game_date, pl.line, pg.points
    FROM core.points_line pl
    JOIN core.player_game pg ON pg.player_id = pl.player_id AND pg.game_date = pl.game_date
)
SELECT player_id, game_date,
       avg(CASE WHEN points > line THEN 1.0 WHEN points < line THEN 0.0 END) OVER l10
           AS over_rate_10,
       avg(points - line) OVER l5 AS actual_minus_line_5,
       count(*) OVER l10 AS n_lined_10
FROM l
WINDOW l10 AS (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 9 PRECEDING AND CURRENT ROW),
       l5 AS (PARTITION BY player_id ORDER BY game_date ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)
ORDER BY player_id, game_date
"""

STATE_TABLES = {
    "features.player_state": PLAYER_STATE_SQL,
    "features.team_state": TEAM_STATE_SQL,
    "features.team_absence": TEAM_ABSENCE_SQL,
    "features.lined_state": LINED_STATE_SQL,
}

_CORE_INPUTS = (
    "core.player_game",
    "core.team_game",
    "core.prop_line",
    "core.game",
    "core.game_line",
    "core.availability",
)


def core_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """When the core tables features read were last rebuilt (changes on every rebuild)."""
    row = con.execute(
        "SELECT coalesce(string_agg(table_name || '@' || CAST(last AS VARCHAR), ';' "
        "ORDER BY table_name), '') FROM (SELECT table_name, max(built_at) AS last "
        "FROM core.build_log WHERE table_name IN (SELECT unnest(?)) GROUP BY table_name)",
        [list(_CORE_INPUTS)],
    ).fetchall()
    return str(row[0][0]) if row else ""


# The values the state SQL binds ($types, $margin); each statement gets those it names.
STATE_PARAMETERS: dict[str, Any] = {
    "types": list(STATE_SEASON_TYPES),
    "margin": BREAKOUT_MARGIN,
}


def _parameters(sql: str) -> dict[str, Any]:
    return {k: v for k, v in STATE_PARAMETERS.items() if f"${k}" in sql}


def _spelled(sql: str) -> str:
    """The definition with its bound values written in, as the hash reads it: the same
    text as when the values were pasted into the SQL, so binding them rebuilt nothing."""
    return sql.replace("IN (SELECT unnest($types))", f"IN {STATE_SEASON_TYPES}").replace(
        "$margin", str(BREAKOUT_MARGIN)
    )


# Changes whenever a state definition or a bound value changes, so code changes rebuild
# the states too.
STATE_DEFINITION_HASH = hashlib.sha256(
    "\n".join(_spelled(sql) for sql in STATE_TABLES.values()).encode()
).hexdigest()[:16]


def state_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Core build times plus the state definitions: what the states were built from."""
    return f"{core_fingerprint(con)}|{STATE_DEFINITION_HASH}"


# The core tables each state reads: a state is rebuilt only when one of its own inputs was
# (new quotes rebuild the line record, not the box-score histories).
STATE_INPUTS: dict[str, tuple[str, ...]] = {
    "features.player_state": ("core.player_game", "core.team_game"),
    "features.team_state": ("core.team_game",),
    "features.team_absence": ("core.player_game", "core.team_game"),
    "features.lined_state": ("core.player_game", "core.prop_line"),
}


def state_parts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per state table: the build times of the core tables it reads plus the state
    definitions (what it would be built from now)."""
    rows = con.execute(
        "SELECT table_name, CAST(max(built_at) AS VARCHAR) FROM core.build_log "
        "WHERE table_name IN (SELECT unnest(?)) GROUP BY table_name",
        [list(_CORE_INPUTS)],
    ).fetchall()
    last = {str(name): str(when) for name, when in rows}
    return {
        table: ";".join(f"{i}@{last.get(i, '')}" for i in inputs) + f"|{STATE_DEFINITION_HASH}"
        for table, inputs in STATE_INPUTS.items()
    }


def _spell_parts(parts: dict[str, str]) -> str:
    return "\n".join(f"{table}={fingerprint}" for table, fingerprint in parts.items())


def _built_parts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """What each state table was last built from (empty: never built, or recorded by a
    version that rebuilt every state at once)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'features' AND table_name = 'state_build'"
    ).fetchall()
    if not exists[0][0]:
        return {}
    row = con.execute(
        "SELECT fingerprint FROM features.state_build ORDER BY built_at DESC LIMIT 1"
    ).fetchall()
    if not row or row[0][0] is None:
        return {}
    built = {}
    for line in str(row[0][0]).split("\n"):
        table, sep, fingerprint = line.partition("=")
        if sep:
            built[table] = fingerprint
    return built


def stale_states(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The state tables to rebuild: never built, or a core table they read (or a state
    definition) changed since."""
    current, built = state_parts(con), _built_parts(con)
    return [table for table in STATE_TABLES if built.get(table) != current[table]]


def state_is_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    return not stale_states(con)


def refresh_state(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Rebuild the state tables whose core inputs changed (every one with ``force``);
    True when any was rebuilt."""
    tables = list(STATE_TABLES) if force else stale_states(con)
    if not tables:
        return False
    with transaction(con):
        for table in tables:
            sql = STATE_TABLES[table]
            con.execute(sql, _parameters(sql))
        con.execute(
            "CREATE TABLE IF NOT EXISTS features.state_build "
            "(fingerprint VARCHAR, built_at TIMESTAMPTZ)"
        )
        con.execute(
            "INSERT INTO features.state_build VALUES (?, now())", [_spell_parts(state_parts(con))]
        )
    return True
