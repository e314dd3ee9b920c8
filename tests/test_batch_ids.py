"""Duplicate ids in batch files, found exactly with 8 bytes of memory an id (``tppcalc.batch.ids``):
checked against the plain definition (an id is a repeat when an earlier row gave the same bytes),
with Python's hash and with hashes that collide on purpose."""

import random

import numpy as np
import pytest

from tppcalc.batch.ids import SeenIds


def repeats_by_definition(chunks: list[list[bytes]]) -> list[list[int]]:
    seen, out = set(), []
    for keys in chunks:
        found = []
        for index, key in enumerate(keys):
            if key in seen:
                found.append(index)
            seen.add(key)
        out.append(found)
    return out


HASHES = {
    "numpy, keyed per run (the default)": None,
    "python": hash,
    "all collide": lambda key: 0,
    "length only": lambda key: len(key) << 40,          # equal top bits for ids of one length
    "low bits only": lambda key: hash(key) & 0xFFFF,    # the top 32 bits are always zero
}


@pytest.mark.parametrize("name", HASHES)
def test_repeats_match_the_definition(name):
    rng = random.Random(20)
    ids = SeenIds(hash_of=HASHES[name])
    for _ in range(8):
        chunks = [[f"sku-{rng.randrange(400)}".encode() for _ in range(rng.randrange(0, 60))] for _ in range(12)]
        ids = SeenIds(hash_of=HASHES[name])
        assert [ids.repeats(keys) for keys in chunks] == repeats_by_definition(chunks)


@pytest.mark.parametrize("name", HASHES)
def test_unique_ids_are_never_repeats(name):
    ids = SeenIds(hash_of=HASHES[name])
    keys = [f"id-{n}".encode() for n in range(600)]
    assert [ids.repeats(keys[start:start + 50]) for start in range(0, 600, 50)] == [[]] * 12
    assert len(ids) == 600
    assert ids.repeats([b"id-599", b"id-600", b"id-0", b"id-600"]) == [0, 2, 3]


def test_ids_that_differ_only_in_bytes_python_would_equate():
    ids = SeenIds(hash_of=lambda key: 7 << 32)
    assert ids.repeats([b"a", b"a\0", b"\0a", b"", b"A"]) == []
    assert ids.repeats([b"a\0", b"\xff", b""]) == [0, 2]


def test_a_file_with_colliding_ids_is_classified_exactly(monkeypatch):
    """End to end, every id hashing alike and 64-byte reads (many chunks): the repeats and only them."""
    import csv
    import datetime as dt
    import functools
    import io

    import tppcalc.batch.engine as batch_engine
    import tppcalc.batch.io as batch_io
    from tppcalc.batch import classify_file

    monkeypatch.setattr(batch_engine, "SeenIds", functools.partial(SeenIds, hash_of=lambda key: 1 << 40))
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=64))
    ids = [f"sku-{i % 25}" if i % 3 else f"x{i}" for i in range(60)]
    text = "id,dense_int8_tops\n" + "".join(f"{key},{n + 1}\n" for n, key in enumerate(ids))
    sink = io.BytesIO()
    summary = classify_file(io.BytesIO(text.encode()), sink, input_format="csv", dest="CN", as_of=dt.date(2026, 2, 1))
    rows = list(csv.DictReader(io.StringIO(sink.getvalue().decode())))
    expected = [i for i in range(60) if ids[i] in ids[:i]]
    assert [i for i, row in enumerate(rows) if row["error"]] == expected and summary.errors == len(expected)
    assert rows[expected[0]]["error"] == f"line {expected[0] + 2}: id: {ids[expected[0]]!r} is given on an earlier line"


def test_no_temporary_file_is_an_input_error_not_a_crash(monkeypatch):
    import tempfile

    from tppcalc import InputError

    def refuse(**_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(InputError, match="temporary file for the ids .Permission denied.; set TMPDIR"):
        SeenIds().repeats([b"a"])


def test_ids_around_the_numpy_hash_width_match_the_definition():
    """Ids up to 64 bytes are hashed by numpy, longer ones by Python: an id near the boundary,
    with NULs and bytes that are not UTF-8, is still a repeat exactly when its bytes came before."""
    rng = random.Random(21)
    pool = [bytes(rng.choice(b"ab\0\xff") for _ in range(width)) for width in range(0, 72) for _ in range(3)]
    chunks = [[rng.choice(pool) for _ in range(rng.randrange(0, 80))] for _ in range(20)]
    ids = SeenIds()
    assert [ids.repeats(keys) for keys in chunks] == repeats_by_definition(chunks)


def test_the_numpy_hash_spreads_ids_over_the_top_bits():
    """1,000,000 'sku-N' ids, the bench's form. Multiply-shift hashing of a vector (Thorup, "High
    Speed Hashing for Integers and Strings", vector multiply-shift) bounds the chance that two ids
    share the top 32 bits by 2^-32 over the draw of the keys: at most C(10^6, 2) / 2^32 = 116
    equal pairs expected. That bounds the mean over draws, not one draw (one draw in 30 gave 524),
    so the mean of fixed draws is checked: deterministic, and a hash that loses a word fails it."""
    from tppcalc.batch import ids as batch_ids

    keys = [f"sku-{n}".encode() for n in range(1_000_000)]
    widths = np.fromiter(map(len, keys), np.int64, len(keys))
    ends = np.cumsum(widths)
    data = b"".join(keys)
    draws = np.random.default_rng(20261206).integers(0, 2**64, size=(6, batch_ids.SHORT // 4 + 1), dtype=np.uint64)
    equal = [len(keys) - len(np.unique(batch_ids._short_hashes(data, ends - widths, widths, draw) >> np.uint64(32)))
             for draw in draws]
    assert sum(equal) / len(equal) <= 2 * 116, equal


def bounds(keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    ends = np.cumsum([len(key) for key in keys])
    return ends - [len(key) for key in keys], ends


# Runs on disk: sizes made small so that a few hundred ids spill to disk, merge there, and fill the
# filter. The reference is still the plain definition above (a Python set).
SMALL = {"bloom_words": 4, "memory_entries": 16, "block_entries": 4, "merge_entries": 4}


def count_merges(monkeypatch) -> list:
    from tppcalc.batch import ids as batch_ids

    merges, merge = [], batch_ids._merged
    monkeypatch.setattr(batch_ids, "_merged", lambda *args: merges.append(1) or merge(*args))
    return merges


@pytest.mark.parametrize("name", HASHES)
def test_repeats_across_runs_on_disk_and_their_merges_match_the_definition(name, monkeypatch):
    merges = count_merges(monkeypatch)
    rng = random.Random(22)
    chunks = [[f"sku-{rng.randrange(300)}".encode() for _ in range(rng.randrange(0, 30))] for _ in range(40)]
    ids = SeenIds(hash_of=HASHES[name], **SMALL)
    assert [ids.repeats(keys) for keys in chunks] == repeats_by_definition(chunks)
    assert len(ids._disk) >= 2 and len(merges) >= 3  # the repeats were found in runs on disk, merged



@pytest.mark.parametrize("name", HASHES)
def test_every_run_is_sorted_when_ids_share_their_top_bits(name):
    """A run's entries (hash top, then ordinal) stay sorted, as the merges on disk need, also
    when ids with equal tops come in the opposite order to their hashes' low bits."""
    ids = SeenIds(hash_of=HASHES[name], memory_entries=1 << 20)
    rng = random.Random(23)
    for _ in range(6):
        ids.repeats([f"sku-{rng.randrange(10**6)}".encode() for _ in range(200)])
    assert ids._runs and all((run[1:] > run[:-1]).all() for run in ids._runs)
    tied = SeenIds(hash_of={b"a": (5 << 32) | 9, b"b": (5 << 32) | 1}.get)
    assert tied.repeats([b"a", b"b"]) == [] and (np.diff(tied._runs[0].astype(np.int64)) > 0).all()
    assert tied.repeats([b"b", b"a", b"b"]) == [0, 1, 2]

@pytest.mark.parametrize("name", HASHES)
def test_unique_ids_are_never_repeats_when_the_filter_is_full(name):
    """One word of filter, every bit set: every id is a "maybe", and each is confirmed new."""
    ids = SeenIds(hash_of=HASHES[name], bloom_words=1, memory_entries=32, block_entries=8, merge_entries=8)
    keys = [f"id-{n}".encode() for n in range(400)]
    assert [ids.repeats(keys[start:start + 40]) for start in range(0, 400, 40)] == [[]] * 10
    fresh = [f"new-{n}".encode() for n in range(50)]
    words, masks = ids._bloom_places(ids._hashes(b"".join(fresh), *bounds(fresh)))
    assert ((ids._bloom[words] & masks) == masks).all() and len(ids._disk) >= 2  # all "maybe given"
    assert ids.repeats(fresh) == []
    assert ids.repeats([b"id-400", b"id-0", b"id-399", b"id-400", b"new-7"]) == [1, 2, 3, 4]


def test_120_000_ids_through_runs_on_disk_match_a_set():
    """The default hash and filter, runs of 4,096 in memory: many runs on disk, merged; 20 % repeats."""
    rng = random.Random(23)
    pool = 150_000
    chunks, total = [], 0
    while total < 120_000:
        chunks.append([f"sku-{rng.randrange(pool)}".encode() for _ in range(rng.randrange(0, 5_000))])
        total += len(chunks[-1])
    ids = SeenIds(memory_entries=4_096, block_entries=64, merge_entries=1_024)
    expected = repeats_by_definition(chunks)
    assert [ids.repeats(keys) for keys in chunks] == expected
    assert len(ids) == total - sum(map(len, expected)) and len(ids._disk) >= 2
    # What stays in memory is bounded: the newest entries, and one entry in 64 of each run on disk.
    assert sum(map(len, ids._runs)) < 4_096 + 5_000
    assert all(len(run._index) == -(-run.count // 64) for run in ids._disk)


def test_very_long_and_empty_ids_through_runs_on_disk():
    """Ids of up to 100,000 bytes that differ only in their last byte, and the empty id."""
    rng = random.Random(24)
    stem = bytes(rng.randrange(256) for _ in range(100_000))
    pool = [stem + bytes([end]) for end in range(20)] + [stem[:width] for width in (0, 1, 63, 64, 65, 4_096)]
    chunks = [[rng.choice(pool) for _ in range(rng.randrange(0, 8))] for _ in range(30)]
    ids = SeenIds(**SMALL)
    assert [ids.repeats(keys) for keys in chunks] == repeats_by_definition(chunks)


def test_a_full_disk_is_an_input_error_not_a_silent_pass(monkeypatch):
    """The scratch file refuses a write while a run goes to disk: the check stops with an
    InputError, and does not answer "no repeat"."""
    import errno
    import os

    from tppcalc import InputError

    ids = SeenIds(**SMALL)
    assert ids.repeats([b"a", b"b"]) == []
    real = os.pwrite

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(InputError, match=r"cannot write the ids to a temporary file \(No space left on device\)"):
        ids.repeats([f"x{n}".encode() for n in range(40)])
    # Room again: the ids held may have lost a run half written, so no later answer is given.
    monkeypatch.setattr(os, "pwrite", real)
    with pytest.raises(InputError, match=r"the ids cannot be checked after an earlier error \(cannot write"):
        ids.repeats([b"a", b"c"])


def test_a_disk_that_writes_nothing_is_an_input_error_not_a_hang(monkeypatch):
    import os

    from tppcalc import InputError

    calls = []

    def nothing(fd, data, offset):
        calls.append(1)
        assert len(calls) < 100, "still writing after 100 writes of nothing"
        return 0

    monkeypatch.setattr(os, "pwrite", nothing)
    with pytest.raises(InputError, match="cannot write the ids to a temporary file"):
        SeenIds().repeats([b"a"])


def test_a_failed_read_back_is_an_input_error_not_a_crash(monkeypatch):
    import errno
    import os

    from tppcalc import InputError

    ids = SeenIds()
    ids.repeats([b"a", b"b"])  # "a" again is found in the filter and its run, then read back

    def broken(fd, size, offset):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "pread", broken)
    with pytest.raises(InputError, match=r"cannot read the ids back from a temporary file \(Input/output error\)"):
        ids.repeats([b"a"])


def test_memory_held_does_not_grow_with_the_number_of_ids():
    """Peak memory allocated (tracemalloc sees numpy's arrays) while checking 30,000 and 120,000
    distinct ids: the same within 128 KiB (the sparse indexes grow by one entry in 64). Keeping
    8 bytes an id in memory would add 720 KB, and twice that while merging."""
    import tracemalloc

    def peak(count: int) -> int:
        chunks = []
        for start in range(0, count, 1_000):
            keys = [f"sku-{n}".encode() for n in range(start, start + 1_000)]
            chunks.append((b"".join(keys), *bounds(keys)))
        ids = SeenIds(bloom_words=1 << 12, memory_entries=4_096, block_entries=64, merge_entries=1_024)
        tracemalloc.start()
        try:
            assert not any(ids.repeats_in(*chunk) for chunk in chunks)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(30_000), peak(120_000)
    assert large - small < 128 * 1024, (small, large)


def test_tppcalc_batch_on_a_full_disk_says_so_in_one_line_and_writes_no_answers(tmp_path, monkeypatch):
    """End to end: the ids' scratch file cannot be written. The command exits 1 with one line
    naming the cause, and the output file keeps what it had: no row is answered unchecked."""
    import errno
    import os

    from click.testing import CliRunner

    from tppcalc.cli.batch import batch
    from tppcalc.cli.main import _Group

    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("id,dense_int8_tops\nsku-1,100\nsku-2,100\nsku-1,100\n")
    out.write_text("the previous output\n")

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    result = CliRunner().invoke(_Group("tppcalc", commands=[batch]),
                                ["batch", str(source), "-o", str(out), "--as-of", "2026-02-01"], catch_exceptions=False)
    assert result.exit_code == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot write the ids to a temporary file (No space left on device)" in result.stderr
    assert out.read_text() == "the previous output\n"


def test_the_filter_is_zeroed_writable_memory_with_or_without_huge_pages(monkeypatch):
    """The filter's words come from an anonymous mapping advised onto huge pages where Linux
    offers it (its first touch faulted in 8,192 pages before the first chunk could go on), and
    from numpy's zeros elsewhere: either way every word starts at zero and keeps what is set."""
    from tppcalc.batch import ids as batch_ids

    for advice in (getattr(batch_ids.mmap, "MADV_HUGEPAGE", None), None):
        if advice is None:
            monkeypatch.delattr(batch_ids.mmap, "MADV_HUGEPAGE", raising=False)
        words = batch_ids._zeroed_words(1 << 20)
        assert words.dtype == np.uint64 and len(words) == 1 << 20 and not words.any()
        words[[0, 12345, (1 << 20) - 1]] |= np.uint64(5)
        assert words.sum() == 15 and words[12345] == 5
    ids = SeenIds()
    assert ids.repeats([b"a", b"b"]) == [] and ids.repeats([b"b"]) == [0]
