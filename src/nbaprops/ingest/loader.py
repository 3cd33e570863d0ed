"""Keyed, idempotent file loads into the raw schema.

One transaction per file: a file either loads completely (good rows into its raw
table, bad rows into ``raw.quarantine`` with line and reason) or not at all.
Files are tracked by content hash, so re-running an unchanged ingest adds
nothing, and a changed file replaces exactly its own rows.

What is refused whole (the file fails alone, naming itself; nothing of it is
stored): a header without the format's columns, a corrupt or truncated gzip
stream, text that is not UTF-8 (the first bad line is named). What is
quarantined line by line (the rest of the file loads): a line that does not
parse as one CSV record of the header's width (a stray quote, a wrong field
count, NUL bytes), and any row whose values fail the format's checks. A CSV
record is one physical line; quoted fields spanning lines are not supported.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from nbaprops.core.db import transaction
from nbaprops.core.errors import DataNotFoundError, FormatError
from nbaprops.ingest.sources import SOURCES, SQL_TYPES, Col, Source


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


def discover(data_dir: Path) -> tuple[list[DiscoveredFile], list[str]]:
    """Every file under ``data_dir`` a source recognises by its path, plus the rest."""
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
    return sorted(found.values(), key=lambda f: str(f.path)), unrecognised


_GZIP_MAGIC = b"\x1f\x8b"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(path: Path, data: bytes) -> str:
    """The file's text, or a FormatError naming the file (never replacement characters)."""
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(
                str(path), [], f"cannot decompress: corrupt or truncated gzip data ({exc})"
            ) from None
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


def physical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every physical line, CRLF or LF."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


def parse_line(line: str) -> list[str]:
    """One CSV record from one physical line; csv.Error when it is malformed."""
    if "\x00" in line:
        raise csv.Error("contains NUL bytes")
    return next(csv.reader([line], strict=True), [])


def header_of(path: Path, text: str) -> list[str]:
    """The first line's column names, or a FormatError naming the file."""
    first = next(physical_lines(text), (1, ""))[1]
    if not first.strip():
        raise FormatError(str(path), [], "empty file (no header line)")
    try:
        header = [h.strip() for h in parse_line(first)]
    except csv.Error as exc:
        raise FormatError(str(path), [], f"malformed header line ({exc})") from None
    seen: set[str] = set()
    duplicated = sorted({h for h in header if h and (h in seen or seen.add(h))})
    if duplicated:
        raise FormatError(str(path), [], f"header repeats columns: {', '.join(duplicated)}")
    return header


def read_header(path: Path, data: bytes) -> list[str]:
    """The first line's column names of a file's bytes, or a FormatError naming the file."""
    return header_of(path, decode_text(path, data))


def check_header(source: Source, path: Path, header: list[str]) -> None:
    present = set(header)
    missing = [c for c in source.required_columns if c not in present]
    for group in source.require_one_of:
        if not present.intersection(group):
            missing.append(" or ".join(group))
    if missing:
        raise FormatError(str(path), missing)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed_expr(col: Col, present: set[str]) -> str:
    if col.src not in present:
        return f"CAST(NULL AS {SQL_TYPES[col.type]})"
    raw = f"NULLIF(trim({_q(col.src)}), '')"
    if col.type == "text":
        return raw
    if col.type == "int":
        # whole numbers only: digits cast exactly (no detour through DOUBLE above 2^53);
        # "21.0" is 21, but "21.5" is never rounded (DuckDB's own cast would round it)
        num = f"TRY_CAST({raw} AS DOUBLE)"
        return (
            f"CASE WHEN regexp_full_match({raw}, '[+-]?[0-9]+') THEN TRY_CAST({raw} AS BIGINT) "
            f"WHEN {num} = round({num}) THEN TRY_CAST({num} AS BIGINT) END"
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


def _reason_expr(source: Source, present: set[str]) -> str:
    whens = []
    for col in source.columns:
        if col.src not in present:
            continue
        raw = f"NULLIF(trim(s.{_q(col.src)}), '')"
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
            f"WHEN {raw} IS NOT NULL AND t.{col.dst} IS NULL THEN 'unparseable {label}: ' || {raw}"
        )
        if col.check:
            pred = col.check.replace("{v}", f"t.{col.dst}")
            what = f"{col.check_reason} {label}".replace("'", "''")
            whens.append(f"WHEN t.{col.dst} IS NOT NULL AND NOT ({pred}) THEN '{what}: ' || {raw}")
    typed_cols = {c.dst: f"t.{c.dst}" for c in source.columns}
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
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if "\x00" in text or any(not ln.strip() for ln in lines):
        return False
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
    if (n_rejects and n_rejects[0]) or not n_rows or n_rows[0] != len(lines) - 1:
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
    lines = physical_lines(text)
    next(lines, None)
    for number, line in lines:
        if not line.strip():
            continue
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


def _load_staged(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    file_id: str,
    path: str,
    header: list[str],
    counts: _Counts,
) -> None:
    present = set(header)
    typed = ", ".join(f"{_typed_expr(c, present)} AS {c.dst}" for c in source.columns)
    cols = [c.dst for c in source.columns]
    vhash = _vhash_expr(source, "")
    con.execute("DROP TABLE IF EXISTS _typed")
    con.execute(
        f"""
        CREATE TEMP TABLE _typed AS
        WITH t0 AS (SELECT s._line, {typed} FROM _stage s),
        t1 AS (
            SELECT t.*, {_reason_expr(source, present)} AS _reason
            FROM t0 t JOIN _stage s USING (_line)
        )
        SELECT *, {vhash} AS _vhash FROM t1
        """
    )
    key_join = " AND ".join(f"r.{k} IS NOT DISTINCT FROM t.{k}" for k in source.key)
    key_cols = ", ".join(f"t.{k}" for k in source.key)
    # Classify good rows: new, exact duplicate (unchanged), or conflicting duplicate.
    con.execute("DROP TABLE IF EXISTS _classified")
    con.execute(
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
        """
    )
    con.execute(
        f"""
        INSERT INTO {source.raw_table} ({", ".join(cols)}, _file_id, _line)
        SELECT {", ".join(cols)}, ?, _line FROM _classified
        WHERE _rn = 1 AND _other_path IS NULL
        ORDER BY _line
        """,
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
    for name in ("_typed", "_classified", "_stage"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


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


def load_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path,
    archive_dir: Path | None = None,
) -> FileResult:
    """Load one file in one transaction; raise FormatError before touching anything."""
    data = path.read_bytes()
    file_id = hashlib.sha256(data).hexdigest()
    spath = str(path)
    current = con.execute(
        "SELECT file_id, path FROM raw.file WHERE is_current AND (file_id = ? OR path = ?)",
        [file_id, spath],
    ).fetchall()
    if any(fid == file_id for fid, _ in current):
        return FileResult(spath, source.name, "unchanged")
    replaced = [fid for fid, p in current if p == spath]
    text = decode_text(path, data)
    header = header_of(path, text)
    check_header(source, path, header)
    # Staging only fills temp tables, so it runs before the transaction: a failed fast
    # read must not abort the transaction that writes.
    if _stage_fast(con, path, header, text):
        malformed: list[tuple[int, str, str]] = []
    else:
        malformed = _stage_exact(con, header, text)
    archived = _archive(data, file_id, path, archive_dir)
    counts = _Counts()
    with transaction(con):
        for old in replaced:
            con.execute(f"DELETE FROM {source.raw_table} WHERE _file_id = ?", [old])
            con.execute("DELETE FROM raw.quarantine WHERE file_id = ? AND path = ?", [old, spath])
            con.execute(
                "UPDATE raw.file SET is_current = false, superseded_at = now() "
                "WHERE file_id = ? AND path = ?",
                [old, spath],
            )
        _load_staged(con, source, file_id, spath, header, counts)
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
) -> list[FileResult]:
    """Load each file in its own transaction; a bad file is reported, the rest go on."""
    results = []
    for item in files:
        results.append(_load_isolated(con, item, archive_dir))
        if on_file:
            on_file(item)
    return results


def _load_isolated(
    con: duckdb.DuckDBPyConnection, item: DiscoveredFile, archive_dir: Path | None
) -> FileResult:
    """Load one file; whatever is wrong with it fails this file alone, with its name."""

    def failed(error: str) -> FileResult:
        return FileResult(str(item.path), item.source.name, "failed", error=error)

    try:
        return load_file(con, item.source, item.path, archive_dir)
    except FormatError as exc:
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
) -> IngestReport:
    """Find and load every recognised file under ``data_dir``."""
    files, unrecognised = discover(data_dir)
    if on_plan:
        on_plan(len(files))
    results = ingest_files(con, files, archive_dir, on_file)
    return IngestReport(tuple(results), tuple(unrecognised))
