"""The 2026-01-15 review policy's condition that a product was on the US market (issue 15).

91 FR 1684 (FR Doc 2026-00789), summary, read on govinfo.gov: BIS is "revising its license review
policy for exports of certain semiconductors to China and Macau--changing it from a presumption of
denial to a case-by-case review. The semiconductors covered by this rule are the Nvidia H200 and its
equivalents, as well as less advanced chips--provided that (1) the semiconductors are commercially
available in the United States at the time of publication of this rule and (2) the exporter
certifies ...". Published and effective 2026-01-15. So, in the zone (TPP < 21,000 and total DRAM
bandwidth < 6,500 GB/s): on the US market by 2026-01-15 -> case-by-case; later -> the presumption
of denial it changed from; not known -> either, and tppcalc says which fact is missing.
"""

import datetime as dt
import json

import pytest

from tppcalc import spec_from_figures
from tppcalc.data.availability import AvailabilityTable, default_availability, load_availability
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify
from tppcalc.errors import InputError

CATALOGUE = Catalogue.load()
AFTER_THE_RULE = dt.date(2026, 2, 1)
BOTH = "case-by-case or presumption of denial"


def chip(query):
    return CATALOGUE.lookup(query)


def table(tmp_path, body: str) -> AvailabilityTable:
    path = tmp_path / "united-states.toml"
    path.write_text(body, encoding="utf-8")
    return load_availability(path, CATALOGUE.origins)


SOURCE = '[sources]\nx = { title = "A test source", url = "https://example.org/x", secondary = true }\n'


def test_h200_sxm_on_the_us_market_before_publication_stays_case_by_case():
    # Recorded 2024-06-30 (AI Wiki: "First customer shipments started in Q2 2024 through the major
    # server OEMs and cloud providers"), on or before 2026-01-15: case-by-case.
    result = classify(chip("H200 SXM"), dest="CN", as_of=AFTER_THE_RULE)
    assert result.review_policy == "case-by-case"
    said = " ".join(result.reasons)
    assert "2024-06-30" in said and "commercially available in the United States" in said
    assert "secondary source" in said


def test_a_zone_chip_first_sold_in_the_us_after_publication_keeps_the_presumption_of_denial(tmp_path):
    # A date after 2026-01-15 (a test record: no catalogue chip in the zone is known to be that
    # late) falls outside "commercially available ... at the time of publication": the policy the
    # rule changed from, presumption of denial, applies.
    late = table(tmp_path, SOURCE + '[[chip]]\nid = "nvidia-geforce-rtx-5090"\navailable_by = 2026-01-16\nsource = "x"\n')
    result = classify(chip("RTX 5090"), dest="CN", as_of=AFTER_THE_RULE, availability=late)
    assert result.license_required is True
    assert result.review_policy == "presumption of denial"
    assert any("2026-01-16" in r and "after 2026-01-15" in r for r in result.reasons)
    on_the_day = table(tmp_path, SOURCE + '[[chip]]\nid = "nvidia-geforce-rtx-5090"\navailable_by = 2026-01-15\nsource = "x"\n')
    assert classify(chip("RTX 5090"), dest="CN", as_of=AFTER_THE_RULE,
                    availability=on_the_day).review_policy == "case-by-case"


def test_a_zone_chip_with_no_recorded_date_leaves_both_policies_open():
    # RTX 6000 Ada: 3A090.a, TPP under 21,000 and 960 GB/s, in the zone; no dated source for its
    # US availability (a retailer's listing is not a sale).
    assert default_availability().get("nvidia-rtx-6000-ada") is None
    result = classify(chip("RTX 6000 Ada"), dest="CN", as_of=AFTER_THE_RULE)
    assert result.review_policy == BOTH
    assert any("no date of US commercial availability is recorded" in r for r in result.reasons)
    # Figures typed in are no product on any market: open as well.
    typed = spec_from_figures({"int8": 1000}, datacenter=True, dram_bandwidth_gbps=1000)
    assert classify(typed, dest="CN", as_of=AFTER_THE_RULE).review_policy == BOTH


def test_the_open_review_policy_reaches_every_output(run_cli):
    answer = json.loads(run_cli("classify", "RTX 6000 Ada", "--dest", "CN", "--as-of", "2026-02-01", "--json").stdout)
    assert answer["review_policy"] == BOTH
    assert any("commercially available in the United States" in r for r in answer["reasons"])
    text = run_cli("classify", "RTX 6000 Ada", "--dest", "CN", "--as-of", "2026-02-01", "--explain").stdout
    assert BOTH in text and "no date of US commercial availability is recorded" in text


def test_the_open_review_policy_reaches_the_html_report(run_cli, tmp_path):
    page = tmp_path / "rtx6000.html"
    run_cli("classify", "RTX 6000 Ada", "--dest", "CN", "--as-of", "2026-02-01", "--html", str(page))
    html = page.read_text(encoding="utf-8")
    assert BOTH in html and "no date of US commercial availability is recorded for nvidia-rtx-6000-ada" in html


def test_hong_kong_after_publication_is_denied_not_left_without_a_policy(tmp_path):
    late = table(tmp_path, SOURCE + '[[chip]]\nid = "nvidia-geforce-rtx-5090"\navailable_by = 2026-03-01\nsource = "x"\n')
    result = classify(chip("RTX 5090"), dest="HK", as_of=AFTER_THE_RULE, availability=late)
    assert result.license_required is True and result.review_policy == "presumption of denial"


def test_before_the_rule_the_date_is_not_asked():
    # 2025-01-16 edition: presumption of denial for D:5 whatever the date.
    assert classify(chip("RTX 6000 Ada"), dest="CN", as_of=dt.date(2025, 6, 1)).review_policy == "presumption of denial"


# -- the file is read strictly -----------------------------------------------------------------

@pytest.mark.parametrize(("body", "says"), [
    (SOURCE + '[[chip]]\nid = "nvidia-h999"\navailable_by = 2024-01-01\nsource = "x"\n', "not in the catalogue"),
    (SOURCE + '[[chip]]\nid = "nvidia-l40s"\navailable_by = 2024-01-01\nsource = "y"\n', "not in [sources]"),
    (SOURCE + '[[chip]]\nid = "nvidia-l40s"\navailable_by = 2024-01-01\n', "source"),
    (SOURCE + '[[chip]]\nid = "nvidia-l40s"\navailable_by = "2024-01"\nsource = "x"\n', "TOML date"),
    (SOURCE + '[[chip]]\nid = "nvidia-l40s"\navailable_by = 2024-01-01T00:00:00\nsource = "x"\n', "TOML date"),
    (SOURCE + ('[[chip]]\nid = "nvidia-l40s"\navailable_by = 2024-01-01\nsource = "x"\n' * 2), "listed twice"),
    ('[sources]\nx = { title = "t", url = "not a url" }\n', "url"),
    (SOURCE + '[[chip]]\nid = "nvidia-l40s"\navailable_by = 2024-01-01\nsource = "x"\nmaybe = true\n', "maybe"),
])
def test_a_bad_availability_file_is_refused_naming_the_file(tmp_path, body, says):
    with pytest.raises(InputError) as caught:
        table(tmp_path, body)
    assert says in str(caught.value) and "united-states.toml" in str(caught.value)


def test_the_shipped_file_loads_against_the_catalogue_and_covers_the_h200():
    shipped = default_availability()
    assert len(shipped) >= 5
    assert shipped.get("nvidia-h200-sxm-141gb").available_by == dt.date(2024, 6, 30)
    assert all(record.source.url.startswith("https://") for record in shipped)


def test_the_chart_zone_and_the_edition_listing_state_the_condition():
    from tppcalc.decisions.rules.editions import default_rulebook
    from tppcalc.render.chart import bandwidth_areas, rules_view
    from tppcalc.render.report import edition_blocks

    (zone,) = [a for a in bandwidth_areas(rules_view(as_of=AFTER_THE_RULE)) if a.kind == "review zone"]
    assert zone.label.endswith("if on the US market by 2026-01-15")
    listing = repr(edition_blocks(default_rulebook().get("2026-01-15")))
    assert "china-macau-case-by-case: case-by-case" in listing
    assert "commercially available in the United States by 2026-01-15" in listing
