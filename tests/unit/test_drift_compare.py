"""Drift between two periods and backtest vs production, on tiny hand-made frames."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.grading.report import system_figures
from nbaprops.monitoring.compare import (
    IN_SAMPLE,
    NOT_GRADED,
    NOT_ON_SLATE,
    NOT_PREDICTED_DATE,
    OTHER_GAME,
    compare_rows,
    find_backtest_run,
)
from nbaprops.monitoring.drift import (
    Period,
    drift_of_frames,
    over_share,
    plot_drift,
)
from nbaprops.warehouse.migrate import migrate

runner = CliRunner()
REF = Period(date(2024, 3, 1), date(2024, 3, 31))
CUR = Period(date(2024, 4, 1), date(2024, 4, 30))


def _frames(shift: float, n: int = 1500, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({f: rng.normal(10, 2, n) for f in ("a", "b", "c")})
    cur = pd.DataFrame({f: rng.normal(10, 2, n) for f in ("a", "b", "c")})
    cur["b"] = cur["b"] + shift
    return ref, cur


def _predictions(n: int, over: int, p_centre: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    calls = ["OVER"] * over + ["UNDER"] * (n - over)
    return pd.DataFrame(
        {
            "system": "moving_average",
            "median": rng.normal(12, 4, n),
            "mean": rng.normal(12.5, 4, n),
            "p_over": np.clip(rng.normal(p_centre, 0.03, n), 0.01, 0.99),
            "recommendation": calls,
        }
    )


NO_PREDS = _predictions(0, 0, 0.5, 0)


def test_a_shifted_feature_is_ranked_first_and_drifted_and_the_others_are_not() -> None:
    ref, cur = _frames(shift=2.0)  # one standard deviation
    result = drift_of_frames(
        REF, CUR, ref, cur, ("a", "b", "c"), NO_PREDS, NO_PREDS, feature_set="t"
    )
    first, *rest = result.features
    assert first.name == "b"
    assert first.rank == 1
    assert first.drifted
    assert first.psi > 0.25
    assert first.psi_level == "major"
    assert first.difference == pytest.approx(2.0, abs=0.2)
    assert [r.drifted for r in rest] == [False, False]
    assert all(r.psi < 0.1 for r in rest)
    assert result.n_features_drifted == 1
    assert not result.dataset_drift
    # no stored predictions in either period: features only, said so
    assert result.systems == []
    assert any("no system has stored predictions" in n for n in result.notes)


def test_an_unshifted_period_is_not_drifted() -> None:
    ref, cur = _frames(shift=0.0)
    result = drift_of_frames(
        REF, CUR, ref, cur, ("a", "b", "c"), NO_PREDS, NO_PREDS, feature_set="t"
    )
    assert result.n_features_drifted == 0
    assert all(r.psi_level == "stable" for r in result.rows)


def test_prediction_shift_and_over_share_are_ranked_with_the_features() -> None:
    ref, cur = _frames(shift=0.0)
    ref_preds = _predictions(400, over=200, p_centre=0.52, seed=1)
    cur_preds = _predictions(400, over=80, p_centre=0.46, seed=2)
    result = drift_of_frames(
        REF, CUR, ref, cur, ("a", "b", "c"), ref_preds, cur_preds, feature_set="t"
    )
    assert result.systems == ["moving_average"]
    top = result.rows[0]
    assert (top.kind, top.system, top.name) == ("prediction", "moving_average", "p_over")
    assert top.drifted
    assert top.ks_statistic is not None
    assert top.ks_statistic > 0.5
    assert top.difference == pytest.approx(-0.06, abs=0.01)
    # median and mean were drawn from one distribution in both periods
    by_name = {r.name: r for r in result.rows if r.kind == "prediction"}
    assert not by_name["median"].drifted
    assert by_name["median"].ks_p_value > 0.01
    assert [r.rank for r in result.rows] == list(range(1, len(result.rows) + 1))
    (share,) = result.over_shares
    assert share.share_reference == pytest.approx(0.5)
    assert share.share_current == pytest.approx(0.2)
    assert share.difference == pytest.approx(-0.3)
    assert share.drifted
    assert share.ci_reference[0] < 0.5 < share.ci_reference[1]
    payload = json.loads(json.dumps(result.to_dict(), default=str))
    assert "samples" not in payload
    assert payload["rows"][0]["name"] == "p_over"


def test_over_share_counts_only_bets_and_an_equal_share_is_not_drift() -> None:
    calls = pd.Series(["OVER"] * 30 + ["UNDER"] * 70 + ["PASS"] * 50 + ["NO_LINE"] * 9)
    share = over_share("s", calls, calls.copy())
    assert share.n_bets_reference == share.n_bets_current == 100
    assert share.share_reference == share.share_current == pytest.approx(0.3)
    assert share.p_value == pytest.approx(1.0)
    assert not share.drifted
    none = over_share("s", pd.Series(["PASS"]), calls)
    assert none.share_reference is None
    assert none.p_value is None
    assert not none.drifted


def test_the_plot_is_written_as_a_png(tmp_path: Path) -> None:
    ref, cur = _frames(shift=2.0)
    result = drift_of_frames(
        REF,
        CUR,
        ref,
        cur,
        ("a", "b", "c"),
        _predictions(300, 150, 0.5, 1),
        _predictions(300, 60, 0.45, 2),
        feature_set="t",
    )
    path = plot_drift(result, tmp_path / "drift.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


# --- backtest vs production -------------------------------------------------------------

D1, D2, D3 = date(2024, 3, 10), date(2024, 3, 11), date(2024, 3, 12)


def _rows(keys: list[tuple[int, date]], *, side: str = "OVER", seed: int = 0) -> pd.DataFrame:
    """Rows in scoring vocabulary, one per (player, date); values fixed by the key."""
    out = []
    for player, day in keys:
        rng = np.random.default_rng(player * 1000 + day.toordinal() + seed)
        line = 10.5 + player % 7
        actual = float(rng.integers(0, 30))
        out.append(
            {
                "system": "moving_average",
                "player_id": player,
                "game_id": f"g{day:%d}{player % 3}",
                "game_date": day,
                "played": actual > 0,
                "actual": actual if actual > 0 else np.nan,
                "median": line + rng.normal(0, 3),
                "mean": line,
                "line": line,
                "line_kind": "sportsbook",
                "over_price": -110.0,
                "under_price": -110.0,
                "p_over": 0.55,
                "side": side if player % 2 else "UNDER",
                "edge": np.nan,
                "bet_line": np.nan,
                "bet_price": np.nan,
            }
        )
    return pd.DataFrame(out)


def _populations() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    players = range(1, 21)
    backtest = _rows([(p, d) for d in (D1, D2, D3) for p in players])
    # production: D3 never predicted; players 1-2 not on its D1 slate; player 30 only in
    # production on D2; player 3 on D1 predicted but not graded; player 4 on D1 in-sample
    graded = [(p, d) for d in (D1, D2) for p in players if not (d == D1 and p in (1, 2, 3, 4))]
    production = _rows([*graded, (30, D2)], side="UNDER")  # other decisions, same games
    context = pd.DataFrame(
        [
            {"player_id": p, "game_date": d, "in_sample": False, "graded": True}
            for p, d in [*graded, (30, D2)]
        ]
        + [
            {"player_id": 3, "game_date": D1, "in_sample": False, "graded": False},
            {"player_id": 4, "game_date": D1, "in_sample": True, "graded": True},
        ]
    )
    return backtest, production, context


def test_figures_side_by_side_are_on_identical_player_games() -> None:
    backtest, production, context = _populations()
    result = compare_rows(
        backtest,
        production,
        context,
        system="moving_average",
        start=D1,
        end=D3,
        n_boot=200,
    )
    assert (result.n_backtest, result.n_production) == (60, 37)
    shared_keys = set(zip(backtest["player_id"], backtest["game_date"], strict=True)) & set(
        zip(production["player_id"], production["game_date"], strict=True)
    )
    assert result.n_shared == len(shared_keys) == 36
    # recompute each side's figures on exactly the shared keys, independently
    for side, rows in (("backtest", backtest), ("production", production)):
        mine = rows[
            [
                (p, d) in shared_keys
                for p, d in zip(rows["player_id"], rows["game_date"], strict=True)
            ]
        ]
        (expected,) = system_figures(mine)
        (got,) = result.shared[side]
        for key in ("n", "bets", "hit_rate", "model_mae", "line_mae", "roi_consensus", "voids"):
            assert got[key] == pytest.approx(expected[key]), (side, key)
    b, p = result.shared["backtest"][0], result.shared["production"][0]
    assert b["n"] == p["n"]
    assert b["model_mae"] == pytest.approx(p["model_mae"])  # same rows, same medians
    assert b["hit_rate"] != p["hit_rate"]  # other sides taken: a model difference
    assert b["roi_best"] is None  # the registry keeps no shopped price
    (paired,) = result.paired.values()
    assert paired["common"] == b["n"]
    assert result.line_agreement["same_line"] == 36


def test_what_each_side_lacks_is_counted_by_reason() -> None:
    backtest, production, context = _populations()
    result = compare_rows(
        backtest, production, context, system="moving_average", start=D1, end=D3, n_boot=50
    )
    reasons = {r.reason: r.n for r in result.backtest_only.reasons}
    assert reasons == {NOT_PREDICTED_DATE: 20, NOT_ON_SLATE: 2, NOT_GRADED: 1, IN_SAMPLE: 1}
    assert result.backtest_only.n == 24
    voids = int((~backtest[backtest["game_date"] == D3]["played"]).sum())
    by_reason = {r.reason: r for r in result.backtest_only.reasons}
    assert by_reason[NOT_PREDICTED_DATE].voids == voids
    assert by_reason[NOT_PREDICTED_DATE].lined == 20
    assert {r.reason: r.n for r in result.production_only.reasons} == {NOT_ON_SLATE: 1}
    # the non-shared rows carry their own figures
    (only_b,) = result.backtest_only.figures
    assert only_b["n"] == 24 - sum(r.voids for r in result.backtest_only.reasons)
    assert result.n_shared + result.backtest_only.n == result.n_backtest
    assert result.n_shared + result.production_only.n == result.n_production


def test_another_game_id_on_the_same_date_is_not_the_same_player_game() -> None:
    backtest = _rows([(1, D1), (2, D1)])
    production = _rows([(1, D1), (2, D1)])
    production.loc[production["player_id"] == 2, "game_id"] = "other"
    result = compare_rows(
        backtest, production, None, system="moving_average", start=D1, end=D1, n_boot=10
    )
    assert result.n_shared == 1
    assert [(r.reason, r.n) for r in result.backtest_only.reasons] == [(OTHER_GAME, 1)]
    assert [(r.reason, r.n) for r in result.production_only.reasons] == [(OTHER_GAME, 1)]
    # a side without game ids is matched on player and date alone
    production["game_id"] = None
    assert (
        compare_rows(
            backtest, production, None, system="moving_average", start=D1, end=D1, n_boot=10
        ).n_shared
        == 2
    )


def _add_run(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    *,
    systems: tuple[str, ...] = ("moving_average",),
    status: str = "completed",
    created: str = "2024-06-01",
    rows: bool = True,
) -> str:
    run_id = str(uuid.uuid4())
    con.execute(
        """
        INSERT INTO experiments.run (experiment_id, name, hypothesis, type, mode,
            primary_system, systems, feature_set, config, config_hash, tags, training_end,
            eval_start, eval_end, eval_window, status, created_at)
        VALUES (?, 'r', '', 'walk_forward', 'shared', ?, ?, 'points_v1', '{}', 'h', [],
                ?, ?, ?, ?, ?, ?::TIMESTAMPTZ)
        """,
        [run_id, systems[0], list(systems), end, start, end, f"{start}:{end}", status, created],
    )
    if rows:
        day = start
        while day <= end:
            for system in systems:
                con.execute(
                    "INSERT INTO experiments.prediction (experiment_id, system, fold, warmup, "
                    "player_id, game_date, played, median, mean, side) "
                    "VALUES (?, ?, 1, false, 7, ?, true, 10, 10, 'PASS')",
                    [run_id, system, day],
                )
            day += timedelta(days=1)
    return run_id


def test_the_latest_finished_run_covering_the_range_is_chosen(
    empty_con: duckdb.DuckDBPyConnection,
) -> None:
    con = empty_con
    old = _add_run(con, D1, D3, created="2024-06-01")
    new = _add_run(con, D1, D3, created="2024-06-02")
    _add_run(con, D1, D3, created="2024-06-03", status="failed")
    _add_run(con, D1, D3, created="2024-06-04", systems=("season_average",))
    _add_run(con, D1, D3, created="2024-06-05", rows=False)  # a backfill keeps no rows
    _add_run(con, D2, D3, created="2024-06-06")  # does not cover D1
    assert find_backtest_run(con, "moving_average", D1, D3).experiment_id == new
    assert find_backtest_run(con, "moving_average", D1, D3, old[:8]).experiment_id == old
    with pytest.raises(NbapropsError, match=r"no completed backtest .*`nbaprops experiment run"):
        find_backtest_run(con, "moving_average", D1 - timedelta(days=1), D3)
    short = _add_run(con, D2, D2, created="2024-06-07")
    with pytest.raises(NbapropsError, match="does not cover"):
        find_backtest_run(con, "moving_average", D1, D3, short)
    failed = _add_run(con, D1, D3, status="failed")
    with pytest.raises(NbapropsError, match="is failed"):
        find_backtest_run(con, "moving_average", D1, D3, failed)


# --- the command line ----------------------------------------------------------------


def _refused(args: list[str], *fragments: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_drift_bad_input_is_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    ok = ["--current", "2024-04-01:2024-04-30", "--db", db]
    _refused(["drift", "--reference", "2024-03-01", *ok], "--reference", "START:END")
    _refused(["drift", "--reference", "2024-03-31:2024-03-01", *ok], "after")
    _refused(
        ["drift", "--reference", "2024-03-01:2024-03-31", *ok, "--system", "nope"],
        "unknown system 'nope'",
    )
    _refused(
        ["drift", "--reference", "2024-03-01:2024-03-31", *ok, "--feature-set", "nope"],
        "unknown feature set",
    )
    png = ["--png", str(tmp_path / "x.txt")]
    _refused(["drift", "--reference", "2024-03-01:2024-03-31", *ok, *png], "must end in .png")
    _refused(["drift", "--reference", "2024-03-01:2024-03-31", *ok], "no warehouse at")


def test_compare_production_bad_input_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        migrate(con)
    args = ["compare-production", "--db", str(db)]
    _refused([*args, "--start", "2024-03-10", "--end", "2024-03-01", "--system", "moving_average"])
    _refused(
        [*args, "--start", "2024-03-01", "--end", "2024-03-10", "--system", "nope"],
        "unknown system",
    )
    _refused(
        [*args, "--start", "2024-03-01", "--end", "2024-03-10", "--system", "moving_average"],
        "no completed backtest of moving_average",
        "nbaprops experiment run",
    )
    _refused(
        [
            *args,
            "--start",
            "2024-03-01",
            "--end",
            "2024-03-10",
            "--system",
            "moving_average",
            "--experiment",
            "abcdef",
        ],
        "no experiment run 'abcdef'",
    )
