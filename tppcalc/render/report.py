"""Rendering results for people: the tables and lists a person reads. The JSON-ready documents for
programs are in ``tppcalc.render.documents`` (named here too), so a ``--json`` start never builds these.

The ``*_blocks`` and ``*_table`` functions say what is shown (``tppcalc.render.layout``: tables of plain-text
cells, toned by verdict); ``tppcalc.render.terminal`` draws them and ``tppcalc.render.html_report`` reuses the fleet
tables. Nothing here imports rich, so the ``--json`` paths never load it.

Numbers leave the exact world here and in ``documents``, nowhere else: tables get rounded decimals.
Classification never reads these.
"""

from __future__ import annotations

from tppcalc.core.exact import format_number
from tppcalc.core.metrics import Bounds, Metrics

# Named here too, for the callers that print both (documents are imported alone by --json).
from tppcalc.render.documents import (  # noqa: F401
    classification_dict,
    fleet_dict,
    metrics_dict,
    node_dict,
    reading_dict,
)
from tppcalc.render.layout import (
    Block,
    Cell,
    CellLike,
    Items,
    Table,
    check_tone,
    eccn_tone,
    licence,
    measurement_tone,
    verdict,
)


def _bounded(value, bounds: Bounds | tuple, unit: str = "") -> str:
    if value is not None:
        return format_number(value) + unit
    low, high = bounds
    if high is None:
        return f"unknown (at least {format_number(low)}{unit})" if low else "unknown"
    return f"between {format_number(low)} and {format_number(high)}{unit}"


def metrics_blocks(metrics: Metrics, title: str) -> list[Block]:
    """One chip's metrics: a label/value table, the readings that give other figures, the unknowns."""
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
    blocks: list[Block] = [Table(("", ""), rows)]
    differing = [(r, v) for r, v in metrics.readings.items() if v != primary]
    if differing:
        blocks.append(Table(("reading", "TPP", "performance density"), [
            (reading.value, _bounded(result.tpp, result.tpp_bounds),
             _bounded(result.performance_density, result.density_bounds)) for reading, result in differing],
            caption="Alternative readings that give other figures"))
    if metrics.unknowns:
        blocks.append(Items("Unknown", list(metrics.unknowns)))
    return blocks


def _unit(value, unit: str) -> str:
    return "unknown" if value is None else format_number(value) + unit


_LICENCE_WORDS = {True: Cell("required", "controlled"), False: Cell("not required", "outside"),
                  None: Cell("undetermined", "undetermined")}
_HOLDS_TONES = {"yes": "controlled", "unknown": "undetermined", "no": None}


def classification_blocks(result, title: str, *, explain: bool) -> list[Block]:
    """A short verdict, and with ``explain`` the reasoning, the checks and the citations. Never raises."""
    by = f" (by {result.paragraph})" if result.paragraph and result.paragraph != result.eccn else ""
    eccn = verdict(result) if result.eccn is None else Cell(result.eccn + by, eccn_tone(result.eccn))
    where = "" if result.destination is None else f" to {result.destination}"
    rows: list[tuple[str, CellLike]] = [
        ("Chip", title),
        ("ECCN", eccn),
        *_published_row(result),
        ("Licence" + where, _LICENCE_WORDS[result.license_required] if result.destination
         else Cell("no destination given", "muted")),
    ]
    if result.license_exceptions:
        rows.append(("Licence exceptions", ", ".join(
            x.name + ("" if x.status == "available" else " (if unknowns hold)") for x in result.license_exceptions)))
    if result.review_policy:
        rows.append(("Review policy", result.review_policy))
    rows.append(("Rules", f"{result.edition} ({result.edition_status})"
                 + (" + " + ", ".join(result.overlays) if result.overlays else "")))
    if result.reading_sensitive:
        primary = result.outcomes_by_reading.get("primary")
        rows.append(("Reading-sensitive", Cell("yes: " + "; ".join(  # the primary and the readings that differ
            f"{r}: {' or '.join(o)}" for r, o in result.outcomes_by_reading.items() if r == "primary" or o != primary),
            "warning")))
    blocks: list[Block] = [Table(("", ""), rows)]
    notices = getattr(result, "notices", None) or []
    if notices:
        blocks.append(Items("Notices", [Cell(n.text, "warning") for n in notices]))
    if explain:
        blocks.append(Items("Why", result.reasons))
        blocks.append(Table(("paragraph", "holds", "excluded by"), [
            (check.paragraph, Cell(check.result, _HOLDS_TONES[check.result]), check.excluded_by or "")
            for check in result.checks], caption="Paragraph checks (primary reading)"))
        if result.review_conditions:
            blocks.append(Items("Review conditions", [result.review_conditions]))
        blocks.append(Items("Citations", [_citation(c) for c in result.citations]
                            + [_citation(n.citation) for n in notices]))
    return blocks


def _published_row(result) -> list[tuple[str, CellLike]]:
    """The maker's own ECCN beside the computed one; a disagreement toned as a warning."""
    published = getattr(result, "published_eccn", None)
    if published is None:
        return []
    word = {True: "agrees", None: "one of the possible outcomes", False: "DISAGREES: a finding to explain"}
    return [("Published ECCN", Cell(f"{published.value} ({word[published.agrees]})",
                                    "warning" if published.agrees is False else None))]


def node_blocks(node, *, explain: bool) -> list[Block]:
    """A probed node: the host, one row per device, what could not be read, and the node's verdict."""
    host = node.host
    about = [("Host", f"{host.hostname or 'unknown'} ({host.provenance})")]
    if host.driver_version:
        about.append(("NVIDIA driver", f"{host.driver_version}, CUDA {host.cuda_driver_version or 'unknown'}"))
    blocks: list[Block] = [Table(("", ""), about)]
    if host.notes:
        blocks.append(Items("Notes", host.notes))
    destination = node.devices[0].classification.destination if node.devices else None
    columns = ("device", "identified as", "how", "TPP", "density", "ECCN") + (("licence",) if destination else ())
    rows = []
    for device in node.devices:
        ident, result = device.identification, device.classification
        row = [device.label, ident.catalogue_id or ident.spec.name, ident.method,
               _bounded(device.metrics.tpp, device.metrics.primary.tpp_bounds),
               format_number(device.metrics.performance_density, 2), verdict(result)]
        if destination:
            row.append(licence(result.license_required, result.destination))
        rows.append(row)
    blocks.append(Table(columns, rows, numeric=(3, 4)))
    # Identical devices say identical things: one line for all of them, naming each.
    cross = _by_message((d.label, check) for d in node.devices for check in d.identification.cross_checks)
    if cross:
        blocks.append(Items("Cross-checks", [Cell(line, "warning") for line in cross]))
    notices = _by_message((d.label, n.text) for d in node.devices for n in getattr(d.classification, "notices", []))
    if notices:
        blocks.append(Items("Notices", [Cell(line, "warning") for line in notices]))
    unread = _by_message((d.label, f"{field} ({why})") for d in node.devices for field, why in d.unread.items())
    if unread:
        blocks.append(Items("Could not be read", unread))
    if explain:
        for labels, reasons in _by_reasons(node.devices):
            blocks.append(Items(f"Why ({labels})", reasons))
    node_licence = licence(node.license_required, destination)
    node_eccn = Cell(node.eccn, eccn_tone(node.eccn)) if node.eccn else Cell(
        "undetermined: " + " or ".join(node.undetermined or []), "undetermined")
    blocks.append(Table(("", ""), [("Node (4A090)", node_eccn), ("Licence", node_licence)]))
    if explain:
        blocks.append(Items("Why (node)", node.reasons))
    return blocks


def _by_message(pairs) -> list[str]:
    """``label: message`` lines, one per distinct message, naming every label that gave it."""
    labels: dict[str, list[str]] = {}
    for label, message in pairs:
        labels.setdefault(message, []).append(label)
    return [f"{', '.join(names)}: {message}" for message, names in labels.items()]


def _by_reasons(devices) -> list[tuple[str, list[str]]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for device in devices:
        groups.setdefault(tuple(device.classification.reasons), []).append(device.label)
    return [(", ".join(labels), list(reasons)) for reasons, labels in groups.items()]


# The groupings of a fleet's totals: (what is grouped, the FleetReport attribute).
FLEET_GROUPINGS = (("country", "totals_by_country"), ("tier", "totals_by_tier"), ("site", "totals_by_site"),
                   ("consignee", "totals_by_consignee"))


# A terminal shows this many rows of a grouping at most (a fleet of 100,000 nodes has 100,000
# sites); the rest are counted under the table and are in full in --json and --html.
FLEET_ROWS_SHOWN = 20
_PLURAL = {"country": "countries"}


def fleet_total_tables(report, *, most: int | None = None) -> list[Block]:
    """TPP, H100-equivalents and units per country, tier, site and consignee, each table sorted by
    name. ``most``: a grouping with more rows shows only that many, the totals that may be larger
    than shown (units of unknown TPP) first and then the largest by TPP, followed by a line that
    counts the rest. Returns the tables and those lines in the order they are shown."""
    from tppcalc.core.metrics import h100_equivalents

    blocks: list[Block] = []
    for name, attribute in FLEET_GROUPINGS:
        totals = sorted(getattr(report, attribute).items())
        hidden = []
        if most is not None and len(totals) > most:
            # Incomplete totals first: a lower bound may hide the largest holding of all.
            ranked = sorted(totals, key=lambda item: (item[1].complete, -item[1].tpp, item[0]))
            totals, hidden = ranked[:most], ranked[most:]
        partial = not all(total.complete for _, total in totals)   # then say which totals are lower bounds
        rows = [(key, format_number(total.tpp, 1), format_number(h100_equivalents(total.tpp), 1), f"{total.units:,}",
                 *(["" if total.complete else Cell("+ units of unknown TPP", "undetermined")] if partial else []))
                for key, total in totals]
        columns = (name, "TPP", "H100-equivalents", "units", *(["note"] if partial else []))
        caption = f"Totals by {name}" + (f": the largest {len(totals):,} of {len(totals) + len(hidden):,}" if hidden else "")
        blocks.append(Table(columns, rows, caption=caption, numeric=(1, 2, 3)))
        if hidden:
            plural = _PLURAL.get(name, name + "s")
            unknown = sum(not total.complete for _, total in hidden)
            blocks.append(f"... and {len(hidden):,} more {plural}"
                          + (f" ({unknown:,} with units of unknown TPP)" if unknown else "")
                          + "; see --json or --html")
    return blocks


def fleet_checks_table(report, *, with_rule: bool = False) -> Table:
    """Every check with its status (toned), value and limit; ``with_rule``: and the rule it comes from."""
    rows = []
    for check in report.checks:
        row = [Cell(check.status, check_tone(check.status)), check.name,
               "unknown" if check.value is None else format_number(check.value, 4), format_number(check.limit, 4),
               check.detail]
        rows.append([*row, check.rule] if with_rule else row)
    columns = ("status", "check", "value", "limit", "detail") + (("rule",) if with_rule else ())
    return Table(columns, rows, caption="Checks", numeric=(2, 3))


def fleet_blocks(report) -> list[Block]:
    """A fleet report for a terminal: the totals, the checks and the rules they come from."""
    blocks: list[Block] = [f"Fleet on {report.as_of}", *fleet_total_tables(report, most=FLEET_ROWS_SHOWN),
                           fleet_checks_table(report)]
    rules = list(dict.fromkeys([*report.notes, *(check.rule for check in report.checks)]))  # what-if caps too
    if rules:
        blocks.append(Items("Rules", rules))
    return blocks


def fleet_probe_table(nodes: list[dict]) -> Table:
    """One row per node that answered ``tppcalc fleet probe`` (objects shaped as ``node_dict``)."""
    rows = []
    for node in nodes:
        devices = ", ".join(f"{d['label']}: {d['identified_as'] or d['name']}" for d in node["devices"])
        verdict_of_node = node["node"]
        eccn = verdict_of_node["eccn"] or "undetermined: " + " or ".join(verdict_of_node["undetermined"] or [])
        rows.append((node["node_id"][:12], str(node["host"].get("hostname")), devices,
                     Cell(eccn, eccn_tone(verdict_of_node["eccn"]))))
    return Table(("node", "host", "devices", "node ECCN"), rows)


# ---- the other commands' results --------------------------------------------------------------------

def chips_table(rows: list[dict]) -> Table:
    """``tppcalc chips list``: rows as in its JSON."""
    return Table(("id", "vendor", "TPP", "density", "name"), [
        (r["id"], r["vendor"], format_number(r["tpp"], 1), format_number(r["performance_density"], 2), r["name"])
        for r in rows], numeric=(2, 3))


def editions_blocks(document: dict) -> list[Block]:
    """``tppcalc rules list``: the editions with their status on the day, and the coverage date
    (``document`` as in its JSON)."""
    day, verified = document["as_of"], document["verified_through"]
    table = Table(("id", "effective", "kind", f"status on {day}", "title"), [
        (r["id"], r["effective"], r["kind"], Cell(r["status"], None if r["in_force"] else "muted"), r["title"])
        for r in document["editions"]])
    coverage = f"Rule data checked against the eCFR and the Federal Register through {verified}"
    if document["past_verified_date"]:
        return [table, Cell(f"{coverage}; {day} is later: changes since then may be missing", "warning")]
    return [table, coverage]


def edition_blocks(edition) -> list[Block]:
    """``tppcalc rules show``: an edition's dates, paragraphs, requirements, exceptions and citations."""
    dates = [("Effective", str(edition.effective))]
    if edition.compliance_from:
        dates.append(("Compliance from", str(edition.compliance_from)))
    if edition.not_enforced_from:
        dates.append(("Not enforced from", Cell(str(edition.not_enforced_from), "warning")))
    blocks: list[Block] = [f"{edition.id}: {edition.title}", Table(("", ""), dates)]
    if edition.status_note:
        blocks.append(edition.status_note)
    if edition.legal_status:
        blocks.append(Cell(f"Legal status disputed (from {edition.legal_status_from or edition.effective}): "
                           f"{edition.legal_status}", "warning"))
    if edition.paragraphs:
        blocks.append(Table(("paragraph", "when"), [(p.id, _conditions(p.when)) for p in edition.paragraphs],
                            caption="Paragraphs"))
    sections = [("Exclusions", [f"{x.id}: {x.text}" for x in edition.exclusions]),
                ("Licence requirements", [f"{r.id}: {', '.join(r.eccns)} ({r.citation})" for r in edition.requirements]),
                ("Licence exceptions", [f"{x.name} ({x.id}): {', '.join(x.eccns)}: {x.conditions}"
                                        for x in edition.exceptions]),
                ("Review policies", [f"{p.id}: {p.policy}" + (f" when {_conditions(p.when)}" if p.when else "")
                                     + (f", for a product commercially available in the United States by "
                                        f"{p.us_available_by}" if p.us_available_by else "")
                                     for p in edition.review_policies]),
                ("Is-informed letters", [f"{x.recipient} ({x.date}): {x.text}; criteria: {x.criteria_source} "
                                         f"({x.criteria_confidence})" for x in edition.letters]),
                ("Notices", [f"{n.id} ({n.kind}): {n.text}" for n in edition.notices]),
                ("Notes", edition.notes),
                ("Citations", [_citation(c) for c in edition.citations])]
    blocks.extend(Items(heading, lines) for heading, lines in sections if lines)
    return blocks


def _citation(citation) -> str:
    return f"{citation.title} <{citation.url}>" + ("" if citation.source == "primary" else f" [{citation.source}]")


def _conditions(when) -> str:
    from tppcalc.decisions.rules.predicates import describe_condition

    return " and ".join(describe_condition(name, value) for c in when for name, value in c.items())


def model_blocks(result) -> list[Block]:
    """``tppcalc model``: the ECCN of the weights, whether its rule is enforced, and why."""
    return [Table(("", ""), [("ECCN", Cell(result.eccn, eccn_tone(result.eccn))),
                             ("Rule status", Cell(result.edition_status, None if result.enforced else "warning"))]),
            Items("Why", result.reasons)]


def batch_summary_table(summary) -> Table:
    """``tppcalc batch``'s summary (a ``tppcalc.batch.Summary``): rows per outcome, and the time taken."""
    outside = summary.rows - summary.controlled - summary.undetermined - summary.errors  # the four are disjoint
    return Table(("outcome", "rows"), [
        ("controlled", Cell(f"{summary.controlled:,}", "controlled" if summary.controlled else None)),
        ("undetermined", Cell(f"{summary.undetermined:,}", "undetermined" if summary.undetermined else None)),
        ("outside", Cell(f"{outside:,}", "outside" if outside else None)),
        ("errors", Cell(f"{summary.errors:,}", "warning" if summary.errors else None)),
        ("all", f"{summary.rows:,}"),
    ], caption=f"tppcalc batch ({summary.seconds:.2f} s)", numeric=(1,))


def batch_notice_items(summary) -> Items | None:
    """The text of each notice the rows' ``notices`` column names by id, once; None without any."""
    if not summary.notices:
        return None
    return Items("Notices (the rows' notices column names them by id)",
                 [Cell(f"{key}: {text}", "warning") for key, text in summary.notices.items()])


def batch_unresolved_items(summary) -> Items | None:
    """Every chip name a batch run could not resolve, with how often, where first, and the
    catalogue's hints; None when every name resolved."""
    if not summary.unresolved:
        return None
    lines = []
    for entry in summary.unresolved:
        unit = entry["first"].split(" ")[0]
        rows = f"{entry['rows']:,} {unit}{'' if entry['rows'] == 1 else 's'}"
        if entry["why"] == "ambiguous":
            hint = "ambiguous: " + ", ".join(entry["candidates"])
        else:
            hint = "closest: " + ", ".join(entry["suggestions"]) if entry["suggestions"] else "no close name"
        lines.append(Cell(f"{entry['name']!r}: {rows}, first {entry['first']}; {hint}", "warning"))
    if summary.unresolved_left_out:
        lines.append(Cell(f"and {summary.unresolved_left_out:,} more names", "warning"))
    count = len(summary.unresolved) + summary.unresolved_left_out
    return Items(f"{count:,} chip name{'' if count == 1 else 's'} not resolved", lines)


def measurement_blocks(document: dict) -> list[Block]:
    """``tppcalc bench`` (and ``probe --bench``): one table per measured device."""
    blocks: list[Block] = []
    if document["unavailable"]:
        blocks.append(Items("Not measured", [f"{entry['kind']}: {entry['reason']}" for entry in document["unavailable"]]))
    for entry in document["devices"]:
        if entry["kind"] == "cpu":
            title = f"{entry['name']} ({entry['microarchitecture']}, {entry['threads']} threads)"
        else:
            title = (f"{entry['name']} (GPU {entry['index']}, sm_{entry['compute_capability'].replace('.', '')}, "
                     f"{entry['multiprocessors']} SMs)")
        rows = []
        for result in entry["results"]:
            if result["status"] != "measured":
                rows.append((result["precision"], result["unit"], "", "", "", Cell(f"cannot run: {result['reason']}",
                                                                                   "undetermined")))
                continue
            rows.append((result["precision"], result["unit"], f"{result['measured_tflops']:,.3f}",
                         _share(result["fraction_at_measured_clock"]), _share(result.get("fraction_of_datasheet")),
                         "" if result["reaches_peak"] else Cell("lower bound", "muted")))
        blocks.append(Table(("precision", "unit", "measured T/s", "of theoretical at measured clock", "of datasheet",
                             "note"), rows, caption=title, numeric=(2, 3, 4)))
        clock, bandwidth = entry["measured_clock_mhz"], entry["memory_bandwidth_gbps"]
        share = entry.get("memory_bandwidth_fraction")
        blocks.append(Items(title, [
            f"measured clock {clock:.0f} MHz" if clock else "clock not measured",
            "memory bandwidth " + (f"{bandwidth:.1f} GB/s" if bandwidth is not None else "not measured")
            + (f" ({share:.1%} of the datasheet)" if share else ""),
            Cell(f"verdict: {entry['verdict']}", measurement_tone(entry["verdict"])),
        ]))
    return blocks


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"
