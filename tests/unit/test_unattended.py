"""Unattended operation (issue 23): alerts that state their N and wait for evidence,
exit codes, one JSON line per phase, and the picks webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from nbaprops.cli.common import RunLockedError, exit_code_for
from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError, StaleDataError, WarehouseBusyError
from nbaprops.core.settings import Settings
from nbaprops.monitoring.alerts import raise_alert
from nbaprops.monitoring.diagnostics import _should_raise
from nbaprops.monitoring.diagnostics.attribution import conditions_of
from nbaprops.monitoring.diagnostics.market import market_sharpness
from nbaprops.monitoring.diagnostics.model import model_drift
from nbaprops.monitoring.picks_webhook import picks_payload
from nbaprops.pipeline.daily import deliver_picks
from nbaprops.predictions.daily import PredictResult
from nbaprops.warehouse.migrate import migrate
from tests.holder import holding
from tests.webhook import Receiver, receiving

QUIET_QUALITY = {
    "dates_without_grading": [],
    "dates_without_predictions": [],
    "dates_without_box_scores": [],
    "stale": False,
}


def _graded_day(n: int, hits: int) -> pd.DataFrame:
    """``n`` graded bets on real lines, ``hits`` of them right; the misses far off."""
    right = n * [True]
    right[hits:] = (n - hits) * [False]
    return pd.DataFrame(
        {
            "line": 20.5,
            "median": 25.0,
            "actual": [24.0 if r else 10.0 for r in right],
            "line_source": "ACTUAL",
            "result": ["right" if r else "wrong" for r in right],
            "n_defaulted": 0,
        }
    )


def _conditions(day: pd.DataFrame, settings: Settings) -> list[tuple[str, str, str]]:
    # the first graded day: the 7-, 14- and 30-day windows are the same bets
    drift = model_drift({7: day, 14: day, 30: day}, None)
    return conditions_of(market_sharpness(day, day), drift, QUIET_QUALITY, settings)


def test_the_first_graded_day_raises_nothing_above_info_and_states_its_n() -> None:
    conditions = _conditions(_graded_day(33, 11), Settings())
    codes = {c[1] for c in conditions}
    assert {"beats_line_and_hit_rate", "hit_rate_7d", "beats_line"} <= codes
    assert {c[0] for c in conditions} == {"INFO"}
    for _, _, message in conditions:
        assert "N = 33 graded bets" in message
        assert "fewer than the 100 a warning needs" in message


def test_the_same_rates_on_enough_bets_are_critical_and_the_bar_is_a_setting() -> None:
    conditions = _conditions(_graded_day(150, 50), Settings())
    severity = {c[1]: c[0] for c in conditions}
    assert severity["beats_line_and_hit_rate"] == "CRITICAL"
    assert severity["hit_rate_7d"] == "WARNING"
    assert all("N = 150 graded bets over 7 days" in c[2] for c in conditions)
    assert not any("a warning needs" in c[2] for c in conditions)
    lower = _conditions(_graded_day(33, 11), Settings(alert_min_graded_bets=30))
    assert {c[1]: c[0] for c in lower}["beats_line_and_hit_rate"] == "CRITICAL"


def test_data_quality_alerts_are_not_gated_by_bets() -> None:
    quality = {**QUIET_QUALITY, "stale": True, "train_end": "2024-01-01"}
    quality |= {"staleness_days": 30, "retrain_cadence_days": 7}
    day = _graded_day(5, 5)
    drift = model_drift({7: day, 14: day, 30: day}, None)
    out = conditions_of(market_sharpness(day, day), drift, quality, Settings())
    assert ("WARNING", "stale_model") in {(c[0], c[1]) for c in out}


def test_an_info_condition_that_gains_enough_bets_is_raised_again_as_a_warning(
    empty_con,
) -> None:
    day1, day2 = date(2024, 4, 1), date(2024, 4, 2)
    raise_alert(empty_con, "INFO", "diagnose:hit_rate_7d", "m", game_date=day1, system_id="s")
    previous = (day1, {"conditions": ["hit_rate_7d"]})
    assert _should_raise(empty_con, previous, "WARNING", "hit_rate_7d", "s", day2)
    assert not _should_raise(empty_con, previous, "INFO", "hit_rate_7d", "s", day2)


# --- exit codes and --log-json -------------------------------------------------------


def test_exit_codes_name_stale_and_locked_runs_apart_from_failures() -> None:
    assert exit_code_for(NbapropsError("x")) == 1
    assert exit_code_for(WarehouseBusyError("held")) == 1  # `status`, `db migrate`: 1
    assert exit_code_for(StaleDataError("lines are 3 days old")) == 2
    assert exit_code_for(RunLockedError("held")) == 3


def _cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """``nbaprops <args>`` in this process: the entry point's own path (the root group's
    ``main``, whose ``sys.exit`` gives the exit code; ``--log-json`` lines and the
    ``error:`` line on stderr), without a new interpreter's seconds of imports. The
    process that holds a warehouse stays another process (``tests.holder``)."""
    return CliRunner().invoke(app, list(args), env=env)


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        migrate(con)
    return db


def test_run_daily_logs_one_json_line_per_phase_and_a_failed_phase_exits_1(
    empty_db: Path,
) -> None:
    # an empty warehouse: the bootstrap phase fails (no games to bootstrap a champion on)
    args = ["run", "daily", "--date", "2024-03-01", "--skip-ingest", "--db", str(empty_db)]
    done = _cli(*args, "--log-json")
    assert done.exit_code == 1, done.output
    lines = _json_lines(done.stderr)
    assert [(r["phase"], r["state"]) for r in lines] == [
        ("ingest", "COMPLETE"),
        ("grade", "COMPLETE"),
        ("diagnose", "COMPLETE"),
        ("bootstrap", "FAILED"),
        ("publish", "COMPLETE"),
    ]
    for r in lines:
        assert set(r) == {"run_id", "phase", "state", "rows", "seconds", "error"}
        assert r["seconds"] >= 0
    # the failed phase's error is the run's one `error:` line (whatever refused it)
    reason = lines[3]["error"].removeprefix("NbapropsError: ")
    assert reason
    assert done.stderr.splitlines()[-1] == f"error: {reason}"
    quiet = _cli(*args)
    assert _json_lines(quiet.stderr) == []


@pytest.fixture
def holder(empty_db: Path) -> Iterator[Path]:
    """Another process holding the warehouse open read-write (DuckDB's one writer)."""
    with holding(empty_db):
        yield empty_db


def test_a_run_that_finds_the_warehouse_held_exits_3_and_logs_its_start(holder: Path) -> None:
    run = _cli("run", "daily", "--date", "2024-03-01", "--db", str(holder), "--log-json")
    assert run.exit_code == 3, run.output
    (line,) = _json_lines(run.stderr)
    assert (line["phase"], line["state"]) == ("start", "FAILED")
    assert "did not start" in line["error"]
    assert run.stderr.splitlines()[-1].startswith("error: the daily run of 2024-03-01")
    predict = _cli("predict", "--date", "2024-03-01", "--db", str(holder), "--log-json")
    assert predict.exit_code == 3, predict.output
    assert _json_lines(predict.stderr)[0]["state"] == "FAILED"
    grade = _cli("grade", "--date", "2024-03-01", "--db", str(holder))
    assert grade.exit_code == 3, grade.output
    status = _cli("status", "--db", str(holder))
    assert status.exit_code == 1  # not a scheduled run: a plain failure


# --- the picks webhook ----------------------------------------------------------------


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def _picks() -> pd.DataFrame:
    base = {
        "team": "NYK",
        "side": "OVER",
        "line": 26.5,
        "bet_book": "fanduel",
        "bet_price": -105.0,
        "p_win": 0.57,
        "ev_calibrated": 0.031,
        "record_n": 240,
        "record_hit_rate": 0.55,
        "slate_signal": "GREEN",
        "stake_kelly": 0.012,
    }
    return pd.DataFrame(
        [
            {**base, "rank": 2, "player_name": "Josh Hart", "bet_line": 11.5, "status": "BET"},
            {**base, "rank": 1, "player_name": "Jalen Brunson", "bet_line": 26.5, "status": "BET"},
            {**base, "rank": 3, "player_name": "OG", "bet_line": 9.5, "status": "WATCHLIST"},
        ]
    )


def test_the_picks_message_lists_the_bets_in_rank_order_as_json_or_slack() -> None:
    day = date(2024, 3, 12)
    payload = picks_payload(day, "xgboost", _picks(), unit_share=0.01)
    assert payload["kind"] == "picks"
    assert (payload["n_bets"], payload["n_watchlist"], payload["no_bets"]) == (2, 1, False)
    assert [p["player_name"] for p in payload["picks"]] == ["Jalen Brunson", "Josh Hart"]
    assert payload["picks"][0]["stake_units"] == 1.2
    json.dumps(payload)  # plain values only
    slack = picks_payload(day, "xgboost", _picks(), unit_share=0.01, fmt="slack")
    assert set(slack) == {"text", "blocks"}
    assert slack["text"].startswith("nbaprops picks 2024-03-12 (xgboost@champion): 2 bet(s)")
    assert "1. Jalen Brunson (NYK) OVER 26.5 at fanduel -105" in slack["text"]
    assert all(b["type"] == "section" for b in slack["blocks"])
    none = picks_payload(day, "xgboost", _picks().assign(status="WATCHLIST"), unit_share=0.01)
    assert none["no_bets"]
    assert none["picks"] == []
    assert none["text"].startswith("No bets today (2024-03-12")
    with pytest.raises(ValueError, match="unknown picks webhook format"):
        picks_payload(day, None, _picks(), unit_share=0.01, fmt="xml")


def test_no_bets_today_is_posted_and_audited(empty_con, hook: Receiver) -> None:
    settings = Settings(picks_webhook_url=hook.url)
    delivery = deliver_picks(empty_con, settings, date(2024, 3, 12))
    assert delivery is not None
    assert delivery.ok
    assert delivery.status == 200
    (body,) = hook.bodies
    assert body["no_bets"] is True
    assert body["text"].startswith("No bets today (2024-03-12, no champion)")
    slack = Settings(picks_webhook_url=hook.url, picks_webhook_format="slack")
    deliver_picks(empty_con, slack, date(2024, 3, 12))
    assert hook.bodies[1]["text"].startswith("No bets today")
    assert "blocks" in hook.bodies[1]
    audited = empty_con.execute(
        "SELECT count(*) FROM pipeline.audit_log WHERE action = 'picks_webhook' AND success"
    ).fetchone()
    assert audited == (2,)
    assert deliver_picks(empty_con, Settings(), date(2024, 3, 12)) is None  # no URL: no post


def test_a_receiver_that_is_down_or_refuses_never_fails_and_is_audited(
    empty_con, hook: Receiver
) -> None:
    hook.status = 500
    refused = deliver_picks(empty_con, Settings(picks_webhook_url=hook.url), date(2024, 3, 12))
    assert refused is not None
    assert not refused.ok
    assert refused.status == 500
    down = Settings(picks_webhook_url="http://127.0.0.1:9/", picks_webhook_timeout_s=0.5)
    gone = deliver_picks(empty_con, down, date(2024, 3, 12))
    assert gone is not None
    assert not gone.ok
    assert gone.error

    def slow(request: object, timeout: float) -> object:
        raise TimeoutError(f"timed out after {timeout}s")

    timed = deliver_picks(
        empty_con, Settings(picks_webhook_url=hook.url), date(2024, 3, 12), opener=slow
    )
    assert timed is not None
    assert "timed out after 5.0s" in (timed.error or "")
    failed = empty_con.execute(
        "SELECT detail FROM pipeline.audit_log WHERE action = 'picks_webhook' AND NOT success"
    ).fetchall()
    assert len(failed) == 3
    assert all("NOT delivered" in m for (m,) in failed)


def _fake_predict(*args: object, **kwargs: object) -> PredictResult:
    return PredictResult(date(2024, 3, 1), 60, None, 0, 1.0, False)


def test_predict_and_the_daily_run_post_the_picks_once_each(
    empty_db: Path, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbaprops.pipeline import daily

    monkeypatch.setattr(daily, "predict_job", _fake_predict)
    monkeypatch.setattr(daily, "aliased_models_exist", lambda con, market=None: True)
    from nbaprops.read import picks as queries  # the run's printout of the (empty) slate

    monkeypatch.setattr(queries, "picks", lambda con, settings, day, market="points": {"picks": []})
    monkeypatch.setenv("NBAPROPS_PICKS_WEBHOOK_URL", hook.url)
    args = ["--date", "2024-03-01", "--db", str(empty_db), "--json"]
    done = CliRunner().invoke(app, ["predict", *args, "--format", "slack"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["picks_webhook"]["ok"] is True
    (body,) = hook.bodies
    assert body["text"].startswith("No bets today (2024-03-01")
    assert "blocks" in body
    run = CliRunner().invoke(app, ["run", "daily", *args, "--skip-ingest"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["picks_webhook"]["format"] == "json"
    assert len(hook.bodies) == 2
    assert hook.bodies[1]["kind"] == "picks"
    assert hook.bodies[1]["no_bets"]
    hook.status = 503  # a receiver that refuses: the run still succeeds
    again = CliRunner().invoke(app, ["run", "daily", *args, "--skip-ingest"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["picks_webhook"]["error"] == "HTTP 503"
    assert daily._PHASE_STARTED == {}  # phase timers are dropped, heard or not


def test_a_bad_format_is_one_line(empty_db: Path, hook: Receiver) -> None:
    env = {"NBAPROPS_PICKS_WEBHOOK_URL": hook.url}
    bad = _cli("predict", "--date", "2024-03-01", "--db", str(empty_db), "--format", "xml", env=env)
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "error: --format: expected json or slack, got 'xml'"
    assert hook.bodies == []
