"""One feature definition: serving frames replayed for past dates equal the training rows."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, serving_spine, training_spine

PARITY_DATES = [
    date(2023, 10, 25),
    date(2023, 11, 14),
    date(2023, 12, 8),
    date(2023, 12, 25),
    date(2024, 1, 10),
    date(2024, 1, 31),
    date(2024, 2, 8),
    date(2024, 2, 29),
    date(2024, 3, 10),
    date(2024, 3, 21),
    date(2024, 4, 3),
    date(2024, 4, 14),
    date(2024, 4, 24),
    date(2024, 5, 15),
    date(2024, 11, 1),
    date(2024, 12, 3),
    date(2025, 1, 8),
    date(2025, 2, 6),
    date(2025, 3, 19),
    date(2025, 5, 10),
]
COLUMNS = ["player_id", "game_id", "team", "opponent", "home", "season", "season_type"]
FEATURES = [*list(POINTS_V1.features), "n_defaulted", "n_required_defaulted"]


def test_serving_frames_for_20_past_dates_equal_the_training_rows(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    compared = 0
    team_moves = 0
    for day in PARITY_DATES:
        serving = build_frame(real_con, serving_spine(real_con, day), POINTS_V1)
        training = build_frame(real_con, training_spine(real_con, day, day), POINTS_V1)
        both = serving.merge(training, on="player_id", suffixes=("_s", "_t"))
        assert len(both) >= 0.6 * len(training), day  # most who played were expected
        same_team = both["team_s"] == both["team_t"]
        team_moves += int((~same_team).sum())
        both = both[same_team]
        for col in COLUMNS[1:] + FEATURES:
            left, right = both[f"{col}_s"], both[f"{col}_t"]
            assert left.dtype == right.dtype, (day, col)
            pd.testing.assert_series_equal(
                left.reset_index(drop=True),
                right.reset_index(drop=True),
                check_names=False,
                obj=f"{col} on {day}",
            )
        compared += len(both)
    assert compared > 2_500
    assert team_moves <= 0.01 * compared  # only trades not yet in the box scores
