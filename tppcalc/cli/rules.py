"""``tppcalc rules list`` and ``tppcalc rules show``: the rule editions and what they hold."""

from __future__ import annotations

import json

import click


@click.group()
def rules() -> None:
    """The rule editions tppcalc knows, with dates, status and citations."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True)
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
    for row in rows:
        click.echo(f"{row['id']:<26} {row['effective']}  {row['kind']:<8} {row['title']}")


@rules.command("show")
@click.argument("edition_id")
@click.option("--json", "as_json", is_flag=True)
def show_rules(edition_id: str, as_json: bool) -> None:
    """One edition: paragraphs and thresholds, requirements, exceptions, review policies, citations."""
    from tppcalc.rules.editions import default_rulebook

    edition = default_rulebook().get(edition_id)
    if as_json:
        click.echo(edition.model_dump_json(indent=2))
        return
    click.echo(f"{edition.id}: {edition.title}")
    click.echo(f"effective {edition.effective}" + (f"; compliance from {edition.compliance_from}" if edition.compliance_from else "")
               + (f"; not enforced from {edition.not_enforced_from}" if edition.not_enforced_from else ""))
    if edition.status_note:
        click.echo(edition.status_note)
    sections = [("Paragraphs", [f"{p.id}: {_conditions(p.when)}" for p in edition.paragraphs]),
                ("Exclusions", [f"{x.id}: {x.text}" for x in edition.exclusions]),
                ("Licence requirements", [f"{r.id}: {', '.join(r.eccns)} ({r.citation})" for r in edition.requirements]),
                ("Licence exceptions", [f"{x.name} ({x.id}): {', '.join(x.eccns)}: {x.conditions}" for x in edition.exceptions]),
                ("Review policies", [f"{p.id}: {p.policy}" + (f" when {_conditions(p.when)}" if p.when else "")
                                     for p in edition.review_policies]),
                ("Notes", edition.notes),
                ("Citations", [f"{c.title} <{c.url}>" for c in edition.citations])]
    for heading, lines in sections:
        if lines:
            click.echo(f"\n{heading}:")
            for line in lines:
                click.echo(f"  {line}")


def _conditions(when) -> str:
    from tppcalc.classification import describe_condition

    return " and ".join(describe_condition(name, value) for c in when for name, value in c.items())
