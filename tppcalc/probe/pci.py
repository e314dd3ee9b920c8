"""The PCI backend: every PCI function from sysfs, with no vendor library, live or as recorded text.

The PCI bus is the ground truth of what is installed: an accelerator whose vendor library is absent
or broken (no NVIDIA driver, an AMD or Gaudi node) is still listed here, so it can be identified by
its vendor:device id, or at least keep the node from passing as "outside" unseen.

Live, ``read_live_pci_sources`` keeps the raw text of each sysfs file; ``pci_from_sources`` parses
that text, live or recorded, with the same strict rules. A recording is hostile input: every file's
text must have the form the kernel writes, or the field is unread (and the device, if its class is
unknown, counts as an accelerator).
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from pathlib import Path

from tppcalc.probe.host import PciDevice

SYSFS_PCI_DEVICES = Path("/sys/bus/pci/devices")
FILES = ("vendor", "device", "class", "subsystem_vendor", "subsystem_device")
# A PCI segment holds at most 256 buses x 32 devices x 8 functions; real hosts list a few hundred.
MAX_PCI_FUNCTIONS = 4096
_BUS_ID = re.compile(r"[0-9a-f]{4,8}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]")
_ID16 = re.compile(r"0x[0-9a-f]{4}")
_CLASS = re.compile(r"0x[0-9a-f]{6}")

# Classes that are, or may be, compute accelerators (PCI Code and ID Assignment Specification,
# base class 03h display controllers, 12h processing accelerators, 0B40h co-processors).
_ACCELERATOR_CLASSES = (("03", "display controller"), ("12", "processing accelerator"), ("0b40", "co-processor"))


def read_live_pci_sources(root: Path | None = None) -> dict:
    """The raw text of each device's id files; the folder's absence or failure is the status.
    ``root`` defaults to SYSFS_PCI_DEVICES, read at each call (tests point it at a fake tree)."""
    root = SYSFS_PCI_DEVICES if root is None else root
    try:
        names = sorted(entry.name for entry in root.iterdir())
    except OSError as exc:
        return {"status": f"cannot list {root}: {type(exc).__name__}: {exc.strerror or exc}", "devices": {}}
    if len(names) > MAX_PCI_FUNCTIONS:
        return {"status": f"{len(names)} entries in {root}, more than {MAX_PCI_FUNCTIONS} PCI functions", "devices": {}}
    devices = {}
    for name in names:
        files = {}
        for file in FILES:
            try:
                files[file] = (root / name / file).read_text(encoding="ascii", errors="replace").strip()[:64]
            except OSError as exc:
                files[file] = {"error": f"{type(exc).__name__}: {exc.strerror or exc}"}
        devices[name] = files
    return {"status": "ok", "devices": devices}


def pci_from_sources(sources: object) -> tuple[str, list[PciDevice], list[str]]:
    """(status, devices, why devices may be missing) from recorded or live sources."""
    if not isinstance(sources, dict) or not isinstance(sources.get("status"), str):
        return "unusable recording", [], ["PCI enumeration: the recording's 'pci' is not {status, devices}"]
    status, devices = sources["status"], sources.get("devices")
    if status != "ok":
        return status[:500], [], [f"PCI enumeration failed: {status[:500]}"]
    if not isinstance(devices, dict):
        return "unusable recording", [], ["PCI enumeration: the recording's 'pci.devices' is not an object"]
    if not devices:  # every machine with a PCI bus has a host bridge: sysfs is hidden (a container)
        return "no PCI functions listed", [], ["PCI enumeration listed no functions at all (sysfs hidden, "
                                               "as in a container?): accelerators cannot be ruled out"]
    if len(devices) > MAX_PCI_FUNCTIONS:
        return "unusable recording", [], [f"PCI enumeration: {len(devices)} devices recorded, more than "
                                          f"{MAX_PCI_FUNCTIONS} PCI functions"]
    found, failures = [], []
    for bus_id, files in devices.items():
        if not _BUS_ID.fullmatch(bus_id):
            failures.append(f"PCI enumeration: {bus_id[:40]!r} is not a PCI bus id")
            continue
        found.append(_device(bus_id, files if isinstance(files, dict) else {}))
    return "ok", found, failures


def _device(bus_id: str, files: dict) -> PciDevice:
    fields: dict[str, str] = {}
    errors: dict[str, str] = {}
    for file, pattern, field in (("vendor", _ID16, "vendor_id"), ("device", _ID16, "device_id"),
                                 ("class", _CLASS, "class_code"), ("subsystem_vendor", _ID16, "subsystem_vendor_id"),
                                 ("subsystem_device", _ID16, "subsystem_device_id")):
        text = files.get(file)
        if isinstance(text, dict) and isinstance(text.get("error"), str):
            errors[field] = text["error"][:200]
        elif not isinstance(text, str):
            errors[field] = "not recorded"
        elif not pattern.fullmatch(text.lower()):
            errors[field] = f"unreadable {file}: {text[:40]!r}"
        else:
            fields[field] = text.lower()
    return PciDevice(bus_id=bus_id, accelerator=accelerator_class(fields.get("class_code")) is not None,
                     errors=errors, **fields)


def accelerator_class(class_code: str | None) -> str | None:
    """Why this class is (or may be) an accelerator; None for classes that are not. Unknown counts."""
    if class_code is None:
        return "class unreadable"
    digits = class_code.removeprefix("0x")
    for prefix, name in _ACCELERATOR_CLASSES:
        if digits.startswith(prefix):
            return f"class {class_code} ({name})"
    return None


def same_bus(nvml_bus_id: str | None, pci_bus_id: str) -> bool:
    """NVML writes '00000000:18:00.0' (8-digit domain, upper case); sysfs '0000:18:00.0'."""
    return nvml_bus_id is not None and _normal_bus(nvml_bus_id) == _normal_bus(pci_bus_id)


def _normal_bus(bus_id: str) -> tuple[int, str] | None:
    domain, _, rest = bus_id.lower().partition(":")
    try:
        return int(domain, 16), rest
    except ValueError:
        return None


@functools.cache
def display_only_controllers() -> dict[tuple[str, str], str]:
    """(vendor, device) -> name of display controllers with no compute engine (server BMC and
    virtual-machine framebuffers), which a display class alone would otherwise flag."""
    path = Path(str(resources.files("tppcalc.probe") / "data" / "pci_display_only.toml"))
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    return {(d["vendor"], d["device"]): d["name"] for d in document["device"]}
