"""The generic prop-line CSV: lines from anywhere join the real warehouse like any feed."""

from __future__ import annotations

import shutil
from pathlib import Path

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.jobs import ingest_job

GENERIC = """player,game_date,commence_time,market,book,line,over_price,under_price,snapshot_time
Jalen Brunson,,2024-03-10T17:00:00Z,points,mybook,27.5,-115,-105,2024-03-10T15:02:00Z
Jalen Brunson,,2024-03-10T17:00:00Z,points,mybook,33.5,-120,100,2024-03-10T18:30:00Z
Nicolas Claxton,2024-03-10,,player_points,otherbook,11.5,-110,-110,2024-03-10T14:00:00Z
Not A Player,2024-03-10,,points,mybook,9.5,-110,-110,2024-03-10T14:00:00Z
"""


def test_generic_csv_lines_are_matched_and_late_quotes_are_never_the_line(
    warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(warehouse, db)
    folder = tmp_path / "mine" / "prop_lines"
    folder.mkdir(parents=True)
    (folder / "my_lines.csv").write_text(GENERIC)
    settings = Settings(data_dir=tmp_path / "mine", db=db)
    with connect(db) as con:
        result = ingest_job(con, settings)
        assert [r.status for r in result.report.results] == ["loaded"]
        rows = con.execute(
            """
            SELECT player_name, market, match_status, match_method, after_tipoff,
                   game_id IS NOT NULL
            FROM core.prop_line_snapshot WHERE source = 'generic_props' ORDER BY player_name, line
            """
        ).fetchall()
        quarantined = con.execute(
            "SELECT player_name, reason FROM core.prop_quote_quarantine WHERE book = 'mybook'"
        ).fetchall()
        book = con.execute(
            "SELECT line FROM core.prop_line_book WHERE book = 'mybook' "
            "AND player_name_norm = 'jalen brunson' AND game_date = DATE '2024-03-10'"
        ).fetchall()
    assert rows == [
        ("Jalen Brunson", "points", "matched", "exact", False, True),
        ("Jalen Brunson", "points", "matched", "exact", True, True),
        ("Nicolas Claxton", "points", "matched", "alias", False, True),
    ]
    # an unknown player has no game, so a same-day quote cannot be placed against tip-off
    assert [name for name, _ in quarantined] == ["Not A Player"]
    assert book == [(27.5,)]  # the quote taken after tip-off is kept but never used
