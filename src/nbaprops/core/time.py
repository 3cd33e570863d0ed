"""Game dates are US/Eastern calendar dates; feeds carry UTC instants.

``resolve_date`` is the one place a date a user gives is read (every CLI date option
and the API's date parameters): YYYY-MM-DD, or ``today`` / ``yesterday`` /
``tomorrow`` taken in US/Eastern, the NBA's day. ``parse_date`` stays strict (files
are read with it: a word there is never a date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


# Relative dates a user may give instead of YYYY-MM-DD, as days from today (US/Eastern).
DATE_WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}


def now_utc() -> datetime:
    """The current instant (one function, so tests can pin the clock)."""
    return datetime.now(UTC)


def eastern_today(now: datetime | None = None) -> date:
    """Today's date in US/Eastern (the NBA's day): a 10pm tip in Los Angeles is still
    the slate of the Eastern date it started on."""
    return eastern_date(now or now_utc())


@dataclass(frozen=True)
class ResolvedDate:
    """A date a user gave: the day, and the word it was given as (None for YYYY-MM-DD)."""

    day: date
    word: str | None = None

    def describe(self, what: str = "date") -> str | None:
        """``date: today = 2026-12-06 (US/Eastern)`` for a word, None for a plain date."""
        if self.word is None:
            return None
        return f"{what}: {self.word} = {self.day.isoformat()} (US/Eastern)"


def resolve_date(text: str, now: datetime | None = None) -> ResolvedDate:
    """YYYY-MM-DD, or today / yesterday / tomorrow (any case) in US/Eastern; a
    ValueError names the text and what is accepted."""
    word = text.strip().lower()
    if word in DATE_WORDS:
        return ResolvedDate(eastern_today(now) + timedelta(days=DATE_WORDS[word]), word)
    try:
        return ResolvedDate(parse_date(text))
    except ValueError:
        raise ValueError(
            f"not a date (YYYY-MM-DD, today, yesterday or tomorrow): {text!r}"
        ) from None


def season_of(day: date) -> str:
    """NBA season label ("2023-24") a date belongs to; seasons roll over on Aug 1."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{str(start + 1)[-2:]}"
