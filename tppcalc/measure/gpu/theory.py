"""The figures a measurement is judged against (the datasheet's, and the architecture's theoretical
rate at a clock), and the verdict against the label."""

from __future__ import annotations

from dataclasses import replace

from tppcalc.data.spec import ChipSpec
from tppcalc.measure.gpu.plans import KernelPlan
from tppcalc.measure.gpu.timing import ClockSamples
from tppcalc.measure.results import ABOVE_FRACTION, CONSISTENT_FRACTION, PrecisionResult, ratio
from tppcalc.probe.host import GpuInfo

# Tensor kernels count as consistent from this fraction of the theoretical rate: the best
# microbenchmarks reach 0.95-0.99 on mma.sync (Ampere) and wgmma, GEMM libraries 0.8-0.87.
TENSOR_CONSISTENT_FRACTION = 0.80
# NVML clock-event reasons that explain a low number (the others are informational).
THROTTLE_REASONS = {"sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown",
                    "hw_power_brake_slowdown"}


def datasheet_clock(spec: ChipSpec | None, gpu: GpuInfo | None) -> float | None:
    if spec is not None and spec.clocks is not None and spec.clocks.boost_mhz is not None \
            and spec.clocks.boost_mhz.value is not None:
        return float(spec.clocks.boost_mhz.value)
    return float(gpu.max_sm_clock_mhz) if gpu is not None and gpu.max_sm_clock_mhz else None


def datasheet_bandwidth(spec: ChipSpec | None) -> float | None:
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


def with_theory(result: PrecisionResult, plan: KernelPlan, architecture: dict, sms: int,
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


def sku_check(spec: ChipSpec | None, architecture: dict, sms: int, datasheet_mhz: float | None) -> list[str]:
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


def verdict_against_label(results: list[PrecisionResult], clock_mhz: float | None, datasheet_mhz: float | None,
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
