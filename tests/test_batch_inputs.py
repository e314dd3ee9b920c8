"""Batch input, good and bad: every row keeps its place, a bad one says where and why, a file
that cannot be read as a whole is refused, and missing figures never read as "not controlled"."""

import csv
import datetime as dt
import functools
import io
import json
import re
import zipfile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tppcalc.batch.io as batch_io
from tppcalc import InputError
from tppcalc.batch import classify_file

AS_OF = dt.date(2026, 2, 1)
HEADER = "id,dense_fp8_tflops,dense_int8_tops,die_area_mm2,datacenter,io_bidir_gbps,dram_bandwidth_gbps,chip"


def run(data: bytes | str, input_format="csv", output_format="csv", **rules):
    """Classify ``data``; the output rows as dicts (CSV out) and the summary."""
    out = io.BytesIO()
    rules.setdefault("as_of", AS_OF)
    summary = classify_file(io.BytesIO(data.encode() if isinstance(data, str) else data), out,
                            input_format=input_format, output_format=output_format, **rules)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode()))) if output_format == "csv" else out.getvalue()
    return rows, summary


def one(line: str, header: str = HEADER, **rules) -> dict:
    rows, _ = run(f"{header}\n{line}\n", **rules)
    (row,) = rows
    return row


# ------------------------------------------------------------------------------- bad cells


@pytest.mark.parametrize("cell", ["-5", "-0.1", "0"])
def test_negative_and_zero_throughput_is_an_error_with_line_and_field(cell):
    row = one(f"x,,{cell},,,,,")
    assert row["error"].startswith("line 2: dense_int8_tops: int8 throughput must be greater than zero")
    assert (row["tpp"], row["eccn"], row["license_required"], row["reason"]) == ("", "", "", "")


@pytest.mark.parametrize("column, cell", [("io", "-1"), ("dram", "-6500"), ("area", "-814")])
def test_negative_amounts_are_errors(column, cell):
    line = {"io": f"x,,600,,true,{cell},,", "dram": f"x,,600,,true,,{cell},", "area": f"x,,600,{cell},true,,,"}[column]
    row = one(line)
    assert "must not be negative" in row["error"] or "greater than zero" in row["error"]
    assert row["eccn"] == ""


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_infinity_are_errors(cell):
    row = one(f"x,{cell},,,,,,")
    assert row["error"].startswith("line 2: dense_fp8_tflops:")
    assert row["eccn"] == ""


@pytest.mark.parametrize("cell, words", [("abc", "decimal number"), ("12 units", "decimal number"),
                                         ("1.2.3", "decimal number"), ("1e5", "exponent notation is not read as a rate")])
def test_non_numeric_cells_are_errors(cell, words):
    row = one(f'x,"{cell}",,,,,,')
    assert words in row["error"] and row["eccn"] == ""


@pytest.mark.parametrize("cell", ["3958*", "3958 sparse", "3,958 (with sparsity)"])
def test_sparse_marked_figures_are_refused(cell):
    row = one(f'x,"{cell}",,,,,,')
    assert "marked sparse" in row["error"] and "dense" in row["error"]
    assert row["tpp"] == ""


def test_a_bad_datacenter_or_quantity_cell_is_an_error():
    row = one("x,,600,,maybe,,,")
    assert "datacenter: expected true, false or empty, got 'maybe'" in row["error"]
    rows, _ = run("chip,quantity\nH100 SXM,2.5\nH100 SXM,0\nH100 SXM,3\nH100 SXM,\n")
    assert ["quantity" in r["error"] for r in rows] == [True, True, False, False]


def test_several_problems_in_one_row_are_all_given():
    row = one("x,3958*,-1,,maybe,,,")
    assert row["error"].count(";") >= 2
    assert "dense_fp8_tflops" in row["error"] and "dense_int8_tops" in row["error"] and "datacenter" in row["error"]


def test_a_row_with_a_chip_and_figures_or_with_neither_is_an_error():
    rows, _ = run(f"{HEADER}\nx,,600,,,,,H100 SXM\ny,,,,true,,,\n")
    assert "give a chip or its figures, not both" in rows[0]["error"]
    assert "nothing to classify" in rows[1]["error"]


# ------------------------------------------------------------------------------- bad rows


def test_an_unknown_chip_is_an_error_naming_the_closest():
    rows, summary = run("chip\nH100 SXM\nZ9000\nRTX 4090\n")
    assert rows[0]["eccn"] == "3A090.a" and rows[2]["eccn"] == "3A090.a"
    assert rows[1]["error"].startswith("line 3: chip: no chip in the catalogue matches 'Z9000'")
    assert (summary.rows, summary.errors) == (3, 1)


def test_an_ambiguous_chip_is_an_error():
    (row,) = run("chip\nH100\n")[0]  # SXM, PCIe or NVL ("NVIDIA" alone names no model: unknown)
    assert "matches several chips" in row["error"]


def test_duplicate_ids_mark_every_later_row(monkeypatch):
    text = "id,dense_int8_tops\n" + "".join(f"sku-{i % 40},{i + 1}\n" for i in range(60))
    rows, summary = run(text)
    assert summary.errors == 20
    assert [bool(r["error"]) for r in rows] == [False] * 40 + [True] * 20
    assert rows[40]["error"] == "line 42: id: 'sku-0' is given on an earlier line"
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=64))
    assert run(text)[0] == rows  # also when the first and the repeat fall in different chunks


def test_a_truncated_last_line_is_an_error_on_that_row():
    rows, summary = run(f"{HEADER}\na,,600,,true,,,\nb,,60")
    assert rows[0]["eccn"] == "3A090.a"
    assert rows[1]["error"] == "line 3: truncated last line: 3 of 8 fields (the file may have been cut short)"
    assert summary.rows == 2
    rows, _ = run(f'{HEADER}\na,,600,,true,,,\nb,,600,,true,,,"H100 S')
    assert "a quoted field is never closed" in rows[1]["error"]


def test_a_last_line_without_a_newline_is_fine_when_complete():
    rows, _ = run(f"{HEADER}\na,,600,,true,,,")
    assert rows[0]["eccn"] == "3A090.a" and rows[0]["error"] == ""


def test_rows_with_too_many_or_too_few_fields_are_errors_and_keep_their_place():
    rows, _ = run(f"{HEADER}\na,,600,,true,,,,extra\nb,,600\nc,,600,,true,,,\n")
    assert rows[0]["error"] == "line 2: 9 fields, the header has 8"
    assert rows[1]["error"] == "line 3: 3 fields, the header has 8"
    assert rows[2]["eccn"] == "3A090.a"


def test_blank_lines_are_not_rows_and_line_numbers_stay_physical():
    rows, summary = run(f"{HEADER}\n\na,,600,,true,,,\n\nb,,-1,,true,,,\n")
    assert summary.rows == 2
    assert rows[1]["error"].startswith("line 5: ")


def test_a_row_in_another_encoding_is_an_error_and_the_rest_are_classified():
    data = f"{HEADER},vendor\na,,600,,true,,,,ACME\nb,,600,,true,,,,".encode() + "Zürich\n".encode("latin-1")
    rows, summary = run(data)
    assert (summary.rows, summary.errors) == (2, 1)
    assert rows[0]["error"] == "" and rows[0]["eccn"] == "3A090.a"
    assert rows[1]["error"] == "line 3: not UTF-8 text (byte 0xfc); save the file as UTF-8"
    assert rows[1]["vendor"] == "Z\ufffdrich"


# ------------------------------------------------------------------------------- bad files


@pytest.mark.parametrize("data, words", [
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    ("id,dense_int8_tops\n".encode("utf-16"), "UTF-16"),
    ("vendor,dense_int8_tops,d\xe9bit\n".encode("latin-1"), "header is not UTF-8"),
])
def test_files_that_cannot_be_read_are_refused(data, words):
    with pytest.raises(InputError, match=words):
        run(data)


@pytest.mark.parametrize("header, suggestion", [
    ("id,dense_fp8_tflop", "did you mean 'dense_fp8_tflops'?"),
    ("chips", "did you mean 'chip'?"),
    ("dense_int8_tops,datacentre", "did you mean 'datacenter'?"),
    ("dense_int8_tops,Die_Area_mm2", "did you mean 'die_area_mm2'?"),
    ("dense_fp9_tflops", "did you mean 'dense_fp8_tflops'?"),
    ("dense_fp8", "not a column tppcalc knows;"),
])
def test_a_misspelled_column_is_refused_with_the_known_columns(header, suggestion):
    with pytest.raises(InputError, match="known columns: id, chip, quantity, dense_fp64_tflops") as caught:
        run(f"{header}\n1,2\n")
    assert suggestion in str(caught.value)


@pytest.mark.parametrize("header, words", [
    ("sku,price", "no chip column and no dense_\\* column"),
    ("chip,chip", "appears twice"),
    ("chip,eccn", "is a result column"),
    ("chip,,price", "column 2 of the header has no name"),
])
def test_headers_that_cannot_be_classified_are_refused(header, words):
    with pytest.raises(InputError, match=words):
        run(f"{header}\nx,y,z\n")


def test_a_header_only_file_gives_a_header_only_output():
    rows, summary = run("id,dense_int8_tops,sku\n")
    assert rows == [] and summary.rows == 0
    out = io.BytesIO()
    classify_file(io.BytesIO(b"id,dense_int8_tops,sku\n"), out, input_format="csv", as_of=AS_OF)
    assert out.getvalue() == b"id,dense_int8_tops,sku,tpp,performance_density,eccn,license_required,reason,notices,error\n"


# ------------------------------------------------------------------------------- fail closed


@pytest.mark.parametrize("line, outcomes", [
    ("x,,250,,true,,,", "3A090.a, 3A090.b or outside 3A090 (performance density unknown)"),
    ("x,,250,40,,,,", "3A090.a or outside 3A090 (datacenter use unknown)"),
    ("x,,350,,,,,", "3A090.a, 3A090.b or outside 3A090 (datacenter use, performance density unknown)"),
])
def test_unknown_figures_never_give_not_controlled(line, outcomes):
    row = one(line, dest="CN")
    assert (row["eccn"], row["license_required"], row["error"]) == ("", "", "")
    assert row["reason"] == f"undetermined: {outcomes}"


def test_unknowns_that_cannot_matter_do_not_leave_a_row_open():
    rows, summary = run(f"{HEADER}\na,,600,,,,,\nb,,100,,,,,\n", dest="CN")
    assert [r["eccn"] for r in rows] == ["3A090.a", "outside 3A090"]
    assert rows[1]["license_required"] == "false" and summary.undetermined == 0


def test_io_is_read_only_by_the_edition_that_uses_it():
    rows, _ = run(f"{HEADER}\na,,700,,true,,,\nb,,700,,true,700,,\nc,,700,,true,500,,", as_of=dt.date(2022, 12, 1))
    assert [r["eccn"] for r in rows] == ["", "3A090", "outside 3A090"]
    assert rows[0]["reason"] == "undetermined: 3A090 or outside 3A090 (I/O rate unknown)"


# ------------------------------------------------------------------------------- formats


MIXED = (f"{HEADER},vendor\n"
         "h100,1978.9,1978.9,814,true,900,3350,,NVIDIA\n"
         "four8,,600,,true,,,,ACME\n"
         "consumer,,250,300,false,,,,ACME\n"
         "open,,250,,true,,,,ACME\n"
         "bad,3958*,,,true,,,,ACME\n"
         "cat,,,,,,,H100 SXM,NVIDIA\n")


def reference():
    return run(MIXED, dest="CN")[0]


def test_a_mixed_file_round_trip_in_csv():
    rows = reference()
    assert [r["id"] for r in rows] == ["h100", "four8", "consumer", "open", "bad", "cat"]
    assert [r["eccn"] for r in rows] == ["3A090.a", "3A090.a", "outside 3A090", "", "", "3A090.a"]
    assert [r["tpp"] for r in rows] == ["15831.2", "4800", "2000", "2000", "", "15832"]
    assert [r["performance_density"] for r in rows] == ["19.4486", "", "6.6666", "", "", "19.4496"]
    assert [r["license_required"] for r in rows] == ["true", "true", "false", "", "", "true"]
    assert rows[0]["reason"] == "3A090.a.1: TPP >= 4,800"
    assert rows[2]["reason"] == "excluded by Note 2 to 3A090.a and 3A090.b"
    assert rows[4]["error"].startswith("line 6: dense_fp8_tflops:") and rows[5]["vendor"] == "NVIDIA"


def results(rows: list[dict]) -> list[tuple]:
    return [tuple(str(r[c] if r[c] is not None else "").lower() for c in
                  ("id", "tpp", "performance_density", "eccn", "license_required", "reason", "error")) for r in rows]


def test_json_lines_in_and_out_agree_with_csv():
    lines = [json.dumps({k: v for k, v in r.items() if v != ""}) for r in csv.DictReader(io.StringIO(MIXED))]
    header = json.dumps(dict.fromkeys(MIXED.splitlines()[0].split(","), None))
    data = "\n".join([header.replace("null", '""')] + lines[0:]) + "\n"
    out, summary = run(data, input_format="jsonl", output_format="jsonl", dest="CN")
    documents = [json.loads(line) for line in out.decode().splitlines()]
    assert summary.rows == 7 and documents[0]["error"] == "line 1: no dense_* figure and no chip: nothing to classify"
    assert results(documents[1:]) == results(reference())
    assert documents[1]["license_required"] is True and documents[1]["vendor"] == "NVIDIA"


def test_json_lines_bad_lines_keep_their_place():
    data = (b'{"chip": "H100 SXM", "note": 1}\n{"chip": "H100 SXM", "extra": 2}\nnot json\n[1, 2]\n'
            b'{"chip": "RTX 4090"}\n{"chip": "H1')
    out, summary = run(data, input_format="jsonl", output_format="jsonl")
    documents = [json.loads(line) for line in out.decode().splitlines()]
    assert summary.rows == len(documents) == 6
    assert [d["error"] for d in documents] == [
        None, "line 2: key 'extra' is not a column (the first line's keys are the columns)",
        "line 3: not valid JSON (Expecting value)", "line 4: not a JSON object", None,
        "line 6: not valid JSON (Unterminated string starting at) (the last line has no newline: cut short?)"]
    assert documents[4]["note"] is None and documents[4]["eccn"] == "3A090.a"


def test_json_lines_that_are_empty_or_start_badly_are_refused():
    for data, words in [(b"\n\n", "empty"), (b"[1]\n", "must be a JSON object"), (b"{\n", "not valid JSON")]:
        with pytest.raises(InputError, match=words):
            run(data, input_format="jsonl")


def test_parquet_keeps_its_types_and_agrees_with_csv():
    source = list(csv.DictReader(io.StringIO(MIXED)))
    table = pa.table({
        "id": [r["id"] for r in source],
        "dense_fp8_tflops": [float(r["dense_fp8_tflops"]) if r["dense_fp8_tflops"] and "*" not in r["dense_fp8_tflops"]
                             else None for r in source],
        "dense_int8_tops": pa.array([r["dense_int8_tops"] or None for r in source], pa.string()),
        "die_area_mm2": [int(r["die_area_mm2"]) if r["die_area_mm2"] else None for r in source],
        "datacenter": [{"true": True, "false": False}.get(r["datacenter"]) for r in source],
        "chip": [r["chip"] or None for r in source],
    })
    data = io.BytesIO()
    pq.write_table(table, data)
    out, _ = run(data.getvalue(), input_format="parquet", output_format="parquet", dest="CN")
    written = pq.read_table(io.BytesIO(out))
    assert written.schema.field("die_area_mm2").type == pa.int64()
    assert written.schema.field("license_required").type == pa.bool_()
    got = written.to_pylist()
    expected = reference()
    expected[4] = {**expected[4], "tpp": "", "eccn": "", "reason": "", "license_required": "", "error": ""}
    # row 5 has no fp8 figure here (the sparse text cannot be a double): nothing to classify
    assert results(got)[:4] + results(got)[5:] == results(expected)[:4] + results(expected)[5:]
    assert got[4]["error"] == "row 5: no dense_* figure and no chip: nothing to classify"


def test_excel_in_and_out_agree_with_csv():
    book = openpyxl.Workbook()
    sheet = book.active
    for index, record in enumerate(csv.reader(io.StringIO(MIXED))):
        sheet.append([float(v) if index and v.replace(".", "").isdigit() else (v or None) for v in record])
    sheet.append([None] * 9)
    data = io.BytesIO()
    book.save(data)
    out, summary = run(data.getvalue(), input_format="xlsx", output_format="xlsx", dest="CN")
    written = list(openpyxl.load_workbook(io.BytesIO(out)).active.iter_rows(values_only=True))
    header = written[0]
    got = [dict(zip(header, values)) for values in written[1:]]
    assert summary.rows == 6 and results(got)[:4] == results(reference())[:4]
    assert got[0]["license_required"] is True and got[0]["die_area_mm2"] == 814
    assert got[4]["error"].startswith("row 6: dense_fp8_tflops:")


def test_a_float_cell_reads_as_the_decimal_it_prints_as():
    book = openpyxl.Workbook()
    book.active.append(["dense_int8_tops", "die_area_mm2"])
    book.active.append([600.0, 1e-05])
    data = io.BytesIO()
    book.save(data)
    (row,), _ = run(data.getvalue(), input_format="xlsx", output_format="csv")
    assert (row["tpp"], row["eccn"], row["die_area_mm2"]) == ("4800", "3A090.a", "0.00001")


def test_not_a_parquet_or_excel_file_is_refused():
    for input_format, words in [("parquet", "not a Parquet file"), ("xlsx", "not an Excel workbook")]:
        with pytest.raises(InputError, match=words):
            run(b"id,chip\n", input_format=input_format)


def test_an_excel_sheet_too_long_for_excel_is_refused(monkeypatch):
    monkeypatch.setattr(batch_io, "EXCEL_MAX_ROWS", 3)
    with pytest.raises(InputError, match="an Excel sheet holds at most 2 rows"):
        run("chip\nH100 SXM\nH100 SXM\nH100 SXM\n", output_format="xlsx")


def test_formats_by_extension():
    assert [batch_io.format_of(p, None) for p in ("a.csv", "b.JSONL", "c.ndjson", "d.parquet", "e.xlsx", "f.txt")] \
        == ["csv", "jsonl", "jsonl", "parquet", "xlsx", None]
    assert batch_io.format_of("f.txt", "csv") == "csv"


def test_reading_is_chunked(monkeypatch):
    """Only a block of the file is in memory at a time: a 2,000-row file read in 4 KiB blocks."""
    sizes = []
    real = batch_io.CsvReader._chunk
    monkeypatch.setattr(batch_io.CsvReader, "_chunk",
                        lambda self, block, final: sizes.append(len(block)) or real(self, block, final))
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=4096))
    rows, summary = run("id,dense_int8_tops\n" + "".join(f"sku-{i},{i % 900 + 1}\n" for i in range(2000)))
    assert summary.rows == len(rows) == 2000 and len(sizes) > 5 and max(sizes) <= 2 * 4096



def test_the_first_chunk_comes_after_one_read():
    """The lines the header's read brought are the first chunk: the engine starts on them while
    the next block is read (they once waited for a second read, and the first chunk was two
    blocks). Every later chunk comes after one more read."""
    class Counted(io.BytesIO):
        reads = 0

        def read(self, size=-1):
            Counted.reads += 1
            return super().read(size)

    stream = Counted(("id,dense_int8_tops\n" + "".join(f"sku-{i},{i % 900 + 1}\n" for i in range(2000))).encode())
    reader = batch_io.CsvReader(stream, "input", block_bytes=4096)
    reads, rows = [], 0
    for chunk in reader:
        reads.append(Counted.reads)
        rows += len(chunk)
    assert reads[0] == 1 and reads == list(range(1, len(reads) + 1)) and rows == 2000

# ------------------------------------------------------------------- line ends and quotes (issue 14.7)


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_cr_lf_and_crlf_each_end_a_line(end):
    """RFC 4180 and Python's universal newlines: a bare CR (classic Mac, some exporters) ends a
    line as LF and CRLF do. CR-only files once gave 0 rows and exit 0."""
    rows, summary = run(end.join(["chip", "H100 SXM", "H200 SXM", ""]))
    assert summary.rows == 2 and [r["chip"] for r in rows] == ["H100 SXM", "H200 SXM"]
    assert [r["eccn"] for r in rows] == ["3A090.a", "3A090.a"]


def test_line_ends_mixed_and_split_across_reads(monkeypatch):
    """A CRLF split between two reads is one line end, not a line end and a blank line."""
    text = "id,dense_int8_tops\r\n" + "".join(f"s{i},{i + 1}\r\n" if i % 3 else f"s{i},{i + 1}\r" for i in range(60))
    for block in (5, 7, 64):
        monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=block))
        rows, summary = run(text + "last,5")
        assert summary.rows == 61 and [r["id"] for r in rows] == [f"s{i}" for i in range(60)] + ["last"]
        assert all(r["error"] == "" for r in rows)


def test_a_bare_cr_inside_a_quoted_cell_stays_in_the_cell_and_is_quoted_on_output():
    rows, summary = run('id,chip,note\nx,H100 SXM,"first\rsecond"\ny,H100 SXM,"a\nb"\n')
    assert summary.rows == 2 and [r["note"] for r in rows] == ["first\rsecond", "a\nb"]
    out = io.BytesIO()
    classify_file(io.BytesIO(b'chip,note\nH100 SXM,"first\rsecond"\n'), out, input_format="csv", as_of=AS_OF)
    assert b'"first\rsecond"' in out.getvalue()
    assert len(list(csv.reader(io.StringIO(out.getvalue().decode(), newline="")))) == 2  # header and 1 row


def test_a_quote_inside_an_unquoted_cell_is_text_and_does_not_touch_later_rows():
    """`5" screen` is read as Excel and Python's csv read it; the rows after it are classified."""
    rows, summary = run('chip,note\nH100 SXM,5" screen\nH200 SXM,ok\nH100 SXM,tray\nH200 SXM,end\n')
    assert summary.rows == 4 and summary.errors == 0
    assert [r["note"] for r in rows] == ['5" screen', "ok", "tray", "end"]
    assert [r["eccn"] for r in rows] == ["3A090.a"] * 4


def test_a_quote_left_open_is_an_error_on_its_line_only():
    text = 'id,chip,note\na,H100 SXM,fine\nb,"H100 SXM,oops\nc,H100 SXM,fine\nd,H200 SXM,"x"\ne,H100 SXM,fine\n'
    rows, summary = run(text)
    assert [r["id"] for r in rows] == ["a", "b", "c", "d", "e"] and summary.rows == 5
    assert rows[1]["error"].startswith("line 3: a quoted field opened on this line")
    assert rows[1]["eccn"] == "" and summary.errors == 1
    assert [r["eccn"] for r in rows if r["id"] != "b"] == ["3A090.a"] * 4


def test_a_stray_quote_after_a_closing_quote_is_an_error_on_its_line_only():
    rows, _ = run('chip,note\n"H100 SXM"x,n\nH200 SXM,ok\n')
    assert rows[0]["error"].startswith("line 2: not valid CSV") and rows[1]["eccn"] == "3A090.a"


def test_a_quote_left_open_in_a_large_file_costs_one_row(monkeypatch):
    """An 83 MB file with one open quote was refused whole; now the open quote is bounded by
    MAX_RECORD_CHARS and only its line is in error (small sizes here, the same code path)."""
    monkeypatch.setattr(batch_io, "MAX_RECORD_CHARS", 2000)
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=512))
    body = "".join(f"s{i},H100 SXM,n\n" for i in range(1000))
    rows, summary = run('id,chip,note\nopen,H100 SXM,"never closed\n' + body)
    assert summary.rows == len(rows) == 1001
    assert "runs on for more than" in rows[0]["error"] or "never closed" in rows[0]["error"]
    assert all(r["eccn"] == "3A090.a" for r in rows[1:])


def test_a_quote_left_open_on_every_line_is_bounded(monkeypatch):
    """Each open quote rereads the lines after it (up to MAX_RECORD_CHARS): a budget for the
    file keeps that linear. Within it every line is its own error row; past it, the file is refused."""
    monkeypatch.setattr(batch_io, "MAX_RECORD_CHARS", 400)
    lines = "".join(f's{i},H100 SXM,"open\n' for i in range(300))
    rows, summary = run("id,chip,note\n" + lines + "last,H100 SXM,fine\n")
    assert summary.rows == 301 and summary.errors == 300 and rows[-1]["eccn"] == "3A090.a"
    assert [r["id"] for r in rows] == [f"s{i}" for i in range(300)] + ["last"]
    monkeypatch.setattr(batch_io, "MAX_REREAD_CHARS", 5_000)
    with pytest.raises(InputError, match="too many quotes left open"):
        run("id,chip,note\n" + lines)


def test_a_legitimate_multi_line_cell_is_one_row():
    rows, summary = run('id,chip,note\na,H100 SXM,"line one\r\nline two, with a comma"\nb,H200 SXM,x\n')
    assert summary.rows == 2 and rows[0]["note"] == "line one\r\nline two, with a comma"
    assert rows[1]["error"] == "" and rows[1]["id"] == "b"


def test_a_utf8_byte_order_mark_is_accepted_in_json_lines():
    data = b'\xef\xbb\xbf{"chip": "H100 SXM"}\n{"chip": "H200 SXM"}\n'
    out, summary = run(data, input_format="jsonl", output_format="jsonl")
    documents = [json.loads(line) for line in out.decode().splitlines()]
    assert summary.rows == 2 and summary.errors == 0 and [d["eccn"] for d in documents] == ["3A090.a"] * 2


# --------------------------------------------------------------- numbers out of range (issue 14.11)


@pytest.mark.parametrize("figure", ["9" * 400, "1" + "0" * 308])
def test_figures_of_hundreds_of_digits_are_an_error_on_their_row(figure):
    rows, summary = run(f"id,dense_int8_tops,die_area_mm2\nbig,{figure},1\nok,600,\n")
    assert summary.rows == 2 and rows[0]["eccn"] == "" and rows[0]["error"].startswith("line 2: ")
    assert rows[1]["eccn"] == "3A090.a"


def test_huge_numbers_in_json_lines_are_row_errors_not_crashes():
    data = ('{"id": "a", "dense_int8_tops": 1e308, "die_area_mm2": 1}\n'
            f'{{"id": "b", "dense_int8_tops": {"9" * 400}, "die_area_mm2": 1}}\n'
            f'{{"id": "c", "dense_int8_tops": {"9" * 5000}}}\n'
            '{"id": "d", "dense_int8_tops": 600, "die_area_mm2": 1}\n')
    out, summary = run(data, input_format="jsonl", output_format="jsonl")
    documents = [json.loads(line) for line in out.decode().splitlines()]
    assert summary.rows == 4 and [d["id"] for d in documents[:2] + documents[3:]] == ["a", "b", "d"]
    assert all(d["error"] for d in documents[:3]) and all(d["eccn"] is None for d in documents[:3])
    assert documents[3]["eccn"] == "3A090.a"


def test_huge_floats_in_parquet_and_excel_are_row_errors_not_crashes():
    data = io.BytesIO()
    pq.write_table(pa.table({"dense_int8_tops": [1e308, 600.0], "die_area_mm2": [1.0, 1.0]}), data)
    rows, summary = run(data.getvalue(), input_format="parquet")
    assert summary.rows == 2 and rows[0]["error"].startswith("row 1: ") and rows[1]["eccn"] == "3A090.a"
    book = openpyxl.Workbook()
    book.active.append(["dense_int8_tops", "die_area_mm2"])
    book.active.append([1e308, 1])
    book.active.append([600, 1])
    data = io.BytesIO()
    book.save(data)
    rows, summary = run(data.getvalue(), input_format="xlsx")
    assert summary.rows == 2 and rows[0]["error"].startswith("row 2: ") and rows[1]["eccn"] == "3A090.a"


@pytest.mark.parametrize("offset", [10, 22, 39, 50])  # page header, page size, PLAIN data, UTF-8 of a cell
def test_a_corrupt_parquet_column_is_one_clear_error(offset):
    data = io.BytesIO()
    pq.write_table(pa.table({"id": [f"s{i}" for i in range(200)], "dense_int8_tops": [600.0] * 200}), data,
                   compression="none", use_dictionary=False)
    raw = bytearray(data.getvalue())
    raw[offset] ^= 0xFF  # one byte of the id column's first page: the footer still reads
    with pytest.raises(InputError, match="rows from 1 on cannot be read"):
        run(bytes(raw), input_format="parquet")


def test_a_parquet_column_name_that_is_not_utf8_is_one_clear_error():
    """The fuzz campaign (seed 63, batch case 1502: one bit flipped in the footer) made a column
    name invalid UTF-8; pyarrow raised UnicodeDecodeError out of ParquetFile, a traceback."""
    data = io.BytesIO()
    pq.write_table(pa.table({"id": ["a"], "dense_int8_tops": [600.0]}), data)
    raw = data.getvalue().replace(b"dense_int8_tops", b"dense_\xdfnt8_tops")  # 0xdf: a lead byte without its follower
    with pytest.raises(InputError, match="not a Parquet file"):
        run(raw, input_format="parquet")


def edited_workbook(rows: list[list], member: str, edit) -> bytes:
    """An .xlsx of ``rows`` whose zip member ``member`` (its XML) has gone through ``edit``."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    edited = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data.getvalue())) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, edit(content) if item.filename == member else content)
    return edited.getvalue()


def test_a_workbook_without_a_worksheet_is_one_clear_error():
    """The fuzz campaign (seed 65, batch case 1340: one bit flipped) left a workbook listing no
    sheet; the reader took worksheets[0], an IndexError traceback."""
    data = edited_workbook([["chip"], ["H100 SXM"]], "xl/workbook.xml",
                           lambda xml: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", xml, flags=re.S))
    with pytest.raises(InputError, match="the workbook has no worksheet"):
        run(data, input_format="xlsx")


def test_json_nested_thousands_deep_is_an_error_on_its_line():
    data = b'{"chip": "H100 SXM"}\n{"chip": ' + b"[" * 100_000 + b"]" * 100_000 + b'}\n{"chip": "H200 SXM"}\n'
    out, summary = run(data, input_format="jsonl", output_format="jsonl")
    documents = [json.loads(line) for line in out.decode().splitlines()]
    assert summary.rows == 3 and documents[1]["error"] == "line 2: not readable JSON (nested too deeply)"
    assert documents[2]["eccn"] == "3A090.a"


def test_a_json_line_without_end_is_read_with_a_bound(monkeypatch):
    """/dev/zero or a file without line ends was read into memory whole."""
    monkeypatch.setattr(batch_io, "MAX_LINE_BYTES", 1000)
    with pytest.raises(InputError, match="a line runs on for more than"):
        run(b'{"chip": "H100 SXM"}\n{"chip": "' + b"x" * 5000 + b'"}\n', input_format="jsonl")
    with pytest.raises(InputError, match="a line runs on for more than"):
        run(b"\0" * 5000, input_format="jsonl")


def test_a_corrupt_excel_sheet_is_one_clear_error():
    """Broken XML in the sheet raised xml.etree's ParseError out of openpyxl, mid-file."""
    broken = edited_workbook([["chip", "note"], *(["H100 SXM", f"n{i}"] for i in range(50))],
                             "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"n30", b"n30<bogus"))
    with pytest.raises(InputError, match="the first sheet cannot be read after row"):
        run(broken, input_format="xlsx")


def test_mutated_csv_files_never_crash_and_read_the_same_in_any_block_size(monkeypatch):
    """A fixed-seed sample of byte mutations (quotes, CR, LF, NUL, commas, bad bytes): only an
    InputError for the file or a result per row; the output parses back to as many rows as the
    summary counts, and reading in 7-byte blocks gives what reading whole does."""
    import random

    base = ('id,chip,dense_int8_tops,die_area_mm2,note\r\n1,H100 SXM,,,"a\r\nb"\r\n2,,600,814,x\n'
            '3,,"1,000",,y\r4,,5e2,,"q""z"\n5,H200 SXM,,,=1\n')
    alphabet = ['"', ",", "\r", "\n", "\r\n", "a", "6", "\x00", "\xff", " ", "-", "="]
    rng = random.Random(14)
    for _ in range(200):
        text = list(base)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(text))
            text[at:at + rng.randint(0, 1)] = [rng.choice(alphabet)]
        data = "".join(text).encode("latin-1")
        found = []
        for block in (7, batch_io.BLOCK_BYTES):
            monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=block))
            try:
                out = io.BytesIO()
                summary = classify_file(io.BytesIO(data), out, input_format="csv", as_of=AS_OF)
            except InputError as exc:
                found.append(str(exc))
                continue
            rows = list(csv.reader(io.StringIO(out.getvalue().decode(), newline="")))
            assert len(rows) - 1 == summary.rows
            found.append(out.getvalue())
        assert found[0] == found[1], data


def test_every_unresolved_chip_name_is_gathered_in_the_summary_with_counts_and_hints():
    """Issue 16 item 7: one run names every chip it could not resolve, how often and where first,
    with the catalogue's suggestions; each row still carries its own error."""
    text = "chip\nZ9000\nH100 SXM\nZ9000\nH100\nZ9000\nQuux 7\n"
    rows, summary = run(text)
    assert [bool(r["error"]) for r in rows] == [True, False, True, True, True, True]
    by_name = {entry["name"]: entry for entry in summary.unresolved}
    assert list(by_name) == ["Z9000", "H100", "Quux 7"]  # in the order first seen
    assert (by_name["Z9000"]["rows"], by_name["Z9000"]["first"]) == (3, "line 2")
    assert by_name["H100"]["why"] == "ambiguous" and "nvidia-h100-sxm5-80gb" in by_name["H100"]["candidates"]
    assert by_name["Z9000"]["why"] == "unknown"
    assert summary.as_dict()["unresolved"] == summary.unresolved  # --json-summary carries them


def test_unresolved_names_are_counted_across_chunks(monkeypatch):
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=64))
    _, summary = run("chip\n" + "Z9000\nH100 SXM\n" * 30)
    assert [(e["name"], e["rows"], e["first"]) for e in summary.unresolved] == [("Z9000", 30, "line 2")]


# A batch applies --dest, --hq, --as-of, --edition and --as-written to every row. A column that reads
# as a per-row destination, headquarters or date would be copied through unread, and a row marked
# "CN" would get the licence answer of the command line's destination: under the eCFR of
# 2026-07-23 an H100 (3A090.a) needs no licence to DE but does to CN ("RS applies to 3A090.a" as
# enforced: D:1, D:4, D:5 outside A:5/A:6, and Macau; 15 CFR 742.6(a)(6)(iii)). Such a column is refused.
@pytest.mark.parametrize("column", ["dest", "Dest", "destination", "Country", "hq", "end_user_hq",
                                    "as_of", "edition", "as_written"])
def test_a_per_row_destination_or_date_column_is_refused_not_ignored(column):
    with pytest.raises(InputError, match=f"column {column!r} .*every row"):
        run(f"chip,{column}\nH100 SXM,CN\n", dest="DE")


@pytest.mark.parametrize("column", ["ECCN", "License_Required", "tpp "])
def test_a_result_column_in_other_case_or_spacing_is_refused(column):
    with pytest.raises(InputError, match="is a result column"):
        run(f"chip,{column}\nH100 SXM,EAR99\n")
