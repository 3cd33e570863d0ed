"""``diagnose`` (daily diagnostics per date, system and market: ``--market``, default
points) and ``alerts`` (stored alerts)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from nbaprops.cli.common import (
    DbOpt,
    JsonOpt,
    MarketOpt,
    console,
    emit_json,
    open_writable,
    parse_day,
    query_and_print,
    rich_progress,
    settings_for,
    user_errors,
)
from nbaprops.core.errors import NbapropsError


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def print_diagnostics(diagnostics: list[Any], market: str = "points") -> None:
    t = Table(title=f"Diagnostics of {market} (7-day windows unless said)")
    for col in (
        "date",
        "system",
        "cause",
        "conf.",
        "hit 7d (N)",
        "hit 30d (N)",
        "beats line 7d",
        "line MAE 7d",
        "sharpness",
        "regime",
        "drift",
        "bias",
        "missing dates",
        "stale (d)",
    ):
        left = col in ("date", "system", "cause")
        t.add_column(col, justify="left" if left else "right", no_wrap=left)
    for d in diagnostics:
        mk, dr, q = d.market, d.drift, d.quality
        t.add_row(
            str(d.game_date),
            d.system_id,
            d.primary_cause,
            f"{d.confidence:.2f}",
            f"{_pct(dr['hit_rate_7d'])} ({dr['bets_7d']})",
            f"{_pct(dr['hit_rate_30d'])} ({dr['bets_30d']})",
            _pct(mk["model_beats_line_share_7d"]),
            _num(mk["line_mae_7d"]),
            f"{_num(mk['sharpness_score'], '.0f')} {mk['sharpness_status'] or ''}",
            mk["market_regime"] or "-",
            f"{_num(dr['drift_score'], '.0f')} {dr['drift_severity'] or ''}",
            dr["bias"] or "-",
            str(len(q["missing_dates"])),
            _num(q["staleness_days"], "d"),
        )
    console.print(t)
    print_alerts([a for d in diagnostics for a in d.alerts])


def print_alerts(alerts: list[dict[str, Any]]) -> None:
    for a in alerts:
        colour = {"CRITICAL": "red", "WARNING": "yellow"}.get(str(a["severity"]), "cyan")
        console.print(
            f"[{colour}]{a['severity']}[/{colour}] {escape(str(a['message']))}", highlight=False
        )


@user_errors
def diagnose(
    day: Annotated[str | None, typer.Option("--date", help="Game date, YYYY-MM-DD.")] = None,
    start: Annotated[str | None, typer.Option(help="First date of a range.")] = None,
    end: Annotated[str | None, typer.Option(help="Last date of a range.")] = None,
    system: Annotated[
        list[str] | None, typer.Option("--system", help="Only these systems (repeatable).")
    ] = None,
    market: MarketOpt = "points",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Market sharpness, model drift, data quality and the attributed cause, per system.

    Diagnoses one graded date (--date) or every date of a range (--start/--end) in one
    market (--market, default points), stores one row per date and system, raises the
    alerts and posts new ones to the webhook.
    """
    from nbaprops.monitoring.diagnostics import diagnose_range
    from nbaprops.pipeline.daily import deliver_alerts
    from nbaprops.read.params import check_market, check_system

    chosen = check_market(market)  # an unknown market: one error line, before anything
    if day is not None and (start or end):
        raise NbapropsError("give --date, or --start and --end, not both")
    if day is not None:
        first = last = parse_day(day, "--date")
    elif start and end:
        first, last = parse_day(start, "--start"), parse_day(end, "--end")
    else:
        raise NbapropsError("give --date D, or --start D --end D")
    if last < first:
        raise NbapropsError(f"--end {last} is before --start {first}")
    settings = settings_for(db)
    with open_writable(settings) as con, rich_progress(not as_json) as progress:
        for one in system or []:
            check_system(con, one)
        n_days = (last - first).days + 1
        progress.begin("diagnose dates", n_days)
        diagnostics = diagnose_range(
            con,
            settings,
            first,
            last,
            systems=system,
            progress=lambda d: progress.step(str(d)),
            market=chosen,
        )
    if not diagnostics:
        of = "" if chosen == "points" else f"{chosen} "
        raise NbapropsError(f"no active {of}predictions to diagnose in {first}..{last}")
    alerts = [a for d in diagnostics for a in d.alerts]
    delivery = deliver_alerts(settings, alerts)
    if as_json:
        emit_json(
            {
                "market": chosen,
                "diagnostics": [d.to_dict() for d in diagnostics],
                "webhook": None if delivery is None else delivery.to_dict(),
            }
        )
        return
    print_diagnostics(diagnostics, chosen)
    if delivery is not None:
        state = "delivered" if delivery.ok else f"NOT delivered ({delivery.error})"
        console.print(f"webhook: {delivery.n_alerts} alert(s) {state}")


@user_errors
def alerts(
    since: Annotated[
        str | None, typer.Option(help="Raised on or after this date (default: 7 days ago).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored alerts (diagnostics, grading) since a date."""
    from nbaprops.read.monitoring import alerts as alerts_query

    def show(found: dict[str, Any]) -> None:
        if not found["alerts"]:
            console.print(f"no alerts since {found['since']}")
        print_alerts(found["alerts"])

    query_and_print(
        settings_for(db),
        # the API's /alerts, same function
        lambda con: alerts_query(con, parse_day(since, "--since") if since else None),
        show,
        as_json=as_json,
        payload=lambda found: found["alerts"],
    )
