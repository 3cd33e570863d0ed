"""What a route receives besides its parameters: a read-only cursor on the published
snapshot, the app's settings, the shared date parameter.

The app (``api.app.create_app``) keeps its ``SnapshotReader`` and ``Settings`` on
``app.state``; these dependencies hand them to the routes, so a route module holds no
state of its own. Without a published snapshot the cursor is ``UnavailableError``
(503, ``api.errors``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
from fastapi import Depends, Query, Request

from nbaprops.api.reader import SnapshotReader
from nbaprops.core.settings import Settings


@dataclass(frozen=True)
class Read:
    """One request's read-only cursor and where it reads (the snapshot)."""

    con: duckdb.DuckDBPyConnection
    source: str


@dataclass(frozen=True)
class Snap:
    """A page's read-only cursor and the key of the snapshot it reads."""

    con: duckdb.DuckDBPyConnection
    key: Hashable | None


def reader_of(request: Request) -> SnapshotReader:
    reader: SnapshotReader = request.app.state.reader
    return reader


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def read(request: Request) -> Iterator[Read]:
    with reader_of(request).cursor() as (cur, where):
        yield Read(cur, where)


def snap(request: Request) -> Iterator[Snap]:
    with reader_of(request).keyed_cursor() as (cur, _, key):
        yield Snap(cur, key)


Con: Any = Depends(read)
SnapCon: Any = Depends(snap)
AppSettings: Any = Depends(settings_of)
DateQ: Any = Query(
    None,
    description="Game date, YYYY-MM-DD, or today / yesterday / tomorrow (US/Eastern) "
    "(default: the latest predicted).",
)
MarketQ: Any = Query(
    "points",
    max_length=40,
    description="The market: points, rebounds, assists, threes, pra, pr, pa or ra "
    "(default points; one market per answer, never mixed).",
)
