"""From a HostReport to answers: each device identified, measured against the rules, and the node
classified as a computer (4A090) holding whatever its most controlled chip is. Pure: no hardware.

Devices come from every registered backend (``tppcalc.probe.backends``: NVML's GPUs, the CPUs,
amdsmi's GPUs, nvidia-smi dumps' and any other), and every accelerator-class PCI function no
other backend characterised (identified by PCI id, else unidentified). Each reason the report gives
for devices possibly missing (an enumeration that failed) stands as one more unidentified device:
it can never lower the node's verdict, and keeps it from "outside". Outcomes are ranked with the
classification engine's own order (``control_order``), never with a table kept here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tppcalc.core.eccn import ControlOrder, Eccn
from tppcalc.core.metrics import Metrics, compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import Classification, classify, control_order
from tppcalc.probe.backends import accelerator_backends, registered
from tppcalc.probe.host import HostReport, PciDevice
from tppcalc.probe.identify import Identification, identify_pci, unidentified_spec
from tppcalc.probe.pci import accelerator_class, display_only_controllers, same_bus


@dataclass(frozen=True)
class DeviceAssessment:
    kind: str                    # "gpu", "cpu", "accelerator" (seen on the PCI bus only) or "unenumerated"
    label: str                   # "GPU 3", "CPU (2 sockets)", "PCI 0000:18:00.0"
    count: int                   # how many ICs this entry stands for (sockets)
    identification: Identification
    metrics: Metrics
    classification: Classification
    unread: dict[str, str]       # fields the probe could not read, and why
    reported: str | None = None  # the name the backend read (NVML's, amdsmi's market name, the CPU model)


@dataclass(frozen=True)
class NodeAssessment:
    host: HostReport
    devices: list[DeviceAssessment]
    eccn: str | None
    undetermined: list[str] | None
    license_required: bool | None
    reasons: list[str]


def assess(report: HostReport, catalogue: Catalogue, *, dest: str | None = None, hq: str | None = None,
           as_of: dt.date | None = None, edition: str | None = None, as_written: bool = False) -> NodeAssessment:
    day = as_of or dt.date.today()
    rules = {"dest": dest, "hq": hq, "as_of": day, "edition": edition, "as_written": as_written}
    devices: list[DeviceAssessment] = []
    done: dict[str, tuple[Metrics, Classification, Classification]] = {}  # identical chips, computed once

    def evaluate(identification: Identification):
        key = identification.catalogue_id
        if key is not None and key in done:
            return done[key]
        metrics = compute_metrics(identification.spec)
        result = (metrics, classify(metrics, item="ic", **rules), classify(metrics, item="computer", **rules))
        if key is not None:
            done[key] = result
        return result

    computer_results: list[Classification] = []

    def add(kind: str, label: str, count: int, identification: Identification, unread: dict[str, str],
            reported: str | None = None) -> None:
        metrics, as_ic, as_computer = evaluate(identification)
        devices.append(DeviceAssessment(kind, label, count, identification, metrics, as_ic, unread, reported))
        computer_results.append(as_computer)

    for source in registered():  # NVML's GPUs, the CPUs, amdsmi's GPUs, then every other backend's
        for record in source.devices(report):
            add(source.kind, source.label(record), source.count(record), source.identify(record, catalogue),
                source.unread(record), source.reported_name(record))
    for device in accelerators_no_backend_read(report, catalogue):
        add("accelerator", f"PCI {device.bus_id}", 1, identify_pci(device, catalogue), device.errors,
            f"PCI id {device.vendor_id or '?'}:{device.device_id or '?'}")
    for number, why in enumerate(report.unenumerated, 1):
        spec = unidentified_spec(f"unenumerated-{number}", "devices not enumerated", why)
        add("unenumerated", f"not enumerated ({number})", 1,
            Identification(spec, "unreadable", None, None, [f"devices may be missing: {why}"]), {})
    order = control_order("computer", as_of=day, edition=edition, as_written=as_written)
    eccn, undetermined, licence, reasons = _node(computer_results, order)
    return NodeAssessment(report, devices, eccn, undetermined, licence, reasons)


def accelerators_no_backend_read(report: HostReport, catalogue: Catalogue) -> list[PciDevice]:
    """PCI functions that are (or may be) accelerators and that no registered backend (NVML,
    amdsmi, ...) read: by bus id, and a GPU whose bus id was not read takes a function of its vendor left over."""
    display_only = display_only_controllers()
    candidates = []
    for device in report.pci_devices:
        listed = (device.vendor_id and device.device_id
                  and catalogue.by_pci(device.vendor_id, device.device_id))
        if not (device.accelerator or listed):
            continue
        if (not listed and device.class_code and device.class_code.startswith("0x03")
                and (device.vendor_id, device.device_id) in display_only):
            continue  # a BMC or virtual framebuffer: no compute engine
        candidates.append(device)
    read = [(device.bus_id, source.pci_vendor or device.pci_vendor_id)
            for source in accelerator_backends() for device in map(source.neutral, source.devices(report))]
    unseen = [d for d in candidates if not any(same_bus(bus_id, d.bus_id) for bus_id, _ in read)]
    for bus_id, vendor in read:
        if bus_id is None or not any(same_bus(bus_id, d.bus_id) for d in candidates):
            leftover = next((d for d in unseen if d.vendor_id == vendor), None)
            if leftover is not None:
                unseen.remove(leftover)
    return unseen


def _node(results: list[Classification], order: ControlOrder) -> tuple[str | None, list[str] | None, bool | None, list[str]]:
    """The node is as controlled as its most controlled chip; unknowns keep outcomes open."""
    if not results:
        return str(order.ordered[-1]), None, False, ["No device found, and every enumeration succeeded"]
    outcomes = [_outcomes(r) for r in results]
    # Some device is at least as controlled as `lowest`; none can be more controlled than `highest`.
    lowest = order.most_controlled(order.least_controlled(o) for o in outcomes)
    highest = order.most_controlled(order.most_controlled(o) for o in outcomes)
    possible = [str(e) for e in order.between(highest, lowest)]
    licences = {r.license_required for r in results}
    if True in licences:
        licence = True
    elif licences == {False}:
        licence = False
    else:
        licence = None
    reasons = []
    if len(possible) == 1:
        reasons.append(f"The node is {possible[0]}: a computer is classified by the most controlled IC it holds (4A090)")
    else:
        reasons.append("The node is undetermined between " + ", ".join(possible) + ": some devices could not be classified")
    return (possible[0] if len(possible) == 1 else None, None if len(possible) == 1 else possible, licence, reasons)


def _outcomes(result: Classification) -> list[Eccn]:
    return [Eccn.parse(o) for o in ([result.eccn] if result.eccn is not None else result.undetermined or [])]
