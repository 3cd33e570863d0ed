"""The warehouse built from all of the real data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import duckdb

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.jobs import ingest_job
from nbaprops.warehouse.contracts import check_contracts
from nbaprops.warehouse.status import match_rates, warehouse_status


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def test_player_game_holds_every_regular_season_row_and_the_playoffs(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    assert one(real_con, "SELECT count(*) FROM core.player_game WHERE season_type = 'regular'") == (
        252_621
    )
    playoffs = real_con.execute(
        "SELECT season, count(*), count(starter) FROM core.player_game "
        "WHERE season_type = 'playoffs' GROUP BY season ORDER BY season"
    ).fetchall()
    assert [s for s, _, _ in playoffs] == ["2020-21", "2021-22", "2022-23", "2023-24", "2024-25"]
    assert all(n > 1_500 and starters == n for _, n, starters in playoffs)
    assert (
        one(
            real_con,
            "SELECT count(*) FROM (SELECT player_id, game_id FROM core.player_game "
            "GROUP BY ALL HAVING count(*) > 1)",
        )
        == 0
    )


def test_player_sums_equal_the_team_logs_for_every_team_game(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    rows = real_con.execute(
        """
        WITH p AS (
            SELECT game_id, team, sum(points) AS pts, sum(fga) AS fga, sum(fta) AS fta
            FROM core.player_game GROUP BY ALL
        )
        SELECT count(*),
               count(*) FILTER (WHERE p.pts <> t.points OR p.fga <> t.fga OR p.fta <> t.fta),
               count(*) FILTER (WHERE t.season_type = 'playoffs')
        FROM p JOIN core.team_game t USING (game_id, team)
        """
    ).fetchone()
    assert rows is not None
    n, mismatched, playoff_games = rows
    regular_team_games = one(
        real_con,
        "SELECT count(*) FROM core.team_game WHERE season_type = 'regular' "
        "AND season BETWEEN '2015-16' AND '2024-25'",
    )
    assert n >= regular_team_games
    assert playoff_games > 500
    assert mismatched == 0


def test_core_tables_meet_their_contracts(real_con: duckdb.DuckDBPyConnection) -> None:
    assert [str(v) for v in check_contracts(real_con)] == []


def test_spring_2024_points_lines_match_a_player_or_are_explained_voids(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    (rate,) = match_rates(real_con, market="points", source="odds_api_props")
    assert rate.player_dates > 3_900
    assert rate.matched_or_void >= 0.97
    assert rate.matched_share >= 0.90
    unexplained = real_con.execute(
        "SELECT DISTINCT player_name FROM core.prop_line_snapshot "
        "WHERE source = 'odds_api_props' AND market = 'points' AND match_status = 'unknown_name'"
    ).fetchall()
    assert unexplained == []


def test_a_did_not_play_quote_names_a_known_player_with_no_box_score_that_day(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    bad = one(
        real_con,
        """
        SELECT count(*) FROM core.prop_line_snapshot s
        WHERE s.match_status = 'did_not_play' AND (s.player_id IS NULL OR EXISTS (
            SELECT 1 FROM core.player_game p
            WHERE p.player_id = s.player_id AND p.game_date = s.game_date))
        """,
    )
    assert bad == 0


def test_a_line_quoted_after_tipoff_never_reaches_prop_line(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    late = one(
        real_con,
        "SELECT count(*) FROM core.prop_line_snapshot WHERE after_tipoff "
        "AND source = 'odds_api_props'",
    )
    assert late > 0  # the spring feed has quotes updated after tip-off ...
    leaked = one(
        real_con,
        """
        SELECT count(*) FROM core.prop_line_book b
        JOIN core.prop_line l USING (market, game_date, player_name_norm)
        WHERE b.snapshot_time > l.commence_time
        """,
    )
    assert leaked == 0  # ... and none of them is used


def test_prop_lines_choose_one_main_line_per_book(real_con: duckdb.DuckDBPyConnection) -> None:
    alternates = one(
        real_con,
        "SELECT count(*) FROM core.prop_line_book WHERE n_lines_at_snapshot > 1 "
        "AND book IN ('betrivers', 'unibet_us')",
    )
    assert alternates > 0
    spread = one(
        real_con,
        """
        SELECT quantile_cont(abs(b.line - l.line), 0.99) FROM core.prop_line_book b
        JOIN core.prop_line l USING (market, game_date, player_name_norm)
        WHERE b.market = 'points' AND l.line_kind = 'sportsbook'
        """,
    )
    assert spread <= 2.0  # a chosen main line sits near the consensus, not an alternate


def test_game_lines_give_implied_team_totals_for_the_2023_24_season(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    row = real_con.execute(
        """
        SELECT count(*), count(l.game_id),
               max(abs(l.implied_home_total + l.implied_away_total - l.total))
        FROM core.game g LEFT JOIN core.game_line l USING (game_id)
        WHERE g.season = '2023-24' AND g.season_type = 'regular'
        """
    ).fetchone()
    assert row is not None
    games, with_line, worst = row
    assert games == 1230
    assert with_line >= 0.98 * games
    assert worst < 1e-9


def test_the_2025_26_schedule_is_in_the_game_table_with_tipoff_times(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    row = real_con.execute(
        "SELECT count(*), count(tip_off_utc) FROM core.game "
        "WHERE season = '2025-26' AND season_type = 'regular' AND status = 'scheduled'"
    ).fetchone()
    assert row == (1207, 1207)


def test_status_reports_tables_sources_and_match_rates(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    status = warehouse_status(real_con, Settings())
    assert status.tables["core.player_game"] > 260_000
    assert set(status.files_by_source) >= {
        "nba_player_logs",
        "nba_team_logs",
        "nba_playoff_box",
        "game_lines",
        "schedule",
        "odds_api_props",
        "dfs_lines",
        "pra_odds",
        "threes_odds",
    }
    assert {m.source for m in status.match_rates} >= {"odds_api_props", "dfs_lines"}
    assert status.to_dict()["match_rates"][0]["player_dates"] > 0


def test_re_ingesting_the_unchanged_data_folder_adds_nothing(
    warehouse: Path, data_dir: Path
) -> None:
    settings = Settings(data_dir=data_dir, db=warehouse)
    with connect(warehouse) as con:
        before = con.execute(
            "SELECT (SELECT count(*) FROM raw.file), (SELECT count(*) FROM core.player_game), "
            "(SELECT count(*) FROM core.prop_line)"
        ).fetchone()
        result = ingest_job(con, settings)
        after = con.execute(
            "SELECT (SELECT count(*) FROM raw.file), (SELECT count(*) FROM core.player_game), "
            "(SELECT count(*) FROM core.prop_line)"
        ).fetchone()
    assert {r.status for r in result.report.results} == {"unchanged"}
    assert result.builds == []
    assert before == after


def test_every_automated_action_is_in_the_audit_log(real_con: duckdb.DuckDBPyConnection) -> None:
    loaded = one(
        real_con,
        "SELECT count(*) FROM pipeline.audit_log WHERE actor = 'ingest' AND action = 'loaded_file'",
    )
    files = one(real_con, "SELECT count(*) FROM raw.file")
    assert loaded == files
    rebuilt = {
        r[0].split(":")[0]
        for r in real_con.execute(
            "SELECT detail FROM pipeline.audit_log WHERE actor = 'transform'"
        ).fetchall()
    }
    assert {"core.player_game", "core.prop_line", "core.game_line"} <= rebuilt


def test_the_points_line_view_gives_one_line_per_player_game_most_books_first(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    rows, keys = real_con.execute(
        "SELECT count(*), count(DISTINCT (player_id, game_date)) FROM core.points_line"
    ).fetchone()
    assert rows == keys > 5_000
    beaten = real_con.execute(
        """
        SELECT count(*) FROM core.points_line v JOIN core.prop_line p
          ON p.player_id = v.player_id AND p.game_date = v.game_date AND p.market = 'points'
        WHERE p.n_books > v.n_books OR (p.n_books = v.n_books AND p.line < v.line)
        """
    ).fetchone()
    assert beaten == (0,)


def test_lines_at_decision_time_use_no_quote_seen_after_it(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    from datetime import UTC, date, datetime

    import pandas as pd

    from nbaprops.warehouse.transforms import lines_at_decision

    first, last = date(2024, 3, 1), date(2024, 5, 24)
    stored = real_con.execute(
        "SELECT * FROM core.prop_line WHERE game_date BETWEEN ? AND ? ORDER BY ALL", [first, last]
    ).df()
    at_tip = lines_at_decision(real_con, first, last, minutes_before_tip=0)
    at_tip.columns = stored.columns
    at_tip = at_tip.sort_values(list(stored.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, at_tip, check_dtype=False)

    early = lines_at_decision(real_con, first, last, minutes_before_tip=60)
    dated = early.dropna(subset=["last_snapshot_time", "commence_time"])
    assert len(dated) > 1_000
    assert (dated["last_snapshot_time"] <= dated["commence_time"] - pd.Timedelta("60min")).all()
    assert len(early) <= len(stored)

    # 2024-03-10's snapshots were taken 20:49-20:51 UTC: a live run at 20:50 sees some
    day = date(2024, 3, 10)
    run_at = datetime(2024, 3, 10, 20, 50, tzinfo=UTC)
    later = lines_at_decision(real_con, day, day, minutes_before_tip=30)
    live = lines_at_decision(real_con, day, day, minutes_before_tip=30, as_of=run_at)
    assert 0 < len(live) < len(later)
    assert (live["last_snapshot_time"].dropna() <= pd.Timestamp(run_at)).all()


def test_decision_lines_at_tip_off_are_the_points_line_view(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """One rule (macro core.points_line_of) picks the points line for the view and for a
    prediction: at 0 minutes before tip-off they are the same lines, books and prices."""
    from datetime import date

    import numpy as np

    from nbaprops.warehouse.lines import lines_at_decision

    first, last = date(2024, 3, 1), date(2024, 5, 24)
    view = real_con.execute(
        "SELECT player_id, game_date, line, n_books, over_price, under_price "
        "FROM core.points_line WHERE game_date BETWEEN ? AND ? ORDER BY 1, 2",
        [first, last],
    ).df()
    decided = lines_at_decision(real_con, first, last, minutes_before_tip=0)
    mine = decided.points.sort_values(["player_id", "game_date"]).reset_index(drop=True)
    assert len(mine) == len(view) > 3_000
    assert (mine["line"].to_numpy() == view["line"].to_numpy()).all()
    assert (mine["n_books"].to_numpy() == view["n_books"].to_numpy()).all()
    assert np.allclose(mine["over_price"], view["over_price"], equal_nan=True)
    # every book behind a sportsbook line is there to shop, one row per book
    assert not decided.books.duplicated(["player_id", "game_date", "book"]).any()
    per_line = decided.books.groupby(["player_id", "game_date"]).size()
    lined = mine[mine["line_kind"] == "sportsbook"].set_index(["player_id", "game_date"])
    assert (per_line.reindex(lined.index).fillna(0) >= 1).all()
