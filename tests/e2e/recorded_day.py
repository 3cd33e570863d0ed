"""The recorded day (tests/fixtures/live/recorded_day): the morning data folder of D and
fake transports that replay the day's provider payloads (no network).

``morning_data_dir`` copies the real data folder as it stood on the morning of D =
2024-03-12 without the previous night's box scores: the box-score files keep the games
before D-1 (2024-03-11), the prop files and closing lines keep the dates before D, and
nothing later is copied (2024 and 2025 playoffs, 2024-25, the DFS, PRA and threes
lines, the 2025-26 schedule). A warehouse built from it is the warehouse a user had
that morning, one fetch short of tonight; ``replay_transports`` serves that fetch.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.ingest import live
from nbaprops.pipeline.daily import bootstrap_champion, predict_job
from nbaprops.pipeline.fetch import Transports
from nbaprops.pipeline.jobs import Progress, ingest_job
from tests.conftest import real_data_dir
from tests.injury_pdfs import PdfReplay, sample_pdfs
from tests.replay import Replay

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "live" / "recorded_day"
DAY = date(2024, 3, 12)
YESTERDAY = DAY - timedelta(days=1)
SCHEDULE_URL = "https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json"
GAMELOG_URL = "https://stats.nba.com/stats/leaguegamelog"
CREDITS = {"x-requests-remaining": "19982", "x-requests-used": "18", "x-requests-last": "1"}


def payload(name: str) -> Any:
    return json.loads(gzip.decompress((FIXTURES / name).read_bytes()))


def _schedule(url: str, params: Mapping[str, Any]) -> Any:
    assert url == SCHEDULE_URL, url
    return payload("schedule.json.gz")


def _gamelog(url: str, params: Mapping[str, Any]) -> Any:
    """The recorded LeagueGameLog rows between the request's DateFrom and DateTo (no
    play-in or playoff game had been played on 2024-03-12: those answer no rows)."""
    assert url == GAMELOG_URL, url
    mode = {"P": "player", "T": "team"}[params["PlayerOrTeam"]]
    answer = payload(f"leaguegamelog_{mode}.json.gz")
    answer["parameters"] = {**answer["parameters"], **params}
    result = answer["resultSets"][0]
    at = result["headers"].index("GAME_DATE")

    def day(text: str) -> date:
        return datetime.strptime(text, "%m/%d/%Y").date()

    first = day(params["DateFrom"]) if params.get("DateFrom") else date.min
    last = day(params["DateTo"]) if params.get("DateTo") else date.max
    regular = params["SeasonType"] == "Regular Season" and params["Season"] == "2023-24"
    result["rowSet"] = [
        r for r in result["rowSet"] if regular and first <= date.fromisoformat(r[at]) <= last
    ]
    return answer


def _odds(url: str, params: Mapping[str, Any]) -> Any:
    if url.endswith("/basketball_nba/odds"):
        assert params["markets"] == "spreads,totals"
        return payload("odds_game_lines.json.gz")
    if url.endswith("/basketball_nba/events"):
        return payload("odds_events.json.gz")
    event_id = url.rsplit("/", 2)[-2]
    return payload("odds_event_odds.json.gz")[event_id]


def replay_transports() -> Transports:
    """Fresh fakes of the four hosts, serving the recorded day (its injury report: the
    data folder's sample PDF of 2024-03-12 06:30 PM)."""
    return Transports(
        nba_stats=Replay(_gamelog),
        nba_cdn=Replay(_schedule),
        odds=Replay(_odds, dict(CREDITS)),
        nba_injury=PdfReplay(sample_pdfs(real_data_dir())),
    )


# --- the morning data folder ----------------------------------------------------------------


def _filtered_csv_gz(src: Path, dst: Path, keep: Callable[[dict[str, str]], bool]) -> None:
    with gzip.open(src, "rt", encoding="utf-8", newline="") as handle:
        text = handle.read()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(r for r in reader if keep(dict(zip(header, r, strict=True))))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(gzip.compress(out.getvalue().encode("utf-8"), compresslevel=1, mtime=0))


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)


def morning_data_dir(data: Path, out: Path, day: date = DAY) -> Path:
    """The data folder of the morning of ``day``, without the previous night's box
    scores (see the module's docstring); returns ``out``."""
    before_last_night = (day - timedelta(days=1)).isoformat()
    season = "2023-24"
    for path in sorted((data / "nba_api" / "player_logs").glob("player_logs_*.csv.gz")):
        label = path.name.removeprefix("player_logs_").removesuffix(".csv.gz")
        target = out / "nba_api" / "player_logs" / path.name
        if label < season:
            _copy(path, target)
        elif label == season:
            _filtered_csv_gz(path, target, lambda r: r["GAME_DATE"] < before_last_night)
    for path in sorted((data / "nba_api" / "team_logs").glob("nba_games_*.csv.gz")):
        label = path.name.removeprefix("nba_games_").removesuffix(".csv.gz").replace("_", "-")
        target = out / "nba_api" / "team_logs" / path.name
        if label < season:
            _copy(path, target)
        elif label == season:
            _filtered_csv_gz(path, target, lambda r: r["GAME_DATE"] < before_last_night)
    for path in sorted((data / "nba_api" / "playoff_box").glob("P*.csv.gz")):
        if int(path.name[1:3]) < 24:  # P24: the 2024 playoffs, after the day
            _copy(path, out / "nba_api" / "playoff_box" / path.name)
    props = data / "odds_api" / "player_props_2024_spring"
    for path in sorted(props.glob("data_points_*.csv.gz")):
        if path.name.removeprefix("data_points_")[:10] < day.isoformat():
            _copy(path, out / "odds_api" / "player_props_2024_spring" / path.name)
    lines = data / "game_lines" / "nba_2008-2025_raw.csv.gz"
    _filtered_csv_gz(lines, out / "game_lines" / lines.name, lambda r: r["date"] < day.isoformat())
    return out


@dataclass(frozen=True)
class Morning:
    """The warehouse of the morning of DAY, after the night before's run, and how long
    building it took (seconds: ``build_s``, ``bootstrap_s``)."""

    root: Path
    data_dir: Path
    settings: Settings
    yesterday_predictions: int
    timings: dict[str, float]


def build_morning(data: Path, root: Path) -> Morning:
    """The data folder as it stood on the morning of DAY, ingested; then the night before
    replayed: a champion trained before YESTERDAY, the schedule fetched, YESTERDAY
    predicted (so tonight's run has something to grade)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    folder = morning_data_dir(data, root / "data")
    settings = Settings(
        data_dir=folder,
        db=root / "nbaprops.duckdb",
        runs_dir=root / "runs",
        live_dir=root / "live",
        nba_api_delay_s=0,
    )
    with connect(settings.paths.db) as con:
        built = ingest_job(con, settings)
        if built.report.failures:
            raise RuntimeError(f"the morning's ingest failed: {built.report.failures}")
        timings["build_s"] = time.perf_counter() - started
        started = time.perf_counter()
        bootstrap_champion(con, settings, YESTERDAY, progress=Progress())
        timings["bootstrap_s"] = time.perf_counter() - started
        live.fetch_schedule(
            settings.paths.resolved_live_dir(), replay_transports().nba_cdn, http=settings.http
        )
        ingest_job(con, settings, data_dir=settings.paths.resolved_live_dir())
        predicted = predict_job(con, settings, YESTERDAY)
    n = sum(w.written for w in predicted.writes)
    return Morning(root, folder, settings, n, timings)
