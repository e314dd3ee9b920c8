"""What ``tppcalc batch`` writes, and what it refuses to write: formula cells neutralised, every
write checked (ENOSPC, EFBIG, EPIPE end with exit 1 and one line), no output that is the input or a
device, no temporary left behind; inputs that are pipes (issue 14, items 7, 8, 9, 11)."""

import csv
import io
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tppcalc.batch import classify_file
from tppcalc.batch.io import neutralised

ROOT = Path(__file__).resolve().parent.parent
RULES = ["--as-of", "2026-02-01", "--dest", "CN"]


def tppcalc(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """The real command in a new process (real file descriptors: /dev/full, pipes, signals)."""
    if "stdout" not in kwargs:
        kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "tppcalc", *args], cwd=ROOT, timeout=120, **kwargs)


def one_error_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1 and text.startswith("tppcalc: error: "), text
    return text


def many_rows(path: Path, rows: int = 30_000) -> Path:
    path.write_text("id,dense_int8_tops\n" + "".join(f"sku-{i},{i % 900 + 1}\n" for i in range(rows)))
    return path


# ------------------------------------------------------------------------- formula cells (item 9)


FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "=HYPERLINK(\"http://x\")"]


def test_formula_cells_are_neutralised_and_numbers_stay_numbers():
    assert [neutralised(t) for t in FORMULAS] == ["'" + t for t in FORMULAS]
    assert [neutralised(t) for t in ["-5", "+1.5e3", "-.5", "H100 SXM", "", "a=b", "'x"]] == \
        ["-5", "+1.5e3", "-.5", "H100 SXM", "", "a=b", "'x"]
    assert neutralised("\rx") == "'\rx" and neutralised("-inf") == "'-inf"


@pytest.mark.parametrize("quoted", [False, True], ids=["numpy path", "csv module path"])
def test_csv_output_neutralises_formula_cells_by_default(quoted):
    """OWASP's advice: a leading ' makes a spreadsheet show the text instead of running it."""
    notes = ["=1+1", "@SUM(A1:A2)", "-2+3", "-5", "plain"]
    extra = ',"quoted"' if quoted else ",x"
    text = "chip,note,other\n" + "".join(f"H100 SXM,{n}{extra}\n" for n in notes)
    out = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), out, input_format="csv", as_of=None)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert [r["note"] for r in rows] == ["'=1+1", "'@SUM(A1:A2)", "'-2+3", "-5", "plain"]
    assert all(r["eccn"] == "3A090.a" for r in rows)
    raw = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), raw, input_format="csv", raw_cells=True)
    assert [r["note"] for r in csv.DictReader(io.StringIO(raw.getvalue().decode()))] == notes


def test_excel_output_holds_no_live_formula_by_default():
    text = "chip,note,count\nH100 SXM,=1+1,-5\nH100 SXM,@A1,7\n"
    out = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), out, input_format="csv", output_format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    cells = list(sheet.iter_rows(min_row=2))
    assert all(cell.data_type != "f" for row in cells for cell in row)
    assert [row[1].value for row in cells] == ["'=1+1", "'@A1"] and cells[0][2].value == "-5"
    raw = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), raw, input_format="csv", output_format="xlsx", raw_cells=True)
    assert openpyxl.load_workbook(io.BytesIO(raw.getvalue())).active["B2"].data_type == "f"


def test_the_raw_cells_flag(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("chip,note\nH100 SXM,=1+1\n")
    neutral, raw = tppcalc("batch", str(source), *RULES), tppcalc("batch", str(source), "--raw-cells", *RULES)
    assert neutral.returncode == raw.returncode == 0
    assert b"H100 SXM,'=1+1," in neutral.stdout and b"H100 SXM,=1+1," in raw.stdout


# ------------------------------------------------------------------------------ line ends (item 7)


def test_a_cr_only_file_is_classified_and_the_gate_fails(tmp_path):
    """`printf 'chip\\rH100 SXM\\rH200 SXM\\r'` gave 0 rows and exit 0 under --fail-on controlled."""
    source = tmp_path / "cr.csv"
    source.write_bytes(b"chip\rH100 SXM\rH200 SXM\r")
    result = tppcalc("batch", str(source), "--fail-on", "controlled", "--json-summary", *RULES)
    assert result.returncode == 3
    assert b'"rows": 2' in result.stderr and result.stdout.count(b"3A090.a,true") == 2


# --------------------------------------------------------------------------------- writes (item 8)


@pytest.mark.parametrize("output_format", ["csv", "jsonl", "parquet", "xlsx"])
def test_a_full_disk_on_stdout_is_exit_1_with_one_line_and_no_summary(tmp_path, output_format):
    source = many_rows(tmp_path / "in.csv", rows=30_000 if output_format == "csv" else 3)
    with open("/dev/full", "wb") as full:
        result = tppcalc("batch", str(source), "--format", output_format, *RULES, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert "stdout: cannot write: No space left on device (ENOSPC)" in one_error_line(result.stderr)


def test_a_closed_pipe_on_stdout_is_exit_1_with_one_line(tmp_path):
    """`tppcalc batch big.csv | head -1`: EPIPE is an error (the output is incomplete), said once,
    and no 'Exception ignored' from the interpreter's last flush."""
    process = subprocess.Popen([sys.executable, "-m", "tppcalc", "batch", str(many_rows(tmp_path / "in.csv")), *RULES],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with process:
        process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
    assert process.returncode == 1
    assert "EPIPE" in one_error_line(stderr)


def test_efbig_leaves_no_output_and_no_temporary(tmp_path):
    source = many_rows(tmp_path / "in.csv")
    size = source.stat().st_size

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))  # the output is larger than the input

    result = tppcalc("batch", str(source), "-o", str(tmp_path / "out.csv"), *RULES, preexec_fn=limit)
    assert result.returncode == 1 and "EFBIG" in one_error_line(result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    source = tmp_path / "same.csv"
    source.write_text("chip\nH100 SXM\n")
    os.link(source, tmp_path / "alias.csv")
    for output in (source, tmp_path / "alias.csv"):
        result = tppcalc("batch", str(source), "-o", str(output), *RULES)
        assert result.returncode == 1 and "is the input" in one_error_line(result.stderr)
    assert source.read_text() == "chip\nH100 SXM\n"


@pytest.mark.parametrize("kind", ["folder", "device", "fifo"])
def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    source = tmp_path / "in.csv"
    source.write_text("chip\nH100 SXM\n")
    target = {"folder": tmp_path, "device": tmp_path / "null", "fifo": tmp_path / "fifo"}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        private_null_device(target)
    result = tppcalc("batch", str(source), "-o", str(target), *RULES)
    assert result.returncode == 1 and "--output" in one_error_line(result.stderr)
    assert stat_kind(target) == kind and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def private_null_device(path: Path) -> None:
    """A character device of our own, never the system's /dev/null: were the refusal ever to
    regress, running as root would replace the system's device with a regular file."""
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root (CAP_MKNOD)")


def stat_kind(path: Path) -> str:
    mode = os.stat(path).st_mode
    return "folder" if os.path.isdir(path) else "fifo" if (mode & 0o170000) == 0o010000 else "device"


# -------------------------------------------------------------------------- pipes as input (item 11)


def test_a_piped_stdin_is_read_as_csv(tmp_path):
    result = tppcalc("batch", "/dev/stdin", "--format", "csv", *RULES, input=b"chip\nH100 SXM\nH200 SXM\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b"3A090.a,true") == 2


def test_a_piped_parquet_file_is_one_clear_line(tmp_path):
    data = io.BytesIO()
    pq.write_table(pa.table({"chip": ["H100 SXM"]}), data)
    result = tppcalc("batch", "/dev/stdin", "--format", "parquet", *RULES, input=data.getvalue())
    assert result.returncode == 1 and "not a pipe" in one_error_line(result.stderr)


def test_sigterm_while_reading_a_fifo_leaves_no_output_and_no_temporary(tmp_path):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    out = tmp_path / "out.csv"
    process = subprocess.Popen([sys.executable, "-m", "tppcalc", "batch", str(fifo), "-o", str(out), *RULES],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer_done = threading.Event()

    def feed():
        with open(fifo, "wb") as pipe:  # opens once the command opens the FIFO
            pipe.write(b"chip\nH100 SXM\n")
            pipe.flush()
            writer_done.wait(60)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        deadline = time.monotonic() + 60
        while not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # say where it hung, then end it
            status = Path(f"/proc/{process.pid}/status").read_text()
            where = Path(f"/proc/{process.pid}/wchan").read_text()
            process.kill()
            process.communicate()
            pytest.fail(f"no exit 30 s after SIGTERM; wchan {where}; "
                        + "; ".join(line for line in status.splitlines() if line.startswith(("Sig", "Shd", "Thr"))))
    finally:
        writer_done.set()
        feeder.join()
    assert process.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("text", [
    "note,chip\n-2+3,H100 SXM\nsku-1,H100 SXM\n",      # the block's first byte
    "note,chip\nsku-1,H100 SXM\n+A1,H100 SXM\n",       # after an LF, with '-' inside other cells
    "chip,note\nH100 SXM,a-b\nH100 SXM,@x\n",           # after a comma
    "chip,note\nH100 SXM,a-b\nH100 SXM,\t=1\n",         # a tab
])
def test_formula_cells_are_found_wherever_they_start_on_the_numpy_path(text):
    out = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), out, input_format="csv")
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    cells = [cell for row in rows[1:] for cell in row[:2]]
    assert sum(cell.startswith("'") for cell in cells) == 1
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) or cell.lstrip("-").isdigit() for cell in cells)


@pytest.mark.parametrize("quoted", [False, True])
def test_csv_output_written_in_pieces_keeps_every_row_in_order(quoted):
    """CSV rows written row by row (here the block with a quote) go out io.WRITE_ROWS at a time;
    1,300 rows (three pieces and a part) come back once each and in order, as they do from the
    pyarrow join of a block without quotes."""
    import tppcalc.batch.io as batch_io

    count = 2 * batch_io.WRITE_ROWS + 276
    ids = ['"q"' if quoted and n == 5 else f"r{n}" for n in range(count)]
    text = "id,dense_int8_tops\n" + "".join(f"{key},{n + 1}\n" for n, key in enumerate(ids))
    sink = io.BytesIO()
    classify_file(io.BytesIO(text.encode()), sink, input_format="csv", dest="CN")
    rows = list(csv.DictReader(io.StringIO(sink.getvalue().decode())))
    assert [row["id"] for row in rows] == [("q" if quoted and n == 5 else f"r{n}") for n in range(count)]
    assert [row["tpp"] for row in rows] == [str(8 * (n + 1)) for n in range(count)]
