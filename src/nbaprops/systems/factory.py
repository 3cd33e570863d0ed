"""Every system class by its stable id: make one, or load a saved one (not the model registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbaprops.core.errors import NbapropsError
from nbaprops.features.catalog import FeatureSet
from nbaprops.systems.anchored import AnchoredSystem
from nbaprops.systems.base import Persisted, PredictionSystem
from nbaprops.systems.catboost_full import CatBoostSystem
from nbaprops.systems.catboost_season import CatBoostSeasonSystem
from nbaprops.systems.ensemble import EnsembleSystem
from nbaprops.systems.market import MarketSystem
from nbaprops.systems.matchup import MatchupSystem
from nbaprops.systems.moving_average import MovingAverageSystem
from nbaprops.systems.season_average import SeasonAverageSystem
from nbaprops.systems.similarity import SimilaritySystem
from nbaprops.systems.xgboost_system import XGBoostSystem

_FRAME_SYSTEMS: dict[str, type[PredictionSystem]] = {
    cls.system_id: cls
    for cls in (
        SeasonAverageSystem,
        MovingAverageSystem,
        MatchupSystem,
        SimilaritySystem,
        XGBoostSystem,
        CatBoostSystem,
        CatBoostSeasonSystem,
        MarketSystem,
        AnchoredSystem,
    )
}
# Systems fitted on a feature frame (the ensemble's members), then the ensemble.
MEMBER_SYSTEM_IDS: tuple[str, ...] = tuple(_FRAME_SYSTEMS)
SYSTEM_IDS: tuple[str, ...] = (*MEMBER_SYSTEM_IDS, EnsembleSystem.system_id)
BASELINE_ID = SeasonAverageSystem.system_id
MARKET_ID = MarketSystem.system_id
ANCHORED_ID = AnchoredSystem.system_id


def system_class(system_id: str) -> type[Persisted]:
    if system_id == EnsembleSystem.system_id:
        return EnsembleSystem
    try:
        return _FRAME_SYSTEMS[system_id]
    except KeyError:
        raise NbapropsError(
            f"unknown system {system_id!r}: use one of {', '.join(SYSTEM_IDS)}"
        ) from None


def load_system(path: Path | str, *, expected_feature_set: FeatureSet | str) -> Persisted:
    """Load any saved system (or ensemble), refusing one bound to another feature set."""
    return Persisted.load(path, expected_feature_set=expected_feature_set)


def make_system(system_id: str, **params: Any) -> Any:
    """A new, unfitted system; unknown parameters are refused by its constructor."""
    cls = system_class(system_id)
    try:
        return cls(**params)
    except TypeError as exc:
        raise NbapropsError(f"bad parameters for {system_id}: {exc}") from None
