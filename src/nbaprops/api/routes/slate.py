"""A date's slate: ``/predictions`` (cached per snapshot), ``/picks``, ``/availability``,
``/bets`` (the ledger of a period) and ``/signal``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import TypeAdapter

from nbaprops.api.cache import CachedBody, SnapshotCache
from nbaprops.api.deps import AppSettings, Con, DateQ, MarketQ, Read, reader_of
from nbaprops.api.reader import SnapshotReader
from nbaprops.api.schemas import ERRORS, Availability, Bets, Picks, Predictions, Signals
from nbaprops.core.settings import Settings
from nbaprops.read import availability as read_availability
from nbaprops.read import params as read_params
from nbaprops.read import picks as read_picks
from nbaprops.read import predictions as read_predictions
from nbaprops.read import status as read_status

PREDICTIONS_CACHE_SIZE = 32  # (snapshot, date, system, alias, market) entries kept
_PREDICTIONS_JSON = TypeAdapter(Predictions)

router = APIRouter()


def predictions_cache(request: Request) -> SnapshotCache:
    """The app's cache of ``/predictions`` bodies (``app.state.predictions_cache``)."""
    cache: SnapshotCache = request.app.state.predictions_cache
    return cache


def predictions_body(
    reader: SnapshotReader,
    cache: SnapshotCache,
    date: str | None,
    system: str | None,
    alias: str | None,
    market: str = "points",
) -> CachedBody:
    """Query, validate and serialise exactly as FastAPI does for ``Predictions``;
    cached per snapshot and market (the default date resolves within that snapshot)."""
    with reader.keyed_cursor() as (con, _, snapshot):

        def compute() -> CachedBody:
            data = read_predictions.predictions(
                con, read_params.optional_day(date), system, alias, market
            )
            return CachedBody.of(
                _PREDICTIONS_JSON.dump_json(_PREDICTIONS_JSON.validate_python(data))
            )

        return cache.fetch(snapshot, (date, system, alias, market), compute)


@router.get("/predictions", response_model=Predictions, responses=ERRORS)
async def predictions(
    request: Request,
    date: str | None = DateQ,
    system: str | None = Query(None, description="Only this system, e.g. xgboost."),
    alias: str | None = Query(None, description="champion, challenger or shadow."),
    market: str = MarketQ,
) -> Response:
    """A date's active predictions of one market with the line, P(over), edge, EV and
    the bet."""
    market = read_params.check_market(market)  # the cache keys the market by its name
    date = read_params.resolved_text(date)  # "today" is cached as the day it means, not the word
    reader, cache = reader_of(request), predictions_cache(request)
    snapshot = reader.snapshot_key()
    key = (snapshot, date, system, alias, market)
    entry = cache.get(key) if snapshot is not None else None
    if entry is None:
        entry = await run_in_threadpool(
            predictions_body, reader, cache, date, system, alias, market
        )
    return entry.response(request.headers.get("accept-encoding"))


@router.get("/picks", response_model=Picks, responses=ERRORS)
def picks(
    date: str | None = DateQ,
    market: str = MarketQ,
    r: Read = Con,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """The champion's picks of one market as recommended: bets (staked, capped) and the
    watchlist (with the reason), each with its record; the champion's record; results
    once graded."""
    market = read_params.check_market(market)
    return read_picks.picks(r.con, settings, read_params.optional_day(date), market)


@router.get("/availability", response_model=Availability, responses=ERRORS)
def availability(
    date: str | None = DateQ,
    team: str | None = Query(None, max_length=10, description="One team (tricode)."),
    r: Read = Con,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """Each game's injury-report statuses at decision time, with the publication time
    of the report used (the latest published by then that lists the game)."""
    day = read_params.optional_day(date) or read_status.latest_prediction_date(r.con)
    return read_availability.availability(r.con, settings, day, team=team)


@router.get("/bets", response_model=Bets, responses=ERRORS)
def bets(
    start: str = Query(..., description="First date, YYYY-MM-DD."),
    end: str = Query(..., description=f"Last date (at most {read_params.MAX_RANGE_DAYS} days)."),
    system: str | None = Query(None, description="Only this system."),
    market: str = MarketQ,
    r: Read = Con,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """The ledger of one market: every bet as placed with its result, running units and
    bankrolls at flat and recommended stakes, and a summary per system."""
    market = read_params.check_market(market)
    return read_picks.bets(
        r.con,
        read_params.parse_day(start, "start"),
        read_params.parse_day(end, "end"),
        system,
        unit_share=settings.betting.unit_share,
        market=market,
    )


@router.get("/signal", response_model=Signals, responses=ERRORS)
def signal(
    date: str | None = DateQ,
    market: str = MarketQ,
    r: Read = Con,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """The slate signal (RED / YELLOW / GREEN) of every model that predicted a date in
    one market (a model of another market is labelled ``system@alias (market)``)."""
    market = read_params.check_market(market)
    return read_predictions.signals(r.con, settings, read_params.optional_day(date), market)
