"""``tppcalc batch`` from the command line: files, formats, summary, exit codes; stdout and
stderr asserted separately."""

import csv
import functools
import io
import json
import subprocess
import sys

import openpyxl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import tppcalc.batch.io as batch_io
from tppcalc.batch import FORMATS, classify_file
from tppcalc.cli.batch import EXIT_CONTROLLED, EXIT_ROW_ERRORS, FORMAT_NAMES, batch
from tppcalc.cli.main import _Group

PRODUCTS = ("sku,dense_fp8_tflops,dense_int8_tops,die_area_mm2,datacenter,chip\n"
            "h100,1978.9,1978.9,814,true,\n"
            "four8,,600,,true,\n"
            "small,,100,,true,\n"
            "open,,250,,true,\n"
            "bad,3958*,,,true,\n"
            "cat,,,,,H100 SXM\n")
OUTSIDE_ONLY = "sku,dense_int8_tops\nsmall,100\ntiny,1\n"


def run_batch(*args: str):
    """The command inside a group that, like ``tppcalc``'s own, turns domain errors into exit 1."""
    group = _Group("tppcalc", commands=[batch])
    return CliRunner().invoke(group, ["batch", *args], catch_exceptions=False)


@pytest.fixture
def products(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS)
    return path


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_to_stdout_with_the_summary_on_stderr(products):
    result = run_batch(str(products), "--dest", "CN", "--as-of", "2026-02-01")
    assert result.exit_code == 0, result.stderr
    rows = csv_rows(result.stdout)
    assert [r["sku"] for r in rows] == ["h100", "four8", "small", "open", "bad", "cat"]
    assert [r["eccn"] for r in rows] == ["3A090.a", "3A090.a", "outside 3A090", "", "", "3A090.a"]
    assert [r["license_required"] for r in rows] == ["true", "true", "false", "", "", "true"]
    assert list(rows[0])[-7:] == ["tpp", "performance_density", "eccn", "license_required", "reason", "notices",
                                  "error"]
    # The summary is a table of rows per outcome, under a heading with the time taken.
    heading, header, rule, *lines = result.stderr.splitlines()
    assert heading.startswith("tppcalc batch (") and heading.endswith(" s):")
    assert header.split() == ["outcome", "rows"] and set(rule) == {"─"}
    assert [line.split() for line in lines[:5]] == [["controlled", "3"], ["undetermined", "1"], ["outside", "1"],
                                                    ["errors", "1"], ["all", "6"]]
    # then the text of each notice the rows name by id, once
    assert lines[5:7] == ["", "Notices (the rows' notices column names them by id):"]
    noticed = {key for r in rows for key in r["notices"].split("; ") if key}
    assert noticed and {line.split(":")[0].strip(" -") for line in lines[7:] if line.startswith("  - ")} == noticed


def test_json_summary(products):
    result = run_batch(str(products), "--as-of", "2026-02-01", "--json-summary", "-o", "-")
    summary = json.loads(result.stderr)
    assert {k: summary[k] for k in ("rows", "controlled", "undetermined", "errors")} == \
        {"rows": 6, "controlled": 3, "undetermined": 1, "errors": 1}
    assert summary["seconds"] >= 0


def test_the_rules_options_reach_every_row(products):
    def licences(*args):
        return [r["license_required"] for r in csv_rows(run_batch(str(products), "--as-of", "2026-02-01",
                                                                  *args).stdout)]
    # The undetermined row needs no licence to DE whatever its ECCN, so that answer is definite.
    assert licences("--dest", "DE") == ["false", "false", "false", "false", "", "false"]
    assert licences("--dest", "DE", "--hq", "CN") == ["true", "true", "false", "", "", "true"]
    assert licences("--dest", "CN") == ["true", "true", "false", "", "", "true"]
    assert licences() == ["", "", "", "", "", ""]  # no destination: not evaluated
    old = csv_rows(run_batch(str(products), "--edition", "2022-10-07", "--as-of", "2022-12-01").stdout)
    assert [r["eccn"] for r in old][:3] == ["", "", "outside 3A090"]  # I/O rate unknown in 2022
    assert "I/O rate unknown" in old[0]["reason"]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def read_xlsx(path):
    values = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


@pytest.mark.parametrize("suffix, read", [(".jsonl", read_jsonl), (".parquet", lambda p: pq.read_table(p).to_pylist()),
                                          (".xlsx", read_xlsx)])
def test_output_format_from_the_extension(products, tmp_path, suffix, read):
    out = tmp_path / f"classified{suffix}"
    result = run_batch(str(products), "-o", str(out), "--as-of", "2026-02-01")
    assert result.exit_code == 0 and result.stdout == ""
    documents = read(out)
    assert [d["eccn"] for d in documents] == ["3A090.a", "3A090.a", "outside 3A090", None, None, "3A090.a"]
    assert documents[1]["tpp"] == "4800"


def test_format_on_stdout_and_for_an_input_without_a_telling_extension(products, tmp_path):
    result = run_batch(str(products), "--format", "jsonl", "--as-of", "2026-02-01")
    assert [json.loads(line)["sku"] for line in result.stdout.splitlines()] == \
        ["h100", "four8", "small", "open", "bad", "cat"]
    listing = tmp_path / "products.txt"
    listing.write_text(PRODUCTS)
    assert run_batch(str(listing), "--as-of", "2026-02-01").exit_code == 1
    result = run_batch(str(listing), "--format", "csv", "--as-of", "2026-02-01")
    assert result.exit_code == 0 and len(csv_rows(result.stdout)) == 6


def test_binary_input_goes_to_stdout_as_csv(products, tmp_path):
    book = openpyxl.Workbook()
    for record in csv.reader(io.StringIO(PRODUCTS)):
        book.active.append(record)
    path = tmp_path / "products.xlsx"
    book.save(path)
    result = run_batch(str(path), "--as-of", "2026-02-01")
    assert result.exit_code == 0 and csv_rows(result.stdout)[0]["eccn"] == "3A090.a"


@pytest.mark.parametrize("text, code", [(PRODUCTS, EXIT_CONTROLLED), (OUTSIDE_ONLY, 0),
                                        ("sku,dense_int8_tops,datacenter\nopen,250,true\n", EXIT_CONTROLLED),
                                        ("sku,dense_int8_tops\nbad,-1\nsmall,100\n", EXIT_CONTROLLED)])
def test_fail_on_controlled(tmp_path, text, code):
    """Exit 3 unless every row is proven outside: controlled, undetermined and error rows all count."""
    path = tmp_path / "in.csv"
    path.write_text(text)
    result = run_batch(str(path), "--fail-on", "controlled", "--as-of", "2026-02-01")
    assert result.exit_code == code, result.stderr
    assert csv_rows(result.stdout)  # the output is written either way


@pytest.mark.parametrize("text, flags, code", [
    (PRODUCTS, ["--fail-on", "error"], EXIT_ROW_ERRORS),
    (OUTSIDE_ONLY, ["--fail-on", "error"], 0),
    ("sku,dense_int8_tops\nh100,2000\n", ["--fail-on", "error"], 0),
    (PRODUCTS, ["--fail-on", "controlled", "--fail-on", "error"], EXIT_ROW_ERRORS),
    ("sku,dense_int8_tops\nbig,2000\n", ["--fail-on", "controlled", "--fail-on", "error"], EXIT_CONTROLLED),
])
def test_fail_on_error(tmp_path, text, flags, code):
    path = tmp_path / "in.csv"
    path.write_text(text)
    assert run_batch(str(path), *flags, "--as-of", "2026-02-01").exit_code == code


@pytest.mark.parametrize("content, args, words", [
    (None, [], "No such file"),
    ("", [], "the file is empty"),
    ("sku,dense_fp8_tflop\nx,1\n", [], "did you mean 'dense_fp8_tflops'?"),
    (PRODUCTS, ["--edition", "1999-01-01"], "unknown edition"),
    (PRODUCTS, ["--dest", "Narnia"], "--dest: unknown country"),
    (PRODUCTS, ["--as-of", "2020-01-01"], "no advanced-computing rule was in force"),
])
def test_file_level_problems_exit_1_with_one_line_and_leave_no_output(tmp_path, content, args, words):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out.csv"
    out.write_text("the previous output\n")
    result = run_batch(str(path), "-o", str(out), *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("tppcalc: error: ") and words in result.stderr
    assert result.stderr.count("\n") == 1
    assert out.read_text() == "the previous output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.csv"] + (["in.csv"] if content is not None else []))


def test_an_output_folder_that_does_not_exist_is_an_error(products, tmp_path):
    result = run_batch(str(products), "-o", str(tmp_path / "missing" / "out.csv"))
    assert result.exit_code == 1 and "--output" in result.stderr


@pytest.mark.parametrize("args", [["--fail-on", "sometimes"], ["--format", "tsv"], []])
def test_usage_errors_exit_2(products, args):
    result = run_batch(*([str(products)] if args else []), *args)
    assert result.exit_code == 2 and result.stdout == ""


def test_the_cli_format_names_are_the_batch_formats():
    assert FORMAT_NAMES == tuple(FORMATS)


def test_loading_the_command_imports_no_numpy():
    code = "import sys, tppcalc.cli.batch; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_classify_file_reports_its_progress_after_each_chunk(monkeypatch):
    monkeypatch.setitem(batch_io.READERS, "csv", functools.partial(batch_io.CsvReader, block_bytes=61))
    text = "chip,quantity\n" + "H100 SXM,1\n" * 40
    done = []
    summary = classify_file(io.BytesIO(text.encode()), io.BytesIO(), input_format="csv", progress=done.append)
    assert len(done) > 1 and done == sorted(done) and done[-1] == summary.rows == 40


def test_the_summary_names_every_unresolved_chip(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("chip\nZ9000\nH100 SXM\nZ9000\nQuux 7\n")
    result = run_batch(str(path), "--as-of", "2026-02-01", "-o", "-")
    assert result.exit_code == 0
    assert "2 chip names not resolved" in result.stderr
    assert "'Z9000': 2 lines, first line 2" in result.stderr and "'Quux 7': 1 line, first line 5" in result.stderr
