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

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from tppcalc.exact import EXACT
from tppcalc.precision import PRECISIONS, TF32_SIGNIFICANT_BITS, Precision
from tppcalc.readings import ALTERNATIVES, Reading
from tppcalc.spec import ChipSpec, DieRole, Sourced, TransistorArchitecture
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
        return Fraction(tpp) / Fraction(area)

    @property
    def density_bounds(self) -> tuple[Fraction, Fraction | None]:
        """Fewest operations over the most area, most operations over the least."""
        (tpp_low, tpp_high), (area_low, area_high) = self.tpp_bounds, self.area_bounds
        low = Fraction(0) if not area_high else Fraction(tpp_low) / Fraction(area_high)
        high = None if tpp_high is None or not area_low else Fraction(tpp_high) / Fraction(area_low)
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


class Metrics(BaseModel):
    """Every figure the rules use, for one chip, under the primary reading and the alternatives.

    ``readings`` maps each reading to its result; readings that cannot differ for this chip share
    one result object.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    chip_id: str
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
        return self.readings[Reading.PRIMARY]

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
        return None if tpp is None else Fraction(tpp) / Fraction(H100_EQUIVALENT_TPP)

    @property
    def headroom(self) -> Headroom | None:
        return _headroom(self.primary)


# A unit's rate table: precision -> exact rate, or None where the source gives no figure.
_Rates = dict[Precision, Decimal | None]
_BITS = {p: info.bits for p, info in PRECISIONS.items()}
_TF32_BITS = _BITS[Precision.TF32]


def compute_metrics(spec: ChipSpec) -> Metrics:
    """All metrics of one chip. Pure, exact, and never raises on missing data."""
    unknowns: list[str] = []
    units = [_unit_rates(spec, i, unknowns) for i in range(len(spec.processing_units))]
    area = _applicable_area(spec, include_io=True, unknowns=unknowns)
    by_precision = _tpp_per_precision(units, tf32_bits=_TF32_BITS)
    primary = _reading(by_precision, area)

    readings = {Reading.PRIMARY: primary}
    for reading in ALTERNATIVES:
        readings[reading] = _alternative(reading, spec, units, by_precision, area, primary)

    memory = spec.memory
    if memory is None:
        unknowns.append("memory: not given")
    dram = _known(memory.dram_bandwidth_gbps, "memory.dram_bandwidth_gbps", unknowns) if memory else None
    io = _known(spec.io_bidir_gbps, "io_bidir_gbps", unknowns)
    transistors = _known(spec.transistor_count, "transistor_count", unknowns)
    datacenter = _known(spec.datacenter, "datacenter", unknowns)
    return Metrics.model_construct(
        chip_id=spec.id,
        readings=readings,
        tpp_by_precision={p: b.exact for p, b in by_precision.items()},
        datacenter=datacenter,
        io_bidir_gbps=io,
        dram_bandwidth_gbps=dram,
        hbm_bandwidth_density_gbps_per_mm2=_hbm_density(spec, unknowns),
        transistor_count=transistors,
        unknowns=tuple(unknowns),
    )


def _alternative(reading, spec, units, by_precision, area, primary) -> ReadingMetrics:
    """One alternative reading; the primary result itself where the reading cannot differ."""
    if reading is Reading.TF32_19_BITS:
        # Fewer TF32 bits can only lower TF32's TPP: it matters only where TF32 governs.
        if Precision.TF32 not in by_precision or primary.governing_precision not in (None, Precision.TF32):
            return primary
        return _reading(_tpp_per_precision(units, tf32_bits=TF32_SIGNIFICANT_BITS), area)
    if reading is Reading.FP6_AT_FP4_RATE:
        boosted = [_fp6_at_fp4_rate(rates) for rates in units]
        if all(b is u for b, u in zip(boosted, units)):
            return primary
        return _reading(_tpp_per_precision(boosted, tf32_bits=_TF32_BITS), area)
    if reading is Reading.CONCURRENT_UNITS_SUMMED:
        if len(units) == 1:
            return primary
        return _summed_units_reading(units, area)
    if reading is Reading.IO_DIES_EXCLUDED:
        if not any(die.role is DieRole.IO for die in spec.dies):
            return primary
        return ReadingMetrics(primary.tpp_bounds, primary.governing_precision,
                              _applicable_area(spec, include_io=False, unknowns=None))
    raise AssertionError(f"reading {reading} has no implementation")


def _known(field: Sourced | None, name: str, unknowns: list[str]):
    if field is None:
        unknowns.append(f"{name}: not given")
        return None
    if field.value is None:
        unknowns.append(f"{name}: {field.unknown}")
    return field.value


def _unit_rates(spec: ChipSpec, index: int, unknowns: list[str]) -> _Rates:
    unit = spec.processing_units[index]
    rates: _Rates = {}
    for precision, figure in unit.dense_tops.items():
        rates[precision] = figure.value
        if figure.value is None:
            unknowns.append(f"processing_units[{index}].dense_tops.{precision}: {figure.unknown}")
    return rates


def _fp6_at_fp4_rate(rates: _Rates) -> _Rates:
    fp6, fp4 = rates.get(Precision.FP6), rates.get(Precision.FP4)
    if Precision.FP6 not in rates or fp4 is None or (fp6 is not None and fp6 >= fp4):
        return rates
    return {**rates, Precision.FP6: fp4}


def _tpp_per_precision(units: list[_Rates], *, tf32_bits: int) -> dict[Precision, Bounds]:
    """For each precision: bit length x the rate summed over the units that run it."""
    known: dict[Precision, Decimal] = {}
    incomplete: set[Precision] = set()
    for rates in units:
        for precision, rate in rates.items():
            if rate is None:
                incomplete.add(precision)
                known.setdefault(precision, ZERO)
            elif precision in known:
                known[precision] = EXACT.add(known[precision], rate)
            else:
                known[precision] = rate
    result = {}
    for precision, total in known.items():
        bits = tf32_bits if precision is Precision.TF32 else _BITS[precision]
        low = EXACT.multiply(total, bits)
        result[precision] = Bounds(low, None if precision in incomplete else low)
    return result


def _reading(by_precision: dict[Precision, Bounds], area: Bounds) -> ReadingMetrics:
    """The highest TPP over precisions (TN 2 item 2) and the precision that gives it."""
    best, best_low, complete = None, ZERO, True
    for precision, (low, high) in by_precision.items():
        if best is None or low > best_low:
            best, best_low = precision, low
        if high is None:
            complete = False
    if complete:
        return ReadingMetrics(Bounds(best_low, best_low), best, area)
    return ReadingMetrics(Bounds(best_low, None), None, area)


def _summed_units_reading(units: list[_Rates], area: Bounds) -> ReadingMetrics:
    """Each unit at its own best precision, the units' TPPs added."""
    total, complete, best = ZERO, True, (None, ZERO)
    for rates in units:
        per_unit = _tpp_per_precision([rates], tf32_bits=_TF32_BITS)
        unit_best = max(per_unit, key=lambda p: per_unit[p].low)
        total = EXACT.add(total, per_unit[unit_best].low)
        complete = complete and all(b.high is not None for b in per_unit.values())
        if per_unit[unit_best].low > best[1]:
            best = (unit_best, per_unit[unit_best].low)
    governing = best[0] if complete else None
    return ReadingMetrics(Bounds(total, total if complete else None), governing, area)


def _applicable_area(spec: ChipSpec, *, include_io: bool, unknowns: list[str] | None) -> Bounds:
    """Sum of non-planar logic die areas (TN 2 item 4); memory dies never count."""
    if not spec.dies:
        if unknowns is not None:
            unknowns.append("dies: die list not given, applicable die area unknown")
        return Bounds(ZERO, None)
    low, complete = ZERO, True
    for index, die in enumerate(spec.dies):
        if die.role is DieRole.MEMORY or (die.role is DieRole.IO and not include_io):
            continue
        arch = die.transistor_architecture
        if arch is TransistorArchitecture.PLANAR:
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
        density = Fraction(bandwidth) / Fraction(area)
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
