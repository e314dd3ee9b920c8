"""Rendering results for people and programs: JSON-ready dicts and plain-text tables.

Numbers leave the exact world here and nowhere else: JSON gets the nearest float (an int when
integral), tables get rounded decimals. Classification never reads these.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from tppcalc.exact import format_number, to_plain
from tppcalc.metrics import Bounds, Metrics, ReadingMetrics
from tppcalc.readings import READING_DESCRIPTIONS, Reading


def _num(x: Decimal | Fraction | int | None):
    return None if x is None else to_plain(x)


def _bounds(low, high) -> dict:
    return {"low": _num(low), "high": _num(high)}


def reading_dict(reading: Reading, result: ReadingMetrics, primary: ReadingMetrics) -> dict:
    density_low, density_high = result.density_bounds
    return {
        "reading": reading.value,
        "description": READING_DESCRIPTIONS[reading],
        "tpp": _num(result.tpp),
        "tpp_bounds": _bounds(*result.tpp_bounds),
        "governing_precision": result.governing_precision,
        "applicable_die_area_mm2": _num(result.applicable_die_area_mm2),
        "performance_density": _num(result.performance_density),
        "density_bounds": _bounds(density_low, density_high),
        "same_as_primary": result == primary,
    }


def metrics_dict(metrics: Metrics) -> dict:
    """The object ``tppcalc calc --json`` prints."""
    primary = metrics.primary
    density_low, density_high = primary.density_bounds
    headroom = metrics.headroom
    return {
        "chip_id": metrics.chip_id,
        "tpp": _num(metrics.tpp),
        "tpp_bounds": _bounds(*primary.tpp_bounds),
        "governing_precision": metrics.governing_precision,
        "applicable_die_area_mm2": _num(metrics.applicable_die_area_mm2),
        "area_bounds": _bounds(*primary.area_bounds),
        "performance_density": _num(metrics.performance_density),
        "density_bounds": _bounds(density_low, density_high),
        "tpp_by_precision": {p.value: _num(v) for p, v in metrics.tpp_by_precision.items()},
        "datacenter": metrics.datacenter,
        "io_bidir_gbps": _num(metrics.io_bidir_gbps),
        "dram_bandwidth_gbps": _num(metrics.dram_bandwidth_gbps),
        "hbm_bandwidth_density_gbps_per_mm2": _num(metrics.hbm_bandwidth_density_gbps_per_mm2),
        "transistor_count": _num(metrics.transistor_count),
        "h100_equivalents": _num(metrics.h100_equivalents),
        "headroom": None if headroom is None else {
            "tpp_next_line": _num(headroom.tpp_next_line),
            "tpp_to_next_line": _num(headroom.tpp_to_next_line),
            "density_next_line": _num(headroom.density_next_line),
            "density_to_next_line": _num(headroom.density_to_next_line),
        },
        "readings": [reading_dict(r, v, primary) for r, v in metrics.readings.items()],
        "unknowns": list(metrics.unknowns),
    }


def _bounded(value, bounds: Bounds | tuple, unit: str = "") -> str:
    if value is not None:
        return format_number(value) + unit
    low, high = bounds
    if high is None:
        return f"unknown (at least {format_number(low)}{unit})" if low else "unknown"
    return f"between {format_number(low)} and {format_number(high)}{unit}"


def metrics_table(metrics: Metrics, title: str) -> str:
    """A two-column text table of one chip's metrics."""
    primary = metrics.primary
    h100e = metrics.h100_equivalents
    rows = [
        ("Chip", title),
        ("TPP", _bounded(metrics.tpp, primary.tpp_bounds)),
        ("Governing precision", metrics.governing_precision or "unknown"),
        ("H100-equivalents", format_number(h100e, 3) if h100e is not None else "unknown"),
        ("Applicable die area", _bounded(metrics.applicable_die_area_mm2, primary.area_bounds, " mm²")),
        ("Performance density", _bounded(metrics.performance_density, primary.density_bounds)),
        ("Designed for datacenters", {True: "yes", False: "no", None: "unknown"}[metrics.datacenter]),
        ("I/O rate (bidirectional)", _unit(metrics.io_bidir_gbps, " GB/s")),
        ("DRAM bandwidth", _unit(metrics.dram_bandwidth_gbps, " GB/s")),
        ("HBM bandwidth density", _unit(metrics.hbm_bandwidth_density_gbps_per_mm2, " GB/s/mm²")),
        ("Transistors", format_number(metrics.transistor_count)),
    ]
    headroom = metrics.headroom
    if headroom is not None and headroom.tpp_next_line is not None:
        rows.append(("TPP headroom", f"{format_number(headroom.tpp_to_next_line)} to the "
                                     f"{format_number(headroom.tpp_next_line)} line"))
    if headroom is not None and headroom.density_next_line is not None:
        rows.append(("Density headroom", f"{format_number(headroom.density_to_next_line)} to the "
                                         f"{format_number(headroom.density_next_line)} line"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    differing = [(r, v) for r, v in metrics.readings.items() if v != primary]
    if differing:
        lines.append("")
        lines.append("Alternative readings that give other figures:")
        for reading, result in differing:
            lines.append(f"  {reading.value:<24} TPP {_bounded(result.tpp, result.tpp_bounds)}, "
                         f"density {_bounded(result.performance_density, result.density_bounds)}")
    if metrics.unknowns:
        lines.append("")
        lines.append("Unknown:")
        lines.extend(f"  {item}" for item in metrics.unknowns)
    return "\n".join(lines)


def _unit(value, unit: str) -> str:
    return "unknown" if value is None else format_number(value) + unit


def classification_dict(result) -> dict:
    """The object ``tppcalc classify --json`` prints (a Classification, JSON-ready)."""
    document = result.model_dump(mode="json")
    document["license_exceptions"] = [x["name"] if x["status"] == "available" else f"{x['name']} (conditional)"
                                      for x in document["license_exceptions"]]
    document["license_exception_details"] = result.model_dump(mode="json")["license_exceptions"]
    return document


def classification_text(result, title: str, *, explain: bool) -> str:
    """A short verdict, and with ``explain`` the reasoning and the checks. Never raises."""
    if result.eccn is not None:
        eccn = result.eccn + (f" (by {result.paragraph})" if result.paragraph and result.paragraph != result.eccn else "")
    else:
        eccn = "undetermined: " + " or ".join(result.undetermined or [])
    licence = {True: "required", False: "not required", None: "undetermined"}[result.license_required]
    where = "" if result.destination is None else f" to {result.destination}"
    rows = [
        ("Chip", title),
        ("ECCN", eccn),
        ("Licence" + where, licence if result.destination else "no destination given"),
    ]
    if result.license_exceptions:
        rows.append(("Licence exceptions", ", ".join(
            x.name + ("" if x.status == "available" else " (if unknowns hold)") for x in result.license_exceptions)))
    if result.review_policy:
        rows.append(("Review policy", result.review_policy))
    rows.append(("Rules", f"{result.edition} ({result.edition_status})"
                 + (" + " + ", ".join(result.overlays) if result.overlays else "")))
    if result.reading_sensitive:
        rows.append(("Reading-sensitive", "yes: " + "; ".join(
            f"{r}: {' or '.join(o)}" for r, o in result.outcomes_by_reading.items())))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    if explain:
        lines.append("")
        lines.append("Why:")
        lines.extend(f"  - {reason}" for reason in result.reasons)
        lines.append("")
        lines.append("Paragraph checks (primary reading):")
        for check in result.checks:
            excluded = f", excluded by {check.excluded_by}" if check.excluded_by else ""
            lines.append(f"  {check.paragraph:<10} {check.result}{excluded}")
        if result.review_conditions:
            lines.append("")
            lines.append(f"Review conditions: {result.review_conditions}")
        lines.append("")
        lines.append("Citations:")
        lines.extend(f"  {c.title} <{c.url}>" for c in result.citations)
    return "\n".join(lines)


def node_dict(node) -> dict:
    """The object ``tppcalc probe --json`` prints."""
    devices = []
    for device in node.devices:
        ident = device.identification
        devices.append({
            "kind": device.kind,
            "label": device.label,
            "count": device.count,
            "name": ident.spec.name,
            "identified_as": ident.catalogue_id,
            "identification": ident.method,
            "derived_tpp_at_max_clock": _num(ident.derived_tpp_at_max_clock),
            "cross_checks": ident.cross_checks,
            "metrics": metrics_dict(device.metrics),
            "classification": classification_dict(device.classification),
        })
    return {
        "host": node.host.model_dump(mode="json"),
        "devices": devices,
        "gpus": [d for d in devices if d["kind"] == "gpu"],
        "node": {"eccn": node.eccn, "undetermined": node.undetermined,
                 "license_required": node.license_required, "reasons": node.reasons},
    }


def node_text(node, *, explain: bool) -> str:
    host = node.host
    lines = [f"Host: {host.hostname or 'unknown'}  ({host.provenance})"]
    if host.driver_version:
        lines.append(f"NVIDIA driver {host.driver_version}, CUDA {host.cuda_driver_version or 'unknown'}")
    for note in host.notes:
        lines.append(f"Note: {note}")
    lines.append("")
    header = f"{'device':<18} {'identified as':<34} {'how':<12} {'TPP':>10} {'density':>8}  ECCN / licence"
    lines.append(header)
    for device in node.devices:
        ident, result = device.identification, device.classification
        eccn = result.eccn or ("undetermined: " + " or ".join(result.undetermined or []))
        licence = {True: "licence required", False: "no licence", None: "licence undetermined"}[result.license_required]
        tpp = _bounded(device.metrics.tpp, device.metrics.primary.tpp_bounds)
        density = format_number(device.metrics.performance_density, 2)
        lines.append(f"{device.label:<18} {(ident.catalogue_id or ident.spec.name)[:34]:<34} {ident.method:<12} "
                     f"{tpp:>10} {density:>8}  {eccn}"
                     + ("" if result.destination is None else f"; {licence} to {result.destination}"))
        for check in ident.cross_checks:
            lines.append(f"{'':<18} ! {check}")
        if device.unread:
            unread = "; ".join(f"{field} ({why})" for field, why in device.unread.items())
            lines.append(f"{'':<18} unread: {unread}")
        if explain:
            lines.extend(f"{'':<18} - {reason}" for reason in result.reasons)
    lines.append("")
    node_eccn = node.eccn or ("undetermined: " + " or ".join(node.undetermined or []))
    destination = node.devices[0].classification.destination if node.devices else None
    licence = {True: "required", False: "not required", None: "undetermined"}[node.license_required]
    lines.append(f"Node: {node_eccn}; " + (f"licence {licence} to {destination}" if destination
                                           else "licence not evaluated (give --dest)"))
    if explain:
        lines.extend(f"  - {reason}" for reason in node.reasons)
    return "\n".join(lines)


def _total_dict(total) -> dict:
    from tppcalc.fleet.aggregate import h100_equivalents

    return {"tpp": _num(total.tpp), "h100_equivalents": _num(h100_equivalents(total.tpp)),
            "complete": total.complete, "units": total.units}


def fleet_dict(report) -> dict:
    """The object ``tppcalc fleet report --json`` prints."""
    return {
        "as_of": report.as_of.isoformat(),
        "totals_by_country": {k: _total_dict(v) for k, v in sorted(report.totals_by_country.items())},
        "totals_by_tier": {k: _total_dict(v) for k, v in sorted(report.totals_by_tier.items())},
        "totals_by_site": {k: _total_dict(v) for k, v in sorted(report.totals_by_site.items())},
        "totals_by_consignee": {k: _total_dict(v) for k, v in sorted(report.totals_by_consignee.items())},
        "checks": [{"name": c.name, "status": c.status, "value": _num(c.value), "limit": _num(c.limit),
                    "rule": c.rule, "detail": c.detail} for c in report.checks],
        "notes": report.notes,
    }


def fleet_text(report) -> str:
    from tppcalc.fleet.aggregate import h100_equivalents

    lines = [f"Fleet on {report.as_of}", "", f"{'country':<10} {'TPP':>16} {'H100e':>10}"]
    for country, total in sorted(report.totals_by_country.items()):
        marker = "" if total.complete else "  (+ unknown)"
        lines.append(f"{country:<10} {format_number(total.tpp, 1):>16} {format_number(h100_equivalents(total.tpp), 1):>10}{marker}")
    lines += ["", "Checks:"]
    for check in report.checks:
        value = "unknown" if check.value is None else format_number(check.value, 4)
        lines.append(f"  {check.status:<12} {check.name}: {value} against {format_number(check.limit, 4)}"
                     + (f" ({check.detail})" if check.detail else ""))
    if report.notes:
        lines += ["", "Rules:"] + [f"  {note}" for note in report.notes]
    return "\n".join(lines)
