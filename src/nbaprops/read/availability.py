"""Each game of a date with its injury-report statuses at decision time (or as of a
time) and the publication time of the report used; an unknown team is a 400, a
known team not playing a 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from nbaprops.core.db import records
from nbaprops.core.settings import Settings
from nbaprops.read.convert import int_or_none
from nbaprops.read.params import BadRequestError, NotFoundError, did_you_mean


def availability(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    *,
    team: str | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Each game of ``day`` with its injury-report statuses at decision time (tip-off
    minus the decision minutes), or as of ``as_of``, and the report's publication time
    (``warehouse.availability``: the latest report at or before then listing the game)."""
    from nbaprops.warehouse.availability import statuses_at

    entries = statuses_at(
        con,
        day,
        day,
        minutes_before_tip=settings.models.decision_minutes_before_tip,
        at=as_of,
    )
    columns = ["team", "team_name", "player", "player_id", "status", "reason"]
    # one conversion of the day's entries, grouped per game in their order (tip-off,
    # game id): every game of the day has a row, so its tip-off and source come from
    # there too (one read of ``core.game_tip``, not a second one, nor a frame per game)
    by_game: dict[Any, list[dict[str, Any]]] = {}
    wanted_columns = ["game_id", "tip_off_utc", "tip_source", "decided", "report_time_utc"]
    for e in records(entries[[*wanted_columns, *columns]]):
        by_game.setdefault(e["game_id"], []).append(e)
    teams_of = {
        game_id: (away, home)
        for game_id, away, home in con.execute(
            "SELECT game_id, away_team, home_team FROM core.game WHERE game_date = ?", [day]
        ).fetchall()
    }
    games = [
        {
            "game_id": game_id,
            "matchup": None if None in teams_of[game_id] else "@".join(teams_of[game_id]),
            "away_team": teams_of[game_id][0],
            "home_team": teams_of[game_id][1],
            "tip_off_utc": rows[0]["tip_off_utc"],
            "tip_source": rows[0]["tip_source"],
        }
        for game_id, rows in by_game.items()
    ]
    blocked = set(settings.picks.availability_block_statuses)
    wanted = team.upper() if team else None
    if wanted is not None:
        teams = [r[0] for r in con.execute("SELECT tricode FROM core.team ORDER BY 1").fetchall()]
        if wanted not in teams:
            raise BadRequestError(
                f"unknown team {team!r}{did_you_mean(wanted, teams)} (a tricode, e.g. NYK)"
            )
        games = [g for g in games if wanted in (g["away_team"], g["home_team"])]
        if not games:
            raise NotFoundError(f"{wanted} does not play on {day}")
    out = []
    for game in games:
        rows = by_game[game["game_id"]]
        judged = rows[0]
        listed = [
            e for e in rows if e["status"] is not None and (not wanted or e["team"] == wanted)
        ]
        out.append(
            {
                "game_id": game["game_id"],
                "matchup": game["matchup"],
                "tip_off_utc": game["tip_off_utc"],
                "tip_source": game["tip_source"],
                "judged_at_utc": judged["decided"],
                "report_time_utc": judged["report_time_utc"],
                "entries": [
                    {
                        **{c: e[c] for c in columns},
                        "player_id": int_or_none(e["player_id"]),
                        "blocked": e["status"] in blocked,
                    }
                    for e in listed
                ],
            }
        )
    return {
        "date": day.isoformat(),
        "as_of_utc": as_of.astimezone(UTC).isoformat() if as_of else None,
        "decision_minutes_before_tip": settings.models.decision_minutes_before_tip,
        "blocked_statuses": sorted(blocked),
        "games": out,
    }
