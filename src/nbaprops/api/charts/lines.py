"""Line charts over dates or numbers: ``line_chart`` (series, a reference line),
``band_chart`` (a value with its interval band) and ``rolling_hit_rate`` (the data of
a rolling hit rate with its Wilson band), as used by the track-record and ROI charts.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from nbaprops.api.charts.common import (
    DASHES,
    DEFAULT_WIDTH,
    MARKER_LIMIT,
    PALETTE,
    TICK_SIZE,
    YFormat,
    count_text,
    esc,
    fmt,
    plottable,
    text_width,
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
    reference_item,
    reference_line,
    y_axis_width,
)
from nbaprops.api.charts.ticks import (
    date_label,
    date_tick_plan,
    nice_ticks,
    tick_labels,
    x_coord,
    x_str,
)
from nbaprops.core.metrics import (
    BREAK_EVEN_110,
    wilson_interval,
)

_Parsed = list[tuple[float, float]]


def _parse_xy(points: Any, kind: str | None) -> tuple[_Parsed, str | None, list[list[float]]]:
    """(x, y, *extra) rows -> sorted finite (x, y), the x kind, and each row's extras."""
    rows: list[tuple[float, float, list[float]]] = []
    for point in points or ():
        try:
            x_raw, y_raw, *extra = point
        except (TypeError, ValueError):
            continue
        coord = x_coord(x_raw)
        y = plottable(y_raw)
        if coord is None or y is None:
            continue
        if kind is None:
            kind = coord[0]
        elif coord[0] != kind:
            continue
        extras = [math.nan if (f := plottable(v)) is None else f for v in extra]
        rows.append((coord[1], y, extras))
    rows.sort(key=lambda r: r[0])
    return [(x, y) for x, y, _ in rows], kind, [e for _, _, e in rows]


def _x_axis(
    kind: str, lo: float, hi: float, plot_width: float
) -> tuple[tuple[float, float], list[float], list[str], str]:
    """Domain, ticks, labels and a range note for the x axis."""
    if kind == "date":
        span = f"{x_str(kind, lo)} to {x_str(kind, hi)}" if hi > lo else x_str(kind, lo)
        if hi - lo < 1:
            lo, hi = lo - 1, hi + 1
        lo, hi = max(lo, 1.0), min(hi, float(date.max.toordinal()))  # date.fromordinal's range
        max_ticks = max(2, int(plot_width // (text_width("Mar '25", TICK_SIZE) + 14)))
        first, last = date.fromordinal(math.ceil(lo)), date.fromordinal(math.floor(hi))
        unit, days = date_tick_plan(first, last, max_ticks)
        ticks = [float(d.toordinal()) for d in days]
        labels = [date_label(d, unit) for d in days]
        return (lo, hi), ticks, labels, span
    max_ticks = max(2, min(7, int(plot_width // 44)))
    ticks = nice_ticks(lo, hi, max_ticks)
    return (ticks[0], ticks[-1]), ticks, tick_labels(ticks, "number"), ""


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
    legend: Sequence[LegendItem],
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
    y_labels = tick_labels(y_ticks, y_format)

    svg = open_svg(kind_name, width, height, title, desc)
    top = draw_header(svg, title, note, legend, width)
    lay = Layout(width, height, y_axis_width(y_labels, y_label), 12, top, 42 if x_label else 26)
    if lay.y1 - lay.y0 < 60:  # keep a usable plot even under a tall legend
        lay.height = svg.height = lay.y0 + 60 + lay.bottom
    (x_lo, x_hi), x_ticks, x_labels, span = _x_axis(x_kind, min(xs), max(xs), lay.x1 - lay.x0)
    if span:
        x_label = f"{x_label} ({span})" if x_label else span
    x_scale = Scale(x_lo, x_hi, lay.x0, lay.x1)
    y_scale = Scale(y_ticks[0], y_ticks[-1], lay.y1, lay.y0)

    draw_y_axis(svg, lay, y_scale, y_ticks, y_labels, y_label)
    draw_x_axis(svg, lay, x_scale, x_ticks, x_labels, x_label)
    for i, band in enumerate(bands):
        finite = [
            (x, lo, hi) for x, lo, hi in band.points if math.isfinite(lo) and math.isfinite(hi)
        ]
        if len(finite) >= 2:
            outline = [(x_scale(x), y_scale(hi)) for x, _, hi in finite]
            outline += [(x_scale(x), y_scale(lo)) for x, lo, _ in reversed(finite)]
            svg.add(
                f'<polygon class="band s{i}" points="{points_attr(outline)}"'
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
        reference_line(svg, lay, y_scale, reference)
    for i, (label, pts, color, dash) in enumerate(lines):
        if not pts:
            continue
        coords = [(x_scale(x), y_scale(y)) for x, y in pts]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        svg.add(
            f'<polyline class="series s{i}" points="{points_attr(coords)}" fill="none"'
            f' stroke="{color}" stroke-width="2" stroke-linejoin="round"{dash_attr}/>'
        )
        if len(pts) <= MARKER_LIMIT:
            for (x, y), (cx, cy) in zip(pts, coords, strict=True):
                tip = f"{label}, {x_str(x_kind, x)}: {value_text(y, y_format)}"
                svg.add(
                    f'<circle class="point s{i}" cx="{fmt(cx)}" cy="{fmt(cy)}" r="2.5"'
                    f' fill="{color}"><title>{esc(tip)}</title></circle>'
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
        n_text = f"N={count_text(count)}" if count is not None else f"{len(pts)} points"
        if pts:
            last = value_text(pts[-1][1], y_format)
            legend.append(LegendItem(f"{label}: last {last}, {n_text}", color, "line", dash))
            summary.append(f"{label} ends at {last} ({n_text})")
        else:
            legend.append(LegendItem(f"{label}: no data", color, "line", dash))
            summary.append(f"{label} has no data")
    if reference is not None:
        legend.append(reference_item(reference, reference_label, y_format))
        summary.append(f"dashed reference line at {legend[-1].label}")
    xs = [x for _, pts, _, _ in lines for x, _ in pts]
    desc = (
        f"Line chart of {y_label or 'value'} by {x_label or 'x'}, "
        f"{x_str(kind, min(xs))} to {x_str(kind, max(xs))}: " + "; ".join(summary) + "."
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
    last = value_text(parsed[-1][1], y_format)
    n_text = f", N={count_text(n)}" if n is not None else ""
    legend = [
        LegendItem(f"{label}: last {last}{n_text}", color, "line"),
        LegendItem(band_label, color, "band"),
    ]
    if reference is not None:
        legend.append(reference_item(reference, reference_label, y_format))
    desc = (
        f"{label} by {x_label or 'x'} with its {band_label}, {x_str(kind, parsed[0][0])} to "
        f"{x_str(kind, parsed[-1][0])}, {len(parsed)} points{n_text}; last value {last}"
        + (
            f"; reference line at {value_text(reference, y_format)} ({reference_label})"
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
        coord = x_coord(x_raw)
        won = plottable(won_raw) if not isinstance(won_raw, bool) else float(won_raw)
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
