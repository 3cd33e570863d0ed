"""Shared pieces of the dashboard's SVG charts: sizes, fonts, palette and dashes, and
the small helpers every chart uses (escaping, number and count text, text width and
fitting, finite values).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, Literal

from nbaprops.core.values import finite_or_none

YFormat = Literal["number", "percent", "count"]


SVG_NS = "http://www.w3.org/2000/svg"


DEFAULT_WIDTH = 360


TITLE_SIZE = 13.0


TEXT_SIZE = 11.0


TICK_SIZE = 10.5


CHAR_WIDTH = 0.58  # average glyph width of the system sans-serif stack, in ems


FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"


# Mid-tone colours with at least 3:1 contrast on both white and near-black
# backgrounds; series also differ by dash pattern, so colour is never the only cue.
PALETTE = ("#3a7dc9", "#d9730d", "#2e9e6a", "#b04aa0", "#8c6d1f", "#5b6bbf")


DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 2", "1 2")


REFERENCE_DASH = "5 4"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# Larger magnitudes are treated like NaN: no figure here comes near, and it keeps
# every range, scale and coordinate comfortably finite.
MAX_ABS = 1e15


MARKER_LIMIT = 40  # draw a marker (with a tooltip) per point when a series has at most this many


TICK_STEPS = (1.0, 2.0, 2.5, 5.0)


DATE_STEPS: tuple[tuple[str, int], ...] = (
    ("day", 1),
    ("day", 2),
    ("day", 3),
    ("week", 1),
    ("week", 2),
    ("month", 1),
    ("month", 2),
    ("month", 3),
    ("month", 6),
    ("year", 1),
    ("year", 2),
    ("year", 5),
    ("year", 10),
    ("year", 25),
    ("year", 100),
)


# Characters XML 1.0 forbids (C0 controls other than tab/newline/return, lone
# surrogates, U+FFFE/U+FFFF); html.escape leaves them, so they are dropped first.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: Any) -> str:
    """Text or attribute value safe in HTML and in XML: escaped, XML-invalid characters dropped."""
    return html.escape(NOT_XML.sub("", str(text)), quote=True)


def fmt(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, never "-0"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def plottable(value: Any) -> float | None:
    """The value as a plottable float, or None: ``core.values.finite_or_none`` (None, NaN,
    inf), and also text, anything not a number (pd.NA) and |v| > 1e15. A bool plots as
    0 or 1 (an outcome)."""
    if isinstance(value, str):
        return None
    try:
        number = finite_or_none(float(value) if isinstance(value, bool) else value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and abs(number) <= MAX_ABS else None


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def value_text(value: float, y_format: YFormat) -> str:
    """A data value for labels and tooltips."""
    if y_format == "percent":
        return f"{value * 100:.1f}%"
    if y_format == "count":
        return f"{value:,.0f}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fit_text(text: str, size: float, max_width: float) -> str:
    """The text, cut with an ellipsis to fit ``max_width`` (the full text stays in <desc>)."""
    if text_width(text, size) <= max_width:
        return text
    keep = max(1, int(max_width / (size * CHAR_WIDTH)) - 1)
    return text[:keep].rstrip() + "…"


def wrap_text(text: str, size: float, max_width: float, max_lines: int = 2) -> list[str]:
    """The text broken at spaces into lines that fit ``max_width`` (a phone-wide chart
    keeps its whole title); past ``max_lines`` the last line is cut with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [
            *lines[: max_lines - 1],
            fit_text(" ".join(lines[max_lines - 1 :]), size, max_width),
        ]
    return [fit_text(line, size, max_width) for line in lines] or [""]


def count_text(n: int) -> str:
    return f"{n:,}"


def compact_count(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def as_count(value: Any) -> int | None:
    number = plottable(value)
    return None if number is None or number < 0 else round(number)


def field_of(item: Any, *names: str) -> Any:
    if hasattr(item, "to_dict") and callable(item.to_dict):
        item = item.to_dict()
    for name in names:
        if isinstance(item, Mapping):
            if name in item:
                return item[name]
        elif hasattr(item, name):
            return getattr(item, name)
    return None
