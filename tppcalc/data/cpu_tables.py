"""Server CPUs as tables: one row per family, one row per SKU, and ChipSpec records made from them.

A server CPU line has dozens of SKUs that differ only in cores and clocks; writing each as a full
chip record would repeat the per-core rates dozens of times. So ``specs/cpus/*.toml`` holds:

- ``[[family]]`` rows: the microarchitecture, the dense operations per cycle per core of its vector
  and matrix units (each sourced), the most cores and the highest clock of any SKU of the family
  (sourced), and the brand-string shapes that name its SKUs (``xeon platinum 84##*``);
- ``[[sku]]`` rows: cores, base, all-core turbo and maximum turbo clocks, AMX / AVX-512 presence,
  and the maker's published ECCN where one is found.

Each SKU row becomes a ChipSpec when the catalogue loads (``specs_from_cpu_document``), validated
like any record and kept by the validated cache. Its rates are cores x clock x ops per cycle, at the
all-core turbo clock where one is published (as the hand-written CPU records are), else at the
maximum turbo clock, which can only overstate them. A row whose maximum turbo clock no consulted
source gives is bounded by its family's highest clock, as an unlisted SKU is but with the row's own
cores: the rates are that bound where it proves TPP below the lowest TPP line, else unknown.

A brand string that names no listed SKU but fits a family's shape gets the family's bound
(``family_bound``): most cores x highest clock x highest per-core rate. TPP can be no higher, so a
bound below the lowest TPP line proves "outside 3A090" for any SKU of the family; a bound at or
above it proves nothing, and the record's rates are then unknown (never a guess).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from pathlib import Path

from pydantic import Field, StrictBool, StrictInt, ValidationError, model_validator

from tppcalc.core.exact import EXACT
from tppcalc.core.precision import Precision, bit_length
from tppcalc.core.thresholds import TPP_LINES
from tppcalc.data.spec import SLUG, ChipSpec, Die, PositiveDecimal, Source, SourcedText, StrictModel
from tppcalc.data.specfile import spec_from_record, validation_errors
from tppcalc.errors import InputError, SpecError

CPU_TABLES_DIR = "cpus"  # below a spec folder: specs/cpus/*.toml
MILLION = Decimal(1_000_000)
VECTOR_UNIT = "vector FMA units"
MATRIX_UNIT = "matrix engine (AMX)"
# A brand shape: lower-case words, '#' for one digit, and at most one trailing '*' for any suffix
# letters ("h", "y+", "c"). Linear to match, so a hostile spec file cannot make matching slow.
_SHAPE = re.compile(r"^[a-z0-9 #+\-]{1,60}\*?$")


class SourcedCount(StrictModel):
    value: StrictInt = Field(ge=1, le=100_000)
    source: str
    note: str | None = None


class SourcedClock(StrictModel):
    value: PositiveDecimal
    source: str
    note: str | None = None


class CoreRate(StrictModel):
    """Dense operations per cycle per core of one precision; ``requires`` names the SKU feature
    ("amx" or "avx512") without which the SKU lacks this rate."""

    value: PositiveDecimal
    source: str
    requires: str | None = Field(default=None, pattern=r"^(amx|avx512)$")
    note: str | None = None


class Family(StrictModel):
    id: str = Field(pattern=SLUG)
    vendor: str = Field(min_length=1)
    name: str = Field(min_length=1)
    architecture: str = Field(min_length=1, description="Written into each SKU's ChipSpec.architecture")
    microarchitecture: str = Field(min_length=1)
    release_date: dt.date | None = None
    brand_shapes: tuple[str, ...] = Field(default=(), description="Brand strings naming SKUs of the family")
    max_cores: SourcedCount
    max_clock_mhz: SourcedClock = Field(description="The highest maximum turbo clock of any SKU of the family")
    vector_ops_per_cycle_per_core: dict[Precision, CoreRate] = Field(min_length=1)
    matrix_ops_per_cycle_per_core: dict[Precision, CoreRate] = {}
    unrated: dict[Precision, str] = Field(default={}, description="Precisions the cores run at a rate no source "
                                          "gives, and why: recorded unknown, never left out")
    source: str = Field(description="Source of the family's identity: architecture, datacenter use")

    @model_validator(mode="after")
    def _shapes_are_simple(self):
        for shape in self.brand_shapes:
            if not _SHAPE.match(shape):
                raise ValueError(f"brand shape {shape!r}: lower-case words, '#' for a digit, one trailing '*'")
        return self

    def cited(self) -> set[str]:
        rates = (*self.vector_ops_per_cycle_per_core.values(), *self.matrix_ops_per_cycle_per_core.values())
        return {self.source, self.max_cores.source, self.max_clock_mhz.source, *(r.source for r in rates)}


class Sku(StrictModel):
    family: str = Field(pattern=SLUG)
    model: str = Field(min_length=1, description="The SKU's name as the vendor writes it, without the vendor")
    id: str | None = Field(default=None, pattern=SLUG, description="Default: vendor and model as a slug")
    aliases: tuple[str, ...] = ()
    release_date: dt.date | None = None
    cores: StrictInt = Field(ge=1, le=100_000)
    base_mhz: PositiveDecimal | None = None
    all_core_turbo_mhz: PositiveDecimal | None = None
    max_turbo_mhz: PositiveDecimal | None = Field(
        default=None, description="Absent where no consulted source gives it: the family's highest clock bounds it")
    amx: StrictBool = False
    avx512: StrictBool = False
    dies: tuple[Die, ...] = ()
    published_eccn: SourcedText | None = Field(default=None, description="The maker's own ECCN for this SKU")
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _clocks_in_order(self):
        clocks = [c for c in (self.base_mhz, self.all_core_turbo_mhz, self.max_turbo_mhz) if c is not None]
        if clocks != sorted(clocks):
            raise ValueError("clocks must rise: base <= all-core turbo <= maximum turbo")
        if self.all_core_turbo_mhz is not None and self.max_turbo_mhz is None:
            raise ValueError("an all-core turbo clock needs the maximum turbo clock beside it")
        return self


class CpuTable(StrictModel):
    sources: dict[str, Source]
    family: tuple[Family, ...] = ()
    sku: tuple[Sku, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self):
        families = {}
        for family in self.family:
            if family.id in families:
                raise ValueError(f"family {family.id!r} is defined twice")
            families[family.id] = family
            missing = family.cited() - self.sources.keys()
            if missing:
                raise ValueError(f"family {family.id!r}: sources {sorted(missing)} are not in [sources]")
        for sku in self.sku:
            family = families.get(sku.family)
            if family is None:
                raise ValueError(f"sku {sku.model!r}: family {sku.family!r} is not a [[family]] of this file")
            eccn_source = sku.published_eccn.source if sku.published_eccn else None  # None: given as unknown
            missing = sorted(c for c in {sku.source, eccn_source} - {None} if c not in self.sources)
            if missing:
                raise ValueError(f"sku {sku.model!r}: source {missing[0]!r} is not in [sources]")
            fastest = max(c for c in (sku.base_mhz, sku.max_turbo_mhz, Decimal(0)) if c is not None)
            if sku.cores > family.max_cores.value or fastest > family.max_clock_mhz.value:
                raise ValueError(f"sku {sku.model!r}: more cores or a higher clock than its family's maximum "
                                 "(the family bound would not bound it)")
        return self


def read_cpu_table(document: dict, where: str) -> CpuTable:
    try:
        return CpuTable.model_validate(document)
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=where) from None


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower().replace("+", "plus"))).strip("-")


def _tops(cores: int | Decimal, mhz: Decimal, ops: Decimal) -> Decimal:
    return EXACT.divide(EXACT.multiply(EXACT.multiply(Decimal(cores), mhz), ops), MILLION)


def _rated_clock(sku: Sku) -> dict:
    """The clocks fields that say which clock the SKU's rates are at, so the cpu-* readings can
    take them to the base and maximum turbo clocks (``tppcalc.core.readings``)."""
    if sku.all_core_turbo_mhz is None:
        # No maximum turbo either: the rates are at the family's highest clock, not one of the SKU's.
        return {} if sku.max_turbo_mhz is None else {"rates_at": "boost_mhz"}
    return {"rates_at": "all_core_turbo_mhz",
            "all_core_turbo_mhz": {"value": sku.all_core_turbo_mhz, "source": sku.source}}


def _sku_clock(family: Family, sku: Sku) -> tuple[Decimal, str, str]:
    """The clock a row's rates are taken at, what it is, and its source."""
    if sku.all_core_turbo_mhz is not None:
        return sku.all_core_turbo_mhz, "all-core turbo", sku.source
    if sku.max_turbo_mhz is not None:
        return sku.max_turbo_mhz, "maximum turbo (no all-core figure published: an upper bound)", sku.source
    return (family.max_clock_mhz.value, "family's highest clock (no maximum turbo figure for this SKU in the "
            "sources consulted: an upper bound)", family.max_clock_mhz.source)


def _tpp_bound(family: Family, sku: Sku, clock: Decimal) -> Decimal:
    """The highest TPP the row's rates allow: cores x clock x ops x bits, over every precision it has."""
    have = {"amx": sku.amx, "avx512": sku.avx512}
    rates = [(p, r) for table in (family.vector_ops_per_cycle_per_core, family.matrix_ops_per_cycle_per_core)
             for p, r in table.items() if not r.requires or have[r.requires]]
    return max((EXACT.multiply(_tops(sku.cores, clock, r.value), Decimal(bit_length(p))) for p, r in rates),
               default=Decimal(0))


def _sku_record(table: CpuTable, family: Family, sku: Sku) -> dict:
    clock, clock_name, clock_source = _sku_clock(family, sku)
    bounded_unknown = None  # why the rates are unknown: a bound that proves nothing
    if sku.max_turbo_mhz is None:
        bound = _tpp_bound(family, sku, clock)
        if bound >= min(TPP_LINES) or family.unrated:
            bounded_unknown = (f"{sku.model}: no maximum turbo clock in the sources consulted; {sku.cores} cores x "
                               f"{family.name}'s highest clock {clock} MHz ({family.max_clock_mhz.source}) bounds "
                               f"TPP at {bound.normalize():f}, not below {min(TPP_LINES)}: the SKU's own clock "
                               "is needed")
    have = {"amx": sku.amx, "avx512": sku.avx512}
    units = []
    for unit_name, rates in ((VECTOR_UNIT, family.vector_ops_per_cycle_per_core),
                             (MATRIX_UNIT, family.matrix_ops_per_cycle_per_core)):
        dense = {}
        for precision, rate in rates.items():
            if rate.requires and not have[rate.requires]:
                continue
            dense[precision.value] = {"unknown": bounded_unknown} if bounded_unknown else {
                "value": _tops(sku.cores, clock, rate.value), "source": rate.source,
                "note": f"derived: {sku.cores} cores x {clock} MHz {clock_name} ({clock_source}) x {rate.value} "
                        f"ops/cycle/core ({family.microarchitecture})"}
        if unit_name == VECTOR_UNIT:  # a rate no source gives is unknown, never left out
            dense.update({p.value: {"unknown": why} for p, why in family.unrated.items() if p.value not in dense})
        if dense:
            units.append({"name": unit_name, "dense_tops": dense})
    clocks = {}
    if sku.max_turbo_mhz is not None:
        clocks["boost_mhz"] = {"value": sku.max_turbo_mhz, "source": sku.source, "note": "maximum turbo"}
    if sku.base_mhz is not None:
        clocks["base_mhz"] = {"value": sku.base_mhz, "source": sku.source}
    clocks.update(_rated_clock(sku))
    name = sku.model
    record = {
        "id": sku.id or f"{_slug(family.vendor)}-{_slug(name)}",
        "vendor": family.vendor, "name": name,
        "aliases": list(dict.fromkeys([f"{family.vendor} {name}", *sku.aliases])),
        "kind": "cpu", "architecture": family.architecture,
        "release_date": sku.release_date or family.release_date,
        "datacenter": {"value": True, "source": family.source, "note": f"{family.name}: a server CPU line"},
        "processing_units": units,
        "dies": [die.model_dump(exclude_none=True) for die in sku.dies],
        "clocks": clocks or None,
        "notes": (f"Generated from the CPU SKU table ({family.name}): {sku.cores} cores, "
                  f"{'AMX, ' if sku.amx else ''}{'AVX-512, ' if sku.avx512 else ''}rates at the {clock_name} clock."
                  + (f" {bounded_unknown}." if bounded_unknown else "")
                  + (f" {sku.note}" if sku.note else "")),
        "sources": dict(table.sources),
    }
    if sku.published_eccn is not None:
        record["published_eccn"] = sku.published_eccn.model_dump(exclude_none=True)
    return record


def specs_from_cpu_document(document: dict, where: str) -> list[ChipSpec]:
    """Every SKU row of a CPU table as a validated ChipSpec (the table itself validated first)."""
    table = read_cpu_table(document, where)
    families = {f.id: f for f in table.family}
    return [spec_from_record(_sku_record(table, families[sku.family], sku), where, f"sku {sku.model}")
            for sku in table.sku]


# ---- brand strings of unlisted SKUs ---------------------------------------------------------

_BRAND_NOISE = re.compile(r"\((?:r|tm)\)|[®™]|\bcpu\b|\bprocessor\b|\b\d+-core\b|@.*$|^\s*(?:intel|amd)\b")


def normalised_brand(text: str) -> str:
    """ "Intel(R) Xeon(R) Platinum 8490H CPU @ 1.90GHz" -> "xeon platinum 8490h"."""
    return " ".join(_BRAND_NOISE.sub(" ", text.lower().strip()).split())


def _shape_fits(shape: str, brand: str) -> bool:
    open_end = shape.endswith("*")
    fixed = shape.removesuffix("*")
    if len(brand) < len(fixed) or (not open_end and len(brand) != len(fixed)):
        return False
    for want, got in zip(fixed, brand):
        if not (got.isdigit() if want == "#" else want == got):
            return False
    tail = brand[len(fixed):]
    return all(c.isalnum() or c in "+-" for c in tail)  # a suffix, not another word


def matching_families(brand: str, tables: list[CpuTable]) -> list[Family]:
    text = normalised_brand(brand)
    return [f for t in tables for f in t.family if any(_shape_fits(s, text) for s in f.brand_shapes)]


def family_bound_record(family: Family, table: CpuTable, brand: str) -> dict:
    """A chip record for an unlisted SKU of ``family``: its rates at the family's bound (most cores
    x highest clock) where that bound proves TPP below the lowest TPP line, else unknown."""
    cores, clock = family.max_cores.value, family.max_clock_mhz.value
    rates = {**family.vector_ops_per_cycle_per_core, **{
        p: r for p, r in family.matrix_ops_per_cycle_per_core.items()
        if p not in family.vector_ops_per_cycle_per_core or r.value > family.vector_ops_per_cycle_per_core[p].value}}
    bound = max(EXACT.multiply(_tops(cores, clock, r.value), Decimal(bit_length(p))) for p, r in rates.items())
    basis = (f"{brand!r} is not a listed SKU; {family.name} has at most {cores} cores ({family.max_cores.source}) "
             f"and at most {clock} MHz ({family.max_clock_mhz.source}), so its TPP is at most {bound.normalize():f}")
    if family.unrated:
        basis += " over the rated precisions; " + "; ".join(f"{p} unrated ({why})" for p, why in family.unrated.items())
    if bound < min(TPP_LINES) and not family.unrated:
        dense = {p.value: {"value": _tops(cores, clock, r.value), "source": r.source,
                           "note": f"family upper bound: {cores} cores x {clock} MHz x {r.value} ops/cycle/core"}
                 for p, r in rates.items()}
        notes = basis + f", below {min(TPP_LINES)}: the figures here are that upper bound, not the SKU's own."
    else:
        why = basis + f", not below {min(TPP_LINES)}: the SKU's own figures are needed"
        dense = {p.value: {"unknown": why} for p in rates}
        notes = why + "."
    return {
        "id": f"cpu-family-bound-{family.id}", "vendor": family.vendor, "name": brand.strip() or family.name,
        "kind": "cpu", "architecture": family.architecture,
        "datacenter": {"value": True, "source": family.source, "note": f"{family.name}: a server CPU line"},
        "processing_units": [{"name": f"{family.name}: family upper bound", "dense_tops": dense}],
        "notes": notes, "sources": dict(table.sources),
    }


@functools.cache
def shipped_cpu_tables() -> tuple[CpuTable, ...]:
    from tppcalc.data.resources import data_dir
    from tppcalc.data.specfile import read_document

    folder = Path(data_dir("specs")) / CPU_TABLES_DIR
    paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    return tuple(read_cpu_table(read_document(p), str(p)) for p in paths)


def family_bound(brand: str, tables: tuple[CpuTable, ...] | None = None) -> ChipSpec | None:
    """The family-bound record for a brand string that fits exactly one family's shape; None when
    it fits none or several (several: which family is not known, so no bound is)."""
    found = [(f, t) for t in (shipped_cpu_tables() if tables is None else tables)
             for f in matching_families(brand, [t])]
    if len(found) != 1:
        return None
    family, table = found[0]
    try:
        return spec_from_record(family_bound_record(family, table, brand), "CPU family table", family.id)
    except SpecError as exc:  # a brand string too odd to be a name
        raise InputError(str(exc), field="CPU brand") from None
