"""The rules in force: one answer to "which editions, overlays and country groups apply?".

``rules_in_force(as_of=, edition=, as_written=)`` picks the base edition and the overlays for a day
(or the edition named, as a what-if), and returns them as one ``RuleSet`` over one set of country
data. Every consumer (classification, the chart, the batch engine, the probe's node verdict) asks
here, so no two of them can disagree on which rules a day has; fleet caps (``caps_in_force``) and
4E091 (``model_weights_in_force``) are picked here too, from every edition effective on the day.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from tppcalc.core.eccn import ControlOrder, Eccn
from tppcalc.decisions.rules.countries import CountryData, country_data
from tppcalc.decisions.rules.editions import Edition, Paragraph, Places, RuleBook, default_rulebook

# The ECCN of an item no paragraph reaches, by item kind.
OUTSIDE = {"ic": "outside 3A090", "computer": "outside 4A090"}


class _Layers:
    """The base edition with its overlays, flattened, over one set of country data.

    Kept (``_layers``): many days share the same editions, and which places a country is in does
    not depend on the chip. ``contains`` memoises membership by id(places); the ids stay valid
    because this object holds the editions that hold the places.
    """

    _MEMO_LIMIT = 4096

    def __init__(self, base: Edition, overlays: tuple[Edition, ...], countries: CountryData):
        layers = (base, *overlays)
        self.countries = countries
        self.paragraphs = [p for e in layers for p in e.paragraphs]
        self.exclusions = [x for e in layers for x in e.exclusions]
        self.requirements = [r for e in layers for r in e.requirements]
        self.exceptions = [x for e in layers for x in e.exceptions]
        self.review_policies = [p for e in layers for p in e.review_policies]
        self.citations = [c for e in layers for c in e.citations]
        self.notes = [n for e in layers for n in e.notes]
        self.letters = [x for e in layers for x in e.letters]
        self.notice_rules = [x for e in layers for x in e.notices]
        self._membership: dict[tuple[int, str, dt.date], bool] = {}

    def contains(self, places: Places | None, code: str | None, day: dt.date) -> bool:
        if code is None or places is None:
            return False
        key = (id(places), code, day)
        inside = self._membership.get(key)
        if inside is None:
            if len(self._membership) >= self._MEMO_LIMIT:
                self._membership.clear()
            inside = self._membership[key] = _in(code, places, day, self.countries)
        return inside


class RuleSet:
    """The rules chosen for one day (and edition, and as-written choice): the base edition, the
    overlays, every section flattened in order, the country groups, and the reasons every
    classification under them starts with (``preamble``)."""

    def __init__(self, book: RuleBook, countries: CountryData, day: dt.date, edition: str | None,
                 as_written: bool, base: Edition, overlays: tuple[Edition, ...], status: str,
                 preamble: tuple[str, ...], disputed: tuple[Edition, ...], *, groups_day: dt.date | None = None):
        self.book = book
        self.countries = countries
        self.day = day
        self.edition = edition        # the edition asked for by name (a what-if), or None
        self.as_written = as_written
        self.base = base
        self.overlays = overlays
        self.status = status          # the base edition's status on the day
        self.preamble = preamble
        self.disputed = disputed      # overlays not applied whose legal status is disputed on the day
        view = _layers(base, overlays, countries)
        # Plain attributes, not properties: classify() reads these in its inner loops.
        self.paragraphs = view.paragraphs
        self.exclusions = view.exclusions
        self.requirements = view.requirements
        self.exceptions = view.exceptions
        self.review_policies = view.review_policies
        self.citations = view.citations
        self.notes = view.notes
        self.letters = view.letters
        self.notice_rules = view.notice_rules
        self.contains = view.contains  # (places, code, day) -> whether code is one of places on day
        self.groups_day = groups_day or day  # the day country groups are read on (a replaced edition's own)
        if self.groups_day != day:
            self.contains = functools.partial(_contains_on, view.contains, self.groups_day)

    @property
    def layers(self) -> tuple[Edition, ...]:
        return (self.base, *self.overlays)

    @property
    def id(self) -> str:
        return " + ".join(e.id for e in self.layers)

    @property
    def verified_through(self) -> dt.date:
        return self.book.verified_through

    def eccn_of(self, paragraph: Paragraph, item: str) -> str:
        """The ECCN a paragraph gives an item: an IC's own, or the 4A090 one for a computer holding it."""
        return paragraph.computer_eccn if item == "computer" and paragraph.computer_eccn else paragraph.eccn

    def control_order(self, item: str = "computer") -> ControlOrder:
        """The outcomes, most controlled first: the order classify() walks the paragraphs in (the
        first that holds decides), then "outside". Rank outcomes with this, never with a table."""
        walked = [Eccn.parse(self.eccn_of(p, item)) for p in self.paragraphs]
        return ControlOrder([*walked, Eccn.parse(OUTSIDE[item])])


# Rule sets and layers are kept by the identity of the objects they are built from. That is safe:
# each entry holds those objects, so no id is reused while its entry exists.
_RULE_SETS: dict[tuple, RuleSet] = {}
_LAYERS: dict[tuple[int, ...], _Layers] = {}
_KEPT_LIMIT = 256


def rules_in_force(as_of: dt.date | None = None, edition: str | None = None, as_written: bool = False, *,
                   overlays: Sequence[str] = (), rulebook: RuleBook | None = None,
                   countries: CountryData | None = None) -> RuleSet:
    """The base edition and overlays in force on ``as_of`` (today), or the named ``edition``.

    Without ``edition``: the latest full edition effective on the day, with the overlays enforced on
    it (or every effective overlay ``as_written``; those not applied are named in the preamble).
    With ``edition``: that edition alone, with ``overlays`` named alongside it; a named overlay goes
    on the full edition in force when it took effect (or on the day, if later). A bad name or a day
    before the first rule raises InputError."""
    book = rulebook or default_rulebook()
    countries = countries or country_data()
    day = as_of or dt.date.today()
    named = overlays if type(overlays) is tuple else tuple(overlays)
    key = (id(book), id(countries), day, edition, as_written, named)
    found = _RULE_SETS.get(key)
    if found is None:
        if len(_RULE_SETS) >= _KEPT_LIMIT:
            _RULE_SETS.clear()
        found = _RULE_SETS[key] = _select(book, countries, day, edition, as_written, named)
    return found


def caps_in_force(as_of: dt.date | None = None, *, rulebook: RuleBook | None = None) -> list[Edition]:
    """Every edition effective on ``as_of`` that sets fleet caps, oldest first (a later one's caps
    replace an earlier one's). Unlike ``rules_in_force`` these do not depend on enforcement or on
    a base edition: a fleet report names each cap with its status on the day, enforced or not."""
    book = rulebook or default_rulebook()
    day = as_of or dt.date.today()
    return [e for e in book.editions if e.caps and e.effective <= day]


def model_weights_in_force(as_of: dt.date | None = None, *, rulebook: RuleBook | None = None) -> Edition | None:
    """The latest edition effective on ``as_of`` that defines ECCN 4E091 (model weights), or None;
    reported with its status on the day, enforced or not (as ``caps_in_force``)."""
    book = rulebook or default_rulebook()
    day = as_of or dt.date.today()
    found = [e for e in book.editions if e.model_weights is not None and e.effective <= day]
    return found[-1] if found else None


def _select(book: RuleBook, countries: CountryData, day: dt.date, edition: str | None, as_written: bool,
            named_overlays: tuple[str, ...]) -> RuleSet:
    notes: list[str] = []
    disputed: list[Edition] = []
    if edition is not None:
        chosen = book.get(edition)
        if chosen.kind == "edition":
            base, overlays = chosen, [book.get(o) for o in named_overlays]
        else:
            base, overlays = book.base_on(max(day, chosen.effective)), [chosen]
    else:
        base = book.base_on(day)
        overlays = book.overlays_on(day, as_written=as_written)
        for skipped in book.overlays_not_applied(day):
            if skipped not in overlays:
                notes.append(f"{skipped.title}: {skipped.status_on(day)}; not applied (use --as-written "
                             f"or --edition {skipped.id} to apply the text as written)")
                if skipped.legal_status and day >= (skipped.legal_status_from or skipped.effective):
                    disputed.append(skipped)
    # A named edition is a what-if on any day, but never labelled "in force" once replaced.
    later = book.superseded_by(base, day)
    groups_day = day
    if later is not None:
        status = f"superseded by {later.id} on {later.effective}"
        # Its destinations are read with the country groups it stood with: today's groups under a
        # replaced edition's lines answered "no licence" (AE) where both, each on its own day, say one is needed.
        groups_day = min(day, later.effective - dt.timedelta(days=1))
        when = f"{status}; named explicitly for {day}, with the country groups of {groups_day}"
    else:
        status = base.status_on(day) if day >= base.effective else "named explicitly"
        when = f"{status} on {day}"
    header = (f"Rules: {base.title}, edition {base.id} ({when})"
              + "".join(f"; with {o.title} ({o.status_on(day)})" for o in overlays))
    return RuleSet(book, countries, day, edition, as_written, base, tuple(overlays), status, (header, *notes),
                   tuple(disputed), groups_day=groups_day)


def _layers(base: Edition, overlays: tuple[Edition, ...], countries: CountryData) -> _Layers:
    key = (id(countries), id(base), *map(id, overlays))
    view = _LAYERS.get(key)
    if view is None:
        if len(_LAYERS) >= _KEPT_LIMIT:
            _LAYERS.clear()
        view = _LAYERS[key] = _Layers(base, overlays, countries)
    return view


def _contains_on(contains, groups_day: dt.date, places: Places | None, code: str | None, _day: dt.date) -> bool:
    return contains(places, code, groups_day)


def _in(code: str, places: Places, day: dt.date, countries: CountryData) -> bool:
    def member(group: str) -> bool:
        if group.startswith("tier"):
            return countries.tier_of(code, day) == group
        return code in countries.members(group, day)

    inside = places.all or code in places.countries or any(member(g) for g in places.groups)
    if not inside:
        return False
    return not (code in places.except_countries or any(member(g) for g in places.except_groups))
