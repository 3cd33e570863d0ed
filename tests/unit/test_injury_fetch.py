"""The official injury report, fetched: which reports are asked for, what is written,
what the CDN's "not published" looks like, and that a failed report is one ``failed``
line of the live fetch that stops no other source and is recorded by `run daily`."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pandas as pd
import pytest
import requests

from nbaprops.core.db import connect
from nbaprops.core.errors import LiveSourceError
from nbaprops.core.settings import Http, Settings
from nbaprops.core.time import EASTERN
from nbaprops.ingest.injury_pdf import CSV_COLUMNS, REPORT_BASE_URL
from nbaprops.ingest.live import fetch_injury_reports
from nbaprops.ingest.transport import HttpStatusError, HttpTransport
from nbaprops.pipeline import fetch as fetch_module
from nbaprops.pipeline.fetch import fetch_date
from nbaprops.warehouse.migrate import migrate
from tests.injury_pdfs import PdfReplay, sample_pdfs
from tests.unit import test_live_fetch
from tests.unit.test_live_fetch import AT, DAY, SECRET, as_transports, fakes

pytestmark = pytest.mark.data

MARCH_12 = date(2024, 3, 12)
SIX_PM = "Injury-Report_2024-03-12_06PM.pdf"


@pytest.fixture(scope="module")
def pdfs(data_dir: Path) -> dict[str, bytes]:
    return sample_pdfs(data_dir)


def data_rows(data_dir: Path, name: str) -> Counter[tuple[str, ...]]:
    """The data folder's availability rows of one report (made by another extraction)."""
    path = data_dir / "availability" / "nba_injury_reports_2023-24.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return Counter(tuple(r) for r in csv.reader(handle) if r[-1].endswith("/" + name))


def read_csv(path: Path) -> tuple[list[str], Counter[tuple[str, ...]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, Counter(tuple(r) for r in reader)


def test_the_latest_report_of_a_past_day_is_found_walking_back_and_written(
    tmp_path: Path, pdfs: dict[str, bytes], data_dir: Path
) -> None:
    transport = PdfReplay(pdfs)
    got = fetch_injury_reports(
        MARCH_12, tmp_path, transport, http=Http(), now=datetime(2024, 3, 14, tzinfo=UTC)
    )

    asked = [u.rsplit("_", 1)[-1] for u in transport.requests]
    assert asked == ["11PM.pdf", "10PM.pdf", "09PM.pdf", "08PM.pdf", "07PM.pdf", "06PM.pdf"]
    assert len(got.not_published) == 5
    (report,) = got.reports
    assert report.url == REPORT_BASE_URL + SIX_PM
    assert report.csv_path == tmp_path / "availability" / "Injury-Report_2024-03-12_06PM.csv"
    assert report.pdf_path == tmp_path / "availability" / "pdf" / SIX_PM
    assert report.pdf_path.read_bytes() == pdfs[REPORT_BASE_URL + SIX_PM]
    header, rows = read_csv(report.csv_path)
    assert tuple(header) == CSV_COLUMNS
    assert rows == data_rows(data_dir, SIX_PM)
    assert report.n_rows == sum(rows.values()) == 154
    assert report.report_time_et == "2024-03-12 18:30"


def test_every_report_of_the_day_with_every(tmp_path: Path, pdfs: dict[str, bytes]) -> None:
    transport = PdfReplay(pdfs)
    got = fetch_injury_reports(
        MARCH_12,
        tmp_path,
        transport,
        http=Http(),
        now=datetime(2024, 3, 14, tzinfo=UTC),
        every=True,
    )
    assert len(transport.requests) == 24
    assert [r.url for r in got.reports] == [REPORT_BASE_URL + SIX_PM]
    assert len(got.not_published) == 23


def test_only_reports_due_by_now_are_asked_for(tmp_path: Path, pdfs: dict[str, bytes]) -> None:
    transport = PdfReplay(pdfs)
    at_six = datetime(2024, 3, 12, 18, 20, tzinfo=EASTERN)  # the 06PM report is due at 18:30
    with pytest.raises(LiveSourceError) as caught:
        fetch_injury_reports(MARCH_12, tmp_path, transport, http=Http(), now=at_six)
    assert transport.requests[0].endswith("_05PM.pdf")
    assert REPORT_BASE_URL + SIX_PM not in transport.requests
    assert str(caught.value) == (
        "injury report 2024-03-12: no report published yet "
        "(HTTP 403 for Injury-Report_2024-03-12_05PM.pdf, and 17 earlier)"
    )
    assert not (tmp_path / "availability").exists()


def test_a_day_before_its_first_report_asks_nothing(tmp_path: Path) -> None:
    transport = PdfReplay({})
    just_after_midnight = datetime(2024, 3, 13, 0, 20, tzinfo=EASTERN)
    with pytest.raises(LiveSourceError) as caught:
        fetch_injury_reports(
            date(2024, 3, 13), tmp_path, transport, http=Http(), now=just_after_midnight
        )
    assert str(caught.value) == (
        "injury report 2024-03-13: no report published yet (the first is due at "
        "2024-03-13 00:30 ET)"
    )
    assert transport.requests == []


def test_an_unreadable_pdf_is_kept_and_named_and_an_older_report_used(
    tmp_path: Path, pdfs: dict[str, bytes]
) -> None:
    files = {**pdfs, REPORT_BASE_URL + "Injury-Report_2024-03-12_07PM.pdf": b"<html>oops</html>"}
    got = fetch_injury_reports(
        MARCH_12, tmp_path, PdfReplay(files), http=Http(), now=datetime(2024, 3, 14, tzinfo=UTC)
    )
    assert [r.url for r in got.reports] == [REPORT_BASE_URL + SIX_PM]
    (line,) = got.unreadable
    assert line.startswith("pdfs/2024-03-12/Injury-Report_2024-03-12_07PM.pdf: not a readable PDF")
    assert (tmp_path / "availability" / "pdf" / "Injury-Report_2024-03-12_07PM.pdf").exists()
    assert not (tmp_path / "availability" / "Injury-Report_2024-03-12_07PM.csv").exists()


def test_a_server_failure_is_not_taken_for_not_published(tmp_path: Path) -> None:
    class Down:
        def get_bytes(self, url: str, headers: Any = None) -> bytes:
            raise HttpStatusError(url, 503, "HTTP 503 Service Unavailable")

    with pytest.raises(HttpStatusError, match="HTTP 503"):
        fetch_injury_reports(
            MARCH_12, tmp_path, Down(), http=Http(), now=datetime(2024, 3, 14, tzinfo=UTC)
        )


# --- the HTTP transport for files ----------------------------------------------------------


def response(status: int, body: bytes = b"") -> requests.Response:
    built = requests.Response()
    built.status_code = status
    built.reason = {200: "OK", 403: "Forbidden", 503: "Service Unavailable"}.get(status, "")
    built._content = body
    return built


class Session:
    def __init__(self, *script: requests.Response) -> None:
        self.script = list(script)
        self.urls: list[str] = []

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        self.urls.append(url)
        return self.script.pop(0)


def test_the_file_transport_retries_server_errors_and_not_a_403() -> None:
    sleeps: list[float] = []
    session = Session(response(503), response(200, b"%PDF-1.4"))
    transport = HttpTransport(retries=3, session=session, sleep=sleeps.append)  # type: ignore[arg-type]
    assert transport.get_bytes("https://x.test/a.pdf") == b"%PDF-1.4"
    assert len(session.urls) == 2

    refused = Session(response(403), response(200))
    transport = HttpTransport(retries=3, session=refused, sleep=sleeps.append)  # type: ignore[arg-type]
    with pytest.raises(HttpStatusError) as caught:
        transport.get_bytes("https://x.test/b.pdf")
    assert caught.value.status == 403
    assert str(caught.value) == "GET https://x.test/b.pdf failed: HTTP 403 Forbidden"
    assert len(refused.urls) == 1


# --- inside the live fetch and the daily run ------------------------------------------------


# the live-fetch tests' fixtures: a migrated in-memory warehouse and live settings
con = test_live_fetch.con
settings = test_live_fetch.settings


def test_the_live_fetch_loads_the_latest_report_into_the_warehouse(
    settings: Settings, con: duckdb.DuckDBPyConnection, data_dir: Path
) -> None:
    report = fetch_date(con, settings, DAY, transports=as_transports(fakes()), fetched_at=AT)

    injury = report.sources[-1]
    assert injury.line() == "injury report: ok (the 2024-03-10 03:30 ET report, 94 entries)"
    (path,) = injury.paths
    assert Path(path).name == "Injury-Report_2024-03-10_03AM.csv"
    assert not report.failed
    loaded = con.execute(
        "SELECT count(*), min(report_time_utc), max(report_time_utc) FROM raw.availability_report"
    ).fetchone()
    published = datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    assert loaded == (94, published, published)


def test_no_report_is_one_failed_line_and_every_other_source_lands(
    settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    transports = fakes()
    transports.nba_injury = PdfReplay({})
    report = fetch_date(con, settings, DAY, transports=as_transports(transports), fetched_at=AT)

    assert [s.status for s in report.sources] == ["ok", "ok", "ok", "ok", "failed"]
    assert report.sources[-1].line() == (
        "injury report: failed (injury report 2024-03-10: no report published yet "
        "(HTTP 403 for Injury-Report_2024-03-10_10AM.pdf, and 9 earlier))"
    )
    assert report.failed
    assert report.ingest_line().startswith("ingest: ok (5 files: 5 loaded")
    assert con.execute("SELECT count(*) FROM raw.odds_api_outcome").fetchone() == (72,)
    assert con.execute("SELECT count(*) FROM raw.availability_report").fetchone() == (0,)


def test_run_daily_live_records_a_failed_injury_report_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nbaprops.pipeline import daily

    monkeypatch.setenv("ODDS_API_KEY", SECRET)

    def transports(settings: Settings) -> fetch_module.Transports:
        ns = fakes()
        ns.nba_injury = PdfReplay({})
        return as_transports(ns)

    monkeypatch.setattr(fetch_module, "default_transports", transports)
    monkeypatch.setattr(daily, "aliased_models_exist", lambda con, market=None: True)
    monkeypatch.setattr(
        daily, "predict_job", lambda *a, **k: SimpleNamespace(writes=[], picks=[], unchanged=False)
    )
    monkeypatch.setattr(daily, "signal_job", lambda *a, **k: {})
    monkeypatch.setattr(daily, "champion_picks", lambda *a, **k: pd.DataFrame())
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        migrate(con)
        settings = Settings(db=db, live_dir=tmp_path / "live", nba_api_delay_s=0)
        result = daily.run_daily(con, settings, DAY, data_dir=tmp_path / "live", live=True)
        phases = dict(
            con.execute(
                "SELECT phase, status || ': ' || coalesce(error, '') FROM pipeline.phase_run "
                "WHERE run_id = ?",
                [result.run_id],
            ).fetchall()
        )

    assert phases["fetch"].startswith("FAILED: ")
    assert (
        "injury report: failed (injury report 2024-03-10: no report published yet"
        in (phases["fetch"])
    )
    assert phases["predict"] == "COMPLETE: "
    assert result.fetched is not None
    assert [s.status for s in result.fetched.sources] == ["ok", "ok", "ok", "ok", "failed"]
