"""Daily operations: ``predict``, ``grade``, ``signal``, ``picks``, ``backfill``, ``run daily``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from nbaprops.cli.common import (
    DataDirOpt,
    DbOpt,
    JsonOpt,
    console,
    emit_json,
    open_writable,
    parse_day,
    parse_period,
    rich_progress,
    settings_for,
    user_errors,
)
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.predictions.signal import PICK_COLUMNS

DateOpt = Annotated[str, typer.Option("--date", help="Game date, YYYY-MM-DD.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Supersede the date's active predictions (kept).")
]
backfill_app = typer.Typer(
    help="Predict or grade a past date range (resumable).", no_args_is_help=True
)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return out.to_dict("records")


def _fmt(value: Any, spec: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return format(value, spec) if spec else str(value)


def print_predict(result: Any) -> None:
    for w in result.writes:
        ref = f"{w.system_id}@v{w.model_version} ({w.alias})"
        if w.unchanged:
            console.print(
                f"{ref}: {result.day} already predicted; nothing changed (--force supersedes)"
            )
        else:
            extra = f", {w.superseded} superseded" if w.superseded else ""
            console.print(f"{ref}: {w.written} predictions for {result.day}{extra}")
    console.print(
        f"slate: {result.n_spine} players, {result.complete_share:.0%} with every required "
        f"feature; quotes up to {result.decision_minutes} min before tip"
        + (f" and no later than {result.as_of:%Y-%m-%d %H:%M} UTC" if result.as_of else "")
    )


def predict_payload(result: Any) -> dict[str, Any]:
    return {
        "date": str(result.day),
        "decision_minutes_before_tip": result.decision_minutes,
        "as_of": None if result.as_of is None else str(result.as_of),
        "spine": result.n_spine,
        "complete_share": result.complete_share,
        "completeness_skipped": result.completeness_skipped,
        "unchanged": result.unchanged,
        "models": [
            {
                "system": w.system_id,
                "version": w.model_version,
                "alias": w.alias,
                "written": w.written,
                "superseded": w.superseded,
                "unchanged": w.unchanged,
            }
            for w in result.writes
        ],
    }


def predict(
    day: DateOpt,
    force: ForceOpt = False,
    skip_completeness_check: Annotated[
        bool,
        typer.Option("--skip-completeness-check", help="Predict an incomplete slate (recorded)."),
    ] = False,
    allow_in_sample: Annotated[
        bool,
        typer.Option(
            "--allow-in-sample",
            help="Research only: predict dates inside a model's training window (marked, "
            "excluded from every figure).",
        ),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict a date with every registered model that has an alias."""
    from nbaprops.pipeline.daily import predict_job

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    with open_writable(settings) as con:
        result = predict_job(
            con,
            settings,
            the_day,
            force=force,
            skip_completeness_check=skip_completeness_check,
            allow_in_sample=allow_in_sample,
        )
    if as_json:
        emit_json(predict_payload(result))
    else:
        print_predict(result)


def grade(day: DateOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Grade every active prediction of a date (idempotent; corrections are logged)."""
    from nbaprops.pipeline.daily import grade_job

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    with open_writable(settings) as con:
        result = grade_job(con, the_day)
    payload = {
        "date": str(the_day),
        "graded": result.graded,
        "void": result.void,
        "pending": result.pending,
        "regraded": len(result.regraded),
        "completeness": _records(result.completeness),
    }
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"{the_day}: {result.graded} graded, {result.void} void, {result.pending} pending "
        f"(game not final), {len(result.regraded)} regraded"
    )
    t = Table(title="Grading completeness")
    for col in ("system", "predicted", "graded", "void", "missing", "graded share"):
        t.add_column(col)
    for r in result.completeness.itertuples():
        t.add_row(
            r.system_id,
            str(r.predicted),
            str(r.graded),
            str(r.void),
            str(r.missing),
            f"{r.graded_share:.0%}",
        )
    console.print(t)


def print_signals(day: date, signals: dict[str, Any]) -> None:
    t = Table(title=f"Slate signal {day}")
    for col in ("model", "signal", "games", "bets", "OVER share", "high-edge", "skew", "why"):
        t.add_column(col, overflow="fold")
    colour = {"RED": "red", "YELLOW": "yellow", "GREEN": "green"}
    for label, s in signals.items():
        t.add_row(
            label,
            f"[{colour[s.signal]}]{s.signal}[/]",
            str(s.n_games),
            str(s.n_bets),
            _fmt(s.over_share, ".0%"),
            str(s.n_high_edge),
            s.skew,
            s.reasons,
        )
    console.print(t)


def signal(day: DateOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The slate signal of every model that predicted a date."""
    from nbaprops.pipeline.daily import signal_job

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    with open_writable(settings) as con:
        signals = signal_job(con, settings, the_day)
    if not signals:
        raise NbapropsError(f"no active predictions on {the_day}; run `nbaprops predict` first")
    if as_json:
        emit_json({"date": str(the_day), "signals": {k: v.to_dict() for k, v in signals.items()}})
    else:
        print_signals(the_day, signals)


def print_picks(day: date, picks: pd.DataFrame, settings: Settings) -> None:
    system = picks["system_id"].iloc[0] if len(picks) else "champion"
    t = Table(title=f"Best bets {day} ({system}@champion)")
    for col in ("player", "team", "bet", "book", "price", "P(win)", "edge", "EV", "flat", "Kelly"):
        t.add_column(col, overflow="fold")
    for r in picks.itertuples():
        t.add_row(
            str(r.player_name),
            str(r.team),
            f"{r.recommendation} {r.bet_line:g}"
            + (f" (cons. {r.line:g})" if r.line != r.bet_line else ""),
            str(r.bet_book),
            f"{r.bet_price:+.0f}",
            f"{r.p_win:.1%}",
            f"{r.edge:+.1f}",
            f"{r.ev:+.1%}",
            f"{r.stake_flat:g}u",
            f"{100 * r.stake_kelly:.2f}% bankroll",
        )
    console.print(t)
    if "observation" in picks.columns:
        for r in picks[picks["observation"].astype(bool)].itertuples():
            console.print(f"observation: {r.player_name} {r.recommendation}: {r.observation}")
    if picks.empty:
        console.print(
            "no bet clears the bar (positive EV at a real price, |edge| >= "
            f"{settings.picks_min_edge:g}): no picks is a pick"
        )
    console.print(
        f"Kelly stake at {settings.kelly_fraction:g} of Kelly; P(win) is calibrated on earlier "
        "graded rows only."
    )


_PICK_COLUMNS = ["system_id", *PICK_COLUMNS]


def picks(day: DateOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Best bets of a date from the champion, with flat and fractional-Kelly stakes."""
    from nbaprops.api.queries import picks as picks_query

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    if not settings.db.exists():
        raise NbapropsError(f"no warehouse at {settings.db}; run `nbaprops ingest` first")
    with connect(settings.db, read_only=True) as con:
        payload = picks_query(con, settings, the_day)  # the API's /picks, same function
    if as_json:
        emit_json(payload)
    else:
        print_picks(the_day, pd.DataFrame(payload["picks"], columns=_PICK_COLUMNS), settings)


def run_daily_cmd(
    day: Annotated[
        str | None,
        typer.Option("--date", help="Game date (default: NBAPROPS_DEFAULT_DATE, which has lines)."),
    ] = None,
    force: ForceOpt = False,
    skip_completeness_check: Annotated[
        bool, typer.Option("--skip-completeness-check", help="Predict an incomplete slate.")
    ] = False,
    skip_ingest: Annotated[
        bool, typer.Option("--skip-ingest", help="Do not look for new files first.")
    ] = False,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The daily job: ingest → rebuild → grade earlier dates → diagnose them → predict →
    signal → picks."""
    from nbaprops.pipeline.daily import run_daily

    settings = settings_for(db, data_dir)
    the_day = parse_day(day, "--date") if day else settings.default_date
    settings.db.parent.mkdir(parents=True, exist_ok=True)
    with connect(settings.db) as con, rich_progress(not as_json) as progress:
        from nbaprops.warehouse.migrate import migrate

        migrate(con)
        result = run_daily(
            con,
            settings,
            the_day,
            progress=progress,
            force=force,
            skip_completeness_check=skip_completeness_check,
            skip_ingest=skip_ingest,
        )
    if as_json:
        emit_json(
            {
                "run_id": result.run_id,
                "date": str(the_day),
                "bootstrapped": result.bootstrapped,
                "graded_dates": [str(g.day) for g in result.graded],
                "predict": None if result.predicted is None else predict_payload(result.predicted),
                "signals": {k: v.to_dict() for k, v in result.signals.items()},
                "picks": _records(result.picks),
                "diagnostics": [d.to_dict() for d in result.diagnostics],
                "alerts": result.alerts,
                "webhook": None if result.delivery is None else result.delivery.to_dict(),
                "snapshot": result.snapshot,
            }
        )
        return
    if result.bootstrapped:
        console.print(result.bootstrapped)
    if result.graded:
        console.print(
            "graded: "
            + ", ".join(f"{g.day} ({g.graded} graded, {g.void} void)" for g in result.graded)
        )
    if result.diagnostics:
        from nbaprops.cli.diagnose import print_diagnostics

        print_diagnostics(result.diagnostics)
    if result.predicted is not None:
        print_predict(result.predicted)
    print_signals(the_day, result.signals)
    print_picks(the_day, result.picks, settings)
    if result.delivery is not None:
        state = "delivered" if result.delivery.ok else f"NOT delivered ({result.delivery.error})"
        console.print(f"webhook: {result.delivery.n_alerts} alert(s) {state}")


def _backfill_summary(con: Any, first: date, last: date) -> dict[str, Any]:
    from nbaprops.grading.report import graded_summary

    return graded_summary(con, first, last)


@backfill_app.command("predictions")
@user_errors
def backfill_predictions(
    start: Annotated[str, typer.Option(help="First date.")],
    end: Annotated[str, typer.Option(help="Last date.")],
    force: ForceOpt = False,
    retrain_every: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Refit walk-forward every N days, registering each fit as a version "
            "(otherwise: today's aliased models, refused inside their training window).",
        ),
    ] = None,
    systems: Annotated[
        str, typer.Option(help="With --retrain-every: systems to fit ('all' or a list).")
    ] = "all",
    warmup_days: Annotated[
        int, typer.Option(min=0, help="Warm-up folds before start that seed calibration.")
    ] = 21,
    seed: Annotated[int, typer.Option(help="Random seed of every model.")] = 7,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict every date of a past range, resumably (a re-run finishes what is missing)."""
    from nbaprops.cli.backtest import parse_systems
    from nbaprops.experiments.spec import build_spec
    from nbaprops.pipeline.backfill import backfill_walk_forward, backfill_with_aliases

    first, last = parse_period(start, end)
    settings = settings_for(db)
    with open_writable(settings) as con, rich_progress(not as_json) as progress:
        if retrain_every is None:
            result = backfill_with_aliases(
                con,
                settings,
                first,
                last,
                force=force,
                on_plan=lambda n: progress.begin("backfill dates", n),
                on_date=progress.step,
            )
        else:
            spec = build_spec(
                {
                    "name": f"backfill-{first}-{last}",
                    "systems": parse_systems(systems),
                    "evaluation": {"start": first, "end": last},
                    "retrain_every": retrain_every,
                    "warmup_days": warmup_days,
                    "seed": seed,
                    "ev_margin": settings.ev_margin,
                    "decision_minutes": settings.decision_minutes_before_tip,
                }
            )
            result = backfill_walk_forward(
                con,
                spec,
                settings,
                force=force,
                on_plan=lambda n: progress.begin("backfill dates", n),
                on_date=progress.step,
            )
        summary = _backfill_summary(con, first, last)
    payload = {
        "run_id": result.run_id,
        "dates_predicted": result.dates,
        "dates_skipped": result.dates_skipped,
        "rows_written": result.rows_written,
        "versions_registered": result.versions_registered,
        "versions_reused": result.versions_reused,
        "dates_graded": result.graded_dates,
        "notes": result.notes,
        "figures": summary,
    }
    if as_json:
        emit_json(payload)
        return
    for note in result.notes:
        console.print(note)
    console.print(
        f"{result.dates} dates predicted ({result.rows_written:,} rows), "
        f"{result.dates_skipped} already done; {result.versions_registered} versions "
        f"registered, {result.versions_reused} reused; {result.graded_dates} dates graded"
    )
    print_graded_summary(summary)


@backfill_app.command("grading")
@user_errors
def backfill_grading_cmd(
    start: Annotated[str, typer.Option(help="First date.")],
    end: Annotated[str, typer.Option(help="Last date.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Grade every date with predictions in a range (idempotent)."""
    from nbaprops.pipeline.backfill import backfill_grading

    first, last = parse_period(start, end)
    settings = settings_for(db)
    with open_writable(settings) as con, rich_progress(not as_json) as progress:
        results = backfill_grading(
            con,
            first,
            last,
            on_plan=lambda n: progress.begin("grade dates", n),
            on_date=progress.step,
        )
        summary = _backfill_summary(con, first, last)
    payload = {
        "dates": len(results),
        "graded": sum(r.graded for r in results),
        "void": sum(r.void for r in results),
        "pending": sum(r.pending for r in results),
        "regraded": sum(len(r.regraded) for r in results),
        "figures": summary,
    }
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"{payload['dates']} dates: {payload['graded']:,} graded, {payload['void']:,} void, "
        f"{payload['pending']} pending, {payload['regraded']} regraded"
    )
    print_graded_summary(summary)


def print_graded_summary(summary: dict[str, Any]) -> None:
    t = Table(title=f"Graded predictions {summary['start']}..{summary['end']} (ACTUAL lines)")
    for col in (
        "system",
        "lines",
        "N",
        "model MAE",
        "line MAE",
        "bets",
        "hit rate [95% CI]",
        "pushes",
        "voids",
        "ROI cons.",
        "ROI best",
        "CLV (pts)",
        "graded",
    ):
        t.add_column(col)
    for r in summary["systems"]:
        t.add_row(
            r["system"],
            r["line_kind"],
            f"{r['n']:,}",
            _fmt(r["model_mae"], ".3f"),
            _fmt(r["line_mae"], ".3f"),
            f"{r['bets']:,}",
            "—"
            if r["hit_rate"] is None
            else f"{r['hit_rate']:.1%} [{r['ci_low']:.1%}, {r['ci_high']:.1%}]",
            str(r["pushes"]),
            str(r["voids"]),
            _fmt(r["roi_consensus"], "+.1%"),
            _fmt(r["roi_best"], "+.1%"),
            _fmt(r["clv_line"], "+.2f"),
            _fmt(r["graded_share"], ".0%"),
        )
    console.print(t)
    for r in summary.get("estimated_lines", []):
        console.print(
            f"{r['system']}: {r['n']:,} players without a real line: model MAE "
            f"{_fmt(r['model_mae'], '.3f')} vs estimated line (season average) "
            f"{_fmt(r['estimated_line_mae'], '.3f')} (error only, never a bet)"
        )
