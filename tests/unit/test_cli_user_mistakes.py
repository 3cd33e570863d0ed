"""Every CLI user mistake is one `error:` line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from nbaprops.cli.main import app
from tests.holder import holding

runner = CliRunner()
FRAME = ["features", "frame", "--start", "2024-03-01", "--end", "2024-03-02"]
HEADER_BYTES = 3 * 4096  # DuckDB's file header and two database headers precede the blocks


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env)


def refused(result: Result, *fragments: str) -> str:
    """Assert the one-line refusal and return the line."""
    text = result.output + result.stderr
    assert "Traceback" not in text
    # an uncaught exception also gives exit code 1 under CliRunner: demand a clean exit
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 1, (result.exit_code, text)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def warehouse_copy(warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, copy)
    return copy


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """Another process holding a warehouse open read-write (DuckDB's exclusive lock)."""
    db = tmp_path / "busy.duckdb"
    with holding(db) as pid:
        yield db, pid


# 1. --out of `features frame`


def test_an_out_that_is_an_existing_folder_is_refused_with_one_line(
    warehouse: Path, tmp_path: Path
) -> None:
    line = refused(invoke(*FRAME, "--out", str(tmp_path), "--db", str(warehouse)))
    assert f"--out {tmp_path} is a folder" in line
    assert "frame.parquet" in line


def test_an_out_below_a_file_is_refused_before_building_the_frame(
    warehouse: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    out = blocker / "sub" / "frame.csv"
    refused(
        invoke(*FRAME, "--out", str(out), "--db", str(warehouse)),
        "cannot write --out",
        f"{blocker} is a file, not a folder",
    )


def test_an_out_in_a_folder_nobody_may_write_is_refused_with_one_line(warehouse: Path) -> None:
    # /sys refuses new files even to root, so this holds for any user
    refused(
        invoke(*FRAME, "--out", "/sys/nbaprops-frame.csv", "--db", str(warehouse)),
        "cannot write --out /sys/nbaprops-frame.csv",
        "Permission denied",
    )


def test_an_out_with_an_unknown_file_type_is_refused_rather_than_written_as_csv(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "frame.json"
    refused(invoke(*FRAME, "--out", str(out), "--db", str(warehouse)), ".csv", ".parquet")
    assert not out.exists()


def test_an_out_in_a_missing_folder_creates_the_folder_and_writes_the_frame(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "new" / "sub" / "frame.parquet"
    result = invoke(*FRAME, "--out", str(out), "--db", str(warehouse), "--json")
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert json.loads(result.stdout)["rows"] > 100


def test_a_frame_for_a_period_without_games_is_refused_instead_of_a_table_of_nan(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "frame.csv"
    args = ["features", "frame", "--start", "2024-07-01", "--end", "2024-07-10", "--out", str(out)]
    refused(
        invoke(*args, "--db", str(warehouse)),
        "no player-games between 2024-07-01 and 2024-07-10",
    )
    assert not out.exists()


def test_a_minimum_season_average_above_the_maximum_is_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    args = [*FRAME, "--out", str(tmp_path / "f.csv"), "--min-season-avg", "20"]
    refused(
        invoke(*args, "--max-season-avg", "6", "--db", str(warehouse)),
        "--min-season-avg 20 is above --max-season-avg 6",
    )


# 2. damaged or foreign warehouse files


def test_a_damaged_page_read_by_status_is_reported_as_a_damaged_warehouse_to_rebuild(
    warehouse_copy: Path,
) -> None:
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
        block_id, offset = con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info('core.prop_line_snapshot') "
            "WHERE column_name = 'match_status' AND block_id >= 0 LIMIT 1"
        ).fetchall()[0]
    with warehouse_copy.open("r+b") as f:  # a few MB into the file, in a page status reads
        f.seek(HEADER_BYTES + block_id * block_size + offset + 8)
        f.write(b"\xff" * 64)
    line = refused(
        invoke("status", "--db", str(warehouse_copy)),
        f"the warehouse file {warehouse_copy} is damaged",
        "checksum",
        "nbaprops run --db <a new file>",
        "nothing is lost",
    )
    assert "not ready" not in line


def test_a_damaged_header_is_reported_as_a_damaged_warehouse_to_rebuild(
    warehouse_copy: Path,
) -> None:
    with warehouse_copy.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xa5" * 8192)
    refused(
        invoke("status", "--db", str(warehouse_copy)),
        f"the warehouse file {warehouse_copy} is damaged",
        "rebuild it from the data folder",
    )


def test_a_text_file_passed_as_db_is_not_a_duckdb_warehouse(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    refused(
        invoke("status", "--db", str(text)),
        f"{text} is not a DuckDB warehouse",
        "check --db",
        "nbaprops run --db <a new file>",
    )


def test_a_folder_passed_as_db_is_refused_for_reading_and_writing(tmp_path: Path) -> None:
    for args in (["status"], ["db", "migrate"], ["features", "show", "--player", "x"]):
        extra = ["--date", "2024-03-01"] if "show" in args else []
        refused(
            invoke(*args, *extra, "--db", str(tmp_path)),
            f"{tmp_path} is a folder, not a warehouse file",
        )


def test_a_missing_warehouse_for_a_read_command_says_to_ingest_first(tmp_path: Path) -> None:
    missing = tmp_path / "missing.duckdb"
    args = ["features", "show", "--player", "LeBron James", "--date", "2024-03-01"]
    refused(invoke(*args, "--db", str(missing)), f"no warehouse at {missing}", "nbaprops ingest")
    assert not missing.exists()


# 3. and 5. integer options: one line from the usage-error path too


def test_a_negative_unmatched_count_is_refused_with_one_line(warehouse: Path) -> None:
    line = refused(invoke("status", "--unmatched", "-5", "--db", str(warehouse)), "--unmatched")
    assert "greater than or equal to 0" in line
    assert "not ready" not in line


@pytest.mark.parametrize(
    ("option", "value", "bound"),
    [
        ("--warmup-days", "-1", "0"),
        ("--retrain-every", "0", "1"),
        ("--retrain-every", "-7", "1"),
        ("--gap-days", "-1", "0"),
        ("--window-days", "0", "1"),
    ],
)
def test_a_backtest_number_out_of_range_is_refused_with_one_line(
    warehouse: Path, option: str, value: str, bound: str
) -> None:
    args = ["backtest", option, value, "--plan-only", "--db", str(warehouse)]
    refused(invoke(*args), f"'{option}'", f"greater than or equal to {bound}", "backtest --help")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["status", "--nosuch"], "no such option: --nosuch"),
        (["status", "--unmatched", "many"], "valid integer"),
        (["features", "frame", "--start", "2024-03-01"], "missing option '--end'"),
        (["nosuch"], "no such command 'nosuch'"),
        (["status", "extra"], "unexpected extra argument"),
    ],
)
def test_a_malformed_command_line_is_one_error_line_with_exit_code_1(
    args: list[str], fragment: str
) -> None:
    refused(invoke(*args), fragment, "--help")


def test_a_rolling_window_without_a_length_and_a_length_without_rolling_are_refused(
    warehouse: Path,
) -> None:
    base = ["backtest", "--plan-only", "--db", str(warehouse)]
    refused(invoke(*base, "--window", "rolling"), "--window/--window-days: a rolling window needs")
    refused(invoke(*base, "--window-days", "30"), "days only applies to a rolling window")
    refused(invoke(*base, "--window", "sliding"), "--window/--window-days:", "'current_season'")


# 4. --systems


@pytest.mark.parametrize("systems", ["", "   ", " , ,"])
def test_an_empty_systems_list_is_refused_naming_the_known_systems(
    warehouse: Path, systems: str
) -> None:
    args = ["backtest", "--systems", systems, "--plan-only", "--db", str(warehouse)]
    refused(invoke(*args), "--systems is empty", "all", "season_average", "xgboost")


@pytest.mark.parametrize("systems", ["nonsense", "all,nonsense", "xgboost, nonsense"])
def test_an_unknown_system_is_refused_even_next_to_all(warehouse: Path, systems: str) -> None:
    args = ["backtest", "--systems", systems, "--plan-only", "--db", str(warehouse)]
    refused(invoke(*args), "unknown systems: nonsense", "known: all, season_average")


def test_a_run_name_with_folders_and_a_file_as_runs_folder_are_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    base = ["backtest", "--systems", "season_average", "--db", str(warehouse)]
    refused(invoke(*base, "--name", "../escape", "--plan-only"), "must be a plain name")
    blocker = tmp_path / "runs"
    blocker.write_text("x")
    refused(invoke(*base, "--out", str(blocker)), f"--out {blocker} is a file")


# 6. date ranges


@pytest.mark.parametrize(
    "command",
    [
        [*FRAME[:2], "--out", "{tmp}/f.csv"],
        ["features", "build"],
        ["backtest", "--plan-only"],
    ],
)
def test_a_period_that_ends_before_it_starts_is_refused(tmp_path: Path, command: list[str]) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    # a fresh --db: a regression could never write to a shared warehouse
    line = refused(
        invoke(*args, "--start", "2024-05-01", "--end", "2024-03-01", "--db", str(tmp_path / "w"))
    )
    assert line == "error: --start 2024-05-01 is after --end 2024-03-01"


def test_a_malformed_date_names_the_option(warehouse: Path) -> None:
    args = ["features", "show", "--player", "LeBron James", "--date", "2024-02-30"]
    refused(invoke(*args, "--db", str(warehouse)), "--date", "2024-02-30")


# 7. completeness on a day without games


def test_completeness_on_a_date_without_games_says_so_and_exits_0(warehouse: Path) -> None:
    result = invoke("features", "completeness", "--date", "2024-07-15", "--db", str(warehouse))
    assert result.exit_code == 0, result.output
    assert "no games on this date" in result.stdout
    assert "FAIL" not in result.stdout
    assert result.stderr == ""
    as_json = invoke(
        "features", "completeness", "--date", "2024-07-15", "--db", str(warehouse), "--json"
    )
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    assert payload["status"] == "no_games"
    assert payload["passes_gate"] is None
    assert payload["n_rows"] == 0


def test_completeness_on_a_game_day_has_a_pass_or_fail_status(warehouse: Path) -> None:
    args = ["features", "completeness", "--date", "2024-03-01", "--db", str(warehouse), "--json"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n_rows"] > 0
    assert payload["status"] == ("pass" if payload["passes_gate"] else "fail")


# 8. another process holds the warehouse


def test_a_warehouse_written_by_another_process_says_retry_when_it_ends(
    writer: tuple[Path, int],
) -> None:
    db, pid = writer
    refused(
        invoke("status", "--db", str(db)),
        f"another nbaprops process is writing to {db} (PID {pid}); retry when it ends",
    )


def test_a_write_to_a_warehouse_another_process_holds_says_retry_when_it_ends(
    writer: tuple[Path, int],
) -> None:
    db, pid = writer
    refused(
        invoke("db", "migrate", "--db", str(db)),
        f"another nbaprops process is using {db} (PID {pid})",
        "retry when it ends",
    )


# 9. other mistakes


def test_an_unknown_market_is_refused_naming_the_markets(warehouse: Path) -> None:
    refused(
        invoke("status", "--market", "pointz", "--db", str(warehouse)),
        "no prop quotes for market 'pointz'",
        "points",
    )


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data.csv"
    not_a_folder.write_text("x")
    args = ["run", "--db", str(tmp_path / "w.duckdb"), "--data-dir", str(not_a_folder)]
    refused(invoke(*args), f"data folder {not_a_folder} is a file")


def test_an_invalid_setting_in_the_environment_is_one_line(warehouse: Path) -> None:
    result = invoke("status", "--db", str(warehouse), env={"NBAPROPS_HTTP_RETRIES": "many"})
    refused(result, "invalid setting NBAPROPS_HTTP_RETRIES='many'")


def test_an_unknown_season_lists_the_seasons_there_are(warehouse: Path) -> None:
    args = ["features", "coverage", "--season", "2023", "--db", str(warehouse)]
    refused(invoke(*args), "no player-games in season '2023'", "seasons: 20")


def test_an_unknown_feature_set_and_player_are_one_line(warehouse: Path) -> None:
    show = ["features", "show", "--date", "2024-03-01", "--db", str(warehouse)]
    refused(invoke(*show, "--player", "LeBron James", "--set", "nope"), "unknown feature set")
    refused(invoke(*show, "--player", "Nobody Atall"), "no player named 'Nobody Atall'")


def test_help_and_no_arguments_still_print_help() -> None:
    assert invoke("status", "--help").exit_code == 0
    bare = invoke()
    assert "Usage" in bare.output
    assert "error:" not in bare.output + bare.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["predict", "--date", "2024-13-01"], "--date"),
        (["grade", "--date", "tonight"], "--date"),
        (["backfill", "predictions", "--start", "2024-03-10", "--end", "2024-03-01"], "is after"),
        (["backfill", "grading", "--start", "2024-03-10", "--end", "2024-03-01"], "is after"),
    ],
)
def test_daily_commands_refuse_bad_dates_in_one_line(
    warehouse_copy: Path, args: list[str], fragment: str
) -> None:
    refused(invoke(*args, "--db", str(warehouse_copy)), fragment)


def test_predict_without_a_registered_model_says_how_to_get_one(warehouse_copy: Path) -> None:
    line = refused(invoke("predict", "--date", "2024-04-12", "--db", str(warehouse_copy)))
    assert "no registered model has an alias" in line
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM predictions.prediction").fetchone()
    assert rows == (0,)  # nothing half-written


def test_picks_and_signal_without_predictions_say_to_predict_first(warehouse_copy: Path) -> None:
    refused(invoke("picks", "--date", "2024-04-12", "--db", str(warehouse_copy)), "predict")
    refused(invoke("signal", "--date", "2024-04-12", "--db", str(warehouse_copy)), "predict")


def test_daily_commands_on_a_missing_warehouse_say_to_ingest_first(tmp_path: Path) -> None:
    db = str(tmp_path / "missing.duckdb")
    for args in (["predict", "--date", "2024-04-12"], ["grade", "--date", "2024-04-12"]):
        refused(invoke(*args, "--db", db), "nbaprops ingest")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("NBAPROPS_PICKS_MAX_BET_SHARE", "-0.01"),
        ("NBAPROPS_PICKS_MAX_SLATE_SHARE", "0"),
        ("NBAPROPS_KELLY_FRACTION", "1.5"),
        ("NBAPROPS_PICKS_RED_MULTIPLIER", "2"),
        ("NBAPROPS_PICKS_MIN_RECORD_BETS", "-5"),
        ("NBAPROPS_EV_MARGIN", "-0.02"),
    ],
)
def test_a_cap_or_threshold_out_of_range_is_refused_at_start_naming_the_setting(
    warehouse_copy: Path, setting: str, value: str
) -> None:
    for args in (["picks", "--date", "2024-04-12"], ["run", "daily", "--skip-ingest"]):
        refused(invoke(*args, "--db", str(warehouse_copy), env={setting: value}), setting)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pipeline.phase_run").fetchone() == (0,)


def test_bets_of_an_unknown_system_or_an_empty_range_is_one_line(warehouse_copy: Path) -> None:
    db = ["--db", str(warehouse_copy)]
    period = ["--start", "2024-04-01", "--end", "2024-04-02"]
    line = refused(invoke("bets", *period, "--system", "nope", *db), "unknown system 'nope'")
    assert "season_average" in line  # the known systems are listed
    refused(invoke("bets", *period, *db), "no bets in 2024-04-01..2024-04-02")
    refused(invoke("bets", "--start", "2024-04-02", "--end", "2024-04-01", *db), "is after")
