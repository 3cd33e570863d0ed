"""Point in time: nothing dated on or after a game can move that game's features."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, training_spine
from nbaprops.features.state import refresh_state
from nbaprops.pipeline.jobs import ingest_job
from nbaprops.warehouse.transforms import rebuild

FEATURES = [*list(POINTS_V1.features), "n_defaulted", "n_required_defaulted"]

PERTURBED_DATES = [
    date(2023, 10, 25),  # first week of 2023-24
    date(2024, 3, 15),  # spring 2024, sportsbook lines from 10 books
    date(2024, 4, 25),  # playoffs
    date(2024, 11, 15),  # 2024-25, DFS lines
]


def perturb_on_and_after(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Points x10 on every box score on/after ``day``; every later line moved by +7.5.

    Lines for games *on* ``day`` quoted before tip-off are legitimately known before
    the game, so only their after-tip-off quotes are moved (to +50), which must not
    matter either.
    """
    con.execute("UPDATE core.player_game SET points = points * 10 + 3 WHERE game_date >= ?", [day])
    con.execute(
        "UPDATE core.team_game SET points = points * 10, opp_points = opp_points * 10, "
        "off_rating = off_rating * 10, def_rating = def_rating * 10, pace = pace * 2 "
        "WHERE game_date >= ?",
        [day],
    )
    con.execute(
        "UPDATE core.game_line SET total = total + 40, spread_home = spread_home + 9, "
        "implied_home_total = implied_home_total + 10 WHERE game_date > ?",
        [day],
    )
    con.execute("UPDATE core.prop_line_snapshot SET line = line + 7.5 WHERE game_date > ?", [day])
    add_late_quotes(con, day, shift=50.0, minutes_after_tip=60)  # none before March 2024
    # the box scores were edited in place (no core rebuild recorded): every state rebuilt
    refresh_state(con, force=True)


def add_late_quotes(
    con: duckdb.DuckDBPyConnection, day: date, shift: float, minutes_after_tip: int
) -> int:
    """Copy every points quote of ``day`` as if re-quoted after tip-off, moved by ``shift``."""
    before = con.execute("SELECT count(*) FROM core.prop_line_snapshot").fetchall()[0][0]
    con.execute(
        """
        INSERT INTO core.prop_line_snapshot
        SELECT * REPLACE (line + ? AS line,
                          commence_time + to_minutes(CAST(? AS BIGINT)) AS snapshot_time,
                          true AS after_tipoff)
        FROM core.prop_line_snapshot
        WHERE game_date = ? AND market = 'points' AND commence_time IS NOT NULL
        """,
        [shift, minutes_after_tip, day],
    )
    added = con.execute("SELECT count(*) FROM core.prop_line_snapshot").fetchall()[0][0] - before
    # as an ingest of new quotes does: the consensus rebuilt, then the states reading it
    built = rebuild(con, {"core.prop_line_snapshot"})
    assert [b.table for b in built] == ["core.prop_line"]
    refresh_state(con)
    return int(added)


@pytest.fixture(scope="module")
def baseline(warehouse: Path) -> dict[date, pd.DataFrame]:
    with connect(warehouse, read_only=True) as con:
        return {d: build_frame(con, training_spine(con, d, d), POINTS_V1) for d in PERTURBED_DATES}


@pytest.mark.parametrize("day", PERTURBED_DATES, ids=str)
def test_changing_every_row_on_or_after_a_date_does_not_move_that_dates_features(
    day: date, warehouse: Path, tmp_path: Path, baseline: dict[date, pd.DataFrame]
) -> None:
    copy = tmp_path / "perturbed.duckdb"
    shutil.copy(warehouse, copy)
    before = baseline[day]
    assert len(before) > 40
    with connect(copy) as con:
        perturb_on_and_after(con, day)
        spine = before[list(before.columns[:8])]
        after = build_frame(con, spine, POINTS_V1)
        moved = con.execute(
            "SELECT count(*) FROM core.player_game WHERE game_date = ? AND points % 10 = 3",
            [day],
        ).fetchall()[0][0]
    assert moved == len(before)  # the perturbation really hit this date's box scores
    pd.testing.assert_frame_equal(before[FEATURES], after[FEATURES])


def test_a_players_own_game_never_feeds_its_own_features(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """Same-game tripwire: a leaked rolling mean correlates >= 0.95 with the game's points."""
    frame = build_frame(
        real_con, training_spine(real_con, date(2023, 10, 24), date(2024, 4, 14)), POINTS_V1
    )
    assert len(frame) > 25_000
    worst = {}
    for name in POINTS_V1.features:
        values = frame[name].to_numpy()
        if np.std(values) == 0:
            continue
        worst[name] = abs(np.corrcoef(values, frame["points"].to_numpy())[0, 1])
    assert max(worst.values()) < 0.9, sorted(worst.items(), key=lambda kv: -kv[1])[:3]
    assert worst["points_avg_last_10"] > 0.5  # the tripwire can see real signal


def test_a_line_quoted_after_tipoff_is_never_used(warehouse: Path, tmp_path: Path) -> None:
    day = date(2024, 3, 15)
    copy = tmp_path / "late.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy) as con:
        spine = training_spine(con, day, day)
        before = build_frame(con, spine, POINTS_V1)
        assert add_late_quotes(con, day, shift=30.0, minutes_after_tip=5) > 100
        after = build_frame(con, spine, POINTS_V1)
    lined = before["has_line"] == 1
    assert lined.sum() > 30
    pd.testing.assert_series_equal(before["points_line"], after["points_line"])


def _lined_quotes_csv(con: duckdb.DuckDBPyConnection, day: date, shift: float, when: str) -> str:
    """A generic prop-line CSV re-quoting every points line of ``day`` with ``game_date`` only.

    ``when`` is a SQL expression for the snapshot time over the consensus row ``pl``.
    """
    rows = con.execute(
        f"""
        SELECT pl.player_name, pl.line + ?, strftime({when}, '%Y-%m-%dT%H:%M:%SZ')
        FROM core.prop_line pl
        WHERE pl.market = 'points' AND pl.game_date = ? AND pl.match_status = 'matched'
        """,
        [shift, day],
    ).fetchall()
    lines = ["player,game_date,market,book,line,over_price,under_price,snapshot_time"]
    lines += [f"{name},{day},points,latebook,{line},-110,-110,{seen}" for name, line, seen in rows]
    return "\n".join(lines) + "\n"


def _ingest_generic(db: Path, tmp_path: Path, text: str) -> None:
    folder = tmp_path / "mine" / "prop_lines"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "late.csv").write_text(text)
    with connect(db) as con:
        result = ingest_job(con, Settings(data_dir=tmp_path / "mine", db=db))
    assert [r.status for r in result.report.results] == ["loaded"]


def test_a_generic_quote_without_tipoff_seen_after_the_game_started_is_never_used(
    warehouse: Path, tmp_path: Path
) -> None:
    """Perturbation on the generic CSV path: quotes with only ``game_date``, seen after tip.

    Their own rows carry no tip-off, so only the game's tip-off (from another feed or the
    schedule) can tell they are late. Neither the day's consensus line nor any feature of
    the following days may move.
    """
    day = date(2024, 3, 15)
    later = (date(2024, 3, 16), date(2024, 3, 25))
    copy = tmp_path / "generic_late.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy, read_only=True) as con:
        lines_before = con.execute(
            "SELECT * FROM core.prop_line WHERE game_date = ? ORDER BY ALL", [day]
        ).df()
        spine = training_spine(con, *later)
        features_before = build_frame(con, spine, POINTS_V1)
        text = _lined_quotes_csv(con, day, 30.0, "pl.commence_time + INTERVAL 30 MINUTE")
    assert text.count("\n") > 30
    _ingest_generic(copy, tmp_path, text)
    with connect(copy, read_only=True) as con:
        kept = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE after_tipoff) FROM core.prop_line_snapshot "
            "WHERE book = 'latebook'"
        ).fetchall()[0]
        lines_after = con.execute(
            "SELECT * FROM core.prop_line WHERE game_date = ? ORDER BY ALL", [day]
        ).df()
        features_after = build_frame(con, spine, POINTS_V1)
    assert kept[0] == text.count("\n") - 1  # every late quote was matched to its game ...
    assert kept[1] == kept[0]  # ... and placed after its tip-off
    pd.testing.assert_frame_equal(lines_before, lines_after)
    assert features_before["has_line"].sum() > 300
    pd.testing.assert_frame_equal(features_before[FEATURES], features_after[FEATURES])


def test_a_generic_quote_that_cannot_be_placed_in_time_is_quarantined(
    warehouse: Path, tmp_path: Path
) -> None:
    """No feed quotes 2024-02-10's games and the past has no schedule: a same-day quote
    cannot be told from a post-tip one, so it is quarantined; a day-before quote is used."""
    day = date(2024, 2, 10)
    copy = tmp_path / "generic_unplaced.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy, read_only=True) as con:
        players = con.execute(
            "SELECT player_name, player_id FROM core.player_game "
            "WHERE game_date = ? AND points >= 20 ORDER BY player_id LIMIT 6",
            [day],
        ).fetchall()
    assert len(players) == 6
    header = "player,game_date,market,book,line,over_price,under_price,snapshot_time\n"
    same_day = [f"{n},{day},points,mybook,14.5,-110,-110,{day}T23:30:00Z" for n, _ in players[:3]]
    day_before = [
        f"{n},{day},points,mybook,15.5,-110,-110,2024-02-09T20:00:00Z" for n, _ in players[3:]
    ]
    _ingest_generic(copy, tmp_path, header + "\n".join(same_day + day_before) + "\n")
    with connect(copy, read_only=True) as con:
        quarantined = con.execute(
            "SELECT player_name, line, reason, file_line FROM core.prop_quote_quarantine "
            "WHERE book = 'mybook' ORDER BY file_line"
        ).fetchall()
        used = con.execute(
            "SELECT player_id, line FROM core.prop_line_book WHERE book = 'mybook' ORDER BY ALL"
        ).fetchall()
    assert [(q[0], q[1], q[3]) for q in quarantined] == [
        (n, 14.5, i + 2) for i, (n, _) in enumerate(players[:3])
    ]
    assert all("cannot be placed in time" in q[2] for q in quarantined)
    assert sorted(pid for pid, _ in used) == sorted(pid for _, pid in players[3:])
    assert {line for _, line in used} == {15.5}
