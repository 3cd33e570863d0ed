"""The API tests' shared warehouse: built once for the whole package (API, schema
fuzzing, browser), from the real data."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.spec import build_spec
from nbaprops.pipeline.backfill import backfill_walk_forward
from nbaprops.pipeline.daily import run_daily
from nbaprops.pipeline.snapshot import snapshot_path
from nbaprops.warehouse.migrate import migrate

FIRST, LAST = date(2024, 4, 8), date(2024, 4, 11)  # backfilled, graded
DAY = date(2024, 4, 12)  # the daily run: 15 games with real sportsbook lines


@pytest.fixture(scope="package")
def served(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the real warehouse: two fast systems backfilled over four April days
    (graded), made champion and challenger, then one real daily run for DAY (which
    publishes the snapshot the API reads)."""
    root = tmp_path_factory.mktemp("api")
    shutil.copy(warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")
    spec = build_spec(
        {
            "name": "api-fixture",
            "systems": ["season_average", "moving_average"],
            "evaluation": {"start": FIRST, "end": LAST},
            "retrain_every": 7,
            "warmup_days": 0,
        }
    )
    with connect(settings.db) as con:
        migrate(con)
        backfill_walk_forward(con, spec, settings)
        for system, alias in (("season_average", "champion"), ("moving_average", "challenger")):
            con.execute(
                "INSERT INTO models.alias SELECT system_id, ?, max(version), now() "
                "FROM models.version WHERE system_id = ? GROUP BY ALL",
                [alias, system],
            )
        result = run_daily(con, settings, DAY, skip_ingest=True)
    assert result.snapshot == snapshot_path(settings.db).name
    assert len(result.picks) > 0
    return settings


@pytest.fixture(scope="package")
def client(served: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(served)) as c:
        yield c


def copy_served(served: Settings, root: Path, **extra: Any) -> Settings:
    """A private copy of the served warehouse and its snapshot, for tests that write."""
    for src in (served.db, snapshot_path(served.db)):
        shutil.copy(src, root / src.name)
    return Settings(db=root / served.db.name, runs_dir=root / "runs", **extra)
