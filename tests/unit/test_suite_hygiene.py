"""The suite's own disk use: a full run copies real warehouses into the tmp_path of
hundreds of tests (8-19 GB in all). The settings in pyproject.toml make pytest remove a
passing test's folder when it ends, keep a failing one's to inspect, and keep only the
latest run's base folder; an inner pytest session with exactly those settings shows it."""

from __future__ import annotations

import sys
import tomllib

import pytest

from tests.conftest import REPO

INNER_TESTS = """
def test_passes(tmp_path):
    (tmp_path / "copy.duckdb").write_bytes(b"x" * 4096)

def test_fails(tmp_path):
    (tmp_path / "copy.duckdb").write_bytes(b"x" * 4096)
    assert False, "kept to inspect"
"""


def _retention_settings() -> dict[str, object]:
    ini = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {k: v for k, v in ini.items() if k.startswith("tmp_path_retention")}


def _ini(settings: dict[str, object]) -> str:
    lines = ["[pytest]"] + [f"{k} = {v}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def test_a_passing_tests_folder_is_removed_and_a_failing_ones_kept(
    pytester: pytest.Pytester,
) -> None:
    settings = _retention_settings()
    pytester.makefile(".ini", pytest=_ini(settings))
    pytester.makepyfile(test_inner=INNER_TESTS)
    base = pytester.path / "base"
    result = pytester.runpytest_inprocess(
        "-p", "no:xdist", "-p", "no:cacheprovider", f"--basetemp={base}"
    )
    result.assert_outcomes(passed=1, failed=1)
    left = sorted(p.relative_to(base).as_posix() for p in base.rglob("*.duckdb"))
    assert left == ["test_fails0/copy.duckdb"], left


def test_only_the_latest_runs_base_folder_is_kept(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _retention_settings()
    pytester.makefile(".ini", pytest=_ini(settings))
    pytester.makepyfile(test_inner=INNER_TESTS)
    root = pytester.path / "temproot"
    root.mkdir()
    # pytest's own numbered base folders (pytest-N under the user's temporary root), in
    # plain subprocesses: no --basetemp, no third-party plugins
    monkeypatch.setenv("PYTEST_DEBUG_TEMPROOT", str(root))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    for _ in range(3):
        result = pytester.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
        assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
        result.stdout.fnmatch_lines(["*1 failed, 1 passed*"])
    bases = sorted(
        p.name for p in root.glob("pytest-of-*/pytest-*") if p.is_dir() and not p.is_symlink()
    )
    assert len(bases) == 1, bases
    kept = [p.relative_to(root).parts[2:] for p in root.rglob("*.duckdb")]
    assert kept == [("test_fails0", "copy.duckdb")], kept
