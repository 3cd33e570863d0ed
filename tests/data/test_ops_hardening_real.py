"""Issue 22 on the real data: the daily job is never blocked by the API, and a killed
run's records do not mislead."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.pipeline.daily import PHASES
from nbaprops.pipeline.snapshot import snapshot_path
from tests.conftest import CHAMPION_DAY, copy_warehouse

DAY = date(2024, 4, 12)  # 15 games with real sportsbook lines
EXE = str(Path(sys.executable).with_name("nbaprops"))
runner = CliRunner()
# seconds a client waits between two requests: eight clients still ask at once, some
# ten requests a second in all, hundreds over the two runs (a request costs the server
# ~25 ms of CPU: clients in a tight loop took the CPU the runs need)
PAUSE = 0.5


def copy_of(warehouse: Path, root: Path) -> Path:
    db = root / "nbaprops.duckdb"
    shutil.copy(warehouse, db)
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_daily_cli(db: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "run", "daily", "--date", str(DAY), "--db", str(db), "--skip-ingest", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "NBAPROPS_RUNS_DIR": str(root / "runs")},
        timeout=600,
        check=False,
    )


def test_run_daily_never_fails_while_serve_answers_8_concurrent_clients(
    champion_warehouse: Path, tmp_path: Path
) -> None:
    """Two runs: the first publishes the snapshot the clients are then served, the second
    writes the warehouse and publishes again while the server holds that snapshot open
    (a third run would only repeat the second)."""
    # the session's champion warehouse (its champion bootstrapped before DAY): the two
    # runs predict, grade and publish beside the clients, with no bootstrap to wait for
    assert DAY == CHAMPION_DAY
    db = copy_warehouse(champion_warehouse, tmp_path / "nbaprops.duckdb")
    assert not snapshot_path(db).exists()  # the case that used to open the live file
    port = free_port()
    server = subprocess.Popen(
        [EXE, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    statuses: list[int] = []
    stop = threading.Event()

    def client() -> None:
        # eight clients at once, each pausing between requests (a tight loop only took
        # the CPU the runs need, it proved nothing more)
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                for url in ("/health", f"/picks?date={DAY}", f"/predictions?date={DAY}"):
                    statuses.append(http.get(url).status_code)
                    stop.wait(PAUSE)

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                first = httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, server.stderr
                time.sleep(0.2)
        assert first.status_code == 503
        assert "`nbaprops db publish`" in first.json()["detail"]
        clients = [threading.Thread(target=client) for _ in range(8)]
        for t in clients:
            t.start()
        try:
            jobs = [run_daily_cli(db, tmp_path) for _ in range(2)]
        finally:
            stop.set()
            for t in clients:
                t.join()
        health = httpx.get(f"{base}/health", timeout=30).json()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    for job in jobs:
        assert job.returncode == 0, job.stderr
        assert json.loads(job.stdout)["snapshot"] == snapshot_path(db).name
    assert len(statuses) > 50
    assert set(statuses) <= {200, 503}
    assert 200 in statuses  # the snapshot the first run published was served
    assert health["source"] == "snapshot"
    latest = [p for p in health["phases"] if p["run_date"] == str(DAY)]
    assert [(p["phase"], p["status"]) for p in latest] == [(p, "COMPLETE") for p in PHASES]
    assert {p["run_id"] for p in latest} == {json.loads(jobs[-1].stdout)["run_id"]}


def test_a_killed_daily_run_is_shown_as_one_run_then_abandoned_by_the_next(
    warehouse: Path, tmp_path: Path
) -> None:
    """Killed two seconds into its bootstrap (the phase after ``diagnose``, whose end
    ``--log-json`` announces): its experiment is recorded ``pending`` first thing, the
    training takes far longer. The next run bootstraps the champion in this process (the
    killed run is the process that matters; the rerun only has to notice it is gone)."""
    db = copy_of(warehouse, tmp_path)
    proc = subprocess.Popen(
        [EXE, "run", "daily", "--date", str(DAY), "--db", str(db), "--skip-ingest", "--log-json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NBAPROPS_RUNS_DIR": str(tmp_path / "runs")},
    )
    assert proc.stderr is not None
    while True:  # its phase records are written up to the bootstrap's start
        line = proc.stderr.readline()
        assert line, "the run ended before it could be killed"
        if line.startswith("{") and json.loads(line)["phase"] == "diagnose":
            assert json.loads(line)["state"] == "COMPLETE", line
            break
    time.sleep(2)  # into the bootstrap of the champion (its experiment recorded)
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be killed; kill it earlier")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    status = runner.invoke(app, ["status", "--db", str(db), "--json"])
    assert status.exit_code == 0, status.output
    shown = [p for p in json.loads(status.stdout)["phases"] if p["run_date"] == str(DAY)]
    assert len({p["run_id"] for p in shown}) == 1  # one run's phases, never a mix
    states = [p["status"] for p in shown]
    assert states.count("RUNNING") == 1
    assert shown[states.index("RUNNING")]["phase"] == "bootstrap"  # killed where it was meant
    assert states[states.index("RUNNING") + 1 :] == ["EXPECTED"] * (
        len(PHASES) - 1 - states.index("RUNNING")
    )

    rerun = ["run", "daily", "--date", str(DAY), "--db", str(db), "--skip-ingest", "--json"]
    job = runner.invoke(app, rerun, env={"NBAPROPS_RUNS_DIR": str(tmp_path / "runs")})
    assert job.exit_code == 0, job.output
    with connect(db, read_only=True) as con:
        dead = con.execute(
            "SELECT phase, status, error FROM pipeline.phase_run WHERE pid = ?", [proc.pid]
        ).fetchall()
        experiments = con.execute(
            "SELECT status, error FROM experiments.run WHERE list_contains(tags, 'bootstrap') "
            "ORDER BY created_at"
        ).fetchall()
    abandoned = [(p, e) for p, s, e in dead if s == "ABANDONED"]
    assert len(abandoned) == states.count("RUNNING") + states.count("EXPECTED")
    assert all(f"PID {proc.pid}" in e and "is gone" in e for _, e in abandoned)
    assert not [p for p, s, _ in dead if s in ("RUNNING", "EXPECTED")]
    if len(experiments) > 1:  # the killed run had started its bootstrap experiment
        assert experiments[0][0] == "abandoned"
        assert experiments[0][1].startswith("abandoned:")
    assert experiments[-1][0] in ("completed", "promoted")
    after = runner.invoke(app, ["status", "--db", str(db), "--json"])
    shown = [p for p in json.loads(after.stdout)["phases"] if p["run_date"] == str(DAY)]
    assert [(p["phase"], p["status"]) for p in shown] == [(p, "COMPLETE") for p in PHASES]
