"""Fleet inputs: an inventory file (TOML: sites holding counts of catalogue chips), and the
``Holding`` rows that it and probe results from nodes (``tppcalc.fleet.nodes``) both become: so many
of one chip, at one site."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import Field, StrictInt, ValidationError, field_validator

from tppcalc.data.catalogue import Catalogue
from tppcalc.data.input_files import read_input_file
from tppcalc.data.spec import StrictModel
from tppcalc.data.specfile import parse_document, validation_errors
from tppcalc.decisions.rules.countries import resolve_country
from tppcalc.errors import AmbiguousChipError, InputError, SpecError, UnknownChipError

# More units in one line than the world ships AI chips in a year (about 5-7 million in 2025) is a
# typing error, and a huge count could tip a share check (the UVEU US share) toward pass.
MAX_UNITS_PER_ITEM = 10_000_000


class Item(StrictModel):
    chip: str = Field(min_length=1, description="A catalogue query, or a cloud instance type (count: instances)")
    # Strict: 2.0, "3" or true are not counts; pydantic would coerce them.
    count: StrictInt = Field(ge=1, le=MAX_UNITS_PER_ITEM)
    shipped: dt.date | None = None
    consignee: str | None = None


class Site(StrictModel):
    name: str = Field(min_length=1)
    country: str
    operator: str | None = None
    operator_hq: str | None = None
    item: list[Item] = Field(default_factory=list)

    @field_validator("country", "operator_hq")
    @classmethod
    def _iso(cls, value):
        if value is None:
            return value
        try:
            return resolve_country(value, option="country")
        except InputError as exc:
            raise ValueError(exc.problem) from None


class Inventory(StrictModel):
    site: list[Site] = Field(min_length=1)


class Holding(NamedTuple):
    """``count`` units of one chip at one site, with the TPP of one unit (None when unknown).

    A named tuple, not a frozen dataclass: a fleet of 100,000 nodes makes 200,000 of them, and
    a frozen dataclass takes seven times as long to build (2.8 against 0.4 us)."""

    site: str
    country: str
    operator: str | None
    operator_hq: str | None
    chip_id: str
    unit_tpp: Decimal | None
    count: int
    shipped: dt.date | None
    consignee: str | None
    origin: str


UnresolvedPolicy = Literal["error", "undetermined"]
UNRESOLVED_PREFIX = "unresolved: "


@dataclass
class Unresolved:
    """Every chip name that the catalogue did not resolve, gathered over all inputs, so that one
    run names them all (an inventory with 40 unknown names took 40 runs to clean)."""

    names: dict[str, dict] = field(default_factory=dict)  # name -> places, items, units, why

    def add(self, name: str, place: str, count: int, error: UnknownChipError | AmbiguousChipError) -> None:
        entry = self.names.setdefault(name, {"places": [], "items": 0, "units": 0, "error": error})
        entry["places"].append(place)
        entry["items"] += 1
        entry["units"] += count

    def raise_if_any(self) -> None:
        if not self.names:
            return
        described = []
        for name, entry in self.names.items():
            error = entry["error"]
            if isinstance(error, AmbiguousChipError):
                hint = "ambiguous: " + ", ".join(error.candidates)
            else:
                hint = "closest: " + ", ".join(error.suggestions) if error.suggestions else "no close name"
            first = entry["places"][0] + (f" and {len(entry['places']) - 1} more" if len(entry["places"]) > 1 else "")
            described.append(f"{name!r} ({entry['items']} items, {entry['units']} units, at {first}; {hint})")
        raise InputError(f"{len(self.names)} chip names not resolved (fix them, or pass --unresolved undetermined "
                         "to carry them as undetermined): " + "; ".join(described))


def read_inventory(path: Path, catalogue: Catalogue, tpp_of, *, unresolved: UnresolvedPolicy = "error",
                   collected: Unresolved | None = None) -> list[Holding]:
    """Holdings of an inventory TOML file; every chip resolved through the catalogue.

    A name the catalogue does not resolve (unknown or ambiguous) is gathered in ``collected``
    (the caller raises once, after every file) or, with ``unresolved="undetermined"``, becomes a
    holding of unknown TPP named ``unresolved: NAME``, which every check treats as undetermined.
    Without ``collected``, this file's unresolved names are raised at its end."""
    # The reader every input file shares: a regular file, bounded in size, nesting and digits.
    document = parse_document(path, read_input_file(path))
    try:
        inventory = Inventory.model_validate(document)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=str(path)) from None
    from tppcalc.data.instances import find_instance

    holdings = []
    gathered = Unresolved() if collected is None else collected
    for s_index, site in enumerate(inventory.site):
        for i_index, item in enumerate(site.item):
            try:
                spec = catalogue.lookup(item.chip)
            except (UnknownChipError, AmbiguousChipError) as exc:
                # Instance names never resolve as chips, so the instance table is read only now.
                computer = find_instance(item.chip, catalogue) if isinstance(exc, UnknownChipError) else None
                if computer is not None:  # so many instances, each holding so many chips
                    holdings.append(Holding(site.name, site.country, site.operator, site.operator_hq,
                                            computer.chip.id, tpp_of(computer.chip),
                                            item.count * computer.instance.count, item.shipped, item.consignee,
                                            str(path)))
                    continue
                if unresolved == "undetermined":
                    holdings.append(Holding(site.name, site.country, site.operator, site.operator_hq,
                                            UNRESOLVED_PREFIX + item.chip, None, item.count, item.shipped,
                                            item.consignee, str(path)))
                else:
                    gathered.add(item.chip, f"{path}: site[{s_index}] ({site.name}).item[{i_index}].chip",
                                 item.count, exc)
                continue
            holdings.append(Holding(site.name, site.country, site.operator, site.operator_hq, spec.id,
                                    tpp_of(spec), item.count, item.shipped, item.consignee, str(path)))
    if collected is None:
        gathered.raise_if_any()
    return holdings
