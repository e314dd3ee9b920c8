"""Measuring one NVIDIA GPU: every launch plan run, timed and judged, the memory bandwidth, and the
record of it all (``GpuMeasurement``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from tppcalc.data.spec import ChipSpec
from tppcalc.measure.gpu.kernels import GpuMeasurementUnavailable, measure_bandwidth, open_cuda, run_plan
from tppcalc.measure.gpu.plans import kernel_plans
from tppcalc.measure.gpu.theory import (
    datasheet_bandwidth,
    datasheet_clock,
    sku_check,
    verdict_against_label,
    with_theory,
)
from tppcalc.measure.gpu.timing import ClockSamples, NvmlSampler, merge_samples
from tppcalc.measure.results import PrecisionResult, ratio
from tppcalc.probe.host import GpuInfo
from tppcalc.probe.identify import gpu_architectures


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
    datasheet_mhz = datasheet_clock(spec, gpu)
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
            result, clock_mhz = run_plan(cuda, plan, cc, sms, seconds)
        merge_samples(sampler_samples, sampler.samples)
        if clock_mhz:
            clocks.append(clock_mhz)
        results.append(with_theory(result, plan, architecture, sms, clock_mhz, datasheet_mhz, spec))
    if progress:
        progress("device-memory bandwidth")
    with NvmlSampler(nvml, nvml_index) as sampler:
        bandwidth, bandwidth_note = measure_bandwidth(cuda, device, sms, quick)
    merge_samples(sampler_samples, sampler.samples)
    notes.append(bandwidth_note)
    declared_bandwidth = datasheet_bandwidth(spec)
    measured_clock = statistics.median(clocks) if clocks else None
    notes += sku_check(spec, architecture, sms, datasheet_mhz)
    verdict = verdict_against_label(results, measured_clock, datasheet_mhz, sampler_samples, notes)
    return GpuMeasurement(
        name=device.name.decode() if isinstance(device.name, bytes) else str(device.name), index=index,
        compute_capability=f"{cc[0]}.{cc[1]}", multiprocessors=sms, catalogue_id=spec.id if spec else None,
        measured_clock_mhz=measured_clock, datasheet_clock_mhz=datasheet_mhz, results=results,
        memory_bandwidth_gbps=bandwidth, datasheet_memory_bandwidth_gbps=declared_bandwidth,
        memory_bandwidth_fraction=ratio(bandwidth, declared_bandwidth), nvml=sampler_samples.summary(),
        verdict=verdict, notes=notes)


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
