"""The API tests' shared warehouse: built once for the whole package (API, schema
fuzzing, browser), from the real data."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.snapshot import snapshot_path
from tests.api.served import PICK_SETTINGS, prepare
from tests.conftest import copy_warehouse


@pytest.fixture(scope="package")
def served(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the real warehouse: two fast systems backfilled over four April days
    (graded), made champion and challenger, then one real daily run for DAY (which
    publishes the snapshot the API reads)."""
    root = tmp_path_factory.mktemp("api")
    shutil.copy(warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs", **PICK_SETTINGS)
    with connect(settings.paths.db) as con:
        result = prepare(con, settings)
    assert result.snapshot == snapshot_path(settings.paths.db).name
    assert len(result.picks) > 0
    return settings


@pytest.fixture(scope="package")
def client(served: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(served)) as c:
        yield c


def copy_served(served: Settings, root: Path, **extra: Any) -> Settings:
    """A private copy of the served warehouse and its snapshot, for tests that write."""
    copy_warehouse(served.paths.db, root / served.paths.db.name)
    shutil.copy(snapshot_path(served.paths.db), root / snapshot_path(served.paths.db).name)
    return Settings(
        db=root / served.paths.db.name, runs_dir=root / "runs", **{**PICK_SETTINGS, **extra}
    )
