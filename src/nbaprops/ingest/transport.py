"""The only module that talks HTTP: polite, retrying JSON GETs for the live sources.

Clients in ``nbaprops.ingest.live`` depend on the ``Transport`` protocol, so tests
replay recorded responses through a fake and never open a socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

import requests

from nbaprops.core.errors import LiveSourceError
from nbaprops.core.settings import Http

# Statuses worth another try: rate limiting and server-side failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Query parameters whose values must never appear in an error message.
SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "token", "access_token"})
# Failures of the connection itself, as opposed to a request the server refused.
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_MAX_DETAIL = 200
_MAX_RETRY_AFTER_S = 60.0


class HttpStatusError(LiveSourceError):
    """The server refused a request with this HTTP status (not retried)."""

    def __init__(self, url: str, status: int, detail: str = "") -> None:
        self.url = url
        self.status = status
        super().__init__(f"GET {url} failed: {detail or f'HTTP {status}'}")


class FileTransport(Protocol):
    """Anything that GETs a URL and returns the body's bytes (the injury report PDFs);
    a refused request raises ``HttpStatusError``."""

    def get_bytes(self, url: str, headers: Mapping[str, str] | None = None) -> bytes: ...


class Transport(Protocol):
    """Anything that GETs a URL and returns its JSON payload with the response headers."""

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, dict[str, str]]: ...


class HttpTransport:
    """``requests``-based transport with a polite delay and exponential-backoff retries.

    ``retries`` counts extra attempts after the first. Errors are one readable line
    with secret query values removed, so a key never reaches a log or a terminal.
    """

    def __init__(
        self,
        *,
        retries: int = 3,
        timeout_s: float = 30.0,
        delay_s: float = 0.0,
        backoff_s: float = 1.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retries = retries
        self.timeout_s = timeout_s
        self.delay_s = delay_s
        self.backoff_s = backoff_s
        self.session = session
        self.sleep = sleep
        self.clock = clock
        self._last_request_at: float | None = None

    @classmethod
    def from_settings(cls, http: Http, *, delay_s: float = 0.0) -> HttpTransport:
        """A transport using the configured retries and timeout."""
        return cls(retries=http.http_retries, timeout_s=http.http_timeout_s, delay_s=delay_s)

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, dict[str, str]]:
        """GET ``url`` and decode JSON, retrying transient failures."""
        response = self._get(url, params, headers)
        try:
            payload = response.json()
        except ValueError:
            raise LiveSourceError(
                f"GET {url} returned a response that is not JSON (HTTP {response.status_code})"
            ) from None
        return payload, {k.lower(): v for k, v in response.headers.items()}

    def get_bytes(self, url: str, headers: Mapping[str, str] | None = None) -> bytes:
        """GET ``url`` and return the body as received (a file, e.g. a report PDF)."""
        return self._get(url, {}, headers).content

    def _get(
        self, url: str, params: Mapping[str, Any], headers: Mapping[str, str] | None
    ) -> requests.Response:
        """One GET with retries on transient failures; a refusal raises ``HttpStatusError``."""
        secrets = [str(v) for k, v in params.items() if k.lower() in SECRET_PARAMS and v]
        attempts = max(self.retries, 0) + 1
        problem = "no attempt made"
        wait_hint: float | None = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(max(self.backoff_s * 2 ** (attempt - 1), wait_hint or 0.0))
                wait_hint = None
            self._wait_politely()
            try:
                response = self._session().get(
                    url, params=dict(params), headers=dict(headers or {}), timeout=self.timeout_s
                )
            except _TRANSIENT_ERRORS as exc:
                problem = f"{type(exc).__name__}: {_first_line(str(exc))}"
                continue
            except requests.RequestException as exc:
                detail = _redact(f"{type(exc).__name__}: {_first_line(str(exc))}", secrets)
                raise LiveSourceError(f"GET {url} failed: {detail}") from None
            if response.status_code in RETRY_STATUSES:
                problem = _status_text(response)
                wait_hint = _retry_after(response)
                continue
            if response.status_code >= 400:
                detail = _redact(_status_text(response), secrets)
                raise HttpStatusError(url, response.status_code, detail)
            return response
        detail = _redact(problem, secrets)
        raise LiveSourceError(f"GET {url} failed after {attempts} attempts: {detail}")

    def _session(self) -> requests.Session:
        if self.session is None:
            self.session = requests.Session()
        return self.session

    def _wait_politely(self) -> None:
        """Keep ``delay_s`` between this transport's requests: stats.nba.com blocks bursts."""
        now = self.clock()
        if self._last_request_at is not None and self.delay_s > 0:
            remaining = self.delay_s - (now - self._last_request_at)
            if remaining > 0:
                self.sleep(remaining)
                now = self.clock()
        self._last_request_at = now


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _redact(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _status_text(response: requests.Response) -> str:
    """``HTTP 401 Unauthorized: <the API's own message>`` in one line."""
    text = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("Message") or "")
    if message:
        text += f": {_first_line(message)[:_MAX_DETAIL]}"
    return text


def _retry_after(response: requests.Response) -> float | None:
    """Seconds the server asked us to wait (numeric Retry-After only), capped."""
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), _MAX_RETRY_AFTER_S) if value else None
    except ValueError:
        return None
