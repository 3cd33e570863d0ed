"""The HTTP API: read-only JSON over ``nbaprops.api.queries`` (the CLI calls the same).

Every endpoint reads the published snapshot of the warehouse (``api.reader``), never
the live file, so the daily job is never blocked. Bad input is a 4xx with one line in
``detail``; with a token configured, every request must carry
``Authorization: Bearer <token>`` (compared in constant time).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, TypeAdapter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from nbaprops.api import queries as q
from nbaprops.api.cache import CachedBody, SnapshotCache
from nbaprops.api.dashboard import add_dashboard
from nbaprops.api.reader import SnapshotReader, UnavailableError
from nbaprops.core.metrics import VersusMarket
from nbaprops.core.settings import Settings, get_settings

# --- response models ------------------------------------------------------------------


class _Open(BaseModel):
    """A row with its documented fields first; further columns pass through as they are."""

    model_config = ConfigDict(extra="allow")


class PhaseRecord(_Open):
    run_date: str | None
    phase: str
    status: str
    rows: int | None
    error: str | None


class AliasRecord(_Open):
    system_id: str
    alias: str
    version: int


class Freshness(BaseModel):
    last_box_score_date: date | None
    last_line_snapshot: datetime | None
    last_prediction_date: date | None
    last_graded_date: date | None


class Health(BaseModel):
    status: str
    warehouse: str
    source: str
    schema_version: int
    freshness: Freshness
    phases: list[PhaseRecord]
    models: list[AliasRecord]


class Prediction(BaseModel):
    player_id: int
    player_name: str
    team: str
    game_id: str
    system_id: str
    model_version: int
    alias: str | None
    line_source: str
    line_kind: str | None
    line: float | None
    n_books: int | None
    over_price: float | None
    under_price: float | None
    estimated_line: float | None
    median: float
    mean: float
    p_over: float | None
    p_under: float | None
    p_push: float | None
    edge: float | None
    ev: float | None
    recommendation: str
    confidence: str
    bet_book: str | None
    bet_line: float | None
    bet_price: float | None
    in_sample: bool


class Predictions(BaseModel):
    date: date
    system: str | None
    alias: str | None
    n: int
    predictions: list[Prediction]


class Pick(_Open):
    system_id: str
    player_id: int
    player_name: str
    team: str
    recommendation: str
    line: float | None
    bet_book: str | None
    bet_line: float | None
    bet_price: float | None
    p_win: float
    edge: float
    ev: float
    stake_flat: float
    stake_kelly: float
    observation: str | None


class Picks(BaseModel):
    date: date
    system: str | None
    kelly_fraction: float
    picks: list[Pick]


class Signal(BaseModel):
    system_id: str
    model_version: int
    n_games: int
    n_bets: int
    over_share: float | None
    n_high_edge: int
    skew: str
    signal: str
    reasons: str


class Signals(BaseModel):
    date: date
    signals: dict[str, Signal]


class PlayerGame(_Open):
    game_id: str
    game_date: str
    team: str
    opponent: str | None
    minutes: float | None
    points: int | None
    line: float | None


class PlayerPrediction(_Open):
    game_date: str
    system_id: str
    model_version: int
    line_source: str
    line: float | None
    median: float
    recommendation: str
    result: str | None
    actual_points: float | None


class Player(BaseModel):
    until: date | None
    player_id: int
    player_name: str
    games: list[PlayerGame]
    predictions: list[PlayerPrediction]


class SideFigures(BaseModel):
    side: str
    bets: int
    hit_rate: float | None
    ci_low: float | None
    ci_high: float | None
    roi_consensus: float | None
    roi_best: float | None
    clv_line: float | None
    clv_n: int


class SystemFigures(BaseModel):
    system: str
    line_kind: str
    n: int
    model_mae: float | None
    line_mae: float | None
    bets: int
    hit_rate: float | None
    ci_low: float | None
    ci_high: float | None
    pushes: int
    voids: int
    roi_consensus: float | None
    roi_best: float | None
    clv_line: float | None
    clv_n: int
    graded_share: float | None
    market: VersusMarket | None = None  # the market on the same rows
    by_side: list[SideFigures] = []  # OVER and UNDER bets apart


class EstimatedFigures(BaseModel):
    system: str
    n: int
    model_mae: float | None
    estimated_line_mae: float | None


class Completeness(BaseModel):
    system_id: str
    predicted: int
    graded: int
    void: int
    missing: int


class Grading(BaseModel):
    start: date
    end: date
    system: str | None
    systems: list[SystemFigures]
    estimated_lines: list[EstimatedFigures]
    completeness: list[Completeness]


class ExperimentRow(_Open):
    experiment_id: str
    name: str
    type: str
    mode: str
    status: str
    primary_system: str | None
    eval_window: str | None
    mae: float | None
    n: int | None
    hit_rate: float | None
    n_bets: int | None


class Experiments(BaseModel):
    runs: list[ExperimentRow]


class Experiment(_Open):
    experiment_id: str
    name: str
    status: str
    artefacts: list[str]
    figures: list[dict[str, Any]]
    events: list[dict[str, Any]]


class ModelVersionOut(_Open):
    system_id: str
    version: int
    ref: str
    aliases: list[str]
    feature_set: str
    train_start: str | None
    train_end: str
    train_rows: int
    eval_window: str
    metrics: dict[str, Any]
    created_at: str


class Models(BaseModel):
    versions: list[ModelVersionOut]
    history: dict[str, list[dict[str, Any]]]


class DiagnosticRow(_Open):
    system_id: str
    model_version: int | None
    primary_cause: str
    confidence: float
    conditions: list[str]
    factors: list[Any]


class Diagnostics(BaseModel):
    date: date
    diagnostics: list[DiagnosticRow]


class AlertRow(_Open):
    raised_at: str
    game_date: str | None
    severity: str
    source: str
    system_id: str | None
    message: str


class Alerts(BaseModel):
    since: date
    alerts: list[AlertRow]


class ErrorOut(BaseModel):
    detail: str


# --- the app --------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """One request's read-only cursor and where it reads (snapshot or warehouse)."""

    con: duckdb.DuckDBPyConnection
    source: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input (one line)"},
    404: {"model": ErrorOut, "description": "Not found (one line)"},
    422: {"model": ErrorOut, "description": "Invalid parameter (one line)"},
    503: {"model": ErrorOut, "description": "Nothing readable yet (one line)"},
}


def token_ok(expected: str | None, header: str | None) -> bool:
    """No token configured: every request passes; else ``Bearer <token>``, constant time."""
    if not expected:
        return True
    scheme, _, given = (header or "").strip().partition(" ")
    given = given.strip()
    return (
        scheme.lower() == "bearer"
        and bool(given)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


class TokenGuard:
    """Pure ASGI middleware: with a token configured, an HTTP request without the right
    ``Authorization: Bearer <token>`` is answered 401 (``WWW-Authenticate: Bearer``)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.token
            and scope["type"] == "http"
            and not token_ok(self.token, Headers(scope=scope).get("authorization"))
        ):
            response = JSONResponse(
                {"detail": "missing or wrong API token (Authorization: Bearer <token>)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


PREDICTIONS_CACHE_SIZE = 32  # (snapshot, date, system, alias) entries kept
_PREDICTIONS_JSON = TypeAdapter(Predictions)


def _one_line(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}".strip(": "))
    return "; ".join(parts) or "invalid request"


def create_app(settings: Settings, *, reader: SnapshotReader | None = None) -> FastAPI:
    """The API over ``settings.db``'s published snapshot; nothing here writes."""
    reader = reader or SnapshotReader(settings.db)
    token = (settings.api_token.get_secret_value().strip() if settings.api_token else "") or None
    app = FastAPI(
        title="nbaprops",
        summary="Honest NBA player-points prop predictions (read-only).",
        version="0.1.0",
        # Swagger UI and ReDoc load their scripts from a CDN: nothing here may need the
        # internet, so only the schema itself is served (/openapi.json).
        docs_url=None,
        redoc_url=None,
    )
    app.state.reader = reader
    app.state.settings = settings
    app.state.predictions_cache = cache = SnapshotCache(PREDICTIONS_CACHE_SIZE)
    app.add_middleware(TokenGuard, token=token)

    @app.exception_handler(q.BadRequestError)
    async def bad_request(_: Request, exc: q.BadRequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(q.NotFoundError)
    async def not_found(_: Request, exc: q.NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(UnavailableError)
    async def unavailable(_: Request, exc: UnavailableError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    def read() -> Iterator[Read]:
        with reader.cursor() as (cur, where):
            yield Read(cur, where)

    Con = Depends(read)
    DateQ = Query(None, description="Game date, YYYY-MM-DD (default: the latest predicted).")

    @app.get("/health", response_model=Health, responses=ERRORS)
    def health(r: Read = Con) -> dict[str, Any]:
        """Warehouse name (never a path), freshness, last phase records, aliased models."""
        return q.health(r.con, reader.warehouse_name, r.source)

    def predictions_body(date: str | None, system: str | None, alias: str | None) -> CachedBody:
        """Query, validate and serialise exactly as FastAPI does for ``Predictions``;
        cached per snapshot (the default date resolves within that snapshot)."""
        with reader.keyed_cursor() as (con, _, snapshot):

            def compute() -> CachedBody:
                data = q.predictions(con, q.optional_day(date), system, alias)
                return CachedBody.of(
                    _PREDICTIONS_JSON.dump_json(_PREDICTIONS_JSON.validate_python(data))
                )

            return cache.fetch(snapshot, (date, system, alias), compute)

    @app.get("/predictions", response_model=Predictions, responses=ERRORS)
    async def predictions(
        request: Request,
        date: str | None = DateQ,
        system: str | None = Query(None, description="Only this system, e.g. xgboost."),
        alias: str | None = Query(None, description="champion, challenger or shadow."),
    ) -> Response:
        """A date's active predictions with the line, P(over), edge, EV and the bet."""
        snapshot = reader.snapshot_key()
        entry = cache.get((snapshot, date, system, alias)) if snapshot is not None else None
        if entry is None:
            entry = await run_in_threadpool(predictions_body, date, system, alias)
        return entry.response(request.headers.get("accept-encoding"))

    @app.get("/picks", response_model=Picks, responses=ERRORS)
    def picks(date: str | None = DateQ, r: Read = Con) -> dict[str, Any]:
        """The champion's best bets with flat and fractional-Kelly stakes."""
        return q.picks(r.con, settings, q.optional_day(date))

    @app.get("/signal", response_model=Signals, responses=ERRORS)
    def signal(date: str | None = DateQ, r: Read = Con) -> dict[str, Any]:
        """The slate signal (RED / YELLOW / GREEN) of every model that predicted a date."""
        return q.signals(r.con, settings, q.optional_day(date))

    @app.get("/players/{player_id}", response_model=Player, responses=ERRORS)
    def player(
        player_id: int = Path(..., ge=1, le=2**62, description="NBA player id."),
        date: str | None = Query(None, description="Games on or before this date."),
        r: Read = Con,
    ) -> dict[str, Any]:
        """The last 20 games (points, line) and predictions with their results."""
        return q.player(r.con, player_id, q.optional_day(date))

    @app.get("/grading", response_model=Grading, responses=ERRORS)
    def grading(
        start: str = Query(..., description="First date, YYYY-MM-DD."),
        end: str = Query(..., description=f"Last date (at most {q.MAX_RANGE_DAYS} days)."),
        system: str | None = Query(None, description="Only this system."),
        r: Read = Con,
    ) -> dict[str, Any]:
        """Hit rate with N and 95% interval, MAE vs the line's, ROI, CLV per system."""
        return q.grading(r.con, q.parse_day(start, "start"), q.parse_day(end, "end"), system)

    @app.get("/experiments", response_model=Experiments, responses=ERRORS)
    def experiments(
        status: str | None = Query(None, description="Only runs with this status."),
        tag: str | None = Query(None, max_length=200, description="Only runs with this tag."),
        limit: int = Query(50, ge=1, le=1000),
        r: Read = Con,
    ) -> dict[str, Any]:
        """Recorded experiment runs, newest first, with headline figures and N."""
        return {"runs": q.experiments(r.con, status, tag, limit)}

    @app.get("/experiments/{experiment_id}", response_model=Experiment, responses=ERRORS)
    def experiment(
        experiment_id: str = Path(..., max_length=64, description="Run id or unique prefix."),
        r: Read = Con,
    ) -> dict[str, Any]:
        """One run: config, figures, events, artefact names."""
        return q.experiment(r.con, experiment_id)

    @app.get("/models", response_model=Models, responses=ERRORS)
    def models(r: Read = Con) -> dict[str, Any]:
        """The model registry: versions, aliases and promotion history."""
        return q.models(r.con)

    @app.get("/diagnostics", response_model=Diagnostics, responses=ERRORS)
    def diagnostics(
        date: str | None = Query(None, description="Date (default: the latest diagnosed)."),
        r: Read = Con,
    ) -> dict[str, Any]:
        """Stored diagnostics per system with the attributed cause and its factors."""
        return q.diagnostics(r.con, q.optional_day(date))

    @app.get("/alerts", response_model=Alerts, responses=ERRORS)
    def alerts(
        since: str | None = Query(None, description="Raised on or after (default: 7 days ago)."),
        r: Read = Con,
    ) -> dict[str, Any]:
        """Stored alerts (diagnostics, grading) since a date."""
        return q.alerts(r.con, q.optional_day(since, "since"))

    add_dashboard(app, reader, settings)
    return app


def app_from_environment() -> FastAPI:
    """``create_app`` on the settings in the environment (``serve --workers`` processes)."""
    return create_app(get_settings())
