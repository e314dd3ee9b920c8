"""Running a probe: live, live while recording, or from a recorded dump; all build the same report.

A dump is JSON: the raw answer or error of every NVML (and amdsmi) call, the raw text of every PCI function's
sysfs id files, the /proc/cpuinfo text and sysfs values, plus a provenance line saying whether it
was recorded on real hardware or built from datasheets. A dump is hostile input: its structure is
checked here, every value again where it is read, and nothing in it can raise past this module
except one InputError.

Format 1 dumps (made before the PCI bus was recorded) still replay: their report says the PCI bus
was not enumerated, which keeps the node's verdict from "outside" (an accelerator NVML did not see
cannot be ruled out), while a GPU they show can still make the node controlled.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

from pydantic import ValidationError

from tppcalc.data.input_files import read_input_file
from tppcalc.errors import InputError
from tppcalc.probe.amdsmi import LiveAmdSmi, read_amd_gpus
from tppcalc.probe.backends import BackendUnavailable, get, read_recording, registered
from tppcalc.probe.cpu import cpus_from_sources, read_live_cpu_sources
from tppcalc.probe.host import Accelerator, CpuInfo, HostReport
from tppcalc.probe.nvml import (
    NO_DRIVER,
    LiveNvml,
    Nvml,
    NvmlCallError,
    RecordingNvml,
    ReplayNvml,
    read_gpus,
    read_system,
)
from tppcalc.probe.pci import pci_from_sources, read_live_pci_sources

DUMP_FORMAT = "tppcalc-probe-dump/2"
OLD_DUMP_FORMATS = ("tppcalc-probe-dump/1",)  # no PCI enumeration
NO_PCI_RECORDED = "not recorded (a format 1 dump, made before tppcalc recorded the PCI bus)"
MAX_DUMP_BYTES = 64 << 20  # a recording of the largest node is a few MB
MAX_NVML_CALLS = 100_000   # 64 GPUs x ~30 calls, with room


def probe_live() -> HostReport:
    """Probe this machine."""
    report, _ = _probe_live(record=False)
    return report


def record_live() -> dict:
    """Probe this machine and return the dump that replays it."""
    _, dump = _probe_live(record=True)
    return dump


def _probe_live(*, record: bool) -> tuple[HostReport, dict]:
    cpu_sources = read_live_cpu_sources()
    pci_sources = read_live_pci_sources()
    hostname = socket.gethostname()
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    try:
        nvml: Nvml | None = LiveNvml.open()
        nvml_status = "ok"
    except NvmlCallError as exc:
        nvml, nvml_status = None, f"{exc.kind}: {exc.message}" if exc.message else exc.kind
    recorder = RecordingNvml(nvml) if (record and nvml is not None) else None
    try:
        amd: Nvml | None = LiveAmdSmi.open()
        amd_status = "ok"
    except NvmlCallError as exc:
        amd, amd_status = None, f"{exc.kind}: {exc.message}" if exc.message else exc.kind
    amd_recorder = RecordingNvml(amd) if (record and amd is not None) else None  # the recorder is backend-neutral
    recordings = _live_recordings()
    try:
        report = build_report(recorder or nvml, nvml_status, cpu_sources, hostname,
                              provenance=f"probed live on {hostname} at {stamp}", pci_sources=pci_sources,
                              amdsmi=amd_recorder or amd, amdsmi_status=amd_status, backends=recordings)
    finally:
        for backend in (nvml, amd):
            if backend is not None:
                backend.close()
    dump = {
        "format": DUMP_FORMAT,
        "provenance": f"recorded on real hardware ({hostname}) at {stamp} by tppcalc probe record",
        "hostname": hostname,
        "nvml": {"status": nvml_status, "calls": recorder.calls if recorder else {}},
        "cpu": cpu_sources,
        "pci": pci_sources,
        "amdsmi": {"status": amd_status, "calls": amd_recorder.calls if amd_recorder else {}},
        "backends": recordings,
    }
    return report, dump


def _live_recordings() -> dict[str, dict]:
    """Each further registered backend's raw answers for this machine, or why it has none."""
    recordings: dict[str, dict] = {}
    for source in registered():
        if not (source.reads_recording and source.probes_live):
            continue
        try:
            recordings[source.name] = {"status": "ok", "recording": source.live_recording()}
        except BackendUnavailable as exc:
            recordings[source.name] = {"status": exc.status[:500], "absent": exc.absent}
        except Exception as exc:  # a backend's fault is one reason devices may be missing, not a crash
            recordings[source.name] = {"status": f"failed: {type(exc).__name__}: {str(exc)[:400]}", "absent": False}
    return recordings


def _read_backends(recordings: dict[str, dict]) -> tuple[dict[str, str], list[Accelerator], list[str], list[str]]:
    """Statuses, devices, reasons devices may be missing and notes, from each backend's recording.
    A recording by a backend this tppcalc does not know is a reason devices may be missing."""
    statuses: dict[str, str] = {}
    accelerators: list[Accelerator] = []
    unenumerated: list[str] = []
    notes: list[str] = []
    for name, entry in recordings.items():
        source = get(name)
        status = entry.get("status", "ok")
        statuses[name[:64]] = status[:500]
        if source is None or not source.reads_recording:
            unenumerated.append(f"recorded by a backend this tppcalc cannot read ({name[:64]!r}): its devices are not read")
            continue
        if status != "ok":
            if not entry.get("absent", False):
                unenumerated.append(f"{name} could not be used ({status})")
            continue
        reading = read_recording(source, entry.get("recording"))
        accelerators.extend(reading.accelerators)
        unenumerated.extend(reading.unenumerated)
        notes.extend(reading.notes)
    return statuses, accelerators, unenumerated, notes


def build_report(nvml: Nvml | None, nvml_status: str, cpu_sources: dict | None, hostname: str | None,
                 *, provenance: str, pci_sources: dict | None = None, amdsmi: Nvml | None = None,
                 amdsmi_status: str = "not probed", backends: dict[str, dict] | None = None,
                 no_pci_because: str = NO_PCI_RECORDED) -> HostReport:
    """The one path from backends to a HostReport, live or replayed. ``pci_sources`` None means
    the PCI bus was not enumerated (an old recording, or a dump of one backend), which the report
    says (``no_pci_because``); ``cpu_sources`` None, that the CPUs were not recorded. ``backends``:
    each further registered backend's recording ({"status", "recording"}, or "absent")."""
    notes: list[str] = []
    unenumerated: list[str] = []
    gpus, driver, cuda = [], None, None
    amd_gpus = []
    if amdsmi is not None:
        amd_gpus, amd_failures = read_amd_gpus(amdsmi)
        unenumerated.extend(amd_failures)
    elif not amdsmi_status.startswith(("LibraryNotFound", "not probed")):  # installed, but would not start
        unenumerated.append(f"amdsmi could not be initialised ({amdsmi_status})")
    if nvml is None and nvml_status.startswith("not probed"):
        notes.append(f"NVML {nvml_status}")
    elif nvml is None:
        notes.append(f"No NVIDIA driver found ({nvml_status}): GPUs, if any, were not probed by NVML")
        if nvml_status.split(":")[0] not in NO_DRIVER:  # a driver is there, but NVML would not start
            unenumerated.append(f"NVML could not be initialised ({nvml_status})")
    else:
        driver, cuda, system_notes = read_system(nvml)
        gpus, count_failures = read_gpus(nvml)
        notes.extend(system_notes)
        unenumerated.extend(count_failures)
    statuses, backend_devices, backend_failures, backend_notes = _read_backends(backends or {})
    unenumerated.extend(backend_failures)
    notes.extend(backend_notes)
    if pci_sources is None:
        pci_status, pci_devices = no_pci_because, []
        unseen = "that NVML did not see" if no_pci_because == NO_PCI_RECORDED else "that the dump does not list"
        unenumerated.append(f"PCI bus {no_pci_because}: accelerators {unseen} cannot be ruled out")
    else:
        pci_status, pci_devices, pci_failures = pci_from_sources(pci_sources)
        unenumerated.extend(pci_failures)
        accelerators = [f"{d.bus_id} {d.vendor_id or '?'}:{d.device_id or '?'} class {d.class_code or '?'}"
                        for d in pci_devices if d.accelerator]
        notes.append(f"PCI bus: {len(pci_devices)} functions enumerated, {len(accelerators)} of an accelerator class"
                     + (f" ({', '.join(accelerators[:16])}{', ...' if len(accelerators) > 16 else ''})"
                        if accelerators else ""))
    if cpu_sources is None:
        cpus = []
        unenumerated.append("CPUs: not recorded in this dump")
    else:
        cpus = _cpus(cpu_sources)
    return HostReport(
        hostname=hostname, provenance=provenance, nvml=nvml_status, driver_version=driver,
        cuda_driver_version=cuda, gpus=gpus, cpus=cpus, amdsmi=amdsmi_status, amd_gpus=amd_gpus,
        pci=pci_status, pci_devices=pci_devices,
        unenumerated=unenumerated, notes=notes, backends=statuses, accelerators=backend_devices,
    )


def _cpus(sources: dict) -> list[CpuInfo]:
    """The CPU backend's records; sources it cannot use become one unread CPU, never a traceback."""
    try:
        return cpus_from_sources(sources)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, ValidationError) as exc:
        machine = sources.get("machine") if isinstance(sources.get("machine"), str) else "unknown"
        return [CpuInfo(machine=machine[:64], errors={"cpuinfo": f"unusable CPU sources ({type(exc).__name__})"})]


def load_dump(path: str | Path) -> dict:
    """A dump read and its structure checked; anything else is one InputError naming the field."""
    path = Path(path)
    raw = read_input_file(path, MAX_DUMP_BYTES)  # a regular file, bounded before it is parsed
    try:
        dump = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, 4300-digit ints
        raise InputError(f"not a probe dump: {type(exc).__name__}: {str(exc)[:200]}", where=str(path)) from None
    if not isinstance(dump, dict) or dump.get("format") not in (DUMP_FORMAT, *OLD_DUMP_FORMATS):
        raise InputError(f"not a probe dump (expected format {DUMP_FORMAT!r})", where=str(path))
    required = ("provenance", "nvml", "cpu") + (("pci",) if dump["format"] == DUMP_FORMAT else ())
    for key in required:
        if key not in dump:
            raise InputError(f"probe dump lacks {key!r}", where=str(path))
    _check_structure(dump, str(path))
    return dump


def _check_structure(dump: dict, where: str) -> None:
    """The shape every later step relies on; values are checked where they are read."""
    def require(ok: bool, field: str, what: str) -> None:
        if not ok:
            raise InputError(f"expected {what}", where=where, field=field)

    require(isinstance(dump["provenance"], str), "provenance", "text")
    require(dump.get("hostname") is None or isinstance(dump["hostname"], str), "hostname", "text or null")
    nvml = dump["nvml"]
    require(isinstance(nvml, dict), "nvml", "an object {status, calls}")
    require(isinstance(nvml.get("status", "ok"), str), "nvml.status", "text")
    calls = nvml.get("calls", {})
    require(isinstance(calls, dict), "nvml.calls", "an object of recorded calls")
    require(len(calls) <= MAX_NVML_CALLS, "nvml.calls", f"at most {MAX_NVML_CALLS} recorded calls")
    amd = dump.get("amdsmi", {})  # absent in dumps made before the AMD backend: not probed
    require(isinstance(amd, dict) and isinstance(amd.get("status", "ok"), str), "amdsmi", "an object {status, calls}")
    amd_calls = amd.get("calls", {})
    require(isinstance(amd_calls, dict) and len(amd_calls) <= MAX_NVML_CALLS, "amdsmi.calls",
            f"an object of at most {MAX_NVML_CALLS} recorded calls")
    cpu = dump["cpu"]
    require(isinstance(cpu, dict), "cpu", "an object of CPU sources")
    for key in ("machine", "cpuinfo", "cpuinfo_error", "sysfs_error"):
        require(key not in cpu or isinstance(cpu[key], str), f"cpu.{key}", "text")
    sysfs = cpu.get("sysfs", {})
    require(isinstance(sysfs, dict) and all(isinstance(v, str) for v in sysfs.values()), "cpu.sysfs",
            "an object of file -> text")
    recordings = dump.get("backends", {})  # absent in dumps made before the backend registry
    require(isinstance(recordings, dict) and len(recordings) <= 64, "backends",
            "an object of at most 64 backend name -> {status, recording}")
    for name, entry in recordings.items():
        require(isinstance(entry, dict) and isinstance(entry.get("status", "ok"), str)
                and isinstance(entry.get("absent", False), bool), f"backends.{name[:64]}",
                "an object {status, recording} or {status, absent}")
    # "pci" is checked where it is read (pci_from_sources): a bad one is a failed enumeration.


def report_from_dump(dump: dict) -> HostReport:
    """Replay a dump through the same code as a live probe."""
    status = dump["nvml"].get("status", "ok")
    nvml = ReplayNvml(dump["nvml"].get("calls", {})) if status == "ok" else None
    pci_sources = dump.get("pci") if dump["format"] == DUMP_FORMAT else None
    recorded_amd = dump.get("amdsmi") or {"status": "not probed (not in this recording)"}
    amd_status = recorded_amd.get("status", "ok")
    amd = ReplayNvml(recorded_amd.get("calls", {})) if amd_status == "ok" else None
    return build_report(nvml, status[:500], dump["cpu"], dump.get("hostname"), provenance=dump["provenance"],
                        pci_sources=pci_sources, amdsmi=amd, amdsmi_status=amd_status[:500],
                        backends=dump.get("backends"))
