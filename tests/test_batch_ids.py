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
    """1,000,000 'sku-N' ids, the bench's form: few equal top-32-bit hashes (about 116 expected)."""
    from tppcalc.batch import ids as batch_ids

    keys = [f"sku-{n}".encode() for n in range(1_000_000)]
    widths = np.fromiter(map(len, keys), np.int64, len(keys))
    ends = np.cumsum(widths)
    hashes = batch_ids._short_hashes(b"".join(keys), ends - widths, widths, SeenIds()._keys) >> np.uint64(32)
    assert len(keys) - len(np.unique(hashes)) < 400
