"""--compare-stream: the C STREAM triad is built at run time, run, read strictly, or says why not."""

import json

import pytest

from tppcalc.measure import stream
from tppcalc.measure.stream import _parse, find_compiler, run_stream_triad

needs_compiler = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on this machine")


@needs_compiler
def test_the_c_triad_builds_runs_and_reports_stream_bytes():
    result = run_stream_triad(1 << 16, 3, 1)
    assert result.reason is None, result.reason
    assert result.gbps > 0 and result.threads >= 1 and "-O3" in result.command


def test_without_a_compiler_it_says_so(monkeypatch):
    monkeypatch.setattr(stream, "find_compiler", lambda: None)
    result = run_stream_triad(1 << 16, 3, 1)
    assert result.gbps is None and "no C compiler" in result.reason
    assert "not run: no C compiler" in result.describe(10.0)


@pytest.mark.parametrize("output", ["", "triad_gbps nan\nthreads 1", "triad_gbps -3\nthreads 1",
                                    "triad_gbps inf\nthreads 1", "triad_gbps 12.5\nthreads x", "garbage"])
def test_unreadable_output_is_a_reason_not_a_figure(output):
    result = _parse(output, "cc -O3")
    assert result.gbps is None and result.reason


def test_a_figure_is_compared_with_ours():
    assert "+10.0% from it" in _parse("triad_gbps 10.0\nthreads 2\n", "cc -O3").describe(11.0)


@needs_compiler
def test_bench_cpu_compare_stream_json(run_cli):
    result = run_cli("bench", "--cpu", "--quick", "--json", "--compare-stream")
    assert result.exit_code == 0, result.stderr
    (device,) = json.loads(result.stdout)["devices"]
    triad = device["stream_triad"]
    assert triad["gbps"] > 0 and triad["tppcalc_over_stream"] is not None
    assert any(note.startswith("STREAM triad (C") for note in device["notes"])
