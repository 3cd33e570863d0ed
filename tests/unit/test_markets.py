"""Markets are data: one catalog, one clear error for an unknown market, and the systems
that predict any market read each market's own features in the roles points plays."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import (
    MARKET_CATALOG,
    MARKET_NAMES,
    MARKETS,
    get_market,
    parse_markets,
)
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import experimental_feature_set, market_of_key
from nbaprops.predictions.picks import BET, WATCHLIST, PickPolicy, cap_across_markets
from nbaprops.systems.base import market_feature
from nbaprops.systems.factory import system_class

runner = CliRunner()


def test_every_feed_key_names_a_catalogued_market() -> None:
    assert set(MARKETS.values()) == set(MARKET_NAMES)
    assert get_market("player_threes").name == "threes"
    assert get_market(" PRA ").name == "pra"


def test_an_unknown_market_lists_the_known_ones() -> None:
    with pytest.raises(NbapropsError) as err:
        get_market("steals")
    for name in MARKET_NAMES:
        assert name in str(err.value)
    with pytest.raises(NbapropsError, match="unknown market 'blocks'"):
        parse_markets("points,blocks")


def test_parse_markets_keeps_catalog_order_without_repeats() -> None:
    assert [m.name for m in parse_markets("threes,points,threes")] == ["points", "threes"]
    assert [m.name for m in parse_markets("all")] == list(MARKET_NAMES)
    assert [m.name for m in parse_markets(None)] == ["points"]


def test_only_points_declares_an_estimated_line_and_combos_sum_their_components() -> None:
    assert [m.name for m in MARKET_CATALOG.values() if m.estimated_line] == ["points"]
    assert get_market("pra").components == ("points", "rebounds", "assists")
    assert get_market("ra").components == ("rebounds", "assists")
    assert get_market("threes").components == ()
    assert get_market("pa").label_sql == "CAST(points AS DOUBLE) + CAST(ast AS DOUBLE)"
    counts = {m.name for m in MARKET_CATALOG.values() if m.is_count}
    assert counts == {"rebounds", "assists", "threes", "ra"}
    assert all(m.max_count > 0 for m in MARKET_CATALOG.values() if m.is_count)


def test_a_points_role_maps_to_the_market_s_own_feature() -> None:
    rebounds = get_market("rebounds")
    assert market_feature("points_avg_season", rebounds) == "rebounds_avg_season"
    assert market_feature("points_std_last_10", get_market("pra")) == "pra_std_last_10"
    assert market_feature("minutes_avg_last_10", rebounds) == "minutes_avg_last_10"
    assert market_feature("points_avg_season", get_market("points")) == "points_avg_season"
    assert system_class("season_average").required_for(rebounds) == (
        "rebounds_avg_season",
        "rebounds_std_last_10",
    )


def test_an_experimental_set_keeps_its_market_in_its_key() -> None:
    fs = experimental_feature_set(("minutes_avg_last_10",), "x", "threes")
    assert fs.market == "threes"
    assert market_of_key(fs.key) == "threes"
    assert market_of_key(experimental_feature_set(("minutes_avg_last_10",), "x").key) == "points"


def _spec(feature_set: str, systems: list[str]) -> dict[str, object]:
    return {
        "name": "m",
        "systems": systems,
        "feature_set": feature_set,
        "evaluation": {"start": date(2024, 3, 1), "end": date(2024, 3, 10)},
    }


def test_a_points_only_system_is_refused_for_another_market() -> None:
    with pytest.raises(NbapropsError, match="matchup predicts points only; for rebounds use"):
        build_spec(_spec("rebounds_v1", ["catboost_full", "matchup"]))
    spec = build_spec(_spec("rebounds_v1", ["catboost_full", "anchored", "market"]))
    assert spec.market.name == "rebounds"
    assert build_spec(_spec("points_v1", ["matchup"])).market.name == "points"


def test_the_cli_refuses_an_unknown_market_naming_the_known_ones() -> None:
    result = runner.invoke(app, ["backtest", "--market", "steals", "--plan-only"])
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()
    assert len(line) == 1
    assert line[0].startswith("error: unknown market 'steals'")
    assert "rebounds" in line[0]
    assert "threes" in line[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "daily", "--markets", "points,steals"],
        ["predict", "--date", "2024-04-12", "--markets", "steals"],
        ["picks", "--date", "2024-04-12", "--market", "steals"],
    ],
)
def test_the_daily_commands_refuse_an_unknown_market_before_touching_the_warehouse(
    argv: list[str], tmp_path: Path
) -> None:
    db = tmp_path / "never.duckdb"
    result = runner.invoke(app, [*argv, "--db", str(db)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown market 'steals': use one of points, rebounds")
    assert not db.exists()  # refused before a warehouse was created or opened


def test_the_cli_refuses_a_feature_set_of_another_market() -> None:
    result = runner.invoke(
        app, ["backtest", "--market", "threes", "--set", "points_v1", "--plan-only"]
    )
    assert result.exit_code == 1
    assert "predicts points, not threes" in result.stderr
    result = runner.invoke(app, ["backtest", "--markets", "all", "--set", "points_v1"])
    assert result.exit_code == 1
    assert "give it with one --market" in result.stderr


def _bets(rows: list[tuple[str, int, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "system": system,
                "game_date": date(2024, 4, 12),
                "player_id": player,
                "game_id": f"g{player}",
                "team": f"T{player}",
                "market": market,
                "ev_calibrated": ev,
                "capped_by": "",
                "status": status,
                "reason": "" if status == BET else "edge under 1",
                "stake_flat": 1.0 if status == BET else 0.0,
                "stake_kelly_before": 0.01 if status == BET else 0.0,
                "stake_kelly": 0.01 if status == BET else 0.0,
            }
            for system, player, market, ev, status in rows
        ]
    )


def test_one_bet_per_player_per_date_across_markets_keeps_the_best() -> None:
    picks = _bets(
        [
            ("catboost_full", 1, "points", 0.04, BET),
            ("catboost_full", 1, "pra", 0.06, BET),
            ("catboost_full", 1, "rebounds", 0.05, BET),
            ("catboost_full", 2, "points", 0.03, BET),
            ("catboost_full", 2, "assists", 0.09, WATCHLIST),
            ("anchored", 1, "points", 0.03, BET),
        ]
    )
    out = cap_across_markets(picks, PickPolicy())
    bets = out[out["status"] == BET]
    assert sorted(zip(bets["system"], bets["player_id"], bets["market"], strict=True)) == [
        ("anchored", 1, "points"),
        ("catboost_full", 1, "pra"),
        ("catboost_full", 2, "points"),
    ]
    dropped = out[
        (out["player_id"] == 1) & (out["system"] == "catboost_full") & (out["status"] == WATCHLIST)
    ]
    assert set(dropped["market"]) == {"points", "rebounds"}
    assert (dropped["stake_kelly"] == 0).all()
    assert (
        dropped["reason"]
        .str.contains("already a bet on this player tonight (pra)", regex=False)
        .all()
    )
    # a setting may allow two markets a player
    two = cap_across_markets(picks, PickPolicy(max_markets_per_player=2))
    assert int((two["status"] == BET).sum()) == 4
    # the watchlist pick is left as it was
    assert out.loc[4, "reason"] == "edge under 1"


def test_the_dates_limits_and_slate_cap_hold_across_markets() -> None:
    # 12 players, each one bet in points and one in rebounds at 1.5% each: every market's
    # own slate cap (6%) and day limit (10) were met alone; together they are not
    rows = [
        ("xgboost", p, mk, 0.03 + p / 1000 + (mk == "points") / 100, BET)
        for p in range(12)
        for mk in ("points", "rebounds")
    ]
    picks = _bets(rows).assign(stake_kelly=0.015, stake_kelly_before=0.015)
    out = cap_across_markets(picks, PickPolicy(max_per_day=10, max_slate=0.06))
    bets = out[out["status"] == BET]
    assert len(bets) == 10  # one per player (best EV: points), then the day's limit
    assert set(bets["market"]) == {"points"}
    assert sorted(bets["player_id"]) == list(range(2, 12))  # the highest EV kept
    assert bets["stake_kelly"].sum() == pytest.approx(0.06)
    assert bets["capped_by"].str.contains("slate cap 6% across markets").all()
    late = out[(out["market"] == "points") & (out["player_id"] < 2)]
    assert late["reason"].str.startswith("10 bets on this date already").all()
    assert (out.loc[out["status"] != BET, "stake_kelly"] == 0).all()
    # per game: two players of one game, the third bet of that game goes to the watchlist
    same_game = _bets([("xgboost", p, "points", 0.05 - p / 100, BET) for p in range(3)])
    same_game["game_id"] = "g0"
    capped = cap_across_markets(same_game, PickPolicy(max_per_game=2))
    assert list(capped["status"]) == [BET, BET, WATCHLIST]
    assert capped.loc[2, "reason"].startswith("2 bets on this game already")
