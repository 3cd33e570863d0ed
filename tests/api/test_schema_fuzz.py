"""Schema fuzzing: schemathesis generates requests from the API's own served OpenAPI
schema (coverage cases, positive, negative and real-value-anchored data for every
operation) and sends them to the app on the real-data warehouse. No response may be a
5xx, every 4xx is JSON with a one-line ``detail``, and responses conform to the schema.

The fuzzing code lives in ``scripts/fuzz_api.py`` (the same run as a command). Examples
per operation and pass: ``NBAPROPS_FUZZ_API_EXAMPLES`` (default 25). Generation is
derandomized: one source tree sends the same requests on every run (schemathesis also
draws constants from the app's code, so a code change can change them). ``pytest -s``
prints the summary."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # starlette's note about httpx versions, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from scripts.fuzz_api import PASSES, FuzzReport, default_examples, fuzz, one_line_detail, summary

from nbaprops.api.app import create_app
from nbaprops.core.settings import Settings

pytestmark = [pytest.mark.data, pytest.mark.slow]

OPERATIONS = {
    "GET /health",
    "GET /predictions",
    "GET /picks",
    "GET /signal",
    "GET /players/{player_id}",
    "GET /grading",
    "GET /experiments",
    "GET /experiments/{experiment_id}",
    "GET /models",
    "GET /diagnostics",
    "GET /alerts",
    "GET /bets",
    "GET /availability",
}


@pytest.fixture(scope="module")
def report(served: Settings) -> FuzzReport:
    done = fuzz(create_app(served), examples=default_examples())
    print("\n" + summary(done))
    return done


def test_no_fuzzed_request_gets_a_server_error(report: FuzzReport) -> None:
    assert report.n_server_errors == 0, "\n".join(report.server_errors)
    assert report.server_errors == []


def test_every_operation_was_fuzzed_in_every_pass(report: FuzzReport) -> None:
    examples = default_examples()
    assert set(report.statuses) == OPERATIONS
    assert all(report.passes[p] > 0 for p in PASSES), report.passes
    # positive and negative data per operation with parameters, plus coverage cases
    assert report.requests >= 15 * examples + 100, report.requests
    for op, counts in report.statuses.items():
        assert sum(counts.values()) >= min(examples, 5), (op, counts)
    classes = report.by_class()
    assert classes["2xx"] > 0
    assert classes["4xx"] > 0
    # anchored on real values, the data paths answer 200, not only the error paths
    for op in ("GET /predictions", "GET /players/{player_id}", "GET /grading", "GET /signal"):
        assert report.statuses[op][200] > 0, (op, report.statuses[op])


def test_every_4xx_is_json_with_one_line_detail(report: FuzzReport) -> None:
    assert report.bad_errors == []


def test_responses_conform_to_the_served_schema(report: FuzzReport) -> None:
    assert report.failures == {}, "\n".join(report.failures.values())


def test_the_fuzzer_counts_an_unhandled_exception_as_a_server_error(
    served: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zero above is not vacuous: an endpoint that raises is seen and counted."""
    from nbaprops.read import registry

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the registry could not be read")

    monkeypatch.setattr(registry, "models", broken)
    seen = fuzz(create_app(served), examples=3, only={"GET /models", "GET /health"})
    assert set(seen.statuses) == {"GET /models", "GET /health"}
    assert seen.statuses["GET /models"][500] > 0
    assert seen.statuses["GET /health"][500] == 0
    assert seen.n_server_errors == seen.statuses["GET /models"][500] == len(seen.server_errors)
    assert "RuntimeError: the registry could not be read" in seen.server_errors[0]
    assert not seen.ok


# --- regressions the fuzzer found -------------------------------------------------------


def test_422_is_documented_as_the_one_line_error_it_is(client: TestClient) -> None:
    """FastAPI documented 422 as its list-shaped HTTPValidationError, while the app's
    handler answers ``{"detail": "<one line>"}``: response_schema_conformance failed."""
    schema = client.get("/openapi.json").json()
    for path in (
        "/players/{player_id}",
        "/grading",
        "/experiments",
        "/experiments/{experiment_id}",
    ):
        documented = schema["paths"][path]["get"]["responses"]["422"]
        ref = documented["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorOut", path
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for url in ("/players/abc", "/grading?start=2024-04-08", "/experiments?limit=0"):
        r = client.get(url)
        assert r.status_code == 422, url
        assert one_line_detail(r.json()), r.text
