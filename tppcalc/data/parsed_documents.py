"""Shipped TOML files parsed when the wheel is built, found again by the SHA-256 of their bytes.

Parsing the shipped spec files with ``tomllib`` (pure Python) is a third of the first catalogue
load after an install, before the validated cache has anything (~55 ms for 237 records). What a
file parses to depends on its bytes alone, so the wheel build (``hatch_build.py``) parses each
shipped TOML file once and stores the document as JSON under ``tppcalc/_data/parsed/<sha256>.json``:
a file whose exact bytes have that digest is the same document, whatever folder it sits in. The
document is then validated in full as before; only the parse is skipped. A checkout, an edited
file, or a stored document that cannot be read is parsed with ``tomllib`` as always.

The JSON is ``tomllib``'s document exactly: a Decimal is written as ``{"\\u0000decimal": "1978.9"}``
(its own digits and exponent), a date as ``{"\\u0000date": "2024-03-18"}``. A document holding
anything else (times, infinities, a table that looks like a tag) is not stored: ``encode`` checks
that the JSON reads back to the same types and values, or stores nothing.

Standard library only: the build hook loads this file by its path, without pydantic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from decimal import Decimal
from pathlib import Path

FORMAT = "tppcalc-parsed-toml-1"
_DECIMAL, _DATE = "\0decimal", "\0date"
_FOLDER = Path(__file__).resolve().parents[1] / "_data" / "parsed"
_LARGEST = 16 << 20  # a stored document this large is not one this build wrote


def file_name(data: bytes) -> str:
    """The name a document parsed from ``data`` is stored under."""
    return f"{hashlib.sha256(data).hexdigest()}.json"


def stored(data: bytes, folder: Path | None = None) -> dict | None:
    """The document the TOML file with exactly these bytes parses to, if the build stored it (in
    ``folder``, by default the package's); else None (a checkout, a file not shipped, a stored
    document damaged or of another format)."""
    try:
        # O_NONBLOCK and a regular file only: a FIFO or a device there must not hang or flood a load
        fd = os.open((folder or _FOLDER) / file_name(data), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            with os.fdopen(fd, "rb", closefd=False) as file:
                text = file.read(_LARGEST + 1)
        finally:
            os.close(fd)
        if len(text) > _LARGEST:
            return None
        found = _read(text)
    except (OSError, ValueError, ArithmeticError, RecursionError):  # absent, unreadable, damaged
        return None
    if type(found) is not dict or found.get("format") != FORMAT or type(found.get("document")) is not dict:
        return None
    return found["document"]


def encode(document: dict) -> bytes | None:
    """``document`` (as ``tomllib.loads(text, parse_float=Decimal)`` returns it) as stored JSON,
    or None if JSON cannot hold it exactly."""
    try:
        text = json.dumps({"format": FORMAT, "document": document}, default=_plain, ensure_ascii=True,
                          separators=(",", ":"), allow_nan=False)
        same = _same(_read(text)["document"], document)
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return None
    return text.encode() if same else None


def _plain(value: object) -> object:
    if type(value) is Decimal and value.is_finite():
        return {_DECIMAL: str(value)}
    if type(value) is dt.date:
        return {_DATE: value.isoformat()}
    raise TypeError(f"cannot store a {type(value).__name__}")


def _tagged(table: dict) -> object:
    """A table as stored, or the Decimal or date it tags."""
    if len(table) == 1:
        if _DECIMAL in table:
            return Decimal(_text(table[_DECIMAL]))
        if _DATE in table:
            return dt.date.fromisoformat(_text(table[_DATE]))
    elif _DECIMAL in table or _DATE in table:
        raise ValueError("a damaged tag")
    return table


def _text(value: object) -> str:
    if type(value) is not str:
        raise ValueError("a tag holds text")
    return value


def _no_float(text: str) -> float:
    raise ValueError(f"an untagged number {text}")  # every stored fraction is a tagged Decimal


def _read(text: str | bytes) -> object:
    return json.loads(text, object_hook=_tagged, parse_float=_no_float, parse_constant=_no_float)


def _same(a: object, b: object) -> bool:
    """Equal values of the same types all the way down (1 == Decimal(1) == True is not enough)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is Decimal:
        return a.as_tuple() == b.as_tuple()
    return a == b
