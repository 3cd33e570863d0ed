"""Daily operations on the real data: predict, grade, signal, picks, backfill, run daily."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core import metrics as m
from nbaprops.core.db import connect
from nbaprops.core.errors import StaleDataError
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import BacktestResult, run_backtest
from nbaprops.experiments.spec import ExperimentSpec, build_spec
from nbaprops.features.state import refresh_state
from nbaprops.grading.bets import grade_bet_rows
from nbaprops.grading.grade import grade_date
from nbaprops.grading.report import graded_rows, graded_summary, system_figures
from nbaprops.pipeline import daily
from nbaprops.pipeline.backfill import BackfillResult, backfill_walk_forward
from nbaprops.pipeline.daily import PHASES, predict_job, run_daily
from nbaprops.predictions.daily import IncompleteSlateError, InSampleError
from nbaprops.warehouse.migrate import migrate
from tests.conftest import CHAMPION_DAY, bootstrapped, copy_warehouse

pytestmark = [pytest.mark.data, pytest.mark.slow]

DAY = date(2024, 4, 12)  # 15 games, 107 lined players
FAST = {"catboost_full": {"iterations": 60, "thread_count": 2}}
# The backfills train on one season (not all history): what they assert (the same rows
# as the backtest, a crash resumed without duplicates) does not depend on its length.
TRAINING_START = date(2023, 10, 24)


def backfill_spec(first: date, last: date, **changes: object) -> ExperimentSpec:
    return build_spec(
        {
            "name": f"backfill-{first}-{last}",
            "systems": ["season_average", "moving_average", "catboost_full"],
            "system_params": FAST,
            "evaluation": {"start": first, "end": last},
            "retrain_every": 7,
            "warmup_days": 7,
            "training": {"start": TRAINING_START},
            **changes,
        }
    )


def copy_of(warehouse: Path, root: Path) -> Settings:
    copy_warehouse(warehouse, root / "nbaprops.duckdb")
    return Settings(db=root / "nbaprops.duckdb", runs_dir=root / "runs")


@pytest.fixture(scope="module")
def served(
    champion_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A copy of the warehouse whose champion was bootstrapped before DAY (the session's
    champion warehouse, trained once)."""
    assert CHAMPION_DAY == DAY
    settings = copy_of(champion_warehouse, tmp_path_factory.mktemp("served"))
    with connect(settings.paths.db) as con:
        migrate(con)
    assert "champion" in bootstrapped(champion_warehouse)
    return settings


def test_predict_writes_every_slate_player_with_line_provenance(served: Settings) -> None:
    with connect(served.paths.db) as con:
        result = predict_job(con, served, DAY)
        rows = con.execute(
            "SELECT * FROM predictions.prediction WHERE game_date = ? AND is_active", [DAY]
        ).df()
        lines = con.execute(
            "SELECT count(*) FROM core.points_line WHERE game_date = ? AND line_kind = "
            "'sportsbook'",
            [DAY],
        ).fetchone()
    assert not result.unchanged
    assert len(rows) == result.n_spine > 200
    actual = rows[rows["line_source"] == "ACTUAL"]
    # every lined player is on the slate (a few lines appear only after decision time)
    assert 0.9 * lines[0] <= len(actual) <= lines[0]
    assert actual["n_books"].min() >= 1
    assert actual["quote_time"].notna().all()
    decided = actual.dropna(subset=["decision_time"])
    assert (decided["quote_time"] <= decided["decision_time"]).all()
    estimated = rows[rows["line_source"] == "ESTIMATED"]
    assert (estimated["recommendation"] == "NO_LINE").all()
    assert (estimated["estimated_line"] * 2 % 1 == 0).all()
    assert set(rows["recommendation"]) <= {"OVER", "UNDER", "PASS", "NO_LINE"}
    bets = rows[rows["recommendation"].isin(["OVER", "UNDER"])]
    assert len(bets) > 0
    # line shopping: the named book quoted that line and price at decision time
    assert bets["bet_book"].notna().all()
    assert bets["bet_price"].notna().all()
    assert (bets["ev"] > 0.02).all()
    p = rows[["p_over", "p_under", "p_push"]].dropna().sum(axis=1)
    assert np.allclose(p, 1.0, atol=1e-9)


def test_rerun_changes_nothing_and_force_supersedes_without_deleting(served: Settings) -> None:
    with connect(served.paths.db) as con:
        predict_job(con, served, DAY)
        before = con.execute("SELECT count(*) FROM predictions.prediction").fetchone()[0]
        again = predict_job(con, served, DAY)
        assert again.unchanged
        assert con.execute("SELECT count(*) FROM predictions.prediction").fetchone()[0] == before
        forced = predict_job(con, served, DAY, force=True)
        active = con.execute(
            "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND is_active", [DAY]
        ).fetchone()[0]
        old = con.execute(
            """
            SELECT o.player_id, n.player_id AS new_player, n.is_active
            FROM predictions.prediction o JOIN predictions.prediction n
              ON n.prediction_id = o.superseded_by
            WHERE o.game_date = ? AND NOT o.is_active
            """,
            [DAY],
        ).df()
        audit = con.execute(
            "SELECT count(*) FROM pipeline.audit_log WHERE actor = 'predict' AND action = "
            "'supersede'"
        ).fetchone()[0]
    total = sum(w.written for w in forced.writes)
    assert active == total
    assert len(old) >= total  # every earlier row kept and linked to its replacement
    assert (old["player_id"] == old["new_player"]).all()
    assert old["is_active"].all()
    assert audit >= 1


def test_predict_refuses_dates_inside_the_training_window(served: Settings) -> None:
    with connect(served.paths.db) as con:
        with pytest.raises(InSampleError, match="training window"):
            predict_job(con, served, DAY - timedelta(days=2))
        research = predict_job(con, served, DAY - timedelta(days=2), allow_in_sample=True)
        marked = con.execute(
            "SELECT bool_and(in_sample), count(*) FROM predictions.prediction WHERE game_date = ?",
            [DAY - timedelta(days=2)],
        ).fetchone()
        grade_date(con, DAY - timedelta(days=2))
        figures = graded_rows(con, DAY - timedelta(days=2), DAY - timedelta(days=2))
    assert sum(w.written for w in research.writes) == marked[1] > 0
    assert marked[0] is True
    assert figures.empty  # in-sample rows never enter a figure


def test_the_completeness_gate_refuses_an_incomplete_slate(
    served: Settings, tmp_path: Path
) -> None:
    """Box scores that never arrived: the lined players have no history to build from.
    (The freshness gate refuses such a date first; past it, the completeness gate.)"""
    broken = copy_of(served.paths.db, tmp_path / "broken")
    with connect(broken.paths.db) as con:
        con.execute("DELETE FROM core.player_game WHERE game_date < ?", [DAY])
        refresh_state(con, force=True)
        n = con.execute("SELECT count(*) FROM predictions.prediction").fetchone()[0]
        with pytest.raises(StaleDataError, match="no box scores before 2024-04-12"):
            predict_job(con, broken, DAY, force=True)
        with pytest.raises(IncompleteSlateError, match="required feature"):
            predict_job(con, broken, DAY, force=True, allow_stale=True)
        assert con.execute("SELECT count(*) FROM predictions.prediction").fetchone()[0] == n
        skipped = predict_job(
            con, broken, DAY, force=True, skip_completeness_check=True, allow_stale=True
        )
        flagged = con.execute(
            "SELECT bool_and(completeness_skipped), count(*) FROM predictions.prediction "
            "WHERE game_date = ? AND is_active",
            [DAY],
        ).fetchone()
        logged = con.execute(
            "SELECT count(*) FROM pipeline.audit_log WHERE action = 'skip_completeness_check'"
        ).fetchone()[0]
    assert skipped.complete_share < 0.9
    assert flagged[0] is True
    assert flagged[1] > 0
    assert logged == 1


def test_grading_is_idempotent_and_logs_box_score_corrections(served: Settings) -> None:
    with connect(served.paths.db) as con:
        predict_job(con, served, DAY)
        first = grade_date(con, DAY)
        grades = con.execute(
            "SELECT * EXCLUDE (graded_at) FROM grading.grade WHERE game_date = ? ORDER BY 1",
            [DAY],
        ).df()
        second = grade_date(con, DAY)
        again = con.execute(
            "SELECT * EXCLUDE (graded_at) FROM grading.grade WHERE game_date = ? ORDER BY 1",
            [DAY],
        ).df()
        pd.testing.assert_frame_equal(grades, again)
        assert second.regraded == []
        player = grades[grades["direction_vs_consensus"] == "right"]["player_id"].iloc[0]
        con.execute(
            "UPDATE core.player_game SET points = points + 1 WHERE player_id = ? AND game_date = ?",
            [int(player), DAY],
        )
        summary = graded_summary(con, DAY, DAY)
        third = grade_date(con, DAY)
        regraded = con.execute(
            "SELECT regraded, actual_points FROM grading.grade g JOIN predictions.prediction p "
            "USING (prediction_id) WHERE p.player_id = ? AND p.game_date = ? AND p.is_active",
            [int(player), DAY],
        ).fetchall()
    assert first.graded + first.void == len(grades) > 200
    voids = grades[grades["direction_vs_consensus"] == "void"]
    assert voids["void_reason"].notna().all()
    assert voids["actual_points"].isna().all()
    assert len(third.regraded) == 1
    assert regraded[0][0] == 1
    lined = grades[grades["line_source"] != "ACTUAL"]
    assert set(lined["direction_vs_consensus"]) <= {
        "pass",
        "void",
    }  # estimated lines never enter hit rates
    assert grades["pit"].dropna().between(0, 1).all()
    (lined,) = summary["systems"]  # the champion, on real lines only
    estimated = {r["system"]: r for r in summary["estimated_lines"]}
    assert lined["n"] == int(
        ((grades["line_source"] == "ACTUAL") & (grades["direction_vs_consensus"] != "void")).sum()
    )
    assert estimated[lined["system"]]["n"] > 0
    assert 2.0 < estimated[lined["system"]]["estimated_line_mae"] < 8.0


def test_signal_and_picks_follow_the_rules(served: Settings) -> None:
    runner = CliRunner()
    db = str(served.paths.db)
    out = runner.invoke(app, ["predict", "--date", str(DAY), "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["signal", "--date", str(DAY), "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    signals = json.loads(out.output)["signals"]
    (champion,) = [s for k, s in signals.items() if k.endswith("@champion")]
    assert champion["n_games"] == 15
    expected = (
        "RED"
        if champion["over_share"] is not None and champion["over_share"] < 0.25
        else "YELLOW"
        if champion["n_high_edge"] < 3 or (champion["over_share"] or 0) > 0.45
        else "GREEN"
    )
    assert champion["signal"] == expected
    out = runner.invoke(app, ["picks", "--date", str(DAY), "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    picks = pd.DataFrame(payload["picks"])
    calls = champion["n_bets"]
    assert len(picks) == calls > 0  # every call is a pick: a bet or on the watchlist
    assert set(picks["status"]) <= {"BET", "WATCHLIST"}
    assert (picks["ev_calibrated_pct"] <= picks["ev_pct"] + 1e-9).all()
    watch = picks[picks["status"] == "WATCHLIST"]
    assert watch["reason"].str.len().gt(0).all()
    assert (watch["stake_pct"] == 0).all()
    bets = picks[picks["status"] == "BET"]
    # the default rule stakes only what the record backs
    assert (bets["ev_calibrated_pct"] > 100 * served.betting.ev_margin).all()
    assert (bets["record"].map(lambda r: r["n"]) >= served.picks.picks_min_record_bets).all()
    assert bets["stake_pct"].sum() <= 100 * served.picks.picks_max_slate_share + 1e-9
    assert payload["verdict"].startswith("no bets today") is bets.empty
    assert payload["record"]["n"] > 100


def test_a_pick_is_graded_at_its_own_line_and_price_not_the_consensus(
    served: Settings,
) -> None:
    """Real picks shopped to another line: graded as placed they can lose where the call
    was right against the consensus (2024-04-12's top claim, Zion Williamson UNDER 25.5
    at +110 against a 26.5 consensus, scored 26)."""
    with connect(served.paths.db) as con:
        predict_job(con, served, DAY)
        grade_date(con, DAY)
        rows = con.execute(
            """
            SELECT k.pick_id, k.system_id, k.game_date, k.player_id, k.side, k.line,
                   k.bet_line, k.bet_price, k.stake_flat, k.stake_kelly,
                   CAST(pg.points AS DOUBLE) AS actual_points, g.direction_vs_consensus
            FROM predictions.pick k
            JOIN grading.grade g USING (prediction_id)
            LEFT JOIN core.player_game pg
              ON pg.player_id = k.player_id AND pg.game_date = k.game_date
            WHERE k.game_date = ? AND k.is_active AND k.bet_line <> k.line
            """,
            [DAY],
        ).df()
    assert len(rows) > 5  # line shopping took another line for these calls
    graded = grade_bet_rows(rows.assign(stake_flat=1.0), pd.Timestamp.now(tz="UTC"))
    played = rows["actual_points"].notna()
    won = np.where(
        rows["side"] == "OVER",
        rows["actual_points"] > rows["bet_line"],
        rows["actual_points"] < rows["bet_line"],
    )
    expected = np.where(~played, "VOID", np.where(won, "WIN", "LOSS"))
    assert graded["result"].tolist() == expected.tolist()
    payout = np.where(rows["bet_price"] > 0, rows["bet_price"] / 100, 100 / -rows["bet_price"])
    np.testing.assert_allclose(
        graded["profit_units"], np.where(~played, 0.0, np.where(won, payout, -1.0))
    )
    # where the bet and the call's direction against the consensus part ways
    split = (graded["result"].to_numpy() == "LOSS") & (rows["direction_vs_consensus"] == "right")
    assert split.any()


def test_predicting_a_past_date_reads_no_later_box_score_and_no_later_quote(
    served: Settings, tmp_path: Path
) -> None:
    """Perturb every box score on or after the date and every quote after its decision
    time (a live run during the day's last snapshot: the moment it runs): the
    predictions do not move."""
    now = datetime(2024, 4, 12, 18, 59, 30, tzinfo=UTC)
    changed = copy_of(served.paths.db, tmp_path / "changed")
    with connect(changed.paths.db) as con:
        con.execute(
            "UPDATE core.player_game SET points = points * 10 + 7, minutes = minutes + 20 "
            "WHERE game_date >= ?",
            [DAY],
        )
        moved = con.execute(
            """
            UPDATE core.prop_line_snapshot SET line = line + 6, over_price = 250
            WHERE game_date = $day AND market = 'points' AND snapshot_time IS NOT NULL
              AND snapshot_time > least(commence_time - INTERVAL 30 MINUTE, $now)
            """,
            {"day": DAY, "now": now},
        ).fetchone()
        refresh_state(con, force=True)
        predict_job(con, changed, DAY, force=True, now=now)
        perturbed = con.execute(
            "SELECT player_id, line, n_books, median, p_over, recommendation, bet_line, "
            "bet_price FROM predictions.prediction WHERE game_date = ? AND is_active "
            "ORDER BY player_id",
            [DAY],
        ).df()
    with connect(served.paths.db) as con:
        predict_job(con, served, DAY, force=True, now=now)
        original = con.execute(
            "SELECT player_id, line, n_books, median, p_over, recommendation, bet_line, "
            "bet_price FROM predictions.prediction WHERE game_date = ? AND is_active "
            "ORDER BY player_id",
            [DAY],
        ).df()
    assert moved[0] > 0
    pd.testing.assert_frame_equal(original, perturbed)
    assert original["line"].notna().sum() > 50


# A permissive policy with tight caps, so real slates have bets and the caps bind.
LOOSE = {
    "ev_margin": 0.0,
    "picks_min_record_bets": 0,
    "picks_max_bet_share": 0.01,
    "picks_max_slate_share": 0.03,
}


def check_caps(picks: pd.DataFrame, settings: Settings) -> int:
    """Every slate's bets within the caps and limits; returns the slates that had bets."""
    bets = picks[picks["status"] == "BET"]
    slates = 0
    for _, slate in bets.groupby(["system", "game_date"]):
        slates += 1
        assert slate["stake_kelly"].max() <= settings.picks.picks_max_bet_share + 1e-12
        assert slate["stake_kelly"].sum() <= settings.picks.picks_max_slate_share + 1e-12
        assert slate["player_id"].is_unique
        assert slate.groupby("game_id").size().max() <= settings.picks.picks_max_per_game
        assert slate.groupby("team").size().max() <= settings.picks.picks_max_per_team
        assert len(slate) <= settings.picks.picks_max_per_day
        red = (slate["slate_signal"] == "RED").to_numpy()
        halved = slate["stake_kelly_before"].to_numpy() * settings.picks.picks_red_multiplier
        assert (slate["stake_kelly"].to_numpy()[red] <= halved[red] + 1e-12).all()
        assert (slate["stake_kelly"] <= slate["stake_kelly_before"] + 1e-12).all()
    return slates


# The backfill of both backfill tests: its composites are systems like any other
# (registered, written and graded per fold); two folds, the first a warm-up.
BACKFILL_SYSTEMS = ["season_average", "moving_average", "catboost_full", "anchored", "ensemble"]
BACKFILL_SPEC = backfill_spec(
    date(2024, 3, 25), date(2024, 3, 31), ev_margin=0.0, systems=BACKFILL_SYSTEMS
)


@dataclass
class Walked:
    """A backfill of ``BACKFILL_SPEC`` run to the end, and the backtest of the same spec."""

    settings: Settings
    result: BackfillResult
    replayed: BacktestResult
    stored: pd.DataFrame  # graded_rows of March 2024
    written: pd.DataFrame  # the active predictions
    picks: pd.DataFrame  # the active picks with their grades


@pytest.fixture(scope="module")
def walked(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Walked:
    """Backfilled once for the module: the equality test compares it with its backtest, the
    crash test its resumed backfill with both."""
    settings = copy_of(warehouse, tmp_path_factory.mktemp("walked")).replace(**LOOSE)
    with connect(settings.paths.db) as con:
        migrate(con)
        result = backfill_walk_forward(con, BACKFILL_SPEC, settings)
        replayed = run_backtest(con, BACKFILL_SPEC, settings=settings)
        stored = graded_rows(con, date(2024, 3, 1), date(2024, 3, 31))
        written = con.execute(
            "SELECT system_id AS system, player_id, game_date, median, p_over, ev, "
            "ev_calibrated, recommendation, decision FROM predictions.prediction WHERE is_active"
        ).df()
        picks = con.execute(
            "SELECT k.*, k.system_id AS system, g.result, g.profit_per_unit "
            "FROM predictions.pick k LEFT JOIN grading.bet_grade g USING (pick_id) "
            "WHERE k.is_active"
        ).df()
    written["game_date"] = pd.to_datetime(written["game_date"]).dt.date
    picks["game_date"] = pd.to_datetime(picks["game_date"]).dt.date
    return Walked(settings, result, replayed, stored, written, picks)


def test_a_backfill_equals_the_backtest_of_the_same_dates_and_models(walked: Walked) -> None:
    settings, result, replayed = walked.settings, walked.result, walked.replayed
    spec, systems = BACKFILL_SPEC, BACKFILL_SYSTEMS
    backtest, stored = replayed.predictions, walked.stored
    written, picks = walked.written.copy(), walked.picks.copy()
    assert result.versions_registered == 5 * 2  # five systems, two folds (one warm-up)
    assert not result.notes
    both = backtest.merge(
        written, on=["system", "player_id", "game_date"], how="outer", indicator=True
    )
    assert (both["_merge"] == "both").all()
    assert len(both) == len(backtest)
    assert np.allclose(both["median_x"], both["median_y"], rtol=0, atol=1e-9)
    assert np.allclose(both["p_over_x"], both["p_over_y"], atol=1e-9, equal_nan=True)
    assert np.allclose(both["ev_x"], both["ev_y"], atol=1e-9, equal_nan=True)
    assert np.allclose(both["ev_calibrated_x"], both["ev_calibrated_y"], atol=1e-9, equal_nan=True)
    sides = np.where(both["line"].notna(), both["side"], "NO_LINE")
    assert (sides == both["recommendation"].to_numpy()).all()
    decisions = np.where(both["line"].notna(), both["decision_x"], "NO_LINE")
    assert (decisions == both["decision_y"].to_numpy()).all()
    # ... and their picks: the same bets, watchlist, reasons, records and stakes
    key = ["system", "game_date", "player_id"]
    same = replayed.picks.merge(picks, on=key, how="outer", indicator=True)
    assert (same["_merge"] == "both").all()
    assert len(same) == len(replayed.picks) > 100
    for col in ("status", "reason", "side", "bet_book", "ev_bucket", "record_n", "rank"):
        assert (same[f"{col}_x"].fillna("") == same[f"{col}_y"].fillna("")).all(), col
    for col in ("ev_raw", "ev_calibrated", "bet_line", "bet_price", "stake_kelly_before"):
        assert np.allclose(same[f"{col}_x"], same[f"{col}_y"], atol=1e-9, equal_nan=True), col
    assert np.allclose(same["stake_kelly_x"], same["stake_kelly_y"], atol=1e-12)
    bets = same[same["status_x"] == "BET"]
    assert len(bets) > 10
    # every bet graded at its own line and price, as the backtest grades it
    outcome, per_unit = m.graded_as_placed(
        bets["actual"], bets["side_x"], bets["played"], bets["bet_line_x"], bets["bet_price_x"]
    )
    assert [o.upper() for o in outcome] == bets["result"].tolist()
    assert np.allclose(per_unit, bets["profit_per_unit"], atol=1e-12)
    # the caps hold on every slate, in the backtest and in the tables the daily job reads
    assert check_caps(replayed.picks, settings) == check_caps(picks, settings) > 5
    assert (
        picks.groupby(["system", "game_date"])["capped_by"].agg(
            lambda c: c.str.contains("slate cap").any()
        )
    ).any()
    reported = stored[pd.to_datetime(stored["game_date"]).dt.date >= spec.start]
    from_backfill = {r["system"]: r for r in system_figures(reported)}
    from_backtest = {r["system"]: r for r in system_figures(backtest[~backtest["warmup"]])}
    assert from_backfill.keys() == from_backtest.keys() == set(systems)
    for system, figures in from_backtest.items():
        mine = from_backfill[system]
        for key in ("n", "bets", "pushes", "voids"):
            assert mine[key] == figures[key], (system, key)
        for key in ("hit_rate", "model_mae", "line_mae", "roi_consensus", "roi_best"):
            assert mine[key] == pytest.approx(figures[key], abs=1e-12), (system, key)


CRASH_SCRIPT = """
import datetime
import sys
from datetime import date
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.experiments.spec import build_spec
from nbaprops.pipeline.backfill import backfill_walk_forward
from nbaprops.warehouse.migrate import migrate

spec = build_spec(__SPEC__)
settings = Settings(db=sys.argv[1], runs_dir=sys.argv[2]).replace(**__SETTINGS__)
with connect(settings.paths.db) as con:
    migrate(con)
    backfill_walk_forward(con, spec, settings, on_date=lambda d: print(d, flush=True))
"""


def test_a_backfill_killed_with_sigkill_finishes_on_rerun_without_duplicates(
    walked: Walked, warehouse: Path, tmp_path: Path
) -> None:
    """The module's backfill, killed in its second fold and re-run: it ends with the rows
    of the backfill that ran through (``walked``) and of the backtest of its spec."""
    settings = copy_of(warehouse, tmp_path).replace(**LOOSE)
    spec, systems = BACKFILL_SPEC, BACKFILL_SYSTEMS
    script = CRASH_SCRIPT.replace("__SPEC__", repr(spec.model_dump(mode="python"))).replace(
        "__SETTINGS__", repr(LOOSE)
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(settings.paths.db), str(tmp_path / "runs")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        text = line.strip()
        if len(text) == 10 and text[4] == "-":  # a finished date (nothing else is printed)
            seen.append(text)
        else:
            pytest.fail(f"the backfill printed more than its dates: {text!r}")
        if len(seen) == 9:  # in the middle of the second fold
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    with connect(settings.paths.db) as con:
        partial = con.execute(
            "SELECT count(DISTINCT game_date) FROM predictions.prediction"
        ).fetchone()[0]
        result = backfill_walk_forward(con, spec, settings)
        counts = con.execute(
            """
            SELECT system_id, game_date, player_id, count(*) AS n
            FROM predictions.prediction WHERE is_active GROUP BY ALL
            """
        ).df()
        total = con.execute("SELECT count(*) FROM predictions.prediction").fetchone()[0]
        dates = con.execute(
            "SELECT DISTINCT game_date FROM core.game WHERE game_date BETWEEN ? AND ? "
            "AND status = 'final' AND season_type IN ('regular', 'playoffs')",
            [spec.start - timedelta(days=spec.warmup_days), spec.end],
        ).fetchall()
        per_date = con.execute(
            "SELECT count(DISTINCT (game_date, system_id)) FROM predictions.prediction"
        ).fetchone()[0]
        resumed = con.execute(
            "SELECT system_id AS system, player_id, game_date, median, p_over, ev, "
            "ev_calibrated, recommendation, decision FROM predictions.prediction WHERE is_active"
        ).df()
    reference = walked.replayed.predictions
    assert len(seen) == 9 < len(dates)  # killed in the second fold, before its last date
    assert 0 < partial < len(dates)
    assert result.dates_skipped >= 8
    assert result.versions_reused >= 3
    assert counts["n"].max() == 1  # no duplicate
    assert total == len(counts) == len(reference)  # nothing missing, nothing superseded
    assert per_date == len(systems) * len(dates)
    # ... and the very rows of the backfill that was never interrupted
    resumed["game_date"] = pd.to_datetime(resumed["game_date"]).dt.date
    key = ["system", "player_id", "game_date"]
    same = walked.written.merge(resumed, on=key, how="outer", indicator=True)
    assert (same["_merge"] == "both").all()
    assert len(same) == len(resumed) == total
    for col in ("median", "p_over", "ev", "ev_calibrated"):
        assert np.allclose(same[f"{col}_x"], same[f"{col}_y"], atol=1e-9, equal_nan=True), col
    for col in ("recommendation", "decision"):
        assert (same[f"{col}_x"].fillna("") == same[f"{col}_y"].fillna("")).all(), col


def test_run_daily_bootstraps_a_champion_and_records_every_phase(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse without models: ``run daily`` trains and crowns its default champion
    (its own phase), then predicts; the next night grades and diagnoses. The bootstrap
    here trains on one season (``TRAINING_START`` on, not the product's two years): what
    is asserted (the phases, the version registered, the champion serving) does not
    depend on its length."""
    monkeypatch.setattr(daily, "BOOTSTRAP_HISTORY_DAYS", (DAY - TRAINING_START).days)
    settings = copy_of(warehouse, tmp_path)
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "run",
            "daily",
            "--date",
            str(DAY),
            "--db",
            str(settings.paths.db),
            "--skip-ingest",
            "--json",
        ],
        env={"NBAPROPS_RUNS_DIR": str(tmp_path / "runs")},
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert "trained xgboost@v1" in payload["bootstrapped"]
    assert "promoted through the gate" in payload["bootstrapped"]  # as the two years are
    assert payload["predict"]["models"][0]["alias"] == "champion"
    assert payload["picks"]["picks"]  # the calls, each a bet or on the watchlist
    assert payload["picks"]["record"]["system"] == "xgboost"
    assert payload["signals"]
    with connect(settings.paths.db, read_only=True) as con:
        phases = con.execute(
            "SELECT phase, status, rows FROM pipeline.phase_run ORDER BY started_at"
        ).fetchall()
        trained = con.execute("SELECT train_start, train_end FROM models.version").fetchall()
    assert trained == [(TRAINING_START, DAY - timedelta(days=1))]  # one season, before DAY
    assert [p[:2] for p in phases] == [(name, "COMPLETE") for name in PHASES]
    assert phases[PHASES.index("diagnose")][2] == 0  # nothing graded yet: nothing diagnosed
    assert phases[PHASES.index("bootstrap")][2] == 1  # its own phase: one version registered
    status = runner.invoke(app, ["status", "--db", str(settings.paths.db), "--json"])
    assert status.exit_code == 0, status.output
    recorded = json.loads(status.output)["phases"]
    assert {(p["phase"], p["status"]) for p in recorded} >= {("predict", "COMPLETE")}
    # the next night grades the date before predicting the next one
    with connect(settings.paths.db) as con:
        nxt = run_daily(con, settings, DAY + timedelta(days=2), skip_ingest=True)
    assert [g.day for g in nxt.graded] == [DAY]
    with connect(settings.paths.db, read_only=True) as con:
        again = con.execute(
            "SELECT status, rows FROM pipeline.phase_run WHERE run_id = ? AND phase = 'bootstrap'",
            [nxt.run_id],
        ).fetchone()
    assert again == ("COMPLETE", 0)  # a champion exists: nothing to bootstrap, still recorded
    # ... and diagnoses the date it graded, for the champion that predicted it
    assert [(d.game_date, d.system_id) for d in nxt.diagnostics] == [(DAY, "xgboost")]
    assert nxt.diagnostics[0].market["n_lined"] > 50
