"""The closed vocabulary of conditions a rule edition may use: each predicate is one registered object.

A ``Predicate`` carries everything any part of tppcalc needs to know about a condition, so adding
one is this one ``register`` call (or one module that makes it) and nothing else:

- ``scalar``: the three-valued answer (YES, NO, UNKNOWN) for a chip's metrics under one reading and
  a threshold from the edition data; UNKNOWN arises only from missing data, and the classifier
  carries it into "undetermined" rather than guessing;
- ``value``: the chip's figure behind it, shown with the checks of a classification;
- ``vector``: the same answer for a chunk of batch rows, over the ``Columns`` the batch engine hands
  it (so numpy is imported only by the batch engine, never here);
- ``label``/``symbol`` (or ``words`` for a flag): its wording, for explanations (``describe``);
- ``chart``: where it bounds a paragraph on the TPP x performance-density chart, or that it keeps a
  paragraph off the chart.

A test checks that the names used by the edition files and the names registered here are the same
set; the edition loader refuses a name that is not registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from tppcalc.core.exact import format_number
from tppcalc.core.metrics import Comparison, Metrics, ReadingMetrics

YES, NO, UNKNOWN = Comparison.YES, Comparison.NO, Comparison.UNKNOWN

Scalar = Callable[[Metrics, ReadingMetrics, Decimal | None], Comparison]


class Columns(Protocol):
    """What a vectorised predicate may ask of a chunk of batch rows; each answer is one array of
    NO/UNKNOWN/YES codes, UNKNOWN where the row does not give the figure."""

    def at_least(self, figure: str, line: Decimal) -> Any: ...
    def above(self, figure: str, line: Decimal) -> Any: ...
    def flag(self, figure: str) -> Any: ...
    def kind_is(self, kind: str) -> Any: ...
    def negate(self, answers: Any) -> Any: ...


Vector = Callable[[Columns, Decimal | None], Any]

# Where a predicate bounds a paragraph on the chart: (axis, side); "label" writes it into the
# region's label; "not drawn" keeps the paragraph off the chart (it is about another kind of item).
ChartPlace = tuple[Literal["tpp", "density"], Literal["low", "high"]] | Literal["label", "not drawn"]

_NO_VALUE = object()


@dataclass(frozen=True, slots=True)
class Predicate:
    name: str
    scalar: Scalar
    value: Callable[[Metrics, ReadingMetrics], object]
    vector: Vector
    figure: str            # the figure it reads: "tpp", "density", "io", "dram", "hbm", "datacenter", "kind"
    missing: str           # what an UNKNOWN answer says is missing ("TPP", "I/O rate", ...)
    label: str = ""        # a threshold predicate's figure in words ("TPP")
    symbol: str = ""       # its comparison (">=", "<", ">"); empty for a flag
    words: str = ""        # a flag's meaning ("designed or marketed for datacenters")
    chart: ChartPlace = "label"

    @property
    def takes_threshold(self) -> bool:
        return not self.words

    def describe(self, threshold=None, value=_NO_VALUE) -> str:
        """The condition in words, with the chip's value when one is given ("TPP 15,832 >= 4,800")."""
        if not self.takes_threshold:
            return self.words + (" (unknown)" if value is None else "")
        limit = format_number(Decimal(str(threshold)))
        if value is _NO_VALUE:
            return f"{self.label} {self.symbol} {limit}"
        shown = "unknown" if value is None else format_number(Decimal(str(value)))
        return f"{self.label} {shown} {self.symbol} {limit}"


PREDICATES: dict[str, Predicate] = {}
# Each registered predicate's scalar evaluation by name: the classifier's inner loop calls these
# straight from a dict (an attribute lookup per condition costs ~3 % of a warm classify()).
SCALARS: dict[str, Scalar] = {}


def register(predicate: Predicate) -> Predicate:
    """Add a predicate to the vocabulary; a name is defined once (a second definition is refused)."""
    if predicate.name in PREDICATES:
        raise ValueError(f"predicate {predicate.name!r} is already registered")
    PREDICATES[predicate.name] = predicate
    SCALARS[predicate.name] = predicate.scalar
    return predicate


def unregister(name: str) -> None:
    """Remove a predicate (for tests that register a toy one)."""
    del PREDICATES[name], SCALARS[name]


def describe_condition(name: str, threshold, value=_NO_VALUE) -> str:
    """A condition in words, with the chip's value when one is given ("TPP 15,832 >= 4,800")."""
    return PREDICATES[name].describe(threshold, value)


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


def _hbm_above(m: Metrics, r: ReadingMetrics, v: Decimal) -> Comparison:
    density = m.hbm_bandwidth_density_gbps_per_mm2
    return UNKNOWN if density is None else YES if density > v else NO


# ---- the vocabulary of the editions shipped -------------------------------------------------------

_TPP = {"figure": "tpp", "missing": "TPP", "label": "TPP"}
_DENSITY = {"figure": "density", "missing": "performance density", "label": "performance density"}
_DATACENTER = {"figure": "datacenter", "missing": "datacenter use"}

register(Predicate("tpp_at_least", lambda m, r, v: r.tpp_at_least(v), lambda m, r: r.tpp,
                   lambda cols, v: cols.at_least("tpp", v), symbol=">=", chart=("tpp", "low"), **_TPP))
register(Predicate("tpp_below", lambda m, r, v: _negate(r.tpp_at_least(v)), lambda m, r: r.tpp,
                   lambda cols, v: cols.negate(cols.at_least("tpp", v)), symbol="<", chart=("tpp", "high"), **_TPP))
register(Predicate("density_at_least", lambda m, r, v: r.density_at_least(v), lambda m, r: r.performance_density,
                   lambda cols, v: cols.at_least("density", v), symbol=">=", chart=("density", "low"), **_DENSITY))
register(Predicate("density_below", lambda m, r, v: _negate(r.density_at_least(v)),
                   lambda m, r: r.performance_density, lambda cols, v: cols.negate(cols.at_least("density", v)),
                   symbol="<", chart=("density", "high"), **_DENSITY))
register(Predicate("io_at_least", lambda m, r, v: _at_least(m.io_bidir_gbps, v), lambda m, r: m.io_bidir_gbps,
                   lambda cols, v: cols.at_least("io", v), figure="io", missing="I/O rate", label="I/O rate",
                   symbol=">="))
register(Predicate("dram_bandwidth_below", lambda m, r, v: _negate(_at_least(m.dram_bandwidth_gbps, v)),
                   lambda m, r: m.dram_bandwidth_gbps, lambda cols, v: cols.negate(cols.at_least("dram", v)),
                   figure="dram", missing="DRAM bandwidth", label="DRAM bandwidth", symbol="<"))
register(Predicate("hbm_density_above", _hbm_above, lambda m, r: m.hbm_bandwidth_density_gbps_per_mm2,
                   lambda cols, v: cols.above("hbm", v), figure="hbm", missing="HBM bandwidth density",
                   label="HBM bandwidth density", symbol=">", chart="not drawn"))
register(Predicate("datacenter", lambda m, r, v: _flag(m.datacenter, True), lambda m, r: m.datacenter,
                   lambda cols, v: cols.flag("datacenter"), words="designed or marketed for datacenters",
                   **_DATACENTER))
register(Predicate("not_datacenter", lambda m, r, v: _flag(m.datacenter, False),
                   lambda m, r: None if m.datacenter is None else not m.datacenter,
                   lambda cols, v: cols.negate(cols.flag("datacenter")),
                   words="not designed or marketed for datacenters", **_DATACENTER))
register(Predicate("memory_item", lambda m, r, v: YES if m.kind == "memory" else NO, lambda m, r: m.kind == "memory",
                   lambda cols, v: cols.kind_is("memory"), figure="kind", missing="kind", words="a memory item",
                   chart="not drawn"))


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
