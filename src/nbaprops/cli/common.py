"""Shared pieces of the CLI: consoles, options, error handling, progress, dates."""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date as date_type
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from typer.core import TyperGroup

try:  # typer >= 0.2x ships its own copy of click; its usage errors come from there
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from nbaprops.core.db import connect, warehouse_error
from nbaprops.core.errors import NbapropsError, WarehouseBusyError
from nbaprops.core.settings import Settings, get_settings
from nbaprops.pipeline import jobs
from nbaprops.pipeline.snapshot import (
    FileState,
    disk_full,
    disk_full_message,
    publish_if_changed,
    warehouse_state,
)

# Piped output (files, CI logs) gets wide tables instead of the 80-column default.
console = Console() if sys.stdout.isatty() else Console(width=160)
err_console = Console(stderr=True)

DbOpt = Annotated[
    Path | None, typer.Option("--db", help="DuckDB warehouse file (default: $NBAPROPS_DB).")
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder of source files (default: $NBAPROPS_DATA_DIR)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
# The daily product's markets: a comma list or ``all`` (None: every market with a model)
MarketsOpt = Annotated[
    str | None,
    typer.Option(
        "--markets",
        "--market",
        help="Markets (points, rebounds, assists, threes, pra, pr, pa, ra; a comma list or "
        "all). Default: every market with an aliased model (points on a new warehouse).",
    ),
]
# One market to read (picks, bets, track)
MarketOpt = Annotated[
    str,
    typer.Option("--market", help="The market (points, rebounds, ..., ra); default points."),
]


def markets_of(text: str | None) -> tuple[str, ...] | None:
    """``--markets`` as market names in catalog order (None: not given); an unknown market
    is one error line listing the known ones."""
    from nbaprops.core.markets import parse_markets

    return None if text is None else tuple(m.name for m in parse_markets(text))


LogJsonOpt = Annotated[
    bool,
    typer.Option(
        "--log-json",
        help="One JSON line per phase on stderr: phase, state, rows, seconds, error.",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# The date the demo commands use without --date (`run daily`, README's main job): 15 games
# with real sportsbook lines in the shared data, so the main job works on a fresh machine.
DEMO_DATE = date_type(2024, 4, 12)


def print_error(message: str) -> None:
    """The one ``error: ...`` line on stderr (never wrapped, never read as markup)."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


def user_errors(func: F) -> F:
    """Turn errors a user can fix into one readable line and exit code 1 (2 for a
    stale-data refusal, 3 for ``RunLockedError``: ``exit_code_for``), and publish the
    API's snapshot after a command that changed the warehouse.

    DuckDB errors that mean the warehouse file itself is damaged, foreign or locked by
    another process are translated by ``nbaprops.core.db.warehouse_error`` (``connect``
    raises them already translated; a damaged page read later by a query lands here).
    A full disk (a DuckDB error or an OSError saying so) is one line naming the
    filesystem, its free space and about how much to free (nothing is half-written:
    DuckDB rolls the transaction back).

    Publishing here, once per command, means every command that writes the warehouse
    (ingest, rebuild, features build, run daily, predict, grade, backfill, model
    promote, experiments …) leaves a snapshot for the API, even one written later that
    forgets to: ``pipeline.snapshot.publish_if_changed`` compares the warehouse file's
    state before and after the command.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        db = _warehouse_path(kwargs.get("db"))
        before = warehouse_state(db)
        try:
            out = _mapped(func, db, args, kwargs)
        except typer.Exit as exc:
            _publish_after(db, before, failed=exc.exit_code != 0)
            raise
        except BaseException:
            _publish_after(db, before, failed=True)
            raise
        _publish_after(db, before, failed=False)
        return out

    return wrapper  # type: ignore[return-value]


# Exit codes a scheduler can act on (systemd, cron): 0 done, 1 failed, 2 refused because
# the data is stale (``StaleDataError``), 3 another run holds the warehouse's lock.
EXIT_DONE, EXIT_FAILED, EXIT_STALE, EXIT_LOCKED = 0, 1, 2, 3


class RunLockedError(WarehouseBusyError):
    """A scheduled run (``run daily``, ``predict``, ``grade``) found the warehouse held
    by another process: exit code 3, so a timer can tell "try later" from "broken"."""

    exit_code = EXIT_LOCKED


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an error a user can act on: its own ``exit_code`` when it has
    one (``StaleDataError`` 2, ``RunLockedError`` 3), else 1."""
    code = getattr(exc, "exit_code", None)
    return code if isinstance(code, int) and code > 0 else EXIT_FAILED


@contextmanager
def locked_as_run(what: str) -> Iterator[None]:
    """Inside: another process holding the warehouse is ``RunLockedError`` (exit 3)."""
    try:
        yield
    except RunLockedError:
        raise
    except WarehouseBusyError as exc:
        raise RunLockedError(f"{what} did not start: {exc}") from None


def log_json_line(enabled: bool, record: dict[str, Any]) -> None:
    """``--log-json``: one JSON object per line on stderr (a phase's end)."""
    if enabled:
        sys.stderr.write(json.dumps(record, default=str) + "\n")
        sys.stderr.flush()


@contextmanager
def logged_phase(enabled: bool, phase: str) -> Iterator[dict[str, Any]]:
    """A one-phase command (``predict``, ``grade``) logs its end with ``--log-json``:
    ``{phase, state, rows, seconds, error}``; set ``rows`` in the yielded dict."""
    import time

    record: dict[str, Any] = {"phase": phase, "state": "COMPLETE", "rows": None}
    started = time.perf_counter()
    try:
        yield record
    except BaseException as exc:
        if isinstance(exc, typer.Exit) and exc.exit_code == 0:
            raise
        error = str(exc) if isinstance(exc, NbapropsError) else f"{type(exc).__name__}: {exc}"
        record |= {"state": "FAILED", "error": error[:500]}
        record["seconds"] = round(time.perf_counter() - started, 3)
        log_json_line(enabled, record)
        raise
    record |= {"seconds": round(time.perf_counter() - started, 3), "error": None}
    log_json_line(enabled, record)


def _mapped(
    func: Callable[..., Any], db: Path | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        return func(*args, **kwargs)
    except NbapropsError as exc:
        print_error(str(exc))
        raise typer.Exit(exit_code_for(exc)) from None
    except duckdb.Error as exc:
        translated = warehouse_error(exc, db)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if disk_full(exc):
            print_error(disk_full_message(db or Path("."), exc))
        elif translated is not None:
            print_error(str(translated))
        elif isinstance(exc, duckdb.IOException):
            print_error(f"cannot open warehouse: {first}")
        elif isinstance(exc, (duckdb.CatalogException, duckdb.BinderException)):
            print_error(f"warehouse not ready ({first}); run `nbaprops ingest` first")
        else:
            raise
        raise typer.Exit(1) from None
    except OSError as exc:
        if not disk_full(exc):
            raise
        print_error(disk_full_message(db or Path("."), exc))
        raise typer.Exit(1) from None


def _publish_after(db: Path | None, before: FileState | None, *, failed: bool) -> None:
    """Publish the snapshot when the command changed the warehouse (its committed work
    is worth reading even when the command then failed). A publish that fails is an
    ``error:`` line and exit code 1, unless the command already failed (its own error
    line stands); another process holding the file is a note (it publishes when it
    ends, if it writes; `nbaprops db publish` publishes by hand)."""
    try:
        publish_if_changed(db, before)
    except WarehouseBusyError as exc:
        err_console.print(
            f"[yellow]note:[/yellow] the snapshot for the API was not published ({exc}); "
            "run `nbaprops db publish` when it ends",
            highlight=False,
            soft_wrap=True,
        )
    except NbapropsError as exc:
        if failed:
            return
        print_error(str(exc))
        raise typer.Exit(1) from None


def _warehouse_path(db: Any) -> Path | None:
    try:
        return settings_for(db if isinstance(db, Path) else None).paths.db
    except Exception:  # settings themselves are broken: name no file rather than fail here
        return None


class OneLineErrorsGroup(TyperGroup):
    """The root command group: click usage errors become one ``error:`` line, exit code 1.

    Click (and typer's rich rendering) print a usage line, a hint and a boxed message for
    a bad command line (unknown option, missing option, a value outside ``min=``/``max=``,
    an int that does not parse) and exit 2. Here they print exactly one line on stderr,
    ``error: <click's message> (see `<command> --help`)``, and exit with code 1, the same
    code as every other user mistake (``user_errors``), so scripts only need to know
    "0 = done, non-zero = not done". Help (``--help``, or no arguments) is unchanged.
    """

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click_exceptions.NoArgsIsHelpError as exc:
            if self.rich_markup_mode is None:  # typer's rich help has been printed already
                exc.show()
            sys.exit(exc.exit_code)
        except click_exceptions.UsageError as exc:
            message = exc.format_message().strip().replace("\n", " ")
            message = message[:1].lower() + message[1:] if message[1:2].islower() else message
            ctx = exc.ctx
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            print_error(f"{message.rstrip('.')}{hint}")
            sys.exit(1)
        except click_exceptions.ClickException as exc:
            print_error(exc.format_message().strip().replace("\n", " "))
            sys.exit(exc.exit_code or 1)
        except typer.Abort:
            print_error("aborted")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def settings_for(db: Path | None = None, data_dir: Path | None = None) -> Settings:
    try:
        return get_settings(db=db, data_dir=data_dir)
    except ValidationError as exc:
        bad = "; ".join(
            f"NBAPROPS_{'_'.join(str(x) for x in e['loc']).upper()}={e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise NbapropsError(f"invalid setting {bad}") from None


@contextmanager
def rich_progress(enabled: bool = True) -> Iterator[jobs.Progress]:
    """A progress bar on stderr (silent with --json or when not a terminal)."""
    if not enabled or not err_console.is_terminal:
        yield jobs.Progress()
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[item]}"),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, Any] = {}
    current: list[str] = []

    def start(label: str, total: int) -> None:
        tasks[label] = bar.add_task(label, total=total or None, item="")
        current[:] = [label]

    def advance(item: str) -> None:
        if current:
            bar.update(tasks[current[0]], advance=1, item=item)

    with bar:
        yield jobs.Progress(start, advance)


@contextmanager
def open_writable(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The existing warehouse, migrated, for a command that writes to it; when the
    command succeeds, the read-only snapshot the API serves is published again (a
    failed publish raises ``SnapshotPublishError``: one ``error:`` line, exit 1)."""
    from nbaprops.pipeline.snapshot import publish_error, publish_snapshot
    from nbaprops.warehouse.migrate import migrate

    if not settings.paths.db.exists():
        raise NbapropsError(f"no warehouse at {settings.paths.db}; run `nbaprops ingest` first")
    con = connect(settings.paths.db)
    try:
        migrate(con)
        yield con
        try:
            publish_snapshot(con)
        except (OSError, duckdb.Error) as exc:
            raise publish_error(settings.paths.db, exc) from None
    finally:
        con.close()


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def _as_is(result: Any) -> Any:
    return result


def query_and_print(
    settings: Settings,
    compute: Callable[[duckdb.DuckDBPyConnection], T],
    show: Callable[[T], None],
    *,
    as_json: bool,
    payload: Callable[[T], Any] = _as_is,
) -> T:
    """The skeleton of a command that reads the warehouse: open ``settings.paths.db`` read-only
    (no file there is one ``error:`` line, exit 1, like every ``NbapropsError`` under
    ``user_errors``), ``compute`` on it, close it, then print ``payload(result)`` as JSON
    with ``--json`` or ``show(result)`` (tables) without. Returns the result."""
    with connect(settings.paths.db, read_only=True) as con:
        result = compute(con)
    if as_json:
        emit_json(payload(result))
    else:
        show(result)
    return result


SetOpt = Annotated[str, typer.Option("--set", help="Feature set, e.g. points_v1.")]


def parse_optional_day(text: str | None, what: str) -> date_type | None:
    return None if text is None else parse_day(text, what)


def parse_day(text: str, what: str) -> date_type:
    """A date option: YYYY-MM-DD, or today / yesterday / tomorrow (US/Eastern), whose
    resolved date is shown on stderr, e.g. ``date: today = 2026-12-06 (US/Eastern)``."""
    from nbaprops.core.time import resolve_date

    try:
        resolved = resolve_date(text)
    except ValueError as exc:
        raise NbapropsError(f"{what}: {exc}") from None
    shown = resolved.describe(what.lstrip("-"))
    if shown is not None:
        err_console.print(shown, highlight=False, soft_wrap=True)
    return resolved.day


def parse_range(text: str, what: str) -> tuple[date_type, date_type]:
    parts = text.split(":")
    if len(parts) != 2:
        raise NbapropsError(f"{what}: expected START:END (YYYY-MM-DD:YYYY-MM-DD), got {text!r}")
    start, end = parse_day(parts[0], what), parse_day(parts[1], what)
    if start > end:
        raise NbapropsError(f"{what}: start {start} is after end {end}")
    return start, end


def parse_period(start: str, end: str) -> tuple[date_type, date_type]:
    """--start and --end, refusing a period that ends before it starts."""
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    check_period(first, last)
    return first, last


def parse_optional_period(
    start: str | None, end: str | None
) -> tuple[date_type | None, date_type | None]:
    first, last = parse_optional_day(start, "--start"), parse_optional_day(end, "--end")
    if first is not None and last is not None:
        check_period(first, last)
    return first, last


def check_period(first: date_type, last: date_type) -> None:
    if first > last:
        raise NbapropsError(f"--start {first} is after --end {last}")


def writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and prove a file can be written in it, before any work."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NbapropsError(f"cannot write {what}: {existing} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise NbapropsError(f"cannot write {what}: {exc.strerror or exc} in {folder}") from None


def os_reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"
