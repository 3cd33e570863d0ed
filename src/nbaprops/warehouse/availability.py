"""The official injury report in the warehouse, and the one point-in-time rule over it.

``build_availability`` matches each report entry to its game (the matchup's home team
and the game date) and to an NBA player id (name + team + date, through the same
aliases and roster rules as the prop lines). The report's team is a full name.

The rule every reader shares (features, the gate, ``nbaprops availability``): a game's
statuses at time T are those of the **latest report published at or before T that
lists the game**. A player of that game absent from it is *not listed*, which is not
*available*; a team printed as NOT YET SUBMITTED has no statuses yet.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from nbaprops.warehouse.matching import Candidate, resolve_in_roster

NOT_LISTED = "Not listed"
NOT_SUBMITTED = "Not yet submitted"

# Official statuses as ranks: the higher, the less likely he plays.
STATUS_RANK = {"Available": 0, "Probable": 1, "Questionable": 2, "Doubtful": 3, "Out": 4}
RANK_STATUS = {v: k for k, v in STATUS_RANK.items()}
_RANK_SQL = "CASE {s} " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in STATUS_RANK.items()) + " END"


def build_availability(con: duckdb.DuckDBPyConnection) -> None:
    """raw.availability_report (current files) -> core.availability."""
    from nbaprops.warehouse.transforms import _register_names

    con.execute("DROP TABLE IF EXISTS _av")
    con.execute(
        """
        CREATE TEMP TABLE _av AS
        SELECT r.report_time_utc, r.game_date, r.game_time_et, r.matchup, r.team AS team_name,
               nullif(trim(r.player), '') AS player, r.status, r.reason, r._file_id AS file_id,
               ta.tricode AS team, hta.tricode AS home
        FROM raw.availability_report r
        JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
        LEFT JOIN core.team_alias ta ON ta.alias = lower(r.team)
        LEFT JOIN core.team_alias hta ON hta.alias = lower(split_part(r.matchup, '@', 2))
        """
    )
    _register_names(con, "SELECT DISTINCT player FROM _av")
    # exact normalised name (after aliases): among same-named players, the one who played
    # for that team nearest the date
    con.execute("DROP TABLE IF EXISTS _av_keys")
    con.execute(
        """
        CREATE TEMP TABLE _av_keys AS
        SELECT DISTINCT a.player, a.team, a.game_date,
               coalesce(al.nba_name_norm, m.name_norm) AS name_norm,
               al.nba_name_norm IS NOT NULL AS via_alias
        FROM _av a JOIN _name_map m ON m.name = a.player
        LEFT JOIN core.player_alias al ON al.book_name_norm = m.name_norm
        """
    )
    con.execute("DROP TABLE IF EXISTS _av_resolved")
    con.execute(
        """
        CREATE TEMP TABLE _av_resolved AS
        WITH cand AS (
            SELECT k.player, k.team, k.game_date, p.player_id,
                   CASE WHEN k.via_alias THEN 'alias' ELSE 'exact' END AS method,
                   count(*) OVER (PARTITION BY k.player, k.team, k.game_date) AS n_same
            FROM _av_keys k JOIN core.player p ON p.name_norm = k.name_norm
        ),
        near AS (
            SELECT c.*, (
                SELECT min(abs(datediff('day', pg.game_date, c.game_date)))
                FROM core.player_game pg
                WHERE pg.player_id = c.player_id AND pg.team = c.team
            ) AS days_away
            FROM cand c WHERE c.n_same > 1
        )
        SELECT player, team, game_date, player_id, method FROM cand WHERE n_same = 1
        UNION ALL
        SELECT player, team, game_date, player_id, method FROM near
        WHERE days_away IS NOT NULL
        QUALIFY row_number() OVER (
            PARTITION BY player, team, game_date ORDER BY days_away) = 1
        """
    )
    # ... then the loose rules among the team's players of the 200 days around the date
    unresolved = con.execute(
        """
        SELECT k.player, k.team, k.game_date, k.name_norm, p.player_id, p.name_norm
        FROM (SELECT DISTINCT player, team, name_norm, game_date FROM _av_keys k
              WHERE NOT EXISTS (SELECT 1 FROM _av_resolved r WHERE r.player = k.player
                                AND r.team IS NOT DISTINCT FROM k.team
                                AND r.game_date = k.game_date)) k
        JOIN core.player_game pg ON pg.team = k.team
         AND pg.game_date BETWEEN k.game_date - 200 AND k.game_date + 200
        JOIN core.player p ON p.player_id = pg.player_id
        GROUP BY ALL
        """
    ).fetchall()
    rosters: dict[tuple, tuple[str, list[Candidate]]] = {}
    for player, team, day, name_norm, pid, cand_norm in unresolved:
        rosters.setdefault((player, team, day), (name_norm, []))[1].append(
            Candidate(pid, cand_norm)
        )
    fuzzy = []
    for key, (name_norm, roster) in rosters.items():
        found = resolve_in_roster(name_norm, roster)
        if found:
            fuzzy.append((*key, found[0].player_id, f"roster_{found[1]}"))
    if fuzzy:
        con.executemany("INSERT INTO _av_resolved VALUES (?, ?, ?, ?, ?)", fuzzy)
    con.execute(
        # SQL fragments from this module's constants (status ranks, a CTE name); values bound
        f"""
        DELETE FROM core.availability;
        INSERT INTO core.availability
        SELECT a.report_time_utc, a.game_date, g.game_id, a.team, a.team_name,
               timezone('America/New_York', a.game_date + CAST(a.game_time_et AS TIME)),
               a.player, r.player_id,
               CASE WHEN a.player IS NULL THEN 'team' ELSE coalesce(r.method, 'none') END,
               a.status, {_RANK_SQL.format(s="a.status")}, a.reason, a.file_id
        FROM _av a
        LEFT JOIN core.game g ON g.game_date = a.game_date AND g.home_team = a.home
        LEFT JOIN _av_resolved r ON r.player = a.player
             AND r.team IS NOT DISTINCT FROM a.team AND r.game_date = a.game_date;
        """  # noqa: S608
    )
    # the scratch tables are dropped by transforms.rebuild, which runs this build


def decision_time_sql(minutes: str, as_of: str) -> str:
    """SQL for a game's decision time: tip-off minus ``minutes``, no later than ``as_of``
    (both SQL expressions; the tip-off from ``core.game_tip``, aliased ``gt``)."""
    return (
        f"least(gt.tip_off_utc - to_minutes(CAST({minutes} AS BIGINT)), "
        f"coalesce({as_of}, gt.tip_off_utc))"
    )


def report_at_sql(games: str) -> str:
    """The report each game's statuses come from: for every row of ``games``
    (game_id, decided), the latest report published at or before ``decided`` that lists
    the game
    (``report_time_utc`` NULL when none had by then)."""
    # SQL fragments from this module's constants (status ranks, a CTE name); values bound
    return f"""
        SELECT q.game_id, q.decided, max(a.report_time_utc) AS report_time_utc
        FROM {games} q
        LEFT JOIN core.availability a
          ON a.game_id = q.game_id AND a.report_time_utc <= q.decided
        GROUP BY q.game_id, q.decided
    """  # noqa: S608


def statuses_at(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    *,
    minutes_before_tip: int,
    as_of: datetime | None = None,
    at: datetime | None = None,
) -> pd.DataFrame:
    """Every entry of the report each game of [first, last] reads at its decision time
    (tip-off minus ``minutes_before_tip``, no later than ``as_of``), or at ``at`` when
    given: game_id, game_date, tip_off_utc, tip_source, decided (the time judged),
    report_time_utc, team, team_name, player, player_id, status, reason. A game no report
    listed by then has one row with NULL report and entries."""
    decided = (
        "CAST($at AS TIMESTAMPTZ)"
        if at is not None
        else decision_time_sql("$minutes", "CAST($as_of AS TIMESTAMPTZ)")
    )
    frame = con.execute(
        # SQL fragments from this module's constants (status ranks, a CTE name); values bound
        f"""
        WITH games AS (
            SELECT gt.game_id, gt.game_date, gt.tip_off_utc, gt.tip_source, {decided} AS decided
            FROM core.game_tip gt WHERE gt.game_date BETWEEN $first AND $last
        ),
        rep AS ({report_at_sql("games")})
        SELECT g.game_id, g.game_date, g.tip_off_utc, g.tip_source, g.decided, r.report_time_utc,
               a.team, a.team_name, a.player, a.player_id, a.status, a.reason
        FROM games g
        JOIN rep r ON r.game_id = g.game_id AND r.decided = g.decided
        LEFT JOIN core.availability a
          ON a.game_id = g.game_id AND a.report_time_utc = r.report_time_utc
        ORDER BY g.tip_off_utc, g.game_id, a.team, a.player
        """,  # noqa: S608
        {"first": first, "last": last}
        | ({"at": at} if at is not None else {"minutes": int(minutes_before_tip), "as_of": as_of}),
    ).df()
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def player_statuses(entries: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (game_id, team, player_id) with ``availability_status`` and
    ``availability_report_utc`` from ``statuses_at`` entries: the status as printed,
    ``Not listed`` when the report lists his game but not him, ``Not yet submitted``
    when his team had not reported, NULL when no report listed the game by then."""
    out = rows[["game_id", "team", "player_id"]].copy()
    reports = entries.drop_duplicates("game_id").set_index("game_id")["report_time_utc"]
    out["availability_report_utc"] = out["game_id"].map(reports)
    listed = entries.dropna(subset=["player_id"]).astype({"player_id": "int64"})
    listed = listed.drop_duplicates(["game_id", "player_id"]).set_index(["game_id", "player_id"])
    keys = pd.MultiIndex.from_arrays([out["game_id"], out["player_id"].astype("int64")])
    status = np.array(listed["status"].reindex(keys).to_numpy(), dtype=object)
    pending = entries.loc[entries["status"] == "NOT_YET_SUBMITTED", ["game_id", "team"]]
    waiting = pd.MultiIndex.from_frame(pending).unique()
    not_in = pd.MultiIndex.from_arrays([out["game_id"], out["team"]]).isin(waiting)
    has_report = out["availability_report_utc"].notna().to_numpy()
    fill = pd.isna(status) & has_report
    status[fill & not_in] = NOT_SUBMITTED
    status[fill & ~not_in] = NOT_LISTED
    status[pd.isna(status)] = None
    out["availability_status"] = status
    return out
