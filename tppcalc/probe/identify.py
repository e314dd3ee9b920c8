"""Identification: which catalogue chip a probed device is, or a spec derived from what it reports.

GPUs match by PCI vendor/device id (narrowed by subsystem id, then memory size), then by name. A
device that matches nothing gets a spec derived from the per-architecture table (SMs from the CUDA
core count, tensor MACs per SM per clock, NVML's max SM clock) and is labelled ``derived``; its die
area is unknown, so the rules say which outcomes remain possible. CPUs match by model name, else
are derived from the per-microarchitecture table (cores x clock x operations per cycle).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Literal

from tppcalc.core.exact import EXACT
from tppcalc.core.metrics import compute_metrics
from tppcalc.core.precision import Precision, bit_length
from tppcalc.core.thresholds import TPP_LINES
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.spec import ChipSpec
from tppcalc.errors import TppcalcError
from tppcalc.probe.host import Accelerator, AmdGpuInfo, CpuInfo, GpuInfo, PciDevice

Method = Literal["pci id", "pci id and memory size", "name", "derived", "family bound", "unreadable"]
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Identification:
    spec: ChipSpec
    method: Method
    catalogue_id: str | None
    derived_tpp_at_max_clock: Decimal | None = None
    cross_checks: list[str] = field(default_factory=list)


def _data(name: str) -> dict:
    path = Path(str(resources.files("tppcalc.probe") / "data" / name))
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


@functools.cache
def gpu_architectures() -> dict[str, dict]:
    """Per compute capability: CUDA cores per SM and dense MACs per SM per clock (sourced data)."""
    document = _data("gpu_architectures.toml")
    return {a["compute_capability"]: a for a in document.get("architecture", [])}


@functools.cache
def cpu_microarchitectures() -> dict[str, dict]:
    document = _data("cpu_microarchitectures.toml")
    return {m["name"]: m for m in document.get("microarchitecture", [])}


# ---- GPUs -----------------------------------------------------------------------------------

def identify_gpu(gpu: GpuInfo, catalogue: Catalogue) -> Identification:
    derived_spec, derived_tpp, derive_note = _derive_gpu(gpu)
    from tppcalc.probe.nvml import nvml_view

    found, method = match_accelerator(nvml_view(gpu), catalogue)
    if found is None:
        if derived_spec is not None:
            return Identification(derived_spec, "derived", None, derived_tpp,
                                  [f"not in the catalogue: figures derived from NVML and the architecture table ({derive_note})"])
        return Identification(_unreadable_spec(gpu, derive_note), "unreadable", None, None,
                              [f"cannot identify or derive this GPU: {derive_note}"])
    return Identification(found, method, found.id, derived_tpp, _cross_check_gpu(gpu, found, derived_tpp))


def match_accelerator(device: Accelerator, catalogue: Catalogue) -> tuple[ChipSpec | None, Method]:
    """The catalogue chip a device is, from any backend's vendor-neutral record: by PCI id (narrowed
    by subsystem id, then memory size, where the catalogue lists several), then by name."""
    if device.pci_vendor_id and device.pci_device_id:
        candidates = catalogue.by_pci(device.pci_vendor_id, device.pci_device_id, device.pci_subsystem_id)
        if len(candidates) == 1:
            return candidates[0], "pci id"
        if len(candidates) > 1 and device.memory_total_bytes:
            by_memory = [c for c in candidates if _memory_matches(c, device.memory_total_bytes)]
            if len(by_memory) == 1:
                return by_memory[0], "pci id and memory size"
    if device.name:
        # Catalogue names leave out the vendor that backends put first ("NVIDIA H100 80GB HBM3").
        query = re.sub(rf"^{re.escape(device.vendor)}\s+", "", device.name) if device.vendor else device.name
        try:
            return catalogue.lookup(query), "name"
        except TppcalcError:
            pass
    return None, "unreadable"


def identify_accelerator(device: Accelerator, catalogue: Catalogue) -> Identification:
    """Any backend's device, by its vendor-neutral record; one that matches nothing is unidentified
    (its every figure unknown), since a neutral record carries nothing to derive a spec from."""
    found, method = match_accelerator(device, catalogue)
    if found is None:
        why = (f"{device.backend} GPU {device.index} ({device.pci_vendor_id or '?'}:{device.pci_device_id or '?'}, "
               f"{device.name or 'no name'}): not in the catalogue, and {device.backend} gives no figures to "
               "derive it from" + (" (the device is lost)" if device.lost else ""))
        chip_id = re.sub(r"[^a-z0-9]+", "-", f"unidentified-{device.backend}-gpu-{device.index}".lower())
        return Identification(unidentified_spec(chip_id, device.name or f"{device.backend} GPU {device.index}", why),
                              "unreadable", None, None, [why])
    return Identification(found, method, found.id, None, _memory_check(device.memory_total_bytes, found))


def _memory_check(total_bytes: int | None, spec: ChipSpec) -> list[str]:
    if total_bytes and spec.memory and spec.memory.capacity_gb and spec.memory.capacity_gb.value:
        if not _memory_matches(spec, total_bytes):
            return [f"reports {total_bytes / 1e9:.1f} GB of memory; {spec.name} has "
                    f"{spec.memory.capacity_gb.value} GB: a different SKU?"]
    return []


def _memory_matches(spec: ChipSpec, total_bytes: int) -> bool:
    """NVML reports usable memory in bytes; datasheets round GB (decimal or binary) generously."""
    if spec.memory is None or spec.memory.capacity_gb is None or spec.memory.capacity_gb.value is None:
        return False
    reported_gb = Decimal(total_bytes) / Decimal(10**9)
    return abs(reported_gb - spec.memory.capacity_gb.value) <= spec.memory.capacity_gb.value * Decimal("0.1")


def _derive_gpu(gpu: GpuInfo) -> tuple[ChipSpec | None, Decimal | None, str]:
    """A spec from SMs x MACs per SM per clock x 2 x NVML's max SM clock."""
    arch = gpu_architectures().get(gpu.compute_capability or "")
    missing = [name for name, value in (("compute capability", gpu.compute_capability), ("CUDA core count", gpu.cuda_cores),
                                        ("max SM clock", gpu.max_sm_clock_mhz)) if value is None]
    if arch is None and not missing:
        missing.append(f"compute capability {gpu.compute_capability} in the architecture table")
    if missing:
        return None, None, "missing " + ", ".join(missing)
    sms, remainder = divmod(gpu.cuda_cores, int(arch["fp32_cores_per_sm"]))
    if remainder:
        return None, None, f"{gpu.cuda_cores} CUDA cores is not a whole number of {arch['fp32_cores_per_sm']}-core SMs"
    clock = Decimal(gpu.max_sm_clock_mhz)
    units, unconfirmed = [], []
    for unit_name, table_key in (("tensor cores", "tensor_dense_macs_per_sm_per_clock"),
                                 ("CUDA cores (vector FMA)", "vector_fma_per_sm_per_clock")):
        rates = {}
        for precision, entry in arch.get(table_key, {}).items():
            macs = Decimal(entry["value"])
            tops = EXACT.divide(EXACT.multiply(EXACT.multiply(Decimal(2 * sms), macs), clock), MILLION)
            if entry.get("unconfirmed"):
                unconfirmed.append(f"{unit_name} {precision}")
            rates[precision] = {"value": tops, "source": "derived",
                                "note": f"{sms} SMs x {macs} MACs/SM/clock x 2 x {clock} MHz"
                                        + ("; table value unconfirmed" if entry.get("unconfirmed") else "")}
        if rates:
            units.append({"name": unit_name, "dense_tops": rates})
    record = {
        "id": f"derived-gpu-{gpu.index}",
        "vendor": "NVIDIA",
        "name": gpu.name or f"GPU {gpu.index}",
        "kind": "gpu",
        "architecture": arch.get("name"),
        "datacenter": {"unknown": "not in the catalogue; whether it is designed for datacenters is not derivable"},
        "processing_units": units,
        "sources": {"derived": {"title": f"NVML readings of GPU {gpu.index} and tppcalc's GPU architecture table "
                                         f"(compute capability {gpu.compute_capability})"}},
    }
    spec = _device_spec(record)
    note = f"{sms} SMs at {clock} MHz"
    if unconfirmed:
        note += "; unconfirmed architecture-table rates: " + ", ".join(unconfirmed)
    return spec, compute_metrics(spec).primary.tpp_bounds.low, note


def _unreadable_spec(gpu: GpuInfo, why: str) -> ChipSpec:
    return unidentified_spec(f"unreadable-gpu-{gpu.index}", gpu.name or f"GPU {gpu.index}", why)


def _cross_check_gpu(gpu: GpuInfo, spec: ChipSpec, derived_tpp: Decimal | None) -> list[str]:
    checks = _memory_check(gpu.memory_total_bytes, spec)
    io = spec.io_bidir_gbps.value if spec.io_bidir_gbps is not None else None
    if gpu.nvlink_link_count == 0 and io is not None and io > 256:
        checks.append(f"reports no NVLink links, but {spec.name} is rated {io} GB/s of I/O: a PCIe variant, "
                      "or NVLink disabled")
    catalogue_tpp = compute_metrics(spec).tpp
    if derived_tpp is not None and catalogue_tpp:
        ratio = derived_tpp / catalogue_tpp
        checks.append(f"TPP at NVML's max SM clock ({gpu.max_sm_clock_mhz} MHz): {derived_tpp.normalize():f}, "
                      f"{ratio:.1%} of the datasheet TPP {catalogue_tpp.normalize():f} (datasheets quote tensor "
                      "peaks at a lower tensor clock; the datasheet figure is the one the rule uses)")
        if ratio < Decimal("0.85"):
            checks.append(f"derived TPP is {1 - ratio:.0%} below the datasheet: fewer SMs or a lower clock "
                          f"than {spec.name} (a different SKU, or a cut-down part)")
        elif ratio > Decimal("1.2"):
            checks.append("derived TPP is well above the datasheet: the hardware may be more capable than its label")
    return checks


# ---- AMD GPUs (amdsmi) --------------------------------------------------------------------------

def identify_amd_gpu(gpu: AmdGpuInfo, catalogue: Catalogue) -> Identification:
    """By PCI id (narrowed by memory size where the catalogue lists several), then by market name."""
    from tppcalc.probe.amdsmi import amdsmi_view

    found, method = match_accelerator(amdsmi_view(gpu), catalogue)
    if found is None:
        why = (f"amdsmi GPU {gpu.index} ({gpu.pci_vendor_id or '?'}:{gpu.pci_device_id or '?'}, "
               f"{gpu.name or 'no name'}): not in the catalogue, and amdsmi gives no figures to derive it from")
        return Identification(unidentified_spec(f"unidentified-amd-gpu-{gpu.index}", gpu.name or f"AMD GPU {gpu.index}",
                                                why), "unreadable", None, None, [why])
    return Identification(found, method, found.id, None, _memory_check(gpu.memory_total_bytes, found))


# ---- devices seen only on the PCI bus --------------------------------------------------------

def identify_pci(device: PciDevice, catalogue: Catalogue) -> Identification:
    """A device no vendor library read, by its vendor:device id (and subsystem id where the
    catalogue lists several) alone; anything else is unidentified, its every figure unknown."""
    where = f"PCI {device.bus_id} ({device.vendor_id or '?'}:{device.device_id or '?'}, class {device.class_code or '?'})"
    if device.vendor_id is None or device.device_id is None:
        why = f"{where}: id unreadable ({'; '.join(f'{k}: {v}' for k, v in device.errors.items())})"
        return _unidentified(device, where, why)
    subsystem = (f"0x{device.subsystem_vendor_id[2:]}{device.subsystem_device_id[2:]}"
                 if device.subsystem_vendor_id and device.subsystem_device_id else None)
    candidates = catalogue.by_pci(device.vendor_id, device.device_id, subsystem)
    if len(candidates) == 1:
        (spec,) = candidates
        return Identification(spec, "pci id", spec.id, None, [
            f"identified by PCI id alone ({device.vendor_id}:{device.device_id}) with no vendor library: "
            "catalogue figures, not read from the device"])
    if candidates:
        why = (f"{where}: its PCI id is listed for {', '.join(c.id for c in candidates)}; "
               "no vendor library read it to tell which")
    else:
        why = f"{where}: an accelerator-class device that no backend characterised and the catalogue does not list"
    return _unidentified(device, where, why)


def _unidentified(device: PciDevice, where: str, why: str) -> Identification:
    chip_id = "unidentified-pci-" + device.bus_id.replace(":", "-")  # ids are slugs
    name = f"{device.vendor_id or '?'}:{device.device_id or '?'} class {device.class_code or '?'}"
    return Identification(unidentified_spec(chip_id, name, why), "unreadable", None, None, [why])


# A lone surrogate (a careless decoder, a hostile replay) is text that UTF-8 cannot hold, and a
# ChipSpec refuses it; shown as its escape, as documents show it, the record stays readable.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _device_spec(record):
    """A ChipSpec from a record built of what a device reported, its text made valid first (a name
    of blanks, which a ChipSpec refuses, is shown as what it is)."""
    record = _valid_text(record)
    if not record["name"].strip():
        record["name"] = f"(blank name reported: {record['name']!r})"
    return ChipSpec.model_validate(record)


def _valid_text(value):
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, dict):
        return {key: _valid_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_valid_text(item) for item in value]
    return value


def unidentified_spec(chip_id: str, name: str, why: str) -> ChipSpec:
    """A spec whose every figure is unknown: classification then lists every possible outcome."""
    return _device_spec({
        "id": chip_id, "vendor": "unknown", "name": name, "kind": "gpu",
        "datacenter": {"unknown": why},
        "processing_units": [{"name": "unknown", "dense_tops": {Precision.FP8.value: {"unknown": why}}}],
    })


# ---- CPUs -----------------------------------------------------------------------------------

_NOISE = re.compile(r"\((R|TM|tm|r)\)|\bCPU\b|\bProcessor\b|@.*$|\b\d+-Core\b", re.IGNORECASE)


def identify_cpu(cpu: CpuInfo, catalogue: Catalogue) -> Identification:
    if cpu.model_name:
        query = " ".join(_NOISE.sub(" ", cpu.model_name).split())
        try:
            spec = catalogue.lookup(query)
            if spec.kind.value == "cpu":
                return Identification(spec, "name", spec.id)
        except TppcalcError:
            pass
    bound = _family_bound(cpu)
    spec, why = _derive_cpu(cpu)
    if spec is None:
        if bound is not None:  # an unlisted SKU of a known family: its bound, proven or unknown
            return Identification(bound, "family bound", None, None, [f"cannot derive its figures ({why}); {bound.notes}"])
        return Identification(_unreadable_cpu(cpu, why), "unreadable", None, None, [why])
    checks = [f"not in the catalogue: figures derived from the CPU's cores, clock and per-core rates ({why})"]
    if bound is not None:
        checks.append(bound.notes)
    tpp = compute_metrics(spec).tpp
    if cpu.base_mhz and cpu.max_mhz and tpp and cpu.base_mhz < cpu.max_mhz:
        at_base = tpp * Decimal(str(cpu.base_mhz)) / Decimal(str(cpu.max_mhz))
        checks.append(f"TPP at the base clock ({cpu.base_mhz:.0f} MHz): {at_base:.2f}; at the maximum clock "
                      f"({cpu.max_mhz:.0f} MHz, used here): {tpp:.2f} (the rule text does not say which clock)")
    return Identification(spec, "derived", None, tpp, checks)


def _family_bound(cpu: CpuInfo) -> ChipSpec | None:
    """The CPU family table's bound for an unlisted SKU (``tppcalc.data.cpu_tables``), or None."""
    if not cpu.model_name:
        return None
    from tppcalc.data.cpu_tables import family_bound

    try:
        return family_bound(cpu.model_name)
    except TppcalcError:
        return None


# No CPU clocks higher than this: the fastest shipping boost clock is 6.2 GHz (Intel Core
# i9-14900KS, https://www.intel.com/content/www/us/en/products/sku/237504/). Where the maximum clock
# cannot be read, the probe's clock is only a floor, so a derived TPP is bounded with this instead.
CPU_CLOCK_CEILING_MHZ = Decimal(7000)


def _derive_cpu(cpu: CpuInfo) -> tuple[ChipSpec | None, str]:
    """A spec from cores x per-core rate x clock; the rates come from the microarchitecture table or
    the CPU's flags (``tppcalc.probe.cpu_rates``), as the CpuInfo record says."""
    from tppcalc.probe.cpu_rates import core_rates

    rates, rate_source = cpu.per_core_rates, cpu.rate_source
    if not rates:  # a record built without rates (older dumps, hand-made records)
        rates, rate_source = core_rates(cpu.microarchitecture, cpu.flags, cpu.machine, cpu_microarchitectures())
    missing = [n for n, v in (("core count", cpu.physical_cores), ("maximum clock", cpu.max_mhz)) if not v]
    if not rates:
        missing.append(f"per-core rates for microarchitecture {cpu.microarchitecture or 'unknown'} or these flags")
    if missing:
        return None, "missing " + ", ".join(missing)
    sockets = cpu.sockets or 1
    cores = Decimal(cpu.physical_cores) / Decimal(sockets)
    clock = Decimal(str(cpu.max_mhz))
    clock_is_a_floor = "max_mhz" in cpu.errors  # a current clock stood in for the unreadable maximum
    if clock_is_a_floor:
        clock = max(clock, CPU_CLOCK_CEILING_MHZ)
    by_unit: dict[str, dict] = {}
    for rate in rates:
        tops = EXACT.divide(EXACT.multiply(EXACT.multiply(cores, Decimal(rate.ops_per_cycle)), clock), MILLION)
        by_unit.setdefault(rate.unit, {})[rate.precision] = {
            "value": tops, "source": "derived",
            "note": f"{cores} cores x {rate.ops_per_cycle} ops/cycle ({rate.source}: {rate.basis}) x {clock} MHz"}
    ceiling_note = ""
    if clock_is_a_floor:
        bound = max((EXACT.multiply(entry["value"], Decimal(bit_length(Precision(precision))))
                     for unit in by_unit.values() for precision, entry in unit.items()), default=Decimal(0))
        if bound >= min(TPP_LINES):  # the clock could put it over a line: its TPP is not known
            why = (f"maximum clock unreadable ({cpu.errors['max_mhz']}); at up to {CPU_CLOCK_CEILING_MHZ} MHz "
                   f"its TPP could reach {bound.normalize():f}, over the {min(TPP_LINES)} line")
            by_unit = {name: {precision: {"unknown": why} for precision in unit} for name, unit in by_unit.items()}
        ceiling_note = (f"; maximum clock unreadable, so taken at a {CPU_CLOCK_CEILING_MHZ} MHz ceiling "
                        "(the figures are an upper bound)")
    units = [{"name": name, "dense_tops": by_unit[name]} for name in ("vector FMA units", "matrix engine")
             if name in by_unit]
    clocks = None if clock_is_a_floor else _derived_cpu_clocks(cpu, clock)
    spec = _device_spec({
        "id": "derived-cpu", "vendor": cpu.vendor or "unknown", "name": cpu.model_name or "CPU", "kind": "cpu",
        "architecture": cpu.microarchitecture,
        "datacenter": {"unknown": "not in the catalogue"},
        "processing_units": units,
        **({"clocks": clocks} if clocks else {}),
        "sources": {"derived": {"title": f"/proc/cpuinfo and sysfs of this host; per-core rates from "
                                         f"{rate_source}; per socket at the maximum clock"}},
    })
    return spec, f"{cores} cores per socket at {clock} MHz; per-core rates from {rate_source}{ceiling_note}"


def _derived_cpu_clocks(cpu: CpuInfo, clock: Decimal) -> dict:
    """The derived rates are at the maximum clock sysfs reports (the host cannot tell its all-core
    turbo, so the primary reading's "else maximum turbo" applies); its base clock, where read and
    not above that, lets the cpu-base-clock reading take them there."""
    clocks = {"boost_mhz": {"value": clock, "source": "derived", "note": "cpufreq cpuinfo_max_freq"},
              "rates_at": "boost_mhz"}
    if cpu.base_mhz and Decimal(str(cpu.base_mhz)) <= clock:
        clocks["base_mhz"] = {"value": Decimal(str(cpu.base_mhz)), "source": "derived"}
    return clocks


def _unreadable_cpu(cpu: CpuInfo, why: str) -> ChipSpec:
    return _device_spec({
        "id": "unreadable-cpu", "vendor": cpu.vendor or "unknown", "name": cpu.model_name or "CPU", "kind": "cpu",
        "datacenter": {"unknown": why},
        "processing_units": [{"name": "unknown", "dense_tops": {Precision.FP64.value: {"unknown": why}}}],
    })
