"""Keyed, idempotent file loads into the raw schema.

One transaction per file: a file either loads completely (good rows into its raw
table, bad rows into ``raw.quarantine`` with line and reason) or not at all.
Files are tracked by content hash, so re-running an unchanged ingest adds
nothing, and a changed file replaces exactly its own rows.

What is refused whole (the file fails alone, naming itself; nothing of it is
stored): a header without the format's columns (a column present only in another
case is named as such: column names are case-sensitive), a header repeating a
column, also in another case (DuckDB binds names ignoring case); a corrupt or
truncated gzip stream, or one decompressing past ``IngestLimits`` (a size, or a
ratio to its compressed size: decompression is streamed and stops at the limit);
text that is not UTF-8 (the first bad line is named). What is quarantined line
by line (the rest of the file loads): a line that does not parse as one CSV
record of the header's width (a stray quote, a wrong field count, NUL bytes), and
any row whose values fail the format's checks (prices against the limits' band).
A CSV record is one physical line; quoted fields spanning lines are not
supported; blank lines are skipped.

A changed file that would drop more than ``max_replace_loss`` of the rows its
earlier version stored ("dropped": keys the earlier version had that no good row
of the new one has), or change their season, is refused unless ``replace=True``
(``nbaprops ingest --replace``); the archive keeps every version. The season of a
box-score or schedule row is read from its NBA game id (digits 4-5: the season's
start year); a source without game ids is judged by its US/Eastern date span
(game or event date, else tip-off): a new version whose dates do not overlap the
earlier version's at all is another slate or season, whatever its share.

``discover`` also names the folders it cannot read (globbing skips them
silently), so a permission problem is never an empty, successful ingest.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from nbaprops.core.db import transaction
from nbaprops.core.errors import DataNotFoundError, FormatError, NbapropsError
from nbaprops.ingest.limits import IngestLimits
from nbaprops.ingest.sources import SOURCES, SQL_TYPES, Col, Source

__all__ = [
    "DiscoveredFile",
    "Discovery",
    "FileResult",
    "IngestLimits",
    "IngestReport",
    "ReplaceRefusedError",
    "SourceSummary",
    "discover",
    "ingest_dir",
    "ingest_files",
    "load_file",
]


class ReplaceRefusedError(NbapropsError):
    """A changed file would drop too many of its earlier rows, or change their season."""


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: str
    source: str
    status: str  # loaded, replaced, unchanged, failed
    n_rows: int = 0
    n_loaded: int = 0
    n_quarantined: int = 0
    n_unchanged: int = 0
    error: str | None = None


@dataclass
class SourceSummary:
    source: str
    files: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_unchanged: int = 0


@dataclass(frozen=True)
class IngestReport:
    results: tuple[FileResult, ...]
    unrecognised: tuple[str, ...] = ()
    # folders under the data folder that could not be read ("<folder> (<reason>)")
    unreadable: tuple[str, ...] = ()

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def changed_sources(self) -> set[str]:
        return {r.source for r in self.results if r.status in ("loaded", "replaced")}

    def by_source(self) -> list[SourceSummary]:
        summaries: dict[str, SourceSummary] = {}
        for r in self.results:
            s = summaries.setdefault(r.source, SourceSummary(r.source))
            s.files += 1
            s.files_loaded += r.status in ("loaded", "replaced")
            s.files_unchanged += r.status == "unchanged"
            s.files_failed += r.status == "failed"
            s.rows_loaded += r.n_loaded
            s.rows_quarantined += r.n_quarantined
            s.rows_unchanged += r.n_unchanged
        return list(summaries.values())


@dataclass(frozen=True)
class DiscoveredFile:
    source: Source
    path: Path


@dataclass
class _Counts:
    rows: int = 0
    loaded: int = 0
    quarantined: int = 0
    unchanged: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Discovery:
    """What a data folder holds: recognised files, other CSVs, folders it cannot read."""

    files: list[DiscoveredFile]
    unrecognised: list[str]
    unreadable: tuple[str, ...] = ()


def discover(data_dir: Path) -> Discovery:
    """Every file under ``data_dir`` a source recognises by its path, the rest, and the
    folders that could not be read (named with the reason, never skipped silently)."""
    if not data_dir.is_dir():
        raise DataNotFoundError(f"data folder not found: {data_dir}")
    found: dict[Path, DiscoveredFile] = {}
    for source in SOURCES:
        for pattern in source.patterns:
            for path in sorted(data_dir.glob(pattern)):
                if path.is_file() and path not in found:
                    found[path] = DiscoveredFile(source, path)
    unrecognised = sorted(
        str(p.relative_to(data_dir))
        for p in data_dir.rglob("*.csv*")
        if p.is_file() and p not in found
    )
    files = sorted(found.values(), key=lambda f: str(f.path))
    return Discovery(files, unrecognised, unreadable_folders(data_dir))


def unreadable_folders(data_dir: Path) -> tuple[str, ...]:
    """Folders under ``data_dir`` that cannot be listed, as ``"<folder> (<reason>)"``."""
    errors: list[OSError] = []
    for _ in os.walk(data_dir, onerror=errors.append):
        pass
    return tuple(sorted(f"{e.filename} ({e.strerror or type(e).__name__})" for e in errors))


_GZIP_MAGIC = b"\x1f\x8b"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Compressed input fed per step, and the most output one step may produce: memory stays
# within the limit plus one step, however far a stream would inflate.
_IN_STEP = 64 * 1024
_OUT_STEP = 1024 * 1024
# Below this much output the ratio is not judged: a small, very repetitive file is harmless.
_RATIO_FLOOR = 16 * 1024 * 1024


def _refuse_size(path: Path, n_out: int, n_in: int, limits: IngestLimits) -> None:
    if n_out > limits.max_decompressed_bytes:
        raise FormatError(
            str(path),
            [],
            f"refused: decompresses to more than {limits.max_decompressed_bytes:,} bytes "
            "(limit: NBAPROPS_INGEST_MAX_DECOMPRESSED_BYTES)",
        )
    if n_out > max(limits.max_compression_ratio * n_in, _RATIO_FLOOR):
        raise FormatError(
            str(path),
            [],
            f"refused: decompresses to more than {limits.max_compression_ratio:g}x its "
            f"{n_in:,} compressed bytes (a gzip bomb? limit: "
            "NBAPROPS_INGEST_MAX_COMPRESSION_RATIO)",
        )


def gunzip(path: Path, data: bytes, limits: IngestLimits | None = None) -> bytearray:
    """Decompress a (possibly multi-member) gzip stream step by step within the limits."""
    limits = limits or IngestLimits()
    out = bytearray()
    view = memoryview(data)
    pos = 0
    pending: bytes | memoryview = b""
    inflater = zlib.decompressobj(wbits=31)
    try:
        while data:
            if not pending and pos < len(data):
                pending = view[pos : pos + _IN_STEP]
                pos += len(pending)
            piece = inflater.decompress(pending, _OUT_STEP)
            pending = inflater.unconsumed_tail
            if piece:
                out += piece
                _refuse_size(path, len(out), len(data), limits)
            if inflater.eof:  # a member ends; anything after it is the next member
                pending = inflater.unused_data
                if not pending and pos >= len(data):
                    break
                inflater = zlib.decompressobj(wbits=31)
            elif not piece and not pending and pos >= len(data):
                raise EOFError("compressed data ended before the end-of-stream marker")
    except (EOFError, zlib.error) as exc:
        raise FormatError(
            str(path), [], f"cannot decompress: corrupt or truncated gzip data ({exc})"
        ) from None
    return out


def decode_text(path: Path, data: bytes, limits: IngestLimits | None = None) -> str:
    """The file's text, or a FormatError naming the file (never replacement characters)."""
    raw: bytes | bytearray
    if path.name.endswith(".gz"):
        raw = gunzip(path, data, limits)
    elif data.startswith(_GZIP_MAGIC):
        raise FormatError(str(path), [], "is gzip-compressed but not named .gz")
    else:
        raw = data
    if raw.startswith(_UTF16_BOMS):
        raise FormatError(str(path), [], "is UTF-16 text; re-save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            str(path),
            [],
            f"not UTF-8 text: line {line} has byte 0x{raw[exc.start]:02x} "
            "(re-save the file as UTF-8)",
        ) from None


def next_non_blank(text: str, pos: int = 0) -> int:
    """Offset of the first non-whitespace character at or after ``pos``, or -1.

    ``str.lstrip`` on growing windows: a run of blank lines is skipped at C speed and
    in time linear in its length (a regex search steps through it far slower).
    """
    size = 256
    while pos < len(text):
        window = text[pos : pos + size]
        rest = window.lstrip()
        if rest:
            return pos + len(window) - len(rest)
        pos += len(window)
        size = min(size * 4, 1 << 24)
    return -1


# A blank line after the first: whitespace only, up to a newline or the end of the text.
_BLANK_LINE = re.compile(r"\n[^\S\n]*(?:\n|\Z)")


def content_lines(text: str, start: int = 0, number: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line that is not blank, CRLF or LF, from offset
    ``start`` (the start of line ``number``). Runs of blank lines are skipped in one
    search, never line by line, and nothing is split into a list up front."""
    pos = start
    while True:
        found = next_non_blank(text, pos)
        if found < 0:
            return
        newline = text.rfind("\n", pos, found)
        begin = pos if newline < 0 else newline + 1
        end = text.find("\n", found)
        if end < 0:
            end = len(text)
        number += text.count("\n", pos, begin)
        yield number, text[begin:end].removesuffix("\r")
        pos = end + 1
        number += 1


def parse_line(line: str) -> list[str]:
    """One CSV record from one physical line; csv.Error when it is malformed."""
    if "\x00" in line:
        raise csv.Error("contains NUL bytes")
    return next(csv.reader([line], strict=True), [])


def header_of(path: Path, text: str) -> list[str]:
    """The first line's column names, or a FormatError naming the file.

    Names must be unique ignoring case: DuckDB binds column names case-insensitively,
    so of ``Line`` and ``line`` one would be read silently in place of the other.
    """
    end = text.find("\n")
    first = (text if end < 0 else text[:end]).removesuffix("\r")
    if not first.strip():
        raise FormatError(str(path), [], "empty file (no header line)")
    try:
        header = [h.strip() for h in parse_line(first)]
    except csv.Error as exc:
        raise FormatError(str(path), [], f"malformed header line ({exc})") from None
    spellings: dict[str, list[str]] = {}
    for h in header:
        if h:
            spellings.setdefault(h.lower(), []).append(h)
    exact = sorted({h for names in spellings.values() for h in names if names.count(h) > 1})
    by_case = sorted(
        " and ".join(sorted(set(names))) for names in spellings.values() if len(set(names)) > 1
    )
    problems = []
    if exact:
        problems.append(f"header repeats columns: {', '.join(exact)}")
    if by_case:
        problems.append(
            f"header repeats columns that differ only by case: {', '.join(by_case)} "
            "(column names must be unique ignoring case)"
        )
    if problems:
        raise FormatError(str(path), [], "; ".join(problems))
    return header


def read_header(path: Path, data: bytes, limits: IngestLimits | None = None) -> list[str]:
    """The first line's column names of a file's bytes, or a FormatError naming the file."""
    return header_of(path, decode_text(path, data, limits))


def check_header(source: Source, path: Path, header: list[str]) -> None:
    """Refuse a header without the source's columns; a column found only in another case
    is named as such (column names are case-sensitive)."""
    present = set(header)
    by_lower = {h.lower(): h for h in header}

    def named(column: str) -> str:
        other = by_lower.get(column.lower())
        return f"{column} (found {other})" if other else column

    missing = [named(c) for c in source.required_columns if c not in present]
    for group in source.require_one_of:
        if not present.intersection(group):
            missing.append(" or ".join(named(c) for c in group))
    if missing:
        if any("(found " in m for m in missing):
            detail = (
                f"not a recognised format, missing columns: {', '.join(missing)}; "
                "column names are case-sensitive"
            )
            raise FormatError(str(path), missing, detail)
        raise FormatError(str(path), missing)
    for col in source.columns:
        other = by_lower.get(col.src.lower())
        if col.src not in present and other is not None:
            raise FormatError(
                str(path),
                [],
                f"column {other} differs from {col.src} only by case "
                "(column names are case-sensitive)",
            )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# 2^53: every whole number below it is exact as a double, and none above it need be.
_EXACT_DOUBLE = 9007199254740992


def _typed_expr(col: Col, present: set[str]) -> str:
    if col.src not in present:
        return f"CAST(NULL AS {SQL_TYPES[col.type]})"
    raw = f"r.{_q(col.src)}"  # trimmed, empty as NULL (``_type_staged``'s ``r``)
    if col.type == "text":
        return raw
    if col.type == "int":
        # whole numbers only: digits cast exactly (no detour through DOUBLE above 2^53);
        # "21.0" is 21, but "21.5" is never rounded (DuckDB's own cast would round it)
        # a float form ("21.0", "2.1e1") only below 2^53, where a double is still exact
        num = f"TRY_CAST({raw} AS DOUBLE)"
        return (
            f"CASE WHEN regexp_full_match({raw}, '[+-]?[0-9]+') THEN TRY_CAST({raw} AS BIGINT) "
            f"WHEN {num} = round({num}) AND abs({num}) < {_EXACT_DOUBLE} "
            f"THEN TRY_CAST({num} AS BIGINT) END"
        )
    if col.type in ("double", "date", "timestamp"):
        # NaN, infinities and +-infinity dates are not values a feed can mean
        typed = f"TRY_CAST({raw} AS {SQL_TYPES[col.type]})"
        return f"CASE WHEN isfinite({typed}) THEN {typed} END"
    if col.type == "bool":
        return (
            f"CASE lower({raw}) WHEN 'true' THEN true WHEN '1' THEN true WHEN 't' THEN true "
            f"WHEN 'false' THEN false WHEN '0' THEN false WHEN 'f' THEN false END"
        )
    return f"TRY_CAST({raw} AS {SQL_TYPES[col.type]})"


def _finite(value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


# The ``{placeholder}`` values checks may use besides their columns: bound parameters.
_LIMIT_PLACEHOLDERS = {"price_min": "$price_min", "price_max": "$price_max"}


def _limit_params(limits: IngestLimits, sql: str) -> dict[str, float]:
    """The limits a query's checks name, as values to bind (finite numbers only)."""
    values = {"price_min": limits.price_min, "price_max": limits.price_max}
    return {k: _finite(v) for k, v in values.items() if _LIMIT_PLACEHOLDERS[k] in sql}


def _reason_expr(source: Source, present: set[str]) -> str:
    values = _LIMIT_PLACEHOLDERS
    whens = []
    for col in source.columns:
        if col.src not in present:
            continue
        raw = f"r.{_q(col.src)}"  # trimmed, empty as NULL (``_type_staged``'s ``r``)
        label = col.src.replace("'", "''")
        if col.required:
            whens.append(f"WHEN {raw} IS NULL THEN 'missing {label}'")
        if col.type == "int":
            num = f"TRY_CAST({raw} AS DOUBLE)"
            whens.append(
                f"WHEN isfinite({num}) AND {num} <> round({num}) "
                f"THEN 'not a whole number {label}: ' || {raw}"
            )
            whens.append(
                f"WHEN isfinite({num}) AND abs({num}) >= {_EXACT_DOUBLE} "
                f"AND NOT regexp_full_match({raw}, '[+-]?[0-9]+') "
                f"THEN 'whole number {label} in float notation beyond 2^53 (not exact): ' || {raw}"
            )
        whens.append(
            f"WHEN {raw} IS NOT NULL AND t.{col.dst} IS NULL THEN 'unparseable {label}: ' || {raw}"
        )
        if col.check:
            pred = col.check.replace("{v}", f"t.{col.dst}")
            for name, literal in values.items():
                pred = pred.replace("{" + name + "}", literal)
            what = f"{col.check_reason} {label}".replace("'", "''")
            whens.append(f"WHEN t.{col.dst} IS NOT NULL AND NOT ({pred}) THEN '{what}: ' || {raw}")
    typed_cols = {**values, **{c.dst: f"t.{c.dst}" for c in source.columns}}
    for predicate, reason in source.row_checks:
        pred = predicate.format_map(typed_cols)
        label = reason.replace("'", "''")
        # a check over missing values is not a verdict (NULL); only a false one quarantines
        whens.append(f"WHEN NOT coalesce(({pred}), true) THEN '{label}'")
    return "CASE " + " ".join(whens) + " END" if whens else "NULL"


def _stage_fast(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], text: str) -> bool:
    """Stage with DuckDB's reader when its rows map one-to-one onto the file's lines.

    False (stage nothing) when any row is malformed, a line is blank or holds NUL
    bytes, or DuckDB reads the header differently: the exact reader then stages.
    """
    if "\x00" in text:
        return False
    blank = _BLANK_LINE.search(text)
    if blank is not None and next_non_blank(text, blank.start()) >= 0:
        return False  # a blank line before the last row: DuckDB would skip it
    if blank is not None and len(text) - blank.start() > 64:
        return False  # a long blank tail: DuckDB steps through it slowly, the exact reader not
    n_lines = text.count("\n", 0, blank.start() if blank else len(text)) + 1
    con.execute("DROP TABLE IF EXISTS _stage")
    try:
        con.execute(
            "CREATE TEMP TABLE _stage AS SELECT row_number() OVER () + 1 AS _line, * "
            "FROM read_csv(?, all_varchar = true, header = true, delim = ',', quote = '\"', "
            "escape = '\"', store_rejects = true, rejects_table = '_rej', "
            "rejects_scan = '_rej_scan', max_line_size = 10000000, auto_detect = false, "
            "columns = ?)",
            [str(path), dict.fromkeys(_column_names(header), "VARCHAR")],
        )
        n_rejects = con.execute("SELECT count(*) FROM _rej").fetchone()
        n_rows = con.execute("SELECT count(*) FROM _stage").fetchone()
    except duckdb.Error:
        con.execute("DROP TABLE IF EXISTS _stage")
        return False
    finally:
        con.execute("DROP TABLE IF EXISTS _rej")
        con.execute("DROP TABLE IF EXISTS _rej_scan")
    if (n_rejects and n_rejects[0]) or not n_rows or n_rows[0] != n_lines - 1:
        con.execute("DROP TABLE IF EXISTS _stage")
        return False
    return True


def _column_names(header: list[str]) -> list[str]:
    return [h if h else f"column{i:02d}" for i, h in enumerate(header)]


def _stage_exact(
    con: duckdb.DuckDBPyConnection, header: list[str], text: str
) -> list[tuple[int, str, str]]:
    """Stage line by line (exact line numbers); return the malformed lines."""
    good: list[list[str]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str, str]] = []
    width = len(header)
    first_end = text.find("\n")
    lines = content_lines(text, first_end + 1, 2) if first_end >= 0 else iter(())
    for number, line in lines:
        try:
            record = parse_line(line)
        except csv.Error as exc:
            bad.append((number, f"malformed CSV line ({exc})", line[:2000]))
            continue
        if len(record) != width:
            hint = " (unbalanced quote?)" if line.count('"') % 2 else ""
            bad.append((number, f"expected {width} fields, found {len(record)}{hint}", line[:2000]))
            continue
        good.append(record)
        numbers.append(number)
    frame = pd.DataFrame(good, columns=_column_names(header), dtype="string")
    frame.insert(0, "_line", pd.Series(numbers, dtype="int64"))
    con.execute("DROP TABLE IF EXISTS _stage")
    con.register("_stage_df", frame)
    con.execute("CREATE TEMP TABLE _stage AS SELECT * FROM _stage_df")
    con.unregister("_stage_df")
    return bad


def _vhash_expr(source: Source, prefix: str) -> str:
    """Hash of a row's non-key values, to tell exact duplicates from conflicts."""
    if not source.value_columns:
        return "''"
    parts = ", ".join(f"coalesce(CAST({prefix}{c} AS VARCHAR), '∅')" for c in source.value_columns)
    return f"md5(concat_ws('|', {parts}))"


def _type_staged(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    header: list[str],
    limits: IngestLimits | None = None,
) -> None:
    """Type the staged rows and give each bad one its reason (temp table ``_typed``)."""
    present = set(header)
    # each used cell trimmed (empty as NULL) once, in ``r``: the typing and the reasons
    # name it instead of repeating the expression (a third of the planning time on a
    # wide format, for the same rows)
    used = dict.fromkeys(c.src for c in source.columns if c.src in present)
    trimmed = ["_line", *(f"NULLIF(trim({_q(src)}), '') AS {_q(src)}" for src in used)]
    typed = ", ".join(f"{_typed_expr(c, present)} AS {c.dst}" for c in source.columns)
    vhash = _vhash_expr(source, "")
    con.execute("DROP TABLE IF EXISTS _typed")
    # expressions built from the format's own column definitions; the limits are bound
    sql = f"""
        CREATE TEMP TABLE _typed AS
        WITH r AS (SELECT {", ".join(trimmed)} FROM _stage),
        t0 AS (SELECT r._line, {typed} FROM r),
        t1 AS (
            SELECT t.*, {_reason_expr(source, present)} AS _reason
            FROM t0 t JOIN r USING (_line)
        )
        SELECT *, {vhash} AS _vhash FROM t1
        """  # noqa: S608
    con.execute(sql, _limit_params(limits or IngestLimits(), sql))


def _season_expr(source: Source, prefix: str) -> str | None:
    """SQL for a row's NBA season start year, when the source carries NBA game ids."""
    for col in source.columns:
        if col.dst == "game_id" and col.check and "00[1-6]" in col.check:
            return f"2000 + TRY_CAST(substr({prefix}game_id, 4, 2) AS INTEGER)"
    return None


def _date_expr(source: Source, prefix: str) -> str | None:
    """SQL for a row's US/Eastern date: its game or event date, else its tip-off."""
    dates = []
    for col in source.columns:
        if col.type == "date" and col.dst in ("game_date", "event_date"):
            dates.append(f"{prefix}{col.dst}")
    for col in source.columns:
        if col.type == "timestamp" and col.dst == "commence_time":
            dates.append(f"CAST(timezone('America/New_York', {prefix}{col.dst}) AS DATE)")
    return f"coalesce({', '.join(dates)})" if len(dates) > 1 else (dates or [None])[0]


def _season_label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _check_replacement(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: str,
    old_ids: list[str],
    limits: IngestLimits,
) -> None:
    """Refuse a new version that drops too many earlier rows or moves to another season.

    Runs on the typed new version (``_typed``) before anything is written.
    """
    ids = ", ".join("?" for _ in old_ids)
    key_match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM r.{k}" for k in source.key)
    counted = con.execute(
        # the format's table, key and column expressions (Source constants); values bound
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM _typed t WHERE t._reason IS NULL AND {key_match}))
        FROM {source.raw_table} r WHERE r._file_id IN ({ids})
        """,  # noqa: S608
        old_ids,
    ).fetchone()
    assert counted is not None
    n_old, n_lost = int(counted[0]), int(counted[1])
    if n_old == 0:
        return
    moved = ""
    season = _season_expr(source, "")
    day = _date_expr(source, "")
    if season is not None:
        old = {
            int(s)
            for (s,) in con.execute(
                # the format's table, key and column expressions (Source constants); values bound
                f"SELECT DISTINCT {season} FROM {source.raw_table} WHERE _file_id IN ({ids})",  # noqa: S608
                old_ids,
            ).fetchall()
            if s is not None
        }
        new = {
            int(s)
            for (s,) in con.execute(
                # the format's table, key and column expressions (Source constants); values bound
                f"SELECT DISTINCT {season} FROM _typed WHERE _reason IS NULL"  # noqa: S608
            ).fetchall()
            if s is not None
        }
        if old - new:
            before = ", ".join(_season_label(y) for y in sorted(old))
            after = ", ".join(_season_label(y) for y in sorted(new)) or "none"
            word = "seasons" if len(old) > 1 or len(new) > 1 else "season"
            moved = f"{word} {before} → {after}"
    elif day is not None:
        old_span = con.execute(
            # the format's table, key and column expressions (Source constants); values bound
            f"SELECT min({day}), max({day}) FROM {source.raw_table} WHERE _file_id IN ({ids})",  # noqa: S608
            old_ids,
        ).fetchone()
        new_span = con.execute(
            # the format's table, key and column expressions (Source constants); values bound
            f"SELECT min({day}), max({day}) FROM _typed WHERE _reason IS NULL"  # noqa: S608
        ).fetchone()
        assert old_span is not None
        assert new_span is not None
        if old_span[0] is not None and (
            new_span[0] is None or new_span[0] > old_span[1] or new_span[1] < old_span[0]
        ):

            def span(lo: object, hi: object) -> str:
                return "none" if lo is None else str(lo) if lo == hi else f"{lo} … {hi}"

            moved = f"dates {span(*old_span)} → {span(*new_span)}"
    share = n_lost / n_old
    if not moved and share <= limits.max_replace_loss:
        return
    why = moved or (
        f"{share:.0%}, more than the {limits.max_replace_loss:.0%} "
        "NBAPROPS_INGEST_MAX_REPLACE_LOSS allows"
    )
    raise ReplaceRefusedError(
        f"refused: replacing {path} would drop {n_lost:,} of its {n_old:,} rows ({why}); "
        "pass --replace to accept"
    )


def _load_staged(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    file_id: str,
    path: str,
    counts: _Counts,
) -> None:
    """Write the typed rows (``_typed``): new ones to the raw table, bad ones to quarantine."""
    cols = [c.dst for c in source.columns]
    key_join = " AND ".join(f"r.{k} IS NOT DISTINCT FROM t.{k}" for k in source.key)
    key_cols = ", ".join(f"t.{k}" for k in source.key)
    # Classify good rows: new, exact duplicate (unchanged), or conflicting duplicate.
    con.execute("DROP TABLE IF EXISTS _classified")
    con.execute(
        # the format's table, key and column expressions (Source constants); values bound
        f"""
        CREATE TEMP TABLE _classified AS
        WITH ranked AS (
            SELECT t.*,
                   row_number() OVER (PARTITION BY {key_cols} ORDER BY t._line) AS _rn,
                   first_value(t._line) OVER (PARTITION BY {key_cols} ORDER BY t._line)
                       AS _first_line,
                   first_value(t._vhash) OVER (PARTITION BY {key_cols} ORDER BY t._line)
                       AS _first_vhash
            FROM _typed t WHERE t._reason IS NULL
        ),
        existing AS (
            SELECT t._line, min(f.path) AS _other_path, min(r._line) AS _other_line,
                   min(CASE WHEN {_vhash_expr(source, "r.")} = t._vhash
                       THEN 1 ELSE 0 END) AS _all_same
            FROM ranked t
            JOIN {source.raw_table} r ON {key_join}
            JOIN raw.file f ON f.file_id = r._file_id AND f.is_current
            WHERE t._rn = 1
            GROUP BY t._line
        )
        SELECT t.*, e._other_path, e._other_line, e._all_same FROM ranked t
        LEFT JOIN existing e USING (_line)
        """  # noqa: S608
    )
    con.execute(
        # the format's table, key and column expressions (Source constants); values bound
        f"""
        INSERT INTO {source.raw_table} ({", ".join(cols)}, _file_id, _line)
        SELECT {", ".join(cols)}, ?, _line FROM _classified
        WHERE _rn = 1 AND _other_path IS NULL
        ORDER BY _line
        """,  # noqa: S608
        [file_id],
    )
    con.execute(
        """
        INSERT INTO raw.quarantine
        SELECT ?, ?, ?, _line, reason, record, now() FROM (
            SELECT t._line, t._reason AS reason, to_json(s) AS record
            FROM _typed t JOIN _stage s USING (_line)
            WHERE t._reason IS NOT NULL
            UNION ALL
            SELECT c._line,
                   'duplicate key with different values than line ' || c._first_line,
                   to_json(s)
            FROM _classified c JOIN _stage s USING (_line)
            WHERE c._rn > 1 AND c._vhash <> c._first_vhash
            UNION ALL
            SELECT c._line,
                   'duplicate key with different values than ' || c._other_path
                       || ' line ' || c._other_line,
                   to_json(s)
            FROM _classified c JOIN _stage s USING (_line)
            WHERE c._rn = 1 AND c._other_path IS NOT NULL AND c._all_same = 0
        )
        """,
        [file_id, path, source.name],
    )
    stats = con.execute(
        """
        SELECT
            (SELECT count(*) FROM _typed),
            (SELECT count(*) FROM _classified WHERE _rn = 1 AND _other_path IS NULL),
            (SELECT count(*) FROM _typed WHERE _reason IS NOT NULL)
              + (SELECT count(*) FROM _classified WHERE _rn > 1 AND _vhash <> _first_vhash)
              + (SELECT count(*) FROM _classified
                 WHERE _rn = 1 AND _other_path IS NOT NULL AND _all_same = 0),
            (SELECT count(*) FROM _classified WHERE _rn > 1 AND _vhash = _first_vhash)
              + (SELECT count(*) FROM _classified
                 WHERE _rn = 1 AND _other_path IS NOT NULL AND _all_same = 1)
        """
    ).fetchone()
    assert stats is not None
    counts.rows += int(stats[0])
    counts.loaded += int(stats[1])
    counts.quarantined += int(stats[2])
    counts.unchanged += int(stats[3])
    _drop_temp(con)


def _archive(data: bytes, file_id: str, path: Path, archive_dir: Path | None) -> str | None:
    if archive_dir is None:
        return None
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix
    target = archive_dir / file_id[:2] / f"{file_id}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        shutil.move(tmp, target)
    return str(target)


def _read(path: Path, limits: IngestLimits) -> bytes:
    size = path.stat().st_size
    if size > limits.max_decompressed_bytes:
        raise FormatError(
            str(path),
            [],
            f"refused: {size:,} bytes, more than {limits.max_decompressed_bytes:,} "
            "(limit: NBAPROPS_INGEST_MAX_DECOMPRESSED_BYTES)",
        )
    return path.read_bytes()


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("_typed", "_classified", "_stage"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def load_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path,
    archive_dir: Path | None = None,
    *,
    limits: IngestLimits | None = None,
    replace: bool = False,
) -> FileResult:
    """Load one file in one transaction; raise FormatError (or ReplaceRefusedError)
    before touching anything."""
    limits = limits or IngestLimits()
    data = _read(path, limits)
    file_id = hashlib.sha256(data).hexdigest()
    spath = str(path)
    current = con.execute(
        "SELECT file_id, path FROM raw.file WHERE is_current AND (file_id = ? OR path = ?)",
        [file_id, spath],
    ).fetchall()
    if any(fid == file_id for fid, _ in current):
        return FileResult(spath, source.name, "unchanged")
    replaced = [fid for fid, p in current if p == spath]
    text = decode_text(path, data, limits)
    header = header_of(path, text)
    check_header(source, path, header)
    # Staging only fills temp tables, so it runs before the transaction: a failed fast
    # read must not abort the transaction that writes.
    try:
        if _stage_fast(con, path, header, text):
            malformed: list[tuple[int, str, str]] = []
        else:
            malformed = _stage_exact(con, header, text)
        del text
        _type_staged(con, source, header, limits)
        if replaced and not replace:
            _check_replacement(con, source, spath, replaced, limits)
        archived = _archive(data, file_id, path, archive_dir)
        counts = _Counts()
        with transaction(con):
            for old in replaced:
                # the format's table, key and column expressions (Source constants); values bound
                con.execute(f"DELETE FROM {source.raw_table} WHERE _file_id = ?", [old])  # noqa: S608
                con.execute(
                    "DELETE FROM raw.quarantine WHERE file_id = ? AND path = ?", [old, spath]
                )
                con.execute(
                    "UPDATE raw.file SET is_current = false, superseded_at = now() "
                    "WHERE file_id = ? AND path = ?",
                    [old, spath],
                )
            _load_staged(con, source, file_id, spath, counts)
            for line, reason, record in malformed:
                con.execute(
                    "INSERT INTO raw.quarantine VALUES (?, ?, ?, ?, ?, ?, now())",
                    [file_id, spath, source.name, line, reason, record],
                )
            counts.rows += len(malformed)
            counts.quarantined += len(malformed)
            con.execute(
                "INSERT INTO raw.file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), true, NULL)",
                [
                    file_id,
                    spath,
                    source.name,
                    len(data),
                    counts.rows,
                    counts.loaded,
                    counts.quarantined,
                    counts.unchanged,
                    archived,
                ],
            )
            con.execute("INSERT INTO raw.change_log VALUES (?, now())", [source.name])
    except BaseException:
        # the staged temp tables go with a failed load (a failed drop, e.g. in an aborted
        # transaction, never hides the load's own error); a finished load drops them itself
        with suppress(duckdb.Error):
            _drop_temp(con)
        raise
    return FileResult(
        spath,
        source.name,
        "replaced" if replaced else "loaded",
        counts.rows,
        counts.loaded,
        counts.quarantined,
        counts.unchanged,
    )


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    files: Iterable[DiscoveredFile],
    archive_dir: Path | None = None,
    on_file: Callable[[DiscoveredFile], None] | None = None,
    *,
    limits: IngestLimits | None = None,
    replace: bool = False,
) -> list[FileResult]:
    """Load each file in its own transaction; a bad file is reported, the rest go on."""
    results = []
    for item in files:
        results.append(_load_isolated(con, item, archive_dir, limits=limits, replace=replace))
        if on_file:
            on_file(item)
    return results


def _load_isolated(
    con: duckdb.DuckDBPyConnection,
    item: DiscoveredFile,
    archive_dir: Path | None,
    *,
    limits: IngestLimits | None = None,
    replace: bool = False,
) -> FileResult:
    """Load one file; whatever is wrong with it fails this file alone, with its name."""

    def failed(error: str) -> FileResult:
        return FileResult(str(item.path), item.source.name, "failed", error=error)

    try:
        return load_file(con, item.source, item.path, archive_dir, limits=limits, replace=replace)
    except NbapropsError as exc:
        return failed(str(exc))
    except OSError as exc:
        return failed(f"{item.path}: cannot read ({exc.strerror or exc})")
    except duckdb.Error as exc:
        return failed(f"{item.path}: cannot load ({str(exc).splitlines()[0]})")
    except Exception as exc:  # one file's surprise must not stop the others
        return failed(f"{item.path}: cannot load ({type(exc).__name__}: {exc})")


def ingest_dir(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    archive_dir: Path | None = None,
    on_file: Callable[[DiscoveredFile], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    *,
    limits: IngestLimits | None = None,
    replace: bool = False,
) -> IngestReport:
    """Find and load every recognised file under ``data_dir``."""
    found = discover(data_dir)
    if on_plan:
        on_plan(len(found.files))
    results = ingest_files(con, found.files, archive_dir, on_file, limits=limits, replace=replace)
    return IngestReport(tuple(results), tuple(found.unrecognised), found.unreadable)
