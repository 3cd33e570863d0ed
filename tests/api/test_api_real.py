"""The HTTP API on a warehouse built from the real data: every endpoint (success and bad
input), the CLI and the API agreeing, reads never blocking the daily job, the token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nbaprops.api.app import create_app, token_ok
from nbaprops.api.reader import SnapshotReader
from nbaprops.cli.main import app as cli
from nbaprops.cli.serve import check_bind, is_loopback
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.pipeline.daily import PHASES
from nbaprops.pipeline.snapshot import publish_snapshot, snapshot_path
from tests.api.conftest import copy_served
from tests.api.served import DAY, FIRST, LAST, PICK_ENV
from tests.holder import holding

pytestmark = [pytest.mark.data, pytest.mark.slow]

NEXT = date(2024, 4, 14)  # the run the concurrency test starts while the API serves


def get(client: TestClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text)
    return r.json()


def one_line_error(client: TestClient, url: str, status: int) -> str:
    detail = get(client, url, status)["detail"]
    assert isinstance(detail, str)
    assert detail
    assert "\n" not in detail
    return detail


# --- every endpoint, on the real data ----------------------------------------------------


def test_health_names_the_warehouse_not_its_path_and_reports_freshness(
    client: TestClient, served: Settings
) -> None:
    h = get(client, "/health")
    assert h["warehouse"] == "nbaprops.duckdb"
    assert h["source"] == "snapshot"
    with connect(served.paths.db, read_only=True) as con:
        last_box = con.execute("SELECT max(game_date) FROM core.player_game").fetchone()[0]
    assert h["freshness"]["last_box_score_date"] == str(last_box)
    assert h["freshness"]["last_prediction_date"] == str(DAY)
    assert h["freshness"]["last_graded_date"] == str(LAST)
    assert h["freshness"]["last_line_snapshot"] is not None
    assert {(p["phase"], p["status"]) for p in h["phases"]} == {(p, "COMPLETE") for p in PHASES}
    assert {(m["system_id"], m["alias"]) for m in h["models"]} == {
        ("season_average", "champion"),
        ("moving_average", "challenger"),
    }


def test_predictions_of_a_date_match_the_table_and_filter_by_system_and_alias(
    client: TestClient, served: Settings
) -> None:
    every = get(client, f"/predictions?date={DAY}")
    with connect(served.paths.db, read_only=True) as con:
        counts = dict(
            con.execute(
                "SELECT system_id, count(*) FROM predictions.prediction "
                "WHERE game_date = ? AND is_active GROUP BY 1",
                [DAY],
            ).fetchall()
        )
    assert every["n"] == len(every["predictions"]) == sum(counts.values()) > 200
    champion = get(client, f"/predictions?date={DAY}&alias=champion")
    assert champion["n"] == counts["season_average"]
    assert {p["system_id"] for p in champion["predictions"]} == {"season_average"}
    only = get(client, f"/predictions?date={DAY}&system=moving_average")
    assert only["n"] == counts["moving_average"]
    named = [p for p in every["predictions"] if p["player_name"] != str(p["player_id"])]
    assert len(named) == len(every["predictions"])  # every player has a name
    calls = [p for p in every["predictions"] if p["recommendation"] in ("OVER", "UNDER")]
    assert calls
    assert all(p["bet_price"] is not None and p["ev_pct"] > 0 for p in calls)
    # the calibrated value never exceeds the claim; the decision follows it
    assert all(p["ev_calibrated_pct"] <= p["ev_pct"] + 1e-9 for p in calls)
    for p in calls:
        backed = p["ev_calibrated_pct"] > 100 * served.betting.ev_margin
        assert p["decision"] == (p["recommendation"] if backed else "PASS")
    assert {p["decision"] for p in calls} > {"PASS"}  # some calls are backed
    picked = [p for p in every["predictions"] if p["pick_status"] == "BET"]
    assert picked
    assert all(p["decision"] == p["recommendation"] for p in picked)
    assert get(client, "/predictions")["date"] == str(DAY)  # default: the latest date


def test_picks_and_signal_follow_the_champion(client: TestClient, served: Settings) -> None:
    picks = get(client, f"/picks?date={DAY}")
    assert picks["system"] == "season_average"
    rows = picks["picks"]
    bets = [p for p in rows if p["status"] == "BET"]
    watch = [p for p in rows if p["status"] == "WATCHLIST"]
    assert 0 < len(bets) <= served.picks.picks_max_per_day
    assert watch
    assert picks["n_bets"] == len(bets)
    assert picks["n_watchlist"] == len(watch)
    value = [p["ev_calibrated_pct"] for p in bets]
    assert value == sorted(value, reverse=True)
    assert [p["rank"] for p in rows] == list(range(1, len(rows) + 1))
    for p in bets:
        assert abs(p["edge_points"]) >= served.picks.picks_min_edge
        assert p["ev_calibrated_pct"] > 100 * served.betting.ev_margin
        assert p["ev_calibrated_pct"] <= p["ev_pct"] + 1e-9
        assert 0 < p["stake_pct"] <= 100 * served.picks.picks_max_bet_share + 1e-9
        assert p["stake_units"] == pytest.approx(p["stake_pct"] / (100 * served.betting.unit_share))
        assert p["stake_pct"] <= p["stake_before_pct"] + 1e-9
        assert p["flat_units"] == 1.0
    exposure = sum(p["stake_pct"] for p in bets)
    assert picks["exposure_pct"] == pytest.approx(exposure)
    assert exposure <= 100 * served.picks.picks_max_slate_share + 1e-9
    assert all(p["stake_pct"] == 0 and p["reason"] for p in watch)
    teams = [p["team"] for p in bets]
    assert max(teams.count(t) for t in teams) <= served.picks.picks_max_per_team
    assert len({p["player_id"] for p in bets}) == len(bets)
    record = picks["record"]
    assert record["system"] == "season_average"
    assert record["n"] > 100
    assert record["beats_break_even"] is (record["roi_pct"] > 0)
    assert ("does not beat" in record["statement"]) is (not record["beats_break_even"])
    with connect(served.paths.db, read_only=True) as con:
        stored = con.execute(
            "SELECT player_id, status, stake_kelly FROM predictions.pick WHERE game_date = ? "
            "AND is_active AND alias = 'champion' ORDER BY rank",
            [DAY],
        ).fetchall()
    assert [(p["player_id"], p["status"]) for p in rows] == [(i, st) for i, st, _ in stored]
    assert [p["stake_pct"] for p in rows] == pytest.approx([100 * k for _, _, k in stored])
    signals = get(client, f"/signal?date={DAY}")["signals"]
    assert set(signals) == {"season_average@champion", "moving_average@challenger"}
    champion = signals["season_average@champion"]
    assert champion["n_games"] == 15
    with connect(served.paths.db, read_only=True) as con:
        stored = con.execute(
            "SELECT signal, n_bets, n_high_edge FROM predictions.signal "
            "WHERE game_date = ? AND system_id = 'season_average'",
            [DAY],
        ).fetchone()
    # computed on read, equal to what the daily run stored
    assert (champion["signal"], champion["n_bets"], champion["n_high_edge"]) == stored


def test_player_page_has_recent_games_lines_and_graded_predictions(
    client: TestClient, served: Settings
) -> None:
    with connect(served.paths.db, read_only=True) as con:
        (player_id,) = con.execute(
            """
            SELECT p.player_id FROM predictions.prediction p
            JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND p.line_source = 'ACTUAL' AND g.direction_vs_consensus <> 'void'
            GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1
            """
        ).fetchone()
        # the graded rows of the player's last 20 predicted dates, as the page lists them
        (n_pred,) = con.execute(
            """
            SELECT count(*) FROM predictions.prediction p
            JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND p.player_id = $player AND g.direction_vs_consensus <> 'void'
              AND p.game_date IN (
                  SELECT DISTINCT game_date FROM predictions.prediction
                  WHERE player_id = $player AND is_active AND game_date <= $day
                  ORDER BY game_date DESC LIMIT 20)
            """,
            {"player": player_id, "day": DAY},
        ).fetchone()
        last = con.execute(
            "SELECT game_date, points FROM core.player_game WHERE player_id = ? "
            "AND game_date <= ? ORDER BY game_date DESC LIMIT 20",
            [player_id, DAY],
        ).fetchall()
        lines = dict(
            con.execute(
                "SELECT game_date, line FROM core.points_line WHERE player_id = ? "
                "AND line_kind = 'sportsbook' AND game_date BETWEEN ? AND ?",
                [player_id, last[-1][0], DAY],
            ).fetchall()
        )
    page = get(client, f"/players/{player_id}?date={DAY}")
    games = page["games"]
    assert len(games) == len(last) == 20
    assert [(g["game_date"], g["points"]) for g in games] == [(str(d), p) for d, p in last]
    shown = {g["game_date"]: g["line"] for g in games if g["line"] is not None}
    assert shown == {str(d): line for d, line in lines.items()}
    assert len(shown) >= 3
    latest = get(client, f"/players/{player_id}")["games"]
    assert latest[0]["game_date"] > games[0]["game_date"]  # without a date: the newest
    graded = [p for p in page["predictions"] if p["direction_vs_consensus"] not in (None, "void")]
    assert len(graded) == n_pred
    assert all(p["actual_points"] is not None for p in graded)
    assert all(len(p["game_date"]) == 10 for p in page["predictions"])  # dates, not datetimes
    assert "correct" not in json.dumps(page)  # a call's direction is never a bet's result


def test_grading_figures_equal_an_independent_count(client: TestClient, served: Settings) -> None:
    body = get(client, f"/grading?start={FIRST}&end={LAST}&system=season_average")
    (book,) = [s for s in body["systems"] if s["line_kind"] == "sportsbook"]
    with connect(served.paths.db, read_only=True) as con:
        wins, bets, pushes = con.execute(
            """
            SELECT count(*) FILTER (WHERE g.direction_vs_consensus = 'right'),
                   count(*) FILTER (WHERE g.direction_vs_consensus IN ('right', 'wrong')),
                   count(*) FILTER (WHERE g.direction_vs_consensus = 'push')
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample AND p.system_id = 'season_average'
              AND p.line_kind = 'sportsbook' AND p.game_date BETWEEN ? AND ?
            """,
            [FIRST, LAST],
        ).fetchone()
        lined = con.execute(
            """
            SELECT g.actual_points, p.median, p.line
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample AND p.system_id = 'season_average'
              AND p.line_kind = 'sportsbook' AND g.direction_vs_consensus <> 'void'
              AND p.game_date BETWEEN ? AND ?
            """,
            [FIRST, LAST],
        ).fetchnumpy()
    assert book["bets"] + book["pushes"] == bets + pushes > 30
    assert book["hit_rate"] == pytest.approx(wins / (book["bets"]), abs=1e-9)
    assert book["ci_low"] < book["hit_rate"] < book["ci_high"]
    assert book["n"] == len(lined["line"])
    actual = lined["actual_points"]
    assert book["model_mae"] == pytest.approx(float(np.abs(actual - lined["median"]).mean()))
    assert book["line_mae"] == pytest.approx(float(np.abs(actual - lined["line"]).mean()))
    assert {s["system"] for s in body["systems"]} == {"season_average"}
    # the market on the same decided, priced rows (de-vigged consensus at decision time)
    with connect(served.paths.db, read_only=True) as con:
        priced = con.execute(
            """
            SELECT count(*) FROM predictions.prediction p JOIN grading.grade g
              USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample AND p.system_id = 'season_average'
              AND p.line_kind = 'sportsbook' AND g.direction_vs_consensus <> 'void'
              AND g.actual_points <> p.line AND p.p_over IS NOT NULL
              AND p.over_price IS NOT NULL AND p.under_price IS NOT NULL
              AND p.game_date BETWEEN ? AND ?
            """,
            [FIRST, LAST],
        ).fetchone()[0]
    # by side: each side's bets and wins counted apart in SQL, and the sides add up
    with connect(served.paths.db, read_only=True) as con:
        sides = con.execute(
            """
            SELECT p.recommendation,
                   count(*) FILTER (WHERE g.direction_vs_consensus = 'right'),
                   count(*) FILTER (WHERE g.direction_vs_consensus IN ('right', 'wrong'))
            FROM predictions.prediction p JOIN grading.grade g USING (prediction_id)
            WHERE p.is_active AND NOT p.in_sample AND p.system_id = 'season_average'
              AND p.line_kind = 'sportsbook' AND p.game_date BETWEEN ? AND ?
              AND p.recommendation IN ('OVER', 'UNDER')
            GROUP BY 1
            """,
            [FIRST, LAST],
        ).fetchall()
    by_side = {r["side"]: r for r in book["by_side"]}
    assert set(by_side) == {"OVER", "UNDER"}
    assert sum(r["bets"] for r in by_side.values()) == book["bets"]
    for side, side_wins, side_bets in sides:
        assert by_side[side]["bets"] == side_bets
        if side_bets:
            assert by_side[side]["hit_rate"] == pytest.approx(side_wins / side_bets, abs=1e-9)
    assert sum(r["clv_n"] for r in by_side.values()) == book["clv_n"]
    market = book["market"]
    assert market["n"] == priced > 30
    assert 0.2 < market["brier_market"] < 0.3
    assert market["worse_than_market"] is (market["brier"] > market["brier_market"])
    both = get(client, f"/grading?start={FIRST}&end={LAST}")
    assert {s["system"] for s in both["systems"]} == {"season_average", "moving_average"}


def test_experiments_models_diagnostics_and_alerts(client: TestClient, served: Settings) -> None:
    runs = get(client, "/experiments")["runs"]
    assert [r["name"] for r in runs] == ["api-fixture"]
    run = get(client, f"/experiments/{runs[0]['experiment_id'][:8]}")
    assert run["experiment_id"] == runs[0]["experiment_id"]
    assert runs[0]["n_systems"] == len(run["systems"]) == 2  # one backfill, both systems
    assert all(isinstance(a, str) and "/" not in a for a in run["artefacts"])
    models = get(client, "/models")
    aliased = {(v["system_id"], tuple(v["aliases"])) for v in models["versions"] if v["aliases"]}
    assert aliased == {("season_average", ("champion",)), ("moving_average", ("challenger",))}
    assert all("artefact_dir" not in v for v in models["versions"])
    diag = get(client, "/diagnostics")
    with connect(served.paths.db, read_only=True) as con:
        stored = con.execute(
            "SELECT game_date, system_id, primary_cause FROM monitoring.diagnostic "
            "WHERE market = 'points' AND game_date = (SELECT max(game_date) "
            "FROM monitoring.diagnostic WHERE market = 'points') ORDER BY 2"
        ).fetchall()
        markets = con.execute("SELECT DISTINCT market FROM monitoring.diagnostic").fetchall()
        n_alerts = con.execute("SELECT count(*) FROM monitoring.alert").fetchone()[0]
    assert diag["date"] == str(stored[0][0])
    assert [(d["system_id"], d["primary_cause"]) for d in diag["diagnostics"]] == [
        (s, c) for _, s, c in stored
    ]
    assert markets == [("points",)]  # the fixture diagnoses points only
    assert diag["market"] == "points"
    assert {d["market"] for d in diag["diagnostics"]} == {"points"}
    assert get(client, "/diagnostics?market=points") == diag
    # a market never diagnosed: one line, not another market's rows
    assert "no diagnostics of rebounds yet" in one_line_error(
        client, "/diagnostics?market=rebounds", 404
    )
    assert len(get(client, "/alerts?since=2000-01-01")["alerts"]) == n_alerts
    assert get(client, "/alerts?since=2999-01-01")["alerts"] == []


def test_no_response_exposes_a_filesystem_path(client: TestClient, served: Settings) -> None:
    folder = str(served.paths.db.parent)
    run_id = get(client, "/experiments")["runs"][0]["experiment_id"]
    for url in (
        "/health",
        f"/predictions?date={DAY}",
        f"/picks?date={DAY}",
        f"/signal?date={DAY}",
        f"/grading?start={FIRST}&end={LAST}",
        "/experiments",
        f"/experiments/{run_id}",
        "/models",
        "/diagnostics",
        "/alerts?since=2000-01-01",
        "/openapi.json",
    ):
        text = client.get(url).text
        assert folder not in text, url
        assert "/tmp/" not in text, url


# --- bad input: one line, 4xx, never SQL text ---------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/predictions?date=2024-13-01", 400, "not a date"),
        ("/predictions?date=2024-04-12';DROP TABLE x;--", 400, "not a date"),
        ("/predictions?system=nope", 400, "unknown system 'nope'"),
        ("/predictions?system=x' OR '1'='1", 400, "unknown system"),
        ("/predictions?alias=king", 400, "unknown alias"),
        ("/predictions?date=2001-01-01", 200, ""),
        ("/picks?date=tonight", 400, "not a date"),
        ("/picks?date=2001-01-01", 404, "no games on 2001-01-01 in the warehouse's schedule"),
        ("/signal?date=2001-01-01", 404, "no games on 2001-01-01 in the warehouse's schedule"),
        ("/players/12", 404, "no player with id 12"),
        ("/players/abc", 422, "player_id"),
        ("/players/201939?date=2024-4-1", 400, "not a date"),
        ("/grading?start=2024-04-08", 422, "end"),
        ("/grading?start=2023-01-01&end=2024-04-11", 400, "at most 366"),
        ("/grading?start=2024-04-11&end=2024-04-08", 400, "after end"),
        ("/grading?start=2024-04-08&end=2024-04-11&system=nope", 400, "unknown system"),
        ("/experiments?status=nope", 400, "unknown status"),
        ("/experiments?limit=0", 422, "limit"),
        ("/experiments/ab", 400, "too short"),
        ("/experiments/ffffffff", 404, "no experiment run"),
        ("/diagnostics?date=04/12/2024", 400, "not a date"),
        ("/diagnostics?market=steals", 400, "unknown market 'steals'"),
        ("/alerts?since=2024-02-30", 400, "not a date"),
    ],
)
def test_bad_input_gets_a_4xx_with_one_line(
    client: TestClient, url: str, status: int, needle: str
) -> None:
    if status == 200:
        assert get(client, url)["predictions"] == []
        return
    assert needle in one_line_error(client, url, status)


def test_the_schema_is_served_with_every_endpoint(client: TestClient) -> None:
    schema = get(client, "/openapi.json")
    assert set(schema["paths"]) == {
        "/health",
        "/predictions",
        "/picks",
        "/signal",
        "/players/{player_id}",
        "/grading",
        "/experiments",
        "/experiments/{experiment_id}",
        "/models",
        "/diagnostics",
        "/alerts",
        "/bets",
        "/availability",
    }
    assert all(set(methods) == {"get"} for methods in schema["paths"].values())  # read only
    schemas = schema["components"]["schemas"]
    for name in ("Prediction", "Pick", "Picks", "PickRecord", "Bets", "LedgerSummary"):
        undocumented = [
            field
            for field, spec in schemas[name]["properties"].items()
            if not spec.get("description")
        ]
        assert not undocumented, (name, undocumented)
    # Every property of every response model says what it is (FastAPI's own error schemas
    # aside).
    undocumented_anywhere = [
        (name, field)
        for name, spec in schemas.items()
        if name not in ("HTTPValidationError", "ValidationError")
        for field, prop in spec.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert not undocumented_anywhere, undocumented_anywhere
    assert "game_id" in schemas["Pick"]["properties"]
    assert "percent" in schemas["Pick"]["properties"]["ev_calibrated_pct"]["description"]
    assert "points" in schemas["Prediction"]["properties"]["edge_points"]["description"]


# --- one set of query functions -----------------------------------------------------------


def test_the_cli_and_the_api_agree_for_one_date(client: TestClient, served: Settings) -> None:
    runner = CliRunner()
    db = str(served.paths.db)
    out = runner.invoke(cli, ["picks", "--date", str(DAY), "--db", db, "--json"], env=PICK_ENV)
    assert out.exit_code == 0, out.output
    from_cli = json.loads(out.output)
    from_api = get(client, f"/picks?date={DAY}")
    assert from_cli == json.loads(json.dumps(from_api, default=str))
    out = runner.invoke(
        cli, ["bets", "--start", str(FIRST), "--end", str(DAY), "--db", db, "--json"], env=PICK_ENV
    )
    assert out.exit_code == 0, out.output
    ledger_cli = json.loads(out.output)
    ledger_api = get(client, f"/bets?start={FIRST}&end={DAY}")
    assert ledger_cli == json.loads(json.dumps(ledger_api, default=str))
    out = runner.invoke(cli, ["alerts", "--since", "2000-01-01", "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    api_alerts = get(client, "/alerts?since=2000-01-01")["alerts"]
    assert [a["message"] for a in json.loads(out.output)] == [a["message"] for a in api_alerts]


def test_the_ledger_grades_each_bet_at_its_own_line_and_price(
    client: TestClient, served: Settings
) -> None:
    body = get(client, f"/bets?start={FIRST}&end={DAY}&system=season_average")
    (ledger,) = body["systems"]
    lines = ledger["bets"]
    with connect(served.paths.db, read_only=True) as con:
        truth = con.execute(
            """
            SELECT b.pick_id, b.side, b.bet_line, b.bet_price, b.stake_kelly, pg.points
            FROM predictions.bet b
            LEFT JOIN core.player_game pg
              ON pg.player_id = b.player_id AND pg.game_date = b.game_date
            WHERE b.is_active AND b.system_id = 'season_average'
              AND b.game_date BETWEEN ? AND ?
            ORDER BY b.game_date, b.rank
            """,
            [FIRST, DAY],
        ).fetchall()
    assert len(lines) == len(truth) > 10
    graded = [b for b in lines if b["result"] is not None]
    assert sum(b["game_date"] < str(DAY) for b in lines) == len(graded) > 5
    expected_units = 0.0
    for b, (_, side, line, price, stake, points) in zip(lines, truth, strict=True):
        assert (b["side"], b["bet_line"], b["bet_price"]) == (side, line, price)
        if b["result"] is None:
            continue
        payout = price / 100 if price > 0 else 100 / -price
        if points is None:
            want, units = "VOID", 0.0
        elif points == line:
            want, units = "PUSH", 0.0
        elif (points > line) == (side == "OVER"):
            want, units = "WIN", payout
        else:
            want, units = "LOSS", -1.0
        assert b["result"] == want
        assert b["profit_units"] == pytest.approx(units)
        assert b["profit_pct"] == pytest.approx(100 * stake * units)
        expected_units += units
        assert b["running_units"] == pytest.approx(expected_units)
    summary = ledger["summary"]
    assert summary["units"] == pytest.approx(expected_units)
    assert summary["final_flat"] == pytest.approx(100 + expected_units)
    assert summary["n_bets"] == len(graded)
    assert summary["pending"] == len(lines) - len(graded)
    wins = sum(b["result"] == "WIN" for b in graded)
    decided = sum(b["result"] in ("WIN", "LOSS") for b in graded)
    assert summary["hit_rate"] == pytest.approx(wins / decided)
    path = [100.0] + [b["bankroll_kelly"] for b in graded]
    peak = np.maximum.accumulate(path)
    assert summary["max_drawdown_kelly"] == pytest.approx(float(np.max((peak - path) / peak)))
    assert get(client, "/bets?start=2023-01-01&end=2023-01-31", 404)["detail"] == (
        "no bets in 2023-01-01..2023-01-31"
    )
    assert (
        "unknown system" in get(client, f"/bets?start={FIRST}&end={DAY}&system=nope", 400)["detail"]
    )


# --- reads never block the daily job ------------------------------------------------------


def test_the_daily_job_runs_while_the_api_serves_and_the_api_then_sees_it(
    served: Settings, tmp_path: Path
) -> None:
    settings = copy_served(served, tmp_path)
    exe = Path(sys.executable).with_name("nbaprops")
    statuses: list[int] = []
    stop = threading.Event()
    with TestClient(create_app(settings)) as api:
        assert api.get(f"/predictions?date={NEXT}").json()["n"] == 0

        def hammer() -> None:
            # a round of reads every 20 ms the whole run (not a busy loop: the job, not
            # the reader, gets the CPU it shares)
            while not stop.is_set():
                for url in ("/health", f"/predictions?date={DAY}", f"/picks?date={DAY}"):
                    statuses.append(api.get(url).status_code)
                stop.wait(0.02)

        reader = threading.Thread(target=hammer)
        reader.start()
        try:
            job = subprocess.run(
                [
                    *(str(exe), "run", "daily", "--date", str(NEXT), "--skip-ingest"),
                    *("--db", str(settings.paths.db), "--json"),
                ],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "NBAPROPS_RUNS_DIR": str(tmp_path / "runs")},
                check=False,
            )
        finally:
            stop.set()
            reader.join()
        assert job.returncode == 0, job.stderr
        assert json.loads(job.stdout)["snapshot"] == snapshot_path(settings.paths.db).name
        assert len(statuses) > 10
        assert set(statuses) == {200}
        # the API reopens the newly published snapshot on its next request
        after = api.get(f"/predictions?date={NEXT}").json()
        health = api.get("/health").json()
    assert after["n"] > 100
    assert health["freshness"]["last_prediction_date"] == str(NEXT)
    assert {p["run_date"] for p in health["phases"]} >= {str(NEXT)}


def test_without_a_snapshot_every_request_is_503_naming_the_command_and_the_file_stays_free(
    served: Settings, tmp_path: Path
) -> None:
    shutil.copy(served.paths.db, tmp_path / "w.duckdb")
    settings = Settings(db=tmp_path / "w.duckdb")
    api = TestClient(create_app(settings))
    detail = one_line_error(api, "/health", 503)
    assert "no snapshot of w.duckdb is published yet" in detail
    assert "`nbaprops db publish`" in detail
    assert str(tmp_path) not in detail
    # the API never opened the live warehouse: another process takes it read-write at once
    with holding(settings.paths.db):
        assert "no snapshot" in one_line_error(api, "/picks", 503)
    with connect(settings.paths.db) as writer:
        publish_snapshot(writer)
    assert get(api, "/health")["source"] == "snapshot"


def test_a_replaced_snapshot_is_read_afresh_not_from_duckdbs_instance_cache(
    served: Settings, tmp_path: Path
) -> None:
    settings = copy_served(served, tmp_path)
    reader = SnapshotReader(settings.paths.db)
    with reader.cursor() as (con, _):
        before = con.execute("SELECT count(*) FROM pipeline.audit_log").fetchone()[0]
        with connect(settings.paths.db) as writer:
            writer.execute(
                "INSERT INTO pipeline.audit_log (logged_at, actor, action, detail) "
                "VALUES (now(), 'test', 'x', 'y')"
            )
            publish_snapshot(writer)
        time.sleep(0.01)
        # the request already running keeps reading the old snapshot
        assert con.execute("SELECT count(*) FROM pipeline.audit_log").fetchone()[0] == before
    with reader.cursor() as (con, _):
        assert con.execute("SELECT count(*) FROM pipeline.audit_log").fetchone()[0] == before + 1
    reader.close()


# --- security: loopback by default, a token otherwise -------------------------------------


def test_binding_beyond_loopback_needs_a_token() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5")
    assert not is_loopback("example.org")
    check_bind("127.0.0.1", Settings())  # no token needed
    with pytest.raises(NbapropsError, match="NBAPROPS_API_TOKEN"):
        check_bind("0.0.0.0", Settings())
    with pytest.raises(NbapropsError, match="NBAPROPS_API_TOKEN"):
        check_bind("0.0.0.0", Settings(api_token="   "))
    check_bind("0.0.0.0", Settings(api_token="s3cret"))


def test_serve_refuses_to_start_on_a_public_address_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NBAPROPS_API_TOKEN"}
    exe = Path(sys.executable).with_name("nbaprops")
    done = subprocess.run(
        [str(exe), "serve", "--host", "0.0.0.0", "--port", "8765", "--db", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: refusing to serve on 0.0.0.0 without an API token")


def test_every_request_needs_the_token_when_one_is_set(served: Settings) -> None:
    assert token_ok(None, None)
    assert not token_ok("abc", None)
    assert not token_ok("abc", "Bearer abd")
    assert not token_ok("abc", "abc")  # the scheme is required
    assert token_ok("abc", "Bearer abc")
    guarded = Settings(db=served.paths.db, api_token="s3cret-token")
    api = TestClient(create_app(guarded))
    assert api.get("/health").status_code == 401
    assert api.get("/openapi.json").status_code == 401
    assert api.get("/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = api.get("/health", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    assert ok.json()["warehouse"] == "nbaprops.duckdb"


def test_a_failed_daily_run_still_publishes_so_the_api_shows_the_failure(
    served: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbaprops.pipeline import daily

    settings = copy_served(served, tmp_path)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the slate could not be scored")

    monkeypatch.setattr(daily, "predict_job", broken)
    with connect(settings.paths.db) as con, pytest.raises(RuntimeError):
        daily.run_daily(con, settings, NEXT, skip_ingest=True)
    api = TestClient(create_app(settings))
    phases = {p["phase"]: p for p in get(api, "/health")["phases"] if p["run_date"] == str(NEXT)}
    assert phases["predict"]["status"] == "FAILED"
    assert "the slate could not be scored" in phases["predict"]["error"]
    assert phases["grade"]["status"] == "COMPLETE"
