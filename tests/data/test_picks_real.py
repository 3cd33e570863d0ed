"""Picks on real slates: the caps hold on every slate of spring 2024 in the backtest, and
the rule before EV calibration (raw EV, uncapped) is what it replaced."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbaprops.core import metrics as m
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.spec import build_spec

pytestmark = [pytest.mark.data, pytest.mark.slow]

# A permissive policy with tight caps: many bets, so every cap and limit is exercised.
LOOSE = Settings(
    ev_margin=0.0,
    picks_min_record_bets=0,
    picks_max_bet_share=0.01,
    picks_max_slate_share=0.03,
    picks_max_per_game=1,
)


@pytest.fixture(scope="module")
def spring(warehouse: Path) -> BacktestResult:
    """Every spring-2024 slate with sportsbook lines, two fast systems, weekly refits."""
    spec = build_spec(
        {
            "name": "spring-picks",
            "systems": ["season_average", "moving_average"],
            "evaluation": {"start": date(2024, 3, 11), "end": date(2024, 5, 24)},
            "training": {"start": date(2023, 10, 24)},  # one season: enough here
            "retrain_every": 7,
            "warmup_days": 7,
            "ev_margin": 0.0,
        }
    )
    with connect(warehouse, read_only=True) as con:
        return run_backtest(con, spec, settings=LOOSE)


def test_the_caps_hold_on_every_real_slate_of_spring_2024(spring: BacktestResult) -> None:
    picks = spring.picks
    bets = picks[picks["status"] == "BET"]
    slates = bets.groupby(["system", "game_date"])
    assert slates.ngroups > 100  # both systems bet on most of the ~70 slates
    assert slates["stake_kelly"].max().max() <= LOOSE.picks.picks_max_bet_share + 1e-12
    assert slates["stake_kelly"].sum().max() <= LOOSE.picks.picks_max_slate_share + 1e-12
    assert slates["player_id"].agg(lambda p: p.is_unique).all()
    assert bets.groupby(["system", "game_date", "game_id"]).size().max() == 1
    assert (
        bets.groupby(["system", "game_date", "team"]).size().max() <= LOOSE.picks.picks_max_per_team
    )
    assert slates.size().max() <= LOOSE.picks.picks_max_per_day
    # RED slates stake half (then the caps); the slate cap binds somewhere and scales
    red = bets[bets["slate_signal"] == "RED"]
    assert len(red) > 0
    assert (red["stake_kelly"] <= 0.5 * red["stake_kelly_before"] + 1e-12).all()
    scaled = bets[bets["capped_by"].str.contains("slate cap")]
    assert scaled.groupby(["system", "game_date"])["stake_kelly"].sum().to_numpy() == (
        pytest.approx(LOOSE.picks.picks_max_slate_share)
    )
    # nothing staked off the watchlist; a bet's value and edge clear the bar
    watch = picks[picks["status"] == "WATCHLIST"]
    assert (watch["stake_kelly"] == 0).all()
    assert (bets["ev_calibrated"] > LOOSE.betting.ev_margin).all()
    assert (bets["edge"].abs() >= LOOSE.picks.picks_min_edge).all()


def test_the_report_measures_the_rule_before_and_after_on_the_same_slates(
    spring: BacktestResult,
) -> None:
    for system, entry in spring.summary["systems"].items():
        figures = entry["lines"]["sportsbook"]["picks"]
        before, after = figures["before"], figures["after"]
        # before: uncapped stakes on raw EV, a slate stakes far more than the cap allows
        assert before["max_exposure"] > LOOSE.picks.picks_max_slate_share
        assert after["max_exposure"] <= LOOSE.picks.picks_max_slate_share + 1e-12
        assert after["max_stake"] <= LOOSE.picks.picks_max_bet_share + 1e-12
        # the figures are the bets graded as placed, recounted here
        picks = spring.picks
        mine = picks[
            (picks["system"] == system)
            & (picks["status"] == "BET")
            & (picks["line_kind"] == "sportsbook")
            & ~picks["warmup"].astype(bool)
        ]
        outcome, per_unit = m.graded_as_placed(
            mine["actual"], mine["side"], mine["played"], mine["bet_line"], mine["bet_price"]
        )
        decided = np.isin(outcome, (m.WIN, m.LOSS))
        assert after["wins"] == int((outcome == m.WIN).sum())
        assert after["wins"] + after["losses"] == int(decided.sum())
        assert after["roi"] == pytest.approx(float(per_unit[decided].mean()))
        assert after["units"] == pytest.approx(float(per_unit.sum()))
        per_date = mine.groupby("game_date")["stake_kelly"].sum()
        assert after["max_exposure"] == pytest.approx(float(per_date.max()))
    frame = pd.DataFrame(
        spring.summary["systems"]["season_average"]["lines"]["sportsbook"]["ev_reliability"][
            "claimed"
        ]["all"]
    )
    assert frame["n"].sum() > 500
    assert (frame.loc[frame["n"] > 0, "roi_low"] <= frame.loc[frame["n"] > 0, "roi"]).all()
