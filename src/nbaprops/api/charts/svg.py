"""The SVG builder the charts share: the element writer, scales and layout, the header
with its wrapped title and legend, the axes, the reference line, and the "no data"
chart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from nbaprops.api.charts.common import (
    DEFAULT_WIDTH,
    FONT_FAMILY,
    REFERENCE_DASH,
    SVG_NS,
    TEXT_SIZE,
    TICK_SIZE,
    TITLE_SIZE,
    YFormat,
    esc,
    fit_text,
    fmt,
    text_width,
    value_text,
    wrap_text,
)


@dataclass(frozen=True)
class Scale:
    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


@dataclass
class Layout:
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
class LegendItem:
    label: str
    color: str
    shape: Literal["line", "box", "band", "ref", "dot"]
    dash: str = ""


@dataclass
class Svg:
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
        attrs = f'x="{fmt(x)}" y="{fmt(y)}" class="{cls}" font-size="{fmt(size)}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if bold:
            attrs += ' font-weight="600"'
        if rotate is not None:
            attrs += f' transform="rotate({fmt(rotate)} {fmt(x)} {fmt(y)})"'
        self.add(f'<text {attrs} fill="currentColor">{esc(content)}</text>')

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
            f'x1="{fmt(x1)}" y1="{fmt(y1)}" x2="{fmt(x2)}" y2="{fmt(y2)}" class="{cls}" '
            f'stroke="{stroke}" stroke-width="{fmt(width)}"'
        )
        if dash:
            attrs += f' stroke-dasharray="{dash}"'
        if opacity is not None:
            attrs += f' stroke-opacity="{fmt(opacity)}"'
        self.add(f"<line {attrs}/>")

    def close(self) -> str:
        head = (
            f'<svg xmlns="{SVG_NS}" class="{self.cls}"'
            f' viewBox="0 0 {fmt(self.width)} {fmt(self.height)}" width="100%"'
            f' preserveAspectRatio="xMidYMid meet" role="img" aria-label="{esc(self.label)}"'
            f' font-family="{esc(FONT_FAMILY)}">'
        )
        titles = f"<title>{esc(self.title)}</title>"
        if self.desc:
            titles += f"<desc>{esc(self.desc)}</desc>"
        return "".join([head, titles, *self.parts, "</svg>"])


def open_svg(kind: str, width: float, height: float, title: str, desc: str) -> Svg:
    return Svg(f"chart chart-{kind}", width, height, title, title, desc)


def no_data_svg(
    title: str, message: str = "no data", *, width: int = DEFAULT_WIDTH, height: int = 72
) -> str:
    """A small placeholder chart saying there is nothing to draw."""
    svg = open_svg("empty", width, height, title, f"{title}: {message}")
    if height >= 48:
        svg.text(
            8,
            18,
            fit_text(title, TITLE_SIZE * 1.05, width - 16),
            size=TITLE_SIZE,
            cls="chart-title",
            bold=True,
        )
        y = (height + 18) / 2 + TEXT_SIZE * 0.35
    else:
        y = height / 2 + TEXT_SIZE * 0.35
    svg.text(width / 2, y, message, anchor="middle", cls="nodata")
    return svg.close()


def _legend_rows(items: Sequence[LegendItem], width: float) -> list[list[LegendItem]]:
    rows: list[list[LegendItem]] = []
    used = math.inf
    for item in items:
        item_width = min(width - 16, 22 + text_width(item.label, TEXT_SIZE) + 12)
        if used + item_width > width - 16 and (not rows or rows[-1]):
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += item_width
    return rows


def draw_header(
    svg: Svg, title: str, note: str, legend: Sequence[LegendItem], width: float
) -> float:
    """Title, note and legend at the top; returns the height they take."""
    y = 1.0
    for line in wrap_text(title, TITLE_SIZE * 1.05, width - 16):
        y += 16
        svg.text(8, y, line, size=TITLE_SIZE, cls="chart-title", bold=True)
    for line in wrap_text(note, TICK_SIZE, width - 16) if note else []:
        y += 14
        svg.text(8, y, line, size=TICK_SIZE, cls="note")
    for row in _legend_rows(legend, width):
        y += 16
        x = 8.0
        for item in row:
            _legend_swatch(svg, item, x, y - TEXT_SIZE * 0.35)
            svg.text(x + 22, y, fit_text(item.label, TEXT_SIZE, width - x - 30), cls="legend")
            x += 22 + text_width(item.label, TEXT_SIZE) + 12
    return y + 10


def _legend_swatch(svg: Svg, item: LegendItem, x: float, y: float) -> None:
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
        svg.add(
            f'<circle class="swatch" cx="{fmt(x + 9)}" cy="{fmt(y)}" r="4" fill="{item.color}"/>'
        )
    else:
        opacity = ' fill-opacity="0.22"' if item.shape == "band" else ""
        svg.add(
            f'<rect class="swatch" x="{fmt(x + 2)}" y="{fmt(y - 5)}" width="14" height="10"'
            f' fill="{item.color}"{opacity}/>'
        )


def y_axis_width(labels: Sequence[str], y_label: str) -> float:
    widest = max((text_width(t, TICK_SIZE) for t in labels), default=0.0)
    return 8 + (16 if y_label else 0) + widest + 6


def draw_y_axis(
    svg: Svg,
    lay: Layout,
    scale: Scale,
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


def draw_x_axis(
    svg: Svg,
    lay: Layout,
    scale: Scale,
    ticks: Sequence[float],
    labels: Sequence[str],
    title: str,
) -> None:
    svg.line(lay.x0, lay.y1, lay.x1, lay.y1, cls="axis", opacity=0.6)
    for tick, label in zip(ticks, labels, strict=True):
        x = scale(tick)
        svg.line(x, lay.y1, x, lay.y1 + 4, cls="axis", opacity=0.6)
        half = text_width(label, TICK_SIZE) / 2
        x_text = min(max(x, half + 2), lay.width - half - 2)
        svg.text(x_text, lay.y1 + 16, label, size=TICK_SIZE, anchor="middle", cls="tick")
    if title:
        svg.text((lay.x0 + lay.x1) / 2, lay.y1 + 32, title, anchor="middle", cls="axis-label")


def reference_line(svg: Svg, lay: Layout, scale: Scale, value: float) -> None:
    """A dashed horizontal reference line; its label lives in the legend, clear of the data."""
    y = scale(value)
    svg.line(lay.x0, y, lay.x1, y, cls="ref", width=1.2, dash=REFERENCE_DASH, opacity=0.8)


def reference_item(value: float, label: str, y_format: YFormat) -> LegendItem:
    text = f"{label} ({value_text(value, y_format)})" if label else value_text(value, y_format)
    return LegendItem(
        f"reference: {text}" if not label else text, "currentColor", "ref", REFERENCE_DASH
    )


def points_attr(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)
