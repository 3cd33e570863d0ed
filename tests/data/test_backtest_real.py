"""The walk-forward backtest on real data: production replayed, calibration from the past."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.report import write_report
from nbaprops.experiments.spec import build_spec
from nbaprops.predictions.history import InMemoryHistory, calibration_before

SYSTEMS = ("season_average", "moving_average", "matchup", "ensemble")


@pytest.fixture(scope="module")
def result(warehouse: Path) -> BacktestResult:
    """Three weeks of spring 2024 after two weeks of warm-up, fitted on the seasons since
    2019-20 (over 100,000 rows a fold, as every fold here asserts; the ten seasons would
    double the frames and the fits and change no property below)."""
    from nbaprops.core.db import connect

    spec = build_spec(
        {
            "name": "backtest",
            "systems": list(SYSTEMS),
            "evaluation": {"start": date(2024, 3, 11), "end": date(2024, 3, 31)},
            "training": {"start": date(2019, 10, 22)},
            "retrain_every": 7,
            "warmup_days": 14,
        }
    )
    with connect(warehouse, read_only=True) as con:
        return run_backtest(con, spec, settings=Settings())


def test_every_fold_is_fitted_only_on_dates_before_it(result: BacktestResult) -> None:
    folds = result.folds
    assert len(folds) == len(result.plan.folds) * len(SYSTEMS)
    for row in folds.to_dict("records"):
        if row["system"] == "ensemble":
            continue
        assert row["train_end"] < row["test_start"]
        assert row["train_rows"] > 100_000


def test_calibration_never_sees_its_own_fold(result: BacktestResult) -> None:
    preds = result.predictions
    for system, rows in preds.groupby("system"):
        for fold, fold_rows in rows.groupby("fold"):
            earlier = rows[rows["fold"] < fold]
            expected_pit = int(earlier["pit"].notna().sum())
            assert (fold_rows["calibration_n"] == expected_pit).all(), (system, fold)
            lined = earlier[
                earlier["played"] & earlier["line"].notna() & (earlier["actual"] != earlier["line"])
            ]
            used = fold_rows["line_calibration_n"].iloc[0]
            assert used in (0, len(lined)), (system, fold)


def test_players_who_did_not_play_are_voids_not_dropped(
    result: BacktestResult, real_con: duckdb.DuckDBPyConnection
) -> None:
    preds = result.predictions[
        (result.predictions["system"] == "season_average") & ~result.predictions["warmup"]
    ]
    voids = preds[~preds["played"]]
    assert len(voids) > 50
    assert voids["actual"].isna().all()
    lined_voids = voids[voids["line"].notna()]
    assert (lined_voids["side"].isin(["OVER", "UNDER", "PASS"])).all()
    summary = result.summary["systems"]["season_average"]
    assert summary["voids"] == len(voids)
    sportsbook = summary["lines"]["sportsbook"]["betting"]
    assert sportsbook["voids"] == int(
        ((preds["side"] != "PASS") & ~preds["played"] & (preds["line_kind"] == "sportsbook")).sum()
    )


def test_lined_rows_are_compared_with_the_lines_own_error_on_the_same_rows(
    result: BacktestResult,
) -> None:
    preds = result.predictions
    rows = preds[
        (preds["system"] == "moving_average")
        & preds["played"]
        & (preds["line_kind"] == "sportsbook")
        & ~preds["warmup"]
    ]
    block = result.summary["systems"]["moving_average"]["lines"]["sportsbook"]["points"]
    assert block["n"] == len(rows)
    assert block["line_mae"] == pytest.approx(np.mean(np.abs(rows["line"] - rows["actual"])))
    assert 4.5 < block["line_mae"] < 6.0  # the market's own error, as documented


def test_probabilities_are_probabilities(result: BacktestResult) -> None:
    preds = result.predictions.dropna(subset=["p_over"])
    assert ((preds["p_over"] >= 0) & (preds["p_over"] <= 1)).all()
    total = preds["p_over"] + preds["p_under"] + preds["p_push"]
    np.testing.assert_allclose(total, 1.0, atol=1e-9)


def test_the_report_is_written_with_plots_and_honest_tables(
    result: BacktestResult, tmp_path: Path
) -> None:
    payload = write_report(result, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "line MAE" in md
    assert "Leakage tripwire" in md or "LEAKAGE" in md
    assert {"calibration.png", "cumulative_roi.png", "hit_rate_by_edge.png"} <= set(
        payload["plots"]
    )
    stored = json.loads((tmp_path / "report.json").read_text())
    assert stored["plan"][0]["warmup"] is True
    preds = pd.read_parquet(tmp_path / "predictions.parquet")
    assert len(preds) == len(result.predictions)


def test_the_backtest_command_prints_its_fold_plan(warehouse: Path) -> None:
    out = CliRunner().invoke(
        app,
        [
            "backtest",
            "--systems",
            "all",
            "--start",
            "2024-03-01",
            "--end",
            "2024-05-24",
            "--retrain-every",
            "7",
            "--plan-only",
            "--json",
            "--db",
            str(warehouse),
        ],
    )
    assert out.exit_code == 0, out.output
    plan = json.loads(out.stdout)["plan"]
    reported = [f for f in plan if not f["warmup"]]
    assert len(reported) == 12
    assert all(f["train_end"] < f["test_start"] for f in plan)
    bad = CliRunner().invoke(
        app, ["backtest", "--systems", "nonsense", "--plan-only", "--db", str(warehouse)]
    )
    assert bad.exit_code == 1
    assert "unknown systems: nonsense" in bad.stderr


def test_the_market_is_scored_on_each_systems_own_priced_rows(
    result: BacktestResult, tmp_path: Path
) -> None:
    """The market's P(over) (multiplicatively de-vigged consensus prices at decision time)
    against the system's, on the same decided, priced sportsbook rows, recomputed here."""
    preds = result.predictions
    rows = preds[
        (preds["system"] == "matchup")
        & preds["played"]
        & (preds["line_kind"] == "sportsbook")
        & ~preds["warmup"]
        & (preds["actual"] != preds["line"])
        & preds["over_price"].notna()
        & preds["under_price"].notna()
        & preds["p_over"].notna()
    ]
    k = result.summary["systems"]["matchup"]["lines"]["sportsbook"]["market"]
    assert k["n"] == len(rows) > 500
    over = 1 / np.where(rows["over_price"] > 0, 1 + rows["over_price"] / 100,
                        1 - 100 / rows["over_price"])  # fmt: skip
    under = 1 / np.where(rows["under_price"] > 0, 1 + rows["under_price"] / 100,
                         1 - 100 / rows["under_price"])  # fmt: skip
    market = over / (over + under)
    y = (rows["actual"] > rows["line"]).to_numpy(float)
    assert k["brier_market"] == pytest.approx(float(np.mean((market - y) ** 2)))
    assert k["brier"] == pytest.approx(float(np.mean((rows["p_over"] - y) ** 2)))
    assert 0.23 < k["brier_market"] < 0.26  # near a coin flip, as every honest peer finds
    assert k["brier_diff_low"] <= k["brier_diff"] <= k["brier_diff_high"]
    assert k["worse_than_market"] is (k["brier_diff"] > 0)
    write_report(result, tmp_path)
    assert "Against the market" in (tmp_path / "report.md").read_text()


def test_bets_are_reported_by_side_with_their_own_counts(
    result: BacktestResult, tmp_path: Path
) -> None:
    preds = result.predictions
    block = result.summary["systems"]["season_average"]["lines"]["sportsbook"]
    sides = {r["side"]: r for r in block["by_side"]}
    assert set(sides) == {"OVER", "UNDER"}
    assert sides["OVER"]["bets"] + sides["UNDER"]["bets"] == block["betting"]["n_bets"]
    rows = preds[
        (preds["system"] == "season_average")
        & (preds["line_kind"] == "sportsbook")
        & preds["played"]
        & ~preds["warmup"]
    ]
    for side, r in sides.items():
        bets = rows[(rows["side"] == side) & (rows["actual"] != rows["line"])]
        won = (bets["actual"] > bets["line"]) if side == "OVER" else (bets["actual"] < bets["line"])
        assert r["bets"] == len(bets)
        if len(bets):
            assert r["hit_rate"] == pytest.approx(float(won.mean()))
            assert r["ci_low"] <= r["hit_rate"] <= r["ci_high"]
    write_report(result, tmp_path)
    assert "## By side" in (tmp_path / "report.md").read_text()


def test_bankrolls_flat_and_kelly_follow_the_bets_at_both_prices(
    result: BacktestResult, tmp_path: Path
) -> None:
    block = result.summary["systems"]["matchup"]["lines"]["sportsbook"]
    rolls = block["bankroll"]
    assert set(rolls) == {"flat_consensus", "kelly_consensus", "flat_best", "kelly_best"}
    flat = rolls["flat_consensus"]
    # flat, 1 unit a bet: the final bankroll is 100 + the profit at consensus prices
    betting = block["betting"]
    decided_priced = betting["n_priced"]
    assert flat["final"] == pytest.approx(100 + betting["roi_actual"] * decided_priced)
    for b in rolls.values():
        values = [v for _, v in b["curve"]]
        assert b["final"] == pytest.approx(values[-1])
        peak = np.maximum.accumulate([100.0, *values])
        assert b["max_drawdown"] == pytest.approx(float(np.max((peak[1:] - values) / peak[1:])))
    payload = write_report(result, tmp_path)
    assert "bankroll.png" in payload["plots"]
    assert "## Bankroll" in (tmp_path / "report.md").read_text()


def test_kelly_at_the_best_price_stakes_on_the_probability_at_the_shopped_line(
    result: BacktestResult,
) -> None:
    from nbaprops.experiments.report import _p_win_at_bet

    preds = result.predictions
    bets = preds[
        (preds["system"] == "matchup")
        & preds["side"].isin(["OVER", "UNDER"])
        & (preds["line_kind"] == "sportsbook")
    ]
    over = (bets["side"] == "OVER").to_numpy()
    p_win = np.where(over, bets["p_over"], bets["p_under"])
    p_lose = np.where(over, bets["p_under"], bets["p_over"])
    at_bet, _ = _p_win_at_bet(bets, p_win, p_lose)
    # where the shopped book posted the consensus line, only the price differs: the
    # probability recovered from the scored EV is the consensus line's own
    same = (bets["bet_line"] == bets["line"]).to_numpy() & (bets["line"] % 1 != 0).to_numpy()
    assert same.sum() > 200
    np.testing.assert_allclose(at_bet[same], p_win[same], atol=1e-9)
    # a lower over line (or higher under line) than the consensus wins more often
    easier = np.where(over, bets["bet_line"] < bets["line"], bets["bet_line"] > bets["line"])
    easier &= (bets["bet_line"] % 1 != 0).to_numpy()
    assert easier.sum() > 20
    assert (at_bet[easier] > p_win[easier]).all()


def test_each_folds_calibrated_value_comes_only_from_calls_graded_before_it(
    result: BacktestResult,
) -> None:
    """The scored calibrated EV of every call is the one the earlier folds' graded calls
    give; flipping every result on or after the fold leaves it unchanged."""
    preds = result.predictions
    checked = 0
    for system in ("season_average", "matchup", "ensemble"):
        rows = preds[preds["system"] == system]
        for fold, fold_rows in rows.groupby("fold"):
            day = fold_rows["game_date"].min()
            history = InMemoryHistory()
            history.add(system, rows)
            flipped = rows.copy()
            later = (flipped["game_date"] >= day).to_numpy()
            flipped.loc[later, "actual"] = 80.0 - flipped.loc[later, "actual"]
            perturbed = InMemoryHistory()
            perturbed.add(system, flipped)
            ev = calibration_before(history, system, day).ev
            assert calibration_before(perturbed, system, day).ev == ev
            calls = fold_rows[fold_rows["side"].isin(["OVER", "UNDER"])]
            expected = ev.calibrate(calls["line_kind"], calls["side"], calls["ev"])
            np.testing.assert_allclose(calls["ev_calibrated"], expected, atol=1e-12)
            assert (calls["ev_calibrated"] <= calls["ev"] + 1e-12).all()
            checked += len(calls) if fold > 0 else 0
    assert checked > 1000
    # the EV reliability of the report counts the same calls, bucket by bucket
    block = result.summary["systems"]["matchup"]["lines"]["sportsbook"]["ev_reliability"]
    rows = preds[(preds["system"] == "matchup") & ~preds["warmup"] & preds["played"]]
    calls = rows[rows["side"].isin(["OVER", "UNDER"]) & (rows["line_kind"] == "sportsbook")]
    decided = calls[calls["actual"] != calls["bet_line"].fillna(calls["line"])]
    assert sum(b["n"] for b in block["claimed"]["all"]) == len(decided)
    assert sum(b["n"] for b in block["calibrated"]["all"]) == len(decided)
    assert sum(b["n"] for b in block["claimed"]["UNDER"]) == (decided["side"] == "UNDER").sum()
