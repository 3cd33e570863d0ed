"""raw -> core: the logic layer, in SQL.

Each core table declares the raw sources (and core tables) it is built from;
``rebuild`` re-creates only the tables whose inputs changed since they were last
built, each in its own transaction, so readers never see a half-built table.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from nbaprops.core.db import registered, transaction
from nbaprops.core.markets import MARKETS, QUOTE_OUTLIER_GAP
from nbaprops.core.names import normalize_name
from nbaprops.core.settings import Settings
from nbaprops.warehouse.availability import build_availability
from nbaprops.warehouse.matching import Candidate, resolve_in_roster


@dataclass(frozen=True)
class QuoteRules:
    """What a prop quote must satisfy, beyond its row checks, to become a line.

    ``min_two_way`` is the floor on the sum of a quote's two implied probabilities (vig
    included): no real book quotes under it (a sum under 1 is a book paying out more
    than it takes in), so a pair below it is quarantined with its reason.
    """

    min_two_way: float = 0.95

    @classmethod
    def from_settings(cls, settings: Settings) -> QuoteRules:
        return cls(min_two_way=settings.ingest.quote_min_two_way)


_SEASON_TYPES = (
    "CASE substr({gid}, 3, 1) WHEN '1' THEN 'preseason' WHEN '2' THEN 'regular' "
    "WHEN '3' THEN 'allstar' WHEN '4' THEN 'playoffs' WHEN '5' THEN 'playin' "
    "WHEN '6' THEN 'cup_final' ELSE 'other' END"
)


def season_type_sql(game_id_expr: str) -> str:
    return _SEASON_TYPES.format(gid=game_id_expr)


def season_sql(game_id_expr: str) -> str:
    """'0022300091' -> '2023-24' (digits 4-5 of an NBA game id are the season's start year)."""
    start = f"(2000 + CAST(substr({game_id_expr}, 4, 2) AS INTEGER))"
    return f"CAST({start} AS VARCHAR) || '-' || right(CAST({start} + 1 AS VARCHAR), 2)"


def team_table() -> list[dict[str, str]]:
    """The team table shipped with the package (``warehouse/data/teams.csv``): tricode,
    team_id, full_name, espn_code, nickname, other_names (``|``-separated)."""
    text = resources.files("nbaprops.warehouse.data").joinpath("teams.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert ``rows`` (all of one width) into ``table`` in one statement, values bound."""
    if not rows:
        return
    one = "(" + ", ".join("?" * len(rows[0])) + ")"
    # a table name from this module's constants and placeholders only; values bound
    sql = f"INSERT INTO {table} VALUES " + ", ".join([one] * len(rows))  # noqa: S608
    con.execute(sql, [value for row in rows for value in row])


def _seed_reference(con: duckdb.DuckDBPyConnection, aliases_file: Path | None) -> None:
    """Teams and player aliases are data shipped with the package (plus a user file)."""
    data = resources.files("nbaprops.warehouse.data")
    teams = team_table()
    team_rows: list[tuple] = []
    alias_rows: list[tuple] = []
    for t in teams:
        team_rows.append(
            (t["tricode"], int(t["team_id"]), t["full_name"], t["espn_code"], t["nickname"])
        )
        names = {t["tricode"], t["full_name"], t["espn_code"], t["nickname"]}
        names.update(n for n in t["other_names"].split("|") if n)
        # one row per lower-cased alias: "ATL" and "atl" are one key, never a duplicated join
        alias_rows.extend((name, t["tricode"]) for name in sorted({n.lower() for n in names}))
    rows = list(csv.DictReader(data.joinpath("player_aliases.csv").read_text().splitlines()))
    if aliases_file is not None and aliases_file.exists():
        rows += list(csv.DictReader(aliases_file.read_text().splitlines()))
    # one statement per table, not one per row: a rebuild re-seeds these every time
    con.execute("DELETE FROM core.team")
    _insert_rows(con, "core.team", team_rows)
    con.execute("DELETE FROM core.team_alias")
    _insert_rows(con, "core.team_alias", alias_rows)
    con.execute("DELETE FROM core.player_alias")
    _insert_rows(
        con,
        "core.player_alias",
        [
            (normalize_name(r["book_name"]), normalize_name(r["nba_name"]), r.get("note"))
            for r in rows
        ],
    )


def _register_names(con: duckdb.DuckDBPyConnection, sql_distinct_names: str) -> None:
    """Temp table name -> normalised name for the distinct names a query yields."""
    names = [r[0] for r in con.execute(sql_distinct_names).fetchall() if r[0] is not None]
    frame = pd.DataFrame(
        {"name": names, "name_norm": [normalize_name(n) for n in names]}, dtype="string"
    )
    con.execute("DROP TABLE IF EXISTS _name_map")
    with registered(con, "_name_map_df", frame) as view:
        # a generated name (identifiers cannot be bound)
        con.execute(f"CREATE TEMP TABLE _name_map AS SELECT * FROM {view}")  # noqa: S608


def build_team_game(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        DELETE FROM core.team_game;
        INSERT INTO core.team_game
        WITH t AS (
            SELECT r.*, tm.tricode AS team,
                   (r.fga + 0.44 * r.fta - coalesce(r.oreb, 0) + coalesce(r.tov, 0)) AS poss
            FROM raw.nba_team_log r
            JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
            JOIN core.team tm ON tm.team_id = r.team_id
        )
        SELECT a.game_id, {season_sql("a.game_id")}, {season_type_sql("a.game_id")},
               a.game_date, a.team_id, a.team, b.team, a.matchup LIKE '%vs.%',
               a.wl = 'W', a.min, a.pts, b.pts,
               a.fgm, a.fga, a.fg3m, a.fg3a, a.ftm, a.fta, a.oreb, a.dreb, a.ast, a.tov,
               a.stl, a.blk, a.pf,
               a.poss, b.poss,
               CASE WHEN coalesce(a.min, 0) > 0
                    THEN 48 * ((a.poss + b.poss) / 2) / (a.min / 5)
                    ELSE (a.poss + b.poss) / 2 END,
               100 * a.pts / nullif(a.poss, 0),
               100 * b.pts / nullif(b.poss, 0)
        FROM t a JOIN t b ON a.game_id = b.game_id AND a.team_id <> b.team_id
        WHERE a.poss > 0 AND b.poss > 0
        """  # noqa: S608
    )


def build_game(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        DELETE FROM core.game;
        INSERT INTO core.game
        WITH final AS (
            SELECT h.game_id, h.season, h.season_type, h.game_date,
                   CAST(NULL AS TIMESTAMPTZ) AS tip_off_utc,
                   h.team AS home_team, h.opponent AS away_team,
                   h.points AS home_points, h.opp_points AS away_points, 'final' AS status
            FROM core.team_game h WHERE h.home
        ),
        playoff_box AS (
            SELECT DISTINCT ON (game_id) game_id, {season_sql("game_id")} AS season,
                   {season_type_sql("game_id")} AS season_type, game_date,
                   CAST(NULL AS TIMESTAMPTZ), team_abbreviation, opp_abbreviation,
                   CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), 'final'
            FROM raw.nba_playoff_box r JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
            WHERE home_game = 1 AND game_id NOT IN (SELECT game_id FROM final)
            ORDER BY game_id
        ),
        sched AS (
            SELECT s.game_id,
                   {season_sql("s.game_id")},
                   CASE s.season_type WHEN 'Regular Season' THEN 'regular'
                        WHEN 'Preseason' THEN 'preseason' WHEN 'Playoffs' THEN 'playoffs'
                        ELSE lower(s.season_type) END,
                   CAST(timezone('America/New_York', s.tip_utc) AS DATE),
                   s.tip_utc,
                   nullif(trim(split_part(s.home_team, '(', 1)), ''),
                   nullif(trim(split_part(s.away_team, '(', 1)), ''),
                   CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), 'scheduled'
            FROM raw.schedule s JOIN raw.file f ON f.file_id = s._file_id AND f.is_current
            WHERE s.game_id NOT IN (SELECT game_id FROM final)
        )
        SELECT * FROM final UNION ALL SELECT * FROM playoff_box UNION ALL SELECT * FROM sched
        """  # noqa: S608
    )


# Games a box score may belong to: those a team log or the schedule knows.
_KNOWN_GAMES = (
    "(SELECT r.game_id FROM raw.nba_team_log r "
    "JOIN raw.file f ON f.file_id = r._file_id AND f.is_current "
    "UNION SELECT s.game_id FROM raw.schedule s "
    "JOIN raw.file f ON f.file_id = s._file_id AND f.is_current)"
)


def build_player_game(con: duckdb.DuckDBPyConnection) -> None:
    """Player box scores (the playoff box wins over the logs), of games a team log or the
    schedule knows; a row of an unknown game goes to ``core.box_score_quarantine``."""
    opp = "trim(regexp_extract(r.matchup, '(vs\\.|@)\\s*(\\w+)\\s*$', 2))"
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        CREATE OR REPLACE TEMP TABLE _box_rows AS
        WITH logs AS (
            SELECT {season_sql("r.game_id")} AS season, {season_type_sql("r.game_id")} AS st,
                   r.game_id, r.game_date, r.player_id, r.player_name, r.team_id,
                   r.team_abbreviation AS team, {opp} AS opponent,
                   r.matchup LIKE '%vs.%' AS home, CAST(NULL AS BOOLEAN) AS starter,
                   r.min, r.pts, r.fgm, r.fga, r.fg3m, r.fg3a, r.ftm, r.fta, r.oreb, r.dreb,
                   r.reb, r.ast, r.tov, r.stl, r.blk, r.pf, r.plus_minus,
                   'nba_player_logs' AS source, 2 AS priority, r._file_id, r._line
            FROM raw.nba_player_log r JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
        ),
        box AS (
            SELECT {season_sql("r.game_id")}, {season_type_sql("r.game_id")},
                   r.game_id, r.game_date, r.player_id, r.player_name, r.team_id,
                   r.team_abbreviation, r.opp_abbreviation, r.home_game = 1,
                   r.start_position IS NOT NULL,
                   r.min, r.pts, r.fgm, r.fga, r.fg3m, r.fg3a, r.ftm, r.fta, r.oreb, r.dreb,
                   r.reb, r.ast, r.tov, r.stl, r.blk, r.pf, r.plus_minus,
                   'nba_playoff_box', 1, r._file_id, r._line
            FROM raw.nba_playoff_box r JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
        )
        SELECT * FROM logs UNION ALL SELECT * FROM box
        """  # noqa: S608
    )
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        DELETE FROM core.player_game;
        INSERT INTO core.player_game
        SELECT season, st, game_id, game_date, player_id, player_name, team_id, team, opponent,
               home, starter, min, pts, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, reb, ast,
               tov, stl, blk, pf, plus_minus, source
        FROM _box_rows
        WHERE st IN ('regular', 'playoffs', 'playin')
          AND game_id IN (SELECT game_id FROM {_KNOWN_GAMES})
        QUALIFY row_number() OVER (PARTITION BY player_id, game_id ORDER BY priority) = 1;
        DELETE FROM core.box_score_quarantine;
        INSERT INTO core.box_score_quarantine
        SELECT source, player_id, player_name, game_id, game_date,
               'game id known to no team log or schedule', _file_id, _line
        FROM _box_rows
        WHERE st IN ('regular', 'playoffs', 'playin')
          AND game_id NOT IN (SELECT game_id FROM {_KNOWN_GAMES});
        DROP TABLE _box_rows;
        """  # noqa: S608
    )


def build_player(con: duckdb.DuckDBPyConnection) -> None:
    _register_names(con, "SELECT DISTINCT player_name FROM core.player_game")
    con.execute(
        """
        DELETE FROM core.player;
        INSERT INTO core.player
        SELECT p.player_id, arg_max(p.player_name, p.game_date), arg_max(m.name_norm, p.game_date),
               min(p.game_date), max(p.game_date), count(*)
        FROM core.player_game p JOIN _name_map m ON m.name = p.player_name
        GROUP BY p.player_id
        """
    )


def build_game_line(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        DELETE FROM core.game_line;
        INSERT INTO core.game_line
        WITH lines AS (
            SELECT r.game_date, h.tricode AS home_team, a.tricode AS away_team,
                   CASE WHEN r.spread IS NULL THEN NULL
                        WHEN r.whos_favored = 'home' THEN -r.spread ELSE r.spread END
                       AS spread_home,
                   r.total, r.moneyline_home, r.moneyline_away
            FROM raw.game_line r JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
            JOIN core.team_alias h ON h.alias = lower(r.home)
            JOIN core.team_alias a ON a.alias = lower(r.away)
        ),
        matched AS (
            SELECT g.game_id, g.game_date, g.home_team, g.away_team, l.spread_home, l.total,
                   l.moneyline_home, l.moneyline_away,
                   abs(datediff('day', l.game_date, g.game_date)) AS day_gap
            FROM lines l JOIN core.game g
              ON g.home_team = l.home_team AND g.away_team = l.away_team
             AND g.game_date BETWEEN l.game_date - 1 AND l.game_date + 1
        )
        SELECT game_id, game_date, home_team, away_team, spread_home, total,
               total / 2 - spread_home / 2, total / 2 + spread_home / 2,
               moneyline_home, moneyline_away
        FROM matched
        QUALIFY row_number() OVER (PARTITION BY game_id ORDER BY day_gap) = 1
        """
    )


def _market_sql(expr: str) -> str:
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in MARKETS.items())
    return f"CASE lower(trim({expr})) {cases} ELSE lower(trim({expr})) END"


def build_prop_line_snapshot(
    con: duckdb.DuckDBPyConnection, rules: QuoteRules = QuoteRules()
) -> None:
    et = "CAST(timezone('America/New_York', {}) AS DATE)"
    current = "JOIN raw.file f ON f.file_id = r._file_id AND f.is_current"
    con.execute("DROP TABLE IF EXISTS _quotes")
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        CREATE TEMP TABLE _quotes AS
        SELECT 'odds_api_props' AS source, 'sportsbook' AS line_kind, r.book,
               {_market_sql("r.market")} AS market, r.player, r.event_id,
               {et.format("r.commence_time")} AS game_date, r.commence_time,
               r.home_team, r.away_team, r.line,
               max(r.price) FILTER (WHERE r.side = 'Over') AS over_price,
               max(r.price) FILTER (WHERE r.side = 'Under') AS under_price,
               r.snapshot_time, min(r._file_id) AS file_id, min(r._line) AS file_line
        FROM raw.odds_api_outcome r {current}
        GROUP BY ALL
        UNION ALL
        SELECT 'dfs_lines', 'dfs', r.book, {_market_sql("r.market")}, r.player, r.event_id,
               {et.format("r.commence_time")}, r.commence_time, r.home_team, r.away_team, r.line,
               NULL, NULL, NULL, min(r._file_id), min(r._line)
        FROM raw.dfs_line r {current}
        GROUP BY ALL
        UNION ALL
        SELECT 'pra_odds', 'sportsbook', lower(r.book), 'pra', r.player, r.event_id,
               r.event_date, NULL, r.home_team, r.away_team, r.line, r.over_price,
               r.under_price, r.snapshot_time, r._file_id, r._line
        FROM raw.pra_line r {current}
        UNION ALL
        SELECT 'threes_odds', 'sportsbook', lower(r.book), {_market_sql("r.market")}, r.player,
               NULL, {et.format("r.commence_time")}, r.commence_time,
               trim(split_part(r.game, '@', 2)), trim(split_part(r.game, '@', 1)), r.line,
               r.over_price, r.under_price, r.snapshot_time, r._file_id, r._line
        FROM raw.threes_line r {current}
        UNION ALL
        SELECT 'generic_props', 'sportsbook', lower(r.book), {_market_sql("r.market")}, r.player,
               NULL, coalesce(r.game_date, {et.format("r.commence_time")}), r.commence_time,
               NULL, NULL, r.line, r.over_price, r.under_price, r.snapshot_time, r._file_id,
               r._line
        FROM raw.generic_prop_line r {current}
        """  # noqa: S608
    )
    _register_names(con, "SELECT DISTINCT player FROM _quotes")
    # 1. the game: teams + US/Eastern date (feeds with only a UTC date may be a day late)
    con.execute("DROP TABLE IF EXISTS _q2")
    con.execute(
        """
        CREATE TEMP TABLE _q2 AS
        SELECT q.*, coalesce(al.nba_name_norm, m.name_norm) AS name_norm,
               al.nba_name_norm IS NOT NULL AS via_alias,
               q.commence_time IS NOT NULL AS exact_date,
               hta.tricode AS home, ata.tricode AS away
        FROM _quotes q
        JOIN _name_map m ON m.name = q.player
        LEFT JOIN core.player_alias al ON al.book_name_norm = m.name_norm
        LEFT JOIN core.team_alias hta ON hta.alias = lower(q.home_team)
        LEFT JOIN core.team_alias ata ON ata.alias = lower(q.away_team)
        """
    )
    con.execute("DROP TABLE IF EXISTS _qkeys")
    con.execute(
        """
        CREATE TEMP TABLE _qkeys AS
        WITH q AS (
            SELECT DISTINCT player, game_date AS quoted_date, exact_date, name_norm,
                   via_alias, home, away
            FROM _q2
        )
        SELECT q.*, g.game_id, coalesce(g.game_date, q.quoted_date) AS game_date
        FROM q LEFT JOIN core.game g
          ON g.home_team = q.home AND g.away_team = q.away
         AND g.game_date BETWEEN q.quoted_date - CASE WHEN q.exact_date THEN 0 ELSE 1 END
                             AND q.quoted_date
        QUALIFY row_number() OVER (
            PARTITION BY q.player, q.quoted_date, q.home, q.away, q.exact_date
            ORDER BY g.game_date DESC NULLS LAST) = 1
        """
    )
    # 2. the player: exact normalised name (after aliases) ...
    con.execute("DROP TABLE IF EXISTS _resolved")
    con.execute(
        """
        CREATE TEMP TABLE _resolved AS
        WITH keys AS (SELECT DISTINCT name_norm, game_date, home, away FROM _qkeys),
        cand AS (
            SELECT k.*, p.player_id,
                   row_number() OVER (
                       PARTITION BY k.name_norm, k.game_date, k.home, k.away
                       ORDER BY (pg.game_id IS NOT NULL) DESC,
                                (lt.team IN (k.home, k.away)) DESC NULLS LAST,
                                p.last_game DESC) AS rn
            FROM keys k
            JOIN core.player p ON p.name_norm = k.name_norm
            LEFT JOIN core.player_game pg
              ON pg.player_id = p.player_id AND pg.game_date = k.game_date
            LEFT JOIN LATERAL (
                SELECT team FROM core.player_game x
                WHERE x.player_id = p.player_id AND x.game_date <= k.game_date
                ORDER BY x.game_date DESC LIMIT 1
            ) lt ON true
        )
        SELECT name_norm, game_date, home, away, player_id, 'exact' AS method
        FROM cand WHERE rn = 1
        """
    )
    # ... then loose rules among the two teams' recent players.
    unresolved = con.execute(
        """
        SELECT k.name_norm, k.game_date, k.home, k.away, p.player_id, p.name_norm
        FROM (SELECT DISTINCT name_norm, game_date, home, away FROM _qkeys) k
        JOIN core.player_game pg ON pg.team IN (k.home, k.away)
         AND pg.game_date BETWEEN k.game_date - 200 AND k.game_date
        JOIN core.player p ON p.player_id = pg.player_id
        WHERE NOT EXISTS (
            SELECT 1 FROM _resolved r WHERE r.name_norm = k.name_norm
               AND r.game_date = k.game_date AND r.home = k.home AND r.away = k.away)
        GROUP BY ALL
        """
    ).fetchall()
    rosters: dict[tuple, list[Candidate]] = {}
    for name_norm, day, home, away, pid, cand_norm in unresolved:
        rosters.setdefault((name_norm, day, home, away), []).append(Candidate(pid, cand_norm))
    fuzzy = []
    for key, roster in rosters.items():
        found = resolve_in_roster(key[0], roster)
        if found:
            fuzzy.append((*key, found[0].player_id, f"roster_{found[1]}"))
    if fuzzy:
        con.executemany("INSERT INTO _resolved VALUES (?, ?, ?, ?, ?, ?)", fuzzy)
    _place_quotes(con, rules)


def _place_quotes(con: duckdb.DuckDBPyConnection, rules: QuoteRules) -> None:
    """Match each quote to its game and place it in time against that game's tip-off.

    The tip-off is the quote's own; else the schedule's; else the earliest any other
    feed quotes for the same game. A quote seen on the game's date while no tip-off is
    known cannot be placed: it goes to ``core.prop_quote_quarantine``, never to a line.
    Quotes without a quote time at all are pre-game boards (DFS, the threes feed).
    """
    con.execute("DROP TABLE IF EXISTS _placed")
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        CREATE TEMP TABLE _placed AS
        WITH q0 AS (
            SELECT q.*, k.game_id AS team_game_id, k.game_date AS resolved_date
            FROM _q2 q
            JOIN _qkeys k ON k.player = q.player AND k.quoted_date = q.game_date
             AND k.exact_date = q.exact_date
             AND k.home IS NOT DISTINCT FROM q.home AND k.away IS NOT DISTINCT FROM q.away
        ),
        q1 AS (
            SELECT q0.*, r.player_id, r.method, pg.game_id AS box_game_id,
                   pg.team AS box_team
            FROM q0
            LEFT JOIN _resolved r ON r.name_norm = q0.name_norm
                 AND r.game_date = q0.resolved_date
                 AND r.home IS NOT DISTINCT FROM q0.home AND r.away IS NOT DISTINCT FROM q0.away
            LEFT JOIN core.player_game pg
              ON pg.player_id = r.player_id AND pg.game_date = q0.resolved_date
        ),
        -- quotes that name no teams (the generic CSV): the game of the player's team
        teamless AS (
            SELECT DISTINCT q1.player_id, q1.resolved_date FROM q1
            WHERE q1.home IS NULL AND q1.player_id IS NOT NULL AND q1.box_game_id IS NULL
        ),
        teamless_game AS (
            SELECT t.player_id, t.resolved_date, g.game_id
            FROM teamless t
            JOIN LATERAL (
                SELECT x.team FROM core.player_game x
                WHERE x.player_id = t.player_id AND x.game_date < t.resolved_date
                ORDER BY x.game_date DESC LIMIT 1
            ) lt ON true
            JOIN core.game g ON g.game_date = t.resolved_date
             AND lt.team IN (g.home_team, g.away_team)
            QUALIFY count(*) OVER (PARTITION BY t.player_id, t.resolved_date) = 1
        ),
        q2 AS (
            SELECT q1.*, coalesce(q1.team_game_id, q1.box_game_id, tg.game_id) AS any_game_id
            FROM q1 LEFT JOIN teamless_game tg
              ON tg.player_id = q1.player_id AND tg.resolved_date = q1.resolved_date
        ),
        q3 AS (
            SELECT q2.*, g.tip_off_utc AS scheduled_tip,
                   min(q2.commence_time) OVER (PARTITION BY q2.any_game_id) AS feed_tip,
                   EXISTS (SELECT 1 FROM core.player_game x WHERE x.game_id = q2.team_game_id)
                       AS has_box
            FROM q2 LEFT JOIN core.game g ON g.game_id = q2.any_game_id
        ),
        q AS (
            SELECT q3.*,
                   coalesce(q3.commence_time, q3.scheduled_tip,
                            CASE WHEN q3.any_game_id IS NOT NULL THEN q3.feed_tip END) AS tip,
                   CAST(timezone('America/New_York', q3.snapshot_time) AS DATE) AS seen_date
            FROM q3
        )
        SELECT q.*,
               CASE WHEN q.over_price IS NOT NULL AND q.under_price IS NOT NULL
                         AND {_implied("q.over_price")} + {_implied("q.under_price")}
                             < $min_two_way
                    THEN 'thin_margin'
                    WHEN q.snapshot_time IS NULL THEN 'board'
                    WHEN q.tip IS NOT NULL THEN
                        CASE WHEN q.snapshot_time >= q.tip THEN 'after_tip' ELSE 'pre_tip' END
                    WHEN q.seen_date < q.resolved_date THEN 'pre_tip'
                    WHEN q.seen_date > q.resolved_date THEN 'after_tip'
                    ELSE 'unplaceable' END AS placement
        FROM q
        """,  # noqa: S608
        {"min_two_way": rules.min_two_way},
    )
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        f"""
        DELETE FROM core.prop_line_snapshot;
        INSERT INTO core.prop_line_snapshot
        SELECT q.source, q.line_kind, q.book, q.market, q.player, q.name_norm, q.player_id,
               CASE WHEN q.player_id IS NULL THEN 'unknown_name'
                    WHEN q.box_game_id IS NOT NULL THEN 'matched'
                    WHEN q.team_game_id IS NOT NULL AND NOT q.has_box THEN 'no_box_score'
                    WHEN q.team_game_id IS NULL AND q.home IS NOT NULL THEN 'no_game'
                    ELSE 'did_not_play' END,
               CASE WHEN q.player_id IS NULL THEN 'none'
                    WHEN q.via_alias THEN 'alias' ELSE q.method END,
               coalesce(q.team_game_id, q.box_game_id), q.resolved_date, q.tip,
               q.home, q.away, q.line, q.over_price, q.under_price, q.snapshot_time,
               q.placement = 'after_tip', q.file_id
        FROM _placed q WHERE q.placement NOT IN ('unplaceable', 'thin_margin');
        DELETE FROM core.prop_quote_quarantine;
        INSERT INTO core.prop_quote_quarantine
        SELECT q.source, q.book, q.market, q.player, q.player_id, q.any_game_id,
               q.resolved_date, q.line, q.snapshot_time,
               CASE q.placement
                   WHEN 'unplaceable'
                   THEN 'seen on the game date with no known tip-off: cannot be placed in time'
                   ELSE printf('two-way prices %+g / %+g imply %.3f, under the floor %.2f '
                               || '(no real book quotes that)', q.over_price, q.under_price,
                               {_implied("q.over_price")} + {_implied("q.under_price")},
                               $min_two_way)
               END,
               q.file_id, q.file_line
        FROM _placed q WHERE q.placement IN ('unplaceable', 'thin_margin');
        """,  # noqa: S608
        {"min_two_way": rules.min_two_way},
    )
    con.execute("DROP TABLE IF EXISTS _placed")


def _implied(price: str) -> str:
    """American odds -> implied probability (vig included)."""
    return f"(CASE WHEN {price} < 0 THEN -{price} / (100 - {price}) ELSE 100 / (100 + {price}) END)"


def _decimal(price: str) -> str:
    """American odds -> decimal odds (medians of prices are taken in decimal space)."""
    return f"(CASE WHEN {price} > 0 THEN 1 + {price} / 100 ELSE 1 + 100 / -({price}) END)"


def _american(decimal: str) -> str:
    return (
        f"(CASE WHEN {decimal} IS NULL THEN NULL "
        f"WHEN {decimal} >= 2 THEN round(({decimal} - 1) * 100) "
        f"ELSE round(-100 / ({decimal} - 1)) END)"
    )


def _book_lines_sql(where: str) -> str:
    """Per player-game-market-book main line: the book's last pre-tip quote passing ``where``.

    A side's price is flagged an outlier when at least three books price that side of the
    same line and its implied probability sits more than ``QUOTE_OUTLIER_GAP`` from their
    median: it stays on record but is never the best price, the consensus price or
    shopped.
    """
    # SQL fragments and table names from this module's constants; values bound
    return f"""
        WITH pre AS (
            SELECT * FROM core.prop_line_snapshot WHERE NOT after_tipoff AND {where}
        ),
        last_snap AS (
            -- the book's last quote time before tip-off (NULL times: undated boards)
            SELECT *, max(snapshot_time) OVER w AS last_time FROM pre
            WINDOW w AS (PARTITION BY market, game_date, player_name_norm, book)
        ),
        at_last AS (
            SELECT * FROM last_snap
            WHERE snapshot_time IS NOT DISTINCT FROM last_time
        ),
        scored AS (
            SELECT *,
                   count(*) OVER w AS n_lines,
                   -- main line: both sides quoted and prices closest to even
                   CASE WHEN over_price IS NULL OR under_price IS NULL THEN 1e9
                        ELSE abs(
                          (CASE WHEN over_price < 0 THEN -over_price / (100 - over_price)
                                ELSE 100 / (100 + over_price) END)
                        - (CASE WHEN under_price < 0 THEN -under_price / (100 - under_price)
                                ELSE 100 / (100 + under_price) END)) END AS imbalance,
                   abs(line - median(line) OVER w) AS off_median
            FROM at_last
            WINDOW w AS (PARTITION BY market, game_date, player_name_norm, book)
        ),
        main AS (
            SELECT market, game_date, player_name_norm, player_id, game_id, book, line_kind,
                   line, over_price, under_price, snapshot_time, n_lines
            FROM scored
            QUALIFY row_number() OVER (
                PARTITION BY market, game_date, player_name_norm, book
                ORDER BY imbalance, off_median, line) = 1
        ),
        peers AS (
            -- the books' prices for the same side of the same line (itself included: with
            -- three or more, one absurd price cannot move the median far)
            SELECT *,
                   count(over_price) OVER w AS n_over,
                   median({_implied("over_price")}) OVER w AS median_over,
                   count(under_price) OVER w AS n_under,
                   median({_implied("under_price")}) OVER w AS median_under
            FROM main
            WINDOW w AS (PARTITION BY market, game_date, player_name_norm, line_kind, line)
        )
        SELECT market, game_date, player_name_norm, player_id, game_id, book, line_kind, line,
               over_price, under_price, snapshot_time, n_lines,
               coalesce(n_over >= 3 AND abs({_implied("over_price")} - median_over)
                        > {QUOTE_OUTLIER_GAP}, false) AS over_outlier,
               coalesce(n_under >= 3 AND abs({_implied("under_price")} - median_under)
                        > {QUOTE_OUTLIER_GAP}, false) AS under_outlier
        FROM peers
"""  # noqa: S608


def _median_price(side: str) -> str:
    """The median (in decimal odds) of the books' ``side`` prices, outliers left out."""
    return f"median({_decimal(f'b.{side}_price')}) FILTER (WHERE NOT b.{side}_outlier)"


def _consensus_sql(books: str, ctes: str = "") -> str:
    """The consensus of ``books`` (a table or CTE of book lines) per player-game-market;
    ``ctes`` are extra leading common table expressions (ending with a comma)."""
    # SQL fragments and table names from this module's constants; values bound
    return f"""
        WITH {ctes} kinds AS (
            SELECT *, min(CASE line_kind WHEN 'sportsbook' THEN 0 ELSE 1 END)
                      OVER (PARTITION BY market, game_date, player_name_norm) AS best_kind
            FROM {books}
        ),
        books AS (
            SELECT * FROM kinds WHERE CASE line_kind WHEN 'sportsbook' THEN 0 ELSE 1 END = best_kind
        ),
        consensus AS (
            SELECT market, game_date, player_name_norm, any_value(line_kind) AS line_kind,
                   round(median(line) * 2) / 2 AS line, count(*) AS n_books,
                   max(snapshot_time) AS last_snapshot_time
            FROM books GROUP BY ALL
        ),
        prices AS (
            SELECT c.market, c.game_date, c.player_name_norm,
                   {_american(_median_price("over"))} AS over_price,
                   {_american(_median_price("under"))} AS under_price,
                   -- the best price is never an outlier's
                   max(b.over_price) FILTER (WHERE NOT b.over_outlier) AS best_over,
                   max(b.under_price) FILTER (WHERE NOT b.under_outlier) AS best_under
            FROM consensus c JOIN books b USING (market, game_date, player_name_norm)
            WHERE b.line = c.line
            GROUP BY ALL
        ),
        snap AS (
            SELECT market, game_date, player_name_norm,
                   -- the most quoted spelling, ties by name: the same on every rebuild
                   first(player_name ORDER BY n_quotes DESC, player_name) AS player_name,
                   arg_max(player_id, player_id IS NOT NULL) AS player_id,
                   arg_min(match_status, CASE match_status WHEN 'matched' THEN 0
                       WHEN 'did_not_play' THEN 1 WHEN 'no_box_score' THEN 2 ELSE 3 END)
                       AS match_status,
                   arg_max(game_id, game_id IS NOT NULL) AS game_id,
                   min(commence_time) AS commence_time
            FROM (
                SELECT *, count(*) OVER (
                    PARTITION BY market, game_date, player_name_norm, player_name) AS n_quotes
                FROM core.prop_line_snapshot
            ) GROUP BY ALL
        )
        SELECT c.market, c.game_date, c.player_name_norm, s.player_name, s.player_id,
               s.match_status, s.game_id, s.commence_time, c.line_kind, c.line, c.n_books,
               CASE WHEN c.line_kind = 'sportsbook' THEN p.over_price END AS over_price,
               CASE WHEN c.line_kind = 'sportsbook' THEN p.under_price END AS under_price,
               CASE WHEN c.line_kind = 'sportsbook' THEN p.best_over END AS best_over_price,
               CASE WHEN c.line_kind = 'sportsbook' THEN p.best_under END AS best_under_price,
               c.last_snapshot_time
        FROM consensus c
        JOIN snap s USING (market, game_date, player_name_norm)
        LEFT JOIN prices p USING (market, game_date, player_name_norm)
"""  # noqa: S608


def build_prop_line(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        "DELETE FROM core.prop_line_book; INSERT INTO core.prop_line_book "  # noqa: S608
        + _book_lines_sql("true")
    )
    con.execute(
        # SQL fragments and table names from this module's constants; values bound
        "DELETE FROM core.prop_line; INSERT INTO core.prop_line "  # noqa: S608
        + _consensus_sql("core.prop_line_book")
    )


def lines_at_decision(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    *,
    minutes_before_tip: int,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """``core.prop_line`` as a prediction would have seen it: the same consensus over only
    the quotes seen at or before its decision time (tip-off minus ``minutes_before_tip``,
    and not after ``as_of`` when given, e.g. the moment a live run happens).

    Undated boards (DFS) and quotes placed before the game's date with no tip-off known
    count as seen in time. With 0 minutes and no ``as_of`` it equals ``core.prop_line``.
    """
    where = (
        "game_date BETWEEN $first AND $last"
        " AND (snapshot_time IS NULL OR commence_time IS NULL"
        "      OR snapshot_time <= commence_time - to_minutes(CAST($minutes AS BIGINT)))"
        " AND ($as_of IS NULL OR snapshot_time IS NULL OR snapshot_time <= $as_of)"
    )
    sql = _consensus_sql("decided_books", f"decided_books AS ({_book_lines_sql(where)}),")
    return con.execute(
        sql,
        {"first": first, "last": last, "minutes": minutes_before_tip, "as_of": as_of},
    ).df()


@dataclass(frozen=True)
class CoreTable:
    name: str
    inputs: tuple[str, ...]  # raw source names or other core tables
    build: Callable[..., None]
    # the build takes the quote rules as its second argument
    uses_rules: bool = False


_PROP_SOURCES = ("odds_api_props", "dfs_lines", "pra_odds", "threes_odds", "generic_props")

CORE_TABLES: tuple[CoreTable, ...] = (
    CoreTable("core.team_game", ("nba_team_logs",), build_team_game),
    CoreTable("core.game", ("core.team_game", "schedule", "nba_playoff_box"), build_game),
    CoreTable(
        "core.player_game",
        ("nba_player_logs", "nba_playoff_box", "nba_team_logs", "schedule"),
        build_player_game,
    ),
    CoreTable("core.player", ("core.player_game",), build_player),
    CoreTable("core.game_line", ("game_lines", "core.game"), build_game_line),
    CoreTable(
        "core.prop_line_snapshot",
        (*_PROP_SOURCES, "core.player", "core.game", "core.player_game", "aliases"),
        build_prop_line_snapshot,
        uses_rules=True,
    ),
    CoreTable("core.prop_line", ("core.prop_line_snapshot",), build_prop_line),
    CoreTable(
        "core.availability",
        ("availability", "core.player", "core.game", "core.player_game", "aliases"),
        build_availability,
    ),
)


@dataclass(frozen=True)
class BuildResult:
    table: str
    n_rows: int
    seconds: float


def _last_changes(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """When each input last changed: raw sources (loads), aliases, and core table builds."""
    rows = con.execute(
        """
        SELECT source, max(changed_at) FROM raw.change_log GROUP BY source
        UNION ALL
        SELECT 'aliases', max(built_at) FROM core.alias_fingerprint
        UNION ALL
        SELECT table_name, max(built_at) FROM core.build_log GROUP BY table_name
        """
    ).fetchall()
    return {name: when for name, when in rows if when is not None}


def stale_tables(
    con: duckdb.DuckDBPyConnection, changed: set[str] | None = None
) -> list[CoreTable]:
    """Core tables to rebuild: never built, or an input changed after the table's last build.

    Each table is judged against its own last build, so a change is rebuilt once and a
    later run with nothing new rebuilds nothing. ``changed`` names inputs to treat as
    changed regardless of times.
    """
    last = _last_changes(con)
    pending = set(changed or ())
    stale = []
    for table in CORE_TABLES:
        built = last.get(table.name)
        newer = [
            i
            for i in table.inputs
            if i in pending or (built is not None and i in last and last[i] > built)
        ]
        if built is None or newer:
            stale.append(table)
            pending.add(table.name)
    return stale


# Scratch tables the builders create on the connection (each build runs in its own
# transaction: a failed build's are rolled back with it, a finished build's are dropped
# before it commits).
_SCRATCH_TABLES = (
    "_name_map",
    "_box_rows",
    "_quotes",
    "_q2",
    "_qkeys",
    "_resolved",
    "_placed",
    "_av",
    "_av_keys",
    "_av_resolved",
)


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    for name in _SCRATCH_TABLES:
        # a name from the fixed tuple above (identifiers cannot be bound)
        con.execute(f"DROP TABLE IF EXISTS {name}")


def rebuild(
    con: duckdb.DuckDBPyConnection,
    changed: set[str] | None = None,
    *,
    aliases_file: Path | None = None,
    force: bool = False,
    on_table: Callable[[str], None] | None = None,
    rules: QuoteRules | None = None,
) -> list[BuildResult]:
    """Rebuild stale core tables (all of them with ``force``), one transaction each."""
    changed = set(changed or ())
    rules = rules or QuoteRules()
    with transaction(con):
        _seed_reference(con, aliases_file)
        _aliases_changed(con)
    tables = list(CORE_TABLES) if force else stale_tables(con, changed)
    results = []
    for table in tables:
        started = time.perf_counter()
        with transaction(con):
            if table.uses_rules:
                table.build(con, rules)
            else:
                table.build(con)
            _drop_scratch(con)
            # SQL fragments and table names from this module's constants; values bound
            count = con.execute(f"SELECT count(*) FROM {table.name}").fetchone()  # noqa: S608
            n_rows = int(count[0]) if count else 0
            seconds = time.perf_counter() - started
            con.execute(
                "INSERT INTO core.build_log VALUES (?, now(), ?, ?)", [table.name, n_rows, seconds]
            )
        results.append(BuildResult(table.name, n_rows, seconds))
        if on_table:
            on_table(table.name)
    return results


def _aliases_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """True (and remembered) when the alias table differs from the last build's."""
    now = con.execute(
        "SELECT coalesce(md5(string_agg(book_name_norm || '>' || nba_name_norm, ',' "
        "ORDER BY book_name_norm, nba_name_norm)), '') FROM core.player_alias"
    ).fetchone()
    last = con.execute(
        "SELECT fingerprint FROM core.alias_fingerprint ORDER BY built_at DESC LIMIT 1"
    ).fetchone()
    fingerprint = now[0] if now else ""
    if last and last[0] == fingerprint:
        return False
    con.execute("INSERT INTO core.alias_fingerprint VALUES (?, now())", [fingerprint])
    return last is not None
