"""Results as JSON-ready documents, the objects the ``--json`` commands print for programs.

Kept apart from ``report`` (tables and lists for a person) so that a ``--json`` start does not
compile and build the text layouts. Numbers leave the exact world here: JSON gets the nearest
float, or an int when the value is integral. Classification never reads these.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from fractions import Fraction

from pydantic import BaseModel

from tppcalc.core.exact import to_plain
from tppcalc.core.metrics import Metrics, ReadingMetrics
from tppcalc.core.readings import READING_DESCRIPTIONS, Reading


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


def published_tpp_dict(spec) -> dict | None:
    """The TPP a vendor, analyst or the press publishes for ``spec`` (an independent cross-check of
    ours, issue 16 item 5): the figure, its publisher and the record's note, which says why where it
    differs from the computed TPP; None where nobody publishes one."""
    published = spec.published_tpp
    if published is None or not published.known:
        return None
    source = spec.sources.get(published.source or "")
    return {"value": _num(published.value), "source": None if source is None else source.title,
            "url": None if source is None else source.url, "note": published.note}


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


def classification_dict(result) -> dict:
    """The object ``tppcalc classify --json`` prints (a Classification, JSON-ready)."""
    document = _jsonable(result)
    details = document["license_exceptions"]
    document["license_exceptions"] = [x["name"] if x["status"] == "available" else f"{x['name']} (conditional)"
                                      for x in details]
    document["license_exception_details"] = details
    return document


def computer_dict(computer) -> dict:
    """The ``computer`` member of a classification document: a cloud instance, or a superchip or
    board with its units classified (``tppcalc.decisions.computers``)."""
    from tppcalc.decisions.computers import Classified

    if isinstance(computer, Classified):
        assembly = computer.assembly
        units = [{"chip_id": chip.id, "chip": chip.name, "count": count,
                  "eccn": computer.unit_results[chip.id].eccn,
                  "undetermined": computer.unit_results[chip.id].undetermined}
                 for chip, count in assembly.units]
        return {"composition": assembly.composition.name, "units": units,
                "governing_chip_id": computer.governing.id, "description": assembly.describe(),
                "source": assembly.source.model_dump(exclude_none=True), "note": assembly.composition.note}
    instance = computer.instance
    return {"instance_type": instance.name, "provider": instance.provider, "chip_id": computer.chip.id,
            "chip": computer.chip.name, "count": instance.count, "description": computer.describe(),
            "source": computer.source.model_dump(exclude_none=True), "note": instance.note}


def _jsonable(value):
    """``value`` as pydantic's ``model_dump(mode="json")`` gives it, for the types that results
    hold. Written out because pydantic builds a model's serializer on its first dump: its schema,
    and importlib.metadata for the plugin loader, ~30 ms of every ``classify --json`` start. A test
    holds the two equal over the whole catalogue. One converter per type, found once: a document
    has a million values to convert for every thousand answers, and testing each against every
    kind in turn was most of the service's time on a request it had not seen."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(value)


_PLAIN = frozenset({str, int, float, bool, type(None)})
_CONVERTERS: dict[type, object] = {}


def _converter(kind: type):
    if issubclass(kind, Enum):
        return lambda value: _jsonable(value.value)
    if issubclass(kind, (str, int, float)):
        return lambda value: value
    if issubclass(kind, (list, tuple)):
        return lambda value: [_jsonable(v) for v in value]
    if issubclass(kind, dict):
        return lambda value: {_jsonable(k): _jsonable(v) for k, v in value.items()}
    if issubclass(kind, dt.date):
        return lambda value: value.isoformat()
    if issubclass(kind, BaseModel):
        names = (*kind.model_fields, *kind.model_computed_fields)
    elif dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
    else:
        raise TypeError(f"no JSON form for {kind.__name__}")
    return lambda value: {name: _jsonable(getattr(value, name)) for name in names}


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


def _total_dict(total) -> dict:
    from tppcalc.core.metrics import h100_equivalents

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


def rules_dict(day: dt.date) -> dict:
    """``tppcalc rules list --json``: every edition with its real status on ``day``, and the date
    the rule data was checked through."""
    from tppcalc.decisions.rules.editions import default_rulebook

    book = default_rulebook()
    rows = []
    for edition in book.editions:
        later = book.superseded_by(edition, day)
        rows.append({"id": edition.id, "kind": edition.kind, "effective": edition.effective.isoformat(),
                     "title": edition.title, "status": book.status_of(edition, day),
                     "in_force": edition.enforced_on(day) and later is None,
                     "superseded_by": None if later is None else later.id,
                     "status_note": edition.status_note or None,
                     "legal_status": edition.legal_status or None,
                     "citations": [c.model_dump(mode="json") for c in edition.citations]})
    return {"as_of": day.isoformat(), "verified_through": book.verified_through.isoformat(),
            "past_verified_date": day > book.verified_through, "coverage_note": book.coverage.note,
            "editions": rows}
