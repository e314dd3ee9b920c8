"""Fleets: totals of TPP against the caps of the rules, and probing every node of a Ray cluster."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from tppcalc.catalogue import Catalogue
from tppcalc.classification import classify
from tppcalc.errors import InputError
from tppcalc.exact import to_decimal
from tppcalc.fleet.aggregate import FleetReport, fleet_report
from tppcalc.fleet.inventory import Holding, read_inventory, read_probe_lines
from tppcalc.metrics import compute_metrics
from tppcalc.probe.host import CpuInfo, GpuInfo
from tppcalc.probe.identify import identify_cpu, identify_gpu
from tppcalc.rules.editions import default_rulebook
from tppcalc.spec import ChipSpec
from tppcalc.specfile import validation_errors


def report_fleet(paths: list[Path], catalogue: Catalogue, *, as_of: dt.date | None = None,
                 caps: dict[str, Decimal] | None = None, chips: dict[str, ChipSpec] | None = None) -> FleetReport:
    """Totals and checks for inventory files (``.toml``) and probe results (``.jsonl``). ``chips``,
    when given, receives every catalogue chip the fleet holds, by id (what a chart of it places)."""
    day = as_of or dt.date.today()
    specs: dict[str, ChipSpec] = {}

    tpps: dict[str, Decimal | None] = {}

    def tpp_of(spec: ChipSpec) -> Decimal | None:
        if spec.id not in tpps:
            specs[spec.id] = spec
            tpps[spec.id] = compute_metrics(spec).tpp
        return tpps[spec.id]

    def tpp_of_device(device: dict) -> tuple[Decimal | None, str]:
        chip_id = device.get("identified_as")
        if chip_id:
            return (tpps[chip_id] if chip_id in tpps else tpp_of(catalogue.get(chip_id))), chip_id
        tpp = device.get("metrics", {}).get("tpp")
        return (None if tpp is None else to_decimal(tpp)), f"{device.get('name', 'device')} (derived)"

    identified: dict[tuple, dict] = {}

    def devices_of_host(host: dict, where: str) -> list[dict]:
        """Each device of a bare HostReport. A fleet repeats a few models many times, so a device
        is validated and identified only the first time its identifying fields are seen."""
        devices = []
        for kind, records, fields in (("gpu", host.get("gpus", []), _GPU_KEY), ("cpu", host.get("cpus", []), _CPU_KEY)):
            for record in records:
                if not isinstance(record, dict):
                    raise InputError(f"not a HostReport: {kind}s must hold objects", where=where)
                key = (kind, *map(record.get, fields))
                try:
                    hash(key)
                except TypeError:  # lists and dicts (CPU flags, errors)
                    key = _frozen(list(key))
                if key not in identified:
                    identified[key] = _identify(kind, record, catalogue, where)
                devices.append(identified[key])
        return devices

    holdings: list[Holding] = []
    for path in paths:
        if path.suffix.lower() == ".toml":
            holdings.extend(read_inventory(path, catalogue, tpp_of))
        elif path.suffix.lower() in (".jsonl", ".json"):
            holdings.extend(read_probe_lines(path, tpp_of_device, devices_of_host))
        else:
            raise InputError("expected an inventory (.toml) or probe results (.jsonl)", where=str(path))
    controlled = {chip_id: _controlled(spec, day) for chip_id, spec in specs.items()}
    if chips is not None:
        chips.update(specs)
    return fleet_report(holdings, controlled, default_rulebook(), as_of=day, caps=caps)


# The HostReport fields identification reads: devices equal in these are the same model.
_GPU_KEY = ("pci_vendor_id", "pci_device_id", "pci_subsystem_id", "memory_total_bytes", "name",
            "compute_capability", "cuda_cores", "max_sm_clock_mhz", "nvlink_link_count", "lost")
_CPU_KEY = ("model_name", "machine", "microarchitecture", "physical_cores", "sockets", "max_mhz", "flags", "errors")


def _frozen(value):
    """A hashable form of a JSON value, for cache keys."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _identify(kind: str, record: dict, catalogue: Catalogue, where: str) -> dict:
    model = GpuInfo if kind == "gpu" else CpuInfo
    try:
        device = model.model_validate(record)
    except ValidationError as exc:
        raise InputError(f"not a HostReport {kind}: {validation_errors(exc)[0]}", where=where) from None
    if kind == "gpu":
        return _device(identify_gpu(device, catalogue))
    return _device(identify_cpu(device, catalogue), count=device.sockets or 1)


def _device(identification, count: int = 1) -> dict:
    """The parts of a probed device the fleet reads, shaped as in ``tppcalc probe --json``."""
    tpp = compute_metrics(identification.spec).tpp
    return {"identified_as": identification.catalogue_id, "name": identification.spec.name, "count": count,
            "metrics": {"tpp": None if tpp is None else str(tpp)}}


def _controlled(spec: ChipSpec, day: dt.date) -> str:
    """"yes", "no" or "maybe": is the chip an advanced-computing IC (3A090.a) on ``day``."""
    result = classify(spec, as_of=day)
    outcomes = [result.eccn] if result.eccn else (result.undetermined or [])
    hits = [o in ("3A090.a", "3A090") for o in outcomes]
    return "yes" if all(hits) else "maybe" if any(hits) else "no"
