"""Jobs: the only place stages are sequenced. Each returns what it did (counts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from nbaprops.core.errors import DataNotFoundError
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.state import refresh_state
from nbaprops.features.store import MaterializeResult, materialize
from nbaprops.ingest.limits import IngestLimits
from nbaprops.ingest.loader import DiscoveredFile, Discovery, IngestReport, discover, ingest_files
from nbaprops.warehouse.migrate import migrate
from nbaprops.warehouse.transforms import BuildResult, QuoteRules, rebuild


@dataclass(frozen=True)
class Progress:
    """Callbacks a shell (CLI, API) passes to show long work; all optional."""

    start: Callable[[str, int], None] | None = None
    advance: Callable[[str], None] | None = None

    def begin(self, label: str, total: int) -> None:
        if self.start:
            self.start(label, total)

    def step(self, label: str) -> None:
        if self.advance:
            self.advance(label)


@dataclass(frozen=True)
class IngestJobResult:
    report: IngestReport
    builds: list[BuildResult]
    features_refreshed: bool = False


def ingest_job(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    data_dir: Path | None = None,
    progress: Progress | None = None,
    *,
    replace: bool = False,
) -> IngestJobResult:
    """Migrate, load every recognised file under the data folder, rebuild stale core tables.

    A folder with no recognised file is an error (a wrong path, not an empty success);
    ``replace`` accepts changed files that drop many earlier rows or change season.
    """
    progress = progress or Progress()
    folder = Path(data_dir or settings.paths.data_dir)
    if not folder.is_dir():
        raise DataNotFoundError(
            f"data folder not found: {folder} (set NBAPROPS_DATA_DIR or pass --data-dir)"
        )
    found = discover(folder)
    if not found.files:
        raise DataNotFoundError(_nothing_recognised(folder, found))
    migrate(con)
    progress.begin("ingest files", len(found.files))

    def on_file(item: DiscoveredFile) -> None:
        progress.step(item.path.name)

    results = ingest_files(
        con,
        found.files,
        settings.paths.resolved_archive_dir(),
        on_file,
        limits=IngestLimits.from_settings(settings),
        replace=replace,
    )
    for unreadable in found.unreadable:
        audit(con, "ingest", "unreadable_folder", unreadable, success=False)
    for r in results:
        if r.status != "unchanged":
            audit(
                con,
                "ingest",
                f"{r.status}_file",
                f"{r.path}: {r.n_loaded} loaded, {r.n_quarantined} quarantined"
                if r.status != "failed"
                else f"{r.error}",
            )
    report = IngestReport(tuple(results), tuple(found.unrecognised), found.unreadable)
    builds = rebuild_job(con, settings, progress=progress)
    refreshed = refresh_state(con)
    if refreshed:
        audit(con, "features", "refresh_state", "history states rebuilt")
    return IngestJobResult(report, builds, refreshed)


def _nothing_recognised(folder: Path, found: Discovery) -> str:
    message = f"no recognised files under {folder}"
    if found.unrecognised:
        shown = ", ".join(found.unrecognised[:5])
        more = len(found.unrecognised) - 5
        message += f" (not recognised: {shown}" + (f" and {more} more)" if more > 0 else ")")
    if found.unreadable:
        message += "; cannot read folder " + ", ".join(found.unreadable)
    return message


def audit(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    detail: str,
    *,
    success: bool = True,
    duration_s: float | None = None,
) -> None:
    """Every automated action leaves a line in pipeline.audit_log."""
    con.execute(
        "INSERT INTO pipeline.audit_log (logged_at, actor, action, detail, success, duration_s) "
        "VALUES (now(), ?, ?, ?, ?, ?)",
        [actor, action, detail, success, duration_s],
    )


def materialize_job(
    con: duckdb.DuckDBPyConnection,
    feature_set: FeatureSet,
    start: date | None = None,
    end: date | None = None,
    progress: Progress | None = None,
) -> MaterializeResult:
    """Write a training frame into the features schema (incremental) and audit it."""
    progress = progress or Progress()
    result = materialize(
        con,
        feature_set,
        start,
        end,
        on_plan=lambda n: progress.begin("build features", n),
        on_chunk=progress.step,
    )
    audit(
        con,
        "features",
        "materialize",
        f"{result.table}: {result.rows_written} rows for {result.dates_built} dates",
    )
    return result


def rebuild_job(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> list[BuildResult]:
    progress = progress or Progress()
    migrate(con)
    progress.begin("build core tables", 0)
    builds = rebuild(
        con,
        aliases_file=settings.paths.aliases_file,
        force=force,
        on_table=progress.step,
        rules=QuoteRules.from_settings(settings),
    )
    for b in builds:
        audit(con, "transform", "rebuild", f"{b.table}: {b.n_rows} rows in {b.seconds:.2f}s")
    return builds
