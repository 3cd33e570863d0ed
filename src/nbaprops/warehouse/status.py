"""What the warehouse holds: table sizes, sources, quarantine and player matching, and
how fresh each source is for today (US/Eastern; ``warehouse.freshness``, the gates
``predict`` applies)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb

from nbaprops.core.settings import Settings
from nbaprops.warehouse.freshness import report, today_eastern
from nbaprops.warehouse.migrate import current_version

CORE_TABLE_NAMES = (
    "core.game",
    "core.team_game",
    "core.player_game",
    "core.player",
    "core.game_line",
    "core.prop_line_snapshot",
    "core.prop_line_book",
    "core.prop_line",
    "core.availability",
)


@dataclass(frozen=True)
class MatchRate:
    """Player-dates of one source's quotes, by how they matched a box score."""

    source: str
    player_dates: int
    matched: int
    did_not_play: int
    no_box_score: int
    no_game: int
    unknown_name: int

    @property
    def matched_or_void(self) -> float:
        """Share matched, or explained as a known player with no box score that day."""
        explained = self.matched + self.did_not_play + self.no_box_score + self.no_game
        return explained / self.player_dates if self.player_dates else 0.0

    @property
    def matched_share(self) -> float:
        return self.matched / self.player_dates if self.player_dates else 0.0


@dataclass(frozen=True)
class Status:
    schema_version: int
    tables: dict[str, int]
    files_by_source: dict[str, int]
    quarantined_by_source: dict[str, int]
    match_rates: list[MatchRate]
    unmatched_names: list[tuple[str, str, int]] = field(default_factory=list)
    date_ranges: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # prop quotes that could not be placed against tip-off (core.prop_quote_quarantine)
    unplaced_quotes_by_source: dict[str, int] = field(default_factory=dict)
    # prop quotes refused as a pair: two-way prices under the margin floor, by source
    thin_margin_quotes_by_source: dict[str, int] = field(default_factory=dict)
    # book prices flagged as outliers against the other books (never shopped), by market
    outlier_prices_by_market: dict[str, int] = field(default_factory=dict)
    # box-score rows of games no team log or schedule knows (core.box_score_quarantine)
    unknown_game_box_scores_by_source: dict[str, int] = field(default_factory=dict)
    # the injury report's entries matched to players and games (availability_match)
    availability: dict = field(default_factory=dict)
    # each source's freshness for today: warehouse.freshness.DateFreshness.to_dict()
    freshness: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["match_rates"] = [
            {**asdict(m), "matched_share": m.matched_share, "matched_or_void": m.matched_or_void}
            for m in self.match_rates
        ]
        out["unmatched_names"] = [
            {"source": s, "player_name": n, "player_dates": c} for s, n, c in self.unmatched_names
        ]
        return out


def match_rates(
    con: duckdb.DuckDBPyConnection, market: str | None = None, source: str | None = None
) -> list[MatchRate]:
    """Per-source match outcome over distinct player-dates (best status per player-date)."""
    rows = con.execute(
        """
        WITH pd AS (
            SELECT source, player_name_norm, game_date,
                   min(CASE match_status WHEN 'matched' THEN 0 WHEN 'did_not_play' THEN 1
                       WHEN 'no_box_score' THEN 2 WHEN 'no_game' THEN 3 ELSE 4 END) AS s
            FROM core.prop_line_snapshot
            WHERE (CAST(? AS VARCHAR) IS NULL OR market = ?)
              AND (CAST(? AS VARCHAR) IS NULL OR source = ?)
            GROUP BY ALL
        )
        SELECT source, count(*), count(*) FILTER (s = 0), count(*) FILTER (s = 1),
               count(*) FILTER (s = 2), count(*) FILTER (s = 3), count(*) FILTER (s = 4)
        FROM pd GROUP BY source ORDER BY source
        """,
        [market, market, source, source],
    ).fetchall()
    return [MatchRate(*r) for r in rows]


def unmatched_names(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[tuple[str, str, int]]:
    return [
        (r[0], r[1], int(r[2]))
        for r in con.execute(
            """
            SELECT source, player_name, count(DISTINCT game_date) AS n
            FROM core.prop_line_snapshot WHERE match_status = 'unknown_name'
            GROUP BY ALL ORDER BY n DESC, player_name LIMIT ?
            """,
            [limit],
        ).fetchall()
    ]


def availability_match(con: duckdb.DuckDBPyConnection, limit: int = 10) -> dict:
    """How the injury report's player entries matched: by name + team + date to a player
    id, and by matchup + date to a game. Unmatched names are mostly players with no NBA
    box score yet (two-way and G League call-ups), who never feed a feature."""
    row = con.execute(
        """
        SELECT count(DISTINCT report_time_utc), min(report_time_utc), max(report_time_utc),
               count(*) FILTER (WHERE player IS NOT NULL),
               count(*) FILTER (WHERE player_id IS NOT NULL),
               count(*) FILTER (WHERE player IS NOT NULL AND player_id IS NULL),
               count(*) FILTER (WHERE player IS NULL),
               count(*) FILTER (WHERE game_id IS NULL),
               count(DISTINCT player) FILTER (WHERE player IS NOT NULL AND player_id IS NULL)
        FROM core.availability
        """
    ).fetchone()
    if not row or not row[0]:
        return {}
    names = con.execute(
        """
        SELECT player, team_name, count(*) AS n FROM core.availability
        WHERE player IS NOT NULL AND player_id IS NULL
        GROUP BY ALL ORDER BY n DESC, player LIMIT ?
        """,
        [limit],
    ).fetchall()
    methods = dict(
        con.execute(
            "SELECT match_method, count(*) FROM core.availability WHERE player IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    )
    entries = int(row[3])
    return {
        "reports": int(row[0]),
        "first_report_utc": str(row[1]),
        "last_report_utc": str(row[2]),
        "player_entries": entries,
        "matched_entries": int(row[4]),
        "matched_share": row[4] / entries if entries else 0.0,
        "unmatched_entries": int(row[5]),
        "unmatched_players": int(row[8]),
        "not_yet_submitted_entries": int(row[6]),
        "entries_of_unknown_games": int(row[7]),
        "by_method": methods,
        "unmatched_names": [{"player": p, "team": t, "entries": int(n)} for p, t, n in names],
    }


def warehouse_status(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    unmatched_limit: int = 50,
    market: str | None = None,
) -> Status:
    tables = {}
    for name in CORE_TABLE_NAMES:
        # a name from the fixed CORE_TABLE_NAMES (a table name cannot be bound)
        row = con.execute(f"SELECT count(*) FROM {name}").fetchone()  # noqa: S608
        tables[name] = int(row[0]) if row else 0
    files = dict(
        con.execute(
            "SELECT source, count(*) FROM raw.file WHERE is_current GROUP BY source ORDER BY 1"
        ).fetchall()
    )
    quarantined = dict(
        con.execute(
            "SELECT source, count(*) FROM raw.quarantine GROUP BY source ORDER BY 1"
        ).fetchall()
    )
    unplaced = dict(
        con.execute(
            "SELECT source, count(*) FROM core.prop_quote_quarantine "
            "WHERE reason NOT LIKE 'two-way prices%' GROUP BY source ORDER BY 1"
        ).fetchall()
    )
    thin = dict(
        con.execute(
            "SELECT source, count(*) FROM core.prop_quote_quarantine "
            "WHERE reason LIKE 'two-way prices%' GROUP BY source ORDER BY 1"
        ).fetchall()
    )
    outliers = dict(
        con.execute(
            "SELECT market, count(*) FILTER (WHERE over_outlier) "
            "+ count(*) FILTER (WHERE under_outlier) AS n FROM core.prop_line_book "
            "GROUP BY market HAVING n > 0 ORDER BY 1"
        ).fetchall()
    )
    unknown_game = dict(
        con.execute(
            "SELECT source, count(*) FROM core.box_score_quarantine GROUP BY source ORDER BY 1"
        ).fetchall()
    )
    ranges = {
        r[0]: (str(r[1]) if r[1] else None, str(r[2]) if r[2] else None)
        for r in con.execute(
            """
            SELECT 'player_game', min(game_date), max(game_date) FROM core.player_game
            UNION ALL SELECT 'game', min(game_date), max(game_date) FROM core.game
            UNION ALL SELECT 'prop_line', min(game_date), max(game_date) FROM core.prop_line
            """
        ).fetchall()
    }
    return Status(
        schema_version=current_version(con),
        tables=tables,
        files_by_source=files,
        quarantined_by_source=quarantined,
        match_rates=match_rates(con, market=market),
        unmatched_names=unmatched_names(con, unmatched_limit),
        date_ranges=ranges,
        unplaced_quotes_by_source=unplaced,
        thin_margin_quotes_by_source=thin,
        outlier_prices_by_market=outliers,
        unknown_game_box_scores_by_source=unknown_game,
        availability=availability_match(con, unmatched_limit),
        freshness=report(con, settings, today_eastern()).to_dict(),
    )
