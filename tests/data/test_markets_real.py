"""Every market on the real data: outcomes, decision-time lines, slates without estimated
lines, and a count market's walk-forward pricing whole and half lines exactly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.devig import market_p_over
from nbaprops.core.markets import MARKET_CATALOG, get_market, outcome_sql
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import get_feature_set
from nbaprops.features.frame import training_spine
from nbaprops.predictions.slate import build_slate
from nbaprops.warehouse.lines import lines_at_decision

DAY = date(2024, 4, 12)


def test_every_market_s_outcome_is_the_sum_of_its_box_score_columns(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    spine = training_spine(real_con, date(2024, 3, 1), date(2024, 3, 3))
    box = real_con.execute(
        "SELECT player_id, game_date, points, reb, ast, fg3m FROM core.player_game "
        "WHERE game_date BETWEEN '2024-03-01' AND '2024-03-03'"
    ).df()
    box["game_date"] = pd.to_datetime(box["game_date"])
    spine["game_date"] = pd.to_datetime(spine["game_date"])
    both = spine.merge(box, on=["player_id", "game_date"], suffixes=("", "_box"))
    assert len(both) == len(spine) > 300
    np.testing.assert_array_equal(both["rebounds"], both["reb"])
    np.testing.assert_array_equal(both["threes"], both["fg3m"])
    np.testing.assert_array_equal(both["pra"], both["points_box"] + both["reb"] + both["ast"])
    np.testing.assert_array_equal(both["ra"], both["reb"] + both["ast"])


def test_each_market_s_diagnostics_scale_is_its_lines_measured_miss(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """The catalog's ``error_scale`` (the market's typical line miss over points') and
    ``line_tiers`` (about the 41st and 77th percentiles of its lines, as 12 and 20 are for
    points), re-measured on every played, lined player-game of the real data."""
    measured = (
        real_con.execute(
            f"""
        SELECT l.market, count(*) AS n,
               avg(abs({outcome_sql("l.market", "pg")} - l.line)) AS miss,
               quantile_cont(l.line, 0.41) AS q41, quantile_cont(l.line, 0.77) AS q77
        FROM core.prop_line l
        JOIN core.player_game pg ON pg.player_id = l.player_id AND pg.game_id = l.game_id
        WHERE pg.minutes > 0
        GROUP BY l.market
        """
        )
        .df()
        .set_index("market")
    )
    assert set(measured.index) == set(MARKET_CATALOG)
    points_miss = measured.loc["points", "miss"]
    assert 4.5 < points_miss < 6.0
    for name, market in MARKET_CATALOG.items():
        row = measured.loc[name]
        assert row["n"] > 3000, (name, row["n"])
        assert market.error_scale == pytest.approx(row["miss"] / points_miss, abs=0.01), name
        low, high = market.line_tiers
        # the cuts sit half a point above the percentiles' lines (12 over 11.5 for points)
        assert low == pytest.approx(np.floor(row["q41"] * 2) / 2 + 0.5, abs=0.5), name
        assert high == pytest.approx(np.floor(row["q77"] * 2) / 2 + 0.5, abs=0.5), name
        assert low < high


@pytest.mark.parametrize("market", ["rebounds", "threes", "pra"])
def test_a_market_s_lines_at_tip_are_its_pre_tip_consensus(
    real_con: duckdb.DuckDBPyConnection, market: str
) -> None:
    first, last = date(2024, 3, 10), date(2024, 3, 16)
    lines = lines_at_decision(real_con, first, last, minutes_before_tip=0, market=market)
    core = real_con.execute(
        "SELECT player_id, game_date, line, n_books FROM core.market_line "
        "WHERE market = ? AND game_date BETWEEN ? AND ?",
        [market, first, last],
    ).df()
    core["game_date"] = pd.to_datetime(core["game_date"]).dt.date
    got = lines.points.set_index(["player_id", "game_date"]).sort_index()
    want = core.set_index(["player_id", "game_date"]).sort_index()
    assert len(got) == len(want) > 300
    np.testing.assert_array_equal(got["line"], want["line"])
    # the books' quotes behind them are of that market only (their lines sit near it)
    books = lines.books.merge(lines.points, on=["player_id", "game_date"])
    assert (np.abs(books["book_line"] - books["line"]) <= 3).mean() > 0.99
    assert lines.market == market


def test_a_market_without_an_estimated_line_has_no_unlined_row(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    threes = build_slate(real_con, [DAY], get_feature_set("threes_v1"), minutes_before_tip=30)
    points = build_slate(real_con, [DAY], get_feature_set("points_v1"), minutes_before_tip=30)
    assert len(threes.frame) > 50
    assert threes.frame["line"].notna().all()
    lined = lines_at_decision(real_con, DAY, DAY, minutes_before_tip=30, market="threes")
    assert set(threes.frame["player_id"]) == set(lined.points["player_id"])
    # points keeps its rotation players without a line (their line is estimated)
    assert points.frame["line"].isna().sum() > 20
    assert not get_market("threes").estimated_line


@pytest.fixture(scope="module")
def rebounds(warehouse: Path) -> BacktestResult:
    spec = build_spec(
        {
            "name": "rebounds",
            "systems": ["anchored", "market"],
            "system_params": {"anchored": {"base": "season_average"}},
            "feature_set": "rebounds_v1",
            "evaluation": {"start": date(2024, 3, 18), "end": date(2024, 3, 31)},
            "training": {"start": date(2023, 10, 24)},  # one season: enough here
            "retrain_every": 7,
            "warmup_days": 7,
        }
    )
    with connect(warehouse, read_only=True) as con:
        return run_backtest(con, spec, settings=Settings())


def test_a_count_market_s_probabilities_are_exact_on_whole_and_half_lines(
    rebounds: BacktestResult,
) -> None:
    rows = rebounds.predictions
    assert set(rows["system"]) == {"season_average", "anchored", "market"}
    assert rows["line"].notna().all()
    total = rows["p_over"] + rows["p_under"] + rows["p_push"]
    np.testing.assert_allclose(total, 1.0, atol=1e-9)
    half = (rows["line"] % 1 != 0).to_numpy()
    assert half.sum() > 500
    assert (rows.loc[half, "p_push"] == 0).all()
    # a discrete distribution: every model's median is a whole number of rebounds (the
    # market's and the anchored point start from the line instead)
    np.testing.assert_array_equal(rows["median_model"], np.round(rows["median_model"]))
    whole = rows["p_push"] > 0
    assert whole.sum() == (~half).sum()
    # the outcome graded is rebounds, not points
    played = rows[rows["played"]]
    assert played["actual"].max() < 30
    market = rows[(rows["system"] == "market") & half]
    fair = market_p_over(market["over_price"], market["under_price"])
    np.testing.assert_allclose(market["p_over"], fair)


def test_a_count_market_s_season_average_is_calibrated_out_of_sample(
    rebounds: BacktestResult,
) -> None:
    rows = rebounds.predictions
    rows = rows[(rows["system"] == "season_average") & rows["played"]]
    over = (rows["actual"] > rows["line"]).to_numpy(dtype=float)
    p = rows["p_over_dist"].to_numpy(dtype=float)
    assert len(rows) > 500
    # the negative binomial's P(over) before any calibration is on average right, and
    # about as sharp as a coin against lines the books set (a season average is a floor,
    # not a model: on these two weeks its Brier was 0.261)
    assert abs(p.mean() - over.mean()) < 0.05
    assert np.mean((p - over) ** 2) < 0.27
    # its probabilities rise with what happened: overs had the higher P(over) (0.508 vs
    # 0.489 on these rows: against lines a season average knows little)
    assert p[over == 1].mean() > p[over == 0].mean() + 0.01


def test_the_catalog_has_a_feature_set_per_market_predicting_that_market() -> None:
    for market in MARKET_CATALOG.values():
        assert get_feature_set(market.feature_set).market == market.name


@pytest.fixture(scope="module")
def dfs(warehouse: Path) -> list[BacktestResult]:
    out = []
    with connect(warehouse, read_only=True) as con:
        for market in ("points", "rebounds"):
            spec = build_spec(
                {
                    "name": f"dfs-{market}",
                    "systems": ["market"],
                    "feature_set": get_market(market).feature_set,
                    "evaluation": {"start": date(2024, 11, 18), "end": date(2024, 11, 30)},
                    "training": {"start": date(2023, 10, 24)},  # one season: enough here
                    "retrain_every": 7,
                    "warmup_days": 14,
                }
            )
            out.append(run_backtest(con, spec, settings=Settings()))
    return out


def test_dfs_slips_are_paid_by_the_slip_table_from_the_box_scores(
    dfs: list[BacktestResult], real_con: duckdb.DuckDBPyConnection
) -> None:
    from nbaprops.core.slips import standard_payout_table
    from nbaprops.experiments.slips_replay import dfs_rows, replay_slips

    table = standard_payout_table()
    flex5 = table.get("prizepicks_flex_5")
    rows = dfs_rows(dfs)
    assert set(rows["market"]) == {"points", "rebounds"}
    assert (rows["line_kind"] == "dfs").all()
    figures = {
        r["system"]: r
        for r in replay_slips(
            dfs, flex5, table, margin=0.0, same_game="refuse", correlation=0.0, max_slips=50
        )
    }
    # the market prices a DFS line at 0.5: it never clears a break-even, so never a slip
    assert figures["market"]["slips"] == 0
    base = figures["season_average"]
    assert base["slips"] >= 3
    assert base["legs"] == 5 * base["slips"]
    box = real_con.execute(
        "SELECT CAST(player_id AS VARCHAR) AS player_id, CAST(game_date AS VARCHAR) AS day, "
        "points, reb FROM core.player_game WHERE game_date BETWEEN '2024-11-18' AND '2024-11-30'"
    ).df()
    stat = {"points": "points", "rebounds": "reb"}
    outcome = {(r.player_id, r.day): r for r in box.itertuples()}
    for slip in base["graded"]:
        players = [leg["player_id"] for leg in slip["legs"]]
        assert len(set(players)) == len(players)  # one leg per player
        hits = 0
        for leg in slip["legs"]:
            assert leg["p_win"] >= 0.5425  # every leg clears the 5-leg flex's break-even
            game = outcome.get((leg["player_id"], slip["game_date"]))
            if game is None:
                assert leg["outcome"] == "void"
                continue
            value = getattr(game, stat[leg["market"]])
            won = value > leg["line"] if leg["side"] == "over" else value < leg["line"]
            want = "push" if value == leg["line"] else "win" if won else "loss"
            assert leg["outcome"] == want
            hits += want == "win"
        if slip["paid_as"] == "prizepicks_flex_5":
            assert slip["payout"] == {5: 10.0, 4: 2.0, 3: 0.4}.get(hits, 0.0)
        assert slip["profit"] == pytest.approx(slip["payout"] - 1.0)
    assert base["units"] == pytest.approx(sum(s["profit"] for s in base["graded"]))


def test_a_market_with_no_line_seen_at_decision_time_is_one_clear_error(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    # the 2024-25 PRA quotes were all captured in the last half hour before tip-off
    from nbaprops.core.errors import NbapropsError

    spec = build_spec(
        {
            "name": "pra-late",
            "systems": ["market"],
            "feature_set": "pra_v1",
            "evaluation": {"start": date(2024, 10, 25), "end": date(2024, 10, 28)},
            "retrain_every": 7,
            "warmup_days": 0,
            "decision_minutes": 30,
        }
    )
    with pytest.raises(NbapropsError, match="no pra line was seen 30 minutes before tip-off"):
        run_backtest(real_con, spec, settings=Settings())
    lines = lines_at_decision(
        real_con, date(2024, 10, 25), date(2024, 10, 28), minutes_before_tip=0, market="pra"
    )
    assert len(lines.points) > 100


def test_the_markets_bets_together_keep_one_bet_per_player_per_night(
    dfs: list[BacktestResult],
) -> None:
    from dataclasses import replace

    from nbaprops.experiments.report import portfolio
    from nbaprops.predictions.picks import BET, WATCHLIST, PickPolicy, cap_across_markets

    # two weeks build no record, so no call is a bet yet: take every call the system
    # claimed value on as a bet, in both markets, to put the rule across them to work
    def as_bets(result: BacktestResult) -> BacktestResult:
        picks = result.picks.copy()
        picks["status"] = np.where(picks["ev_raw"] > 0, BET, WATCHLIST)
        picks["reason"] = np.where(picks["status"] == BET, "", picks["reason"])
        return replace(result, picks=picks)

    results = [as_bets(r) for r in dfs]
    picks = pd.concat(
        [r.picks.assign(market=r.spec.market.name) for r in results], ignore_index=True
    )
    picks = picks[~picks["warmup"].astype(bool)]
    nights = picks[picks["status"] == BET].groupby(["system", "game_date", "player_id"])
    assert nights["market"].nunique().max() == 2  # a player was a bet in both markets
    capped = cap_across_markets(picks, PickPolicy())
    kept = capped[capped["status"] == BET].groupby(["system", "game_date", "player_id"])
    assert kept.size().max() == 1
    dropped = capped["reason"].str.contains("across markets", regex=False)
    # a player's second market is dropped first; the date's other limits (game, team,
    # day, slate) then hold over both markets' bets together
    # (a player's second market counts as such only where his first was kept)
    second = capped["reason"].str.startswith("already a bet on this player tonight")
    assert 0 < second.sum() <= (nights.size() - 1).sum()
    assert dropped.sum() > second.sum()
    policy = PickPolicy()
    bets = capped[capped["status"] == BET]
    per = bets.groupby(["system", "game_date"])
    assert per.size().max() <= policy.max_per_day
    assert bets.groupby(["system", "game_date", "game_id"]).size().max() <= policy.max_per_game
    assert bets.groupby(["system", "game_date", "team"]).size().max() <= policy.max_per_team
    assert per["stake_kelly"].sum().max() <= policy.max_slate + 1e-9
    rows = {r["system"]: r for r in portfolio(results, Settings())}
    for system, r in rows.items():
        mine = capped[capped["system"] == system]
        assert r["n_bets"] == int((mine["status"] == BET).sum())
        assert r["dropped_across_markets"] == int(dropped[mine.index].sum())


def test_markets_walked_side_by_side_give_the_figures_walked_one_after_another(
    warehouse: Path,
) -> None:
    """``backtest --markets`` walks markets in worker processes: every prediction, pick
    and figure is the one the same market's walk in this process gives. A short walk
    proves it (a warm-up fold and a two-day fold, trained from mid-January): the
    property is that two processes give the very frames the sequential walk gives,
    whatever the window's length."""
    from nbaprops.experiments.backtest import run_markets

    specs = [
        build_spec(
            {
                "name": f"side-{market}",
                "systems": ["catboost_full", "anchored", "market"],
                "system_params": {"catboost_full": {"iterations": 40}},
                "feature_set": get_market(market).feature_set,
                "evaluation": {"start": date(2024, 3, 18), "end": date(2024, 3, 19)},
                "training": {"start": date(2024, 1, 15)},  # two months: enough here
                "retrain_every": 7,
                "warmup_days": 7,
            }
        )
        for market in ("threes", "rebounds")
    ]
    steps: list[str] = []
    side_by_side = run_markets(
        warehouse, specs, settings=Settings(), workers=2, on_fold=steps.append
    )
    (alone,) = run_markets(warehouse, specs[:1], settings=Settings(), workers=1)

    assert [r.spec.market.name for r in side_by_side] == ["threes", "rebounds"]
    # the workers' folds reached the caller's progress, each naming its market
    assert sorted(s.split()[0] for s in steps) == ["rebounds"] * 2 + ["threes"] * 2
    threes = side_by_side[0]
    assert len(threes.predictions) > 500
    pd.testing.assert_frame_equal(threes.predictions, alone.predictions)
    pd.testing.assert_frame_equal(threes.picks, alone.picks)
    pd.testing.assert_frame_equal(threes.metrics, alone.metrics)
    assert threes.timings["cpu_s"] > 0
    assert len(side_by_side[1].predictions) > 500
