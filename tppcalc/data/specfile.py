"""Reading chip spec files (TOML or JSON) into validated ChipSpec records.

A file holds an optional ``[sources]`` table shared by its records and one or more ``[[chip]]``
records (JSON: ``{"sources": {...}, "chip": [...]}``). Each record may add its own ``sources``.
Numbers are read as exact Decimals, never through float. Every error names the file, the record
and the field.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from tppcalc.data.input_files import read_input_file
from tppcalc.data.parsed_documents import stored as stored_document
from tppcalc.data.spec import CITED_SOURCES, ChipSpec
from tppcalc.errors import InputError, SpecError

# Deeper than any spec or rule file needs (they nest 4 levels): the parsers recurse once per level,
# so a file nested thousands deep would end in a RecursionError, not in an error naming the file.
MAX_NESTING = 64


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
    return read_input_file(path)


def parse_document(path: Path, data: bytes) -> dict:
    """``read_document`` for the bytes of ``path`` already read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(path)) from None
    is_json = path.suffix.lower() == ".json"
    # Parsed first and measured after: the text scan that finds the line of a too-deep bracket
    # costs as much as a sixth of the parse, so it runs only for a document found too deep.
    document = None if is_json else stored_document(data)  # parsed when the wheel was built
    if document is None:
        try:
            document = _parse(path, text, is_json)
        except RecursionError:  # deeper than the parser can go
            document = _TOO_DEEP
    if document is _TOO_DEEP or _deeper_than(document, MAX_NESTING):
        depth, line = _nesting(text, is_json)
        if depth > MAX_NESTING:
            raise InputError(f"nested more than {MAX_NESTING} levels deep", where=f"{path}:{line}")
        # deep through dotted keys or [a.b.c] headers, which hold no brackets to point at
        raise InputError("nested too deep" if document is _TOO_DEEP else f"nested more than {MAX_NESTING} levels deep",
                         where=str(path))
    return document


_TOO_DEEP = object()


def _parse(path: Path, text: str, is_json: bool) -> object:
    try:
        if is_json:
            try:
                return json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise InputError(exc.msg, where=f"{path}:{exc.lineno}") from None
        import tomllib  # here, not at the top: its import costs ~5 ms and a cached document needs none

        try:
            return tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(str(exc), where=str(path)) from None
    except (ValueError, ArithmeticError) as exc:  # a number the parser cannot hold
        raise InputError(f"cannot parse: {exc}", where=str(path)) from None


def _deeper_than(document: object, limit: int) -> bool:
    """Whether tables and arrays nest more than ``limit`` levels in a parsed document (a walk
    with its own stack: a document too deep for a recursion must not end in one)."""
    stack = [(document, 0)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return True
        if type(node) is dict:
            children = node.values()
        elif type(node) is list:
            children = node
        else:
            continue
        stack.extend([(child, level + 1) for child in children if type(child) is dict or type(child) is list])
    return False


# What can hide a bracket from the nesting scan: strings (TOML's four kinds, JSON's one) and TOML
# comments. A bracket inside them is skipped; the rest are counted.
_TOML_SKIPPED = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')
_JSON_SKIPPED = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _nesting(text: str, is_json: bool) -> tuple[int, int]:
    """The deepest nesting of brackets and braces in ``text``, and the line where it is reached."""
    skipped = (_JSON_SKIPPED if is_json else _TOML_SKIPPED).sub(lambda m: "\n" * m.group().count("\n"), text)
    depth = deepest = 0
    where = 0
    for match in _BRACKETS.finditer(skipped):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, match.start()
        else:
            depth -= 1
    return deepest, skipped.count("\n", 0, where) + 1


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
    if not isinstance(shared, dict):
        raise InputError("must be a table of sources", where=where, field="sources")
    records = document.get("chip", [])
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise InputError("`chip` must be a list of [[chip]] records", where=where, field="chip")
    if not records:
        raise InputError("no [[chip]] record", where=where)
    found = []
    for index, record in enumerate(records):
        label = record.get("id", f"chip[{index}]") if isinstance(record, dict) else f"chip[{index}]"
        if not isinstance(record, dict):
            raise SpecError([("", "a record must be a table")], where=where, record=str(label))
        own = record.get("sources", {})
        if not isinstance(own, dict):
            raise SpecError([("sources", "must be a table of sources")], where=where, record=str(label))
        found.append((str(label), {**record, "sources": {**shared, **own}}))
    return found


def spec_from_record(record: dict, where: str, label: str) -> ChipSpec:
    """Validate one record as ``records_of`` gives it, keeping only the sources it cites."""
    context: dict = {}
    try:
        spec = ChipSpec.model_validate(record, context=context)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=where, record=label) from None
    used = context.get(CITED_SOURCES)
    if used is None:
        used = spec.source_keys()
    if used != spec.sources.keys():
        spec = spec.model_copy(update={"sources": {k: v for k, v in spec.sources.items() if k in used}})
    return spec


def load_spec_file(path: str | Path) -> list[ChipSpec]:
    """Every chip record in one spec file, each validated."""
    path = Path(path)
    return specs_from_document(read_document(path), str(path))
