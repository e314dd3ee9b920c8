"""Measure the devices of this host (``tppcalc bench``, ``tppcalc probe --bench``, fleet probes)
and return the JSON-ready document: ``{"host", "devices": [...], "unavailable": [...]}``."""

from __future__ import annotations

import dataclasses

from tppcalc.probe.host import HostReport


def measure_host(*, cpu: bool = True, gpus: list[int] | None = None, all_gpus: bool = True,
                 precisions: set[str] | None = None, quick: bool = False, report: HostReport | None = None,
                 progress=None) -> dict:
    """Measure CUDA devices ``gpus`` (or every one with ``all_gpus``), then the CPU if ``cpu``.

    Asked-for GPUs that cannot be measured raise GpuMeasurementUnavailable; with ``all_gpus`` a
    host without a usable GPU is recorded under ``unavailable`` and the CPU is still measured.
    """
    from tppcalc.measure.gpu import GpuMeasurementUnavailable, open_cuda
    from tppcalc.probe.run import probe_live

    report = report or probe_live()
    document: dict = {"host": report.hostname, "devices": [], "unavailable": []}
    if gpus or all_gpus:
        try:
            cuda = open_cuda()
            indices = gpus if gpus else list(range(len(cuda.gpus)))
            for index in indices:
                document["devices"].append(_measure_one_gpu(cuda, index, report, precisions, quick, progress))
        except GpuMeasurementUnavailable as exc:
            if gpus:
                raise
            document["unavailable"].append({"kind": "gpu", "reason": str(exc)})
    if cpu:
        from tppcalc.measure.cpu import measure_cpu

        for cpu_info in report.cpus:
            measurement = measure_cpu(cpu_info, quick=quick, progress=progress)
            document["devices"].append({"kind": "cpu", **dataclasses.asdict(measurement)})
    return document


def _measure_one_gpu(cuda, index: int, report: HostReport, precisions, quick: bool, progress) -> dict:
    from tppcalc.data.catalogue import default_catalogue
    from tppcalc.measure.gpu import (
        GpuMeasurementUnavailable,
        measure_gpu,
        nvml_index_of,
    )
    from tppcalc.probe.identify import identify_gpu
    from tppcalc.probe.nvml import LiveNvml, NvmlCallError

    if index >= len(cuda.gpus):
        raise GpuMeasurementUnavailable(f"no CUDA device {index}: {len(cuda.gpus)} visible")
    with cuda.gpus[index]:
        nvml_index = nvml_index_of(cuda.get_current_device(), report.gpus)
    gpu = next((g for g in report.gpus if g.index == nvml_index), None)
    spec = identify_gpu(gpu, default_catalogue()).spec if gpu is not None else None
    try:
        nvml = LiveNvml.open()
    except NvmlCallError:
        nvml = None
    try:
        measurement = measure_gpu(index, gpu, spec, nvml=nvml, nvml_index=nvml_index, quick=quick,
                                  precisions=precisions, progress=progress)
    finally:
        if nvml is not None:
            nvml.close()
    return {"kind": "gpu", **dataclasses.asdict(measurement)}
