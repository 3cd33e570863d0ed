"""Bar charts: ``grouped_bar_chart`` (series side by side per category, with N) and
``interval_bar_chart`` (hit rates with their intervals against the break-even).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nbaprops.api.charts.common import (
    CHAR_WIDTH,
    DEFAULT_WIDTH,
    PALETTE,
    TICK_SIZE,
    YFormat,
    as_count,
    compact_count,
    count_text,
    esc,
    field_of,
    fmt,
    plottable,
    text_width,
    value_text,
)
from nbaprops.api.charts.svg import (
    Layout,
    LegendItem,
    Scale,
    Svg,
    draw_header,
    draw_y_axis,
    no_data_svg,
    open_svg,
    reference_item,
    reference_line,
    y_axis_width,
)
from nbaprops.api.charts.ticks import nice_ticks, tick_labels
from nbaprops.core.metrics import (
    BREAK_EVEN_110,
)


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
    full = [f"N={count_text(c)}" for c in counts if c is not None]
    n_compact = has_n and max(text_width(t, TICK_SIZE) for t in full) > slot - 3
    n_size = TICK_SIZE
    if n_compact:
        widest = max(len(compact_count(c)) for c in counts if c is not None)
        n_size = max(7.0, min(TICK_SIZE, (slot - 2) / (widest * CHAR_WIDTH)))
    label_width = max((text_width(t, TICK_SIZE) for t in labels), default=0.0)
    rotate = label_width > slot - 3
    height = 6 + (14 if has_n else 0) + (label_width * 0.7 + 10 if rotate else 14)
    return _CategoryAxis(rotate, TICK_SIZE, n_compact, n_size, height)


def _draw_categories(
    svg: Svg,
    lay: Layout,
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
            text = compact_count(count) if axis.n_compact else f"N={count_text(count)}"
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
    svg: Svg,
    title: str,
    note: str,
    legend: Sequence[LegendItem],
    labels: Sequence[str],
    counts: Sequence[int | None],
    y_labels: Sequence[str],
    y_label: str,
    x_label: str,
    width: int,
    height: int,
) -> tuple[Layout, float, _CategoryAxis]:
    top = draw_header(svg, title, note, legend, width)
    left = max(y_axis_width(y_labels, y_label), 22.0)
    slot = (width - left - 10) / max(1, len(labels))
    axis = _category_axis(labels, counts, slot)
    bottom = axis.height + (20 if x_label else 4)
    plot_height = max(60.0, height - top - bottom)
    total = top + plot_height + bottom
    svg.height = total
    return Layout(width, total, left, 10, top, bottom), slot, axis


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
        [plottable(v) for v in (list(vals) + [None] * len(labels))[: len(labels)]]
        for vals in series.values()
    ]
    finite = [v for row in values for v in row if v is not None]
    if not labels or not finite:
        return no_data_svg(title, width=width)
    counts = [as_count(c) for c in (list(n or []) + [None] * len(labels))[: len(labels)]]

    lo, hi = min([0.0, *finite]), max([0.0, *finite])
    y_ticks = nice_ticks(lo, _headroom(lo, hi), 6)
    y_labels = tick_labels(y_ticks, y_format)
    legend = [LegendItem(name, PALETTE[j % len(PALETTE)], "box") for j, name in enumerate(names)]
    desc_groups = []
    for i, label in enumerate(labels):
        parts = [
            f"{name} {value_text(row[i], y_format) if row[i] is not None else 'no data'}"
            for name, row in zip(names, values, strict=True)
        ]
        n_part = f", N={count_text(counts[i])}" if counts[i] is not None else ""
        desc_groups.append(f"{label}: " + ", ".join(parts) + n_part)
    desc = f"Grouped bar chart of {y_label or 'value'} by group. " + "; ".join(desc_groups) + "."

    svg = open_svg("bars", width, height, title, desc)
    lay, slot, axis = _bar_layout(
        svg, title, note, legend, labels, counts, y_labels, y_label, x_label, width, height
    )
    y_scale = Scale(y_ticks[0], y_ticks[-1], lay.y1, lay.y0)
    draw_y_axis(svg, lay, y_scale, y_ticks, y_labels, y_label)
    bar_width = slot * 0.8 / max(1, len(names))
    base = y_scale(0.0)
    for i, label in enumerate(labels):
        for j, (name, row) in enumerate(zip(names, values, strict=True)):
            value = row[i]
            if value is None:
                continue
            x = lay.x0 + i * slot + slot * 0.1 + j * bar_width
            y = y_scale(value)
            tip = f"{label}, {name}: {value_text(value, y_format)}"
            svg.add(
                f'<rect class="bar s{j}" x="{fmt(x)}" y="{fmt(min(y, base))}"'
                f' width="{fmt(bar_width - 1)}" height="{fmt(abs(base - y))}"'
                f' fill="{PALETTE[j % len(PALETTE)]}"><title>{esc(tip)}</title></rect>'
            )
            text = value_text(value, y_format)
            if text_width(text, 9) <= bar_width:
                svg.text(
                    x + bar_width / 2, min(y, base) - 3, text, size=9, anchor="middle", cls="value"
                )
    _draw_categories(svg, lay, labels, counts, slot, axis, x_label)
    return svg.close()


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
                str(field_of(bar, "label") if field_of(bar, "label") is not None else ""),
                plottable(field_of(bar, "value", "hit_rate")),
                plottable(field_of(bar, "low", "ci_low")),
                plottable(field_of(bar, "high", "ci_high")),
                as_count(field_of(bar, "n")),
            )
        )
    finite = [v for _, value, low, high, _ in items for v in (value, low, high) if v is not None]
    if not finite:
        return no_data_svg(title, width=width)
    labels = [label for label, *_ in items]
    counts = [count for *_, count in items]
    bounds = [0.0, *finite, *([reference] if reference is not None else [])]
    y_ticks = nice_ticks(min(bounds), _headroom(min(bounds), max(bounds)), 6)
    y_labels = tick_labels(y_ticks, y_format)
    color = PALETTE[0]
    legend = [LegendItem(f"{y_label} with 95% interval", color, "box")]
    if reference is not None:
        legend.append(reference_item(reference, reference_label, y_format))
    desc_items = []
    for label, value, low, high, count in items:
        text = f"{label}: " + (value_text(value, y_format) if value is not None else "no data")
        if low is not None and high is not None:
            text += f" ({value_text(low, y_format)} to {value_text(high, y_format)})"
        if count is not None:
            text += f", N={count_text(count)}"
        desc_items.append(text)
    desc = f"Bar chart of {y_label} by {x_label or 'group'}. " + "; ".join(desc_items) + "."

    svg = open_svg("intervals", width, height, title, desc)
    lay, slot, axis = _bar_layout(
        svg, title, note, legend, labels, counts, y_labels, y_label, x_label, width, height
    )
    y_scale = Scale(y_ticks[0], y_ticks[-1], lay.y1, lay.y0)
    draw_y_axis(svg, lay, y_scale, y_ticks, y_labels, y_label)
    base = y_scale(0.0)
    bar_width = slot * 0.6
    for i, (label, value, low, high, count) in enumerate(items):
        cx = lay.x0 + (i + 0.5) * slot
        if value is not None:
            y = y_scale(value)
            tip = f"{label}: {value_text(value, y_format)}"
            if low is not None and high is not None:
                tip += f" ({value_text(low, y_format)} to {value_text(high, y_format)})"
            if count is not None:
                tip += f", N={count_text(count)}"
            svg.add(
                f'<rect class="bar s0" x="{fmt(cx - bar_width / 2)}" y="{fmt(min(y, base))}"'
                f' width="{fmt(bar_width)}" height="{fmt(abs(base - y))}" fill="{color}"'
                f' fill-opacity="0.85"><title>{esc(tip)}</title></rect>'
            )
        if low is not None and high is not None:
            y_low, y_high = y_scale(low), y_scale(high)
            cap = min(8.0, bar_width / 3)
            svg.line(cx, y_low, cx, y_high, cls="whisker", width=1.4)
            svg.line(cx - cap, y_low, cx + cap, y_low, cls="whisker", width=1.4)
            svg.line(cx - cap, y_high, cx + cap, y_high, cls="whisker", width=1.4)
        if value is not None:
            text = value_text(value, y_format)
            top = min(y_scale(value), y_scale(high) if high is not None else lay.y1)
            if text_width(text, 9) <= slot:
                svg.text(cx, max(lay.y0 + 8, top - 4), text, size=9, anchor="middle", cls="value")
    if reference is not None:
        reference_line(svg, lay, y_scale, reference)
    _draw_categories(svg, lay, labels, counts, slot, axis, x_label)
    return svg.close()
