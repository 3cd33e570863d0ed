"""Freshness gates (issue 23) on tiny hand-made warehouses: box scores judged against the
schedule, a season's start and the All-Star break never stale, live lines by age, team
changes flagged, and messages that name the real reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core.errors import NbapropsError, StaleDataError
from nbaprops.core.settings import Settings
from nbaprops.features.state import STATE_SEASON_TYPES
from nbaprops.predictions.daily import held_reasons, rank_picks, refuse_stale
from nbaprops.predictions.picks import BET, WATCHLIST
from nbaprops.warehouse import freshness as f

SETTINGS = Settings(freshness_max_box_score_age_days=3, freshness_max_line_age_hours=6)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("CREATE SCHEMA core; CREATE SCHEMA predictions")
    c.execute(
        "CREATE TABLE core.game (game_id VARCHAR, season VARCHAR, season_type VARCHAR, "
        "game_date DATE, home_team VARCHAR, away_team VARCHAR)"
    )
    c.execute("CREATE TABLE core.player_game (player_id BIGINT, game_date DATE, team VARCHAR)")
    c.execute(
        "CREATE TABLE core.prop_line_snapshot (player_id BIGINT, game_id VARCHAR, "
        "game_date DATE, market VARCHAR, snapshot_time TIMESTAMPTZ, after_tipoff BOOLEAN)"
    )
    c.execute("CREATE TABLE core.game_line (game_id VARCHAR, game_date DATE)")
    c.execute("CREATE TABLE predictions.prediction (game_date DATE, is_active BOOLEAN)")
    yield c
    c.close()


def games(con: duckdb.DuckDBPyConnection, first: date, last: date, kind: str = "regular") -> None:
    """One BOS-NYK game a day in [first, last]."""
    day = first
    while day <= last:
        con.execute(
            "INSERT INTO core.game VALUES (?, '2025-26', ?, ?, 'BOS', 'NYK')",
            [f"g{day:%Y%m%d}", kind, day],
        )
        day += timedelta(days=1)


def box_scores(con: duckdb.DuckDBPyConnection, last: date, days: int = 5) -> None:
    for i in range(days):
        con.execute("INSERT INTO core.player_game VALUES (1, ?, 'BOS')", [last - timedelta(i)])


def test_the_season_tuple_is_the_spines() -> None:
    assert f.LEAGUE_SEASON_TYPES == STATE_SEASON_TYPES


def test_box_scores_behind_the_schedule_by_more_than_n_days_refuse_the_date(con) -> None:
    box_scores(con, date(2025, 6, 22))
    games(con, date(2025, 10, 21), date(2025, 12, 10))
    fresh = f.check_date(con, date(2025, 12, 1), SETTINGS)
    box = fresh.source("box_scores")
    assert (box.state, box.gate, box.latest) == (f.STALE, True, "2025-06-22")
    assert fresh.state == f.STALE
    assert fresh.message().startswith(
        "box scores are stale for 2025-12-01: the newest is from 2025-06-22, 162 days before, "
        "and the league games scheduled since 2025-10-21 have none (limit 3 days"
    )
    assert "`nbaprops ingest nba-api --season 2025-26`" in fresh.message()
    assert "--allow-stale" in fresh.message()
    assert fresh.override() == "box_scores stale (latest 2025-06-22)"
    with pytest.raises(StaleDataError) as refused:
        refuse_stale(con, date(2025, 12, 1), SETTINGS)
    assert refused.value.exit_code == 2
    assert refuse_stale(con, date(2025, 12, 1), SETTINGS, allow_stale=True) == fresh.override()


def test_a_seasons_first_days_are_not_stale_but_day_four_is(con) -> None:
    box_scores(con, date(2025, 6, 22))
    games(con, date(2025, 10, 21), date(2025, 11, 30))
    for day, state in [
        (date(2025, 10, 21), f.OK),  # opening night: last June's box scores are the newest
        (date(2025, 10, 24), f.OK),  # games of the 21st are 3 days old
        (date(2025, 10, 25), f.STALE),
    ]:
        assert f.box_scores(con, day, 3).state == state, day


def test_the_all_star_break_is_not_stale(con) -> None:
    games(con, date(2026, 2, 1), date(2026, 2, 12))
    games(con, date(2026, 2, 19), date(2026, 2, 28))  # the break: nobody plays 13-18
    box_scores(con, date(2026, 2, 12))
    assert f.box_scores(con, date(2026, 2, 19), 3).state == f.OK  # 7 days, no game missed
    assert f.box_scores(con, date(2026, 2, 22), 3).state == f.OK
    assert f.box_scores(con, date(2026, 2, 23), 3).state == f.STALE  # the 19th: 4 days


def test_a_past_date_is_judged_by_the_box_scores_before_it(con) -> None:
    games(con, date(2024, 1, 1), date(2024, 3, 31))
    box_scores(con, date(2024, 3, 31), days=91)
    assert f.box_scores(con, date(2024, 2, 10), 3).state == f.OK
    con.execute(
        "DELETE FROM core.player_game WHERE game_date BETWEEN '2024-02-01' AND '2024-02-09'"
    )
    assert f.box_scores(con, date(2024, 2, 10), 3).state == f.STALE  # later ones do not count


def test_live_lines_are_judged_by_age_and_past_lines_never_gate(con) -> None:
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 15:00 US/Eastern, March 2
    games(con, date(2026, 2, 20), date(2026, 3, 5))
    box_scores(con, date(2026, 3, 1))
    today = date(2026, 3, 2)
    fresh = f.check_date(con, today, SETTINGS, now)
    lines = fresh.source("prop_lines")
    assert fresh.live
    assert (lines.state, lines.gate) == (f.MISSING, True)
    assert "no real prop lines for 2026-03-02" in lines.detail
    assert "`nbaprops fetch --date 2026-03-02`" in lines.detail
    con.execute(
        "INSERT INTO core.prop_line_snapshot VALUES (1, 'g20260302', ?, 'points', ?, false)",
        [today, now - timedelta(hours=7)],
    )
    lines = f.check_date(con, today, SETTINGS, now).source("prop_lines")
    assert (lines.state, lines.gate) == (f.STALE, True)
    assert "were last seen 7.0 hours ago (limit 6 hours" in lines.detail
    con.execute(
        "INSERT INTO core.prop_line_snapshot VALUES (1, 'g20260302', ?, 'points', ?, false)",
        [today, now - timedelta(hours=1)],
    )
    assert f.check_date(con, today, SETTINGS, now).state == f.OK
    # the day before is a past date: its missing lines are reported, never a refusal
    past = f.check_date(con, date(2026, 3, 1), SETTINGS, now)
    assert not past.live
    assert past.source("prop_lines").state == f.MISSING
    assert past.state == f.OK


def test_a_quote_seen_after_now_does_not_make_lines_fresh(con) -> None:
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    games(con, date(2026, 3, 2), date(2026, 3, 2))
    box_scores(con, date(2026, 3, 1))
    con.execute(
        "INSERT INTO core.prop_line_snapshot VALUES (1, 'g20260302', '2026-03-02', 'points', ?, "
        "false)",
        [now + timedelta(hours=1)],
    )
    assert f.check_date(con, date(2026, 3, 2), SETTINGS, now).source("prop_lines").state == (
        f.MISSING
    )


def test_a_player_whose_line_is_in_another_teams_game_is_flagged(con) -> None:
    games(con, date(2024, 10, 22), date(2024, 10, 22))
    con.execute(
        "INSERT INTO core.player_game VALUES (7, '2024-04-10', 'BKN'), (8, '2024-04-10', 'BOS')"
    )
    con.execute(
        "INSERT INTO core.prop_line_snapshot VALUES "
        "(7, 'g20241022', '2024-10-22', 'points', NULL, false), "  # a DFS board: no time
        "(8, 'g20241022', '2024-10-22', 'points', '2024-10-22 20:00:00+00', false)"
    )
    flagged = f.team_changes(con, date(2024, 10, 22), [(7, "BOS"), (8, "BOS"), (9, "NYK")])
    assert flagged == {7: "team changed: BKN → NYK @ BOS (his line's game)"}
    # no line, but the slate placed him on another team than his box scores'
    con.execute("INSERT INTO core.player_game VALUES (9, '2024-04-10', 'PHI')")
    assert f.team_changes(con, date(2024, 10, 22), [(9, "NYK")]) == {9: "team changed: PHI → NYK"}


def test_no_games_messages_name_the_schedule_and_a_next_step(con) -> None:
    assert "no schedule" in f.no_games_message(con, date(2024, 4, 13))
    games(con, date(2024, 4, 12), date(2024, 4, 12))
    games(con, date(2024, 4, 14), date(2024, 4, 14))
    games(con, date(2024, 4, 16), date(2024, 4, 16), kind="playin")
    assert f.no_games_message(con, date(2024, 4, 12)) is None
    assert f.no_games_message(con, date(2024, 4, 13)) == (
        "no games on 2024-04-13 in the warehouse's schedule (the nearest game dates are "
        "2024-04-12 and 2024-04-14); choose a date with games"
    )
    assert f.no_games_message(con, date(2024, 4, 16)).startswith("only playin games on 2024-04-16")
    later = f.no_games_message(con, date(2025, 12, 1))
    assert "(the last game loaded is 2024-04-14)" in later
    assert "2025-26 schedule" in later
    earlier = f.no_games_message(con, date(2023, 1, 5))
    assert "`nbaprops ingest nba-api --season 2022-23`" in earlier
    assert f.missing_predictions_message(con, date(2024, 4, 12)) == (
        "no predictions on 2024-04-12 (1 games scheduled); run `nbaprops predict --date 2024-04-12`"
    )
    with pytest.raises(NbapropsError, match="no games on 2024-04-13"):
        refuse_stale(con, date(2024, 4, 13), SETTINGS)


def test_flagged_or_overridden_rows_are_held_from_bets_and_ranked_after_bets() -> None:
    rows = pd.DataFrame(
        {
            "freshness_flag": [None, "team changed: BKN → NYK", None],
            "stale_override": [None, None, "box_scores stale (latest 2025-06-22)"],
        }
    )
    held = held_reasons(rows)
    assert held.isna().tolist() == [True, False, False]
    assert held[1] == "team changed: BKN → NYK"
    assert held[2] == "stale data overridden: box_scores stale (latest 2025-06-22)"
    assert held_reasons(pd.DataFrame({"x": [1]})).isna().all()  # rows before migration 015
    picks = pd.DataFrame(
        {
            "status": [WATCHLIST, BET, WATCHLIST, BET],
            "ev_calibrated": [0.5, 0.03, np.nan, 0.08],
            "ev_raw": [0.9, 0.05, 0.2, 0.1],
            "player_id": [1, 2, 3, 4],
            "rank": [1, 2, 3, 4],
        }
    )
    ranked = rank_picks(picks)
    assert ranked["player_id"].tolist() == [4, 2, 1, 3]
    assert ranked["rank"].tolist() == [1, 2, 3, 4]


def test_the_latest_predicted_date_is_judged_for_health(con) -> None:
    games(con, date(2025, 10, 21), date(2025, 12, 10))
    box_scores(con, date(2025, 6, 22))
    con.execute("INSERT INTO predictions.prediction VALUES ('2025-10-22', true)")
    assert f.report(con, SETTINGS).state == f.OK  # 1 day into the season
    con.execute("INSERT INTO predictions.prediction VALUES ('2025-12-01', true)")
    fresh = f.report(con, SETTINGS)
    assert (fresh.day, fresh.state) == (date(2025, 12, 1), f.STALE)
