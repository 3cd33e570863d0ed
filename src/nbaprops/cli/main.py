"""The ``nbaprops`` command line: a thin shell over pipeline jobs and read queries."""

from __future__ import annotations

import functools
import json
import math
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
from rich.table import Table

from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings, get_settings
from nbaprops.pipeline import jobs
from nbaprops.warehouse.migrate import current_version, migrate
from nbaprops.warehouse.status import Status, warehouse_status

app = typer.Typer(
    name="nbaprops",
    help="Honest NBA player-points prop predictions on an embedded DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Warehouse maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
features_app = typer.Typer(help="Point-in-time feature store.", no_args_is_help=True)
app.add_typer(features_app, name="features")
ingest_app = typer.Typer(
    help="Load data: every recognised file of a folder, or live sources.",
    invoke_without_command=True,
)
app.add_typer(ingest_app, name="ingest")

console = Console()
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
            f"{100 * r.matched_or_void:.1f}%",
        )
    console.print(m)
    if status.quarantined_by_source:
        q = ", ".join(f"{k}: {v:,}" for k, v in status.quarantined_by_source.items())
        console.print(f"quarantined rows: {q}")
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


def ingest_payload(result: jobs.IngestJobResult) -> dict[str, Any]:
    return {
        "sources": [vars(s) for s in result.report.by_source()],
        "failures": [{"path": f.path, "error": f.error} for f in result.report.failures],
        "unrecognised": list(result.report.unrecognised),
        "builds": [vars(b) for b in result.builds],
    }


def _fail_on_bad_files(result: jobs.IngestJobResult) -> None:
    for failure in result.report.failures:
        err_console.print(f"[red]error:[/red] {failure.error}", highlight=False, soft_wrap=True)
    if result.report.failures:
        raise typer.Exit(1)


@app.command()
@user_errors
def run(db: DbOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """The main job: ingest the data folder, rebuild the warehouse, print its status."""
    settings = settings_for(db, data_dir)
    with connect(settings.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, progress=progress)
        status = warehouse_status(con)
    if as_json:
        emit_json({"ingest": ingest_payload(result), "status": status.to_dict()})
    else:
        print_ingest(result)
        print_status(status)
    _fail_on_bad_files(result)


@ingest_app.callback()
@user_errors
def ingest(
    ctx: typer.Context, db: DbOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """Find and load every recognised file under the data folder (default command)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(db, data_dir)
    with connect(settings.db) as con, rich_progress(not as_json) as progress:
        result = jobs.ingest_job(con, settings, progress=progress)
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
    live_dir = settings.resolved_live_dir()
    paths = fetch_nba_gamelogs(season, season_type, live_dir, settings=settings)
    with connect(settings.db) as con, rich_progress(not as_json) as progress:
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
    from nbaprops.core.time import parse_date
    from nbaprops.ingest.live import fetch_odds_props, odds_api_key

    settings = settings_for(db)
    try:
        day = parse_date(date)
    except ValueError as exc:
        raise NbapropsError(str(exc)) from None
    live_dir = settings.resolved_live_dir()
    fetched = fetch_odds_props(
        day, live_dir, odds_api_key(settings), settings=settings, historical=historical
    )
    with connect(settings.db) as con, rich_progress(not as_json) as progress:
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


@app.command()
@user_errors
def status(
    db: DbOpt = None,
    as_json: JsonOpt = False,
    unmatched: Annotated[int, typer.Option(help="How many unmatched names to list.")] = 50,
) -> None:
    """Row counts per core table, files and quarantine per source, player-match rates."""
    settings = settings_for(db)
    if not settings.db.exists():
        raise NbapropsError(f"no warehouse at {settings.db}; run `nbaprops ingest` first")
    with connect(settings.db, read_only=True) as con:
        result = warehouse_status(con, unmatched)
    if as_json:
        emit_json(result.to_dict())
    else:
        print_status(result)


@db_app.command("migrate")
@user_errors
def db_migrate(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Apply pending schema migrations (idempotent)."""
    settings = settings_for(db)
    with connect(settings.db) as con:
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
    with connect(settings.db) as con:
        builds = jobs.rebuild_job(con, settings, force=force)
    if as_json:
        emit_json([vars(b) for b in builds])
    else:
        for b in builds:
            console.print(f"built {b.table}: {b.n_rows:,} rows in {b.seconds:.2f}s")


SetOpt = Annotated[str, typer.Option("--set", help="Feature set, e.g. points_v1.")]


def _date(text: str | None, what: str) -> date_type | None:
    return None if text is None else _required_date(text, what)


def _required_date(text: str, what: str) -> date_type:
    from nbaprops.core.time import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise NbapropsError(f"{what}: {exc}") from None


def _range(text: str, what: str) -> tuple[date_type, date_type]:
    parts = text.split(":")
    if len(parts) != 2:
        raise NbapropsError(f"{what}: expected START:END (YYYY-MM-DD:YYYY-MM-DD), got {text!r}")
    start, end = _required_date(parts[0], what), _required_date(parts[1], what)
    if start > end:
        raise NbapropsError(f"{what}: start {start} is after end {end}")
    return start, end


@features_app.command("list")
@user_errors
def features_list(
    feature_set: Annotated[
        str | None, typer.Option("--set", help="Only this feature set's features.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every feature: name, group, default, required, description (and the sets)."""
    from nbaprops.features.catalog import CATALOG, FEATURE_SETS, get_feature_set

    names = set(get_feature_set(feature_set).features) if feature_set else None
    rows = [f for f in CATALOG if names is None or f.name in names]
    if as_json:
        emit_json(
            {
                "features": [
                    {
                        "name": f.name,
                        "group": f.group,
                        "default": f.default,
                        "required": f.required,
                        "description": f.description,
                        "sql": f.sql,
                    }
                    for f in rows
                ],
                "feature_sets": {k: list(v.features) for k, v in FEATURE_SETS.items()},
            }
        )
        return
    t = Table(title="Feature catalog")
    for col in ("name", "group", "default", "required", "description"):
        t.add_column(col, overflow="fold")
    for f in rows:
        t.add_row(f.name, f.group, f"{f.default:g}", "yes" if f.required else "no", f.description)
    console.print(t)
    for key, fs in FEATURE_SETS.items():
        console.print(f"[bold]{key}[/bold] ({len(fs.features)} features): {fs.description}")


@features_app.command("show")
@user_errors
def features_show(
    player: Annotated[str, typer.Option(help="Player name as nba.com or a book writes it.")],
    date: Annotated[str, typer.Option(help="Game date, YYYY-MM-DD (US/Eastern).")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One player's feature row for a date: every value and whether it was defaulted."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.frame import build_frame, serving_spine, training_spine
    from nbaprops.warehouse.queries import find_player

    fs = get_feature_set(feature_set)
    day = _required_date(date, "--date")
    settings = settings_for(db)
    with connect(settings.db, read_only=True) as con:
        player_id, name = find_player(con, player)
        spine = serving_spine(con, day)
        spine = spine[spine["player_id"] == player_id]
        source = "serving spine"
        if spine.empty:
            spine = training_spine(con, day, day)
            spine = spine[spine["player_id"] == player_id]
            source = "training spine (not in the serving spine)"
        if spine.empty:
            raise NbapropsError(f"{name} has no game on {day}")
        frame = build_frame(con, spine, fs, with_flags=True)
    row = frame.iloc[0]
    values = [
        {"feature": f, "value": float(row[f]), "defaulted": bool(row[f"{f}__defaulted"])}
        for f in fs.features
    ]
    head = {
        "player": name,
        "player_id": int(player_id),
        "date": str(day),
        "spine": source,
        "team": row["team"],
        "opponent": row["opponent"],
        "home": bool(row["home"]),
        "game_id": row["game_id"],
        "n_defaulted": int(row["n_defaulted"]),
        "n_required_defaulted": int(row["n_required_defaulted"]),
    }
    if as_json:
        emit_json({**head, "feature_set": fs.key, "features": values})
        return
    console.print(
        f"[bold]{name}[/bold] {day} {head['team']} {'vs' if head['home'] else '@'} "
        f"{head['opponent']} ({source}); {head['n_defaulted']} defaulted, "
        f"{head['n_required_defaulted']} required defaulted"
    )
    t = Table(title=fs.key)
    t.add_column("feature")
    t.add_column("value", justify="right")
    t.add_column("defaulted")
    for v in values:
        t.add_row(v["feature"], f"{v['value']:.4g}", "DEFAULT" if v["defaulted"] else "")
    console.print(t)


@features_app.command("validate")
@user_errors
def features_validate(
    reference: Annotated[str, typer.Option(help="Reference period START:END.")],
    current: Annotated[str, typer.Option(help="Current period START:END.")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare feature distributions of two periods (KS / Wasserstein, PSI, dataset drift)."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.checks import drift_report
    from nbaprops.features.frame import build_frame, training_spine

    fs = get_feature_set(feature_set)
    ref_range, cur_range = _range(reference, "--reference"), _range(current, "--current")
    settings = settings_for(db)
    with connect(settings.db, read_only=True) as con:
        ref = build_frame(con, training_spine(con, *ref_range), fs)
        cur = build_frame(con, training_spine(con, *cur_range), fs)
    if ref.empty or cur.empty:
        raise NbapropsError("one of the periods has no player-games")
    report = drift_report(ref, cur, fs.features)
    if as_json:
        emit_json({"reference": reference, "current": current, **report.to_dict()})
        return
    t = Table(title=f"Drift {reference} -> {current} ({len(ref):,} vs {len(cur):,} rows)")
    for col in ("feature", "method", "statistic", "p-value", "PSI", "drift"):
        t.add_column(col, justify="left" if col in ("feature", "method") else "right")
    for r in report.features:
        t.add_row(
            r.feature,
            r.method,
            f"{r.statistic:.3f}",
            "" if r.p_value is None else f"{r.p_value:.3g}",
            f"{r.psi:.3f}",
            "DRIFT" if r.drifted else "",
        )
    console.print(t)
    console.print(
        f"{report.n_drifted}/{len(report.features)} features drifted "
        f"({100 * report.share_drifted:.0f}%); dataset drift: "
        f"{'YES' if report.dataset_drift else 'no'}"
    )


@features_app.command("build")
@user_errors
def features_build(
    start: Annotated[str | None, typer.Option(help="First game date (default: all).")] = None,
    end: Annotated[str | None, typer.Option(help="Last game date (default: all).")] = None,
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Materialise the training frame for a date range into the features schema."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.store import materialize

    fs = get_feature_set(feature_set)
    first, last = _date(start, "--start"), _date(end, "--end")
    settings = settings_for(db)
    with connect(settings.db) as con, rich_progress(not as_json) as progress:
        result = materialize(
            con,
            fs,
            first,
            last,
            on_plan=lambda n: progress.begin("build features", n),
            on_chunk=progress.step,
        )
    if as_json:
        emit_json(vars(result))
    else:
        console.print(
            f"{result.table}: {result.rows_written:,} rows written for {result.dates_built} "
            f"dates; {result.dates_skipped} dates already up to date"
        )


@features_app.command("coverage")
@user_errors
def features_coverage(
    season: Annotated[str, typer.Option(help="Season label, e.g. 2023-24.")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Share of a season's player-games with zero defaulted required features."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.frame import build_frame, training_spine

    fs = get_feature_set(feature_set)
    settings = settings_for(db)
    with connect(settings.db, read_only=True) as con:
        spine = training_spine(con)
        spine = spine[spine["season"] == season]
        if spine.empty:
            raise NbapropsError(f"no player-games in season {season!r}")
        frame = build_frame(con, spine, fs, with_flags=True)
    required = [f.name for f in fs.definitions() if f.required]
    result = {
        "season": season,
        "feature_set": fs.key,
        "player_games": len(frame),
        "zero_required_defaulted": int((frame["n_required_defaulted"] == 0).sum()),
        "share_zero_required_defaulted": float((frame["n_required_defaulted"] == 0).mean()),
        "share_zero_defaulted": float((frame["n_defaulted"] == 0).mean()),
        "defaulted_share_by_required_feature": {
            f: float(frame[f"{f}__defaulted"].mean()) for f in required
        },
    }
    if as_json:
        emit_json(result)
        return
    console.print(
        f"{season} {fs.key}: {result['zero_required_defaulted']:,}/{len(frame):,} player-games "
        f"({100 * result['share_zero_required_defaulted']:.1f}%) with zero defaulted required "
        f"features; {100 * result['share_zero_defaulted']:.1f}% with none defaulted at all"
    )
    worst = sorted(result["defaulted_share_by_required_feature"].items(), key=lambda kv: -kv[1])[:5]
    console.print("most defaulted: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in worst))


@features_app.command("frame")
@user_errors
def features_frame(
    start: Annotated[str, typer.Option(help="First game date.")],
    end: Annotated[str, typer.Option(help="Last game date.")],
    out: Annotated[Path, typer.Option(help="Write the frame here (.csv or .parquet).")],
    feature_set: SetOpt = "points_v1",
    min_season_avg: Annotated[
        float | None, typer.Option(help="Keep rows whose points_avg_season >= this.")
    ] = None,
    max_season_avg: Annotated[
        float | None, typer.Option(help="Keep rows whose points_avg_season <= this.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a training frame (e.g. breakout_v1 for role players averaging 6-20)."""
    from nbaprops.features.catalog import FEATURES, get_feature_set
    from nbaprops.features.frame import build_frame, training_spine

    fs = get_feature_set(feature_set)
    first, last = _required_date(start, "--start"), _required_date(end, "--end")
    settings = settings_for(db)
    with connect(settings.db, read_only=True) as con:
        frame = build_frame(con, training_spine(con, first, last), fs)
        if min_season_avg is not None or max_season_avg is not None:
            season_avg = frame.get("points_avg_season")
            if season_avg is None:
                extra = build_frame(
                    con, frame[list(frame.columns[:8])], get_feature_set("points_v1")
                )
                season_avg = extra["points_avg_season"]
            keep = season_avg.between(
                min_season_avg if min_season_avg is not None else -1e9,
                max_season_avg if max_season_avg is not None else 1e9,
            )
            frame = frame[keep.to_numpy()]
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    features = [c for c in frame.columns if c in FEATURES]
    summary = {
        "rows": len(frame),
        "players": int(frame["player_id"].nunique()),
        "features": features,
        "out": str(out),
        "mean": {f: float(frame[f].mean()) for f in features},
        "share_defaulted_any": float((frame["n_defaulted"] > 0).mean()) if len(frame) else 0.0,
    }
    if as_json:
        emit_json(summary)
        return
    console.print(f"{fs.key}: {summary['rows']:,} rows, {summary['players']} players -> {out}")
    t = Table()
    t.add_column("feature")
    t.add_column("mean", justify="right")
    for f in features:
        t.add_row(f, f"{summary['mean'][f]:.3f}")
    console.print(t)


@features_app.command("completeness")
@user_errors
def features_completeness(
    date: Annotated[str, typer.Option(help="Date, YYYY-MM-DD.")],
    feature_set: SetOpt = "points_v1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Share of the date's serving spine with every required feature (gate: 90%)."""
    from nbaprops.features.catalog import get_feature_set
    from nbaprops.features.checks import completeness

    fs = get_feature_set(feature_set)
    day = _required_date(date, "--date")
    settings = settings_for(db)
    with connect(settings.db, read_only=True) as con:
        result = completeness(con, day, fs)
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(
        f"{day}: {result.n_complete}/{result.n_rows} rows complete "
        f"({100 * result.share_complete:.1f}%) -> gate {'PASS' if result.passes_gate else 'FAIL'}"
    )


@app.command()
@user_errors
def backtest(
    systems: Annotated[str, typer.Option(help="Comma-separated system ids, or 'all'.")] = "all",
    start: Annotated[str, typer.Option(help="First evaluated date.")] = "2024-03-01",
    end: Annotated[str, typer.Option(help="Last evaluated date.")] = "2024-05-24",
    retrain_every: Annotated[int, typer.Option(help="Refit every N days (fold length).")] = 7,
    gap_days: Annotated[int, typer.Option(help="Days between training end and test.")] = 0,
    window: Annotated[str, typer.Option(help="expanding or rolling.")] = "expanding",
    window_days: Annotated[int | None, typer.Option(help="Rolling window length in days.")] = None,
    warmup_days: Annotated[
        int, typer.Option(help="Unreported folds before start that seed calibration.")
    ] = 21,
    ev_margin: Annotated[
        float, typer.Option(help="Bet only when expected value per unit exceeds this.")
    ] = 0.02,
    feature_set: SetOpt = "points_v1",
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="Print the fold plan and stop.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Folder for run folders (default: $NBAPROPS_RUNS_DIR).")
    ] = None,
    name: Annotated[str, typer.Option(help="Run name.")] = "backtest",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk-forward backtest: the daily job replayed, with honest metrics and a report."""
    from nbaprops.experiments.backtest import (
        BacktestSpec,
        eval_game_dates,
        expand_systems,
        run_backtest,
    )
    from nbaprops.experiments.folds import plan_folds
    from nbaprops.experiments.report import run_dir, summary_tables, write_report

    first, last = _required_date(start, "--start"), _required_date(end, "--end")
    spec = BacktestSpec(
        systems=expand_systems([s.strip() for s in systems.split(",") if s.strip()]),
        start=first,
        end=last,
        retrain_every=retrain_every,
        gap_days=gap_days,
        window=window,
        window_days=window_days,
        warmup_days=warmup_days,
        feature_set=feature_set,
        ev_margin=ev_margin,
        name=name,
    )
    try:
        spec.validate()
    except ValueError as exc:
        raise NbapropsError(str(exc)) from None
    settings = settings_for(db)
    with connect(settings.db, read_only=True) as con:
        from datetime import timedelta

        dates = eval_game_dates(con, first - timedelta(days=warmup_days), last)
        if not dates:
            raise NbapropsError(f"no finished games between {first} and {last}")
        try:
            plan = plan_folds(
                dates,
                first,
                last,
                retrain_every=retrain_every,
                gap_days=gap_days,
                window=window,
                window_days=window_days,
                warmup_days=warmup_days,
            )
        except ValueError as exc:
            raise NbapropsError(str(exc)) from None
        if plan_only:
            if as_json:
                emit_json({"spec": spec.to_dict(), "plan": plan.describe()})
                return
            t = Table(
                title=f"Fold plan ({len(plan.folds)} folds, systems: {', '.join(spec.systems)})"
            )
            for col in ("fold", "train", "test", "warm-up"):
                t.add_column(col)
            for f in plan.folds:
                t.add_row(
                    str(f.index),
                    f"{f.train_start or 'all history'} .. {f.train_end}",
                    f"{f.test_start} .. {f.test_end}",
                    "yes" if f.warmup else "",
                )
            console.print(t)
            return
        with rich_progress(not as_json) as progress:
            result = run_backtest(
                con,
                spec,
                on_plan=lambda n: progress.begin("walk-forward folds", n),
                on_fold=progress.step,
            )
    folder = run_dir(out or settings.runs_dir, name)
    payload = write_report(result, folder)
    if as_json:
        emit_json(
            {
                "folder": str(folder),
                "tables": payload["tables"],
                "alarms": result.summary.get("alarms", {}),
                "timings": payload["timings"],
            }
        )
        return
    tables = summary_tables(result)
    t = Table(title="Points: every predicted player-game that was played")
    for col in ("system", "N", "voids", "MAE", "bias", "R²", "baseline MAE", "vs baseline"):
        t.add_column(col, justify="left" if col == "system" else "right")
    for r in tables["points"]:
        t.add_row(
            r["system"],
            f"{r['n']:,}",
            f"{r['voids']:,}",
            f"{r['mae']:.3f}",
            f"{r['bias']:+.3f}",
            f"{r['r2']:.3f}",
            f"{r['baseline_mae_same_rows']:.3f}" if r["baseline_mae_same_rows"] else "—",
            f"{100 * r['improvement']:+.1f}%" if r["improvement"] is not None else "—",
        )
    console.print(t)
    t = Table(title="Real lines: model vs the line on the same rows; bets at real prices")
    for col in (
        "system",
        "lines",
        "N",
        "model MAE",
        "line MAE",
        "bets",
        "hit rate [95% CI]",
        "ROI @prices",
        "ROI @-110",
        "Brier",
        "ECE",
    ):
        t.add_column(col, justify="left" if col in ("system", "lines") else "right")

    def pct(v: float | None) -> str:
        return "—" if v is None or math.isnan(v) else f"{100 * v:.1f}%"

    for r in tables["lines"]:
        t.add_row(
            r["system"],
            r["line_kind"],
            f"{r['n']:,}",
            f"{r['model_mae']:.3f}",
            f"{r['line_mae']:.3f}",
            f"{r['bets']:,}",
            f"{pct(r['hit_rate'])} [{pct(r['ci_low'])}, {pct(r['ci_high'])}]",
            pct(r["roi_actual"]),
            pct(r["roi_flat"]),
            "—" if r["brier"] is None else f"{r['brier']:.4f}",
            "—" if r["ece"] is None else f"{r['ece']:.4f}",
        )
    console.print(t)
    for system, msgs in result.summary.get("alarms", {}).items():
        for msg in msgs:
            err_console.print(f"[bold red]LEAKAGE ALARM[/bold red] {system}: {msg}")
    console.print(f"report: {folder / 'report.md'} ({result.timings['total_s']:.0f}s)")


def main() -> None:  # pragma: no cover - console entry point
    app()
