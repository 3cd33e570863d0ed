"""Daily operations on tiny frames: line shopping, stakes, CLV, signals, picks, supersede."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core import metrics as m
from nbaprops.core import odds
from nbaprops.core.settings import Settings
from nbaprops.models.calibration import Calibration
from nbaprops.predictions.scoring import score_rows
from nbaprops.predictions.signal import best_bets, slate_signal
from nbaprops.predictions.store import active_predictions, write_batch
from nbaprops.systems import PredictiveDistribution

DAY = date(2024, 4, 12)


def _dist(centres: list[float]) -> PredictiveDistribution:
    levels = np.linspace(-9, 9, 19)
    return PredictiveDistribution.from_quantiles(
        np.array([[c + q for q in levels] for c in centres])
    )


def _rows(n: int, line: float = 20.5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "player_id": list(range(1, n + 1)),
            "game_date": [DAY] * n,
            "line": [line] * n,
            "line_kind": ["sportsbook"] * n,
            "over_price": [-110.0] * n,
            "under_price": [-110.0] * n,
        }
    )


def test_line_shopping_takes_the_book_with_the_best_value_for_the_side() -> None:
    books = pd.DataFrame(
        {
            "player_id": [1, 1, 1, 2, 2],
            "game_date": [DAY] * 5,
            "book": ["a", "b", "c", "a", "b"],
            "book_line": [20.5, 20.5, 19.5, 20.5, 21.5],
            "book_over_price": [-110.0, -102.0, -150.0, -110.0, -110.0],
            "book_under_price": [-110.0, -118.0, 120.0, -110.0, -110.0],
        }
    )
    out = score_rows(
        _rows(2), _dist([24.0, 16.0]), Calibration.identity(), ev_margin=0.02, books=books
    )
    assert out["side"].tolist() == ["OVER", "UNDER"]
    # player 1: the better price at the same line beats the lower line at -150
    p_over_205 = out.loc[0, "p_over"]
    ev_b = odds.expected_value_with_push(p_over_205, out.loc[0, "p_under"], -102)
    assert out.loc[0, "bet_book"] == "b"
    assert out.loc[0, "bet_price"] == -102.0
    assert out.loc[0, "ev"] == pytest.approx(ev_b)
    # player 2: an under at a higher line at the same price is worth more
    assert out.loc[1, "bet_book"] == "b"
    assert out.loc[1, "bet_line"] == 21.5
    assert out.loc[1, "ev"] > odds.expected_value_with_push(
        out.loc[1, "p_under"], out.loc[1, "p_over"], -110
    )


def test_without_book_quotes_the_consensus_is_the_bet() -> None:
    out = score_rows(_rows(1), _dist([26.0]), Calibration.identity(), ev_margin=0.02)
    assert out.loc[0, "side"] == "OVER"
    assert out.loc[0, "bet_line"] == 20.5
    assert out.loc[0, "bet_price"] == -110.0
    assert out.loc[0, "bet_book"] is None


def test_kelly_stakes_a_fraction_of_the_optimum_and_nothing_without_an_edge() -> None:
    full = (0.55 * (100 / 110) - 0.45) / (100 / 110)
    assert odds.kelly_stake(0.55, 0.45, -110) == pytest.approx(full)
    assert odds.kelly_stake(0.55, 0.45, -110, 0.25) == pytest.approx(full / 4)
    assert odds.kelly_stake(0.50, 0.50, -110) == 0.0
    # a push returns the stake: only the lose probability counts against
    assert odds.kelly_stake(0.50, 0.40, 100) == pytest.approx(0.10)


def test_closing_line_value_in_points_and_probability() -> None:
    clv_line, clv_prob = m.closing_line_value(
        ["OVER", "UNDER", "OVER", "PASS"],
        [20.5, 20.5, 20.5, 20.5],
        [-110.0, -110.0, -110.0, np.nan],
        [21.5, 21.5, 20.5, 20.5],
        [-110.0, -110.0, -120.0, -110.0],
        [-110.0, -110.0, 100.0, -110.0],
    )
    assert clv_line[:3].tolist() == [1.0, -1.0, 0.0]
    assert np.isnan(clv_line[3])
    p_close = (120 / 220) / (120 / 220 + 0.5)
    assert clv_prob[2] == pytest.approx(p_close - 110 / 210)
    assert np.isnan(clv_prob[0])  # the close is at another line: no probability CLV


def _slate(n_games: int, sides: list[str], edges: list[float]) -> pd.DataFrame:
    n = len(sides)
    return pd.DataFrame(
        {
            "game_id": [f"g{i % n_games}" for i in range(n)],
            "recommendation": sides,
            "edge": edges,
        }
    )


def test_the_slate_signal_follows_its_thresholds() -> None:
    s = Settings()
    thin = slate_signal(_slate(3, ["OVER", "UNDER"] * 5, [4.0] * 10), s)
    assert thin.signal == "RED"
    assert "games" in thin.reasons
    unders = slate_signal(_slate(8, ["OVER"] + ["UNDER"] * 9, [4.0] * 10), s)
    assert unders.signal == "RED"
    assert unders.skew == "UNDER_HEAVY"
    overs = slate_signal(_slate(8, ["OVER"] * 6 + ["UNDER"] * 4, [4.0] * 10), s)
    assert overs.signal == "YELLOW"
    flat = slate_signal(_slate(8, ["OVER", "UNDER"] * 5, [1.0] * 10), s)
    assert flat.signal == "YELLOW"
    assert flat.n_high_edge == 0
    good = slate_signal(_slate(8, ["OVER"] * 4 + ["UNDER"] * 6, [4.0] * 10), s)
    assert good.signal == "GREEN"
    assert good.skew == "BALANCED"
    assert good.over_share == pytest.approx(0.4)


def test_best_bets_cap_per_team_and_per_day_and_rank_by_value() -> None:
    n = 14
    rows = pd.DataFrame(
        {
            "player_id": range(n),
            "team": ["AAA"] * 4 + [f"T{i}" for i in range(n - 4)],
            "game_id": ["g"] * n,
            "recommendation": ["OVER"] * (n - 1) + ["PASS"],
            "line_source": ["ACTUAL"] * n,
            "line": [20.5] * n,
            "bet_book": ["b"] * n,
            "bet_line": [20.5] * n,
            "bet_price": [-110.0] * (n - 2) + [np.nan, -110.0],
            "p_over": [0.6] * n,
            "p_under": [0.4] * n,
            "edge": [2.0] * (n - 3) + [0.5, 2.0, 2.0],
            "ev": np.linspace(0.2, 0.01, n),
            "in_sample": [False] * n,
        }
    )
    picks = best_bets(rows, Settings(picks_max_per_day=6))
    assert len(picks) == 6
    assert (picks.groupby("team").size() <= 2).all()
    assert picks["ev"].is_monotonic_decreasing
    assert picks["player_id"].tolist() == [0, 1, 4, 5, 6, 7]
    assert (picks["stake_kelly"] > 0).all()


def _prediction_rows(n: int, median: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "system_id": "season_average",
            "model_version": 1,
            "alias": "champion",
            "player_id": list(range(1, n + 1)),
            "game_id": "g1",
            "game_date": DAY,
            "team": "AAA",
            "line_source": "ACTUAL",
            "line_kind": "sportsbook",
            "line": 20.5,
            "n_books": 3,
            "quote_time": pd.Timestamp("2024-04-12 18:00", tz="UTC"),
            "over_price": -110.0,
            "under_price": -110.0,
            "estimated_line": np.nan,
            "estimate_method": None,
            "decision_time": pd.Timestamp("2024-04-12 22:30", tz="UTC"),
            "median": median,
            "mean": median,
            "p_over": 0.5,
            "p_under": 0.5,
            "p_push": 0.0,
            "p_over_dist": 0.5,
            "edge": median - 20.5,
            "ev": np.nan,
            "recommendation": "PASS",
            "confidence": "NONE",
            "bet_book": None,
            "bet_line": np.nan,
            "bet_price": np.nan,
            "n_defaulted": 0,
            "quantiles": [list(np.linspace(median - 9, median + 9, 19))] * n,
            "in_sample": False,
            "completeness_skipped": False,
        }
    )


def test_a_rerun_changes_nothing_and_force_supersedes_and_links(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    key = {"system_id": "season_average", "model_version": 1, "alias": "champion", "day": DAY}
    first = write_batch(empty_con, _prediction_rows(3, 20.0), force=False, **key)
    again = write_batch(empty_con, _prediction_rows(3, 21.0), force=False, **key)
    assert first.written == 3
    assert again.unchanged
    assert again.written == 0
    assert active_predictions(empty_con, DAY)["median"].tolist() == [20.0] * 3
    forced = write_batch(empty_con, _prediction_rows(2, 22.0), force=True, **key)
    assert forced.superseded == 3
    rows = empty_con.execute(
        "SELECT player_id, median, is_active, superseded_by, batch_id, prediction_id "
        "FROM predictions.prediction ORDER BY is_active, player_id"
    ).df()
    assert len(rows) == 5  # nothing deleted
    old, new = rows[~rows["is_active"]], rows[rows["is_active"]]
    assert new["median"].tolist() == [22.0, 22.0]
    by_id = dict(zip(new["prediction_id"], new["player_id"], strict=True))
    # players still on the slate point at their new row; the one who left, at the batch
    assert [by_id.get(s) for s in old["superseded_by"][:2]] == [1, 2]
    assert old["superseded_by"].iloc[2] == new["batch_id"].iloc[0]
