"""The market and a market-anchored system on real spring-2024 lines: in the backtest,
in a backfill (the registry and the stored history) and in the daily job."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.devig import market_p_over
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.spec import ExperimentSpec, build_spec
from nbaprops.models.registry import load_model
from nbaprops.pipeline.backfill import backfill_walk_forward
from nbaprops.pipeline.daily import run_daily

DAY = date(2024, 4, 12)
BACKFILL_END = date(2024, 3, 17)  # the backtest's third fold ends here


@pytest.fixture(scope="module")
def spec() -> ExperimentSpec:
    return build_spec(
        {
            "name": "market-anchor",
            "systems": ["anchored", "market", "moving_average"],
            "system_params": {"anchored": {"base": "moving_average"}},
            "evaluation": {"start": date(2024, 3, 11), "end": date(2024, 3, 31)},
            "training": {"start": date(2023, 10, 24)},  # one season: enough here
            "retrain_every": 7,
            "warmup_days": 14,
        }
    )


@pytest.fixture(scope="module")
def result(warehouse: Path, spec: ExperimentSpec) -> BacktestResult:
    with connect(warehouse, read_only=True) as con:
        return run_backtest(con, spec, settings=Settings())


def _rows(result: BacktestResult, system: str) -> pd.DataFrame:
    preds = result.predictions
    return preds[preds["system"] == system].set_index(["player_id", "game_date"]).sort_index()


def test_the_market_predicts_its_line_and_its_devigged_price(result: BacktestResult) -> None:
    market = _rows(result, "market")
    lined = market[market["line"].notna()]
    assert len(lined) > 1000
    np.testing.assert_array_equal(lined["median"], lined["line"])
    book = lined[lined["line_kind"] == "sportsbook"]
    fair = market_p_over(book["over_price"], book["under_price"])
    half = (book["line"] % 1 != 0).to_numpy()
    np.testing.assert_allclose(book["p_over"].to_numpy()[half], fair[half])
    sportsbook = result.summary["systems"]["market"]["lines"]["sportsbook"]
    # on its own rows the market's Brier is the market's: no difference, not worse
    assert sportsbook["market"]["brier_diff"] == pytest.approx(0.0, abs=1e-12)
    assert sportsbook["points"]["model_mae"] == pytest.approx(sportsbook["points"]["line_mae"])


def test_the_anchored_system_is_the_market_until_it_has_lined_history(
    result: BacktestResult,
) -> None:
    anchored, market = _rows(result, "anchored"), _rows(result, "market")
    base = _rows(result, "moving_average")
    # one fit: the anchored system scores its base's very distribution
    np.testing.assert_allclose(anchored["median_model"], base["median"].reindex(anchored.index))
    unlined = anchored[anchored["line"].isna()]
    np.testing.assert_allclose(unlined["median"], unlined["median_model"])
    first = anchored[anchored["fold"] == anchored["fold"].min()]
    lined_first = first[first["line"].notna()]
    assert (lined_first["line_calibration_n"] == 0).all()
    np.testing.assert_allclose(lined_first["median"], lined_first["line"])
    np.testing.assert_allclose(
        lined_first["p_over"], market["p_over"].reindex(lined_first.index), atol=1e-12
    )
    last = anchored[anchored["fold"] == anchored["fold"].max()]
    earlier = anchored[(anchored["fold"] < anchored["fold"].max()) & anchored["played"]]
    decided = earlier[earlier["line"].notna() & (earlier["actual"] != earlier["line"])]
    assert (last["line_calibration_n"] == len(decided)).all()
    assert len(decided) > 300
    weight = float(last["anchor_weight"].iloc[0])
    assert 0.0 < weight < 1.0
    lined = last[last["line"].notna()]
    np.testing.assert_allclose(
        lined["median"], lined["line"] + weight * (lined["median_model"] - lined["line"])
    )


def test_a_backfill_registers_and_serves_the_same_anchor_daily(
    warehouse: Path,
    tmp_path_factory: pytest.TempPathFactory,
    result: BacktestResult,
    spec: ExperimentSpec,
    data_dir: Path,
) -> None:
    """The backfill walks the backtest's first three folds (2024-02-26 to 03-17, its
    warm-up and first evaluation week), not all five: each fold's anchor comes from the
    stored, graded history of the folds before it as in the backtest, fold for fold, and
    three folds already hold hundreds of decided lines for the anchor served daily."""
    root = tmp_path_factory.mktemp("market")
    shutil.copy(warehouse, root / "nbaprops.duckdb")
    settings = Settings(data_dir=data_dir, db=root / "nbaprops.duckdb", runs_dir=root / "runs")
    prefix = spec.with_overrides(evaluation={"end": BACKFILL_END})
    with connect(settings.paths.db) as con:
        backfill = backfill_walk_forward(con, prefix, settings)
        stored = con.execute(
            "SELECT p.player_id, p.game_date, p.median, p.p_over FROM predictions.prediction p "
            "WHERE p.system_id = 'anchored' AND p.is_active AND p.line IS NOT NULL"
        ).df()
        # the backfill's stored history gives every fold the backtest's anchor
        stored["game_date"] = pd.to_datetime(stored["game_date"]).dt.date
        stored = stored.set_index(["player_id", "game_date"]).sort_index()
        assert backfill.dates == 21  # every date of its three folds
        assert stored.index.get_level_values("game_date").max() <= BACKFILL_END < spec.end
        assert len(stored) > 500
        replayed = _rows(result, "anchored").reindex(stored.index)
        np.testing.assert_allclose(stored["p_over"], replayed["p_over"], atol=1e-9)
        np.testing.assert_allclose(stored["median"], replayed["median"], atol=1e-9)
        for system in ("anchored", "market"):
            con.execute(
                "INSERT INTO models.alias (system_id, market, alias, version, set_at) "
                "SELECT system_id, 'points', 'champion', max(version), now() "
                "FROM models.version WHERE system_id = ? GROUP BY ALL",
                [system],
            )
        run_daily(con, settings, DAY, skip_ingest=True)
        served = load_model(con, "anchored@champion")
        anchor = served.calibration.anchor
        assert anchor is not None
        assert anchor.n > 300
        assert 0 < anchor.weight < 1
        assert load_model(con, "market@champion").calibration.anchor.n == 0
        day = con.execute(
            "SELECT system_id, line, median, quantiles[10] AS median_model, p_over, "
            "over_price, under_price FROM predictions.prediction "
            "WHERE game_date = ? AND is_active AND line IS NOT NULL AND alias = 'champion'",
            [DAY],
        ).df()
    mine = day[day["system_id"] == "anchored"]
    assert len(mine) > 100
    np.testing.assert_allclose(
        mine["median"], mine["line"] + anchor.weight * (mine["median_model"] - mine["line"])
    )
    market = day[(day["system_id"] == "market") & (day["line"] % 1 != 0)]
    np.testing.assert_allclose(
        market["p_over"], market_p_over(market["over_price"], market["under_price"])
    )


def test_on_dfs_boards_the_market_is_a_coin_flip_and_reported_as_one(warehouse: Path) -> None:
    spec = build_spec(
        {
            "name": "market-dfs",
            "systems": ["market"],
            "evaluation": {"start": date(2024, 11, 4), "end": date(2024, 11, 17)},
            "training": {"start": date(2023, 10, 24)},  # one season: enough here
            "retrain_every": 7,
            "warmup_days": 0,
        }
    )
    with connect(warehouse, read_only=True) as con:
        result = run_backtest(con, spec, settings=Settings())
    dfs = result.summary["systems"]["season_average"]["lines"]["dfs"]
    market = dfs["market"]
    decided = result.predictions[
        (result.predictions["system"] == "season_average")
        & result.predictions["played"]
        & (result.predictions["line_kind"] == "dfs")
    ]
    decided = decided[decided["actual"] != decided["line"]]
    assert market["n"] == len(decided) > 500
    assert market["brier_market"] == pytest.approx(0.25)  # a pick'em pays alike both sides
    assert market["log_loss_market"] == pytest.approx(np.log(2))
    own = result.summary["systems"]["market"]["lines"]["dfs"]
    assert own["market"]["brier"] == pytest.approx(0.25)
    assert own["points"]["model_mae"] == pytest.approx(own["points"]["line_mae"])
