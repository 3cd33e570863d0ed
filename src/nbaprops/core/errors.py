"""Errors a user can act on; the CLI prints their message as one line."""

from __future__ import annotations


class NbapropsError(Exception):
    """Base for errors caused by input or state, not by a bug."""


class FormatError(NbapropsError):
    """A file is not in the format its name says it is."""

    def __init__(self, path: str, missing: list[str], detail: str = "") -> None:
        self.path = path
        self.missing = missing
        msg = f"{path}: not a recognised format, missing columns: {', '.join(missing)}"
        if detail:
            msg = f"{path}: {detail}"
        super().__init__(msg)


class DataNotFoundError(NbapropsError):
    """A data folder or file the user named does not exist."""


class LiveSourceError(NbapropsError):
    """A live source (nba_api, The Odds API) failed after retries."""


class NotReadyError(NbapropsError):
    """The warehouse lacks what a command needs (run ingest or migrate first)."""


class WarehouseDamagedError(NbapropsError):
    """The warehouse file is corrupt, truncated or not a DuckDB database at all."""


class WarehouseBusyError(NbapropsError):
    """Another process holds the warehouse file's lock (DuckDB allows one writer)."""


class StaleDataError(NbapropsError):
    """A date's data is too old to predict it honestly (box scores behind the schedule,
    old or no real prop lines); the CLI exits with code 2 (``exit_code``), apart from
    other failures, and ``--allow-stale`` overrides it (recorded)."""

    exit_code = 2
