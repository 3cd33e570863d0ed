"""Ledger speed: ``nbaprops bets`` over a whole backfilled season, and the API's ``/bets``.

Setup (not timed; its seconds are reported): a scratch copy of the warehouse (``--db``;
default: a warehouse ingested from the real
data, NBAPROPS_DATA_DIR, with ``ingest_job``) is backfilled walk-forward over a season
of lines (``--start``..``--end``, default spring 2024: 2024-03-01..2024-05-24, retrain
every ``--retrain-every`` 7 days, ``--warmup-days`` 21) with fast systems (``--systems``,
default season_average and moving_average), graded fold by fold and with picks written
per date, under a permissive policy so the ledger is long: ``ev_margin`` 0 (settings and
spec) and ``picks_min_record_bets`` 0. Then the snapshot the API reads is published and
the writer closed. Measured, each the median (and worst) of ``--repeats`` (default 5):

- the query: ``nbaprops.read.picks.bets(con, start, end, None, max_days=10**6,
  unit_share=...)`` on a read-only connection (the function the CLI and ``/bets``
  share), and its SQL part ``bet_rows`` alone;
- the CLI as a user runs it: ``nbaprops bets --start S --end E --db DB --json`` as a
  subprocess (wall time, Python start-up and imports included), for every system and
  with ``--system season_average`` (the first of ``--systems``); the same command run
  in-process (typer's CliRunner: no start-up); and ``nbaprops --help`` (start-up alone);
- ``GET /bets?start=S&end=E`` through the API app (``create_app`` over the snapshot,
  FastAPI's TestClient: routing, query, validation, JSON; no network); the first
  request after start is reported apart.

Floor (2-core machine): the whole season's ledger answers in <= 1 s, from the CLI (wall,
start-up included) and from ``/bets``.
``--keep DIR`` keeps the backfilled warehouse (and its snapshot) in DIR; ``--prepared``
takes ``--db`` as such a warehouse as it is (nothing is copied or written; no setup).
Run: python benchmarks/bench_bets.py [--db PATH] [--systems a,b] [--start D] [--end D]
     [--retrain-every 7] [--repeats 5] [--keep DIR | --prepared] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings, get_settings

FLOOR_BETS_S = 1.0

SYSTEMS = ("season_average", "moving_average")
# A permissive but real policy, so the ledger is long (as tests/api/served.py).
PICK_SETTINGS: dict[str, Any] = {"ev_margin": 0.0, "picks_min_record_bets": 0}
PICK_ENV = {f"NBAPROPS_{k.upper()}": str(v) for k, v in PICK_SETTINGS.items()}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Seconds of each of ``repeats`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return times, out


def figures(times: list[float], floor: float | None = FLOOR_BETS_S) -> dict[str, Any]:
    median = statistics.median(times)
    out: dict[str, Any] = {
        "median_s": round(median, 4),
        "worst_s": round(max(times), 4),
        "repeats": len(times),
    }
    if floor is not None:
        out["floor_s"] = floor
        out["verdict"] = "PASS" if median <= floor else "FAIL"
    return out


# --- setup (not timed) ----------------------------------------------------------------


def ingest(path: Path) -> None:
    from nbaprops.pipeline.jobs import ingest_job

    settings = Settings(data_dir=get_settings().paths.data_dir, db=path)
    with connect(path) as con:
        result = ingest_job(con, settings)
        if result.report.failures:
            raise SystemExit(f"ingest failed: {result.report.failures}")


def backfill(db: Path, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Backfill the season walk-forward on ``db`` (writable), then publish the snapshot."""
    from nbaprops.experiments.spec import build_spec
    from nbaprops.pipeline.backfill import backfill_walk_forward
    from nbaprops.pipeline.snapshot import publish_snapshot
    from nbaprops.warehouse.migrate import migrate

    spec = build_spec(
        {
            "name": "bench-bets",
            "systems": args.systems,
            "evaluation": {"start": args.start, "end": args.end},
            "retrain_every": args.retrain_every,
            "warmup_days": args.warmup_days,
            "ev_margin": settings.betting.ev_margin,
        }
    )
    with connect(db) as con:
        migrate(con)
        started = time.perf_counter()
        result = backfill_walk_forward(con, spec, settings, force=True)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        snapshot = publish_snapshot(con)
        publish_s = time.perf_counter() - started
    if snapshot is None:
        raise SystemExit("no snapshot was published")
    return {
        "backfill_s": round(seconds, 1),
        "publish_s": round(publish_s, 2),
        "dates": result.dates,
        "rows": result.rows_written,
        "picks": result.picks_written,
        "graded_dates": result.graded_dates,
        "versions": result.versions_registered,
    }


@contextlib.contextmanager
def warehouse(args: argparse.Namespace) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A backfilled warehouse with its snapshot, and how its setup went."""
    if args.prepared:
        if args.db is None:
            raise SystemExit("--prepared needs --db")
        yield args.db, {"prepared": True}
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        db = root / "bench-bets.duckdb"
        setup: dict[str, Any] = {"prepared": False}
        source = args.db
        started = time.perf_counter()
        if source is not None:
            log(f"copying {source} to {db} ...")
            shutil.copy(source, db)  # never write the given warehouse
            setup["source"] = str(source)
            setup["copy_s"] = round(time.perf_counter() - started, 1)
        else:
            log(f"ingesting {get_settings().paths.data_dir} into {db} ...")
            ingest(db)
            setup["source"] = f"ingested {get_settings().paths.data_dir}"
            setup["ingest_s"] = round(time.perf_counter() - started, 1)
        settings = bench_settings(db, root)
        log(
            f"backfilling {', '.join(args.systems)} over {args.start}..{args.end} "
            f"(retrain every {args.retrain_every} days) ..."
        )
        setup.update(backfill(db, settings, args))
        setup["setup_s"] = round(time.perf_counter() - started, 1)
        log(f"setup done in {setup['setup_s']:.0f} s")
        yield db, setup


def bench_settings(db: Path, root: Path | None = None) -> Settings:
    root = root or db.parent
    return Settings(db=db, runs_dir=root / "runs", api_token=None, **PICK_SETTINGS)


# --- measurements ---------------------------------------------------------------------


def measure(db: Path, args: argparse.Namespace) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from nbaprops.api.app import create_app
    from nbaprops.cli.main import app as cli_app
    from nbaprops.grading.report import bet_rows
    from nbaprops.read.picks import bets

    settings = bench_settings(db)
    start, end = args.start, args.end
    one = args.systems[0]
    out: dict[str, Any] = {"warehouse": db.name, "start": str(start), "end": str(end)}

    # (1) the query function, on a read-only connection
    with connect(db, read_only=True) as con:
        bets(con, start, end, None, max_days=10**6, unit_share=settings.betting.unit_share)  # warm
        query_times, payload = timed(
            lambda: bets(
                con, start, end, None, max_days=10**6, unit_share=settings.betting.unit_share
            ),
            args.repeats,
        )
        rows_times, _ = timed(lambda: bet_rows(con, start, end), args.repeats)
    out["ledger"] = {
        "systems": len(payload["systems"]),
        "bets": sum(len(s["bets"]) for s in payload["systems"]),
        "graded": sum(s["summary"]["n_bets"] for s in payload["systems"]),
        "pending": sum(s["summary"]["pending"] for s in payload["systems"]),
        "dates": len({b["game_date"] for s in payload["systems"] for b in s["bets"]}),
        "by_system": {s["system"]: len(s["bets"]) for s in payload["systems"]},
        "json_bytes": len(json.dumps(payload, default=str)),
    }
    out["query"] = figures(query_times)
    out["query_bet_rows"] = figures(rows_times, None)

    # (2) the CLI: a subprocess as a user runs it, and in-process
    exe = Path(sys.executable).with_name("nbaprops")
    env = {**os.environ, **PICK_ENV}
    env.pop("NBAPROPS_API_TOKEN", None)
    cli_args = ["bets", "--start", str(start), "--end", str(end), "--db", str(db), "--json"]

    def run_cli(extra: list[str]) -> int:
        done = subprocess.run(
            [str(exe), *cli_args, *extra], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"nbaprops {' '.join(cli_args + extra)}: {done.stderr.strip()}")
        return sum(len(s["bets"]) for s in json.loads(done.stdout)["systems"])

    cli: dict[str, Any] = {"exe": str(exe)}
    for label, extra in (("all", []), (one, ["--system", one])):
        run_cli(extra)  # warm the file cache
        times, n = timed(lambda extra=extra: run_cli(extra), args.repeats)
        cli[label] = {**figures(times), "bets": n}
    help_times, _ = timed(
        lambda: subprocess.run([str(exe), "--help"], env=env, capture_output=True, check=True),
        args.repeats,
    )
    cli["startup"] = figures(help_times, None)
    runner = CliRunner()

    def in_process(extra: list[str]) -> None:
        res = runner.invoke(cli_app, [*cli_args, *extra], env=PICK_ENV)
        if res.exit_code != 0:
            raise SystemExit(f"in-process nbaprops bets: {res.output.strip()}")

    for label, extra in (("all", []), (one, ["--system", one])):
        in_process(extra)
        times, _ = timed(lambda extra=extra: in_process(extra), args.repeats)
        cli[f"{label}_in_process"] = figures(times)
    cli["system"] = one
    out["cli"] = cli

    # (3) /bets through the API app over the published snapshot
    url = f"/bets?start={start}&end={end}"
    with TestClient(create_app(settings)) as client:

        def get() -> int:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"GET {url}: {response.status_code} {response.text[:300]}")
            return len(response.content)

        started = time.perf_counter()
        nbytes = get()
        first_s = time.perf_counter() - started
        times, _ = timed(get, args.repeats)
    out["api"] = {**figures(times), "url": url, "first_s": round(first_s, 4), "bytes": nbytes}
    return out


def _line(label: str, f: dict[str, Any]) -> str:
    text = f"{label:<52} median {1000 * f['median_s']:8.1f} ms  worst {1000 * f['worst_s']:8.1f} ms"
    if "verdict" in f:
        text += f"  [{f['verdict']} <= {f['floor_s']:g} s]"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="warehouse to copy (or --prepared)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma list to backfill")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 5, 24))
    parser.add_argument("--retrain-every", type=int, default=7)
    parser.add_argument("--warmup-days", type=int, default=21)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="keep the backfill in this DIR")
    parser.add_argument(
        "--prepared", action="store_true", help="--db is already backfilled and published"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    with warehouse(args) as (db, setup):
        out = measure(db, args)
    out = {"setup": setup, **out}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    s = out["setup"]
    if s["prepared"]:
        print(f"warehouse {out['warehouse']} as given (--prepared): no setup")
    else:
        print(
            f"setup (not timed): {s['setup_s']:.0f} s from {s['source']} (backfill "
            f"{s['backfill_s']:.0f} s: {s['dates']} dates, {s['rows']:,} predictions, "
            f"{s['picks']:,} picks, {s['versions']} versions; snapshot {s['publish_s']:.1f} s)"
        )
    led = out["ledger"]
    print(
        f"ledger {out['start']}..{out['end']}: {led['bets']:,} bets ({led['graded']:,} graded, "
        f"{led['pending']} pending) on {led['dates']} dates from {led['systems']} systems "
        f"{led['by_system']}; {led['json_bytes']:,} bytes of JSON"
    )
    print(_line("read.picks.bets (read-only connection)", out["query"]))
    print(_line("  of which bet_rows (SQL)", out["query_bet_rows"]))
    cli = out["cli"]
    one = cli["system"]
    print(_line(f"nbaprops bets --json (subprocess, {cli['all']['bets']:,} bets)", cli["all"]))
    print(_line(f"nbaprops bets --system {one} ({cli[one]['bets']:,})", cli[one]))
    print(_line("nbaprops bets --json (in-process)", cli["all_in_process"]))
    print(_line(f"nbaprops bets --system {one} (in-process)", cli[f"{one}_in_process"]))
    print(_line("nbaprops --help (start-up alone)", cli["startup"]))
    api = out["api"]
    print(
        _line(f"GET /bets ({api['bytes']:,} bytes)", api)
        + f"  (first request {1000 * api['first_s']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
