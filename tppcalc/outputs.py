"""Every file tppcalc writes, written safely; and stdout, written with every write checked.

A file is written to a temporary beside its target (``tempfile.mkstemp``: a new name, created with
O_EXCL, so a planted file or symlink is never opened), flushed, fsynced and renamed over the target
in one step. On any error, and on SIGTERM or SIGINT, the temporary is removed and the target is left
as it was: no output that looks complete unless it is. A target that is not a regular file (a
folder, a device, a FIFO, a socket) or that is one of the command's own inputs is refused before
any work. Write errors (ENOSPC, EFBIG, EPIPE, ...) become one ``OutputError`` naming the target.

    >>> from tppcalc.outputs import atomic_output, write_file
    >>> write_file("report.html", text)                   # whole content at once
    >>> with atomic_output("out.csv", inputs=["in.csv"]) as sink:   # or streamed
    ...     sink.write(b"...")
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from tppcalc.errors import InputError

STDOUT = "-"


class OutputError(InputError):
    """An output that cannot be written (refused target, full disk, closed pipe). ``where`` names it."""


def _problem(exc: OSError) -> str:
    if exc.errno == errno.EPIPE:
        return "the reading end of the pipe was closed (EPIPE); the output is incomplete"
    name = errno.errorcode.get(exc.errno or 0)
    reason = exc.strerror or str(exc)
    return f"cannot write: {reason}" + (f" ({name})" if name else "") + "; the output is incomplete"


def check_target(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 field: str | None = "--output") -> Path:
    """Refuse ``path`` as an output unless it is a regular file or does not exist yet, and is none
    of ``inputs`` (same device and inode, so links and other spellings are caught too)."""
    path = Path(path)
    where = str(path)
    try:
        target = os.stat(path)
    except FileNotFoundError:
        target = None
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc), where=where, field=field) from None
    if target is not None:
        if stat.S_ISDIR(target.st_mode):
            raise OutputError("is a folder; name a file", where=where, field=field)
        if not stat.S_ISREG(target.st_mode):
            raise OutputError("is not a regular file (a device, FIFO or socket); tppcalc writes only regular "
                              "files (for stdout, give -)", where=where, field=field)
        for source in inputs:
            try:
                other = os.stat(source)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (target.st_dev, target.st_ino):
                raise OutputError(f"is the input {str(source)!r}: writing it would destroy the input; name "
                                  "another file", where=where, field=field)
    if not path.parent.is_dir():
        raise OutputError(f"the folder {str(path.parent)!r} does not exist", where=where, field=field)
    return path


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the body runs, SIGTERM raises SystemExit (as SIGINT raises KeyboardInterrupt), so
    the ``finally`` clauses that remove a temporary run. Only the main thread can set it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, previous)  # a second SIGTERM acts as it would have
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except (ValueError, OSError):  # not settable here: a temporary may be left, nothing worse
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _mode_for(path: Path) -> int:
    """The permission bits a plain ``open(path, "w")`` would give: the target's own if it exists,
    else 0o666 less the umask (mkstemp creates 0o600)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)  # the only way to read it; set back at once
        os.umask(umask)
        return 0o666 & ~umask


class _CheckedSink:
    """A binary file whose write errors become OutputError naming ``where``."""

    def __init__(self, raw: BinaryIO, where: str, field: str | None):
        self._raw, self._where, self._field = raw, where, field

    def fail(self, exc: OSError) -> OutputError:
        return OutputError(_problem(exc), where=self._where, field=self._field)

    def write(self, data) -> int:
        try:
            return self._raw.write(data)
        except OSError as exc:
            raise self.fail(exc) from None

    def flush(self) -> None:
        try:
            self._raw.flush()
        except OSError as exc:
            raise self.fail(exc) from None

    # Writers that take a file object (pyarrow, openpyxl, zipfile) ask for these.
    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, *args) -> int:
        return self._raw.seek(*args)

    def seekable(self) -> bool:
        return self._raw.seekable()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._raw.closed

    def close(self) -> None:
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                  field: str | None = "--output") -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` when the body ends without error, and vanishes if it
    does not. The target is checked first (``check_target``)."""
    path = check_target(path, inputs=inputs, field=field)
    where = str(path)
    with _sigterm_raises():
        yield from _write_then_rename(path, where, inputs, field)


def _write_then_rename(path: Path, where: str, inputs, field: str | None) -> Iterator[BinaryIO]:
    try:
        # A new name, opened with O_CREAT | O_EXCL and mode 0600: never a planted file or symlink.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc), where=where, field=field) from None
    try:
        raw = os.fdopen(handle, "wb")
        sink = _CheckedSink(raw, where, field)
        try:
            yield sink
            sink.flush()
            try:
                os.fsync(raw.fileno())  # ENOSPC may only show here (delayed allocation)
                os.fchmod(raw.fileno(), _mode_for(path))
            except OSError as exc:
                raise sink.fail(exc) from None
        finally:
            with contextlib.suppress(OSError):  # already reported by the flush above, if any
                raw.close()
        check_target(path, inputs=inputs, field=field)  # what is there now, not what was there
        try:
            os.replace(temporary, path)
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc), where=where, field=field) from None
        temporary = None
        with contextlib.suppress(OSError):  # make the rename itself durable, where the OS lets us
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def write_file(path: str | os.PathLike, data: bytes | str, *, inputs: Iterable[str | os.PathLike] = (),
               field: str | None = "--output") -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns the path."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(path, inputs=inputs, field=field) as sink:
        sink.write(payload)
    return Path(path)


@contextlib.contextmanager
def checked_stdout() -> Iterator[BinaryIO]:
    """``sys.stdout.buffer`` with every write and the final flush checked. After a failed write
    (ENOSPC, EPIPE: the reader went away) stdout is pointed at /dev/null, so the interpreter's own
    last flush stays quiet and the command ends with its one error line and exit status 1."""
    sink = _CheckedSink(sys.stdout.buffer, "stdout", None)
    try:
        yield sink
        sink.flush()
    except OutputError as exc:
        if exc.where != "stdout":
            raise
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        raise
