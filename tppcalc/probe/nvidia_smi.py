"""The nvidia-smi backend: a node's GPUs from the dump its operator sends, with no tppcalc there.

Two forms are read: ``nvidia-smi -q -x`` (XML) and the CSV of ``nvidia-smi --query-gpu=name,
pci.device_id,pci.sub_device_id,memory.total,clocks.max.sm --format=csv`` (with or without
``,noheader,nounits``). The file is hostile input: its size is bounded, XML may carry only
nvidia-smi's own DOCTYPE line (an external DTD name, which is never fetched) and no internal subset,
entity or other declaration, and every value must have the form nvidia-smi writes or it is unread.
A GPU whose product the catalogue cannot place is unidentified, so the node is undetermined;
nvidia-smi gives no SM count to derive a spec from. The dump lists only the GPUs the NVIDIA driver
saw, never the CPUs or the rest of the PCI bus, which the report says (they keep it from "outside").
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tppcalc.data.input_files import read_input_file
from tppcalc.errors import InputError
from tppcalc.probe.backends import ProbeBackend, Reading, backend
from tppcalc.probe.host import MAX_GPUS_PER_NODE, Accelerator, HostReport

MAX_DUMP_BYTES = 8 << 20  # `nvidia-smi -q -x` of an 8-GPU node is ~150 KB
NOT_IN_DUMP = "not in an nvidia-smi dump (it lists only the GPUs the NVIDIA driver saw)"
NAME = "nvidia-smi"
MIB = 1 << 20

# nvidia-smi's own DOCTYPE line ('<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">'): a name
# only, no internal subset. Every other '<!' but a comment (entities, element declarations) is refused.
_DOCTYPE = re.compile(r'<!DOCTYPE\s+nvidia_smi_log\s+SYSTEM\s+"[A-Za-z0-9_.-]{1,64}\.dtd"\s*>')
_DECLARATION = re.compile(r"<!(?!--)")
_PCI_ID32 = re.compile(r"(?:0x)?([0-9A-Fa-f]{8})")  # device << 16 | vendor, as NVML packs it
_MIB = re.compile(r"(\d{1,9})(?: MiB)?")
_MHZ = re.compile(r"(\d{1,6})(?: MHz)?")
_BUS_ID = re.compile(r"[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-1][0-9A-Fa-f]\.[0-7]")
_NOT_REPORTED = {"N/A", "[N/A]", "Not Supported", "[Not Supported]", "Unknown Error", "[Unknown Error]", ""}
# CSV columns by the names nvidia-smi's header gives them (units in brackets removed).
_CSV_FIELDS = {"name": "name", "gpu_name": "name", "pci.device_id": "pci_id", "pci.sub_device_id": "subsystem",
               "memory.total": "memory", "clocks.max.sm": "clock", "clocks.max.sm_clock": "clock",
               "clocks.max.streaming_multiprocessor": "clock", "pci.bus_id": "bus_id", "gpu_bus_id": "bus_id"}
_CSV_ORDER = ("name", "pci_id", "subsystem", "memory", "clock")  # the columns of --format=csv,noheader


def load_nvidia_smi(path: str | Path) -> dict:
    """The recording of a dump file (its text), checked to parse; anything else is one InputError."""
    path = Path(path)
    raw = read_input_file(path, MAX_DUMP_BYTES)  # a regular file, bounded before it is parsed
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not an nvidia-smi dump: not UTF-8 text (byte {exc.start})", where=str(path)) from None
    recording = {"file": path.name[:200], "text": text}
    try:
        parse(text)
    except ValueError as exc:
        raise InputError(f"not an nvidia-smi dump: {exc}", where=str(path)) from None
    return recording


def parse(text: str) -> tuple[list[Accelerator], list[str], list[str]]:
    """Devices, reasons devices may be missing, and notes; ValueError when it is neither form."""
    if text.lstrip().startswith("<"):
        return _parse_xml(text)
    return _parse_csv(text)


# ---- XML: nvidia-smi -q -x ---------------------------------------------------------------------

def _parse_xml(text: str) -> tuple[list[Accelerator], list[str], list[str]]:
    doctypes = _DOCTYPE.findall(text)
    declarations = _DECLARATION.findall(text)
    if len(declarations) > len(doctypes) or len(doctypes) > 1:
        raise ValueError("XML with a DTD, entity or declaration other than nvidia-smi's DOCTYPE line is refused")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ValueError(f"XML does not parse ({exc})") from None
    if root.tag != "nvidia_smi_log":
        raise ValueError(f"the XML's root is <{root.tag[:40]}>, not <nvidia_smi_log> (nvidia-smi -q -x)")
    gpus = root.findall("gpu")
    if len(gpus) > MAX_GPUS_PER_NODE:
        raise ValueError(f"{len(gpus)} GPUs is not a credible count (at most {MAX_GPUS_PER_NODE})")
    devices = [_xml_gpu(index, gpu) for index, gpu in enumerate(gpus)]
    unenumerated, notes = [], []
    attached = (root.findtext("attached_gpus") or "").strip()
    if not attached.isdigit():
        unenumerated.append(f"nvidia-smi dump: attached_gpus {attached[:20]!r} is not a count, so GPUs may be missing")
    elif int(attached) != len(gpus):
        unenumerated.append(f"nvidia-smi dump: attached_gpus says {int(attached)}, the dump lists {len(gpus)} GPUs")
    driver = (root.findtext("driver_version") or "").strip()
    notes.append(f"nvidia-smi -q -x dump: {len(gpus)} GPUs" + (f", driver {driver[:40]}" if driver else ""))
    return devices, unenumerated, notes


def _xml_gpu(index: int, gpu: ElementTree.Element) -> Accelerator:
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    _text(fields, errors, "name", gpu.findtext("product_name"), _name)
    _text(fields, errors, "bus_id", gpu.findtext("pci/pci_bus_id") or gpu.get("id"), _bus_id)
    _text(fields, errors, "pci_ids", gpu.findtext("pci/pci_device_id"), _device_ids)
    _text(fields, errors, "pci_subsystem_id", gpu.findtext("pci/pci_sub_system_id"), _subsystem)
    _text(fields, errors, "memory_total_bytes", gpu.findtext("fb_memory_usage/total"), _memory)
    _text(fields, errors, "max_clock_mhz", gpu.findtext("max_clocks/sm_clock"), _clock)
    return _accelerator(index, fields, errors)


# ---- CSV: nvidia-smi --query-gpu=... --format=csv -----------------------------------------------

def _parse_csv(text: str) -> tuple[list[Accelerator], list[str], list[str]]:
    rows = [row for row in csv.reader(text.splitlines(), skipinitialspace=True) if any(c.strip() for c in row)]
    if not rows:
        raise ValueError("empty: neither nvidia-smi -q -x XML nor --query-gpu CSV")
    header = [re.sub(r"\s*\[.*\]$", "", cell.strip()).lower() for cell in rows[0]]
    if header and header[0] in _CSV_FIELDS:
        columns = [_CSV_FIELDS.get(cell) for cell in header]
        missing = [f for f in _CSV_ORDER if f not in columns]
        if missing:
            raise ValueError(f"the CSV header lacks {', '.join(missing)} (query name,pci.device_id,"
                             "pci.sub_device_id,memory.total,clocks.max.sm)")
        rows = rows[1:]
    else:
        columns = list(_CSV_ORDER)
    if len(rows) > MAX_GPUS_PER_NODE:
        raise ValueError(f"{len(rows)} GPUs is not a credible count (at most {MAX_GPUS_PER_NODE})")
    devices = []
    for number, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"CSV row {number + 1} has {len(row)} columns, expected {len(columns)} "
                             f"({', '.join(c or '?' for c in columns)})")
        cells = {column: cell.strip() for column, cell in zip(columns, row, strict=True) if column}
        fields: dict[str, Any] = {}
        errors: dict[str, str] = {}
        _text(fields, errors, "name", cells["name"], _name)
        if "bus_id" in cells:
            _text(fields, errors, "bus_id", cells["bus_id"], _bus_id)
        _text(fields, errors, "pci_ids", cells["pci_id"], _device_ids)
        _text(fields, errors, "pci_subsystem_id", cells["subsystem"], _subsystem)
        _text(fields, errors, "memory_total_bytes", cells["memory"], _memory)
        _text(fields, errors, "max_clock_mhz", cells["clock"], _clock)
        devices.append(_accelerator(number, fields, errors))
    return devices, [], [f"nvidia-smi --query-gpu CSV dump: {len(devices)} GPUs"]


# ---- values ------------------------------------------------------------------------------------

def _text(fields: dict, errors: dict, field: str, value: str | None, convert) -> None:
    if value is None:
        errors[field] = "not in the dump"
        return
    value = value.strip()
    if value in _NOT_REPORTED:
        errors[field] = f"not reported ({value or 'empty'})"
        return
    try:
        converted = convert(value)
    except ValueError:
        errors[field] = f"unreadable: {value[:40]!r}"
        return
    if isinstance(converted, dict):
        fields.update(converted)
    else:
        fields[field] = converted


def _name(value: str) -> str:
    if len(value) > 200 or not value.isprintable():
        raise ValueError("name")
    return value


def _bus_id(value: str) -> str:
    if not _BUS_ID.fullmatch(value):
        raise ValueError("bus id")
    return value


def _id32(value: str) -> int:
    match = _PCI_ID32.fullmatch(value)
    if match is None:
        raise ValueError("pci id")
    return int(match.group(1), 16)


def _device_ids(value: str) -> dict[str, str]:
    packed = _id32(value)
    return {"pci_vendor_id": f"0x{packed & 0xFFFF:04x}", "pci_device_id": f"0x{packed >> 16:04x}"}


def _subsystem(value: str) -> str:
    packed = _id32(value)
    return f"0x{packed & 0xFFFF:04x}{packed >> 16:04x}"  # subsystem vendor first, as the catalogue lists it


def _memory(value: str) -> int:
    match = _MIB.fullmatch(value)
    if match is None or int(match.group(1)) == 0:  # a GPU with no memory is not a reading
        raise ValueError("memory")
    return int(match.group(1)) * MIB


def _clock(value: str) -> int:
    match = _MHZ.fullmatch(value)
    if match is None:
        raise ValueError("clock")
    return int(match.group(1))


def _accelerator(index: int, fields: dict[str, Any], errors: dict[str, str]) -> Accelerator:
    """The record, with a value no GPU reports (a clock of 0, a PiB of memory) unread, not believed."""
    if "pci_ids" in errors:
        errors["pci_device_id"] = errors.pop("pci_ids")
    while True:
        try:
            return Accelerator(backend=NAME, index=index, vendor="NVIDIA", errors=errors, **fields)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors(include_url=False) if e["loc"] and e["loc"][0] in fields}
            if not bad:
                raise
            for name in bad:
                errors[name] = f"not a credible value: {str(fields.pop(name))[:40]!r}"


@backend
class NvidiaSmiBackend(ProbeBackend):
    """nvidia-smi dumps (``tppcalc probe --from-nvidia-smi``); its recording is the dump's text."""

    name = NAME
    order = 40
    pci_vendor = "0x10de"
    probes_live = False  # NVML reads a live node; this backend reads the files operators send

    def label(self, device: Accelerator) -> str:
        return f"GPU {device.index} (nvidia-smi)"

    def read(self, recording: Any) -> Reading:
        if not isinstance(recording, dict) or not isinstance(recording.get("text"), str):
            return Reading([], ["nvidia-smi: the recording is not {file, text}: its GPUs are not read"])
        try:
            devices, unenumerated, notes = parse(recording["text"][:MAX_DUMP_BYTES])
        except ValueError as exc:
            return Reading([], [f"nvidia-smi dump unreadable ({str(exc)[:300]}): its GPUs are not read"])
        return Reading(devices, unenumerated, notes)


def report_from_nvidia_smi(path: str | Path) -> HostReport:
    """A HostReport of the node an nvidia-smi dump describes (no CPUs, no PCI bus: it has neither)."""
    from tppcalc.probe.run import build_report

    recording = load_nvidia_smi(path)
    return build_report(
        None, "not probed (the node is read from an nvidia-smi dump)", None, None,
        provenance=f"nvidia-smi dump {recording['file']}, as sent by the node's operator; read by tppcalc, "
                   "not probed by it",
        backends={NAME: {"status": "ok", "recording": recording}}, no_pci_because=NOT_IN_DUMP)


DUMP_SUFFIXES = (".xml", ".csv")
MAX_DUMPS_PER_FOLDER = 100_000


def fleet_lines(folder: Path, country: str) -> str:
    """The nodes of a folder of nvidia-smi dumps as fleet JSON Lines (``tppcalc fleet report``): one
    node a file (*.xml, *.csv; other files are not dumps and are left alone), all in ``country``,
    each at site FOLDER/FILE. A file that does not parse is one InputError naming it."""
    import json

    from tppcalc.decisions.rules.countries import resolve_country

    code = resolve_country(country, option="--nvidia-smi-dumps")
    if not folder.is_dir():
        raise InputError("not a folder of nvidia-smi dumps", where=str(folder), field="--nvidia-smi-dumps")
    dumps = []
    for entry in sorted(folder.iterdir()):
        is_dump = entry.suffix.lower() in DUMP_SUFFIXES
        if is_dump and entry.is_file():
            dumps.append(entry)
        elif is_dump or (entry.is_dir() and not entry.name.startswith(".")):
            # Nodes in a subfolder (a rack) or behind a name that is no file would be left out of
            # every total without a word: refuse, as a dump that does not parse is refused.
            what = "a folder inside the dumps folder" if entry.is_dir() else "not a regular file"
            raise InputError(f"{entry.name}: {what}, so its nodes would not be counted; give each folder of "
                             "dumps its own --nvidia-smi-dumps", where=str(folder), field="--nvidia-smi-dumps")
    if not dumps:
        raise InputError("no nvidia-smi dumps (*.xml, *.csv) in this folder", where=str(folder),
                         field="--nvidia-smi-dumps")
    if len(dumps) > MAX_DUMPS_PER_FOLDER:
        raise InputError(f"more than {MAX_DUMPS_PER_FOLDER} dumps in one folder", where=str(folder))
    lines = []
    for path in dumps:
        report = report_from_nvidia_smi(path)
        lines.append(json.dumps({"host": report.model_dump(mode="json"), "country": code,
                                 "site": f"{folder.name}/{path.name}"}))
    return "\n".join(lines) + "\n"
