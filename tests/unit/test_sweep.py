"""Sweeps: a grid over dotted spec paths expands to ordinary, distinct experiment specs."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbaprops.core.errors import NbapropsError, NotReadyError
from nbaprops.core.settings import Settings
from nbaprops.experiments import sweep as sw
from nbaprops.experiments.backtest import (
    BacktestFrames,
    BacktestResult,
    plan_for,
    plan_on_frames,
)
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.experiments.sweep import (
    SweepOutcome,
    SweepRun,
    SweepSpec,
    expand,
    frames_key,
    load_sweep,
    ranked,
    run_sweep,
)

REPO = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = {
    "system": "catboost_full",
    "evaluation": {"start": "2024-03-01", "end": "2024-03-31"},
    "window": {"kind": "rolling", "days": 56},
    "recency": {"enabled": True},
    "hyperparameters": {"thread_count": 1},
}


def sweep(grid: dict[str, list[Any]], **changes: Any) -> SweepSpec:
    return SweepSpec.model_validate({"name": "s", "base": BASE, "grid": grid, **changes})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def test_the_documented_example_expands_to_eight_named_runs() -> None:
    loaded = load_sweep(REPO / "experiments" / "sweep_catboost_window.yaml")
    specs = expand(loaded)
    assert [s.name for s in specs] == [f"sweep-catboost-window-{i:03d}" for i in range(8)]
    # grid key order, the last key varying fastest
    got = [(s.recency.half_life_days, s.window.days, s.hyperparameters["depth"]) for s in specs]
    assert got == [
        (30.0, 56, 4),
        (30.0, 56, 6),
        (30.0, 112, 4),
        (30.0, 112, 6),
        (90.0, 56, 4),
        (90.0, 56, 6),
        (90.0, 112, 4),
        (90.0, 112, 6),
    ]
    assert all(s.window.kind == "rolling" and s.recency.enabled for s in specs)
    assert all(s.hyperparameters["thread_count"] == 1 for s in specs)
    assert all(s.hyperparameters["iterations"] == 300 for s in specs)
    assert len({s.config_hash() for s in specs}) == 8
    assert expand(loaded) == specs  # stable


def test_dotted_paths_reach_nested_fields_and_keep_the_rest_of_the_base() -> None:
    specs = expand(
        sweep(
            {
                "system_params.catboost_full.depth": [4, 8],
                "hyperparameters.learning_rate": [0.1],
                "training.start": ["2022-10-01"],
            }
        )
    )
    assert [s.system_params for s in specs] == [
        {"catboost_full": {"depth": 4}},
        {"catboost_full": {"depth": 8}},
    ]
    assert specs[1].params_for("catboost_full") == {
        "depth": 8,
        "thread_count": 1,
        "learning_rate": 0.1,
    }
    assert specs[0].training.start == date(2022, 10, 1)
    assert specs[0].window.days == 56  # a sibling of a set path is untouched
    assert BASE["hyperparameters"] == {"thread_count": 1}  # the base is not mutated


def test_a_mapping_value_replaces_the_whole_field() -> None:
    specs = expand(sweep({"window": [{"kind": "expanding"}, {"kind": "rolling", "days": 28}]}))
    assert [(s.window.kind, s.window.days) for s in specs] == [("expanding", None), ("rolling", 28)]


def test_labels_type_and_hypothesis_come_from_base_or_sweep() -> None:
    specs = expand(sweep({"seed": [1, 2]}, hypothesis="seeds do not matter"))
    assert specs[0].tags == ("sweep", "s")
    assert specs[0].type == "hyperparameter"
    assert specs[0].hypothesis == "seeds do not matter"
    base = {
        **BASE,
        "name": "ignored",
        "tags": ["a", "sweep"],
        "type": "ablation",
        "hypothesis": "h",
    }
    own = expand(SweepSpec(name="t", base=base, grid={"seed": [1]}))[0]
    assert (own.name, own.tags, own.type, own.hypothesis) == (
        "t-000",
        ("a", "sweep", "t"),
        "ablation",
        "h",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: s\nbase: {}\ngrid: {seed: [1]}\nsteps: 3\n", r"sweep\.yaml: steps: unknown field"),
        ("name: s\nbase: {depht: 8}\ngrid: {seed: [1]}\n", r"sweep\.yaml: base: unknown .*depht"),
        ("name: s\nbase: {}\ngrid: {}\n", r"sweep\.yaml: grid is empty"),
        ("name: s\nbase: {}\ngrid: {seed: []}\n", r"sweep\.yaml: grid key 'seed' has no values"),
        ("name: s\nbase: {}\ngrid: {seed: 3}\n", r"sweep\.yaml: grid\.seed: .*valid list"),
        ("name: s\nbase: {}\ngrid: {seed: [1, 2, 1]}\n", r"grid key 'seed' lists 1 twice"),
        ("name: s\nbase: {}\ngrid: {depht.x: [1]}\n", r"depht is not an experiment field"),
        ("name: s\nbase: {}\ngrid: {tags: [[a], [b]]}\n", r"tags labels a run"),
        ("name: s\nbase: {}\ngrid: {window: [{}], window.days: [5]}\n", r"overlap"),
        ("name: s\nbase: {}\nmetric: r2\ngrid: {seed: [1]}\n", r"sweep\.yaml: metric: "),
        ("name: ../s\nbase: {}\ngrid: {seed: [1]}\n", r"plain name"),
        ("- a list\n", r"sweep\.yaml: a sweep file is a mapping"),
        ("name: [unclosed\n", r"sweep\.yaml: not valid YAML"),
    ],
)
def test_a_bad_sweep_file_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(NbapropsError, match=message) as info:
        load_sweep(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(NbapropsError, match="no sweep file at"):
        load_sweep(tmp_path / "nope.yaml")


def test_more_than_500_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="expands to 504 configs"):
        sweep({"seed": list(range(42)), "gap_days": list(range(12))})
    assert sweep({"seed": list(range(50)), "gap_days": list(range(10))}).size == 500


def test_an_invalid_grid_point_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        NbapropsError, match=r"grid point 1 \(window\.days=0\): window\.days: .*greater than"
    ):
        expand(sweep({"window.days": [56, 0]}))
    path = write(
        tmp_path,
        "name: s\nbase: {system: catboost_full, evaluation: {start: 2024-03-01, "
        "end: 2024-03-31}}\ngrid: {window.kind: [expanding, rolling]}\n",
    )
    with pytest.raises(
        NbapropsError, match=r"sweep\.yaml: sweep s, grid point 1 \(window\.kind=\"rolling\"\)"
    ):
        load_sweep(path)


def test_a_path_through_a_scalar_is_refused() -> None:
    with pytest.raises(NbapropsError, match=r"grid point 0 .*base seed is 7, not a mapping"):
        expand(SweepSpec(name="s", base={**BASE, "seed": 7}, grid={"seed.x": [1]}))


def test_two_grid_points_making_the_same_experiment_are_refused() -> None:
    # 60 and 60.0 differ as written but are the same half-life once validated
    with pytest.raises(
        NbapropsError, match=r"grid points 0 \(.*=60\) and 1 \(.*=60\.0\) give the same"
    ):
        expand(sweep({"recency.half_life_days": [60, 60.0]}))


def test_a_half_life_grid_without_recency_is_refused() -> None:
    base = {k: v for k, v in BASE.items() if k != "recency"}
    with pytest.raises(NbapropsError, match="recency is not enabled"):
        expand(SweepSpec(name="s", base=base, grid={"recency.half_life_days": [30, 90]}))


def test_frames_are_shared_by_what_only_chooses_or_weights_rows() -> None:
    specs = expand(
        sweep(
            {
                "window.days": [28, 56],
                "recency.half_life_days": [30, 90],
                "hyperparameters.depth": [4, 6],
                "seed": [1, 2],
            }
        )
    )
    assert len({frames_key(s) for s in specs}) == 1
    other = expand(
        sweep(
            {
                "evaluation.end": ["2024-03-31", "2024-04-07"],
                "warmup_days": [7, 21],
                "training.start": [None, "2023-10-01"],
            }
        )
    )
    assert len({frames_key(s) for s in other}) == 8
    experimental = expand(
        sweep(
            {"seed": [1, 2]},
            base={
                **BASE,
                "mode": "experimental",
                "features": ["points_avg_season", "points_std_last_10"],
            },
        )
    )
    # an experimental feature set is named after its feature list: shared by the grid
    assert frames_key(experimental[0]) == frames_key(experimental[1])
    other_list = expand(
        sweep(
            {
                "features": [
                    ["points_avg_season", "points_std_last_10"],
                    ["points_avg_season", "points_std_last_10", "points_avg_last_5"],
                ]
            },
            base={**BASE, "mode": "experimental"},
        )
    )
    assert frames_key(other_list[0]) != frames_key(other_list[1])


# --- run_sweep's bookkeeping, without a warehouse ---------------------------------------

GAME_DATES = [date(2024, 3, 1) + timedelta(days=d) for d in range(31)]
HISTORY = pd.DataFrame({"game_date": [date(2023, 10, 1) + timedelta(days=d) for d in range(152)]})


def fake_result(spec: ExperimentSpec, mae: float | None, hit: float | None) -> BacktestResult:
    lines = {} if hit is None else {"sportsbook": {"betting": {"hit_rate": hit, "n_bets": 40}}}
    summary = {"systems": {spec.primary: {"all_rows": {"mae": mae, "n": 100}, "lines": lines}}}
    return BacktestResult(spec, None, pd.DataFrame(), pd.DataFrame(), summary, {})  # type: ignore[arg-type]


@pytest.fixture
def fake_backtest(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {"prepared": [], "starts": {}}

    def prepare(con: object, spec: ExperimentSpec) -> BacktestFrames:
        seen["prepared"].append(spec.name)
        plan = plan_for(spec, GAME_DATES)
        return BacktestFrames(plan, HISTORY, pd.DataFrame(), 0.0, tuple(GAME_DATES))

    def run(frames: BacktestFrames, spec: ExperimentSpec, **_: object) -> BacktestResult:
        # as run_on_frames does: the spec's own folds over the shared frames' dates
        seen["starts"][spec.name] = plan_on_frames(frames, spec).folds[0].train_start
        seen["first_row"] = min(frames.train["game_date"])
        if spec.seed == 2:
            raise ValueError("boom")
        return fake_result(spec, 5.0 + spec.seed, None)

    monkeypatch.setattr(sw, "eval_game_dates", lambda con, first, last: GAME_DATES)
    monkeypatch.setattr(sw, "prepare_frames", prepare)
    monkeypatch.setattr(sw, "run_on_frames", run)
    return seen


def test_one_failed_run_is_recorded_and_the_others_finish(fake_backtest: dict[str, Any]) -> None:
    specs = expand(sweep({"seed": [3, 2, 1], "window.days": [14, 28]}))
    called: list[tuple[str, str]] = []
    outcome = run_sweep(
        None,  # type: ignore[arg-type]
        specs,
        settings=Settings(),
        sequential=True,
        on_result=lambda spec, got: called.append((spec.name, type(got).__name__)),
    )
    assert fake_backtest["prepared"] == ["s-000"]  # one frames build for all six
    assert outcome.mode == "sequential"
    assert [r.spec.name for r in outcome.results] == [s.name for s in specs]
    boom = "ValueError: boom"
    assert [r.error for r in outcome.results] == [None, None, boom, boom, None, None]
    assert [r.result is None for r in outcome.results] == [False, False, True, True, False, False]
    assert sorted(called) == sorted(
        (s.name, "ValueError" if s.seed == 2 else "BacktestResult") for s in specs
    )
    # each run walks forward with its own window, not the one the frames were built for
    starts = fake_backtest["starts"]
    assert starts["s-000"] == date(2024, 2, 29) - timedelta(days=13)
    assert starts["s-001"] == date(2024, 2, 29) - timedelta(days=27)
    # history no fold reads (before the longest window's start) is not shipped
    assert fake_backtest["first_row"] == starts["s-001"]
    assert [r["name"] for r in ranked(outcome, "mae")] == [
        "s-004",
        "s-005",
        "s-000",
        "s-001",
        "s-002",
        "s-003",
    ]


def test_a_spec_whose_period_has_no_games_fails_alone(
    fake_backtest: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sw,
        "eval_game_dates",
        lambda con, first, last: [d for d in GAME_DATES if first <= d <= last],
    )
    march = {"start": "2024-03-01", "end": "2024-03-31"}
    may = {"start": "2024-05-01", "end": "2024-05-10"}
    specs = expand(sweep({"evaluation": [march, may]}))
    outcome = run_sweep(None, specs, settings=Settings(), sequential=True)  # type: ignore[arg-type]
    assert fake_backtest["prepared"] == ["s-000"]
    assert outcome.results[0].error is None
    assert outcome.results[1].error == "no finished games between 2024-04-10 and 2024-05-10"


def test_a_warehouse_that_is_not_ready_stops_the_sweep(
    fake_backtest: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_ready(con: object, spec: ExperimentSpec) -> BacktestFrames:
        raise NotReadyError("run features build first")

    monkeypatch.setattr(sw, "prepare_frames", not_ready)
    with pytest.raises(NotReadyError):
        run_sweep(None, expand(sweep({"seed": [1, 3]})), settings=Settings(), sequential=True)  # type: ignore[arg-type]


def test_without_the_cluster_extra_the_message_says_how_to_install(
    fake_backtest: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(NbapropsError, match=r"pip install 'nbaprops\[cluster\]'"):
        run_sweep(None, expand(sweep({"seed": [1, 3]})), settings=Settings())  # type: ignore[arg-type]


def test_duplicate_names_are_refused() -> None:
    spec = expand(sweep({"seed": [1]}))[0]
    with pytest.raises(NbapropsError, match="unique"):
        run_sweep(None, [spec, spec], settings=Settings(), sequential=True)  # type: ignore[arg-type]


def test_ranking_direction_and_missing_figures_last() -> None:
    specs = expand(sweep({"seed": [1, 2, 3, 4]}))
    figures = [(5.2, 0.51), (float("nan"), None), (5.0, 0.49), (5.1, 0.55)]
    runs = [
        SweepRun(s, fake_result(s, mae, hit), None)
        for s, (mae, hit) in zip(specs, figures, strict=True)
    ]
    runs.append(SweepRun(specs[0].with_overrides(name="failed", seed=9), None, "boom"))
    outcome = SweepOutcome(1.0, 0.1, "sequential", tuple(runs))
    by_mae = ranked(outcome, "mae")
    assert [r["name"] for r in by_mae] == ["s-002", "s-003", "s-000", "s-001", "failed"]
    assert [r["rank"] for r in by_mae] == [1, 2, 3, 4, 5]
    assert (by_mae[0]["value"], by_mae[0]["n"]) == (5.0, 100)
    assert (by_mae[-1]["error"], by_mae[-1]["mae"]) == ("boom", None)
    by_hit = ranked(outcome, "hit_rate")
    assert [r["name"] for r in by_hit] == ["s-003", "s-000", "s-002", "s-001", "failed"]
    assert (by_hit[0]["n"], by_hit[0]["brier"]) == (40, None)
    assert by_hit[0]["config_hash"] == specs[3].config_hash()
    with pytest.raises(NbapropsError, match="unknown metric"):
        ranked(outcome, "r2")
