"""Small helpers the diagnostic families share: rounding a figure, a status from a
threshold table, the lined and played rows.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def rounded(value: Any) -> float | None:
    """A figure rounded to 6 places; None for None or NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def status_of(score: float | None, table: tuple[tuple[float, str], ...]) -> str | None:
    """The name of the first band of ``table`` whose upper bound exceeds ``score``."""
    if score is None:
        return None
    return next(name for bound, name in table if score < bound)


def lined_played(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows on a real line, played and graded (not void)."""
    return rows[
        (rows["line_source"] == "ACTUAL")
        & rows["actual"].notna()
        & rows["result"].notna()
        & (rows["result"] != "void")
    ]
