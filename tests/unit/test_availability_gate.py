"""The availability gate in ``select_picks`` and the status states a slate row carries."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from nbaprops.core.settings import Settings
from nbaprops.models.calibration import EvCalibration
from nbaprops.predictions.picks import BET, WATCHLIST, PickPolicy, select_picks
from nbaprops.warehouse.availability import NOT_LISTED, NOT_SUBMITTED, player_statuses

DAY = date(2024, 3, 12)


def _calls(statuses: list[object]) -> pd.DataFrame:
    n = len(statuses)
    return pd.DataFrame(
        {
            "player_id": list(range(n)),
            "game_date": [DAY] * n,
            "team": [f"T{i}" for i in range(n)],
            "game_id": [f"g{i}" for i in range(n)],
            "side": ["OVER"] * n,
            "line_kind": ["sportsbook"] * n,
            "line": [20.5] * n,
            "over_price": [-110.0] * n,
            "under_price": [-110.0] * n,
            "bet_book": ["b"] * n,
            "bet_line": [20.5] * n,
            "bet_price": [-110.0] * n,
            "p_win": [0.6] * n,
            "edge": [2.0] * n,
            "ev": np.linspace(0.2, 0.05, n),
            "ev_calibrated": np.linspace(0.10, 0.05, n),
            "in_sample": [False] * n,
            "availability_status": statuses,
        }
    )


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
