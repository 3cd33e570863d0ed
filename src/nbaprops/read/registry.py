"""Experiments and models as the registries hold them: runs with their figures and
events, versions with their aliases and promotion history; never an artefact path.
"""

from __future__ import annotations

from typing import Any

import duckdb

from nbaprops.core.errors import NbapropsError
from nbaprops.experiments.registry import get_run, list_runs
from nbaprops.models.registry import alias_history, list_versions
from nbaprops.read.params import BadRequestError, NotFoundError, scrub


def experiments(
    con: duckdb.DuckDBPyConnection,
    status: str | None = None,
    tag: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    try:
        return scrub(list_runs(con, status=status, tag=tag, limit=limit))
    except NbapropsError as exc:
        raise BadRequestError(str(exc)) from None


def experiment(con: duckdb.DuckDBPyConnection, ref: str) -> dict[str, Any]:
    """One run: config, figures, events; artefacts by name only (never a path)."""
    ref = ref.strip()
    if len(ref) < 4:
        raise BadRequestError(f"experiment id {ref!r} is too short; give at least 4 characters")
    found = con.execute(
        "SELECT count(*) FROM experiments.run WHERE starts_with(experiment_id, ?)", [ref]
    ).fetchone()
    if not found or not found[0]:
        raise NotFoundError(f"no experiment run {ref!r}")
    try:
        run = get_run(con, ref)
    except NbapropsError as exc:
        raise BadRequestError(str(exc)) from None
    run["artefacts"] = sorted((run.get("artefacts") or {}).keys())
    return scrub(run)


def models(con: duckdb.DuckDBPyConnection, system: str | None = None) -> dict[str, Any]:
    """The registry: every version with its aliases and figures, and each aliased
    system's promotion history (no artefact paths, no calibration internals)."""
    versions = []
    for v in list_versions(con, system):
        out = v.to_dict()
        for key in ("artefact_dir", "calibration", "feature_columns"):
            out.pop(key, None)
        out["n_features"] = len(v.feature_columns)
        versions.append(out)
    aliased = sorted({v["system_id"] for v in versions if v["aliases"]})
    return scrub(
        {
            "versions": versions,
            "history": {s: alias_history(con, s) for s in aliased},
        }
    )
