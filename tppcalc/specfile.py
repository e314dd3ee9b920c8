"""Reading chip spec files (TOML or JSON) into validated ChipSpec records.

A file holds an optional ``[sources]`` table shared by its records and one or more ``[[chip]]``
records (JSON: ``{"sources": {...}, "chip": [...]}``). Each record may add its own ``sources``.
Numbers are read as exact Decimals, never through float. Every error names the file, the record
and the field.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from tppcalc.errors import InputError, SpecError
from tppcalc.spec import ChipSpec


def validation_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """pydantic's errors as (dotted field path, message) pairs."""
    pairs = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"] if part != "[key]")
        pairs.append((loc, error["msg"].removeprefix("Value error, ")))
    return pairs


def read_document(path: Path) -> dict:
    """Parse a TOML or JSON file with exact decimals; errors name the file and line."""
    return parse_document(path, _read(path))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None


def parse_document(path: Path, data: bytes) -> dict:
    """``read_document`` for the bytes of ``path`` already read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(path)) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InputError(exc.msg, where=f"{path}:{exc.lineno}") from None
    import tomllib  # here, not at the top: its import costs ~5 ms and a cached document needs none

    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(exc), where=str(path)) from None


def specs_from_document(document: dict, where: str) -> list[ChipSpec]:
    """Validate every record of a parsed document, in order; the first invalid one raises."""
    return [spec_from_record(record, where, label) for label, record in records_of(document, where)]


def records_of(document: dict, where: str) -> list[tuple[str, dict]]:
    """Each record of a parsed document as (label, record with the file's shared sources merged
    in), not yet validated; the shape of the document is checked."""
    if not isinstance(document, dict):
        raise InputError("expected a table with `sources` and `chip` records", where=where)
    unexpected = sorted(set(document) - {"sources", "chip", "schema"})
    if unexpected:
        raise InputError(f"unknown top-level key(s) {', '.join(unexpected)} (expected `sources`, `chip`)", where=where)
    shared = document.get("sources", {})
    records = document.get("chip", [])
    if isinstance(records, dict):
        records = [records]
    if not records:
        raise InputError("no [[chip]] record", where=where)
    found = []
    for index, record in enumerate(records):
        label = record.get("id", f"chip[{index}]") if isinstance(record, dict) else f"chip[{index}]"
        if not isinstance(record, dict):
            raise SpecError([("", "a record must be a table")], where=where, record=str(label))
        found.append((str(label), {**record, "sources": {**shared, **record.get("sources", {})}}))
    return found


def spec_from_record(record: dict, where: str, label: str) -> ChipSpec:
    """Validate one record as ``records_of`` gives it, keeping only the sources it cites."""
    try:
        spec = ChipSpec.model_validate(record)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=where, record=label) from None
    used = spec.source_keys()
    if used != spec.sources.keys():
        spec = spec.model_copy(update={"sources": {k: v for k, v in spec.sources.items() if k in used}})
    return spec


def load_spec_file(path: str | Path) -> list[ChipSpec]:
    """Every chip record in one spec file, each validated."""
    path = Path(path)
    return specs_from_document(read_document(path), str(path))
