"""Plain values out of DuckDB and pandas: numbers with NaN as None, percent, dates.

Small helpers the read functions share (the project's NaN → None helpers are unified
elsewhere; these stay as they were in ``api/queries.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from nbaprops.core.values import finite_or_none


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return None if row is None else row[0]


def num(value: Any) -> float | None:
    """A figure read back for JSON (``core.values.finite_or_none``: NaN and inf as None)."""
    return finite_or_none(value)


def pct(value: Any) -> float | None:
    value = num(value)
    return None if value is None else 100.0 * value


def day_of(value: Any) -> date | None:
    """A DATE read back through pandas as a date (never a datetime)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return pd.Timestamp(value).date()


def int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
