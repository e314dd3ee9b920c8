"""Validated records kept between runs: the catalogue, the rule editions and the country groups.

Every command starts by reading data files that rarely change. Parsing TOML and validating with
pydantic cost most of a ``tppcalc classify`` start: the first validator pydantic builds imports its
plugin loader (importlib.metadata, ~20 ms), and each model's first validation builds its schema. So
once a set of files has been parsed and validated in full, the validated records are stored as
plain JSON data (``plain_records``) under a key made of:

- the exact bytes (and names) of the files;
- the code that validated them: the size and modification time of every module of this copy of
  tppcalc, and the versions of Python, pydantic and pydantic-core.

A changed file, an edited or upgraded tppcalc, or a new pydantic is a new key, so its files are
validated in full again. Invalid files are never stored. Before this cache holds a shipped spec
file, an installed wheel may hold it validated by the wheel's build (``shipped_validated``).

What a stored entry is trusted for, and why it cannot do harm:

- Reading it runs no code: it is JSON, and rebuilding names only tppcalc's own, already imported
  model and enum classes (no pickle).
- Its content is the one written under its key: each entry holds its key and the SHA-256 of its
  content, and one whose key, digest or shape is wrong is rebuilt (damage, a truncated write, a
  record copied from another entry).
- Only the user can have written it: the folder (``$TPPCALC_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/tppcalc/validated``) and each entry must be owned by the user running tppcalc,
  not a symlink, and private (0700 / 0600), and the folders above it owned by the user or root and
  writable by no one else unless sticky (as ssh checks ~/.ssh). This is checked at every load; a
  folder that fails is not used at all, with one warning line on stderr, and everything is
  validated afresh. An entry that fails is ignored and rebuilt.

The SHA-256 stops damage, not the user: whoever can write as the user can also edit tppcalc itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from tppcalc.data.input_files import read_input_file
from tppcalc.data.plain_records import PlainDataError, from_plain, to_plain

CACHE_DIR_ENV = "TPPCALC_CACHE_DIR"
FORMAT = "tppcalc-validated-1"

T = TypeVar("T")


def cached(kind: str, paths: Sequence[Path], build: Callable[[list[bytes]], T], expected: type, *,
           encode: Callable[[T], tuple[object, list[bytes]]] | None = None,
           decode: Callable[[object, Blobs], T] | None = None, shipped: bool = False) -> T:
    """``build(contents)``: the validated objects made from the bytes of ``paths``, or what it
    returned before for the same bytes under the same code. ``build`` gets the very bytes the key
    is made of, so a file changed meanwhile cannot be stored under its old key. ``expected`` is the
    type ``build`` returns; an entry of any other type is rebuilt. Errors from ``build`` (bad
    files) propagate and nothing is stored.

    By default the result is stored as ``plain_records`` data. A caller that rebuilds parts of it
    only when used passes ``encode`` (the result as plain JSON data and a list of byte strings,
    "blobs", each checked against its own SHA-256 only when read) and ``decode`` (the plain data and
    the stored ``Blobs`` back to the result; it raises ``PlainDataError`` on data it did not make).

    ``shipped``: the files are the package's own, so on a miss the entry the wheel's build validated
    (``shipped_validated``) may serve them, if it was made from the same bytes under the same code."""
    contents = [read_input_file(path) for path in paths]
    key = entry_key(kind, _code_fingerprint(), paths, contents)
    folder = _cache_dir()
    directory = _open_safe_dir(folder, create=False)
    if directory is not None:
        try:
            found = _read(directory, key, decode or _decode_plain, folder)
        finally:
            os.close(directory)
        if isinstance(found, expected):
            return found
    if shipped:
        from tppcalc.data.shipped_validated import read_shipped

        found = read_shipped(kind, paths, contents, decode or _decode_plain)
        if found is not None and isinstance(found[0], expected):
            # kept under the user's key as it is (its digests checked): later runs read it by
            # stat stamps, without hashing every module's text again
            _store(folder, key, rekeyed(found[1], key))
            return found[0]
    result = build(contents)
    _write(folder, key, encode or _encode_plain, result)
    return result


def entry_key(kind: str, code: str, paths: Sequence[Path], contents: Sequence[bytes]) -> str:
    """The key of the records of ``contents`` (the bytes of ``paths``) validated by ``code``."""
    digest = hashlib.sha256(f"{kind}\0{code}\0".encode())
    for path, data in zip(paths, contents, strict=True):
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return f"{kind}-{digest.hexdigest()}"


def _encode_plain(value: object) -> tuple[object, list[bytes]]:
    return to_plain(value), []


def _decode_plain(plain: object, blobs: Blobs) -> object:
    return from_plain(plain)


class Blobs:
    """The byte strings stored beside an entry's plain data, each checked against its SHA-256
    when read (so a lookup reads and checks one record, not all of them). A blob that fails its
    check raises ``PlainDataError``; ``discard`` then removes the entry, so the next run rebuilds it."""

    __slots__ = ("_data", "_key", "_spans", "folder")

    def __init__(self, data: bytes, spans: list[tuple[int, int, str]], folder: Path | None = None, key: str = ""):
        self._data, self._spans, self.folder, self._key = data, spans, folder, key

    def __len__(self) -> int:
        return len(self._spans)

    def __getitem__(self, index: int) -> bytes:
        start, end, digest = self._spans[index]
        blob = self._data[start:end]
        if hashlib.sha256(blob).hexdigest() != digest:
            raise PlainDataError("a stored record does not match its digest")
        return blob

    def discard(self) -> None:
        """Remove the entry these blobs came from (it is damaged), if the folder is still safe."""
        if self.folder is None:
            return
        directory = _open_safe_dir(self.folder, create=False)
        if directory is not None:
            try:
                os.unlink(entry_name(self._key), dir_fd=directory)
            except OSError:
                pass
            finally:
                os.close(directory)


def entry_name(key: str) -> str:
    return f"{key}.json"


def _read(directory: int, key: str, decode: Callable[[object, Blobs], T], folder: Path) -> object:
    """The record stored under ``key`` in the open folder, or None (absent, unsafe or damaged).

    An entry is three parts: a header line (format, key, digests), a line of plain JSON data, and
    the blobs, back to back."""
    try:
        fd = os.open(entry_name(key), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except OSError:
        return None  # absent, or a symlink (O_NOFOLLOW): rebuilt and replaced
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    return parse_entry(data, key, decode, folder)


def parse_entry(data: bytes, key: str, decode: Callable[[object, Blobs], T], folder: Path | None) -> object:
    """The record an entry's bytes hold under ``key``, or None (another key, damaged)."""
    header_end = data.find(b"\n")
    plain_end = data.find(b"\n", header_end + 1)
    if header_end < 0 or plain_end < 0:
        return None
    try:
        header = json.loads(data[:header_end])
        plain = data[header_end + 1:plain_end]
        if (type(header) is not dict or header.get("format") != FORMAT or header.get("key") != key
                or header.get("sha256") != hashlib.sha256(plain).hexdigest()):
            return None
        spans, start = [], plain_end + 1
        for length, blob_digest in header.get("blobs", []):
            if type(length) is not int or length < 0 or type(blob_digest) is not str:
                return None
            spans.append((start, start + length, blob_digest))
            start += length
        if start != len(data):
            return None
        return decode(json.loads(plain), Blobs(data, spans, folder, key))
    except (ValueError, TypeError, RecursionError):  # JSONDecodeError and PlainDataError are ValueErrors
        return None


def _write(folder: Path, key: str, encode: Callable[[T], tuple[object, list[bytes]]], value: T) -> None:
    try:
        entry = entry_bytes(key, *encode(value))
    except (ValueError, TypeError, RecursionError):  # PlainDataError is a ValueError
        return  # a value this format cannot hold is simply not cached
    _store(folder, key, entry)


def _store(folder: Path, key: str, entry: bytes) -> None:
    directory = _open_safe_dir(folder, create=True)
    if directory is None:
        return
    temporary = f".{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=directory)
        try:
            with os.fdopen(fd, "wb", closefd=False) as file:
                file.write(entry)
        finally:
            os.close(fd)
        # atomic: a concurrent reader sees the old entry or the whole new one
        os.replace(temporary, entry_name(key), src_dir_fd=directory, dst_dir_fd=directory)
    except OSError:
        try:
            os.unlink(temporary, dir_fd=directory)
        except OSError:
            pass
    finally:
        os.close(directory)


def rekeyed(entry: bytes, key: str) -> bytes:
    """An entry (already read and checked) stored under another key, its digests unchanged."""
    header, newline, rest = entry.partition(b"\n")
    return b"".join([json.dumps({**json.loads(header), "key": key}).encode(), newline, rest])


def entry_bytes(key: str, plain: object, blobs: list[bytes]) -> bytes:
    """An entry as stored: a header line (format, key, digests), the plain data, the blobs."""
    body = json.dumps(plain, separators=(",", ":")).encode()
    header = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest(),
                         "blobs": [[len(b), hashlib.sha256(b).hexdigest()] for b in blobs]})
    return b"".join([header.encode(), b"\n", body, b"\n", *blobs])


def _open_safe_dir(folder: Path, *, create: bool) -> int | None:
    """A descriptor of the cache folder if it is safe to trust (see the module notes), else None;
    an unsafe folder is reported once per process. ``create`` makes a missing folder, private."""
    if os.name != "posix":
        return None  # ownership and O_NOFOLLOW are what make the folder trustworthy
    if create:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    try:
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        problem = "a symlink" if os.path.islink(folder) else (exc.strerror or "cannot be opened")
        _warn(folder, problem)
        return None
    problem = _unsafe_folder(os.fstat(directory), private=True) or _unsafe_ancestors(str(folder))
    if problem:
        os.close(directory)
        _warn(folder, problem)
        return None
    return directory


def _unsafe_folder(info: os.stat_result, *, private: bool) -> str | None:
    user = os.geteuid()
    if private:
        if info.st_uid != user:
            return f"owned by uid {info.st_uid}, not by uid {user} running tppcalc"
        if info.st_mode & 0o077:
            return f"mode {stat.S_IMODE(info.st_mode):04o}, not 0700"
        return None
    if info.st_uid not in (user, 0):
        return f"a folder above it is owned by uid {info.st_uid}"
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        return "a folder above it is writable by others"
    return None


def _unsafe_ancestors(folder: str) -> str | None:
    """Why a folder above ``folder`` lets someone else swap it, or None."""
    for parent in Path(os.path.realpath(folder)).parents:
        try:
            info = os.stat(parent)
        except OSError:
            return f"{parent} cannot be checked"
        problem = _unsafe_folder(info, private=False)
        if problem:
            return f"{problem} ({parent})"
    return None


_WARNED: set[str] = set()


def _warn(folder: Path, problem: str) -> None:
    if str(folder) not in _WARNED:
        _WARNED.add(str(folder))
        print(f"tppcalc: warning: not using the validated cache {folder}: {problem}", file=sys.stderr)


def _cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tppcalc", "validated"))


@functools.cache
def _code_fingerprint() -> str:
    return code_fingerprint(Path(__file__).resolve().parents[1])


def code_fingerprint(package: Path) -> str:
    """Names, sizes and modification times of every module under ``package`` (~1 ms of stat calls,
    where hashing their text would read it all), with the versions that shape stored models."""
    from tppcalc._version import __version__

    stamps = []
    for item in module_files(package):
        stat_ = item.stat()
        stamps.append(f"{item.path}\0{stat_.st_size}\0{stat_.st_mtime_ns}")
    stamps.sort()
    stamps += [__version__, *shaping_versions()]
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()


def module_files(package: Path, skip: tuple[str, ...] = ("__pycache__",)) -> list[os.DirEntry]:
    """Every ``.py`` file under ``package``, the folders named in ``skip`` left out."""
    found, folders = [], [package]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for item in entries:
                if item.is_dir(follow_symlinks=False):
                    if item.name not in skip:
                        folders.append(Path(item.path))
                elif item.name.endswith(".py"):
                    found.append(item)
    return found


def shaping_versions() -> list[str]:
    """The versions of Python, pydantic and pydantic-core, which shape validated records."""
    import pydantic_core
    from pydantic.version import VERSION as pydantic_version

    return [sys.version, pydantic_version, pydantic_core.__version__]
