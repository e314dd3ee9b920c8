"""Batch files in and out: CSV, JSON Lines, Parquet and Excel, read and written in chunks.

A reader yields ``Chunk``s: every input column as text (``Cells``: byte ranges into one buffer, so
the CSV fast path makes no Python object per cell), each row's line or sheet-row number, the
problems found while reading a row (bad encoding, wrong field count, invalid JSON), and what a
writer needs to copy the input columns out unchanged. A writer appends the result columns.

Only the current chunk is in memory, whatever the size of the file.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import BinaryIO

import numpy as np

from tppcalc.errors import InputError

# Format name -> file extensions that name it.
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson"),
    "parquet": (".parquet", ".pq"),
    "xlsx": (".xlsx", ".xlsm"),
}
BLOCK_BYTES = 1 << 23        # CSV is read 8 MiB at a time
CHUNK_ROWS = 1 << 16         # other formats 65,536 rows at a time
MAX_RECORD_BYTES = 1 << 26   # a CSV record this long is an unbalanced quote, not data
EXCEL_MAX_ROWS = 1_048_576   # the sheet limit, header included

_NEWLINE, _COMMA, _QUOTE = 10, 44, 34


def format_of(path: str, given: str | None) -> str | None:
    """The format named by ``path``'s extension, else ``given`` (None when neither tells)."""
    suffix = PurePath(path).suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    return given


@dataclass(frozen=True)
class Cells:
    """One column of a chunk as UTF-8 text: cell ``i`` is ``data[starts[i]:ends[i]]``."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> Cells:
        encoded = [t.encode("utf-8") for t in texts]
        widths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        ends = np.cumsum(widths)
        return cls(b"".join(encoded), ends - widths, ends)

    def __len__(self) -> int:
        return len(self.starts)

    @functools.cached_property
    def widths(self) -> np.ndarray:
        return self.ends - self.starts

    def text(self, row: int) -> str:
        return self.data[self.starts[row]:self.ends[row]].decode("utf-8")

    def texts(self) -> list[str]:
        data = self.data
        return [data[s:e].decode("utf-8") for s, e in zip(self.starts.tolist(), self.ends.tolist())]

    def matrix(self, rows: np.ndarray, width: int) -> np.ndarray:
        """The cells of ``rows`` as a (len(rows), width) byte matrix, zero-padded on the right."""
        buf = np.frombuffer(self.data, np.uint8)
        if not len(buf):
            return np.zeros((len(rows), width), np.uint8)
        index = self.starts[rows, None] + np.arange(width)
        out = buf[np.minimum(index, len(buf) - 1)]
        out[index >= self.ends[rows, None]] = 0
        return out


@dataclass
class Chunk:
    """Consecutive rows of the input.

    ``lines`` (CSV read on the fast path) holds each row exactly as the file has it, so a CSV
    output copies it; otherwise ``records`` holds each row's values as read (typed for JSON,
    Parquet and Excel), and ``arrow`` the Parquet batch itself.
    """

    numbers: np.ndarray
    cells: dict[str, Cells]
    problems: dict[int, str]
    lines: list[bytes] | None = None
    records: list[list] | None = None
    arrow: object = None

    def __len__(self) -> int:
        return len(self.numbers)

    def rows(self, columns: Sequence[str]) -> list[list]:
        if self.records is not None:
            return self.records
        return [list(row) for row in zip(*(self.cells[c].texts() for c in columns))]


def _text(value: object) -> str:
    """A typed cell as the text it stands for: a float as the decimal it prints as, written out
    ("1e-05" as "0.00001", as tppcalc reads a float given to it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _texts(values: np.ndarray) -> list[str | None]:
    """Result figures (ASCII bytes, b"" for none) for typed formats: text, or None."""
    return [v.decode("ascii") if v else None for v in values.tolist()]


def _column_names(names: Sequence[object], where: str) -> list[str]:
    columns = []
    for index, name in enumerate(names):
        if name is None or not str(name).strip():
            raise InputError(f"column {index + 1} of the header has no name", where=where)
        columns.append(str(name))
    return columns


# ---------------------------------------------------------------------------------------- CSV


def _record_end(data: bytes, first: bool = False) -> int:
    """Offset just past the last (or ``first``) newline that ends a record, not one inside
    quotes; 0 if there is none."""
    end = (data.find(b"\n") if first else data.rfind(b"\n")) + 1
    if not end or data.find(b'"', 0, end) < 0:
        return end
    buf = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(buf == _NEWLINE)
    # A newline ends a record when an even number of quotes precede it ("" escapes keep parity).
    closed = newlines[np.searchsorted(np.flatnonzero(buf == _QUOTE), newlines) % 2 == 0]
    return int(closed[0 if first else -1]) + 1 if len(closed) else 0


class CsvReader:
    """Comma-separated UTF-8 text with a header row (a UTF-8 byte-order mark is accepted).

    Blocks without quotes, carriage returns or ragged rows are split with numpy; any other block
    goes through the csv module. Both give the same cells.
    """

    unit = "line"

    def __init__(self, stream: BinaryIO, where: str, block_bytes: int = BLOCK_BYTES):
        self._stream, self._where, self._block_bytes = stream, where, block_bytes
        self._pending = b""
        self._line = 1  # number of the next physical line
        header_text = self._header()
        names = next(csv.reader(io.StringIO(header_text, newline="")), [])
        self.columns = _column_names(names, f"{where}: line 1")

    def _read(self) -> bytes:
        return self._stream.read(self._block_bytes)

    def _header(self) -> str:
        data = self._read()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError("the file is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\" in Excel)", where=self._where)
        data = data.removeprefix(b"\xef\xbb\xbf")
        end = _record_end(data, first=True)
        while not end:
            more = self._read()
            if not more:
                end = len(data)
                break
            data += more
            end = _record_end(data, first=True)
        header, self._pending = data[:end], data[end:]
        if not header.strip():
            raise InputError("the file is empty: no header row", where=self._where)
        try:
            text = header.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"the header is not UTF-8 text (byte 0x{header[exc.start]:02x}); save the file as "
                             "UTF-8 (\"CSV UTF-8\" in Excel)", where=self._where) from None
        self._line += header.count(b"\n")
        return text

    def __iter__(self) -> Iterator[Chunk]:
        pending = self._pending
        while True:
            more = self._read()
            if not more:
                break
            pending += more
            end = _record_end(pending)
            if end:
                yield self._chunk(pending[:end])
                pending = pending[end:]
            elif len(pending) > MAX_RECORD_BYTES:
                raise InputError(f"a record starting on line {self._line} runs on for more than "
                                 f"{MAX_RECORD_BYTES >> 20} MiB: is a quote left open?", where=self._where)
        # The end of the file: complete records, then a last record without its newline, if any.
        end = _record_end(pending)
        if end:
            yield self._chunk(pending[:end])
        if pending[end:].strip():
            yield self._parse(pending[end:], last=True)

    def _chunk(self, block: bytes) -> Chunk:
        return self._split(block) or self._parse(block, last=False)

    def _split(self, block: bytes) -> Chunk | None:
        """The numpy path: every line a record with one field per column, or None."""
        if b'"' in block or b"\0" in block:
            return None
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
            if b"\r" in block:
                return None
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return None
        width = len(self.columns)
        rows = block.count(b"\n")
        buf = np.frombuffer(block, np.uint8)
        delimiters = np.flatnonzero((buf == _COMMA) | (buf == _NEWLINE))
        if len(delimiters) != rows * width:
            return None
        ends = delimiters.reshape(rows, width)
        if not (buf[ends[:, -1]] == _NEWLINE).all():
            return None
        starts = np.empty_like(delimiters)
        starts[0], starts[1:] = 0, delimiters[:-1] + 1
        starts = starts.reshape(rows, width)
        if width == 1 and (starts[:, 0] == ends[:, 0]).any():
            return None  # blank lines, which the csv module skips
        cells = {name: Cells(block, starts[:, j], ends[:, j]) for j, name in enumerate(self.columns)}
        lines = block.split(b"\n")
        lines.pop()
        numbers = self._line + np.arange(rows)
        self._line += rows
        return Chunk(numbers, cells, {}, lines=lines)

    def _parse(self, block: bytes, last: bool) -> Chunk:
        """The csv module path: quotes, blank lines, ragged rows, bad bytes. ``last``: the file's
        last record, which has no newline after it."""
        width = len(self.columns)
        text = block.decode("utf-8", "surrogateescape")
        reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        numbers, records, problems = [], [], {}
        start = self._line
        for record in reader:
            number, start = start, self._line + reader.line_num
            if not record:
                continue
            problem = _bad_bytes(record)
            if problem:
                record = [_sanitised(cell) for cell in record]
            elif last and text.count('"') % 2:
                problem = "truncated last line: a quoted field is never closed (the file may have been cut short)"
            elif last and len(record) < width:
                problem = f"truncated last line: {len(record)} of {width} fields (the file may have been cut short)"
            elif len(record) != width:
                problem = f"{len(record)} fields, the header has {width}"
            if problem:
                problems[len(records)] = problem
            numbers.append(number)
            records.append((record + [""] * width)[:width])
        self._line += block.count(b"\n")
        cells = {name: Cells.from_texts([r[j] for r in records]) for j, name in enumerate(self.columns)}
        return Chunk(np.array(numbers, np.int64), cells, problems, records=records)


def _bad_bytes(record: list[str]) -> str | None:
    for cell in record:
        for char in cell:
            if "\udc80" <= char <= "\udcff":
                return f"not UTF-8 text (byte 0x{ord(char) - 0xdc00:02x}); save the file as UTF-8"
    return None


def _sanitised(cell: str) -> str:
    return cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class CsvWriter:
    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str]):
        self._sink, self._columns = sink, list(columns)
        sink.write((_csv_line([*columns, *results]) + "\n").encode("utf-8"))

    def write(self, chunk: Chunk, tpp: np.ndarray, density: np.ndarray, outcome: np.ndarray, outcomes: list) -> None:
        # The four outcome fields are few distinct values: quote them once, not once per row.
        tails = np.array([("," + _csv_line([_text(v) for v in o.fields()]) + "\n").encode("utf-8") for o in outcomes])
        suffix = np.strings.add(np.strings.add(np.strings.add(np.strings.add(b",", tpp), b","), density), tails[outcome])
        if chunk.lines is not None:
            parts = [b""] * (2 * len(chunk))
            parts[::2], parts[1::2] = chunk.lines, suffix.tolist()
        else:
            parts = [_csv_line([_text(v) for v in row]).encode("utf-8") + end
                     for row, end in zip(chunk.rows(self._columns), suffix.tolist())]
        self._sink.write(b"".join(parts))

    def close(self) -> None:
        self._sink.flush()


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    # The terminator must be a newline: csv quotes only the line endings it knows of.
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()[:-1]


# ---------------------------------------------------------------------------------- JSON Lines


class JsonlReader:
    """One JSON object per line; the first object's keys are the columns."""

    unit = "line"

    def __init__(self, stream: BinaryIO, where: str, chunk_rows: int = CHUNK_ROWS):
        self._stream, self._where, self._chunk_rows = stream, where, chunk_rows
        self._line = 0
        first = None
        for raw in stream:
            self._line += 1
            if raw.strip():
                first = raw
                break
        if first is None:
            raise InputError("the file is empty: no JSON object to take the columns from", where=where)
        where_first = f"{where}: line {self._line}"
        try:
            document = json.loads(first.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text; save the file as UTF-8", where=where_first) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", where=where_first) from None
        if not isinstance(document, dict) or not document:
            raise InputError("the first line must be a JSON object: its keys name the columns", where=where_first)
        self.columns = _column_names(list(document), where_first)
        self._first = (self._line, first)

    def __iter__(self) -> Iterator[Chunk]:
        batch = [self._first]
        for raw in self._stream:
            self._line += 1
            if raw.strip():
                batch.append((self._line, raw))
            if len(batch) == self._chunk_rows:
                yield self._chunk(batch)
                batch = []
        if batch:
            yield self._chunk(batch)

    def _chunk(self, batch: list[tuple[int, bytes]]) -> Chunk:
        known = set(self.columns)
        records, problems = [], {}
        for row, (_, raw) in enumerate(batch):
            document, problem = _json_object(raw)
            if problem is None:
                extra = [k for k in document if k not in known]
                if extra:
                    problem = f"key {extra[0]!r} is not a column (the first line's keys are the columns)"
            if problem is not None:
                problems[row] = problem + ("" if raw.endswith(b"\n") else " (the last line has no newline: cut short?)")
                document = {}
            records.append([document.get(c) for c in self.columns])
        cells = {c: Cells.from_texts([_text(r[j]) for r in records]) for j, c in enumerate(self.columns)}
        return Chunk(np.array([n for n, _ in batch], np.int64), cells, problems, records=records)


def _json_object(raw: bytes) -> tuple[dict, str | None]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return {}, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON ({exc.msg})"
    if not isinstance(document, dict):
        return {}, "not a JSON object"
    return document, None


class JsonlWriter:
    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str]):
        self._sink, self._columns, self._results = sink, list(columns), list(results)

    def write(self, chunk: Chunk, tpp: np.ndarray, density: np.ndarray, outcome: np.ndarray, outcomes: list) -> None:
        rows = chunk.rows(self._columns)
        lines = []
        for row, t, d, k in zip(rows, _texts(tpp), _texts(density), outcome.tolist()):
            document = dict(zip(self._columns, row))
            document.update(zip(self._results, (t, d, *outcomes[k].fields())))
            lines.append(json.dumps(document, ensure_ascii=False, default=str))
        if lines:
            self._sink.write(("\n".join(lines) + "\n").encode("utf-8"))

    def close(self) -> None:
        self._sink.flush()


# ------------------------------------------------------------------------------------ Parquet


def _pyarrow(where: str):
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("Parquet needs pyarrow: pip install 'tppcalc[parquet]'", where=where) from None
    return pa, pq


class ParquetReader:
    unit = "row"

    def __init__(self, stream: BinaryIO, where: str, chunk_rows: int = CHUNK_ROWS):
        pa, pq = _pyarrow(where)
        try:
            self._file = pq.ParquetFile(stream)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a Parquet file ({exc})", where=where) from None
        self.columns = _column_names(self._file.schema_arrow.names, where)
        self._chunk_rows = chunk_rows

    def __iter__(self) -> Iterator[Chunk]:
        first = 1
        for batch in self._file.iter_batches(batch_size=self._chunk_rows):
            columns = [batch.column(j).to_pylist() for j in range(batch.num_columns)]
            cells = {c: Cells.from_texts([_text(v) for v in values]) for c, values in zip(self.columns, columns)}
            records = [list(row) for row in zip(*columns)]
            yield Chunk(first + np.arange(batch.num_rows), cells, {}, records=records, arrow=batch)
            first += batch.num_rows


class ParquetWriter:
    """Input columns keep their Parquet types; from other formats they are written as text."""

    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str]):
        self._pa, self._pq = _pyarrow("--output")
        self._sink, self._columns, self._results = sink, list(columns), list(results)
        self._writer = None

    def write(self, chunk: Chunk, tpp: np.ndarray, density: np.ndarray, outcome: np.ndarray, outcomes: list) -> None:
        pa = self._pa
        if chunk.arrow is not None:
            arrays = list(chunk.arrow.columns)
        else:
            rows = chunk.rows(self._columns)
            arrays = [pa.array([_text(row[j]) for row in rows], pa.string()) for j in range(len(self._columns))]
        picked = [outcomes[k] for k in outcome.tolist()]
        arrays += [pa.array(_texts(tpp), pa.string()), pa.array(_texts(density), pa.string()),
                   pa.array([o.eccn for o in picked], pa.string()),
                   pa.array([o.license_required for o in picked], pa.bool_()),
                   pa.array([o.reason for o in picked], pa.string()), pa.array([o.error for o in picked], pa.string())]
        table = pa.Table.from_arrays(arrays, names=[*self._columns, *self._results])
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self._sink, table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is None:  # no rows: still a valid file with the columns
            pa = self._pa
            schema = pa.schema([(c, pa.string()) for c in self._columns]
                               + [(c, pa.bool_() if c == "license_required" else pa.string()) for c in self._results])
            self._writer = self._pq.ParquetWriter(self._sink, schema)
        self._writer.close()


# -------------------------------------------------------------------------------------- Excel


def _openpyxl(where: str):
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:
        raise InputError("Excel needs openpyxl: pip install 'tppcalc[excel]'", where=where) from None
    return openpyxl, InvalidFileException


class ExcelReader:
    """The first sheet of a workbook; its first row is the header. Formulas give their saved values."""

    unit = "row"

    def __init__(self, stream: BinaryIO, where: str, chunk_rows: int = CHUNK_ROWS):
        openpyxl, InvalidFileException = _openpyxl(where)
        try:
            book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
            raise InputError(f"not an Excel workbook ({exc})", where=where) from None
        self._rows = book.worksheets[0].iter_rows(min_row=1, values_only=True)
        header = next(self._rows, ())
        while header and header[-1] is None:
            header = header[:-1]
        if not header:
            raise InputError("row 1 of the first sheet is empty: no header row", where=where)
        self.columns = _column_names(header, f"{where}: row 1")
        self._chunk_rows = chunk_rows

    def __iter__(self) -> Iterator[Chunk]:
        width = len(self.columns)
        numbers, records, problems = [], [], {}
        for number, values in enumerate(self._rows, start=2):
            if all(v is None for v in values):
                continue
            if any(v is not None for v in values[width:]):
                problems[len(records)] = "has values beyond the last named column"
            numbers.append(number)
            records.append((list(values) + [None] * width)[:width])
            if len(records) == self._chunk_rows:
                yield self._chunk(numbers, records, problems)
                numbers, records, problems = [], [], {}
        if records:
            yield self._chunk(numbers, records, problems)

    def _chunk(self, numbers, records, problems) -> Chunk:
        cells = {c: Cells.from_texts([_text(r[j]) for r in records]) for j, c in enumerate(self.columns)}
        return Chunk(np.array(numbers, np.int64), cells, problems, records=records)


class ExcelWriter:
    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str]):
        openpyxl, _ = _openpyxl("--output")
        self._sink, self._columns = sink, list(columns)
        self._book = openpyxl.Workbook(write_only=True)
        self._sheet = self._book.create_sheet("classified")
        self._sheet.append([*columns, *results])
        self._rows = 1

    def write(self, chunk: Chunk, tpp: np.ndarray, density: np.ndarray, outcome: np.ndarray, outcomes: list) -> None:
        self._rows += len(chunk)
        if self._rows > EXCEL_MAX_ROWS:
            raise InputError(f"an Excel sheet holds at most {EXCEL_MAX_ROWS - 1:,} rows; write CSV or Parquet",
                             field="--output")
        for row, t, d, k in zip(chunk.rows(self._columns), _texts(tpp), _texts(density), outcome.tolist()):
            self._sheet.append([_excel_value(v) for v in row] + [t, d, *outcomes[k].fields()])

    def close(self) -> None:
        self._book.save(self._sink)


def _excel_value(value: object) -> object:
    # Excel cells hold numbers, text, booleans and dates; anything else (Decimal, lists) as text.
    if value is None or isinstance(value, (str, int, float, bool)) or hasattr(value, "isoformat"):
        return value
    return str(value) if not isinstance(value, Decimal) else format(value, "f")


READERS = {"csv": CsvReader, "jsonl": JsonlReader, "parquet": ParquetReader, "xlsx": ExcelReader}
WRITERS = {"csv": CsvWriter, "jsonl": JsonlWriter, "parquet": ParquetWriter, "xlsx": ExcelWriter}
