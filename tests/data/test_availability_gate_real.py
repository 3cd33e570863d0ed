"""The availability gate on real slates: no bet on a player listed Out, Doubtful or
Questionable at decision time, in the backtest exactly as in the daily job, and what the
gate is worth (bets voided because the player sat, with and without it)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, prepare_frames, run_on_frames
from nbaprops.experiments.spec import build_spec

pytestmark = [pytest.mark.data, pytest.mark.slow]

BLOCKED = ("Out", "Doubtful", "Questionable")
# Permissive: many bets, so the gate has calls to block.
LOOSE = Settings(ev_margin=0.0, picks_min_record_bets=0, picks_max_per_game=2)
UNGATED = LOOSE.replace(availability_block_statuses=())
SPEC = {
    "name": "spring-gate",
    "systems": ["season_average"],
    "evaluation": {"start": date(2024, 3, 11), "end": date(2024, 4, 14)},
    # one season of training rows: the gate acts on the picks, not on the history's length
    "training": {"start": date(2023, 10, 24)},
    "retrain_every": 7,
    "warmup_days": 7,
    "ev_margin": 0.0,
}


@pytest.fixture(scope="module")
def runs(warehouse: Path) -> dict[str, BacktestResult]:
    """The same walk-forward with and without the gate: one set of frames (what
    ``run_backtest`` builds), replayed under each policy."""
    spec = build_spec(SPEC)
    with connect(warehouse, read_only=True) as con:
        frames = prepare_frames(con, spec)
    return {
        "gated": run_on_frames(frames, spec, settings=LOOSE),
        "ungated": run_on_frames(frames, spec, settings=UNGATED),
    }


def _status_at_decision(con, game_id: str, player_id: int) -> str | None:
    """The player's status in the latest report published by tip-off minus 30 minutes
    that lists his game, computed here independently of the code under test."""
    row = con.execute(
        """
        WITH d AS (SELECT tip_off_utc - INTERVAL 30 MINUTE AS t FROM core.game_tip
                   WHERE game_id = $g),
        r AS (SELECT max(report_time_utc) AS rt FROM core.availability, d
              WHERE game_id = $g AND report_time_utc <= d.t)
        SELECT (SELECT rt FROM r),
               (SELECT any_value(status) FROM core.availability, r
                WHERE game_id = $g AND report_time_utc = r.rt AND player_id = $p)
        """,
        {"g": game_id, "p": int(player_id)},
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return row[1] or "Not listed"


def test_no_bet_is_on_a_player_listed_out_doubtful_or_questionable_at_decision_time(
    runs: dict[str, BacktestResult], warehouse: Path
) -> None:
    picks = runs["gated"].picks
    bets = picks[picks["status"] == "BET"]
    assert len(bets) > 200
    assert not bets["availability_status"].isin(BLOCKED).any()
    held = picks[picks["reason"].str.startswith("listed ", na=False)]
    assert len(held) > 20  # the gate had real calls to hold on these slates
    assert held["availability_status"].isin(BLOCKED).all()
    # every gated call's status is what the report said at decision time
    with connect(warehouse, read_only=True) as con:
        for row in held.head(40).itertuples():
            assert _status_at_decision(con, row.game_id, row.player_id) == row.availability_status
        listed = bets.head(40)
        for row in listed.itertuples():
            expected = _status_at_decision(con, row.game_id, row.player_id)
            stored = row.availability_status if isinstance(row.availability_status, str) else None
            assert expected == stored


def test_the_gate_removes_bets_on_players_who_then_sat(
    runs: dict[str, BacktestResult],
) -> None:
    def voided(result: BacktestResult) -> tuple[int, int]:
        bets = result.picks[result.picks["status"] == "BET"]
        return int((~bets["played"].astype(bool)).sum()), len(bets)

    gated_void, gated_n = voided(runs["gated"])
    ungated_void, ungated_n = voided(runs["ungated"])
    ungated = runs["ungated"].picks
    ungated_bets = ungated[ungated["status"] == "BET"]
    # without the gate, some bets are on players listed as blocked, and some of them sat
    on_blocked = ungated_bets[ungated_bets["availability_status"].isin(BLOCKED)]
    assert len(on_blocked) > 0
    assert ungated_void > gated_void
    assert gated_void / gated_n < ungated_void / ungated_n


def test_the_availability_command_shows_the_report_used_at_decision_time(
    warehouse: Path,
) -> None:
    runner = CliRunner()
    args = ["availability", "--db", str(warehouse), "--date", "2024-03-12", "--team", "NYK"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    (game,) = payload["games"]
    assert game["matchup"] == "PHI@NYK"
    # tip 7:30 PM ET, decision 7:00 PM ET: the 6:30 PM ET report
    assert pd.Timestamp(game["report_time_utc"]) == pd.Timestamp("2024-03-12T22:30:00Z")
    statuses = {e["player"]: e["status"] for e in game["entries"]}
    assert statuses == {
        "Julius Randle": "Out",
        "Mitchell Robinson": "Out",
        "OG Anunoby": "Questionable",
    }
    assert all(e["blocked"] for e in game["entries"])
    # as of 10:00 AM ET the 9:30 AM report is used
    early = json.loads(runner.invoke(app, [*args, "--as-of", "10:00", "--json"]).output)
    assert pd.Timestamp(early["games"][0]["report_time_utc"]) == pd.Timestamp(
        "2024-03-12T13:30:00Z"
    )
    text = runner.invoke(app, args)
    assert "NO BET" in text.output
    assert "06:30 PM ET" in text.output
    bad = runner.invoke(app, [*args, "--as-of", "25:00"])
    assert bad.exit_code == 1
    assert len(bad.output.strip().splitlines()) == 1
    idle = runner.invoke(app, [*args[:-1], "ATL"])  # no game that night
    assert idle.exit_code == 1
    assert "ATL does not play on 2024-03-12" in idle.output
    unknown = runner.invoke(app, [*args[:-1], "ZZZ"])
    assert unknown.exit_code == 1
    assert "unknown team 'ZZZ'" in unknown.output


def test_feature_importance_reports_every_feature_and_the_availability_groups_share(
    warehouse: Path,
) -> None:
    """Fitted on the season and a half the reports cover (from 2022-10-18): every feature
    still ranked, the availability group's share read off real reports."""
    result = CliRunner().invoke(
        app,
        [
            "features",
            "importance",
            "--db",
            str(warehouse),
            "--start",
            "2022-10-18",
            "--end",
            "2024-02-29",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    from nbaprops.features.catalog import POINTS_V3

    assert (payload["train_start"], payload["train_end"]) == ("2022-10-18", "2024-02-29")
    from nbaprops.features.frame import training_spine

    with connect(warehouse, read_only=True) as con:
        sliced = training_spine(con, date(2022, 10, 18), date(2024, 2, 29))
        everything = training_spine(con, None, date(2024, 2, 29))
    assert pd.to_datetime(sliced["game_date"]).min() >= pd.Timestamp("2022-10-18")
    assert 0 < payload["rows"] == len(sliced) < len(everything) / 2  # the slice only

    assert [f["feature"] for f in payload["features"]] != list(POINTS_V3.features)  # ranked
    assert sorted(f["feature"] for f in payload["features"]) == sorted(POINTS_V3.features)
    shares = [f["share"] for f in payload["features"]]
    assert sum(shares) == pytest.approx(1.0)
    assert shares == sorted(shares, reverse=True)
    # reports exist from 2022-10-18: a season and a half of rows by March 2024
    assert payload["share_by_group"]["availability"] > 0
