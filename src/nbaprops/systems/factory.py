"""Every system class by its stable id: make one, or load a saved one (not the model registry).

The one place that knows every system: the order systems are listed and run in
(``SYSTEM_IDS``, composites after what they are built from) and how an id becomes a
class. Nothing outside this module branches on a system id; what differs between
systems is declared on their classes (``supports_sample_weight``, ``fit_cost``,
``CompositeSystem.members``, ``needs_record``, ``members_from_run``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbaprops.core.errors import NbapropsError
from nbaprops.features.catalog import FeatureSet
from nbaprops.systems.anchored import AnchoredSystem
from nbaprops.systems.base import Persisted, PredictionSystem, registered_class
from nbaprops.systems.catboost_full import CatBoostSystem
from nbaprops.systems.catboost_season import CatBoostSeasonSystem
from nbaprops.systems.composite import CompositeSystem
from nbaprops.systems.ensemble import EnsembleSystem
from nbaprops.systems.market import MarketSystem
from nbaprops.systems.matchup import MatchupSystem
from nbaprops.systems.moving_average import MovingAverageSystem
from nbaprops.systems.season_average import SeasonAverageSystem
from nbaprops.systems.similarity import SimilaritySystem
from nbaprops.systems.xgboost_system import XGBoostSystem

_ORDER: tuple[type[PredictionSystem], ...] = (
    SeasonAverageSystem,
    MovingAverageSystem,
    MatchupSystem,
    SimilaritySystem,
    XGBoostSystem,
    CatBoostSystem,
    CatBoostSeasonSystem,
    MarketSystem,
    AnchoredSystem,
    EnsembleSystem,
)
SYSTEM_IDS: tuple[str, ...] = tuple(cls.system_id for cls in _ORDER)
# The systems an ensemble stacks by default (every system but those stacking the run).
MEMBER_SYSTEM_IDS: tuple[str, ...] = tuple(
    cls.system_id
    for cls in _ORDER
    if not (issubclass(cls, CompositeSystem) and cls.members_from_run)
)
BASELINE_ID = SeasonAverageSystem.system_id
MARKET_ID = MarketSystem.system_id
ANCHORED_ID = AnchoredSystem.system_id
ENSEMBLE_ID = EnsembleSystem.system_id


def system_class(system_id: str) -> type[PredictionSystem]:
    if system_id not in SYSTEM_IDS:
        raise NbapropsError(f"unknown system {system_id!r}: use one of {', '.join(SYSTEM_IDS)}")
    return registered_class(system_id)


def is_composite(system_id: str) -> bool:
    """Whether the system is built from other systems' fits (see ``CompositeSystem``)."""
    return issubclass(system_class(system_id), CompositeSystem)


def load_system(path: Path | str, *, expected_feature_set: FeatureSet | str) -> Persisted:
    """Load any saved system, refusing one bound to another feature set."""
    return Persisted.load(path, expected_feature_set=expected_feature_set)


def make_system(system_id: str, **params: Any) -> PredictionSystem:
    """A new, unfitted system; unknown parameters are refused by its constructor."""
    cls = system_class(system_id)
    try:
        return cls(**params)
    except TypeError as exc:
        raise NbapropsError(f"bad parameters for {system_id}: {exc}") from None
