"""Reading an input file whole, safely: a regular file only, never more than a bound.

A spec or rule file named by a user may be anything: a symlink loop, a folder, a FIFO (opening one
blocks until someone writes), ``/dev/zero`` (reading never ends), or simply huge. Each is refused
with an ``InputError`` naming the file, before memory or time run away.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tppcalc.errors import InputError

MAX_INPUT_BYTES = 8 * 2**20  # 100 x the largest shipped spec file


def read_input_file(path: Path, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (symlinks followed), at most ``max_bytes`` of them."""
    try:
        # O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except OSError as exc:  # a symlink loop, no permission, a name too long
        raise InputError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise InputError(f"cannot read: {kind}", where=str(path))
        if info.st_size > max_bytes:
            raise InputError(f"file too large ({info.st_size} bytes; at most {max_bytes})", where=str(path))
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(max_bytes + 1)  # the file may grow after fstat
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(f"file too large (more than {max_bytes} bytes)", where=str(path))
    return data
