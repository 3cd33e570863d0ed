"""``nbaprops serve``: the read-only HTTP API (and, later, the dashboard) on one port."""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from nbaprops.cli.common import DbOpt, console, settings_for, user_errors
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; anything else is reachable from outside."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: Settings) -> None:
    """Binding anything but loopback needs NBAPROPS_API_TOKEN: refuse to start without."""
    if is_loopback(host):
        return
    token = settings.api.api_token.get_secret_value() if settings.api.api_token else ""
    if not token.strip():
        raise NbapropsError(
            f"refusing to serve on {host} without an API token: set NBAPROPS_API_TOKEN "
            "(clients send `Authorization: Bearer <token>`), or bind 127.0.0.1"
        )


@user_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; non-loopback needs NBAPROPS_API_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    db: DbOpt = None,
    workers: Annotated[
        int, typer.Option(min=1, max=32, help="Server processes (each caches on its own).")
    ] = 1,
) -> None:
    """Serve the read-only HTTP API over the warehouse's published snapshot."""
    settings = settings_for(db)
    check_bind(host, settings)
    import uvicorn

    from nbaprops.api.app import create_app

    app = create_app(settings) if workers == 1 else None  # workers build their own
    auth = "token required" if settings.api.api_token else "no token: loopback only"
    console.print(
        f"serving {settings.paths.db.name} on http://{host}:{port} ({auth}); "
        "dashboard at /, OpenAPI schema at /openapi.json"
        + (f"; {workers} workers" if workers > 1 else ""),
        highlight=False,
    )
    if app is None:  # worker processes build their app from the environment
        os.environ["NBAPROPS_DB"] = str(settings.paths.db.resolve())
        uvicorn.run(
            "nbaprops.api.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
        return
    uvicorn.run(app, host=host, port=port, log_level="warning")
