"""The OpenAPI 3.1 document of the service: FastAPI's, with the answers and the problems described.

FastAPI describes the requests from their models. The answers are the ``--json`` documents, built
by ``tppcalc.render.documents`` without a response model (one serializer, shared with the CLI), so their
schemas are written here: the members every client relies on are required and typed, and further
members are allowed (documents grow, e.g. ``notices``). Every operation lists the problem
documents it can answer with, so a client (and schemathesis) knows every status in advance.
"""

from __future__ import annotations

from fastapi.openapi.utils import get_openapi

_NUMBER = {"type": ["number", "null"]}
_TEXT = {"type": ["string", "null"]}
_DIGESTS = {"type": "object", "required": ["catalogue", "rule_data"], "properties": {
    "catalogue": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "rule_data": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}


def _document(required: dict, **extra) -> dict:
    return {"type": "object", "required": [*required, "digests"],
            "properties": {**required, "digests": {"$ref": "#/components/schemas/Digests"}}, **extra}


_METRICS = {"chip_id": {"type": "string"}, "tpp": _NUMBER, "performance_density": _NUMBER,
            "governing_precision": _TEXT, "datacenter": {"type": ["boolean", "null"]},
            "readings": {"type": "array", "items": {"type": "object"}},
            "unknowns": {"type": "array", "items": {"type": "string"}}}

SCHEMAS = {
    "Digests": _DIGESTS,
    "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "The request field that was wrong."},
        "where": {"type": "string", "description": "Where in the input (a line of a batch body)."}}},
    "Health": _document({"status": {"const": "ok"}, "version": {"type": "string"}, "chips": {"type": "integer"}}),
    "ChipList": _document({"chips": {"type": "array", "items": {"type": "object", "required": [
        "id", "vendor", "name", "tpp", "performance_density"], "properties": {
        "id": {"type": "string"}, "vendor": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "tpp": _NUMBER, "performance_density": _NUMBER, "governing_precision": _TEXT,
        "published_tpp": {"type": ["object", "null"], "description": "A TPP published by a vendor, analyst or "
                          "the press, with its source; the note says why where it differs from tpp",
                          "properties": {"value": _NUMBER, "source": _TEXT, "url": _TEXT, "note": _TEXT}}}}}}),
    "Chip": _document({"id": {"type": "string"}, "vendor": {"type": "string"}, "name": {"type": "string"},
                       "origin": {"type": "string"}, "metrics": {"type": "object", "required": list(_METRICS),
                                                                 "properties": _METRICS}}),
    "Metrics": _document(_METRICS),
    "Classification": _document({
        "chip_id": {"type": "string"}, "item": {"enum": ["ic", "computer"]},
        "as_of": {"type": "string", "format": "date"},
        "edition": {"type": "string"}, "edition_status": {"type": "string"},
        "destination": _TEXT, "headquarters": _TEXT, "eccn": _TEXT, "paragraph": _TEXT,
        "undetermined": {"type": ["array", "null"], "items": {"type": "string"}},
        "license_required": {"type": ["boolean", "null"]},
        "license_exceptions": {"type": "array", "items": {"type": "string"}},
        "review_policy": _TEXT, "reasons": {"type": "array", "items": {"type": "string"}}}),
    "ModelWeights": _document({"eccn": {"type": "string"}, "reasons": {"type": "array", "items": {"type": "string"}}}),
    "Editions": _document({"editions": {"type": "array", "items": {"type": "object", "required": [
        "id", "kind", "effective", "title", "status", "in_force"]}}, "as_of": {"type": "string"},
    "verified_through": {"type": "string"}}),
}

ANSWERS = {
    ("/v1/health", "get"): "Health",
    ("/v1/chips", "get"): "ChipList",
    ("/v1/chips/{query}", "get"): "Chip",
    ("/v1/calc", "post"): "Metrics",
    ("/v1/classify", "post"): "Classification",
    ("/v1/model", "post"): "ModelWeights",
    ("/v1/rules", "get"): "Editions",
}

PROBLEMS = {
    "401": "A bearer token is configured and the request has none, or another.",
    "413": "The body, or the rows of a batch, are over the service's limits.",
    "422": "Bad input; `field` names the part of the request that was wrong.",
    "503": "The request ran past the service's time limit.",
}


def document_openapi(app) -> dict:
    document = get_openapi(title=app.title, version=app.version, openapi_version="3.1.0",
                           description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    document["components"]["securitySchemes"] = {"bearer": {
        "type": "http", "scheme": "bearer", "description": "Only when the service was started with --token-file."}}
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.pop("422", None)
            answer = ANSWERS.get((path, method))
            if answer is not None:
                responses["200"] = {"description": "The answer.", "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}}}}
            elif path == "/v1/batch":
                responses["200"] = {"description": "The rows, in order, with the result columns, in the input's "
                                                   "format; X-Digest-* headers name the data used.",
                                    "content": {"text/csv": {"schema": {"type": "string"}},
                                                "application/x-ndjson": {"schema": {"type": "string"}}}}
                responses["415"] = {"description": "The body is neither CSV nor JSON Lines.",
                                    "content": {"application/problem+json": {"schema": problem}}}
            for status, why in PROBLEMS.items():
                if status == "401" and path == "/v1/health":
                    continue
                responses[status] = {"description": why, "content": {"application/problem+json": {"schema": problem}}}
            if path == "/v1/chips/{query}":
                responses["404"] = {"description": "No catalogue chip matches the query.",
                                    "content": {"application/problem+json": {"schema": problem}}}
            if path != "/v1/health":
                operation["security"] = [{}, {"bearer": []}]
    return document


def main() -> None:
    """Print the document (``python -m tppcalc.serve.schema > docs/openapi.json``)."""
    import json

    from tppcalc.serve.app import create_app

    print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
