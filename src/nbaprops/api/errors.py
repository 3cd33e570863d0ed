"""One table from exception to HTTP status, read by the JSON API and the dashboard alike.

``STATUS`` is the only place an error's status is decided: bad input 400, a missing
thing 404, an invalid parameter 422, nothing readable yet (no published snapshot) 503.
The JSON API answers every error of the table with one line in ``detail``
(``install``); a dashboard page shows the same line and status on its error page
(``status_of``). A value the client sent is echoed cut to ~100 characters
(``read.params.clip_echoes``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nbaprops.api.reader import UnavailableError
from nbaprops.read.params import BadRequestError, NotFoundError, clip_echoes

STATUS: dict[type[Exception], int] = {
    BadRequestError: 400,
    NotFoundError: 404,
    RequestValidationError: 422,
    UnavailableError: 503,
}
# The status of any other project error a page catches (it was the request's fault).
OTHER_STATUS = 400


def status_of(exc: Exception) -> int:
    """The status ``STATUS`` gives an exception (its class or a parent), else 400."""
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return status
    return OTHER_STATUS


def sent_values(request: Request) -> list[str]:
    """Every query and path parameter value of a request (what an error may echo)."""
    return [v for _, v in request.query_params.multi_items()] + [
        str(v) for v in request.path_params.values()
    ]


def one_line(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: ``where: what; ...``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}".strip(": "))
    return "; ".join(parts) or "invalid request"


def detail_of(request: Request, exc: Exception) -> str:
    """The error in one line, every long value the client sent cut short."""
    text = one_line(exc) if isinstance(exc, RequestValidationError) else str(exc)
    return clip_echoes(text, sent_values(request))


async def json_error(request: Request, exc: Exception) -> JSONResponse:
    """The JSON answer to an error of the table: ``{"detail": "<one line>"}``."""
    return JSONResponse({"detail": detail_of(request, exc)}, status_code=status_of(exc))


def install(app: FastAPI) -> None:
    """Answer every exception of ``STATUS`` with ``json_error`` (pages included)."""
    for kind in STATUS:
        app.add_exception_handler(kind, json_error)
