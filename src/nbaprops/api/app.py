"""The HTTP API: the app factory, read-only JSON over ``nbaprops.read`` (the CLI calls the
same) and the dashboard's pages.

Every endpoint reads the published snapshot of the warehouse (``api.reader``), never
the live file, so the daily job is never blocked; without a snapshot every endpoint is
a 503 saying which command publishes one. Bad input is a 4xx with one line in
``detail`` (a value the client sent is echoed cut to ~100 characters; the statuses are
``api.errors.STATUS``); with a token configured, every request must carry
``Authorization: Bearer <token>`` (compared in constant time).

The routes live in ``api.routes`` (JSON, one router per concern, response models in
``api.schemas``) and ``api.dashboard`` (pages); this module assembles them.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from nbaprops.api import errors
from nbaprops.api.cache import SnapshotCache
from nbaprops.api.dashboard.site import add_dashboard
from nbaprops.api.reader import SnapshotReader
from nbaprops.api.routes import monitoring, player, record, registry, slate, status
from nbaprops.api.routes.slate import PREDICTIONS_CACHE_SIZE
from nbaprops.core.settings import Settings, get_settings

# The JSON routers in the order the schema lists their paths.
ROUTERS = (status, slate, player, record, registry, monitoring)


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


def create_app(settings: Settings, *, reader: SnapshotReader | None = None) -> FastAPI:
    """The API over ``settings.paths.db``'s published snapshot; nothing here writes."""
    reader = reader or SnapshotReader(settings.paths.db)
    token = (
        settings.api.api_token.get_secret_value().strip() if settings.api.api_token else ""
    ) or None
    app = FastAPI(
        title="nbaprops",
        summary="Honest NBA player prop predictions in every market (read-only).",
        version="0.1.0",
        # Swagger UI and ReDoc load their scripts from a CDN: nothing here may need the
        # internet, so only the schema itself is served (/openapi.json).
        docs_url=None,
        redoc_url=None,
    )
    app.state.reader = reader
    app.state.settings = settings
    app.state.predictions_cache = SnapshotCache(PREDICTIONS_CACHE_SIZE)
    app.add_middleware(TokenGuard, token=token)
    errors.install(app)
    for routes in ROUTERS:
        app.include_router(routes.router)
    add_dashboard(app)
    return app


def app_from_environment() -> FastAPI:
    """``create_app`` on the settings in the environment (``serve --workers`` processes)."""
    return create_app(get_settings())
