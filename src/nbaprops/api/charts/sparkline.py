"""``sparkline``: a tiny inline line of recent values, no axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nbaprops.api.charts.common import PALETTE, YFormat, fmt, plottable, value_text
from nbaprops.api.charts.svg import Scale, Svg, points_attr


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
    ys = [v for v in (plottable(v) for v in values or ()) if v is not None]
    if not ys:
        svg = Svg("spark", width, height, f"{label}: no data", f"{label}: no data", "")
        svg.text(width / 2, height / 2 + 3, "no data", size=8, anchor="middle", cls="nodata")
        return svg.close()
    lo, hi = min(ys), max(ys)
    pad = 2.5
    x_scale = Scale(0, max(1, len(ys) - 1), pad, width - pad)
    y_scale = Scale(lo, hi, height - pad, pad)
    summary = (
        f"{label}: {len(ys)} values, first {value_text(ys[0], y_format)}, last "
        f"{value_text(ys[-1], y_format)}, low {value_text(lo, y_format)}, "
        f"high {value_text(hi, y_format)}"
    )
    svg = Svg("spark", width, height, summary, summary, "")
    if reference is not None and lo <= reference <= hi:
        y = y_scale(reference)
        svg.line(0, y, width, y, cls="ref", width=0.8, dash="2 2", opacity=0.5)
    coords = [(x_scale(i), y_scale(v)) for i, v in enumerate(ys)]
    if len(coords) == 1:
        coords = [(pad, coords[0][1]), (width - pad, coords[0][1])]
    svg.add(
        f'<polyline class="series s0" points="{points_attr(coords)}" fill="none"'
        f' stroke="{PALETTE[0]}" stroke-width="1.5" stroke-linejoin="round"/>'
    )
    cx, cy = coords[-1]
    svg.add(f'<circle class="point s0" cx="{fmt(cx)}" cy="{fmt(cy)}" r="2" fill="{PALETTE[0]}"/>')
    return svg.close()
