"""Probe results as JSON Lines, one node a line (a ``tppcalc probe --json`` result, or a bare
HostReport under ``host``), read fast enough for a fleet: 100,000 nodes of 8 GPUs in seconds.

Each line is checked against a slim schema of the fields a fleet reads, with HostReport's types,
and never built into the deep models: most of its 7 KB are serial numbers and clocks that no total
depends on. Checked on every line: that it is JSON, the node's own fields (country, site, ...) and
every device's identifying fields. A fleet of 800,000 GPUs holds a few models, so a device is
identified, and its whole record checked against HostReport, the first time its identifying fields
are seen; after that devices are counted by identity. Errors name the file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import from_json
from typing_extensions import TypedDict

from tppcalc.core.exact import to_decimal
from tppcalc.core.metrics import Bounds, compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.spec import ChipSpec
from tppcalc.data.specfile import validation_errors
from tppcalc.decisions.rules.countries import resolve_country
from tppcalc.errors import InputError, TppcalcError
from tppcalc.fleet.inventory import Holding
from tppcalc.probe import backends as probe_backends
from tppcalc.probe.assess import accelerators_no_backend_read
from tppcalc.probe.host import Accelerator, CpuInfo, GpuInfo, HostReport, PciDevice
from tppcalc.probe.identify import identify_accelerator, identify_cpu, identify_gpu, identify_pci

# The fields identification reads that can change which chip a device is counted as or its TPP, as
# each backend declares them; devices equal in these are the same model to a fleet. Left out:
# cross-check inputs, and the index, which only numbers an unnamed GPU (the first one seen names it).
GPU_IDENTITY = probe_backends.get("nvml").identity_fields
CPU_IDENTITY = probe_backends.get("cpu").identity_fields


def _slim(model: type[BaseModel], fields: tuple[str, ...]) -> type:
    """A TypedDict of some of ``model``'s fields, with its types; other keys are skipped unread."""
    return TypedDict(f"{model.__name__}Identity", {name: model.model_fields[name].annotation for name in fields},
                     total=False)


class _Metrics(TypedDict, total=False):
    tpp: Any  # a number as `tppcalc probe --json` writes it; to_decimal checks it
    tpp_bounds: Any  # {"low", "high"}: the probe writes tpp as their exact value (low == high), else null


# A device entry of `tppcalc probe --json` stands for one IC, or one per CPU socket.
MAX_DEVICE_COUNT = 4096
# The TPP of one IC: 10^7 is over 80 times the largest in the catalogue (GB300 superchip, 120,000)
# and 10 times a dense wafer-scale engine's; a figure beyond it is a typo or a forgery, not a chip.
MAX_UNIT_TPP = Decimal(10**7)


class _ProbedDevice(TypedDict, total=False):
    identified_as: str | None
    name: str | None
    count: Annotated[int, Field(strict=True, ge=1, le=MAX_DEVICE_COUNT)]
    metrics: _Metrics


GpuIdentity = _slim(GpuInfo, GPU_IDENTITY)
CpuIdentity = _slim(CpuInfo, CPU_IDENTITY)


PciRecord = _slim(PciDevice, tuple(PciDevice.model_fields))


class _Host(TypedDict, total=False):
    hostname: str | None
    gpus: list[GpuIdentity]
    cpus: list[CpuIdentity]
    pci: str
    pci_devices: list[PciRecord]
    unenumerated: list[str]
    accelerators: list[dict]  # further backends' devices (nvidia-smi dumps, ...), checked when counted


class _Node(TypedDict, total=False):
    host: _Host
    devices: list[_ProbedDevice]
    country: str
    site: str | None
    operator: str | None
    operator_hq: str | None
    consignee: str | None


_NODE = TypeAdapter(_Node)


@dataclass(frozen=True)
class Counted:
    """What a fleet keeps of a device: the chip it is counted as, the TPP of one, how many it is."""

    chip: str
    unit_tpp: Decimal | None
    count: int = 1

    @property
    def key(self) -> tuple[str, Decimal | None]:
        return self.chip, self.unit_tpp


class Identities:
    """Each distinct device of a fleet identified once, by its identifying fields."""

    def __init__(self, catalogue: Catalogue, tpp_of: Callable[[ChipSpec], Decimal | None]):
        self.catalogue = catalogue
        self.tpp_of = tpp_of
        self._known: dict[tuple, Counted] = {}
        self._last_host: tuple[list | None, list | None, dict[tuple, int], tuple] | None = None

    def count_host(self, host: _Host, line: bytes, where: str) -> dict[tuple, int]:
        """How many devices of a bare HostReport count as each (chip, unit TPP). ``line`` holds the
        whole records, read again for a device not seen before."""
        gpus, cpus = host.get("gpus"), host.get("cpus")
        bus = (host.get("pci"), host.get("pci_devices"), host.get("unenumerated"), host.get("accelerators"))
        last = self._last_host
        if last is not None and last[0] == gpus and last[1] == cpus and last[3] == bus:  # nodes in a row are mostly alike
            return last[2]
        counts: dict[tuple, int] = {}
        for counted in self._beyond_nvml(host, line, where):
            counts[counted.key] = counts.get(counted.key, 0) + counted.count
        for kind, records in (("gpu", gpus), ("cpu", cpus)):
            if not records:
                continue
            if records.count(records[0]) == len(records):  # a node of one model: the usual case
                counted = self._of_record(kind, records, 0, line, where)
                counts[counted.key] = counts.get(counted.key, 0) + counted.count * len(records)
                continue
            for index in range(len(records)):
                counted = self._of_record(kind, records, index, line, where)
                counts[counted.key] = counts.get(counted.key, 0) + counted.count
        self._last_host = gpus, cpus, counts, bus
        return counts

    def _beyond_nvml(self, host: _Host, line: bytes, where: str) -> list[Counted]:
        """Accelerators only the PCI bus saw, and one device of unknown TPP for each enumeration
        that failed (or a host with no PCI enumeration at all, as older HostReports): a device no
        vendor library read must not drop out of a total."""
        unknown = [Counted(f"devices not enumerated ({why})", None) for why in host.get("unenumerated", [])]
        if host.get("pci") != "ok":
            unknown.append(Counted(f"devices not enumerated (PCI bus: {host.get('pci', 'not enumerated')})", None))
        accelerators = self._accelerators(host.get("accelerators") or [], where)
        unknown.extend(counted for _, counted in accelerators)
        devices = host.get("pci_devices")
        if not devices:
            return unknown
        bus_ids = [gpu.get("bus_id") for gpu in from_json(line)["host"].get("gpus") or []]
        report = HostReport.model_construct(pci_devices=[PciDevice.model_validate(d) for d in devices],
                                            gpus=[GpuInfo.model_construct(index=i, bus_id=b) for i, b in enumerate(bus_ids)],
                                            accelerators=[device for device, _ in accelerators], amd_gpus=[])
        for device in accelerators_no_backend_read(report, self.catalogue):
            identification = identify_pci(device, self.catalogue)
            chip = identification.catalogue_id or f"{identification.spec.name} (unidentified)"
            tpp = self.tpp_of(identification.spec) if identification.catalogue_id else None
            unknown.append(Counted(chip, tpp))
        return unknown

    def _accelerators(self, records: list[dict], where: str) -> list[tuple[Accelerator, Counted]]:
        """The devices further probe backends read (vendor-neutral records), each identified by the
        backend that read it; one the catalogue cannot place counts with an unknown TPP."""
        counted: list[tuple[Accelerator, Counted]] = []
        for index, record in enumerate(records):
            try:
                device = Accelerator.model_validate(record)
            except ValidationError as exc:
                inner, problem = validation_errors(exc)[0]
                raise InputError(f"not a HostReport accelerator: {problem}", where=where,
                                 field=f"host.accelerators.{index}" + (f".{inner}" if inner else "")) from None
            source = probe_backends.get(device.backend)
            identification = (source.identify(device, self.catalogue) if source is not None and source.reads_recording
                              else identify_accelerator(device, self.catalogue))
            chip = identification.catalogue_id or f"{identification.spec.name} (unidentified)"
            counted.append((device, Counted(chip, self.tpp_of(identification.spec) if identification.catalogue_id
                                            else None)))
        return counted

    def _of_record(self, kind: str, records: list[dict], index: int, line: bytes, where: str) -> Counted:
        record = records[index]
        key = (kind, *map(record.get, GPU_IDENTITY if kind == "gpu" else CPU_IDENTITY))
        if kind == "cpu" and key[-1] is not None:
            key = (*key[:-1], tuple(key[-1]))  # flags: a list
        counted = self._known.get(key)
        if counted is None:
            whole = from_json(line)["host"][f"{kind}s"][index]
            counted = self._known[key] = self._identify(kind, whole, where, field=f"host.{kind}s.{index}")
        return counted

    def _identify(self, kind: str, record: dict, where: str, field: str) -> Counted:
        model = GpuInfo if kind == "gpu" else CpuInfo
        try:
            device = model.model_validate(record)
        except ValidationError as exc:
            inner, problem = validation_errors(exc)[0]
            raise InputError(f"not a HostReport {kind}: {problem}", where=where,
                             field=f"{field}.{inner}" if inner else field) from None
        if isinstance(device, GpuInfo):
            identification, count = identify_gpu(device, self.catalogue), 1
        else:
            identification, count = identify_cpu(device, self.catalogue), device.sockets or 1
        chip = identification.catalogue_id or f"{identification.spec.name} (derived)"
        tpp = (self.tpp_of(identification.spec) if identification.catalogue_id
               else compute_metrics(identification.spec).tpp)
        return Counted(chip, tpp, count)

    def of_probed(self, device: _ProbedDevice, where: str, field: str = "devices") -> Counted:
        """A device of a ``tppcalc probe --json`` result, identified on the node (``field`` names it)."""
        chip_id = device.get("identified_as")
        count = device.get("count", 1)
        if chip_id:
            try:
                spec = self.catalogue.get(chip_id)
            except TppcalcError as exc:
                raise InputError(str(exc), where=where, field=f"{field}.identified_as") from None
            return Counted(chip_id, self.tpp_of(spec), count)
        metrics = device.get("metrics", {})
        tpp = metrics.get("tpp")
        try:
            unit_tpp = None if tpp is None else to_decimal(tpp, what="metrics.tpp")
        except InputError as exc:
            raise InputError(exc.problem, where=where, field=f"{field}.metrics.tpp") from None
        _check_tpp_against_bounds(unit_tpp, metrics, where, field)
        if unit_tpp is not None and not 0 < unit_tpp <= MAX_UNIT_TPP:
            # A negative or zero figure would lower a total and let a cap check pass on invalid input;
            # no chip has TPP 0 (every rated figure is greater than zero): unknown is null.
            raise InputError(f"TPP must be greater than 0 and at most {MAX_UNIT_TPP:,} for one device, got {tpp}",
                             where=where, field=f"{field}.metrics.tpp")
        return Counted(f"{device.get('name') or 'device'} (derived)", unit_tpp, count)


def _check_tpp_against_bounds(unit_tpp: Decimal | None, metrics: _Metrics, where: str, field: str) -> None:
    """A device's recorded TPP must be what its recorded bounds make it: ``probe --json`` writes
    ``tpp`` as the bounds' exact value (low == high) and null where they leave it open. A record
    that disagrees (a TPP for a device whose bounds are open, as for a GPU that fell off the bus)
    is garbled or edited; counting its TPP would turn an unknown total into a known one."""
    if "tpp_bounds" not in metrics:  # records before bounds were written: the TPP as given
        return
    bounds = metrics["tpp_bounds"]
    try:
        if not isinstance(bounds, dict) or set(bounds) != {"low", "high"} or bounds["low"] is None:
            raise InputError('expected {"low": number, "high": number or null}')
        low = to_decimal(bounds["low"], what="metrics.tpp_bounds.low")
        high = None if bounds["high"] is None else to_decimal(bounds["high"], what="metrics.tpp_bounds.high")
    except InputError as exc:
        raise InputError(exc.problem, where=where, field=f"{field}.metrics.tpp_bounds") from None
    if unit_tpp != Bounds(low, high).exact:
        given = "null" if unit_tpp is None else format(unit_tpp, "f")
        span = f"{low:f} to {'unknown' if high is None else format(high, 'f')}"
        raise InputError(f"TPP {given} disagrees with its bounds ({span}): a recorded TPP is their exact value, "
                         "null where they leave it open", where=where, field=f"{field}.metrics.tpp")


def read_probe_lines(path: Path, identities: Identities) -> list[Holding]:
    """Holdings from JSON Lines: the devices of each node counted by chip. A line may carry
    ``site`` (default: the hostname), ``country`` (required), ``operator``, ``operator_hq``, ``consignee``."""
    holdings = []
    countries: dict[str, str] = {}  # as written -> ISO code: a fleet names a few countries many times
    for number, line in _lines(path):
        where = f"{path}:{number}"
        node = _node(line, where)
        written = node.get("country")
        if not written:
            raise InputError("no `country` on this node (give it when probing: --country)", where=where, field="country")
        if written not in countries:
            countries[written] = resolve_country(written, option=f"{where}: country")
        host = node.get("host") or {}
        site = node.get("site") or host.get("hostname") or f"node {number}"
        operator, operator_hq, consignee = node.get("operator"), node.get("operator_hq"), node.get("consignee")
        if operator_hq:  # resolved like the inventory's: "USA" must still meet the US-share check
            if operator_hq not in countries:
                countries[operator_hq] = resolve_country(operator_hq, option=f"{where}: operator_hq")
            operator_hq = countries[operator_hq]
        for (chip, unit_tpp), count in _count_devices(node, line, identities, where).items():
            holdings.append(Holding(site, countries[written], operator, operator_hq, chip, unit_tpp, count, None,
                                    consignee, where))
    return holdings


_BLOCK = 1 << 22


def _lines(path: Path) -> Iterator[tuple[int, bytearray]]:
    """Numbered non-blank lines, streamed: a fleet's file need not fit in memory.

    The file is read into one buffer, used again and again, and each line copied out only while it
    is parsed. Fresh memory costs a page fault per 4 KiB here: splitting blocks of a 680 MB file
    into lines took 1 s (0.7 s iterating over the file), this 0.1 s.
    """
    try:
        stream = path.open("rb", buffering=0)
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    with stream:
        buffer = bytearray(_BLOCK)
        kept = 0       # bytes of an unfinished line at the start of the buffer
        number = 0
        while True:
            if kept == len(buffer):  # a line longer than the buffer
                buffer.extend(bytes(len(buffer)))
            read = stream.readinto(memoryview(buffer)[kept:])
            end = kept + read
            start = 0
            while True:
                newline = buffer.find(b"\n", start, end)
                if newline < 0:
                    break
                number += 1
                line = buffer[start:newline]
                if line and not line.isspace():
                    yield number, line
                start = newline + 1
            if not read:
                if start < end:  # a last line with no newline after it
                    line = buffer[start:end]
                    if not line.isspace():
                        yield number + 1, line
                return
            buffer[:end - start] = buffer[start:end]
            kept = end - start


def _node(line: bytes, where: str) -> _Node:
    try:
        node = _NODE.validate_json(line)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        if error["type"] == "json_invalid":
            raise InputError(f"not JSON: {error['ctx']['error']}", where=where) from None
        if error["type"] == "dict_type" and not error["loc"]:
            raise InputError(_NOT_A_NODE, where=where) from None
        field, problem = validation_errors(exc)[0]
        raise InputError(problem, where=where, field=field) from None
    if "devices" not in node and "host" not in node:
        raise InputError(_NOT_A_NODE, where=where)
    return node


_NOT_A_NODE = "expected a `tppcalc probe --json` result or a HostReport under `host`"


def _count_devices(node: _Node, line: bytes, identities: Identities, where: str) -> dict[tuple, int]:
    """How many devices of a node count as each (chip, unit TPP)."""
    if "devices" not in node:
        return identities.count_host(node["host"], line, where)
    # `probe --json` lists one device at least for each GPU, CPU, further accelerator and failed
    # enumeration its host records: a shorter list (emptied, filtered) would drop devices unseen.
    host = node.get("host") or {}
    recorded = sum(len(host.get(key) or []) for key in ("gpus", "cpus", "accelerators", "unenumerated"))
    if len(node["devices"]) < recorded:
        raise InputError(f"{len(node['devices'])} devices listed, but the host records {recorded} (GPUs, CPUs, "
                         "accelerators, enumerations that failed): a device left out would not be counted",
                         where=where, field="devices")
    counts: dict[tuple, int] = {}
    for index, device in enumerate(node["devices"]):
        counted = identities.of_probed(device, where, f"devices.{index}")
        counts[counted.key] = counts.get(counted.key, 0) + counted.count
    return counts
