"""The metric engine: ChipSpec -> Metrics, exactly, under every reading of the rule text.

TPP (3A090 Technical Note 2): 2 x MacTOPS x bit length, where a datasheet's dense TFLOPS/TOPS is
already 2 x MacTOPS; the highest value over precisions is the one evaluated. Performance density is
TPP over the 'applicable die area', the area of all logic dies on non-planar nodes.

Unknown inputs never become zero. Each quantity is carried as bounds: ``low`` is what the known
figures prove, ``high`` is ``None`` when an unknown could make it arbitrarily large. A quantity is
exact (its plain field set) only when both bounds meet. Classification reads the bounds, which is
how "density unknown" stays "3A090.a, 3A090.b or outside" instead of "not controlled".
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import NamedTuple

from tppcalc.exact import EXACT, ratio
from tppcalc.precision import PRECISIONS, TF32_SIGNIFICANT_BITS, Precision
from tppcalc.readings import Reading
from tppcalc.spec import (
    ChipSpec,
    DieRole,
    Kind,
    ProcessingUnit,
    Sourced,
    TransistorArchitecture,
)
from tppcalc.thresholds import DENSITY_LINES, H100_EQUIVALENT_TPP, TPP_LINES

ZERO = Decimal(0)


class Bounds(NamedTuple):
    """``low <= true value <= high``; ``high is None`` means no upper bound is known."""

    low: Decimal
    high: Decimal | None

    @property
    def exact(self) -> Decimal | None:
        return self.low if self.high is not None and self.low == self.high else None


class Comparison(Enum):
    """A tri-state answer to "is the value at least the line?" when the value is a bound."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ReadingMetrics:
    """TPP and applicable die area under one reading; density is their exact quotient."""

    tpp_bounds: Bounds
    governing_precision: Precision | None
    area_bounds: Bounds

    @property
    def tpp(self) -> Decimal | None:
        return self.tpp_bounds.exact

    @property
    def applicable_die_area_mm2(self) -> Decimal | None:
        return self.area_bounds.exact

    @property
    def performance_density(self) -> Fraction | None:
        """Exact TPP / area; None when either is unknown or no non-planar logic die exists."""
        tpp, area = self.tpp, self.applicable_die_area_mm2
        if tpp is None or not area:
            return None
        return ratio(tpp, area)

    @property
    def density_bounds(self) -> tuple[Fraction, Fraction | None]:
        """Fewest operations over the most area, most operations over the least."""
        (tpp_low, tpp_high), (area_low, area_high) = self.tpp_bounds, self.area_bounds
        low = Fraction(0) if not area_high else ratio(tpp_low, area_high)
        high = None if tpp_high is None or not area_low else ratio(tpp_high, area_low)
        return low, high

    def tpp_at_least(self, line: Decimal) -> Comparison:
        low, high = self.tpp_bounds
        if low >= line:
            return Comparison.YES
        return Comparison.NO if high is not None and high < line else Comparison.UNKNOWN

    def density_at_least(self, line: Decimal) -> Comparison:
        """Compare TPP / area with ``line`` by cross-multiplying: exact, no division."""
        (tpp_low, tpp_high), (area_low, area_high) = self.tpp_bounds, self.area_bounds
        if area_high and tpp_low >= EXACT.multiply(line, area_high):
            return Comparison.YES
        if tpp_high is not None and area_low and tpp_high < EXACT.multiply(line, area_low):
            return Comparison.NO
        return Comparison.UNKNOWN


@dataclass(frozen=True, slots=True)
class Headroom:
    """Distance from the chip to the next 3A090 line above it (None: above every line)."""

    tpp_next_line: Decimal | None
    tpp_to_next_line: Decimal | None
    density_next_line: Decimal | None
    density_to_next_line: Fraction | None


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every figure the rules use, for one chip, under the primary reading and the alternatives.

    ``readings`` maps each reading to its result; readings that cannot differ for this chip share
    one result object. A plain frozen dataclass, not a pydantic model: nothing here is validated
    (the engine builds it from a validated ChipSpec), and a dataclass costs a quarter of
    ``model_construct`` per chip and nothing at import.
    """

    chip_id: str
    kind: str
    readings: dict[Reading, ReadingMetrics]
    tpp_by_precision: dict[Precision, Decimal | None]
    datacenter: bool | None
    io_bidir_gbps: Decimal | None
    dram_bandwidth_gbps: Decimal | None
    hbm_bandwidth_density_gbps_per_mm2: Fraction | None
    transistor_count: Decimal | None
    unknowns: tuple[str, ...]

    @property
    def primary(self) -> ReadingMetrics:
        return self.readings[_PRIMARY]

    # The primary reading's figures, by the names the rules and the CLI use.
    @property
    def tpp(self) -> Decimal | None:
        return self.primary.tpp

    @property
    def governing_precision(self) -> Precision | None:
        return self.primary.governing_precision

    @property
    def applicable_die_area_mm2(self) -> Decimal | None:
        return self.primary.applicable_die_area_mm2

    @property
    def performance_density(self) -> Fraction | None:
        return self.primary.performance_density

    @property
    def h100_equivalents(self) -> Fraction | None:
        tpp = self.tpp
        return None if tpp is None else h100_equivalents(tpp)

    @property
    def headroom(self) -> Headroom | None:
        return _headroom(self.primary)


def h100_equivalents(tpp: Decimal) -> Fraction:
    """A TPP in H100-equivalents (the H100 SXM's TPP, ``H100_EQUIVALENT_TPP``), exactly: for a
    chip's metrics and for fleet totals alike."""
    return ratio(tpp, H100_EQUIVALENT_TPP)


class _Unit(NamedTuple):
    """One processing unit's rated TPPs (rate x bits, TF32 at 32; None where the source gives no
    figure) and its own best rating. Every reading is derived from these tables."""

    tpp: dict[Precision, Decimal | None]
    best: Precision | None  # the unit's highest rated precision, the first one on a tie
    best_tpp: Decimal
    complete: bool  # every rating of the unit is known


# Per precision: the TPP known so far (a lower bound) and whether any unit's figure is missing.
_Totals = tuple[dict[Precision, Decimal], set[Precision]]
# Bit lengths as Decimals: the context then multiplies two Decimals and converts nothing.
_BITS = {p: Decimal(info.bits) for p, info in PRECISIONS.items()}
# Enum members read once: `Class.MEMBER` costs ~0.2 µs in Python 3.11, and the engine reads them
# for every die and every reading.
_PRIMARY = Reading.PRIMARY
_MEMORY_DIE, _IO_DIE, _PLANAR = DieRole.MEMORY, DieRole.IO, TransistorArchitecture.PLANAR
_TF32, _FP6, _FP4 = Precision.TF32, Precision.FP6, Precision.FP4
_CPU = Kind.CPU


def compute_metrics(spec: ChipSpec) -> Metrics:
    """All metrics of one chip. Pure, exact, and never raises on missing data."""
    unknowns: list[str] = []
    units = [_unit(unit, i, unknowns) for i, unit in enumerate(spec.processing_units)]
    area = _applicable_area(spec, include_io=True, unknowns=unknowns)
    totals = _best_per_precision(units)
    primary = _highest(totals, area)

    readings = {_PRIMARY: primary}
    for reading, derive in _ALTERNATIVES:
        readings[reading] = derive(spec, units, totals, area, primary)

    memory = spec.memory
    if memory is None:
        unknowns.append("memory: not given")
    dram = _known(memory.dram_bandwidth_gbps, "memory.dram_bandwidth_gbps", unknowns) if memory else None
    io = _known(spec.io_bidir_gbps, "io_bidir_gbps", unknowns)
    transistors = _known(spec.transistor_count, "transistor_count", unknowns)
    datacenter = _known(spec.datacenter, "datacenter", unknowns)
    known, incomplete = totals
    return Metrics(
        chip_id=spec.id,
        kind=spec.kind.value,
        readings=readings,
        # ``known`` is built afresh for each chip and never changed after, so it can be shared.
        tpp_by_precision={p: None if p in incomplete else v for p, v in known.items()} if incomplete else known,
        datacenter=datacenter,
        io_bidir_gbps=io,
        dram_bandwidth_gbps=dram,
        hbm_bandwidth_density_gbps_per_mm2=_hbm_density(spec, unknowns),
        transistor_count=transistors,
        unknowns=tuple(unknowns),
    )


def _known(field: Sourced | None, name: str, unknowns: list[str]):
    if field is None:
        unknowns.append(f"{name}: not given")
        return None
    if field.value is None:
        unknowns.append(f"{name}: {field.unknown}")
    return field.value


def _unit(unit: ProcessingUnit, index: int, unknowns: list[str]) -> _Unit:
    table: dict[Precision, Decimal | None] = {}
    best, best_tpp, complete = None, ZERO, True
    for precision, figure in unit.dense_tops.items():
        rate = figure.value
        if rate is None:
            table[precision] = None
            complete = False
            unknowns.append(f"processing_units[{index}].dense_tops.{precision}: {figure.unknown}")
            continue
        tpp = table[precision] = EXACT.multiply(rate, _BITS[precision])
        if best is None or tpp > best_tpp:
            best, best_tpp = precision, tpp
    return _Unit(table, best, best_tpp, complete)


def _best_per_precision(units: list[_Unit]) -> _Totals:
    """Each precision's highest rated TPP over the units that run it.

    Units are not added here: a datasheet rates its matrix and vector units separately and they do
    not reach peak together, so the figure the rule evaluates is the highest single rating (TN 2
    item 2). Adding units is the ``concurrent-units-summed`` alternative.
    """
    if len(units) == 1:
        table = units[0].tpp
        return ({p: ZERO if v is None else v for p, v in table.items()},
                {p for p, v in table.items() if v is None})
    known: dict[Precision, Decimal] = {}
    incomplete: set[Precision] = set()
    for unit in units:
        for precision, tpp in unit.tpp.items():
            if tpp is None:
                incomplete.add(precision)
                known.setdefault(precision, ZERO)
            elif tpp > known.get(precision, ZERO):
                known[precision] = tpp
    return known, incomplete


def _highest(totals: _Totals, area: Bounds) -> ReadingMetrics:
    """The highest TPP over precisions (TN 2 item 2) and the precision that gives it."""
    known, incomplete = totals
    best, best_tpp = None, ZERO
    for precision, tpp in known.items():
        if best is None or tpp > best_tpp:
            best, best_tpp = precision, tpp
    if incomplete:
        return ReadingMetrics(Bounds(best_tpp, None), None, area)
    return ReadingMetrics(Bounds(best_tpp, best_tpp), best, area)


def _tf32_at_19_bits(spec, units, totals: _Totals, area: Bounds, primary: ReadingMetrics) -> ReadingMetrics:
    known, incomplete = totals
    # Fewer TF32 bits can only lower TF32's TPP: it matters only where TF32 governs or may.
    if _TF32 not in known or primary.governing_precision not in (None, _TF32):
        return primary
    at_19 = EXACT.divide(EXACT.multiply(known[_TF32], TF32_SIGNIFICANT_BITS), _BITS[_TF32])
    return _highest(({**known, _TF32: at_19}, incomplete), area)


def _fp6_at_fp4_rate(spec, units: list[_Unit], totals: _Totals, area: Bounds,
                     primary: ReadingMetrics) -> ReadingMetrics:
    """Units that run FP6 credited at their FP4 rate where that is higher (6/4 of FP4's TPP)."""
    fp6, fp4 = _FP6, _FP4
    boosted_best, changed = ZERO, False
    for unit in units:
        table = unit.tpp
        if fp6 not in table:
            continue
        own, via_fp4 = table[fp6], table.get(fp4)
        if via_fp4 is not None:
            via_fp4 = EXACT.divide(EXACT.multiply(via_fp4, _BITS[fp6]), _BITS[fp4])
        best = max((v for v in (own, via_fp4) if v is not None), default=ZERO)
        changed = changed or best != (own or ZERO)
        boosted_best = max(boosted_best, best)
    if not changed:
        return primary
    return _highest(({**totals[0], fp6: boosted_best}, set(totals[1])), area)


def _units_summed(spec, units: list[_Unit], totals, area: Bounds, primary: ReadingMetrics) -> ReadingMetrics:
    """Each unit at its own best precision, the units' TPPs added (one unit: the primary result)."""
    if len(units) == 1:
        return primary
    total, complete, best, best_tpp = ZERO, True, None, ZERO
    for unit in units:
        total = EXACT.add(total, unit.best_tpp)
        complete = complete and unit.complete
        if unit.best_tpp > best_tpp:
            best, best_tpp = unit.best, unit.best_tpp
    if complete:
        return ReadingMetrics(Bounds(total, total), best, area)
    return ReadingMetrics(Bounds(total, None), None, area)


def _io_dies_excluded(spec, units, totals, area, primary: ReadingMetrics) -> ReadingMetrics:
    """I/O dies left out of the applicable area; the primary result where the chip has none."""
    if not any(die.role is _IO_DIE for die in spec.dies):
        return primary
    return ReadingMetrics(primary.tpp_bounds, primary.governing_precision,
                          _applicable_area(spec, include_io=False, unknowns=None))


# A TPP rescaled by a ratio of clocks that does not divide exactly is rounded outwards: its low
# bound down and its high bound up, so a bound never claims more than the arithmetic proves.
_TRAPS = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
_ROUND_DOWN = decimal.Context(prec=60, rounding=decimal.ROUND_FLOOR, traps=_TRAPS)
_ROUND_UP = decimal.Context(prec=60, rounding=decimal.ROUND_CEILING, traps=_TRAPS)


def _cpu_clocks(spec: ChipSpec) -> tuple[Decimal | None, Decimal | None, Decimal | None, bool] | None:
    """(base, rated, maximum turbo, whether the rated clock is stated) of a CPU whose rates can be
    rescaled, or None: not a CPU, or its rates are published peaks that name no clock (the rule
    takes "the highest value the manufacturer claims", TN 2 item 2)."""
    clocks = spec.clocks
    if spec.kind is not _CPU or clocks is None:
        return None
    base, boost = (f.value if f is not None else None for f in (clocks.base_mhz, clocks.boost_mhz))
    if clocks.rates_at is not None:
        return base, getattr(clocks, clocks.rates_at.value).value, boost, True
    if base is None or boost is None:
        return None
    return base, None, boost, False  # derived at some clock between base and maximum turbo


def _at_clock(primary: ReadingMetrics, target: Decimal, rated_low: Decimal, rated_high: Decimal) -> ReadingMetrics:
    """The primary result with every rate moved from a rated clock in [rated_low, rated_high] to
    ``target``: TPP scales with the clock (cores x clock x operations per cycle)."""
    low, high = primary.tpp_bounds
    new_low = _ROUND_DOWN.divide(_ROUND_DOWN.multiply(low, target), rated_high)
    new_high = None if high is None else _ROUND_UP.divide(_ROUND_UP.multiply(high, target), rated_low)
    return _with_tpp(primary, new_low, new_high)


def _with_tpp(primary: ReadingMetrics, low: Decimal, high: Decimal | None) -> ReadingMetrics:
    """The primary result with other TPP bounds; the primary object itself where they are the same,
    so the classifier walks it once."""
    if (low, high) == primary.tpp_bounds:
        return primary
    return ReadingMetrics(Bounds(low, high), primary.governing_precision, primary.area_bounds)


def _cpu_base_clock(spec: ChipSpec, units, totals, area, primary: ReadingMetrics) -> ReadingMetrics:
    """A CPU's rates at its base clock; the primary result for any other chip."""
    clocks = _cpu_clocks(spec)
    if clocks is None:
        return primary
    base, rated, boost, stated = clocks
    if not stated:
        return _at_clock(primary, base, base, boost)
    if base is None:  # somewhere below the rated clock: at most the primary TPP
        return _with_tpp(primary, ZERO, primary.tpp_bounds.high)
    return _at_clock(primary, base, rated, rated)


def _cpu_max_turbo(spec: ChipSpec, units, totals, area, primary: ReadingMetrics) -> ReadingMetrics:
    """Every core of a CPU at its maximum turbo clock; the primary result for any other chip."""
    clocks = _cpu_clocks(spec)
    if clocks is None:
        return primary
    base, rated, boost, stated = clocks
    if not stated:
        return _at_clock(primary, boost, base, boost)
    if boost is None:  # somewhere above the rated clock: at least the primary TPP, no upper bound
        return _with_tpp(primary, primary.tpp_bounds.low, None)
    return _at_clock(primary, boost, rated, rated)


# Each alternative reading (readings.ALTERNATIVES, in order; a test checks) and the function that
# derives it from the shared tables. Every one takes (spec, units, totals, area, primary) and
# returns the primary result itself where the reading cannot differ for the chip, so the
# classifier evaluates it once.
_ALTERNATIVES = (
    (Reading.TF32_19_BITS, _tf32_at_19_bits),
    (Reading.FP6_AT_FP4_RATE, _fp6_at_fp4_rate),
    (Reading.CONCURRENT_UNITS_SUMMED, _units_summed),
    (Reading.IO_DIES_EXCLUDED, _io_dies_excluded),
    (Reading.CPU_BASE_CLOCK, _cpu_base_clock),
    (Reading.CPU_MAX_TURBO, _cpu_max_turbo),
)


def _applicable_area(spec: ChipSpec, *, include_io: bool, unknowns: list[str] | None) -> Bounds:
    """Sum of non-planar logic die areas (TN 2 item 4); memory dies never count."""
    if not spec.dies:
        if unknowns is not None:
            unknowns.append("dies: die list not given, applicable die area unknown")
        return Bounds(ZERO, None)
    low, complete = ZERO, True
    for index, die in enumerate(spec.dies):
        role = die.role
        if role is _MEMORY_DIE or (role is _IO_DIE and not include_io):
            continue
        arch = die.transistor_architecture
        if arch is _PLANAR:
            continue
        if arch is None:
            complete = False
            if unknowns is not None:
                unknowns.append(f"dies[{index}] ({die.name}).transistor_architecture: unknown, area may apply")
            continue
        if die.area_mm2.value is None:
            complete = False
            if unknowns is not None:
                unknowns.append(f"dies[{index}] ({die.name}).area_mm2: {die.area_mm2.unknown}")
            continue
        low = EXACT.add(low, EXACT.multiply(die.area_mm2.value, die.count))
    return Bounds(low, low if complete else None)


def _hbm_density(spec: ChipSpec, unknowns: list[str]) -> Fraction | None:
    """Highest memory bandwidth density over the HBM stacks (3A090.c Technical Note 1)."""
    if spec.memory is None or not spec.memory.hbm_stacks:
        return None
    best = None
    for index, stack in enumerate(spec.memory.hbm_stacks):
        bandwidth, area = stack.bandwidth_gbps.value, stack.package_area_mm2.value
        if bandwidth is None or area is None:
            unknowns.append(f"memory.hbm_stacks[{index}]: bandwidth or package area unknown")
            return None
        density = ratio(bandwidth, area)
        best = density if best is None else max(best, density)
    return best


def _headroom(primary: ReadingMetrics) -> Headroom | None:
    tpp, density = primary.tpp, primary.performance_density
    if tpp is None:
        return None
    tpp_line = next((line for line in TPP_LINES if line > tpp), None)
    density_line = None
    if density is not None:
        density_line = next((line for line in DENSITY_LINES if Fraction(line) > density), None)
    return Headroom(
        tpp_next_line=tpp_line,
        tpp_to_next_line=None if tpp_line is None else EXACT.subtract(tpp_line, tpp),
        density_next_line=density_line,
        density_to_next_line=None if density_line is None else Fraction(density_line) - density,
    )
