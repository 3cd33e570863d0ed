"""The model registry: versions of each system with provenance, calibration and aliases.

A version is one trained artefact of a system plus everything needed to serve it
exactly as its walk-forward scored it: the probability calibration fitted on that
walk-forward's out-of-sample rows (all dated before its training end) and those rows
themselves (the reference that promotion and drift monitoring compare against).

Artefacts live in a folder per version under the warehouse's artefact root
(``artifacts/`` beside the warehouse file, or ``NBAPROPS_ARTIFACTS_DIR``), and the
registry stores each folder relative to that root: a warehouse copied elsewhere with
its ``artifacts/`` serves from any working directory. ``ModelVersion.artefact_dir`` is
the folder resolved on this machine; a missing artefact names the absolute path
looked for.

Aliases, not stages: ``champion`` serves predictions; ``challenger`` and ``shadow``
predict and are graded but never drive picks. Every alias change, and every refused
promotion, is an event with who, when, why and the gate's figures.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.db import records, transaction
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Paths
from nbaprops.core.values import json_safe
from nbaprops.features.catalog import FEATURE_SETS, FEATURES, FeatureSet, market_of_key
from nbaprops.models.calibration import Calibration
from nbaprops.systems import FeatureSetMismatchError, load_system
from nbaprops.systems.breakout import SYSTEM_ID as BREAKOUT_SYSTEM

ALIASES = ("champion", "challenger", "shadow")
MODEL_FILE = "model.pkl"
CALIBRATION_FILE = "calibration.json"
OOS_FILE = "oos.parquet"


class PromotionRefusedError(NbapropsError):
    """The promotion gate said no (the refusal itself is recorded)."""


def feature_list_hash(features: tuple[str, ...] | list[str]) -> str:
    """Hash of the ordered feature list a model was trained on (the skew guard's key)."""
    return hashlib.sha256(json.dumps(list(features)).encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def warehouse_artifacts_root(
    con: duckdb.DuckDBPyConnection, artifacts_dir: Path | None = None
) -> Path:
    """The artefact root of the warehouse ``con`` has open (absolute): ``artifacts_dir``
    (the setting ``NBAPROPS_ARTIFACTS_DIR``, ``settings.paths.artifacts_dir``) when given,
    else ``artifacts/`` beside the warehouse file (``Paths.resolved_artifacts_dir`` for
    the file actually open, whatever the working directory); an in-memory warehouse uses
    the default path's ``artifacts/``. Every registry function that resolves an artefact
    takes ``artifacts_dir`` and passes it here."""
    if artifacts_dir is not None:
        return artifacts_dir.resolve()
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if row is None or not row[0]:
        return Paths().resolved_artifacts_dir().resolve()
    return Path(str(row[0])).resolve().parent / "artifacts"


def stored_artefact_dir(folder: Path, root: Path) -> str:
    """How a version's folder is recorded: relative to the root (POSIX separators)
    when it lies under it, else absolute."""
    absolute = folder.resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(absolute)


def resolve_artefact_dir(stored: str, root: Path) -> Path:
    """The folder a stored artefact path means: relative ones are under the root."""
    path = Path(stored)
    return path if path.is_absolute() else root / path


def actor() -> str:
    """Who is acting: ``NBAPROPS_ACTOR`` if set (e.g. a scheduler's name), else the user."""
    try:
        return os.environ.get("NBAPROPS_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class ModelVersion:
    """A registry row: what was trained, on what, by which code, evaluated how."""

    system_id: str
    version: int
    experiment_id: str
    mode: str
    feature_set: str
    feature_set_version: int
    feature_list_hash: str
    feature_columns: tuple[str, ...]
    train_start: date | None
    train_end: date
    train_rows: int
    params: dict[str, Any]
    library_versions: dict[str, str]
    code_commit: str | None
    code_dirty: bool | None
    eval_window: str
    metrics: dict[str, Any]
    calibration: dict[str, Any]
    artefact_dir: str  # resolved on this machine; stored relative to the artefact root
    artefact_sha256: str
    created_at: str
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.system_id}@v{self.version}"

    @property
    def feature_set_key(self) -> str:
        return f"{self.feature_set}_v{self.feature_set_version}"

    @property
    def market(self) -> str:
        """The market it predicts: its feature set's (``features.catalog``)."""
        return market_of_key(self.feature_set_key)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("train_start", "train_end"):
            out[key] = None if out[key] is None else str(out[key])
        out["ref"] = self.ref
        out["market"] = self.market
        return out


@dataclass(frozen=True)
class LoadedModel:
    """A version ready to serve: the fitted system and the calibration it earned."""

    version: ModelVersion
    system: Any
    calibration: Calibration


def register_version(
    con: duckdb.DuckDBPyConnection,
    *,
    system: Any,
    calibration: Calibration,
    oos: pd.DataFrame,
    experiment_id: str,
    mode: str,
    feature_set: FeatureSet,
    eval_window: str,
    metrics: dict[str, Any],
    train_start: date | None,
    train_end: date,
    train_rows: int,
    code_commit: str | None,
    code_dirty: bool | None,
    artifacts_root: Path,
    artifacts_dir: Path | None = None,
) -> ModelVersion:
    """Save the artefacts, then record the version; a failed record removes them.
    ``artifacts_root``: where the files go; ``artifacts_dir``: the configured root they
    are recorded relative to (``warehouse_artifacts_root``)."""
    provenance = system.fitted_
    row = con.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM models.version WHERE system_id = ?",
        [system.system_id],
    ).fetchone()
    version = int(row[0]) if row else 1
    folder = artifacts_root / system.system_id / f"v{version}-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir(parents=True, exist_ok=False)
        system.save(folder / MODEL_FILE)
        (folder / CALIBRATION_FILE).write_text(json.dumps(calibration.to_dict()) + "\n")
        oos.to_parquet(folder / OOS_FILE, index=False)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise NbapropsError(
            f"cannot write model artefacts under {artifacts_root}: {exc.strerror or exc}"
        ) from None
    claims = calibration.ev.totals()
    calibration_meta = {
        "claims": None
        if claims is None
        else {"n": claims.n, "wins": claims.wins, "pushes": claims.pushes, "profit": claims.profit},
        "pit_n": calibration.pit.n,
        "platt": {"a": calibration.platt.a, "b": calibration.platt.b, "n": calibration.platt.n},
        "fitted_on": "walk-forward out-of-sample rows",
        "first_date": str(oos["game_date"].min()) if len(oos) else None,
        "last_date": str(oos["game_date"].max()) if len(oos) else None,
    }
    try:
        with transaction(con):
            con.execute(
                """
                INSERT INTO models.version VALUES (
                    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())
                """,
                [
                    system.system_id,
                    version,
                    experiment_id,
                    mode,
                    feature_set.name,
                    feature_set.version,
                    feature_list_hash(system.feature_columns_),
                    list(system.feature_columns_),
                    train_start,
                    train_end,
                    train_rows,
                    json.dumps(provenance.to_dict()["params"], sort_keys=True),
                    json.dumps(provenance.versions, sort_keys=True),
                    code_commit,
                    code_dirty,
                    eval_window,
                    json.dumps(metrics, sort_keys=True, default=str),
                    json.dumps(calibration_meta, sort_keys=True),
                    stored_artefact_dir(folder, warehouse_artifacts_root(con, artifacts_dir)),
                    _sha256(folder / MODEL_FILE),
                ],
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return get_version(con, system.system_id, version, artifacts_dir=artifacts_dir)


def _version_from_row(row: dict[str, Any], aliases: tuple[str, ...], root: Path) -> ModelVersion:
    def loads(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else (value or {})

    def day(value: Any) -> date | None:
        if value is None or value is pd.NaT:
            return None
        return pd.Timestamp(value).date()

    train_end = day(row["train_end"])
    assert train_end is not None
    return ModelVersion(
        system_id=str(row["system_id"]),
        version=int(row["version"]),
        experiment_id=str(row["experiment_id"]),
        mode=str(row["mode"]),
        feature_set=str(row["feature_set"]),
        feature_set_version=int(row["feature_set_version"]),
        feature_list_hash=str(row["feature_list_hash"]),
        feature_columns=tuple(row["feature_columns"]),
        train_start=day(row["train_start"]),
        train_end=train_end,
        train_rows=int(row["train_rows"]),
        params=loads(row["params"]),
        library_versions=loads(row["library_versions"]),
        code_commit=row["code_commit"],
        code_dirty=None if row["code_dirty"] is None else bool(row["code_dirty"]),
        eval_window=str(row["eval_window"]),
        metrics=loads(row["metrics"]),
        calibration=loads(row["calibration"]),
        artefact_dir=str(resolve_artefact_dir(str(row["artefact_dir"]), root)),
        artefact_sha256=str(row["artefact_sha256"]),
        created_at=str(row["created_at"]),
        aliases=aliases,
    )


def _aliases(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], tuple[str, ...]]:
    out: dict[tuple[str, int], list[str]] = {}
    for system_id, alias, version in con.execute(
        "SELECT system_id, alias, version FROM models.alias ORDER BY alias"
    ).fetchall():
        out.setdefault((system_id, int(version)), []).append(alias)
    return {k: tuple(v) for k, v in out.items()}


def list_versions(
    con: duckdb.DuckDBPyConnection,
    system_id: str | None = None,
    *,
    artifacts_dir: Path | None = None,
) -> list[ModelVersion]:
    """Every registered version (of one system), newest first, with its aliases."""
    rows = con.execute(
        "SELECT * FROM models.version WHERE (? IS NULL OR system_id = ?) "
        "ORDER BY system_id, version DESC",
        [system_id, system_id],
    ).df()
    aliases = _aliases(con)
    root = warehouse_artifacts_root(con, artifacts_dir)
    return [
        _version_from_row(row, aliases.get((row["system_id"], int(row["version"])), ()), root)
        for row in rows.to_dict("records")
    ]


def get_version(
    con: duckdb.DuckDBPyConnection,
    system_id: str,
    version: int,
    *,
    artifacts_dir: Path | None = None,
) -> ModelVersion:
    found = [
        v
        for v in list_versions(con, system_id, artifacts_dir=artifacts_dir)
        if v.version == version
    ]
    if not found:
        raise NbapropsError(
            f"no registered version {version} of {system_id}; see `nbaprops model list`"
        )
    return found[0]


def alias_version(
    con: duckdb.DuckDBPyConnection, system_id: str, alias: str, market: str = "points"
) -> int | None:
    """The version under ``system@alias`` in ``market`` (each market has its own aliases)."""
    row = con.execute(
        "SELECT version FROM models.alias WHERE system_id = ? AND alias = ? AND market = ?",
        [system_id, alias, market],
    ).fetchone()
    return None if row is None else int(row[0])


def resolve(
    con: duckdb.DuckDBPyConnection,
    ref: str,
    *,
    market: str = "points",
    artifacts_dir: Path | None = None,
) -> ModelVersion:
    """``system@champion``, ``system@v3`` or ``system@3``: one version, unambiguously (an
    alias is ``market``'s; a version number names one version, whatever its market)."""
    system_id, sep, which = ref.strip().partition("@")
    if not sep or not system_id or not which:
        raise NbapropsError(f"model reference {ref!r}: expected SYSTEM@ALIAS or SYSTEM@vN")
    if which in ALIASES:
        version = alias_version(con, system_id, which, market)
        if version is None:
            where = "" if market == "points" else f" in market {market}"
            raise NbapropsError(f"{system_id} has no {which}{where}; see `nbaprops model list`")
        return get_version(con, system_id, version, artifacts_dir=artifacts_dir)
    digits = which.removeprefix("v")
    if not digits.isdigit():
        raise NbapropsError(
            f"model reference {ref!r}: after @ give an alias ({', '.join(ALIASES)}) or vN"
        )
    return get_version(con, system_id, int(digits), artifacts_dir=artifacts_dir)


def check_feature_binding(version: ModelVersion) -> None:
    """The train/serve skew guard: the catalog must still define what the model saw."""
    if version.mode == "shared":
        current = FEATURE_SETS.get(version.feature_set_key)
        if current is None:
            raise FeatureSetMismatchError(
                f"{version.ref} was trained on feature set {version.feature_set_key}, which the "
                "catalog no longer defines; retrain it on a current set"
            )
        if feature_list_hash(current.features) != version.feature_list_hash or set(
            current.features
        ) != set(version.feature_columns):
            raise FeatureSetMismatchError(
                f"{version.ref} was trained on {version.feature_set_key} as it was then; the "
                "catalog's definition has changed since; retrain it"
            )
    missing = [f for f in version.feature_columns if f not in FEATURES]
    if missing:
        raise FeatureSetMismatchError(
            f"{version.ref} needs features the catalog no longer has: {', '.join(missing)}"
        )


def load_model(
    con: duckdb.DuckDBPyConnection,
    ref: str,
    *,
    market: str = "points",
    artifacts_dir: Path | None = None,
) -> LoadedModel:
    """Load a version to serve it; a skewed feature set or a missing or altered artefact
    is an error, never a silent fallback. ``artifacts_dir``: the configured artefact root
    (``settings.paths.artifacts_dir``; None: beside the warehouse); ``market``: whose alias
    an alias reference names."""
    version = resolve(con, ref, market=market, artifacts_dir=artifacts_dir)
    check_feature_binding(version)
    folder = Path(version.artefact_dir)
    model_path = folder / MODEL_FILE
    for needed in (model_path, folder / CALIBRATION_FILE):
        if not needed.is_file():
            raise NbapropsError(
                f"{version.ref}: artefact {needed} is missing (artefacts are looked for "
                "under artifacts/ beside the warehouse, or NBAPROPS_ARTIFACTS_DIR)"
            )
    if _sha256(model_path) != version.artefact_sha256:
        raise NbapropsError(f"{version.ref}: artefact {model_path} changed since it was registered")
    expected = (
        version.feature_set_key
        if version.mode == "shared"
        else json.loads((Path(str(model_path) + ".json")).read_text())["feature_set"]
    )
    system = load_system(model_path, expected_feature_set=expected)
    calibration = Calibration.from_dict(json.loads((folder / CALIBRATION_FILE).read_text()))
    return LoadedModel(version, system, calibration)


def reference_rows(version: ModelVersion) -> pd.DataFrame:
    """The walk-forward rows a version was evaluated (and calibrated) on, warm-up excluded."""
    path = Path(version.artefact_dir) / OOS_FILE
    if not path.is_file():
        raise NbapropsError(f"{version.ref}: artefact {path} is missing")
    rows = pd.read_parquet(path)
    if "warmup" not in rows.columns:  # a backfill fold's reference: graded rows before it
        return rows.reset_index(drop=True)
    return rows[~rows["warmup"].astype(bool)].reset_index(drop=True)


# --- the promotion gate --------------------------------------------------------------


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateResult:
    """Every check of a promotion, with the figures it was decided on."""

    passed: bool
    checks: tuple[GateCheck, ...]
    figures: dict[str, Any]

    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [asdict(c) for c in self.checks],
            "figures": json_safe(self.figures),
        }


def _lined_figures(rows: pd.DataFrame) -> dict[str, Any]:
    """MAE, hit rate with its interval, and ECE of P(over) on graded lined rows."""
    played = rows[rows["played"].astype(bool)]
    actual = played["actual"].to_numpy(dtype=float)
    line = played["line"].to_numpy(dtype=float)
    graded = actual != line
    outcome = m.grade_bets(actual, line, played["side"].to_numpy(dtype=object), np.ones(len(line)))
    wins = int((outcome == m.WIN).sum())
    bets = wins + int((outcome == m.LOSS).sum())
    low, high = m.wilson_interval(wins, bets)
    out: dict[str, Any] = {
        "n_graded": int(graded.sum()),
        "mae": m.point_metrics(actual, played["median"].to_numpy(dtype=float)).mae
        if len(played)
        else math.nan,
        "n_bets": bets,
        "hit_rate": wins / bets if bets else math.nan,
        "hit_rate_ci": [low, high],
        "ece": math.nan,
    }
    if graded.any():
        decided = m.decided_p_over(played["p_over"], played.get("p_push"))
        probs = m.probability_metrics(
            np.clip(decided[graded], 0.0, 1.0),
            actual[graded] > line[graded],
        )
        out["ece"] = float(probs.ece)
        out["brier"] = float(probs.brier)
    return out


# What a version's reference rows need for the gate to score them.
GATE_COLUMNS = (
    "player_id",
    "game_date",
    "line",
    "line_kind",
    "median",
    "actual",
    "played",
    "side",
    "p_over",
)


def promotion_gate(
    candidate: ModelVersion,
    champion: ModelVersion | None,
    *,
    min_rows: int,
    max_ece: float,
    lines: str = "sportsbook",
) -> GateResult:
    """Does the candidate beat or match the champion on the same evaluation window?

    Both are scored on the player-games both walk-forwards predicted with the same
    ``lines`` line: MAE not worse, hit rate not worse beyond the candidate's 95%
    interval, ECE at most ``max_ece``, and at least ``min_rows`` graded lined rows.
    """
    cand = reference_rows(candidate)
    missing = sorted(set(GATE_COLUMNS) - set(cand.columns))
    if missing:
        # A backfill fold keeps only the graded history it was calibrated on: no line kind,
        # no decisions, so nothing to gate on (its figures are the backfill's graded rows).
        detail = (
            f"{candidate.ref} has no walk-forward reference to gate on (its rows lack "
            f"{', '.join(missing)}); evaluate it with `nbaprops experiment run`, or promote "
            "with --force and a reason"
        )
        return GateResult(False, (GateCheck("reference", False, detail),), {"lines": lines})
    cand = cand[cand["line"].notna() & (cand["line_kind"] == lines)]
    checks: list[GateCheck] = []
    figures: dict[str, Any] = {"lines": lines, "eval_window": candidate.eval_window}
    if champion is not None:
        if champion.eval_window != candidate.eval_window:
            checks.append(
                GateCheck(
                    "same_window",
                    False,
                    f"evaluated on {candidate.eval_window}, the champion {champion.ref} on "
                    f"{champion.eval_window}: re-run the candidate on the champion's window",
                )
            )
        champ = reference_rows(champion)
        lacking = sorted(set(GATE_COLUMNS) - set(champ.columns))
        if lacking:
            detail = (
                f"the champion {champion.ref} has no walk-forward reference to compare with "
                f"(its rows lack {', '.join(lacking)}); promote with --force and a reason"
            )
            checks.append(GateCheck("reference", False, detail))
            return GateResult(False, tuple(checks), figures)
        champ = champ[champ["line"].notna() & (champ["line_kind"] == lines)]
        keys = ["player_id", "game_date", "line"]
        common = cand[keys].merge(champ[keys], on=keys)
        cand = cand.merge(common, on=keys)
        champ = champ.merge(common, on=keys)
        figures["champion"] = champion.ref
        figures["champion_figures"] = _lined_figures(champ)
    figures["candidate_figures"] = mine = _lined_figures(cand)
    n = mine["n_graded"]
    checks.append(
        GateCheck(
            "sample_size",
            n >= min_rows,
            f"{n:,} graded {lines} rows{' shared with the champion' if champion else ''} "
            f"(needs ≥ {min_rows:,})",
        )
    )
    ece = mine["ece"]
    checks.append(
        GateCheck(
            "calibration",
            math.isfinite(ece) and ece <= max_ece,
            f"ECE of P(over) {ece:.4f} (needs ≤ {max_ece:.3f})",
        )
    )
    if champion is not None:
        theirs = figures["champion_figures"]
        checks.append(
            GateCheck(
                "mae",
                mine["mae"] <= theirs["mae"] + 1e-12,
                f"MAE {mine['mae']:.3f} vs champion {theirs['mae']:.3f} on the same rows",
            )
        )
        low, high = mine["hit_rate_ci"]
        worse = math.isfinite(theirs["hit_rate"]) and (
            not math.isfinite(high) or theirs["hit_rate"] > high
        )
        checks.append(
            GateCheck(
                "hit_rate",
                not worse,
                f"hit rate {mine['hit_rate']:.3f} [{low:.3f}, {high:.3f}] on {mine['n_bets']:,} "
                f"bets vs champion {theirs['hit_rate']:.3f} on {theirs['n_bets']:,}",
            )
        )
    return GateResult(all(c.passed for c in checks), tuple(checks), figures)


@dataclass(frozen=True)
class AliasChange:
    system_id: str
    alias: str
    version: int
    previous_version: int | None
    action: str  # promoted | forced | refused
    gate: GateResult | None
    market: str = "points"


def _record_event(
    con: duckdb.DuckDBPyConnection,
    change: AliasChange,
    who: str,
    reason: str | None,
) -> None:
    con.execute(
        "INSERT INTO models.alias_event (system_id, alias, version, previous_version, action, "
        "actor, changed_at, reason, gate, market) VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
        [
            change.system_id,
            change.alias,
            change.version,
            change.previous_version,
            change.action,
            who,
            reason,
            None if change.gate is None else json.dumps(change.gate.to_dict(), default=str),
            change.market,
        ],
    )


def promote(
    con: duckdb.DuckDBPyConnection,
    system_id: str,
    version: int,
    alias: str,
    *,
    min_rows: int,
    max_ece: float,
    force: bool = False,
    reason: str | None = None,
    who: str | None = None,
    artifacts_dir: Path | None = None,
) -> AliasChange:
    """Point ``alias`` at a version; ``champion`` must pass the gate unless forced.

    A refusal is recorded (and raised); ``--force`` needs a reason and records the gate
    it overrode. An experimental-mode version is never promoted, forced or not.
    """
    if alias not in ALIASES:
        raise NbapropsError(f"unknown alias {alias!r} (one of: {', '.join(ALIASES)})")
    if force and not (reason and reason.strip()):
        raise NbapropsError('--force needs --reason "why the gate is overridden"')
    who = who or actor()
    candidate = get_version(con, system_id, version, artifacts_dir=artifacts_dir)
    market = candidate.market  # each market has its own champion, challenger and shadow
    previous = alias_version(con, system_id, alias, market)
    if previous == version:
        where = "" if market == "points" else f" ({market})"
        raise NbapropsError(f"{candidate.ref} is already {system_id}@{alias}{where}")
    if system_id == BREAKOUT_SYSTEM and alias != "shadow":
        raise NbapropsError(
            f"{candidate.ref} is the breakout classifier: it serves only as a shadow "
            "(--alias shadow), never picks"
        )
    if candidate.mode != "shared":
        change = AliasChange(system_id, alias, version, previous, "refused", None, market)
        with transaction(con):
            _record_event(con, change, who, "experimental-mode model: never promotable")
        raise PromotionRefusedError(
            f"{candidate.ref} was trained in experimental mode (a custom feature list); "
            "experimental models are never promoted, even with --force"
        )
    gate = None
    if alias == "champion":
        champion = (
            None
            if previous is None
            else get_version(con, system_id, previous, artifacts_dir=artifacts_dir)
        )
        gate = promotion_gate(candidate, champion, min_rows=min_rows, max_ece=max_ece)
    passed = gate is None or gate.passed
    action = "promoted" if passed else ("forced" if force else "refused")
    change = AliasChange(system_id, alias, version, previous, action, gate, market)
    with transaction(con):
        _record_event(con, change, who, reason)
        if action != "refused":
            con.execute(
                "INSERT OR REPLACE INTO models.alias (system_id, market, alias, version, set_at) "
                "VALUES (?, ?, ?, ?, now())",
                [system_id, market, alias, version],
            )
    if action == "refused":
        assert gate is not None
        raise PromotionRefusedError(
            f"promotion of {candidate.ref} to champion refused: "
            + "; ".join(gate.failures())
            + ' (recorded; override with --force --reason "...")'
        )
    return change


def alias_history(con: duckdb.DuckDBPyConnection, system_id: str) -> list[dict[str, Any]]:
    """Every alias change and refusal of a system, oldest first."""
    frame = con.execute(
        "SELECT alias, market, version, previous_version, action, actor, changed_at AS at, "
        "reason, gate FROM models.alias_event WHERE system_id = ? ORDER BY changed_at, alias",
        [system_id],
    ).df()
    out = records(frame)
    for row in out:
        row["version"] = int(row["version"])
        prev = row["previous_version"]
        row["previous_version"] = None if prev is None else int(prev)
        row["gate"] = json.loads(row["gate"]) if isinstance(row["gate"], str) else None
    return out
