"""Property-based ingest fuzzing: malformed files in every format never break the ingest.

For every recognised format, hypothesis starts from a few real rows and applies one to
three mutations (see ``tests/fuzz_formats.py``). Each example ingests a fresh data folder
holding the fuzzed file plus one good file of another format and checks that:

(a) ``ingest_dir`` never raises;
(b) the good file loads exactly as it does alone;
(c) the fuzzed file is refused whole (status ``failed``, its path in the error, nothing of
    it stored) or every data row is accounted for: n_rows = loaded + quarantined +
    unchanged, matching the raw table, ``raw.quarantine`` and ``raw.file``; quarantined
    rows have a reason and a line >= 2, no line is counted twice; and when the mutations
    keep the row structure, n_rows is the number of data rows written and every loaded or
    quarantined line is the line of one of them;
(d) no stored text holds the replacement character U+FFFD;
(e) a mutated value that is loaded is stored exactly: numbers only when finite and (for
    integer columns) integral, dates and timestamps never infinite, and long strings whole;
and that ingesting the same folder again changes nothing.

Budget: ``NBAPROPS_FUZZ_EXAMPLES`` examples per format (default below, CI-friendly);
examples are derandomised when ``CI`` is set. Run with ``-s`` or
``--hypothesis-show-statistics`` to see the number of cases and mutations generated.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from nbaprops.ingest.loader import FileResult, IngestReport, ingest_dir
from nbaprops.ingest.sources import SOURCES, SOURCES_BY_NAME
from tests.fuzz_formats import FFFD_BYTES, SEEDS, FuzzCase, fresh_warehouse, fuzz_cases

FORMATS = [s.name for s in SOURCES]
DEFAULT_EXAMPLES = 10  # per format; the whole file runs in well under 60 s on 2 cores
FUZZ_EXAMPLES = int(os.environ.get("NBAPROPS_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
IN_CI = bool(os.environ.get("CI"))
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=IN_CI,
    # Failing examples are replayed first on the next local run, kept outside the repo.
    database=None
    if IN_CI
    else DirectoryBasedExampleDatabase(Path(tempfile.gettempdir()) / "nbaprops-hypothesis"),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
INT64 = (-(2**63), 2**63 - 1)
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_case_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    total = sum(CASES.values())
    if not total:
        return
    per_format = ", ".join(f"{name} {CASES[name]}" for name in FORMATS)
    line = f"ingest fuzz: {total} generated cases ({per_format})"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(line)
    else:  # pragma: no cover - without the terminal plugin
        print(line)


# ---------------------------------------------------------------------------------------------
# Helpers


def write(root: Path, relpath: str, data: bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """A table's rows as text (so infinite dates survive), in a stable order."""
    sql = f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {table} ORDER BY ALL"
    return con.execute(sql).fetchall()


def text_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND data_type = 'VARCHAR'",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Everything ingest writes, without load timestamps."""
    # one query finds the raw tables holding rows (an example fills one or two): an
    # empty table's rows are [] without reading it again
    counts = " UNION ALL ".join(
        f"SELECT '{s.raw_table}', count(*) FROM {s.raw_table}" for s in SOURCES
    )
    filled = {table for table, n in con.execute(counts).fetchall() if n}
    state: dict[str, object] = {
        s.raw_table: table_rows(con, s.raw_table) if s.raw_table in filled else [] for s in SOURCES
    }
    state["quarantine"] = con.execute(
        "SELECT CAST(COLUMNS(* EXCLUDE (quarantined_at)) AS VARCHAR) FROM raw.quarantine "
        "ORDER BY ALL"
    ).fetchall()
    state["file"] = con.execute(
        "SELECT CAST(COLUMNS(* EXCLUDE (loaded_at, superseded_at)) AS VARCHAR) FROM raw.file "
        "ORDER BY ALL"
    ).fetchall()
    state["change_log"] = scalar(con, "SELECT count(*) FROM raw.change_log")
    return state


def result_for(report: IngestReport, path: Path) -> FileResult:
    matches = [r for r in report.results if r.path == str(path)]
    assert len(matches) == 1, f"expected one result for {path}, got {report.results}"
    return matches[0]


@functools.cache
def seed_alone(source: str, gz: bool) -> tuple[FileResult, list[tuple]]:
    """How a seed file loads on its own: its result (path relative) and raw rows."""
    seed = SEEDS[source]
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), seed.relpath(gz), seed.payload(gz))
        with fresh_warehouse() as con:
            result = result_for(ingest_dir(con, Path(tmp)), path)
            rows = table_rows(con, SOURCES_BY_NAME[source].raw_table)
    return dataclasses.replace(result, path=seed.relpath(gz)), rows


# ---------------------------------------------------------------------------------------------
# The checks, usable outside pytest to sort failures.


def check_fuzzed_ingest(case: FuzzCase, ref_source: str, ref_gz: bool) -> None:
    """Ingest ``case`` next to a good file of ``ref_source`` twice and check (a)-(e)."""
    source = SOURCES_BY_NAME[case.source]
    ref = SEEDS[ref_source]
    expected_ref, expected_ref_rows = seed_alone(ref_source, ref_gz)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ref_path = write(root, ref.relpath(ref_gz), ref.payload(ref_gz))
        path = write(root, case.relpath, case.data)
        with fresh_warehouse() as con:
            # (a) no exception escapes, whatever the bytes.
            report = ingest_dir(con, root)
            assert report.unrecognised == (), report.unrecognised
            got = result_for(report, path)
            assert got.source == case.source

            # (b) the good file loads exactly as it does alone.
            got_ref = result_for(report, ref_path)
            assert dataclasses.replace(got_ref, path=ref.relpath(ref_gz)) == expected_ref, (
                "(b) the good file's result changed next to the fuzzed file"
            )
            assert table_rows(con, SOURCES_BY_NAME[ref_source].raw_table) == expected_ref_rows, (
                "(b) the good file's rows changed next to the fuzzed file"
            )

            # (c) every data row is accounted for, or the file is refused whole.
            check_accounted(con, case, path, got)
            # (d) nothing stored holds U+FFFD.
            check_no_replacement_character(con, source.raw_table)
            # (e) mutated values that were loaded are stored exactly.
            if got.status != "failed":
                check_fidelity(con, case, got)

            # Re-ingesting the same folder changes nothing.
            before = snapshot(con)
            again = ingest_dir(con, root)
            for first in report.results:
                second = result_for(again, Path(first.path))
                if first.status == "failed":
                    assert (second.status, second.error) == ("failed", first.error), (
                        f"re-ingest of a refused file gave {second}"
                    )
                else:
                    assert second.status == "unchanged", f"re-ingest gave {second}"
            assert snapshot(con) == before, "re-ingesting the same folder changed the warehouse"


def check_accounted(
    con: duckdb.DuckDBPyConnection, case: FuzzCase, path: Path, got: FileResult
) -> None:
    table = SOURCES_BY_NAME[case.source].raw_table
    spath = str(path)
    if got.status == "failed":
        assert got.error, "(c) a refused file must say why"
        assert spath in got.error, f"(c) the error does not name the file: {got.error!r}"
        assert scalar(con, f"SELECT count(*) FROM {table}") == 0, "(c) refused file left rows"
        assert scalar(con, "SELECT count(*) FROM raw.file WHERE path = ?", [spath]) == 0, (
            "(c) refused file left a raw.file row"
        )
        assert scalar(con, "SELECT count(*) FROM raw.quarantine WHERE path = ?", [spath]) == 0, (
            "(c) refused file left quarantine rows"
        )
        return
    assert got.status == "loaded", f"(c) a new file should be loaded or failed, got {got}"
    assert got.n_rows == got.n_loaded + got.n_quarantined + got.n_unchanged, (
        f"(c) rows not accounted for: {got}"
    )
    if case.expected_rows is not None:
        assert got.n_rows == case.expected_rows, (
            f"(c) the file has {case.expected_rows} data rows, the loader counted {got.n_rows}"
        )
    file_id = hashlib.sha256(case.data).hexdigest()
    files = con.execute(
        "SELECT file_id, is_current, n_rows, n_loaded, n_quarantined, n_unchanged "
        "FROM raw.file WHERE path = ?",
        [spath],
    ).fetchall()
    assert files == [
        (file_id, True, got.n_rows, got.n_loaded, got.n_quarantined, got.n_unchanged)
    ], f"(c) raw.file disagrees with {got}: {files}"
    loaded_lines = [
        r[0]
        for r in con.execute(
            f"SELECT _line FROM {table} WHERE _file_id = ? ORDER BY _line", [file_id]
        ).fetchall()
    ]
    assert len(loaded_lines) == got.n_loaded, (
        f"(c) {len(loaded_lines)} rows in {table}, result says {got.n_loaded}"
    )
    assert scalar(con, f"SELECT count(*) FROM {table}") == got.n_loaded
    quarantined = con.execute(
        "SELECT line, reason FROM raw.quarantine WHERE path = ? ORDER BY line", [spath]
    ).fetchall()
    assert len(quarantined) == got.n_quarantined, (
        f"(c) raw.quarantine holds {len(quarantined)} rows, result says {got.n_quarantined}"
    )
    for line, reason in quarantined:
        assert (reason or "").strip(), f"(c) quarantined line {line} has no reason"
        assert line is not None, f"(c) quarantined row without a line: {reason!r}"
        assert line >= 2, f"(c) quarantined line {line} is not a data line: {reason!r}"
    assert all(line >= 2 for line in loaded_lines), f"(c) loaded lines {loaded_lines}"
    q_lines = [line for line, _ in quarantined]
    assert len(set(q_lines)) == len(q_lines), f"(c) a line quarantined twice: {quarantined}"
    assert not set(q_lines) & set(loaded_lines), (
        f"(c) lines both loaded and quarantined: {set(q_lines) & set(loaded_lines)}"
    )
    if case.expected_rows is not None:
        stray = sorted(set(q_lines + loaded_lines) - set(case.data_lines))
        assert not stray, f"(c) lines {stray} are not data lines (those are {case.data_lines})"


def check_no_replacement_character(con: duckdb.DuckDBPyConnection, table: str) -> None:
    for column in text_columns(con, table):
        bad = con.execute(
            f'SELECT _line, "{column}" FROM {table} WHERE contains("{column}", ?) LIMIT 1',
            ["\ufffd"],
        ).fetchall()
        assert not bad, f"(d) U+FFFD stored in {table}.{column}: {bad[0][1][:200]!r}"
    bad = con.execute(
        "SELECT line, reason FROM raw.quarantine WHERE contains(reason, ?) LIMIT 1", ["\ufffd"]
    ).fetchall()
    assert not bad, f"(d) U+FFFD stored in raw.quarantine.reason: {bad[0]!r}"


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def check_fidelity(con: duckdb.DuckDBPyConnection, case: FuzzCase, got: FileResult) -> None:
    source = SOURCES_BY_NAME[case.source]
    dst = {c.src: c.dst for c in source.columns}
    file_id = hashlib.sha256(case.data).hexdigest()
    for cell in case.cells:
        if cell.column not in dst:
            continue
        column = dst[cell.column]
        row = con.execute(
            f"SELECT CAST({column} AS VARCHAR), {column} FROM {source.raw_table} "
            "WHERE _file_id = ? AND _line = ?",
            [file_id, cell.line],
        ).fetchone()
        if row is None:  # quarantined or an unchanged duplicate
            continue
        as_text, value = row
        text = cell.text.strip()
        where = f"(e) line {cell.line} {cell.column}={cell.text[:60]!r} stored as {as_text!r}"
        if not text:
            continue
        if cell.type in ("int", "double"):
            number = _number(text)
            assert number is not None, f"{where}: not a number, yet loaded"
            assert number.is_finite(), f"{where}: not a finite number, yet loaded"
            if cell.type == "int":
                assert number == number.to_integral_value(), f"{where}: fraction rounded"
                assert INT64[0] <= number <= INT64[1], f"{where}: out of range"
                assert value == int(number), where
            else:
                assert abs(float(number)) != float("inf"), f"{where}: overflows a double"
                assert value == float(number), where
        elif cell.type == "date":
            assert as_text not in ("infinity", "-infinity"), f"{where}: infinite date"
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                assert as_text == text, where
        elif cell.type == "timestamp":
            assert as_text not in ("infinity", "-infinity"), f"{where}: infinite timestamp"
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                continue
            if parsed.tzinfo is not None:
                assert value == parsed, where
        elif cell.type == "text":
            assert value == text, where


# ---------------------------------------------------------------------------------------------
# Tests


def test_every_recognised_format_has_a_fuzz_seed() -> None:
    assert sorted(SEEDS) == sorted(FORMATS)


@pytest.mark.parametrize("source", FORMATS)
@pytest.mark.parametrize("gz", [False, True], ids=["csv", "csv.gz"])
def test_every_seed_file_loads_cleanly_alone(source: str, gz: bool) -> None:
    result, rows = seed_alone(source, gz)
    n = len(SEEDS[source].rows)
    assert (result.status, result.n_rows, result.n_loaded) == ("loaded", n, n), result
    assert len(rows) == n


@pytest.mark.parametrize("source", FORMATS)
@FUZZ_SETTINGS
@given(data=st.data())
def test_no_malformed_file_raises_or_touches_other_files(source: str, data: st.DataObject) -> None:
    case = data.draw(fuzz_cases(source), label="fuzzed file")
    ref_source = data.draw(
        st.sampled_from([name for name in FORMATS if name != source]), label="good file format"
    )
    ref_gz = data.draw(st.booleans(), label="good file gzipped")
    # A file that really holds U+FFFD may store it; the property is about inventing one.
    assume(not any(marker in case.plain for marker in FFFD_BYTES))
    CASES[source] += 1
    for mutation in case.mutations:
        event(mutation.split("(")[0])
    check_fuzzed_ingest(case, ref_source, ref_gz)
