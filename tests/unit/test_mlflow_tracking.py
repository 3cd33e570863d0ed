"""MLflow logging against a real file-based tracking store in tmp_path (no server, no network)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from nbaprops.core.errors import NbapropsError
from nbaprops.experiments.tracking import MAX_PARAM_VALUE, flatten_params, log_run


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # MLflow 3 refuses file stores unless opted in; only the tests opt in.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return tmp_path.joinpath("mlruns").as_uri()


CONFIG = {
    "name": "baseline",
    "window": {"kind": "expanding", "min_games": 5},
    "recency": {"half_life_days": 30.0, "enabled": True},
    "systems": ["season_avg", "ewm"],
    "seed": 7,
    "note": None,
}


def _log(uri: str, tmp_path: Path, **overrides: object) -> str:
    report = tmp_path / "report.md"
    report.write_text("# report\n")
    kwargs: dict[str, object] = {
        "experiment": "nbaprops-backtest",
        "run_name": "baseline-2024",
        "params": CONFIG,
        "metrics": {"mae": 4.25, "hit_rate": 0.53, "roi": None, "log_loss": math.nan},
        "tags": {"git_sha": "abc123", "spec": "baseline"},
        "artefacts": [report, tmp_path / "missing.json"],
    }
    kwargs.update(overrides)
    return log_run(uri, **kwargs)  # type: ignore[arg-type]


def test_logged_run_reads_back(uri: str, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    plots.mkdir()
    plots.joinpath("calibration.png").write_bytes(b"\x89PNG fake")
    report = tmp_path / "report.md"
    report.write_text("# report\n")

    run_id = _log(
        uri,
        tmp_path,
        metrics={"mae": 4.25, "hit_rate": 0.53, "roi": None, "log_loss": math.nan, "x": math.inf},
        artefacts=[report, plots, tmp_path / "missing.json"],
    )

    client = MlflowClient(uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "baseline-2024"
    assert client.get_experiment(run.info.experiment_id).name == "nbaprops-backtest"
    assert run.data.params == {
        "name": "baseline",
        "window.kind": "expanding",
        "window.min_games": "5",
        "recency.half_life_days": "30.0",
        "recency.enabled": "True",
        "systems": json.dumps(["season_avg", "ewm"]),
        "seed": "7",
        "note": "None",
    }
    # None, NaN and inf are dropped, never logged as NaN.
    assert run.data.metrics == {"mae": 4.25, "hit_rate": 0.53}
    assert run.data.tags["git_sha"] == "abc123"
    assert run.data.tags["spec"] == "baseline"
    listed = {a.path for a in client.list_artifacts(run_id)}
    assert listed == {"report.md", "plots"}
    assert [a.path for a in client.list_artifacts(run_id, "plots")] == ["plots/calibration.png"]


def test_many_and_long_params_are_chunked_and_truncated(uri: str, tmp_path: Path) -> None:
    params = {"grid": {f"p{i:03d}": i for i in range(250)}, "blob": "x" * (MAX_PARAM_VALUE + 50)}
    run_id = _log(uri, tmp_path, params=params)
    logged = MlflowClient(uri).get_run(run_id).data.params
    assert len(logged) == 251
    assert logged["grid.p249"] == "249"
    assert logged["blob"] == "x" * MAX_PARAM_VALUE


def test_two_runs_share_one_experiment(uri: str, tmp_path: Path) -> None:
    first = _log(uri, tmp_path, run_name="a")
    second = _log(uri, tmp_path, run_name="b")
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("nbaprops-backtest")
    assert experiment is not None
    assert first != second
    ids = {client.get_run(r).info.experiment_id for r in (first, second)}
    assert ids == {experiment.experiment_id}
    runs = client.search_runs([experiment.experiment_id])
    assert {r.info.run_id for r in runs} == {first, second}


def test_failure_midway_marks_run_failed(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: MlflowClient, run_id: str, local_path: str, **_: object) -> None:
        raise MlflowException("disk full")

    monkeypatch.setattr(MlflowClient, "log_artifact", broken)
    with pytest.raises(NbapropsError, match="disk full") as err:
        _log(uri, tmp_path)
    assert "\n" not in str(err.value)
    assert uri in str(err.value)

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("nbaprops-backtest")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED"


def test_missing_mlflow_names_the_extra(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(NbapropsError) as err:
        _log(uri, tmp_path)
    assert str(err.value) == (
        "NBAPROPS_MLFLOW_TRACKING_URI is set but MLflow is not installed: "
        "pip install 'nbaprops[mlflow]'"
    )
    assert not Path(tmp_path / "mlruns").exists()


def test_bad_uri_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(NbapropsError, match=r"notascheme://x") as err:
        _log("notascheme://x", tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "Traceback" not in message


def test_flatten_params_shapes() -> None:
    assert flatten_params({"a": {"b": {"c": 1}}, "e": {}, "l": [1, {"k": 2}]}) == {
        "a.b.c": "1",
        "e": "{}",
        "l": '[1, {"k": 2}]',
    }
