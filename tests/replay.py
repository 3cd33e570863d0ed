"""One replaying transport for the live clients' tests: recorded payloads, no network.

It stands in for ``nbaprops.ingest.transport.HttpTransport`` (``get_json``): ``route``
chooses the recorded payload for a URL and its parameters, ``headers`` are the response
headers it answers with (The Odds API's credits), and every request is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    url: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Replay:
    """Replays recorded payloads chosen by ``route``; records every request."""

    route: Callable[[str, Mapping[str, Any]], Any]
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def get_json(
        self, url: str, params: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> tuple[Any, dict[str, str]]:
        self.requests.append(Request(url, dict(params), dict(headers or {})))
        return copy.deepcopy(self.route(url, params)), dict(self.headers)
