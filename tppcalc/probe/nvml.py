"""The NVML backend: every NVML call goes through one ``call(function, *args)`` interface.

``LiveNvml`` calls the official binding (nvidia-ml-py, module ``pynvml``) and turns each answer into
plain JSON values; ``RecordingNvml`` also keeps every answer or error; ``ReplayNvml`` answers from
such a recording. ``read_gpus`` is the one reader over that interface, so replaying a dump runs the
same code as probing the live node. NVML is initialised lazily, never at import, and shut down
after the probe. Errors degrade per field and per device and are recorded with their kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ValidationError

from tppcalc.errors import TppcalcError
from tppcalc.probe.backends import ProbeBackend, backend
from tppcalc.probe.host import MAX_GPUS_PER_NODE, Accelerator, GpuInfo, HostReport

# NVML return codes (nvml.h) by the names the report and recordings use.
ERROR_KINDS = {
    1: "Uninitialized", 2: "InvalidArgument", 3: "NotSupported", 4: "NoPermission", 6: "NotFound",
    9: "DriverNotLoaded", 12: "LibraryNotFound", 13: "FunctionNotFound", 15: "GpuIsLost",
    18: "LibRmVersionMismatch", 999: "Unknown",
}
DEVICE_LOST = {"GpuIsLost", "Unknown"}
# nvmlInit failing with these means there is no NVIDIA driver, not a broken one.
NO_DRIVER = {"LibraryNotFound", "DriverNotLoaded"}
BAD_RECORDING = "BadRecording"  # a recorded answer that is not of the form NVML answers have

NVML_CLOCK_SM, NVML_CLOCK_MEM = 1, 2
FI_NVLINK_LINK_COUNT, FI_NVLINK_SPEED_MBPS_COMMON = 91, 90

CLOCK_EVENT_REASONS = {
    0x1: "gpu_idle", 0x2: "applications_clocks_setting", 0x4: "sw_power_cap", 0x8: "hw_slowdown",
    0x10: "sync_boost", 0x20: "sw_thermal_slowdown", 0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown", 0x100: "display_clock_setting",
}


class NvmlCallError(TppcalcError):
    """An NVML call answered with an error code; ``kind`` is its name (NotSupported, ...)."""

    def __init__(self, kind: str, message: str = ""):
        super().__init__(kind, message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind


class Nvml(Protocol):
    def call(self, function: str, *args: Any) -> Any: ...

    def close(self) -> None: ...


def call_key(function: str, args: tuple) -> str:
    return f"{function}({', '.join(repr(a) for a in args)})"


class UnofficialBindingError(TppcalcError):
    def __str__(self) -> str:
        return ("the installed 'pynvml' module is not NVIDIA's official binding; run "
                "`pip uninstall -y pynvml nvidia-ml-py3 && pip install nvidia-ml-py`")


def _import_pynvml():
    try:
        import pynvml
    except ImportError:
        return None
    # The unofficial 'pynvml'/'nvidia-ml-py3' distributions shadow the module name.
    if not hasattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons") and not hasattr(pynvml, "_nvmlGetFunctionPointer"):
        raise UnofficialBindingError()
    return pynvml


class LiveNvml:
    """NVML through nvidia-ml-py. Construct with ``LiveNvml.open()``; close when done."""

    def __init__(self, pynvml):
        self._nvml = pynvml
        self._handles: dict[int, Any] = {}

    @classmethod
    def open(cls) -> LiveNvml:
        """Initialise NVML; a missing library or driver raises NvmlCallError with its kind."""
        pynvml = _import_pynvml()
        if pynvml is None:
            raise NvmlCallError("LibraryNotFound", "nvidia-ml-py is not installed")
        live = cls(pynvml)
        live._guard(pynvml.nvmlInit)
        return live

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError:
            pass

    def _guard(self, fn: Callable, *args):
        try:
            return fn(*args)
        except self._nvml.NVMLError as exc:
            code = getattr(exc, "value", None)
            raise NvmlCallError(ERROR_KINDS.get(code, f"Error{code}"), str(exc)) from None

    def _handle(self, index: int):
        if index not in self._handles:
            self._handles[index] = self._guard(self._nvml.nvmlDeviceGetHandleByIndex, index)
        return self._handles[index]

    def call(self, function: str, *args: Any) -> Any:
        fn = getattr(self._nvml, function, None)
        if fn is None:
            raise NvmlCallError("FunctionNotFound", f"{function} is not in this nvidia-ml-py")
        if function.startswith("nvmlDevice") and function != "nvmlDeviceGetCount":
            args = (self._handle(args[0]), *args[1:])
        return _plain(self._guard(fn, *args))


class RecordingNvml:
    """A LiveNvml that keeps every call's answer or error for ``tppcalc probe record``."""

    def __init__(self, live: Nvml):
        self._live = live
        self.calls: dict[str, dict] = {}

    def call(self, function: str, *args: Any) -> Any:
        key = call_key(function, args)
        try:
            value = self._live.call(function, *args)
        except NvmlCallError as exc:
            self.calls[key] = {"error": exc.kind, "message": exc.message}
            raise
        self.calls[key] = {"value": value}
        return value

    def close(self) -> None:
        self._live.close()


class ReplayNvml:
    """Answers from a recording; a call that was never recorded is NotSupported (and said so)."""

    def __init__(self, calls: dict[str, dict]):
        self._calls = calls

    def call(self, function: str, *args: Any) -> Any:
        answer = self._calls.get(call_key(function, args))
        if answer is None:
            raise NvmlCallError("NotSupported", "not in the recording")
        # A recording is hostile input: an answer of any other shape is an error of that call only.
        if not isinstance(answer, dict):
            raise NvmlCallError(BAD_RECORDING, "the recorded answer is not an object")
        if "error" in answer:
            kind, message = answer["error"], answer.get("message", "")
            if not isinstance(kind, str) or not isinstance(message, str):
                raise NvmlCallError(BAD_RECORDING, "the recorded error is not text")
            raise NvmlCallError(kind[:100], message[:500])
        if "value" not in answer:
            raise NvmlCallError(BAD_RECORDING, "the recorded answer has neither 'value' nor 'error'")
        value = answer["value"]
        return tuple(value) if isinstance(value, list) else value

    def close(self) -> None:
        pass


def _plain(value: Any) -> Any:
    """NVML answers as JSON-ready values (structs to dicts, bytes to str)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)) or hasattr(value, "_length_"):  # ctypes arrays too
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    fields = getattr(value, "_fields_", None)
    if fields is not None:
        plain = {}
        for name, *_ in fields:
            if name == "value":  # nvmlFieldValue_t: the union; every field we ask for is unsigned
                plain[name] = int(getattr(value, name).ullVal)
            elif not name.startswith("reserved"):
                plain[name] = _plain(getattr(value, name))
        return plain
    return repr(value)


def read_system(nvml: Nvml) -> tuple[str | None, str | None, list[str]]:
    """Driver and CUDA driver versions; notes for what failed."""
    notes = []
    driver = cuda = None
    try:
        answer = nvml.call("nvmlSystemGetDriverVersion")
        if isinstance(answer, str):
            driver = answer[:100]
        else:
            notes.append(f"driver version: {BAD_RECORDING}: not text")
    except NvmlCallError as exc:
        notes.append(f"driver version: {str(exc)[:500]}")
    try:
        version = nvml.call("nvmlSystemGetCudaDriverVersion")
        if type(version) is not int or not 0 <= version < 1_000_000:
            notes.append(f"CUDA driver version: {BAD_RECORDING}: not a version number")
        else:
            cuda = f"{version // 1000}.{version % 1000 // 10}"
    except NvmlCallError as exc:
        notes.append(f"CUDA driver version: {str(exc)[:500]}")
    return driver, cuda, notes


def read_gpus(nvml: Nvml) -> tuple[list[GpuInfo], list[str]]:
    """Every GPU NVML can count, each field read on its own; a lost GPU stays in the list.

    The second item says why GPUs may be missing (the count failed or is not credible): each such
    reason keeps the node's verdict from "outside"."""
    try:
        count = nvml.call("nvmlDeviceGetCount")
    except NvmlCallError as exc:
        return [], [f"NVML device count: {exc}"]
    if type(count) is not int or not 0 <= count <= MAX_GPUS_PER_NODE:
        return [], [f"NVML device count: {str(count)[:40]!r} is not a count of 0 to {MAX_GPUS_PER_NODE} GPUs"]
    return [_read_gpu(nvml, index) for index in range(count)], []


def _read_gpu(nvml: Nvml, index: int) -> GpuInfo:
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    lost = False

    def read(field: str, function: str, *args, convert=lambda v: v):
        nonlocal lost
        if lost:
            errors[field] = "skipped: device lost"
            return
        try:
            answer = nvml.call(function, index, *args)
        except NvmlCallError as exc:
            errors[field] = str(exc)[:500]
            lost = lost or exc.kind in DEVICE_LOST
            return
        try:
            fields[field] = convert(answer)
        except _UNUSABLE as exc:  # an answer not of NVML's form (a hand-edited recording)
            errors[field] = f"{BAD_RECORDING}: unusable answer ({type(exc).__name__})"

    read("name", "nvmlDeviceGetName")
    read("uuid", "nvmlDeviceGetUUID")
    read("pci", "nvmlDeviceGetPciInfo_v3", convert=_pci_fields)
    fields.update(fields.pop("pci", {}))
    if "pci" in errors:
        errors["pci_device_id"] = errors.pop("pci")
    read("serial", "nvmlDeviceGetSerial")
    read("board_part_number", "nvmlDeviceGetBoardPartNumber")
    read("architecture", "nvmlDeviceGetArchitecture", convert=_architecture_name)
    read("compute_capability", "nvmlDeviceGetCudaComputeCapability", convert=lambda v: f"{v[0]}.{v[1]}")
    read("cuda_cores", "nvmlDeviceGetNumGpuCores")
    read("max_sm_clock_mhz", "nvmlDeviceGetMaxClockInfo", NVML_CLOCK_SM)
    read("max_boost_clock_mhz", "nvmlDeviceGetMaxCustomerBoostClock", NVML_CLOCK_SM)
    read("max_memory_clock_mhz", "nvmlDeviceGetMaxClockInfo", NVML_CLOCK_MEM)
    read("memory_total_bytes", "nvmlDeviceGetMemoryInfo", convert=lambda v: v["total"])
    read("memory_bus_width_bits", "nvmlDeviceGetMemoryBusWidth")
    read("nvlink", "nvmlDeviceGetFieldValues", [FI_NVLINK_LINK_COUNT, FI_NVLINK_SPEED_MBPS_COMMON],
         convert=_nvlink_values)
    _nvlink(fields, errors)
    read("pcie_generation", "nvmlDeviceGetCurrPcieLinkGeneration")
    read("pcie_width", "nvmlDeviceGetCurrPcieLinkWidth")
    read("pcie_max_generation", "nvmlDeviceGetMaxPcieLinkGeneration")
    read("pcie_max_width", "nvmlDeviceGetMaxPcieLinkWidth")
    read("mig_enabled", "nvmlDeviceGetMigMode", convert=lambda v: bool(v[0]))
    read("power_limit_watts", "nvmlDeviceGetPowerManagementLimit", convert=lambda mw: mw / 1000)
    read("clock_event_reasons", "nvmlDeviceGetCurrentClocksEventReasons", convert=_reasons)
    if errors.get("clock_event_reasons", "").startswith("FunctionNotFound"):
        # Drivers before R535 know the call by its old name.
        del errors["clock_event_reasons"]
        read("clock_event_reasons", "nvmlDeviceGetCurrentClocksThrottleReasons", convert=_reasons)
    return _valid_gpu(index, lost, fields, errors)


_UNUSABLE = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError)


def _valid_gpu(index: int, lost: bool, fields: dict[str, Any], errors: dict[str, str]) -> GpuInfo:
    """The record, with every value outside what hardware reports (negative, absurd, wrong type)
    moved to ``errors``: unread, not believed."""
    while True:
        try:
            return GpuInfo(index=index, lost=lost, errors=errors, **fields)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors(include_url=False) if e["loc"] and e["loc"][0] in fields}
            if not bad:
                raise
            for name in bad:
                errors[name] = f"{BAD_RECORDING}: not a credible value: {str(fields.pop(name))[:40]!r}"


def _pci_fields(pci: dict) -> dict[str, str]:
    device_id, subsystem, bus_id = pci["pciDeviceId"], pci["pciSubSystemId"], pci["busId"]
    if type(device_id) is not int or type(subsystem) is not int or not isinstance(bus_id, str):
        raise TypeError("pci info")
    if not (0 <= device_id < 1 << 32 and 0 <= subsystem < 1 << 32):
        raise ValueError("pci ids")
    return {"pci_vendor_id": f"0x{device_id & 0xFFFF:04x}", "pci_device_id": f"0x{device_id >> 16:04x}",
            # device << 16 | vendor, as NVML packs it
            "pci_subsystem_id": f"0x{subsystem & 0xFFFF:04x}{subsystem >> 16:04x}", "bus_id": bus_id[:64]}


def _nvlink_values(values) -> list[dict]:
    entries = list(values)
    if len(entries) != 2 or not all(isinstance(e, dict) and type(e.get("nvmlReturn", 0)) is int for e in entries):
        raise ValueError("field values")
    return entries


def _nvlink(fields: dict, errors: dict) -> None:
    values = fields.pop("nvlink", None)
    if values is None:
        reason = errors.pop("nvlink", "not read")
        errors["nvlink_link_count"] = errors["nvlink_speed_mbps"] = reason
        return
    for entry, field in zip(values, ("nvlink_link_count", "nvlink_speed_mbps"), strict=True):
        if entry.get("nvmlReturn", 0) == 0 and "value" in entry:
            fields[field] = entry["value"]
        elif entry.get("nvmlReturn", 0) == 0:
            errors[field] = f"{BAD_RECORDING}: no value"
        else:
            errors[field] = ERROR_KINDS.get(entry["nvmlReturn"], f"Error{entry['nvmlReturn']}")


_ARCHITECTURES = {2: "Kepler", 3: "Maxwell", 4: "Pascal", 5: "Volta", 6: "Turing", 7: "Ampere", 8: "Ada",
                  9: "Hopper", 10: "Blackwell", 11: "Orin"}


def _architecture_name(code: int) -> str | None:
    # 0xffffffff is NVML_DEVICE_ARCH_UNKNOWN: newer parts than the driver knows.
    return _ARCHITECTURES.get(code)


def _reasons(mask: int) -> list[str]:
    return [name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit]


def clock_event_reasons(mask: int) -> list[str]:
    """The names of the clock-event reasons set in an NVML mask (nvmlDeviceGetCurrentClocksEventReasons)."""
    return _reasons(mask)


def nvml_view(gpu: GpuInfo) -> Accelerator:
    """An NVML GPU as the vendor-neutral record identification reads."""
    return Accelerator.model_construct(
        backend=NvmlBackend.name, index=gpu.index, lost=gpu.lost, vendor="NVIDIA", name=gpu.name, bus_id=gpu.bus_id,
        pci_vendor_id=gpu.pci_vendor_id, pci_device_id=gpu.pci_device_id, pci_subsystem_id=gpu.pci_subsystem_id,
        memory_total_bytes=gpu.memory_total_bytes, max_clock_mhz=gpu.max_sm_clock_mhz, errors=gpu.errors)


@backend
class NvmlBackend(ProbeBackend):
    """NVIDIA GPUs through NVML; its records (GpuInfo) are HostReport.gpus and its recording the
    dump's ``nvml`` calls (read by ``tppcalc.probe.run``, as dump formats 1 and 2 store them)."""

    reads_recording = False
    name = "nvml"
    order = 10
    pci_vendor = "0x10de"
    # What identify_gpu reads: beside the neutral fields, what derives a spec of an unlisted GPU.
    identity_fields = ("pci_vendor_id", "pci_device_id", "pci_subsystem_id", "memory_total_bytes", "name",
                       "compute_capability", "cuda_cores", "max_sm_clock_mhz")

    def devices(self, report: HostReport) -> list[GpuInfo]:
        return report.gpus

    def neutral(self, gpu: GpuInfo) -> Accelerator:
        return nvml_view(gpu)

    def label(self, gpu: GpuInfo) -> str:
        return f"GPU {gpu.index}"

    def identify(self, gpu: GpuInfo, catalogue):
        from tppcalc.probe.identify import identify_gpu

        return identify_gpu(gpu, catalogue)
