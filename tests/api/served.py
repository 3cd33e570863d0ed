"""The warehouse the API is tested, fuzzed and benchmarked on, built one way: the real
data ingested, two fast systems backfilled walk-forward over four April days (graded,
after two weeks of warm-up), made champion and challenger, then one real daily run
(which publishes the snapshot the API reads), all under a permissive picks policy so
there are bets to read. Used by the API tests' fixture, ``scripts/fuzz_api.py`` and
``benchmarks/bench_api.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.spec import build_spec
from nbaprops.pipeline.backfill import backfill_walk_forward
from nbaprops.pipeline.daily import DailyResult, run_daily
from nbaprops.pipeline.jobs import ingest_job
from nbaprops.warehouse.migrate import migrate

FIRST, LAST = date(2024, 4, 8), date(2024, 4, 11)  # backfilled, graded
DAY = date(2024, 4, 12)  # the daily run: 15 games with real sportsbook lines
SYSTEMS = {"season_average": "champion", "moving_average": "challenger"}
WARMUP_DAYS = 14  # earlier graded calls the EV calibration and the records learn from
# A permissive but real policy, so the ledger has bets to show: any call whose calibrated
# EV is positive, however thin its record (the defaults stake nothing on this data).
PICK_SETTINGS: dict[str, object] = {"ev_margin": 0.0, "picks_min_record_bets": 0}
# ... as the environment of a CLI command run on the served warehouse
PICK_ENV = {f"NBAPROPS_{k.upper()}": str(v) for k, v in PICK_SETTINGS.items()}


def prepare(
    con: duckdb.DuckDBPyConnection, settings: Settings, name: str = "api-fixture"
) -> DailyResult:
    """On an ingested warehouse: backfill, aliases, the daily run of DAY."""
    migrate(con)
    spec = build_spec(
        {
            "name": name,
            "systems": list(SYSTEMS),
            "evaluation": {"start": FIRST, "end": LAST},
            "retrain_every": 7,
            "warmup_days": WARMUP_DAYS,
            "ev_margin": settings.betting.ev_margin,
        }
    )
    backfill_walk_forward(con, spec, settings)
    for system, alias in SYSTEMS.items():
        con.execute(
            # columns by name: the alias is of the points market (migration 020)
            "INSERT INTO models.alias (system_id, market, alias, version, set_at) "
            "SELECT system_id, 'points', ?, max(version), now() "
            "FROM models.version WHERE system_id = ? GROUP BY ALL",
            [alias, system],
        )
    return run_daily(con, settings, DAY, skip_ingest=True)


def build(
    root: Path, data_dir: Path, name: str = "api", log: Callable[[str], None] = lambda _: None
) -> Settings:
    """Ingest ``data_dir`` into ``root/nbaprops.duckdb`` and ``prepare`` it."""
    settings = Settings(
        data_dir=data_dir, db=root / "nbaprops.duckdb", runs_dir=root / "runs", **PICK_SETTINGS
    )
    log(f"building a warehouse in {root} from {data_dir} ...")
    with connect(settings.paths.db) as con:
        result = ingest_job(con, settings)
        if result.report.failures:
            raise RuntimeError(f"ingest failed: {result.report.failures}")
        log("  ingested; backfilling and running the daily job ...")
        prepare(con, settings, name)
    return settings
