"""Batch files in every format (CSV, JSON Lines, Parquet, Excel): structure, encodings, line ends,
byte order marks, quoting, garbled cells and bytes; judged row by row, and on the row count."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from fuzz_cases import DAY, Case, Finding, Outcome, baseline, plausible, register
from fuzz_mutate import BAD_TEXTS, Chooser, RawNumber, change, short
from fuzz_order import Answer, permissive_flip
from fuzz_writers import NUMBERS, dump_json, int_text

BATCH_ROWS: dict[str, dict[str, str]] = {
    "h100": {"chip": "H100 SXM", "quantity": "8"},
    "h20": {"chip": "H20"},
    "on-the-line": {"dense_int8_tops": "600", "die_area_mm2": "600", "datacenter": "true"},  # TPP 4800 exactly
    "mid": {"dense_fp8_tflops": "250", "die_area_mm2": "300", "datacenter": "true", "io_bidir_gbps": "900",
            "dram_bandwidth_gbps": "3000"},
    "small": {"dense_fp16_tflops": "50"},
    "open": {"dense_int8_tops": "250", "datacenter": "true"},  # die area unknown: undetermined
    "text": {"chip": "RTX 4090", "note": '5" screen, "quoted"; Grüße'},
}
BATCH_COLUMNS = ("id", "chip", "quantity", "dense_fp16_tflops", "dense_fp8_tflops", "dense_int8_tops", "die_area_mm2",
                 "datacenter", "io_bidir_gbps", "dram_bandwidth_gbps", "note")
NUMERIC_COLUMNS = {"quantity", "dense_fp16_tflops", "dense_fp8_tflops", "dense_int8_tops", "die_area_mm2",
                   "io_bidir_gbps", "dram_bandwidth_gbps"}
BATCH_FORMATS = ("csv", "jsonl", "parquet", "xlsx")
BATCH_FAMILIES = ("cell", "empty-cell", "drop-column", "line-ends", "bom", "quoting", "encoding", "bytes")
# Families that leave every row's data as it was: the answers must not move at all.
SAME_DATA = {"line-ends", "bom", "quoting"}


def batch_argv(extension: str) -> list[str]:
    return ["batch", f"{{dir}}/in.{extension}", "-o", "{dir}/out.csv", "--dest", "CN", "--as-of", DAY,
            "--fail-on", "controlled"]


def batch_case(chooser: Chooser, family: str | None = None, file_format: str | None = None, **_: Any) -> Case:
    file_format = file_format or chooser.choice(BATCH_FORMATS)
    family = family or chooser.choice(BATCH_FAMILIES)
    if family in {"line-ends", "quoting", "encoding"} and file_format != "csv":
        file_format = "csv"
    if family == "bom" and file_format not in {"csv", "jsonl"}:
        file_format = chooser.choice(("csv", "jsonl"))
    keys = [chooser.choice(list(BATCH_ROWS)) for _ in range(1 + chooser.below(6))]
    rows: list[dict[str, Any]] = [{"id": f"{key}-{i}", **BATCH_ROWS[key]} for i, key in enumerate(keys)]
    columns = list(BATCH_COLUMNS)
    what = "unchanged"
    line_end, bom, quote_all, encoding = "\n", False, False, "utf-8"
    if family == "cell":
        row = chooser.below(len(rows))
        column = chooser.choice([c for c in columns if c != "id"])
        value = chooser.choice(NUMBERS if column in NUMERIC_COLUMNS and chooser.below(2) else BAD_TEXTS)
        rows[row][column] = value
        what = change(f"row {row + 1} ({keys[row]}) {column} = {short(value)}", value)
    elif family == "empty-cell":
        row = chooser.below(len(rows))
        present = [c for c in rows[row] if c != "id"]
        column = chooser.choice(present)
        del rows[row][column]
        what = f"row {row + 1} ({keys[row]}) {column} left empty"
    elif family == "drop-column":
        column = chooser.choice([c for c in columns if c != "id"])
        columns.remove(column)
        what = f"column {column} left out"
    elif family == "line-ends":
        line_end = chooser.choice(("\r", "\r\n", "\n", "mixed"))
        note_break = chooser.choice(("", "\r", "\n", "\r\n"))
        for row in rows:
            if "note" in row:
                row["note"] = row["note"] + note_break + "end"
        what = f"line ends {line_end!r}, a quoted line break {note_break!r} in each note"
    elif family == "bom":
        bom = True
        what = "UTF-8 byte order mark"
    elif family == "quoting":
        quote_all = True
        what = "every cell quoted"
    elif family == "encoding":
        encoding = chooser.choice(("latin-1", "utf-16", "cp1252", "utf-8-sig"))
        what = f"encoded as {encoding}"
    content = write_rows(file_format, columns, rows, line_end=line_end, bom=bom, quote_all=quote_all,
                          encoding=encoding)
    if family == "bytes":
        content, what = _corrupt(content, chooser)
    context = {"keys": keys, "ids": [r["id"] for r in rows], "format": file_format, "plausible": plausible(what),
               "rows_known": family != "bytes", "same_data": family in SAME_DATA, "exit_codes": (0, 1, 2, 3)}
    return Case("batch", family, f"{file_format}, {len(rows)} rows: {what}", {f"in.{file_format}": content},
                argv=batch_argv(file_format), outputs=("out.csv",), context=context, check="batch")


def _corrupt(content: bytes, chooser: Chooser) -> tuple[bytes, str]:
    how = chooser.choice(("truncate", "flip", "insert", "zero-run"))
    data = bytearray(content)
    at = chooser.below(max(1, len(data)))
    if how == "truncate":
        return bytes(data[:at]), f"truncated at byte {at} of {len(content)}"
    if how == "flip":
        if data:
            data[at] ^= 1 << chooser.below(8)
        return bytes(data), f"one bit flipped at byte {at}"
    if how == "insert":
        junk = chooser.choice((b'"', b"\r", b"\x00", b"\xff\xfe", b",,,,", b"\n\n", b"'"))
        return bytes(data[:at] + junk + data[at:]), f"inserted {junk!r} at byte {at}"
    return bytes(data[:at] + b"\x00" * 64 + data[at + 64:]), f"64 zero bytes at byte {at}"


def _cell_text(value: Any) -> str:
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    return "" if value is None else str(value)


def _typed(column: str, value: Any) -> Any:
    """A cell as a typed format holds it: numbers in numeric columns, booleans for datacenter."""
    if column in NUMERIC_COLUMNS and isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    if column == "datacenter" and value in ("true", "false"):
        return value == "true"
    return value


def _csv_record(cells: list[str], quoting: int) -> str:
    """One CSV record without its end. The csv module quotes only the characters of its own line
    terminator: with both CR and LF named, a cell holding a bare CR is quoted too (written with
    "\n" alone, "a\rb" went out unquoted and the reader rightly took the CR for a line end)."""
    out = io.StringIO(newline="")
    csv.writer(out, quoting=quoting, lineterminator="\r\n").writerow(cells)
    return out.getvalue()[:-2]


def write_rows(file_format: str, columns: list[str], rows: list[dict], *, line_end: str = "\n", bom: bool = False,
                quote_all: bool = False, encoding: str = "utf-8") -> bytes:
    if file_format == "csv":
        quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
        records = [_csv_record(columns, quoting)] + [_csv_record([_cell_text(row.get(c)) for c in columns], quoting)
                                                     for row in rows]
        # the record ends only: a quoted cell's breaks stay as they are
        ends = ("\r\n", "\r", "\n") if line_end == "mixed" else (line_end,)
        text = "".join(r + ends[i % len(ends)] for i, r in enumerate(records))
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode(encoding, errors="replace")
        return (b"\xef\xbb\xbf" if bom else b"") + data
    if file_format == "jsonl":
        lines = []
        for row in rows:
            # every line holds every column (null when empty): the first line's keys are the columns
            lines.append(dump_json({c: _typed(c, row.get(c)) for c in columns}))
        return (b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")
    if file_format == "parquet":
        return _parquet(columns, rows)
    return _xlsx(columns, rows)


def _parquet(columns: list[str], rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for column in columns:
        values = [_typed(column, row.get(column)) for row in rows]
        numbers = [v for v in values if v is not None]
        if numbers and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers) and all(
                isinstance(v, float) or -(2**63) <= v < 2**63 for v in numbers):
            arrays[column] = pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        elif numbers and all(isinstance(v, bool) for v in numbers):
            arrays[column] = pa.array(values, type=pa.bool_())
        else:
            arrays[column] = pa.array([None if v is None else _cell_text(v).encode("utf-8", "replace").decode()
                                       for v in values], type=pa.string())
    sink = io.BytesIO()
    pq.write_table(pa.table(arrays), sink)
    return sink.getvalue()


def _xlsx(columns: list[str], rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = _typed(column, row.get(column))
            if isinstance(value, RawNumber) or (isinstance(value, float) and value != value) or (
                    isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**300):
                value = _cell_text(value)
            if isinstance(value, str):  # openpyxl refuses control characters in cells
                value = "".join(ch if ch >= " " or ch in "\t\n\r" else "?" for ch in value)
                value = value.encode("utf-8", "replace").decode()[:32767]
            cells.append(value)
        sheet.append(cells)
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def batch_baseline_case(file_format: str) -> Case:
    rows = [{"id": key, **values} for key, values in BATCH_ROWS.items()]
    return Case("batch", "original", f"{file_format}: every base row",
                {f"in.{file_format}": write_rows(file_format, list(BATCH_COLUMNS), rows)},
                argv=batch_argv(file_format), outputs=("out.csv",), context={"exit_codes": (0, 3)}, check="none")


def batch_rows(outcome: Outcome) -> list[dict[str, str]] | None:
    data = outcome.outputs.get("out.csv")
    if data is None:
        return None
    text = data.decode("utf-8-sig", errors="replace")
    # csv's field limit (128 KiB) is process-wide: lift it only while reading, so the forked cases
    # still run tppcalc under the default.
    limit = csv.field_size_limit(1 << 30)
    try:
        return list(csv.DictReader(io.StringIO(text, newline="")))
    finally:
        csv.field_size_limit(limit)


def row_answer(row: dict[str, str]) -> Answer:
    if row.get("error"):
        return Answer.refused()
    licence = {"true": True, "false": False}.get((row.get("license_required") or "").strip().lower())
    reason = row.get("reason") or ""
    eccn = (row.get("eccn") or "").strip() or None
    undetermined = None
    if eccn is None and reason.startswith("undetermined:"):
        # "undetermined: 3A090.a, 3A090.b or outside 3A090 (...)"
        listed = reason.split(":", 1)[1].split("(")[0].replace(" or ", ",").split(",")
        undetermined = [o.strip() for o in listed if o.strip()]
    return Answer.of(eccn, undetermined, licence)


def _batch_baseline(file_format: str) -> dict[str, Answer]:
    def read(outcome: Outcome) -> dict[str, Answer]:
        rows = batch_rows(outcome) or []
        return {row["id"]: row_answer(row) for row in rows}

    return baseline(("batch", file_format), lambda: batch_baseline_case(file_format), read)


def _check_batch(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code not in (0, 3):
        return []
    found: list[Finding] = []
    rows = batch_rows(outcome)
    if rows is None:
        return [Finding("lost-rows", f"exit {outcome.exit_code} and no output file")]
    if case.context["rows_known"]:
        ids = [row.get("id") for row in rows]
        expected = case.context["ids"]
        # A row refused whole (bad encoding, a bad line) keeps its place but may lose its cells.
        if len(ids) != len(expected) or any(got and got != want for got, want in zip(ids, expected, strict=True)):
            return [Finding("lost-rows", f"{len(expected)} rows in, {len(rows)} out; "
                                         f"ids in {expected[:4]}..., out {ids[:4]}...")]
        original = _batch_baseline(case.context["format"])
        for key, row in zip(case.context["keys"], rows, strict=True):
            answer = row_answer(row)
            why = permissive_flip(original[key], answer)
            if why:
                found.append(Finding("permissive-flip", f"row {row.get('id')}: {why}"))
            elif case.context["same_data"] and answer != original[key]:
                found.append(Finding("changed-answer", f"row {row.get('id')}: {original[key].describe()} -> "
                                                       f"{answer.describe()} with the same data"))
    proven_outside = all((row.get("eccn") or "").startswith("outside") and not row.get("error") for row in rows)
    if rows and outcome.exit_code == 0 and not proven_outside:
        found.append(Finding("gate", "--fail-on controlled exited 0 with rows not proven outside"))
    if not rows and outcome.exit_code == 0 and case.context["rows_known"] and case.context["ids"]:
        found.append(Finding("gate", "--fail-on controlled exited 0 on an empty result"))
    return found


register("batch", {"batch": _check_batch},
         lambda: [batch_baseline_case(f) for f in BATCH_FORMATS])
