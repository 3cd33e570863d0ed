"""Server-rendered SVG charts for the dashboard: no JavaScript, no CDN, works offline.

Every public chart function is pure: plain Python numbers, lists and dicts in, one
``<svg>`` string out, safe to embed in HTML (every piece of text goes through
``html.escape``). The same input always gives the same string.

Charts are responsive (a ``viewBox`` and ``width="100%"``, never a fixed pixel
width) and sized for a 360 px phone screen: the viewBox is 360 units wide by
default, so text stays near its nominal size on a phone. Each chart has a
``<title>``, a ``<desc>`` summarising the data, ``role="img"`` and an
``aria-label``, axis labels in text, and its N in text.

Bad data never raises: non-finite values (None, NaN, inf, unparsable, or beyond
±1e15) are skipped,
and a chart with nothing left to draw is a small SVG saying "no data". Colours are
presentation attributes, so the SVG renders standalone, and every element carries
a class so the page stylesheet can restyle it; text uses ``currentColor`` and
follows the page's text colour (dark mode included).
"""

from __future__ import annotations

import html
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from nbaprops.core.metrics import (
    BREAK_EVEN_110,
    ReliabilityBin,
    probability_metrics,
    wilson_interval,
)

__all__ = [
    "BREAK_EVEN_110",
    "DEFAULT_WIDTH",
    "band_chart",
    "date_ticks",
    "grouped_bar_chart",
    "interval_bar_chart",
    "line_chart",
    "nice_ticks",
    "no_data_svg",
    "reliability_bins",
    "reliability_chart",
    "rolling_hit_rate",
    "sparkline",
]

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
_TICK_STEPS = (1.0, 2.0, 2.5, 5.0)
_DATE_STEPS: tuple[tuple[str, int], ...] = (
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


# --- small helpers ----------------------------------------------------------------------


# Characters XML 1.0 forbids (C0 controls other than tab/newline/return, lone
# surrogates, U+FFFE/U+FFFF); html.escape leaves them, so they are dropped first.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: Any) -> str:
    """Text or attribute value safe in HTML and in XML: escaped, XML-invalid characters dropped."""
    return html.escape(_NOT_XML.sub("", str(text)), quote=True)


def _c(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, never "-0"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _finite(value: Any) -> float | None:
    """The value as a plottable float, or None (None, NaN, inf, pd.NA, text, |v| > 1e15)."""
    if value is None or isinstance(value, str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_ABS else None


def _text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def _value_text(value: float, y_format: YFormat) -> str:
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


def _fit(text: str, size: float, max_width: float) -> str:
    """The text, cut with an ellipsis to fit ``max_width`` (the full text stays in <desc>)."""
    if _text_width(text, size) <= max_width:
        return text
    keep = max(1, int(max_width / (size * CHAR_WIDTH)) - 1)
    return text[:keep].rstrip() + "…"


def _wrap(text: str, size: float, max_width: float, max_lines: int = 2) -> list[str]:
    """The text broken at spaces into lines that fit ``max_width`` (a phone-wide chart
    keeps its whole title); past ``max_lines`` the last line is cut with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and _text_width(candidate, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(" ".join(lines[max_lines - 1 :]), size, max_width)]
    return [_fit(line, size, max_width) for line in lines] or [""]


def _count_text(n: int) -> str:
    return f"{n:,}"


def _compact_count(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def _as_count(value: Any) -> int | None:
    number = _finite(value)
    return None if number is None or number < 0 else round(number)


# --- ticks ------------------------------------------------------------------------------


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
        for m in _TICK_STEPS:
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


def _tick_labels(ticks: Sequence[float], y_format: YFormat) -> list[str]:
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


def _date_ticks(start: date, end: date, max_ticks: int) -> tuple[str, list[date]]:
    start, end = min(start, end), max(start, end)
    limit = max(1, max_ticks)
    fallback: tuple[str, list[date]] | None = None
    for unit, step in _DATE_STEPS:
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
    return _date_ticks(start, end, max_ticks)[1]


def _date_label(day: date, unit: str) -> str:
    if unit in ("day", "week"):
        return f"{MONTHS[day.month - 1]} {day.day}"
    if unit == "month":
        return f"{MONTHS[day.month - 1]} '{day.year % 100:02d}"
    return str(day.year)


# --- x values ---------------------------------------------------------------------------


def _x_coord(value: Any) -> tuple[str, float] | None:
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
    number = _finite(value)
    return None if number is None else ("number", number)


def _x_text(kind: str, coord: float) -> str:
    if kind == "date":
        return date.fromordinal(math.floor(coord)).isoformat()
    return f"{coord:g}"


# --- SVG building -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


@dataclass
class _Layout:
    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        """Top of the plot area."""
        return self.top

    @property
    def y1(self) -> float:
        """Bottom of the plot area (the x axis)."""
        return self.height - self.bottom


@dataclass(frozen=True)
class _LegendItem:
    label: str
    color: str
    shape: Literal["line", "box", "band", "ref", "dot"]
    dash: str = ""


@dataclass
class _Svg:
    """An SVG being built; the root tag is written on ``close`` so the height can still grow."""

    cls: str
    width: float
    height: float
    label: str
    title: str
    desc: str
    parts: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = TEXT_SIZE,
        anchor: str = "start",
        cls: str = "label",
        bold: bool = False,
        rotate: float | None = None,
    ) -> None:
        attrs = f'x="{_c(x)}" y="{_c(y)}" class="{cls}" font-size="{_c(size)}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if bold:
            attrs += ' font-weight="600"'
        if rotate is not None:
            attrs += f' transform="rotate({_c(rotate)} {_c(x)} {_c(y)})"'
        self.add(f'<text {attrs} fill="currentColor">{_esc(content)}</text>')

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        cls: str,
        stroke: str = "currentColor",
        width: float = 1.0,
        dash: str = "",
        opacity: float | None = None,
    ) -> None:
        attrs = (
            f'x1="{_c(x1)}" y1="{_c(y1)}" x2="{_c(x2)}" y2="{_c(y2)}" class="{cls}" '
            f'stroke="{stroke}" stroke-width="{_c(width)}"'
        )
        if dash:
            attrs += f' stroke-dasharray="{dash}"'
        if opacity is not None:
            attrs += f' stroke-opacity="{_c(opacity)}"'
        self.add(f"<line {attrs}/>")

    def close(self) -> str:
        head = (
            f'<svg xmlns="{SVG_NS}" class="{self.cls}"'
            f' viewBox="0 0 {_c(self.width)} {_c(self.height)}" width="100%"'
            f' preserveAspectRatio="xMidYMid meet" role="img" aria-label="{_esc(self.label)}"'
            f' font-family="{_esc(FONT_FAMILY)}">'
        )
        titles = f"<title>{_esc(self.title)}</title>"
        if self.desc:
            titles += f"<desc>{_esc(self.desc)}</desc>"
        return "".join([head, titles, *self.parts, "</svg>"])


def _open(kind: str, width: float, height: float, title: str, desc: str) -> _Svg:
    return _Svg(f"chart chart-{kind}", width, height, title, title, desc)


def no_data_svg(
    title: str, message: str = "no data", *, width: int = DEFAULT_WIDTH, height: int = 72
) -> str:
    """A small placeholder chart saying there is nothing to draw."""
    svg = _open("empty", width, height, title, f"{title}: {message}")
    if height >= 48:
        svg.text(
            8,
            18,
            _fit(title, TITLE_SIZE * 1.05, width - 16),
            size=TITLE_SIZE,
            cls="chart-title",
            bold=True,
        )
        y = (height + 18) / 2 + TEXT_SIZE * 0.35
    else:
        y = height / 2 + TEXT_SIZE * 0.35
    svg.text(width / 2, y, message, anchor="middle", cls="nodata")
    return svg.close()


def _legend_rows(items: Sequence[_LegendItem], width: float) -> list[list[_LegendItem]]:
    rows: list[list[_LegendItem]] = []
    used = math.inf
    for item in items:
        item_width = min(width - 16, 22 + _text_width(item.label, TEXT_SIZE) + 12)
        if used + item_width > width - 16 and (not rows or rows[-1]):
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += item_width
    return rows


def _header(svg: _Svg, title: str, note: str, legend: Sequence[_LegendItem], width: float) -> float:
    """Title, note and legend at the top; returns the height they take."""
    y = 1.0
    for line in _wrap(title, TITLE_SIZE * 1.05, width - 16):
        y += 16
        svg.text(8, y, line, size=TITLE_SIZE, cls="chart-title", bold=True)
    for line in _wrap(note, TICK_SIZE, width - 16) if note else []:
        y += 14
        svg.text(8, y, line, size=TICK_SIZE, cls="note")
    for row in _legend_rows(legend, width):
        y += 16
        x = 8.0
        for item in row:
            _legend_swatch(svg, item, x, y - TEXT_SIZE * 0.35)
            svg.text(x + 22, y, _fit(item.label, TEXT_SIZE, width - x - 30), cls="legend")
            x += 22 + _text_width(item.label, TEXT_SIZE) + 12
    return y + 10


def _legend_swatch(svg: _Svg, item: _LegendItem, x: float, y: float) -> None:
    if item.shape in ("line", "ref"):
        svg.line(
            x,
            y,
            x + 18,
            y,
            cls="swatch",
            stroke=item.color,
            width=2 if item.shape == "line" else 1.2,
            dash=item.dash,
        )
    elif item.shape == "dot":
        svg.add(f'<circle class="swatch" cx="{_c(x + 9)}" cy="{_c(y)}" r="4" fill="{item.color}"/>')
    else:
        opacity = ' fill-opacity="0.22"' if item.shape == "band" else ""
        svg.add(
            f'<rect class="swatch" x="{_c(x + 2)}" y="{_c(y - 5)}" width="14" height="10"'
            f' fill="{item.color}"{opacity}/>'
        )


def _y_axis_width(labels: Sequence[str], y_label: str) -> float:
    widest = max((_text_width(t, TICK_SIZE) for t in labels), default=0.0)
    return 8 + (16 if y_label else 0) + widest + 6


def _draw_y_axis(
    svg: _Svg,
    lay: _Layout,
    scale: _Scale,
    ticks: Sequence[float],
    labels: Sequence[str],
    title: str,
) -> None:
    for tick, label in zip(ticks, labels, strict=True):
        y = scale(tick)
        is_zero = tick == 0 and ticks[0] < 0 < ticks[-1]
        svg.line(
            lay.x0,
            y,
            lay.x1,
            y,
            cls="grid zero" if is_zero else "grid",
            opacity=0.45 if is_zero else 0.15,
        )
        svg.text(lay.x0 - 5, y + TICK_SIZE * 0.35, label, size=TICK_SIZE, anchor="end", cls="tick")
    if title:
        middle = (lay.y0 + lay.y1) / 2
        svg.text(12, middle, title, anchor="middle", cls="axis-label", rotate=-90)


def _draw_x_axis(
    svg: _Svg,
    lay: _Layout,
    scale: _Scale,
    ticks: Sequence[float],
    labels: Sequence[str],
    title: str,
) -> None:
    svg.line(lay.x0, lay.y1, lay.x1, lay.y1, cls="axis", opacity=0.6)
    for tick, label in zip(ticks, labels, strict=True):
        x = scale(tick)
        svg.line(x, lay.y1, x, lay.y1 + 4, cls="axis", opacity=0.6)
        half = _text_width(label, TICK_SIZE) / 2
        x_text = min(max(x, half + 2), lay.width - half - 2)
        svg.text(x_text, lay.y1 + 16, label, size=TICK_SIZE, anchor="middle", cls="tick")
    if title:
        svg.text((lay.x0 + lay.x1) / 2, lay.y1 + 32, title, anchor="middle", cls="axis-label")


def _reference(svg: _Svg, lay: _Layout, scale: _Scale, value: float) -> None:
    """A dashed horizontal reference line; its label lives in the legend, clear of the data."""
    y = scale(value)
    svg.line(lay.x0, y, lay.x1, y, cls="ref", width=1.2, dash=REFERENCE_DASH, opacity=0.8)


def _reference_item(value: float, label: str, y_format: YFormat) -> _LegendItem:
    text = f"{label} ({_value_text(value, y_format)})" if label else _value_text(value, y_format)
    return _LegendItem(
        f"reference: {text}" if not label else text, "currentColor", "ref", REFERENCE_DASH
    )


def _points_attr(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_c(x)},{_c(y)}" for x, y in points)


# --- line and band charts ---------------------------------------------------------------


_Parsed = list[tuple[float, float]]


def _parse_xy(points: Any, kind: str | None) -> tuple[_Parsed, str | None, list[list[float]]]:
    """(x, y, *extra) rows -> sorted finite (x, y), the x kind, and each row's extras."""
    rows: list[tuple[float, float, list[float]]] = []
    for point in points or ():
        try:
            x_raw, y_raw, *extra = point
        except (TypeError, ValueError):
            continue
        coord = _x_coord(x_raw)
        y = _finite(y_raw)
        if coord is None or y is None:
            continue
        if kind is None:
            kind = coord[0]
        elif coord[0] != kind:
            continue
        extras = [math.nan if (f := _finite(v)) is None else f for v in extra]
        rows.append((coord[1], y, extras))
    rows.sort(key=lambda r: r[0])
    return [(x, y) for x, y, _ in rows], kind, [e for _, _, e in rows]


def _x_axis(
    kind: str, lo: float, hi: float, plot_width: float
) -> tuple[tuple[float, float], list[float], list[str], str]:
    """Domain, ticks, labels and a range note for the x axis."""
    if kind == "date":
        span = f"{_x_text(kind, lo)} to {_x_text(kind, hi)}" if hi > lo else _x_text(kind, lo)
        if hi - lo < 1:
            lo, hi = lo - 1, hi + 1
        lo, hi = max(lo, 1.0), min(hi, float(date.max.toordinal()))  # date.fromordinal's range
        max_ticks = max(2, int(plot_width // (_text_width("Mar '25", TICK_SIZE) + 14)))
        first, last = date.fromordinal(math.ceil(lo)), date.fromordinal(math.floor(hi))
        unit, days = _date_ticks(first, last, max_ticks)
        ticks = [float(d.toordinal()) for d in days]
        labels = [_date_label(d, unit) for d in days]
        return (lo, hi), ticks, labels, span
    max_ticks = max(2, min(7, int(plot_width // 44)))
    ticks = nice_ticks(lo, hi, max_ticks)
    return (ticks[0], ticks[-1]), ticks, _tick_labels(ticks, "number"), ""


@dataclass(frozen=True)
class _Band:
    points: list[tuple[float, float, float]]  # x, low, high
    color: str


def _xy_chart(
    kind_name: str,
    *,
    title: str,
    desc: str,
    note: str,
    legend: Sequence[_LegendItem],
    x_kind: str,
    lines: Sequence[tuple[str, _Parsed, str, str]],  # label, points, colour, dash
    bands: Sequence[_Band],
    reference: float | None,
    y_format: YFormat,
    x_label: str,
    y_label: str,
    width: int,
    height: int,
) -> str:
    xs = [x for _, pts, _, _ in lines for x, _ in pts]
    ys = [y for _, pts, _, _ in lines for _, y in pts]
    for band in bands:
        for x, low, high in band.points:
            xs.append(x)
            ys.extend(v for v in (low, high) if math.isfinite(v))
    if reference is not None:
        ys.append(reference)
    y_ticks = nice_ticks(min(ys), max(ys), 6)
    y_labels = _tick_labels(y_ticks, y_format)

    svg = _open(kind_name, width, height, title, desc)
    top = _header(svg, title, note, legend, width)
    lay = _Layout(width, height, _y_axis_width(y_labels, y_label), 12, top, 42 if x_label else 26)
    if lay.y1 - lay.y0 < 60:  # keep a usable plot even under a tall legend
        lay.height = svg.height = lay.y0 + 60 + lay.bottom
    (x_lo, x_hi), x_ticks, x_labels, span = _x_axis(x_kind, min(xs), max(xs), lay.x1 - lay.x0)
    if span:
        x_label = f"{x_label} ({span})" if x_label else span
    x_scale = _Scale(x_lo, x_hi, lay.x0, lay.x1)
    y_scale = _Scale(y_ticks[0], y_ticks[-1], lay.y1, lay.y0)

    _draw_y_axis(svg, lay, y_scale, y_ticks, y_labels, y_label)
    _draw_x_axis(svg, lay, x_scale, x_ticks, x_labels, x_label)
    for i, band in enumerate(bands):
        finite = [
            (x, lo, hi) for x, lo, hi in band.points if math.isfinite(lo) and math.isfinite(hi)
        ]
        if len(finite) >= 2:
            outline = [(x_scale(x), y_scale(hi)) for x, _, hi in finite]
            outline += [(x_scale(x), y_scale(lo)) for x, lo, _ in reversed(finite)]
            svg.add(
                f'<polygon class="band s{i}" points="{_points_attr(outline)}"'
                f' fill="{band.color}" fill-opacity="0.22" stroke="none"/>'
            )
        elif len(finite) == 1:
            x, lo, hi = finite[0]
            svg.line(
                x_scale(x),
                y_scale(lo),
                x_scale(x),
                y_scale(hi),
                cls=f"band s{i}",
                stroke=band.color,
                width=3,
                opacity=0.35,
            )
    if reference is not None:
        _reference(svg, lay, y_scale, reference)
    for i, (label, pts, color, dash) in enumerate(lines):
        if not pts:
            continue
        coords = [(x_scale(x), y_scale(y)) for x, y in pts]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        svg.add(
            f'<polyline class="series s{i}" points="{_points_attr(coords)}" fill="none"'
            f' stroke="{color}" stroke-width="2" stroke-linejoin="round"{dash_attr}/>'
        )
        if len(pts) <= MARKER_LIMIT:
            for (x, y), (cx, cy) in zip(pts, coords, strict=True):
                tip = f"{label}, {_x_text(x_kind, x)}: {_value_text(y, y_format)}"
                svg.add(
                    f'<circle class="point s{i}" cx="{_c(cx)}" cy="{_c(cy)}" r="2.5"'
                    f' fill="{color}"><title>{_esc(tip)}</title></circle>'
                )
    return svg.close()


def line_chart(
    series: Mapping[str, Sequence[Any]],
    *,
    title: str,
    x_label: str = "date",
    y_label: str = "",
    y_format: YFormat = "number",
    n: Mapping[str, int] | None = None,
    note: str = "",
    reference: float | None = None,
    reference_label: str = "",
    width: int = DEFAULT_WIDTH,
    height: int = 240,
) -> str:
    """Lines over time, e.g. cumulative ROI at consensus vs best price, or closing line value.

    ``series`` maps a label to ``(x, y)`` points; x is a date, datetime, ISO date
    string or number (the first usable x decides which; points of the other kind are
    skipped), y a number (``y_format="percent"`` for fractions such as ROI 0.034).
    Points are sorted by x; non-finite ones are skipped. ``n`` gives each series'
    N for the legend (bets, not points); without it the legend counts points. A
    zero line is emphasised when the axis spans 0; ``reference`` adds a dashed line.
    """
    kind: str | None = None
    lines: list[tuple[str, _Parsed, str, str]] = []
    for i, (label, points) in enumerate(series.items()):
        parsed, kind, _ = _parse_xy(points, kind)
        lines.append((str(label), parsed, PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]))
    if kind is None:
        return no_data_svg(title, width=width)

    legend = []
    summary = []
    for label, pts, color, dash in lines:
        count = (n or {}).get(label)
        n_text = f"N={_count_text(count)}" if count is not None else f"{len(pts)} points"
        if pts:
            last = _value_text(pts[-1][1], y_format)
            legend.append(_LegendItem(f"{label}: last {last}, {n_text}", color, "line", dash))
            summary.append(f"{label} ends at {last} ({n_text})")
        else:
            legend.append(_LegendItem(f"{label}: no data", color, "line", dash))
            summary.append(f"{label} has no data")
    if reference is not None:
        legend.append(_reference_item(reference, reference_label, y_format))
        summary.append(f"dashed reference line at {legend[-1].label}")
    xs = [x for _, pts, _, _ in lines for x, _ in pts]
    desc = (
        f"Line chart of {y_label or 'value'} by {x_label or 'x'}, "
        f"{_x_text(kind, min(xs))} to {_x_text(kind, max(xs))}: " + "; ".join(summary) + "."
    )
    return _xy_chart(
        "line",
        title=title,
        desc=desc,
        note=note,
        legend=legend,
        x_kind=kind,
        lines=lines,
        bands=[],
        reference=reference,
        y_format=y_format,
        x_label=x_label,
        y_label=y_label,
        width=width,
        height=height,
    )


def band_chart(
    points: Sequence[Sequence[Any]],
    *,
    title: str,
    label: str = "hit rate",
    band_label: str = "95% interval",
    x_label: str = "date",
    y_label: str = "hit rate",
    y_format: YFormat = "percent",
    reference: float | None = BREAK_EVEN_110,
    reference_label: str = "break-even at -110",
    n: int | None = None,
    note: str = "",
    width: int = DEFAULT_WIDTH,
    height: int = 240,
) -> str:
    """A line with an interval band and a reference line, e.g. rolling hit rate vs 52.4%.

    ``points`` are ``(x, y, low, high)`` rows (a fifth element, such as the output
    of ``rolling_hit_rate``, is ignored). Rows with a non-finite y are skipped; a
    non-finite low/high only leaves a gap in the band. ``n`` (total bets) is shown
    in the legend; the window size belongs in ``note``.
    """
    parsed, kind, extras = _parse_xy(points, None)
    if kind is None:
        return no_data_svg(title, width=width)
    band_points = [
        (x, e[0] if len(e) > 0 else math.nan, e[1] if len(e) > 1 else math.nan)
        for (x, _), e in zip(parsed, extras, strict=True)
    ]
    color = PALETTE[0]
    last = _value_text(parsed[-1][1], y_format)
    n_text = f", N={_count_text(n)}" if n is not None else ""
    legend = [
        _LegendItem(f"{label}: last {last}{n_text}", color, "line"),
        _LegendItem(band_label, color, "band"),
    ]
    if reference is not None:
        legend.append(_reference_item(reference, reference_label, y_format))
    desc = (
        f"{label} by {x_label or 'x'} with its {band_label}, {_x_text(kind, parsed[0][0])} to "
        f"{_x_text(kind, parsed[-1][0])}, {len(parsed)} points{n_text}; last value {last}"
        + (
            f"; reference line at {_value_text(reference, y_format)} ({reference_label})"
            if reference is not None
            else ""
        )
        + "."
    )
    return _xy_chart(
        "band",
        title=title,
        desc=desc,
        note=note,
        legend=legend,
        x_kind=kind,
        lines=[(label, parsed, color, "")],
        bands=[_Band(band_points, color)],
        reference=reference,
        y_format=y_format,
        x_label=x_label,
        y_label=y_label,
        width=width,
        height=height,
    )


def rolling_hit_rate(
    bets: Iterable[Sequence[Any]], *, window: int = 100, min_bets: int = 30, z: float = 1.96
) -> list[tuple[Any, float, float, float, int]]:
    """Hit rate over the last ``window`` decided bets, with a Wilson interval, per x.

    ``bets`` are ``(x, won)`` rows, one per bet; ``won`` is truthy for a win, falsy
    for a loss, and None/NaN for a push, void or pass (skipped). Rows are ordered by
    x (stable). The result has one ``(x, rate, low, high, n_in_window)`` row per
    distinct x, taken after that x's last bet, once the window holds ``min_bets``.
    """
    window = max(1, int(window))
    rows: list[tuple[float, int, Any, int]] = []
    for i, bet in enumerate(bets):
        try:
            x_raw, won_raw = bet[0], bet[1]
        except (TypeError, IndexError, KeyError):
            continue
        coord = _x_coord(x_raw)
        won = _finite(won_raw) if not isinstance(won_raw, bool) else float(won_raw)
        if coord is None or won is None:
            continue
        rows.append((coord[1], i, x_raw, 1 if won else 0))
    rows.sort(key=lambda r: (r[0], r[1]))
    recent: deque[int] = deque()
    wins = 0
    out: list[tuple[Any, float, float, float, int]] = []
    for j, (coord, _, x_raw, won) in enumerate(rows):
        recent.append(won)
        wins += won
        if len(recent) > window:
            wins -= recent.popleft()
        is_last_of_x = j + 1 == len(rows) or rows[j + 1][0] != coord
        if is_last_of_x and len(recent) >= min_bets:
            low, high = wilson_interval(wins, len(recent), z)
            out.append((x_raw, wins / len(recent), low, high, len(recent)))
    return out


# --- bars -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CategoryAxis:
    rotate: bool
    label_size: float
    n_compact: bool
    n_size: float
    height: float


def _category_axis(
    labels: Sequence[str], counts: Sequence[int | None], slot: float
) -> _CategoryAxis:
    has_n = any(c is not None for c in counts)
    full = [f"N={_count_text(c)}" for c in counts if c is not None]
    n_compact = has_n and max(_text_width(t, TICK_SIZE) for t in full) > slot - 3
    n_size = TICK_SIZE
    if n_compact:
        widest = max(len(_compact_count(c)) for c in counts if c is not None)
        n_size = max(7.0, min(TICK_SIZE, (slot - 2) / (widest * CHAR_WIDTH)))
    label_width = max((_text_width(t, TICK_SIZE) for t in labels), default=0.0)
    rotate = label_width > slot - 3
    height = 6 + (14 if has_n else 0) + (label_width * 0.7 + 10 if rotate else 14)
    return _CategoryAxis(rotate, TICK_SIZE, n_compact, n_size, height)


def _draw_categories(
    svg: _Svg,
    lay: _Layout,
    labels: Sequence[str],
    counts: Sequence[int | None],
    slot: float,
    axis: _CategoryAxis,
    x_label: str,
) -> None:
    svg.line(lay.x0, lay.y1, lay.x1, lay.y1, cls="axis", opacity=0.6)
    has_n = any(c is not None for c in counts)
    if axis.rotate or not has_n:  # slanted labels hang from the axis; N sits above them
        n_y, label_y = lay.y1 + 15, lay.y1 + (29 if has_n else 15)
    else:
        n_y, label_y = lay.y1 + 29, lay.y1 + 15
    if has_n and axis.n_compact:
        svg.text(lay.x0 - 5, n_y, "N", size=TICK_SIZE, anchor="end", cls="n-label", bold=True)
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        cx = lay.x0 + (i + 0.5) * slot
        if count is not None:
            text = _compact_count(count) if axis.n_compact else f"N={_count_text(count)}"
            svg.text(cx, n_y, text, size=axis.n_size, anchor="middle", cls="n-label")
        if axis.rotate:
            svg.text(
                cx + 3,
                label_y - 4,
                label,
                size=axis.label_size,
                anchor="end",
                cls="tick",
                rotate=-40,
            )
        else:
            svg.text(cx, label_y, label, size=axis.label_size, anchor="middle", cls="tick")
    if x_label:
        svg.text(
            (lay.x0 + lay.x1) / 2,
            lay.y1 + axis.height + 12,
            x_label,
            anchor="middle",
            cls="axis-label",
        )


def _headroom(lo: float, hi: float) -> float:
    """Room above the tallest bar or whisker for its value label."""
    return hi + (hi - lo) * 0.08 if hi > 0 else hi


def _bar_layout(
    svg: _Svg,
    title: str,
    note: str,
    legend: Sequence[_LegendItem],
    labels: Sequence[str],
    counts: Sequence[int | None],
    y_labels: Sequence[str],
    y_label: str,
    x_label: str,
    width: int,
    height: int,
) -> tuple[_Layout, float, _CategoryAxis]:
    top = _header(svg, title, note, legend, width)
    left = max(_y_axis_width(y_labels, y_label), 22.0)
    slot = (width - left - 10) / max(1, len(labels))
    axis = _category_axis(labels, counts, slot)
    bottom = axis.height + (20 if x_label else 4)
    plot_height = max(60.0, height - top - bottom)
    total = top + plot_height + bottom
    svg.height = total
    return _Layout(width, total, left, 10, top, bottom), slot, axis


def grouped_bar_chart(
    groups: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    *,
    title: str,
    n: Sequence[Any] | None = None,
    y_label: str = "",
    y_format: YFormat = "number",
    x_label: str = "",
    note: str = "",
    width: int = DEFAULT_WIDTH,
    height: int = 260,
) -> str:
    """Bars per group and series, e.g. model MAE vs line MAE by month, with N under each group.

    ``series`` maps a label to one value per group (aligned with ``groups``); a
    missing or non-finite value draws no bar. ``n`` is one count per group, printed
    under it (compact, under an "N" row header, when groups are narrow). The value
    axis always includes 0; crowded group labels are slanted.
    """
    labels = [str(g) for g in groups]
    names = [str(s) for s in series]
    values = [
        [_finite(v) for v in (list(vals) + [None] * len(labels))[: len(labels)]]
        for vals in series.values()
    ]
    finite = [v for row in values for v in row if v is not None]
    if not labels or not finite:
        return no_data_svg(title, width=width)
    counts = [_as_count(c) for c in (list(n or []) + [None] * len(labels))[: len(labels)]]

    lo, hi = min([0.0, *finite]), max([0.0, *finite])
    y_ticks = nice_ticks(lo, _headroom(lo, hi), 6)
    y_labels = _tick_labels(y_ticks, y_format)
    legend = [_LegendItem(name, PALETTE[j % len(PALETTE)], "box") for j, name in enumerate(names)]
    desc_groups = []
    for i, label in enumerate(labels):
        parts = [
            f"{name} {_value_text(row[i], y_format) if row[i] is not None else 'no data'}"
            for name, row in zip(names, values, strict=True)
        ]
        n_part = f", N={_count_text(counts[i])}" if counts[i] is not None else ""
        desc_groups.append(f"{label}: " + ", ".join(parts) + n_part)
    desc = f"Grouped bar chart of {y_label or 'value'} by group. " + "; ".join(desc_groups) + "."

    svg = _open("bars", width, height, title, desc)
    lay, slot, axis = _bar_layout(
        svg, title, note, legend, labels, counts, y_labels, y_label, x_label, width, height
    )
    y_scale = _Scale(y_ticks[0], y_ticks[-1], lay.y1, lay.y0)
    _draw_y_axis(svg, lay, y_scale, y_ticks, y_labels, y_label)
    bar_width = slot * 0.8 / max(1, len(names))
    base = y_scale(0.0)
    for i, label in enumerate(labels):
        for j, (name, row) in enumerate(zip(names, values, strict=True)):
            value = row[i]
            if value is None:
                continue
            x = lay.x0 + i * slot + slot * 0.1 + j * bar_width
            y = y_scale(value)
            tip = f"{label}, {name}: {_value_text(value, y_format)}"
            svg.add(
                f'<rect class="bar s{j}" x="{_c(x)}" y="{_c(min(y, base))}"'
                f' width="{_c(bar_width - 1)}" height="{_c(abs(base - y))}"'
                f' fill="{PALETTE[j % len(PALETTE)]}"><title>{_esc(tip)}</title></rect>'
            )
            text = _value_text(value, y_format)
            if _text_width(text, 9) <= bar_width:
                svg.text(
                    x + bar_width / 2, min(y, base) - 3, text, size=9, anchor="middle", cls="value"
                )
    _draw_categories(svg, lay, labels, counts, slot, axis, x_label)
    return svg.close()


def _field(item: Any, *names: str) -> Any:
    if hasattr(item, "to_dict") and callable(item.to_dict):
        item = item.to_dict()
    for name in names:
        if isinstance(item, Mapping):
            if name in item:
                return item[name]
        elif hasattr(item, name):
            return getattr(item, name)
    return None


def interval_bar_chart(
    bars: Sequence[Any],
    *,
    title: str,
    y_label: str = "hit rate",
    x_label: str = "|edge| bucket (points)",
    y_format: YFormat = "percent",
    reference: float | None = BREAK_EVEN_110,
    reference_label: str = "break-even at -110",
    note: str = "",
    width: int = DEFAULT_WIDTH,
    height: int = 260,
) -> str:
    """Bars with interval whiskers and N, e.g. hit rate by edge bucket vs break-even.

    Each bar is a mapping (or object, e.g. ``metrics.GroupStats``) with ``label``,
    ``value`` (or ``hit_rate``), ``low``/``high`` (or ``ci_low``/``ci_high``) and
    ``n``. A bar with no finite value keeps its slot and N (N=0 buckets stay
    visible) but draws nothing; non-finite interval ends draw no whisker.
    """
    items = []
    for bar in bars or ():
        items.append(
            (
                str(_field(bar, "label") if _field(bar, "label") is not None else ""),
                _finite(_field(bar, "value", "hit_rate")),
                _finite(_field(bar, "low", "ci_low")),
                _finite(_field(bar, "high", "ci_high")),
                _as_count(_field(bar, "n")),
            )
        )
    finite = [v for _, value, low, high, _ in items for v in (value, low, high) if v is not None]
    if not finite:
        return no_data_svg(title, width=width)
    labels = [label for label, *_ in items]
    counts = [count for *_, count in items]
    bounds = [0.0, *finite, *([reference] if reference is not None else [])]
    y_ticks = nice_ticks(min(bounds), _headroom(min(bounds), max(bounds)), 6)
    y_labels = _tick_labels(y_ticks, y_format)
    color = PALETTE[0]
    legend = [_LegendItem(f"{y_label} with 95% interval", color, "box")]
    if reference is not None:
        legend.append(_reference_item(reference, reference_label, y_format))
    desc_items = []
    for label, value, low, high, count in items:
        text = f"{label}: " + (_value_text(value, y_format) if value is not None else "no data")
        if low is not None and high is not None:
            text += f" ({_value_text(low, y_format)} to {_value_text(high, y_format)})"
        if count is not None:
            text += f", N={_count_text(count)}"
        desc_items.append(text)
    desc = f"Bar chart of {y_label} by {x_label or 'group'}. " + "; ".join(desc_items) + "."

    svg = _open("intervals", width, height, title, desc)
    lay, slot, axis = _bar_layout(
        svg, title, note, legend, labels, counts, y_labels, y_label, x_label, width, height
    )
    y_scale = _Scale(y_ticks[0], y_ticks[-1], lay.y1, lay.y0)
    _draw_y_axis(svg, lay, y_scale, y_ticks, y_labels, y_label)
    base = y_scale(0.0)
    bar_width = slot * 0.6
    for i, (label, value, low, high, count) in enumerate(items):
        cx = lay.x0 + (i + 0.5) * slot
        if value is not None:
            y = y_scale(value)
            tip = f"{label}: {_value_text(value, y_format)}"
            if low is not None and high is not None:
                tip += f" ({_value_text(low, y_format)} to {_value_text(high, y_format)})"
            if count is not None:
                tip += f", N={_count_text(count)}"
            svg.add(
                f'<rect class="bar s0" x="{_c(cx - bar_width / 2)}" y="{_c(min(y, base))}"'
                f' width="{_c(bar_width)}" height="{_c(abs(base - y))}" fill="{color}"'
                f' fill-opacity="0.85"><title>{_esc(tip)}</title></rect>'
            )
        if low is not None and high is not None:
            y_low, y_high = y_scale(low), y_scale(high)
            cap = min(8.0, bar_width / 3)
            svg.line(cx, y_low, cx, y_high, cls="whisker", width=1.4)
            svg.line(cx - cap, y_low, cx + cap, y_low, cls="whisker", width=1.4)
            svg.line(cx - cap, y_high, cx + cap, y_high, cls="whisker", width=1.4)
        if value is not None:
            text = _value_text(value, y_format)
            top = min(y_scale(value), y_scale(high) if high is not None else lay.y1)
            if _text_width(text, 9) <= slot:
                svg.text(cx, max(lay.y0 + 8, top - 4), text, size=9, anchor="middle", cls="value")
    if reference is not None:
        _reference(svg, lay, y_scale, reference)
    _draw_categories(svg, lay, labels, counts, slot, axis, x_label)
    return svg.close()


# --- reliability ------------------------------------------------------------------------


def reliability_bins(
    p: npt.ArrayLike, outcome: npt.ArrayLike, n_bins: int = 10
) -> tuple[ReliabilityBin, ...]:
    """Equal-width reliability bins of P(over), from ``metrics.probability_metrics``.

    Rows where p or the outcome is missing or non-finite (pushes, voids, no
    probability) are dropped first; the rest must be valid (p in [0, 1], outcome 0
    or 1; booleans are fine), or ``probability_metrics`` raises ValueError.
    """
    ps = [_finite(v) for v in np.asarray(p, dtype=object).reshape(-1)]
    ys = [_finite(v) for v in np.asarray(outcome, dtype=object).reshape(-1)]
    if len(ps) != len(ys):
        raise ValueError(f"p and outcome differ in length: {len(ps)} vs {len(ys)}")
    keep = [(a, b) for a, b in zip(ps, ys, strict=True) if a is not None and b is not None]
    return probability_metrics(
        [a for a, _ in keep], [b for _, b in keep], n_bins=n_bins
    ).reliability


def reliability_chart(
    bins: Sequence[Any],
    *,
    title: str,
    x_label: str = "predicted P(over)",
    y_label: str = "observed over rate",
    note: str = "",
    width: int = DEFAULT_WIDTH,
    height: int = 360,
) -> str:
    """Reliability diagram: each bin's mean predicted P(over) against its observed rate.

    ``bins`` are ``metrics.ReliabilityBin`` objects or mappings with ``mean_p``,
    ``observed_rate`` and ``n`` (``p_low``/``p_high`` are used in tooltips when
    present). Empty or non-finite bins are skipped. Circle area grows with the bin's
    N and each point is labelled with its N; the dashed diagonal is perfect
    calibration.
    """
    points = []
    for b in bins or ():
        mean_p = _finite(_field(b, "mean_p"))
        observed = _finite(_field(b, "observed_rate"))
        count = _as_count(_field(b, "n"))
        if mean_p is None or observed is None or not count:
            continue
        points.append(
            (mean_p, observed, count, _finite(_field(b, "p_low")), _finite(_field(b, "p_high")))
        )
    if not points:
        return no_data_svg(title, width=width)
    points.sort(key=lambda t: t[0])
    total = sum(p[2] for p in points)
    largest = max(p[2] for p in points)
    color = PALETTE[0]
    legend = [
        _LegendItem(f"bins (area ~ N), N={_count_text(total)}", color, "dot"),
        _LegendItem("perfect calibration", "currentColor", "ref", REFERENCE_DASH),
    ]
    bin_texts = [
        f"predicted {_value_text(mp, 'percent')}, observed {_value_text(ob, 'percent')}, "
        f"N={_count_text(c)}"
        for mp, ob, c, _, _ in points
    ]
    desc = (
        f"Reliability diagram of {x_label} against {y_label}, {len(points)} non-empty bins, "
        f"N={_count_text(total)}. Points on the diagonal are perfectly calibrated. "
        + "; ".join(bin_texts)
        + "."
    )
    ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    labels = _tick_labels(ticks, "percent")
    svg = _open("reliability", width, height, title, desc)
    top = _header(svg, title, note, legend, width)
    lay = _Layout(width, height, _y_axis_width(labels, y_label), 12, top, 42)
    if lay.y1 - lay.y0 < 120:
        total_height = top + 120 + lay.bottom
        lay.height = svg.height = total_height
    x_scale = _Scale(0.0, 1.0, lay.x0, lay.x1)
    y_scale = _Scale(0.0, 1.0, lay.y1, lay.y0)
    _draw_y_axis(svg, lay, y_scale, ticks, labels, y_label)
    _draw_x_axis(svg, lay, x_scale, ticks, labels, x_label)
    svg.line(
        x_scale(0),
        y_scale(0),
        x_scale(1),
        y_scale(1),
        cls="ref diagonal",
        width=1.2,
        dash=REFERENCE_DASH,
        opacity=0.7,
    )
    coords = [(x_scale(mp), y_scale(ob)) for mp, ob, _, _, _ in points]
    svg.add(
        f'<polyline class="series s0" points="{_points_attr(coords)}" fill="none"'
        f' stroke="{color}" stroke-width="1.5" stroke-opacity="0.7"/>'
    )
    for (mp, ob, count, p_low, p_high), (cx, cy) in zip(points, coords, strict=True):
        radius = 2.5 + 6.5 * math.sqrt(count / largest)
        span = ""
        if p_low is not None and p_high is not None:
            span = f"bin {_value_text(p_low, 'percent')} to {_value_text(p_high, 'percent')}: "
        tip = (
            f"{span}predicted {_value_text(mp, 'percent')}, observed "
            f"{_value_text(ob, 'percent')}, N={_count_text(count)}"
        )
        svg.add(
            f'<circle class="point s0" cx="{_c(cx)}" cy="{_c(cy)}" r="{_c(radius)}"'
            f' fill="{color}" fill-opacity="0.75" stroke="{color}">'
            f"<title>{_esc(tip)}</title></circle>"
        )
        above = cy - radius - 3
        label_y = above if above - TICK_SIZE > lay.y0 - 4 else cy + radius + TICK_SIZE + 1
        svg.text(cx, label_y, _compact_count(count), size=9.5, anchor="middle", cls="n-label")
    return svg.close()


# --- sparkline --------------------------------------------------------------------------


def sparkline(
    values: Sequence[Any],
    *,
    label: str = "trend",
    y_format: YFormat = "number",
    reference: float | None = None,
    width: int = 100,
    height: int = 24,
) -> str:
    """A tiny line for a table cell (style it with ``svg.spark``, e.g. 6em wide).

    Values are drawn in order with equal spacing; non-finite ones are skipped. The
    last point is marked; ``reference`` draws a faint horizontal line (e.g. 0 or
    break-even) when it is inside the range. The aria-label carries the numbers.
    """
    ys = [v for v in (_finite(v) for v in values or ()) if v is not None]
    if not ys:
        svg = _Svg("spark", width, height, f"{label}: no data", f"{label}: no data", "")
        svg.text(width / 2, height / 2 + 3, "no data", size=8, anchor="middle", cls="nodata")
        return svg.close()
    lo, hi = min(ys), max(ys)
    pad = 2.5
    x_scale = _Scale(0, max(1, len(ys) - 1), pad, width - pad)
    y_scale = _Scale(lo, hi, height - pad, pad)
    summary = (
        f"{label}: {len(ys)} values, first {_value_text(ys[0], y_format)}, last "
        f"{_value_text(ys[-1], y_format)}, low {_value_text(lo, y_format)}, "
        f"high {_value_text(hi, y_format)}"
    )
    svg = _Svg("spark", width, height, summary, summary, "")
    if reference is not None and lo <= reference <= hi:
        y = y_scale(reference)
        svg.line(0, y, width, y, cls="ref", width=0.8, dash="2 2", opacity=0.5)
    coords = [(x_scale(i), y_scale(v)) for i, v in enumerate(ys)]
    if len(coords) == 1:
        coords = [(pad, coords[0][1]), (width - pad, coords[0][1])]
    svg.add(
        f'<polyline class="series s0" points="{_points_attr(coords)}" fill="none"'
        f' stroke="{PALETTE[0]}" stroke-width="1.5" stroke-linejoin="round"/>'
    )
    cx, cy = coords[-1]
    svg.add(f'<circle class="point s0" cx="{_c(cx)}" cy="{_c(cy)}" r="2" fill="{PALETTE[0]}"/>')
    return svg.close()
