"""The official injury report PDFs parse to exactly the rows the availability CSVs hold
for them (both page layouts, wrapped and page-split reasons, carried groups, NOT YET
SUBMITTED, DST nights): the CSVs were made by an independent extraction."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

import pytest

from nbaprops.core.errors import LiveSourceError
from nbaprops.ingest.injury_pdf import CSV_COLUMNS, parse_injury_report

pytestmark = pytest.mark.data


def _manifest(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / "availability" / "official_pdf_samples" / "MANIFEST.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def csv_rows(data_dir: Path) -> dict[str, Counter[tuple[str, ...]]]:
    """The CSV rows of the sample PDFs, by PDF file name, as multisets of full rows."""
    names = {m["file"] for m in _manifest(data_dir)}
    rows: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in names}
    for path in sorted((data_dir / "availability").glob("nba_injury_reports_*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            assert tuple(next(reader)) == CSV_COLUMNS
            for row in reader:
                name = row[-1].rsplit("/", 1)[-1]
                if name in rows:
                    rows[name][tuple(row)] += 1
    return rows


def test_every_sample_pdf_parses_to_its_rows_in_the_csv(
    data_dir: Path, csv_rows: dict[str, Counter[tuple[str, ...]]]
) -> None:
    manifest = _manifest(data_dir)
    assert len(manifest) == 24
    mismatched = []
    for entry in manifest:
        pdf = data_dir / "availability" / "official_pdf_samples" / entry["file"]
        parsed = parse_injury_report(pdf.read_bytes(), entry["source_file"])
        got = Counter(tuple(r.as_list()) for r in parsed)
        want = csv_rows[entry["file"]]
        assert len(parsed) == int(entry["csv_rows"]), entry["file"]
        assert sum(want.values()) == int(entry["csv_rows"]), entry["file"]
        assert {(r.report_time_et, r.report_time_utc) for r in parsed} == {
            (entry["report_time_et"], entry["report_time_utc"])
        }, entry["file"]
        nys = sum(1 for r in parsed if r.status == "NOT_YET_SUBMITTED")
        assert nys == int(entry["not_yet_submitted_rows"]), entry["file"]
        if got != want:
            extra = sorted((got - want).elements())[:3]
            missing = sorted((want - got).elements())[:3]
            mismatched.append(f"{entry['file']}: parsed but not in CSV {extra}; missing {missing}")
    assert not mismatched, "\n".join(mismatched)


def test_a_damaged_pdf_is_one_error_naming_the_file(data_dir: Path) -> None:
    pdf = data_dir / "availability" / "official_pdf_samples" / "Injury-Report_2024-03-12_06PM.pdf"
    name = "pdfs/2024-03-12/Injury-Report_2024-03-12_06PM.pdf"
    for damaged in (pdf.read_bytes()[:4000], b"<html>403 Forbidden</html>", b""):
        with pytest.raises(LiveSourceError) as caught:
            parse_injury_report(damaged, name)
        message = str(caught.value)
        assert message.startswith(name + ": ")
        assert "\n" not in message
