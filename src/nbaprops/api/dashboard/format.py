"""The dashboard's template filters: numbers, percents, prices, dates and times as text,
with a dash for anything missing (None, NaN, infinite)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def pct(value: Any, digits: int = 1) -> str:
    return "–" if missing(value) else f"{float(value) * 100:.{digits}f}%"


def num(value: Any, digits: int = 1) -> str:
    return "–" if missing(value) else f"{float(value):.{digits}f}"


def signed(value: Any, digits: int = 2) -> str:
    return "–" if missing(value) else f"{float(value):+.{digits}f}"


def price(value: Any) -> str:
    """An American price: +120, -110."""
    return "–" if missing(value) else f"{float(value):+.0f}"


def count(value: Any) -> str:
    return "–" if missing(value) else f"{int(value):,}"


def day(value: Any) -> str:
    """A date or timestamp as YYYY-MM-DD."""
    return "–" if missing(value) or value == "" else str(value)[:10]


def et(value: Any) -> str:
    """A UTC timestamp (ISO text) as US/Eastern clock time: 2024-03-12 06:30 PM."""
    if missing(value) or value == "":
        return "–"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert("America/New_York").strftime("%Y-%m-%d %I:%M %p")


def figure(value: Any) -> str:
    """A diagnostic factor's value: whole numbers as they are, fractions to 3 places."""
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return f"{value:.3f}"
    return text(value)


def text(value: Any) -> str:
    return "–" if missing(value) or value == "" else str(value)


FILTERS: dict[str, Callable[..., str]] = {
    "pct": pct,
    "num": num,
    "signed": signed,
    "price": price,
    "count": count,
    "text": text,
    "day": day,
    "et": et,
    "figure": figure,
}
