"""``/experiments``, ``/experiments/{experiment_id}`` and ``/models``: the registries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query

from nbaprops.api.deps import Con, Read
from nbaprops.api.schemas import ERRORS, Experiment, Experiments, Models
from nbaprops.read import registry as read_registry

router = APIRouter()


@router.get("/experiments", response_model=Experiments, responses=ERRORS)
def experiments(
    status: str | None = Query(None, description="Only runs with this status."),
    tag: str | None = Query(None, max_length=200, description="Only runs with this tag."),
    limit: int = Query(50, ge=1, le=1000),
    r: Read = Con,
) -> dict[str, Any]:
    """Recorded experiment runs, newest first, with headline figures and N."""
    return {"runs": read_registry.experiments(r.con, status, tag, limit)}


@router.get("/experiments/{experiment_id}", response_model=Experiment, responses=ERRORS)
def experiment(
    experiment_id: str = Path(..., max_length=64, description="Run id or unique prefix."),
    r: Read = Con,
) -> dict[str, Any]:
    """One run: config, figures, events, artefact names."""
    return read_registry.experiment(r.con, experiment_id)


@router.get("/models", response_model=Models, responses=ERRORS)
def models(r: Read = Con) -> dict[str, Any]:
    """The model registry: versions, aliases and promotion history."""
    return read_registry.models(r.con)
