"""From a HostReport to answers: each device identified, measured against the rules, and the node
classified as a computer (4A090) holding whatever its most controlled chip is. Pure: no hardware."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from tppcalc.catalogue import Catalogue
from tppcalc.classification import Classification, classify
from tppcalc.metrics import Metrics, compute_metrics
from tppcalc.probe.host import HostReport
from tppcalc.probe.identify import Identification, identify_cpu, identify_gpu

# Order of control for a computer: the node takes the most controlled chip's paragraph.
_RANK = {"outside 4A090": 0, "4A090.b": 1, "4A090.a": 2}


@dataclass(frozen=True)
class DeviceAssessment:
    kind: str                    # "gpu" or "cpu"
    label: str                   # "GPU 3" or "CPU (2 sockets)"
    count: int                   # how many ICs this entry stands for (sockets)
    identification: Identification
    metrics: Metrics
    classification: Classification
    unread: dict[str, str]       # fields the probe could not read, and why


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
    rules = {"dest": dest, "hq": hq, "as_of": as_of, "edition": edition, "as_written": as_written}
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
    for gpu in report.gpus:
        identification = identify_gpu(gpu, catalogue)
        metrics, as_ic, as_computer = evaluate(identification)
        devices.append(DeviceAssessment("gpu", f"GPU {gpu.index}", 1, identification, metrics, as_ic, gpu.errors))
        computer_results.append(as_computer)
    for cpu in report.cpus:
        identification = identify_cpu(cpu, catalogue)
        metrics, as_ic, as_computer = evaluate(identification)
        sockets = cpu.sockets or 1
        label = f"CPU ({sockets} socket{'s' if sockets != 1 else ''})"
        devices.append(DeviceAssessment("cpu", label, sockets, identification, metrics, as_ic, cpu.errors))
        computer_results.append(as_computer)
    eccn, undetermined, licence, reasons = _node(computer_results)
    return NodeAssessment(report, devices, eccn, undetermined, licence, reasons)


def _node(results: list[Classification]) -> tuple[str | None, list[str] | None, bool | None, list[str]]:
    """The node is as controlled as its most controlled chip; unknowns keep outcomes open."""
    if not results:
        return "outside 4A090", None, False, ["No device found"]
    lowest = max(min(_RANK[o] for o in _outcomes(r)) for r in results)
    highest = max(max(_RANK[o] for o in _outcomes(r)) for r in results)
    names = {rank: name for name, rank in _RANK.items()}
    possible = [names[rank] for rank in range(highest, lowest - 1, -1)]
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


def _outcomes(result: Classification) -> list[str]:
    outcomes = [result.eccn] if result.eccn is not None else list(result.undetermined or [])
    # 3A090.c (memory items) has no computer paragraph; it never reaches a node.
    return [o if o in _RANK else "outside 4A090" for o in outcomes]


def total_tpp(assessment: NodeAssessment) -> Decimal | None:
    """Sum of known device TPPs (None when any is unknown)."""
    total = Decimal(0)
    for device in assessment.devices:
        if device.metrics.tpp is None:
            return None
        total += device.metrics.tpp * device.count
    return total
