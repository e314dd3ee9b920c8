"""Rule editions: the data model, loading, and picking the edition in force on a date.

An edition is one TOML file in ``rules/data/editions``: the ECCN paragraphs with their conditions,
the exclusions (Note 2), the licence requirements by destination and by the end user's
headquarters, the licence exceptions, the review policies, and the citations. Editions are
complete states of the rules, not diffs. The AI Diffusion rule is an *overlay*: it was written
into the regulations but never enforced (compliance was due 2025-05-15; BIS announced on
2025-05-13 it would not enforce it), so it applies only ``--as-written`` or when named.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from tppcalc.core.eccn import Eccn
from tppcalc.data.spec import StrictModel
from tppcalc.data.specfile import parse_document, validation_errors
from tppcalc.data.validated_cache import cached
from tppcalc.decisions.rules import RULES_DATA_DIR
from tppcalc.decisions.rules.predicates import PREDICATES
from tppcalc.errors import InputError, SpecError

Condition = dict[str, Decimal | bool]


def _check_conditions(conditions: list[Condition]) -> list[Condition]:
    for condition in conditions:
        if len(condition) != 1:
            raise ValueError(f"a condition names exactly one predicate, got {sorted(condition)}")
        (name, value), = condition.items()
        if name not in PREDICATES:
            raise ValueError(f"unknown predicate {name!r} (known: {', '.join(sorted(PREDICATES))})")
        takes_threshold = PREDICATES[name].takes_threshold
        if not takes_threshold and value is not True:
            raise ValueError(f"{name} takes `true`")
        if takes_threshold and not isinstance(value, Decimal):
            raise ValueError(f"{name} takes a number")
    return conditions


def _check_eccns(values):
    """ECCNs in rule data are parsed at load (``Eccn``): a typo fails here, naming the file and
    the field, instead of never matching an outcome (and so never requiring a licence)."""
    for value in [values] if isinstance(values, str) else values or []:
        eccn = Eccn.parse(value)
        if eccn.outside:
            raise ValueError(f"{value!r} is the absence of an ECCN; rule data names controlled ECCNs")
    return values


class Citation(StrictModel):
    """A public address for a rule text. ``source`` says how close it is to the text: ``primary``
    (the text itself), ``primary-quoted`` (the text quoted by someone else), ``secondary``."""

    title: str
    url: str = Field(pattern=r"^https?://")
    source: Literal["primary", "primary-quoted", "secondary"] = "primary"


class Places(StrictModel):
    """A set of countries: ``all``, or groups and countries, less excepted groups and countries."""

    all: bool = False
    groups: list[str] = []
    countries: list[str] = []
    except_groups: list[str] = []
    except_countries: list[str] = []


class Bound(StrictModel):
    """One range test on a figure, for notices and letters (not an ECCN paragraph): the figure is
    ``tpp`` (per reading), ``dram`` (total DRAM bandwidth, GB/s), ``io`` (bidirectional I/O, GB/s)
    or ``dram_plus_io``; each given limit must hold (``above``/``below`` strict)."""

    figure: Literal["tpp", "dram", "io", "dram_plus_io"]
    at_least: Decimal | None = None
    above: Decimal | None = None
    at_most: Decimal | None = None
    below: Decimal | None = None


class Letter(StrictModel):
    """An is-informed letter: not a Federal Register rule but a licence requirement BIS put on its
    recipient. It names products (catalogue ids) and may disclose criteria (any ``criteria`` entry,
    each an all-of list of bounds) that bring other chips of the recipient under it."""

    id: str
    date: dt.date
    recipient: str
    vendor_prefixes: list[str] = Field(min_length=1, description="catalogue id prefixes of the recipient's chips")
    products: list[str] = []
    criteria: list[list[Bound]] = []
    criteria_source: str = ""
    criteria_confidence: Literal["stated by the recipient", "reported by the press", "none disclosed"] = "none disclosed"
    destinations: Places
    headquarters: Places | None = None
    text: str
    citation: Citation


class NoticeRule(StrictModel):
    """Something a user must see that is not a licence line (guidance, a tariff band, a deadline).
    It applies when every selector given matches: the chip's catalogue id, the outcome's ECCN, the
    figures (``when``, all of), the destination, the end user's headquarters, and the date."""

    id: str
    kind: Literal["guidance", "tariff", "rule", "deadline", "legal-status"]
    text: str
    chips: list[str] = []
    eccns: list[str] = []
    when: list[Bound] = []
    destinations: Places | None = None
    headquarters: Places | None = None
    needs_destination: bool = False
    from_date: dt.date | None = None
    until: dt.date | None = None
    citation: Citation


class Paragraph(StrictModel):
    """An ECCN paragraph: the item is in ``eccn`` when every condition holds."""

    id: str
    eccn: str
    when: list[Condition]
    citation: str
    computer_eccn: str | None = Field(default=None, description="4A090 paragraph for computers holding it")

    _conditions = field_validator("when")(_check_conditions)
    _eccns = field_validator("eccn", "computer_eccn")(_check_eccns)


class Exclusion(StrictModel):
    """A note that takes items out of some paragraphs when every condition holds (Note 2)."""

    id: str
    applies_to: list[str]
    when: list[Condition]
    citation: str
    text: str

    _conditions = field_validator("when")(_check_conditions)
    _eccns = field_validator("applies_to")(_check_eccns)


class Requirement(StrictModel):
    """A licence requirement for ``eccns``: to ``destinations``, or for end users headquartered
    in ``headquarters`` (then to any destination except ``headquarters_except_destinations``)."""

    id: str
    eccns: list[str]
    destinations: Places
    headquarters: Places | None = None
    headquarters_except_destinations: list[str] = []
    citation: str
    # "undetermined" where the data cannot decide whether the line is enforced (the answer is then
    # neither yes nor no, and ``open_because`` says why and what each outcome rests on).
    outcome: Literal["required", "undetermined"] = "required"
    open_because: str = ""

    _eccns = field_validator("eccns")(_check_eccns)


class LicenseException(StrictModel):
    id: str
    name: str
    eccns: list[str]
    when: list[Condition] = []
    destinations: Places
    not_for_headquarters: Places | None = None
    conditions: str
    citation: str

    _conditions = field_validator("when")(_check_conditions)
    _eccns = field_validator("eccns")(_check_eccns)


class ReviewPolicy(StrictModel):
    """How BIS reviews a licence application; the first policy that matches applies. A policy
    matches when the destination is in ``destinations`` *and* the end user's headquarters is in
    ``headquarters`` (each selector only where given)."""

    id: str
    eccns: list[str]
    destinations: Places | None = None
    headquarters: Places | None = None
    when: list[Condition] = []
    # The product must have been commercially available in the United States on or before this
    # day (91 FR 1684); checked against tppcalc.data.availability, open where no date is recorded.
    us_available_by: dt.date | None = None
    policy: Literal["presumption of approval", "case-by-case", "presumption of denial"]
    conditions: str = ""
    citation: str

    _conditions = field_validator("when")(_check_conditions)
    _eccns = field_validator("eccns")(_check_eccns)


class ModelWeightsControl(StrictModel):
    """ECCN 4E091 thresholds (AI Diffusion)."""

    eccn: str
    training_operations_at_least: Decimal
    derived_extra_operations_at_least: Decimal
    derived_extra_fraction_above: Decimal
    citation: str


class Edition(StrictModel):
    id: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}[a-z0-9-]*$")
    title: str
    kind: Literal["edition", "overlay"] = "edition"
    effective: dt.date
    compliance_from: dt.date | None = None
    not_enforced_from: dt.date | None = None
    status_note: str = ""
    legal_status: str = Field(default="", description="A dispute over whether the status is lawful (GAO)")
    legal_status_from: dt.date | None = None
    citations: list[Citation] = Field(min_length=1)
    paragraphs: list[Paragraph] = []
    exclusions: list[Exclusion] = []
    requirements: list[Requirement] = []
    exceptions: list[LicenseException] = []
    review_policies: list[ReviewPolicy] = []
    model_weights: ModelWeightsControl | None = None
    caps: dict[str, Decimal] = Field(default_factory=dict, description="Fleet limits (fleet report checks)")
    notes: list[str] = []
    letters: list[Letter] = []
    notices: list[NoticeRule] = []

    def enforced_on(self, day: dt.date) -> bool:
        if day < self.effective:
            return False
        if self.not_enforced_from is not None and day >= self.not_enforced_from:
            return False
        return self.compliance_from is None or day >= self.compliance_from

    def status_on(self, day: dt.date) -> str:
        if day < self.effective:
            return "not yet effective"
        if self.not_enforced_from is not None and day >= self.not_enforced_from:
            return f"in the regulations text but not enforced since {self.not_enforced_from}"
        if self.compliance_from is not None and day < self.compliance_from:
            return f"effective, compliance not required until {self.compliance_from}"
        return "in force"


class Coverage(StrictModel):
    """How far the rule data was checked: against the eCFR and the Federal Register through
    ``verified_through``; after it, changes may be missing."""

    verified_through: dt.date
    note: str
    citations: list[Citation] = Field(min_length=1)


class RuleBook(StrictModel):
    """Every edition, in order of effective date, and the date through which they were checked."""

    editions: tuple[Edition, ...]
    coverage: Coverage

    @property
    def verified_through(self) -> dt.date:
        return self.coverage.verified_through

    def superseded_by(self, edition: Edition, day: dt.date) -> Edition | None:
        """The full edition that replaced ``edition`` by ``day`` (its direct successor; None if
        ``edition`` is still the latest on ``day``, or is an overlay)."""
        if edition.kind != "edition":
            return None
        later = [e for e in self.editions if e.kind == "edition" and edition.effective < e.effective <= day]
        return later[0] if later else None

    def status_of(self, edition: Edition, day: dt.date) -> str:
        """The edition's real status on ``day``: in force, superseded by a later edition, an
        overlay not enforced (with any dispute over that), or not yet effective."""
        later = self.superseded_by(edition, day)
        if later is not None:
            return f"superseded by {later.id} on {later.effective}"
        status = edition.status_on(day)
        if edition.legal_status and day >= (edition.legal_status_from or edition.effective):
            status += f"; legal status disputed since {edition.legal_status_from or edition.effective}"
        return status

    def get(self, edition_id: str) -> Edition:
        for edition in self.editions:
            if edition.id == edition_id:
                return edition
        known = ", ".join(e.id for e in self.editions)
        raise InputError(f"unknown edition {edition_id!r} (known: {known})", field="--edition")

    def base_on(self, day: dt.date) -> Edition:
        """The latest full edition effective on ``day``."""
        candidates = [e for e in self.editions if e.kind == "edition" and e.effective <= day]
        if not candidates:
            first = min(e.effective for e in self.editions)
            raise InputError(f"no advanced-computing rule was in force on {day} (the first took effect "
                             f"{first})", field="--as-of")
        return candidates[-1]

    def overlays_on(self, day: dt.date, *, as_written: bool) -> list[Edition]:
        """Overlays that apply on ``day``: enforced ones, or all effective ones ``as_written``."""
        return [e for e in self.editions if e.kind == "overlay" and e.effective <= day
                and (as_written or e.enforced_on(day))]

    def overlays_not_applied(self, day: dt.date) -> list[Edition]:
        return [e for e in self.editions if e.kind == "overlay" and e.effective <= day and not e.enforced_on(day)]


def _editions_dir() -> Path:
    return RULES_DATA_DIR / "editions"


_MERGED_SECTIONS = ("paragraphs", "exclusions", "requirements", "exceptions", "review_policies", "letters",
                    "notices")


def _inherit(document: dict, parents: dict[str, dict], where: str) -> dict:
    """Resolve ``extends``: entries merge by id (same id replaces, new ids append, ``remove``
    drops), other keys are the child's own; citations and notes accumulate."""
    parent_id = document.pop("extends", None)
    removed = set(document.pop("remove", []))
    if parent_id is None:
        return document
    if parent_id not in parents:
        raise InputError(f"extends unknown or later edition {parent_id!r}", where=where)
    parent = parents[parent_id]
    merged = {k: v for k, v in parent.items() if k not in ("id", "title", "effective", "kind",
                                                          "compliance_from", "not_enforced_from", "status_note")}
    merged.update({k: v for k, v in document.items() if k not in _MERGED_SECTIONS + ("citations", "notes")})
    for section in _MERGED_SECTIONS:
        entries = {e["id"]: e for e in parent.get(section, []) if e["id"] not in removed}
        entries.update({e["id"]: e for e in document.get(section, [])})
        merged[section] = list(entries.values())
    merged["citations"] = parent.get("citations", []) + document.get("citations", [])
    merged["notes"] = parent.get("notes", []) + document.get("notes", [])
    return merged


def load_rulebook(directory: Path | None = None, coverage: Path | None = None) -> RuleBook:
    # File names sort by effective date, so a parent is always read before its children.
    paths = sorted((directory or _editions_dir()).glob("*.toml"))
    paths.append(coverage or RULES_DATA_DIR / "coverage.toml")
    return cached("rules", paths, functools.partial(_validate_rulebook, paths), RuleBook)


def _validate_rulebook(paths: list[Path], contents: list[bytes]) -> RuleBook:
    documents: dict[str, dict] = {}
    editions = []
    coverage_path, coverage_data = paths[-1], contents[-1]
    try:
        coverage = Coverage.model_validate(parse_document(coverage_path, coverage_data))
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=str(coverage_path)) from None
    for path, data in zip(paths[:-1], contents[:-1], strict=True):
        document = parse_document(path, data)
        # Integers in conditions are thresholds too: hold every threshold as an exact Decimal.
        for section in ("paragraphs", "exclusions", "exceptions", "review_policies"):
            for entry in document.get(section, []):
                entry["when"] = [{k: Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v
                                  for k, v in c.items()} for c in entry.get("when", [])]
        document = _inherit(document, documents, str(path))
        documents[document.get("id", path.stem)] = document
        try:
            editions.append(Edition.model_validate(document))
        except ValidationError as exc:
            raise SpecError(validation_errors(exc), where=str(path), record=document.get("id")) from None
    editions.sort(key=lambda e: (e.effective, e.kind))
    return RuleBook(editions=tuple(editions), coverage=coverage)


@functools.cache
def default_rulebook() -> RuleBook:
    return load_rulebook()


def predicates_used(book: RuleBook) -> set[str]:
    """Every predicate name the edition data uses (tested against the code's set)."""
    used = set()
    for edition in book.editions:
        for entries in (edition.paragraphs, edition.exclusions, edition.exceptions, edition.review_policies):
            for entry in entries:
                for condition in entry.when:
                    used.update(condition)
    return used
