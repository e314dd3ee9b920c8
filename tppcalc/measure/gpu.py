"""Measuring an NVIDIA GPU: FMA and tensor-core throughput per precision, the clock it ran at,
device-memory bandwidth, and a verdict against its label.

The kernels (``kernels/gpu.py`` and the CUDA C loops of ``kernels/gpu_tensor.cu``) load and
compile on first use. Each kernel checks its own result, so a number is only reported for work
that was done. Theoretical rates come from the sourced per-architecture table (MACs per SM per
clock) x the SM count CUDA reports, at two clocks: the one the SMs ran at (their cycle counter
against the global nanosecond timer, in the kernel) and the datasheet's. NVML is sampled while
the kernels run, so a low number comes with the clock, power and throttle reasons behind it.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Self

from tppcalc.errors import TppcalcError
from tppcalc.measure.results import (
    ABOVE_FRACTION,
    CONSISTENT_FRACTION,
    PrecisionResult,
    ratio,
)
from tppcalc.probe.host import GpuInfo
from tppcalc.probe.identify import gpu_architectures
from tppcalc.resources import load_kernel_module
from tppcalc.spec import ChipSpec

# Tensor kernels count as consistent from this fraction of the theoretical rate: the best
# microbenchmarks reach 0.95-0.99 on mma.sync (Ampere) and wgmma, GEMM libraries 0.8-0.87.
TENSOR_CONSISTENT_FRACTION = 0.80
# NVML clock-event reasons that explain a low number (the others are informational).
THROTTLE_REASONS = {"sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown",
                    "hw_power_brake_slowdown"}
EXACT_LIMIT = 2.0 ** 24  # FP32 accumulators stay exact below this: the result check relies on it


class GpuMeasurementUnavailable(TppcalcError):
    """No GPU can be measured here (no numba-cuda, no driver, no such device)."""


@dataclass(frozen=True)
class KernelPlan:
    """One kernel to run: what it measures, how it is launched, and what it must compute."""

    precision: str
    unit: str                   # "vector" or "tensor"
    kernel: str                 # fma_fp32, fma_fp64, or a C function of gpu_tensor.cu
    description: str
    min_compute_capability: tuple[int, int]
    threads_per_block: int
    blocks_per_sm: int
    ops_per_thread_per_iteration: float
    a: float | int              # kernel operands (floats for FMA, 32-bit patterns for C loops)
    b: float | int
    expected_per_iteration: float  # C loops: mean accumulator growth per iteration
    expected_fixed: float | None = None  # FMA loops: the value every thread ends at
    reaches_peak: bool = True
    reason: str | None = None   # why reaches_peak is False


# FMAs per thread per loop trip: 8 chains x 96 steps written out in kernels/gpu.py (CHAINS, UNROLL),
# 8 x 128 half2 steps in gpu_tensor.cu (TPP_CHAINS, TPP_HFMA2_UNROLL): long enough that the loop's
# own instructions leave over 99 % of the issue slots to the FMAs (tests/test_sass.py checks both).
FMA_CHAINS, FMA_UNROLL, HFMA2_UNROLL = 8, 96, 128


def _fma(bits: int) -> KernelPlan:
    # Each FMA is 2 operations; out[thread] settles at CHAINS x 2b with a = 0.5.
    return KernelPlan(f"fp{bits}", "vector", f"fma_fp{bits}",
                      f"FP{bits} FMA, {FMA_CHAINS} chains x {FMA_UNROLL} unrolled (numba-cuda)",
                      (3, 5), 256, 8, 2 * FMA_CHAINS * FMA_UNROLL, 0.5, 0.25, 0.0, expected_fixed=FMA_CHAINS * 2 * 0.25)


def _mma(precision: str, k: int, a: int, b: int, product: float, min_cc=(8, 0)) -> KernelPlan:
    # m16n8kK per warp: 2 x 16 x 8 x K operations, 8 independent accumulators per iteration.
    return KernelPlan(precision, "tensor", f"tpp_mma_{precision}",
                      f"mma.sync m16n8k{k} {precision}, 8 accumulators per warp (CUDA C)", min_cc, 256, 4,
                      2 * 16 * 8 * k * 8 / 32, a, b, k * product)


def _wgmma(precision: str, k: int, a: int, b: int, product: float) -> KernelPlan:
    # m64n256kK per warpgroup of 128 threads: 2 x 64 x 256 x K operations, 8 per iteration.
    return KernelPlan(precision, "tensor", f"tpp_wgmma_{precision}",
                      f"wgmma m64n256k{k} {precision}, shared-memory operands, 8 per commit group (CUDA C, sm_90a)",
                      (9, 0), 256, 1, 2 * 64 * 256 * k * 8 / 128, a, b, 8 * k * product)


# Operands: a = 1.5 and b = 0.5 in each format (int8: 3 and -2), packed to fill 32 bits.
_FP16, _BF16, _TF32, _FP8, _INT8 = ((0x3E003E00, 0x38003800), (0x3FC03FC0, 0x3F003F00),
                                    (0x3FC00000, 0x3F000000), (0x3C3C3C3C, 0x30303030),
                                    (0x03030303, 0xFEFEFEFE))
MMA_NOT_PEAK_ON = {(9, 0): "mma.sync cannot reach Hopper's tensor peak (only wgmma can): a lower bound",
                   (10, 0): "mma.sync cannot reach Blackwell's datacenter tensor peak (tcgen05): a lower bound"}


def kernel_plans(compute_capability: tuple[int, int]) -> list[KernelPlan]:
    """Every kernel worth running on this architecture (those it cannot run are reported too)."""
    not_peak = MMA_NOT_PEAK_ON.get(compute_capability)
    mma = [_mma("tf32", 8, *_TF32, 0.75), _mma("fp16", 16, *_FP16, 0.75), _mma("bf16", 16, *_BF16, 0.75),
           _mma("fp8", 32, *_FP8, 0.75, min_cc=(8, 9)), _mma("int8", 32, *_INT8, -6)]
    if not_peak:
        mma = [replace(p, reaches_peak=False, reason=not_peak) for p in mma]
    plans = [_fma(64), _fma(32),
             KernelPlan("fp16", "vector", "tpp_hfma2_loop", "packed FP16 FMA (fma.rn.f16x2), 8 chains (CUDA C)",
                        (5, 3), 256, 8, 2 * 2 * FMA_CHAINS * HFMA2_UNROLL, 0x38003800, 0x34003400, 0.0, expected_fixed=0.5),
             *mma]
    if compute_capability == (9, 0):
        plans += [_wgmma("tf32", 8, *_TF32, 0.75), _wgmma("fp16", 16, *_FP16, 0.75),
                  _wgmma("bf16", 16, *_BF16, 0.75), _wgmma("fp8", 32, *_FP8, 0.75), _wgmma("int8", 32, *_INT8, -6)]
    return plans


@dataclass
class ClockSamples:
    """What NVML said while the kernels ran."""

    sm_clock_mhz: list[int] = field(default_factory=list)
    power_watts: list[float] = field(default_factory=list)
    temperature_c: list[int] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)
    errors: set[str] = field(default_factory=set)

    def summary(self) -> dict:
        def span(values):
            return {"min": min(values), "max": max(values)} if values else None

        return {"sm_clock_mhz": span(self.sm_clock_mhz), "power_watts": span(self.power_watts),
                "temperature_c": span(self.temperature_c), "clock_event_reasons": sorted(self.reasons),
                "errors": sorted(self.errors)}


class NvmlSampler:
    """Polls NVML on a thread while a kernel runs (every ``interval_s``)."""

    def __init__(self, nvml, index: int | None, interval_s: float = 0.02):
        self._nvml, self._index, self._interval = nvml, index, interval_s
        self.samples = ClockSamples()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        if self._nvml is not None and self._index is not None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()  # one more after the kernel, so a short run still has a reading

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def _sample(self) -> None:
        from tppcalc.probe.nvml import NVML_CLOCK_SM, NvmlCallError, clock_event_reasons

        reads = (("sm_clock_mhz", "nvmlDeviceGetClockInfo", (NVML_CLOCK_SM,), int),
                 ("power_watts", "nvmlDeviceGetPowerUsage", (), lambda mw: mw / 1000),
                 ("temperature_c", "nvmlDeviceGetTemperature", (0,), int))
        for name, function, args, convert in reads:
            try:
                getattr(self.samples, name).append(convert(self._nvml.call(function, self._index, *args)))
            except NvmlCallError as exc:
                self.samples.errors.add(f"{function}: {exc.kind}")
        try:
            mask = self._nvml.call("nvmlDeviceGetCurrentClocksEventReasons", self._index)
            self.samples.reasons.update(r for r in clock_event_reasons(mask) if r != "gpu_idle")
        except NvmlCallError as exc:
            self.samples.errors.add(f"nvmlDeviceGetCurrentClocksEventReasons: {exc.kind}")


@dataclass(frozen=True)
class GpuMeasurement:
    name: str
    index: int
    compute_capability: str
    multiprocessors: int
    catalogue_id: str | None
    measured_clock_mhz: float | None
    datasheet_clock_mhz: float | None
    results: list[PrecisionResult]
    memory_bandwidth_gbps: float | None
    datasheet_memory_bandwidth_gbps: float | None
    memory_bandwidth_fraction: float | None
    nvml: dict
    verdict: str
    notes: list[str] = field(default_factory=list)


@cache
def _kernels():
    return load_kernel_module("gpu.py")


def open_cuda():
    """numba's CUDA module, or GpuMeasurementUnavailable saying what is missing."""
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - numba is a dependency
        raise GpuMeasurementUnavailable(f"numba is not importable: {exc}") from None
    try:
        import numba_cuda  # noqa: F401  (the maintained CUDA target; numba's own is deprecated)
    except ImportError:
        raise GpuMeasurementUnavailable(
            "GPU microbenchmarks need numba-cuda: pip install 'tppcalc[gpu]'") from None
    if not cuda.is_available():
        raise GpuMeasurementUnavailable("no CUDA driver or GPU is available to numba-cuda")
    return cuda


def measure_gpu(index: int, gpu: GpuInfo | None, spec: ChipSpec | None, *, nvml=None, nvml_index: int | None = None,
                quick: bool = False, precisions: set[str] | None = None, progress=None) -> GpuMeasurement:
    """Run every kernel on CUDA device ``index``. ``gpu``/``spec`` are what the probe read and
    identified (for the datasheet figures); ``nvml``/``nvml_index`` sample clocks during runs."""
    cuda = open_cuda()
    if index >= len(cuda.gpus):
        raise GpuMeasurementUnavailable(f"no CUDA device {index}: {len(cuda.gpus)} visible")
    cuda.select_device(index)
    device = cuda.get_current_device()
    cc = tuple(device.compute_capability)
    sms = device.MULTIPROCESSOR_COUNT
    architecture = gpu_architectures().get(f"{cc[0]}.{cc[1]}", {})
    datasheet_mhz = _datasheet_clock(spec, gpu)
    notes = [f"{sms} SMs, compute capability {cc[0]}.{cc[1]}"]
    if not architecture:
        notes.append(f"no per-SM rates for compute capability {cc[0]}.{cc[1]} in the architecture table: "
                     "no theoretical figures")
    seconds = 0.15 if quick else 0.6
    sampler_samples = ClockSamples()
    results, clocks = [], []
    for plan in kernel_plans(cc):
        if precisions and plan.precision not in precisions:
            continue
        if progress:
            progress(f"{plan.precision} {plan.unit}: {plan.kernel}")
        with NvmlSampler(nvml, nvml_index) as sampler:
            result, clock_mhz = _run_plan(cuda, plan, cc, sms, seconds)
        _merge(sampler_samples, sampler.samples)
        if clock_mhz:
            clocks.append(clock_mhz)
        results.append(_with_theory(result, plan, architecture, sms, clock_mhz, datasheet_mhz, spec))
    if progress:
        progress("device-memory bandwidth")
    with NvmlSampler(nvml, nvml_index) as sampler:
        bandwidth, bandwidth_note = _measure_bandwidth(cuda, device, sms, quick)
    _merge(sampler_samples, sampler.samples)
    notes.append(bandwidth_note)
    datasheet_bandwidth = _datasheet_bandwidth(spec)
    measured_clock = statistics.median(clocks) if clocks else None
    notes += _sku_check(spec, architecture, sms, datasheet_mhz)
    verdict = _verdict(results, measured_clock, datasheet_mhz, sampler_samples, notes)
    return GpuMeasurement(
        name=device.name.decode() if isinstance(device.name, bytes) else str(device.name), index=index,
        compute_capability=f"{cc[0]}.{cc[1]}", multiprocessors=sms, catalogue_id=spec.id if spec else None,
        measured_clock_mhz=measured_clock, datasheet_clock_mhz=datasheet_mhz, results=results,
        memory_bandwidth_gbps=bandwidth, datasheet_memory_bandwidth_gbps=datasheet_bandwidth,
        memory_bandwidth_fraction=ratio(bandwidth, datasheet_bandwidth), nvml=sampler_samples.summary(),
        verdict=verdict, notes=notes)


def _merge(total: ClockSamples, part: ClockSamples) -> None:
    total.sm_clock_mhz += part.sm_clock_mhz
    total.power_watts += part.power_watts
    total.temperature_c += part.temperature_c
    total.reasons |= part.reasons
    total.errors |= part.errors


# ---- running one kernel -----------------------------------------------------------------------

def _cannot_run(plan: KernelPlan, why: str) -> PrecisionResult:
    return PrecisionResult(plan.precision, None, None, None, None, None, plan.description, plan.reaches_peak,
                           unit=plan.unit, status="cannot run", reason=why)


def _compile(plan: KernelPlan):
    kernels = _kernels()
    if plan.kernel.startswith("fma_fp"):
        return kernels.make_fma_kernel(int(plan.kernel[len("fma_fp"):]))
    return kernels.make_linked_kernel(plan.kernel, max_threads_per_block=plan.threads_per_block)


def _run_plan(cuda, plan: KernelPlan, cc, sms: int, seconds: float) -> tuple[PrecisionResult, float | None]:
    import numpy as np

    if cc < plan.min_compute_capability:
        need = ".".join(map(str, plan.min_compute_capability))
        return _cannot_run(plan, f"needs compute capability {need} or later"), None
    blocks = sms * plan.blocks_per_sm
    threads = blocks * plan.threads_per_block
    out = cuda.device_array(threads, dtype=np.float64 if plan.kernel == "fma_fp64" else np.float32)
    clock_record = cuda.device_array((blocks, 4), dtype=np.int64)
    a, b = (np.float64(plan.a), np.float64(plan.b)) if plan.kernel == "fma_fp64" else \
        (np.float32(plan.a), np.float32(plan.b)) if plan.kernel == "fma_fp32" else (np.uint32(plan.a), np.uint32(plan.b))
    try:
        kernel = _compile(plan)[blocks, plan.threads_per_block]
        kernel(out, clock_record, 4, a, b)  # compile and warm up
        cuda.synchronize()
    except Exception as exc:  # noqa: BLE001 - any compiler or launch failure means "cannot run here"
        return _cannot_run(plan, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"), None

    max_iterations = None
    if plan.expected_fixed is None:
        max_iterations = int(EXACT_LIMIT / abs(plan.expected_per_iteration))
    iterations = 64
    elapsed = _timed(cuda, kernel, out, clock_record, iterations, a, b)
    while elapsed < seconds / 4 and (max_iterations is None or iterations < max_iterations):
        iterations = int(iterations * min(64.0, max(2.0, seconds / 2 / max(elapsed, 1e-6))))
        if max_iterations is not None:
            iterations = min(iterations, max_iterations)
        elapsed = _timed(cuda, kernel, out, clock_record, iterations, a, b)
    best = min([elapsed] + [_timed(cuda, kernel, out, clock_record, iterations, a, b) for _ in range(2)])

    values = out.copy_to_host()
    expected = plan.expected_fixed if plan.expected_fixed is not None else plan.expected_per_iteration * iterations
    if np.isnan(values).all():
        return _cannot_run(plan, "the loop was not compiled for this architecture (numba-cuda too old to "
                                 "target sm_90a?)"), None
    if not np.allclose(values, expected, rtol=1e-3, atol=0):
        wrong = values[~np.isclose(values, expected, rtol=1e-3, atol=0)]
        return _cannot_run(plan, f"wrong result: {wrong.size} threads computed e.g. {wrong[0]!r}, "
                                 f"expected {expected!r}"), None
    ops = plan.ops_per_thread_per_iteration * iterations * threads
    result = PrecisionResult(plan.precision, ops / best / 1e12, None, None, None, None, plan.description,
                             plan.reaches_peak, unit=plan.unit, reason=plan.reason)
    return result, _kernel_clock_mhz(clock_record.copy_to_host())


def _timed(cuda, kernel, out, clock_record, iterations, a, b) -> float:
    start, end = cuda.event(), cuda.event()
    start.record()
    kernel(out, clock_record, iterations, a, b)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000


def _kernel_clock_mhz(record) -> float | None:
    """Median over blocks of SM cycles per microsecond of the global timer."""
    rates = [(row[1] - row[0]) / (row[3] - row[2]) * 1000 for row in record if row[3] > row[2] and row[1] > row[0]]
    return statistics.median(rates) if rates else None


def _measure_bandwidth(cuda, device, sms: int, quick: bool) -> tuple[float | None, str]:
    import numpy as np

    kernels = _kernels()
    free, _ = cuda.current_context().get_memory_info()
    elements = min((1 << 26) if quick else (1 << 28), int(free * 0.3) // 8 // 3)
    blocks, threads = sms * 8, 256
    b = cuda.to_device(np.full(elements, 1.0))
    c = cuda.to_device(np.full(elements, 2.0))
    a = cuda.device_array(elements)
    clock_record = cuda.device_array((blocks, 4), dtype=np.int64)
    copy = kernels.make_copy_kernel()[blocks, threads]
    triad = kernels.make_triad_kernel()[blocks, threads]

    def best(run, bytes_moved):
        run()
        cuda.synchronize()
        times = []
        for _ in range(5):
            start, end = cuda.event(), cuda.event()
            start.record()
            run()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        return bytes_moved / min(times) / 1e9

    copy_rate = best(lambda: copy(a, b, clock_record), 2 * 8 * elements)
    triad_rate = best(lambda: triad(a, b, c, 3.0, clock_record), 3 * 8 * elements)
    if a[elements // 2] != 7.0:
        return None, "triad computed a wrong value: no bandwidth reported"
    return max(copy_rate, triad_rate), (f"bandwidth over {8 * elements / 2**20:.0f} MiB arrays: copy "
                                        f"{copy_rate:.0f} GB/s (read + write), triad {triad_rate:.0f} GB/s")


# ---- theory and verdict -----------------------------------------------------------------------

def _datasheet_clock(spec: ChipSpec | None, gpu: GpuInfo | None) -> float | None:
    if spec is not None and spec.clocks is not None and spec.clocks.boost_mhz is not None \
            and spec.clocks.boost_mhz.value is not None:
        return float(spec.clocks.boost_mhz.value)
    return float(gpu.max_sm_clock_mhz) if gpu is not None and gpu.max_sm_clock_mhz else None


def _datasheet_bandwidth(spec: ChipSpec | None) -> float | None:
    if spec is None or spec.memory is None or spec.memory.dram_bandwidth_gbps.value is None:
        return None
    return float(spec.memory.dram_bandwidth_gbps.value) or None


def datasheet_tflops(spec: ChipSpec | None, unit: str, precision: str) -> float | None:
    """The catalogue's dense figure for ``precision`` on the tensor units or the vector units."""
    if spec is None:
        return None
    for processing_unit in spec.processing_units:
        if ("tensor" in processing_unit.name.lower()) != (unit == "tensor"):
            continue
        for rated, throughput in processing_unit.dense_tops.items():
            if getattr(rated, "value", rated) == precision and throughput.value is not None:
                return float(throughput.value)
    return None


def theoretical_tflops(architecture: dict, unit: str, precision: str, sms: int, mhz: float | None) -> float | None:
    table = architecture.get("tensor_dense_macs_per_sm_per_clock" if unit == "tensor"
                             else "vector_fma_per_sm_per_clock", {})
    macs = table.get(precision, {}).get("value")
    return None if macs is None or mhz is None else 2 * macs * sms * mhz / 1e6


def _with_theory(result: PrecisionResult, plan: KernelPlan, architecture: dict, sms: int,
                 clock_mhz: float | None, datasheet_mhz: float | None, spec: ChipSpec | None) -> PrecisionResult:
    if result.status != "measured":
        return result
    at_clock = theoretical_tflops(architecture, plan.unit, plan.precision, sms, clock_mhz)
    at_datasheet = theoretical_tflops(architecture, plan.unit, plan.precision, sms, datasheet_mhz)
    declared = datasheet_tflops(spec, plan.unit, plan.precision)
    return replace(result, theoretical_tflops_at_measured_clock=at_clock,
                   fraction_at_measured_clock=ratio(result.measured_tflops, at_clock),
                   theoretical_tflops_at_datasheet_clock=at_datasheet,
                   fraction_at_datasheet_clock=ratio(result.measured_tflops, at_datasheet),
                   datasheet_tflops=declared, fraction_of_datasheet=ratio(result.measured_tflops, declared))


def _sku_check(spec: ChipSpec | None, architecture: dict, sms: int, datasheet_mhz: float | None) -> list[str]:
    """Does the SM count fit the datasheet's FP32 figure? A mismatch suggests another SKU."""
    declared = datasheet_tflops(spec, "vector", "fp32")
    per_sm = theoretical_tflops(architecture, "vector", "fp32", 1, datasheet_mhz)
    if not declared or not per_sm:
        return []
    implied = declared / per_sm
    if abs(implied - sms) / sms > 0.05:
        return [(f"the datasheet FP32 figure implies {implied:.0f} SMs at {datasheet_mhz:.0f} MHz but CUDA reports "
                 f"{sms}: a different SKU, or a different clock basis for the datasheet")]
    return []


def _verdict(results: list[PrecisionResult], clock_mhz: float | None, datasheet_mhz: float | None,
             samples: ClockSamples, notes: list[str]) -> str:
    measured = [r for r in results if r.status == "measured"]
    above = [r for r in measured if (r.fraction_of_datasheet or 0) > ABOVE_FRACTION]
    if above:
        worst = max(above, key=lambda r: r.fraction_of_datasheet)
        return (f"above the declared specification: {worst.precision} {worst.unit} measured "
                f"{worst.measured_tflops:.1f} against a datasheet {worst.datasheet_tflops:.1f} (red flag)")
    judged = [r for r in measured if r.reaches_peak and r.fraction_at_measured_clock is not None]
    if not judged:
        return "undetermined: no kernel known to reach the peak ran with a theoretical rate to compare"
    impossible = [r for r in judged if r.fraction_at_measured_clock > ABOVE_FRACTION]
    if impossible:
        names = ", ".join(f"{r.precision} {r.unit} {r.fraction_at_measured_clock:.0%}" for r in impossible)
        return (f"undetermined: faster than the architecture allows at the clock it ran ({names}): the per-SM rate "
                "table does not fit this device (more units than its architecture?), so nothing can be compared")
    short = [r for r in judged if r.fraction_at_measured_clock < (
        TENSOR_CONSISTENT_FRACTION if r.unit == "tensor" else CONSISTENT_FRACTION)]
    slow_clock = clock_mhz is not None and datasheet_mhz is not None and clock_mhz < 0.9 * datasheet_mhz
    throttled = sorted(samples.reasons & THROTTLE_REASONS)
    if not short and not slow_clock:
        return "consistent with its label"
    if throttled:
        return f"below its label: throttled during the run ({', '.join(throttled)})"
    if slow_clock:
        return (f"below its label: the SMs ran at {clock_mhz:.0f} MHz, under the datasheet's {datasheet_mhz:.0f} MHz "
                "(power cap, application clocks or cooling)")
    names = ", ".join(f"{r.precision} {r.unit} {r.fraction_at_measured_clock:.0%}" for r in short)
    sku = [n for n in notes if "different SKU" in n]
    return ("below its label at the clock it ran (" + names + "): "
            + ("a different SKU" if sku else "fewer working units than the label, or the kernel cannot reach the "
                                           "peak on this architecture"))


def nvml_index_of(device, gpus: list[GpuInfo]) -> int | None:
    """The probe's (NVML's) index of a CUDA device, matched by PCI bus and device number: CUDA
    orders devices fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, NVML by bus."""
    for gpu in gpus:
        if not gpu.bus_id:
            continue
        try:
            bus, rest = gpu.bus_id.rsplit(":", 2)[-2:]
            if int(bus, 16) == device.PCI_BUS_ID and int(rest.split(".")[0], 16) == device.PCI_DEVICE_ID:
                return gpu.index
        except ValueError:
            continue
    return None
