"""Readings of the rule text where it leaves a choice open.

The primary reading is the one industry and BIS examples use; each alternative answers one open
question of ../shared/reference/regulation.md section 10. The engine computes all of them so a
chip whose classification depends on the reading can be flagged instead of silently decided.
"""

from __future__ import annotations

from enum import StrEnum


class Reading(StrEnum):
    PRIMARY = "primary"
    TF32_19_BITS = "tf32-19-bits"
    FP6_AT_FP4_RATE = "fp6-at-fp4-rate"
    CONCURRENT_UNITS_SUMMED = "concurrent-units-summed"
    IO_DIES_EXCLUDED = "io-dies-excluded"
    CPU_BASE_CLOCK = "cpu-base-clock"
    CPU_MAX_TURBO = "cpu-max-turbo"


READING_DESCRIPTIONS: dict[Reading, str] = {
    Reading.PRIMARY: (
        "The highest TPP of any rated figure (unit and precision; TN 2 item 2); TF32 at 32 bits; "
        "FP6 at its listed rate; every non-planar logic die, I/O dies included, in the applicable "
        "area (TN 2 item 4, literally); a CPU's cores at its all-core turbo clock where the maker publishes "
        "one, else at its maximum turbo (an upper bound)"
    ),
    Reading.TF32_19_BITS: "As primary, but TF32 counted at its 19 significant multiplier bits",
    Reading.FP6_AT_FP4_RATE: (
        "As primary, but a unit that runs FP6 is credited at its FP4 rate where that is higher "
        "(FP6 operands issued through the FP4 datapath)"
    ),
    Reading.CONCURRENT_UNITS_SUMMED: (
        "Each processing unit at its own best precision, summed over units that can run "
        "concurrently (TN 2 item 1.d read as aggregating per-unit maxima)"
    ),
    Reading.IO_DIES_EXCLUDED: (
        "As primary, but I/O dies left out of the applicable die area (only compute logic dies)"
    ),
    Reading.CPU_BASE_CLOCK: "As primary, but a CPU's rates taken at its base clock (the clock the maker guarantees)",
    Reading.CPU_MAX_TURBO: (
        "As primary, but a CPU's rates taken with every core at its maximum (single-core) turbo clock"
    ),
}

# Why the primary reading takes a CPU at its all-core turbo clock. TN 2 item 1.a makes 'MacTOPS' "the
# theoretical peak", item 2 "its maximum value theoretically possible ... the highest value the
# manufacturer claims", and item 1.d aggregates over all processing units, which on a CPU are all
# its cores at once. The highest clock a maker rates all cores to hold together is the all-core
# turbo (Intel ARK "All-core Turbo Frequency", AMD "All Core Boost Speed"). Item 2's "maximum value
# theoretically possible" could be read as every core at the maximum turbo, but that clock is rated
# for one or a few cores only, so it is the cpu-max-turbo reading, not the primary; the base clock
# is a guaranteed floor, not a peak (cpu-base-clock).
# Intel runs AMX and AVX-512 work at lower turbo clocks than the ARK all-core figure (reported: up to
# 700 MHz lower under AMX on Sapphire Rapids, elchapuzasinformatico.com, 2023-01), so taking the ARK
# figure can only overstate a rate: it fails closed.

ALTERNATIVES: tuple[Reading, ...] = tuple(r for r in Reading if r is not Reading.PRIMARY)
