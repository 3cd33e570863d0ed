"""The availability gate in ``select_picks`` and the status states a slate row carries."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbaprops.core.settings import Settings
from nbaprops.models.calibration import EvCalibration
from nbaprops.predictions.picks import BET, WATCHLIST, PickPolicy, select_picks
from nbaprops.warehouse.availability import NOT_LISTED, NOT_SUBMITTED, player_statuses
from tests.unit.test_daily_operations import _calls as daily_calls


def _calls(statuses: list[object]) -> pd.DataFrame:
    """OVER calls that all clear the margin, one per player, with these statuses."""
    return daily_calls(len(statuses), availability_status=statuses)


STATUSES = ["Out", "Doubtful", "Questionable", "Probable", "Available", NOT_LISTED, None]


def test_a_player_listed_out_doubtful_or_questionable_is_never_bet() -> None:
    picks = select_picks(_calls(STATUSES), EvCalibration(), "GREEN", PickPolicy(min_record=0))
    by_status = dict(zip(picks["availability_status"], picks["status"], strict=True))
    assert {s: by_status[s] for s in ("Out", "Doubtful", "Questionable")} == dict.fromkeys(
        ("Out", "Doubtful", "Questionable"), WATCHLIST
    )
    assert {by_status[s] for s in ("Probable", "Available", NOT_LISTED)} == {BET}
    held = picks[picks["status"] == WATCHLIST]
    assert held["reason"].str.startswith("listed ").all()
    assert (held["stake_kelly"] == 0).all()


def test_the_blocked_statuses_are_a_setting() -> None:
    settings = Settings(availability_block_statuses=("Out",))
    policy = PickPolicy.from_settings(settings).__class__(
        **{**vars(PickPolicy.from_settings(settings)), "min_record": 0}
    )
    picks = select_picks(_calls(STATUSES), EvCalibration(), "GREEN", policy)
    bets = set(picks.loc[picks["status"] == BET, "availability_status"].dropna())
    assert "Out" not in bets
    assert {"Doubtful", "Questionable"} <= bets


def test_not_listed_not_submitted_and_no_report_are_distinct_states() -> None:
    report = pd.Timestamp("2024-03-12T22:30:00Z")
    entries = pd.DataFrame(
        {
            "game_id": ["g1", "g1", "g1", "g2"],
            "team": ["NYK", "NYK", "PHI", None],
            "player_id": [1.0, 2.0, np.nan, np.nan],
            "status": ["Out", "Available", "NOT_YET_SUBMITTED", None],
            "report_time_utc": [report, report, report, pd.NaT],
        }
    )
    rows = pd.DataFrame(
        {
            "game_id": ["g1", "g1", "g1", "g1", "g2"],
            "team": ["NYK", "NYK", "NYK", "PHI", "BOS"],
            "player_id": [1, 2, 3, 4, 5],
        }
    )
    out = player_statuses(entries, rows)
    status = list(out["availability_status"])
    assert status[:4] == ["Out", "Available", NOT_LISTED, NOT_SUBMITTED]
    assert pd.isna(status[4])  # no report listed the game by then: unknown
    assert out["availability_report_utc"].iloc[0] == report
    assert pd.isna(out["availability_report_utc"].iloc[4])
