"""Batch mode speed, side by side with the scalar API, and its memory at 10 million rows.

Goals (issue 7): 1,000,000 spec rows of CSV read, classified and written in under 5 s; the engine
alone at 1,000,000 rows/s or more; the batch path 50x or more faster per row than a loop over
``classify(spec_from_figures(...))``; 10,000,000 rows in 2 GB or less. Issue 20: 1,000,000 rows
with ids in 1.2 s and 100x the scalar loop measured in the same run (``speedup`` in the end-to-end
benchmark's extra info); 10,000,000 rows under 400 MiB, flat from 1M. Measured, not asserted:
figures in bench/RESULTS.md. The input is generated here, into a temporary folder.
"""

import csv
import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tppcalc import classify, spec_from_figures
from tppcalc.batch import classify_file
from tppcalc.batch.engine import Engine
from tppcalc.batch.io import CsvReader

ROWS = 1_000_000
SCALAR_ROWS = 5_000  # the per-row loop is timed on the first rows of the same sheet
RULES = {"dest": "CN", "as_of": dt.date(2026, 2, 1)}
HEADER = ("id,vendor,dense_fp16_tflops,dense_fp8_tflops,dense_int8_tops,die_area_mm2,datacenter,"
          "io_bidir_gbps,dram_bandwidth_gbps")


def write_spec_sheet(path: Path, rows: int, seed: int = 7) -> Path:
    """A vendor's spec sheet: fp16/fp8/int8 rates with one decimal, die area mostly given,
    datacenter true/false/unknown, I/O and DRAM mostly given; 1 row in 1,000 exactly on TPP 4800."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as out:
        out.write(HEADER + "\n")
        for start in range(0, rows, 200_000):
            n = min(200_000, rows - start)
            fp8 = np.round(rng.uniform(10, 5000, n), 1)
            fp8[rng.random(n) < 0.001] = 600.0  # int8 600 = TPP 4800: exact, and re-checked apart (engine docstring)
            area = np.where(rng.random(n) < 0.05, "", np.round(rng.uniform(50, 900, n), 1).astype(str))
            flag = rng.choice(["true", "false", ""], n, p=[0.7, 0.2, 0.1])
            io = rng.choice(["900", "600", "1800", ""], n)
            dram = rng.choice(["3350", "8000", "4800", ""], n)
            out.writelines(f"sku-{start + i},ACME,{a / 2:.2f},{a:.1f},{a:.1f},{b},{c},{d},{e}\n"
                           for i, (a, b, c, d, e) in enumerate(zip(fp8.tolist(), area.tolist(), flag.tolist(),
                                                                   io.tolist(), dram.tolist())))
    return path


@pytest.fixture(scope="module")
def spec_sheet(tmp_path_factory) -> Path:
    return write_spec_sheet(tmp_path_factory.mktemp("batch") / "spec-sheet.csv", ROWS)


def test_batch_csv_end_to_end(benchmark, spec_sheet, tmp_path):
    """Read, classify and write 1,000,000 rows, in process."""
    def run():
        with open(spec_sheet, "rb") as source, open(tmp_path / "out.csv", "wb") as sink:
            return classify_file(source, sink, input_format="csv", **RULES)

    cpu = time.process_time()
    summary = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    cpu_per_round = (time.process_time() - cpu) / 4  # the warm-up round included
    assert summary.rows == ROWS and summary.errors == 0
    # The scalar loop in the same run, on the same machine load: the goal is a ratio (of wall
    # times, and of CPU times, which a loaded machine disturbs less).
    rows = first_rows(spec_sheet, SCALAR_ROWS)
    started, cpu = time.perf_counter(), time.process_time()
    scalar_loop(rows)
    scalar_per_row = (time.perf_counter() - started) / SCALAR_ROWS
    scalar_cpu_per_row = (time.process_time() - cpu) / SCALAR_ROWS
    per_row = benchmark.stats.stats.median / ROWS
    benchmark.extra_info.update(rows=ROWS, us_per_row=per_row * 1e6, cpu_s_per_round=round(cpu_per_round, 2),
                                scalar_us_per_row=round(scalar_per_row * 1e6), speedup=round(scalar_per_row / per_row),
                                cpu_speedup=round(scalar_cpu_per_row * ROWS / cpu_per_round))


@pytest.fixture(scope="module")
def chunks(spec_sheet):
    with open(spec_sheet, "rb") as source:
        reader = CsvReader(source, "bench")
        return reader.columns, list(reader)


def test_batch_reading_cells(benchmark, chunks):
    """Parse and check the cells of 1,000,000 rows split from the file: numbers, flags, ids."""
    columns, split = chunks

    def run():
        engine = Engine(columns, **RULES)  # a fresh one: ids must be new to it
        return [engine.read(chunk) for chunk in split]

    assert sum(len(rows.numbers) for rows in benchmark.pedantic(run, rounds=3, iterations=1)) == ROWS
    benchmark.extra_info.update(rows=ROWS, rows_per_second=ROWS / benchmark.stats.stats.median)


def test_batch_engine_alone(benchmark, chunks):
    """Classify 1,000,000 parsed rows: numpy, and the scalar engine on the rows on a line."""
    columns, split = chunks
    engine = Engine(columns, **RULES)
    parsed = [engine.read(chunk) for chunk in split]

    def run():
        fresh = Engine(columns, **RULES)  # nothing learned from an earlier round
        return sum(len(fresh.decide(rows).outcome) for rows in parsed)

    assert benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1) == ROWS
    benchmark.extra_info.update(rows=ROWS, rows_per_second=ROWS / benchmark.stats.stats.median)


def first_rows(sheet: Path, count: int) -> list[dict]:
    with open(sheet, newline="") as source:
        return [row for _, row in zip(range(count), csv.DictReader(source))]


def scalar_loop(rows: list[dict]) -> None:
    """Each row through ``classify(spec_from_figures(...))``, one at a time."""
    flags = {"true": True, "false": False, "": None}
    for row in rows:
        rates = {"fp16": row["dense_fp16_tflops"], "fp8": row["dense_fp8_tflops"], "int8": row["dense_int8_tops"]}
        area = row["die_area_mm2"]
        spec = spec_from_figures(rates, dies=[(area, "finfet")] if area else (), datacenter=flags[row["datacenter"]],
                                 io_bidir_gbps=row["io_bidir_gbps"] or None,
                                 dram_bandwidth_gbps=row["dram_bandwidth_gbps"] or None)
        classify(spec, **RULES)


def test_scalar_api_per_row_loop(benchmark, spec_sheet):
    """The same rows through ``classify(spec_from_figures(...))`` one at a time."""
    rows = first_rows(spec_sheet, SCALAR_ROWS)
    benchmark.pedantic(scalar_loop, args=(rows,), rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(rows=SCALAR_ROWS, us_per_row=benchmark.stats.stats.median / SCALAR_ROWS * 1e6)


def test_batch_command_end_to_end(benchmark, spec_sheet, tmp_path):
    """``tppcalc batch`` in a new process: interpreter start, imports, 1,000,000 rows."""
    command = [sys.executable, "-m", "tppcalc", "batch",
               str(spec_sheet), "-o", str(tmp_path / "out.csv"), "--dest", "CN", "--as-of", "2026-02-01"]
    result = benchmark.pedantic(subprocess.run, args=(command,), kwargs={"capture_output": True, "check": True},
                                rounds=3, warmup_rounds=1)
    assert re.search(rb"^all +1,000,000$", result.stderr, re.MULTILINE)  # the summary's last line


@pytest.mark.parametrize("millions", [1, 10])
def test_batch_memory_at_ten_million_rows(benchmark, tmp_path, millions):
    """Peak resident memory of a process classifying 1,000,000 and 10,000,000 rows with ids (the
    larger input is about 560 MB): flat in the number of rows is the goal (issue 20)."""
    sheet = write_spec_sheet(tmp_path / "sheet.csv", millions * ROWS)
    # The child's own peak (VmHWM): Linux keeps ru_maxrss across execve, so it would report this
    # pytest process's peak (about 250 MiB after writing the sheet) whenever that is the larger.
    code = ("import sys, resource, datetime; from tppcalc.batch import classify_file\n"
            "with open(sys.argv[1], 'rb') as s, open(sys.argv[2], 'wb') as o:\n"
            "    r = classify_file(s, o, input_format='csv', dest='CN', as_of=datetime.date(2026, 2, 1))\n"
            "try:\n"
            "    peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
            "except (OSError, StopIteration):\n"
            "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(r.rows, peak)")
    result = benchmark.pedantic(subprocess.run, args=([sys.executable, "-c", code, str(sheet), str(tmp_path / "o.csv")],),
                                kwargs={"capture_output": True, "check": True, "text": True}, rounds=1)
    rows, peak_kib = map(int, result.stdout.split())
    assert rows == millions * ROWS
    benchmark.extra_info.update(rows=rows, peak_rss_mib=round(peak_kib / 1024))
