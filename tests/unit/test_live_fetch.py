"""`nbaprops fetch`: every live source of a date, replayed from recorded payloads, lands
through the same ingest as files; a failing source is one line and never stops the others."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from nbaprops.cli.main import app
from nbaprops.core.db import connect
from nbaprops.core.errors import LiveSourceError
from nbaprops.core.settings import Http, Settings
from nbaprops.ingest import sources
from nbaprops.ingest.live import (
    GAME_LINE_COLUMNS,
    SCHEDULE_COLUMNS,
    fetch_game_lines,
    fetch_gamelog_files,
    fetch_schedule,
)
from nbaprops.ingest.loader import load_file
from nbaprops.pipeline import fetch as fetch_module
from nbaprops.pipeline.fetch import Transports, fetch_date, last_loaded_date
from nbaprops.warehouse.migrate import migrate
from tests.conftest import real_data_dir
from tests.injury_pdfs import PdfReplay, sample_pdfs
from tests.replay import Replay

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "live"
DAY = date(2024, 3, 10)
AT = datetime(2024, 3, 10, 15, 0, 5, tzinfo=UTC)
SECRET = "sk-test-9c2e11aa"
CREDITS = {"x-requests-remaining": "478", "x-requests-used": "22", "x-requests-last": "1"}
CODES = {"Los Angeles Clippers": "lac", "Milwaukee Bucks": "mil", "Los Angeles Lakers": "lal"}
CODES |= {"Minnesota Timberwolves": "min", "Phoenix Suns": "phx", "Chicago Bulls": "chi"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def schedule_route(url: str, params: Mapping[str, Any]) -> Any:
    assert url == "https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json"
    return fixture("nba_schedule_league_v2_2023-24.json")


def nba_route(url: str, params: Mapping[str, Any]) -> Any:
    assert url == "https://stats.nba.com/stats/leaguegamelog"
    mode = {"P": "player", "T": "team"}[params["PlayerOrTeam"]]
    if params["SeasonType"] == "PlayIn":
        return fixture(f"nba_leaguegamelog_{mode}_2023-24_playin.json")
    payload = fixture(f"nba_leaguegamelog_{mode}_2023-24_from_2024-03-09.json")
    if params["SeasonType"] != "Regular Season":  # no playoff game before the date
        payload["resultSets"][0]["rowSet"] = []
    return payload


def nba_route_before_play_in(url: str, params: Mapping[str, Any]) -> Any:
    payload = nba_route(url, params)
    if params["SeasonType"] == "PlayIn":  # on 2024-03-10 no play-in game had been played
        payload["resultSets"][0]["rowSet"] = []
    return payload


def odds_route(url: str, params: Mapping[str, Any]) -> Any:
    if url.endswith("/basketball_nba/odds"):
        return fixture("odds_game_lines_2024-03-10.json")
    if url.endswith("/events"):
        return fixture("odds_events_2024-03-10.json")
    return fixture(f"odds_event_{url.rsplit('/', 2)[-2]}.json")


def fakes(**broken: Exception) -> SimpleNamespace:
    def failing(error: Exception) -> Callable[[str, Mapping[str, Any]], Any]:
        def route(url: str, params: Mapping[str, Any]) -> Any:
            raise error

        return route

    return SimpleNamespace(
        nba_stats=Replay(
            failing(broken["nba_stats"]) if "nba_stats" in broken else nba_route_before_play_in
        ),
        nba_cdn=Replay(failing(broken["nba_cdn"]) if "nba_cdn" in broken else schedule_route),
        odds=Replay(failing(broken["odds"]) if "odds" in broken else odds_route, dict(CREDITS)),
        nba_injury=PdfReplay(sample_pdfs(real_data_dir())),
    )


def as_transports(ns: SimpleNamespace) -> Transports:
    return Transports(
        nba_stats=ns.nba_stats, nba_cdn=ns.nba_cdn, odds=ns.odds, nba_injury=ns.nba_injury
    )


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(":memory:") as connection:
        migrate(connection)
        yield connection


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ODDS_API_KEY", SECRET)
    return Settings(db=tmp_path / "w.duckdb", live_dir=tmp_path / "live", nba_api_delay_s=0)


def header_of(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


# --- each writer produces files the loader reads ------------------------------------------


def test_the_schedule_writer_produces_the_schedule_file_the_loader_reads(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    got = fetch_schedule(tmp_path, Replay(schedule_route), http=Http())

    assert got.path == tmp_path / "schedule/nba_2023_24_schedule_live.csv.gz"
    assert header_of(got.path) == list(SCHEDULE_COLUMNS)
    assert (got.season, got.n_games, got.n_tbd, got.n_other) == ("2023-24", 5, 1, 1)
    loaded = load_file(con, sources.SCHEDULE, got.path)
    assert (loaded.status, loaded.n_loaded, loaded.n_quarantined) == ("loaded", 5, 0)
    rows = con.execute(
        "SELECT game_id, season_type, tip_utc, away_team, home_team, venue, national_tv "
        "FROM raw.schedule ORDER BY tip_utc"
    ).fetchall()
    assert [r[0] for r in rows] == [
        "0022300917",
        "0022300921",
        "0022300924",
        "0022300932",
        "0052300121",
    ]
    lakers = rows[3]
    # 9:30 pm ET on 2024-03-10 is 01:30 UTC the next day: the ET day is the game's day.
    assert lakers[1:5] == (
        "Regular Season",
        datetime(2024, 3, 11, 1, 30, tzinfo=UTC),
        "MIN (Timberwolves)",
        "LAL (Lakers)",
    )
    assert rows[1][6] == "ESPN"
    assert rows[4][1] == "PlayIn"
    with gzip.open(got.path, "rt", encoding="utf-8") as handle:
        tip_et = {r["game_id"]: r["tip_et"] for r in csv.DictReader(handle)}
    assert tip_et["0022300932"] == "2024-03-10T21:30:00-04:00"  # DST began that morning
    assert tip_et["0022300917"] == "2024-03-09T15:00:00-05:00"


def test_the_game_lines_writer_takes_the_books_median_in_the_closing_line_format(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    transport = Replay(odds_route, dict(CREDITS))
    got = fetch_game_lines(
        DAY,
        tmp_path,
        SECRET,
        CODES,
        transport,
        http=Http(),
        season_types={("mil", "lac"): "Regular Season"},
        fetched_at=AT,
    )

    url, params = transport.requests[0].url, transport.requests[0].params
    assert url == "https://api.the-odds-api.com/v4/sports/basketball_nba/odds"
    assert params["markets"] == "spreads,totals"
    assert params["commenceTimeFrom"] == "2024-03-10T05:00:00Z"
    assert got.path == tmp_path / "game_lines/game_lines_live_2024-03-10_150005Z.csv.gz"
    assert header_of(got.path) == list(GAME_LINE_COLUMNS)
    assert (got.n_games, got.n_books, got.requests_remaining, got.requests_used) == (2, 3, 478, 22)
    loaded = load_file(con, sources.GAME_LINES, got.path)
    assert (loaded.status, loaded.n_loaded, loaded.n_quarantined) == ("loaded", 2, 0)
    rows = con.execute(
        "SELECT season, game_date, regular, playoffs, away, home, whos_favored, spread, total "
        "FROM raw.game_line ORDER BY away"
    ).fetchall()
    assert rows == [
        # the Clippers at +6.5, +6.0, +6.5: the Bucks favoured by 6.5; Over 221.5/222/221.5
        (2024, DAY, True, False, "mil", "lac", "away", 6.5, 221.5),
        # the Lakers at -4.5, -5.0, -4.5: home favoured by the median 4.5; totals 226.0-227.0
        (2024, DAY, None, None, "min", "lal", "home", 4.5, 226.5),
    ]
    assert (got.responses_dir / "game_lines.json").is_file()


def test_play_in_box_scores_are_fetched_and_load_with_their_season_type(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    transport = Replay(nba_route)
    files = fetch_gamelog_files("2023-24", "playin", tmp_path, transport, http=Http())

    assert {r.params["SeasonType"] for r in transport.requests} == {"PlayIn"}
    player, team = (f.path for f in files)
    assert player.name == "player_logs_2023-24_playin.csv.gz"
    assert load_file(con, sources.NBA_PLAYER_LOGS, player).n_loaded == 4
    assert load_file(con, sources.NBA_TEAM_LOGS, team).n_loaded == 2
    zion = con.execute(
        "SELECT season_id, game_id, pts FROM raw.nba_player_log WHERE player_name = ?",
        ["Zion Williamson"],
    ).fetchone()
    assert zion == ("52023", "0052300121", 40)
    assert con.execute("SELECT count(*) FROM raw.quarantine").fetchone() == (0,)


def test_an_empty_play_in_writes_no_file(tmp_path: Path) -> None:
    files = fetch_gamelog_files(
        "2023-24",
        "playin",
        tmp_path,
        Replay(nba_route_before_play_in),
        http=Http(),
        skip_empty=True,
    )
    assert files == []
    assert not (tmp_path / "nba_api").exists()


# --- fetch_date: every source, the ingest, failures, skips, credits ------------------------


def test_one_fetch_brings_in_every_source_and_ingests_it(
    settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    report = fetch_date(con, settings, DAY, transports=as_transports(fakes()), fetched_at=AT)

    assert [(s.name, s.status) for s in report.sources] == [
        ("schedule", "ok"),
        ("box scores", "ok"),
        ("game lines", "ok"),
        ("prop lines", "ok"),
        ("injury report", "ok"),
    ]
    assert not report.failed
    assert report.lines() == [
        "schedule: ok (5 games of 2023-24, 1 with tip-off TBD left out, 1 All-Star/Cup final "
        "left out)",
        "box scores: ok (2023-24 whole season to 2024-03-10: 46 player rows (regular 46, "
        "playin 0, playoffs 0), 4 team rows)",
        "game lines: ok (2 games, median of 3 books)",
        "prop lines: ok (2 games, 72 quotes)",
        "injury report: ok (the 2024-03-10 03:30 ET report, 94 entries)",
        "The Odds API credits: 22 used, 478 left",
        report.ingest_line(),
    ]
    assert report.ingest_line().startswith("ingest: ok (6 files: 6 loaded, 0 unchanged")
    counts = con.execute(
        "SELECT (SELECT count(*) FROM raw.schedule), (SELECT count(*) FROM raw.nba_player_log), "
        "(SELECT count(*) FROM raw.nba_team_log), (SELECT count(*) FROM raw.game_line), "
        "(SELECT count(*) FROM raw.odds_api_outcome), (SELECT count(*) FROM core.game_line)"
    ).fetchone()
    assert counts == (5, 46, 4, 2, 72, 2)
    # the fetched files were archived like any file
    archived = con.execute("SELECT count(*) FROM raw.file WHERE archived_path IS NOT NULL")
    assert archived.fetchone() == (6,)


def test_a_second_fetch_asks_for_box_scores_from_the_last_loaded_date_on(
    settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    fetch_date(con, settings, DAY, transports=as_transports(fakes()), fetched_at=AT)
    assert last_loaded_date(con, "2023-24") == date(2024, 3, 9)
    assert last_loaded_date(con, "2022-23") is None

    again = fakes()
    later = datetime(2024, 3, 10, 22, 0, tzinfo=UTC)
    report = fetch_date(con, settings, DAY, transports=as_transports(again), fetched_at=later)

    asked = [r.params for r in again.nba_stats.requests]
    assert {(p["DateFrom"], p["DateTo"]) for p in asked} == {("03/09/2024", "03/10/2024")}
    box = next(s for s in report.sources if s.name == "box scores")
    assert box.detail.startswith("2023-24 since 2024-03-09 to 2024-03-10")
    assert report.ingest is not None
    assert not report.failed
    # the same box scores again: loaded nothing twice
    assert con.execute("SELECT count(*) FROM raw.nba_player_log").fetchone() == (46,)


def test_a_failing_source_is_one_line_and_the_others_still_land(
    settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    down = LiveSourceError(
        "GET https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json failed after 4 "
        "attempts: ConnectionError: Name or service not known"
    )
    report = fetch_date(
        con, settings, DAY, transports=as_transports(fakes(nba_cdn=down)), fetched_at=AT
    )

    assert report.failed
    assert report.lines()[0] == f"schedule: failed ({down})"
    assert [s.status for s in report.sources[1:]] == ["ok", "ok", "ok", "ok"]
    assert con.execute("SELECT count(*) FROM raw.schedule").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM raw.odds_api_outcome").fetchone() == (72,)
    assert con.execute("SELECT count(*) FROM raw.nba_player_log").fetchone() == (46,)


def test_an_unexpected_payload_fails_its_source_alone(
    settings: Settings, con: duckdb.DuckDBPyConnection
) -> None:
    broken = fakes()
    broken.nba_stats = Replay(lambda url, params: {"resultSets": "nope"})
    report = fetch_date(con, settings, DAY, transports=as_transports(broken), fetched_at=AT)

    box = report.sources[1]
    assert (box.name, box.status) == ("box scores", "failed")
    assert "unexpected response" in box.detail
    assert [s.status for s in report.sources if s.name != "box scores"] == [
        "ok",
        "ok",
        "ok",
        "ok",
    ]


def test_a_missing_key_skips_the_odds_sources_without_failing(
    settings: Settings, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ODDS_API_KEY")
    transports = fakes()
    report = fetch_date(con, settings, DAY, transports=as_transports(transports), fetched_at=AT)

    skip = "skipped (The Odds API key not set: export ODDS_API_KEY=...)"
    assert report.lines()[2:4] == [f"game lines: {skip}", f"prop lines: {skip}"]
    assert transports.odds.requests == []
    assert not report.failed
    assert report.credits_line() == "The Odds API credits: not reported (no Odds API request made)"


def test_nothing_fetched_is_no_ingest_and_a_failure(
    settings: Settings, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ODDS_API_KEY")
    down = LiveSourceError("unreachable")
    broken = fakes(nba_cdn=down, nba_stats=down)
    broken.nba_injury = PdfReplay({})  # no report published
    report = fetch_date(con, settings, DAY, transports=as_transports(broken), fetched_at=AT)
    assert report.ingest is None
    assert report.ingest_line() == "ingest: skipped (nothing fetched)"
    assert report.failed


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[SimpleNamespace]]:
    monkeypatch.setenv("ODDS_API_KEY", SECRET)
    monkeypatch.setenv("NBAPROPS_LIVE_DIR", str(tmp_path / "live"))
    monkeypatch.setenv("NBAPROPS_NBA_API_DELAY_S", "0")
    made: list[SimpleNamespace] = []

    def factory(settings: Settings) -> Transports:
        made.append(fakes())
        return as_transports(made[-1])

    monkeypatch.setattr(fetch_module, "default_transports", factory)
    return tmp_path / "w.duckdb", made


def test_nbaprops_fetch_prints_one_line_per_source_and_the_credits(
    cli_env: tuple[Path, list[SimpleNamespace]],
) -> None:
    db, made = cli_env
    result = CliRunner().invoke(app, ["fetch", "--date", "2024-03-10", "--db", str(db)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("schedule: ok (5 games of 2023-24")
    assert "prop lines: ok (2 games, 72 quotes)" in lines
    assert "The Odds API credits: 22 used, 478 left" in lines
    assert any(line.startswith("ingest: ok (6 files: 6 loaded") for line in lines)
    assert SECRET not in result.output
    assert len(made) == 1

    as_json = CliRunner().invoke(app, ["fetch", "--date", "2024-03-10", "--db", str(db), "--json"])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    assert payload["credits"] == {"used": 22, "remaining": 478}
    assert [s["status"] for s in payload["sources"]] == ["ok", "ok", "ok", "ok", "ok"]
    # the schedule and box scores are the same files again: unchanged, not loaded twice
    statuses = {Path(f["path"]).parent.name: f["status"] for f in payload["ingest"]["files"]}
    assert statuses["schedule"] == "unchanged"


def test_nbaprops_fetch_exits_1_when_a_source_failed(
    cli_env: tuple[Path, list[SimpleNamespace]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = cli_env

    def factory(settings: Settings) -> Transports:
        return as_transports(fakes(odds=LiveSourceError("GET odds failed: HTTP 401 Unauthorized")))

    monkeypatch.setattr(fetch_module, "default_transports", factory)
    result = CliRunner().invoke(app, ["fetch", "--date", "2024-03-10", "--db", str(db)])

    assert result.exit_code == 1
    assert "game lines: failed (GET odds failed: HTTP 401 Unauthorized)" in result.output
    assert "schedule: ok" in result.output


def test_nbaprops_fetch_refuses_a_bad_date_in_one_line(
    cli_env: tuple[Path, list[SimpleNamespace]],
) -> None:
    db, made = cli_env
    result = CliRunner().invoke(app, ["fetch", "--date", "10/03/2024", "--db", str(db)])
    assert result.exit_code == 1
    assert "--date" in result.output
    assert made == []


def test_run_daily_live_runs_fetch_first_then_the_usual_phases(
    cli_env: tuple[Path, list[SimpleNamespace]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nbaprops.pipeline import daily

    db, made = cli_env
    # the slate's own phases are tested elsewhere; here only their order and records count
    monkeypatch.setattr(daily, "aliased_models_exist", lambda con, market=None: True)
    monkeypatch.setattr(
        daily,
        "predict_job",
        lambda *a, **k: SimpleNamespace(writes=[], picks=[], unchanged=False),
    )
    monkeypatch.setattr(daily, "signal_job", lambda *a, **k: {})
    monkeypatch.setattr(daily, "champion_picks", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr(daily, "breakout_shadow_phase", lambda *a, **k: None)
    monkeypatch.setattr(daily, "diagnose_job", lambda *a, **k: [])
    seen: list[tuple[str, str]] = []
    real_phase = daily._phase

    def spy(con: Any, run_id: str, day: date, phase: str, status: str, **kw: Any) -> None:
        seen.append((phase, status))
        real_phase(con, run_id, day, phase, status, **kw)

    monkeypatch.setattr(daily, "_phase", spy)
    with connect(db) as con:
        migrate(con)
        settings = Settings(db=db, live_dir=tmp_path / "live", nba_api_delay_s=0)
        result = daily.run_daily(con, settings, DAY, data_dir=tmp_path / "live", live=True)
        recorded = dict(
            con.execute(
                "SELECT phase, status FROM pipeline.phase_run WHERE run_id = ?", [result.run_id]
            ).fetchall()
        )

    assert len(made) == 1
    assert result.fetched is not None
    assert not result.fetched.failed
    started = [p for p, status in seen if status == "RUNNING"]
    assert started[:3] == ["fetch", "ingest", "grade"]
    assert recorded["fetch"] == "COMPLETE"
    assert recorded["ingest"] == recorded["predict"] == recorded["publish"] == "COMPLETE"


def test_run_daily_live_records_a_failed_fetch_and_goes_on(
    cli_env: tuple[Path, list[SimpleNamespace]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nbaprops.pipeline import daily

    db, _ = cli_env
    monkeypatch.setattr(
        fetch_module,
        "default_transports",
        lambda settings: as_transports(fakes(nba_cdn=LiveSourceError("cdn unreachable"))),
    )
    monkeypatch.setattr(daily, "aliased_models_exist", lambda con, market=None: True)
    monkeypatch.setattr(
        daily,
        "predict_job",
        lambda *a, **k: SimpleNamespace(writes=[], picks=[], unchanged=False),
    )
    monkeypatch.setattr(daily, "signal_job", lambda *a, **k: {})
    monkeypatch.setattr(daily, "champion_picks", lambda *a, **k: pd.DataFrame())
    with connect(db) as con:
        migrate(con)
        settings = Settings(db=db, live_dir=tmp_path / "live", nba_api_delay_s=0)
        result = daily.run_daily(con, settings, DAY, data_dir=tmp_path / "live", live=True)
        fetch_row = con.execute(
            "SELECT status, error FROM pipeline.phase_run WHERE run_id = ? AND phase = 'fetch'",
            [result.run_id],
        ).fetchone()
        predict_row = con.execute(
            "SELECT status FROM pipeline.phase_run WHERE run_id = ? AND phase = 'predict'",
            [result.run_id],
        ).fetchone()

    assert fetch_row is not None
    assert fetch_row[0] == "FAILED"
    assert "schedule: failed (cdn unreachable)" in fetch_row[1]
    assert predict_row == ("COMPLETE",)
    assert result.fetched is not None
    assert result.fetched.failed
