"""Country groups on a date, tiers, and country names."""

import datetime as dt

import pytest

from tppcalc.errors import InputError
from tppcalc.rules.countries import country_data, resolve_country

D = dt.date


def test_every_group_the_rules_name_exists_and_every_source_resolves():
    data = country_data()
    assert {g.id for g in data.group} >= {"A:1", "A:5", "A:6", "D:1", "D:3", "D:4", "D:5", "E:1", "E:2"}
    keys = {g.source for g in data.group} | {c.source for g in data.group for c in g.change} | {t.source for t in data.tier}
    assert keys <= set(data.sources)
    assert all(s.url and s.url.startswith("http") for s in data.sources.values())


def test_dated_changes_replay():
    data = country_data()
    assert "NI" not in data.members("D:5", D(2023, 1, 1))
    assert "NI" in data.members("D:5", D(2024, 6, 1))
    assert "CY" in data.members("D:5", D(2023, 1, 1)) and "CY" not in data.members("D:5", D(2024, 6, 1))


def test_china_and_macau():
    data = country_data()
    assert "CN" in data.members("D:5", D(2024, 1, 1))
    assert data.tier_of("MO", D(2025, 2, 1)) == "tier3"
    assert data.tier_of("DE", D(2025, 2, 1)) == "tier1" and data.tier_of("US", D(2025, 2, 1)) == "tier1"
    assert data.tier_of("IN", D(2025, 2, 1)) == "tier2"


def test_the_2023_rule_reaches_44_countries_plus_macau():
    # CSET: D:1, D:4 and D:5 less A:5/A:6 is 44 countries and Macau (excluding Israel and Cyprus).
    data = country_data()
    day = D(2023, 11, 17)
    scope = (data.members("D:1", day) | data.members("D:4", day) | data.members("D:5", day)) \
        - data.members("A:5", day) - data.members("A:6", day)
    assert "MO" in scope and "IL" not in scope and "CY" not in scope
    assert len(scope - {"MO", "HK"}) == 44


@pytest.mark.parametrize(("text", "code"), [("AE", "AE"), ("ARE", "AE"), ("United Arab Emirates", "AE"),
                                            ("macau", "MO"), ("South Korea", "KR"), ("germany", "DE")])
def test_country_names_and_codes(text, code):
    assert resolve_country(text) == code


def test_an_unknown_country_names_the_option():
    with pytest.raises(InputError, match="--hq: unknown country 'Atlantis'"):
        resolve_country("Atlantis", option="--hq")


def test_the_codes_resolved_without_pycountry_are_pycountrys():
    import pycountry

    from tppcalc.rules.countries import ALPHA_2

    assert ALPHA_2 == {country.alpha_2 for country in pycountry.countries}
    assert resolve_country(" cn ") == "CN" and resolve_country("uk") == "GB"
