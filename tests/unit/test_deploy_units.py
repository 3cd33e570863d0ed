"""deploy/: the systemd units pass ``systemd-analyze verify``, and every command the units
and the crontab example run exists, with options and date words the CLI accepts.

The check is generic: each ``nbaprops …`` command line is parsed from the files and
resolved against the CLI's own command tree (and its ``--help`` is run, in process:
the root command's ``main``, as the ``nbaprops`` entry point runs it, without a new
interpreter's imports for each command), so a unit that
names a command or option the CLI does not have fails here, whatever it is."""

from __future__ import annotations

import configparser
import functools
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import CliRunner

from nbaprops.cli.common import parse_day
from nbaprops.cli.main import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/nbaprops/.venv/bin/nbaprops"
ENV_FILE = "/etc/nbaprops.env"
NBAPROPS = Path(sys.executable).with_name("nbaprops")
EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecReload")


def _units(suffix: str) -> list[Path]:
    return sorted(UNITS.glob(f"*.{suffix}"))


def _parse_unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(path)
    return parser


def _exec_lines(path: Path) -> list[str]:
    parser = _parse_unit(path)
    if not parser.has_section("Service"):
        return []
    return [
        value
        for key in EXEC_KEYS
        if parser.has_option("Service", key)
        for value in parser.get("Service", key).splitlines()
        if value.strip()
    ]


def _cron_commands() -> list[str]:
    """Each crontab line's command (after the five time fields or an @keyword)."""
    out = []
    for raw in (DEPLOY / "crontab.example").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" in line.split()[0]:
            continue
        fields = line.split(None, 1 if line.startswith("@") else 5)
        out.append(fields[-1])
    return out


def _nbaprops_argvs(command: str) -> list[list[str]]:
    """The argument lists of every ``…/nbaprops`` invocation in a shell or Exec line."""
    command = command.lstrip("-@:+!")  # systemd's Exec prefixes
    argvs = []
    for part in command.replace("&&", ";").replace("||", ";").split(";"):
        tokens = shlex.split(part.split(">>")[0].split("|")[0])
        if tokens and Path(tokens[0]).name == "nbaprops":
            argvs.append([tokens[0], *tokens[1:]])
    return argvs


def _all_invocations() -> list[tuple[str, list[str]]]:
    found = [
        (f"{unit.name}: {line}", argv)
        for unit in _units("service")
        for line in _exec_lines(unit)
        for argv in _nbaprops_argvs(line)
    ]
    found += [(f"crontab: {c}", argv) for c in _cron_commands() for argv in _nbaprops_argvs(c)]
    return found


@functools.cache
def _root() -> Any:
    """The CLI's click command tree, built once (typer builds it anew on every call), as
    the ``nbaprops`` entry point runs it (``app()`` is ``get_command(app).main()``)."""
    return typer.main.get_command(app)


def _resolve(argv: list[str]) -> tuple[list[str], Any, list[str]]:
    """(command path, click command, its arguments) for ``nbaprops <argv>``."""
    command: Any = _root()
    path: list[str] = []
    rest = list(argv)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        assert name in command.commands, (
            f"`nbaprops {' '.join([*path, name])}`: no such command "
            f"(known: {', '.join(sorted(command.commands))})"
        )
        command = command.commands[name]
        path.append(name)
    assert not hasattr(command, "commands"), f"`nbaprops {' '.join(path)}` needs a subcommand"
    return path, command, rest


def _check_options(path: list[str], command: Any, args: list[str]) -> None:
    options = {opt: p for p in command.params for opt in [*p.opts, *p.secondary_opts]}
    i = 0
    while i < len(args):
        token = args[i]
        name, _, inline = token.partition("=")
        assert name in options, f"`nbaprops {' '.join(path)}` has no option {name}"
        param = options[name]
        takes_value = not getattr(param, "is_flag", False) and not getattr(param, "count", False)
        value = inline if inline else (args[i + 1] if takes_value else None)
        if takes_value and not inline:
            i += 1
        if name == "--date":
            parse_day(value or "", "--date")  # today / yesterday must be date words
        i += 1
    command.make_context(" ".join(["nbaprops", *path]), list(args))  # values parse


def test_deploy_holds_a_timer_and_service_for_each_job_and_a_serve_service() -> None:
    services = {p.stem for p in _units("service")}
    timers = {p.stem for p in _units("timer")}
    assert {"nbaprops-fetch", "nbaprops-predict", "nbaprops-grade"} <= timers
    assert timers <= services  # each timer starts its own service
    assert "nbaprops-serve" in services
    assert (DEPLOY / "crontab.example").is_file()
    assert (DEPLOY / "README.md").is_file()
    for unit in _units("service"):
        parser = _parse_unit(unit)
        assert parser.get("Service", "EnvironmentFile") == ENV_FILE, unit.name
        lines = _exec_lines(unit)
        assert lines, unit.name
        for line in lines:
            assert line.lstrip("-@:+!").startswith("/"), f"{unit.name}: not absolute: {line}"
    env = (DEPLOY / "nbaprops.env.example").read_text()
    for key in ("NBAPROPS_DB=", "NBAPROPS_DATA_DIR=", "ODDS_API_KEY="):
        assert key in env


def test_every_command_the_units_and_crontab_run_exists_with_its_options() -> None:
    invocations = _all_invocations()
    commands = {" ".join(_resolve(argv[1:])[0]) for _, argv in invocations}
    assert {"fetch", "run daily", "grade", "serve"} <= commands
    helped: set[str] = set()
    for where, argv in invocations:
        assert argv[0] == INSTALLED, f"{where}: runs {argv[0]}, not {INSTALLED}"
        path, command, args = _resolve(argv[1:])
        _check_options(path, command, args)
        key = " ".join(path)
        if key in helped:
            continue
        helped.add(key)
        shown = CliRunner().invoke(_root(), [*path, "--help"], prog_name="nbaprops")
        assert shown.exit_code == 0, f"{where}: `nbaprops {key} --help` failed: {shown.output}"
        assert f"nbaprops {key}" in " ".join(shown.stdout.split()), shown.stdout


def test_the_existence_check_refuses_what_the_cli_does_not_have() -> None:
    with pytest.raises(AssertionError, match="no such command"):
        _resolve(["fetchh", "--date", "today"])
    path, command, args = _resolve(["grade", "--date", "today", "--live-ish"])
    with pytest.raises(AssertionError, match="no option --live-ish"):
        _check_options(path, command, args)
    path, command, args = _resolve(["grade", "--date", "someday"])
    with pytest.raises(Exception, match="--date"):
        _check_options(path, command, args)


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    assert found, (
        "systemd-analyze is missing: install Debian's systemd package "
        "(`apt-get install systemd`; scripts/test does it as root or with sudo -n)"
    )
    return found


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verified as installed, except that the binary is this checkout's (verify checks
    that each Exec path is an executable file)."""
    analyze = _systemd_analyze()
    copies = []
    for unit in [*_units("service"), *_units("timer")]:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED, str(NBAPROPS)))
        copies.append(str(copy))
    done = subprocess.run(
        [analyze, "verify", *copies],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (done.stdout + done.stderr).strip() == "", done.stdout + done.stderr


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    analyze = _systemd_analyze()
    bad = tmp_path / "nbaprops-bad.timer"
    bad.write_text("[Timer]\nOnCalendar=*-*-* 25:00:00\n[Install]\nWantedBy=timers.target\n")
    done = subprocess.run(
        [analyze, "verify", str(bad)], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 or (done.stdout + done.stderr).strip()
