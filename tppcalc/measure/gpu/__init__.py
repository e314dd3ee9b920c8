"""Measuring an NVIDIA GPU: FMA and tensor-core throughput per precision, the clock it ran at,
device-memory bandwidth, and a verdict against its label.

The kernels (``kernels/gpu.py`` and the CUDA C loops of ``kernels/gpu_tensor.cu``) load and
compile on first use. Each kernel checks its own result, so a number is only reported for work
that was done. Theoretical rates come from the sourced per-architecture table (MACs per SM per
clock) x the SM count CUDA reports, at two clocks: the one the SMs ran at (their cycle counter
against the global nanosecond timer, in the kernel) and the datasheet's. NVML is sampled while
the kernels run, so a low number comes with the clock, power and throttle reasons behind it.

One module per facet: ``plans`` (what each kernel is and how it is launched), ``kernels`` (running
them on CUDA), ``timing`` (events, the SM clock, NVML sampling), ``theory`` (datasheet and
theoretical figures, the verdict) and ``measurement`` (one GPU measured, its record). The names
below are the public interface; import them from here.
"""

from tppcalc.measure.gpu.kernels import GpuMeasurementUnavailable, open_cuda
from tppcalc.measure.gpu.measurement import GpuMeasurement, measure_gpu, nvml_index_of
from tppcalc.measure.gpu.plans import KernelPlan, kernel_plans
from tppcalc.measure.gpu.theory import datasheet_tflops, theoretical_tflops
from tppcalc.measure.gpu.timing import ClockSamples, NvmlSampler

__all__ = [
    "ClockSamples", "GpuMeasurement", "GpuMeasurementUnavailable", "KernelPlan", "NvmlSampler", "datasheet_tflops",
    "kernel_plans", "measure_gpu", "nvml_index_of", "open_cuda", "theoretical_tflops",
]
