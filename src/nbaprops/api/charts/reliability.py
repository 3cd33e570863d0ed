"""Calibration: ``reliability_bins`` (predicted probability against the observed
rate, by bin) and ``reliability_chart`` (the diagram, circle area by N).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from nbaprops.api.charts.common import (
    DEFAULT_WIDTH,
    PALETTE,
    REFERENCE_DASH,
    TICK_SIZE,
    as_count,
    compact_count,
    count_text,
    esc,
    field_of,
    fmt,
    plottable,
    value_text,
)
from nbaprops.api.charts.svg import (
    Layout,
    LegendItem,
    Scale,
    draw_header,
    draw_x_axis,
    draw_y_axis,
    no_data_svg,
    open_svg,
    points_attr,
    y_axis_width,
)
from nbaprops.api.charts.ticks import tick_labels
from nbaprops.core.metrics import (
    ReliabilityBin,
    probability_metrics,
)


def reliability_bins(
    p: npt.ArrayLike, outcome: npt.ArrayLike, n_bins: int = 10
) -> tuple[ReliabilityBin, ...]:
    """Equal-width reliability bins of P(over), from ``metrics.probability_metrics``.

    Rows where p or the outcome is missing or non-finite (pushes, voids, no
    probability) are dropped first; the rest must be valid (p in [0, 1], outcome 0
    or 1; booleans are fine), or ``probability_metrics`` raises ValueError.
    """
    ps = [plottable(v) for v in np.asarray(p, dtype=object).reshape(-1)]
    ys = [plottable(v) for v in np.asarray(outcome, dtype=object).reshape(-1)]
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
        mean_p = plottable(field_of(b, "mean_p"))
        observed = plottable(field_of(b, "observed_rate"))
        count = as_count(field_of(b, "n"))
        if mean_p is None or observed is None or not count:
            continue
        points.append(
            (
                mean_p,
                observed,
                count,
                plottable(field_of(b, "p_low")),
                plottable(field_of(b, "p_high")),
            )
        )
    if not points:
        return no_data_svg(title, width=width)
    points.sort(key=lambda t: t[0])
    total = sum(p[2] for p in points)
    largest = max(p[2] for p in points)
    color = PALETTE[0]
    legend = [
        LegendItem(f"bins (area ~ N), N={count_text(total)}", color, "dot"),
        LegendItem("perfect calibration", "currentColor", "ref", REFERENCE_DASH),
    ]
    bin_texts = [
        f"predicted {value_text(mp, 'percent')}, observed {value_text(ob, 'percent')}, "
        f"N={count_text(c)}"
        for mp, ob, c, _, _ in points
    ]
    desc = (
        f"Reliability diagram of {x_label} against {y_label}, {len(points)} non-empty bins, "
        f"N={count_text(total)}. Points on the diagonal are perfectly calibrated. "
        + "; ".join(bin_texts)
        + "."
    )
    ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    labels = tick_labels(ticks, "percent")
    svg = open_svg("reliability", width, height, title, desc)
    top = draw_header(svg, title, note, legend, width)
    lay = Layout(width, height, y_axis_width(labels, y_label), 12, top, 42)
    if lay.y1 - lay.y0 < 120:
        total_height = top + 120 + lay.bottom
        lay.height = svg.height = total_height
    x_scale = Scale(0.0, 1.0, lay.x0, lay.x1)
    y_scale = Scale(0.0, 1.0, lay.y1, lay.y0)
    draw_y_axis(svg, lay, y_scale, ticks, labels, y_label)
    draw_x_axis(svg, lay, x_scale, ticks, labels, x_label)
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
        f'<polyline class="series s0" points="{points_attr(coords)}" fill="none"'
        f' stroke="{color}" stroke-width="1.5" stroke-opacity="0.7"/>'
    )
    for (mp, ob, count, p_low, p_high), (cx, cy) in zip(points, coords, strict=True):
        radius = 2.5 + 6.5 * math.sqrt(count / largest)
        span = ""
        if p_low is not None and p_high is not None:
            span = f"bin {value_text(p_low, 'percent')} to {value_text(p_high, 'percent')}: "
        tip = (
            f"{span}predicted {value_text(mp, 'percent')}, observed "
            f"{value_text(ob, 'percent')}, N={count_text(count)}"
        )
        svg.add(
            f'<circle class="point s0" cx="{fmt(cx)}" cy="{fmt(cy)}" r="{fmt(radius)}"'
            f' fill="{color}" fill-opacity="0.75" stroke="{color}">'
            f"<title>{esc(tip)}</title></circle>"
        )
        above = cy - radius - 3
        label_y = above if above - TICK_SIZE > lay.y0 - 4 else cy + radius + TICK_SIZE + 1
        svg.text(cx, label_y, compact_count(count), size=9.5, anchor="middle", cls="n-label")
    return svg.close()
