"""Experiments on real data land in both registries; promotion is gated and audited."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.experiments import registry as reg
from nbaprops.experiments import runner
from nbaprops.experiments.runner import RunOutcome, run_experiment
from nbaprops.experiments.spec import ExperimentSpec, build_spec
from nbaprops.features import catalog
from nbaprops.models import registry as models
from nbaprops.predictions.history import InMemoryHistory, calibration_before
from nbaprops.systems import FeatureSetMismatchError

pytestmark = [pytest.mark.data, pytest.mark.slow]

BASE = {
    "system": "catboost_full",
    "hyperparameters": {"iterations": 30, "thread_count": 2},
    "evaluation": {"start": date(2024, 4, 1), "end": date(2024, 4, 14)},
    "retrain_every": 7,
    "warmup_days": 7,
}


# The expanding run's history: three seasons (the property is the window's kind and
# what the run records, not how many seasons it fits on; ten cost three times the fits).
THREE_SEASONS = {"start": date(2021, 10, 19)}
# The current-season run's window reads this season only; its frames need no more.
ONE_SEASON = {"start": date(2023, 10, 24)}
# For the runs whose assertions do not read the training history (a crash, an
# experimental model's promotion): the weeks before the evaluation.
SHORT = {"start": date(2024, 2, 1)}


def spec_of(name: str, **changes: object) -> ExperimentSpec:
    return build_spec({**BASE, "name": name, **changes})


@pytest.fixture(scope="module")
def lab(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A private copy of the real warehouse (registries write to it), mirrored to a
    local file-based MLflow store."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(warehouse, root / "nbaprops.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks file stores to opt in
        yield Settings(
            db=root / "nbaprops.duckdb",
            runs_dir=root / "runs",
            mlflow_tracking_uri=(root / "mlruns").as_uri(),
        )


@pytest.fixture
def con(lab: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(lab.paths.db) as c:
        from nbaprops.warehouse.migrate import migrate

        migrate(c)
        yield c


@pytest.fixture(scope="module")
def runs(lab: Settings) -> dict[str, RunOutcome]:
    """An expanding-window run (three seasons of history) and a current-season run over
    the same evaluation window."""
    from nbaprops.warehouse.migrate import migrate

    out = {}
    with connect(lab.paths.db) as c:
        migrate(c)
        out["full"] = run_experiment(
            c, spec_of("full-history", training=THREE_SEASONS), settings=lab
        )
        out["season"] = run_experiment(
            c,
            spec_of("current-season", window={"kind": "current_season"}, training=ONE_SEASON),
            settings=lab,
        )
    return out


def test_a_completed_run_records_its_config_figures_and_rows(
    runs: dict[str, RunOutcome], con: duckdb.DuckDBPyConnection
) -> None:
    outcome = runs["full"]
    assert outcome.run_id is not None
    run = reg.get_run(con, outcome.run_id)
    spec = outcome.result.spec
    assert run["status"] == "completed"
    assert run["config_hash"] == spec.config_hash()
    assert run["config"]["window"]["kind"] == "expanding"
    assert [e["status"] for e in run["events"]] == ["pending", "running", "completed"]
    assert run["git_commit"] is not None
    assert len(run["git_commit"]) == 40
    figures = {(f["system"], f["rows"], f["metric"]): f["value"] for f in run["figures"]}
    summary = outcome.result.summary["systems"]["catboost_full"]
    assert figures[("catboost_full", "all", "mae")] == pytest.approx(summary["all_rows"]["mae"])
    sportsbook = summary["lines"]["sportsbook"]["betting"]
    assert figures[("catboost_full", "sportsbook", "hit_rate")] == pytest.approx(
        sportsbook["hit_rate"]
    )
    stored = con.execute(
        "SELECT count(*) FROM experiments.prediction WHERE experiment_id = ?", [outcome.run_id]
    ).fetchone()
    assert stored == (len(outcome.result.predictions),)
    reported = outcome.result.predictions
    reported = reported[(reported["system"] == "catboost_full") & ~reported["warmup"]]
    assert run["eval_rows"] == int(reported["played"].sum())
    assert Path(run["artefacts"]["report"], "report.json").is_file()


def test_the_registered_version_carries_the_calibration_its_walk_forward_earned(
    runs: dict[str, RunOutcome], con: duckdb.DuckDBPyConnection
) -> None:
    outcome = runs["full"]
    version = outcome.model
    assert version is not None
    assert version.experiment_id == outcome.run_id
    assert version.train_end == date(2024, 4, 14)
    assert version.feature_set_key == "points_v1"
    assert version.library_versions["catboost"] != "absent"
    loaded = models.load_model(con, version.ref)
    rows = outcome.result.predictions
    expected = calibration_before(
        InMemoryHistory({"catboost_full": [rows[rows["system"] == "catboost_full"]]}),
        "catboost_full",
        date(2024, 4, 15),
    )
    np.testing.assert_array_equal(loaded.calibration.pit.pit, expected.pit.pit)
    assert loaded.calibration.platt == expected.platt
    # the loaded artefact is the fitted model, trained through the training end
    assert loaded.system.fitted_.train_end == "2024-04-14"
    assert loaded.system.fitted_.n_train_rows == version.train_rows


def test_a_run_that_crashes_ends_failed_with_its_error(
    lab: Settings, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker lost at fold 2")

    monkeypatch.setattr(runner, "run_on_frames", crash)
    before = con.execute("SELECT count(*) FROM models.version").fetchone()
    with pytest.raises(RuntimeError, match="worker lost"):
        run_experiment(
            con,
            spec_of(
                "crashes",
                training=SHORT,
                warmup_days=0,
                evaluation={"start": date(2024, 4, 8), "end": date(2024, 4, 14)},
            ),
            settings=lab,
        )
    failed = reg.list_runs(con, status="failed")
    mine = [r for r in failed if r["name"] == "crashes"]
    assert len(mine) == 1
    assert "RuntimeError: worker lost at fold 2" in mine[0]["error"]
    run = reg.get_run(con, mine[0]["experiment_id"])
    assert [e["status"] for e in run["events"]] == ["pending", "running", "failed"]
    assert run["figures"] == []
    assert con.execute("SELECT count(*) FROM models.version").fetchone() == before


def test_best_ranks_only_runs_on_one_window_with_n_beside(
    runs: dict[str, RunOutcome], lab: Settings
) -> None:
    result = CliRunner().invoke(
        app, ["experiment", "best", "--metric", "mae", "--db", str(lab.paths.db), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["eval_window"] == "2024-04-01:2024-04-14"
    values = [r["value"] for r in payload["runs"]]
    assert values == sorted(values)
    ids = {r["experiment_id"] for r in payload["runs"]}
    assert {runs["full"].run_id, runs["season"].run_id} <= ids
    for r in payload["runs"]:
        if r["experiment_id"] == runs["full"].run_id:
            summary = runs["full"].result.summary["systems"]["catboost_full"]["all_rows"]
            assert r["value"] == pytest.approx(summary["mae"])
            assert r["n"] == summary["n"]


def test_compare_pairs_exactly_the_same_player_games(
    runs: dict[str, RunOutcome], lab: Settings
) -> None:
    a, b = runs["full"], runs["season"]
    result = CliRunner().invoke(
        app,
        [
            "experiment",
            "compare",
            str(a.run_id)[:8],
            str(b.run_id),
            "--db",
            str(lab.paths.db),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)

    def played(o: RunOutcome) -> pd.DataFrame:
        p = o.result.predictions
        return p[(p["system"] == "catboost_full") & ~p["warmup"] & p["played"]]

    pa, pb = played(a), played(b)
    common = pa.merge(pb, on=["player_id", "game_date"], suffixes=("_a", "_b"))
    assert out["common"] == len(common)
    mae = next(f for f in out["figures"] if f["figure"] == "mae" and f["rows"] == "all")
    expected_a = float(np.mean(np.abs(common["median_a"] - common["actual_a"])))
    expected_b = float(np.mean(np.abs(common["median_b"] - common["actual_b"])))
    assert mae["a"] == pytest.approx(expected_a)
    assert mae["diff"] == pytest.approx(expected_a - expected_b)
    assert mae["ci_low"] <= mae["diff"] <= mae["ci_high"]
    # same rows, same definitions: the paired ROI is the metrics module's roi_actual
    roi = next(f for f in out["figures"] if f["figure"] == "roi_actual")
    for side, run in (("a", a), ("b", b)):
        betting = run.result.summary["systems"]["catboost_full"]["lines"]["sportsbook"]["betting"]
        assert roi[side] == pytest.approx(betting["roi_actual"])
        assert roi[f"n_{side}"] == betting["n_priced"]


def test_promotion_is_gated_refusals_are_recorded_and_force_needs_a_reason(
    runs: dict[str, RunOutcome], con: duckdb.DuckDBPyConnection
) -> None:
    version = runs["full"].model
    assert version is not None
    system = version.system_id
    refused = r"sample_size: [\d,]+ graded sportsbook rows \(needs ≥ 1,000,000\)"
    with pytest.raises(models.PromotionRefusedError, match=refused):
        models.promote(con, system, version.version, "champion", min_rows=10**6, max_ece=0.03)
    assert models.alias_version(con, system, "champion") is None
    with pytest.raises(NbapropsError, match="--reason"):
        models.promote(
            con, system, version.version, "champion", min_rows=10**6, max_ece=0.03, force=True
        )
    change = models.promote(
        con,
        system,
        version.version,
        "champion",
        min_rows=10**6,
        max_ece=0.03,
        force=True,
        reason="first champion of the test",
        who="tester",
    )
    assert change.action == "forced"
    assert models.alias_version(con, system, "champion") == version.version
    history = models.alias_history(con, system)
    assert [e["action"] for e in history][-2:] == ["refused", "forced"]
    assert history[-1]["actor"] == "tester"
    assert history[-1]["reason"] == "first champion of the test"
    failed = [c["name"] for c in history[-1]["gate"]["checks"] if not c["passed"]]
    assert "sample_size" in failed
    assert models.resolve(con, f"{system}@champion").version == version.version


def test_the_gate_compares_the_candidate_with_the_champion_on_shared_rows(
    runs: dict[str, RunOutcome],
) -> None:
    champion, candidate = runs["full"].model, runs["season"].model
    assert champion is not None
    assert candidate is not None
    gate = models.promotion_gate(candidate, champion, min_rows=300, max_ece=0.03)
    mine, theirs = gate.figures["candidate_figures"], gate.figures["champion_figures"]
    assert mine["n_graded"] == theirs["n_graded"] > 300
    by_name = {c.name: c for c in gate.checks}
    assert by_name["mae"].passed == (mine["mae"] <= theirs["mae"])
    assert by_name["calibration"].passed == (mine["ece"] <= 0.03)
    assert gate.passed == all(c.passed for c in gate.checks)


def test_loading_a_model_whose_feature_set_changed_is_refused(
    runs: dict[str, RunOutcome], con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = runs["season"].model
    assert version is not None
    current = catalog.FEATURE_SETS["points_v1"]
    changed = catalog.FeatureSet(
        current.name, current.version, current.features[:-1], current.description
    )
    monkeypatch.setitem(models.FEATURE_SETS, "points_v1", changed)
    with pytest.raises(FeatureSetMismatchError, match="changed"):
        models.load_model(con, version.ref)
    monkeypatch.delitem(models.FEATURE_SETS, "points_v1")
    with pytest.raises(FeatureSetMismatchError, match="no longer defines"):
        models.load_model(con, version.ref)


def test_a_missing_artefact_is_an_error_not_a_fallback(
    runs: dict[str, RunOutcome], con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    version = runs["season"].model
    assert version is not None
    moved = tmp_path / "moved"
    shutil.move(version.artefact_dir, moved)
    try:
        with pytest.raises(NbapropsError, match="missing"):
            models.load_model(con, version.ref)
    finally:
        shutil.move(moved, version.artefact_dir)
    assert models.load_model(con, version.ref).version.version == version.version


def test_an_experimental_model_is_never_promoted(
    lab: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    spec = spec_of(
        "research",
        mode="experimental",
        features=["points_avg_last_5", "points_avg_season", "points_std_last_10"],
        warmup_days=0,
        evaluation={"start": date(2024, 4, 8), "end": date(2024, 4, 14)},
        training=SHORT,
    )
    outcome = run_experiment(con, spec, settings=lab)
    version = outcome.model
    assert version is not None
    assert version.mode == "experimental"
    assert version.feature_columns == (
        "points_avg_last_5",
        "points_avg_season",
        "points_std_last_10",
    )
    with pytest.raises(models.PromotionRefusedError, match="experimental"):
        models.promote(
            con,
            version.system_id,
            version.version,
            "shadow",
            min_rows=1,
            max_ece=1.0,
            force=True,
            reason="try anyway",
        )
    assert models.alias_version(con, version.system_id, "shadow") is None
    last = models.alias_history(con, version.system_id)[-1]
    assert (last["action"], last["version"]) == ("refused", version.version)


def test_a_dry_run_trains_and_records_nothing(
    lab: Settings, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbaprops.systems.base import PredictionSystem

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dry run trained a model")

    monkeypatch.setattr(PredictionSystem, "fit", no_training)
    runs_before = con.execute("SELECT count(*) FROM experiments.run").fetchone()
    con.close()
    spec_file = Path(__file__).parents[2] / "experiments" / "catboost_rolling56_halflife60.yaml"
    result = CliRunner().invoke(
        app,
        ["experiment", "run", str(spec_file), "--dry-run", "--db", str(lab.paths.db), "--json"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["trained"] is False
    assert out["spec"]["window"] == {"kind": "rolling", "days": 56}
    assert out["spec"]["recency"] == {"enabled": True, "half_life_days": 60.0}
    assert len(out["plan"]) >= 10
    assert {f["name"] for f in out["features"]} == set(catalog.FEATURE_SETS["points_v1"].features)
    assert all("default" in f for f in out["features"])
    with connect(lab.paths.db, read_only=True) as check:
        assert check.execute("SELECT count(*) FROM experiments.run").fetchone() == runs_before


def test_each_run_is_mirrored_to_mlflow_when_a_tracking_uri_is_set(
    runs: dict[str, RunOutcome], lab: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    from mlflow.tracking import MlflowClient

    outcome = runs["full"]
    assert not outcome.warnings
    run = reg.get_run(con, str(outcome.run_id))
    assert run["mlflow_run_id"]
    client = MlflowClient(tracking_uri=lab.models.mlflow_tracking_uri)
    logged = client.get_run(run["mlflow_run_id"])
    assert logged.info.status == "FINISHED"
    assert logged.data.tags["nbaprops.experiment_id"] == outcome.run_id
    assert logged.data.params["window.kind"] == "expanding"
    mae = outcome.result.summary["systems"]["catboost_full"]["all_rows"]["mae"]
    assert logged.data.metrics["all.mae"] == pytest.approx(mae)
    assert client.list_artifacts(run["mlflow_run_id"])


def test_a_sweep_on_a_two_worker_local_cluster_records_every_run(
    lab: Settings, tmp_path: Path
) -> None:
    """Four runs on a real two-worker local cluster, each the smallest real slice: one
    week's fold, fitted on the weeks of history its rolling window reads."""
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        "name: tiny-sweep\n"
        "base:\n"
        "  system: catboost_full\n"
        "  evaluation: {start: 2024-04-08, end: 2024-04-14}\n"
        "  training: {start: 2024-02-01}\n"
        "  window: {kind: rolling, days: 56}\n"
        "  retrain_every: 7\n"
        "  warmup_days: 0\n"
        "  hyperparameters: {thread_count: 1, iterations: 20}\n"
        "grid:\n"
        "  hyperparameters.depth: [3, 5]\n"
        "  window.days: [28, 56]\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "experiment",
            "sweep",
            str(sweep_file),
            "--workers",
            "2",
            "--db",
            str(lab.paths.db),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "local:2"
    assert len(out["runs"]) == 4
    maes = [r["mae"] for r in out["runs"]]
    assert maes == sorted(maes)
    with connect(lab.paths.db, read_only=True) as check:
        recorded = check.execute(
            "SELECT r.name, r.status, r.config_hash, count(p.player_id) AS rows, "
            "max(CASE WHEN m.metric = 'mae' AND m.row_set = 'all' "
            "    AND m.system = r.primary_system THEN m.value END) AS mae "
            "FROM experiments.run r "
            "LEFT JOIN experiments.prediction p USING (experiment_id) "
            "LEFT JOIN experiments.run_metric m USING (experiment_id) "
            "WHERE r.sweep = 'tiny-sweep' GROUP BY ALL ORDER BY r.name"
        ).fetchall()
    assert [r[0] for r in recorded] == [f"tiny-sweep-{i:03d}" for i in range(4)]
    assert {r[1] for r in recorded} == {"completed"}
    assert len({r[2] for r in recorded}) == 4
    assert all(r[3] > 0 for r in recorded)
    by_name = {r["name"]: r["mae"] for r in out["runs"]}
    for name, _, _, _, mae in recorded:
        assert mae == pytest.approx(by_name[name])


def test_cli_promotion_and_archive_move_run_statuses_and_archived_runs_stop_competing(
    runs: dict[str, RunOutcome], lab: Settings
) -> None:
    season = runs["season"]
    assert season.model is not None
    cli = CliRunner()
    db = ["--db", str(lab.paths.db)]
    version = str(season.model.version)
    promoted = cli.invoke(
        app, ["model", "promote", "catboost_full", version, "--alias", "challenger", *db]
    )
    assert promoted.exit_code == 0, promoted.output
    archived = cli.invoke(
        app, ["experiment", "archive", str(season.run_id)[:8], "--reason", "superseded", *db]
    )
    assert archived.exit_code == 0, archived.output
    shown = json.loads(
        cli.invoke(app, ["experiment", "show", str(season.run_id), *db, "--json"]).stdout
    )
    assert shown["status"] == "archived"
    assert shown["events"][-1]["detail"] == "superseded"
    # the window both module runs share (the sweep's and the experimental run's is shorter)
    window = ["--eval-window", "2024-04-01:2024-04-14"]
    best = json.loads(cli.invoke(app, ["experiment", "best", *window, *db, "--json"]).stdout)
    assert best["eval_window"] == "2024-04-01:2024-04-14"
    competing = {r["experiment_id"] for r in best["runs"]}
    assert season.run_id not in competing
    assert runs["full"].run_id in competing
    again = cli.invoke(app, ["experiment", "archive", "zzzz", *db])
    assert again.exit_code == 1
    assert "no experiment run 'zzzz'" in again.output
