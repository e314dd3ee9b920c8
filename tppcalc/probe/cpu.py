"""The CPU backend: /proc/cpuinfo and sysfs, live or as recorded text, into CpuInfo records.

Live reading only gathers the raw text (``read_live_cpu_sources``); parsing is the same code for a
live machine and a recorded dump. The microarchitecture is named from archspec's public target
data, for the *recorded* machine type so an aarch64 dump replays correctly on x86; the per-core
rates come from the microarchitecture table or the flags (``tppcalc.probe.cpu_rates``).
"""

from __future__ import annotations

import math
import platform
import re
from collections import Counter
from pathlib import Path

from tppcalc.probe.backends import ProbeBackend, backend
from tppcalc.probe.host import CpuInfo, HostReport

# Flags that change a CPU's peak (vector width, FMA, matrix engines).
INTERESTING_FLAGS = (
    "fma", "avx", "avx2", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni", "avx_vnni", "avx512vl", "avx512bw",
    "amx_tile", "amx_bf16", "amx_int8", "amx_fp16", "asimd", "asimdhp", "sve", "sve2", "sme", "sme2", "i8mm", "bf16",
)

_SYSFS_FREQ = "cpu0/cpufreq/cpuinfo_max_freq"
_SYSFS_BASE = "cpu0/cpufreq/base_frequency"  # intel_pstate only


def read_live_cpu_sources() -> dict:
    """The raw inputs, as a recording stores them."""
    sources: dict = {"machine": platform.machine(), "sysfs": {}}
    try:
        sources["cpuinfo"] = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        sources["cpuinfo_error"] = f"{type(exc).__name__}: {exc}"
    base = Path("/sys/devices/system/cpu")
    try:
        sources["sysfs"][_SYSFS_FREQ] = (base / _SYSFS_FREQ).read_text().strip()
    except OSError as exc:
        sources["sysfs_error"] = f"{_SYSFS_FREQ}: {type(exc).__name__}"
    try:
        sources["sysfs"][_SYSFS_BASE] = (base / _SYSFS_BASE).read_text().strip()
    except OSError:
        pass  # only intel_pstate has it; the model name may say it instead
    try:  # archspec's own answer for this machine, kept beside the text it is derived from
        import archspec.cpu

        sources["archspec_host"] = archspec.cpu.host().name
    except Exception as exc:  # archspec data problems must not stop the probe
        sources["archspec_host_error"] = f"{type(exc).__name__}: {exc}"
    return sources


def _blocks(text: str) -> list[dict[str, str]]:
    blocks, current = [], {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            if current:
                blocks.append(current)
                current = {}
            continue
        current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


_ARM_IMPLEMENTERS = {"0x41": "ARM", "0x61": "Apple", "0x4e": "NVIDIA"}


def microarchitecture(block: dict[str, str], machine: str) -> str | None:
    """archspec's name for the processor described by one /proc/cpuinfo block.

    Uses archspec's public API only (``archspec.cpu.TARGETS`` and each target's ``vendor``,
    ``family``, ``features``, ``cpu_part`` and ``ancestors``), with the recorded machine type, so an
    aarch64 dump replays correctly on x86: a target is compatible when it is of this family, its
    vendor is this CPU's or generic, and every feature it names is in the CPU's flags; the most
    derived compatible target wins (on Arm, one whose CPU part matches first).
    """
    import archspec.cpu

    if machine == "x86_64":
        vendor, flags, part = block.get("vendor_id", "generic"), set(block.get("flags", "").split()), ""
    elif machine == "aarch64":
        vendor = _ARM_IMPLEMENTERS.get(block.get("CPU implementer", ""), "generic")
        flags, part = set(block.get("Features", "").split()), block.get("CPU part", "")
    else:
        return None
    # archspec's own record type normalises the flags (it adds sse3, which Linux calls pni).
    recorded = archspec.cpu.Microarchitecture("recorded", [], vendor, flags, {}, cpu_part=part)
    candidates = [t for t in archspec.cpu.TARGETS.values()
                  if t.family.name == machine and t.vendor in (vendor, "generic") and t.features <= recorded.features]
    if part and any(t.cpu_part == part for t in candidates):
        candidates = [t for t in candidates if t.cpu_part == part]
    if not candidates:
        return None

    def depth(target):
        return len(target.ancestors), len(target.features)

    # A vendor target must descend from the best generic level the flags reach (archspec's documented
    # partial order, ``>``): a Zen 4 guest missing 'pku' is x86_64_v4, not the older zen2.
    generic = max((t for t in candidates if t.vendor == "generic"), key=depth, default=None)
    if generic is not None:
        candidates = [t for t in candidates if t > generic] or [generic]
    return max(candidates, key=depth).name


def cpus_from_sources(sources: dict) -> list[CpuInfo]:
    """CpuInfo records (one per distinct model) from recorded or live sources."""
    machine = sources.get("machine", "unknown")
    if not isinstance(machine, str):
        machine = "unknown"
    if "cpuinfo" not in sources:
        return [CpuInfo(machine=machine, errors={"cpuinfo": str(sources.get("cpuinfo_error", "not recorded"))})]
    if not isinstance(sources["cpuinfo"], str):
        return [CpuInfo(machine=machine, errors={"cpuinfo": "recorded /proc/cpuinfo is not text"})]
    blocks = [b for b in _blocks(sources["cpuinfo"]) if "processor" in b]
    if not blocks:
        return [CpuInfo(machine=machine, errors={"cpuinfo": "no processor entries"})]
    errors: dict[str, str] = {}
    first = blocks[0]
    model = first.get("model name") or _arm_model(first)
    sockets = len({b.get("physical id", "0") for b in blocks}) if "physical id" in first else None
    if sockets is None:
        errors["sockets"] = "no 'physical id' in /proc/cpuinfo"
    cores = _physical_cores(blocks)
    if cores is None:
        errors["physical_cores"] = "no 'core id' in /proc/cpuinfo"
    max_mhz = _max_mhz(sources, blocks, errors)
    flag_text = first.get("flags") or first.get("Features") or ""
    flags = [f for f in INTERESTING_FLAGS if f in set(flag_text.split())]
    try:
        uarch = microarchitecture(first, machine)
    except Exception as exc:  # archspec data problems must not stop the probe
        uarch = None
        errors["microarchitecture"] = f"archspec: {type(exc).__name__}: {exc}"
    live_name = sources.get("archspec_host")
    if isinstance(live_name, str) and live_name != uarch and _known_target(live_name):
        # archspec.cpu.host() of the recorded machine. The text stays primary (a recorded name could
        # lower the rates the flags give); the host's name fills in only where the text names nothing.
        if uarch is None:
            errors["microarchitecture"] = (f"the recorded /proc/cpuinfo names no target; "
                                           f"archspec.cpu.host() said {live_name!r}, which is used")
            uarch = live_name
        else:
            errors.setdefault("microarchitecture", f"archspec.cpu.host() said {live_name!r}; the recorded "
                                                    f"/proc/cpuinfo gives {uarch!r}, which is used")
    if uarch is None and "microarchitecture" not in errors:
        errors["microarchitecture"] = f"archspec found no target for this {machine} CPU"
    rates, rate_source = _rates(uarch, set(flag_text.split()), machine, errors)
    return [CpuInfo(
        vendor=first.get("vendor_id") or first.get("CPU implementer"),
        model_name=model,
        machine=machine,
        microarchitecture=uarch,
        sockets=sockets,
        physical_cores=cores,
        logical_cpus=len(blocks),
        max_mhz=max_mhz,
        base_mhz=_base_mhz(sources, model),
        flags=flags,
        per_core_rates=rates,
        rate_source=rate_source,
        errors=errors,
    )]


def _known_target(name: str) -> bool:
    import archspec.cpu

    return name in archspec.cpu.TARGETS


def _rates(uarch: str | None, flags: set[str], machine: str, errors: dict[str, str]):
    from tppcalc.probe.cpu_rates import UNRATED_MATRIX_FLAGS, core_rates
    from tppcalc.probe.identify import cpu_microarchitectures

    rates, source = core_rates(uarch, flags, machine, cpu_microarchitectures())
    unrated = [f for f in UNRATED_MATRIX_FLAGS if f in flags]
    if unrated and not any(r.unit == "matrix engine" for r in rates):
        errors["per_core_rates"] = (f"matrix instructions {', '.join(unrated)} have no sourced rate here: "
                                    "the rates are a lower bound")
    return rates, source or None


def _arm_model(block: dict[str, str]) -> str | None:
    part = block.get("CPU part")
    return f"Arm CPU implementer {block.get('CPU implementer', '?')} part {part}" if part else None


def _physical_cores(blocks: list[dict[str, str]]) -> int | None:
    if "core id" in blocks[0]:
        return len({(b.get("physical id", "0"), b.get("core id")) for b in blocks})
    if "cpu cores" in blocks[0]:
        per_socket = Counter(b.get("physical id", "0") for b in blocks)
        return int(blocks[0]["cpu cores"]) * len(per_socket)
    if "CPU part" in blocks[0]:  # Arm lists one block per core, no SMT
        return len(blocks)
    return None


def _positive_mhz(text: str, scale: float) -> float | None:
    """``text`` (a number in units of ``scale`` MHz) as MHz, or None unless it is finite and positive."""
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _max_mhz(sources: dict, blocks: list[dict[str, str]], errors: dict[str, str]) -> float | None:
    khz = sources.get("sysfs", {}).get(_SYSFS_FREQ)
    if khz:
        mhz = _positive_mhz(str(khz), 1 / 1000)
        if mhz is not None:
            return mhz
        errors["max_mhz"] = f"unreadable {_SYSFS_FREQ}: {str(khz)[:40]!r}"
    speeds = [_positive_mhz(b["cpu MHz"], 1) for b in blocks if "cpu MHz" in b]
    if speeds and None not in speeds:
        errors.setdefault("max_mhz", "no cpufreq in sysfs; highest current 'cpu MHz' used (may be below the maximum)")
        return max(speeds)
    if speeds:
        errors["max_mhz"] = (errors.get("max_mhz", "no cpufreq in sysfs") +
                             "; a 'cpu MHz' in /proc/cpuinfo is not a positive number")
        return None
    errors.setdefault("max_mhz", "no cpufreq in sysfs and no 'cpu MHz' in /proc/cpuinfo")
    return None


_MODEL_NAME_CLOCK = re.compile(r"@\s*([0-9]+(?:\.[0-9]+)?)\s*GHz\s*$")


def _base_mhz(sources: dict, model_name: str | None) -> float | None:
    """The base (nominal) clock: intel_pstate's base_frequency, else the '@ 2.00GHz' of the model
    name. Shown beside the maximum; the derived TPP uses the maximum."""
    khz = sources.get("sysfs", {}).get(_SYSFS_BASE)
    mhz = _positive_mhz(str(khz), 1 / 1000) if khz else None
    if mhz is None and model_name:
        match = _MODEL_NAME_CLOCK.search(model_name)
        mhz = _positive_mhz(match.group(1), 1000) if match else None
    return mhz


@backend
class CpuBackend(ProbeBackend):
    """The CPUs, from /proc/cpuinfo and sysfs; its records (CpuInfo) are HostReport.cpus and its
    recording the dump's ``cpu`` sources. One record stands for every socket of its model."""

    reads_recording = False
    name = "cpu"
    kind = "cpu"
    order = 20
    identity_fields = ("model_name", "machine", "microarchitecture", "physical_cores", "sockets", "max_mhz", "flags")

    def devices(self, report: HostReport) -> list[CpuInfo]:
        return report.cpus

    def label(self, cpu: CpuInfo) -> str:
        sockets = cpu.sockets or 1
        return f"CPU ({sockets} socket{'s' if sockets != 1 else ''})"

    def count(self, cpu: CpuInfo) -> int:
        return cpu.sockets or 1

    def reported_name(self, cpu: CpuInfo) -> str | None:
        return cpu.model_name

    def identify(self, cpu: CpuInfo, catalogue):
        from tppcalc.probe.identify import identify_cpu

        return identify_cpu(cpu, catalogue)
