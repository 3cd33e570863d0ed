"""Responses of a published snapshot, serialised once and served many times.

A published snapshot never changes (a new one replaces it under another key, see
``api.reader``), so a response computed from it stays valid until the next one is
published. The JSON endpoints and the dashboard's pages keep theirs here, keyed by
``(snapshot key, *request)``.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from starlette.responses import Response

GZIP_MIN_BYTES = 1024  # smaller bodies are served as they are


GZIP_MIN_BYTES = 1024  # smaller bodies are served as they are


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (``gzip`` or ``*``, q > 0)."""
    for part in (header or "").split(","):
        name, *params = (x.strip() for x in part.split(";"))
        if name.lower() not in ("gzip", "*"):
            continue
        q = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            return float(q) > 0
        except ValueError:
            return False
    return False


@dataclass(frozen=True)
class CachedBody:
    """One response body as it is served, and its gzip (compressed once)."""

    body: bytes
    gzipped: bytes | None
    media_type: str = "application/json"
    status_code: int = 200

    @classmethod
    def of(
        cls, body: bytes, media_type: str = "application/json", status_code: int = 200
    ) -> CachedBody:
        small = len(body) < GZIP_MIN_BYTES
        gzipped = None if small else gzip.compress(body, compresslevel=6, mtime=0)
        return cls(body, gzipped, media_type, status_code)

    def response(self, accept_encoding: str | None) -> Response:
        if self.gzipped is None:
            return Response(self.body, self.status_code, media_type=self.media_type)
        if accepts_gzip(accept_encoding):
            return Response(
                self.gzipped,
                self.status_code,
                media_type=self.media_type,
                headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return Response(
            self.body,
            self.status_code,
            media_type=self.media_type,
            headers={"Vary": "Accept-Encoding"},
        )


class SnapshotCache:
    """A small LRU of serialised responses keyed by ``(snapshot key, *request)``.

    A published snapshot never changes (a new one replaces it with another key), so an
    entry is valid as long as its snapshot is the one published; entries of any other
    snapshot are dropped when one of a new snapshot is stored. Concurrent misses of one
    request wait for the first (striped locks) instead of all computing it."""

    def __init__(self, size: int, stripes: int = 16) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Hashable, ...], CachedBody] = OrderedDict()
        self._mutex = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(stripes)]
        self._snapshot: Hashable = None

    def get(self, key: tuple[Hashable, ...]) -> CachedBody | None:
        with self._mutex:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[Hashable, ...], entry: CachedBody) -> None:
        with self._mutex:
            if key[0] != self._snapshot:
                for stale in [k for k in self._entries if k[0] != key[0]]:
                    del self._entries[stale]
                self._snapshot = key[0]
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def fetch(
        self,
        snapshot: Hashable | None,
        request: tuple[Hashable, ...],
        compute: Callable[[], CachedBody],
        keep: Callable[[CachedBody], bool] = lambda _: True,
    ) -> CachedBody:
        """The entry of ``request`` on ``snapshot``, computed once (concurrent misses wait
        for the first); nothing is kept without a snapshot (the live warehouse) or when
        ``keep`` refuses the entry (an error page, say)."""
        if snapshot is None:
            return compute()
        with self.lock_for(request):
            key = (snapshot, *request)
            entry = self.get(key)
            if entry is None:
                entry = compute()
                if keep(entry):
                    self.put(key, entry)
            return entry

    def lock_for(self, request: Hashable) -> threading.Lock:
        return self._stripes[hash(request) % len(self._stripes)]

    def __len__(self) -> int:
        return len(self._entries)
