"""Fleet inputs: an inventory file (TOML: sites holding counts of catalogue chips) and JSON Lines of
probe results from nodes. Both become ``Holding`` rows: so many of one chip, at one site."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_core import from_json

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


@dataclass(frozen=True)
class Holding:
    """``count`` units of one chip at one site, with the TPP of one unit (None when unknown)."""

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


def read_probe_lines(path: Path, tpp_of_device, devices_of_host) -> list[Holding]:
    """Holdings from JSON Lines, one node a line: a ``tppcalc probe --json`` result (with
    ``devices``) or a bare HostReport (with ``host``), the devices of which are identified here.
    A line may carry ``site``, ``country``, ``operator``, ``operator_hq``, ``consignee``."""
    holdings = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            node = from_json(line)  # pydantic-core's parser: several times faster than json on big fleets
        except ValueError as exc:
            raise InputError(f"not JSON: {exc}", where=where) from None
        if not isinstance(node, dict) or ("devices" not in node and "host" not in node):
            raise InputError("expected a `tppcalc probe --json` result or a HostReport under `host`", where=where)
        country = node.get("country")
        if not country:
            raise InputError("no `country` on this node (give it when probing: --country)", where=where, field="country")
        country = resolve_country(country, option=f"{where}: country")
        host = node.get("host", {}).get("hostname") or f"node {number}"
        devices = node["devices"] if "devices" in node else devices_of_host(node["host"], where)
        counts: dict[tuple, int] = {}  # identical devices of a node are one holding with a count
        for device in devices:
            unit_tpp, chip = tpp_of_device(device)
            counts[(chip, unit_tpp)] = counts.get((chip, unit_tpp), 0) + device.get("count", 1)
        for (chip, unit_tpp), count in counts.items():
            holdings.append(Holding(node.get("site") or host, country, node.get("operator"),
                                    node.get("operator_hq"), chip, unit_tpp, count, None, node.get("consignee"), where))
    return holdings
