"""Predict a date with every registered model that has an alias.

The models come from the registry (champion, challenger, shadow), each with the
calibration its version earned; the slate is built as of the decision time; the one
scoring path prices it; the rows go to predictions.prediction. Refusals are errors
with one clear line: a date inside a model's training window (unless research asks
for in-sample rows, which are then marked and excluded from every figure), or a slate
whose required features are too incomplete (unless the check is skipped, recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.features.catalog import FeatureSet, experimental_feature_set, get_feature_set
from nbaprops.models.registry import ALIASES, LoadedModel, ModelVersion, load_model
from nbaprops.predictions.scoring import ScoringModel, score_date
from nbaprops.predictions.slate import build_slate
from nbaprops.predictions.store import BatchWrite, to_table_rows, write_batch
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM

# The completeness gate: share of the spine with every required feature present.
MIN_COMPLETE_SHARE = 0.90


class InSampleError(NbapropsError):
    """A model asked to predict a date inside its own training window."""


class IncompleteSlateError(NbapropsError):
    """Too few of the slate's players have their required features."""


@dataclass(frozen=True)
class ServingModel:
    """A registered version under an alias, loaded and ready to score."""

    loaded: LoadedModel
    alias: str | None

    @property
    def version(self) -> ModelVersion:
        return self.loaded.version

    def scoring(self) -> ScoringModel:
        v = self.loaded.version
        return ScoringModel(
            v.system_id,
            self.loaded.system,
            self.loaded.calibration,
            version=v.version,
            alias=self.alias,
            train_end=v.train_end,
        )


def version_feature_set(version: ModelVersion) -> FeatureSet:
    """The feature set a version was trained on (experimental sets rebuilt from its list)."""
    if version.mode == "shared":
        return get_feature_set(version.feature_set_key)
    return experimental_feature_set(
        tuple(version.feature_columns), f"experimental features of {version.ref}"
    )


def aliased_models(con: duckdb.DuckDBPyConnection) -> list[ServingModel]:
    """Every points model version that has an alias, loaded (skew guard and checksum
    included); the breakout classifier's shadow is scored by ``predictions.breakout``."""
    rows = con.execute(
        "SELECT system_id, alias FROM models.alias WHERE system_id <> ? "
        "ORDER BY system_id, list_position(?, alias)",
        [BREAKOUT_SYSTEM, list(ALIASES)],
    ).fetchall()
    return [ServingModel(load_model(con, f"{s}@{a}"), a) for s, a in rows]


@dataclass(frozen=True)
class PredictResult:
    day: date
    decision_minutes: int
    as_of: datetime | None
    n_spine: int
    complete_share: float
    completeness_skipped: bool
    writes: list[BatchWrite] = field(default_factory=list)
    scored: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def unchanged(self) -> bool:
        return bool(self.writes) and all(w.unchanged for w in self.writes)


def check_out_of_sample(models: Sequence[ServingModel], day: date) -> list[str]:
    """The models whose training window reaches ``day`` (they must not predict it)."""
    return [
        f"{m.version.ref} (trained to {m.version.train_end})"
        for m in models
        if m.version.train_end >= day
    ]


def predict_date(
    con: duckdb.DuckDBPyConnection,
    day: date,
    models: Sequence[ServingModel],
    *,
    minutes_before_tip: int,
    ev_margin: float,
    as_of: datetime | None = None,
    force: bool = False,
    skip_completeness_check: bool = False,
    allow_in_sample: bool = False,
) -> PredictResult:
    """Score ``day`` with ``models`` and write the rows (nothing is written on a refusal)."""
    if not models:
        raise NbapropsError(
            "no registered model has an alias; register one (`nbaprops experiment run`) "
            "and promote it (`nbaprops model promote`)"
        )
    inside = check_out_of_sample(models, day)
    if inside and not allow_in_sample:
        raise InSampleError(
            f"{day} is inside the training window of {', '.join(inside)}; "
            "a model never predicts its own training dates (--allow-in-sample marks such "
            "rows for research and keeps them out of every figure)"
        )
    by_set: dict[str, list[ServingModel]] = {}
    sets: dict[str, FeatureSet] = {}
    for m in models:
        fs = version_feature_set(m.version)
        sets[fs.key] = fs
        by_set.setdefault(fs.key, []).append(m)
    writes: list[BatchWrite] = []
    scored_all = []
    n_spine, complete = 0, float("nan")
    for key, group in by_set.items():
        slate = build_slate(
            con, [day], sets[key], minutes_before_tip=minutes_before_tip, as_of=as_of
        )
        if slate.frame.empty:
            raise NbapropsError(f"no games or no expected players on {day}")
        n_spine = max(n_spine, len(slate.frame))
        complete = slate.complete_share
        if complete < MIN_COMPLETE_SHARE and not skip_completeness_check:
            raise IncompleteSlateError(
                f"only {complete:.0%} of {len(slate.frame)} players on {day} have every "
                f"required feature (gate {MIN_COMPLETE_SHARE:.0%}); check the box scores are "
                "loaded, or pass --skip-completeness-check (recorded on every row)"
            )
        scored = score_date(
            slate.frame,
            [m.scoring() for m in group],
            ev_margin=ev_margin,
            books=slate.books,
            keep_quantiles=True,
        )
        scored_all.append(scored)
        for m in group:
            rows = scored[(scored["system"] == m.version.system_id) & (scored["alias"] == m.alias)]
            table_rows = to_table_rows(
                rows,
                as_of=as_of,
                minutes_before_tip=minutes_before_tip,
                in_sample=m.version.train_end >= day,
                completeness_skipped=skip_completeness_check,
            )
            writes.append(
                write_batch(
                    con,
                    table_rows,
                    system_id=m.version.system_id,
                    model_version=m.version.version,
                    alias=m.alias,
                    day=day,
                    force=force,
                )
            )
    scored = pd.concat(scored_all, ignore_index=True) if scored_all else pd.DataFrame()
    return PredictResult(
        day, minutes_before_tip, as_of, n_spine, complete, skip_completeness_check, writes, scored
    )


def live_as_of(day: date, now: datetime | None = None) -> datetime | None:
    """A live run (today or a future date) may not use quotes after the moment it runs;
    a replay of a past date decides at tip-off minus the decision minutes."""
    now = now or datetime.now(UTC)
    return now if day >= now.date() else None
