"""The chip specification model: what a datasheet says about one SKU, every value with its source.

Records are frozen and forbid unknown fields, so a typo in a spec file is an error, not a silently
ignored key. Numbers are exact Decimals (see ``exact.py``); units are in the field names and values
are stored in those units. A value that no source gives is recorded as unknown *with the reason*,
never as zero: the metric engine turns unknowns into bounds and the rules fail closed on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from tppcalc.core.exact import positive, to_decimal
from tppcalc.core.precision import Precision
from tppcalc.errors import InputError


def _exact(value: object) -> Decimal:
    try:
        return to_decimal(value)
    except InputError as exc:
        raise ValueError(exc.problem) from None


def _exact_positive(value: object) -> Decimal:
    try:
        return positive(value)
    except InputError as exc:
        raise ValueError(exc.problem) from None


def _exact_non_negative(value: object) -> Decimal:
    number = _exact(value)
    if number < 0:
        raise ValueError(f"value must not be negative, got {value!r}")
    return number


# Decimals serialise as strings so a JSON round trip stays exact. The JSON schema is stated here,
# not left to pydantic, so the committed schema does not change with pydantic's version.
_as_text = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")
_DECIMAL_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string"}],
                   "description": "An exact decimal: a number or a string such as \"1978.9\" or \"3,958\""}
PositiveDecimal = Annotated[Decimal, BeforeValidator(_exact_positive), _as_text,
                            WithJsonSchema({**_DECIMAL_SCHEMA, "exclusiveMinimum": 0})]
NonNegativeDecimal = Annotated[Decimal, BeforeValidator(_exact_non_negative), _as_text,
                               WithJsonSchema({**_DECIMAL_SCHEMA, "minimum": 0})]

SLUG = r"^[a-z0-9][a-z0-9.+-]*$"


class StrictModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Source(StrictModel):
    """A document a value comes from: its title and where to find it."""

    title: str = Field(min_length=1)
    url: str | None = Field(default=None, description="Address of the document")


class Sourced(StrictModel):
    """One value with the key of its source, or the reason it is unknown.

    The subclasses below fix the type of ``value``. They are plain classes, not ``Sourced[T]``:
    parametrising a generic pydantic model builds the generic's validator at import time.
    """

    value: object | None = None
    source: str | None = Field(default=None, description="Key into the chip's `sources`")
    unknown: str | None = Field(default=None, description="Why no value is given")
    note: str | None = None

    @model_validator(mode="after")
    def _value_or_reason(self):
        if self.value is None and not self.unknown:
            raise ValueError("give `value` with its `source`, or `unknown` with the reason")
        if self.value is not None and self.unknown:
            raise ValueError("give either `value` or `unknown`, not both")
        if self.value is not None and not self.source:
            raise ValueError("a value needs a `source`")
        return self

    @property
    def known(self) -> bool:
        return self.value is not None


class SourcedPositive(Sourced):
    """A sourced number greater than zero."""

    value: PositiveDecimal | None = None


class SourcedNonNegative(Sourced):
    """A sourced number, zero or more."""

    value: NonNegativeDecimal | None = None


class SourcedFlag(Sourced):
    """A sourced yes or no."""

    value: bool | None = None


class SourcedText(Sourced):
    """A sourced piece of text."""

    value: str | None = None


class Throughput(SourcedPositive):
    """A dense throughput in tera-operations per second (TFLOPS or TOPS; one MAC = 2 operations).

    ``sparse`` exists only to be refused: a figure "with sparsity" must never enter a TPP.
    """

    sparse: bool = False

    @model_validator(mode="after")
    def _dense_only(self):
        if self.sparse:
            raise ValueError(
                "sparse figures are refused: record the dense figure and mention the sparse one "
                "in `note` (3A090 Technical Note 2, item 3)"
            )
        return self


class Kind(StrEnum):
    GPU = "gpu"
    ASIC = "asic"
    CPU = "cpu"
    FPGA = "fpga"
    MEMORY = "memory"  # a memory item (an HBM stack): the only kind 3A090.c can apply to


class DieRole(StrEnum):
    LOGIC = "logic"
    IO = "io"
    MEMORY = "memory"


class TransistorArchitecture(StrEnum):
    PLANAR = "planar"
    FINFET = "finfet"
    GAA = "gaa"

    @property
    def non_planar(self) -> bool:
        return self is not TransistorArchitecture.PLANAR


class ProcessingUnit(StrictModel):
    """A group of MAC units (tensor cores, vector FMA units, AMX tiles) with its dense rates."""

    name: str = Field(min_length=1)
    dense_tops: dict[Precision, Throughput] = Field(
        min_length=1, description="Dense tera-operations per second by precision"
    )


# Dies or stacks of one kind in one package: absurd beyond this, and an unbounded count (10**500)
# would make the exact area sum exceed exact.EXACT's precision.
MAX_COUNT_IN_PACKAGE = 100_000
# No die or stack can be larger than a whole 300 mm wafer (pi x 150^2 = 70,685.8 mm2; the largest
# die made, a wafer-scale engine, is 46,225 mm2). A larger area only lowers a density, toward "not
# controlled", and is a garbled figure (2^64, a tool's "unset" value), so it is refused.
MAX_AREA_MM2 = Decimal(70_686)


def check_area(value: Decimal, what: str) -> Decimal:
    """``value`` (mm2, already > 0), refused when no die or stack could be that large."""
    if value > MAX_AREA_MM2:
        raise InputError(f"{what} of {value} mm2 is larger than a whole 300 mm wafer ({MAX_AREA_MM2:,} mm2); "
                         "check the figure")
    return value


class Die(StrictModel):
    """One kind of die in the package; ``count`` of them. ``source`` covers node and architecture."""

    name: str = Field(min_length=1)
    role: DieRole
    count: int = Field(default=1, ge=1, le=MAX_COUNT_IN_PACKAGE)
    area_mm2: SourcedPositive
    process_node: str | None = None
    transistor_architecture: TransistorArchitecture | None = Field(
        default=None, description="None when unknown: the die's area then may or may not apply"
    )
    source: str | None = None

    @model_validator(mode="after")
    def _node_sourced(self):
        if (self.process_node or self.transistor_architecture) and not self.source:
            raise ValueError("process_node / transistor_architecture need a `source`")
        return self

    @model_validator(mode="after")
    def _plausible(self):
        if self.area_mm2.value is not None:
            _plausible_area(self.area_mm2.value, "die area")
        return self


class HbmStack(StrictModel):
    """``count`` identical HBM stacks (or packaged DRAM) with per-stack bandwidth and area."""

    count: int = Field(default=1, ge=1, le=MAX_COUNT_IN_PACKAGE)
    bandwidth_gbps: SourcedPositive
    package_area_mm2: SourcedPositive

    @model_validator(mode="after")
    def _plausible(self):
        if self.package_area_mm2.value is not None:
            _plausible_area(self.package_area_mm2.value, "HBM stack package area")
        return self


def _plausible_area(value: Decimal, what: str) -> None:
    """``check_area`` for a model validator: pydantic reports a ValueError with the field's place."""
    try:
        check_area(value, what)
    except InputError as exc:
        raise ValueError(exc.problem) from None


class Memory(StrictModel):
    type: str | None = None
    capacity_gb: SourcedPositive | None = None
    dram_bandwidth_gbps: SourcedNonNegative = Field(
        description="Total DRAM bandwidth in GB/s (0 for a chip with no DRAM)"
    )
    hbm_stacks: tuple[HbmStack, ...] = ()


class RatesClock(StrEnum):
    """The ``Clocks`` fields a CPU's rates can be stated at, lowest first."""

    BASE = "base_mhz"
    ALL_CORE_TURBO = "all_core_turbo_mhz"
    BOOST = "boost_mhz"


class Clocks(StrictModel):
    """A chip's clocks. For a CPU, ``boost_mhz`` is the maximum (single-core) turbo; ``rates_at``
    says at which clock the processing units' rates were derived (cores x clock x ops per cycle),
    which lets the ``cpu-*`` readings rescale them to the other clocks (``tppcalc.core.readings``)."""

    base_mhz: SourcedPositive | None = None
    all_core_turbo_mhz: SourcedPositive | None = Field(
        default=None, description="CPU: the highest clock the maker rates for all cores at once")
    boost_mhz: SourcedPositive | None = None
    rates_at: RatesClock | None = Field(
        default=None, description="The clock field at which the rates are stated: for a CPU the primary "
        "clock, all_core_turbo_mhz where given, else boost_mhz")

    @model_validator(mode="after")
    def _rates_at_the_primary_clock(self):
        given = {name: getattr(self, name).value for name in RatesClock
                 if getattr(self, name) is not None and getattr(self, name).value is not None}
        known = [given[name] for name in RatesClock if name in given]
        if known != sorted(known):
            raise ValueError("clocks must rise: base_mhz <= all_core_turbo_mhz <= boost_mhz")
        if self.rates_at is None:
            return self
        if self.rates_at not in given:
            raise ValueError(f"rates_at names {self.rates_at.value}, which gives no value")
        primary = RatesClock.ALL_CORE_TURBO if RatesClock.ALL_CORE_TURBO in given else RatesClock.BOOST
        if self.rates_at is not primary:
            raise ValueError(f"rates_at must be {primary.value}: a CPU's rates are stated at its all-core turbo "
                             "where one is given, else at its maximum turbo (the primary reading)")
        return self


class PciId(StrictModel):
    """PCI vendor and device id (hex strings such as ``0x10de``), optionally subsystem ids."""

    vendor_id: str = Field(pattern=r"^0x[0-9a-f]{4}$")
    device_id: str = Field(pattern=r"^0x[0-9a-f]{4}$")
    subsystem_ids: tuple[str, ...] = Field(default=(), description="0xVVVVDDDD, vendor first")
    board_part_numbers: tuple[str, ...] = ()
    source: str


class ChipSpec(StrictModel):
    """One SKU as its datasheet describes it."""

    id: str = Field(pattern=SLUG)
    vendor: str = Field(min_length=1)
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    kind: Kind
    architecture: str | None = None
    release_date: dt.date | None = None
    datacenter: SourcedFlag = Field(
        description="Designed or marketed for use in datacenters (Note 2 to 3A090.a and .b)"
    )
    processing_units: tuple[ProcessingUnit, ...] = Field(min_length=1)
    dies: tuple[Die, ...] = Field(default=(), description="Empty when the die list is unknown")
    memory: Memory | None = None
    io_bidir_gbps: SourcedNonNegative | None = Field(
        default=None,
        description="Aggregate bidirectional transfer rate to ICs other than volatile memory, GB/s",
    )
    transistor_count: SourcedPositive | None = None
    clocks: Clocks | None = None
    pci: tuple[PciId, ...] = ()
    published_tpp: SourcedPositive | None = None
    published_eccn: SourcedText | None = None
    notes: str | None = None
    sources: dict[str, Source] = Field(default_factory=dict)

    def source_keys_used(self) -> Iterator[tuple[str, str]]:
        """Every (field path, source key) in the record."""
        yield from _source_keys(self, "")

    def source_keys(self) -> set[str]:
        """Every source key the record cites: ``source_keys_used`` without the paths, and a
        fraction of its cost (every catalogue record is walked on every load)."""
        found: set[str] = set()
        _collect_source_keys(self, found)
        return found

    @model_validator(mode="after")
    def _dies_fit_a_wafer(self):
        # Every die of one package together: a count typed wrong (1000 for 10) only lowers density
        _plausible_area(sum((d.count * d.area_mm2.value for d in self.dies if d.area_mm2.value is not None),
                            Decimal(0)), "the dies' total area")
        return self

    @model_validator(mode="after")
    def _sources_resolve(self, info: ValidationInfo):
        used = self.source_keys()
        if not used <= self.sources.keys():
            missing = sorted({f"{path} -> {key!r}" for path, key in self.source_keys_used()
                              if key not in self.sources})
            raise ValueError("source keys not in `sources`: " + ", ".join(missing))
        if type(info.context) is dict:  # handed back, so a loader need not walk the record again
            info.context[CITED_SOURCES] = used
        return self


# The key under which validation with a ``context`` dict leaves the record's ``source_keys()``.
CITED_SOURCES = "cited_sources"


def _collect_source_keys(node: BaseModel | dict | tuple, found: set[str]) -> None:
    """Add every ``source`` below ``node`` to ``found``: a plain recursion into the containers only,
    where ``_source_keys`` passes every key up a chain of generators and builds every path."""
    if isinstance(node, dict):
        values = node.values()
    elif isinstance(node, tuple):
        values = node
    else:
        values = []
        for name, value in node.__dict__.items():
            if name == "source":
                if value is not None:
                    found.add(value)
            elif name != "sources":
                values.append(value)
    for value in values:
        nested = _NESTED.get(type(value))
        if nested is None:
            nested = _NESTED[type(value)] = issubclass(type(value), (BaseModel, dict, tuple))
        if nested:
            _collect_source_keys(value, found)


# Whether values of a type can hold sources, by type: isinstance() against a pydantic model class
# is a Python-level call (its metaclass overrides __instancecheck__), made for every value walked.
_NESTED: dict[type, bool] = {}


def _source_keys(node: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, BaseModel):
        for name, value in node.__dict__.items():
            if value is None or isinstance(value, (bool, Decimal, dt.date)) or name == "sources":
                continue
            if name == "source":
                yield path or name, value
            elif not isinstance(value, str):
                yield from _source_keys(value, f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _source_keys(value, f"{path}.{key}")
    elif isinstance(node, tuple):
        for index, value in enumerate(node):
            yield from _source_keys(value, f"{path}[{index}]")

