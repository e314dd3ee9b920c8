"""Spec-sheet batch mode: a file of chips in, the same file with metrics and classification out.

    >>> from tppcalc.batch import classify_file
    >>> with open("products.csv", "rb") as source, open("classified.csv", "wb") as sink:
    ...     summary = classify_file(source, sink, input_format="csv", dest="CN")

The pipeline is reader -> engine -> writer, one chunk at a time (``io`` and ``engine``). Every
input row gives exactly one output row, in order: a row that cannot be classified keeps its place
with ``error`` set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

import numpy as np

from tppcalc.batch.engine import COLUMNS, RESULT_COLUMNS, Engine, Rows
from tppcalc.batch.io import FORMATS, READERS, WRITERS, Chunk, format_of
from tppcalc.data.catalogue import Catalogue, default_catalogue

__all__ = ["COLUMNS", "FORMATS", "RESULT_COLUMNS", "Summary", "classify_file", "format_of"]


@dataclass
class Summary:
    """What a run found. ``controlled``: rows in a 3A090/4A090 paragraph; ``undetermined``: rows
    that may be, for want of a figure; ``errors``: rows that could not be classified."""

    rows: int = 0
    controlled: int = 0
    undetermined: int = 0
    errors: int = 0
    seconds: float = 0.0
    # Every chip name the catalogue did not resolve (issue 16 item 7), in the order first seen:
    # {"name", "rows", "first" (where), "why" ("unknown" | "ambiguous"), "suggestions" | "candidates"}.
    unresolved: list[dict] = field(default_factory=list)
    unresolved_left_out: int = 0  # further names, beyond engine.MAX_UNRESOLVED_NAMES
    # The text of every notice some row carries, once: the rows' `notices` column names them by id
    # (2 KB of the same policy texts on every row made the output ten times the input).
    notices: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def classify_file(
    source: BinaryIO,
    sink: BinaryIO,
    *,
    input_format: str,
    output_format: str | None = None,
    where: str = "input",
    dest: str | None = None,
    hq: str | None = None,
    as_of: dt.date | None = None,
    edition: str | None = None,
    as_written: bool = False,
    catalogue: Callable[[], Catalogue] = default_catalogue,
    progress: Callable[[int], None] | None = None,
    raw_cells: bool = False,
) -> Summary:
    """Classify every row of ``source`` and write them, with the result columns, to ``sink``;
    ``progress(rows)`` is called with the number of rows done after each chunk. CSV and Excel
    output neutralise text cells a spreadsheet would run as formulas (``io.neutralised``) unless
    ``raw_cells``.

    Raises ``InputError`` for a file that cannot be read as a whole (empty, unknown columns, not
    UTF-8 in the header); problems with single rows go into their ``error`` field instead.
    """
    start = time.perf_counter()
    reader = READERS[input_format](source, where)
    engine = Engine(reader.columns, unit=reader.unit, where=where, dest=dest, hq=hq, as_of=as_of,
                    edition=edition, as_written=as_written, catalogue=catalogue)
    writer = WRITERS[output_format or input_format](sink, reader.columns, RESULT_COLUMNS, raw_cells=raw_cells)
    summary = Summary()
    # A chunk makes hundreds of thousands of short-lived objects and no cycles: collecting
    # garbage while they are alive only rescans them (it doubled the time of a run).
    collecting = gc.isenabled()
    gc.disable()
    chunks = _read_ahead(reader, engine)
    try:
        for chunk, rows in chunks:
            results = engine.decide(rows)
            writer.write(chunk, *results.texts(), results.outcome, results.outcomes)
            counts = np.bincount(results.outcome, minlength=len(results.outcomes))
            for outcome, count in zip(results.outcomes, counts.tolist()):
                if count:
                    summary.notices.update(outcome.notice_texts)
                summary.controlled += count if outcome.controlled else 0
                summary.undetermined += count if outcome.eccn is None and outcome.error is None else 0
                summary.errors += count if outcome.error is not None else 0
            summary.rows += len(chunk)
            if progress is not None:
                progress(summary.rows)
    except BaseException:
        # Close the writer (no open handles), but report the first failure, not a second one
        # that closing a sink that already failed (a full disk) would raise.
        with contextlib.suppress(Exception):
            writer.close()
        raise
    else:
        writer.close()  # its errors (the last flush on a full disk) are the run's errors
    finally:
        chunks.close()  # the reading thread stops
        if collecting:
            gc.enable()
    summary.unresolved = list(engine.unresolved.values())
    summary.unresolved_left_out = engine.unresolved_left_out
    summary.seconds = time.perf_counter() - start
    return summary


def _read_ahead(reader: Iterable[Chunk], engine: Engine) -> Iterator[tuple[Chunk, Rows]]:
    """The reader's chunks, each with ``engine.read(chunk)`` (its cells parsed, its ids checked),
    read and parsed one chunk ahead on a second thread while the caller classifies and writes
    (file reads and numpy's loops let go of the GIL, so the two use both cores). Only the reader
    and ``Engine.read`` run there: every callable a caller gives (the catalogue, progress) stays
    on the caller's thread. The reader's errors are raised here, where the chunk they stopped
    would have been."""
    handed: queue.SimpleQueue = queue.SimpleQueue()
    turn = threading.Semaphore(1)  # one chunk ahead at most: the next is read once the last is taken
    stop = threading.Event()

    def my_turn() -> bool:
        """Wait until the caller has taken the last chunk; False once the caller has stopped."""
        while not stop.is_set():
            if turn.acquire(timeout=0.05):
                return True
        return False

    def work():
        try:
            chunks = iter(reader)
            while my_turn():
                chunk = next(chunks, None)
                handed.put(None if chunk is None else (chunk, engine.read(chunk)))
                if chunk is None:
                    return
        except BaseException as exc:  # raised on the caller's thread
            handed.put(exc)

    thread = threading.Thread(target=work, name="tppcalc-batch-read", daemon=True)
    thread.start()
    try:
        while (item := handed.get()) is not None:
            turn.release()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The caller stopped (done, an error, a closed generator): the thread stops before its
        # next read. It is not waited for: a read may block on a pipe that no longer feeds it.
        stop.set()
