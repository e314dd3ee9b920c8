"""Property tests of the HTTP service against its own OpenAPI document (schemathesis).

Every endpoint, generated requests valid and invalid: no 5xx, and every answer (status, content
type, body) as the document says. A fixed seed and a bounded number of examples keep this a CI
test; ``SCHEMATHESIS_EXAMPLES`` raises the count for a longer run.
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from tppcalc.serve.app import create_app  # noqa: E402

APP = create_app()
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


@schemathesis.serializer("text/csv", "application/x-ndjson")
def _as_text(ctx, value):
    # Schema-invalid cases hand over any JSON value: send its text, a body like any other.
    if isinstance(value, bytes):
        return value
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_endpoint_answers_as_documented(case):
    # A request can be valid by the schema and still be refused with a 422: the schema cannot list
    # the catalogue's chips, the country names or the days the rules cover. Every other check holds.
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
