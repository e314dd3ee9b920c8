"""Running the kernels: CUDA through numba-cuda, one launch plan calibrated, timed and checked, and
the device-memory bandwidth kernels. The kernels (``kernels/gpu.py`` and the CUDA C loops of
``kernels/gpu_tensor.cu``) load and compile on first use."""

from __future__ import annotations

from functools import cache

from tppcalc.data.resources import load_kernel_module
from tppcalc.errors import TppcalcError
from tppcalc.measure.gpu.plans import KernelPlan
from tppcalc.measure.gpu.timing import kernel_clock_mhz, timed
from tppcalc.measure.results import PrecisionResult

EXACT_LIMIT = 2.0 ** 24  # FP32 accumulators stay exact below this: the result check relies on it


class GpuMeasurementUnavailable(TppcalcError):
    """No GPU can be measured here (no numba-cuda, no driver, no such device)."""


@cache
def kernel_module():
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


def cannot_run(plan: KernelPlan, why: str) -> PrecisionResult:
    return PrecisionResult(plan.precision, None, None, None, None, None, plan.description, plan.reaches_peak,
                           unit=plan.unit, status="cannot run", reason=why)


def compile_kernel(plan: KernelPlan):
    kernels = kernel_module()
    if plan.kernel.startswith("fma_fp"):
        return kernels.make_fma_kernel(int(plan.kernel[len("fma_fp"):]))
    return kernels.make_linked_kernel(plan.kernel, max_threads_per_block=plan.threads_per_block)


def run_plan(cuda, plan: KernelPlan, cc, sms: int, seconds: float) -> tuple[PrecisionResult, float | None]:
    import numpy as np

    if cc < plan.min_compute_capability:
        need = ".".join(map(str, plan.min_compute_capability))
        return cannot_run(plan, f"needs compute capability {need} or later"), None
    blocks = sms * plan.blocks_per_sm
    threads = blocks * plan.threads_per_block
    out = cuda.device_array(threads, dtype=np.float64 if plan.kernel == "fma_fp64" else np.float32)
    clock_record = cuda.device_array((blocks, 4), dtype=np.int64)
    a, b = (np.float64(plan.a), np.float64(plan.b)) if plan.kernel == "fma_fp64" else \
        (np.float32(plan.a), np.float32(plan.b)) if plan.kernel == "fma_fp32" else (np.uint32(plan.a), np.uint32(plan.b))
    try:
        kernel = compile_kernel(plan)[blocks, plan.threads_per_block]
        kernel(out, clock_record, 4, a, b)  # compile and warm up
        cuda.synchronize()
    except Exception as exc:  # noqa: BLE001 - any compiler or launch failure means "cannot run here"
        return cannot_run(plan, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"), None

    max_iterations = None
    if plan.expected_fixed is None:
        max_iterations = int(EXACT_LIMIT / abs(plan.expected_per_iteration))
    iterations = 64
    elapsed = timed(cuda, kernel, out, clock_record, iterations, a, b)
    while elapsed < seconds / 4 and (max_iterations is None or iterations < max_iterations):
        iterations = int(iterations * min(64.0, max(2.0, seconds / 2 / max(elapsed, 1e-6))))
        if max_iterations is not None:
            iterations = min(iterations, max_iterations)
        elapsed = timed(cuda, kernel, out, clock_record, iterations, a, b)
    best = min([elapsed] + [timed(cuda, kernel, out, clock_record, iterations, a, b) for _ in range(2)])

    values = out.copy_to_host()
    expected = plan.expected_fixed if plan.expected_fixed is not None else plan.expected_per_iteration * iterations
    if np.isnan(values).all():
        return cannot_run(plan, "the loop was not compiled for this architecture (numba-cuda too old to "
                                 "target sm_90a?)"), None
    if not np.allclose(values, expected, rtol=1e-3, atol=0):
        wrong = values[~np.isclose(values, expected, rtol=1e-3, atol=0)]
        return cannot_run(plan, f"wrong result: {wrong.size} threads computed e.g. {wrong[0]!r}, "
                                 f"expected {expected!r}"), None
    ops = plan.ops_per_thread_per_iteration * iterations * threads
    result = PrecisionResult(plan.precision, ops / best / 1e12, None, None, None, None, plan.description,
                             plan.reaches_peak, unit=plan.unit, reason=plan.reason)
    return result, kernel_clock_mhz(clock_record.copy_to_host())


def measure_bandwidth(cuda, device, sms: int, quick: bool) -> tuple[float | None, str]:
    import numpy as np

    kernels = kernel_module()
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
