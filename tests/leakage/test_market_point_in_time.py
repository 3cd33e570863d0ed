"""Point in time for every market: nothing dated on or after a game moves its features."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.features.catalog import MARKET_FEATURE_SETS
from nbaprops.features.frame import build_frame, ensure_state, training_spine
from nbaprops.features.state import refresh_state

DAYS = [
    date(2024, 3, 15),  # 2023-24, injury reports published
    date(2024, 11, 15),  # 2024-25
]


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_changing_or_deleting_games_on_or_after_a_date_does_not_move_its_market_features(
    day: date, warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "perturbed.duckdb"
    shutil.copy(warehouse, copy)
    with connect(copy) as con:
        ensure_state(con)
        spine = training_spine(con, day, day)
        assert len(spine) > 40
        before = {fs.key: build_frame(con, spine, fs) for fs in MARKET_FEATURE_SETS}
        # every stat a market reads, on and after the day; every later game deleted
        con.execute(
            "UPDATE core.player_game SET reb = reb * 10 + 3, oreb = oreb * 10 + 1, "
            "dreb = dreb * 10 + 2, ast = ast * 10 + 3, fg3m = fg3m * 10 + 3, "
            "fg3a = fg3a * 10 + 5, points = points * 10 + 3, minutes = minutes + 7 "
            "WHERE game_date >= ?",
            [day],
        )
        con.execute(
            "UPDATE core.team_game SET oreb = oreb * 10, dreb = dreb * 10, ast = ast * 10, "
            "fg3m = fg3m * 10, points = points * 10 WHERE game_date >= ?",
            [day],
        )
        deleted = con.execute(
            "SELECT count(*) FROM core.player_game WHERE game_date > ?", [day]
        ).fetchall()[0][0]
        con.execute("DELETE FROM core.player_game WHERE game_date > ?", [day])
        con.execute("DELETE FROM core.team_game WHERE game_date > ?", [day])
        refresh_state(con, force=True)
        hit = con.execute(
            "SELECT count(*) FROM core.player_game WHERE game_date = ? AND reb % 10 = 3", [day]
        ).fetchall()[0][0]
        after = {fs.key: build_frame(con, spine, fs) for fs in MARKET_FEATURE_SETS}
    assert hit == len(spine)  # the perturbation really hit this date's box scores
    assert deleted > 1000
    for fs in MARKET_FEATURE_SETS:
        cols = [*fs.features, "n_defaulted", "n_required_defaulted"]
        assert before[fs.key][cols].notna().all().all(), fs.key
        pd.testing.assert_frame_equal(before[fs.key][cols], after[fs.key][cols], obj=fs.key)
