"""Notices: what a user must see beside a licence answer that is not itself a licence line.

GP10 guidance on named chips, an import-tariff band a chip falls in, an is-informed letter that
names the chip or whose criteria it meets, a rule whose legal status is disputed, the date past
which the rule data is unverified. The rule data holds them (``notices`` and ``letters`` in an
edition); this module decides which apply to one chip, three-valued like the predicates: a bound
on a figure that is unknown gives UNKNOWN, and a notice that *may* apply is shown and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from tppcalc.core.metrics import Comparison, Metrics, ReadingMetrics
from tppcalc.decisions.rules.editions import Bound, Citation, Letter, NoticeRule
from tppcalc.decisions.rules.predicates import NO, UNKNOWN, YES

NoticeKind = Literal["guidance", "tariff", "letter", "rule", "deadline", "legal-status", "coverage"]


@dataclass(frozen=True, slots=True)
class Notice:
    id: str
    kind: NoticeKind
    text: str
    certain: bool  # False: a figure it depends on is unknown, so it may or may not apply
    citation: Citation


def _figure(metrics: Metrics, figure: str) -> Decimal | None:
    if figure == "dram":
        return metrics.dram_bandwidth_gbps
    if figure == "io":
        return metrics.io_bidir_gbps
    dram, io = metrics.dram_bandwidth_gbps, metrics.io_bidir_gbps  # dram_plus_io
    return None if dram is None or io is None else dram + io


def _in_bounds(low, high, bound: Bound) -> Comparison:
    """Whether a value known to lie in [low, high] (high None: no upper bound) meets ``bound``."""
    unknown = False
    if bound.at_least is not None:
        if high is not None and high < bound.at_least:
            return NO
        unknown |= low < bound.at_least
    if bound.above is not None:
        if high is not None and high <= bound.above:
            return NO
        unknown |= low <= bound.above
    if bound.at_most is not None:
        if low > bound.at_most:
            return NO
        unknown |= high is None or high > bound.at_most
    if bound.below is not None:
        if low >= bound.below:
            return NO
        unknown |= high is None or high >= bound.below
    return UNKNOWN if unknown else YES


def bound_holds(bound: Bound, metrics: Metrics, reading: ReadingMetrics) -> Comparison:
    if bound.figure == "tpp":
        low, high = reading.tpp_bounds
        return _in_bounds(low, high, bound)
    value = _figure(metrics, bound.figure)
    if value is None:
        return UNKNOWN
    return _in_bounds(value, value, bound)


def bounds_hold(bounds: list[Bound], metrics: Metrics, reading: ReadingMetrics) -> Comparison:
    """Three-valued AND (written out, without a generator: this runs for every classification)."""
    seen_unknown = False
    for bound in bounds:
        result = bound_holds(bound, metrics, reading)
        if result is NO:
            return NO
        seen_unknown |= result is UNKNOWN
    return UNKNOWN if seen_unknown else YES


def any_criterion(criteria: list[list[Bound]], metrics: Metrics, reading: ReadingMetrics) -> Comparison:
    """Three-valued OR over the criteria (each an all-of list of bounds)."""
    seen_unknown = False
    for criterion in criteria:
        result = bounds_hold(criterion, metrics, reading)
        if result is YES:
            return YES
        seen_unknown |= result is UNKNOWN
    return UNKNOWN if seen_unknown else NO


def _dated(rule: NoticeRule, day: dt.date) -> bool:
    return (rule.from_date is None or rule.from_date <= day) and (rule.until is None or day <= rule.until)


def notice_applies(rule: NoticeRule, metrics: Metrics, reading: ReadingMetrics, *, eccns: list[str], day: dt.date,
                   dest: str | None, hq: str | None, contains) -> Comparison:
    """Whether ``rule`` applies to this chip: every selector it gives must match. ``eccns`` are the
    outcomes still possible (a notice on an ECCN applies if any of them is that ECCN);
    ``contains(places, code, day)`` is the rules view's membership test."""
    if rule.chips and metrics.chip_id not in rule.chips:
        return NO
    if not _dated(rule, day):
        return NO
    if rule.eccns and not any(e in eccns for e in rule.eccns):
        return NO
    if (rule.needs_destination or rule.destinations is not None) and dest is None:
        return NO
    if rule.destinations is not None and not contains(rule.destinations, dest, day):
        return NO
    if rule.headquarters is not None and not contains(rule.headquarters, hq, day):
        return NO
    return bounds_hold(rule.when, metrics, reading) if rule.when else YES


def notice_from_rule(rule: NoticeRule, answer: Comparison) -> Notice:
    text = rule.text if answer is YES else "May apply (a figure it depends on is unknown): " + rule.text
    return Notice(rule.id, rule.kind, text, answer is YES, rule.citation)


@dataclass(frozen=True, slots=True)
class LetterFinding:
    """What one is-informed letter says about one chip to one place: ``required`` True (licence
    required), None (cannot be decided), or a notice only (``required`` False, ``notice`` set)."""

    letter: Letter
    required: bool | None
    reason: str
    notice: Notice


def letter_finding(letter: Letter, metrics: Metrics, reading: ReadingMetrics, *, day: dt.date, dest: str,
                   hq: str, contains) -> LetterFinding | None:
    """The letter's bearing on this chip, or None when it has none (before its date, another
    place, or a chip neither named nor meeting its criteria)."""
    if day < letter.date:
        return None
    to_place = contains(letter.destinations, dest, day)
    to_party = contains(letter.headquarters, hq, day) and dest != "US"
    if not (to_place or to_party):
        return None
    where = f"to {dest}" if to_place else f"for an end user headquartered in {hq}"
    named = metrics.chip_id in letter.products
    maker = metrics.chip_id.startswith(tuple(letter.vendor_prefixes))
    criteria = any_criterion(letter.criteria, metrics, reading) if letter.criteria else NO
    source = f"{letter.citation.title} <{letter.citation.url}>"
    if named:
        required: bool | None = True
        reason = (f"Is-informed letter of {letter.date} to {letter.recipient} names this product: licence "
                  f"required {where} ({letter.text}; {source}). The letter binds {letter.recipient}; another "
                  "exporter of the same product should treat it as required unless BIS says otherwise")
    elif criteria is NO:
        return None
    elif maker and criteria is YES:
        required = True
        reason = (f"Is-informed letter of {letter.date} to {letter.recipient}: this chip meets the disclosed "
                  f"criteria ({letter.criteria_source}; {letter.criteria_confidence}): licence required {where} "
                  f"({source})")
    elif maker:
        required = None
        reason = (f"Is-informed letter of {letter.date} to {letter.recipient}: whether this chip meets the disclosed "
                  f"criteria cannot be decided (a bandwidth figure is unknown; {letter.criteria_source}): licence "
                  f"{where} undetermined ({source})")
    elif criteria is UNKNOWN:
        return None  # another maker's chip with unknown figures: too weak a link to show
    else:
        text = (f"This chip {'meets' if criteria is YES else 'may meet'} the bandwidth criteria BIS disclosed to "
                f"{letter.recipient} in an is-informed letter of {letter.date} ({letter.criteria_source}). If "
                f"{letter.recipient} makes it, the letter requires a licence here (a chip given only by its figures names "
                "no maker). A letter binds only its recipient, but others may have received letters that were not "
                "made public.")
        return LetterFinding(letter, False, text, Notice(f"letter-{letter.id}", "letter", text, criteria is YES,
                                                         letter.citation))
    return LetterFinding(letter, required, reason, Notice(f"letter-{letter.id}", "letter", reason, required is True,
                                                          letter.citation))
