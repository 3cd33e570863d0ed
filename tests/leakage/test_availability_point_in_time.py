"""Point in time for the injury report and line moves: a game's availability and
line-move features read only what was published by its decision time (tip-off minus
the decision minutes, no later than ``as_of``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.features.catalog import CATALOG_AVAILABILITY, POINTS_V3
from nbaprops.features.frame import build_frame, training_spine
from tests.conftest import copy_warehouse

DAY = date(2024, 3, 12)
MINUTES = 30
ET = ZoneInfo("America/New_York")
AV_FEATURES = [f.name for f in CATALOG_AVAILABILITY]
BRUNSON, RANDLE, ROBINSON, ANUNOBY = (
    "Jalen Brunson",
    "Julius Randle",
    "Mitchell Robinson",
    ("OG Anunoby"),
)


@pytest.fixture(scope="module")
def con(
    warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable copy of the real warehouse; every perturbation is rolled back."""
    db = copy_warehouse(warehouse, tmp_path_factory.mktemp("av_pit") / "nbaprops.duckdb")
    with connect(db) as c:
        yield c


@contextmanager
def rolled_back(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    finally:
        con.execute("ROLLBACK")


@pytest.fixture(scope="module")
def spine(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return training_spine(con, DAY, DAY)


@pytest.fixture(scope="module")
def baseline(con: duckdb.DuckDBPyConnection, spine: pd.DataFrame) -> pd.DataFrame:
    return build_frame(con, spine, POINTS_V3, with_flags=True, minutes_before_tip=MINUTES)


def frame_of(con: duckdb.DuckDBPyConnection, spine: pd.DataFrame) -> pd.DataFrame:
    return build_frame(con, spine, POINTS_V3, with_flags=True, minutes_before_tip=MINUTES)


def decisions(con: duckdb.DuckDBPyConnection, day: date = DAY) -> pd.DataFrame:
    """Each game of ``day``: its tip-off and decision time (tip-off minus MINUTES)."""
    games = con.execute(
        "SELECT game_id, tip_off_utc FROM core.game_tip WHERE game_date = ?", [day]
    ).df()
    games["decided"] = games["tip_off_utc"] - pd.Timedelta(minutes=MINUTES)
    return games


def register_decisions(con: duckdb.DuckDBPyConnection) -> None:
    games = decisions(con)
    con.register("_dec_df", games)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _dec AS SELECT game_id, "
        "CAST(tip_off_utc AS TIMESTAMPTZ) AS tip_off_utc, CAST(decided AS TIMESTAMPTZ) AS decided "
        "FROM _dec_df"
    )
    con.unregister("_dec_df")


def report_used(con: duckdb.DuckDBPyConnection, game_id: str, at: datetime) -> datetime:
    """The latest report published at or before ``at`` that lists the game."""
    row = con.execute(
        "SELECT max(report_time_utc) FROM core.availability "
        "WHERE game_id = ? AND report_time_utc <= ?",
        [game_id, at],
    ).fetchone()
    assert row
    assert row[0] is not None
    return row[0]


def insert_everyone_out(con: duckdb.DuckDBPyConnection, offset: str) -> int:
    """A report at each D game's decision time + ``offset`` listing every player OUT."""
    before = con.execute("SELECT count(*) FROM core.availability").fetchone()[0]
    con.execute(
        f"""
        INSERT INTO core.availability
        SELECT d.decided + INTERVAL '{offset}', pg.game_date, pg.game_id, pg.team, pg.team,
               NULL, p.player_name, pg.player_id, 'exact', 'Out', 4, 'test', 'test'
        FROM core.player_game pg
        JOIN _dec d ON d.game_id = pg.game_id
        JOIN core.player p ON p.player_id = pg.player_id
        """
    )
    return con.execute("SELECT count(*) FROM core.availability").fetchone()[0] - before


def assert_same(before: pd.DataFrame, after: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(before, after)


def expected_roles(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, at: dict[str, datetime]
) -> pd.DataFrame:
    """Independently, per spine row: the report its game reads at ``at[game_id]`` (the
    latest at or before), his rank in it (NaN: not listed), and the last-10 minutes of
    teammates / opponents listed OUT or DOUBTFUL and of teammates QUESTIONABLE."""
    rows = []
    for game_id, when in at.items():
        used = report_used(con, game_id, when)
        rows.append(
            con.execute(
                """
                SELECT a.game_id, a.report_time_utc, a.team, a.player_id, a.status_rank,
                       (SELECT st.min_avg_10 FROM features.player_state st
                        WHERE st.player_id = a.player_id AND st.game_date < a.game_date
                        ORDER BY st.game_date DESC LIMIT 1) AS min10
                FROM core.availability a
                WHERE a.game_id = ? AND a.report_time_utc = ? AND a.player IS NOT NULL
                """,
                [game_id, used],
            ).df()
        )
    entries = pd.concat(rows, ignore_index=True)
    out = []
    for r in spine.itertuples():
        game = entries[entries["game_id"] == r.game_id]
        mine = game[game["player_id"] == r.player_id]
        mates = game[(game["team"] == r.team) & (game["player_id"] != r.player_id)]
        opp = game[game["team"] == r.opponent]
        out.append(
            {
                "report": game["report_time_utc"].iloc[0] if len(game) else None,
                "rank": mine["status_rank"].max() if len(mine) else float("nan"),
                "vacated": mates.loc[mates["status_rank"] >= 3, "min10"].sum(),
                "questionable": mates.loc[mates["status_rank"] == 2, "min10"].sum(),
                "opp_vacated": opp.loc[opp["status_rank"] >= 3, "min10"].sum(),
            }
        )
    return pd.DataFrame(out, index=spine.index)


def assert_roles(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The frame's availability features equal the independently computed roles."""
    listed = expected["rank"].notna()
    assert (frame["own_not_listed"] == (~listed).astype(float)).all()
    assert (frame["own_status_rank"] == expected["rank"].fillna(0)).all()
    for feature, column in (
        ("vacated_minutes", "vacated"),
        ("questionable_minutes", "questionable"),
        ("opponent_vacated_minutes", "opp_vacated"),
    ):
        pd.testing.assert_series_equal(
            frame[feature], expected[column], check_names=False, rtol=1e-9
        )


def test_a_report_published_after_decision_time_is_never_used(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """Each game reads the latest report at or before tip-off - 30 min (never a later
    one, though reports go on hourly past tip-off); a report listing everyone
    OUT published one minute after decision time moves no feature."""
    games = decisions(con)
    assert len(games) == 7
    at = dict(zip(games["game_id"], games["decided"], strict=True))
    for game_id, when in at.items():
        later = con.execute(
            "SELECT count(DISTINCT report_time_utc) FROM core.availability "
            "WHERE game_id = ? AND report_time_utc > ?",
            [game_id, when],
        ).fetchone()[0]
        assert later >= 1, game_id  # hourly reports go on past tip-off
    expected = expected_roles(con, spine, at)
    assert (expected["report"] <= spine["game_id"].map(at)).all()
    assert_roles(baseline, expected)
    assert (expected["vacated"] > 0).sum() > 50
    with rolled_back(con):
        register_decisions(con)
        assert insert_everyone_out(con, "1 minute") == len(spine)
        after = frame_of(con, spine)
    assert_same(baseline, after)


@pytest.mark.parametrize("how", ["flip_to_out", "flip_to_available", "delete"])
def test_changing_every_report_published_after_decision_time_moves_no_feature(
    how: str, con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """Every report row published after a D game's decision time (and every row of any
    game published after D's last decision) is flipped or deleted: the whole points_v3
    frame of D is unchanged."""
    later = """
        (game_id IN (SELECT game_id FROM _dec)
         AND report_time_utc > (SELECT decided FROM _dec d WHERE d.game_id = a.game_id))
        OR report_time_utc > (SELECT max(decided) FROM _dec)
    """
    change = {
        "flip_to_out": f"UPDATE core.availability a SET status = 'Out', status_rank = 4 "
        f"WHERE player IS NOT NULL AND ({later})",
        "flip_to_available": f"UPDATE core.availability a SET status = 'Available', "
        f"status_rank = 0 WHERE player IS NOT NULL AND ({later})",
        "delete": f"DELETE FROM core.availability a WHERE {later}",
    }[how]
    with rolled_back(con):
        register_decisions(con)
        touched = con.execute(change).fetchone()[0]
        after = frame_of(con, spine)
    assert touched > 100_000  # the later reports of D and every later season
    assert_same(baseline, after)


def test_changing_the_report_used_at_decision_time_moves_the_features(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """Positive control: every player of the report each game reads at decision time
    flipped to OUT moves the statuses and vacated roles."""
    with rolled_back(con):
        register_decisions(con)
        touched = con.execute(
            """
            UPDATE core.availability a SET status = 'Out', status_rank = 4
            WHERE player IS NOT NULL AND game_id IN (SELECT game_id FROM _dec)
              AND report_time_utc = (SELECT max(x.report_time_utc) FROM core.availability x
                                     JOIN _dec d ON d.game_id = x.game_id
                                     WHERE x.game_id = a.game_id
                                       AND x.report_time_utc <= d.decided)
            """
        ).fetchone()[0]
        after = frame_of(con, spine)
    assert touched > 20
    listed = baseline["own_not_listed"] == 0
    assert listed.sum() > 5
    assert (after.loc[listed, "own_status_rank"] == 4).all()
    assert (baseline.loc[listed, "own_status_rank"] < 4).any()
    # sums are not bit-reproducible (parallel aggregation): compare beyond 1e-9
    assert (after["vacated_minutes"] >= baseline["vacated_minutes"] - 1e-9).all()
    assert (after["vacated_minutes"] > baseline["vacated_minutes"] + 1.0).sum() > 20


def test_a_report_published_exactly_at_decision_time_is_used(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """At or before: a report stamped at the decision time itself is read."""
    with rolled_back(con):
        register_decisions(con)
        assert insert_everyone_out(con, "0 minute") == len(spine)
        after = frame_of(con, spine)
    assert (after["own_status_rank"] == 4).all()
    assert (after["own_not_listed"] == 0).all()
    assert (baseline["own_status_rank"] < 4).any()


def _last10_minutes(con: duckdb.DuckDBPyConnection, player_id: int) -> float:
    """A player's last-10 mean minutes after his last game before DAY."""
    row = con.execute(
        "SELECT min_avg_10 FROM features.player_state WHERE player_id = ? AND game_date < ? "
        "ORDER BY game_date DESC LIMIT 1",
        [player_id, DAY],
    ).fetchone()
    assert row is not None
    return float(row[0])


def _nyk_entries(con: duckdb.DuckDBPyConnection, at: datetime) -> pd.DataFrame:
    game_id = con.execute(
        "SELECT game_id FROM core.game WHERE game_date = ? AND home_team = 'NYK'", [DAY]
    ).fetchone()[0]
    used = report_used(con, game_id, at)
    entries = con.execute(
        "SELECT player, player_id, status_rank, report_time_utc FROM core.availability "
        "WHERE game_id = ? AND team = 'NYK' AND report_time_utc = ?",
        [game_id, used],
    ).df()
    entries.attrs["report"] = used
    return entries


def _expected_roles(con: duckdb.DuckDBPyConnection, entries: pd.DataFrame, me: int) -> tuple:
    mates = entries[entries["player_id"] != me]
    out = sum(_last10_minutes(con, int(p)) for p in mates[mates["status_rank"] >= 3].player_id)
    q = sum(_last10_minutes(con, int(p)) for p in mates[mates["status_rank"] == 2].player_id)
    return out, q


def _player_id(con: duckdb.DuckDBPyConnection, name: str) -> int:
    rows = con.execute("SELECT player_id FROM core.player WHERE player_name = ?", [name]).fetchall()
    assert len(rows) == 1, (name, rows)
    return int(rows[0][0])


def test_vacated_minutes_count_only_teammates_listed_out_before_decision_time(
    con: duckdb.DuckDBPyConnection, baseline: pd.DataFrame
) -> None:
    """PHI@NYK, 7:30 PM ET tip: the 6:30 PM ET report lists Randle and Robinson OUT and
    Anunoby QUESTIONABLE; Brunson's vacated minutes are Randle's + Robinson's last-10
    means, his questionable minutes Anunoby's."""
    tip = con.execute(
        "SELECT gt.tip_off_utc FROM core.game_tip gt JOIN core.game g USING (game_id) "
        "WHERE g.game_date = ? AND g.home_team = 'NYK'",
        [DAY],
    ).fetchone()[0]
    assert tip == datetime(2024, 3, 12, 19, 30, tzinfo=ET)
    entries = _nyk_entries(con, tip - timedelta(minutes=MINUTES))
    assert entries.attrs["report"] == datetime(2024, 3, 12, 22, 30, tzinfo=UTC)
    status = dict(zip(entries["player"], entries["status_rank"], strict=True))
    assert status[RANDLE] == 4
    assert status[ROBINSON] == 4
    assert status[ANUNOBY] == 2
    brunson = _player_id(con, BRUNSON)
    out, q = _expected_roles(con, entries, brunson)
    randle = _last10_minutes(con, _player_id(con, RANDLE))
    robinson = _last10_minutes(con, _player_id(con, ROBINSON))
    assert out == pytest.approx(randle + robinson)
    assert q == pytest.approx(_last10_minutes(con, _player_id(con, ANUNOBY)))
    assert out == pytest.approx(63.3, abs=0.1)
    assert q == pytest.approx(36.3, abs=0.1)
    row = baseline[baseline["player_id"] == brunson].iloc[0]
    assert row["vacated_minutes"] == pytest.approx(out)
    assert row["questionable_minutes"] == pytest.approx(q)
    assert row["own_not_listed"] == 1
    assert row["availability_report_known"] == 1
    # Anunoby is questionable, not vacated: his own row counts Randle + Robinson too
    anunoby = baseline[baseline["player_id"] == _player_id(con, ANUNOBY)]
    assert len(anunoby) == 1  # he was cleared and played
    assert anunoby.iloc[0]["own_status_rank"] == 2
    assert anunoby.iloc[0]["vacated_minutes"] == pytest.approx(out)


def test_listed_available_and_not_listed_are_distinct_states(
    con: duckdb.DuckDBPyConnection, baseline: pd.DataFrame
) -> None:
    """A player the report lists Available has own_not_listed 0 and rank 0; a player of
    a reported game absent from the report has own_not_listed 1 (also rank 0)."""
    games = decisions(con)
    listed: dict[int, int] = {}
    for g, d in zip(games["game_id"], games["decided"], strict=True):
        used = report_used(con, g, d)
        for pid, rank in con.execute(
            "SELECT player_id, status_rank FROM core.availability WHERE game_id = ? "
            "AND report_time_utc = ? AND player_id IS NOT NULL",
            [g, used],
        ).fetchall():
            listed[int(pid)] = max(listed.get(int(pid), -1), int(rank))
    rank = baseline["player_id"].map(listed)
    available = baseline[rank == 0]
    unlisted = baseline[rank.isna()]
    assert len(available) >= 1
    assert len(unlisted) > 50
    assert (available["own_not_listed"] == 0).all()
    assert (available["own_status_rank"] == 0).all()
    assert (unlisted["own_not_listed"] == 1).all()
    assert (unlisted["own_status_rank"] == 0).all()
    others = baseline[rank.notna()]
    assert (others["own_status_rank"] == rank[rank.notna()]).all()
    assert (baseline["availability_report_known"] == 1).all()
    assert not baseline["own_not_listed__defaulted"].any()


def test_as_of_earlier_than_decision_time_reads_an_earlier_report(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """A live run at 10:00 AM ET reads each game's 9:30 AM ET report, and the roles
    follow that report (which differs from the 6:30 PM one)."""
    as_of = datetime(2024, 3, 12, 10, 0, tzinfo=ET)
    frame = build_frame(con, spine, POINTS_V3, minutes_before_tip=MINUTES, as_of=as_of)
    games = decisions(con)
    expected = expected_roles(con, spine, dict.fromkeys(games["game_id"], as_of))
    assert (expected["report"] == datetime(2024, 3, 12, 9, 30, tzinfo=ET)).all()
    assert_roles(frame, expected)
    changed = frame[AV_FEATURES].ne(baseline[AV_FEATURES]).any(axis=1)
    assert changed.sum() > 10


def _copy_quotes(
    con: duckdb.DuckDBPyConnection, when: str, shift: float, book: str = "q.book"
) -> int:
    """Re-quote each D points quote at ``when`` (SQL over the game's ``d.decided``),
    moved by ``shift``, by its own book or by ``book``; the copies are before tip-off."""
    before = con.execute("SELECT count(*) FROM core.prop_line_snapshot").fetchone()[0]
    con.execute(
        f"""
        INSERT INTO core.prop_line_snapshot
        SELECT q.* REPLACE (q.line + {shift} AS line, {when} AS snapshot_time,
                            {book} AS book)
        FROM core.prop_line_snapshot q JOIN _dec d ON d.game_id = q.game_id
        WHERE q.game_date = '{DAY}' AND q.market = 'points' AND q.line_kind = 'sportsbook'
          AND NOT q.after_tipoff
        """
    )
    return con.execute("SELECT count(*) FROM core.prop_line_snapshot").fetchone()[0] - before


def test_a_line_quoted_after_decision_time_never_moves_line_features(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """Every D quote re-quoted +5 between decision time and tip-off (by its own book and
    by a new one) moves nothing; the same quotes one minute before decision time move
    line_move_since_open by 5 and n_books_quoting by 1 (positive control)."""
    quoted = baseline["n_books_quoting__defaulted"] == 0
    assert quoted.sum() > 50
    with rolled_back(con):
        register_decisions(con)
        assert _copy_quotes(con, "d.decided + INTERVAL 1 MINUTE", 5.0) > 500
        assert _copy_quotes(con, "d.decided + INTERVAL 1 MINUTE", 5.0, "'latebook'") > 50
        after = frame_of(con, spine)
    assert_same(baseline, after)
    with rolled_back(con):
        register_decisions(con)
        _copy_quotes(con, "d.decided - INTERVAL 1 MINUTE", 5.0)
        _copy_quotes(con, "d.decided - INTERVAL 1 MINUTE", 5.0, "'latebook'")
        moved = frame_of(con, spine)
    assert (
        moved.loc[quoted, "n_books_quoting"] == baseline.loc[quoted, "n_books_quoting"] + 1
    ).all()
    moved_by = moved["line_move_since_open"] - baseline["line_move_since_open"]
    assert (moved_by[quoted] > 0).all()
    assert (moved_by[quoted] == 5.0).mean() > 0.9  # the median +5 (books with alt lines aside)


def test_the_frame_is_the_same_every_time_it_is_built(
    con: duckdb.DuckDBPyConnection, spine: pd.DataFrame, baseline: pd.DataFrame
) -> None:
    """A book quoting two lines at one snapshot time once made the line-move features
    depend on the order rows came back in: rebuilding the frame must change nothing."""
    for _ in range(3):
        assert_same(baseline, frame_of(con, spine))
