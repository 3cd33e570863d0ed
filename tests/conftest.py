"""Shared fixtures: no network, the real data folder, one real warehouse per session.

Under pytest-xdist (``scripts/test`` runs ``-n 2 --dist loadfile``) the real warehouse is
still built once per session: the first worker to need it builds it, under a file lock,
in the session's temporary folder that every worker shares; each worker then works on its
own copy (a file copy, about a second). The ``loadfile`` scheduler keeps every module on
one worker (its module-scoped fixtures are built once) and the API package whole (its
package-scoped warehouse is built once)."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.models.registry import resolve_artefact_dir, warehouse_artifacts_root
from nbaprops.pipeline.daily import bootstrap_champion, run_daily
from nbaprops.pipeline.jobs import Progress, ingest_job
from nbaprops.warehouse.migrate import migrate

REPO = Path(__file__).resolve().parents[1]

# pytester runs an inner pytest session (the suite's own temporary-folder hygiene)
pytest_plugins = ["pytester"]

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


def xdist_worker() -> str | None:
    """This process's pytest-xdist worker id (``gw0``, ...), or None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if missing), held for the block."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """The folder ``name`` that ``build`` filled, once per test session: under xdist in the
    session's temporary folder all workers share, built by the first worker to ask while
    the others wait on a file lock (a build that failed is retried, and fails again)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if xdist_worker() else base
    folder = shared / f"built-{name}"
    with _locked(shared / f"built-{name}.lock"):
        done = shared / f"built-{name}.done"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def _ingest_all(data_dir: Path, db: Path) -> None:
    settings = Settings(data_dir=data_dir, db=db)
    with connect(settings.paths.db) as con:
        result = ingest_job(con, settings)
    assert not result.report.failures, result.report.failures


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A warehouse built from all of the real data, once per test session (this worker's
    own copy of it under xdist)."""
    built = built_once(
        tmp_path_factory, "warehouse", lambda root: _ingest_all(data_dir, root / "nbaprops.duckdb")
    )
    if not xdist_worker():
        return built / "nbaprops.duckdb"
    root = tmp_path_factory.mktemp("warehouse")
    return copy_warehouse(built / "nbaprops.duckdb", root / "nbaprops.duckdb")


# The day the shared champion warehouse's champion was bootstrapped before: 15 games,
# 107 lined players (the daily, freshness and portability modules serve it).
CHAMPION_DAY = date(2024, 4, 12)
BOOTSTRAPPED = "bootstrapped.txt"  # beside the champion warehouse: bootstrap's message


def _bootstrap(warehouse: Path, root: Path, day: date) -> None:
    db = copy_warehouse(warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=db, runs_dir=root / "runs")
    with connect(settings.paths.db) as con:
        migrate(con)
        message = bootstrap_champion(con, settings, day, progress=Progress())
    (root / BOOTSTRAPPED).write_text(message)


@pytest.fixture(scope="session")
def champion_warehouse(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real warehouse whose default champion was bootstrapped before CHAMPION_DAY
    (``bootstrap_champion``, as ``run daily`` does on a warehouse without models), its
    artefacts in ``artifacts/`` beside it: trained once per session (shared by the xdist
    workers like the warehouse); a module copies the folder with ``copy_warehouse`` and
    reads the bootstrap's message with ``bootstrapped``."""
    built = built_once(
        tmp_path_factory,
        "champion-warehouse",
        lambda root: _bootstrap(warehouse, root, CHAMPION_DAY),
    )
    return built / "nbaprops.duckdb"


def bootstrapped(champion: Path) -> str:
    """The message ``bootstrap_champion`` returned when ``champion`` was built (the
    daily run's ``bootstrapped``, one line per market, for ``market_champions_warehouse``)."""
    return (champion.parent / BOOTSTRAPPED).read_text()


# The markets that ``market_champions_warehouse``'s daily run of CHAMPION_DAY was asked
# for: neither had a model, so each got its own default champion first.
MARKET_CHAMPIONS = ("rebounds", "threes")


def _run_markets_daily(warehouse: Path, root: Path, day: date) -> None:
    db = copy_warehouse(warehouse, root / "nbaprops.duckdb")
    settings = Settings(db=db, runs_dir=root / "runs")
    with connect(settings.paths.db) as con:
        migrate(con)
        result = run_daily(con, settings, day, skip_ingest=True, markets=MARKET_CHAMPIONS)
    assert result.bootstrapped is not None
    (root / BOOTSTRAPPED).write_text(result.bootstrapped)


@pytest.fixture(scope="session")
def market_champions_warehouse(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real warehouse after one ``run daily --markets rebounds,threes`` of
    CHAMPION_DAY (no ingest): a default champion bootstrapped per market (minutes of
    training, done once per session and shared by the xdist workers), then both markets
    predicted. A module copies the folder with ``copy_warehouse`` (or registers one
    market's champion in its own warehouse with ``carry_champion``) and reads the run's
    bootstrap messages with ``bootstrapped``."""
    built = built_once(
        tmp_path_factory,
        "market-champions-warehouse",
        lambda root: _run_markets_daily(warehouse, root, CHAMPION_DAY),
    )
    return built / "nbaprops.duckdb"


# A bootstrap's registry rows: its experiment, the version it registered (same id).
_EXPERIMENT_TABLES = (
    "experiments.run",
    "experiments.run_event",
    "experiments.run_metric",
    "experiments.prediction",
    "models.version",
)


def carry_champion(src: Path, con: duckdb.DuckDBPyConnection, market: str) -> str:
    """Register in ``con``'s warehouse the ``market`` champion of the warehouse ``src``
    as its bootstrap left it (``src`` read only): the experiment that trained it, the
    version it registered, the champion alias and its events, the artefacts (copied
    under ``con``'s artefact root). ``con`` must have no version of that system yet
    (a version number is per system). Returns the version's ``system@version``: the
    test's warehouse then serves the champion the session trained once."""
    con.execute(f"ATTACH '{src}' AS carried (READ_ONLY)")
    try:
        ((system, version, experiment, folder),) = con.execute(
            "SELECT a.system_id, a.version, v.experiment_id, v.artefact_dir "
            "FROM carried.models.alias a JOIN carried.models.version v USING (system_id, version) "
            "WHERE a.market = ? AND a.alias = 'champion'",
            [market],
        ).fetchall()
        ((clash,),) = con.execute(
            "SELECT count(*) FROM models.version WHERE system_id = ?", [system]
        ).fetchall()
        assert clash == 0, f"{system} already has versions here"
        assert not Path(folder).is_absolute(), folder  # under its warehouse's artifacts/
        for table in _EXPERIMENT_TABLES:
            con.execute(
                f"INSERT INTO {table} SELECT * FROM carried.{table} WHERE experiment_id = ?",
                [experiment],
            )
        for table in ("models.alias", "models.alias_event"):
            con.execute(
                f"INSERT INTO {table} SELECT * FROM carried.{table} "
                "WHERE system_id = ? AND market = ? AND version = ?",
                [system, market, version],
            )
    finally:
        con.execute("DETACH carried")
    source = resolve_artefact_dir(folder, src.parent / "artifacts")
    target = resolve_artefact_dir(folder, warehouse_artifacts_root(con))
    shutil.copytree(source, target)
    return f"{system}@{version}"


@pytest.fixture
def real_con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(warehouse, read_only=True) as con:
        yield con


@pytest.fixture
def empty_con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(tmp_path / "w.duckdb") as con:
        migrate(con)
        yield con


# The longest modules (minutes each on two cores), longest first, so that the two xdist
# workers (each taking the next module in collection order when it is free) finish
# together: a long module started last would run alone. The first is the recorded day,
# which builds its own warehouse: it runs while the other worker builds the shared one.
# Every other module follows in its usual order (the real-data ones, then the unit ones).
# Listed: only modules that leave the worker's shared warehouse as they found it (a copy
# or read-only) or never open it; the ones that write to it (``nbaprops run`` in
# tests/e2e/test_cli_main_job.py) keep their place, after the real-data modules.
LONGEST_FIRST = (
    "tests/e2e/test_live_day.py",
    "tests/api/",
    "tests/leakage/test_point_in_time.py",
    "tests/data/test_experiment_registry_real.py",
    "tests/data/test_daily_real.py",
    "tests/data/test_markets_daily_real.py",
    "tests/data/test_ops_hardening_real.py",
    "tests/leakage/test_market_point_in_time.py",
    "tests/unit/test_ingest_fuzz_bands.py",
    "tests/data/test_market_real.py",
    "tests/data/test_availability_gate_real.py",
    "tests/data/test_availability_ingest_real.py",
    "tests/data/test_quote_sanity_real.py",
    "tests/data/test_markets_real.py",
    "tests/parity/test_training_serving_parity.py",
    "tests/unit/test_ingest_fuzz.py",
    "tests/leakage/test_availability_point_in_time.py",
    "tests/data/test_picks_real.py",
)


def _rank(nodeid: str) -> int:
    for i, prefix in enumerate(LONGEST_FIRST):
        if nodeid.startswith(prefix):
            return i
    return len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (``LONGEST_FIRST``), the rest in collection order; a
    module's tests keep their order and stay together (a stable sort)."""
    items.sort(key=lambda item: _rank(item.nodeid))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with the API package kept on one worker: its warehouse (a
    package-scoped fixture, about half a minute to prepare) is then prepared once."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileApiWhole(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/api/"):
                return "tests/api"
            return super()._split_scope(nodeid)

    return LoadFileApiWhole(config, log)
