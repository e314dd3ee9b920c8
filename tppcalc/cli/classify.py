"""``tppcalc classify``: ECCN, licence requirement, exceptions and review policy, with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tppcalc.cli.options import current_catalogue, figure_options, rule_options


@click.command()
@click.argument("queries", nargs=-1, metavar="[QUERY]...")
@figure_options
@rule_options
@click.option("--item", type=click.Choice(["ic", "computer"]), default="ic", show_default=True,
              help="Classify the IC itself (3A090) or a computer/board holding it (4A090).")
@click.option("--explain", is_flag=True, help="Print the reasoning in words.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (an object, or an array for several chips).")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a self-contained HTML audit report to FILE.")
def classify(queries, spec, rules, item: str, explain: bool, as_json: bool, html_path: Path | None) -> None:
    """Classify catalogue chips (QUERY) or the chip given by figure flags. With --item computer, a
    QUERY may also be a cloud instance type (p5.48xlarge, a3-highgpu-8g, BM.GPU.H100.8).

    \b
    Examples:
      tppcalc classify "H100 SXM" --dest CN --as-of 2024-01-01 --explain
      tppcalc classify p5.48xlarge --item computer --dest IN
      tppcalc classify --dense int8=600 --die 300:finfet --datacenter --dest AE
    """
    from tppcalc.decisions.classification import classify as classify_chip

    if queries and spec is not None:
        raise click.UsageError("give catalogue QUERY arguments or figure flags, not both")
    if not queries and spec is None:
        raise click.UsageError("give a catalogue QUERY or figure flags such as --dense int8=600")
    found = [_chip_or_computer(q, item) for q in queries]
    # A superchip or board classified as a computer: the unit whose classification is most controlled governs.
    found = [_with_governing(chip, c, item, rules) for chip, c in found]
    computers = [computer for _, computer in found]
    specs = [chip for chip, _ in found] if queries else [spec]
    results = [(s, classify_chip(s, item=item, **rules.keywords())) for s in specs]
    if html_path is not None:
        from tppcalc.render.html_report import write_classification_html

        write_classification_html([r for _, r in results], html_path, specs=[s for s, _ in results],
                                  catalogue=current_catalogue())
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        from tppcalc.render.documents import classification_dict

        documents = [classification_dict(r) for _, r in results]
        for document, computer in zip(documents, computers):
            if computer is not None:
                document["computer"] = _computer_dict(computer)
        click.echo(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
        return
    from tppcalc.render.report import classification_blocks
    from tppcalc.render.terminal import show

    titles = [_computer_title(c) if c else f"{s.vendor} {s.name}".strip()
              for (s, _), c in zip(results, computers or [None] * len(results))]
    show([block for (s, result), title in zip(results, titles)
          for block in classification_blocks(result, title, explain=explain)])


def _chip_or_computer(query: str, item: str):
    """The catalogue chip ``query`` names (with the composition it decomposes into, for --item
    computer), or else the cloud instance type it names (a computer, so only with --item
    computer), or else the bound of the CPU family whose unlisted SKU it names. Instance names never
    resolve as chips, so the chip is looked up first: the other tables are read only when that fails."""
    from tppcalc.data.cpu_tables import family_bound
    from tppcalc.data.instances import find_composition, find_instance
    from tppcalc.errors import InputError, UnknownChipError

    catalogue = current_catalogue()
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
        raise InputError(f"{query!r} is a cloud instance type ({computer.describe()}): pass --item computer, "
                         "or name its chip", field="QUERY")
    return computer.chip, computer


def _with_governing(chip, computer, item: str, rules):
    """(chip, computer) as found; for a superchip or board, (its governing unit, its units classified)."""
    if computer is None or not _is_assembly(computer):
        return chip, computer
    classified = _governing_unit(computer, item, rules.keywords())
    return classified.governing, classified


def _is_assembly(computer) -> bool:
    from tppcalc.data.instances import Assembly

    return isinstance(computer, Assembly)


class _Classified:
    """A superchip or board and the classification of each of its units as a computer."""

    def __init__(self, assembly, unit_results: dict, governing):
        self.assembly, self.unit_results, self.governing = assembly, unit_results, governing


def _governing_unit(assembly, item: str, keywords: dict) -> _Classified:
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
    return _Classified(assembly, results, governing)


def _computer_title(computer) -> str:
    if isinstance(computer, _Classified):
        return f"{computer.assembly.composition.name}: {computer.assembly.describe()}"
    return f"{computer.instance.provider} {computer.instance.name}: {computer.describe()}"


def _computer_dict(computer) -> dict:
    if isinstance(computer, _Classified):
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
