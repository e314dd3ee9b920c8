"""The shipped catalogue validated when the wheel is built, so a fresh install need not validate it.

Before the validated cache (``validated_cache``) holds anything, the first catalogue load validates
every shipped record with pydantic (~180 ms for 329 records). A wheel's build (``hatch_build.py``)
runs that same validation on the files it ships, with the package's own code (``write_shipped``),
and stores the results in the validated cache's own entry format under
``tppcalc/_data/validated/<key>.json``. A load that finds nothing in the user's cache reads the
shipped entry instead of validating, only when its key says it was made from:

- the same bytes (and name) of the spec file, as the user's cache keys them;
- the same code: the SHA-256 of the text of every module of this copy of tppcalc (the user's cache
  uses sizes and modification times, which an install does not keep from the build), and the
  same versions of Python, pydantic and pydantic-core.

Any difference is another key, so nothing is found and the file is validated as always. An entry
used is kept in the user's cache as it is, under the user's key (its key field alone rewritten), so
later runs find it there without hashing every module again. A user's
own spec folders are never looked up here (``Catalogue.load`` asks only for the shipped folder).
Reading an entry runs no code (JSON, rebuilt into tppcalc's own classes), and every digest it
carries is checked before it is used: a damaged or edited entry is ignored, and the file validated.
The shipped entries are as trusted as the package's modules beside them: whoever can write one
can write those.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from tppcalc.data.input_files import read_input_file
from tppcalc.data.validated_cache import (
    Blobs,
    entry_bytes,
    entry_key,
    entry_name,
    module_files,
    parse_entry,
    shaping_versions,
)
from tppcalc.errors import InputError

T = TypeVar("T")

_PACKAGE = Path(__file__).resolve().parents[1]  # tppcalc/
SHIPPED_DIR = _PACKAGE / "_data" / "validated"
_LARGEST = 64 << 20  # an entry this large is not one the build wrote


def code_digest(package: Path) -> str:
    """The SHA-256 of the text (and relative path) of every module of ``package``, with the versions
    of Python, pydantic and pydantic-core: what validated records depend on. The data folder
    (``_data``: shipped kernels, parsed documents) is not code that validates and is left out."""
    digest = hashlib.sha256()
    names = sorted(Path(item.path).relative_to(package).as_posix()
                   for item in module_files(package, skip=("__pycache__", "_data")))
    for name in names:
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256((package / name).read_bytes()).digest())
    digest.update(("\0" + "\0".join(shaping_versions())).encode())
    return digest.hexdigest()


@functools.cache
def _this_code() -> str:
    return code_digest(_PACKAGE)


def read_shipped(kind: str, paths: Sequence[Path], contents: Sequence[bytes],
                 decode: Callable[[object, Blobs], T], folder: Path | None = None) -> tuple[T, bytes] | None:
    """What the build stored for these exact bytes under this exact code, with the entry's bytes
    (every digest in them checked), or None."""
    folder = folder or SHIPPED_DIR
    if not folder.is_dir():  # a checkout, an editable install: nothing shipped, nothing hashed
        return None
    try:
        key = entry_key(kind, _this_code(), paths, contents)
        # a regular file only, and bounded: a FIFO or a device there must not hang or flood a load
        data = read_input_file(folder / entry_name(key), _LARGEST)
    except (OSError, InputError):  # absent (another key), unreadable, not a file, too large
        return None

    def checked(plain: object, blobs: Blobs) -> T:
        for index in range(len(blobs)):
            blobs[index]  # raises PlainDataError on a blob that does not match its digest
        return decode(plain, blobs)

    found = parse_entry(data, key, checked, None)
    return None if found is None else (found, data)


def write_shipped(package: Path, specs: Path, folder: Path) -> list[Path]:
    """Validate every spec file in ``specs`` as ``Catalogue.load`` does and store each file's records
    in ``folder`` under the key a load by the code of ``package`` will look for; the written paths.
    A file that fails validation raises its ``TppcalcError`` and nothing more is written."""
    from tppcalc.data.catalogue import SPECS_KIND, spec_files, validated_parts

    code = code_digest(package)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for path in spec_files(specs):
        data = path.read_bytes()
        key = entry_key(SPECS_KIND, code, [path], [data])
        target = folder / entry_name(key)
        target.write_bytes(entry_bytes(key, *validated_parts(path, data)))
        written[path.relative_to(specs).as_posix()] = target
    python, pydantic, pydantic_core = shaping_versions()
    # For people: what this build used (nothing reads it; the keys carry it).
    (folder / "BUILT.json").write_text(json.dumps({
        "python": python, "pydantic": pydantic, "pydantic_core": pydantic_core, "code": code,
        "files": {name: target.name for name, target in written.items()}}, indent=1) + "\n")
    return list(written.values())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tppcalc.data.shipped_validated PACKAGE SPECS FOLDER``, run by the wheel build
    from the source tree; a spec file that fails validation fails the build with its error."""
    from tppcalc.errors import TppcalcError

    package, specs, folder = (Path(a) for a in (argv if argv is not None else sys.argv[1:]))
    if Path(__file__).resolve().parents[1] != package.resolve():
        print(f"tppcalc build: validating with {__file__}, not the package being built ({package})",
              file=sys.stderr)
        return 2
    try:
        write_shipped(package, specs, folder)
    except TppcalcError as exc:
        print(f"tppcalc build: the shipped catalogue does not validate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
