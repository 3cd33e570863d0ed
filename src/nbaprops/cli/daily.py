"""Daily operations: ``predict``, ``grade``, ``signal``, ``picks``, ``backfill``, ``run daily``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from nbaprops.cli.common import (
    DEMO_DATE,
    DataDirOpt,
    DbOpt,
    JsonOpt,
    LogJsonOpt,
    MarketOpt,
    MarketsOpt,
    RunLockedError,
    console,
    emit_json,
    err_console,
    locked_as_run,
    log_json_line,
    logged_phase,
    markets_of,
    open_writable,
    parse_day,
    parse_period,
    query_and_print,
    rich_progress,
    settings_for,
    user_errors,
    writable_folder,
)
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError, WarehouseBusyError
from nbaprops.core.markets import get_market
from nbaprops.read.params import check_market
from nbaprops.warehouse.freshness import missing_predictions_message

DateOpt = Annotated[str, typer.Option("--date", help="Game date, YYYY-MM-DD.")]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Picks webhook message: json or slack (default: $NBAPROPS_PICKS_WEBHOOK_FORMAT).",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Supersede the date's active predictions (kept).")
]
AllowStaleOpt = Annotated[
    bool,
    typer.Option(
        "--allow-stale",
        help="Predict a date whose data is stale (old box scores, old or no real lines): "
        "recorded on every row and in the audit log; no pick is a bet.",
    ),
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


def _ref(w: Any) -> str:
    """``system@vN (alias)``, with the market when it is not points."""
    market = getattr(w, "market", "points")
    return f"{w.system_id}@v{w.model_version} ({w.alias}" + (
        ")" if market == "points" else f", {market})"
    )


def print_predict(result: Any) -> None:
    for w in result.writes:
        ref = _ref(w)
        if w.unchanged:
            console.print(
                f"{ref}: {result.day} already predicted; nothing changed (--force supersedes)"
            )
        else:
            extra = f", {w.superseded} superseded" if w.superseded else ""
            console.print(f"{ref}: {w.written} predictions for {result.day}{extra}")
    for w in result.picks:
        if not w.unchanged:
            market = getattr(w, "market", "points")
            flag = "" if market == "points" else f" --market {market}"
            console.print(
                f"{_ref(w)}: {w.written} picks (`nbaprops picks --date {result.day}{flag}`)"
            )
    for note in getattr(result, "notes", []):
        console.print(note, highlight=False)
    console.print(
        f"slate: {result.n_spine} players, {result.complete_share:.0%} with every required "
        f"feature; quotes up to {result.decision_minutes} min before tip"
        + (f" and no later than {result.as_of:%Y-%m-%d %H:%M} UTC" if result.as_of else "")
    )
    if getattr(result, "stale_override", None):
        console.print(
            f"[yellow]stale data overridden (--allow-stale):[/yellow] {result.stale_override}; "
            "recorded on every row, no bets",
            highlight=False,
        )
    for player_id, why in sorted(getattr(result, "team_changes", {}).items()):
        console.print(f"[yellow]flagged, never bet:[/yellow] player {player_id}: {why}")


def predict_payload(result: Any) -> dict[str, Any]:
    return {
        "date": str(result.day),
        "decision_minutes_before_tip": result.decision_minutes,
        "as_of": None if result.as_of is None else str(result.as_of),
        "spine": result.n_spine,
        "complete_share": result.complete_share,
        "completeness_skipped": result.completeness_skipped,
        "stale_override": getattr(result, "stale_override", None),
        "team_changes": {str(k): v for k, v in getattr(result, "team_changes", {}).items()},
        "unchanged": result.unchanged,
        "notes": list(getattr(result, "notes", [])),
        "models": [
            {
                "system": w.system_id,
                "market": w.market,
                "version": w.model_version,
                "alias": w.alias,
                "written": w.written,
                "superseded": w.superseded,
                "unchanged": w.unchanged,
            }
            for w in result.writes
        ],
        "picks": [
            {
                "system": w.system_id,
                "market": w.market,
                "version": w.model_version,
                "alias": w.alias,
                "written": w.written,
                "unchanged": w.unchanged,
            }
            for w in result.picks
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
    allow_stale: AllowStaleOpt = False,
    markets: MarketsOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
    log_json: LogJsonOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Predict a date with every registered model that has an alias (in ``--markets``;
    the date's limits on bets hold across the markets predicted together), and select each
    model's picks (``nbaprops picks`` shows the champion's). With a picks webhook set
    (``NBAPROPS_PICKS_WEBHOOK_URL``) the champion's picks, or "No bets today", are
    POSTed; a failed delivery is a note and an audit line, never a failed command.
    Another process holding the warehouse exits 3; a date whose data is stale is refused
    with exit 2 (``warehouse.freshness``; ``--allow-stale`` predicts it, never bets)."""
    from nbaprops.pipeline.daily import deliver_picks, predict_job

    the_day = parse_day(day, "--date")
    wanted = markets_of(markets)
    settings = _with_format(settings_for(db), fmt)
    with logged_phase(log_json, "predict") as record, locked_as_run(f"predict {the_day}"):
        with open_writable(settings) as con:
            result = predict_job(
                con,
                settings,
                the_day,
                force=force,
                skip_completeness_check=skip_completeness_check,
                allow_in_sample=allow_in_sample,
                allow_stale=allow_stale,
                markets=wanted,
            )
            delivery = deliver_picks(con, settings, the_day, result)
        record["rows"] = sum(w.written for w in result.writes)
    if as_json:
        emit_json(
            predict_payload(result)
            | {"picks_webhook": None if delivery is None else delivery.to_dict()}
        )
    else:
        print_predict(result)
        _print_picks_delivery(delivery)


def _with_format(settings: Any, fmt: str | None) -> Any:
    """``--format`` over ``NBAPROPS_PICKS_WEBHOOK_FORMAT``; anything but json/slack is
    one ``error:`` line."""
    if fmt is None:
        return settings
    if fmt not in ("json", "slack"):
        raise NbapropsError(f"--format: expected json or slack, got {fmt!r}")
    return settings.replace(picks_webhook_format=fmt)


def _print_picks_delivery(delivery: Any) -> None:
    if delivery is None:
        return
    if delivery.ok:
        console.print(f"picks webhook: {delivery.n_bets} bet(s) delivered ({delivery.format})")
    else:
        err_console.print(
            f"[yellow]note:[/yellow] picks webhook NOT delivered ({delivery.error}); "
            "the picks are stored (`nbaprops picks`)",
            highlight=False,
            soft_wrap=True,
        )


def grade(
    day: DateOpt, db: DbOpt = None, as_json: JsonOpt = False, log_json: LogJsonOpt = False
) -> None:
    """Grade every active prediction of a date (idempotent; corrections are logged).
    Another process holding the warehouse exits 3."""
    from nbaprops.pipeline.daily import grade_job

    the_day = parse_day(day, "--date")
    settings = settings_for(db)
    with logged_phase(log_json, "grade") as record, locked_as_run(f"grade {the_day}"):
        with open_writable(settings) as con:
            result = grade_job(con, the_day)
        record["rows"] = result.graded + result.void
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
            raise NbapropsError(missing_predictions_message(con, the_day))
    if as_json:
        emit_json({"date": str(the_day), "signals": {k: v.to_dict() for k, v in signals.items()}})
    else:
        print_signals(the_day, signals)


def _record_cell(record: dict[str, Any]) -> str:
    if not record["n"]:
        return "none"
    return (
        f"{record['n']:,}: {_fmt(record['hit_rate'], '.1%')} "
        f"[{_fmt(record['ci_low'], '.0%')}, {_fmt(record['ci_high'], '.0%')}], "
        f"ROI {_fmt(record['roi_pct'], '+.1f')}%"
    )


def _bet_cell(p: dict[str, Any]) -> str:
    where = f" {p['bet_book']}" if p["bet_book"] else ""
    price = f" {p['bet_price']:+.0f}" + ("" if p["priced"] else " (DFS, nominal)")
    cons = f" (cons. {p['line']:g})" if p["line"] != p["bet_line"] else ""
    return f"{p['side']} {p['bet_line']:g}{cons}{where}{price}"


def player_cell(pick: dict[str, Any]) -> str:
    """The player with his injury-report flag beside him when the report lists him."""
    status = pick.get("availability_status")
    if status in (None, "Not listed"):
        return str(pick["player_name"])
    return f"{pick['player_name']} [{str(status).replace('_', ' ')}]"


def print_picks(payload: dict[str, Any], watchlist: int = 10) -> None:
    """The champion's picks as ``read.picks.picks`` gives them (the API's /picks): its
    record first, then the bets with their stakes before and after the caps, then the
    top of the watchlist with the reason each is not staked."""
    day, system = payload["date"], payload["system"] or "champion"
    market = payload.get("market") or "points"
    if market != "points":  # points keeps its titles; another market names itself
        day = f"{day} {get_market(market).title}"
    record = payload.get("record")
    if record:
        console.print(record["statement"])
    rows = payload["picks"]
    bets = [p for p in rows if p["status"] == "BET"]
    past = any(p["result"] for p in rows)
    if bets:
        t = Table(title=f"Bets {day} ({system}@champion)")
        cols = ["#", "player", "team", "bet", "P(win)", "EV claimed", "EV calibrated"]
        cols += ["record (N: hit [95% CI], ROI)", "stake before caps", "stake", "capped by"]
        if past:
            cols += ["result", "profit"]
        for col in cols:
            t.add_column(col, overflow="fold")
        for p in bets:
            cells = [
                str(p["rank"]),
                player_cell(p),
                p["team"],
                _bet_cell(p),
                _fmt(p["p_win"], ".1%"),
                f"{_fmt(p['ev_pct'], '+.1f')}%",
                f"{_fmt(p['ev_calibrated_pct'], '+.1f')}%",
                _record_cell(p["record"]),
                f"{p['stake_before_units']:.2f}u ({p['stake_before_pct']:.2f}%)",
                f"{p['stake_units']:.2f}u ({p['stake_pct']:.2f}%)",
                p["capped_by"] or "",
            ]
            if past:
                cells += [p["result"] or "pending", _fmt(p["profit_units"], "+.2f") + "u"]
            t.add_row(*cells)
        console.print(t)
    console.print(payload["verdict"])
    shown = [p for p in rows if p["status"] != "BET"][:watchlist]
    if shown:
        t = Table(title=f"Watchlist {day}: calls the record does not back (no stake)")
        cols = ["player", "team", "call", "EV claimed", "EV calibrated", "record", "why not"]
        for col in cols:
            t.add_column(col, overflow="fold")
        for p in shown:
            cells = [
                player_cell(p),
                p["team"],
                _bet_cell(p),
                f"{_fmt(p['ev_pct'], '+.1f')}%",
                f"{_fmt(p['ev_calibrated_pct'], '+.1f')}%",
                _record_cell(p["record"]),
                p["reason"] or "",
            ]
            t.add_row(*cells)
        console.print(t)
        more = payload["n_watchlist"] - len(shown)
        if more > 0:
            console.print(f"... and {more} more on the watchlist (--json lists every pick)")
    for p in rows:
        if p["observation"]:
            console.print(f"observation: {p['player_name']} {p['side']}: {p['observation']}")
    caps = payload["caps"]
    console.print(
        f"EV in percent per unit; edge in {market}; stakes in units (1u = {payload['unit_pct']:g}% "
        f"of bankroll) at {payload['kelly_fraction']:g} Kelly on the calibrated EV, capped at "
        f"{caps['bet_pct']:g}% a bet and {caps['slate_pct']:g}% a slate, x"
        f"{caps['red_multiplier']:g} on a RED slate; a bet needs calibrated EV above "
        f"{caps['ev_margin_pct']:g}% and {caps['min_record']} comparable graded bets"
        + (" that returned a profit." if caps["min_record"] else ".")
    )


def picks(
    day: DateOpt, market: MarketOpt = "points", db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """The champion's picks of a date in a market as recommended: bets with their record
    and capped stakes, the watchlist with its reasons, results once graded."""
    from nbaprops.read.picks import picks as picks_query

    the_day = parse_day(day, "--date")
    chosen = check_market(market)  # one market: `all` is not one
    settings = settings_for(db)
    query_and_print(
        settings,
        lambda con: picks_query(con, settings, the_day, chosen),  # the API's /picks
        print_picks,
        as_json=as_json,
    )


def bets(
    start: Annotated[str, typer.Option(help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last date, YYYY-MM-DD.")],
    system: Annotated[str | None, typer.Option(help="Only this system.")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write every ledger line to this CSV.")
    ] = None,
    market: MarketOpt = "points",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The ledger of one market (default points): every bet as placed with its result,
    running units and bankrolls at flat and recommended stakes, maximum drawdown, and a
    summary per system."""
    from nbaprops.read.params import BadRequestError, NotFoundError, check_market
    from nbaprops.read.picks import bets as bets_query

    chosen = check_market(market)  # an unknown market: one error line, before anything
    first, last = parse_period(start, end)
    settings = settings_for(db)
    if not settings.paths.db.exists():
        raise NbapropsError(f"no warehouse at {settings.paths.db}; run `nbaprops ingest` first")
    if csv is not None:
        writable_folder(csv.parent if str(csv.parent) else Path("."), "the ledger CSV")
        if csv.is_dir():
            raise NbapropsError(f"--csv {csv} is a folder; give a file name")
    with connect(settings.paths.db, read_only=True) as con:
        try:
            payload = bets_query(
                con,
                first,
                last,
                system,
                max_days=10**6,
                unit_share=settings.betting.unit_share,
                market=chosen,
            )
        except (BadRequestError, NotFoundError) as exc:
            raise NbapropsError(str(exc)) from None
    if csv is not None:
        lines = [
            {
                "system": s["system"],
                **{k: v for k, v in b.items() if k != "record"},
                **{f"record_{k}": v for k, v in b["record"].items()},
            }
            for s in payload["systems"]
            for b in s["bets"]
        ]
        pd.DataFrame(lines).to_csv(csv, index=False)
    if as_json:
        emit_json(payload)
        return
    for s in payload["systems"]:
        of = "" if chosen == "points" else f" [{chosen}]"  # points keeps its title
        t = Table(title=f"Ledger {first}..{last}{of}: {s['system']}")
        cols = ["date", "player", "bet", "EV cal.", "stake", "result", "units", "running"]
        cols += ["bankroll flat", "bankroll Kelly"]
        for col in cols:
            t.add_column(col, overflow="fold")
        for b in s["bets"]:
            t.add_row(
                str(b["game_date"]),
                b["player_name"],
                _bet_cell(b),
                f"{_fmt(b['ev_calibrated_pct'], '+.1f')}%",
                f"{b['stake_units']:.2f}u ({b['stake_pct']:.2f}%)",
                b["result"] or "pending",
                _fmt(b["profit_units"], "+.2f"),
                _fmt(b["running_units"], "+.2f"),
                _fmt(b["bankroll_flat"], ".2f"),
                _fmt(b["bankroll_kelly"], ".2f"),
            )
        console.print(t)
        m = s["summary"]
        console.print(
            f"{s['system']}: {m['n_bets']:,} bets graded ({m['pending']} pending; {m['pushes']} "
            f"pushes, {m['voids']} void), hit rate {_fmt(m['hit_rate'], '.1%')} "
            f"[{_fmt(m['ci_low'], '.1%')}, {_fmt(m['ci_high'], '.1%')}], ROI "
            f"{_fmt(m['roi_pct'], '+.1f')}% at the prices taken, {_fmt(m['units'], '+.2f')} "
            f"units; bankroll {m['start']:g} -> {m['final_flat']:.2f} flat "
            f"(max drawdown {m['max_drawdown_flat']:.1%}), {m['final_kelly']:.2f} at the "
            f"recommended stakes (max drawdown {m['max_drawdown_kelly']:.1%})"
        )
    if csv is not None:
        console.print(f"ledger written to {csv}")


def run_daily_cmd(
    day: Annotated[
        str | None,
        typer.Option(
            "--date", help=f"Game date (default: {DEMO_DATE}, the demo date, which has real lines)."
        ),
    ] = None,
    force: ForceOpt = False,
    skip_completeness_check: Annotated[
        bool, typer.Option("--skip-completeness-check", help="Predict an incomplete slate.")
    ] = False,
    skip_ingest: Annotated[
        bool, typer.Option("--skip-ingest", help="Do not look for new files first.")
    ] = False,
    allow_stale: AllowStaleOpt = False,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
    log_json: LogJsonOpt = False,
    fmt: FormatOpt = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Fetch the date's sources first (`nbaprops fetch`: schedule, box scores, "
            "game and prop lines), as the run's first phase.",
        ),
    ] = False,
    markets: MarketsOpt = None,
) -> None:
    """The daily job (``--markets``: which markets; each without a model gets a default
    champion trained first): ingest → rebuild → grade earlier dates → diagnose them → predict →
    signal → picks → publish the API's snapshot.

    A run that cannot open the warehouse (another process holds it) records why beside
    it (``pipeline.daily.record_unstarted_run``) and exits 3; a failed phase exits 1; a
    failed publish prints the run's results, then one ``error:`` line, and exits 1.
    ``--log-json``: one JSON line per phase on stderr (``{run_id, phase, state, rows,
    seconds, error}``; a run that cannot start: phase ``start``, FAILED). With a picks
    webhook set, the champion's picks are POSTed after the predict phase."""
    from nbaprops.pipeline.daily import PublishFailedError, record_unstarted_run, run_daily
    from nbaprops.read.picks import champion_markets
    from nbaprops.read.picks import picks as picks_query

    settings = _with_format(settings_for(db, data_dir), fmt)
    the_day = parse_day(day, "--date") if day else DEMO_DATE
    wanted = markets_of(markets)
    settings.paths.db.parent.mkdir(parents=True, exist_ok=True)
    failure: PublishFailedError | None = None
    try:
        con = connect(settings.paths.db)
    except WarehouseBusyError as exc:
        recorded = record_unstarted_run(settings.paths.db, the_day, str(exc))
        where = f"recorded in {recorded.name}" if recorded else "not recorded (sidecar unwritable)"
        message = (
            f"the daily run of {the_day} did not start: {exc} ({where}; `nbaprops status` shows it)"
        )
        log_json_line(
            log_json,
            {"phase": "start", "state": "FAILED", "rows": None, "seconds": 0.0, "error": message},
        )
        raise RunLockedError(message) from None
    with con, rich_progress(not as_json) as progress:
        from nbaprops.warehouse.migrate import migrate

        migrate(con)
        try:
            result = run_daily(
                con,
                settings,
                the_day,
                progress=progress,
                force=force,
                skip_completeness_check=skip_completeness_check,
                skip_ingest=skip_ingest,
                allow_stale=allow_stale,
                on_phase=(lambda record: log_json_line(True, record)) if log_json else None,
                live=live,
                markets=wanted,
            )
        except PublishFailedError as exc:
            failure, result = exc, exc.result
        shown = wanted or tuple(champion_markets(con)) or ("points",)
        payloads = {m: _picks_or_none(con, settings, the_day, m, picks_query) for m in shown}
    if live and not as_json:
        lines = ["fetch: failed (see the fetch phase)"]
        lines = result.fetched.lines() if result.fetched is not None else lines
        for line in lines:
            console.print(line, highlight=False, soft_wrap=True, markup=False)
    _print_run(result, the_day, payloads, as_json=as_json)
    if failure is not None:
        raise failure


def _picks_or_none(
    con: Any, settings: Any, day: date, market: str, query: Any
) -> dict[str, Any] | None:
    """A market's picks payload; None where its champion predicted nothing that date
    (e.g. no lines of the market tonight: the predict phase says so). Points keeps its
    one error when nothing was predicted."""
    from nbaprops.read.params import NotFoundError

    try:
        payload: dict[str, Any] = query(con, settings, day, market)
    except NotFoundError:
        if market == "points":
            raise
        return None
    return payload


def _print_run(
    result: Any, the_day: date, payloads: dict[str, dict[str, Any] | None], *, as_json: bool
) -> None:
    shown = {m: p for m, p in payloads.items() if p is not None}
    picks_payload = next(iter(shown.values()), None)
    if as_json:
        emit_json(
            {
                "run_id": result.run_id,
                "date": str(the_day),
                "bootstrapped": result.bootstrapped,
                "graded_dates": [str(g.day) for g in result.graded],
                "predict": None if result.predicted is None else predict_payload(result.predicted),
                "signals": {k: v.to_dict() for k, v in result.signals.items()},
                "picks": picks_payload,
                "markets": shown,
                "diagnostics": [d.to_dict() for d in result.diagnostics],
                "alerts": result.alerts,
                "webhook": None if result.delivery is None else result.delivery.to_dict(),
                "picks_webhook": None
                if result.picks_delivery is None
                else result.picks_delivery.to_dict(),
                "snapshot": result.snapshot,
                "fetch": None if result.fetched is None else result.fetched.to_dict(),
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
    for payload in shown.values():
        print_picks(payload)
    if result.delivery is not None:
        state = "delivered" if result.delivery.ok else f"NOT delivered ({result.delivery.error})"
        console.print(f"webhook: {result.delivery.n_alerts} alert(s) {state}")
    _print_picks_delivery(result.picks_delivery)


def _backfill_summary(con: Any, first: date, last: date, market: str = "points") -> dict[str, Any]:
    from nbaprops.grading.report import graded_summary

    return graded_summary(con, first, last, market)


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
    market: MarketOpt = "points",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict every date of a past range in one market, resumably (a re-run finishes
    what is missing); its figures are that market's."""
    from nbaprops.cli.backtest import parse_systems
    from nbaprops.experiments.spec import build_spec
    from nbaprops.pipeline.backfill import backfill_walk_forward, backfill_with_aliases

    first, last = parse_period(start, end)
    chosen = get_market(check_market(market))  # one market: `all` is not one
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
                markets=(chosen.name,),
            )
        else:
            points = chosen.name == "points"
            spec = build_spec(
                {
                    "name": f"backfill-{first}-{last}" + ("" if points else f"-{chosen.name}"),
                    "systems": parse_systems(systems),
                    **({} if points else {"feature_set": chosen.feature_set}),
                    "evaluation": {"start": first, "end": last},
                    "retrain_every": retrain_every,
                    "warmup_days": warmup_days,
                    "seed": seed,
                    "ev_margin": settings.betting.ev_margin,
                    "decision_minutes": settings.models.decision_minutes_before_tip,
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
        summary = _backfill_summary(con, first, last, chosen.name)
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
    print_ev_reliability(summary["systems"])
    for r in summary["systems"]:
        b = r.get("bets_ledger")
        if b and (b["n_bets"] or b["pending"]):
            console.print(
                f"{r['system']} ({r['line_kind']}): {b['n_bets']:,} bets placed and graded, "
                f"hit rate {_fmt(b['hit_rate'], '.1%')} [{_fmt(b['ci_low'], '.1%')}, "
                f"{_fmt(b['ci_high'], '.1%')}], ROI {_fmt(b['roi'], '+.1%')} at the prices "
                f"taken, {b['units']:+.2f} units (`nbaprops bets` lists them)"
            )
        elif b is not None:
            console.print(f"{r['system']} ({r['line_kind']}): no bets placed (watchlist only)")
    for r in summary.get("estimated_lines", []):
        console.print(
            f"{r['system']}: {r['n']:,} players without a real line: model MAE "
            f"{_fmt(r['model_mae'], '.3f')} vs estimated line (season average) "
            f"{_fmt(r['estimated_line_mae'], '.3f')} (error only, never a bet)"
        )


def print_ev_reliability(systems: list[dict[str, Any]]) -> None:
    """Expected value claimed against realised, all calls, before and after calibration."""
    t = Table(title="Expected value: claimed against realised (all calls, at the price taken)")
    for col in ("system", "lines", "EV", "bucket", "N", "hit rate [95% CI]", "mean EV"):
        t.add_column(col)
    t.add_column("ROI [95% CI, dates resampled]")
    for r in systems:
        for name, per_side in (r.get("ev_reliability") or {}).items():
            for b in per_side.get("all", []):
                if not b["n"]:
                    continue
                t.add_row(
                    r["system"],
                    r["line_kind"],
                    name,
                    b["label"],
                    f"{b['n']:,}",
                    f"{_fmt(b['hit_rate'], '.1%')} [{_fmt(b['ci_low'], '.1%')}, "
                    f"{_fmt(b['ci_high'], '.1%')}]",
                    _fmt(b["mean_ev"], "+.1%"),
                    f"{_fmt(b['roi'], '+.1%')} [{_fmt(b['roi_low'], '+.1%')}, "
                    f"{_fmt(b['roi_high'], '+.1%')}]",
                )
    if t.row_count:
        console.print(t)
