"""``tppcalc rules list`` and ``tppcalc rules show``: the rule editions and what they hold."""

from __future__ import annotations

import json

import click


@click.group()
def rules() -> None:
    """The rule editions tppcalc knows, with dates, status and citations."""


@rules.command("list")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Show each edition's status on DATE (default: today).")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON object: as_of, verified_through, coverage_note and the editions.")
def list_rules(as_of, as_json: bool) -> None:
    """Every edition with its effective date and its real status on a date (in force, superseded
    by a later edition, an overlay not enforced), and the date the rule data was checked through."""
    import datetime as dt

    from tppcalc.render.documents import rules_dict

    document = rules_dict(as_of.date() if as_of is not None else dt.date.today())
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    from tppcalc.render.report import editions_blocks
    from tppcalc.render.terminal import show

    show(editions_blocks(document))


@rules.command("show")
@click.argument("edition_id")
@click.option("--json", "as_json", is_flag=True, help="Print the edition as JSON.")
def show_rules(edition_id: str, as_json: bool) -> None:
    """One edition: paragraphs and thresholds, requirements, exceptions, review policies, citations."""
    from tppcalc.decisions.rules.editions import default_rulebook

    edition = default_rulebook().get(edition_id)
    if as_json:
        click.echo(edition.model_dump_json(indent=2))
        return
    from tppcalc.render.report import edition_blocks
    from tppcalc.render.terminal import show

    show(edition_blocks(edition))
