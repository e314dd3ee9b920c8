"""Classification: a chip's metrics x the rules in force x a destination -> ECCN, licence, why.

Each paragraph's conditions are evaluated three-valued (YES/NO/UNKNOWN) under every reading. Walking
the paragraphs in order, a YES settles the outcome, an UNKNOWN adds its ECCN to the outcomes still
possible and walks on, so missing data yields "3A090.a, 3A090.b or outside" and never "outside"
alone. The licence answer is definite only when every possible outcome gives the same answer,
and it is undetermined (None), never "not required", where a licence line cannot be decided (the
UAE's 3A090.a line in 2026), an is-informed letter's criteria cannot be checked, or the day is past
the date the rule data was checked through. Every reading carries its whole answer (ECCN, licence,
review policy), and ``notices`` carry what a user must see that is not a licence line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, computed_field

from tppcalc.arguments import chip_spec, day_of, place
from tppcalc.core.eccn import ControlOrder, Eccn
from tppcalc.core.exact import format_number
from tppcalc.core.metrics import Comparison, Metrics, ReadingMetrics, compute_metrics
from tppcalc.data.availability import AvailabilityTable, default_availability
from tppcalc.data.spec import ChipSpec
from tppcalc.decisions.rules.countries import CountryData
from tppcalc.decisions.rules.editions import Citation, Condition, Paragraph, RuleBook
from tppcalc.decisions.rules.in_force import OUTSIDE, RuleSet, rules_in_force
from tppcalc.decisions.rules.notices import Notice, letter_finding, notice_applies, notice_from_rule
from tppcalc.decisions.rules.predicates import NO, PREDICATES, SCALARS, UNKNOWN, YES, all_of, describe_condition, negate

Item = Literal["ic", "computer"]
__all__ = ["OUTSIDE", "Classification", "classify", "control_order", "describe_condition", "letter_signature"]

NEXT_STEPS = (
    "Not in 3A090/4A090: check the rest of the Commerce Control List (e.g. 3A001, 4A003 by APP, "
    "5A992 for encryption) and, if nothing applies, EAR99; end-use and end-user controls "
    "(Entity List, 744.23 supercomputer end use) apply regardless of the ECCN."
)


@dataclass(frozen=True, slots=True)
class ConditionCheck:
    predicate: str
    threshold: float | None
    value: float | bool | None
    result: Literal["yes", "no", "unknown"]


@dataclass(frozen=True, slots=True)
class ParagraphCheck:
    paragraph: str
    eccn: str
    result: Literal["yes", "no", "unknown"]
    excluded_by: str | None
    conditions: list[ConditionCheck]


@dataclass(frozen=True, slots=True)
class ExceptionOption:
    name: str
    id: str
    status: Literal["available", "available if the unknown conditions hold"]
    conditions: str
    citation: str


@dataclass(frozen=True, slots=True)
class PublishedEccn:
    """The ECCN the chip's maker publishes, beside the computed one. ``agrees`` is None when the
    computed ECCN is open and the published one is among its outcomes; a False is a finding to
    explain (another item, SKU, date or reading), not an error, and changes no answer."""

    value: str
    source: str
    agrees: bool | None
    finding: str


class Classification(BaseModel):
    """The answer to "what is this chip, and may it go there, then?"."""

    # classify() builds it with model_construct: its schema is built only when first dumped.
    model_config = ConfigDict(frozen=True, defer_build=True)

    chip_id: str
    item: Item
    as_of: dt.date
    edition: str
    edition_title: str
    edition_status: str
    overlays: list[str]
    destination: str | None
    headquarters: str | None
    headquarters_assumed: bool
    eccn: str | None
    paragraph: str | None
    undetermined: list[str] | None
    license_required: bool | None
    license_exceptions: list[ExceptionOption]
    review_policy: str | None
    review_conditions: str | None
    reading_sensitive: bool
    outcomes_by_reading: dict[str, list[str]]
    reasons: list[str]
    notices: list[Notice]
    citations: list[Citation]
    notes: list[str]
    published_eccn: PublishedEccn | None = None
    _context: tuple = PrivateAttr(default=())

    @computed_field  # type: ignore[prop-decorator]
    @functools.cached_property
    def checks(self) -> list[ParagraphCheck]:
        """Every paragraph's conditions under the primary reading (computed when first read)."""
        rules, metrics = self._context
        return _checks(rules, metrics, metrics.primary)


def _word(c: Comparison) -> Literal["yes", "no", "unknown"]:
    return c.value  # type: ignore[return-value]


# An outcome is a paragraph's ECCN, which the edition loader has parsed (``Eccn``) and refuses
# if it is "outside ...", or one of these: so membership here is the parsed answer, and costs
# no parse in the classifier's loops.
_OUTSIDE_OUTCOMES = frozenset(OUTSIDE.values())


def _conditions(when: list[Condition], metrics: Metrics, reading: ReadingMetrics) -> Comparison:
    """Three-valued AND of the conditions (all_of, written out: this is the classifier's inner loop)."""
    seen_unknown = False
    for condition in when:
        for name, threshold in condition.items():
            result = SCALARS[name](metrics, reading, threshold)
            if result is NO:
                return NO
            if result is UNKNOWN:
                seen_unknown = True
    return UNKNOWN if seen_unknown else YES


def _detail(when: list[Condition], metrics: Metrics, reading: ReadingMetrics) -> list[ConditionCheck]:
    """Each condition with its threshold, the chip's value and the answer."""
    checks = []
    for condition in when:
        for name, threshold in condition.items():
            predicate = PREDICATES[name]
            value = predicate.value(metrics, reading)  # computed only for conditions shown: density divides
            checks.append(ConditionCheck(
                predicate=name,
                threshold=None if isinstance(threshold, bool) else float(threshold),
                value=value if isinstance(value, bool) or value is None else float(value),
                result=_word(predicate.scalar(metrics, reading, threshold)),
            ))
    return checks


def _outcomes(rules: RuleSet, metrics: Metrics, reading: ReadingMetrics, item: Item) -> list[tuple[str, Paragraph | None]]:
    """The ECCNs still possible under one reading, in paragraph order; OUTSIDE if it can fall through."""
    possible: list[tuple[str, Paragraph | None]] = []
    for paragraph in rules.paragraphs:
        status = _effective(rules, paragraph, metrics, reading)
        if status is NO:
            continue
        eccn = rules.eccn_of(paragraph, item)
        if eccn not in [e for e, _ in possible]:
            possible.append((eccn, paragraph))
        if status is YES:
            return possible
    possible.append((OUTSIDE[item], None))
    return possible


def control_order(item: Item = "computer", *, as_of: dt.date | None = None, edition: str | None = None,
                  as_written: bool = False, rulebook: RuleBook | None = None,
                  countries: CountryData | None = None) -> ControlOrder:
    """The outcomes of the rules in force, most controlled first (``RuleSet.control_order``)."""
    return rules_in_force(as_of, edition, as_written, rulebook=rulebook, countries=countries).control_order(item)


def _effective(rules: RuleSet, paragraph: Paragraph, metrics: Metrics, reading: ReadingMetrics) -> Comparison:
    """The paragraph's conditions, less any exclusion that applies to its ECCN."""
    status = _conditions(paragraph.when, metrics, reading)
    for exclusion in rules.exclusions:
        if paragraph.eccn in exclusion.applies_to and status is not NO:
            status = all_of([status, negate(_conditions(exclusion.when, metrics, reading))])
    return status


def _licence(rules: RuleSet, eccn: str, dest: str, hq: str, day: dt.date) -> tuple[bool | None, list[str]]:
    """The licence lines for ``eccn``: True (required), None (a line the data cannot decide
    applies, and none requires it), False (no line applies)."""
    why = []
    answer: bool | None = False
    for requirement in rules.requirements:
        if eccn not in requirement.eccns:
            continue
        if rules.contains(requirement.destinations, dest, day):
            where = f"{eccn} to {dest}"
        elif (rules.contains(requirement.headquarters, hq, day)
              and dest not in requirement.headquarters_except_destinations):
            where = (f"{eccn} for an end user headquartered in {hq}: to any destination outside "
                     f"{', '.join(requirement.headquarters_except_destinations) or 'none'}")
        else:
            continue
        if requirement.outcome == "undetermined":
            why.append(f"{where}: licence undetermined: {requirement.open_because} ({requirement.citation})")
            answer = None if answer is False else answer
        else:
            why.append(f"{where}: licence required ({requirement.citation})")
            answer = True
    return answer, why


def _either_licence(a: bool | None, b: bool | None) -> bool | None:
    """Two independent sources of a licence requirement: required if either requires it; else
    undetermined if either is; else not required."""
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


_LICENCE_WORD = {True: "licence required", False: "no licence", None: "licence undetermined"}


def classify(
    chip: ChipSpec | Metrics | str,
    *,
    dest: str | None = None,
    hq: str | None = None,
    as_of: dt.date | str | None = None,
    edition: str | None = None,
    as_written: bool = False,
    item: Item = "ic",
    rulebook: RuleBook | None = None,
    countries: CountryData | None = None,
    availability: AvailabilityTable | None = None,
) -> Classification:
    """Classify one chip (a ChipSpec, its Metrics, or a catalogue query such as ``"H100 SXM"``).
    ``dest``/``hq`` are ISO 3166-1 codes or exact country names; ``as_of`` a date or ``"YYYY-MM-DD"``
    (default today); see ``tppcalc.arguments``. Without ``hq`` the end user is taken to be
    headquartered in the destination (said so in the reasons). ``availability`` is the table of US
    market dates a review policy may ask for (default: the shipped one, loaded when first needed)."""
    # Metrics is a plain dataclass: its isinstance test is cheaper than a pydantic model's.
    spec = None if isinstance(chip, Metrics) else chip_spec(chip)
    metrics = chip if spec is None else compute_metrics(spec)
    day = day_of(as_of)
    dest, hq = place(dest, field="dest"), place(hq, field="hq")
    rules = rules_in_force(day, edition, as_written, rulebook=rulebook, countries=countries)
    reasons = list(rules.preamble)

    by_object, results_by_reading = _walk_readings(rules, metrics, item)
    primary = metrics.primary
    possible = by_object[id(primary)]
    eccns = [eccn for eccn, _ in possible]
    determined = len(eccns) == 1
    eccn = eccns[0] if determined else None
    paragraph = possible[0][1] if determined else None
    reasons.extend(_eccn_reasons(rules, metrics, primary, possible, determined, item))

    past_coverage = day > rules.verified_through
    # A named edition is a what-if: its answer is the edition's, dated or not.
    unverified = past_coverage and edition is None
    if dest is None:
        reasons.append("No destination given (--dest): licence requirement not evaluated")
        answer = _LicenceAnswer(hq=hq)
    else:
        answer = _licence_answer(rules, metrics, eccns, eccn, dest, hq, day, unverified, reasons, availability)
    hq = answer.hq
    outcomes_by_reading, sensitive = _readings_answers(rules, metrics, by_object, results_by_reading, dest, hq, day,
                                                       answer.letters, unverified, reasons, availability)
    notices = [*answer.notices, *_notices(rules, metrics, primary, eccns, day, dest, hq, past_coverage)]
    published = None if spec is None else published_eccn(spec, eccns, day)
    if published is not None:
        reasons.append(published.finding)

    result = Classification.model_construct(
        chip_id=metrics.chip_id,
        item=item,
        as_of=day,
        edition=rules.base.id,
        edition_title=rules.base.title,
        edition_status=rules.status,
        overlays=[o.id for o in rules.overlays],
        destination=dest,
        headquarters=hq,
        headquarters_assumed=answer.hq_assumed,
        eccn=eccn,
        paragraph=None if paragraph is None else paragraph.id,
        undetermined=None if determined else eccns,
        license_required=answer.licence,
        license_exceptions=answer.exceptions,
        review_policy=answer.review,
        review_conditions=answer.review_conditions,
        reading_sensitive=bool(sensitive),
        outcomes_by_reading=outcomes_by_reading,
        reasons=reasons,
        notices=notices,
        citations=list(rules.citations),  # copies: the rule set is shared by every classification
        notes=list(rules.notes),
        published_eccn=published,
    )
    result._context = (rules, metrics)
    return result


def _walk_readings(rules: RuleSet, metrics: Metrics, item: Item
                   ) -> tuple[dict[int, list[tuple[str, Paragraph | None]]], dict[str, ReadingMetrics]]:
    """The outcomes under every reading, by result object (readings that share one are walked
    once), and each reading's result."""
    by_object: dict[int, list[tuple[str, Paragraph | None]]] = {}
    results_by_reading: dict[str, ReadingMetrics] = {}
    for reading, result in metrics.readings.items():
        key = id(result)
        if key not in by_object:
            by_object[key] = _outcomes(rules, metrics, result, item)
        results_by_reading[reading.value] = result
    return by_object, results_by_reading


@dataclass(slots=True)
class _LicenceAnswer:
    """The licence side of a classification (with a destination): the answer, the exceptions and
    review policy of a determined controlled ECCN, and the letters and notices found on the way."""

    hq: str | None
    hq_assumed: bool = False
    licence: bool | None = None
    exceptions: list[ExceptionOption] = field(default_factory=list)
    review: str | None = None
    review_conditions: str | None = None
    notices: list[Notice] = field(default_factory=list)
    letters: list = field(default_factory=list)


def _licence_answer(rules: RuleSet, metrics: Metrics, eccns: list[str], eccn: str | None, dest: str,
                    hq: str | None, day: dt.date, unverified: bool, reasons: list[str],
                    availability: AvailabilityTable | None = None) -> _LicenceAnswer:
    """Licence, exceptions and review policy for each ECCN still possible, with their reasons.
    The answer is definite only when every possible outcome gives the same one."""
    primary = metrics.primary
    answer = _LicenceAnswer(hq=hq)
    if hq is None:
        hq = answer.hq = dest
        answer.hq_assumed = True
        reasons.append(f"End user assumed headquartered in {dest} (give --hq): a D:5- or "
                       "Macau-headquartered end user needs a licence to any destination outside the US")
    answer.letters = [f for f in (letter_finding(x, metrics, primary, day=day, dest=dest, hq=hq,
                                                 contains=rules.contains) for x in rules.letters) if f is not None]
    by_letter: bool | None = False
    for finding in answer.letters:
        answer.notices.append(finding.notice)
        if finding.required is not False:
            reasons.append(finding.reason)
            by_letter = _either_licence(by_letter, finding.required)
    answers = set()
    for candidate in eccns:
        if candidate in _OUTSIDE_OUTCOMES:
            answers.add(False)
            continue
        required, why = _licence(rules, candidate, dest, hq, day)
        answers.add(required)
        reasons.extend(why)
        if required and eccn is not None:
            answer.exceptions = _exceptions(rules, metrics, primary, candidate, dest, hq, day)
            answer.review, answer.review_conditions, market = _review(rules, metrics, primary, candidate, dest, hq,
                                                                      day, availability)
            if market:
                reasons.append(market)
    by_eccn = answers.pop() if len(answers) == 1 else None
    licence = _either_licence(by_eccn, by_letter)
    if licence is False and unverified and not _OUTSIDE_OUTCOMES.issuperset(eccns):
        licence = None
        reasons.append(f"Licence undetermined: no licence line applies under the rules as checked through "
                       f"{rules.verified_through}, but {day} is later and changes since then may be "
                       "missing. Not required if nothing changed; required if a later rule or letter reaches "
                       f"{dest}")
    elif licence is False:
        reasons.append(f"No licence required under 3A090/4A090 for {dest}"
                       + (f". {NEXT_STEPS}" if eccn in _OUTSIDE_OUTCOMES else ""))
    elif licence is None:
        reasons.append("Licence requirement undetermined: it depends on an outcome or a line the data cannot "
                       "decide (see above)")
    if answer.review is not None:
        reasons.append(f"Licence review policy: {answer.review}")
    answer.licence = licence
    return answer


def _readings_answers(rules: RuleSet, metrics: Metrics, by_object: dict, results_by_reading: dict[str, ReadingMetrics],
                      dest: str | None, hq: str | None, day: dt.date, letters: list, unverified: bool,
                      reasons: list[str], availability: AvailabilityTable | None = None
                      ) -> tuple[dict[str, list[str]], list[str]]:
    """Every reading's whole answer (its ECCNs and, with a destination, each one's licence and
    review), and the readings whose answer differs from the primary's (each given a reason)."""
    outcomes_by_reading: dict[str, list[str]] = {}
    described: dict[int, list[str]] = {}
    lines: dict[str, bool | None] = {}  # each ECCN's licence lines: the same under every reading
    for name, result in results_by_reading.items():
        key = id(result)
        if key not in described:
            described[key] = [_outcome_words(rules, metrics, result, e, dest, hq, day, letters, unverified, lines,
                                             availability) for e, _ in by_object[key]]
        outcomes_by_reading[name] = described[key]
    primary_words = described[id(metrics.primary)]
    sensitive = [r for r, o in outcomes_by_reading.items() if o != primary_words]
    for reading in sensitive:
        reasons.append(f"Reading '{reading}' gives {' or '.join(outcomes_by_reading[reading])} instead of "
                       f"{' or '.join(primary_words)}: the answer depends on how the rule text is read")
    return outcomes_by_reading, sensitive


_PUBLISHED_3A090 = re.compile(r"^(?:ECCN\s*)?[34]A090\.?([a-z])?", re.IGNORECASE)
_PUBLISHED_Z = re.compile(r"^(?:ECCN\s*)?[0-9][A-E][0-9]{3}\.z\b", re.IGNORECASE)


def _published_outcome(text: str) -> str:
    """What a published ECCN says in the computed ECCN's terms: a 3A090/4A090 paragraph letter,
    "controlled" (a .z item: meets 3A090.a/.b, paragraph not said), or "outside"."""
    found = _PUBLISHED_3A090.match(text.strip())
    if found:
        return found.group(1).lower() if found.group(1) else "controlled"
    return "controlled" if _PUBLISHED_Z.match(text.strip()) else "outside"


def _computed_outcome(eccn: str) -> str:
    parsed = Eccn.parse(eccn)
    if parsed.outside:
        return "outside"
    # An undivided entry (3A090 of 2022) is "controlled": its first letter would read as 3A090.c.
    return parsed.paragraph[0] if parsed.paragraph else "controlled"


def published_eccn(spec: ChipSpec, eccns: list[str], day: dt.date) -> PublishedEccn | None:
    """The maker's published ECCN for ``spec`` set beside the outcomes still possible (``eccns``)."""
    published = spec.published_eccn
    if published is None or published.value is None:
        return None
    source = spec.sources.get(published.source)  # a published value always names a source (SourcedText)
    where = (f"source {published.source!r}" if source is None else
             source.title + (f" <{source.url}>" if source.url else ""))
    said = _published_outcome(published.value)
    computed = {_computed_outcome(e) for e in eccns}
    matches = {c for c in computed if c == said or (said == "controlled" and c != "outside")
               or (c == "controlled" and said != "outside")}
    agrees = True if matches == computed else None if matches else False
    shown = " or ".join(eccns)
    if agrees:
        finding = f"{spec.vendor} publishes ECCN {published.value} for this product ({where}): it agrees with {shown}"
    elif agrees is None:
        finding = (f"{spec.vendor} publishes ECCN {published.value} for this product ({where}): one of the outcomes "
                   f"still possible ({shown}); the published ECCN does not settle which")
    else:
        finding = (f"Finding to explain: {spec.vendor} publishes ECCN {published.value} for this product ({where}), "
                   f"but tppcalc computes {shown} under the rules of {day}. Not an error and no answer changes: the "
                   "maker may classify another item (a card, a system, another SKU), under an earlier or later rule, "
                   "or on a reading of the rule text other than the primary one. Ask the maker, or BIS for a "
                   "classification (CCATS), before relying on either")
    return PublishedEccn(published.value, where, agrees, finding)


def letter_signature(chip: Metrics, *, dest: str | None = None, hq: str | None = None, as_of: dt.date | None = None,
                     edition: str | None = None, as_written: bool = False, rulebook: RuleBook | None = None,
                     countries: CountryData | None = None) -> tuple:
    """The is-informed letters that bear on this chip's licence answer, as ((letter id, required), ...).

    A licence answer depends on the paragraph conditions' answers *and* on these (a letter names a
    product, or the recipient's chip meets its criteria), so a cache of answers (the batch engine's)
    must key on both. Empty for a chip no letter reaches, or without a destination."""
    if dest is None:
        return ()
    day = as_of or dt.date.today()
    rules = rules_in_force(day, edition, as_written, rulebook=rulebook, countries=countries)
    findings = (letter_finding(x, chip, chip.primary, day=day, dest=dest, hq=hq or dest, contains=rules.contains)
                for x in rules.letters)
    return tuple((f.letter.id, f.required) for f in findings if f is not None and f.required is not False)


def _outcome_words(rules: RuleSet, metrics: Metrics, reading: ReadingMetrics, eccn: str, dest: str | None,
                   hq: str | None, day: dt.date, letters: list, past_coverage: bool,
                   lines: dict[str, bool | None], availability: AvailabilityTable | None = None) -> str:
    """One outcome of one reading in words: the ECCN and, with a destination, its licence answer
    and review policy ("3A090.a (licence required; review: case-by-case)"). ``lines`` memoises
    each ECCN's licence lines across readings."""
    if dest is None or hq is None:
        return eccn
    outside = eccn in _OUTSIDE_OUTCOMES
    if not outside and eccn not in lines:
        lines[eccn] = _licence(rules, eccn, dest, hq, day)[0]
    licence: bool | None = False if outside else lines[eccn]
    for finding in letters:
        if finding.required is not False:
            licence = _either_licence(licence, finding.required)
    if licence is False and past_coverage and not outside:
        licence = None
    review = (None if outside or licence is not True
              else _review(rules, metrics, reading, eccn, dest, hq, day, availability)[0])
    return f"{eccn} ({_LICENCE_WORD[licence]}" + (f"; review: {review}" if review else "") + ")"


def _notices(rules: RuleSet, metrics: Metrics, reading: ReadingMetrics, eccns: list[str],
             day: dt.date, dest: str | None, hq: str | None, past_coverage: bool) -> list[Notice]:
    """The notices of the rules in use that apply to this chip, the disputed status of an overlay
    not applied, and the coverage date when ``day`` is past it."""
    found = []
    for rule in rules.notice_rules:
        answer = notice_applies(rule, metrics, reading, eccns=eccns, day=day, dest=dest, hq=hq,
                                contains=rules.contains)
        if answer is not NO:
            found.append(notice_from_rule(rule, answer))
    for overlay in rules.disputed:
        reached = {e for r in overlay.requirements for e in r.eccns}
        if reached & set(eccns):
            citation = next((c for c in overlay.citations if "GAO" in c.title), overlay.citations[0])
            found.append(Notice(f"legal-status-{overlay.id}", "legal-status",
                                f"{overlay.title}: not applied here, as BIS does not enforce it, but its legal status "
                                f"is disputed: {overlay.legal_status} As written it adds licence lines for "
                                f"{', '.join(sorted(reached))}; see --as-written.", True, citation))
    if past_coverage:
        coverage = rules.book.coverage
        found.append(Notice("coverage", "coverage",
                            f"The rule data was checked through {coverage.verified_through}; {day} is later, so "
                            f"changes since then may be missing. {coverage.note}", True, coverage.citations[0]))
    return found


def _checks(rules: RuleSet, metrics: Metrics, reading: ReadingMetrics) -> list[ParagraphCheck]:
    checks = []
    for paragraph in rules.paragraphs:
        excluded = None
        for exclusion in rules.exclusions:
            if paragraph.eccn in exclusion.applies_to and _conditions(exclusion.when, metrics, reading) is not NO:
                excluded = exclusion.id
        checks.append(ParagraphCheck(
            paragraph=paragraph.id,
            eccn=paragraph.eccn,
            result=_word(_effective(rules, paragraph, metrics, reading)),
            excluded_by=excluded,
            conditions=_detail(paragraph.when, metrics, reading),
        ))
    return checks


def _eccn_reasons(rules, metrics, reading, possible, determined, item) -> list[str]:
    reasons = []
    if determined and possible[0][1] is not None:
        paragraph = possible[0][1]
        conditions = _detail(paragraph.when, metrics, reading)
        parts = [describe_condition(c.predicate, c.threshold, c.value) for c in conditions]
        reasons.append(f"{paragraph.id}: {'; '.join(parts)} ({paragraph.citation})")
        if item == "computer" and paragraph.computer_eccn:
            reasons.append(f"A computer, assembly or component containing a {paragraph.eccn} IC is {paragraph.computer_eccn}")
        return reasons
    for exclusion in rules.exclusions:
        if _conditions(exclusion.when, metrics, reading) is YES:
            reasons.append(f"{exclusion.citation}: {exclusion.text}")
    if determined:
        lowest = rules.paragraphs and min(
            (p for p in rules.paragraphs if p.when and "tpp_at_least" in p.when[0]),
            key=lambda p: p.when[0]["tpp_at_least"], default=None)
        if lowest is not None and reading.tpp_at_least(lowest.when[0]["tpp_at_least"]) is NO:
            # The low bound is the TPP when it is exact; a NO needs a known upper bound under the line.
            reasons.append(f"TPP {format_number(reading.tpp_bounds.low)} is "
                           f"below {format_number(lowest.when[0]['tpp_at_least'])}: outside every 3A090 "
                           "paragraph whatever the die area")
        else:
            reasons.append("No 3A090 paragraph applies")
        return reasons
    unknown = list(metrics.unknowns)
    reasons.append("Undetermined between " + ", ".join(e for e, _ in possible)
                   + (": " + "; ".join(unknown) if unknown else ""))
    return reasons


def _exceptions(rules, metrics, reading, eccn, dest, hq, day) -> list[ExceptionOption]:
    options = []
    for exception in rules.exceptions:
        if eccn not in exception.eccns or not rules.contains(exception.destinations, dest, day):
            continue
        if rules.contains(exception.not_for_headquarters, hq, day):
            continue
        status = _conditions(exception.when, metrics, reading)
        if status is NO:
            continue
        options.append(ExceptionOption(
            name=exception.name, id=exception.id,
            status="available" if status is YES else "available if the unknown conditions hold",
            conditions=exception.conditions, citation=exception.citation))
    return options


def _review(rules, metrics, reading, eccn, dest, hq, day,
            availability=None) -> tuple[str | None, str | None, str | None]:
    """The review policies still possible (first match first), their conditions, and what the US
    market condition of a policy found, in words (None where no policy asked)."""
    possible: list[str] = []
    conditions: list[str] = []
    market: str | None = None
    for policy in rules.review_policies:
        if eccn not in policy.eccns:
            continue
        # Every selector the policy names must match (destination and/or headquarters).
        if policy.destinations is not None and not rules.contains(policy.destinations, dest, day):
            continue
        if policy.headquarters is not None and not rules.contains(policy.headquarters, hq, day):
            continue
        status = _conditions(policy.when, metrics, reading)
        if status is NO:
            continue
        if policy.us_available_by is not None:
            on_market, market = _us_market(policy, metrics.chip_id, availability)
            status = all_of([status, on_market])
            if status is NO:
                continue
        if policy.policy not in possible:
            possible.append(policy.policy)
        if policy.conditions:
            conditions.append(policy.conditions)
        if status is YES:
            break
    if not possible:
        return None, None, market
    return " or ".join(possible), "; ".join(conditions) or None, market


def _us_market(policy, chip_id: str, availability: AvailabilityTable | None) -> tuple[Comparison, str]:
    """Whether the chip was commercially available in the United States by the policy's day
    (91 FR 1684), from the availability table: YES, NO, or UNKNOWN where no date is recorded."""
    by = policy.us_available_by
    record = (availability or default_availability()).get(chip_id)
    if record is None:
        return UNKNOWN, (f"Review policy open: {policy.policy} needs a product commercially available in the United "
                         f"States on or before {by} ({policy.citation}), and no date of US commercial availability is "
                         f"recorded for {chip_id}: {policy.policy} if it was, the policy otherwise if not")
    if record.available_by <= by:
        return YES, (f"{chip_id} was commercially available in the United States by {record.available_by} "
                     f"({record.cited()}), on or before {by}: the {policy.policy} policy can apply")
    return NO, (f"{chip_id} is recorded as commercially available in the United States only by "
                f"{record.available_by} ({record.cited()}), after {by}: not covered by the {policy.policy} policy "
                f"({policy.citation}); the policy otherwise applies. An earlier sourced date would change this")
