"""Validated records kept between runs: the catalogue, the rule editions and the country groups.

Every command starts by reading data files that rarely change. Parsing TOML and validating with
pydantic cost most of a ``tppcalc classify`` start: the first validator pydantic builds imports its
plugin loader (importlib.metadata, ~20 ms), and each model's first validation builds its schema. So
once a set of files has been parsed and validated in full, the validated objects are pickled under
a key made of:

- the exact bytes (and names) of the files;
- the code that validated them: the size and modification time of every module of this copy of
  tppcalc, and the versions of Python, pydantic and pydantic-core.

A changed file, an edited or upgraded tppcalc, or a new pydantic is a new key, so its files are
validated in full again; nothing reaches a caller without having passed validation under the code
that is running. Invalid files are never stored. An entry that cannot be read or unpickled is
ignored and rebuilt, and a cache that cannot be written is simply not used.

The cache folder (``$TPPCALC_CACHE_DIR``, else ``$XDG_CACHE_HOME/tppcalc/validated``) is created
private to the user: unpickling runs code, so it must be writable by no one else.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from tppcalc.errors import InputError

CACHE_DIR_ENV = "TPPCALC_CACHE_DIR"

T = TypeVar("T")


def cached(kind: str, paths: Sequence[Path], build: Callable[[list[bytes]], T], expected: type) -> T:
    """``build(contents)``: the validated objects made from the bytes of ``paths``, or what it
    returned before for the same bytes under the same code. ``build`` gets the very bytes the key
    is made of, so a file changed meanwhile cannot be stored under its old key. ``expected`` is the
    type ``build`` returns; an entry of any other type is ignored. Errors from ``build`` (bad
    files) propagate and nothing is stored."""
    contents = []
    digest = hashlib.sha256(f"{kind}\0{_code_fingerprint()}\0".encode())
    for path in paths:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError("file not found", where=str(path)) from None
        contents.append(data)
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    entry = _cache_dir() / f"{kind}-{digest.hexdigest()}.pickle"
    found = _read(entry)
    if isinstance(found, expected):
        return found
    result = build(contents)
    _write(entry, result)
    return result


def _read(entry: Path) -> object:
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 (a damaged entry can fail in many ways; it is rebuilt)
        return None


def _write(entry: Path, value: object) -> None:
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        temporary.replace(entry)  # atomic: a concurrent reader sees the old entry or the whole new one
    except (OSError, pickle.PicklingError):
        pass


def _cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tppcalc", "validated"))


@functools.cache
def _code_fingerprint() -> str:
    return code_fingerprint(Path(__file__).resolve().parent)


def code_fingerprint(package: Path) -> str:
    """Names, sizes and modification times of every module under ``package`` (~1 ms of stat calls,
    where hashing their text would read it all), with the versions that shape pickled models."""
    import pydantic_core
    from pydantic.version import VERSION as pydantic_version

    from tppcalc._version import __version__

    stamps = []
    folders = [package]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for item in entries:
                if item.is_dir():
                    if item.name != "__pycache__":
                        folders.append(Path(item.path))
                elif item.name.endswith(".py"):
                    stat = item.stat()
                    stamps.append(f"{item.path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    stamps.sort()
    stamps += [__version__, sys.version, pydantic_version, pydantic_core.__version__]
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()
