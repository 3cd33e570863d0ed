"""Prediction systems: one contract (fit, predict_dist, prob_over), many models.

Every feature-frame system derives from ``PredictionSystem``; the ensemble stacks
their predictive distributions through its own interface (see ``ensemble``).
"""

from nbaprops.systems.base import (
    QUANTILES,
    FeatureSetMismatchError,
    PredictionSystem,
    PredictiveDistribution,
    Provenance,
)
from nbaprops.systems.ensemble import EnsembleSystem, member_column, stack_key
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
    "EnsembleSystem",
    "FeatureSetMismatchError",
    "PredictionSystem",
    "PredictiveDistribution",
    "Provenance",
    "load_system",
    "make_system",
    "member_column",
    "stack_key",
    "system_class",
]
