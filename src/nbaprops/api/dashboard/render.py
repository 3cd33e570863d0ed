"""Rendering a dashboard page: the templates, the error page, and the page cache.

A page rendered from a published snapshot is served from the cache until the next
snapshot (``cached``); pages of the live warehouse, and error pages, are never kept.
An error page shows the status of ``api.errors.STATUS`` and its one line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from nbaprops.api.cache import CachedBody, SnapshotCache
from nbaprops.api.dashboard.format import FILTERS
from nbaprops.api.deps import Snap, reader_of
from nbaprops.api.errors import detail_of, status_of

API_DIR = Path(__file__).parent.parent  # templates/ and static/ live beside the API
PAGE_CACHE_SIZE = 64  # rendered pages kept per process (of the current snapshot)

templates = Jinja2Templates(directory=str(API_DIR / "templates"))
templates.env.filters.update(FILTERS)


def page_cache(request: Request) -> SnapshotCache:
    """The app's cache of rendered pages (``app.state.page_cache``)."""
    cache: SnapshotCache = request.app.state.page_cache
    return cache


def cached(build: Callable[..., HTMLResponse]) -> Callable[..., Response]:
    """Serve a page rendered from a published snapshot from the cache until the
    next snapshot (pages of the live warehouse, and errors, are never kept)."""

    @functools.wraps(build)
    def serve(**kwargs: Any) -> Response:
        request: Request = kwargs["request"]
        snap: Snap = kwargs["snap"]
        if snap.key is None:
            return build(**kwargs)

        def render() -> CachedBody:
            rendered = build(**kwargs)
            return CachedBody.of(
                bytes(rendered.body), "text/html; charset=utf-8", rendered.status_code
            )

        asked = (request.url.path, tuple(sorted(request.query_params.multi_items())))
        entry = page_cache(request).fetch(
            snap.key, asked, render, keep=lambda e: e.status_code == 200
        )
        return entry.response(request.headers.get("accept-encoding"))

    return serve


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"warehouse": reader_of(request).warehouse_name, **context},
        status_code=status,
    )


def error_page(request: Request, exc: Exception, nav: str) -> HTMLResponse:
    """The error page: the status ``api.errors`` gives ``exc`` and its one line."""
    status = status_of(exc)
    return page(
        request,
        "error.html",
        {"nav": nav, "message": detail_of(request, exc), "status": status},
        status,
    )
