"""Daily operations speed: predict one date with every system, pick, backfill 80 dates.

Setup (not timed): on a scratch copy of the warehouse, a short walk-forward backtest of
two fast systems (``--ev-systems``, default season_average and moving_average, over
``--ev-start``..``--ev-end``, 2024-03-04..2024-04-07) grades real calls; an
``EvCalibration`` is fitted on them (``EvCalibration.fit``, every system's calls pooled)
so each registered version carries a realistic record of claims, not an empty one. Every
member system is fitted on all games before ``--train-end`` and registered with that
EV calibration and an alias of its own (each system's champion), as a daily job would
find them. Then:

- predict one date for all systems (slate, features, decision-time lines, every
  model, line shopping, EV calibration, writes): the median of ``--repeats`` forced
  re-predictions (``predict_job(..., force=True)``);
- picks of that date, which ``predict`` selects and writes right after each model's
  rows, in the same transaction (``predictions.daily.write_models_date``): the same
  work replayed on the written rows, ``picks_of_rows`` per model (slate signal,
  ``select_picks`` with the version's record and the caps) and one
  ``write_pick_batches`` (superseding), median of ``--repeats`` passes;
- the EV-calibration step inside scoring: ``Calibration.ev.calibrate`` over the
  slate's scored rows of every system (what ``score_rows`` adds for it), median of
  ``max(--repeats, 25)`` passes;
- the added cost of EV calibration and the picks rule: (picks + EV calibrate) /
  (predict - picks - EV calibrate), in percent (predict includes both now); and the
  same measured A/B: forced predicts with picks and with picks switched off
  (``_without_picks``), interleaved, medians;
- backfill predictions (and picks) for 80 game dates with those models already trained
  (one predict per date, each written in its own transactions); ``--skip-backfill``
  leaves it out.

- ``run daily`` on a warehouse that needs one new day (issue 23): the recorded day
  (tests/fixtures/live/recorded_day, D = 2024-03-12). Setup, not timed: a warehouse
  built from the real data folder as it stood on the morning of D without the night
  before's box scores (``tests.e2e.recorded_day.morning_data_dir``), a champion
  bootstrapped before D-1, the schedule fetched and D-1 predicted (the night before's
  run). Then, each on its own copy of that warehouse, ``run_daily`` of D end to end
  (ingest of the day's files, rebuild, grade D-1, diagnose, predict D, signal, publish
  the snapshot), timed with its phases: *files*, the day's files (box scores since
  D-2, game lines, props, written by the live writers from the recorded payloads)
  dropped into the data folder first; *live*, ``--live`` with the recorded payloads
  served by in-memory transports (network excluded). ``--skip-new-day`` leaves it out,
  ``--new-day-only`` runs only it.

Floors (2-core machine): one date <= 5 s (aim 1 s); EV calibration and picks add
<= 10% to predict; 80 dates <= 300 s; run daily of one new day <= 30 s.
Run: python benchmarks/bench_daily.py [--db PATH] [--data-dir PATH] [--repeats N]
[--skip-backfill] [--skip-new-day | --new-day-only] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from nbaprops.core.db import connect, transaction
from nbaprops.core.settings import Settings, get_settings
from nbaprops.experiments.backtest import eval_game_dates, run_backtest
from nbaprops.experiments.spec import build_spec
from nbaprops.features.catalog import POINTS_V1
from nbaprops.features.frame import build_frame, training_spine
from nbaprops.models.calibration import Calibration, EvCalibration
from nbaprops.models.registry import register_version
from nbaprops.pipeline.backfill import backfill_with_aliases
from nbaprops.pipeline.daily import predict_job
from nbaprops.predictions import daily as daily_module
from nbaprops.predictions.daily import ServingModel, aliased_models, picks_of_rows
from nbaprops.predictions.picks import empty_picks
from nbaprops.predictions.store import (
    BatchWrite,
    PickBatch,
    active_predictions,
    write_pick_batches,
)
from nbaprops.systems import MEMBER_SYSTEM_IDS, make_system
from nbaprops.warehouse.migrate import migrate

FLOOR_ONE_DATE_S = 5.0
FLOOR_80_DATES_S = 300.0
FLOOR_PICKS_ADDED_PCT = 10.0  # EV calibration + the picks rule, share of predict
FLOOR_NEW_DAY_S = 30.0  # `run daily` of one new day, network excluded (issue 23)
EV_SYSTEMS = ("season_average", "moving_average")


def _fit_ev(
    con: Any, settings: Settings, first: date, last: date, systems: list[str]
) -> tuple[EvCalibration, dict[str, Any]]:
    """An EV calibration fitted on the graded calls of a short walk-forward backtest."""
    spec = build_spec(
        {
            "name": "bench-daily-ev",
            "systems": systems,
            "evaluation": {"start": first, "end": last},
            "retrain_every": 7,
            "warmup_days": 14,
        }
    )
    started = time.perf_counter()
    result = run_backtest(con, spec, settings=settings)
    seconds = time.perf_counter() - started
    ev = EvCalibration.fit(result.predictions)
    totals = ev.totals()
    return ev, {
        "systems": systems,
        "first": str(first),
        "last": str(last),
        "backtest_s": round(seconds, 1),
        "rows": len(result.predictions),
        "cells": len(ev.cells),
        "record_cells": len(ev.record),
        "graded_calls": 0 if totals is None else totals.n,
    }


def _register_all(
    con: Any, settings: Settings, train_end: date, calibration: Calibration
) -> dict[str, float]:
    spine = training_spine(con, None, train_end)
    train = build_frame(con, spine, POINTS_V1)
    fit_s: dict[str, float] = {}
    for system_id in MEMBER_SYSTEM_IDS:
        started = time.perf_counter()
        system = make_system(system_id, random_state=7).fit(
            train, train["points"].to_numpy(dtype=float)
        )
        fit_s[system_id] = time.perf_counter() - started
        version = register_version(
            con,
            system=system,
            calibration=calibration,
            oos=pd.DataFrame({"game_date": pd.Series(dtype="datetime64[ns]")}),
            experiment_id="benchmark",
            mode="shared",
            feature_set=POINTS_V1,
            eval_window="benchmark",
            metrics={},
            train_start=None,
            train_end=train_end,
            train_rows=len(train),
            code_commit=None,
            code_dirty=None,
            artifacts_root=settings.paths.resolved_artifacts_dir(),
        )
        # benchmark setup only: every system serves as its own champion
        con.execute(
            "INSERT OR REPLACE INTO models.alias VALUES (?, 'champion', ?, now())",
            [system_id, version.version],
        )
    return fit_s


def _ev_calibrate_s(scored: pd.DataFrame, ev: EvCalibration, repeats: int) -> list[float]:
    """Seconds of ``ev.calibrate`` over a slate's scored rows of every system, per pass
    (what ``score_rows`` spends on it: one call per system)."""
    parts = [
        (
            rows["line_kind"].to_numpy(dtype=object),
            rows["side"].to_numpy(dtype=object),
            rows["ev"].to_numpy(dtype=float),
        )
        for _, rows in scored.groupby("system", sort=True)
    ]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for kind, side, claimed in parts:
            ev.calibrate(kind, side, claimed)
        times.append(time.perf_counter() - started)
    return times


def _pick_pass(
    con: Any, settings: Settings, day: date, stored: list[tuple[ServingModel, pd.DataFrame]]
) -> dict[str, BatchWrite]:
    """What ``predict`` does for picks once the models' rows are written: select each
    model's picks from its rows with the version's record (``picks_of_rows``), then write
    them all, superseding the earlier ones (``write_pick_batches``)."""
    batches = [
        PickBatch(
            model.version.system_id,
            model.version.version,
            model.alias,
            picks_of_rows(rows, model.loaded.calibration.ev, settings),
            True,
        )
        for model, rows in stored
    ]
    with transaction(con):
        written = write_pick_batches(con, day, batches, within=True)
    return {f"{b.system_id}@{b.alias}": w for b, w in zip(batches, written, strict=True)}


@contextmanager
def _without_picks() -> Iterator[None]:
    """``predict`` as it was before picks: no selection, nothing written (A/B only)."""
    saved = daily_module.picks_of_rows, daily_module.write_pick_batches
    daily_module.picks_of_rows = lambda *_a, **_k: empty_picks()  # type: ignore[assignment]
    daily_module.write_pick_batches = lambda _c, day, batches, within=False: [  # type: ignore[assignment]
        BatchWrite(b.system_id, b.model_version, b.alias, day, 0, 0, True) for b in batches
    ]
    try:
        yield
    finally:
        daily_module.picks_of_rows, daily_module.write_pick_batches = saved


def _drop_day_files(folder: Path, settings: Settings) -> list[Path]:
    """The recorded day's files, written into ``folder`` by the live writers."""
    from tests.e2e.recorded_day import DAY, replay_transports

    from nbaprops.ingest import live
    from nbaprops.pipeline.fetch import _team_codes

    replay = replay_transports()
    since = DAY - timedelta(days=2)
    paths = [
        f.path
        for f in live.fetch_gamelog_files(
            "2023-24",
            "regular",
            folder,
            replay.nba_stats,
            http=settings.http,
            since=since,
            until=DAY,
        )
    ]
    paths.append(
        live.fetch_game_lines(
            DAY, folder, "recorded", _team_codes()[0], replay.odds, http=settings.http
        ).path
    )
    paths.append(
        live.fetch_odds_props(DAY, folder, "recorded", replay.odds, http=settings.http).path
    )
    return paths


def run_new_day(data: Path) -> dict[str, Any]:
    """``run_daily`` of the recorded day on a warehouse that needs only that day."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.e2e.recorded_day
    from tests.e2e import recorded_day

    from nbaprops.pipeline import fetch as fetch_module
    from nbaprops.pipeline.daily import run_daily

    out: dict[str, Any] = {"date": str(recorded_day.DAY), "floor_s": FLOOR_NEW_DAY_S}
    with tempfile.TemporaryDirectory() as tmp:
        built = recorded_day.build_morning(data, Path(tmp) / "setup")
        morning = built.settings
        out["setup_s"] = {k: round(v, 1) for k, v in built.timings.items()}
        saved = fetch_module.default_transports
        fetch_module.default_transports = lambda _s: recorded_day.replay_transports()
        try:
            for variant in ("files", "live"):
                root = Path(tmp) / variant
                shutil.copytree(morning.paths.data_dir, root / "data")
                shutil.copytree(morning.paths.resolved_live_dir(), root / "live")
                db = root / "nbaprops.duckdb"
                shutil.copy(morning.paths.db, db)
                # a registered model's artefacts are found beside the warehouse
                shutil.copytree(morning.paths.resolved_artifacts_dir(), root / "artifacts")
                settings = Settings(
                    data_dir=root / "data",
                    db=db,
                    runs_dir=morning.paths.runs_dir,
                    archive_dir=root / "archive",
                    live_dir=root / "live",
                    nba_api_delay_s=0,
                )
                live = variant == "live"
                if not live:
                    _drop_day_files(settings.paths.data_dir, settings)
                phases: dict[str, float] = {}
                with connect(db) as con:
                    started = time.perf_counter()
                    result = run_daily(
                        con,
                        settings,
                        recorded_day.DAY,
                        live=live,
                        on_phase=lambda r, p=phases: p.__setitem__(r["phase"], r["seconds"]),
                    )
                    seconds = time.perf_counter() - started
                    rows = con.execute(
                        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? "
                        "AND is_active",
                        [recorded_day.DAY],
                    ).fetchone()
                out[variant] = {
                    "seconds": round(seconds, 2),
                    "phases_s": phases,
                    "graded": sum(g.graded for g in result.graded),
                    "predicted": 0 if rows is None else int(rows[0]),
                    "verdict": "PASS" if seconds <= FLOOR_NEW_DAY_S else "FAIL",
                }
        finally:
            fetch_module.default_transports = saved
    return out


def run(
    db: Path,
    train_end: date,
    day: date,
    first: date,
    repeats: int,
    *,
    ev_window: tuple[date, date],
    ev_systems: list[str],
    skip_backfill: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.duckdb"
        shutil.copy(db, copy)
        settings = Settings(db=copy, runs_dir=Path(tmp) / "runs")
        with connect(copy) as con:
            migrate(con)
            ev, ev_setup = _fit_ev(con, settings, *ev_window, ev_systems)
            calibration = replace(Calibration.identity(), ev=ev)
            fit_s = _register_all(con, settings, train_end, calibration)
            predict_job(con, settings, day)  # first call warms caches (not timed)
            times, bare_times = [], []
            for _ in range(repeats):  # interleaved: with picks, then without (A/B)
                started = time.perf_counter()
                result = predict_job(con, settings, day, force=True)
                times.append(time.perf_counter() - started)
                with _without_picks():
                    started = time.perf_counter()
                    predict_job(con, settings, day, force=True)
                    bare_times.append(time.perf_counter() - started)
            predict_job(con, settings, day, force=True)  # leave the picks in place
            models = aliased_models(con)
            stored = [
                (m, active_predictions(con, day, system_id=m.version.system_id, alias=m.alias))
                for m in models
            ]
            picks_times = []
            for _ in range(repeats):
                started = time.perf_counter()
                picks = _pick_pass(con, settings, day, stored)
                picks_times.append(time.perf_counter() - started)
            statuses = con.execute(
                "SELECT status, count(*) FROM predictions.pick WHERE game_date = ? "
                "AND is_active GROUP BY ALL",
                [day],
            ).fetchall()
            scored = result.scored
            ev_times = _ev_calibrate_s(scored, ev, max(repeats, 25))
            backfill_out: dict[str, Any] | None = None
            if not skip_backfill:
                dates = eval_game_dates(con, first, first + timedelta(days=120))[:80]
                started = time.perf_counter()
                backfill = backfill_with_aliases(con, settings, dates[0], dates[-1])
                backfill_s = time.perf_counter() - started
                backfill_out = {
                    "first": str(dates[0]),
                    "last": str(dates[-1]),
                    "dates": backfill.dates,
                    "rows": backfill.rows_written,
                    "picks": backfill.picks_written,
                    "seconds": round(backfill_s, 1),
                    "per_date_s": round(backfill_s / max(backfill.dates, 1), 3),
                    "floor_s": FLOOR_80_DATES_S,
                }
    predict_s = statistics.median(times)
    picks_s = statistics.median(picks_times)
    ev_s = statistics.median(ev_times)
    # predict now selects and writes the picks itself: the added cost is measured apart
    # and set against predict without it
    added_pct = 100 * (picks_s + ev_s) / (predict_s - picks_s - ev_s)
    bare_s = statistics.median(bare_times)
    ab_pct = 100 * (predict_s - bare_s) / bare_s
    return {
        "setup_fit_s": {k: round(v, 2) for k, v in fit_s.items()},
        "setup_ev_calibration": ev_setup,
        "one_date": {
            "date": str(day),
            "systems": len(result.writes),
            "rows": sum(w.written for w in result.writes),
            "median_s": round(predict_s, 3),
            "worst_s": round(max(times), 3),
            "floor_s": FLOOR_ONE_DATE_S,
        },
        "picks": {
            "date": str(day),
            "models": len(picks),
            "picks": sum(w.written for w in picks.values()),
            "by_status": {str(k): int(v) for k, v in sorted(statuses)},
            "median_s": round(picks_s, 4),
            "worst_s": round(max(picks_times), 4),
        },
        "ev_calibrate": {
            "rows": len(scored),
            "calls": int(scored["side"].isin(["OVER", "UNDER"]).sum()),
            "repeats": len(ev_times),
            "median_ms": round(1000 * ev_s, 3),
            "worst_ms": round(1000 * max(ev_times), 3),
        },
        "added_cost": {
            "picks_s": round(picks_s, 4),
            "ev_calibrate_s": round(ev_s, 5),
            "predict_s": round(predict_s, 3),
            "pct_of_predict": round(added_pct, 2),
            "predict_without_picks_s": round(bare_s, 3),
            "ab_pct": round(ab_pct, 2),
            "ab_verdict": "PASS" if ab_pct <= FLOOR_PICKS_ADDED_PCT else "FAIL",
            "floor_pct": FLOOR_PICKS_ADDED_PCT,
            "verdict": "PASS" if added_pct <= FLOOR_PICKS_ADDED_PCT else "FAIL",
        },
        "backfill": backfill_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--train-end", type=date.fromisoformat, default=date(2023, 12, 31))
    parser.add_argument("--date", type=date.fromisoformat, default=date(2024, 4, 12))
    parser.add_argument("--first", type=date.fromisoformat, default=date(2024, 1, 2))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ev-start", type=date.fromisoformat, default=date(2024, 3, 4))
    parser.add_argument("--ev-end", type=date.fromisoformat, default=date(2024, 4, 7))
    parser.add_argument(
        "--ev-systems",
        default=",".join(EV_SYSTEMS),
        help="systems whose backtested calls the EV calibration is fitted on (comma list)",
    )
    parser.add_argument(
        "--skip-backfill", action="store_true", help="leave out the 80-date backfill"
    )
    parser.add_argument("--skip-new-day", action="store_true", help="leave out `run daily`")
    parser.add_argument(
        "--new-day-only", action="store_true", help="only `run daily` of one new day"
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="the real data folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = args.data_dir or get_settings().paths.data_dir
    new_day = None if args.skip_new_day else run_new_day(data)
    if args.new_day_only:
        _report_new_day(new_day, as_json=args.json)
        return
    db = args.db or get_settings().paths.db
    out = run(
        db,
        args.train_end,
        args.date,
        args.first,
        args.repeats,
        ev_window=(args.ev_start, args.ev_end),
        ev_systems=[s.strip() for s in args.ev_systems.split(",") if s.strip()],
        skip_backfill=args.skip_backfill,
    )
    out["new_day"] = new_day
    if args.json:
        print(json.dumps(out, indent=2))
        return
    _report_new_day(new_day, as_json=False)
    print(f"setup fits (s): {out['setup_fit_s']}")
    evs = out["setup_ev_calibration"]
    print(
        f"setup EV calibration: backtest of {', '.join(evs['systems'])} "
        f"{evs['first']}..{evs['last']} ({evs['rows']:,} rows, {evs['backtest_s']:.1f} s): "
        f"{evs['graded_calls']:,} graded calls in {evs['cells']} cells "
        f"({evs['record_cells']} record cells)"
    )
    one = out["one_date"]
    print(
        f"predict {one['date']} with {one['systems']} systems ({one['rows']:,} rows): "
        f"median {one['median_s']:.2f} s, worst {one['worst_s']:.2f} s "
        f"(floor {one['floor_s']:g} s)"
    )
    pk = out["picks"]
    statuses = ", ".join(f"{v} {k}" for k, v in pk["by_status"].items()) or "none"
    print(
        f"picks {pk['date']} for {pk['models']} models ({pk['picks']:,} picks: {statuses}): "
        f"median {1000 * pk['median_s']:.1f} ms, worst {1000 * pk['worst_s']:.1f} ms"
    )
    evc = out["ev_calibrate"]
    print(
        f"EV calibrate {evc['rows']:,} scored rows ({evc['calls']:,} calls): "
        f"median {evc['median_ms']:.2f} ms, worst {evc['worst_ms']:.2f} ms "
        f"over {evc['repeats']} passes"
    )
    add = out["added_cost"]
    print(
        f"added by EV calibration + picks: ({1000 * add['picks_s']:.1f} + "
        f"{1000 * add['ev_calibrate_s']:.2f} ms) / predict without them "
        f"{add['predict_s'] - add['picks_s'] - add['ev_calibrate_s']:.2f} s = "
        f"{add['pct_of_predict']:.1f}% [{add['verdict']} <= {add['floor_pct']:g}%]"
    )
    print(
        f"A/B: predict with picks {add['predict_s']:.3f} s, without (picks switched off) "
        f"{add['predict_without_picks_s']:.3f} s: +{add['ab_pct']:.1f}% "
        f"[{add['ab_verdict']} <= {add['floor_pct']:g}%]"
    )
    bf = out["backfill"]
    if bf is None:
        print("backfill skipped (--skip-backfill)")
        return
    print(
        f"backfill {bf['dates']} dates {bf['first']}..{bf['last']} ({bf['rows']:,} rows): "
        f"{bf['seconds']:.1f} s, {bf['per_date_s']:.2f} s per date (floor {bf['floor_s']:g} s)"
    )
    print(f"  (with {bf['picks']:,} picks selected and written on those dates)")


def _report_new_day(nd: dict[str, Any] | None, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"new_day": nd}, indent=2))
        return
    if nd is None:
        print("run daily of one new day skipped (--skip-new-day)")
        return
    setup = nd["setup_s"]
    print(
        f"run daily {nd['date']} on a warehouse one day behind (setup, not timed: build "
        f"{setup['build_s']:.1f} s, bootstrap {setup['bootstrap_s']:.1f} s)"
    )
    for variant, how in (("files", "the day's files dropped in"), ("live", "--live, replayed")):
        r = nd[variant]
        phases = ", ".join(f"{k} {v:.1f}" for k, v in r["phases_s"].items() if v is not None)
        print(
            f"  {how}: {r['seconds']:.1f} s [{r['verdict']} <= {nd['floor_s']:g} s]; "
            f"{r['graded']} graded, {r['predicted']} predicted; phases (s): {phases}"
        )


if __name__ == "__main__":
    main()
