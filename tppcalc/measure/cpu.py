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

from tppcalc.data.resources import load_kernel_module
from tppcalc.measure.results import (
    ABOVE_FRACTION,
    CONSISTENT_FRACTION,
    PrecisionResult,
    ratio,
)
from tppcalc.probe.host import CpuInfo
from tppcalc.probe.identify import cpu_microarchitectures


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
    clock_by_precision_mhz: dict[str, float | None] = field(default_factory=dict)
    triad_elements: int | None = None  # per array, for a STREAM run of the same size (--compare-stream)


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


# Timed repetitions per precision: each FMA run sits between two clock readings.
REPETITIONS, QUICK_REPETITIONS = 9, 5
# Two clock readings of one repetition agreeing within this share: neither was interrupted.
STEADY_CLOCK_SPREAD = 0.02
CLOCK_READS = 3  # short imul-chain readings on each side of an FMA run
# STREAM's rule: each array at least 4 x the last-level cache; 2**24 doubles = 128 MiB per array.
TRIAD_ELEMENTS, QUICK_TRIAD_ELEMENTS = 2**25, 2**24
TRIAD_REPETITIONS = 10  # STREAM's NTIMES, after one untimed pass


@dataclass(frozen=True)
class Repetition:
    """One timed FMA run and the clock read on every core just before and just after it."""

    flops_per_second: float
    clock_before_mhz: float | None
    clock_after_mhz: float | None

    @property
    def clock_mhz(self) -> float | None:
        readings = [c for c in (self.clock_before_mhz, self.clock_after_mhz) if c is not None]
        return max(readings) if readings else None  # an interruption only ever lowers a reading

    @property
    def steady(self) -> bool:
        if self.clock_before_mhz is None or self.clock_after_mhz is None:
            return False
        low, high = sorted((self.clock_before_mhz, self.clock_after_mhz))
        return high <= low * (1 + STEADY_CLOCK_SPREAD)


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
    repetitions = QUICK_REPETITIONS if quick else REPETITIONS
    with_clock = cpu.machine == "x86_64"
    per_cycle, rate_source = _vector_rates(cpu)
    if per_cycle:
        notes.append(f"theoretical FLOPs per cycle per core from {rate_source}")
    if with_clock:
        notes.append("clock measured on every core with a dependent imul chain (3 cycles each) just before and "
                     "after every timed FMA run; each FMA figure is compared with the clock read around it. "
                     "Wide-vector code may run at a lower clock than the chain (AVX frequency offsets)")
    results, clocks = [], {}
    for precision, bits in (("fp64", 64), ("fp32", 32)):
        if progress:
            progress(f"FMA {precision}")
        kernel = kernels.make_fma_kernel(bits, width // bits, accumulators)
        runs = _paired_runs(kernels, kernel, threads, seconds, repetitions, with_clock)
        chosen, clock_mhz, why = _choose(runs, cpu.max_mhz, per_cycle.get(precision), threads)
        if why:
            notes.append(f"{precision}: {why}")
        clocks[precision] = clock_mhz
        results.append(_result(precision, chosen.flops_per_second, per_cycle.get(precision),
                               threads, clock_mhz, cpu.max_mhz, f"{label} FMA loop"))
    if progress:
        progress("memory bandwidth")
    elements = QUICK_TRIAD_ELEMENTS if quick else TRIAD_ELEMENTS
    bandwidth = _measure_triad(kernels, np, elements)
    notes.append(f"triad on {elements} float64 elements per array (3 contiguous arrays in one anonymous "
                 f"mapping, as STREAM's static arrays), best of {TRIAD_REPETITIONS}, 24 bytes per element")
    measured_clock = max((c for c in clocks.values() if c is not None), default=None)
    verdict = _verdict(results, cpu, measured_clock)
    return CpuMeasurement(cpu.model_name or "CPU", cpu.microarchitecture, threads, measured_clock, cpu.max_mhz,
                          results, bandwidth, verdict, notes, clock_by_precision_mhz=clocks, triad_elements=elements)


def _vector_rates(cpu: CpuInfo) -> tuple[dict[str, int], str]:
    """FLOPs per cycle per core of the vector FMA units: the probe's per-core rates (table or flags)."""
    from tppcalc.probe.cpu_rates import VECTOR, core_rates

    rates, source = cpu.per_core_rates, cpu.rate_source
    if not rates:
        rates, source = core_rates(cpu.microarchitecture, cpu.flags, cpu.machine, cpu_microarchitectures())
    chosen = {r.precision: r for r in rates if r.unit == VECTOR and r.precision in ("fp64", "fp32")}
    sources = sorted({r.source for r in chosen.values()})
    return {p: r.ops_per_cycle for p, r in chosen.items()}, " and ".join(sources) or (source or "nothing")


def _calibrate(run, target_seconds: float, start: int) -> int:
    """The smallest count (x4 steps from ``start``) for which ``run(count)`` lasts ``target_seconds``."""
    count = start
    while True:
        begin = time.perf_counter()
        run(count)
        elapsed = time.perf_counter() - begin
        if elapsed >= target_seconds:
            return count
        count *= max(2, min(64, int(target_seconds / max(elapsed, 1e-6))))


def _timed(run, count: int) -> float:
    begin = time.perf_counter()
    run(count)
    return time.perf_counter() - begin


def _paired_runs(kernels, kernel, threads: int, seconds: float, repetitions: int, with_clock: bool) -> list[Repetition]:
    """``repetitions`` FMA runs of about ``seconds / repetitions`` each, every one with a clock reading
    (a quarter as long, in short pieces) on each side, so a figure is never compared with a clock
    read at another time."""
    kernel(1000, threads)  # compile and warm up
    fma = lambda n: kernel(n, threads)  # noqa: E731
    iterations = _calibrate(fma, seconds / repetitions, 10_000)
    if with_clock:
        kernels.clock_chain(10, threads)
        chain = lambda n: kernels.clock_chain(n, threads)  # noqa: E731
        steps = _calibrate(chain, seconds / repetitions / CLOCK_READS / 4, 10_000)

        def clock() -> float:
            # The best of a few short readings: one that no other process interrupted is enough.
            shortest = min(_timed(chain, steps) for _ in range(CLOCK_READS))
            return steps * kernels.CYCLES_PER_CLOCK_STEP / shortest / 1e6
    flops = iterations * kernel.flops_per_iteration * threads
    runs, before = [], clock() if with_clock else None
    for _ in range(repetitions):
        rate = flops / _timed(fma, iterations)
        after = clock() if with_clock else None
        runs.append(Repetition(rate, before, after))
        before = after
    return runs


def _choose(runs: list[Repetition], reported_mhz: float | None, flops_per_cycle: int | None,
            threads: int) -> tuple[Repetition, float | None, str | None]:
    """The repetition to report, the clock to judge it at (None: no clock can be trusted), and a note.

    An interruption only ever lowers a reading. A repetition is steady when its two clock readings
    agree and both are at the highest clock read in the whole measurement: nothing interrupted them,
    so the fastest steady FMA run is judged at its own clock, and a fraction above 1 there means
    more FLOPs per cycle than the theoretical rate (a finding, kept). Where no repetition is steady,
    every reading may be low: the fastest run is judged at the higher of the highest reading and the
    clock the system reports, and where the FMA rate still exceeds what that clock allows, no
    fraction is given."""
    readings = [r.clock_mhz for r in runs if r.clock_mhz is not None]
    if not readings:
        return max(runs, key=lambda r: r.flops_per_second), None, None
    top = max(readings)
    steady = [r for r in runs if r.steady and r.clock_mhz >= top * (1 - STEADY_CLOCK_SPREAD)]
    if steady:
        chosen = max(steady, key=lambda r: r.flops_per_second)
        return chosen, chosen.clock_mhz, None
    chosen = max(runs, key=lambda r: r.flops_per_second)
    # No reading can be trusted: an interrupted one is low, so never judge below the reported clock.
    clock = max(top, reported_mhz or 0.0)
    if flops_per_cycle and chosen.flops_per_second > threads * flops_per_cycle * clock * 1e6 * (1 + STEADY_CLOCK_SPREAD):
        return chosen, None, (f"every clock reading (at most {top:.0f} MHz) was interrupted, and neither it nor the "
                              f"reported clock allows the FMA rate measured: no fraction at the measured clock is given")
    source = "the highest reading" if clock == top else f"the reported clock (readings, at most {top:.0f} MHz, were interrupted)"
    return chosen, clock, (f"no repetition had two agreeing clock readings at the highest clock (busy host); "
                           f"judged at {clock:.0f} MHz, {source}")


def _measure_triad(kernels, np, elements: int) -> float:
    """STREAM's triad as STREAM runs it: 24 bytes per element (2 reads + 1 write, no write-allocate
    credit), best of 10 after one untimed pass, on three arrays laid out as STREAM's static arrays.

    The arrays come from one anonymous mapping, not numpy's allocator: numpy asks the kernel for
    transparent huge pages on large arrays (madvise), which STREAM's arrays only get where THP is
    "always". On a virtual machine, where every TLB miss walks two page tables, that alone made the
    triad read 7-9 % above STREAM's on an AMX VM and more on this project's development VMs."""
    import mmap

    buffer = mmap.mmap(-1, 3 * 8 * elements)
    whole = np.frombuffer(buffer, dtype=np.float64)
    a, b, c = whole[:elements], whole[elements:2 * elements], whole[2 * elements:]
    b[:] = 1.0
    c[:] = 2.0
    kernels.triad(a, b, c, 3.0)
    best = float("inf")
    for _ in range(TRIAD_REPETITIONS):
        start = time.perf_counter()
        kernels.triad(a, b, c, 3.0)
        best = min(best, time.perf_counter() - start)
    correct = a[elements // 2] == 7.0
    del a, b, c, whole
    buffer.close()
    if not correct:
        raise RuntimeError("triad kernel computed a wrong value")
    return 3 * 8 * elements / best / 1e9


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
    if not fractions and results and all(r.theoretical_tflops_at_datasheet_clock is not None for r in results):
        if cpu.machine != "x86_64":
            return "undetermined: the clock is not measured on this architecture (x86-64 only)"
        return "undetermined: no clock reading was free of interruptions (a busy host); run it again on an idle one"
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
