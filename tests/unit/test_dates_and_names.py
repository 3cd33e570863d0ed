"""Issue 23: today / yesterday / tomorrow wherever a date is taken (US/Eastern, the
resolved date shown), and typos in a system, alias or player name are errors that
name what exists instead of reading as "nothing found"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from nbaprops.cli.common import parse_day
from nbaprops.cli.main import app
from nbaprops.core import time as clock
from nbaprops.core.db import connect
from nbaprops.core.errors import NbapropsError
from nbaprops.core.time import parse_date, resolve_date
from nbaprops.read import params as q
from nbaprops.warehouse.migrate import migrate
from nbaprops.warehouse.queries import closest_players, find_player

runner = CliRunner()
# 03:30 UTC on Dec 7 is 22:30 on Dec 6 in New York: the NBA's day is still the 6th.
LATE_EVENING = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)
TODAY = date(2026, 12, 6)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "now_utc", lambda: LATE_EVENING)
    return LATE_EVENING


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A migrated, empty warehouse with three players (closed: the CLI opens it)."""
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        migrate(con)
        con.executemany(
            "INSERT INTO core.player VALUES (?, ?, ?, '2020-01-01', ?, 100)",
            [
                (1628973, "Jalen Brunson", "jalen brunson", "2024-04-14"),
                (1630224, "Jalen Green", "jalen green", "2024-04-14"),
                (1627759, "Jaylen Brown", "jaylen brown", "2024-04-14"),
                (1629001, "Nobody Brunson", "nobody brunson", "2019-04-10"),
            ],
        )
    return path


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def one_error(result: Result, *fragments: str) -> str:
    text = result.output + result.stderr
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 1, (result.exit_code, text)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("today", TODAY),
        ("yesterday", date(2026, 12, 5)),
        ("tomorrow", date(2026, 12, 7)),
        ("Today", TODAY),
        ("TOMORROW", date(2026, 12, 7)),
    ],
)
def test_date_words_are_the_us_eastern_day_not_utcs(word: str, expected: date) -> None:
    resolved = resolve_date(word, LATE_EVENING)
    assert resolved.day == expected
    assert resolved.describe("date") == f"date: {word.lower()} = {expected} (US/Eastern)"


def test_the_eastern_day_turns_at_eastern_midnight_in_summer_and_winter() -> None:
    # 04:59 UTC in winter (EST, -5) is 23:59 the day before; 04:00 UTC in summer (EDT)
    assert resolve_date("today", datetime(2026, 12, 7, 4, 59, tzinfo=UTC)).day == TODAY
    assert resolve_date("today", datetime(2026, 12, 7, 5, 0, tzinfo=UTC)).day == date(2026, 12, 7)
    assert resolve_date("today", datetime(2026, 7, 1, 3, 59, tzinfo=UTC)).day == date(2026, 6, 30)
    assert resolve_date("today", datetime(2026, 7, 1, 4, 0, tzinfo=UTC)).day == date(2026, 7, 1)


def test_a_plain_date_resolves_to_itself_and_is_not_announced() -> None:
    resolved = resolve_date("2024-04-12", LATE_EVENING)
    assert resolved.day == date(2024, 4, 12)
    assert resolved.word is None
    assert resolved.describe() is None


@pytest.mark.parametrize("text", ["tonight", "now", "today ", "to day", "2024-4-12", ""])
def test_anything_else_is_refused_naming_what_is_accepted(text: str) -> None:
    if text == "today ":  # surrounding blanks are forgiven for the words
        assert resolve_date(text, LATE_EVENING).day == TODAY
        return
    with pytest.raises(ValueError, match="YYYY-MM-DD, today, yesterday or tomorrow"):
        resolve_date(text, LATE_EVENING)


def test_files_are_never_read_with_date_words() -> None:
    # parse_date reads dates found in files: a row dated "today" is no date
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date("today")


def test_the_clock_is_read_when_a_word_is_resolved(pinned: datetime) -> None:
    assert resolve_date("yesterday").day == date(2026, 12, 5)


def test_cli_and_api_parse_a_date_in_the_one_place(
    pinned: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse_day("tomorrow", "--date") == date(2026, 12, 7)
    assert "date: tomorrow = 2026-12-07 (US/Eastern)" in capsys.readouterr().err
    assert parse_day("2024-04-12", "--date") == date(2024, 4, 12)
    assert capsys.readouterr().err == ""  # a plain date is not announced
    assert q.parse_day("today") == TODAY
    assert q.optional_day("yesterday", "since") == date(2026, 12, 5)
    assert q.resolved_text("Today") == "2026-12-06"  # the API caches by the day it means
    assert q.resolved_text("2024-04-12") == "2024-04-12"
    assert q.resolved_text(None) is None
    with pytest.raises(q.BadRequestError, match=r"^start: not a date"):
        q.parse_day("tonite", "start")
    with pytest.raises(NbapropsError, match=r"^--end: not a date"):
        parse_day("tonite", "--end")


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["predict", "--date", "today"], ["date: today = 2026-12-06"]),
        (["grade", "--date", "yesterday"], ["date: yesterday = 2026-12-05"]),
        (["picks", "--date", "today"], ["date: today = 2026-12-06"]),
        (["signal", "--date", "tomorrow"], ["date: tomorrow = 2026-12-07"]),
        (
            ["bets", "--start", "yesterday", "--end", "today"],
            ["start: yesterday = 2026-12-05", "end: today = 2026-12-06"],
        ),
        (["diagnose", "--date", "yesterday"], ["date: yesterday = 2026-12-05"]),
        (["alerts", "--since", "yesterday"], ["since: yesterday = 2026-12-05"]),
        (["features", "completeness", "--date", "today"], ["date: today = 2026-12-06"]),
        (
            ["backfill", "grading", "--start", "yesterday", "--end", "today"],
            ["start: yesterday = 2026-12-05", "end: today = 2026-12-06"],
        ),
        (
            ["drift", "--reference", "yesterday:today", "--current", "today:tomorrow"],
            ["reference: yesterday = 2026-12-05", "current: tomorrow = 2026-12-07"],
        ),
        (["breakout", "grade", "--date", "yesterday"], ["date: yesterday = 2026-12-05"]),
    ],
)
def test_every_cli_date_option_takes_a_word_and_shows_the_date_it_means(
    pinned: datetime, db: Path, args: list[str], shown: list[str]
) -> None:
    result = invoke(*args, "--db", str(db))
    assert "Traceback" not in result.output + result.stderr
    assert "not a date" not in result.stderr
    for line in shown:
        assert f"{line} (US/Eastern)" in result.stderr.splitlines(), result.stderr
    # the announcement goes to stderr: --json output and tables stay clean
    assert "US/Eastern)" not in result.stdout


def test_a_cli_date_that_is_no_date_is_one_error_line(db: Path) -> None:
    result = invoke("predict", "--date", "tonight", "--db", str(db))
    line = one_error(result, "--date: not a date (YYYY-MM-DD, today, yesterday or tomorrow)")
    assert "'tonight'" in line
    assert len(result.stderr.splitlines()) == 1


# --- systems and aliases ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["model", "history", "xgbost"],
        ["model", "list", "--system", "xgbost"],
        ["model", "promote", "xgbost", "1"],
        ["diagnose", "--date", "2024-04-12", "--system", "xgbost"],
        ["bets", "--start", "2024-04-01", "--end", "2024-04-12", "--system", "xgbost"],
    ],
)
def test_an_unknown_system_is_an_error_naming_the_known_ones(db: Path, args: list[str]) -> None:
    result = invoke(*args, "--db", str(db))
    one_error(
        result, "unknown system 'xgbost'", "did you mean xgboost?", "known: ", "catboost_full"
    )
    assert len(result.stderr.splitlines()) == 1


def test_a_known_system_with_no_history_is_an_empty_answer_not_an_error(db: Path) -> None:
    result = invoke("model", "history", "xgboost", "--db", str(db), "--json")
    assert result.exit_code == 0, result.stderr
    assert '"events": []' in result.stdout


def test_an_unknown_alias_is_an_error_naming_the_aliases(db: Path) -> None:
    result = invoke("model", "promote", "xgboost", "1", "--alias", "champ", "--db", str(db))
    one_error(result, "unknown alias 'champ'", "did you mean champion?", "champion, challenger")


def test_the_api_names_the_known_systems_and_suggests_the_closest(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        known = q.known_systems(con)
        assert "xgboost" in known
        assert "breakout" in known
        with pytest.raises(q.BadRequestError, match=r"did you mean xgboost\?") as err:
            q.check_system(con, "xgbost")
        assert "known: " + ", ".join(known) in str(err.value)
        with pytest.raises(q.BadRequestError, match="unknown system 'zzzz' \\(known: "):
            q.check_system(con, "zzzz")  # nothing close: no suggestion
        q.check_system(con, "xgboost")
        q.check_system(con, None)
    with pytest.raises(q.BadRequestError, match=r"unknown alias 'shadw'; did you mean shadow\?"):
        q.check_alias("shadw")


def test_a_system_known_only_to_the_registry_is_known(db: Path) -> None:
    with connect(db) as con:
        con.execute(
            "INSERT INTO models.version VALUES ('retired_sys', 1, 'e', 'shared', 'points', 1, "
            "'h', ['a'], NULL, '2024-05-24', 1, '{}', '{}', NULL, NULL, 'w', '{}', '{}', "
            "'retired_sys/v1-00000000', 'sha', now())"
        )
    result = invoke("model", "history", "retired_sys", "--db", str(db))
    assert result.exit_code == 0, result.stderr


# --- player names -----------------------------------------------------------------------


def test_a_misspelt_player_suggests_the_closest_names(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        with pytest.raises(NbapropsError) as err:
            find_player(con, "Jalen Brunsen")
        assert str(err.value) == (
            "no player named 'Jalen Brunsen' in the warehouse; did you mean Jalen Brunson?"
        )
        # a surname alone names every player of that name, the most recent first
        assert closest_players(con, "brunson") == ["Jalen Brunson", "Nobody Brunson"]
        assert closest_players(con, "Zzyzx Qwerty") == []
        assert find_player(con, "jalen brunson") == (1628973, "Jalen Brunson")


def test_features_show_with_a_misspelt_player_says_did_you_mean(db: Path) -> None:
    result = invoke(
        "features", "show", "--player", "Jalen Brunsen", "--date", "2024-03-10", "--db", str(db)
    )
    one_error(result, "no player named 'Jalen Brunsen'", "did you mean Jalen Brunson?")
