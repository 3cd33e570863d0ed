"""Missing figures as None: NaN and infinity have no JSON spelling.

The one place a figure that is not a finite number (NaN, ±inf, None) becomes ``None``,
and numpy scalars become plain Python, so every ``to_dict`` and JSON payload agrees.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

__all__ = ["finite_or_none", "json_safe"]


def finite_or_none(value: Any) -> float | None:
    """``float(value)``, or None when it is None, a bool (not a figure), NaN or ±inf."""
    if value is None or isinstance(value, bool | np.bool_):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_safe(value: Any) -> Any:
    """Plain Python for ``json.dumps(allow_nan=False)``, recursively.

    Dataclass instances and dicts become dicts (keys as ``str``), lists, tuples and
    arrays become lists, numpy scalars become Python scalars, and a float that is NaN or
    ±inf becomes None; anything else is returned unchanged.
    """
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
