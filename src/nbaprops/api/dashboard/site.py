"""Mounting the dashboard on an app: the static assets, the page cache, the page routers
(left out of the OpenAPI schema)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from nbaprops.api.cache import SnapshotCache
from nbaprops.api.dashboard import health, player, registry, render, tonight, track


def add_dashboard(app: FastAPI) -> None:
    """Mount the static assets and the pages on ``app``."""
    app.mount("/static", StaticFiles(directory=str(render.API_DIR / "static")), name="static")
    app.state.page_cache = SnapshotCache(render.PAGE_CACHE_SIZE)
    for pages in (tonight, track, player, registry, health):
        app.include_router(pages.router)
