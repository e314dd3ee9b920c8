"""Country groups on a date, tiers, and country names."""

import datetime as dt

import pytest

from tppcalc.decisions.rules.countries import country_data, resolve_country
from tppcalc.errors import InputError

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

    from tppcalc.decisions.rules.countries import ALPHA_2

    assert ALPHA_2 == {country.alpha_2 for country in pycountry.countries}
    assert resolve_country(" cn ") == "CN" and resolve_country("uk") == "GB"


# --- One strict resolver for every place a country is given (issue 14, item 1) -------------------
# Accepted: an ISO 3166-1 alpha-2 or alpha-3 code, or a country's exact name, official name or
# common name (ISO 3166-1 as pycountry carries it), in any case. Nothing is guessed.

ACCEPTED = [
    ("CN", "CN"), ("cn", "CN"), ("Cn", "CN"), ("CHN", "CN"), ("chn", "CN"), ("China", "CN"), ("CHINA", "CN"),
    ("People's Republic of China", "CN"),
    ("HK", "HK"), ("HKG", "HK"), ("Hong Kong", "HK"), ("Hong Kong Special Administrative Region of China", "HK"),
    ("MO", "MO"), ("MAC", "MO"), ("Macao", "MO"),
    ("KOR", "KR"), ("Korea, Republic of", "KR"), ("Türkiye", "TR"), ("TÜRKIYE", "TR"), ("US", "US"), ("USA", "US"),
]


@pytest.mark.parametrize(("text", "code"), ACCEPTED)
def test_codes_and_exact_names_resolve(text, code):
    assert resolve_country(text) == code


REFUSED = [
    "XX", "xx", "XK", "ZZ", "AA", "QM", "EU",  # user-assigned or reserved codes: no country
    "Chinaa", "Chin", "Korea", "Congo Republic", "Atlantis", "Malta Island",  # near misses are not guesses
    "156",  # ISO numeric codes are not taken
    "C N", "", "   ",
    "\u212aR",  # KELVIN SIGN + R: lower-cases to "kr", and must not pass for Korea
    "\u0131n",  # dotless i + n: upper-cases to "IN", and must not pass for India
    # Garbled, not spaced: a line end, tab, control or Unicode space around a code (the fuzz
    # harness found 'cn\n' and '\x1eUS' taken as CN and US). Only plain spaces are trimmed.
    "cn\n", "\tUS", "\x1eUS", "US\x1f", "US\u3000", "\u2028DE", "\x85US",
]


@pytest.mark.parametrize("text", REFUSED)
def test_anything_else_is_refused(text):
    with pytest.raises(InputError) as caught:
        resolve_country(text, option="--dest")
    assert caught.value.field == "--dest"


@pytest.mark.parametrize("value", [None, 86, 1.5, ["CN"], {"CN": 1}, b"CN"])
def test_a_country_that_is_not_text_is_refused(value):
    with pytest.raises(InputError, match="country"):
        resolve_country(value, option="hq")


def test_the_refusal_lists_close_matches_without_using_them():
    with pytest.raises(InputError, match=r"China \(CN\)") as caught:
        resolve_country("Chinaa", option="--dest")
    assert str(caught.value).startswith("--dest: unknown country 'Chinaa'")
    with pytest.raises(InputError) as caught:
        resolve_country("Korea", option="--hq")
    assert "(KR)" in str(caught.value) and "(KP)" in str(caught.value)
    # "XX" was fuzzy-matched to Malta before: now it is an unknown code and Malta is never offered.
    with pytest.raises(InputError, match="unknown country 'XX'") as caught:
        resolve_country("XX")
    assert "Malta" not in str(caught.value)


def test_hong_kong_and_macau_stay_distinct_from_china():
    codes = [resolve_country(t) for t in ("China", "Hong Kong", "Macao", "Macau", "hk", "mo")]
    assert codes == ["CN", "HK", "MO", "MO", "HK", "MO"]


H200 = "H200 SXM"
JAN_2026 = D(2026, 2, 1)


@pytest.mark.parametrize("dest", ["China", "china", "cn", "CN", "CHN"])
def test_the_api_resolves_the_destination_china_is_d5_and_needs_a_licence(dest):
    # 3A090.a to a D:5 destination needs a licence (15 CFR 742.6(a)(6)(iii)); China is in D:5.
    import tppcalc

    spec = tppcalc.default_catalogue().lookup(H200)
    result = tppcalc.classify(spec, dest=dest, as_of=JAN_2026)
    assert result.destination == "CN"
    assert result.license_required is True


def test_the_api_resolves_the_headquarters_too():
    # A D:5-headquartered end user needs a licence to any destination outside the US (742.6(a)(6)(iii)(B)).
    import tppcalc

    spec = tppcalc.default_catalogue().lookup(H200)
    result = tppcalc.classify(spec, dest="DE", hq="china", as_of=JAN_2026)
    assert result.headquarters == "CN" and result.license_required is True


@pytest.mark.parametrize(("keyword", "value"), [("dest", "XX"), ("dest", "Chinaa"), ("hq", "xx"), ("dest", 156)])
def test_the_api_refuses_an_unknown_destination_or_headquarters(keyword, value):
    import tppcalc

    spec = tppcalc.default_catalogue().lookup(H200)
    with pytest.raises(InputError) as caught:
        tppcalc.classify(spec, **{keyword: value}, as_of=JAN_2026)
    assert caught.value.field == keyword


def test_the_cli_refuses_xx_instead_of_guessing_malta(run_cli):
    for option in ("--dest", "--hq"):
        result = run_cli("classify", H200, "--dest", "CN", option, "XX", "--as-of", "2026-02-01")
        assert result.exit_code == 1
        assert result.stderr.startswith(f"tppcalc: error: {option}: unknown country 'XX'")
        assert result.stderr.count("\n") == 1 and "Malta" not in result.stderr


def test_batch_refuses_an_unknown_destination(tmp_path, run_cli):
    products = tmp_path / "products.csv"
    products.write_text("chip\nH200 SXM\n")
    result = run_cli("batch", str(products), "-o", str(tmp_path / "out.csv"), "--dest", "XX")
    assert result.exit_code == 1 and "--dest: unknown country 'XX'" in result.stderr


def test_the_batch_api_resolves_a_destination_name(tmp_path):
    import io

    from tppcalc.batch import classify_file

    for dest in ("XX", "Chinaa"):
        with pytest.raises(InputError, match=f"unknown country '{dest}'"):
            classify_file(io.BytesIO(b"chip\nH200 SXM\n"), io.BytesIO(), input_format="csv", dest=dest)


def test_fleet_inventories_and_probe_lines_refuse_unknown_countries(tmp_path):
    import json

    from tppcalc.data.catalogue import Catalogue
    from tppcalc.errors import SpecError
    from tppcalc.fleet import report_fleet

    catalogue = Catalogue.load()
    inventory = tmp_path / "fleet.toml"
    for field in ("country", "operator_hq"):
        country = "XX" if field == "country" else "DE"
        hq = "\noperator_hq = \"XX\"" if field == "operator_hq" else ""
        inventory.write_text(f'[[site]]\nname = "fra"\ncountry = "{country}"{hq}\n'
                             '[[site.item]]\nchip = "H100 SXM"\ncount = 1\n')
        with pytest.raises(SpecError) as caught:
            report_fleet([inventory], catalogue, as_of=JAN_2026)
        assert f"site.0.{field}" in {f for f, _ in caught.value.errors}
    lines = tmp_path / "nodes.jsonl"
    for node in ({"country": "XX"}, {"country": "DE", "operator_hq": "Chinaa"}, {"country": 156}):
        lines.write_text(json.dumps({"host": {"hostname": "n1"}, **node}) + "\n")
        with pytest.raises(InputError, match="unknown country|country") as caught:
            report_fleet([lines], catalogue, as_of=JAN_2026)
        assert "nodes.jsonl:1" in str(caught.value)


def test_a_two_letter_code_in_any_case_is_resolved_without_loading_pycountry():
    import subprocess
    import sys

    script = ("import sys; from tppcalc.decisions.rules.countries import resolve_country; "
              "assert [resolve_country(c) for c in ('CN', 'cn', ' hk ')] == ['CN', 'CN', 'HK']; "
              "assert 'pycountry' not in sys.modules")
    subprocess.run([sys.executable, "-c", script], check=True)


# "Congo" is ISO 3166-1's short name of the Republic of the Congo (CG), but in everyday use it as
# often means the Democratic Republic of the Congo (CD). The two sit on opposite sides of the rules:
# CD is in Country Group D:5 (15 CFR 740 Supp. No. 1, the eCFR table of 2026-07-23), CG is not. Read
# as CG, an export of an H20 to "Congo" in 2025 needed no licence where the DRC needs one (the
# is-informed letter reaches D:5). Like "Korea", it is refused with both as suggestions.
@pytest.mark.parametrize("text", ["Congo", "congo", "CONGO"])
def test_congo_alone_is_refused_with_both_congos_suggested(text):
    with pytest.raises(InputError) as caught:
        resolve_country(text)
    assert "(CG)" in str(caught.value) and "(CD)" in str(caught.value)
    assert resolve_country("COG") == "CG" and resolve_country("COD") == "CD"
