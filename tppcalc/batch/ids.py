"""Which ids a batch file has given already: exact, in memory that does not grow with the file.

A set of the id strings took about 66 bytes an id (700 MB at 10 million rows). Here each distinct
id is one 64-bit entry, a 32-bit hash of the id above the id's ordinal, kept in sorted runs that
merge as they grow (as a binary counter does). The newest entries (up to MEMORY_ENTRIES) are runs in
memory; beyond that a run is written to an unlinked temporary file of its own, and two runs on disk
are merged by streaming them in blocks, so no run is ever whole in memory. Each run on disk keeps
every BLOCK_ENTRIES-th entry in memory (its sparse index): an entry is found with one read of a
block. A Bloom filter of fixed size (BLOOM_WORDS, 32 MiB: 64-bit words, BLOOM_BITS bits an id in
one word) says which ids are new without looking at any run; only the others ("maybe given") are
looked up. The ids themselves go to another temporary file.

Equal ids hash equal, so the filter never calls a given id new and a repeat is never missed; an id
whose hash matches an earlier id's is compared with that id, byte for byte, read back from the
file, so neither a hash collision nor a false positive of the filter makes a unique id a repeat.
A temporary file that cannot be written or read back stops the batch with an InputError: no answer
is given on ids that were not checked.
"""

from __future__ import annotations

import mmap
import os
import secrets
import tempfile
import weakref
from collections.abc import Sequence

import numpy as np

from tppcalc.batch.io import byte_rows
from tppcalc.errors import InputError

_HASH = np.uint64(0xFFFF_FFFF_0000_0000)
_ORDINAL = np.uint64(0x0000_0000_FFFF_FFFF)
MAX_IDS = 1 << 32  # ordinals are the low 32 bits
SHORT = 64  # ids up to this many bytes are hashed by numpy, all of a chunk at once
BLOOM_WORDS = 1 << 22  # 32 MiB: at 10 million ids about 1 id in 1,000 is a false "maybe given"
BLOOM_BITS = 5  # bits an id sets in its word
MEMORY_ENTRIES = 1 << 19  # 4 MiB of entries in memory before they go to disk as one run
BLOCK_ENTRIES = 512  # a run on disk is read 4 KiB at a time for a lookup
MERGE_ENTRIES = 1 << 14  # and 128 KiB at a time from each run it merges
READ_BLOCKS = 64  # blocks read for one batch of lookups (256 KiB)


class SeenIds:
    """The ids given so far. ``repeats(keys)`` says which of ``keys`` were given before (earlier
    in ``keys`` or in an earlier call) and remembers the others."""

    def __init__(self, hash_of=None, *, bloom_words: int = BLOOM_WORDS, memory_entries: int = MEMORY_ENTRIES,
                 block_entries: int = BLOCK_ENTRIES, merge_entries: int = MERGE_ENTRIES) -> None:
        # None: numpy hashes short ids with keys drawn here (a multilinear hash over 32-bit words,
        # ``_short_hashes``) and Python's hash, keyed per process, the longer ones; an id's length
        # picks its hash, so equal ids always hash alike. Tests give a colliding ``hash_of``, and
        # small sizes to put runs on disk and fill the filter after a few ids.
        if bloom_words < 1 or bloom_words & (bloom_words - 1):
            raise ValueError("bloom_words must be a power of 2")
        self._hash_of = hash_of
        self._keys = np.array([secrets.randbits(64) for _ in range(SHORT // 4 + 1)], np.uint64)
        self._bloom_words = bloom_words
        self._bloom: np.ndarray | None = None  # made at the first id: pages are touched as ids arrive
        self._memory_entries, self._block_entries, self._merge_entries = memory_entries, block_entries, merge_entries
        self._runs: list[np.ndarray] = []       # in memory, the newest
        self._disk: list[_DiskRun] = []         # on disk, the oldest
        self._count = 0         # distinct ids so far: the next ordinal
        self._size = 0          # bytes of ids written
        self._texts = -1        # file descriptor: the ids, one after another
        self._ends = -1         # file descriptor: int64 per ordinal, where its id ends in _texts
        self._broken: str | None = None  # why an earlier call failed

    def __len__(self) -> int:
        return self._count

    def repeats(self, keys: Sequence[bytes]) -> list[int]:
        """The indexes of ``keys`` given before, in order."""
        widths = np.fromiter(map(len, keys), np.int64, len(keys))
        ends = np.cumsum(widths)
        return self.repeats_in(b"".join(keys), ends - widths, ends)

    def repeats_in(self, data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        """``repeats`` of the ids ``data[starts[i]:ends[i]]``, without a Python object an id."""
        if self._broken is not None:
            raise InputError(f"the ids cannot be checked after an earlier error ({self._broken})")
        try:
            return self._repeats_in(data, starts, ends)
        except BaseException as exc:
            # A run half written or half merged may have lost entries: answering again could
            # call a repeat new, so every later call fails too.
            self._broken = str(exc) or type(exc).__name__
            raise

    def _repeats_in(self, data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        n = len(starts)
        if not n:
            return []
        keys = _Slices(data, starts, ends)
        hashes = self._hashes(data, starts, ends)
        order = _sorted_order(hashes)
        ranked = hashes[order]  # sorted (tops and words): the filter's words and the runs are visited in order
        tops = ranked & _HASH
        repeated: set[int] = set()
        same = np.flatnonzero(tops[1:] == tops[:-1])
        if len(same):  # equal hashes within these keys: the rows after the first of equal bytes
            first: set[bytes] = set()
            for index in sorted({*order[same].tolist(), *order[same + 1].tolist()}):
                if keys[index] in first:
                    repeated.add(index)
                first.add(keys[index])
        words, masks = self._bloom_places(ranked)
        if self._bloom is not None:
            maybe = np.flatnonzero((self._bloom[words] & masks) == masks)
            if len(maybe):
                self._look_up(keys, order[maybe], tops[maybe], repeated)
        new = np.ones(n, bool)
        new[list(repeated)] = False
        new_ranked = new[order]
        # Each new id's ordinal, in the order of the rows; its entry in the order of the hashes.
        ordinals = np.cumsum(new) - 1
        self._remember(data, starts[new], ends[new], ranked[new_ranked], ordinals[order[new_ranked]],
                       words[new_ranked], masks[new_ranked])
        return sorted(repeated)

    def _look_up(self, keys: _Slices, indexes: np.ndarray, tops: np.ndarray, repeated: set[int]) -> None:
        """Add to ``repeated`` the ``indexes`` (hash tops ``tops``, sorted) whose keys were given."""
        found = (*(run.ordinals(tops) for run in self._disk), *(_ordinals_in_memory(run, tops) for run in self._runs))
        for pairs in found:
            for place, ordinal in pairs:
                index = int(indexes[place])
                if index not in repeated and self._text(ordinal) == keys[index]:
                    repeated.add(index)

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

    def _bloom_places(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each hash's word of the filter (its top bits: sorted hashes visit the words in order)
        and its bits in that word (from the whole hash, mixed: the low bits of a multilinear hash
        are weak)."""
        shift = 64 - (self._bloom_words.bit_length() - 1)
        words = (hashes >> np.uint64(shift)).astype(np.intp) if shift < 64 else np.zeros(len(hashes), np.intp)
        mixed = _mix(hashes)
        masks = np.zeros(len(hashes), np.uint64)
        for bit in range(BLOOM_BITS):
            masks |= np.uint64(1) << ((mixed >> np.uint64(64 - 6 * (bit + 1))) & np.uint64(63))
        return words, masks

    def _text(self, ordinal: int) -> bytes:
        if ordinal:
            start, end = np.frombuffer(_read(self._ends, 16, 8 * (ordinal - 1)), np.int64).tolist()
        else:
            start, end = 0, int(np.frombuffer(_read(self._ends, 8, 0), np.int64)[0])
        return _read(self._texts, end - start, start)

    def _remember(self, data: bytes, starts: np.ndarray, ends: np.ndarray, ranked: np.ndarray, ordinals: np.ndarray,
                  words: np.ndarray, masks: np.ndarray) -> None:
        """Remember new ids: their text, an entry in a run, their bits in the filter. The ids are
        ``data[starts[i]:ends[i]]`` in the order of the rows; ``ranked`` their hashes sorted,
        ``ordinals`` the number of each of those among the new ids, and ``words`` and ``masks`` its
        ``_bloom_places``."""
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
        _write(self._ends, offsets, 8 * self._count)
        self._size = int(offsets[-1])
        run = (ranked & _HASH) | (ordinals.astype(np.uint64) + np.uint64(self._count))
        self._count += count
        if (run[1:] < run[:-1]).any():  # equal tops whose ordinals the hashes' low bits put out of order
            run.sort()
        self._runs.append(run)
        while len(self._runs) > 1 and len(self._runs[-2]) <= len(self._runs[-1]):
            last = self._runs.pop()
            merged = np.concatenate([self._runs.pop(), last])
            merged.sort(kind="stable")  # two sorted runs: a merge
            self._runs.append(merged)
        if sum(map(len, self._runs)) >= self._memory_entries:
            self._spill()
        self._add_to_bloom(words, masks)

    def _add_to_bloom(self, words: np.ndarray, masks: np.ndarray) -> None:
        if self._bloom is None:
            self._bloom = _zeroed_words(self._bloom_words)
        firsts = np.flatnonzero(np.diff(words, prepend=-1))  # from sorted hashes: words in order
        self._bloom[words[firsts]] |= np.bitwise_or.reduceat(masks, firsts)

    def _spill(self) -> None:
        """The runs in memory, as one run on disk; then runs on disk merged as a binary counter."""
        merged = np.concatenate(self._runs) if len(self._runs) > 1 else self._runs[0]
        merged.sort(kind="stable")  # sorted runs one after another: merges
        self._runs = []
        disk = _DiskRun(self._block_entries, len(merged))
        disk.append(merged)
        del merged
        self._disk.append(disk)
        while len(self._disk) > 1 and self._disk[-2].count <= self._disk[-1].count:
            last = self._disk.pop()
            self._disk.append(_merged(self._disk.pop(), last, self._block_entries, self._merge_entries))


def _zeroed_words(count: int) -> np.ndarray:
    """``count`` zeroed 64-bit words for the filter, on huge pages where the system offers them:
    the first chunk's ids touch nearly every page of it, and faulting in 8,192 pages of 4 KiB took
    30-100 ms on a VM, which the whole batch waited for (16 pages of 2 MiB: 5-30 ms)."""
    advice = getattr(mmap, "MADV_HUGEPAGE", None)  # Linux
    if advice is not None:
        try:
            region = mmap.mmap(-1, 8 * count, flags=mmap.MAP_PRIVATE)  # anonymous, zeroed, untouched
            region.madvise(advice)
            return np.frombuffer(region, np.uint64)
        except (OSError, ValueError):  # no transparent huge pages, or no such mapping here
            pass
    return np.zeros(count, np.uint64)  # calloc: untouched pages cost nothing


def _ordinals_in_memory(run: np.ndarray, tops: np.ndarray) -> list[tuple[int, int]]:
    """(i, ordinal) for each entry of ``run`` whose hash top is ``tops[i]`` (``tops`` sorted)."""
    return _matches(run, tops, np.arange(len(tops)))


def _matches(entries: np.ndarray, tops: np.ndarray, places: np.ndarray) -> list[tuple[int, int]]:
    """(places[j], ordinal) for each of the sorted ``entries`` whose hash top is ``tops[j]``
    (``tops`` sorted; ``entries`` holds every entry of those tops that its run has)."""
    if not len(entries):
        return []
    at = np.searchsorted(entries, tops)  # the first entry with that top, if any
    last = len(entries) - 1
    hits = np.flatnonzero((at <= last) & ((entries[np.minimum(at, last)] & _HASH) == tops))
    at = at[hits]
    pairs = list(zip(places[hits].tolist(), (entries[at] & _ORDINAL).tolist()))
    after = np.minimum(at + 1, last)
    for hit in np.flatnonzero((at < last) & ((entries[after] & _HASH) == tops[hits])).tolist():
        where, top = int(at[hit]) + 1, tops[hits[hit]]  # more entries of that top: rare
        while where <= last and entries[where] & _HASH == top:
            pairs.append((int(places[hits[hit]]), int(entries[where] & _ORDINAL)))
            where += 1
    return pairs


class _DiskRun:
    """A sorted run of entries in an unlinked temporary file of its own, with every
    ``block_entries``-th entry in memory."""

    def __init__(self, block_entries: int, size: int) -> None:
        self.fd = _scratch()
        self._closer = weakref.finalize(self, _close, self.fd)
        self.count = 0
        self._block = block_entries
        # Made whole at once: small arrays kept between a merge's large passing ones would
        # scatter the heap and let it grow with the file.
        self._index = np.empty(-(-size // block_entries), np.uint64)

    def append(self, entries: np.ndarray) -> None:
        """Write the next entries (sorted, each above the last written)."""
        _write(self.fd, entries, 8 * self.count)
        samples = entries[(-self.count) % self._block::self._block]
        first = -(-self.count // self._block)
        self._index[first:first + len(samples)] = samples
        self.count += len(entries)

    def read(self, start: int, size: int) -> np.ndarray:
        size = min(size, self.count - start)
        return np.frombuffer(_read(self.fd, 8 * size, 8 * start), np.uint64) if size > 0 else np.empty(0, np.uint64)

    def ordinals(self, tops: np.ndarray):
        """(i, ordinal) for each entry whose hash top is ``tops[i]`` (``tops`` sorted). A top's
        entries lie in one block, found from the index, unless equal tops span blocks; the blocks
        of many tops are read together, consecutive ones in one read, up to READ_BLOCKS at a time."""
        if -(-self.count // self._block) != len(self._index):
            raise InputError("the temporary file of ids was cut short")
        firsts = np.maximum(np.searchsorted(self._index, tops, "right") - 1, 0)
        lasts = np.searchsorted(self._index, tops | _ORDINAL, "right") - 1
        for place in np.flatnonzero((lasts >= 0) & (lasts > firsts)).tolist():  # spanning blocks: rare
            for number in range(int(firsts[place]), int(lasts[place]) + 1):
                yield from _matches(self.read(number * self._block, self._block), tops[place:place + 1],
                                    np.array([place]))
        places = np.flatnonzero(lasts == firsts)
        numbers = firsts[places]
        starts = np.flatnonzero(np.diff(numbers, prepend=-1))  # where each distinct block's tops begin
        for group in range(0, len(starts), READ_BLOCKS):
            begin = starts[group]
            end = starts[group + READ_BLOCKS] if group + READ_BLOCKS < len(starts) else len(places)
            wanted = numbers[starts[group:group + READ_BLOCKS]]  # sorted, distinct
            spans = np.split(wanted, np.flatnonzero(np.diff(wanted) != 1) + 1)
            # The blocks in order of their number: still a sorted array, holding every entry of these tops.
            held = np.concatenate([self.read(int(span[0]) * self._block, len(span) * self._block) for span in spans])
            yield from _matches(held, tops[places[begin:end]], places[begin:end])

    def close(self) -> None:
        self._closer()


def _merged(older: _DiskRun, newer: _DiskRun, block_entries: int, merge_entries: int) -> _DiskRun:
    """One run on disk with the entries of both, merged ``merge_entries`` at a time from each."""
    out = _DiskRun(block_entries, older.count + newer.count)
    left, right = np.empty(0, np.uint64), np.empty(0, np.uint64)
    next_left = next_right = 0
    while True:
        if not len(left) and next_left < older.count:
            left = older.read(next_left, merge_entries)
            next_left += len(left)
        if not len(right) and next_right < newer.count:
            right = newer.read(next_right, merge_entries)
            next_right += len(right)
        if not len(left) or not len(right):
            break
        limit = min(left[-1], right[-1])  # all entries up to it are in hand: merge and write them
        at_left, at_right = int(np.searchsorted(left, limit, "right")), int(np.searchsorted(right, limit, "right"))
        piece = np.concatenate([left[:at_left], right[:at_right]])
        piece.sort(kind="stable")  # two sorted runs: a merge
        out.append(piece)
        left, right = left[at_left:], right[at_right:]
    for rest, run, start in ((left, older, next_left), (right, newer, next_right)):
        while len(rest):
            out.append(rest)
            rest = run.read(start, merge_entries)
            start += len(rest)
    if out.count != older.count + newer.count:
        raise InputError("the temporary file of ids was cut short")
    older.close()
    newer.close()
    return out


def _mix(hashes: np.ndarray) -> np.ndarray:
    """Every bit of each hash spread over all the bits (MurmurHash3's 64-bit finaliser)."""
    mixed = hashes ^ (hashes >> np.uint64(33))
    mixed *= np.uint64(0xFF51AFD7ED558CCD)
    mixed ^= mixed >> np.uint64(33)
    mixed *= np.uint64(0xC4CEB9FE1A85EC53)
    mixed ^= mixed >> np.uint64(33)
    return mixed


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
    matrix = byte_rows(data, starts, starts + widths, 4 * words).view("<u4")  # little-endian words on any host
    for word in range(words):
        hashes += matrix[:, word].astype(np.uint64) * keys[word + 1]
    return hashes


def _sorted_order(hashes: np.ndarray) -> np.ndarray:
    """An order that sorts ``hashes`` by all but their lowest bits (enough to number the rows,
    never a top bit: fewer than 2^32 rows, as ordinals allow): a sort of each hash with its row
    number in those bits, a quarter cheaper than an argsort."""
    bits = max(len(hashes) - 1, 1).bit_length()
    low = np.uint64((1 << bits) - 1)
    packed = (hashes & ~low) | np.arange(len(hashes), dtype=np.uint64)
    packed.sort()
    return (packed & low).astype(np.intp)


def _gathered(data: bytes, starts: np.ndarray, widths: np.ndarray, offsets: np.ndarray) -> bytes | np.ndarray:
    """The slices ``data[starts[i]:starts[i] + widths[i]]`` one after another (``offsets``: their
    running ends), as bytes or a byte array."""
    total = int(offsets[-1])
    if not total:
        return b""
    width = int(widths.max())
    if width <= SHORT:  # each id a row of a matrix, the zeros past its end dropped
        return byte_rows(data, starts, starts + widths, width)[np.arange(width) < widths[:, None]]
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


def _write(fd: int, data, offset: int) -> None:
    """Write all of ``data`` (bytes or a contiguous array) at ``offset``."""
    view = memoryview(data).cast("B")
    try:
        while view:
            written = os.pwrite(fd, view, offset)
            if written <= 0:  # a full disk may say so by writing nothing, again and again
                raise OSError(28, os.strerror(28))
            view, offset = view[written:], offset + written
    except OSError as exc:
        raise InputError(f"cannot write the ids to a temporary file ({exc.strerror}); set TMPDIR to a folder "
                         "with room") from None


def _read(fd: int, size: int, offset: int) -> bytes:
    try:
        data = os.pread(fd, size, offset)
    except OSError as exc:
        raise InputError(f"cannot read the ids back from a temporary file ({exc.strerror})") from None
    if len(data) != size:
        raise InputError("the temporary file of ids was cut short")
    return data


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)
