"""Which ids a batch file has given already: exact, in 8 bytes of memory an id.

A set of the id strings took about 66 bytes an id (700 MB at 10 million rows). Here each distinct
id is one 64-bit number in memory, a 32-bit hash of the id above the id's ordinal, kept in sorted
runs that merge as they grow (as a binary counter does, so there are about log2(chunks) of them).
The ids themselves go to a temporary file. Equal ids hash equal, so a repeat is never missed; an id
whose hash matches an earlier id's is compared with that id, byte for byte, read back from the
file, so a hash collision never makes a unique id a repeat. With 32 bits of hash, 10 million ids
make a few thousand such reads in all.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import weakref
from collections.abc import Sequence

import numpy as np

from tppcalc.errors import InputError

_HASH = np.uint64(0xFFFF_FFFF_0000_0000)
_ORDINAL = np.uint64(0x0000_0000_FFFF_FFFF)
MAX_IDS = 1 << 32  # ordinals are the low 32 bits
SHORT = 64  # ids up to this many bytes are hashed by numpy, all of a chunk at once


class SeenIds:
    """The ids given so far. ``repeats(keys)`` says which of ``keys`` were given before (earlier
    in ``keys`` or in an earlier call) and remembers the others."""

    def __init__(self, hash_of=None) -> None:
        # None: numpy hashes short ids with keys drawn here (a multilinear hash over 32-bit words,
        # ``_short_hashes``) and Python's hash, keyed per process, the longer ones; an id's length
        # picks its hash, so equal ids always hash alike. Tests give a colliding ``hash_of``.
        self._hash_of = hash_of
        self._keys = np.array([secrets.randbits(64) for _ in range(SHORT // 4 + 1)], np.uint64)
        self._runs: list[np.ndarray] = []
        self._count = 0         # distinct ids so far: the next ordinal
        self._size = 0          # bytes of ids written
        self._texts = -1        # file descriptor: the ids, one after another
        self._ends = -1         # file descriptor: int64 per ordinal, where its id ends in _texts

    def __len__(self) -> int:
        return self._count

    def repeats(self, keys: Sequence[bytes]) -> list[int]:
        """The indexes of ``keys`` given before, in order."""
        widths = np.fromiter(map(len, keys), np.int64, len(keys))
        ends = np.cumsum(widths)
        return self.repeats_in(b"".join(keys), ends - widths, ends)

    def repeats_in(self, data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        """``repeats`` of the ids ``data[starts[i]:ends[i]]``, without a Python object an id."""
        n = len(starts)
        if not n:
            return []
        keys = _Slices(data, starts, ends)
        hashes = self._hashes(data, starts, ends) & _HASH  # the top 32 bits
        order = np.argsort(hashes, kind="stable")
        ranked = hashes[order]  # sorted queries: each binary search starts where the last ended
        repeated: set[int] = set()
        same = np.flatnonzero(ranked[1:] == ranked[:-1])
        if len(same):  # equal hashes within these keys: the rows after the first of equal bytes
            first: set[bytes] = set()
            for index in sorted({*order[same].tolist(), *order[same + 1].tolist()}):
                if keys[index] in first:
                    repeated.add(index)
                first.add(keys[index])
        for run in self._runs:
            at = np.searchsorted(run, ranked)  # the first entry with that hash, if any
            found = (run[np.minimum(at, len(run) - 1)] & _HASH) == ranked
            found &= at < len(run)
            for place in np.flatnonzero(found).tolist():
                index = int(order[place])
                if index not in repeated and self._given(keys[index], run, int(at[place])):
                    repeated.add(index)
        new = np.ones(n, bool)
        new[list(repeated)] = False
        self._remember(data, starts[new], ends[new], hashes[new])
        return sorted(repeated)

    def _hashes(self, data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        if self._hash_of is not None:
            return np.fromiter(map(self._hash_of, _Slices(data, starts, ends)), np.int64, len(starts)).view(np.uint64)
        widths = ends - starts
        hashes = np.empty(len(starts), np.uint64)
        short = widths <= SHORT
        hashes[short] = _short_hashes(data, starts[short], widths[short], self._keys)
        for index in np.flatnonzero(~short).tolist():
            hashes[index] = hash(data[starts[index]:ends[index]]) & 0xFFFF_FFFF_FFFF_FFFF
        return hashes

    def _given(self, key: bytes, run: np.ndarray, at: int) -> bool:
        """Whether an id of ``run`` from ``at`` on, with the same hash as ``key``, is ``key``."""
        top = run[at] & _HASH
        while at < len(run) and run[at] & _HASH == top:
            if self._text(int(run[at] & _ORDINAL)) == key:
                return True
            at += 1
        return False

    def _text(self, ordinal: int) -> bytes:
        if ordinal:
            start, end = np.frombuffer(_read(self._ends, 16, 8 * (ordinal - 1)), np.int64).tolist()
        else:
            start, end = 0, int(np.frombuffer(_read(self._ends, 8, 0), np.int64)[0])
        return _read(self._texts, end - start, start)

    def _remember(self, data: bytes, starts: np.ndarray, ends: np.ndarray, hashes: np.ndarray) -> None:
        count = len(starts)
        if not count:
            return
        if self._count + count > MAX_IDS:
            raise InputError(f"more than {MAX_IDS:,} distinct ids: split the file")
        if self._texts < 0:
            self._texts, self._ends = _scratch(), _scratch()
            weakref.finalize(self, _close, self._texts, self._ends)
        widths = ends - starts
        offsets = np.cumsum(widths)
        _write(self._texts, _gathered(data, starts, widths, offsets), self._size)
        offsets += self._size
        _write(self._ends, offsets.tobytes(), 8 * self._count)
        self._size = int(offsets[-1])
        ordinals = np.arange(self._count, self._count + count, dtype=np.uint64)
        self._count += count
        run = hashes | ordinals
        run.sort()
        self._runs.append(run)
        while len(self._runs) > 1 and len(self._runs[-2]) <= len(self._runs[-1]):
            last = self._runs.pop()
            merged = np.concatenate([self._runs.pop(), last])
            merged.sort(kind="stable")  # two sorted runs: a merge
            self._runs.append(merged)


class _Slices:
    """``data[starts[i]:ends[i]]`` as a sequence of bytes, made one at a time when asked for."""

    def __init__(self, data: bytes, starts: np.ndarray, ends: np.ndarray):
        self._data, self._starts, self._ends = data, starts, ends

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, index: int) -> bytes:
        return self._data[self._starts[index]:self._ends[index]]

    def __iter__(self):
        data = self._data
        return (data[s:e] for s, e in zip(self._starts.tolist(), self._ends.tolist()))


def _short_hashes(data: bytes, starts: np.ndarray, widths: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each id (at most SHORT bytes): its length and its bytes, zero-padded to
    32-bit words, each times a random 64-bit key, summed modulo 2^64 (multiply-shift hashing of a
    vector: two different ids share the top 32 bits with a chance of about 2^-31, whatever ids a
    file holds, as the keys are drawn per run)."""
    hashes = widths.astype(np.uint64) * keys[0]
    if not len(widths):
        return hashes
    words = (int(widths.max()) + 3) // 4
    buf = np.frombuffer(data, np.uint8)
    index = starts[:, None] + np.arange(4 * words)
    matrix = buf[np.minimum(index, len(buf) - 1)]
    matrix[index >= (starts + widths)[:, None]] = 0
    matrix = matrix.view("<u4").astype(np.uint64)  # little-endian words on any host
    for word in range(words):
        hashes += matrix[:, word] * keys[word + 1]
    return hashes


def _gathered(data: bytes, starts: np.ndarray, widths: np.ndarray, offsets: np.ndarray) -> bytes:
    """The slices ``data[starts[i]:starts[i] + widths[i]]`` one after another (``offsets``: their
    running ends)."""
    total = int(offsets[-1])
    if not total:
        return b""
    positions = np.arange(total) + np.repeat(starts - (offsets - widths), widths)
    return np.frombuffer(data, np.uint8)[positions].tobytes()


# Raw descriptors, not file objects: nothing to flush before reading back, and nothing for the
# garbage collector to warn about. A failure (a full disk) is an InputError, not a crash.

def _scratch() -> int:
    try:
        fd, path = tempfile.mkstemp(prefix="tppcalc-ids-")
    except OSError as exc:
        raise InputError(f"cannot make a temporary file for the ids ({exc.strerror}); set TMPDIR to a writable "
                         "folder") from None
    try:
        os.unlink(path)  # gone when closed, whatever happens to this process
    except OSError:
        pass
    return fd


def _write(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    try:
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    except OSError as exc:
        raise InputError(f"cannot write the ids to a temporary file ({exc.strerror})") from None


def _read(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise InputError("the temporary file of ids was cut short")
    return data


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)
