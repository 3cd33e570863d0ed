"""One market per answer: an unknown ``market`` is one clear 4xx line listing the known
markets on every JSON endpoint and dashboard page that takes one, and one ``error:``
line with exit code 1 on the command line (``bets --market``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.cli.main import app as cli
from nbaprops.core.db import connect
from nbaprops.core.markets import MARKET_NAMES
from nbaprops.core.settings import Settings
from nbaprops.pipeline.snapshot import publish_snapshot
from nbaprops.read.params import BadRequestError, check_market
from nbaprops.warehouse.migrate import migrate

KNOWN = ", ".join(MARKET_NAMES)
PERIOD = "start=2024-04-01&end=2024-04-02"
JSON_URLS = (
    "/predictions?market={m}",
    "/picks?market={m}",
    f"/bets?{PERIOD}&market={{m}}",
    "/signal?market={m}",
    f"/grading?{PERIOD}&market={{m}}",
    "/players/2544?market={m}",
)
PAGES = ("/?market={m}", "/ui/track?market={m}")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A migrated, empty warehouse with its snapshot published (the API reads it)."""
    settings = Settings(db=tmp_path / "w.duckdb", runs_dir=tmp_path / "runs")
    with connect(settings.paths.db) as con:
        migrate(con)
        publish_snapshot(con)
    return settings


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_market_is_named_by_the_catalog_and_an_unknown_one_lists_the_known() -> None:
    assert check_market(None) == "points"
    assert check_market("Rebounds") == "rebounds"
    assert check_market("player_points_rebounds_assists") == "pra"  # a feed key
    with pytest.raises(BadRequestError) as err:
        check_market("steals")
    assert str(err.value) == f"unknown market 'steals': use one of {KNOWN}"
    with pytest.raises(BadRequestError, match="unknown market 'all'"):
        check_market("all")  # an answer is of one market


@pytest.mark.parametrize("url", JSON_URLS)
def test_an_unknown_market_is_a_400_line_listing_the_known_on_every_endpoint(
    api: TestClient, url: str
) -> None:
    r = api.get(url.format(m="steals"))
    assert r.status_code == 400, (url, r.status_code, r.text)
    assert r.json() == {"detail": f"unknown market 'steals': use one of {KNOWN}"}


@pytest.mark.parametrize("url", JSON_URLS)
def test_a_known_market_passes_the_check_on_every_endpoint(api: TestClient, url: str) -> None:
    """On an empty warehouse a known market gets past the market check: what answers is
    the warehouse having nothing (404; /grading: no figures, of that market)."""
    r = api.get(url.format(m="rebounds"))
    if url.startswith("/grading"):
        assert r.status_code == 200, r.text
        assert r.json()["market"] == "rebounds"
        assert r.json()["systems"] == []
        return
    assert r.status_code == 404, (url, r.status_code, r.text)
    assert "unknown market" not in r.json()["detail"]


def test_a_long_market_is_refused_without_being_echoed_whole(api: TestClient) -> None:
    r = api.get("/picks?market=" + "x" * 5000)
    assert 400 <= r.status_code < 500
    assert "x" * 101 not in r.json()["detail"]


@pytest.mark.parametrize("url", PAGES)
def test_an_unknown_market_on_a_page_is_the_error_page_listing_the_known(
    api: TestClient, url: str
) -> None:
    r = api.get(url.format(m="steals"))
    assert r.status_code == 400, (url, r.status_code)
    assert "text/html" in r.headers["content-type"]
    assert f"unknown market &#39;steals&#39;: use one of {KNOWN}" in r.text
    assert 'role="alert"' in r.text


def _bets(settings: Settings, market: str) -> Any:
    """``nbaprops bets`` of 2024-04-01..02 in ``market`` on the fixture's warehouse."""
    argv = ["bets", "--start", "2024-04-01", "--end", "2024-04-02", "--market", market]
    return CliRunner().invoke(cli, [*argv, "--db", str(settings.paths.db)])


def test_bets_with_an_unknown_market_is_one_error_line_and_exit_1(settings: Settings) -> None:
    result = _bets(settings, "steals")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert lines == [f"error: unknown market 'steals': use one of {KNOWN}"], lines


def test_bets_of_a_market_without_bets_says_so_naming_the_market(settings: Settings) -> None:
    result = _bets(settings, "rebounds")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == ["error: no bets in rebounds in 2024-04-01..2024-04-02"]
