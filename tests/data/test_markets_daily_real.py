"""The daily product per market on the real data: a champion per market, stored rows,
picks under the date's limits across markets, grading against each market's outcome."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.markets import MARKET_CATALOG
from nbaprops.core.settings import Settings
from nbaprops.grading.grade import grade_date
from nbaprops.monitoring.diagnostics import diagnose_range
from nbaprops.pipeline.daily import deliver_picks, predict_job
from nbaprops.read.picks import champion_markets, picks
from tests.conftest import CHAMPION_DAY, MARKET_CHAMPIONS, bootstrapped, copy_warehouse

pytestmark = [pytest.mark.data, pytest.mark.slow]

DAY = date(2024, 4, 12)  # sportsbook lines of every market
NO_REBOUNDS = date(2025, 3, 1)  # threes lines (the 2024-25 season), no rebounds line


@pytest.fixture(scope="module")
def served(market_champions_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the warehouse after `run daily --markets rebounds,threes` on DAY: each
    market without a model got its own default champion, then both were predicted (the
    session's ``market_champions_warehouse``: that run, done once)."""
    assert DAY == CHAMPION_DAY
    assert MARKET_CHAMPIONS == ("rebounds", "threes")
    message = bootstrapped(market_champions_warehouse)
    assert "rebounds champion" in message
    assert "threes champion" in message
    root = tmp_path_factory.mktemp("markets-daily")
    copy_warehouse(market_champions_warehouse, root / "nbaprops.duckdb")
    return Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")


def test_each_market_has_its_own_champion_and_its_own_lined_rows(served: Settings) -> None:
    with connect(served.paths.db, read_only=True) as con:
        aliases = con.execute(
            "SELECT market, system_id, alias, version FROM models.alias ORDER BY market"
        ).fetchall()
        rows = con.execute(
            "SELECT market, player_id, line_source, line, median FROM predictions.prediction "
            "WHERE game_date = ? AND is_active",
            [DAY],
        ).df()
        lines = con.execute(
            "SELECT market, player_id, line FROM core.market_line WHERE game_date = ? "
            "AND market IN ('rebounds', 'threes')",
            [DAY],
        ).df()
    # one system, a champion in each market, two versions: a market's alias is its own
    assert [(m, s, a) for m, s, a, _ in aliases] == [
        ("rebounds", "catboost_full", "champion"),
        ("threes", "catboost_full", "champion"),
    ]
    assert len({v for *_, v in aliases}) == 2
    assert set(rows["market"]) == {"rebounds", "threes"}  # no points: not asked for
    # neither market declares an estimated line: every row is a real line of its market
    assert (rows["line_source"] == "ACTUAL").all()
    for market in ("rebounds", "threes"):
        mine = rows[rows["market"] == market]
        posted = set(lines.loc[lines["market"] == market, "player_id"])
        assert len(mine) > 50
        assert set(mine["player_id"]) <= posted
    threes = rows[rows["market"] == "threes"]
    rebounds = rows[rows["market"] == "rebounds"]
    # each market's model predicts its own stat, not points
    assert threes["median"].max() < 6 < rebounds["median"].max() < 20
    assert threes["line"].max() < 6


def test_a_market_without_lines_on_a_date_has_no_rows_and_says_so(served: Settings) -> None:
    with connect(served.paths.db) as con:
        result = predict_job(con, served, NO_REBOUNDS, markets=("rebounds", "threes"))
        stored = con.execute(
            "SELECT market, count(*) FROM predictions.prediction WHERE game_date = ? "
            "AND is_active GROUP BY market",
            [NO_REBOUNDS],
        ).fetchall()
    assert [n for n in result.notes if n.startswith("no rebounds lines on 2025-03-01")]
    assert dict(stored).keys() == {"threes"}
    assert [w.market for w in result.writes] == ["threes"]


def test_the_dates_bet_limits_hold_across_markets(served: Settings) -> None:
    # a permissive policy (no record needed, no margin) so both markets have bets
    loose = served.replace(
        picks_min_record_bets=0, ev_margin=0.0, picks_min_edge=0.0, picks_max_per_day=12
    )
    with connect(served.paths.db) as con:
        predict_job(con, loose, DAY, force=True, markets=("rebounds", "threes"))
        picked = con.execute(
            "SELECT market, player_id, game_id, team, status, reason, stake_kelly "
            "FROM predictions.pick WHERE game_date = ? AND is_active AND alias = 'champion'",
            [DAY],
        ).df()
    bets = picked[picked["status"] == "BET"]
    # each market alone would bet up to 12; together the date's limits hold
    assert len(bets) == 12
    assert bets["player_id"].is_unique  # one bet per player per date across markets
    assert bets.groupby("game_id").size().max() <= loose.picks.picks_max_per_game
    assert bets.groupby("team").size().max() <= loose.picks.picks_max_per_team
    assert bets["stake_kelly"].sum() <= loose.picks.picks_max_slate_share + 1e-9
    held = picked[picked["reason"].str.endswith("the date's limits hold across markets")]
    assert len(held) > 0
    assert (held["status"] == "WATCHLIST").all()
    assert (held["stake_kelly"] == 0).all()
    # the rule was exercised: some players had a call in both markets
    both = picked.groupby("player_id")["market"].nunique()
    assert (both == 2).any()


def test_grading_uses_each_markets_own_outcome_and_closing_line(served: Settings) -> None:
    with connect(served.paths.db) as con:
        grade_date(con, DAY)
        graded = con.execute(
            """
            SELECT g.market, g.actual_points AS actual, g.closing_line, g.pit,
                   pg.reb, pg.fg3m, cl.line AS close
            FROM grading.grade g
            JOIN predictions.prediction p USING (prediction_id)
            JOIN core.player_game pg ON pg.player_id = g.player_id
             AND pg.game_date = g.game_date
            LEFT JOIN core.market_line cl ON cl.market = g.market
             AND cl.player_id = g.player_id AND cl.game_date = g.game_date
            WHERE g.game_date = ? AND p.is_active
            """,
            [DAY],
        ).df()
        completeness = con.execute(
            "SELECT market, predicted, graded FROM grading.completeness WHERE game_date = ? "
            "ORDER BY market",
            [DAY],
        ).fetchall()
    assert set(graded["market"]) == {"rebounds", "threes"}
    reb = graded[graded["market"] == "rebounds"]
    threes = graded[graded["market"] == "threes"]
    np.testing.assert_array_equal(reb["actual"], reb["reb"].astype(float))
    np.testing.assert_array_equal(threes["actual"], threes["fg3m"].astype(float))
    pd.testing.assert_series_equal(
        graded["closing_line"], graded["close"], check_names=False, check_dtype=False
    )
    assert graded["pit"].between(0, 1).all()
    assert [m for m, _, _ in completeness] == ["rebounds", "threes"]


def test_a_markets_diagnosis_reads_its_lines_on_its_own_scale(served: Settings) -> None:
    """The threes champion's diagnosis of the graded night: its tiers are threes lines'
    (< 2, 2-3, > 3), its regime reads the line's miss in threes, not in points."""
    threes = MARKET_CATALOG["threes"]
    with connect(served.paths.db) as con:
        grade_date(con, DAY)
        (diagnosis,) = diagnose_range(con, served, DAY, DAY, market="threes")
        lined = con.execute(
            """
            SELECT p.line, g.actual_points AS actual FROM predictions.prediction p
            JOIN grading.grade g USING (prediction_id)
            WHERE p.game_date = ? AND p.market = 'threes' AND p.is_active
              AND p.line_source = 'ACTUAL' AND NOT p.in_sample AND g.actual_points IS NOT NULL
              AND g.direction_vs_consensus IS NOT NULL AND g.direction_vs_consensus <> 'void'
            """,
            [DAY],
        ).df()
    assert diagnosis.market_name == "threes"
    sharp = diagnosis.market
    assert sharp["n_lined"] == len(lined) > 30
    miss = float((lined["actual"] - lined["line"]).abs().mean())
    assert sharp["line_mae"] == pytest.approx(miss, abs=1e-6)
    assert 0.5 < miss < 2.0  # a threes line's miss, a fifth of a points line's
    tiers = sharp["line_mae_by_tier"]
    assert list(tiers) == ["lt2", "2to3", "gt3"]
    by_line = [
        int((lined["line"] < 2).sum()),
        int(lined["line"].between(2, 3, inclusive="left").sum()),
        int((lined["line"] >= 3).sum()),
    ]
    assert [t["n"] for t in tiers.values()] == by_line
    assert min(by_line) > 0
    # one night: the 7-day window is this night's rows
    assert sharp["line_mae_7d"] == pytest.approx(miss, abs=1e-6)
    tight, loose = 4.5 * threes.error_scale, 6.5 * threes.error_scale
    want = "TIGHT" if miss < tight else "LOOSE" if miss >= loose else "NORMAL"
    assert sharp["market_regime"] == want  # on points' scale (< 4.5) every night is TIGHT


def test_picks_are_read_per_market(served: Settings) -> None:
    with connect(served.paths.db, read_only=True) as con:
        assert champion_markets(con) == ["rebounds", "threes"]
        payload = picks(con, served, DAY, "threes")
    assert payload["market"] == "threes"
    assert payload["record"]["market"] == "threes"
    assert payload["picks"]
    assert {p["market"] for p in payload["picks"]} == {"threes"}
    runner = CliRunner()
    result = runner.invoke(
        app, ["picks", "--date", str(DAY), "--market", "steals", "--db", str(served.paths.db)]
    )
    assert result.exit_code == 1
    assert "unknown market 'steals': use one of points, rebounds" in result.output
    result = runner.invoke(
        app, ["picks", "--date", str(DAY), "--market", "rebounds", "--db", str(served.paths.db)]
    )
    assert result.exit_code == 0, result.output
    assert f"{DAY} Rebounds" in result.output


class _Posted:
    """A stand-in for urlopen that keeps what was POSTed (tests never touch the net)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.status = 200

    def __call__(self, request: object, timeout: float) -> _Posted:
        self.bodies.append(json.loads(request.data))  # type: ignore[attr-defined]
        return self

    def __enter__(self) -> _Posted:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_the_picks_webhook_carries_every_markets_bets(served: Settings) -> None:
    loose = served.replace(
        picks_min_record_bets=0,
        ev_margin=0.0,
        picks_min_edge=0.0,
        picks_webhook_url="http://127.0.0.1:9/picks",
    )
    posted = _Posted()
    with connect(served.paths.db) as con:
        predicted = predict_job(con, loose, DAY, force=True, markets=("rebounds", "threes"))
        delivery = deliver_picks(con, loose, DAY, predicted, opener=posted)
        stored = con.execute(
            "SELECT market, count(*) FROM predictions.bet WHERE game_date = ? AND is_active "
            "AND alias = 'champion' GROUP BY market ORDER BY market",
            [DAY],
        ).fetchall()
    assert delivery is not None
    assert delivery.ok
    (body,) = posted.bodies
    sent = body["picks"]
    assert isinstance(sent, list)
    # the message holds exactly the stored bets of both markets, rebounds first
    assert [(m, n) for m, n in stored] == [
        (m, sum(p["market"] == m for p in sent)) for m in ("rebounds", "threes")
    ]
    assert [p["market"] for p in sent] == sorted(p["market"] for p in sent)
    text = str(body["text"])
    assert "catboost_full@champion (rebounds), catboost_full@champion (threes)" in text
    assert any(" threes" in line for line in text.splitlines()[1:])
