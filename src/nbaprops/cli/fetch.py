"""``nbaprops fetch --date D``: one live fetch of everything the date needs, then ingest."""

from __future__ import annotations

from typing import Annotated

import typer

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    console,
    emit_json,
    parse_day,
    rich_progress,
    settings_for,
)
from nbaprops.core.db import connect


def fetch(
    day: Annotated[
        str,
        typer.Option(
            "--date", help="US/Eastern game date: YYYY-MM-DD, today, yesterday, tomorrow."
        ),
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch the schedule, box scores since the last loaded date, game lines and player
    props (The Odds API, key from $ODDS_API_KEY) for a date into the live folder, then
    ingest it. One line per source; exit 1 when a source or a fetched file failed (a
    missing key is a skip, not a failure)."""
    from nbaprops.pipeline.fetch import fetch_date

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    settings.paths.db.parent.mkdir(parents=True, exist_ok=True)
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        report = fetch_date(con, settings, the_day, progress=progress)
    if as_json:
        emit_json(report.to_dict())
    else:
        for line in report.lines():
            console.print(line, highlight=False, soft_wrap=True, markup=False)
    if report.failed:
        raise typer.Exit(1)
