"""Optional MLflow logging of finished experiment runs.

The local run folder stays the source of truth; MLflow is a mirror for people who
already browse runs there. mlflow is imported lazily so the core install never needs it,
and every MLflow failure becomes a one-line NbapropsError the CLI can print.
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from nbaprops.core.errors import NbapropsError

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

MISSING_MLFLOW = (
    "NBAPROPS_MLFLOW_TRACKING_URI is set but MLflow is not installed: "
    "pip install 'nbaprops[mlflow]'"
)
# MLflow's documented limits (mlflow.utils.validation): longer values or bigger batches
# are rejected by the server, so trim and chunk here rather than fail the whole run.
MAX_PARAM_VALUE = 6000
MAX_BATCH = 100

_T = TypeVar("_T")


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> flat ``{"window.kind": "..."}``, since MLflow params are flat strings.

    Lists become JSON so they read back unambiguously; values longer than MLflow accepts
    are truncated instead of failing the run.
    """
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
            continue
        if isinstance(value, Mapping | list | tuple):
            text = json.dumps(value, default=str, sort_keys=True)
        else:
            text = str(value)
        flat[name] = text[:MAX_PARAM_VALUE]
    return flat


def finite_metrics(metrics: Mapping[str, float | None]) -> dict[str, float]:
    """Only real numbers: MLflow would store NaN and plot it as a gap or a lie."""
    kept: dict[str, float] = {}
    for key, value in metrics.items():
        if value is None:
            continue
        number = float(value)
        if math.isfinite(number):
            kept[key] = number
    return kept


def _chunks(items: Sequence[_T], size: int = MAX_BATCH) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _experiment_id(client: MlflowClient, experiment: str) -> str:
    """Reuse the named experiment so repeated runs compare side by side; create it once."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(experiment)
    if found is None:
        try:
            return client.create_experiment(experiment)
        except MlflowException:
            # Another process may have created it between the lookup and the create.
            found = client.get_experiment_by_name(experiment)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        raise NbapropsError(
            f"MLflow experiment {experiment!r} is deleted: restore it or choose another name"
        )
    return found.experiment_id


def log_run(
    uri: str,
    *,
    experiment: str,
    run_name: str,
    params: dict[str, Any],
    metrics: dict[str, float | None],
    tags: dict[str, str],
    artefacts: list[pathlib.Path],
) -> str:
    """Log one finished run to the MLflow store at ``uri``; return the MLflow run id.

    Uses an explicit MlflowClient, never mlflow's global tracking URI, so callers and
    tests in the same process cannot leak state into each other. A failure after the
    run exists marks it FAILED, so a half-logged run is never mistaken for a result.
    """
    try:
        # Import the top package first: a cached mlflow.tracking would hide a missing mlflow.
        import mlflow  # noqa: F401
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise NbapropsError(MISSING_MLFLOW) from exc

    def fail(exc: BaseException) -> NbapropsError:
        return NbapropsError(f"MLflow tracking at {uri} failed: {_one_line(exc)}")

    # Prepare everything before the run exists, so a bad input cannot leave a dangling run.
    flat_params = flatten_params(params)
    kept_metrics = finite_metrics(metrics)

    try:
        client = MlflowClient(tracking_uri=uri)
        experiment_id = _experiment_id(client, experiment)
        run_id: str = client.create_run(experiment_id, run_name=run_name).info.run_id
    except (MlflowException, OSError) as exc:
        raise fail(exc) from exc

    try:
        stamp = int(time.time() * 1000)
        param_items = [Param(k, v) for k, v in flat_params.items()]
        metric_items = [Metric(k, v, stamp, 0) for k, v in kept_metrics.items()]
        tag_items = [RunTag(k, str(v)) for k, v in tags.items()]
        for batch in _chunks(param_items):
            client.log_batch(run_id, params=batch)
        for batch in _chunks(metric_items):
            client.log_batch(run_id, metrics=batch)
        for batch in _chunks(tag_items):
            client.log_batch(run_id, tags=batch)
        for path in artefacts:
            if path.is_dir():
                client.log_artifacts(run_id, str(path), artifact_path=path.name)
            elif path.is_file():
                client.log_artifact(run_id, str(path))
        client.set_terminated(run_id, status="FINISHED")
    except BaseException as exc:
        try:
            client.set_terminated(run_id, status="FAILED")
        except Exception as mark_exc:  # the store is already failing; keep the first error
            exc.add_note(f"could not mark MLflow run {run_id} FAILED: {_one_line(mark_exc)}")
        if isinstance(exc, MlflowException | OSError):
            raise fail(exc) from exc
        raise
    return run_id
