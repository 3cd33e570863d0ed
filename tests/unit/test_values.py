"""core.values: the one NaN → None rule, on tiny inputs."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest

from nbaprops.core.values import finite_or_none, json_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (math.nan, None),
        (math.inf, None),
        (-math.inf, None),
        (np.float64("nan"), None),
        (np.float32("inf"), None),
        (True, None),
        (np.bool_(False), None),
        (0, 0.0),
        (2.5, 2.5),
        (np.int64(3), 3.0),
        (np.float32(0.5), 0.5),
        ("1.5", 1.5),
    ],
)
def test_finite_or_none(value: object, expected: float | None) -> None:
    out = finite_or_none(value)
    assert out == expected
    assert out is None or type(out) is float


def test_finite_or_none_refuses_what_is_no_number() -> None:
    with pytest.raises(ValueError, match="could not convert"):
        finite_or_none("abc")


@dataclass(frozen=True)
class _Rec:
    a: float
    b: tuple[float, ...]


def test_json_safe_scalars() -> None:
    assert json_safe(None) is None
    assert json_safe(math.nan) is None
    assert json_safe(-math.inf) is None
    assert json_safe(1.5) == 1.5
    assert json_safe("x") == "x"
    assert json_safe(True) is True
    out = json_safe(np.int64(7))
    assert out == 7
    assert type(out) is int
    out = json_safe(np.float64(0.25))
    assert out == 0.25
    assert type(out) is float
    assert json_safe(np.float64("nan")) is None
    assert json_safe(np.bool_(True)) is True


def test_json_safe_nested() -> None:
    value = {
        1: [math.nan, (np.int32(2), math.inf)],
        "r": _Rec(a=math.nan, b=(1.0, np.float64("-inf"))),
        "arr": np.array([1.0, np.nan]),
    }
    out = json_safe(value)
    assert out == {
        "1": [None, [2, None]],
        "r": {"a": None, "b": [1.0, None]},
        "arr": [1.0, None],
    }
    json.dumps(out, allow_nan=False)


def test_json_safe_leaves_a_class_alone() -> None:
    assert json_safe(_Rec) is _Rec
