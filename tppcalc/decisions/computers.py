"""What a classify query names, and which unit governs a computer: one answer for the CLI and the service.

A query is a catalogue chip (with the superchip or board composition it decomposes into, when the
item is a computer), else a cloud instance type (a computer, so only with item ``computer``), else
an unlisted SKU of a known CPU family (that family's bound). A superchip or board classified as a
computer is governed by its unit whose classification is most controlled.
"""

from __future__ import annotations

from tppcalc.errors import InputError, UnknownChipError


class Classified:
    """A superchip or board and the classification of each of its units as a computer."""

    def __init__(self, assembly, unit_results: dict, governing):
        self.assembly, self.unit_results, self.governing = assembly, unit_results, governing


def chip_or_computer(query: str, item: str, catalogue, *, field: str, computer_option: str):
    """(chip, computer or None) for ``query``. Instance names never resolve as chips, so the chip is
    looked up first: the other tables are read only when that fails. ``field`` names the query in
    errors, and ``computer_option`` how this interface asks for a computer."""
    from tppcalc.data.cpu_tables import family_bound
    from tppcalc.data.instances import find_composition, find_instance

    try:
        chip = catalogue.lookup(query)
        assembly = find_composition(query, catalogue, chip_id=chip.id) if item == "computer" else None
        return chip, assembly
    except UnknownChipError:
        computer = find_instance(query, catalogue)
        if computer is None:
            bound = family_bound(query)  # "AMD EPYC 9224 24-Core Processor": an unlisted SKU, its family's bound
            if bound is None:
                raise
            return bound, None
    if item != "computer":
        raise InputError(f"{query!r} is a cloud instance type ({computer.describe()}): pass {computer_option}, "
                         "or name its chip", field=field)
    return computer.chip, computer


def with_governing(chip, computer, item: str, keywords: dict):
    """(chip, computer) as found; for a superchip or board, (its governing unit, its units classified)."""
    from tppcalc.data.instances import Assembly

    if not isinstance(computer, Assembly):
        return chip, computer
    classified = governing_unit(computer, item, keywords)
    return classified.governing, classified


def governing_unit(assembly, item: str, keywords: dict) -> Classified:
    """The unit chip whose classification as ``item`` is most controlled (an undetermined one by the
    most controlled outcome it leaves open), with each unit's classification for the report."""
    from tppcalc.core.eccn import Eccn
    from tppcalc.decisions.classification import classify as classify_chip
    from tppcalc.decisions.classification import control_order

    order = control_order(item, as_of=keywords["as_of"], edition=keywords["edition"],
                          as_written=keywords["as_written"])
    ranked, results = [], {}
    for chip, _ in assembly.units:
        result = results[chip.id] = classify_chip(chip, item=item, **keywords)
        possible = [result.eccn] if result.eccn else list(result.undetermined or [])
        ranked.append((max(order.rank(Eccn.parse(e)) for e in possible), chip))
    governing = max(ranked, key=lambda entry: entry[0])[1]  # the first of equals: units are listed GPU first
    return Classified(assembly, results, governing)


def computer_title(computer) -> str:
    if isinstance(computer, Classified):
        return f"{computer.assembly.composition.name}: {computer.assembly.describe()}"
    return f"{computer.instance.provider} {computer.instance.name}: {computer.describe()}"
