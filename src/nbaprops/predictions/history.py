"""Graded predictions before a date, behind one interface.

Calibration and stacking learn only from predictions already graded before the date
being scored. The backtest keeps them in memory as it walks forward; the daily job
reads them from the predictions and grading tables. Both answer the same question:
"this system's graded rows dated before D".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd

from nbaprops.models.calibration import Calibration


class GradedHistory(Protocol):
    def graded_before(self, system_id: str, day: date) -> pd.DataFrame:
        """The system's scored and graded rows dated strictly before ``day``."""
        ...


@dataclass
class InMemoryHistory:
    """A walk-forward's own earlier folds (what the daily job would have graded)."""

    frames: dict[str, list[pd.DataFrame]] = field(default_factory=dict)

    def add(self, system_id: str, scored: pd.DataFrame) -> None:
        self.frames.setdefault(system_id, []).append(scored)

    def graded_before(self, system_id: str, day: date) -> pd.DataFrame:
        parts = [f[f["game_date"] < day] for f in self.frames.get(system_id, [])]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def calibration_kind(model: object) -> tuple[str, str]:
    """How a fitted system's P(over) meets the line, and its de-vig method."""
    return (
        str(getattr(model, "calibration_kind", "distribution")),
        str(getattr(model, "devig_method", "multiplicative")),
    )


def calibration_of(model: object, rows: pd.DataFrame) -> Calibration:
    """The calibration a fitted system earns from out-of-sample graded ``rows``."""
    kind, method = calibration_kind(model)
    return Calibration.from_history(rows, kind, method)


def calibration_before(
    history: GradedHistory, system_id: str, day: date, model: object = None
) -> Calibration:
    """A system's calibration from its graded rows before ``day`` (out of sample only)."""
    return calibration_of(model, history.graded_before(system_id, day))
