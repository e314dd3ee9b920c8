"""Measuring a CPU: FMA throughput per precision, the clock it runs at, and memory bandwidth.

The kernels (``kernels/cpu_fma.py``, shipped in the wheel) are loaded and compiled on first use.
Theoretical peaks come from the sourced per-microarchitecture table (FLOPs per cycle per core)
at two clocks: the one measured during the run, and the one the probe read (the "label").
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cache

from tppcalc.measure.results import (
    ABOVE_FRACTION,
    CONSISTENT_FRACTION,
    PrecisionResult,
    ratio,
)
from tppcalc.probe.host import CpuInfo
from tppcalc.probe.identify import cpu_microarchitectures
from tppcalc.resources import load_kernel_module


@dataclass(frozen=True)
class CpuMeasurement:
    name: str
    microarchitecture: str | None
    threads: int
    measured_clock_mhz: float | None
    datasheet_clock_mhz: float | None
    results: list[PrecisionResult]
    memory_bandwidth_gbps: float
    verdict: str
    notes: list[str] = field(default_factory=list)


@cache
def _kernels():
    return load_kernel_module("cpu_fma.py")


def vector_shape(cpu: CpuInfo) -> tuple[int, int, str]:
    """Register width in bits, accumulators, and a label, for the widest useful FMA on this CPU."""
    flags = set(cpu.flags)
    if "avx512f" in flags and cpu.microarchitecture not in ("zen4",):
        return 512, 16, "AVX-512 (zmm)"  # 32 zmm registers; 2 units x latency 4 needs 8, 16 hides more
    if "fma" in flags:
        return 256, 12, "AVX2 FMA (ymm)"  # 16 ymm registers: 12 accumulators + 2 operands
    if cpu.machine == "aarch64":
        return 128, 16, "NEON (128-bit)"
    return 128, 8, "SSE2 (no FMA instruction: fused multiply-add emulated)"


def measure_cpu(cpu: CpuInfo, *, quick: bool = False, progress=None) -> CpuMeasurement:
    """Run the kernels on every physical core of ``cpu``'s host and compare with theory."""
    import numba
    import numpy as np

    kernels = _kernels()
    threads = max(1, min(cpu.physical_cores or os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    width, accumulators, label = vector_shape(cpu)
    notes = [f"{threads} threads, one per physical core; {label}, {accumulators} independent accumulators"]
    seconds = 0.3 if quick else 1.5

    clock_mhz = _measure_clock(kernels, threads, seconds, notes) if cpu.machine == "x86_64" else None
    table = cpu_microarchitectures().get(cpu.microarchitecture or "", {})
    per_cycle = table.get("vector_flops_per_cycle_per_core", {})
    results = []
    for precision, bits in (("fp64", 64), ("fp32", 32)):
        if progress:
            progress(f"FMA {precision}")
        kernel = kernels.make_fma_kernel(bits, width // bits, accumulators)
        flops_per_second = _time_kernel(kernel, threads, seconds)
        results.append(_result(precision, flops_per_second, per_cycle.get(precision, {}).get("value"),
                               threads, clock_mhz, cpu.max_mhz, f"{label} FMA loop"))
    if progress:
        progress("memory bandwidth")
    bandwidth = _measure_triad(kernels, np, 2**22 if quick else 2**25)
    verdict = _verdict(results, cpu, clock_mhz)
    return CpuMeasurement(cpu.model_name or "CPU", cpu.microarchitecture, threads, clock_mhz, cpu.max_mhz,
                          results, bandwidth, verdict, notes)


def _time_kernel(kernel, threads: int, seconds: float) -> float:
    kernel(1000, threads)  # compile and warm up
    iterations = 100_000
    while True:
        start = time.perf_counter()
        kernel(iterations, threads)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 3:
            break
        iterations *= max(2, int(seconds / 3 / max(elapsed, 1e-6)))
    best = elapsed
    for _ in range(2):  # best of three: interruptions only ever slow a run down
        start = time.perf_counter()
        kernel(iterations, threads)
        best = min(best, time.perf_counter() - start)
    return iterations * kernel.flops_per_iteration * threads / best


def _measure_clock(kernels, threads: int, seconds: float, notes: list[str]) -> float:
    kernels.clock_chain(10, threads)
    steps = 1_000_000
    while True:
        start = time.perf_counter()
        kernels.clock_chain(steps, threads)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4:
            break
        steps *= 4
    notes.append("clock measured on every core with a dependent imul chain (3 cycles each); wide-vector "
                 "code may run at a lower clock on some CPUs (AVX frequency offsets)")
    return steps * kernels.CYCLES_PER_CLOCK_STEP / elapsed / 1e6


def _measure_triad(kernels, np, elements: int) -> float:
    a = np.empty(elements)
    b = np.full(elements, 1.0)
    c = np.full(elements, 2.0)
    kernels.triad(a, b, c, 3.0)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        kernels.triad(a, b, c, 3.0)
        best = min(best, time.perf_counter() - start)
    if a[elements // 2] != 7.0:
        raise RuntimeError("triad kernel computed a wrong value")
    return 3 * 8 * elements / best / 1e9  # STREAM convention: 2 reads + 1 write


def _result(precision, flops_per_second, flops_per_cycle, threads, clock_mhz, datasheet_mhz, kernel) -> PrecisionResult:
    measured = flops_per_second / 1e12

    def theory(mhz):
        return None if flops_per_cycle is None or mhz is None else threads * flops_per_cycle * mhz / 1e6

    at_clock, at_datasheet = theory(clock_mhz), theory(datasheet_mhz)
    return PrecisionResult(
        precision=precision, measured_tflops=measured,
        theoretical_tflops_at_measured_clock=at_clock,
        fraction_at_measured_clock=ratio(measured, at_clock),
        theoretical_tflops_at_datasheet_clock=at_datasheet,
        fraction_at_datasheet_clock=ratio(measured, at_datasheet),
        kernel=kernel, reaches_peak=True,
    )


def _verdict(results: list[PrecisionResult], cpu: CpuInfo, clock_mhz: float | None) -> str:
    fractions = [r.fraction_at_measured_clock for r in results if r.fraction_at_measured_clock is not None]
    if not fractions:
        return "undetermined: no theoretical rate for this microarchitecture in the table"
    if max(fractions) > ABOVE_FRACTION:
        # More FMAs than the measured clock allows: the clock chain was interrupted (cores shared
        # with other processes), so neither clock comparison can be trusted.
        return (f"undetermined: the FMA loop ran at {max(fractions):.0%} of the rate the measured clock "
                f"({clock_mhz:.0f} MHz) allows, so the clock reading was disturbed (cores shared with other work?)")
    declared = [r.fraction_at_datasheet_clock for r in results if r.fraction_at_datasheet_clock is not None]
    clock_uncertain = "max_mhz" in cpu.errors
    if declared and max(declared) > ABOVE_FRACTION:
        if clock_uncertain:
            return (f"consistent at the measured clock; faster than the clock the system reports "
                    f"({cpu.max_mhz:.0f} MHz), which is not a maximum here ({cpu.errors['max_mhz']})")
        return "above the declared specification: the CPU runs faster than its label (red flag)"
    if min(fractions) >= CONSISTENT_FRACTION:
        return "consistent with its label"
    if clock_mhz is not None and cpu.max_mhz and clock_mhz < cpu.max_mhz * 0.9:
        return "below its label: the measured clock is under the maximum (throttling, power cap or a busy host)"
    return "below its label: the kernel did not reach the theoretical rate (a busy host, or SMT siblings competing)"
