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
    games = records(
        con.execute(
            "SELECT g.game_id, g.away_team || '@' || g.home_team AS matchup, g.away_team, "
            "g.home_team, gt.tip_off_utc, gt.tip_source FROM core.game g "
            "JOIN core.game_tip gt USING (game_id) WHERE g.game_date = ? "
            "ORDER BY gt.tip_off_utc, g.game_id",
            [day],
        ).df()
    )
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
        rows = entries[entries["game_id"] == game["game_id"]]
        judged = records(rows[["decided", "report_time_utc"]].head(1))
        listed = rows.dropna(subset=["status"])
        if wanted:
            listed = listed[listed["team"] == wanted]
        columns = ["team", "team_name", "player", "player_id", "status", "reason"]
        out.append(
            {
                "game_id": game["game_id"],
                "matchup": game["matchup"],
                "tip_off_utc": game["tip_off_utc"],
                "tip_source": game["tip_source"],
                "judged_at_utc": judged[0]["decided"] if judged else None,
                "report_time_utc": judged[0]["report_time_utc"] if judged else None,
                "entries": [
                    {
                        **e,
                        "player_id": int_or_none(e["player_id"]),
                        "blocked": e["status"] in blocked,
                    }
                    for e in records(listed[columns])
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
