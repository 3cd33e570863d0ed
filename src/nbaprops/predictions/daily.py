"""Predict a date with every registered model that has an alias.

The models come from the registry (champion, challenger, shadow), each with the
calibration its version earned; the slate is built as of the decision time; the one
scoring path prices it; the rows go to predictions.prediction. Refusals are errors
with one clear line: a date inside a model's training window (unless research asks
for in-sample rows, which are then marked and excluded from every figure), a slate
whose required features are too incomplete (unless the check is skipped, recorded), a
date without games (the message says what the schedule holds), or a date whose data is
stale (``warehouse.freshness``: box scores behind the schedule, old or no real lines on
a live date; ``StaleDataError``, exit code 2). ``--allow-stale`` predicts anyway and
records what it overrode on every row; such rows, and a player whose team on the
date's lines is not his latest box score's (flagged on his row), are never bet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.db import transaction
from nbaprops.core.errors import NbapropsError, StaleDataError
from nbaprops.core.markets import MARKET_NAMES, get_market
from nbaprops.core.settings import Settings
from nbaprops.core.time import eastern_today, season_of
from nbaprops.features.catalog import FeatureSet, experimental_feature_set, get_feature_set
from nbaprops.models.calibration import EvCalibration
from nbaprops.models.registry import ALIASES, LoadedModel, ModelVersion, load_model
from nbaprops.predictions.picks import (
    BET,
    WATCHLIST,
    PickPolicy,
    cap_across_markets,
    empty_picks,
    select_picks,
)
from nbaprops.predictions.scoring import ScoringModel, score_date
from nbaprops.predictions.signal import SIGNAL_INPUTS, slate_signal
from nbaprops.predictions.slate import build_slate
from nbaprops.predictions.store import (
    BatchWrite,
    PickBatch,
    active_pick_count,
    active_predictions,
    to_table_rows,
    write_batch,
    write_pick_batches,
)
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM
from nbaprops.warehouse.freshness import check_date, no_games_message, team_changes

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
        tuple(version.feature_columns), f"experimental features of {version.ref}", version.market
    )


def aliased_models(
    con: duckdb.DuckDBPyConnection,
    *,
    artifacts_dir: Path | None = None,
    markets: Sequence[str] | None = None,
) -> list[ServingModel]:
    """Every model version that has an alias in one of ``markets`` (None: every market),
    loaded (skew guard and checksum included); the breakout classifier's shadow is scored
    by ``predictions.breakout``. ``artifacts_dir``: the configured artefact root (None:
    beside the warehouse)."""
    rows = con.execute(
        "SELECT system_id, alias, market FROM models.alias WHERE system_id <> $breakout "
        "AND ($markets IS NULL OR list_contains($markets, market)) "
        "ORDER BY list_position($order, market) NULLS LAST, market, system_id, "
        "list_position($aliases, alias)",
        {
            "breakout": BREAKOUT_SYSTEM,
            "markets": None if markets is None else list(markets),
            "order": list(MARKET_NAMES),
            "aliases": list(ALIASES),
        },
    ).fetchall()
    return [
        ServingModel(load_model(con, f"{s}@{a}", market=mk, artifacts_dir=artifacts_dir), a)
        for s, a, mk in rows
    ]


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
    picks: list[BatchWrite] = field(default_factory=list)  # each model's picks written
    stale_override: str | None = None  # what --allow-stale overrode (on every row)
    team_changes: dict[int, str] = field(default_factory=dict)  # player -> reason
    notes: list[str] = field(default_factory=list)  # e.g. a market without lines tonight

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


def refuse_stale(
    con: duckdb.DuckDBPyConnection,
    day: date,
    settings: Settings,
    *,
    allow_stale: bool = False,
    now: datetime | None = None,
) -> str | None:
    """The gates before a prediction: a date without games is an error naming what the
    schedule holds; stale data is ``StaleDataError`` (exit 2) unless ``allow_stale``,
    which returns what was overridden (None: nothing was stale)."""
    no_games = no_games_message(con, day)
    if no_games:
        raise NbapropsError(no_games)
    fresh = check_date(con, day, settings, now)
    if fresh.refusals and not allow_stale:
        raise StaleDataError(fresh.message())
    return fresh.override()


def predict_date(
    con: duckdb.DuckDBPyConnection,
    day: date,
    models: Sequence[ServingModel],
    *,
    settings: Settings,
    minutes_before_tip: int,
    ev_margin: float,
    as_of: datetime | None = None,
    force: bool = False,
    skip_completeness_check: bool = False,
    allow_in_sample: bool = False,
    allow_stale: bool = False,
    freshness_gates: bool = True,
    now: datetime | None = None,
) -> PredictResult:
    """Score ``day`` with ``models`` and write each model's rows and picks (nothing is
    written on a refusal); ``settings`` give the picks policy and the signal's thresholds.

    ``freshness_gates`` (the daily ``predict``; a backfill replays without them, so its
    rows and picks equal the backtest's) refuse a stale date as of ``now`` unless
    ``allow_stale``, and flag players whose team changed."""
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
    stale_override = (
        refuse_stale(con, day, settings, allow_stale=allow_stale, now=now)
        if freshness_gates
        else None
    )
    flagged: dict[int, str] = {}
    by_set: dict[str, list[ServingModel]] = {}
    sets: dict[str, FeatureSet] = {}
    for m in models:
        fs = version_feature_set(m.version)
        sets[fs.key] = fs
        by_set.setdefault(fs.key, []).append(m)
    scored_all = []
    parts: list[ModelDate] = []
    notes: list[str] = []
    n_spine, complete = 0, float("nan")
    for key, group in by_set.items():
        market = get_market(sets[key].market)
        slate = build_slate(
            con, [day], sets[key], minutes_before_tip=minutes_before_tip, as_of=as_of
        )
        if slate.frame.empty and not market.estimated_line:
            # a market without an estimated line predicts lined players only (issue 26)
            notes.append(
                f"no {market.name} lines on {day} by the decision time: no {market.name} "
                "rows (a line is never estimated for this market)"
            )
            continue
        if slate.frame.empty:
            raise NbapropsError(
                no_games_message(con, day)
                or f"no expected players on {day}: no team playing has a rotation in the box "
                "scores before it and no player has a real line; load box scores with "
                f"`nbaprops ingest nba-api --season {season_of(day)}`"
            )
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
        if freshness_gates:
            frame = slate.frame
            flagged |= team_changes(con, day, zip(frame["player_id"], frame["team"], strict=True))
        scored["freshness_flag"] = [flagged.get(int(p)) for p in scored["player_id"]]
        scored["stale_override"] = stale_override
        scored["market"] = market.name
        scored_all.append(scored)
        parts.extend(
            ModelDate(
                scored[(scored["system"] == m.version.system_id) & (scored["alias"] == m.alias)],
                m.scoring(),
                m.version.train_end >= day,
            )
            for m in group
        )
    writes: list[BatchWrite] = []
    pick_writes: list[BatchWrite] = []
    # every market of the date in one transaction: the date's limits hold across them
    for write, picked in write_models_date(
        con,
        day,
        parts,
        settings=settings,
        as_of=as_of,
        minutes_before_tip=minutes_before_tip,
        completeness_skipped=skip_completeness_check,
        force=force,
    ):
        writes.append(write)
        pick_writes.append(picked)
    scored = pd.concat(scored_all, ignore_index=True) if scored_all else pd.DataFrame()
    return PredictResult(
        day,
        minutes_before_tip,
        as_of,
        n_spine,
        complete,
        skip_completeness_check,
        writes,
        scored,
        pick_writes,
        stale_override,
        flagged,
        notes,
    )


def live_as_of(day: date, now: datetime | None = None) -> datetime | None:
    """A live run (today or a future date, US/Eastern like the freshness gates) may not
    use quotes after the moment it runs; a replay of a past date decides at tip-off minus
    the decision minutes."""
    now = now or datetime.now(UTC)
    return now if day >= eastern_today(now) else None


def picks_of_rows(
    rows: pd.DataFrame, ev: EvCalibration, settings: Settings, policy: PickPolicy | None = None
) -> pd.DataFrame:
    """The picks of one model's stored predictions of one date (``active_predictions``
    rows): the slate signal of those rows, then ``select_picks`` with the model's record."""
    if rows.empty:
        return empty_picks()
    out_of_sample = ~rows["in_sample"].to_numpy(dtype=bool)
    signal = slate_signal(rows.loc[out_of_sample, list(SIGNAL_INPUTS)], settings).signal
    policy = policy or PickPolicy.from_settings(settings)
    held = held_reasons(rows)
    if not held.notna().any():
        return select_picks(rows, ev, signal, policy)
    free = held.isna().to_numpy()
    picks = select_picks(rows[free], ev, signal, policy)  # the caps count free rows only
    watch = select_picks(rows[~free], ev, signal, policy)
    if watch.empty:
        return picks
    reason = dict(zip(rows["player_id"], held, strict=True))
    watch = watch.assign(
        status=WATCHLIST,
        reason=watch["player_id"].map(reason),
        stake_flat=0.0,
        stake_kelly_before=0.0,
        stake_kelly=0.0,
        capped_by="",
    )
    return rank_picks(pd.concat([picks, watch], ignore_index=True) if len(picks) else watch)


def held_reasons(rows: pd.DataFrame) -> pd.Series:
    """Why a row may be picked but never bet (None: it may be): its player's team
    changed (``freshness_flag``), or the date was predicted over stale data
    (``stale_override``, --allow-stale)."""
    none = pd.Series(None, index=rows.index, dtype=object)
    flag = rows.get("freshness_flag", none)
    stale = rows.get("stale_override", none)
    stale = stale.where(stale.isna(), "stale data overridden: " + stale.astype(str))
    return flag.where(flag.notna(), stale).astype(object)


def rank_picks(picks: pd.DataFrame) -> pd.DataFrame:
    """Bets first by calibrated EV, then the watchlist by claimed EV (``select_picks``'s
    order), ranks renumbered."""
    is_bet = picks["status"] == BET
    value = picks["ev_calibrated"].where(is_bet, picks["ev_raw"]).astype(float).fillna(-np.inf)
    order = np.lexsort((picks["player_id"].to_numpy(), -value.to_numpy(), (~is_bet).to_numpy()))
    out = picks.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def cap_batches_across_markets(batches: Sequence[PickBatch], policy: PickPolicy) -> list[PickBatch]:
    """The date's limits over the new picks of several markets, per alias (the bets a
    user following every market of the champions places; ``cap_across_markets``). With one
    market the batches are returned as they are: ``select_picks`` already applied them."""
    fresh = {i for i, b in enumerate(batches) if b.force and len(b.picks)}
    if len({batches[i].market for i in fresh}) < 2:
        return list(batches)
    frames = [
        b.picks.assign(market=b.market, _batch=i, _alias=str(b.alias))
        for i, b in enumerate(batches)
        if i in fresh
    ]
    capped = cap_across_markets(pd.concat(frames, ignore_index=True), policy, by=("_alias",))
    out = []
    for i, b in enumerate(batches):
        if i not in fresh:
            out.append(b)
            continue
        mine = capped[capped["_batch"] == i].drop(columns=["market", "_batch", "_alias"])
        out.append(replace(b, picks=rank_picks(mine.reset_index(drop=True))))
    return out


@dataclass(frozen=True)
class ModelDate:
    """One model's scored rows of a date, ready to write."""

    scored: pd.DataFrame
    model: ScoringModel
    in_sample: bool = False

    @property
    def market(self) -> str:
        """The market the model predicts (its fitted feature set's)."""
        return self.model.model.market.name


def write_models_date(
    con: duckdb.DuckDBPyConnection,
    day: date,
    parts: Sequence[ModelDate],
    *,
    settings: Settings,
    as_of: datetime | None,
    minutes_before_tip: int,
    completeness_skipped: bool,
    force: bool,
) -> list[tuple[BatchWrite, BatchWrite]]:
    """Write each model's scored rows of ``day`` and the picks selected from exactly those
    rows with the record its calibration carries, all in one transaction: the daily job
    and the backfill both write through here, so their bets are the backtest's. An
    unchanged model (already predicted, not forced) keeps its picks; one predicted before
    picks existed gets them from its stored rows."""
    writes: list[BatchWrite] = []
    batches: list[PickBatch] = []
    with transaction(con):  # a date's predictions and their picks land together
        for part in parts:
            model = part.model
            alias, version = model.alias, int(model.version or 0)
            table = to_table_rows(
                part.scored,
                as_of=as_of,
                minutes_before_tip=minutes_before_tip,
                in_sample=part.in_sample,
                completeness_skipped=completeness_skipped,
                market=part.market,
            )
            write = write_batch(
                con,
                table,
                system_id=model.system_id,
                model_version=version,
                alias=alias,
                day=day,
                force=force,
                within=True,
                market=part.market,
            )
            writes.append(write)
            if write.unchanged:
                if active_pick_count(con, day, model.system_id, alias, part.market):
                    batches.append(
                        PickBatch(
                            model.system_id, version, alias, empty_picks(), False, part.market
                        )
                    )
                    continue
                rows = active_predictions(
                    con, day, system_id=model.system_id, alias=alias, market=part.market
                )
                mine = rows["model_version"] == version
                rows = rows[
                    mine & (rows["alias"].isna() if alias is None else rows["alias"] == alias)
                ]
            else:
                rows = table.assign(prediction_id=list(write.ids))
            picks = picks_of_rows(rows, model.calibration.ev, settings)
            batches.append(
                PickBatch(model.system_id, version, alias, picks, not write.unchanged, part.market)
            )
        batches = cap_batches_across_markets(batches, PickPolicy.from_settings(settings))
        picked = write_pick_batches(con, day, batches, within=True)
    return list(zip(writes, picked, strict=True))
