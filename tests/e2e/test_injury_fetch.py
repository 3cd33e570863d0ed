"""`nbaprops ingest injuries --date D`: the day's official report PDFs (replayed: the
data folder's samples at their league URLs, HTTP 403 for the rest) written as
availability CSVs and loaded; a day with no report is one line, exit 1, and the
warehouse untouched."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.ingest import live
from nbaprops.ingest.injury_pdf import CSV_COLUMNS
from tests.injury_pdfs import PdfReplay, sample_pdfs

pytestmark = pytest.mark.data

NAME = "Injury-Report_2024-03-12_06PM"


@pytest.fixture
def replay(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[PdfReplay]]:
    """A warehouse path and live folder under tmp; every HTTP file transport replays."""
    monkeypatch.setenv("NBAPROPS_LIVE_DIR", str(tmp_path / "live"))
    made: list[PdfReplay] = []
    files = sample_pdfs(data_dir)

    def transport(**_: Any) -> PdfReplay:
        made.append(PdfReplay(files))
        return made[-1]

    monkeypatch.setattr(live, "HttpTransport", transport)
    return tmp_path / "w.duckdb", made


def season_rows(data_dir: Path) -> Counter[tuple[str, ...]]:
    path = data_dir / "availability" / "nba_injury_reports_2023-24.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return Counter(tuple(r) for r in csv.reader(handle) if r[-1].endswith(f"/{NAME}.pdf"))


def test_ingest_injuries_writes_the_days_latest_report_and_loads_it(
    replay: tuple[Path, list[PdfReplay]], tmp_path: Path, data_dir: Path
) -> None:
    db, made = replay
    result = CliRunner().invoke(
        app, ["ingest", "injuries", "--date", "2024-03-12", "--db", str(db)]
    )

    assert result.exit_code == 0, result.output
    written = tmp_path / "live" / "availability" / f"{NAME}.csv"
    assert f"fetched the 2024-03-12 18:30 ET report: 154 entries into {written}" in result.stdout
    with written.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == CSV_COLUMNS
        rows = Counter(tuple(r) for r in reader)
    assert rows == season_rows(data_dir)
    assert (tmp_path / "live" / "availability" / "pdf" / f"{NAME}.pdf").is_file()
    assert sorted(p.name for p in (tmp_path / "live" / "availability").glob("*.csv")) == [
        f"{NAME}.csv"
    ]
    assert len(made) == 1
    assert made[0].requests[-1].endswith(f"/{NAME}.pdf")
    with connect(db, read_only=True) as con:
        loaded = con.execute(
            "SELECT count(*), count(DISTINCT player) FILTER (WHERE player <> '') "
            "FROM raw.availability_report WHERE source_file = ?",
            [f"pdfs/2024-03-12/{NAME}.pdf"],
        ).fetchone()
    assert loaded == (154, len({r[6] for r in rows if r[6]}))


def test_ingest_injuries_all_as_json_fetches_every_report_of_the_day(
    replay: tuple[Path, list[PdfReplay]],
) -> None:
    db, made = replay
    result = CliRunner().invoke(
        app, ["ingest", "injuries", "--date", "2024-03-12", "--all", "--json", "--db", str(db)]
    )

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [Path(r["csv_path"]).name for r in payload["fetched"]] == [f"{NAME}.csv"]
    assert payload["fetched"][0]["n_rows"] == 154
    assert len(payload["not_published"]) == 23
    assert len(made[0].requests) == 24
    by_source = {s["source"]: s for s in payload["ingest"]["sources"]}
    assert by_source["availability"]["rows_loaded"] == 154


def test_a_day_without_any_report_is_one_line_and_the_warehouse_untouched(
    replay: tuple[Path, list[PdfReplay]], tmp_path: Path
) -> None:
    db, _ = replay
    first = CliRunner().invoke(app, ["ingest", "injuries", "--date", "2024-03-12", "--db", str(db)])
    assert first.exit_code == 0, first.output
    before = hashlib.sha256(db.read_bytes()).hexdigest()

    result = CliRunner().invoke(
        app, ["ingest", "injuries", "--date", "2024-03-13", "--db", str(db)]
    )

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        "error: injury report 2024-03-13: no report published yet (HTTP 403 for "
        "Injury-Report_2024-03-13_11PM.pdf, and 23 earlier)"
    ]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in (tmp_path / "live" / "availability").glob("*.csv")) == [
        f"{NAME}.csv"
    ]
