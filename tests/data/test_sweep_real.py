"""A sweep on real data: two workers give exactly the predictions of one process."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.experiments.sweep import SweepOutcome, SweepSpec, expand, ranked, run_sweep

pytestmark = [pytest.mark.data, pytest.mark.slow]

# Two weeks of evaluation (one fold) on rolling windows of 28 and 84 days: the history
# the frames are built from starts a week before the longer window's first day (all ten
# seasons would only be built three times over and trimmed away).
TINY = SweepSpec(
    name="tiny",
    base={
        "system": "catboost_full",
        "evaluation": {"start": "2024-04-01", "end": "2024-04-14"},
        "training": {"start": "2024-01-01"},
        "warmup_days": 0,
        "retrain_every": 14,
        "window": {"kind": "rolling"},
        "hyperparameters": {"thread_count": 1, "iterations": 30},
    },
    grid={"window.days": [28, 84]},
)


@pytest.fixture(scope="module")
def outcomes(warehouse: Path) -> dict[str, object]:
    specs = expand(TINY)
    called: list[str] = []

    def on_result(spec: ExperimentSpec, got: BacktestResult | BaseException) -> None:
        assert isinstance(got, BacktestResult), got
        called.append(spec.name)

    with connect(warehouse, read_only=True) as con:
        sequential = run_sweep(con, specs, settings=Settings(), sequential=True)
        parallel = run_sweep(con, specs, settings=Settings(), n_workers=2, on_result=on_result)
        # the frames are built for tiny-000: tiny-001 runs on them with its own window
        alone = run_backtest(con, specs[1], settings=Settings())
    return {
        "specs": specs,
        "sequential": sequential,
        "parallel": parallel,
        "called": called,
        "alone": alone,
    }


def test_a_local_cluster_gives_exactly_the_sequential_predictions(
    outcomes: dict[str, object],
) -> None:
    sequential = outcomes["sequential"]
    parallel = outcomes["parallel"]
    assert isinstance(sequential, SweepOutcome)
    assert isinstance(parallel, SweepOutcome)
    assert (sequential.mode, parallel.mode) == ("sequential", "local:2")
    assert not sequential.failures
    assert not parallel.failures
    for one, many in zip(sequential.results, parallel.results, strict=True):
        assert one.spec == many.spec
        assert one.result is not None
        assert many.result is not None
        assert len(one.result.predictions) > 1000
        pd.testing.assert_frame_equal(one.result.predictions, many.result.predictions)
        assert one.result.summary == many.result.summary


def test_on_result_is_called_once_per_spec(outcomes: dict[str, object]) -> None:
    specs = outcomes["specs"]
    assert isinstance(specs, list)
    assert Counter(outcomes["called"]) == Counter(s.name for s in specs)  # type: ignore[arg-type]


def test_each_run_trains_on_its_own_window_from_the_shared_frames(
    outcomes: dict[str, object],
) -> None:
    parallel = outcomes["parallel"]
    assert isinstance(parallel, SweepOutcome)
    rows = []
    for run in parallel.results:
        assert run.result is not None
        folds = run.result.folds
        fold = folds[folds["system"] == "catboost_full"].iloc[0]
        span = pd.Timestamp(fold["train_end"]) - pd.Timestamp(fold["train_start"])
        assert span.days + 1 <= run.spec.window.days  # type: ignore[operator]
        rows.append(fold["train_rows"])
    assert rows[0] < rows[1] / 2  # 28 days of games against 84
    # different training windows, different models
    a, b = (r.result.predictions for r in parallel.results)  # type: ignore[union-attr]
    assert not a["median"].equals(b["median"])
    table = ranked(parallel, "mae")
    assert {r["name"] for r in table} == {"tiny-000", "tiny-001"}
    assert table[0]["mae"] <= table[1]["mae"]
    assert all(r["n"] > 1000 and r["n_bets"] > 50 for r in table)


def test_a_sweep_run_is_the_run_on_its_own(outcomes: dict[str, object]) -> None:
    parallel = outcomes["parallel"]
    alone = outcomes["alone"]
    assert isinstance(parallel, SweepOutcome)
    assert isinstance(alone, BacktestResult)
    swept = parallel.results[1].result
    assert swept is not None
    pd.testing.assert_frame_equal(swept.predictions, alone.predictions)
    pd.testing.assert_frame_equal(swept.folds, alone.folds)
