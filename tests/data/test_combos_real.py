"""Combos by joint simulation on the real data: rebounds + assists (R+A) over one spring
2024 week, components and combo from the walk-forward with the cheap season average."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.combos import (
    KEY,
    component_backtest,
    joint_probabilities,
    scores,
)
from nbaprops.experiments.spec import build_spec


def _spec(market: str) -> dict[str, object]:
    return {
        "name": f"combo-{market}",
        "systems": ["season_average"],
        "feature_set": f"{market}_v1",
        "evaluation": {"start": date(2024, 3, 18), "end": date(2024, 3, 24)},
        "training": {"start": date(2024, 1, 1)},
        "retrain_every": 7,
        "warmup_days": 7,
    }


@pytest.fixture(scope="module")
def runs(
    warehouse: Path,
) -> tuple[BacktestResult, dict[str, BacktestResult], dict[str, pd.DataFrame]]:
    results, dists = {}, {}
    with connect(warehouse, read_only=True) as con:
        for market in ("rebounds", "assists"):
            results[market], dists[market] = component_backtest(
                build_spec(_spec(market)), con, Settings()
            )
        combo = run_backtest(con, build_spec(_spec("ra")), settings=Settings())
    return combo, results, dists


def test_component_distributions_are_the_walk_forward_s_own_rows(
    runs: tuple[BacktestResult, dict[str, BacktestResult], dict[str, pd.DataFrame]],
) -> None:
    _, results, dists = runs
    for market in ("rebounds", "assists"):
        preds, dist = results[market].predictions, dists[market]
        assert len(dist) == len(preds) > 500
        joined = preds.assign(game_date=pd.to_datetime(preds["game_date"])).merge(
            dist, on=KEY, suffixes=("", "_dist"), validate="1:1"
        )
        assert len(joined) == len(preds)
        np.testing.assert_allclose(joined["mean"], joined["mean_dist"])
        # a count market's rows carry their pmf; its 0.5 quantile is the scored median
        assert all(p is not None and abs(float(np.sum(p)) - 1.0) < 1e-6 for p in dist["pmf"])
        q50 = np.vstack(list(joined["quantiles"]))[:, 9]
        np.testing.assert_allclose(q50, joined["median_model"])


def test_ra_by_joint_simulation_on_real_rows(
    runs: tuple[BacktestResult, dict[str, BacktestResult], dict[str, pd.DataFrame]],
) -> None:
    combo, results, dists = runs
    components = {
        m: results[m]
        .predictions.assign(game_date=lambda f: pd.to_datetime(f["game_date"]))
        .merge(dists[m][[*KEY, "quantiles", "pmf"]], on=KEY)
        for m in ("rebounds", "assists")
    }
    no_types = pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=KEY))
    everything, fits = joint_probabilities(combo.predictions, components, no_types, draws=2000)
    out = everything[~everything["warmup"].astype(bool)]
    assert len(out) > 200
    # point in time: each fit read exactly the component rows dated before its fold
    both = components["rebounds"].merge(components["assists"], on=KEY, suffixes=("_r", "_a"))
    played = both["played_r"].astype(bool) & both["played_a"].astype(bool)
    assert len(fits) == 2  # the warm-up week (nothing before it) and the evaluated week
    assert fits[0].n_rows == 0
    for fit in fits:
        earlier = played & (both["game_date"] < fit.start)
        assert fit.n_rows == int(earlier.sum())
    assert fits[1].n_rows > 300
    assert both.loc[played & (both["game_date"] < fits[1].start), "game_date"].max() < (
        fits[1].start
    )
    # real rebounds and assists residuals are positively tied (same minutes, same pace)
    assert (out["rho_rebounds_assists"] > 0.05).all()
    assert (out["player_type"] == -1).all()  # no shares given: the pooled correlation
    # the simulated sum's mean is the components' own (Monte-Carlo error, 2,000 draws)
    gap = np.abs(out["sim_mean"] - out["components_dist_mean"])
    assert (gap < 4.5 * np.sqrt(out["sim_var"] / 2000)).mean() > 0.99
    assert (out["sim_var"] > out["indep_var"]).mean() > 0.9
    # scored like the backtest: decided lined rows, P(over) a probability
    rows = combo.predictions.assign(game_date=lambda f: pd.to_datetime(f["game_date"]))
    rows = rows.merge(out.drop(columns=["fold", "line"]), on=KEY)
    rows = rows[rows["played"].astype(bool) & (rows["actual"] != rows["line"])]
    y = (rows["actual"] > rows["line"]).to_numpy(dtype=float)
    for col in ("p_over_sim", "p_over_sim_dist", "p_over_sim_cal"):
        assert rows[col].between(0, 1).all()
        joint = scores(rows[col], y)
        assert joint["n"] == len(rows) > 200
        assert 0.15 < joint["brier"] < 0.3
    # the calibration stages learned from the warm-up week: they move the probabilities
    assert not np.allclose(rows["p_over_sim_cal"], rows["p_over_sim"])
