"""``/grading``: the graded figures of a period per system and line kind."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from nbaprops.api.deps import Con, MarketQ, Read
from nbaprops.api.schemas import ERRORS, Grading
from nbaprops.read import params as read_params
from nbaprops.read import track as read_track

router = APIRouter()


@router.get("/grading", response_model=Grading, responses=ERRORS)
def grading(
    start: str = Query(..., description="First date, YYYY-MM-DD."),
    end: str = Query(..., description=f"Last date (at most {read_params.MAX_RANGE_DAYS} days)."),
    system: str | None = Query(None, description="Only this system."),
    market: str = MarketQ,
    r: Read = Con,
) -> dict[str, Any]:
    """Hit rate with N and 95% interval, MAE vs the line's, ROI, CLV per system, in one
    market (figures never mix markets)."""
    market = read_params.check_market(market)
    return read_track.grading(
        r.con,
        read_params.parse_day(start, "start"),
        read_params.parse_day(end, "end"),
        system,
        market=market,
    )
