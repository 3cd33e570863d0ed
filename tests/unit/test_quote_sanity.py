"""Nothing absurd gets in: prices, lines, thin pairs, outlier books, future and unknown games.

Each test reproduces a defect of the hostile probe (issue 22) on a tiny file in the real
formats: before the fix each of these loaded without a word.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from nbaprops.core.db import connect
from nbaprops.ingest.limits import IngestLimits
from nbaprops.ingest.loader import ingest_dir
from nbaprops.warehouse.migrate import migrate
from nbaprops.warehouse.transforms import QuoteRules, rebuild

GENERIC_HEADER = (
    "player,game_date,commence_time,market,book,line,over_price,under_price,snapshot_time\n"
)


def generic(root: Path, rows: list[str], name: str = "mine.csv") -> Path:
    path = root / "prop_lines" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GENERIC_HEADER + "".join(r + "\n" for r in rows))
    return path


def quote(
    line: str = "27.5",
    over: str = "-115",
    under: str = "-105",
    book: str = "fanduel",
    market: str = "points",
    player: str = "Jalen Brunson",
) -> str:
    return f"{player},2024-03-12,,{market},{book},{line},{over},{under},2024-03-11T20:00:00Z"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = connect(":memory:")
    migrate(connection)
    yield connection
    connection.close()


def reasons(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("SELECT line, reason FROM raw.quarantine ORDER BY line").fetchall())


def test_absurd_prices_and_lines_are_quarantined_each_with_its_reason(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    generic(
        tmp_path,
        [
            quote(),  # line 2: sane
            quote(over="100000", under="-100000", book="b1"),  # 3
            quote(over="50", book="b2"),  # 4: |price| < 100
            quote(under="-99.5", book="b3"),  # 5
            quote(line="0", book="b4"),  # 6
            quote(line="199.5", book="b5"),  # 7
            quote(line="80", book="b6"),  # 8: no points line that high
            quote(line="40", market="rebounds", book="b7"),  # 9
            quote(line="13.5", market="threes", book="b8"),  # 10
            quote(line="40", market="pra", book="b9"),  # 11: sane for PRA
            quote(over="-10000", under="+2500", book="b10"),  # 12: band edges are sane
        ],
    )
    report = ingest_dir(con, tmp_path)
    (result,) = report.results
    assert (result.n_loaded, result.n_quarantined) == (3, 8)
    got = reasons(con)
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10]
    for line in (3, 4, 5):
        assert got[line].startswith("price outside the sane band"), got[line]
    assert got[3].endswith("over_price: 100000")
    assert got[6] == "line outside the plausible points band 0.5-75"
    assert got[7] == "line outside the plausible points band 0.5-75"
    assert got[8] == "line outside the plausible points band 0.5-75"
    assert got[9] == "line outside the plausible rebounds band 0.5-35"
    assert got[10] == "line outside the plausible threes band 0.5-12"
    stored = con.execute(
        "SELECT book, line, over_price FROM raw.generic_prop_line ORDER BY book"
    ).fetchall()
    assert stored == [("b10", 27.5, -10000.0), ("b9", 40.0, -115.0), ("fanduel", 27.5, -115.0)]


def test_the_price_band_is_a_setting(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    generic(tmp_path, [quote(over="+6000", under="-8000")])
    strict = IngestLimits(price_min=-5000.0, price_max=5000.0)
    report = ingest_dir(con, tmp_path, limits=strict)
    assert report.results[0].n_quarantined == 1
    assert "price outside the sane band" in reasons(con)[2]
    other = tmp_path / "again"
    generic(other, [quote(over="+6000", under="-8000", book="wide")])
    report = ingest_dir(con, other, limits=IngestLimits())
    assert (report.results[0].n_loaded, report.results[0].n_quarantined) == (1, 0)


def test_a_pair_whose_prices_imply_under_the_margin_floor_never_becomes_a_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # +209 / +145 (a real threes quote of the shared data) sums to 0.73: no book pays that
    generic(tmp_path, [quote(over="+209", under="+145", book="thin"), quote(book="fair")])
    ingest_dir(con, tmp_path)
    rebuild(con, rules=QuoteRules(min_two_way=0.95))
    books = con.execute("SELECT book FROM core.prop_line_snapshot ORDER BY 1").fetchall()
    refused = con.execute("SELECT book, reason FROM core.prop_quote_quarantine").fetchall()
    assert books == [("fair",)]
    assert refused == [
        (
            "thin",
            "two-way prices +209 / +145 imply 0.732, under the floor 0.95 "
            "(no real book quotes that)",
        )
    ]
    # the floor is a setting: at 0.7 the same pair is a quote like any other
    rebuild(con, force=True, rules=QuoteRules(min_two_way=0.7))
    books = con.execute("SELECT book FROM core.prop_line_snapshot ORDER BY 1").fetchall()
    assert books == [("fair",), ("thin",)]


def test_a_book_far_outside_the_others_for_the_same_line_is_flagged_never_the_best_price(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    generic(
        tmp_path,
        [
            quote(book="a", over="-115", under="-105"),
            quote(book="b", over="-110", under="-110"),
            quote(book="c", over="-120", under="100"),
            quote(book="d", over="+400", under="-600"),  # in band, sane margin, out of line
        ],
    )
    ingest_dir(con, tmp_path)
    rebuild(con)
    flags = con.execute(
        "SELECT book, over_outlier, under_outlier FROM core.prop_line_book ORDER BY book"
    ).fetchall()
    assert flags == [
        ("a", False, False),
        ("b", False, False),
        ("c", False, False),
        ("d", True, True),
    ]
    best = con.execute(
        "SELECT line, n_books, best_over_price, best_under_price FROM core.prop_line"
    ).fetchall()
    # +400 would be the best over price and the top pick; it is never taken
    assert best == [(27.5, 4, -110.0, 100.0)]


def logs(root: Path, folder: str, header: str, rows: list[str]) -> None:
    path = root / "nba_api" / folder / "logs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


PLAYER_HEADER = (
    "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,"
    "MATCHUP,WL,MIN,PTS,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,"
    "BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL"
)
TEAM_HEADER = (
    "SEASON_ID,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,PTS,"
    "FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,"
    "PLUS_MINUS,SEASON"
)


def player_row(game_id: str, day: date, player_id: int = 1628398) -> str:
    season = f"{game_id[2]}20{game_id[3:5]}"
    return (
        f"{season},{player_id},Kyle Kuzma,1610612764,WAS,Washington Wizards,{game_id},{day},"
        "WAS vs. MEM,W,36,21,9,23,0.391,1,10,0.1,2,3,0.667,3,10,13,2,1,0,0,2,-1,x"
    )


def team_row(game_id: str, day: date, team_id: int, abbr: str, matchup: str) -> str:
    season = f"{game_id[2]}20{game_id[3:5]}"
    return (
        f"{season},{team_id},{abbr},Team,{game_id},{day},{matchup},W,240,106,38,89,0.427,13,39,"
        "0.333,17,20,0.85,15,36,51,25,9,2,7,15,18.0,x"
    )


def test_a_box_score_dated_after_today_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    future = date.today() + timedelta(days=400)
    start = future.year if future.month >= 9 else future.year - 1
    game_id = f"002{start % 100:02d}00001"
    logs(tmp_path, "player_logs", PLAYER_HEADER, [player_row(game_id, future)])
    ingest_dir(con, tmp_path)
    assert reasons(con) == {
        2: "GAME_DATE after today (US/Eastern): a box score cannot come from the future"
    }


def test_a_box_score_of_a_game_no_team_log_or_schedule_knows_is_quarantined_in_core(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    day = date(2023, 10, 28)
    logs(
        tmp_path,
        "player_logs",
        PLAYER_HEADER,
        [player_row("0022300089", day), player_row("0022300999", day, player_id=1)],
    )
    logs(
        tmp_path,
        "team_logs",
        TEAM_HEADER,
        [
            team_row("0022300089", day, 1610612764, "WAS", "WAS vs. MEM"),
            team_row("0022300089", day, 1610612763, "MEM", "MEM @ WAS"),
        ],
    )
    ingest_dir(con, tmp_path)
    rebuild(con)
    known = con.execute("SELECT game_id FROM core.player_game").fetchall()
    refused = con.execute(
        "SELECT source, player_id, game_id, reason, file_line FROM core.box_score_quarantine"
    ).fetchall()
    assert known == [("0022300089",)]
    assert refused == [
        ("nba_player_logs", 1, "0022300999", "game id known to no team log or schedule", 3)
    ]


@pytest.mark.parametrize(
    ("book_line", "over", "under", "flags"),
    [
        (27.5, 150, 150, (False, False)),  # the consensus line: the outlier check's
        (26.5, 120, 100, (True, False)),  # an easier over priced longer: incoherent
        (26.5, -140, 110, (False, False)),  # easier over shorter, harder under longer
        (26.5, -140, -150, (False, True)),  # a harder under priced shorter
        (28.5, 110, 105, (False, True)),  # an easier under priced longer
        (28.5, -120, -130, (True, False)),  # a harder over priced shorter
        (28.5, None, 105, (False, True)),  # an unpriced side is never flagged
    ],
)
def test_a_quote_priced_against_the_consensus_across_lines_is_incoherent(
    con: duckdb.DuckDBPyConnection,
    book_line: float,
    over: int | None,
    under: int | None,
    flags: tuple[bool, bool],
) -> None:
    from nbaprops.warehouse.lines import _incoherent

    # the consensus: 27.5, over -110 / under -110
    got = con.execute(
        f"SELECT {_incoherent('over')}, {_incoherent('under')} "
        "FROM (SELECT ? AS line, ? AS over_price, ? AS under_price) b, "
        "(SELECT 27.5 AS line, -110 AS over_price, -110 AS under_price) c",
        [book_line, over, under],
    ).fetchone()
    assert got == flags
