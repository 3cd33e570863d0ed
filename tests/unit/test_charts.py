"""Server-rendered SVG charts: valid XML, the right marks in the right places, N and
labels in text, escaping, empty/NaN input, determinism, and the offline stylesheet."""

from __future__ import annotations

import ast
import importlib.resources
import inspect
import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nbaprops.api.charts import bars as bar_charts
from nbaprops.api.charts import common as chart_common
from nbaprops.api.charts import lines as line_charts
from nbaprops.api.charts import reliability as reliability_charts
from nbaprops.api.charts import sparkline as sparklines
from nbaprops.api.charts import svg as chart_svg
from nbaprops.api.charts import ticks as chart_ticks
from nbaprops.core.metrics import (
    BREAK_EVEN_110,
    outcome_stats,
    probability_metrics,
    wilson_interval,
)

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & co'


# --- helpers ----------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def find(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = list(root.iter(f"{NS}{tag}"))
    if cls is None:
        return found
    return [e for e in found if cls in (e.get("class") or "").split()]


def all_text(root: ET.Element) -> str:
    return " ".join("".join(e.itertext()) for e in root.iter() if e.tag == f"{NS}text")


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    pairs = polyline.get("points", "").split()
    return [(float(x), float(y)) for x, y in (p.split(",") for p in pairs)]


def view_box(root: ET.Element) -> tuple[float, float]:
    _, _, w, h = (float(v) for v in root.get("viewBox", "").split())
    return w, h


def tick_value(label: str) -> float:
    number = float(label.rstrip("%").replace(",", ""))
    return number / 100 if label.endswith("%") else number


def y_of(root: ET.Element, value: float) -> float:
    """The y of the grid line whose tick label reads ``value`` ("40%" reads 0.4)."""
    grid = find(root, "line", "grid")
    labels = [t.text for t in find(root, "text", "tick")][: len(grid)]  # y ticks come first
    for line, label in zip(grid, labels, strict=True):
        if math.isclose(tick_value(label), value, abs_tol=1e-12):
            return float(line.get("y1"))
    raise AssertionError(f"no y tick at {value}: {labels}")


def assert_is_no_data(svg: str) -> None:
    root = parse(svg)
    assert "no data" in all_text(root)
    assert not find(root, "polyline")
    assert not find(root, "rect", "bar")


def dates(n: int, start: date = date(2024, 10, 22)) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


# --- ticks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "max_ticks", "expected"),
    [
        (0.0, 1.0, 6, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.47, 0.58, 6, [0.45, 0.5, 0.55, 0.6]),
        (-0.12, 0.31, 6, [-0.2, 0.0, 0.2, 0.4]),
        (0.0, 100.0, 6, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]),
        (3.2, 4.9, 5, [3.0, 3.5, 4.0, 4.5, 5.0]),
        (1234.0, 9876.0, 5, [0.0, 2500.0, 5000.0, 7500.0, 10000.0]),
    ],
)
def test_nice_ticks_are_round_and_cover_the_range(lo, hi, max_ticks, expected):
    assert chart_ticks.nice_ticks(lo, hi, max_ticks) == pytest.approx(expected, abs=1e-12)


def test_nice_ticks_print_exactly():
    # No float noise such as 0.30000000000000004: each tick is the double nearest its decimal.
    assert [repr(t) for t in chart_ticks.nice_ticks(0.0, 1.0, 11)] == [
        "0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"
    ]  # fmt: skip


def test_nice_ticks_degenerate_input():
    assert chart_ticks.nice_ticks(math.nan, 1.0) == []
    assert chart_ticks.nice_ticks(0.0, math.inf) == []
    flat = chart_ticks.nice_ticks(5.0, 5.0)
    assert flat[0] < 5.0 < flat[-1]
    zero = chart_ticks.nice_ticks(0.0, 0.0)
    assert zero[0] < 0.0 < zero[-1]
    assert chart_ticks.nice_ticks(1.0, 0.0, 6) == chart_ticks.nice_ticks(0.0, 1.0, 6)
    assert chart_ticks.nice_ticks(-1.0, 2.0, 2) == [-2.0, 0.0, 2.0]  # two cannot straddle 0


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-6, 1e6, allow_nan=False),
    st.integers(2, 10),
)
def test_nice_ticks_properties(lo, width, max_ticks):
    # Keep the range wide enough relative to |lo| that float spacing cannot blur the steps.
    assume(width > 1e-4 * max(1.0, abs(lo)))
    hi = lo + width
    ticks = chart_ticks.nice_ticks(lo, hi, max_ticks)
    assert 2 <= len(ticks) <= max(max_ticks, 3)
    slack = 1e-8 * (ticks[-1] - ticks[0])  # float rounding, far below a pixel
    assert ticks[0] <= lo + slack
    assert ticks[-1] >= hi - slack
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0], rtol=1e-6, atol=0)
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]) + 1e-6)
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1.0, 2.0, 2.5, 5.0))


def test_date_ticks_pick_calendar_steps():
    season = chart_ticks.date_ticks(date(2024, 10, 22), date(2025, 4, 13), 5)
    assert season == [date(2024, 11, 1), date(2025, 1, 1), date(2025, 3, 1)]

    week = chart_ticks.date_ticks(date(2025, 1, 1), date(2025, 1, 5), 5)
    assert week == [date(2025, 1, d) for d in range(1, 6)]

    month = chart_ticks.date_ticks(date(2025, 1, 1), date(2025, 1, 31), 5)
    assert all(d.weekday() == 0 for d in month)  # Mondays
    assert 3 <= len(month) <= 5

    decade = chart_ticks.date_ticks(date(2001, 3, 1), date(2024, 6, 1), 5)
    assert all((d.month, d.day) == (1, 1) for d in decade)
    assert len(decade) <= 5

    twelve_days = chart_ticks.date_ticks(date(2025, 1, 1), date(2025, 1, 12), 5)
    assert twelve_days == [date(2025, 1, d) for d in (1, 4, 7, 10)]

    one = chart_ticks.date_ticks(date(2025, 2, 3), date(2025, 2, 3), 5)
    assert one == [date(2025, 2, 3)]
    # Two ticks cannot fit in nine days at a weekly step: one Monday, never none.
    assert chart_ticks.date_ticks(date(2025, 1, 1), date(2025, 1, 9), 1) == [date(2025, 1, 6)]


# --- line chart -------------------------------------------------------------------------


def roi_series() -> dict[str, list[tuple[date, float]]]:
    days = dates(6)
    return {
        "Consensus": list(zip(days, [0.0, 0.01, 0.02, 0.015, 0.03, 0.04], strict=True)),
        "Best price": list(zip(days, [0.0, 0.02, 0.03, 0.035, 0.05, 0.06], strict=True)),
    }


def test_line_chart_draws_each_series_with_its_points():
    svg = line_charts.line_chart(
        roi_series(),
        title="Cumulative ROI",
        y_label="ROI",
        y_format="percent",
        n={"Consensus": 1234, "Best price": 1180},
    )
    root = parse(svg)
    lines = find(root, "polyline", "series")
    assert len(lines) == 2
    assert [len(points(p)) for p in lines] == [6, 6]
    assert len(find(root, "circle", "point")) == 12  # few points: each gets a marker

    consensus, best = (points(p) for p in lines)
    # Later dates are further right; a higher ROI is drawn higher (smaller y).
    assert [x for x, _ in consensus] == sorted(x for x, _ in consensus)
    assert consensus[-1][1] < consensus[0][1]
    assert best[-1][1] < consensus[-1][1]  # 6% above 4%
    # Same x for the same date in both series.
    assert [x for x, _ in consensus] == [x for x, _ in best]

    text = all_text(root)
    assert "N=1,234" in text
    assert "N=1,180" in text
    assert "last 4.0%" in text
    assert "ROI" in text
    assert "Nov 1" not in text  # six October days: day ticks, not months
    assert "Oct 22" in text
    assert "2024-10-22 to 2024-10-27" in text


def test_line_chart_maps_values_onto_its_own_axis():
    svg = line_charts.line_chart(roi_series(), title="ROI", y_format="percent")
    root = parse(svg)
    consensus = points(find(root, "polyline", "series")[0])
    y0, y2 = y_of(root, 0.0), y_of(root, 0.02)
    # 0.0 sits on the 0% grid line, 0.02 on the 2% one, 0.01 halfway between.
    assert consensus[0][1] == pytest.approx(y0, abs=0.01)
    assert consensus[2][1] == pytest.approx(y2, abs=0.01)
    assert consensus[1][1] == pytest.approx((y0 + y2) / 2, abs=0.01)


def test_line_chart_is_responsive_and_accessible():
    root = parse(line_charts.line_chart(roi_series(), title="Cumulative ROI", y_label="ROI"))
    assert root.get("width") == "100%"
    assert root.get("height") is None
    width, height = view_box(root)
    assert width == chart_common.DEFAULT_WIDTH
    assert height > 100
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Cumulative ROI"
    assert root.find(f"{NS}title").text == "Cumulative ROI"
    desc = root.find(f"{NS}desc").text
    assert "Consensus ends at 0.04" in desc
    assert "Best price ends at 0.06" in desc


def test_text_is_readable_and_inside_the_view_box_at_phone_width():
    svgs = [
        line_charts.line_chart(roi_series(), title="ROI", y_label="ROI", y_format="percent"),
        line_charts.band_chart(rolling_points(), title="Rolling hit rate"),
        bar_charts.grouped_bar_chart(
            [f"2024-{m:02d}" for m in range(1, 13)],
            {"model": [4.8] * 12, "line": [4.9] * 12},
            n=[12_345] * 12,
            title="MAE by month",
        ),
        bar_charts.interval_bar_chart(edge_bars(), title="Hit rate by edge"),
        reliability_charts.reliability_chart(reliability_input(), title="Calibration"),
    ]
    for svg in svgs:
        root = parse(svg)
        width, _ = view_box(root)
        for node in find(root, "text"):
            assert float(node.get("font-size")) >= 7.0
            if node.get("transform"):
                continue
            x = float(node.get("x"))
            half = len(node.text or "") * float(node.get("font-size")) * chart_common.CHAR_WIDTH / 2
            anchor = node.get("text-anchor", "start")
            left = {"start": x, "middle": x - half, "end": x - 2 * half}[anchor]
            right = left + 2 * half
            assert left >= -1, (node.text, left)
            assert right <= width + 1, (node.text, right)


def test_line_chart_skips_non_finite_and_unusable_points():
    days = dates(6)
    series = {
        "a": [
            (days[0], 1.0),
            (days[1], math.nan),
            (days[2], None),
            (days[3], math.inf),
            (None, 2.0),
            ("not a date", 2.0),
            (days[4], 3.0),
            "garbage",
            (days[5], np.float64(4.0)),
        ]
    }
    root = parse(line_charts.line_chart(series, title="t"))
    assert len(points(find(root, "polyline", "series")[0])) == 3
    assert "3 points" in all_text(root)


def test_line_chart_accepts_iso_strings_datetimes_and_numbers():
    by_string = line_charts.line_chart({"a": [("2025-01-02", 1.0), ("2025-01-01", 2.0)]}, title="t")
    by_date = line_charts.line_chart(
        {"a": [(date(2025, 1, 1), 2.0), (date(2025, 1, 2), 1.0)]}, title="t"
    )
    # Unsorted ISO strings are sorted by date and drawn exactly like dates.
    assert by_string == by_date
    dt64 = line_charts.line_chart(
        {"a": [(np.datetime64("2025-01-01"), 2.0), (np.datetime64("2025-01-02"), 1.0)]},
        title="t",
    )
    assert dt64 == by_date

    numeric = parse(line_charts.line_chart({"a": [(1, 1.0), (10, 2.0)]}, title="t", x_label="game"))
    xs = [x for x, _ in points(find(numeric, "polyline", "series")[0])]
    assert xs[0] < xs[1]
    assert "game" in all_text(numeric)


def test_line_chart_empty_series_in_legend_and_reference_line():
    svg = line_charts.line_chart(
        {"CLV": [(d, 0.01 * i) for i, d in enumerate(dates(5))], "Other": []},
        title="Closing line value",
        reference=0.0,
        reference_label="no edge",
    )
    root = parse(svg)
    assert len(find(root, "polyline", "series")) == 1
    text = all_text(root)
    assert "Other: no data" in text
    assert "no edge (0.00)" in text
    ref = find(root, "line", "ref")
    assert len(ref) == 1
    assert float(ref[0].get("y1")) == pytest.approx(y_of(root, 0.0), abs=0.01)


@pytest.mark.parametrize(
    "series",
    [
        {},
        {"a": []},
        {"a": [(date(2025, 1, 1), math.nan), (date(2025, 1, 2), None)]},
        {"a": [(None, 1.0)], "b": None},
    ],
)
def test_line_chart_without_data_says_so(series):
    assert_is_no_data(line_charts.line_chart(series, title="Cumulative ROI"))


# --- band chart and rolling hit rate ----------------------------------------------------


def rolling_points() -> list[tuple[date, float, float, float]]:
    rates = [0.50, 0.52, 0.55, 0.54, 0.56]
    return [(d, r, r - 0.04, r + 0.04) for d, r in zip(dates(5), rates, strict=True)]


def test_band_chart_draws_band_line_and_break_even():
    svg = line_charts.band_chart(
        rolling_points(), title="Rolling hit rate", n=1360, note="last 200"
    )
    root = parse(svg)
    line = points(find(root, "polyline", "series")[0])
    band = find(root, "polygon", "band")
    assert len(line) == 5
    assert len(band) == 1
    outline = [tuple(map(float, p.split(","))) for p in band[0].get("points").split()]
    assert len(outline) == 10  # upper edge forward, lower edge back
    for (x, y), upper, lower in zip(line, outline[:5], reversed(outline[5:]), strict=True):
        assert upper[0] == x == lower[0]
        assert upper[1] < y < lower[1]  # the band surrounds the line

    ref = find(root, "line", "ref")
    assert len(ref) == 1
    y50, y60 = y_of(root, 0.5), y_of(root, 0.6)
    expected = y50 + (BREAK_EVEN_110 - 0.5) / 0.1 * (y60 - y50)
    assert float(ref[0].get("y1")) == pytest.approx(expected, abs=0.01)

    text = all_text(root)
    assert "break-even at -110 (52.4%)" in text
    assert "N=1,360" in text
    assert "last 200" in text
    assert "last 56.0%" in text


def test_band_chart_band_gap_for_missing_interval_and_no_data():
    pts = [*rolling_points()[:2], (date(2024, 10, 24), 0.55, None, math.nan)]
    root = parse(line_charts.band_chart(pts, title="t"))
    assert len(points(find(root, "polyline", "series")[0])) == 3
    outline = find(root, "polygon", "band")[0].get("points").split()
    assert len(outline) == 4
    assert_is_no_data(line_charts.band_chart([], title="t"))
    assert_is_no_data(line_charts.band_chart([(date(2025, 1, 1), math.nan, 0.4, 0.6)], title="t"))


def test_rolling_hit_rate_window_and_wilson_interval():
    days = dates(6)
    won = [True, False, True, True, False, True]
    bets = [(d, w) for d, w in zip(days, won, strict=True)]
    bets.insert(2, (days[1], None))  # a push: skipped
    out = line_charts.rolling_hit_rate(bets, window=4, min_bets=3)
    assert [row[0] for row in out] == days[2:]
    assert [row[4] for row in out] == [3, 4, 4, 4]
    assert [row[1] for row in out] == pytest.approx([2 / 3, 3 / 4, 2 / 4, 3 / 4])
    low, high = wilson_interval(3, 4)
    assert out[1][2:4] == pytest.approx((low, high))


def test_rolling_hit_rate_one_point_per_day_after_its_last_bet():
    day1, day2 = date(2025, 1, 1), date(2025, 1, 2)
    bets = [(day2, 1), (day1, 0), (day1, 1), (day2, 1), (day1, np.nan)]
    out = line_charts.rolling_hit_rate(bets, window=10, min_bets=1)
    assert [(row[0], row[4]) for row in out] == [(day1, 2), (day2, 4)]
    assert out[0][1] == pytest.approx(0.5)
    assert out[1][1] == pytest.approx(0.75)
    # The output feeds band_chart directly (the fifth element is ignored there).
    assert len(points(find(parse(line_charts.band_chart(out, title="t")), "polyline")[0])) == 2


# --- grouped bars -----------------------------------------------------------------------


def test_grouped_bars_count_heights_and_n():
    svg = bar_charts.grouped_bar_chart(
        ["Jan", "Feb", "Mar"],
        {"model MAE": [4.0, 2.0, math.nan], "line MAE": [4.5, 1.0, 3.0]},
        n=[120, 1830, None],
        title="MAE by month",
        y_label="points",
    )
    root = parse(svg)
    bars = find(root, "rect", "bar")
    assert len(bars) == 5  # the NaN draws nothing
    model = find(root, "rect", "s0")
    line = [b for b in bars if "s1" in b.get("class").split()]
    assert len(model) == 2
    assert len(line) == 3
    # Heights are proportional to the values, from a zero baseline.
    heights = [float(b.get("height")) for b in model]
    assert heights[0] == pytest.approx(2 * heights[1], rel=1e-3)
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 1) for b in bars}
    assert len(bottoms) == 1
    assert bottoms.pop() == pytest.approx(y_of(root, 0.0), abs=0.1)
    # Groups left to right, series side by side within a group.
    xs = [float(b.get("x")) for b in line]
    assert xs == sorted(xs)
    assert float(model[0].get("x")) < float(line[0].get("x")) < float(model[1].get("x"))

    text = all_text(root)
    assert "N=120" in text
    assert "N=1,830" in text
    assert "model MAE" in text
    assert "points" in text
    tips = [b.find(f"{NS}title").text for b in bars]
    assert "Feb, line MAE: 1.00" in tips


def test_grouped_bars_crowded_groups_use_compact_n_and_slanted_labels():
    groups = [f"2024-{m:02d}" for m in range(1, 13)]
    svg = bar_charts.grouped_bar_chart(
        groups, {"model": [4.8] * 12, "line": [4.9] * 12}, n=[12_345] * 12, title="MAE"
    )
    root = parse(svg)
    assert len(find(root, "rect", "bar")) == 24
    n_labels = [t.text for t in find(root, "text", "n-label")]
    assert n_labels == ["N", *["12k"] * 12]
    slanted = [t for t in find(root, "text", "tick") if t.get("transform")]
    assert [t.text for t in slanted] == groups


def test_grouped_bars_negative_values_hang_below_zero():
    root = parse(bar_charts.grouped_bar_chart(["a", "b"], {"gap": [0.3, -0.2]}, title="gap"))
    up, down = find(root, "rect", "bar")
    zero = y_of(root, 0.0)
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(zero, abs=0.01)
    assert float(down.get("y")) == pytest.approx(zero, abs=0.01)


def test_grouped_bars_without_data():
    assert_is_no_data(bar_charts.grouped_bar_chart([], {}, title="t"))
    assert_is_no_data(bar_charts.grouped_bar_chart(["a"], {"s": [math.nan]}, title="t"))
    assert_is_no_data(bar_charts.grouped_bar_chart(["a"], {"s": []}, title="t"))


# --- interval bars ----------------------------------------------------------------------


def edge_bars() -> list[dict[str, object]]:
    rows = []
    for label, rate, n in [("0-1", 0.50, 900), ("1-2", 0.55, 600), ("5+", 0.60, 20)]:
        low, high = wilson_interval(round(rate * n), n)
        rows.append({"label": label, "hit_rate": rate, "ci_low": low, "ci_high": high, "n": n})
    return rows


def test_interval_bars_whiskers_n_and_break_even():
    root = parse(bar_charts.interval_bar_chart(edge_bars(), title="Hit rate by edge bucket"))
    bars = find(root, "rect", "bar")
    assert len(bars) == 3
    tops = [float(b.get("y")) for b in bars]
    assert tops[0] > tops[1] > tops[2]  # 50% < 55% < 60%
    assert len(find(root, "line", "whisker")) == 9  # stem and two caps per bar
    # The widest interval (N=20) has the longest stem.
    stems = [w for w in find(root, "line", "whisker") if w.get("x1") == w.get("x2")]
    lengths = [abs(float(w.get("y1")) - float(w.get("y2"))) for w in stems]
    assert lengths[2] > lengths[0]
    assert float(bars[1].get("y")) == pytest.approx(
        y_of(root, 0.4) + (0.55 - 0.4) / 0.2 * (y_of(root, 0.6) - y_of(root, 0.4)), abs=0.01
    )
    text = all_text(root)
    for n in ("N=900", "N=600", "N=20"):
        assert n in text
    assert "break-even at -110 (52.4%)" in text
    assert "60.0%" in text
    assert len(find(root, "line", "ref")) == 1


def test_interval_bars_accept_group_stats_and_keep_empty_buckets():
    stats = [
        outcome_stats(["win", "win", "loss", "push"], label="0-1"),
        outcome_stats([], label="5+"),
    ]
    root = parse(bar_charts.interval_bar_chart(stats, title="t"))
    assert len(find(root, "rect", "bar")) == 1
    assert len(find(root, "line", "whisker")) == 3
    text = all_text(root)
    assert "N=3" in text  # decided bets only: the push is not in N
    assert "N=0" in text  # the empty bucket keeps its slot
    assert "5+" in text
    desc = root.find(f"{NS}desc").text
    assert "5+: no data, N=0" in desc


def test_interval_bars_without_data():
    assert_is_no_data(bar_charts.interval_bar_chart([], title="t"))
    assert_is_no_data(bar_charts.interval_bar_chart([outcome_stats([], label="x")], title="t"))


# --- reliability ------------------------------------------------------------------------


def reliability_input():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 1, 2000)
    y = rng.uniform(0, 1, 2000) < p
    return reliability_charts.reliability_bins(p, y, n_bins=10)


def test_reliability_bins_reuse_core_metrics_and_drop_missing_rows():
    p = [0.05, 0.15, 0.15, 0.55, 0.95, math.nan, 0.5, None]
    y = [0, 1, 0, 1, True, 1, None, 0]
    bins = reliability_charts.reliability_bins(p, y, n_bins=10)
    expected = probability_metrics([0.05, 0.15, 0.15, 0.55, 0.95], [0, 1, 0, 1, 1], 10)
    assert bins == expected.reliability
    assert [b.n for b in bins] == [1, 2, 0, 0, 0, 1, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="differ in length"):
        reliability_charts.reliability_bins([0.5], [1, 0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reliability_charts.reliability_bins([1.5], [1])


def test_reliability_chart_points_sizes_and_diagonal():
    bins = [
        {"p_low": 0.2, "p_high": 0.3, "mean_p": 0.25, "observed_rate": 0.40, "n": 400},
        {"p_low": 0.5, "p_high": 0.6, "mean_p": 0.55, "observed_rate": 0.45, "n": 100},
        {"p_low": 0.7, "p_high": 0.8, "mean_p": 0.75, "observed_rate": math.nan, "n": 0},
        {"p_low": 0.8, "p_high": 0.9, "mean_p": 0.85, "observed_rate": 0.85, "n": 25},
    ]
    root = parse(reliability_charts.reliability_chart(bins, title="Calibration of P(over)"))
    circles = find(root, "circle", "point")
    assert len(circles) == 3  # the empty bin is skipped
    (diagonal,) = find(root, "line", "diagonal")
    x1, y1, x2, y2 = (float(diagonal.get(k)) for k in ("x1", "y1", "x2", "y2"))
    assert x1 < x2
    assert y1 > y2  # from bottom-left (0, 0) to top-right (1, 1)

    def diagonal_y(x: float) -> float:
        return y1 + (x - x1) / (x2 - x1) * (y2 - y1)

    cx = [float(c.get("cx")) for c in circles]
    cy = [float(c.get("cy")) for c in circles]
    assert cy[0] < diagonal_y(cx[0])  # observed 40% > predicted 25%: above the diagonal
    assert cy[1] > diagonal_y(cx[1])  # observed 45% < predicted 55%: below
    assert cy[2] == pytest.approx(diagonal_y(cx[2]), abs=0.01)  # on it
    radii = [float(c.get("r")) for c in circles]
    assert radii[0] > radii[1] > radii[2]  # area grows with N
    assert cx[0] == pytest.approx(x1 + 0.25 * (x2 - x1), abs=0.01)

    text = all_text(root)
    for n in ("400", "100", "25"):
        assert n in text.split()
    assert "N=525" in text
    assert "perfect calibration" in text
    assert "predicted P(over)" in text
    tip = circles[0].find(f"{NS}title").text
    assert tip == "bin 20.0% to 30.0%: predicted 25.0%, observed 40.0%, N=400"


def test_reliability_chart_from_core_bins():
    bins = reliability_input()
    root = parse(reliability_charts.reliability_chart(bins, title="t"))
    assert len(find(root, "circle", "point")) == sum(1 for b in bins if b.n > 0)
    assert f"N={sum(b.n for b in bins):,}" in all_text(root)


def test_reliability_chart_without_data():
    assert_is_no_data(reliability_charts.reliability_chart([], title="t"))
    empty = reliability_charts.reliability_bins([], [])
    assert len(empty) == 10
    assert_is_no_data(reliability_charts.reliability_chart(empty, title="t"))


# --- sparkline --------------------------------------------------------------------------


def test_sparkline_draws_values_in_order():
    root = parse(sparklines.sparkline([1, 3, None, 2, math.nan, 5], label="last 5"))
    assert root.get("class") == "spark"
    assert root.get("width") == "100%"
    pts = points(find(root, "polyline")[0])
    assert len(pts) == 4
    xs = [x for x, _ in pts]
    assert xs == sorted(xs)
    ys = [y for _, y in pts]
    assert ys[3] < ys[1] < ys[2] < ys[0]  # 5 highest, 1 lowest
    (last,) = find(root, "circle")
    assert (float(last.get("cx")), float(last.get("cy"))) == pytest.approx(pts[-1])
    assert "last 5: 4 values, first 1.00, last 5.00" in root.get("aria-label")


def test_sparkline_flat_single_and_empty():
    flat = points(find(parse(sparklines.sparkline([2, 2, 2])), "polyline")[0])
    assert len({y for _, y in flat}) == 1
    single = points(find(parse(sparklines.sparkline([0.5])), "polyline")[0])
    assert len(single) == 2  # a single value still shows as a short level line
    empty = parse(sparklines.sparkline([math.nan, None]))
    assert not find(empty, "polyline")
    assert "no data" in all_text(empty)


# --- safety and determinism -------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.text(max_size=12),
    st.dates(),
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=10),
        st.lists(st.tuples(junk, junk), max_size=8),
        max_size=3,
    ),
    st.lists(st.tuples(junk, junk, junk, junk), max_size=8),
    st.lists(junk, max_size=8),
)
def test_any_input_gives_valid_svg_never_an_exception(series, band, values):
    outputs = [
        line_charts.line_chart(series, title="t"),
        line_charts.band_chart(band, title="t"),
        bar_charts.grouped_bar_chart([str(v) for v in values], {"a": values}, n=values, title="t"),
        bar_charts.interval_bar_chart(
            [{"label": v, "value": v, "low": v, "high": v, "n": v} for v in values], title="t"
        ),
        reliability_charts.reliability_chart(
            [{"mean_p": v, "observed_rate": v, "n": v} for v in values], title="t"
        ),
        sparklines.sparkline(values),
    ]
    for svg in outputs:
        root = parse(svg)
        for node in root.iter():
            if node is root:
                continue
            for attr in ("x", "y", "x1", "y1", "cx", "cy", "width", "height", "r"):
                if node.get(attr) is not None:
                    assert math.isfinite(float(node.get(attr)))


def every_chart(label: str) -> list[str]:
    return [
        line_charts.line_chart({label: [(date(2025, 1, 1), 1.0)]}, title=label, y_label=label),
        line_charts.band_chart(rolling_points(), title=label, label=label, note=label),
        bar_charts.grouped_bar_chart([label], {label: [1.0]}, n=[3], title=label),
        bar_charts.interval_bar_chart(
            [{"label": label, "value": 0.5, "low": 0.4, "high": 0.6, "n": 9}], title=label
        ),
        reliability_charts.reliability_chart(
            [{"mean_p": 0.5, "observed_rate": 0.5, "n": 4}], title=label, note=label
        ),
        sparklines.sparkline([1, 2], label=label),
        chart_svg.no_data_svg(label, label),
    ]


def test_text_is_escaped_everywhere():
    for svg in every_chart(EVIL):
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
        root = parse(svg)
        assert not [e for e in root.iter() if e.tag.endswith("script")]
        # The label survives as text (XML-unescaped back to what the caller gave).
        texts = [root.get("aria-label") or "", *("".join(e.itertext()) for e in root.iter())]
        assert any(EVIL in t for t in texts)


def test_xml_invalid_characters_are_dropped():
    for svg in every_chart("bell\x07 and null\x00 and \ud800 end"):
        root = parse(svg)
        assert "bell and null and  end" in (root.get("aria-label") or all_text(root))


def test_output_is_deterministic_and_self_contained():
    first = [
        *every_chart("ROI"),
        reliability_charts.reliability_chart(reliability_input(), title="c"),
    ]
    second = [
        *every_chart("ROI"),
        reliability_charts.reliability_chart(reliability_input(), title="c"),
    ]
    assert first == second
    for svg in first:
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", svg)
        assert "href" not in svg
        assert "<script" not in svg
        assert not re.search(r'\swidth="\d+(px)?"\s[^>]*viewBox', svg.split(">", 1)[0])


def test_charts_modules_import_only_core_and_each_other():
    families = (
        bar_charts,
        chart_common,
        line_charts,
        reliability_charts,
        sparklines,
        chart_svg,
        chart_ticks,
    )
    imported = set()
    for family in families:
        tree = ast.parse(inspect.getsource(family))
        imported |= {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("nbaprops")
        }
    assert any(m.startswith("nbaprops.core") for m in imported)
    assert all(m.startswith(("nbaprops.core", "nbaprops.api.charts.")) for m in imported)


# --- stylesheet -------------------------------------------------------------------------


def test_stylesheet_ships_with_the_package_and_stays_offline():
    css = (importlib.resources.files("nbaprops.api") / "static" / "app.css").read_text("utf-8")
    assert "url(" not in css
    assert "@import" not in css
    assert "http" not in css
    for selector in (
        ".tag-red",
        ".tag-yellow",
        ".tag-green",
        ".tag-critical",
        ".tag-warning",
        ".tag-info",
        ".table-wrap",
        ".topnav",
        "svg.chart",
        "svg.spark",
    ):
        assert selector in css, selector
    assert re.search(r"\.table-wrap\s*\{[^}]*overflow-x:\s*auto", css)
    assert re.search(r"\.topnav\s*\{[^}]*flex-wrap:\s*wrap", css)
    assert "prefers-color-scheme: dark" in css
    assert css.count("{") == css.count("}")


def test_grouped_bars_in_count_format_label_whole_numbers():
    svg = bar_charts.grouped_bar_chart(
        ["0-1", "1-2"],
        {"OVER": [2, 0], "UNDER": [12, 1500]},
        n=[14, 1500],
        title="bets by edge",
        y_format="count",
    )
    root = parse(svg)
    tips = [b.find(f"{NS}title").text for b in find(root, "rect", "bar")]
    assert "0-1, UNDER: 12" in tips
    assert "1-2, UNDER: 1,500" in tips
    assert not [t for t in tips if "." in t.rsplit(":", 1)[1]]
