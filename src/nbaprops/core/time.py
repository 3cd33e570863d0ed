"""Game dates are US/Eastern calendar dates; feeds carry UTC instants."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def eastern_date(instant: datetime) -> date:
    """The US/Eastern calendar date of a UTC (or aware) instant."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(EASTERN).date()


_YMD = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(text: str) -> date:
    """Parse YYYY-MM-DD (only: not the other ISO forms such as 20240412 or 2024-W15-5),
    raising ValueError with the offending text."""
    try:
        if not _YMD.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def season_of(day: date) -> str:
    """NBA season label ("2023-24") a date belongs to; seasons roll over on Aug 1."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{str(start + 1)[-2:]}"
