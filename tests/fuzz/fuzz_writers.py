"""Hostile writers: JSON and TOML as an attacker or a broken tool would make them (NaN, numbers
of any length, 5,000-deep nesting, control characters), which the standard library will not write."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fuzz_mutate import BAD_NUMBERS, RawNumber

NUMBERS = BAD_NUMBERS


def _with_raw(value: Any, raws: dict[str, str], depth: int = 0) -> Any:
    if depth > 200:  # deep nesting from a mutation holds no raw numbers
        return value
    if isinstance(value, RawNumber):
        key = f"@@raw{len(raws)}@@"
        raws[key] = value.text
        return key
    if isinstance(value, dict):
        return {k: _with_raw(v, raws, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_raw(v, raws, depth + 1) for v in value]
    if isinstance(value, Decimal):
        return _with_raw(RawNumber(_decimal_text(value)), raws)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**4000:
        return _with_raw(RawNumber(int_text(value)), raws)  # json.dumps stops at 4,300 digits
    return value


def int_text(value: int) -> str:
    """An int's digits, however many: str() refuses past 4,300 (sys.int_info), Decimal does not,
    and raising that limit here would hide it from the code under test in the forked children."""
    return str(Decimal(value))


def _decimal_text(value: Decimal) -> str:
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    return str(value)


def dump_json(value: Any, *, indent: int | None = None) -> str:
    """JSON with NaN/Infinity and numbers of any length, as a hostile writer would make it."""
    raws: dict[str, str] = {}
    prepared = _with_raw(value, raws)
    text = _dumps_deep(prepared, indent)
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw)
    return text


def _dumps_deep(value: Any, indent: int | None) -> str:
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=True)
    except RecursionError:  # 5,000-deep nesting: json.dumps recurses; write it iteratively
        return _dumps_iterative(value)


def _dumps_iterative(value: Any) -> str:
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Token):
            out.append(item.text)
        elif isinstance(item, list):
            stack.append(_Token("]"))
            for index, element in reversed(list(enumerate(item))):
                stack.append(element)
                if index:
                    stack.append(_Token(","))
            out.append("[")
        elif isinstance(item, dict):
            stack.append(_Token("}"))
            for index, (key, element) in reversed(list(enumerate(item.items()))):
                stack.append(element)
                stack.append(_Token(json.dumps(str(key), ensure_ascii=False) + ":"))
                if index:
                    stack.append(_Token(","))
            out.append("{")
        else:
            out.append(json.dumps(item, ensure_ascii=False, allow_nan=True))
    return "".join(out)


@dataclass(frozen=True)
class _Token:
    text: str


def dump_toml(document: dict) -> str:
    """TOML for the shapes spec files and inventories use (and whatever a mutation put there):
    every top-level key as ``key = value``, tables and arrays inline."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in document.items())


def _toml_key(key: Any) -> str:
    return json.dumps(str(key), ensure_ascii=True)


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate cannot be written as TOML: keep it visible
            out.append(f"\\\\ud{code:x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_deep(value: Any) -> str:
    opens, closes = [], []
    while (isinstance(value, list) and len(value) == 1) or (isinstance(value, dict) and len(value) == 1):
        if isinstance(value, list):
            opens.append("[")
            closes.append("]")
            value = value[0]
        else:
            key, value = next(iter(value.items()))
            opens.append("{" + _toml_key(key) + " = ")
            closes.append("}")
    inner = _toml_value(value) if not isinstance(value, (list, dict)) or not value else '""'
    return "".join(opens) + inner + "".join(reversed(closes))


def _toml_value(value: Any, depth: int = 0) -> str:
    if depth > 150:  # deep nesting from a mutation: written without recursion
        return _toml_deep(value)
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int_text(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "nan"
        if value.is_infinite():
            return "inf" if value > 0 else "-inf"
        text = str(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _toml_string(value)
    if value is None:
        return '""'  # TOML has no null; an empty string is the nearest garbage
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v, depth + 1)}" for k, v in value.items()) + "}"
    return _toml_string(repr(value))
