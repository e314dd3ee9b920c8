"""GPU kernels and their harness, without a GPU (issue: microbenchmark kernels).

- The generated code: numba-cuda kernels compiled to PTX, the CUDA C loops compiled by NVRTC for
  each architecture, and the linked kernels put through nvJitLink and ptxas: the instruction mix
  is what the theory assumes, and nothing spills to local memory.
- The numbers the kernels compute: run in numba's CUDA simulator (a subprocess, since the
  simulator replaces numba.cuda for the whole process).
- The harness: launch plans, theoretical rates, datasheet figures and verdicts, with NVML faked.
Never a speed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from tests.cuda_toolchain import compile_linked_kernel, nvrtc_ptx
from tppcalc.data.catalogue import default_catalogue
from tppcalc.data.resources import load_kernel_module
from tppcalc.measure import gpu
from tppcalc.measure.gpu import kernels as gpu_kernels
from tppcalc.measure.gpu import theory, timing
from tppcalc.measure.results import PrecisionResult
from tppcalc.probe.identify import gpu_architectures
from tppcalc.probe.nvml import NvmlCallError


@pytest.fixture(scope="module")
def kernels():
    return load_kernel_module("gpu.py")


def _loop_body(ptx: str) -> str:
    """The PTX between the loop's label and its backward branch (the timed loop)."""
    loops = re.findall(r"^(\$L__BB\d+_\d+):\n(.*?)@%p\d+ bra\s+\1;", ptx, flags=re.DOTALL | re.MULTILINE)
    assert loops, "no loop in the PTX"
    return max((body for _, body in loops), key=len)


# ---- numba-cuda kernels ----------------------------------------------------------------------

@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("cc", [(8, 0), (9, 0)])
def test_fma_kernel_loop_is_all_fma(kernels, bits, cc):
    from numba import cuda

    ptx, _ = cuda.compile_ptx(kernels.fma_function(bits), f"float{bits}[:], int64[:, :], int32, float{bits}, float{bits}",
                              cc=cc)
    body = _loop_body(ptx)
    assert body.count(f"fma.rn.f{bits}") == kernels.CHAINS * kernels.UNROLL
    instructions = [line for line in body.splitlines() if line.strip() and not line.strip().startswith("//")]
    assert len(instructions) <= kernels.CHAINS * kernels.UNROLL + 4  # the FMAs and the loop control
    assert ".local" not in ptx
    assert "%clock64" in ptx and "%globaltimer" in ptx


@pytest.mark.parametrize("name, signature", [
    ("copy", "float64[:], float64[:], int64[:, :]"),
    ("triad", "float64[:], float64[:], float64[:], float64, int64[:, :]"),
])
def test_bandwidth_kernels_keep_loads_in_flight(kernels, name, signature):
    from numba import cuda

    ptx, _ = cuda.compile_ptx(getattr(kernels, name), signature, cc=(9, 0))
    assert ".local" not in ptx
    loads = len(re.findall(r"\bld(?:\.global)?\.f64", ptx))
    assert loads >= 4


# ---- CUDA C loops, by architecture -----------------------------------------------------------

MMA_SHAPES = {"f16": "m16n8k16.row.col.f32.f16.f16.f32", "bf16": "m16n8k16.row.col.f32.bf16.bf16.f32",
              "tf32": "m16n8k8.row.col.f32.tf32.tf32.f32", "int8": "m16n8k32.row.col.s32.s8.s8.s32"}
WGMMA_SHAPES = ["m64n256k16.f32.f16.f16", "m64n256k16.f32.bf16.bf16", "m64n256k8.f32.tf32.tf32",
                "m64n256k32.f32.e4m3.e4m3", "m64n256k32.s32.s8.s8"]


def test_cuda_c_on_turing_has_packed_fp16_but_no_mma():
    ptx = nvrtc_ptx("sm_75")
    assert "fma.rn.f16x2" in ptx
    assert "mma.sync.aligned" not in ptx and "wgmma.mma_async" not in ptx


def test_cuda_c_on_ampere_has_every_mma_and_no_fp8():
    ptx = nvrtc_ptx("sm_80")
    for shape in MMA_SHAPES.values():
        assert f"mma.sync.aligned.{shape}" in ptx
    assert "e4m3" not in ptx and "wgmma.mma_async" not in ptx
    assert ".local" not in ptx


def test_cuda_c_on_ada_adds_fp8_mma():
    assert "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32" in nvrtc_ptx("sm_89")


def test_cuda_c_on_hopper_has_wgmma_only_for_sm_90a():
    assert "wgmma.mma_async" not in nvrtc_ptx("sm_90")  # plain sm_90 has no wgmma: the loops report NaN
    ptx = nvrtc_ptx("sm_90a")
    for shape in WGMMA_SHAPES:
        assert f"wgmma.mma_async.sync.aligned.{shape}" in ptx
    for fence in ("wgmma.fence.sync.aligned", "wgmma.commit_group.sync.aligned", "wgmma.wait_group.sync.aligned"):
        assert fence in ptx


@pytest.mark.parametrize("c_function, cc, instruction", [
    ("tpp_wgmma_fp16", (9, 0, "a"), "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16"),
    ("tpp_wgmma_fp8", (9, 0, "a"), "wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3"),
    ("tpp_mma_fp16", (8, 0), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"),
    ("tpp_mma_int8", (9, 0, "a"), "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32"),
    ("tpp_hfma2_loop", (9, 0, "a"), "fma.rn.f16x2"),
])
def test_linked_kernel_inlines_the_loop_without_spilling(kernels, c_function, cc, instruction):
    plan = next(p for p in gpu.kernel_plans(cc[:2]) if p.kernel == c_function)
    linked = compile_linked_kernel(kernels, c_function, cc, plan.threads_per_block)
    assert linked.spill_bytes() == 0, linked.ptxas_report
    assert "serializ" not in linked.ptxas_report  # ptxas serialises wgmma it cannot pipeline
    assert ".local" not in linked.ptx
    body = _loop_body(linked.ptx)
    per_iteration = 8 if "mma" in c_function else 8 * 16
    assert body.count(instruction) % per_iteration == 0 and body.count(instruction) >= per_iteration
    assert ".extern .func" not in linked.ptx  # LTO inlined the C function: no call in the loop
    if "wgmma" in c_function:
        assert linked.shared_bytes() == 4096 + 16384
        assert linked.registers() * plan.threads_per_block <= 65536


# ---- the simulator: the numbers the kernels compute ------------------------------------------

def test_kernels_compute_the_checked_values_in_the_simulator():
    script = textwrap.dedent("""
        import json, os
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        import numpy as np
        from tppcalc.data.resources import load_kernel_module
        k = load_kernel_module("gpu.py")
        found = {}
        for bits, dtype in ((32, np.float32), (64, np.float64)):
            out, clocks = np.zeros(6, dtype=dtype), np.zeros((2, 4), dtype=np.int64)
            k.make_fma_kernel(bits)[2, 3](out, clocks, 8, dtype(0.5), dtype(0.25))
            found[f"fp{bits}"] = out.tolist()
            found[f"fp{bits}_clocks_advance"] = bool((clocks[:, 1] >= clocks[:, 0]).all() and (clocks[:, 3] >= clocks[:, 2]).all())
        n = 1001
        a, b, c = np.zeros(n), np.arange(n, dtype=np.float64), np.full(n, 2.0)
        clocks = np.zeros((2, 4), dtype=np.int64)
        k.make_copy_kernel()[2, 4](a, b, clocks)
        found["copy"] = bool(np.array_equal(a, b))
        k.make_triad_kernel()[2, 4](a, b, c, 3.0, clocks)
        found["triad"] = bool(np.array_equal(a, b + 6.0))
        found["expected"] = k.expected_fma_result(0.25)
        print(json.dumps(found))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    found = json.loads(result.stdout)
    assert found["fp32"] == [found["expected"]] * 6 == [4.0] * 6
    assert found["fp64"] == [4.0] * 6
    assert found["fp32_clocks_advance"] and found["fp64_clocks_advance"]
    assert found["copy"] and found["triad"]


# ---- the harness ----------------------------------------------------------------------------

def test_plans_follow_the_architecture():
    hopper = {(p.kernel): p for p in gpu.kernel_plans((9, 0))}
    assert hopper["tpp_wgmma_fp16"].reaches_peak
    assert not hopper["tpp_mma_fp16"].reaches_peak and "lower bound" in hopper["tpp_mma_fp16"].reason
    ampere = {(p.kernel): p for p in gpu.kernel_plans((8, 0))}
    assert ampere["tpp_mma_fp16"].reaches_peak
    assert not any("wgmma" in k for k in ampere)


def test_operations_per_instruction_match_the_shapes():
    plans = {p.kernel: p for p in gpu.kernel_plans((9, 0))}
    # one warp's m16n8k16 is 2*16*8*16 = 4096 operations, shared by 32 threads, 8 per iteration
    assert plans["tpp_mma_fp16"].ops_per_thread_per_iteration * 32 == 4096 * 8
    # one warpgroup's m64n256k16 is 2*64*256*16 = 524288 operations over 128 threads, 8 per iteration
    assert plans["tpp_wgmma_fp16"].ops_per_thread_per_iteration * 128 == 524288 * 8
    assert plans["tpp_wgmma_fp8"].ops_per_thread_per_iteration == 2 * plans["tpp_wgmma_fp16"].ops_per_thread_per_iteration
    assert plans["fma_fp32"].ops_per_thread_per_iteration == 2 * 8 * 96


def test_older_gpus_report_what_they_cannot_run():
    plan = next(p for p in gpu.kernel_plans((7, 5)) if p.kernel == "tpp_mma_bf16")
    result, clock = gpu_kernels.run_plan(cuda=None, plan=plan, cc=(7, 5), sms=40, seconds=0.1)
    assert result.status == "cannot run" and "8.0" in result.reason and clock is None
    assert result.measured_tflops is None


def test_theory_for_h100_matches_its_datasheet():
    hopper = gpu_architectures()["9.0"]
    # 132 SMs x 2048 dense FP16 MACs x 2 at the 1830 MHz tensor clock: the datasheet's 989.4 TFLOPS
    assert gpu.theoretical_tflops(hopper, "tensor", "fp16", 132, 1830) == pytest.approx(989.4, abs=0.2)
    assert gpu.theoretical_tflops(hopper, "vector", "fp32", 132, 1980) == pytest.approx(66.9, abs=0.1)
    assert gpu.theoretical_tflops(hopper, "tensor", "fp4", 132, 1830) is None


def test_datasheet_figures_come_from_the_right_units():
    h100 = default_catalogue().lookup("H100 SXM")
    assert gpu.datasheet_tflops(h100, "tensor", "fp16") == pytest.approx(989.5)
    assert gpu.datasheet_tflops(h100, "vector", "fp32") == pytest.approx(67)
    assert gpu.datasheet_tflops(h100, "vector", "fp64") == pytest.approx(34)
    assert gpu.datasheet_tflops(None, "vector", "fp64") is None


def test_sm_count_check_flags_another_sku():
    h100 = default_catalogue().lookup("H100 SXM")
    hopper = gpu_architectures()["9.0"]
    assert theory.sku_check(h100, hopper, 132, 1980) == []
    (note,) = theory.sku_check(h100, hopper, 114, 1980)
    assert "different SKU" in note


def _result(precision="fp16", unit="tensor", measured=900.0, at_clock=990.0, declared=989.5, peak=True):
    return PrecisionResult(precision, measured, at_clock, measured / at_clock, at_clock, measured / at_clock, "k",
                           peak, unit=unit, datasheet_tflops=declared, fraction_of_datasheet=measured / declared)


def test_verdicts():
    quiet = gpu.ClockSamples()
    assert theory.verdict_against_label([_result()], 1830, 1980, quiet, []) == "consistent with its label"
    assert theory.verdict_against_label([_result(measured=600)], 1830, 1980, quiet, []).startswith("below its label at the clock")
    throttled = gpu.ClockSamples(reasons={"sw_power_cap"})
    assert "throttled" in theory.verdict_against_label([_result(measured=600)], 1830, 1980, throttled, [])
    assert "1200 MHz" in theory.verdict_against_label([_result()], 1200, 1980, quiet, [])
    above = theory.verdict_against_label([_result(measured=1200, at_clock=1300)], 1980, 1980, quiet, [])
    assert above.startswith("above the declared specification") and "red flag" in above
    only_lower_bound = theory.verdict_against_label([_result(measured=400, peak=False)], 1830, 1980, quiet, [])
    assert only_lower_bound.startswith("undetermined")
    cannot = PrecisionResult("fp8", None, None, None, None, None, "k", True, unit="tensor", status="cannot run",
                             reason="x")
    assert theory.verdict_against_label([cannot], None, 1980, quiet, []).startswith("undetermined")


class FakeNvml:
    def __init__(self, clocks, reasons_mask, fail=()):
        self._clocks, self._mask, self._fail = list(clocks), reasons_mask, fail

    def call(self, function, index, *args):
        if function in self._fail:
            raise NvmlCallError("NotSupported")
        return {"nvmlDeviceGetClockInfo": lambda: self._clocks.pop(0) if len(self._clocks) > 1 else self._clocks[0],
                "nvmlDeviceGetPowerUsage": lambda: 650_000, "nvmlDeviceGetTemperature": lambda: 71,
                "nvmlDeviceGetCurrentClocksEventReasons": lambda: self._mask}[function]()


def test_sampler_gathers_clocks_power_and_reasons_during_a_run():
    with gpu.NvmlSampler(FakeNvml([1980, 1755], 0x4 | 0x1), 0, interval_s=0.001) as sampler:
        pass
    summary = sampler.samples.summary()
    assert summary["sm_clock_mhz"]["max"] == 1980 and summary["sm_clock_mhz"]["min"] == 1755
    assert summary["power_watts"] == {"min": 650.0, "max": 650.0}
    assert summary["clock_event_reasons"] == ["sw_power_cap"]  # gpu_idle is not a throttle


def test_sampler_records_what_nvml_would_not_say():
    with gpu.NvmlSampler(FakeNvml([1980], 0, fail=("nvmlDeviceGetPowerUsage",)), 0, interval_s=0.001) as sampler:
        pass
    assert sampler.samples.summary()["errors"] == ["nvmlDeviceGetPowerUsage: NotSupported"]
    with gpu.NvmlSampler(None, None) as sampler:
        pass
    assert sampler.samples.summary()["sm_clock_mhz"] is None


def test_kernel_clock_is_cycles_over_nanoseconds():
    record = [[0, 1_980_000, 0, 1_000_000], [10, 1_830_010, 5, 1_000_005], [0, 0, 0, 0]]
    assert timing.kernel_clock_mhz(record) == pytest.approx((1980 + 1830) / 2)


def test_bench_says_why_a_gpu_cannot_be_measured(run_cli, monkeypatch):
    # Injected, so that it holds on a machine with a GPU too: numba-cuda finding no driver.
    def no_cuda():
        raise gpu.GpuMeasurementUnavailable("no CUDA driver or GPU is available to numba-cuda")

    monkeypatch.setattr(gpu, "open_cuda", no_cuda)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    result = run_cli("bench", "--device", "0")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("tppcalc: error:") and len(result.stderr.strip().splitlines()) == 1
    assert "numba-cuda" in result.stderr or "no CUDA" in result.stderr


def test_probe_bench_refuses_a_replayed_dump(run_cli):
    result = run_cli("probe", "--replay", "tests/fixtures/hosts/dgx-h100.json", "--bench")
    assert result.exit_code == 1 and result.stdout == ""
    assert "--bench" in result.stderr and "replayed" in result.stderr


def test_audit_report_shows_measurements_escaped(tmp_path):
    from tppcalc.probe.assess import assess
    from tppcalc.probe.run import load_dump, report_from_dump
    from tppcalc.render.html_report import write_node_html

    node = assess(report_from_dump(load_dump("tests/fixtures/hosts/dgx-h100.json")), default_catalogue())
    measured = _result(measured=850.0)
    document = {"host": "h", "unavailable": [], "devices": [{
        "kind": "gpu", "name": "<script>alert(1)</script>", "index": 0, "measured_clock_mhz": 1830.0,
        "memory_bandwidth_gbps": 2900.0, "memory_bandwidth_fraction": 0.87, "verdict": "consistent with its label",
        "results": [dict(measured.__dict__)]}]}
    path = write_node_html(node, tmp_path / "r.html", measurements=document, chart=False)
    html = path.read_text()
    assert "Measured against declared" in html and "85.9%" in html and "consistent with its label" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_harness_calibrates_checks_and_reads_the_clock_in_the_simulator():
    """run_plan end to end on the simulator (tiny launch; host timers stand in for CUDA events)."""
    script = textwrap.dedent("""
        import json, os, time
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        from dataclasses import replace
        from numba import cuda
        from tppcalc.measure import gpu
        from tppcalc.measure.gpu import kernels

        def timed(cuda, kernel, *args):
            start = time.perf_counter()
            kernel(*args)
            return time.perf_counter() - start

        kernels.timed = timed
        plan = replace(gpu.kernel_plans((9, 0))[1], threads_per_block=2, blocks_per_sm=1)
        found = {"kernel": plan.kernel}
        result, clock = kernels.run_plan(cuda, plan, (9, 0), 2, 0.02)
        found.update(status=result.status, tflops=result.measured_tflops, clock=clock)
        wrong, _ = kernels.run_plan(cuda, replace(plan, expected_fixed=5.0), (9, 0), 2, 0.02)
        found.update(wrong_status=wrong.status, wrong_reason=wrong.reason)
        print(json.dumps(found))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    found = json.loads(result.stdout)
    assert found["kernel"] == "fma_fp32"
    assert found["status"] == "measured" and found["tflops"] > 0
    assert found["clock"] == pytest.approx(1000, rel=0.01)  # both simulator clocks count nanoseconds
    assert found["wrong_status"] == "cannot run" and "wrong result" in found["wrong_reason"]


def test_measurement_table_shows_cannot_run_lower_bounds_and_the_verdict():
    import io

    from tppcalc.render.report import measurement_blocks
    from tppcalc.render.terminal import show

    cannot = PrecisionResult("fp8", None, None, None, None, None, "k", True, unit="tensor", status="cannot run",
                             reason="needs compute capability 8.9 or later")
    document = {"host": "h", "unavailable": [], "devices": [{
        "kind": "gpu", "name": "NVIDIA A100-SXM4-80GB", "index": 0, "compute_capability": "8.0",
        "multiprocessors": 108, "measured_clock_mhz": 1410.0, "memory_bandwidth_gbps": 1800.0,
        "memory_bandwidth_fraction": 0.88, "verdict": "above the declared specification: x (red flag)",
        "results": [dict(_result(measured=300, at_clock=312, declared=312).__dict__),
                    dict(_result(precision="tf32", measured=100, at_clock=156, declared=156, peak=False).__dict__),
                    dict(cannot.__dict__)]}]}
    plain = io.StringIO()
    show(measurement_blocks(document), stream=plain)
    text = plain.getvalue()
    assert "GPU 0, sm_80, 108 SMs" in text
    assert "96.2%" in text and "lower bound" in text and "cannot run: needs compute capability 8.9" in text
    assert "verdict: above the declared specification" in text and "\x1b[" not in text
    coloured = io.StringIO()
    show(measurement_blocks(document), stream=coloured, colour=True)
    assert "\x1b[1;31mverdict: above" in coloured.getvalue()  # the red flag is red


def test_faster_than_the_architecture_allows_is_undetermined_not_consistent():
    verdict = theory.verdict_against_label([_result(measured=950, at_clock=800, declared=989.5)], 1500, 1980, gpu.ClockSamples(), [])
    assert verdict.startswith("undetermined: faster than the architecture allows")
