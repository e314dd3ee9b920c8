"""Country Groups (15 CFR 740 Supp. 1) and AI Diffusion tiers, on a date; country names to codes.

Group membership is data (``rules/data/country_groups.toml``): a member list valid on ``as_of``
plus dated changes, each with its source. ``members(group, day)`` replays the changes up to the day.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from pydantic import Field, ValidationError

from tppcalc.data.spec import Source, StrictModel
from tppcalc.data.specfile import parse_document, validation_errors
from tppcalc.data.validated_cache import cached
from tppcalc.decisions.rules import RULES_DATA_DIR
from tppcalc.errors import InputError, SpecError


class GroupChange(StrictModel):
    date: dt.date
    add: list[str] = []
    remove: list[str] = []
    source: str
    note: str = ""


class CountryGroup(StrictModel):
    id: str
    name: str
    as_of: dt.date
    members: list[str]
    source: str
    note: str = ""
    unconfirmed: bool = False
    change: list[GroupChange] = []


class Tier(StrictModel):
    id: str
    rule: str
    members: list[str] = []
    members_from: list[str] = []
    plus: list[str] = []
    source: str
    note: str = ""


class CountryData(StrictModel):
    sources: dict[str, Source]
    group: list[CountryGroup] = Field(min_length=1)
    tier: list[Tier] = []

    def group_by_id(self, group_id: str) -> CountryGroup:
        for group in self.group:
            if group.id == group_id:
                return group
        raise InputError(f"unknown country group {group_id!r}")

    def members(self, group_id: str, day: dt.date) -> frozenset[str]:
        return _members(self, group_id, day)

    def tier_of(self, code: str, day: dt.date) -> str:
        """AI Diffusion tier of a destination: tier1, tier3, or tier2 (everyone else)."""
        for tier in self.tier:
            members = set(tier.members) | set(tier.plus)
            for group_id in tier.members_from:
                members |= self.members(group_id, day)
            if code in members:
                return tier.id
        return "tier2"


@functools.lru_cache(maxsize=4096)
def _members(data: CountryData, group_id: str, day: dt.date) -> frozenset[str]:
    group = data.group_by_id(group_id)
    members = set(group.members)
    for change in sorted(group.change, key=lambda c: c.date):
        if group.as_of < change.date <= day:
            members |= set(change.add)
            members -= set(change.remove)
    return frozenset(members)


def _data_file() -> Path:
    return RULES_DATA_DIR / "country_groups.toml"


@functools.cache
def country_data() -> CountryData:
    path = _data_file()
    return cached("countries", [path], functools.partial(_validate_country_data, path), CountryData)


def _validate_country_data(path: Path, contents: list[bytes]) -> CountryData:
    try:
        return CountryData.model_validate(parse_document(path, contents[0]))
    except ValidationError as exc:
        raise SpecError(validation_errors(exc), where=str(path)) from None


# CountryData is frozen; make it hashable for the membership cache by identity.
CountryData.__hash__ = object.__hash__  # type: ignore[method-assign]


# Everyday English names ISO 3166-1 does not carry, each for exactly one country. They are matched
# exactly (in any case), like ISO's own names: nothing is guessed.
_COMMON_NAMES = {"macau": "MO", "uk": "GB", "britain": "GB", "great britain": "GB", "russia": "RU",
                 "north korea": "KP", "south korea": "KR", "iran": "IR", "syria": "SY", "burma": "MM",
                 "laos": "LA", "vietnam": "VN", "usa": "US", "united states of america": "US",
                 "turkey": "TR"}

# ISO names that everyday English uses for another country too, where the two differ in the rules:
# "Congo" is ISO's name of CG, but often means the DRC (CD, in D:5). Refused, never guessed.
_AMBIGUOUS_NAMES = {"congo": ("Congo (CG)", "Congo, The Democratic Republic of the (CD)")}


# The ISO 3166-1 alpha-2 codes (pycountry's list; a test checks they agree). A destination given
# as a code, the usual case, is resolved without importing pycountry and loading its database,
# which took ~10 ms of every ``classify --dest``.
ALPHA_2 = frozenset("""
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

_LONGEST_NAME = 100  # ISO's longest official name is 60 characters; longer input is not a name


def resolve_country(text: object, *, option: str = "--dest", where: str | None = None) -> str:
    """The ISO 3166-1 alpha-2 code of a country given as an alpha-2 or alpha-3 code or its exact
    name, official name or common name, in any case (``"AE"``, ``"are"``, ``"United Arab Emirates"``).

    This is the one way a destination or headquarters enters tppcalc (API, CLI, batch, fleet).
    Anything else raises an InputError naming ``option`` (and ``where``) with the close matches as
    suggestions: a compliance answer for a country the user did not name would be worse than none.
    User-assigned and reserved codes (``XX``, ``XK``, ``EU``) name no country and are refused.
    """
    if isinstance(text, str) and text in ALPHA_2:  # the usual case: a code, resolved with no work
        return text
    if not isinstance(text, str):
        raise InputError(f"a country must be given as text (an ISO code or a name), got {text!r}",
                         where=where, field=option)
    # Plain spaces around a name are padding; a line end, tab, control or Unicode space is garbling
    # (str.strip() would also drop \x1c-\x1f and \u3000), and a garbled place is never guessed.
    query = text.strip(" ")
    folded = _folded(query) if query.isprintable() else None
    if folded is not None:
        if len(query) == 2 and query.isascii() and query.upper() in ALPHA_2:
            return query.upper()
        if folded in _AMBIGUOUS_NAMES:
            raise InputError(f"{text!r} may name {' or '.join(_AMBIGUOUS_NAMES[folded])}, on different sides of "
                             "the rules: give the ISO code", where=where, field=option)
        code = _COMMON_NAMES.get(folded)
        if code is None and len(query) > 2:
            code = _exact_names().get(folded)
        if code is not None:
            return code
    raise InputError(_unknown_country(text, folded), where=where, field=option)


def _folded(text: str) -> str | None:
    """``text`` in lower case, or None where lower-casing would turn a character from outside ASCII
    into ASCII letters (the Kelvin sign into k, a dotted capital I into i): look-alikes never match."""
    if not text or len(text) > _LONGEST_NAME:
        return None
    folded = text.lower()
    if not text.isascii() and sum(map(str.isascii, folded)) != sum(map(str.isascii, text)):
        return None
    return folded


@functools.cache
def _exact_names() -> dict[str, str]:
    """Lower-cased alpha-3 codes, names, official names and common names, to alpha-2 codes."""
    import pycountry

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names[value.lower()] = country.alpha_2
    return names


def _unknown_country(text: str, folded: str | None) -> str:
    problem = (f"unknown country {text!r}: give an ISO 3166-1 alpha-2 or alpha-3 code (CN, CHN) or the "
               "country's exact name")
    close = _close_matches(folded) if folded else []
    return f"{problem}; close matches: {', '.join(close)}" if close else problem


def _close_matches(folded: str, limit: int = 4) -> list[str]:
    """Names near ``folded`` ("Chinaa": China (CN)), or that contain it ("Korea": both Koreas).
    Only ever shown to the user as suggestions."""
    import difflib

    import pycountry

    names = {country.name: country.alpha_2 for country in pycountry.countries}
    for alias, code in _COMMON_NAMES.items():
        if len(alias) > 3:
            names.setdefault(alias.title(), code)
    by_folded = {name.lower(): name for name in names}
    found = difflib.get_close_matches(folded, by_folded, n=limit, cutoff=0.75) if len(folded) > 2 else []
    if len(folded) >= 4:
        found += sorted(key for key in by_folded if folded in key and key not in found)
    shown = []
    for key in found:
        name = by_folded[key]
        entry = f"{name} ({names[name]})"
        if entry not in shown:
            shown.append(entry)
    return shown[:limit]


def country_name(code: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return found.name if found else code
