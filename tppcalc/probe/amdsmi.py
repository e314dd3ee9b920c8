"""The AMD backend: amdsmi (ROCm's Python library) through the same ``call(function, *args)``
interface as NVML, so a node's answers are recorded and replayed with the same recorder.

amdsmi adds what the PCI bus cannot say (memory size, compute units, clock) for AMD GPUs; it is
not needed to find them: the PCI backend lists and identifies them with no vendor library. Calls
take the device's index in ``amdsmi_get_processor_handles()``; the count is that list's length.
Answers follow the amdsmi Python API reference (ROCm docs, amdsmi-py-api): asic info is a dict
with ``market_name``, ``vendor_id``, ``device_id`` (ints, or hex text in some releases) and
``num_of_compute_units``; vram info has ``vram_size`` in MB; clock info has ``max_clk`` in MHz.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from tppcalc.probe.backends import ProbeBackend, backend
from tppcalc.probe.host import MAX_GPUS_PER_NODE, Accelerator, AmdGpuInfo, HostReport
from tppcalc.probe.nvml import BAD_RECORDING, Nvml, NvmlCallError, _plain

COUNT = "amdsmi_get_processor_handles"
_HEX16 = re.compile(r"0x[0-9a-f]{1,4}")
_BUS_ID = re.compile(r"[0-9a-f]{4,8}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]")


class LiveAmdSmi:
    """amdsmi itself. Construct with ``LiveAmdSmi.open()``; close when done."""

    def __init__(self, amdsmi):
        self._amdsmi = amdsmi
        self._handles = list(amdsmi.amdsmi_get_processor_handles())

    @classmethod
    def open(cls) -> LiveAmdSmi:
        """Initialise amdsmi; a missing library raises NvmlCallError('LibraryNotFound')."""
        try:
            import amdsmi
        except ImportError:
            raise NvmlCallError("LibraryNotFound", "amdsmi is not installed") from None
        try:
            amdsmi.amdsmi_init()
            return cls(amdsmi)
        except amdsmi.AmdSmiException as exc:
            raise _error(exc) from None

    def close(self) -> None:
        try:
            self._amdsmi.amdsmi_shut_down()
        except self._amdsmi.AmdSmiException:
            pass

    def call(self, function: str, *args: Any) -> Any:
        if function == COUNT:
            return len(self._handles)
        fn = getattr(self._amdsmi, function, None)
        if fn is None:
            raise NvmlCallError("FunctionNotFound", f"{function} is not in this amdsmi")
        handle = self._handles[args[0]]
        rest = [getattr(self._amdsmi.AmdSmiClkType, a) if function == "amdsmi_get_clock_info" else a for a in args[1:]]
        try:
            return _plain(fn(handle, *rest))
        except self._amdsmi.AmdSmiException as exc:
            raise _error(exc) from None


def _error(exc: Exception) -> NvmlCallError:
    code = getattr(exc, "err_code", None)
    return NvmlCallError(f"AmdSmi{type(exc).__name__.removeprefix('AmdSmi')}" + (f"({code})" if code is not None else ""),
                         str(exc)[:500])


def read_amd_gpus(smi: Nvml) -> tuple[list[AmdGpuInfo], list[str]]:
    """Every GPU amdsmi lists, each field on its own; and why GPUs may be missing (a failed count)."""
    try:
        count = smi.call(COUNT)
    except NvmlCallError as exc:
        return [], [f"amdsmi device count: {str(exc)[:500]}"]
    if type(count) is not int or not 0 <= count <= MAX_GPUS_PER_NODE:
        return [], [f"amdsmi device count: {str(count)[:40]!r} is not a count of 0 to {MAX_GPUS_PER_NODE} GPUs"]
    return [_read_amd_gpu(smi, index) for index in range(count)], []


def _read_amd_gpu(smi: Nvml, index: int) -> AmdGpuInfo:
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def read(names: tuple[str, ...], function: str, convert, *args) -> None:
        try:
            answer = smi.call(function, index, *args)
        except NvmlCallError as exc:
            errors.update(dict.fromkeys(names, str(exc)[:500]))
            return
        try:
            values = convert(answer)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            errors.update(dict.fromkeys(names, f"{BAD_RECORDING}: unusable answer ({type(exc).__name__})"))
            return
        for name, value in zip(names, values, strict=True):
            if value is None:
                errors[name] = "not reported"
            else:
                fields[name] = value

    read(("bus_id",), "amdsmi_get_gpu_device_bdf", lambda bdf: (_bus_id(bdf),))
    read(("name", "pci_vendor_id", "pci_device_id", "compute_units"), "amdsmi_get_gpu_asic_info",
         lambda a: (a["market_name"] if isinstance(a["market_name"], str) else None,
                    _id16(a["vendor_id"]), _id16(a["device_id"]), a.get("num_of_compute_units")))
    read(("memory_total_bytes",), "amdsmi_get_gpu_vram_info", lambda v: (_megabytes(v["vram_size"]),))
    read(("max_gfx_clock_mhz",), "amdsmi_get_clock_info", lambda c: (c["max_clk"],), "GFX")
    while True:  # values no hardware reports are unread, not believed
        try:
            return AmdGpuInfo(index=index, errors=errors, **fields)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors(include_url=False) if e["loc"] and e["loc"][0] in fields}
            if not bad:
                raise
            for name in bad:
                errors[name] = f"{BAD_RECORDING}: not a credible value: {str(fields.pop(name))[:40]!r}"


def _bus_id(bdf: object) -> str:
    if not isinstance(bdf, str) or not _BUS_ID.fullmatch(bdf.lower()):
        raise ValueError("not a bus id")
    return bdf.lower()


def _id16(value: object) -> str | None:
    """0x1002 from 4098 or '0x1002' (releases differ); 'N/A' is not reported."""
    if type(value) is int and 0 <= value <= 0xFFFF:
        return f"0x{value:04x}"
    if isinstance(value, str) and _HEX16.fullmatch(value.lower()):
        return f"0x{int(value, 16):04x}"
    if value in ("N/A", None):
        return None
    raise ValueError("not a PCI id")


def _megabytes(value: object) -> int:
    if type(value) is not int:
        raise TypeError("vram_size")
    return value * 1024 * 1024  # amdsmi's vram_size is in MB (MiB, as amd-smi prints it)


def amdsmi_view(gpu: AmdGpuInfo) -> Accelerator:
    """An amdsmi GPU as the vendor-neutral record identification reads."""
    return Accelerator.model_construct(
        backend=AmdSmiBackend.name, index=gpu.index, lost=False, vendor="AMD", name=gpu.name, bus_id=gpu.bus_id,
        pci_vendor_id=gpu.pci_vendor_id, pci_device_id=gpu.pci_device_id, pci_subsystem_id=None,
        memory_total_bytes=gpu.memory_total_bytes, max_clock_mhz=gpu.max_gfx_clock_mhz, errors=gpu.errors)


@backend
class AmdSmiBackend(ProbeBackend):
    """AMD GPUs through amdsmi; its records (AmdGpuInfo) are HostReport.amd_gpus and its recording
    the dump's ``amdsmi`` calls (read by ``tppcalc.probe.run``)."""

    reads_recording = False
    name = "amdsmi"
    order = 30
    pci_vendor = "0x1002"

    def devices(self, report: HostReport) -> list[AmdGpuInfo]:
        return report.amd_gpus

    def neutral(self, gpu: AmdGpuInfo) -> Accelerator:
        return amdsmi_view(gpu)

    def label(self, gpu: AmdGpuInfo) -> str:
        return f"AMD GPU {gpu.index}"

    def identify(self, gpu: AmdGpuInfo, catalogue):
        from tppcalc.probe.identify import identify_amd_gpu

        return identify_amd_gpu(gpu, catalogue)
