"""The ``nbaprops`` command line: a thin shell over pipeline jobs and read queries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.table import Table

from nbaprops.cli import availability as availability_cli
from nbaprops.cli import daily, diagnose, monitoring
from nbaprops.cli import fetch as fetch_cli
from nbaprops.cli.backtest import backtest
from nbaprops.cli.breakout import breakout_app
from nbaprops.cli.common import (
    DataDirOpt,
    DbOpt,
    JsonOpt,
    OneLineErrorsGroup,
    console,
    emit_json,
    err_console,
    parse_day,
    print_error,
    rich_progress,
    settings_for,
    user_errors,
)
from nbaprops.cli.experiment import experiment_app
from nbaprops.cli.features import features_app
from nbaprops.cli.model import model_app
from nbaprops.cli.serve import serve
from nbaprops.cli.slips import slips_app
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.pipeline import jobs
from nbaprops.warehouse.migrate import (
    current_version,
    has_diagnostics,
    has_phase_records,
    migrate,
)
from nbaprops.warehouse.queries import known_markets
from nbaprops.warehouse.status import Status, warehouse_status

app = typer.Typer(
    name="nbaprops",
    help=(
        "Honest NBA player prop predictions (points, rebounds, assists, threes, combos) "
        "on an embedded DuckDB warehouse."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineErrorsGroup,
)
db_app = typer.Typer(help="Warehouse maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(features_app, name="features")
app.add_typer(experiment_app, name="experiment")
app.add_typer(model_app, name="model")
app.add_typer(breakout_app, name="breakout")
app.add_typer(slips_app, name="slips")
app.command("backtest")(backtest)
app.command("predict")(user_errors(daily.predict))
app.command("grade")(user_errors(daily.grade))
app.command("signal")(user_errors(daily.signal))
app.command("picks")(user_errors(daily.picks))
app.command("bets")(user_errors(daily.bets))
app.command("drift")(user_errors(monitoring.drift))
app.command("compare-production")(user_errors(monitoring.compare_production))
app.add_typer(daily.backfill_app, name="backfill")
app.command("diagnose")(diagnose.diagnose)
app.command("alerts")(diagnose.alerts)
app.command("serve")(serve)
app.command("fetch")(user_errors(fetch_cli.fetch))
app.command("availability")(user_errors(availability_cli.availability))
ingest_app = typer.Typer(
    help="Load data: every recognised file of a folder, or live sources.",
    invoke_without_command=True,
)
app.add_typer(ingest_app, name="ingest")


def print_freshness(freshness: dict[str, Any]) -> None:
    """Each source's state for the date judged (``warehouse.freshness``)."""
    if not freshness:
        return
    colour = {"ok": "green", "stale": "red", "missing": "yellow"}
    t = Table(title=f"Freshness for {freshness['date']}: {freshness['state']}")
    for col in ("source", "state", "latest", "detail"):
        t.add_column(col, overflow="fold")
    for s in freshness["sources"].values():
        state = s["state"]
        t.add_row(
            s["source"].replace("_", " "),
            f"[{colour.get(state, 'white')}]{state}[/]",
            s["latest"] or "—",
            s["detail"],
        )
    console.print(t)


def print_status(status: Status) -> None:
    t = Table(title=f"Warehouse (schema v{status.schema_version})")
    t.add_column("core table")
    t.add_column("rows", justify="right")
    for name, n in status.tables.items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    m = Table(title="Prop quotes matched to box scores (player-dates)")
    for col in (
        "source",
        "player-dates",
        "matched",
        "did not play",
        "no box score",
        "no game",
        "unknown name",
        "matched or void",
    ):
        m.add_column(col, justify="right" if col != "source" else "left")
    for r in status.match_rates:
        m.add_row(
            r.source,
            f"{r.player_dates:,}",
            f"{r.matched:,}",
            f"{r.did_not_play:,}",
            f"{r.no_box_score:,}",
            f"{r.no_game:,}",
            f"{r.unknown_name:,}",
            f"{100 * r.matched_or_void:.2f}%",
        )
    console.print(m)
    if status.availability:
        a = status.availability
        console.print(
            f"injury reports: {a['reports']:,} ({a['first_report_utc']} … "
            f"{a['last_report_utc']}); player entries matched to a player: "
            f"{a['matched_entries']:,} of {a['player_entries']:,} "
            f"({100 * a['matched_share']:.2f}%); unmatched: {a['unmatched_players']} players "
            f"({a['unmatched_entries']:,} entries, e.g. "
            + ", ".join(f"{u['player']} ({u['team']})" for u in a["unmatched_names"][:3])
            + f"); entries of games not in the schedule: {a['entries_of_unknown_games']:,}"
        )
    if status.quarantined_by_source:
        q = ", ".join(f"{k}: {v:,}" for k, v in status.quarantined_by_source.items())
        console.print(f"quarantined rows: {q}")
    if status.unplaced_quotes_by_source:
        q = ", ".join(f"{k}: {v:,}" for k, v in status.unplaced_quotes_by_source.items())
        console.print(f"quotes that cannot be placed before tip-off (never used): {q}")
    for label, counts in (
        (
            "quotes refused: two-way prices under the margin floor",
            status.thin_margin_quotes_by_source,
        ),
        (
            "outlier book prices (never the best price, never shopped)",
            status.outlier_prices_by_market,
        ),
        (
            "box scores of games no team log or schedule knows",
            status.unknown_game_box_scores_by_source,
        ),
    ):
        if counts:
            console.print(f"{label}: " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    if status.unmatched_names:
        names = ", ".join(f"{n} ({s}, {c})" for s, n, c in status.unmatched_names[:20])
        console.print(f"unmatched names (add to the alias table): {names}")


def print_ingest(result: jobs.IngestJobResult) -> None:
    t = Table(title="Ingest")
    for col in (
        "source",
        "files",
        "loaded",
        "unchanged files",
        "failed",
        "rows loaded",
        "rows quarantined",
        "rows unchanged",
    ):
        t.add_column(col, justify="left" if col == "source" else "right")
    for s in result.report.by_source():
        t.add_row(
            s.source,
            str(s.files),
            str(s.files_loaded),
            str(s.files_unchanged),
            str(s.files_failed),
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
            f"{s.rows_unchanged:,}",
        )
    console.print(t)
    for b in result.builds:
        console.print(f"built {b.table}: {b.n_rows:,} rows in {b.seconds:.2f}s")
    if not result.builds:
        console.print("core tables up to date")
    if result.report.unrecognised:
        shown = ", ".join(result.report.unrecognised[:10])
        more = len(result.report.unrecognised) - 10
        console.print(
            f"not recognised (not loaded): {shown}" + (f" and {more} more" if more > 0 else "")
        )


def ingest_payload(result: jobs.IngestJobResult) -> dict[str, Any]:
    return {
        "sources": [vars(s) for s in result.report.by_source()],
        "failures": [{"path": f.path, "error": f.error} for f in result.report.failures],
        "unrecognised": list(result.report.unrecognised),
        "builds": [vars(b) for b in result.builds],
    }


def _fail_on_bad_files(result: jobs.IngestJobResult) -> None:
    """One ``error:`` line per refused file or unreadable folder, then a summary line;
    exit 1 if any."""
    failures = result.report.failures
    for failure in failures:
        print_error(str(failure.error))
    for folder in result.report.unreadable:
        print_error(f"cannot read folder {folder}: none of its files were loaded")
    if result.report.unreadable and not failures:
        raise typer.Exit(1)
    if failures:
        total = len(result.report.results)
        rebuilt = "core tables were rebuilt" if result.builds else "core tables are up to date"
        err_console.print(
            f"ingest finished with {len(failures)} of {total} files refused (nothing of them "
            f"was stored); the other files loaded and {rebuilt}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


def _check_data_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise NbapropsError(f"data folder {path} is a file, not a folder; pass --data-dir a folder")


run_app = typer.Typer(
    help="Ingest and rebuild (no subcommand), or `run daily`: the whole daily job.",
    invoke_without_command=True,
)
app.add_typer(run_app, name="run")
run_app.command("daily")(user_errors(daily.run_daily_cmd))


@run_app.callback()
@user_errors
def run(
    ctx: typer.Context, db: DbOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """Ingest the data folder, rebuild the warehouse, print its status."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(db, data_dir)
    _check_data_dir(settings.paths.data_dir)
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, progress=progress)
        status = warehouse_status(con, settings)
    if as_json:
        emit_json({"ingest": ingest_payload(result), "status": status.to_dict()})
    else:
        print_ingest(result)
        print_status(status)
    _fail_on_bad_files(result)


@ingest_app.callback()
@user_errors
def ingest(
    ctx: typer.Context,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Accept changed files that drop more than NBAPROPS_INGEST_MAX_REPLACE_LOSS "
            "of their earlier rows or change their season (the archive keeps the old ones).",
        ),
    ] = False,
) -> None:
    """Find and load every recognised file under the data folder (default command)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(db, data_dir)
    _check_data_dir(settings.paths.data_dir)
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, progress=progress, replace=replace)
    if as_json:
        emit_json(ingest_payload(result))
    else:
        print_ingest(result)
    _fail_on_bad_files(result)


@ingest_app.command("nba-api")
@user_errors
def ingest_nba_api(
    season: Annotated[str, typer.Option(help="Season label, e.g. 2024-25.")],
    season_type: Annotated[
        str, typer.Option("--season-type", help="regular or playoffs.")
    ] = "regular",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch nba_api LeagueGameLog (player and team mode) for a season, then load it."""
    from nbaprops.ingest.live import fetch_nba_gamelogs

    settings = settings_for(db)
    live_dir = settings.paths.resolved_live_dir()
    paths = fetch_nba_gamelogs(season, season_type, live_dir, http=settings.http)
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, data_dir=live_dir, progress=progress)
    if as_json:
        emit_json({"fetched": [str(p) for p in paths], "ingest": ingest_payload(result)})
    else:
        console.print(f"fetched {', '.join(str(p) for p in paths)}")
        print_ingest(result)
    _fail_on_bad_files(result)


@ingest_app.command("odds-api")
@user_errors
def ingest_odds_api(
    date: Annotated[str, typer.Option(help="US/Eastern game date, YYYY-MM-DD.")],
    historical: Annotated[
        bool, typer.Option(help="Use the historical endpoints (past dates).")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch The Odds API player props for a date (key from $ODDS_API_KEY), then load them."""
    from nbaprops.ingest.live import fetch_odds_props, odds_api_key

    settings = settings_for(db)
    day = parse_day(date, "--date")
    live_dir = settings.paths.resolved_live_dir()
    fetched = fetch_odds_props(
        day, live_dir, odds_api_key(settings.http), http=settings.http, historical=historical
    )
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, data_dir=live_dir, progress=progress)
    if as_json:
        emit_json({"fetched": vars(fetched), "ingest": ingest_payload(result)})
    else:
        console.print(
            f"fetched {fetched.n_rows:,} quotes for {fetched.n_events} games into {fetched.path}"
            + (
                f" (requests remaining: {fetched.requests_remaining})"
                if fetched.requests_remaining
                else ""
            )
        )
        print_ingest(result)
    _fail_on_bad_files(result)


@ingest_app.command("injuries")
@user_errors
def ingest_injuries(
    date: Annotated[
        str, typer.Option(help="US/Eastern date: YYYY-MM-DD, today, yesterday or tomorrow.")
    ],
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Fetch every report of the day published so far (24 a day; 96 from "
            "2025-12-22), not only the latest.",
        ),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch the official NBA injury report of a date, then load it.

    By default only the latest report published so far is fetched (for a past day: its
    last one), walking back past times the league has no file for (HTTP 403/404); with
    --all, every report of the day published so far. Each report is written as
    availability/<name>.csv under NBAPROPS_LIVE_DIR, its PDF beside it in
    availability/pdf/. Exit 1, with the warehouse untouched, when no report of the day
    could be fetched and read.
    """
    from nbaprops.ingest.live import fetch_injury_reports

    settings = settings_for(db)
    day = parse_day(date, "--date")
    live_dir = settings.paths.resolved_live_dir()
    fetched = fetch_injury_reports(day, live_dir, http=settings.http, every=every)
    with connect(settings.paths.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, data_dir=live_dir, progress=progress)
    if as_json:
        emit_json(
            {
                "fetched": [
                    {**vars(r), "csv_path": str(r.csv_path), "pdf_path": str(r.pdf_path)}
                    for r in fetched.reports
                ],
                "not_published": list(fetched.not_published),
                "unreadable": list(fetched.unreadable),
                "ingest": ingest_payload(result),
            }
        )
    else:
        for report in fetched.reports:
            console.print(
                f"fetched the {report.report_time_et} ET report: {report.n_rows:,} entries "
                f"into {report.csv_path}",
                highlight=False,
                soft_wrap=True,
            )
        for line in fetched.unreadable:
            print_error(line)
        print_ingest(result)
    _fail_on_bad_files(result)


@app.command()
@user_errors
def status(
    db: DbOpt = None,
    as_json: JsonOpt = False,
    unmatched: Annotated[int, typer.Option(min=0, help="How many unmatched names to list.")] = 50,
    market: Annotated[
        str | None, typer.Option(help="Match rates for one market only (e.g. points).")
    ] = None,
) -> None:
    """Row counts per core table, files and quarantine per source, player-match rates."""
    settings = settings_for(db)
    if not settings.paths.db.exists():
        raise NbapropsError(f"no warehouse at {settings.paths.db}; run `nbaprops ingest` first")
    with connect(settings.paths.db, read_only=True) as con:
        if market is not None:
            _check_market(con, market)
        from nbaprops.monitoring.diagnostics import latest_diagnostics  # heavy: lazily
        from nbaprops.pipeline.daily import unstarted_runs
        from nbaprops.read.status import phase_history

        result = warehouse_status(con, settings, unmatched, market)
        phases = (
            phase_history(con, unstarted=unstarted_runs(settings.paths.db))
            if has_phase_records(con)
            else []
        )
        diagnostics = latest_diagnostics(con) if has_diagnostics(con) else []
    if as_json:
        emit_json({**result.to_dict(), "phases": phases, "diagnostics": diagnostics})
    else:
        print_status(result)
        print_freshness(result.freshness)
        print_phases(phases)
        print_latest_diagnostics(diagnostics)


def print_latest_diagnostics(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    t = Table(title="Latest diagnosis per system and market (`nbaprops diagnose`)")
    for col in ("date", "system", "market", "version", "cause", "confidence", "conditions"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            r["game_date"],
            r["system_id"],
            r["market"],
            str(r["model_version"]),
            r["primary_cause"],
            f"{r['confidence']:.2f}",
            ", ".join(r["conditions"]) or "-",
        )
    console.print(t)


def print_phases(phases: list[dict[str, Any]]) -> None:
    """The daily run's phase records of the last 14 days: a missing day shows as a gap."""
    if not phases:
        console.print("No daily runs recorded yet (`nbaprops run daily`).")
        return
    t = Table(title="Daily runs, last 14 days")
    for col in ("date", "phase", "status", "rows", "started", "finished", "error"):
        t.add_column(col, overflow="fold")
    colour = {
        "COMPLETE": "green",
        "FAILED": "red",
        "ABANDONED": "red",
        "RUNNING": "yellow",
        "EXPECTED": "yellow",
    }
    for p in phases:
        t.add_row(
            str(p["run_date"])[:10],
            p["phase"],
            f"[{colour.get(p['status'], 'white')}]{p['status']}[/]",
            "—" if p["rows"] is None else f"{p['rows']:,}",
            str(p["started_at"] or "—")[:19],
            str(p["finished_at"] or "—")[:19],
            p["error"] or "",
        )
    console.print(t)


def _check_market(con: duckdb.DuckDBPyConnection, market: str) -> None:
    known = known_markets(con)
    if market not in known:
        raise NbapropsError(
            f"no prop quotes for market {market!r} in the warehouse; "
            f"markets: {', '.join(known) or 'none (no prop lines loaded)'}"
        )


@db_app.command("migrate")
@user_errors
def db_migrate(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Apply pending schema migrations (idempotent)."""
    settings = settings_for(db)
    with connect(settings.paths.db) as con:
        applied = migrate(con)
        version = current_version(con)
    if as_json:
        emit_json({"applied": [m.name for m in applied], "schema_version": version})
    elif applied:
        console.print(f"applied {', '.join(m.name for m in applied)}; schema v{version}")
    else:
        console.print(f"schema v{version}: up to date")


@db_app.command("rebuild")
@user_errors
def db_rebuild(
    db: DbOpt = None,
    force: Annotated[bool, typer.Option(help="Rebuild every core table.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild core tables whose raw inputs changed (all with --force)."""
    settings = settings_for(db)
    with connect(settings.paths.db) as con:
        builds = jobs.rebuild_job(con, settings, force=force)
    if as_json:
        emit_json([vars(b) for b in builds])
    else:
        for b in builds:
            console.print(f"built {b.table}: {b.n_rows:,} rows in {b.seconds:.2f}s")


@db_app.command("publish")
@user_errors
def db_publish(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Publish the read-only snapshot the API serves (every writing command also does)."""
    from nbaprops.pipeline.snapshot import publish_error, publish_snapshot

    settings = settings_for(db)
    if not settings.paths.db.exists():
        raise NbapropsError(f"no warehouse at {settings.paths.db}; run `nbaprops ingest` first")
    with connect(settings.paths.db) as con:
        try:
            published = publish_snapshot(con)
        except (OSError, duckdb.Error) as exc:
            raise publish_error(settings.paths.db, exc) from None
    if as_json:
        emit_json({"snapshot": None if published is None else published.name})
    else:
        console.print(f"published {published}")


def main() -> None:  # pragma: no cover - console entry point
    app()
