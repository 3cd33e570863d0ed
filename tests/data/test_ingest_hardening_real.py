"""Issue 22 on the real data: a season swapped in place is refused, the limits fit real files."""

from __future__ import annotations

import shutil
from pathlib import Path

from nbaprops.core.db import connect
from nbaprops.core.settings import Settings
from nbaprops.ingest.limits import IngestLimits
from nbaprops.ingest.loader import gunzip
from nbaprops.pipeline.jobs import ingest_job


def player_games(settings: Settings) -> list[tuple[str, int]]:
    with connect(settings.paths.db, read_only=True) as con:
        return con.execute(
            "SELECT season_id, count(*) FROM raw.nba_player_log GROUP BY 1 ORDER BY 1"
        ).fetchall()


def core_rows(settings: Settings) -> int:
    with connect(settings.paths.db, read_only=True) as con:
        result = con.execute("SELECT count(*) FROM core.player_game").fetchone()
    assert result is not None
    return int(result[0])


def test_a_real_season_file_overwritten_by_another_season_is_refused_until_replace(
    data_dir: Path, tmp_path: Path
) -> None:
    real = data_dir / "nba_api" / "player_logs"
    target = tmp_path / "data" / "nba_api" / "player_logs" / "player_logs_2023-24.csv.gz"
    target.parent.mkdir(parents=True)
    shutil.copy(real / "player_logs_2023-24.csv.gz", target)
    teams = tmp_path / "data" / "nba_api" / "team_logs"  # box scores need known games
    teams.mkdir()
    for name in ("nba_games_2022_23.csv.gz", "nba_games_2023_24.csv.gz"):
        shutil.copy(data_dir / "nba_api" / "team_logs" / name, teams / name)
    settings = Settings(data_dir=tmp_path / "data", db=tmp_path / "w.duckdb")
    with connect(settings.paths.db) as con:
        assert {r.status for r in ingest_job(con, settings).report.results} == {"loaded"}
    assert player_games(settings) == [("22023", 26_401)]
    assert core_rows(settings) == 26_401

    shutil.copy(real / "player_logs_2022-23.csv.gz", target)
    with connect(settings.paths.db) as con:
        refused = ingest_job(con, settings).report
    (failure,) = refused.failures
    assert failure.path == str(target)
    assert failure.error == (
        f"refused: replacing {target} would drop 26,401 of its 26,401 rows "
        "(season 2023-24 → 2022-23); pass --replace to accept"
    )
    assert player_games(settings) == [("22023", 26_401)]
    assert core_rows(settings) == 26_401

    with connect(settings.paths.db) as con:
        accepted = ingest_job(con, settings, replace=True).report
    assert sorted(r.status for r in accepted.results) == ["replaced", "unchanged", "unchanged"]
    assert player_games(settings) == [("22022", 25_895)]
    assert core_rows(settings) == 25_895


def test_no_real_gzip_comes_near_the_default_decompression_limits(data_dir: Path) -> None:
    limits = IngestLimits()
    ratios = {}
    for path in sorted(data_dir.rglob("*.gz")):
        data = path.read_bytes()
        size = len(gunzip(path, data, limits))  # raises if the defaults refused it
        ratios[str(path.relative_to(data_dir))] = size / len(data)
    worst = max(ratios, key=ratios.__getitem__)
    assert len(ratios) > 300
    # the largest is an injury-report season at ~33x: the default 200x leaves 6x headroom
    assert ratios[worst] < limits.max_compression_ratio / 5, (worst, ratios[worst])
