"""Property-based fuzz of the values and headers of every prop format: nothing absurd gets in.

For every format that carries lines or prices, hypothesis writes the format's seed rows
(``tests/fuzz_formats.py``) with their lines and prices drawn from the whole float range
(any magnitude, NaN, infinities, integers, exponents), and for every format its header
with random case and repeated columns. Each example ingests into a fresh warehouse (a copy
of one migrated and built once while empty, ``tests/fuzz_formats.fresh_warehouse``) and
rebuilds its core tables (every one the ingested file feeds; the others stay as built
from the empty raw tables), and checks that nothing raises and that no out-of-band value
reaches a raw table or ``core``: every stored line lies in its market's band, every stored price is
an American price inside the sane band, and every two-way pair clears the margin floor.
A header that differs from the format only by case, or repeats a column in any case, is
refused whole (nothing of it stored).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbaprops.core.markets import LINE_BANDS, MARKETS
from nbaprops.ingest.loader import IngestReport, ingest_dir
from nbaprops.ingest.sources import SOURCES, SOURCES_BY_NAME
from nbaprops.warehouse.transforms import CORE_TABLES, QuoteRules, rebuild
from tests.fuzz_formats import SEEDS, fresh_warehouse

EXAMPLES = int(os.environ.get("NBAPROPS_FUZZ_EXAMPLES", "10"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PRICE_MIN, PRICE_MAX = -10000.0, 10000.0  # the settings' defaults
PRICED = [s.name for s in SOURCES if any(c.dst == "line" for c in s.columns)]


def _number_text(draw: st.DrawFn) -> str:
    """A number as a feed might write it: any float, an integer, an exponent, or junk."""
    kind = draw(st.sampled_from(("float", "int", "exp", "half", "special")))
    if kind == "float":
        return repr(draw(st.floats(allow_nan=True, allow_infinity=True)))
    if kind == "int":
        return str(draw(st.integers(-(10**12), 10**12)))
    if kind == "exp":
        return f"{draw(st.floats(allow_nan=False, allow_infinity=False)):e}"
    if kind == "half":
        return str(draw(st.integers(-400, 400)) / 2)
    return draw(st.sampled_from(("nan", "inf", "-inf", "1e309", "-0", "+100000", "99.9")))


@st.composite
def valued_files(draw: st.DrawFn, source: str) -> str:
    seed = SEEDS[source]
    header = seed.header
    cols = {c.src: c for c in SOURCES_BY_NAME[source].columns}
    targets = [
        i
        for i, name in enumerate(header)
        if name in cols and (cols[name].dst == "line" or cols[name].dst.endswith("price"))
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for seed_row in seed.rows:
        row = list(seed_row)
        for i in targets:
            if draw(st.booleans()):
                row[i] = _number_text(draw)
        writer.writerow(row)
    return out.getvalue()


@contextmanager
def _ingest(
    root: Path, source: str, text: str
) -> Iterator[tuple[duckdb.DuckDBPyConnection, IngestReport]]:
    """Ingest ``text`` as ``source``'s file into a fresh warehouse and rebuild its core
    tables: every core table the file feeds is rebuilt when the file loads."""
    seed = SEEDS[source]
    path = root / seed.relpath(gz=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with fresh_warehouse(built=True) as con:
        report = ingest_dir(con, root)
        rebuilt = {r.table for r in rebuild(con, rules=QuoteRules())}
        if any(r.status == "loaded" for r in report.results):
            assert _fed_by(source) <= rebuilt, (source, rebuilt)
        yield con, report


def _fed_by(source: str) -> set[str]:
    """The core tables built, directly or through other core tables, from ``source``."""
    fed = {source}
    for table in CORE_TABLES:  # in build order: a table's core inputs come before it
        if fed.intersection(table.inputs):
            fed.add(table.name)
    return fed - {source}


def _implied(price: float) -> float:
    return -price / (100 - price) if price < 0 else 100 / (100 + price)


def _in_band(market: str, line: float) -> bool:
    name = MARKETS.get(market, market)
    if name not in LINE_BANDS:
        return True
    low, high = LINE_BANDS[name]
    return low <= line <= high


def _price_ok(price: float | None) -> bool:
    if price is None:
        return True
    return math.isfinite(price) and abs(price) >= 100 and PRICE_MIN <= price <= PRICE_MAX


def assert_nothing_absurd(con: duckdb.DuckDBPyConnection) -> None:
    """No stored line outside its band, no price outside the sane band, no thin pair."""
    for table, pair in (
        ("core.prop_line_snapshot", ("over_price", "under_price")),
        ("core.prop_line_book", ("over_price", "under_price")),
        ("core.prop_line", ("best_over_price", "best_under_price")),
    ):
        rows = con.execute(f"SELECT market, line, {pair[0]}, {pair[1]} FROM {table}").fetchall()
        for market, line, over, under in rows:
            assert _in_band(market, line), (table, market, line)
            assert _price_ok(over), (table, over)
            assert _price_ok(under), (table, under)
            if table != "core.prop_line" and over is not None and under is not None:
                assert _implied(over) + _implied(under) >= QuoteRules().min_two_way, (over, under)
    raw_prices = {
        "raw.odds_api_outcome": ("price",),
        "raw.pra_line": ("over_price", "under_price"),
        "raw.threes_line": ("over_price", "under_price"),
        "raw.generic_prop_line": ("over_price", "under_price"),
    }
    for table, columns in raw_prices.items():
        for column in columns:
            for (price,) in con.execute(f"SELECT {column} FROM {table}").fetchall():
                assert _price_ok(price), (table, column, price)


@pytest.mark.parametrize("source", PRICED)
def test_lines_and_prices_from_the_whole_float_range_never_reach_core_out_of_band(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    @FUZZ
    @given(text=valued_files(source))
    def check(text: str) -> None:
        root = tmp_path_factory.mktemp("bands")
        with _ingest(root, source, text) as (con, report):
            assert not report.failures, report.failures  # values never fail a whole file
            result = report.results[0]
            assert result.n_rows == result.n_loaded + result.n_quarantined + result.n_unchanged
            assert_nothing_absurd(con)

    check()


@st.composite
def cased_headers(draw: st.DrawFn, source: str) -> tuple[str, bool, bool]:
    """The seed with its header re-cased and maybe a column repeated; whether the header
    changed only by case, and whether it repeats a column (in any case)."""
    seed = SEEDS[source]
    header = list(seed.header)
    named = [i for i, h in enumerate(header) if h]
    recase = draw(st.lists(st.sampled_from(named), unique=True, max_size=len(named)))
    for i in recase:
        header[i] = draw(st.sampled_from((header[i].upper(), header[i].lower(), header[i].title())))
    rows = [list(r) for r in seed.rows]
    repeated = draw(st.booleans())
    if repeated:
        i = draw(st.sampled_from(named))
        twin = draw(st.sampled_from((header[i], header[i].swapcase(), header[i].upper())))
        header.append(twin)
        for r in rows:
            r.append(r[i])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    changed = header[: len(seed.header)] != seed.header
    return out.getvalue(), changed, repeated


@pytest.mark.parametrize("source", [s.name for s in SOURCES])
def test_headers_in_random_case_and_with_repeats_are_refused_whole_or_loaded_exactly(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    required = {c.src for c in SOURCES_BY_NAME[source].columns if not c.optional_in_file}

    @FUZZ
    @given(case=cased_headers(source))
    def check(case: tuple[str, bool, bool]) -> None:
        text, changed, repeated = case
        root = tmp_path_factory.mktemp("headers")
        with _ingest(root, source, text) as (con, report):
            (result,) = report.results
            header = next(csv.reader(io.StringIO(text)))
            lost = {h for h in required if h not in header}  # a required column re-cased
            if repeated or lost:
                assert result.status == "failed", (header, result)
                assert result.error
                assert str(root) in result.error
                stored = con.execute("SELECT count(*) FROM raw.file").fetchone()
                assert stored == (0,)
                if not repeated:
                    assert "case" in (result.error or ""), result.error
            elif changed:  # only optional or unused columns re-cased: named, or loaded
                assert result.status == "loaded" or "case" in (result.error or ""), result
            else:
                assert result.status == "loaded", (header, result.error)

    check()
