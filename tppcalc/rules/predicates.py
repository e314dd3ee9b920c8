"""The closed vocabulary of conditions a rule edition may use, implemented here and only here.

Each predicate takes a chip's metrics under one reading and a threshold from the edition data and
answers YES, NO or UNKNOWN. UNKNOWN arises only from missing data, and the classifier carries it
into "undetermined" rather than guessing. A test checks that the names used by the edition files
and the names defined here are the same set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from tppcalc.metrics import Comparison, Metrics, ReadingMetrics

YES, NO, UNKNOWN = Comparison.YES, Comparison.NO, Comparison.UNKNOWN

Predicate = Callable[[Metrics, ReadingMetrics, Decimal | None], Comparison]


def _negate(c: Comparison) -> Comparison:
    # Identity tests, not a dict: an Enum member's hash is a Python-level call in 3.11.
    return NO if c is YES else YES if c is NO else UNKNOWN


def _at_least(value: Decimal | None, line: Decimal) -> Comparison:
    if value is None:
        return UNKNOWN
    return YES if value >= line else NO


def _flag(value: bool | None, wanted: bool) -> Comparison:
    if value is None:
        return UNKNOWN
    return YES if value is wanted else NO


PREDICATES: dict[str, Predicate] = {
    "tpp_at_least": lambda m, r, v: r.tpp_at_least(v),
    "tpp_below": lambda m, r, v: _negate(r.tpp_at_least(v)),
    "density_at_least": lambda m, r, v: r.density_at_least(v),
    "density_below": lambda m, r, v: _negate(r.density_at_least(v)),
    "io_at_least": lambda m, r, v: _at_least(m.io_bidir_gbps, v),
    "dram_bandwidth_below": lambda m, r, v: _negate(_at_least(m.dram_bandwidth_gbps, v)),
    "hbm_density_above": lambda m, r, v: (
        UNKNOWN if m.hbm_bandwidth_density_gbps_per_mm2 is None
        else YES if m.hbm_bandwidth_density_gbps_per_mm2 > v else NO),
    "datacenter": lambda m, r, v: _flag(m.datacenter, True),
    "not_datacenter": lambda m, r, v: _flag(m.datacenter, False),
    "memory_item": lambda m, r, v: YES if m.kind == "memory" else NO,
}

# Predicates that take no threshold.
FLAGS = frozenset({"datacenter", "not_datacenter", "memory_item"})


def all_of(results: Iterable[Comparison]) -> Comparison:
    """Three-valued AND: NO wins, then UNKNOWN."""
    seen_unknown = False
    for result in results:
        if result is NO:
            return NO
        if result is UNKNOWN:
            seen_unknown = True
    return UNKNOWN if seen_unknown else YES


def negate(result: Comparison) -> Comparison:
    return _negate(result)
