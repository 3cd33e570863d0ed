"""The official injury report's URLs: hourly "_06PM" files, every 15 minutes
"_06_15PM" from 2025-12-22; which of a day's reports are due at a given time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from nbaprops.core.time import EASTERN
from nbaprops.ingest.injury_pdf import (
    natural_name,
    report_slots,
    report_url,
    report_urls,
    source_file_of,
)

BASE = "https://ak-static.cms.nba.com/referee/injury/"


@pytest.mark.parametrize(
    ("when", "name"),
    [
        (datetime(2024, 3, 12, 18, 30), "Injury-Report_2024-03-12_06PM.pdf"),
        (datetime(2024, 3, 12, 18, 59), "Injury-Report_2024-03-12_06PM.pdf"),
        (datetime(2025, 4, 13, 12, 30), "Injury-Report_2025-04-13_12PM.pdf"),
        (datetime(2022, 10, 18, 1, 30), "Injury-Report_2022-10-18_01AM.pdf"),
        (datetime(2023, 1, 5, 0, 30), "Injury-Report_2023-01-05_12AM.pdf"),
        (datetime(2024, 12, 9, 19, 0), "Injury-Report_2024-12-09_07PM.pdf"),
        (datetime(2025, 12, 21, 23, 45), "Injury-Report_2025-12-21_11PM.pdf"),
    ],
)
def test_hourly_report_names_use_the_zero_padded_12_hour_clock(when: datetime, name: str) -> None:
    assert report_url(when) == BASE + name


@pytest.mark.parametrize(
    ("when", "name"),
    [
        (datetime(2025, 12, 22, 18, 15), "Injury-Report_2025-12-22_06_15PM.pdf"),
        (datetime(2025, 12, 22, 18, 29), "Injury-Report_2025-12-22_06_15PM.pdf"),
        (datetime(2025, 12, 22, 0, 0), "Injury-Report_2025-12-22_12_00AM.pdf"),
        (datetime(2026, 1, 5, 9, 45), "Injury-Report_2026-01-05_09_45AM.pdf"),
        (datetime(2026, 1, 5, 12, 59), "Injury-Report_2026-01-05_12_45PM.pdf"),
    ],
)
def test_from_2025_12_22_reports_come_every_quarter_hour(when: datetime, name: str) -> None:
    assert report_url(when) == BASE + name


def test_an_aware_time_is_named_in_us_eastern() -> None:
    # 22:30 UTC on 2024-03-12 is 18:30 EDT
    assert report_url(datetime(2024, 3, 12, 22, 30, tzinfo=UTC)).endswith("_2024-03-12_06PM.pdf")


def test_a_day_has_24_hourly_or_96_quarter_hour_reports_and_no_skipped_hour() -> None:
    assert len(report_slots(date(2024, 3, 12))) == 24
    assert len(report_slots(date(2026, 1, 5))) == 96
    spring = [s.hour for s in report_slots(date(2024, 3, 10))]
    assert 2 not in spring
    assert len(spring) == 23
    assert len(report_slots(date(2024, 11, 3))) == 24  # fall-back: one file per name


def test_only_reports_due_by_now_are_listed() -> None:
    now = datetime(2024, 3, 12, 18, 40, tzinfo=EASTERN)  # the 06PM report came at 18:30
    urls = report_urls(date(2024, 3, 12), now)
    assert urls[0].endswith("_12AM.pdf")
    assert urls[-1].endswith("_06PM.pdf")
    assert len(urls) == 19
    assert report_urls(date(2024, 3, 12), datetime(2024, 3, 12, 18, 29, tzinfo=EASTERN))[
        -1
    ].endswith("_05PM.pdf")
    assert report_urls(date(2024, 3, 13), now) == []
    assert len(report_urls(date(2024, 3, 11), now)) == 24


def test_source_file_is_the_url_tail_under_its_date() -> None:
    url = BASE + "Injury-Report_2024-03-12_06PM.pdf"
    assert source_file_of(url) == "pdfs/2024-03-12/Injury-Report_2024-03-12_06PM.pdf"


@pytest.mark.parametrize(
    ("printed", "natural"),
    [
        ("Bagley III, Marvin", "Marvin Bagley III"),
        ("Anunoby, OG", "OG Anunoby"),
        ("Boston Jr., Brandon", "Brandon Boston Jr."),
        ("Graham, Devonte'", "Devonte' Graham"),
        ("Nene", "Nene"),
    ],
)
def test_last_first_becomes_natural_order_with_the_suffix_kept(printed: str, natural: str) -> None:
    assert natural_name(printed) == natural
