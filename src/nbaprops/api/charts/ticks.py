"""Axis ticks: round numeric ticks, calendar-aligned date ticks, their labels, and the
x values (numbers or dates) a chart accepts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from nbaprops.api.charts.common import DATE_STEPS, MONTHS, TICK_STEPS, YFormat, plottable


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering [lo, hi].

    The first tick is <= lo and the last >= hi, so the ticks double as the axis
    domain; there are at most ``max_ticks`` of them (at least 2; 3 when ``max_ticks``
    is 2 but the range straddles 0, which two round ticks cannot cover). A
    zero-width range is widened by 10% (or by 1 around 0). Non-finite input gives an
    empty list.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    max_ticks = max(2, int(max_ticks))
    lo, hi = min(lo, hi), max(lo, hi)
    magnitude = max(abs(lo), abs(hi))
    if hi - lo <= magnitude * 1e-12 or hi - lo < 1e-300:  # zero width, or below float noise
        pad = magnitude * 0.1 if magnitude > 1e-300 else 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / (max_ticks - 1)
    if not math.isfinite(raw) or raw <= 0:
        return []
    exponent = math.floor(math.log10(raw))
    for e in range(exponent, exponent + 3):
        for m in TICK_STEPS:
            step = m * 10.0**e
            first = math.floor(lo / step + 1e-9)
            last = math.ceil(hi / step - 1e-9)
            if last - first + 1 <= max_ticks:
                # k * m is exact; dividing by an exact power of ten rounds once.
                scale = 10.0**e if e >= 0 else 10.0 ** (-e)
                return [
                    (k * m * scale if e >= 0 else (k * m) / scale) + 0.0
                    for k in range(first, last + 1)
                ]
    # Only reached with max_ticks == 2 and a range straddling a multiple of every
    # candidate step (such as 0): two round ticks cannot cover it, three can.
    return nice_ticks(lo, hi, 3) if max_ticks == 2 else [lo, hi]


def _tick_decimals(ticks: Sequence[float], scale: float) -> int:
    """Fewest decimals that print every tick exactly (after multiplying by ``scale``)."""
    for decimals in range(7):
        if all(
            abs(round(t * scale, decimals) - t * scale) < 1e-9 * max(1.0, abs(t * scale))
            for t in ticks
        ):
            return decimals
    return 6


def tick_labels(ticks: Sequence[float], y_format: YFormat) -> list[str]:
    scale = 100.0 if y_format == "percent" else 1.0
    decimals = _tick_decimals(ticks, scale)
    suffix = "%" if y_format == "percent" else ""
    labels = []
    for t in ticks:
        text = f"{t * scale:,.{decimals}f}"
        if text.startswith("-") and float(text.replace(",", "")) == 0:
            text = text[1:]
        labels.append(text + suffix)
    return labels


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _date_range(unit: str, step: int, start: date, end: date, limit: int) -> list[date]:
    """Ticks of one calendar step in [start, end]; stops once there are more than ``limit``."""
    ticks: list[date] = []
    try:
        if unit in ("day", "week"):
            days = step if unit == "day" else 7 * step
            offset = 0 if unit == "day" else (7 - start.weekday()) % 7
            current = start + timedelta(days=offset)
            while current <= end and len(ticks) <= limit:
                ticks.append(current)
                current += timedelta(days=days)
        elif unit == "month":
            year, month = start.year, start.month
            if start.day != 1:
                year, month = _add_months(year, month, 1)
            while (month - 1) % step:
                year, month = _add_months(year, month, 1)
            while date(year, month, 1) <= end and len(ticks) <= limit:
                ticks.append(date(year, month, 1))
                year, month = _add_months(year, month, step)
        else:
            year = start.year if (start.month, start.day) == (1, 1) else start.year + 1
            year += (-year) % step
            while year <= end.year and len(ticks) <= limit:
                ticks.append(date(year, 1, 1))
                year += step
    except (OverflowError, ValueError):  # stepped past date.max
        pass
    return ticks


def date_tick_plan(start: date, end: date, max_ticks: int) -> tuple[str, list[date]]:
    start, end = min(start, end), max(start, end)
    limit = max(1, max_ticks)
    fallback: tuple[str, list[date]] | None = None
    for unit, step in DATE_STEPS:
        ticks = _date_range(unit, step, start, end, limit)
        if ticks and len(ticks) <= limit:
            if len(ticks) >= 2 or start == end:
                return unit, ticks
            fallback = fallback or (unit, ticks)  # one tick: a coarser step won't do better
    return fallback or ("day", [start])


def date_ticks(start: date, end: date, max_ticks: int = 5) -> list[date]:
    """Calendar ticks inside [start, end]: every 1-3 days, Mondays, month starts or years.

    The finest step giving between 2 and ``max_ticks`` ticks wins; when none does
    (a short range, or ``max_ticks`` < 2), the finest step giving one tick.
    """
    return date_tick_plan(start, end, max_ticks)[1]


def date_label(day: date, unit: str) -> str:
    if unit in ("day", "week"):
        return f"{MONTHS[day.month - 1]} {day.day}"
    if unit == "month":
        return f"{MONTHS[day.month - 1]} '{day.year % 100:02d}"
    return str(day.year)


def x_coord(value: Any) -> tuple[str, float] | None:
    """("date", days since 0001-01-01) or ("number", value); None when unusable."""
    try:
        if isinstance(value, np.datetime64):
            if np.isnat(value):
                return None
            value = value.astype("datetime64[us]").item()
        if isinstance(value, str):
            value = datetime.fromisoformat(value.strip())
        if isinstance(value, datetime):
            seconds = value.hour * 3600 + value.minute * 60 + value.second
            return "date", value.toordinal() + seconds / 86400.0
        if isinstance(value, date):
            return "date", float(value.toordinal())
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, bool):
        return None
    number = plottable(value)
    return None if number is None else ("number", number)


def x_str(kind: str, coord: float) -> str:
    if kind == "date":
        return date.fromordinal(math.floor(coord)).isoformat()
    return f"{coord:g}"
