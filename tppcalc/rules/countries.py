"""Country Groups (15 CFR 740 Supp. 1) and AI Diffusion tiers, on a date; country names to codes.

Group membership is data (``rules/data/country_groups.toml``): a member list valid on ``as_of``
plus dated changes, each with its source. ``members(group, day)`` replays the changes up to the day.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from pydantic import Field, ValidationError

from tppcalc.errors import InputError, SpecError
from tppcalc.rules import RULES_DATA_DIR
from tppcalc.spec import Source, StrictModel
from tppcalc.specfile import parse_document, validation_errors
from tppcalc.validated_cache import cached


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

    def groups_of(self, code: str, day: dt.date) -> list[str]:
        return [g.id for g in self.group if code in self.members(g.id, day)]

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


# Everyday names pycountry's lookup does not know.
_COMMON_NAMES = {"macau": "MO", "uk": "GB", "britain": "GB", "great britain": "GB", "russia": "RU",
                 "north korea": "KP", "south korea": "KR", "iran": "IR", "syria": "SY", "burma": "MM",
                 "laos": "LA", "vietnam": "VN", "usa": "US", "united states of america": "US"}


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


def resolve_country(text: str, *, option: str = "--dest") -> str:
    """ISO 3166-1 alpha-2 code from a code or a name (``"AE"``, ``"ARE"``, ``"United Arab Emirates"``)."""
    query = text.strip()
    if not query:
        raise InputError("empty country", field=option)
    if query.lower() in _COMMON_NAMES:
        return _COMMON_NAMES[query.lower()]
    if len(query) == 2 and query.upper() in ALPHA_2:
        return query.upper()

    import pycountry

    try:
        if len(query) in (2, 3) and query.isalpha():
            found = pycountry.countries.get(**{"alpha_2" if len(query) == 2 else "alpha_3": query.upper()})
            if found is not None:
                return found.alpha_2
        return pycountry.countries.lookup(query).alpha_2
    except LookupError:
        pass
    try:
        matches = pycountry.countries.search_fuzzy(query)
    except LookupError:
        matches = []
    if len(matches) == 1:
        return matches[0].alpha_2
    hint = f"; did you mean {', '.join(m.name for m in matches[:4])}?" if matches else ""
    raise InputError(f"unknown country {text!r}{hint}", field=option)


def country_name(code: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return found.name if found else code
