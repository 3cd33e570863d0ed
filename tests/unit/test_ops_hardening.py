"""Issue 22: nothing blocks the daily job, no failure is silent.

Reads never open the live warehouse; every writing command publishes the API's
snapshot; a full disk is one ``error:`` line; a failed publish is a failed phase with an
alert; a run that cannot take the warehouse, or that is killed, leaves an honest record.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner, Result

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline import daily, snapshot
from nbaprops.pipeline.daily import (
    PHASES,
    DailyResult,
    PublishFailedError,
    run_daily,
    unstarted_runs,
    unstarted_runs_path,
)
from nbaprops.pipeline.snapshot import snapshot_path
from nbaprops.read.status import phase_history
from nbaprops.warehouse.migrate import migrate
from tests.holder import holding

runner = CliRunner()
DAY = date(2025, 1, 5)
NO_SPACE = "No space left on device"


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def one_error_line(result: Result, *fragments: str, exit_code: int = 1) -> str:
    text = result.output + result.stderr
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == exit_code, (result.exit_code, text)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A migrated, empty warehouse file without a snapshot."""
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        migrate(con)
    return path


@pytest.fixture
def settings(db: Path, tmp_path: Path) -> Settings:
    return Settings(db=db, runs_dir=tmp_path / "runs", alert_webhook_url=None)


def completed_run(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date, run_id: str, **_: Any
) -> DailyResult:
    """A stand-in for the run's work: every phase before publish completes at once."""
    for name in PHASES:
        daily._phase(con, run_id, day, name, "EXPECTED")
    for name in PHASES[:-1]:
        with daily.phase(con, run_id, day, name):
            pass
    return DailyResult(run_id, day)


# --- 2. reads never block the daily job ------------------------------------------------


def test_without_a_snapshot_the_api_answers_503_saying_how_to_publish_and_never_opens_the_file(
    settings: Settings,
) -> None:
    api = TestClient(create_app(settings))
    with holding(settings.paths.db):  # a writer holds the file: the API must not care
        response = api.get("/health")
        assert response.status_code == 503
        detail = response.json()["detail"]
        assert "no snapshot of w.duckdb is published yet" in detail
        assert "`nbaprops db publish`" in detail
        assert "\n" not in detail
        assert str(settings.paths.db.parent) not in detail
    # the API still has not opened the warehouse: a writer can take it at once
    with connect(settings.paths.db) as con:
        con.execute("SELECT 1")
    assert invoke("db", "publish", "--db", str(settings.paths.db)).exit_code == 0
    health = api.get("/health")
    assert health.status_code == 200
    assert health.json()["source"] == "snapshot"


def test_every_command_that_changes_the_warehouse_publishes_a_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "fresh.duckdb"
    out = invoke("db", "migrate", "--db", str(db), "--json")
    assert out.exit_code == 0, out.output + out.stderr
    assert snapshot_path(db).exists()
    with duckdb.connect(str(snapshot_path(db)), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] >= 13
    # a command that writes through the generic path (not open_writable) publishes too
    before = snapshot_path(db).stat().st_mtime_ns
    with connect(db) as con:  # simulate an earlier write nothing published
        con.execute("CREATE TABLE main.scratch AS SELECT 1 AS x")
    assert snapshot_path(db).stat().st_mtime_ns == before
    out = invoke("db", "rebuild", "--db", str(db), "--force", "--json")
    assert out.exit_code == 0, out.output + out.stderr
    assert snapshot_path(db).stat().st_mtime_ns > before
    with duckdb.connect(str(snapshot_path(db)), read_only=True) as con:
        assert con.execute("SELECT x FROM main.scratch").fetchone() == (1,)


def test_a_command_that_only_reads_publishes_nothing(db: Path) -> None:
    out = invoke("status", "--db", str(db), "--json")
    assert out.exit_code == 0, out.output + out.stderr
    assert not snapshot_path(db).exists()


def test_a_run_that_cannot_take_the_warehouse_records_why_and_the_next_run_folds_it_in(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with holding(settings.paths.db) as holder_pid:
        out = invoke("run", "daily", "--date", str(DAY), "--db", str(settings.paths.db), "--json")
        line = one_error_line(
            out, f"the daily run of {DAY} did not start", "another nbaprops", exit_code=3
        )  # 3: another run holds the lock (a timer retries it)
        assert f"(PID {holder_pid})" in line
        assert "`nbaprops status`" in line
    pending = unstarted_runs(settings.paths.db)
    assert [(r["run_date"], r["phase"], r["status"]) for r in pending] == [
        (str(DAY), "start", "FAILED")
    ]
    status = invoke("status", "--db", str(settings.paths.db), "--json")
    phases = json.loads(status.output)["phases"]
    assert [(p["run_date"], p["phase"], p["status"]) for p in phases] == [
        (str(DAY), "start", "FAILED")
    ]
    assert "another nbaprops process is using" in phases[0]["error"]

    monkeypatch.setattr(daily, "_run_daily", completed_run)
    with connect(settings.paths.db) as con:
        result = run_daily(con, settings, DAY)
        folded = con.execute(
            "SELECT status, error FROM pipeline.phase_run WHERE phase = 'start'"
        ).fetchall()
        alerts = con.execute("SELECT severity, message FROM monitoring.alert").fetchall()
        history = phase_history(con)
    assert result.snapshot == snapshot_path(settings.paths.db).name
    assert folded == [("FAILED", pending[0]["error"])]
    assert [a[0] for a in alerts] == ["WARNING"]
    assert f"the daily run of {DAY} could not start" in alerts[0][1]
    assert unstarted_runs(settings.paths.db) == []  # folded once, never twice
    # the later run of the date is the one status shows, all its phases together
    assert [(p["phase"], p["status"]) for p in history] == [(p, "COMPLETE") for p in PHASES]


def test_the_sidecar_survives_a_line_cut_by_a_crash(settings: Settings) -> None:
    daily.record_unstarted_run(settings.paths.db, DAY, "busy")
    with unstarted_runs_path(settings.paths.db).open("a") as handle:
        handle.write('{"run_id": "x", "run_da')
    assert [r["error"] for r in unstarted_runs(settings.paths.db)] == ["busy"]


# --- 7. a full disk is one line ---------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        duckdb.TransactionException(
            "TransactionContext Error: Failed to commit: could not write to the write-ahead "
            f"log: {NO_SPACE}"
        ),
        duckdb.IOException(f'IO Error: Could not write file "/somewhere/w.duckdb.wal": {NO_SPACE}'),
        OSError(errno.ENOSPC, NO_SPACE),
    ],
    ids=["duckdb-commit", "duckdb-io", "oserror"],
)
def test_a_full_disk_during_ingest_is_one_line_naming_the_filesystem_and_the_space_to_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    from nbaprops.pipeline import jobs

    def full(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(jobs, "ingest_job", full)
    db = tmp_path / "x.duckdb"
    data = tmp_path / "data"
    data.mkdir()
    out = invoke("ingest", "--db", str(db), "--data-dir", str(data))
    line = one_error_line(out, "error: no space left on the filesystem of ", "MB free); free at")
    assert line.endswith("MB and re-run")
    if not isinstance(error, duckdb.IOException):
        assert f"filesystem of {db} (" in line


def test_the_space_to_free_grows_with_the_warehouse(tmp_path: Path) -> None:
    small = tmp_path / "small.duckdb"
    small.write_bytes(b"\0" * 2**20)
    big = tmp_path / "big.duckdb"
    with big.open("wb") as handle:
        handle.truncate(400 * 2**20)  # sparse: 400 MB in name only
    free = snapshot.free_mb(tmp_path)

    def wanted(line: str) -> int:
        return int(line.split("~")[1].split(" MB", maxsplit=1)[0])

    assert wanted(snapshot.disk_full_message(small)) == max(snapshot.MIN_FREE_MB - free, 64)
    assert wanted(snapshot.disk_full_message(big)) == max(2 * 400 + 64 - free, 64)


# --- 8. a failed publish is a failed phase ----------------------------------------------


def _copy_fails(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    def full(*_: Any, **__: Any) -> Any:
        raise OSError(errno.ENOSPC, NO_SPACE, str(db.with_name(".w.snapshot.duckdb.tmp")))

    monkeypatch.setattr(snapshot.shutil, "copyfile", full)


def test_a_failed_publish_fails_the_run_with_a_phase_record_and_an_alert(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily, "_run_daily", completed_run)
    _copy_fails(monkeypatch, settings.paths.db)
    with connect(settings.paths.db) as con:
        with pytest.raises(PublishFailedError) as raised:
            run_daily(con, settings, DAY)
        phases = dict(
            con.execute("SELECT phase, status FROM pipeline.phase_run").fetchall()  # type: ignore[arg-type]
        )
        publish = con.execute(
            "SELECT error FROM pipeline.phase_run WHERE phase = 'publish'"
        ).fetchone()
        alerts = con.execute("SELECT severity, source, message FROM monitoring.alert").fetchall()
    assert phases == {**dict.fromkeys(PHASES[:-1], "COMPLETE"), "publish": "FAILED"}
    assert publish is not None
    assert "was not published" in publish[0]
    assert [(a[0], a[1]) for a in alerts] == [("CRITICAL", "publish")]
    assert raised.value.result.alerts[-1]["severity"] == "CRITICAL"
    assert f"no space left on the filesystem of {settings.paths.db} (" in str(raised.value)
    assert not snapshot_path(settings.paths.db).exists()


def test_run_daily_on_the_command_line_exits_1_when_its_publish_fails(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily, "_run_daily", completed_run)
    monkeypatch.setattr("nbaprops.read.picks.picks", lambda *_: {"picks": []})
    _copy_fails(monkeypatch, settings.paths.db)
    out = invoke("run", "daily", "--date", str(DAY), "--db", str(settings.paths.db), "--json")
    line = one_error_line(out, "snapshot for the API (w.snapshot.duckdb) was not published")
    assert "no space left on the filesystem of" in line
    assert "`nbaprops db publish`" in line
    assert json.loads(out.stdout)["run_id"]  # the run's results are still printed


def test_a_writing_command_whose_publish_fails_exits_1_with_one_line(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy_fails(monkeypatch, db)
    with connect(db) as con:  # a change nothing published yet
        con.execute("CREATE TABLE main.scratch AS SELECT 1 AS x")
    out = invoke("db", "rebuild", "--db", str(db))
    one_error_line(out, "was not published", "no space left on the filesystem of")


# --- 9. records after a kill ------------------------------------------------------------

KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    from datetime import date, timedelta
    from nbaprops.core.db import connect
    from nbaprops.core.settings import Settings
    from nbaprops.experiments.registry import create_run, mark_running
    from nbaprops.experiments.spec import build_spec
    from nbaprops.pipeline import daily

    def killed_in_bootstrap(con, settings, day, run_id, **_):
        for name in daily.PHASES:
            daily._phase(con, run_id, day, name, "EXPECTED")
        for name in ("ingest", "grade", "diagnose"):
            with daily.phase(con, run_id, day, name):
                pass
        daily._phase(con, run_id, day, "bootstrap", "RUNNING")
        spec = build_spec({
            "name": "default_champion", "hypothesis": "bootstrap", "systems": ["xgboost"],
            "evaluation": {"start": day - timedelta(days=28), "end": day - timedelta(days=1)},
            "tags": ["bootstrap"],
        })
        mark_running(con, create_run(con, spec))
        print("ready", flush=True)
        time.sleep(120)

    daily._run_daily = killed_in_bootstrap
    settings = Settings(db=sys.argv[1], runs_dir=sys.argv[2])
    with connect(settings.paths.db) as con:
        daily.run_daily(con, settings, date.fromisoformat(sys.argv[3]))
    """
)


def test_a_killed_runs_phases_and_bootstrap_are_abandoned_by_the_next_run_and_status_never_mixes_runs(  # noqa: E501
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily, "_run_daily", completed_run)
    with connect(settings.paths.db) as con:
        run_daily(con, settings, DAY)  # an earlier run of the date, complete
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_RUN,
            str(settings.paths.db),
            str(settings.paths.runs_dir),
            str(DAY),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    # before anyone notices: status shows the killed run's phases, not a mix of two runs
    status = invoke("status", "--db", str(settings.paths.db), "--json")
    shown = [(p["phase"], p["status"]) for p in json.loads(status.output)["phases"]]
    assert shown == [
        ("ingest", "COMPLETE"),
        ("grade", "COMPLETE"),
        ("diagnose", "COMPLETE"),
        ("bootstrap", "RUNNING"),
        ("predict", "EXPECTED"),
        ("breakout_shadow", "EXPECTED"),
        ("signal", "EXPECTED"),
        ("publish", "EXPECTED"),
    ]

    with connect(settings.paths.db) as con:
        latest = run_daily(con, settings, DAY)
        dead = con.execute(
            "SELECT phase, status, finished_at IS NOT NULL, error FROM pipeline.phase_run "
            "WHERE pid = ? ORDER BY phase",
            [proc.pid],
        ).fetchall()
        experiment = con.execute(
            "SELECT status, error FROM experiments.run WHERE list_contains(tags, 'bootstrap')"
        ).fetchall()
        events = [
            r[0]
            for r in con.execute(
                "SELECT status FROM experiments.run_event ORDER BY changed_at"
            ).fetchall()
        ]
        open_phases = con.execute(
            "SELECT count(*) FROM pipeline.phase_run WHERE status IN ('RUNNING', 'EXPECTED')"
        ).fetchone()
    abandoned = {p: (s, noticed, e) for p, s, noticed, e in dead if s == "ABANDONED"}
    assert set(abandoned) == {"bootstrap", "predict", "breakout_shadow", "signal", "publish"}
    for _, noticed, error in abandoned.values():
        assert noticed
        assert f"PID {proc.pid}" in error
        assert "is gone" in error
        assert f"noticed by the run {latest.run_id}" in error
    assert {p: s for p, s, *_ in dead}["ingest"] == "COMPLETE"
    assert experiment[0][0] == "abandoned"
    assert experiment[0][1].startswith("abandoned:")
    assert events[-1] == "abandoned"
    assert open_phases == (0,)


# --- 10b. echoed input stays short ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/predictions?system={v}",
        "/predictions?date={v}",
        "/grading?start={v}&end=2024-01-01",
        "/experiments/{v}",
        "/experiments?tag={v}",
        "/players/{v}",
    ],
)
def test_a_65_kb_parameter_is_never_echoed_whole(settings: Settings, url: str) -> None:
    with connect(settings.paths.db) as con:
        snapshot.publish_snapshot(con)
    api = TestClient(create_app(settings))
    value = "x" * 65_000
    response = api.get(url.format(v=value))
    assert 400 <= response.status_code < 500
    detail = response.json()["detail"]
    assert len(detail) < 600, len(detail)
    assert "x" * 101 not in detail


def test_an_echo_is_cut_to_100_characters_with_its_length() -> None:
    from nbaprops.read.params import clip_echoes

    value = "y" * 5_000
    clipped = clip_echoes(f"unknown system {value!r} (known: a, b)", [value])
    assert clipped == f"unknown system '{'y' * 100}… (5,000 characters)' (known: a, b)"
    assert clip_echoes("short 'abc' stays", ["abc"]) == "short 'abc' stays"
