"""``tppcalc rules list`` and ``tppcalc rules show``: the rule editions and what they hold."""

from __future__ import annotations

import json

import click


@click.group()
def rules() -> None:
    """The rule editions tppcalc knows, with dates, status and citations."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_rules(as_json: bool) -> None:
    """Every edition with its effective date and status today."""
    import datetime as dt

    from tppcalc.rules.editions import default_rulebook

    today = dt.date.today()
    book = default_rulebook()
    rows = [{"id": e.id, "kind": e.kind, "effective": e.effective.isoformat(), "title": e.title,
             "status_today": e.status_on(today)} for e in book.editions]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from tppcalc.report import editions_table
    from tppcalc.terminal import show

    show([editions_table(rows)])


@rules.command("show")
@click.argument("edition_id")
@click.option("--json", "as_json", is_flag=True, help="Print the edition as JSON.")
def show_rules(edition_id: str, as_json: bool) -> None:
    """One edition: paragraphs and thresholds, requirements, exceptions, review policies, citations."""
    from tppcalc.rules.editions import default_rulebook

    edition = default_rulebook().get(edition_id)
    if as_json:
        click.echo(edition.model_dump_json(indent=2))
        return
    from tppcalc.report import edition_blocks
    from tppcalc.terminal import show

    show(edition_blocks(edition))
