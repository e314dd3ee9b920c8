"""Running a probe: live, live while recording, or from a recorded dump; all build the same report.

A dump is JSON: the raw answer or error of every NVML call, the /proc/cpuinfo text and sysfs values,
plus a provenance line saying whether it was recorded on real hardware or built from datasheets.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

from tppcalc.errors import InputError
from tppcalc.probe.cpu import cpus_from_sources, read_live_cpu_sources
from tppcalc.probe.host import HostReport
from tppcalc.probe.nvml import LiveNvml, Nvml, NvmlCallError, RecordingNvml, ReplayNvml, read_gpus, read_system

DUMP_FORMAT = "tppcalc-probe-dump/1"


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
    hostname = socket.gethostname()
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    try:
        nvml: Nvml | None = LiveNvml.open()
        nvml_status = "ok"
    except NvmlCallError as exc:
        nvml, nvml_status = None, f"{exc.kind}: {exc.message}" if exc.message else exc.kind
    recorder = RecordingNvml(nvml) if (record and nvml is not None) else None
    try:
        report = build_report(recorder or nvml, nvml_status, cpu_sources, hostname,
                              provenance=f"probed live on {hostname} at {stamp}")
    finally:
        if nvml is not None:
            nvml.close()
    dump = {
        "format": DUMP_FORMAT,
        "provenance": f"recorded on real hardware ({hostname}) at {stamp} by tppcalc probe record",
        "hostname": hostname,
        "nvml": {"status": nvml_status, "calls": recorder.calls if recorder else {}},
        "cpu": cpu_sources,
    }
    return report, dump


def build_report(nvml: Nvml | None, nvml_status: str, cpu_sources: dict, hostname: str | None,
                 *, provenance: str) -> HostReport:
    """The one path from backends to a HostReport, live or replayed."""
    notes: list[str] = []
    gpus, driver, cuda = [], None, None
    if nvml is None:
        notes.append(f"No NVIDIA driver found ({nvml_status}): GPUs, if any, were not probed")
    else:
        driver, cuda, system_notes = read_system(nvml)
        gpus, gpu_notes = read_gpus(nvml)
        notes.extend(system_notes + gpu_notes)
    return HostReport(
        hostname=hostname, provenance=provenance, nvml=nvml_status, driver_version=driver,
        cuda_driver_version=cuda, gpus=gpus, cpus=cpus_from_sources(cpu_sources), notes=notes,
    )


def load_dump(path: str | Path) -> dict:
    path = Path(path)
    try:
        dump = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a probe dump: {exc}", where=str(path)) from None
    if not isinstance(dump, dict) or dump.get("format") != DUMP_FORMAT:
        raise InputError(f"not a probe dump (expected format {DUMP_FORMAT!r})", where=str(path))
    for key in ("provenance", "nvml", "cpu"):
        if key not in dump:
            raise InputError(f"probe dump lacks {key!r}", where=str(path))
    return dump


def report_from_dump(dump: dict) -> HostReport:
    """Replay a dump through the same code as a live probe."""
    status = dump["nvml"].get("status", "ok")
    nvml = ReplayNvml(dump["nvml"].get("calls", {})) if status == "ok" else None
    return build_report(nvml, status, dump["cpu"], dump.get("hostname"), provenance=dump["provenance"])
