"""The audit report of one probed node (``tppcalc probe --html``): its devices, declared against
derived and measured figures, what could not be read, each classification, and the HostReport itself."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

from tppcalc.core.exact import format_number
from tppcalc.render.html_report.digests import (
    catalogue_digests,
    extra_file_digests,
    identification_digests,
    rule_digests,
    sha256_bytes,
)
from tppcalc.render.html_report.figures import chart_of, plane_of
from tppcalc.render.html_report.page import Digest, Report, Section, generated_stamp, write_html
from tppcalc.render.html_report.sections import classification_section, number_or_unknown, rules_rows
from tppcalc.render.layout import Cell, Table, eccn_tone, licence, verdict


def node_report(node, *, catalogue=None, extra_files: Mapping[str, Path] | None = None,
                generated_at: dt.datetime | None = None, chart: bool = True,
                measurements: dict | None = None) -> Report:
    """The audit report of one probed node (a ``NodeAssessment``), with the kernel measurements of
    ``tppcalc probe --bench`` (``measure_host``'s document) when given."""
    from tppcalc.data.catalogue import default_catalogue

    host = node.host
    host_json = _json_text(host.model_dump(mode="json"))
    first = node.devices[0].classification if node.devices else None
    svg, caption, chart_note, plane, plane_caption, plane_note = _node_figures(node, chart)
    digests = [Digest("HostReport", "HostReport JSON (as shown in this report)", sha256_bytes(host_json.encode()))]
    digests += extra_file_digests(extra_files)
    digests += catalogue_digests(catalogue or default_catalogue()) + rule_digests() + identification_digests()
    edition, citations = rules_rows(first) if first is not None else ([], [])
    return Report(title=f"tppcalc probe: {host.hostname or 'unknown host'}", summary=_node_summary(node),
                  sections=_node_sections(node, host_json, measurements),
                  chart_svg=svg, chart_caption=caption, chart_note=chart_note, edition=edition, citations=citations,
                  digests=digests, generated_at=generated_stamp(generated_at), plane_svg=plane,
                  plane_caption=plane_caption, plane_note=plane_note)


def _node_summary(node) -> list:
    host = node.host
    node_verdict = (Cell(node.eccn, eccn_tone(node.eccn)) if node.eccn
                    else Cell("undetermined: " + " or ".join(node.undetermined or []), "undetermined"))
    destination = node.devices[0].classification.destination if node.devices else None
    return [("Host", host.hostname or "unknown"), ("Provenance", host.provenance),
            ("NVML", host.nvml),
            ("NVIDIA driver", f"{host.driver_version or 'unknown'} (CUDA {host.cuda_driver_version or 'unknown'})"),
            ("Devices", (f"{sum(d.kind == 'gpu' for d in node.devices)} GPU(s), "
                        f"{sum(d.count for d in node.devices if d.kind == 'cpu')} CPU socket(s)")),
            ("Node (4A090)", node_verdict), ("Licence", licence(node.license_required, destination))]


def _node_sections(node, host_json: str, measurements: dict | None) -> list[Section]:
    host = node.host
    rows, cross = _device_rows(node)
    sections = [
        Section("Devices", anchor="devices", tables=[Table(
            ("device", "reported as", "identified as", "how", "TPP", "density", "ECCN", "licence"), rows)],
            items=[*node.reasons, *(f"Note: {n}" for n in host.notes)]),
        Section("Declared against derived", anchor="declared-derived", paragraphs=[
            ("Declared: the datasheet TPP the rule uses. Derived: SMs x tensor MACs per SM per clock x NVML's "
            "maximum SM clock; NVIDIA quotes Hopper's tensor peaks at a lower clock, so derived runs about 8% high. "
            + ("Kernel measurements follow." if measurements else "No kernel measurements are part of this report."))],
            tables=[Table(("device", "declared TPP", "derived TPP (max clock)", "derived / declared",
                           "cross-checks"), cross)]),
    ]
    if measurements:
        sections.append(_measurement_section(measurements))
    unread = [(f"GPU {g.index}", field, why) for g in host.gpus for field, why in g.errors.items()]
    unread += [("CPU", field, why) for c in host.cpus for field, why in c.errors.items()]
    if unread:
        sections.append(Section("Fields that could not be read", anchor="unread",
                                tables=[Table(("device", "field", "why"), unread)]))
    sections += _classification_sections(node)
    sections.append(Section("HostReport", anchor="host-report", paragraphs=[
        ("The frozen record the probe produced; everything above was computed from it. Its SHA-256 below is "
        "of exactly this text (UTF-8).")], preformatted=[("HostReport JSON", host_json)]))
    return sections


def _device_rows(node) -> tuple[list, list]:
    """The device table's rows, and the declared-against-derived table's."""
    rows, cross = [], []
    for device in node.devices:
        ident, result = device.identification, device.classification
        # The name the backend read (labels differ per backend: "GPU 0", "AMD GPU 0", ...).
        reported = device.reported or "unreadable"
        rows.append((device.label, reported, ident.catalogue_id or ident.spec.name, ident.method,
                     number_or_unknown(device.metrics.tpp), number_or_unknown(device.metrics.performance_density, 2),
                     verdict(result), licence(result.license_required, result.destination)))
        declared = device.metrics.tpp
        derived = ident.derived_tpp_at_max_clock
        ratio = "" if declared is None or derived is None or not declared else format_number(derived / declared, 3)
        cross.append((device.label, number_or_unknown(declared), number_or_unknown(derived), ratio,
                      Cell("; ".join(ident.cross_checks), "warning") if ident.cross_checks else Cell("none", "muted")))
    return rows, cross


def _classification_sections(node) -> list[Section]:
    """One section per distinct classification, titled with every device that shares it."""
    sections, seen = [], set()
    for device in node.devices:
        key = id(device.classification)
        if key in seen:
            continue
        same = [d.label for d in node.devices if d.classification is device.classification]
        seen.add(key)
        name = device.identification.catalogue_id or device.identification.spec.name
        sections.append(classification_section(f"{', '.join(same)}: {name}", device.classification, device.metrics))
    return sections


def _node_figures(node, chart: bool) -> tuple:
    """The chart and the bandwidth plane of the node's device models (each model once, with its count)."""
    from tppcalc.render.chart import ChartChip

    groups: dict[str, list] = {}
    for device in node.devices:
        name = device.identification.catalogue_id or f"{device.label}: {device.identification.spec.name}"
        groups.setdefault(name, []).append(device)
    chips = [ChartChip(f"device-{n}", (ds[0].identification.spec.name
                                       + (f" x{sum(d.count for d in ds)}" if sum(d.count for d in ds) > 1 else "")),
                       ds[0].metrics) for n, ds in enumerate(groups.values())]
    svg, caption, chart_note = (chart_of(chips, node.devices[0].classification) if chart and node.devices
                                else (None, "", "No chart: no device."))
    plane, plane_caption, plane_note = (plane_of(chips, node.devices[0].classification) if chart and node.devices
                                        else (None, "", ""))
    return svg, caption, chart_note, plane, plane_caption, plane_note


def _measurement_section(document: dict) -> Section:
    def share(value):
        return "" if value is None else f"{value:.1%}"

    def rate(value):
        return "" if value is None else f"{value:,.3f}"

    rows, items = [], [f"{entry['kind'].upper()}: {entry['reason']}" for entry in document.get("unavailable", [])]
    for entry in document["devices"]:
        device = entry["name"] + (f" (GPU {entry['index']})" if entry["kind"] == "gpu" else "")
        for result in entry["results"]:
            status = (Cell("cannot run: " + (result["reason"] or ""), "undetermined") if result["status"] != "measured"
                      else ("" if result["reaches_peak"] else Cell("lower bound: " + (result["reason"] or ""), "muted")))
            rows.append((device, result["precision"], result["unit"], result["kernel"], rate(result["measured_tflops"]),
                         rate(result["theoretical_tflops_at_measured_clock"]), share(result["fraction_at_measured_clock"]),
                         rate(result.get("datasheet_tflops")), share(result.get("fraction_of_datasheet")), status))
        clock = entry["measured_clock_mhz"]
        bandwidth = entry["memory_bandwidth_gbps"]
        items.append(f"{device}: measured clock {clock:.0f} MHz; " if clock else f"{device}: clock not measured; ")
        items[-1] += (f"memory bandwidth {bandwidth:.0f} GB/s" if bandwidth is not None else "no bandwidth") + (
            f" ({share(entry.get('memory_bandwidth_fraction'))} of the datasheet)" if entry.get("memory_bandwidth_fraction")
            else "") + f"; verdict: {entry['verdict']}"
    return Section("Measured against declared", anchor="measured", paragraphs=[
        ("Microbenchmark kernels run on this node (tppcalc probe --bench): rates in tera-operations per second, "
         "against the architecture's theoretical rate at the clock the SMs ran at, and against the datasheet's "
         "dense figure. A lower bound is a kernel known not to reach the peak on this architecture.")],
        tables=[Table(("device", "precision", "unit", "kernel", "measured", "theoretical at measured clock",
                       "fraction", "datasheet", "of datasheet", "note"), rows)], items=items)



# What JSON leaves raw but a document cannot show (json.dumps already escapes U+0000-U+001F).
_UNSHOWN_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _json_text(value: object) -> str:
    """``value`` as indented JSON whose every character can be shown as it is (so the text shown is
    the text digested): the others as ``\\u`` escapes, which decode to the same value."""
    text = json.dumps(value, indent=1, ensure_ascii=False)
    return _UNSHOWN_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_node_html(node, path: str | Path, **options) -> Path:
    """``tppcalc probe --html FILE``."""
    return write_html(node_report(node, **options), path)
