"""Fleet inputs: an inventory file (TOML: sites holding counts of catalogue chips), and the
``Holding`` rows that it and probe results from nodes (``tppcalc.fleet.nodes``) both become: so many
of one chip, at one site."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from pydantic import Field, ValidationError, field_validator

from tppcalc.catalogue import Catalogue
from tppcalc.errors import InputError, SpecError, TppcalcError
from tppcalc.rules.countries import resolve_country
from tppcalc.spec import StrictModel
from tppcalc.specfile import validation_errors


class Item(StrictModel):
    chip: str = Field(min_length=1, description="A catalogue query")
    count: int = Field(ge=1)
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


def read_inventory(path: Path, catalogue: Catalogue, tpp_of) -> list[Holding]:
    """Holdings of an inventory TOML file; every chip resolved through the catalogue."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(exc), where=str(path)) from None
    try:
        inventory = Inventory.model_validate(document)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=str(path)) from None
    holdings = []
    for s_index, site in enumerate(inventory.site):
        for i_index, item in enumerate(site.item):
            try:
                spec = catalogue.lookup(item.chip)
            except TppcalcError as exc:
                raise InputError(str(exc), where=str(path), field=f"site[{s_index}] ({site.name}).item[{i_index}].chip") from None
            holdings.append(Holding(site.name, site.country, site.operator, site.operator_hq, spec.id,
                                    tpp_of(spec), item.count, item.shipped, item.consignee, str(path)))
    return holdings
