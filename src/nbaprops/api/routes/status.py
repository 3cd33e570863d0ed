"""``/health``: the warehouse's name, freshness, phase records and aliased models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from nbaprops.api.deps import AppSettings, Con, Read, reader_of
from nbaprops.api.schemas import ERRORS, Health
from nbaprops.core.settings import Settings
from nbaprops.read import status as read_status

router = APIRouter()


@router.get("/health", response_model=Health, responses=ERRORS)
def health(request: Request, r: Read = Con, settings: Settings = AppSettings) -> dict[str, Any]:
    """Warehouse name (never a path), freshness, last phase records, aliased models."""
    return read_status.health(r.con, reader_of(request).warehouse_name, r.source, settings)
