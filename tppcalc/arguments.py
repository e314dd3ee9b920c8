"""What the public API accepts for a chip, a day and a place, turned into what the engine uses.

A caller naturally passes ``classify("H100 SXM", dest="China", as_of="2026-02-01")``. Each
argument is accepted in the forms listed here and no other: anything else is an InputError that
says what to pass, never a guess (an unparseable date is not today, an unknown place is not "no
licence required").
"""

from __future__ import annotations

import datetime as dt
import re

from tppcalc.data.spec import ChipSpec
from tppcalc.decisions.rules.countries import resolve_country
from tppcalc.errors import InputError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def chip_spec(chip: object) -> ChipSpec:
    """A ChipSpec as given, or the catalogue chip a query string names (``"H100 SXM"``)."""
    if isinstance(chip, ChipSpec):
        return chip
    if isinstance(chip, str):
        from tppcalc.data.catalogue import default_catalogue

        return default_catalogue().lookup(chip)
    raise InputError(f"expected a ChipSpec, a Metrics or a catalogue query such as 'H100 SXM', "
                     f"got {type(chip).__name__}", field="chip")


def day_of(as_of: object, *, field: str = "as_of") -> dt.date:
    """The day the rules are taken on: a date, a datetime (its date), an ISO ``"YYYY-MM-DD"``
    string, or None for today."""
    if as_of is None:
        return dt.date.today()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str) and _ISO_DATE.fullmatch(as_of.strip()):
        try:
            return dt.date.fromisoformat(as_of.strip())
        except ValueError as exc:
            raise InputError(f"{as_of!r} is not a date: {exc}", field=field) from None
    raise InputError(f"expected a datetime.date or an ISO date 'YYYY-MM-DD', got {as_of!r}", field=field)


def place(country: object, *, field: str) -> str | None:
    """An ISO alpha-2 code for a destination or headquarters (None stays None: not given)."""
    return None if country is None else resolve_country(country, option=field)
