"""Nothing absurd gets in, on a real slate like the one the hostile probe used.

The probe added a generic prop-line CSV with prices of +100000 / -100000 and lines of 0
and 199.5 on Jalen Brunson's 2024-03-12 slate. Before the fix it moved his consensus from
28.5 to 27.5, his book count from 10 to 15, and made "Brunson OVER 27.5 at +100000, EV
+47967%" the top pick. Here the same kind of file, on Brunson's 2024-04-12 slate (ten real
books, consensus 31.5: the session champion's day, so its champion is shared, not
bootstrapped again), plus one book whose price is sane on its own but far out of line with
the other books, is ingested into a copy of the real warehouse between two predictions of
the date by a real champion: the lines and the picks do not change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.daily import predict_job
from nbaprops.pipeline.jobs import ingest_job
from nbaprops.warehouse.lines import lines_at_decision
from nbaprops.warehouse.migrate import migrate
from tests.conftest import CHAMPION_DAY, copy_warehouse

pytestmark = [pytest.mark.data, pytest.mark.slow]

DAY = date(2024, 4, 12)  # CHAMPION_DAY: the shared champion was bootstrapped before it
BRUNSON = 1628973
HEADER = "player,game_date,commence_time,market,book,line,over_price,under_price,snapshot_time"
SEEN = "2024-04-12T15:00:00Z"  # hours before the Knicks' tip-off that night (23:40Z)
ABSURD = [
    f"Jalen Brunson,2024-04-12,,points,absurd1,30.5,100000,-100000,{SEEN}",
    f"Jalen Brunson,2024-04-12,,points,absurd2,0,-110,-110,{SEEN}",
    f"Jalen Brunson,2024-04-12,,points,absurd3,199.5,-110,-110,{SEEN}",
    f"Jalen Brunson,2024-04-12,,points,absurd4,30.5,+209,+145,{SEEN}",
    f"Jalen Brunson,2024-04-12,,points,absurd5,31.5,50,-50,{SEEN}",
    # in the band, a sane margin, but far out of line with the ten real books
    f"Jalen Brunson,2024-04-12,,points,outlier,31.5,+400,-600,{SEEN}",
]
PICK = (
    "SELECT player_id, side, status, bet_book, bet_line, bet_price, round(ev_raw, 9), "
    "round(stake_kelly, 9) FROM predictions.pick WHERE game_date = ? AND is_active "
    "ORDER BY player_id, side"
)


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Equal frames, whatever the order of their rows."""
    keys = [c for c in ("player_id", "book") if c in a.columns]
    a, b = (f.sort_values(keys).reset_index(drop=True) for f in (a, b))
    return a.equals(b)


def brunson(con: object) -> tuple:
    return con.execute(  # type: ignore[attr-defined]
        "SELECT line, n_books, best_over_price, best_under_price FROM core.prop_line "
        "WHERE market = 'points' AND game_date = ? AND player_id = ?",
        [DAY, BRUNSON],
    ).fetchone()


def test_an_absurd_book_on_the_brunson_slate_changes_no_line_and_no_pick(
    champion_warehouse: Path, tmp_path: Path
) -> None:
    assert DAY == CHAMPION_DAY
    db = copy_warehouse(champion_warehouse, tmp_path / "w.duckdb")
    settings = Settings(db=db, runs_dir=tmp_path / "runs", ev_margin=0.0, picks_min_record_bets=0)
    with connect(db) as con:
        migrate(con)
        line_before = brunson(con)
        lines_before = lines_at_decision(con, DAY, DAY, minutes_before_tip=30)
        predict_job(con, settings, DAY)
        picks_before = con.execute(PICK, [DAY]).fetchall()

        mine = tmp_path / "mine" / "prop_lines"
        mine.mkdir(parents=True)
        (mine / "absurd.csv").write_text("\n".join([HEADER, *ABSURD]) + "\n")
        result = ingest_job(con, settings.replace(data_dir=tmp_path / "mine"))
        (loaded,) = result.report.results
        quarantined = con.execute(
            "SELECT line, reason FROM raw.quarantine WHERE path LIKE '%absurd.csv' ORDER BY line"
        ).fetchall()
        refused = con.execute(
            "SELECT book, reason FROM core.prop_quote_quarantine WHERE book LIKE 'absurd%'"
        ).fetchall()
        flagged = con.execute(
            "SELECT over_outlier, under_outlier FROM core.prop_line_book "
            "WHERE book = 'outlier' AND game_date = ?",
            [DAY],
        ).fetchall()
        line_after = brunson(con)
        lines_after = lines_at_decision(con, DAY, DAY, minutes_before_tip=30)
        predict_job(con, settings, DAY, force=True)
        picks_after = con.execute(PICK, [DAY]).fetchall()
        books_taken = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT bet_book FROM predictions.prediction "
                "WHERE game_date = ? AND is_active AND bet_book IS NOT NULL",
                [DAY],
            ).fetchall()
        }

    # four rows quarantined at ingest, each with its reason; the thin pair in core
    assert (loaded.n_loaded, loaded.n_quarantined) == (2, 4)
    assert [line for line, _ in quarantined] == [2, 3, 4, 6]
    assert quarantined[0][1].startswith("price outside the sane band")
    assert quarantined[1][1] == quarantined[2][1] == "line outside the plausible points band 0.5-75"
    assert refused == [("absurd4", refused[0][1])]
    assert refused[0][1].startswith("two-way prices +209 / +145")
    assert flagged == [(True, True)]
    # Brunson's consensus line and best prices are the ten real books', as before; the
    # outlier book posted the same line, so it counts as an eleventh book, priced nowhere
    assert line_before[:2] == (31.5, 10)
    assert line_after == (31.5, 11, *line_before[2:])
    points_after = lines_after.points.copy()
    points_after.loc[points_after["player_id"] == BRUNSON, "n_books"] -= 1
    assert same(lines_before.points, points_after)
    outlier = lines_after.books[lines_after.books["book"] == "outlier"]
    assert outlier[["book_over_price", "book_under_price"]].isna().all().all()
    books_after = lines_after.books[lines_after.books["book"] != "outlier"]
    assert same(lines_before.books, books_after)
    # ... and the slate's picks are exactly those before the file came in
    assert any(p[2] == "BET" for p in picks_before), "a slate with no bet proves nothing"
    assert picks_after == picks_before
    assert "outlier" not in books_taken


def _decimal(american: pd.Series) -> pd.Series:
    return american.where(american < 0, 0).rdiv(-100).add(1).where(american < 0, 1 + american / 100)


def _shopped(warehouse: Path, market: str, first: date, last: date) -> pd.DataFrame:
    """The market's book quotes at decision time (30 minutes before tip), each beside its
    consensus line and prices and the prices the warehouse holds for it (``raw_*``)."""
    with connect(warehouse, read_only=True) as con:
        lines = lines_at_decision(con, first, last, minutes_before_tip=30, market=market)
        raw = con.execute(
            "SELECT player_id, game_date, book, over_price AS raw_over, "
            "under_price AS raw_under FROM core.prop_line_book "
            "WHERE market = ? AND line_kind = 'sportsbook' "
            "AND game_date BETWEEN ? AND ? AND NOT over_outlier AND NOT under_outlier",
            [market, first, last],
        ).df()
    raw["game_date"] = pd.to_datetime(raw["game_date"]).dt.date
    quotes = lines.books.merge(
        lines.points[["player_id", "game_date", "line", "over_price", "under_price"]],
        on=["player_id", "game_date"],
    )
    # a quote seen only after the decision time is absent from both sides of this join
    return quotes.merge(raw, on=["player_id", "game_date", "book"], how="left")


def _assert_coherent(quotes: pd.DataFrame) -> None:
    """What is left to shop: never an easier side priced longer, nor a harder one shorter
    (checked here in pandas, apart from the SQL rule)."""
    below = quotes["book_line"] < quotes["line"]
    above = quotes["book_line"] > quotes["line"]
    over_b, over_c = _decimal(quotes["book_over_price"]), _decimal(quotes["over_price"])
    under_b, under_c = _decimal(quotes["book_under_price"]), _decimal(quotes["under_price"])
    assert not ((below & (over_b > over_c)) | (above & (over_b < over_c))).any()
    assert not ((above & (under_b > under_c)) | (below & (under_b < under_c))).any()
    assert (below | above).sum() > 500  # off-line quotes are there to be checked


def test_line_shopping_takes_no_quote_incoherent_with_the_real_spring_consensus(
    warehouse: Path,
) -> None:
    """Spring-2024 points: real off-line quotes priced against the consensus were
    refused (priced in the warehouse, unpriced for shopping), and only those."""
    quotes = _shopped(warehouse, "points", date(2024, 3, 1), date(2024, 5, 24))
    _assert_coherent(quotes)
    refused_over = quotes["book_over_price"].isna() & quotes["raw_over"].notna()
    refused_under = quotes["book_under_price"].isna() & quotes["raw_under"].notna()
    assert refused_over.sum() > 20
    assert refused_under.sum() > 20
    refused = quotes[refused_over | refused_under]
    assert (refused["book_line"] != refused["line"]).all()


def test_line_shopping_takes_no_undated_quote_on_the_real_threes_lines(
    warehouse: Path,
) -> None:
    """Threes, spring 2024 to the end of 2024-25: the 2024-25 file has no capture times;
    its quotes count toward the consensus (rows and lines stay) but are never a price to
    take, and the dated ones left are coherent."""
    quotes = _shopped(warehouse, "threes", date(2024, 3, 1), date(2025, 4, 13))
    undated = quotes["book_quote_time"].isna()
    assert undated.sum() > 10_000
    assert quotes.loc[undated, ["book_over_price", "book_under_price"]].isna().all().all()
    assert quotes.loc[undated, "raw_over"].notna().sum() > 10_000  # priced in the warehouse
    _assert_coherent(quotes[~undated])
