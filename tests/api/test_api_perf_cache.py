"""The /predictions fast path: serialised bytes cached per published snapshot.

The oracle is a plain FastAPI route with ``response_model=Predictions`` returning the
query's dict (what /predictions did before the cache): the cached bytes must be the
same, a newly published snapshot must be read (not a stale entry), and the token must
still guard every request, cached or not."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.api.cache import SnapshotCache, accepts_gzip
from nbaprops.api.reader import SnapshotReader
from nbaprops.api.schemas import Predictions
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.snapshot import publish_snapshot
from nbaprops.read import params as q
from nbaprops.read.predictions import predictions as read_predictions
from tests.api.conftest import copy_served
from tests.api.served import DAY

pytestmark = [pytest.mark.data, pytest.mark.slow]

IDENTITY = {"Accept-Encoding": "identity"}
QUERIES = (
    "",
    f"?date={DAY}",
    f"?date={DAY}&system=season_average",
    f"?date={DAY}&alias=challenger",
    "?alias=champion",
)


def oracle(settings: Settings, query: str) -> tuple[int, bytes]:
    """The uncached answer: FastAPI validating and serialising the query's dict."""
    reader = SnapshotReader(settings.paths.db)
    app = FastAPI()

    @app.get("/predictions", response_model=Predictions)
    def predictions(
        date: str | None = None, system: str | None = None, alias: str | None = None
    ) -> dict[str, Any]:
        with reader.cursor() as (con, _):
            return read_predictions(con, q.optional_day(date), system, alias)

    try:
        with TestClient(app) as c:
            r = c.get(f"/predictions{query}", headers=IDENTITY)
            return r.status_code, r.content
    finally:
        reader.close()


def cache_of(client: TestClient) -> SnapshotCache:
    return client.app.state.predictions_cache  # type: ignore[attr-defined]


@pytest.mark.parametrize("query", QUERIES)
def test_cached_bytes_are_the_uncached_response(
    client: TestClient, served: Settings, query: str
) -> None:
    status, expected = oracle(served, query)
    assert status == 200
    first = client.get(f"/predictions{query}", headers=IDENTITY)  # computed (or cached)
    again = client.get(f"/predictions{query}", headers=IDENTITY)  # from the cache
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == expected
    assert again.content == expected
    assert int(again.headers["content-length"]) == len(expected)
    assert first.json()["n"] == len(first.json()["predictions"]) > 0
    snapshot = client.app.state.reader.snapshot_key()  # type: ignore[attr-defined]
    params = dict(p.split("=") for p in query.lstrip("?").split("&") if p)
    # the cache keys the market too (by its name; default points)
    key = (
        snapshot,
        params.get("date"),
        params.get("system"),
        params.get("alias"),
        params.get("market", "points"),
    )
    assert cache_of(client).get(key) is not None
    gz = client.get(f"/predictions{query}", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.content == expected  # httpx decodes; the body on the wire is gzip
    assert int(gz.headers["content-length"]) < len(expected) / 2  # compressed on the wire
    assert gz.headers["vary"] == "Accept-Encoding"


def test_errors_are_answered_as_before_and_never_cached(
    client: TestClient, served: Settings
) -> None:
    before = len(cache_of(client))
    for query in ("?date=2024-13-45", "?system=nope", "?alias=boss"):
        for _ in range(2):
            r = client.get(f"/predictions{query}", headers=IDENTITY)
            assert (r.status_code, r.json()["detail"]) == (400, q_detail(served, query))
    assert len(cache_of(client)) == before


def q_detail(settings: Settings, query: str) -> str:
    params = dict(p.split("=") for p in query.lstrip("?").split("&"))
    reader = SnapshotReader(settings.paths.db)
    try:
        with reader.cursor() as (con, _):
            read_predictions(
                con, q.optional_day(params.get("date")), params.get("system"), params.get("alias")
            )
    except q.BadRequestError as exc:
        return str(exc)
    finally:
        reader.close()
    raise AssertionError(f"{query} was not a bad request")


def test_a_newly_published_snapshot_is_served_not_a_stale_entry(
    served: Settings, tmp_path: Path
) -> None:
    settings = copy_served(served, tmp_path)
    with TestClient(create_app(settings)) as api:
        latest = api.get("/predictions", headers=IDENTITY)
        dated = api.get(f"/predictions?date={DAY}", headers=IDENTITY)
        assert latest.content == dated.content  # DAY is the latest predicted date
        old_key = api.app.state.reader.snapshot_key()  # type: ignore[attr-defined]
        assert len(cache_of(api)) == 2
        with connect(settings.paths.db) as writer:
            # every prediction of DAY retired: the default date falls back a day
            writer.execute(
                "UPDATE predictions.prediction SET is_active = false WHERE game_date = ?",
                [DAY],
            )
            publish_snapshot(writer)
            fallback = writer.execute(
                "SELECT max(game_date) FROM predictions.prediction WHERE is_active"
            ).fetchone()[0]
            active = writer.execute(
                "SELECT count(*) FROM predictions.prediction WHERE is_active AND game_date = ?",
                [fallback],
            ).fetchone()[0]
        assert api.app.state.reader.snapshot_key() != old_key  # type: ignore[attr-defined]
        now_latest = api.get("/predictions", headers=IDENTITY).json()
        assert now_latest["date"] == str(fallback) != str(DAY)
        assert now_latest["n"] == active > 0
        now_dated = api.get(f"/predictions?date={DAY}", headers=IDENTITY).json()
        assert dated.json()["n"] > 0
        assert now_dated["n"] == 0
        for query in ("", f"?date={DAY}"):
            assert (
                api.get(f"/predictions{query}", headers=IDENTITY).content
                == (oracle(settings, query)[1])
            )
        new_key = api.app.state.reader.snapshot_key()  # type: ignore[attr-defined]
        assert {k[0] for k in cache_of(api)._entries} == {new_key}


def test_the_token_still_guards_every_request_cached_or_not(
    served: Settings, tmp_path: Path
) -> None:
    settings = copy_served(served, tmp_path, api_token="s3cret-token")
    expected = oracle(settings, f"?date={DAY}")[1]
    with TestClient(create_app(settings)) as api:
        url = f"/predictions?date={DAY}"
        good = {"Authorization": "Bearer s3cret-token", **IDENTITY}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
            r = api.get(url, headers=headers)
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == "Bearer"
            assert "token" in r.json()["detail"]
        assert len(cache_of(api)) == 0  # nothing computed for a refused request
        assert api.get(url, headers=good).content == expected
        assert len(cache_of(api)) == 1
        refused = api.get(url, headers={"Authorization": "Bearer s3cret-tokeN"})
        assert refused.status_code == 401  # a cached answer is still guarded
        assert api.get("/health").status_code == 401
        assert api.get("/health", headers=good).status_code == 200


def test_gzip_is_served_only_when_accepted() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, GZIP;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip(None)
    assert not accepts_gzip("")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("deflate, br")
