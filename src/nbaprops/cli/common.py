"""Shared pieces of the CLI: consoles, options, error handling, progress, dates."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date as date_type
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings, get_settings
from nbaprops.pipeline import jobs

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

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn errors a user can fix into one readable line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NbapropsError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except duckdb.IOException as exc:
            first = str(exc).splitlines()[0]
            err_console.print(f"[red]error:[/red] cannot open warehouse: {first}", soft_wrap=True)
            raise typer.Exit(1) from None
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            first = str(exc).splitlines()[0]
            err_console.print(
                f"[red]error:[/red] warehouse not ready ({first}); run `nbaprops ingest` first",
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def settings_for(db: Path | None = None, data_dir: Path | None = None) -> Settings:
    return get_settings(db=db, data_dir=data_dir)


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


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


SetOpt = Annotated[str, typer.Option("--set", help="Feature set, e.g. points_v1.")]


def parse_optional_day(text: str | None, what: str) -> date_type | None:
    return None if text is None else parse_day(text, what)


def parse_day(text: str, what: str) -> date_type:
    from nbaprops.core.time import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise NbapropsError(f"{what}: {exc}") from None


def parse_range(text: str, what: str) -> tuple[date_type, date_type]:
    parts = text.split(":")
    if len(parts) != 2:
        raise NbapropsError(f"{what}: expected START:END (YYYY-MM-DD:YYYY-MM-DD), got {text!r}")
    start, end = parse_day(parts[0], what), parse_day(parts[1], what)
    if start > end:
        raise NbapropsError(f"{what}: start {start} is after end {end}")
    return start, end
