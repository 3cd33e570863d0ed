"""Input of the read functions: dates, periods, systems and aliases checked, with one line.

Bad input raises ``BadRequestError`` (the API answers 400), a missing thing
``NotFoundError`` (404); an error's detail quotes at most ~100 characters of any value
the client sent (``clip_echoes``) and never an absolute path (``scrub``).
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

import duckdb

from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, get_market
from nbaprops.core.time import DATE_WORDS, resolve_date
from nbaprops.models.registry import ALIASES
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM
from nbaprops.systems.factory import SYSTEM_IDS

MAX_RANGE_DAYS = 366  # the longest /grading period


LINE_KINDS_REAL = ("sportsbook", "dfs")  # real lines; estimated ones never enter a record


class BadRequestError(NbapropsError):
    """The request itself is wrong (malformed date, unknown system, range too long)."""


class NotFoundError(NbapropsError):
    """What the request names does not exist (player, experiment, a date's predictions)."""


# --- input ------------------------------------------------------------------------------


def parse_day(text: str, what: str = "date") -> date:
    """YYYY-MM-DD, or today / yesterday / tomorrow in US/Eastern (``core.time``); the
    answers echo the date it resolved to."""
    try:
        return resolve_date(text).day
    except ValueError as exc:
        raise BadRequestError(f"{what}: {exc}") from None


def resolved_text(text: str | None) -> str | None:
    """A date word as the YYYY-MM-DD it means now (so a cached answer is keyed by the
    day, never by "today"); any other text as it came."""
    if text is None or text.strip().lower() not in DATE_WORDS:
        return text
    return resolve_date(text).day.isoformat()


def optional_day(text: str | None, what: str = "date") -> date | None:
    return None if text is None else parse_day(text, what)


def check_period(first: date, last: date, max_days: int = MAX_RANGE_DAYS) -> None:
    if first > last:
        raise BadRequestError(f"start {first} is after end {last}")
    if (last - first).days + 1 > max_days:
        raise BadRequestError(
            f"{first}..{last} spans {(last - first).days + 1} days; at most {max_days}"
        )


def known_systems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every system id the code defines, plus any the warehouse holds predictions or
    registered versions of."""
    stored = [
        str(r[0])
        for r in con.execute(
            "SELECT system_id FROM predictions.prediction "
            "UNION SELECT system_id FROM models.version"
        ).fetchall()
    ]
    return sorted({*SYSTEM_IDS, BREAKOUT_SYSTEM, *stored})


def did_you_mean(given: str, known: list[str]) -> str:
    close = difflib.get_close_matches(given.lower(), known, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def check_system(con: duckdb.DuckDBPyConnection, system: str | None) -> None:
    """An unknown system is an error naming the known ones (the CLI and the API alike:
    a typo must never read as "nothing found")."""
    if system is None:
        return
    known = known_systems(con)
    if system not in known:
        raise BadRequestError(
            f"unknown system {system!r}{did_you_mean(system, known)} (known: {', '.join(known)})"
        )


def check_alias(alias: str | None) -> None:
    if alias is not None and alias not in ALIASES:
        raise BadRequestError(
            f"unknown alias {alias!r}{did_you_mean(alias, list(ALIASES))} "
            f"(one of: {', '.join(ALIASES)})"
        )


def check_market(market: str | None) -> str:
    """The market a request names, by its catalog name (None: points); an unknown one is
    ``BadRequestError`` with the catalog's one line listing the known markets (a read
    answers one market at a time: ``all`` is not one)."""
    if market is None:
        return DEFAULT_MARKET
    try:
        return get_market(market).name
    except NbapropsError as exc:
        raise BadRequestError(str(exc).removesuffix(" (or all)")) from None


# --- echoed input stays short ------------------------------------------------------------

# An error's detail quotes at most this many characters of any value the client sent.
ECHO_LIMIT = 100
_LONG_RUN = re.compile(r"\S{" + str(ECHO_LIMIT + 20) + ",}")


def clip_echoes(detail: str, sent: list[str] | None = None) -> str:
    """``detail`` with every long value the client ``sent`` (and any other run of more
    than ~120 non-blank characters) cut to ``ECHO_LIMIT`` characters and its length."""

    def cut(value: str) -> str:
        return f"{value[:ECHO_LIMIT]}… ({len(value):,} characters)"

    for value in sorted({v for v in sent or [] if len(v) > ECHO_LIMIT}, key=len, reverse=True):
        detail = detail.replace(value, cut(value))
        detail = detail.replace(repr(value)[1:-1], cut(value))
    return _LONG_RUN.sub(lambda m: cut(m.group(0)), detail)


# --- paths never leave the process -----------------------------------------------------

_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"(),;:]+/)+([^\s/'\"(),;:]*)")


def scrub(value: Any) -> Any:
    """Replace every absolute filesystem path inside strings with its last component."""
    if isinstance(value, str):
        return _PATH.sub(lambda m: m.group(1) or "…", value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
