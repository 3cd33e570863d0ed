"""The experiment spec: one object built by a YAML file, the CLI flags and (later) the API.

The backtest takes it whole, fold policy included, so no surface re-validates or
re-plans anything itself. ``mode: shared`` binds the systems to a registered feature
set (training and serving consistent by construction); ``mode: experimental`` takes
any catalog features for research, and its models can never be promoted.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import Market, get_market
from nbaprops.core.settings import DEFAULT_DECISION_MINUTES
from nbaprops.features.catalog import (
    FEATURE_SETS,
    FEATURES,
    FeatureSet,
    experimental_feature_set,
)
from nbaprops.systems import SYSTEM_IDS, CompositeSystem, system_class
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM
from nbaprops.systems.factory import BASELINE_ID

EXPERIMENT_TYPES = ("walk_forward", "ablation", "hyperparameter", "feature", "breakout")
# The baseline every walk-forward runs (the floor every system is measured against).
BASELINE = BASELINE_ID


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _takes_weights(system_id: str) -> bool:
    """Whether recency weights reach the system's fit (a composite's, through its members)."""
    cls = system_class(system_id)
    return cls.supports_sample_weight or issubclass(cls, CompositeSystem)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class TrainingPeriod(_Strict):
    """Where training history starts (None: all of it) and where the final model's ends."""

    start: date | None = None
    end: date | None = None


class Window(_Strict):
    """Which training rows each fold fits on."""

    kind: Literal["expanding", "rolling", "current_season"] = "expanding"
    days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _days(self) -> Self:
        if self.kind == "rolling" and self.days is None:
            raise ValueError("a rolling window needs days")
        if self.kind != "rolling" and self.days is not None:
            raise ValueError(f"days only applies to a rolling window, not {self.kind!r}")
        return self


class Recency(_Strict):
    """Weight training rows by 0.5 ** (age in days / half_life_days)."""

    enabled: bool = False
    half_life_days: float = Field(default=60.0, gt=0)


class ExperimentSpec(_Strict):
    """What to run: systems, features, periods, the fold policy, and why."""

    name: str = Field(max_length=100)
    hypothesis: str = ""
    type: Literal["walk_forward", "ablation", "hyperparameter", "feature", "breakout"] = (
        "walk_forward"
    )
    tags: tuple[str, ...] = ()
    systems: tuple[str, ...] = Field(min_length=1)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    system_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    mode: Literal["shared", "experimental"] = "shared"
    feature_set: str = "points_v1"
    features: tuple[str, ...] | None = None
    training: TrainingPeriod = TrainingPeriod()
    evaluation: Period
    window: Window = Window()
    recency: Recency = Recency()
    retrain_every: int = Field(default=7, ge=1)
    gap_days: int = Field(default=0, ge=0)
    warmup_days: int = Field(default=21, ge=0)
    seed: int = 7
    ev_margin: float = 0.02
    # A prediction uses only quotes seen this many minutes before tip-off (hashed: the
    # lines a backtest is scored on are part of what it measured).
    decision_minutes: int = Field(default=DEFAULT_DECISION_MINUTES, ge=0)
    parent: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """``system: X`` is shorthand for ``systems: [X]``."""
        if isinstance(data, dict) and "system" in data:
            data = dict(data)
            if "systems" in data:
                raise ValueError("give either system or systems, not both")
            data["systems"] = [data.pop("system")]
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not _PLAIN_NAME.fullmatch(self.name):
            raise ValueError(
                f"name {self.name!r} must be a plain name (letters, digits, _ . -; no folders)"
            )
        if self.type == "breakout":
            return self._breakout_consistent()
        if BREAKOUT_SYSTEM in self.systems:
            raise ValueError("the breakout classifier runs only in type: breakout")
        unknown = [s for s in self.systems if s not in SYSTEM_IDS]
        if unknown:
            raise ValueError(
                f"unknown systems: {', '.join(unknown)} (known: {', '.join(SYSTEM_IDS)})"
            )
        if len(set(self.systems)) != len(self.systems):
            raise ValueError("a system is listed twice")
        stray = [s for s in self.system_params if s not in self.systems]
        if stray:
            raise ValueError(f"system_params for systems not run: {', '.join(stray)}")
        if self.feature_set not in FEATURE_SETS:
            raise ValueError(
                f"unknown feature set {self.feature_set!r} (known: {', '.join(FEATURE_SETS)})"
            )
        if self.mode == "shared" and self.features is not None:
            raise ValueError(
                "a custom feature list needs mode: experimental (research only, never "
                "promotable); mode: shared uses the registered feature_set exactly"
            )
        market = self.market
        if market.name != "points":
            points_only = [s for s in self.run_systems if not system_class(s).any_market]
            if points_only:
                others = [s for s in SYSTEM_IDS if system_class(s).any_market]
                verb = "predicts" if len(points_only) == 1 else "predict"
                raise ValueError(
                    f"{', '.join(points_only)} {verb} points only; for {market.name} use "
                    f"{', '.join(others)}"
                )
        if self.mode == "experimental":
            if not self.features:
                raise ValueError("mode: experimental needs a features list")
            missing = [f for f in self.features if f not in FEATURES]
            if missing:
                raise ValueError(f"unknown features: {', '.join(missing)}")
            for system_id in self.run_systems:
                needs = [
                    f
                    for f in system_class(system_id).required_for(market)
                    if f not in self.features
                ]
                if needs:
                    raise ValueError(
                        f"features must include what {system_id} needs "
                        f"(the baseline always runs): {', '.join(needs)}"
                    )
        if self.recency.enabled:
            # a composite's members take the weights; a plain system must honour them
            unweighted = [s for s in self.systems if not _takes_weights(s)]
            if unweighted:
                weighted = [s for s in SYSTEM_IDS if system_class(s).supports_sample_weight]
                raise ValueError(
                    f"recency weighting needs systems that take sample weights "
                    f"({', '.join(weighted)}), not {', '.join(unweighted)}"
                )
        last = self.training.end
        if last is not None and last < self.evaluation.end:
            raise ValueError(
                f"training.end {last} is before evaluation.end {self.evaluation.end}: the "
                "registered model is fitted after the walk-forward, on data up to training.end"
            )
        start = self.training.start
        if start is not None and start >= self.evaluation.start:
            raise ValueError(f"training.start {start} is not before evaluation.start")
        return self

    def _breakout_consistent(self) -> Self:
        """``type: breakout``: the breakout classifier alone, on a breakout feature set
        (``mode: shared``) or on any catalog features (``mode: experimental``)."""
        if self.systems != (BREAKOUT_SYSTEM,):
            raise ValueError(f"type: breakout runs system {BREAKOUT_SYSTEM!r} alone")
        if self.system_params:
            raise ValueError("type: breakout takes its parameters under hyperparameters")
        if self.feature_set not in FEATURE_SETS:
            raise ValueError(
                f"unknown feature set {self.feature_set!r} (known: {', '.join(FEATURE_SETS)})"
            )
        if self.mode == "shared":
            if self.features is not None:
                raise ValueError(
                    "a custom feature list needs mode: experimental (research only, never "
                    "promotable); mode: shared uses the registered feature_set exactly"
                )
            if FEATURE_SETS[self.feature_set].name != "breakout":
                raise ValueError(
                    f"type: breakout needs a breakout feature set, not {self.feature_set!r}"
                )
        else:
            if not self.features:
                raise ValueError("mode: experimental needs a features list")
            missing = [f for f in self.features if f not in FEATURES]
            if missing:
                raise ValueError(f"unknown features: {', '.join(missing)}")
        if self.recency.enabled:
            raise ValueError("type: breakout does not take recency weights")
        if self.training.end is not None and self.training.end < self.evaluation.end:
            raise ValueError(
                f"training.end {self.training.end} is before evaluation.end {self.evaluation.end}"
            )
        if self.training.start is not None and self.training.start >= self.evaluation.start:
            raise ValueError(f"training.start {self.training.start} is not before evaluation.start")
        return self

    # --- what the rest of the system reads -------------------------------------------

    @property
    def primary(self) -> str:
        """The system under test: the first one listed (its model is what gets registered)."""
        return self.systems[0]

    @property
    def run_systems(self) -> tuple[str, ...]:
        """Systems the backtest runs: the baseline first (always), then those listed.

        The ensemble stacks the other systems run (list it last to stack them all).
        """
        chosen = list(self.systems)
        if self.type == "breakout":
            return tuple(chosen)
        if BASELINE not in chosen:
            chosen.insert(0, BASELINE)
        return tuple(dict.fromkeys(chosen))

    def params_for(self, system_id: str) -> dict[str, Any]:
        params = dict(self.system_params.get(system_id, {}))
        if system_id == self.primary:
            params.update(self.hyperparameters)
        return params

    @property
    def resolved_feature_set(self) -> FeatureSet:
        """The registered set (shared), or an experimental set over the custom features."""
        base = FEATURE_SETS[self.feature_set]
        if self.mode == "shared":
            return base
        assert self.features is not None
        return experimental_feature_set(
            tuple(self.features), f"experimental features of {self.name}", base.market
        )

    @property
    def market(self) -> Market:
        """The market its systems predict: the feature set's (an experimental list takes
        the market of the set it names)."""
        return get_market(FEATURE_SETS[self.feature_set].market)

    @property
    def history_start(self) -> date | None:
        return self.training.start

    @property
    def start(self) -> date:
        return self.evaluation.start

    @property
    def end(self) -> date:
        return self.evaluation.end

    @property
    def final_train_end(self) -> date:
        """Where the registered model's training ends (default: the evaluation's end)."""
        return self.training.end or self.evaluation.end

    @property
    def eval_window(self) -> str:
        """The key under which runs compete: same evaluation window, same competition."""
        return f"{self.evaluation.start}:{self.evaluation.end}"

    def resolved(self) -> dict[str, Any]:
        """The full config with every default filled in (what is hashed and recorded)."""
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """Hash of what determines the results (not the name, hypothesis, tags or parent)."""
        payload = self.model_dump(mode="json", exclude={"name", "hypothesis", "tags", "parent"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def with_overrides(self, **changes: Any) -> ExperimentSpec:
        """A new, re-validated spec with some fields replaced (nested as dicts)."""
        data = self.model_dump()
        for key, value in changes.items():
            if value is None:
                continue
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return build_spec(data)


def first_error(exc: ValidationError, names: dict[str, str] | None = None) -> str:
    """``where: what`` for the first error (whole-spec errors have no ``where``)."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    more = len(exc.errors()) - 1
    message += f" (and {more} more)" if more else ""
    if not loc:
        return message
    return f"{(names or {}).get(loc[0], '.'.join(loc))}: {message}"


def build_spec(
    data: dict[str, Any], *, origin: str | None = None, names: dict[str, str] | None = None
) -> ExperimentSpec:
    """Validate a mapping into a spec; a user mistake is one NbapropsError line.

    ``origin`` (a file name) prefixes the message; ``names`` shows top-level fields by
    the name the user typed them under (the CLI's flags).
    """
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        message = first_error(exc, names)
        raise NbapropsError(f"{origin}: {message}" if origin else message) from None


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file's top-level mapping; anything else is one NbapropsError line."""
    if not path.is_file():
        raise NbapropsError(f"no {what} file at {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise NbapropsError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise NbapropsError(f"{path}: a {what} file is a mapping of fields")
    return data


def load_spec(path: Path) -> ExperimentSpec:
    """An experiment spec from a YAML file."""
    return build_spec(read_yaml_mapping(path, "experiment"), origin=str(path))
