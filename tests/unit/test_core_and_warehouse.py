"""Names, dates, migrations, source specs and the CLI surface."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest
import typer
from typer.main import get_command

from nbaprops.cli.main import app
from nbaprops.core.names import normalize_name
from nbaprops.core.time import eastern_date, parse_date, season_of
from nbaprops.ingest.sources import SOURCES
from nbaprops.warehouse.matching import Candidate, resolve_in_roster
from nbaprops.warehouse.migrate import available_migrations, current_version, migrate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Luka Dončić", "luka doncic"),
        ("C.J. McCollum", "cj mccollum"),
        ("Jabari Smith Jr.", "jabari smith"),
        ("Marvin Bagley III", "marvin bagley"),
        ("Karl-Anthony Towns", "karl anthony towns"),
        ("De'Aaron Fox", "deaaron fox"),
        ("  Nikola   Jokić ", "nikola jokic"),
        ("", ""),
    ],
)
def test_names_normalise_accents_punctuation_and_suffixes(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_a_late_west_coast_tipoff_keeps_its_eastern_game_date() -> None:
    tip = datetime(2024, 3, 11, 2, 30, tzinfo=UTC)  # 22:30 ET on March 10
    assert eastern_date(tip) == date(2024, 3, 10)


def test_seasons_roll_over_in_august() -> None:
    assert season_of(date(2024, 6, 17)) == "2023-24"
    assert season_of(date(2024, 10, 22)) == "2024-25"


def test_migrations_are_idempotent_and_versioned() -> None:
    con = duckdb.connect()
    first = migrate(con)
    assert [m.version for m in first] == [m.version for m in available_migrations()]
    assert migrate(con) == []
    assert current_version(con) == available_migrations()[-1].version
    schemas = {
        r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    }
    assert {"raw", "core", "features", "predictions"} <= schemas


def test_every_source_spec_matches_its_raw_table() -> None:
    con = duckdb.connect()
    migrate(con)
    for source in SOURCES:
        schema, table = source.raw_table.split(".")
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
        ]
        assert cols == [c.dst for c in source.columns] + ["_file_id", "_line"], source.name


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, cmd in getattr(group, "commands", {}).items():
        found.append((f"{prefix}{name}", cmd))
        found.extend(_commands(cmd, f"{prefix}{name} "))
    return found


def test_every_cli_command_takes_db_and_figure_commands_take_json() -> None:
    root = get_command(app)
    commands = _commands(root)
    assert commands, "no commands registered"
    for name, cmd in commands:
        if getattr(cmd, "commands", None) and not getattr(cmd, "invoke_without_command", False):
            continue
        options = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
        assert "--db" in options, f"`nbaprops {name}` lacks --db"
    for name in ("status", "run", "ingest"):
        cmd = dict(commands)[name]
        assert "--json" in {o for p in cmd.params for o in getattr(p, "opts", [])}, name
    assert isinstance(app, typer.Typer)


def roster(*names: str) -> list[Candidate]:
    return [Candidate(i, normalize_name(n)) for i, n in enumerate(names, start=1)]


@pytest.mark.parametrize(
    ("book_name", "expected_id", "rule"),
    [
        ("Portis, Bobby", 1, "token_set"),
        ("S. Gilgeous-Alexander", 2, "prefix_first"),
        ("Brook Robert Lopez", 3, "first_last"),
        ("Cam Johnson", 4, "prefix_first"),
        ("Danilo Galinari", 5, "close_spelling"),
        ("Daniel Theis (IND)", 6, "token_set"),
    ],
)
def test_loose_name_rules_pick_one_player_of_the_game(
    book_name: str, expected_id: int, rule: str
) -> None:
    players = roster(
        "Bobby Portis",
        "Shai Gilgeous-Alexander",
        "Brook Lopez",
        "Cameron Johnson",
        "Danilo Gallinari",
        "Daniel Theis",
        "Jalen Green",
        "Josh Green",
    )
    found = resolve_in_roster(normalize_name(book_name), players)
    assert found is not None
    assert (found[0].player_id, found[1]) == (expected_id, rule)


def test_an_ambiguous_initial_matches_nobody() -> None:
    players = roster("Jalen Green", "Josh Green", "Jeff Green")
    assert resolve_in_roster(normalize_name("J. Green"), players) is None


@pytest.mark.parametrize(
    "text",
    [
        "20240412",
        "2024-W15-5",
        "2024W155",
        "2024-4-12",
        " 2024-04-12",
        "2024-04-12 ",
        "２０２４-04-12",
        "2024-02-30",
    ],
)
def test_parse_date_takes_only_yyyy_mm_dd(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(text)


def test_parse_date_reads_yyyy_mm_dd() -> None:
    assert parse_date("2024-04-12") == date(2024, 4, 12)
