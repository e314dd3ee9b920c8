"""The batch engine's speed work (issue 20, fourth pass) changes how rows are numbered, never what
they get: numbering by known keys is np.unique's numbering, and the paths agree byte for byte."""

import datetime as dt
import functools
import io
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tppcalc.batch as batch
import tppcalc.batch.io as batch_io
from tppcalc.batch import classify_file, engine
from tppcalc.data.catalogue import default_catalogue
from tppcalc.errors import InputError

RULES_2026_CN = {"as_of": dt.date(2026, 2, 1), "dest": "CN"}


def spec_sheet(rows: int, seed: int = 3) -> bytes:
    """Rows like a vendor's sheet (as bench/test_bench_batch.py writes them), some on TPP 4800."""
    rng = np.random.default_rng(seed)
    fp8 = np.round(rng.uniform(10, 5000, rows), 1)
    fp8[rng.random(rows) < 0.05] = 600.0
    area = np.where(rng.random(rows) < 0.05, "", np.round(rng.uniform(50, 900, rows), 1).astype(str))
    flag = rng.choice(["true", "false", ""], rows)
    io_rate = rng.choice(["900", "600", "1800", ""], rows)
    dram = rng.choice(["3350", "8000", "4800", ""], rows)
    lines = [f"sku-{i},{a / 2:.2f},{a:.1f},{a:.1f},{b},{c},{d},{e}\n" for i, (a, b, c, d, e)
             in enumerate(zip(fp8.tolist(), area.tolist(), flag.tolist(), io_rate.tolist(), dram.tolist()))]
    header = "id,dense_fp16_tflops,dense_fp8_tflops,dense_int8_tops,die_area_mm2,datacenter,io_bidir_gbps," \
             "dram_bandwidth_gbps\n"
    return (header + "".join(lines)).encode()


def classified_bytes(data: bytes) -> bytes:
    out = io.BytesIO()
    classify_file(io.BytesIO(data), out, input_format="csv", **RULES_2026_CN)
    return out.getvalue()


class CrowdedKeys(engine._KnownKeys):
    _SLOT_BITS = 1  # two slots: most keys share one and are found by the binary search


@given(st.lists(st.lists(st.integers(0, 3**39), min_size=1, max_size=30), min_size=1, max_size=5),
       st.sampled_from([engine._KnownKeys, CrowdedKeys]))
def test_known_keys_number_each_chunk_as_numpys_unique_and_confirm_each_key_once(chunks, kind):
    known, confirmed = kind(), []

    def confirm(key, at):
        confirmed.append(key)
        assert keys[at] == key and at == keys.tolist().index(key)  # the key's first row
        return engine.Outcome(str(key), None, None)

    for chunk in chunks:
        keys = np.array(chunk, np.int64)
        new = sorted(set(chunk) - set(confirmed))
        table = engine._Table()
        numbers = known.numbers(keys, confirm, table)
        assert confirmed[len(confirmed) - len(new):] == new  # in the order of the keys
        distinct, inverse = np.unique(keys, return_inverse=True)
        assert [o.eccn for o in table.items] == [str(k) for k in distinct.tolist()]
        assert numbers.tolist() == inverse.ravel().tolist()
    assert sorted(confirmed) == sorted({k for chunk in chunks for k in chunk})


def test_answers_too_many_for_one_key_go_by_pairs_with_the_same_results(monkeypatch):
    """2026 under --dest CN: 11 conditions and 9 notice bounds. With at most 19 a key, the engine
    numbers the answers as pairs; every output byte stays the same."""
    data = spec_sheet(3000)
    one_key = classified_bytes(data)
    monkeypatch.setattr(engine, "_MAX_CONDITIONS", 19)
    assert engine.Engine(["dense_int8_tops"], **RULES_2026_CN)._known is None
    assert classified_bytes(data) == one_key
    assert one_key.count(b"3A090.a") > 100 and one_key.count(b"\n") == 3001


FLAG_SPELLINGS = {"true": 2, "yes": 2, "1": 2, "false": 0, "no": 0, "0": 0, "": 1}  # README: datacenter column


@given(st.lists(st.sampled_from(["true", "false", "", "yes", "no", "1", "0", " True", "YES ", "False", "maybe",
                                 "tru", "truefalse", "t\0", "ja", "1.0", "é"]), min_size=1, max_size=40))
def test_datacenter_flags_are_read_in_any_case_and_a_wrong_one_is_named(texts):
    problems = {}
    codes = engine._flags(engine.Cells.from_texts(texts), len(texts), problems)
    expected = [FLAG_SPELLINGS.get(t.strip().lower(), 1) for t in texts]
    assert codes.tolist() == expected
    assert problems == {row: [f"datacenter: expected true, false or empty, got {t!r}"]
                        for row, t in enumerate(texts) if t.strip().lower() not in FLAG_SPELLINGS}


LINES = [1.6, 3.2, 5.92, 1600.0, 2400.0, 4800.0, 14000.0, 17500.0, 20800.0, 21000.0, 21100.0]  # 2026 rules'


@given(st.lists(st.one_of(st.sampled_from(LINES), st.floats(0, 1e6)).flatmap(
    lambda v: st.sampled_from([v, v * (1 + 1e-9), v * (1 - 1e-9), v * (1 + 1.0001e-9), v * (1 - 1.0001e-9),
                               np.nextafter(v, 0), np.nextafter(v, np.inf), v * 1.5])), min_size=1, max_size=30),
       st.lists(st.sampled_from(LINES), max_size=11, unique=True))
def test_near_a_line_looks_at_every_line(values, lines):
    """The reference: each value against each line, as the engine tested it before."""
    value = np.array(values, np.float64)
    expected = np.zeros(len(value), bool)
    for line in lines:
        expected |= np.abs(value - line) <= engine.MARGIN * line
    assert engine._near_a_line(value, np.sort(np.array(lines, np.float64))).tolist() == expected.tolist()


class IdsOnRecord:
    """An engine's ``read`` as ``_read_ahead`` calls it: which chunks, on which thread."""

    def __init__(self):
        self.calls = []

    def read(self, chunk):
        self.calls.append((chunk, threading.current_thread()))
        return {0: [f"id of {chunk}"]}


def test_read_ahead_hands_the_chunks_in_order_then_raises_the_readers_error_here():
    def reader():
        yield from ("a", "b", "c")
        raise InputError("line 7 runs on", where="input")

    engine_ids = IdsOnRecord()
    got = []
    with pytest.raises(InputError, match="line 7 runs on"):
        for chunk, rows in batch._read_ahead(reader(), engine_ids):
            got.append((chunk, rows))
    assert got == [(c, {0: [f"id of {c}"]}) for c in "abc"]
    assert [c for c, _ in engine_ids.calls] == list("abc")
    assert all(thread is not threading.current_thread() for _, thread in engine_ids.calls)


def test_read_ahead_stops_its_thread_when_the_caller_stops():
    def endless():
        while True:
            yield "row"

    engine_ids = IdsOnRecord()
    chunks = batch._read_ahead(endless(), engine_ids)
    assert next(chunks)[0] == next(chunks)[0] == "row"
    chunks.close()
    thread = engine_ids.calls[0][1]
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_catalogue_and_progress_are_called_on_the_callers_thread_only(monkeypatch):
    """The CLI's catalogue reads click's context, which is the caller's thread's own."""
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=61))
    threads = []

    def catalogue():
        threads.append(threading.current_thread())
        return default_catalogue()

    text = "id,chip,quantity\n" + "".join(f"r{i % 30},H100 SXM,1\n" for i in range(40))
    out = io.BytesIO()
    summary = classify_file(io.BytesIO(text.encode()), out, input_format="csv", catalogue=catalogue,
                            progress=lambda rows: threads.append(threading.current_thread()), **RULES_2026_CN)
    assert summary.rows == 40 and summary.errors == 10  # ids r0..r9 given twice
    assert len(threads) > 2 and set(threads) == {threading.current_thread()}
    for thread in threading.enumerate():
        if thread.name == "tppcalc-batch-read":
            thread.join(timeout=5)
            assert not thread.is_alive()


def sheet_with_every_kind_of_row(rows: int) -> bytes:
    """The bench's rows, with rows whose error text is long, ids repeated, chips, and cells a
    spreadsheet would read as formulas: every way a row can reach the CSV writer."""
    lines = spec_sheet(rows).decode().splitlines(keepends=True)
    header, body = lines[0].rstrip("\n"), lines[1:]
    for i in range(0, rows, 7):  # a repeat of an id far back, and a garbled rate with a long text
        body[i] = f"sku-{i // 2}," + "9" * 300 + "x" + body[i][body[i].index(",", body[i].index(",") + 1):]
    return (header + ",note\n" + "".join(line.rstrip("\n") + f",n{i}\n" for i, line in enumerate(body))).encode()


@pytest.mark.parametrize(("block_bytes", "join_rows"), [(64, 8192), (4096, 1), (4096, 5), (1 << 21, 8192)])
def test_csv_rows_joined_by_pyarrow_are_the_rows_written_one_by_one(monkeypatch, block_bytes, join_rows):
    """The CSV writer joins a fast-path block's rows with pyarrow; the rows written one at a time
    (the path a block with a formula-like cell takes) are the reference, byte for byte, also for
    blocks of a row or two and joins of 1 and 5 rows."""
    data = sheet_with_every_kind_of_row(600)
    formulas = data.replace(b",n5\n", b",=n5\n").replace(b",n6\n", b",-6\n")
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=block_bytes))
    monkeypatch.setattr(batch_io, "JOIN_ROWS", join_rows)
    assembled = [classified_bytes(d) for d in (data, formulas)]
    monkeypatch.setattr(batch_io, "_may_hold_formulas", lambda block: True)
    one_by_one = [classified_bytes(d) for d in (data, formulas)]
    assert assembled == one_by_one
    assert assembled[0].count(b"\n") == 601 and b"=n5" in assembled[1] and b"'=n5" in assembled[1]
    lines = assembled[0].decode().splitlines()
    assert sum("is given on an earlier line" in line for line in lines) > 40 and sum("9" * 300 in line for line in lines) > 80
