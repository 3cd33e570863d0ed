"""The dashboard's pages on the real-data warehouse: what they show is what the warehouse
holds (counted independently here), filters filter, real and estimated lines stay
apart, bad input gets one readable line, and nothing is loaded from outside."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nbaprops.api.dashboard.track import cumulative_roi, running_clv
from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.pipeline.snapshot import publish_snapshot
from tests.api.conftest import copy_served
from tests.api.html import Page, read_page
from tests.api.served import DAY, FIRST, LAST

pytestmark = [pytest.mark.data, pytest.mark.slow]


def page(client: TestClient, url: str, status: int = 200) -> Page:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return read_page(r.text)


def scalar(served: Settings, sql: str, params: list[Any]) -> Any:
    with connect(served.paths.db, read_only=True) as con:
        return con.execute(sql, params).fetchone()[0]


def test_tonight_shows_the_champions_slate_its_bets_and_real_charts(
    client: TestClient, served: Settings
) -> None:
    home = page(client, f"/?date={DAY}")
    champion_rows = scalar(
        served,
        "SELECT count(*) FROM predictions.prediction "
        "WHERE game_date = ? AND is_active AND alias = 'champion'",
        [DAY],
    )
    slate = home.tables["slate"]
    assert len(slate) == champion_rows > 100
    assert {row[2].split()[0] for row in slate} == {"season_average"}
    body = client.get(f"/picks?date={DAY}").json()
    picks = [p for p in body["picks"] if p["status"] == "BET"]
    bets = home.tables["best-bets"]
    # each bet's player, with his injury-report status beside him when the report lists him
    assert [row[0] for row in bets] == [
        p["player_name"]
        + (
            f" {p['availability_status']}"
            if p["availability_status"] not in (None, "Not listed")
            else ""
        )
        for p in picks
    ]
    assert [row[2].split()[0] for row in bets] == [p["side"] for p in picks]
    assert [row[9].split("u")[0] for row in bets] == [f"{p['stake_units']:.2f}" for p in picks]
    # the champion's record and the verdict stand above the picks
    raw = " ".join(html.unescape(client.get(f"/?date={DAY}").text).split())
    assert body["record"]["statement"] in raw
    assert body["verdict"] in raw
    # every player links to their page
    players = {p["player_id"] for p in picks}
    assert {f"/ui/players/{pid}?date={DAY}" for pid in players} <= set(home.links)
    # the edge chart counts tonight's champion bets; the ROI chart is the days before
    edge = next(s for s in home.svgs if "edge" in s["label"].lower())
    n_bets = scalar(
        served,
        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND is_active "
        "AND alias = 'champion' AND recommendation IN ('OVER', 'UNDER')",
        [DAY],
    )
    counts = [int(n) for n in re.findall(r"N=(\d+)", edge["desc"])]
    assert sum(counts) == n_bets > 0
    roi = next(s for s in home.svgs if "roi" in s["label"].lower())
    assert "chart-empty" not in roi["class"]
    assert re.search(r"-?\d+\.\d%", roi["desc"])


def test_tonight_shows_the_injury_report_used_and_each_flagged_player(
    client: TestClient, served: Settings
) -> None:
    home = page(client, f"/?date={DAY}")
    body = client.get(f"/availability?date={DAY}").json()
    games = body["games"]
    assert len(games) == scalar(served, "SELECT count(*) FROM core.game WHERE game_date = ?", [DAY])
    rows = home.tables["injuries"]
    assert [r[0] for r in rows] == [g["matchup"] for g in games]
    reported = [g for g in games if g["report_time_utc"]]
    assert reported  # the real reports cover this date
    flagged = [
        f"{e['player']} ({e['team']}) {e['status']}"
        for g in games
        for e in g["entries"]
        if e["blocked"]
    ]
    assert flagged
    cells = " ".join(r[3] for r in rows)
    assert all(f in cells for f in flagged)
    assert set(body["blocked_statuses"]) == {"Out", "Doubtful", "Questionable"}


def test_tonight_filters_by_team_and_shows_every_system_on_request(
    client: TestClient, served: Settings
) -> None:
    everything = page(client, f"/?date={DAY}&system=all").tables["slate"]
    total = scalar(
        served,
        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND is_active",
        [DAY],
    )
    assert len(everything) == total
    team = everything[0][1]
    only = page(client, f"/?date={DAY}&system=moving_average&team={team}").tables["slate"]
    expected = scalar(
        served,
        "SELECT count(*) FROM predictions.prediction WHERE game_date = ? AND is_active "
        "AND system_id = 'moving_average' AND team = ?",
        [DAY, team],
    )
    assert len(only) == expected > 0
    assert {(row[1], row[2].split()[0]) for row in only} == {(team, "moving_average")}
    # a line is either real (with its kind) or estimated, never both
    for row in everything:
        assert ("estimated" in row[3]) != ("sportsbook" in row[3]) or row[3] == "–"


def test_track_record_figures_equal_the_grading_endpoint_and_never_mix_lines(
    client: TestClient, served: Settings
) -> None:
    track = client.get(f"/ui/track?system=season_average&start={FIRST}&end={LAST}")
    assert track.status_code == 200
    shown = read_page(track.text)
    graded = client.get(f"/grading?start={FIRST}&end={LAST}&system=season_average").json()
    (book,) = [s for s in graded["systems"] if s["line_kind"] == "sportsbook"]
    assert f"N={book['bets']:,}" in track.text
    assert f"{book['hit_rate'] * 100:.1f}%" in track.text
    titles = {s["label"] for s in shown.svgs}
    for needle in ("ROI", "Rolling hit rate", "MAE", "Calibration", "edge", "Closing line"):
        assert any(needle.lower() in t.lower() for t in titles), (needle, titles)
    # the MAE chart's N per month adds up to the lined rows graded (estimated rows apart)
    mae = next(s for s in shown.svgs if "mae" in s["label"].lower())
    assert sum(int(n) for n in re.findall(r"N=(\d+)", mae["desc"])) == book["n"]
    assert f"N={graded['estimated_lines'][0]['n']:,}" in track.text
    # bets by side add up to the bets; the market's Brier is the /grading one, same rows
    sides = shown.tables["by-side"]
    assert [row[0] for row in sides] == ["OVER", "UNDER"]
    assert sum(int(row[1].replace(",", "")) for row in sides) == book["bets"]
    market = book["market"]
    assert f"market's {market['brier_market']:.4f} on the same {market['n']:,} rows" in (track.text)
    # the ledger section is /bets for the same system and period, figure for figure
    (ledger,) = client.get(f"/bets?start={FIRST}&end={LAST}&system=season_average").json()[
        "systems"
    ]
    summary = ledger["summary"]
    stats = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", track.text)).split())
    assert f"{summary['n_bets']:,} bets graded" in stats
    assert f"{summary['units']:+.2f}u" in stats
    assert f"{summary['final_flat']:.1f} / {summary['final_kelly']:.1f}" in stats
    assert f"{summary['roi_pct']:+.1f}%" in stats
    rows = shown.tables["ledger"]
    assert len(rows) == min(20, len(ledger["bets"])) > 0
    newest = ledger["bets"][-1]
    assert rows[0][1] == newest["player_name"]
    assert rows[0][4] == (newest["result"] or "–")


def test_cumulative_roi_and_running_clv_are_weighted_by_bets() -> None:
    days = [
        {"date": 1, "bets": 10, "profit_consensus": 1.0, "profit_best": 2.0, "clv_line": 0.5,
         "clv_n": 10},
        {"date": 2, "bets": 30, "profit_consensus": -3.0, "profit_best": -1.0, "clv_line": None,
         "clv_n": 0},
        {"date": 3, "bets": 10, "profit_consensus": 2.0, "profit_best": 2.0, "clv_line": -1.0,
         "clv_n": 30},
    ]  # fmt: skip
    roi = cumulative_roi(days)
    assert roi["at consensus"] == [(1, 0.1), (2, -0.05), (3, 0.0)]
    assert roi["at best price"] == [(1, 0.2), (2, 1.0 / 40), (3, 3.0 / 50)]
    assert running_clv(days) == [(1, 0.5), (2, 0.5), (3, (5.0 - 30.0) / 40)]


def test_player_page_lists_the_last_20_games_with_points_lines_and_predictions(
    client: TestClient, served: Settings
) -> None:
    player_id = client.get(f"/picks?date={DAY}").json()["picks"][0]["player_id"]
    shown = page(client, f"/ui/players/{player_id}?date={DAY}")
    games = shown.tables["player-games"]
    with connect(served.paths.db, read_only=True) as con:
        points = con.execute(
            "SELECT points FROM core.player_game WHERE player_id = ? AND game_date <= ? "
            "ORDER BY game_date DESC LIMIT 20",
            [player_id, DAY],
        ).fetchall()
    assert [row[3] for row in games] == [str(p[0]) for p in points]
    assert len(games) == 20
    # the day's game carries the systems' predictions
    assert any(cell not in ("–", "") for cell in games[0][5:])
    chart = shown.svgs[0]
    assert "points" in chart["desc"]
    assert "chart-empty" not in chart["class"]


def served_run_systems(served: Settings) -> tuple[str, int]:
    with connect(served.paths.db, read_only=True) as con:
        primary, systems = con.execute(
            "SELECT primary_system, systems FROM experiments.run WHERE name = 'api-fixture'"
        ).fetchone()
    return primary, len(systems)


def test_models_page_lists_versions_aliases_and_sorts_experiments(
    client: TestClient, served: Settings
) -> None:
    shown = page(client, "/ui/models?versions=all")
    n_versions = scalar(served, "SELECT count(*) FROM models.version", [])
    assert len(shown.tables["versions"]) == n_versions
    recent = scalar(
        served,
        """
        SELECT count(*) FROM (
            SELECT v.system_id, v.version,
                   row_number() OVER (PARTITION BY v.system_id ORDER BY v.version DESC) AS rank,
                   EXISTS (SELECT 1 FROM models.alias a
                           WHERE a.system_id = v.system_id AND a.version = v.version) AS aliased
            FROM models.version v)
        WHERE rank <= 3 OR aliased
        """,
        [],
    )
    assert len(page(client, "/ui/models").tables["versions"]) == recent
    aliased = [row for row in shown.tables["versions"] if "champion" in row[2]]
    assert [row[0] for row in aliased] == ["season_average"]
    runs = scalar(served, "SELECT count(*) FROM experiments.run", [])
    assert len(shown.tables["experiments"]) == max(runs, 1)
    # the fixture's backfill fitted both systems in one run: the row says so
    primary, fitted = served_run_systems(served)
    (row,) = [r for r in shown.tables["experiments"] if r[1] == "api-fixture"]
    assert row[3] == f"{primary} +{fitted - 1} more"
    assert fitted == 2
    for order in ("asc", "desc"):
        names = [row[1] for row in page(client, f"/ui/models?sort=name&order={order}").tables[
            "experiments"]]  # fmt: skip
        assert names == sorted(names, reverse=order == "desc")


def test_health_page_shows_phases_diagnostics_and_alerts(
    client: TestClient, served: Settings
) -> None:
    shown = page(client, "/ui/health")
    phases = shown.tables["phases"]
    n_phases = scalar(
        served, "SELECT count(DISTINCT phase) FROM pipeline.phase_run WHERE run_date = ?", [DAY]
    )
    assert len(phases) == n_phases > 3
    assert {row[2] for row in phases} == {"COMPLETE"}
    diagnosed = scalar(
        served,
        "SELECT count(*) FROM monitoring.diagnostic "
        "WHERE game_date = (SELECT max(game_date) FROM monitoring.diagnostic)",
        [],
    )
    assert len(shown.tables["diagnostics"]) == max(diagnosed, 1)
    if diagnosed:  # each row names its market (every market's rows of the date)
        markets = scalar(
            served,
            "SELECT string_agg(market, ',' ORDER BY system_id, market) FROM monitoring.diagnostic "
            "WHERE game_date = (SELECT max(game_date) FROM monitoring.diagnostic)",
            [],
        )
        assert ",".join(row[1] for row in shown.tables["diagnostics"]) == markets


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/?date=2024-13-45", 400, "date"),
        ("/?date=2024-04-12&system=nope", 400, "unknown system"),
        ("/?date=1999-01-01", 404, "1999-01-01"),
        ("/ui/track?system=season_average&kind=parlay", 400, "line kind"),
        ("/ui/track?system=season_average&start=2024-04-11&end=2024-04-01", 400, "after"),
        ("/ui/players/999999999", 404, "999999999"),
        ("/ui/models?sort=drop%20table", 400, "sort by"),
        ("/ui/models?versions=some", 400, "versions"),
    ],
)
def test_bad_input_gets_a_page_with_one_line(
    client: TestClient, url: str, status: int, needle: str
) -> None:
    shown = page(client, url, status)
    (message,) = shown.errors
    assert needle in message


def test_every_page_loads_only_assets_served_by_the_package(client: TestClient) -> None:
    for url in (f"/?date={DAY}", "/ui/track", "/ui/models", "/ui/health"):
        shown = page(client, url)
        assert shown.assets, url
        for asset in shown.assets + shown.links:
            assert asset.startswith("/"), (url, asset)
            if asset.startswith("/static/"):
                assert client.get(asset).status_code == 200


def test_a_cached_page_is_rendered_afresh_once_a_new_snapshot_is_published(
    served: Settings, tmp_path: Path
) -> None:
    from nbaprops.api.app import create_app

    settings = copy_served(served, tmp_path)
    url = f"/?date={DAY}"
    with TestClient(create_app(settings)) as api:
        first = api.get(url)
        again = api.get(url)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        before = len(read_page(first.text).tables["best-bets"])
        with connect(settings.paths.db) as writer:
            # the champion's top bet of DAY is retired with its prediction; the page drops both
            writer.execute(
                """
                UPDATE predictions.prediction SET is_active = false
                WHERE prediction_id = (
                    SELECT prediction_id FROM predictions.pick
                    WHERE game_date = ? AND is_active AND alias = 'champion'
                      AND status = 'BET' ORDER BY rank LIMIT 1)
                """,
                [DAY],
            )
            writer.execute(
                "UPDATE predictions.pick SET is_active = false WHERE game_date = ? "
                "AND is_active AND alias = 'champion' AND status = 'BET' AND rank = 1",
                [DAY],
            )
            publish_snapshot(writer)
        after = read_page(api.get(url).text)
    shown = len(after.tables["slate"])
    assert shown == len(read_page(first.text).tables["slate"]) - 1
    assert len(after.tables["best-bets"]) == before - 1
