"""Prediction systems: one contract (fit, predict_dist, prob_over), many models.

Every system derives from ``PredictionSystem``; composites (the anchored system, the
ensemble) derive from ``CompositeSystem`` and are built from their members' fits.
"""

from nbaprops.systems.base import (
    QUANTILES,
    FeatureSetMismatchError,
    PredictionSystem,
    PredictiveDistribution,
    Provenance,
)
from nbaprops.systems.composite import CompositeSystem
from nbaprops.systems.ensemble import EnsembleSystem, member_column
from nbaprops.systems.factory import (
    BASELINE_ID,
    MEMBER_SYSTEM_IDS,
    SYSTEM_IDS,
    load_system,
    make_system,
    system_class,
)

__all__ = [
    "BASELINE_ID",
    "MEMBER_SYSTEM_IDS",
    "QUANTILES",
    "SYSTEM_IDS",
    "CompositeSystem",
    "EnsembleSystem",
    "FeatureSetMismatchError",
    "PredictionSystem",
    "PredictiveDistribution",
    "Provenance",
    "load_system",
    "make_system",
    "member_column",
    "system_class",
]
