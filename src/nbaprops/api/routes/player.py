"""``/players/{player_id}``: a player's last games and predictions with their results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query

from nbaprops.api.deps import Con, MarketQ, Read
from nbaprops.api.schemas import ERRORS, Player
from nbaprops.read import params as read_params
from nbaprops.read import player as read_player

router = APIRouter()


@router.get("/players/{player_id}", response_model=Player, responses=ERRORS)
def player(
    player_id: int = Path(..., ge=1, le=2**62, description="NBA player id."),
    date: str | None = Query(None, description="Games on or before this date."),
    market: str = MarketQ,
    r: Read = Con,
) -> dict[str, Any]:
    """The last 20 games (points, line) and the predictions of one market with their
    results."""
    market = read_params.check_market(market)
    return read_player.player(r.con, player_id, read_params.optional_day(date), market=market)
