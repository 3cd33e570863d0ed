"""The promotion gate and alias audit on synthetic walk-forward rows (real-data tests
live in tests/data/test_experiment_registry_real.py)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nbaprops.experiments.compare import compare_predictions
from nbaprops.models import registry as models

WINDOW = "2024-03-01:2024-05-24"
N = 20_000


def rows(seed: int, *, noise: float = 3.0, p_shift: float = 0.0, n: int = N) -> pd.DataFrame:
    """Walk-forward rows whose P(over) is calibrated (outcomes drawn from it) when
    p_shift is 0, with medians off the outcome by ``noise`` points on average."""
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(0)  # the same games and outcomes for every version
    line = truth.integers(5, 30, n) + 0.5
    p_true = truth.uniform(0.3, 0.7, n)
    over = truth.uniform(size=n) < p_true
    actual = np.where(
        over, line + truth.integers(1, 8, n) - 0.5, line - truth.integers(1, 8, n) + 0.5
    )
    p_over = np.clip(p_true + p_shift * np.sign(p_true - 0.5) + rng.normal(0, 0.01, n), 0.01, 0.99)
    side = np.where(p_over > 0.55, "OVER", np.where(p_over < 0.45, "UNDER", "PASS"))
    return pd.DataFrame(
        {
            "system": "catboost_full",
            "fold": 0,
            "warmup": False,
            "player_id": np.arange(n),
            "game_date": [date(2024, 3, 1) + timedelta(days=int(i % 80)) for i in range(n)],
            "played": True,
            "actual": actual,
            "median": actual + rng.choice([-1, 1], n) * rng.exponential(noise, n),
            "line": line,
            "line_kind": "sportsbook",
            "over_price": -110.0,
            "under_price": -110.0,
            "p_over": p_over,
            "side": side,
        }
    )


@pytest.fixture
def con(empty_con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    return empty_con


def add_version(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    version: int,
    oos: pd.DataFrame,
    *,
    mode: str = "shared",
    window: str = WINDOW,
) -> None:
    folder = tmp_path / f"v{version}"
    folder.mkdir()
    oos.to_parquet(folder / models.OOS_FILE)
    con.execute(
        "INSERT INTO models.version VALUES (?, ?, ?, ?, 'points', 1, 'h', ['a'], NULL, "
        "'2024-05-24', 1000, '{}', '{}', NULL, NULL, ?, '{}', '{}', ?, 'sha', now())",
        ["catboost_full", version, f"exp-{version}", mode, window, str(folder)],
    )


def promote(con: duckdb.DuckDBPyConnection, version: int, **kw: object) -> models.AliasChange:
    args: dict = {"min_rows": 300, "max_ece": 0.03, "who": "tester"} | kw
    return models.promote(con, "catboost_full", version, "champion", **args)


def test_a_first_champion_needs_only_sample_size_and_calibration(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1))
    change = promote(con, 1)
    assert change.action == "promoted"
    assert change.gate is not None
    assert {c.name for c in change.gate.checks} == {"sample_size", "calibration"}
    assert models.alias_version(con, "catboost_full", "champion") == 1


def test_a_candidate_with_a_worse_mae_is_refused_and_the_refusal_recorded(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1, noise=3.0))
    add_version(con, tmp_path, 2, rows(2, noise=4.0))
    promote(con, 1)
    with pytest.raises(models.PromotionRefusedError, match="mae: MAE"):
        promote(con, 2)
    assert models.alias_version(con, "catboost_full", "champion") == 1
    last = models.alias_history(con, "catboost_full")[-1]
    assert (last["action"], last["version"], last["previous_version"]) == ("refused", 2, 1)
    gate = {c["name"]: c["passed"] for c in last["gate"]["checks"]}
    assert gate["mae"] is False
    assert (
        last["gate"]["figures"]["candidate_figures"]["mae"]
        > (last["gate"]["figures"]["champion_figures"]["mae"])
    )


def test_a_better_candidate_replaces_the_champion(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1, noise=4.0))
    add_version(con, tmp_path, 2, rows(2, noise=3.0))
    promote(con, 1)
    change = promote(con, 2)
    assert (change.action, change.previous_version) == ("promoted", 1)
    assert models.resolve(con, "catboost_full@champion").version == 2
    assert [e["action"] for e in models.alias_history(con, "catboost_full")] == [
        "promoted",
        "promoted",
    ]


def test_too_few_graded_rows_or_poor_calibration_fail_the_gate(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1, n=250))
    with pytest.raises(models.PromotionRefusedError, match="sample_size: 250 graded"):
        promote(con, 1)
    add_version(con, tmp_path, 2, rows(2, p_shift=0.15))
    with pytest.raises(models.PromotionRefusedError, match="calibration: ECE"):
        promote(con, 2)
    assert models.alias_version(con, "catboost_full", "champion") is None
    change = promote(con, 2, force=True, reason="accepting known overconfidence")
    assert change.action == "forced"
    last = models.alias_history(con, "catboost_full")[-1]
    assert last["reason"] == "accepting known overconfidence"
    assert last["actor"] == "tester"


def test_hit_rate_may_be_lower_only_within_its_interval(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    champion = rows(1)
    add_version(con, tmp_path, 1, champion)
    promote(con, 1)
    # same medians (same MAE) but every bet on the wrong side: far below the champion
    wrong = champion.copy()
    wrong["side"] = wrong["side"].map({"OVER": "UNDER", "UNDER": "OVER", "PASS": "PASS"})
    add_version(con, tmp_path, 2, wrong)
    with pytest.raises(models.PromotionRefusedError, match="hit_rate: hit rate"):
        promote(con, 2)
    # flipping a handful of bets stays inside the interval
    close = champion.copy()
    bets = close.index[close["side"] != "PASS"][:10]
    close.loc[bets, "side"] = close.loc[bets, "side"].map({"OVER": "UNDER", "UNDER": "OVER"})
    add_version(con, tmp_path, 3, close)
    assert promote(con, 3).action == "promoted"


def test_runs_on_another_evaluation_window_never_compete(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1, noise=4.0))
    add_version(con, tmp_path, 2, rows(2, noise=3.0), window="2023-03-01:2023-05-24")
    promote(con, 1)
    with pytest.raises(models.PromotionRefusedError, match="same_window"):
        promote(con, 2)


def test_an_experimental_version_is_refused_even_when_forced(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1), mode="experimental")
    with pytest.raises(models.PromotionRefusedError, match="never promoted"):
        promote(con, 1, force=True, reason="please")
    assert models.alias_version(con, "catboost_full", "champion") is None
    assert models.alias_history(con, "catboost_full")[-1]["action"] == "refused"


def test_references_name_one_version_or_fail_clearly(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_version(con, tmp_path, 1, rows(1))
    assert models.resolve(con, "catboost_full@v1").version == 1
    assert models.resolve(con, "catboost_full@1").version == 1
    for bad, message in (
        ("catboost_full", "expected SYSTEM@ALIAS"),
        ("catboost_full@champion", "has no champion"),
        ("catboost_full@v9", "no registered version 9"),
        ("catboost_full@best", "give an alias"),
    ):
        with pytest.raises(models.NbapropsError, match=message):
            models.resolve(con, bad)


def test_compare_counts_only_shared_player_games() -> None:
    a = rows(1, noise=3.0, n=2000)
    b = rows(2, noise=4.0, n=2000)
    extra = rows(3, n=100).assign(player_id=lambda f: f["player_id"] + 10_000)
    out = compare_predictions(pd.concat([a, extra], ignore_index=True), b, n_boot=300)
    assert (out["rows_a"], out["rows_b"], out["common"]) == (2100, 2000, 2000)
    mae = out["figures"][0]
    expected = np.mean(np.abs(a["median"] - a["actual"])) - np.mean(
        np.abs(b["median"] - b["actual"])
    )
    assert mae["diff"] == pytest.approx(expected)
    assert mae["ci_low"] < mae["diff"] < mae["ci_high"] < 0
    again = compare_predictions(pd.concat([a, extra], ignore_index=True), b, n_boot=300)
    assert json.dumps(again) == json.dumps(out)
    hit = next(f for f in out["figures"] if f["figure"] == "hit_rate")
    assert hit["n_a"] == int((a["side"] != "PASS").sum())


def test_a_backfill_fold_without_a_gateable_reference_is_refused_with_its_reason(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # a backfill fold keeps the graded history it was calibrated on: no line kind, no sides
    history = rows(3)[["system", "player_id", "game_date", "median", "line", "actual", "played"]]
    add_version(con, tmp_path, 1, history)
    with pytest.raises(models.PromotionRefusedError, match="lack line_kind, p_over, side"):
        promote(con, 1)
    assert models.alias_version(con, "catboost_full", "champion") is None
    # ... and a gateable candidate facing such a champion is refused the same way
    forced = promote(con, 1, force=True, reason="seed the alias")
    assert forced.action == "forced"
    add_version(con, tmp_path, 2, rows(2))
    with pytest.raises(models.PromotionRefusedError, match="the champion catboost_full@v1"):
        promote(con, 2)
    assert models.alias_version(con, "catboost_full", "champion") == 1
