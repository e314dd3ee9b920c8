"""Fleet totals and the checks against the caps of the rules, exactly.

Totals: TPP and H100-equivalents per country, AI Diffusion tier, site and consignee. Checks, each
pass / fail / undetermined with its value and limit: License Exception LPP per consignee and year,
the Tier 2 country allocation, the Universal VEU shares per operator, and the January 2026 rule's
China-to-US volume condition per product. Only chips that are (or may be) 3A090.a count toward the
caps; a holding whose TPP or classification is unknown keeps a check undetermined whenever it could
change the answer. Comparisons are exact: a total equal to a limit passes an "at most" cap.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Literal

from tppcalc.core.exact import EXACT, ratio
from tppcalc.data.naming import invisible_character
from tppcalc.decisions.rules.countries import country_data
from tppcalc.decisions.rules.editions import RuleBook
from tppcalc.decisions.rules.in_force import caps_in_force
from tppcalc.errors import InputError
from tppcalc.fleet.inventory import Holding

Status = Literal["pass", "fail", "undetermined"]
CHINA = ("CN", "HK", "MO")
UNKNOWN_CONSIGNEE = "(no consignee given)"
MAX_PARTY_CHARS = 300  # a company name, its legal form and a branch fit well within this
_LINE_ENDS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines breaks at
# What inventories write for an operator or consignee they do not know (compared case-folded, with
# spacing collapsed): read as none given, so such holdings may be anyone's.
NO_PARTY = frozenset({"", "-", "--", "?", "n/a", "n.a.", "n.a", "na", "none", "null", "nil", "unknown", "tbd",
                      "tba", "not applicable", "not available", "not known", "(no consignee given)"})
ZERO = Decimal(0)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    value: Decimal | Fraction | None  # shares are exact Fractions: a limit is never crossed by rounding
    limit: Decimal
    rule: str
    detail: str = ""


@dataclass
class Total:
    """A sum that may hold unknowns: ``tpp`` is what is known, ``complete`` whether that is all."""

    tpp: Decimal = ZERO
    complete: bool = True
    units: int = 0

    def add(self, holding: Holding) -> None:
        self.units += holding.count
        if holding.unit_tpp is None:
            self.complete = False
        else:
            self.tpp += holding.unit_tpp * holding.count


@dataclass(frozen=True)
class FleetReport:
    as_of: dt.date
    totals_by_country: dict[str, Total]
    totals_by_tier: dict[str, Total]
    totals_by_site: dict[str, Total]
    totals_by_consignee: dict[str, Total]
    checks: list[Check]
    notes: list[str] = field(default_factory=list)


def fleet_report(holdings: list[Holding], controlled: dict[str, str], book: RuleBook, *,
                 as_of: dt.date, caps: dict[str, Decimal] | None = None) -> FleetReport:
    """``controlled`` maps each chip id to "yes", "no" or "maybe" (is it 3A090.a under the rules).
    Sums run in the exact context, so a total that would round raises instead of crossing a limit."""
    with localcontext(EXACT):
        return _fleet_report(holdings, controlled, book, as_of, caps)


def _fleet_report(holdings, controlled, book, as_of, caps) -> FleetReport:
    by_site: dict[str, Total] = defaultdict(Total)
    for holding in holdings:
        by_site[holding.site].add(holding)
    holdings = _pooled(_one_spelling_per_party(holdings))
    countries = country_data()
    tier_of = {country: countries.tier_of(country, as_of) for country in {h.country for h in holdings}}
    by_country, by_tier, by_consignee = (defaultdict(Total) for _ in range(3))
    for holding in holdings:
        by_country[holding.country].add(holding)
        by_tier[tier_of[holding.country]].add(holding)
        by_consignee[holding.consignee or UNKNOWN_CONSIGNEE].add(holding)

    limits, notes = _limits(book, as_of, caps or {})
    checks: list[Check] = []
    counted = [h for h in holdings if controlled.get(h.chip_id, "maybe") != "no"]
    if "lpp_tpp_per_consignee_year" in limits:
        checks.extend(_lpp([h for h in counted if tier_of[h.country] != "tier3"], controlled, limits))
        checks.extend(_lpp_unavailable([h for h in counted if tier_of[h.country] == "tier3"], controlled, limits))
        checks.extend(_tier2_allocation(counted, controlled, limits, tier_of))
        checks.extend(_uveu(counted, controlled, limits, tier_of))
    if "china_to_us_max_ratio" in limits:
        checks.extend(_china_volume(counted, controlled, limits))
    return FleetReport(as_of, dict(by_country), dict(by_tier), dict(by_site), dict(by_consignee), checks, notes)


ALL_SITES = "(all sites)"


def _pooled(holdings: list[Holding]) -> list[Holding]:
    """The holdings summed over sites, in order of first appearance. Only the site totals need
    sites apart, and a fleet of 100,000 nodes, each its own site, pools into a few dozen."""
    counts: dict[tuple, int] = {}
    for h in holdings:
        key = (h.country, h.operator, h.operator_hq, h.chip_id, h.unit_tpp, h.shipped, h.consignee)
        counts[key] = counts.get(key, 0) + h.count
    return [Holding(ALL_SITES, country, operator, operator_hq, chip_id, unit_tpp, count, shipped, consignee, ALL_SITES)
            for (country, operator, operator_hq, chip_id, unit_tpp, shipped, consignee), count in counts.items()]


def _one_spelling_per_party(holdings: list[Holding]) -> list[Holding]:
    """Consignees and operators equal but for case and spacing ("Example GmbH", "EXAMPLE  GmbH")
    are one party, under the first spelling seen: split, each could stay under a cap that the
    party as a whole crosses."""
    first: dict[str, str] = {}
    spelled: dict[str, str] = {}

    def party(name: str | None) -> str | None:
        if not name:
            return name
        found = spelled.get(name)
        if found is None:
            key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
            # "N/A", "unknown", a number ("0", "1e999999"), no letter at all, or a garbled name (a
            # control or invisible format character: a terminal colour code, a zero-width space,
            # one party spelled to look like two; a word of look-alike letters from two scripts;
            # a spreadsheet formula where its value should be; a line break; longer than any name):
            # no party named, which may then be any (never a party of its own)
            unnamed = (key in NO_PARTY or not any(ch.isalpha() for ch in key) or _is_number(key)
                       or len(name) > MAX_PARTY_CHARS or not _LINE_ENDS.isdisjoint(name)
                       or invisible_character(key) is not None
                       or any(_mixes_look_alike_scripts(word) for word in key.split())
                       or _FORMULA.fullmatch(key) is not None)
            found = spelled[name] = None if unnamed else first.setdefault(key, name)
        return found

    out = []
    for h in holdings:
        consignee, operator = party(h.consignee), party(h.operator)
        out.append(h if consignee is h.consignee and operator is h.operator
                   else h._replace(consignee=consignee, operator=operator))
    return out


# A spreadsheet formula exported as its text: "=A1", "@SUM(A1)", "+HYPERLINK(...)". A name may
# start with @ or + ("@Home Network"), but not as a function call that fills the whole cell.
_FORMULA = re.compile(r"=.*|[+\-@]\s*[^\W\d]\w*(?:\.\w+)*\s*\(.*\)\s*", re.DOTALL)


# Scripts whose letters pass for each other's (Latin a, Cyrillic а, Greek α): a word that takes
# letters from two of them is spelled to look like another word (Unicode TR39's mixed-script
# check). Names that mix other scripts, such as Japanese kana and kanji, are ordinary.
_LOOK_ALIKE_SCRIPTS = ("LATIN ", "CYRILLIC ", "GREEK ")


def _mixes_look_alike_scripts(word: str) -> bool:
    scripts = {script for ch in word if ch.isalpha()
               for script in _LOOK_ALIKE_SCRIPTS if unicodedata.name(ch, "").startswith(script)}
    return len(scripts) > 1


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


@dataclass(frozen=True)
class Limits:
    values: dict[str, Decimal]
    rule_of: dict[str, str]   # which rule (and its status on the date) each limit comes from

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def __getitem__(self, key: str) -> Decimal:
        return self.values[key]


def _limits(book: RuleBook, as_of: dt.date, overrides: dict[str, Decimal]) -> tuple[Limits, list[str]]:
    values: dict[str, Decimal] = {}
    rule_of: dict[str, str] = {}
    notes = []
    for edition in caps_in_force(as_of, rulebook=book):
        rule = f"{edition.title}: {edition.status_on(as_of)}"
        values.update(edition.caps)
        rule_of.update(dict.fromkeys(edition.caps, rule))
        notes.append(rule)
    unknown = set(overrides) - set(values)
    if unknown:
        raise InputError(f"unknown cap {', '.join(sorted(unknown))} (caps on {as_of}: {', '.join(sorted(values))})",
                         field="--cap")
    values.update(overrides)
    rule_of.update(dict.fromkeys(overrides, "what-if value given with --cap (replaces the rule's)"))
    return Limits(values, rule_of), notes


def _bounded(holdings: list[Holding], controlled: dict[str, str]) -> tuple[Decimal, Decimal | None]:
    """Known TPP of certain 3A090.a holdings, and the upper bound adding the uncertain ones."""
    low, high = ZERO, ZERO
    for holding in holdings:
        certain = controlled.get(holding.chip_id) == "yes"
        if holding.unit_tpp is None:
            high = None
            continue
        amount = holding.unit_tpp * holding.count
        if certain:
            low += amount
        if high is not None:
            high += amount
    return low, high


def _at_most(name, low, high, limit, rule, detail="") -> Check:
    if low > limit:
        return Check(name, "fail", low, limit, rule, detail)
    if high is not None and high <= limit:
        return Check(name, "pass", high, limit, rule, detail)
    return Check(name, "undetermined", low, limit, rule,
                 (detail + "; " if detail else "") + "unknown TPP or classification could cross the limit")


def _lpp(holdings, controlled, limits) -> list[Check]:
    """License Exception LPP: at most the cap of cumulative TPP per consignee per calendar year.
    Exports only: holdings in the United States are not counted."""
    groups: dict[tuple[str, int | None], list[Holding]] = defaultdict(list)
    for holding in holdings:
        if holding.country == "US":
            continue
        groups[(holding.consignee or UNKNOWN_CONSIGNEE, holding.shipped.year if holding.shipped else None)].append(holding)
    checks = []
    limit, rule = limits["lpp_tpp_per_consignee_year"], limits.rule_of["lpp_tpp_per_consignee_year"]
    for (consignee, year), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        low, high = _bounded(group, controlled)
        detail = "License Exception LPP (15 CFR 740.29)"
        # Holdings without a consignee, or of this consignee without a shipping date, may be this
        # group's: its upper bound counts them, so staying under the cap is a pass only with them.
        pooled = [h for (c, y), other in groups.items() if (c, y) != (consignee, year)
                  and c in (consignee, UNKNOWN_CONSIGNEE) and y in (year, None) for h in other]
        if pooled and consignee != UNKNOWN_CONSIGNEE and year is not None:
            extra = _bounded(pooled, controlled)[1]
            high = None if high is None or extra is None else high + extra
            detail += "; holdings without a consignee or a shipping date may be this consignee's in this year"
        name = f"LPP {consignee} {year if year else '(shipping year unknown)'}"
        check = _at_most(name, low, high, limit, rule, detail)
        if check.status == "fail" and (consignee == UNKNOWN_CONSIGNEE or year is None):
            # Pooled holdings may belong to several consignees or years: over the cap proves nothing.
            check = Check(name, "undetermined", low, limit, rule,
                          "holdings without a consignee or a shipping date are pooled; give them to decide")
        checks.append(check)
    return checks


def _lpp_unavailable(holdings, controlled, limits) -> list[Check]:
    """LPP cannot be used for D:5 or Macau (Tier 3): a 3A090.a holding there fails the check
    whatever its amount, so staying under the cap is never a pass (one that may be 3A090.a, or
    whose TPP is unknown, is undetermined)."""
    groups: dict[tuple[str, str], list[Holding]] = defaultdict(list)
    for holding in holdings:
        groups[(holding.consignee or UNKNOWN_CONSIGNEE, holding.country)].append(holding)
    rule = limits.rule_of["lpp_tpp_per_consignee_year"]
    checks = []
    for (consignee, country), group in sorted(groups.items()):
        low, _ = _bounded(group, controlled)
        status: Status = "fail" if low > 0 else "undetermined"
        checks.append(Check(f"LPP {consignee} in {country}", status, low, ZERO, rule,
                            f"License Exception LPP (15 CFR 740.29) is not available for {country} "
                            "(Country Group D:5 or Macau)"))
    return checks


def _tier2_allocation(holdings, controlled, limits, tier_of) -> list[Check]:
    first, last = int(limits["tier2_allocation_first_year"]), int(limits["tier2_allocation_last_year"])
    by_country: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings:
        if tier_of[holding.country] != "tier2":
            continue
        if holding.shipped is not None and not first <= holding.shipped.year <= last:
            continue
        by_country[holding.country].append(holding)  # undated ones may fall in the window
    checks = []
    limit, rule = limits["tier2_allocation_tpp"], limits.rule_of["tier2_allocation_tpp"]
    for country, group in sorted(by_country.items()):
        low, _ = _bounded([h for h in group if h.shipped is not None], controlled)
        _, high = _bounded(group, controlled)
        detail = f"shipped {first}-{last}; allocation from secondary sources"
        if any(h.shipped is None for h in group):
            detail += "; holdings without a shipping date counted as possibly in the window"
        checks.append(_at_most(f"Tier 2 allocation {country}", low, high, limit, rule, detail))
    return checks


def _uveu(holdings, controlled, limits, tier_of) -> list[Check]:
    """Universal VEU shares for each operator (of its compute that is or may be 3A090.a).

    A holding that names no operator may be any operator's: each share is bounded between the
    operator's holdings with the least and the most favourable of those added, and a check passes
    or fails only where both bounds agree (else undetermined)."""
    checks = []
    operators: dict[str, list[Holding]] = defaultdict(list)
    unowned: list[Holding] = []
    for holding in holdings:
        (operators[holding.operator] if holding.operator else unowned).append(holding)
    rule = limits.rule_of["uveu_tier1_min_share"]
    spare = _by_country(unowned) if all(_known(h, controlled) for h in unowned) else None
    note = (f"; {sum(h.count for h in unowned):,} units name no operator and may be this operator's"
            if unowned else "")
    for operator, group in sorted(operators.items()):
        if spare is None or not all(_known(h, controlled) for h in group):
            checks.append(Check(f"UVEU {operator} Tier 1 share", "undetermined", None,
                                limits["uveu_tier1_min_share"], rule, "a holding's TPP or classification is unknown"
                                + (" (one that names no operator)" if spare is None else "")))
            continue
        shares = _by_country(group)
        total = sum(shares.values(), ZERO)
        if total == 0:
            continue
        extra = sum(spare.values(), ZERO)

        def bounds(countries) -> tuple[Fraction, Fraction]:
            """The least and the greatest share of ``countries`` with any of the unowned holdings added."""
            inside = sum((a for c, a in shares.items() if c in countries), ZERO)
            spare_in = sum((a for c, a in spare.items() if c in countries), ZERO)
            return ratio(inside, total + extra - spare_in), ratio(inside + spare_in, total + spare_in)

        tier1 = {c for c in (*shares, *spare) if tier_of[c] == "tier1"}
        minimum = limits["uveu_tier1_min_share"]
        checks.append(_share_check(f"UVEU {operator} Tier 1 share", bounds(tier1), minimum, None, rule,
                                   "at least this share of the operator's TPP in Tier 1" + note))
        maximum = limits["uveu_tier2_country_max_share"]
        tier2 = {c: bounds({c}) for c in (*shares, *spare) if tier_of[c] == "tier2"}
        worst = max(tier2.items(), key=lambda kv: kv[1][1], default=(None, (Fraction(0), Fraction(0))))
        checks.append(_share_check(
            f"UVEU {operator} largest Tier 2 country share",
            (max((low for low, _ in tier2.values()), default=Fraction(0)), worst[1][1]), None, maximum, rule,
            f"at most this share in any one Tier 2 country{f' (largest: {worst[0]})' if worst[0] else ''}" + note))
        headquarters = {h.operator_hq for h in group}
        if "US" in headquarters or None in headquarters:
            # Headquarters not given (or given two ways) may be the US: the check is never dropped,
            # and a share under the floor is then undetermined rather than failed.
            us_minimum = limits["uveu_us_min_share_for_us_headquartered"]
            check = _share_check(f"UVEU {operator} US share", bounds({"US"}), us_minimum, None, rule,
                                 "a US-headquartered operator keeps at least this share in the US" + note)
            if check.status == "fail" and headquarters != {"US"}:
                check = replace(check, status="undetermined", detail=check.detail + "; operator_hq is not given, "
                                "or differs, for some holdings: it may be the US")
            checks.append(check)
    return checks


def _known(holding: Holding, controlled) -> bool:
    return holding.unit_tpp is not None and controlled.get(holding.chip_id) == "yes"


def _by_country(holdings) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for h in holdings:
        amounts[h.country] += h.unit_tpp * h.count
    return amounts


def _share_check(name: str, bounds: tuple[Fraction, Fraction], minimum, maximum, rule: str, detail: str) -> Check:
    """A share that must be at least ``minimum`` (or at most ``maximum``), known to lie within
    ``bounds``: pass or fail where both ends agree, undetermined between. The value shown is the
    end that decides against the operator."""
    low, high = bounds
    if minimum is not None:
        status: Status = "pass" if low >= minimum else "fail" if high < minimum else "undetermined"
        return Check(name, status, low, minimum, rule, detail)
    status = "pass" if high <= maximum else "fail" if low > maximum else "undetermined"
    return Check(name, status, high, maximum, rule, detail)


def _china_volume(holdings, controlled, limits) -> list[Check]:
    """Per product: TPP bound for China/Macau at most a share of the TPP shipped to US customers."""
    maximum, rule = limits["china_to_us_max_ratio"], limits.rule_of["china_to_us_max_ratio"]
    checks = []
    for chip in sorted({h.chip_id for h in holdings if h.country in CHINA}):
        china = [h for h in holdings if h.chip_id == chip and h.country in CHINA]
        us = [h for h in holdings if h.chip_id == chip and h.country == "US"]
        if any(h.unit_tpp is None for h in china + us):
            checks.append(Check(f"China volume {chip}", "undetermined", None, maximum, rule, "TPP unknown"))
            continue
        to_china = sum((h.unit_tpp * h.count for h in china), ZERO)
        to_us = sum((h.unit_tpp * h.count for h in us), ZERO)
        share = None if to_us == 0 else ratio(to_china, to_us)
        status: Status = "fail" if share is None or share > maximum else "pass"
        checks.append(Check(f"China volume {chip}", status, share, maximum, rule,
                            f"China/Macau TPP {to_china} against US TPP {to_us}"))
    return checks
