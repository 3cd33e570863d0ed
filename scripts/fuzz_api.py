"""Fuzz the HTTP API against its own served OpenAPI schema with schemathesis; print a summary.

The schema is loaded in-process from the ASGI app (``/openapi.json``) and, for every
operation, schemathesis generates requests in four passes: its coverage cases (boundary
and missing values, deterministic), positive data, negative (invalid) data, and positive
data anchored to real values of the warehouse (a predicted date, a graded period, a real
player and experiment id, read from the API itself) so the 2xx paths are fuzzed too.
Every response is checked: no 5xx (``not_a_server_error``), a documented status, content
type and body (``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``, ``response_headers_conformance``), invalid input
rejected (``negative_data_rejection``), and every 4xx is JSON with a one-line ``detail``.
Generation is derandomized (or seeded with ``--seed``): two runs of one source tree send
the same requests (schemathesis also draws constants from the app's code).

Run: .venv/bin/python scripts/fuzz_api.py [--db PATH] [--examples N] [--seed N] [--json]
Without ``--db`` a warehouse is built in a temporary folder from the real data
(``NBAPROPS_DATA_DIR``) like the API tests' ``served`` fixture: two fast systems
backfilled and graded for 2024-04-08..11, champion and challenger, one daily run for
2024-04-12 (which publishes the snapshot the API reads). Exit 1 on any 5xx or failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_ENV = "NBAPROPS_FUZZ_API_EXAMPLES"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
PASSES = ("coverage", "positive", "negative", "anchored")


@dataclass
class FuzzReport:
    """What was sent and what came back, per operation (``GET /path``) and pass."""

    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    passes: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    bad_errors: list[str] = field(default_factory=list)  # 4xx without a one-line detail
    failures: dict[str, str] = field(default_factory=dict)  # check failures, first of a kind
    skipped: list[str] = field(default_factory=list)  # (operation, pass) that generate nothing
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    def by_class(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for counts in self.statuses.values():
            for status, n in counts.items():
                out[f"{status // 100}xx"] += n
        return out

    @property
    def n_server_errors(self) -> int:
        return self.by_class()["5xx"]

    @property
    def ok(self) -> bool:
        return not (self.n_server_errors or self.server_errors or self.bad_errors or self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "server_errors": self.n_server_errors,
            "by_class": dict(sorted(self.by_class().items())),
            "by_pass": dict(self.passes),
            "operations": {
                op: {"requests": sum(c.values()), "statuses": dict(sorted(c.items()))}
                for op, c in sorted(self.statuses.items())
            },
            "failures": list(self.failures.values()),
            "bad_errors": self.bad_errors,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 1),
        }


def one_line_detail(body: Any) -> bool:
    """A 4xx body as the API promises it: JSON with a non-empty one-line string ``detail``."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("detail"), str)
        and bool(body["detail"].strip())
        and "\n" not in body["detail"]
    )


def _describe(case: Any, response: Any) -> str:
    return f"{case.operation.label} {response.status_code}: {case.as_curl_command()}"


class _Recorder:
    def __init__(self, report: FuzzReport) -> None:
        self.report = report

    def __call__(self, case: Any, pass_: str) -> None:
        """Send one case, record its status, run the checks; never raises on a finding."""
        report = self.report
        report.passes[pass_] += 1
        try:
            response = case.call()
        except Exception as exc:  # unhandled in the app: what a real server answers with 500
            report.statuses[case.operation.label][500] += 1
            report.server_errors.append(
                f"{case.operation.label} 500 (unhandled {type(exc).__name__}: {exc}): "
                f"{case.as_curl_command()}"[:2000]
            )
            return
        report.statuses[case.operation.label][response.status_code] += 1
        if response.status_code >= 500:
            report.server_errors.append(_describe(case, response)[:2000])
        elif 400 <= response.status_code < 500:
            try:
                body = response.json()
            except ValueError:
                body = None
            if not one_line_detail(body):
                report.bad_errors.append(f"{_describe(case, response)} -> {response.text[:300]}")
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, AssertionError) as exc:
            for failure in getattr(exc, "exceptions", [exc]):
                title = getattr(failure, "title", type(failure).__name__)
                key = f"{case.operation.label} | {title}"
                if key not in report.failures:
                    message = getattr(failure, "message", str(failure))
                    report.failures[key] = (
                        f"{key} ({pass_}, {response.status_code}): {message.strip()[:600]}\n"
                        f"    {case.as_curl_command()}"
                    )


def _anchors(app: Any) -> dict[tuple[str, str], list[Any]]:
    """Real values per (location, parameter) for the anchored pass, read from the API
    itself: the predicted and graded dates around them, players, systems, aliases, runs."""
    with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    def shifted(day: str, days: int) -> str:
        return str(date.fromordinal(date.fromisoformat(day).toordinal() + days))

    dates: list[str] = []
    out: dict[tuple[str, str], list[Any]] = {}
    with TestClient(app, raise_server_exceptions=False) as client:

        def get(url: str, **params: str) -> dict[str, Any]:
            r = client.get(url, params=params)
            return r.json() if r.status_code == 200 else {}  # a failure is the fuzzer's to find

        fresh = get("/health").get("freshness", {})
        day, graded = fresh.get("last_prediction_date"), fresh.get("last_graded_date")
        for known in (day, graded, fresh.get("last_box_score_date")):
            if known:
                dates += [known, shifted(known, -1), shifted(known, -3), shifted(known, 1)]
        if day:
            players = sorted({r["player_id"] for r in get("/predictions", date=day)["predictions"]})
            out["path", "player_id"] = players[:: max(1, len(players) // 8)][:8]
        systems = sorted({v["system_id"] for v in get("/models").get("versions", [])})
        if systems:
            out["query", "system"] = systems
        runs = get("/experiments").get("runs", [])
        ids = [r["experiment_id"] for r in runs[:4]]
        out["path", "experiment_id"] = ids + [i[:8] for i in ids]
    dates = sorted(set(dates))
    for name in ("date", "start", "end", "since"):
        out["query", name] = dates
    out["query", "alias"] = ["champion", "challenger", "shadow"]
    return {k: v for k, v in out.items() if v}


def _anchored(operation: Any, anchors: dict[tuple[str, str], list[Any]]) -> Any | None:
    """Positive cases with the parameters real values exist for drawn from them."""
    from hypothesis import strategies as st

    names = {(p.location.value, p.name) for p in operation.iter_parameters()}
    chosen = {key: values for key, values in anchors.items() if key in names}
    if not chosen:
        return None
    drawn = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in chosen.items()})

    def cases(values: dict[tuple[str, str], Any]) -> Any:
        query = {n: v for (loc, n), v in values.items() if loc == "query"}
        path = {n: v for (loc, n), v in values.items() if loc == "path"}
        return operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE,
            query=query or None,
            path_parameters=path or None,
        )

    return drawn.flatmap(cases)


def _run_strategy(
    strategy: Any, examples: int, seed: int | None, send: Callable[[Any], None]
) -> None:
    config = hypothesis.settings(
        max_examples=examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )

    @config
    @given(case=strategy)
    def run(case: Any) -> None:
        send(case)

    if seed is not None:
        run = hypothesis.seed(seed)(run)
    run()


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def fuzz(
    app: Any, *, examples: int, seed: int | None = None, only: set[str] | None = None
) -> FuzzReport:
    """Fuzz every operation (or ``only`` these labels, e.g. ``GET /models``) of ``app``'s
    served schema; ``examples`` per operation and pass."""
    started = time.monotonic()
    report = FuzzReport()
    record = _Recorder(report)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    anchors = _anchors(app)
    for operation in _operations(schema):
        label = operation.label
        if only is not None and label not in only:
            continue
        generation = schema.config.generation_for(operation=operation)
        for case in schema.iter_coverage_cases(
            operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=generation,
        ):
            record(case, "coverage")
        has_parameters = any(True for _ in operation.iter_parameters())
        runs: list[tuple[str, Any]] = [
            ("positive", operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        ]
        if has_parameters:
            runs.append(
                ("negative", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
            )
            anchored = _anchored(operation, anchors)
            if anchored is not None:
                runs.append(("anchored", anchored))
            else:
                report.skipped.append(f"{label} anchored: no real value to pin")
        else:
            report.skipped.append(f"{label} negative, anchored: no parameters")
        for pass_, strategy in runs:
            n = examples if has_parameters else min(examples, 5)  # nothing to vary
            _run_strategy(strategy, n, seed, lambda case, p=pass_: record(case, p))
    report.seconds = time.monotonic() - started
    return report


def summary(report: FuzzReport) -> str:
    """The printed summary: requests sent, per operation and status, server errors."""
    classes = report.by_class()
    lines = [
        f"schema fuzzing (schemathesis {schemathesis.__version__}): "
        f"{report.requests} requests sent in {report.seconds:.1f} s, "
        f"{report.n_server_errors} server errors (5xx)",
        "  by status class: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())),
        "  by pass: " + ", ".join(f"{p} {report.passes[p]}" for p in PASSES),
    ]
    width = max((len(op) for op in report.statuses), default=0)
    for op, counts in sorted(report.statuses.items()):
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(counts.items()))
        lines.append(f"  {op:<{width}}  {sum(counts.values()):>5}  {statuses}")
    lines.append(
        f"  check failures: {len(report.failures)}; 4xx without a one-line detail: "
        f"{len(report.bad_errors)}"
    )
    lines.extend(f"  FAILED {f}" for f in report.failures.values())
    lines.extend(f"  BAD 4xx {b}" for b in report.bad_errors[:10])
    lines.extend(f"  5xx {s}" for s in report.server_errors[:10])
    return "\n".join(lines)


def build_warehouse(root: Path, data_dir: Path) -> Path:
    """A warehouse like the API tests' ``served`` fixture, from the real data; its path."""
    from tests.api.served import build

    return build(root, data_dir, "api-fuzz").paths.db


def default_examples() -> int:
    return int(os.environ.get(EXAMPLES_ENV, "25"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="warehouse with a published snapshot")
    parser.add_argument("--data-dir", type=Path, help="real data folder (when building)")
    parser.add_argument(
        "--examples", type=int, default=default_examples(), help="per operation and pass"
    )
    parser.add_argument("--seed", type=int, help="seed instead of derandomized generation")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nbaprops.api.app import create_app
        from nbaprops.core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="nbaprops-fuzz-") as tmp:
        db = args.db
        if db is None:
            data_dir = args.data_dir or Path(os.environ.get("NBAPROPS_DATA_DIR", "../shared/data"))
            print(f"building a warehouse from {data_dir} ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            db = build_warehouse(Path(tmp), data_dir)
            print(f"built in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        report = fuzz(create_app(Settings(db=db)), examples=args.examples, seed=args.seed)
    print(json.dumps(report.to_dict(), indent=2) if args.json else summary(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
