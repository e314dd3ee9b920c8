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
    from tppcalc.decisions.computers import chip_or_computer, with_governing

    if queries and spec is not None:
        raise click.UsageError("give catalogue QUERY arguments or figure flags, not both")
    if not queries and spec is None:
        raise click.UsageError("give a catalogue QUERY or figure flags such as --dense int8=600")
    found = [chip_or_computer(q, item, current_catalogue(), field="QUERY", computer_option="--item computer")
             for q in queries]
    # A superchip or board classified as a computer: the unit whose classification is most controlled governs.
    found = [with_governing(chip, c, item, rules.keywords()) for chip, c in found]
    computers = [computer for _, computer in found]
    specs = [chip for chip, _ in found] if queries else [spec]
    results = [(s, classify_chip(s, item=item, **rules.keywords())) for s in specs]
    if html_path is not None:
        from tppcalc.render.html_report import write_classification_html

        write_classification_html([r for _, r in results], html_path, specs=[s for s, _ in results],
                                  catalogue=current_catalogue())
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        from tppcalc.render.documents import classification_dict, computer_dict

        documents = [classification_dict(r) for _, r in results]
        for document, computer in zip(documents, computers):
            if computer is not None:
                document["computer"] = computer_dict(computer)
        click.echo(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
        return
    from tppcalc.decisions.computers import computer_title
    from tppcalc.render.report import classification_blocks
    from tppcalc.render.terminal import show

    titles = [computer_title(c) if c else f"{s.vendor} {s.name}".strip()
              for (s, _), c in zip(results, computers or [None] * len(results))]
    show([block for (s, result), title in zip(results, titles)
          for block in classification_blocks(result, title, explain=explain)])
