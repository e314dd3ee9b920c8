"""Batch files in and out: CSV, JSON Lines, Parquet and Excel, read and written in chunks.

A reader yields ``Chunk``s: every input column as text (``Cells``: byte ranges into one buffer, so
the CSV fast path makes no Python object per cell), each row's line or sheet-row number, the
problems found while reading a row (bad encoding, wrong field count, invalid JSON), and what a
writer needs to copy the input columns out unchanged. A writer appends the result columns.

Only the current chunk is in memory, whatever the size of the file.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import BinaryIO

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tppcalc.errors import InputError

# Format name -> file extensions that name it.
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson"),
    "parquet": (".parquet", ".pq"),
    "xlsx": (".xlsx", ".xlsm"),
}
BLOCK_BYTES = 1 << 21        # CSV is read 2 MiB at a time: a chunk's transients (the writer's) stay small
CHUNK_ROWS = 1 << 16         # other formats 65,536 rows at a time
WRITE_ROWS = 512             # CSV rows written row by row go out this many a write (about 1 MB at most)
JOIN_ROWS = 8192             # fast-path CSV rows joined by pyarrow at a time (a few MB of transients)
MAX_LINE_BYTES = 1 << 26     # a CSV line this long is not a row of a spec sheet
MAX_RECORD_CHARS = 1 << 20   # a record over several lines this long is an open quote, not data
# Lines after a malformed record's first line are read again; this bounds the rereading in a file
# (a quote left open on every line would otherwise cost MAX_RECORD_CHARS a line).
MAX_REREAD_CHARS = 1 << 25
EXCEL_MAX_ROWS = 1_048_576   # the sheet limit, header included

_NEWLINE, _COMMA = 10, 44


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
        return byte_rows(self.data, self.starts[rows], self.ends[rows], width)


def byte_rows(data: bytes, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """``data[starts[i]:ends[i]]`` as row ``i`` of a (len(starts), width) byte matrix, zero-padded
    on the right (cut at ``width``): rows of a window over the data, one copy of ``width`` bytes a
    row, not a gather through an index a byte."""
    windows = sliding_window_view(np.frombuffer(data + bytes(width), np.uint8), width)
    out = windows[starts]
    out[np.arange(width) >= (ends - starts)[:, None]] = 0
    return out


@dataclass
class Chunk:
    """Consecutive rows of the input.

    ``block`` (CSV read on the fast path) holds the rows as lines exactly as the file has them
    (LF-ended, the cells' data), so a CSV output copies them; otherwise ``records`` holds each
    row's values as read (typed for JSON, Parquet and Excel), and ``arrow`` the Parquet batch itself.
    """

    numbers: np.ndarray
    cells: dict[str, Cells]
    problems: dict[int, str]
    block: bytes | None = None
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


def _first_line_end(data: bytes, final: bool) -> int:
    """Offset just past the first line end (CR, LF or CRLF) in ``data``; 0 if there is none yet
    (a CR as the last byte may be the first half of a CRLF, unless ``final``)."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    if not ends:
        return 0
    end = min(ends) + 1
    if data[end - 1:end] == b"\r":
        if end == len(data) and not final:
            return 0
        if data[end:end + 1] == b"\n":
            end += 1
    return end


def _last_line_end(data: bytes) -> int:
    """Offset just past the last line end (CR, LF or CRLF) in ``data``, never splitting a CRLF
    across reads: a CR as the last byte does not count. 0 if there is none."""
    end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
    if end == len(data) and data.endswith(b"\r"):
        end = max(data.rfind(b"\n", 0, end - 1), data.rfind(b"\r", 0, end - 1)) + 1
    return end


class _RunsOn(Exception):
    """A record spanning lines has grown past MAX_RECORD_CHARS: an open quote, not data."""


class CsvReader:
    """Comma-separated UTF-8 text with a header row (a UTF-8 byte-order mark is accepted).

    CR, LF and CRLF each end a line. A quoted field may hold line ends and run over lines; a line
    that cannot start a well-formed record (a quote left open, a stray quote after a closing one,
    a record over several lines whose fields do not fit the header) is an error on that line only,
    and reading goes on at the next line. Every record keeps its line's place.

    Blocks without quotes or ragged rows are split with numpy; any other block goes through the
    csv module. Both give the same cells.
    """

    unit = "line"

    def __init__(self, stream: BinaryIO, where: str, block_bytes: int = BLOCK_BYTES):
        self._stream, self._where, self._block_bytes = stream, where, block_bytes
        self._pending = b""
        self._line = 1  # number of the next physical line
        self._reread = [MAX_REREAD_CHARS]  # what is left of the budget for reading lines again
        self.columns = _column_names(self._header(), f"{where}: line 1")

    def _read(self) -> bytes:
        return self._stream.read(self._block_bytes)

    def _header(self) -> list[str]:
        data = self._read()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError("the file is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\" in Excel)", where=self._where)
        data = data.removeprefix(b"\xef\xbb\xbf")
        end = _first_line_end(data, final=False)
        while not end:
            more = self._read()
            if not more:
                end = _first_line_end(data, final=True) or len(data)
                break
            data += more
            end = _first_line_end(data, final=False)
            if not end and len(data) > MAX_LINE_BYTES:
                raise InputError(f"line 1 runs on for more than {MAX_LINE_BYTES >> 20} MiB: not a CSV file?",
                                 where=self._where)
        header, self._pending = data[:end], data[end:]
        if not header.strip():
            raise InputError("the file is empty: no header row", where=self._where)
        try:
            text = header.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"the header is not UTF-8 text (byte 0x{header[exc.start]:02x}); save the file as "
                             "UTF-8 (\"CSV UTF-8\" in Excel)", where=self._where) from None
        self._line += 1
        try:
            return next(csv.reader([text], strict=True), [])
        except csv.Error as exc:
            raise InputError(f"the header is not valid CSV ({exc}); column names in quotes may not span lines",
                             where=f"{self._where}: line 1") from None

    def __iter__(self) -> Iterator[Chunk]:
        # The lines the header's read left (most of a block) are the first chunk: rows start
        # coming after one read, not two.
        pending = self._pending
        while True:
            end = _last_line_end(pending)
            if end:
                chunk, open_record = self._chunk(pending[:end], final=False)
                pending = open_record + pending[end:]
                if chunk is not None:
                    yield chunk
            elif len(pending) > MAX_LINE_BYTES:
                raise InputError(f"line {self._line} runs on for more than {MAX_LINE_BYTES >> 20} MiB without a "
                                 "line end: not a CSV file of rows?", where=self._where)
            more = self._read()
            if not more:
                break
            pending += more
        # The end of the file: complete lines, then what is left (a last line without its line
        # end, a record still open), which the end of the file closes.
        end = max(pending.rfind(b"\n"), pending.rfind(b"\r")) + 1
        if end:
            chunk, open_record = self._chunk(pending[:end], final=False)
            pending = open_record + pending[end:]
            if chunk is not None:
                yield chunk
        if pending.strip():  # a last line of nothing but spaces, without its line end, is no row
            chunk, _ = self._chunk(pending, final=True)
            if chunk is not None:
                yield chunk

    def _chunk(self, block: bytes, final: bool) -> tuple[Chunk | None, bytes]:
        """The records of ``block`` and, unless ``final``, the bytes of a record still open at its
        end (to be read again with what follows)."""
        if b'"' not in block:
            fast = self._split(block)
            if fast is not None:
                return fast, b""
        return self._parse(block, final)

    def _split(self, block: bytes) -> Chunk | None:
        """The numpy path: every line a record with one field per column, or None."""
        if b"\0" in block:
            return None
        if b"\r" in block:  # without quotes in the block, every CR is (part of) a line end
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return None
        width = len(self.columns)
        buf = np.frombuffer(block, np.uint8)
        newlines = buf == _NEWLINE
        rows = int(np.count_nonzero(newlines))  # numpy lets go of the GIL, bytes.count does not
        delimiters = np.flatnonzero((buf == _COMMA) | newlines)
        if not rows or len(delimiters) != rows * width or block[-1:] != b"\n":
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
        numbers = self._line + np.arange(rows)
        self._line += rows
        return Chunk(numbers, cells, {}, block=block)

    def _parse(self, block: bytes, final: bool) -> tuple[Chunk | None, bytes]:
        """The csv module path: quotes, blank lines, ragged rows, bad bytes, malformed lines."""
        width = len(self.columns)
        text = block.decode("utf-8", "surrogateescape")
        lines = list(io.StringIO(text, newline=""))  # split at CR, LF and CRLF only, ends kept
        found, used = _records(lines, width, final, self._reread)
        if self._reread[0] < 0:
            raise InputError(f"too many quotes left open (the last on line {self._line + found[-1][0]}): more than "
                             f"{MAX_REREAD_CHARS >> 20} Mi characters had to be read again; is this a CSV file "
                             "with another quote character?", where=self._where)
        numbers, records, problems = [], [], {}
        last = final and not text.endswith(("\n", "\r"))
        for index, record, problem in found:
            if problem is None:
                problem = _bad_bytes(record)
                if problem:
                    record = [_sanitised(cell) for cell in record]
                elif last and index == len(lines) - 1 and len(record) < width:
                    problem = f"truncated last line: {len(record)} of {width} fields (the file may have been cut short)"
                elif len(record) != width:
                    problem = f"{len(record)} fields, the header has {width}"
            else:
                record = [_sanitised(cell) for cell in record]
            if problem:
                problems[len(records)] = problem
            numbers.append(self._line + index)
            records.append((record + [""] * width)[:width])
        self._line += used
        open_record = "".join(lines[used:]).encode("utf-8", "surrogateescape")
        if not records:
            return None, open_record
        cells = {name: Cells.from_texts([r[j] for r in records]) for j, name in enumerate(self.columns)}
        return Chunk(np.array(numbers, np.int64), cells, problems, records=records), open_record


def _records(lines: list[str], width: int, final: bool,
             reread: list[int]) -> tuple[list[tuple[int, list[str], str | None]], int]:
    """The records in ``lines`` (physical lines, line ends kept) as (index of the first line,
    fields, problem or None), and how many lines they use: all of them, unless a record is still
    open at the end and more lines may come (not ``final``). Blank lines give no record.

    A line that cannot start a well-formed record gives a record with a problem and the fields
    it seems to have, and the next record starts on the next line: one stray quote never
    swallows the lines after it. The characters read again that way are taken from ``reread[0]``;
    below zero, reading stops there.
    """
    found: list[tuple[int, list[str], str | None]] = []
    position = 0
    while position < len(lines):
        state = {"next": position, "begin": position, "size": 0}

        def feed():
            while state["next"] < len(lines):
                line = lines[state["next"]]
                state["next"] += 1
                state["size"] += len(line)
                if state["size"] > MAX_RECORD_CHARS and state["next"] - state["begin"] > 1:
                    raise _RunsOn
                yield line

        reader = csv.reader(feed(), strict=True)
        while True:
            begin = state["begin"] = state["next"]
            state["size"] = 0
            try:
                fields = next(reader)
            except StopIteration:
                return found, len(lines)
            except _RunsOn:
                problem = (f"a quoted field opened on this line runs on for more than {MAX_RECORD_CHARS >> 20} MiB: "
                           "is a quote left open?")
            except csv.Error as exc:
                if str(exc) == "unexpected end of data":  # the lines ran out inside a quoted field
                    if not final:
                        return found, begin
                    problem = ("truncated last line: a quoted field is never closed (the file may have been cut short)"
                               if begin == len(lines) - 1 else "a quoted field opened on this line is never closed")
                elif state["next"] - begin > 1:
                    problem = (f"a quoted field opened on this line runs over line ends and is not closed properly "
                               f"({exc}): is a quote left open?")
                else:
                    problem = f"not valid CSV: {exc} (a stray quote?)"
            else:
                if state["next"] - begin > 1 and len(fields) != width:
                    problem = (f"a quoted field opened on this line runs over {state['next'] - begin} lines and the "
                               f"record has {len(fields)} fields, the header {width}: is a quote left open?")
                else:
                    if fields:
                        found.append((begin, fields, None))
                    continue
            # A malformed record: the first line alone is the row in error; go on at the next.
            found.append((begin, _loose(lines[begin]), problem))
            position = begin + 1
            reread[0] -= state["size"] - len(lines[begin])
            if reread[0] < 0:
                return found, position
            break
    return found, len(lines)


def _loose(line: str) -> list[str]:
    """The fields a malformed line seems to have, for the output to carry."""
    return next(csv.reader([line.rstrip("\r\n")], strict=False), [])


def _bad_bytes(record: list[str]) -> str | None:
    for cell in record:
        for char in cell:
            if "\udc80" <= char <= "\udcff":
                return f"not UTF-8 text (byte 0x{ord(char) - 0xdc00:02x}); save the file as UTF-8"
    return None


def _sanitised(cell: str) -> str:
    return cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# Text that a spreadsheet would run as a formula starts with one of these (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_BYTE = np.zeros(256, bool)
_FORMULA_BYTE[np.frombuffer("".join(FORMULA_STARTS).encode(), np.uint8)] = True
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralised(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it: a cell that starts like a formula
    gets a leading ' (OWASP). A number ("-5", "+1.5e3") is a number, not a formula, and stays."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _formula_rows(cells: dict[str, Cells]) -> np.ndarray:
    """The rows where some cell starts like a formula (numbers included; ``neutralised`` decides)."""
    rows = np.zeros(len(next(iter(cells.values()))) if cells else 0, bool)
    for column in cells.values():
        buf = np.frombuffer(column.data, np.uint8)
        if len(buf):
            rows |= (column.widths > 0) & _FORMULA_BYTE[buf[np.minimum(column.starts, len(buf) - 1)]]
    return rows


def _may_hold_formulas(block: bytes) -> bool:
    """False when no cell of a block on the numpy path (no quotes, no CR) can start like a formula:
    a cell starts at the block's start or after a comma or LF. Cheaper than ``_formula_rows``: =, @
    and tab are rare and found by memchr; - and + (in ids, dates) are looked at where they are."""
    if block[:1] in (b"-", b"+") or b"=" in block or b"@" in block or b"\t" in block:
        return True
    for sign in b"-+":
        if bytes([sign]) in block:
            buf = np.frombuffer(block, np.uint8)
            before = buf[np.flatnonzero(buf == sign) - 1]
            if ((before == _COMMA) | (before == _NEWLINE)).any():
                return True
    return False


class CsvWriter:
    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str], *, raw_cells: bool = False):
        self._sink, self._columns = sink, list(columns)
        self._cell = str if raw_cells else neutralised
        sink.write((_csv_line([self._cell(c) for c in (*columns, *results)]) + "\n").encode("utf-8"))

    def write(self, chunk: Chunk, tpp: np.ndarray, density: np.ndarray, outcome: np.ndarray, outcomes: list) -> None:
        cell = self._cell
        # The five outcome fields are few distinct values: quote them once, not once per row.
        tails = [("," + _csv_line([cell(_text(v)) for v in o.fields()]) + "\n").encode("utf-8") for o in outcomes]
        if chunk.block is not None and not (cell is neutralised and _may_hold_formulas(chunk.block)):
            starts, ends = chunk.cells[self._columns[0]].starts, chunk.cells[self._columns[-1]].ends
            tails = [tail[1:] for tail in tails]
            # JOIN_ROWS at a time: a 2 MiB block of 4-byte lines holds 500,000 rows, whose output
            # at once took 130 MiB more at the peak.
            for at in range(0, len(chunk), JOIN_ROWS):
                rows = slice(at, at + JOIN_ROWS)
                self._sink.write(_joined(chunk.block, starts[rows], ends[rows], tpp[rows], density[rows], tails,
                                         outcome[rows]))
            return
        self._write_rows(chunk, slice(0, len(chunk)), tpp, density, tails, outcome)

    def _write_rows(self, chunk: Chunk, rows: slice, tpp: np.ndarray, density: np.ndarray, tails: list[bytes],
                    outcome: np.ndarray) -> None:
        """The rows of ``rows`` one by one: each a line (the one read, or its cells written again),
        its figures and its outcome's tail."""
        cell = self._cell
        # An object array: the tails hold the notices (2 KB a row under the 2026 rules), and a
        # fixed-width byte array as wide as the longest, per row, cost seconds and 400 MiB.
        tail_objects = np.empty(len(tails), object)
        tail_objects[:] = tails
        figures = np.strings.add(np.strings.add(np.strings.add(b",", tpp[rows]), b","), density[rows]).tolist()
        ends = tail_objects[outcome[rows]].tolist()
        numbers = range(len(chunk))[rows]
        if chunk.block is not None:
            begin, end = chunk.cells[self._columns[0]].starts[rows], chunk.cells[self._columns[-1]].ends[rows]
            lines = chunk.block[int(begin[0]):int(end[-1])].split(b"\n") if len(numbers) else []
            if cell is neutralised and _may_hold_formulas(chunk.block):
                # Copied lines hold no quote, CR or LF; a line with a formula-like cell is rewritten.
                for index in np.flatnonzero(_formula_rows(chunk.cells)[rows]).tolist():
                    row = numbers[index]
                    lines[index] = _csv_line([cell(chunk.cells[c].text(row)) for c in self._columns]).encode("utf-8")
            parts = [b""] * (3 * len(lines))
            parts[::3], parts[1::3], parts[2::3] = lines, figures, ends
        else:
            parts = [_csv_line([cell(_text(v)) for v in row]).encode("utf-8") + head + end
                     for row, head, end in zip(chunk.rows(self._columns)[rows], figures, ends)]
        # Written WRITE_ROWS rows at a time: one join of a whole chunk (70 MB with notices) maps
        # fresh pages every chunk, and faulting them in cost more than copying (5 s of CPU against
        # 1 s at 1M rows); a buffer of this size is reused.
        step = (3 if chunk.block is not None else 1) * WRITE_ROWS
        for start in range(0, len(parts), step):
            self._sink.write(b"".join(parts[start:start + step]))

    def close(self) -> None:
        self._sink.flush()


def _joined(block: bytes, starts: np.ndarray, ends: np.ndarray, tpp: np.ndarray, density: np.ndarray,
            tails: list[bytes], outcome: np.ndarray) -> memoryview:
    """The output lines of rows of a fast-path block (no quote, no CR or LF in a line; one row at
    least): each row's line ``block[starts[i]:ends[i]]`` as read, its TPP, its density and its outcome's tail (ending in
    LF), joined by commas. pyarrow joins them in C++, without the GIL the reading thread needs:
    a quarter of the time numpy took to pad, stack and squeeze the parts (bench/RESULTS.md)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Each line, then the line end after it, as one array of binaries over the block: the lines
    # are every other element, taken without a Python object a row.
    bounds = np.empty(2 * len(starts) + 1, np.int64)
    bounds[0:-1:2], bounds[1::2], bounds[-1] = starts, ends, ends[-1]
    pieces = pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(bounds) - 1, [None, pa.py_buffer(bounds),
                                                                                     pa.py_buffer(block)])
    lines = pieces.take(pa.array(np.arange(0, len(bounds) - 1, 2)))
    rows = pc.binary_join_element_wise(lines, pa.array(tpp, pa.large_binary()), pa.array(density, pa.large_binary()),
                                       pa.array(tails, pa.large_binary()).take(pa.array(outcome)),
                                       pa.scalar(b",", pa.large_binary()))
    offsets = np.frombuffer(rows.buffers()[1], np.int64)[rows.offset:rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def _csv_line(fields: list[str]) -> str:
    """One CSV record without its line end; a field holding a quote, comma, CR or LF is quoted."""
    out = io.StringIO()
    # csv quotes the line-end characters of its lineterminator only: name both CR and LF.
    csv.writer(out, lineterminator="\r\n").writerow(fields)
    return out.getvalue()[:-2]


# ---------------------------------------------------------------------------------- JSON Lines


class JsonlReader:
    """One JSON object per line; the first object's keys are the columns."""

    unit = "line"

    def __init__(self, stream: BinaryIO, where: str, chunk_rows: int = CHUNK_ROWS):
        self._stream, self._where, self._chunk_rows = stream, where, chunk_rows
        self._line = 0
        self._lines = _bounded_lines(stream, where)
        first = None
        for raw in self._lines:
            if not self._line:  # a UTF-8 byte-order mark, as in CSV
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            self._line += 1
            if raw.strip():
                first = raw
                break
        if first is None:
            raise InputError("the file is empty: no JSON object to take the columns from", where=where)
        where_first = f"{where}: line {self._line}"
        document, problem = _json_object(first)
        if problem is not None and problem != "not a JSON object":
            raise InputError(problem, where=where_first)
        if not document:
            raise InputError("the first line must be a JSON object: its keys name the columns", where=where_first)
        self.columns = _column_names(list(document), where_first)
        self._first = (self._line, first)

    def __iter__(self) -> Iterator[Chunk]:
        batch = [self._first]
        for raw in self._lines:
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


def _bounded_lines(stream: BinaryIO, where: str) -> Iterator[bytes]:
    """The lines of ``stream``, each read with a bound (a device or a file without line ends
    would otherwise be read into memory whole)."""
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise InputError(f"a line runs on for more than {MAX_LINE_BYTES >> 20} MiB: not JSON Lines?", where=where)
        yield raw


def _json_object(raw: bytes) -> tuple[dict, str | None]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return {}, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON ({exc.msg})"
    except ValueError as exc:  # an integer of thousands of digits (int's conversion limit)
        return {}, f"not readable JSON ({exc})"
    except RecursionError:
        return {}, "not readable JSON (nested too deeply)"
    if not isinstance(document, dict):
        return {}, "not a JSON object"
    return document, None


class JsonlWriter:
    """Cells as they are: JSON is not read as formulas (``raw_cells`` changes nothing)."""

    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str], *, raw_cells: bool = False):
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


def _pyarrow():
    """pyarrow and its Parquet module, imported when a batch first needs them (probe does not)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa, pq


class ParquetReader:
    unit = "row"

    def __init__(self, stream: BinaryIO, where: str, chunk_rows: int = CHUNK_ROWS):
        pa, pq = _pyarrow()
        try:
            self._file = pq.ParquetFile(stream)
            names = self._file.schema_arrow.names
        except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: a name that is not UTF-8
            raise InputError(f"not a Parquet file ({exc})", where=where) from None
        self.columns = _column_names(names, where)
        self._chunk_rows, self._where = chunk_rows, where

    def __iter__(self) -> Iterator[Chunk]:
        pa, _ = _pyarrow()
        first = 1
        batches = self._file.iter_batches(batch_size=self._chunk_rows)
        while True:
            # A corrupt page or a value Python cannot hold (a date past year 9999) spoils the
            # whole batch: pyarrow cannot say which row. The file is refused, naming the rows.
            try:
                batch = next(batches, None)
                if batch is None:
                    return
                columns = [batch.column(j).to_pylist() for j in range(batch.num_columns)]
            except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:
                raise InputError(f"rows from {first:,} on cannot be read: {exc}", where=self._where) from None
            cells = {c: Cells.from_texts([_text(v) for v in values]) for c, values in zip(self.columns, columns)}
            records = [list(row) for row in zip(*columns)]
            yield Chunk(first + np.arange(batch.num_rows), cells, {}, records=records, arrow=batch)
            first += batch.num_rows


class ParquetWriter:
    """Input columns keep their Parquet types; from other formats they are written as text.
    Typed columns are not read as formulas: ``raw_cells`` changes nothing."""

    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str], *, raw_cells: bool = False):
        self._pa, self._pq = _pyarrow()
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
                   pa.array([o.reason for o in picked], pa.string()),
                   pa.array([o.notices for o in picked], pa.string()), pa.array([o.error for o in picked], pa.string())]
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
        openpyxl, _ = _openpyxl(where)
        # openpyxl parses a zip of XML written by anyone: whatever it raises while it reads means
        # the file cannot be read, never a crash (only openpyxl's own calls are guarded so).
        try:
            book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 (zipfile.BadZipFile, InvalidFileException, XML ParseError, ...)
            raise InputError(f"not an Excel workbook ({exc})", where=where) from None
        self._where = where
        if not book.worksheets:  # a workbook's manifest may list none: nothing to read, and not a crash
            raise InputError("the workbook has no worksheet", where=where)
        self._rows = self._read_rows(book.worksheets[0].iter_rows(min_row=1, values_only=True))
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

    def _read_rows(self, rows: Iterator[tuple]) -> Iterator[tuple]:
        read = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 (see __init__: a corrupt sheet, not a crash)
                raise InputError(f"the first sheet cannot be read after row {read:,} ({type(exc).__name__}: {exc})",
                                 where=self._where) from None
            read += 1
            yield values

    def _chunk(self, numbers, records, problems) -> Chunk:
        cells = {c: Cells.from_texts([_text(r[j]) for r in records]) for j, c in enumerate(self.columns)}
        return Chunk(np.array(numbers, np.int64), cells, problems, records=records)


class ExcelWriter:
    """openpyxl stores text that starts with = as a formula: text cells are ``neutralised`` unless
    ``raw_cells``; numbers, booleans and dates keep their types."""

    def __init__(self, sink: BinaryIO, columns: Sequence[str], results: Sequence[str], *, raw_cells: bool = False):
        openpyxl, _ = _openpyxl("--output")
        self._sink, self._columns = sink, list(columns)
        self._cell = (lambda v: v) if raw_cells else (lambda v: neutralised(v) if isinstance(v, str) else v)
        self._book = openpyxl.Workbook(write_only=True)
        self._sheet = self._book.create_sheet("classified")
        self._sheet.append([self._cell(c) for c in (*columns, *results)])
        self._rows = 1

    def write(self, chunk: Chunk, tpp: np.ndarray, density: np.ndarray, outcome: np.ndarray, outcomes: list) -> None:
        self._rows += len(chunk)
        if self._rows > EXCEL_MAX_ROWS:
            raise InputError(f"an Excel sheet holds at most {EXCEL_MAX_ROWS - 1:,} rows; write CSV or Parquet",
                             field="--output")
        for row, t, d, k in zip(chunk.rows(self._columns), _texts(tpp), _texts(density), outcome.tolist()):
            self._sheet.append([self._cell(v) for v in (*map(_excel_value, row), t, d, *outcomes[k].fields())])

    def close(self) -> None:
        try:
            self._book.save(self._sink)
        except BaseException:
            # A failed save (a full disk) leaves openpyxl's row writer open; closing it here keeps
            # its cleanup from printing a second error when it is collected.
            with contextlib.suppress(Exception):
                self._sheet.close()
            raise


def _excel_value(value: object) -> object:
    # Excel cells hold numbers, text, booleans and dates; anything else (Decimal, lists) as text.
    if value is None or isinstance(value, (str, int, float, bool)) or hasattr(value, "isoformat"):
        return value
    return str(value) if not isinstance(value, Decimal) else format(value, "f")


READERS = {"csv": CsvReader, "jsonl": JsonlReader, "parquet": ParquetReader, "xlsx": ExcelReader}
WRITERS = {"csv": CsvWriter, "jsonl": JsonlWriter, "parquet": ParquetWriter, "xlsx": ExcelWriter}
