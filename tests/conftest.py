"""Shared fixtures: no network, the real data folder, one real warehouse per session."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.jobs import ingest_job
from nbaprops.warehouse.migrate import migrate

REPO = Path(__file__).resolve().parents[1]

_real_connect = socket.socket.connect


def copy_warehouse(src: Path, dst: Path) -> Path:
    """Copy a warehouse file to ``dst`` with its ``artifacts/`` (its registered models),
    as a user moves a warehouse folder: artefacts are found beside the warehouse."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    artifacts = src.parent / "artifacts"
    if artifacts.is_dir() and not (dst.parent / "artifacts").exists():
        shutil.copytree(artifacts, dst.parent / "artifacts")
    return dst


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (
        host in ("localhost", "::1") or host.startswith("127.") or self.family == socket.AF_UNIX
    ):
        return _real_connect(self, address)
    raise RuntimeError(f"tests must not touch the network (tried {address!r})")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


def real_data_dir() -> Path:
    configured = os.environ.get("NBAPROPS_DATA_DIR")
    path = Path(configured) if configured else REPO.parent / "shared" / "data"
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = real_data_dir()
    if not (path / "nba_api").is_dir():
        pytest.fail(
            f"real data folder not found at {path}: set NBAPROPS_DATA_DIR to the shared data "
            "folder (tests on real data are required, never skipped)"
        )
    return path


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A warehouse built from all of the real data, once per test session."""
    root = tmp_path_factory.mktemp("warehouse")
    settings = Settings(data_dir=data_dir, db=root / "nbaprops.duckdb")
    with connect(settings.paths.db) as con:
        result = ingest_job(con, settings)
    assert not result.report.failures, result.report.failures
    return settings.paths.db


@pytest.fixture
def real_con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(warehouse, read_only=True) as con:
        yield con


@pytest.fixture
def empty_con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(tmp_path / "w.duckdb") as con:
        migrate(con)
        yield con
