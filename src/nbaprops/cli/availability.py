"""``nbaprops availability``: a date's injury-report statuses as a prediction sees them."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pandas as pd
import typer
from rich.table import Table

from nbaprops.cli.common import DbOpt, JsonOpt, console, emit_json, parse_day, settings_for
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError

EASTERN = ZoneInfo("America/New_York")


def parse_as_of(text: str | None, day: Any) -> datetime | None:
    """``HH:MM`` (US/Eastern on the date) or an ISO date-time (naive = US/Eastern)."""
    if text is None:
        return None
    try:
        if len(text) <= 5:
            return datetime.combine(day, time.fromisoformat(text), EASTERN)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise NbapropsError(
            f"--as-of {text!r} is not a time: use HH:MM (US/Eastern) or 2024-03-12T18:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=EASTERN)


def _et(iso: str | None) -> str:
    if not iso:
        return "-"
    return pd.Timestamp(iso).tz_convert(EASTERN).strftime("%Y-%m-%d %I:%M %p ET")


def availability(
    date: Annotated[str, typer.Option("--date", help="Game date (YYYY-MM-DD, today, ...).")],
    team: Annotated[str | None, typer.Option("--team", help="One team (tricode).")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge at this time instead of each game's decision time."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each game's injury-report statuses at decision time (tip-off minus the decision
    minutes), or as of ``--as-of``, with the publication time of the report used: the
    latest report published by then that lists the game. Statuses the gate blocks are
    flagged; a player of the game absent from the report is not listed."""
    from nbaprops.api.queries import availability as availability_query

    the_day = parse_day(date, "--date")
    moment = parse_as_of(as_of, the_day)
    settings = settings_for(db)
    if not settings.paths.db.exists():
        raise NbapropsError(f"no warehouse at {settings.paths.db}; run `nbaprops ingest` first")
    with connect(settings.paths.db, read_only=True) as con:
        payload = availability_query(con, settings, the_day, team=team, as_of=moment)
    if as_json:
        emit_json(payload)
        return
    if not payload["games"]:
        console.print(f"no games on {the_day}")
        return
    for game in payload["games"]:
        judged = "as of" if moment else "at decision time"
        title = (
            f"{game['matchup']}  tip {_et(game['tip_off_utc'])}  {judged} "
            f"{_et(game['judged_at_utc'])}  report used: {_et(game['report_time_utc'])}"
        )
        if not game["report_time_utc"]:
            console.print(f"{title}\n  no injury report listed this game by then")
            continue
        t = Table(title=title, title_justify="left")
        for col in ("team", "player", "status", "reason", "gate"):
            t.add_column(col)
        for e in game["entries"]:
            t.add_row(
                e["team"] or e["team_name"],
                e["player"] or "",
                e["status"].replace("_", " "),
                e["reason"] or "",
                "NO BET" if e["blocked"] else "",
            )
        if not game["entries"]:
            t.add_row("", "nobody listed", "", "", "")
        console.print(t)
