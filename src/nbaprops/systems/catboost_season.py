"""``catboost_season``: CatBoost on a recent window, optionally recency-weighted."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.systems.base import FloatArray, frame_dates
from nbaprops.systems.catboost_full import CatBoostSystem


class CatBoostSeasonSystem(CatBoostSystem):
    """CatBoost on a recent window only, optionally weighting by recency.

    The window is the last ``window_days`` before the latest training date, or the
    latest season with ``current_season_only``; early in a season it is widened to
    the most recent ``min_rows`` rows so a new season still has enough to learn from.
    A small window makes the refit cheap and the end-of-window slice precious, hence
    ``refit_full`` and a lower learning rate by default. ``warm_start_rounds`` as for
    ``catboost_full`` (the refit then continues the previous fold's refit).
    """

    system_id: ClassVar[str] = "catboost_season"
    fit_cost: ClassVar[float] = 3.5

    def __init__(
        self,
        window_days: int = 365,
        current_season_only: bool = False,
        half_life_days: float | None = None,
        min_rows: int = 20_000,
        loss_function: str = "MAE",
        iterations: int = 800,
        learning_rate: float = 0.05,
        depth: int = 6,
        border_count: int = 64,
        early_stopping_rounds: int = 20,
        tail_fraction: float = 0.1,
        refit_full: bool = True,
        thread_count: int = 2,
        random_state: int = 0,
        warm_start_rounds: int | None = None,
    ) -> None:
        super().__init__(
            loss_function=loss_function,
            iterations=iterations,
            learning_rate=learning_rate,
            depth=depth,
            border_count=border_count,
            early_stopping_rounds=early_stopping_rounds,
            tail_fraction=tail_fraction,
            refit_full=refit_full,
            thread_count=thread_count,
            random_state=random_state,
            warm_start_rounds=warm_start_rounds,
        )
        self.window_days = window_days
        self.current_season_only = current_season_only
        self.half_life_days = half_life_days
        self.min_rows = min_rows

    def _window(self, X: pd.DataFrame) -> tuple[npt.NDArray[np.bool_], FloatArray | None]:
        dates = frame_dates(X)
        last = dates.max()
        if self.current_season_only and "season" in X.columns:
            latest = X["season"].astype(str).to_numpy()[int(np.argmax(dates.to_numpy()))]
            keep = (X["season"].astype(str) == latest).to_numpy()
        else:
            keep = (dates > last - pd.Timedelta(days=self.window_days)).to_numpy()
        if keep.sum() < min(self.min_rows, len(X)):
            newest = np.argsort(dates.to_numpy(), kind="stable")[-self.min_rows :]
            keep = np.zeros(len(X), dtype=bool)
            keep[newest] = True
        weight = None
        if self.half_life_days:
            age = (last - dates).dt.days.to_numpy(dtype=np.float64)
            weight = np.power(0.5, age / self.half_life_days)
        return keep, weight
