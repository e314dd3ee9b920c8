"""Tests that kill the mutmut survivors of tppcalc/decisions/classification.py (issue 17, item 6).

Each test names the mutants it kills (mutmut's names, ``tppcalc.decisions.classification.x_<function>__mutmut_<n>``
as of the run recorded in bench/RESULTS.md). Expected values come from the rule text
(/work/shared/reference/regulation.md), the datasheets, or the exact words a user reads, never from
the code: a message is pinned where a user reads it.
"""

import datetime as dt

import pytest

from tppcalc import compute_metrics, spec_from_figures
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.specfile import specs_from_document
from tppcalc.decisions.classification import ConditionCheck, ExceptionOption, classify, control_order, letter_signature
from tppcalc.decisions.rules.countries import country_data
from tppcalc.decisions.rules.editions import default_rulebook
from tppcalc.errors import InputError

CATALOGUE = Catalogue.load()
D = dt.date
AFTER_2023_RULE = D(2024, 1, 1)        # 88 FR 73458, effective 2023-11-17
AFTER_LETTERS = D(2025, 6, 1)          # is-informed letters of 2025-04-09 (NVIDIA 8-K of 2025-04-15)
AI_DIFFUSION_EFFECTIVE = D(2025, 2, 1)  # 90 FR 4544, effective 2025-01-13; applied only as written
AFTER_2026_RULE = D(2026, 2, 1)        # 91 FR 1684, effective 2026-01-15
# 15 CFR 742.6(a)(6)(iii) and the headquartered-in rule 744.23(a)(3), both from 88 FR 73458.
LICENCE_CITATION_2023 = "15 CFR 742.6(a)(6)(iii); headquartered-in rule 15 CFR 744.23(a)(3) (88 FR 73458)"


def chip(query):
    return CATALOGUE.lookup(query)


def eccns(order) -> list[str]:
    return [str(eccn) for eccn in order.ordered]


# ------------------------------------------------------------------------------- control_order


def test_control_order_ranks_a_computers_outcomes_by_default():
    """Kills control_order__mutmut_1/2 (the default item misspelt). 88 FR 73458: a computer holding a
    3A090.a/.b IC is 4A090.a/.b; the .a paragraphs come first."""
    assert eccns(control_order(as_of=AFTER_2023_RULE)) == ["4A090.a", "4A090.b", "outside 4A090"]


def test_control_order_takes_the_named_edition():
    """Kills control_order__mutmut_6 (edition dropped). The 2022 rule (87 FR 62186) had one
    paragraph, 3A090, with no .a/.b; a 2024 day alone would give the 2023 rule's .a/.b."""
    assert eccns(control_order("ic", as_of=AFTER_2023_RULE, edition="2022-10-07")) == ["3A090", "outside 3A090"]


def test_control_order_reads_the_rulebook_it_is_given():
    """Kills control_order__mutmut_8/13 (rulebook dropped). The 2026 rules list 3A090.a, .b and the
    HBM paragraph .c (89 FR 96790); a rulebook holding only the .a paragraphs orders only those."""
    book = default_rulebook()
    assert eccns(control_order("ic", as_of=AFTER_2026_RULE, rulebook=book)) == [
        "3A090.a", "3A090.b", "3A090.c", "outside 3A090"]
    latest = book.get("2026-01-15")
    only_a = book.model_copy(update={"editions": (latest.model_copy(
        update={"paragraphs": [p for p in latest.paragraphs if p.eccn == "3A090.a"]}),)})
    assert eccns(control_order("ic", as_of=AFTER_2026_RULE, rulebook=only_a)) == ["3A090.a", "outside 3A090"]


# ---------------------------------------------------------------------------- letter_signature

H20 = compute_metrics(chip("H20"))  # named in NVIDIA's letter (8-K of 2025-04-15)


def test_letter_signature_names_the_letter_that_requires_a_licence():
    """Kills letter_signature__mutmut_2 (no destination taken as one) and _35/_36 (the filter on ``required`` turned): the H20 to China after 2025-04-09 needs a licence by
    NVIDIA's letter."""
    assert letter_signature(H20, dest="CN", as_of=AFTER_LETTERS) == (("nvidia-h20", True),)
    assert letter_signature(H20, dest=None, as_of=AFTER_LETTERS) == ()


def test_letter_signature_reaches_an_end_user_headquartered_in_china():
    """Kills letter_signature__mutmut_22 (hq dropped) and _31 (``hq and dest``): the letter also
    reaches parties headquartered in China, wherever the chip goes (8-K: 'headquartered or with an
    ultimate parent' there); without hq the end user is taken to be in the destination."""
    assert letter_signature(H20, dest="DE", hq="CN", as_of=AFTER_LETTERS) == (("nvidia-h20", True),)
    assert letter_signature(H20, dest="DE", as_of=AFTER_LETTERS) == ()
    # A US-headquartered end user in China: the letter reaches the destination (kills _21).
    assert letter_signature(H20, dest="CN", hq="US", as_of=AFTER_LETTERS) == (("nvidia-h20", True),)


def test_letter_signature_is_of_the_day_asked_not_today():
    """Kills letter_signature__mutmut_4 (``as_of and today``): before the letters of 2025-04-09 no
    letter bears on the H20. And a day before the first rule (2022-10-07) is refused, as classify
    refuses it (kills _6, the rules of today for any day)."""
    assert letter_signature(H20, dest="CN", as_of=D(2025, 1, 1)) == ()
    with pytest.raises(InputError, match="no advanced-computing rule was in force on 2020-01-01"):
        letter_signature(H20, dest="CN", as_of=D(2020, 1, 1))


def test_letter_signature_follows_the_edition_rulebook_and_country_groups():
    """Kills letter_signature__mutmut_7 (edition dropped), _9/_14 (rulebook dropped) and _10/_15
    (country data dropped). A named edition is that edition alone, without the letters overlay;
    a rulebook without letters has none; Venezuela is reached through D:5 (15 CFR 740 Supp. 1),
    so country data without it in D:5 does not reach it."""
    assert letter_signature(H20, dest="CN", as_of=AFTER_LETTERS, edition="2025-01-16") == ()
    book = default_rulebook()
    no_letters = book.model_copy(update={"editions": tuple(e.model_copy(update={"letters": []}) for e in book.editions)})
    assert letter_signature(H20, dest="CN", as_of=AFTER_LETTERS, rulebook=no_letters) == ()
    data = country_data()
    assert letter_signature(H20, dest="VE", as_of=AFTER_LETTERS, countries=data) == (("nvidia-h20", True),)
    without_venezuela = data.model_copy(update={"group": [
        g.model_copy(update={"members": [m for m in g.members if m != "VE"]}) if g.id == "D:5" else g
        for g in data.group]})
    assert letter_signature(H20, dest="VE", as_of=AFTER_LETTERS, countries=without_venezuela) == ()


# ------------------------------------------------------------------------------- checks, detail


def test_the_checks_name_the_exclusion_that_takes_a_consumer_chip_out():
    """Kills _checks__mutmut_4 (``not in applies_to``), _12 (exclusion id dropped), _15 (ECCN
    dropped) and _17 (excluded_by dropped). Note 2 to 3A090.a/.b: an IC not designed or marketed
    for datacenters with TPP under 4,800 is not in 3A090.a/.b. 590 dense INT8 TOPS x 8 bits = TPP
    4,720."""
    result = classify(spec_from_figures({"int8": 590}, datacenter=False), as_of=AFTER_2023_RULE)
    assert result.eccn == "outside 3A090"
    assert [(c.paragraph, c.eccn, c.result, c.excluded_by) for c in result.checks] == [
        ("3A090.a.1", "3A090.a", "no", "note-2"), ("3A090.a.2", "3A090.a", "no", "note-2"),
        ("3A090.b.1", "3A090.b", "no", "note-2"), ("3A090.b.2", "3A090.b", "no", "note-2")]


def test_the_checks_of_a_datacenter_chip_name_no_exclusion():
    """Kills _checks__mutmut_2 (``""`` for no exclusion), _3 (``or``) and _11 (``is NO``): Note 2
    does not reach a datacenter chip. H100 SXM: 1,979 dense INT8 TOPS (NVIDIA datasheet) x 8 = TPP
    15,832, so 3A090.a.1 (TPP >= 4,800) holds; with 814 mm2, density 19.4 >= 5.92: a.2 holds too."""
    result = classify(chip("H100 SXM"), as_of=AFTER_2023_RULE)
    assert [(c.paragraph, c.result, c.excluded_by) for c in result.checks] == [
        ("3A090.a.1", "yes", None), ("3A090.a.2", "yes", None), ("3A090.b.1", "no", None), ("3A090.b.2", "no", None)]
    assert result.checks[0].conditions == [ConditionCheck("tpp_at_least", 4800.0, 15832.0, "yes")]  # _detail too


def test_the_detail_shows_a_flag_condition_without_a_threshold():
    """Kills _detail__mutmut_3/_11 (the value dropped), _12 (the answer dropped) and _17 (a flag's
    threshold shown as 1.0). 3A090.c (89 FR 96790): a memory item with HBM bandwidth density over
    2 GB/s/mm2; 1,500 GB/s on a 500 mm2 package is 3."""
    result = classify(memory_item("1500", "500"), dest="CN", as_of=AFTER_2026_RULE)
    assert result.eccn == "3A090.c"
    assert result.checks[-1].conditions == [ConditionCheck("memory_item", None, True, "yes"),
                                            ConditionCheck("hbm_density_above", 2.0, 3.0, "yes")]


def memory_item(bandwidth: str, area: str, datacenter: bool = True):
    def sourced(value):
        return {"value": value, "source": "s"}

    document = {"sources": {"s": {"title": "test figures"}}, "chip": [{
        "id": "hbm", "vendor": "v", "name": "n", "kind": "memory", "datacenter": sourced(datacenter),
        "processing_units": [{"name": "u", "dense_tops": {"int8": sourced("1")}}],
        "memory": {"dram_bandwidth_gbps": sourced(bandwidth),
                   "hbm_stacks": [{"bandwidth_gbps": sourced(bandwidth), "package_area_mm2": sourced(area)}]}}]}
    (spec,) = specs_from_document(document, "test")
    return spec


# ------------------------------------------------------------------------------------- licence


def test_the_licence_reason_says_where_the_line_reaches():
    """Kills _licence__mutmut_12 (the destination's words dropped), _21 and _22 (the headquarters'
    words dropped or the destinations outside turned to 'none'): 742.6(a)(6)(iii) reaches China;
    744.23(a)(3) reaches a China-headquartered end user anywhere but the United States."""
    to_china = classify(chip("H100 SXM"), dest="CN", as_of=AFTER_2023_RULE)
    assert f"3A090.a to CN: licence required ({LICENCE_CITATION_2023})" in to_china.reasons
    headquartered = classify(chip("H100 SXM"), dest="DE", hq="CN", as_of=AFTER_2023_RULE)
    assert (f"3A090.a for an end user headquartered in CN: to any destination outside US: licence required "
            f"({LICENCE_CITATION_2023})") in headquartered.reasons


# ---------------------------------------------------------------------------------- exceptions


def test_an_exception_is_shown_in_full_and_says_when_it_is_only_possible():
    """Kills _exceptions__mutmut_30..33 (a field dropped) and _39..45 (the status turned or
    misspelt). 15 CFR 740.8 (88 FR 73458): NAC for a 3A090.a IC not designed or marketed for
    datacenters with TPP 4,800 or more. 600 x 8 = TPP 4,800 with the datacenter flag unknown: NAC
    only if the chip is not a datacenter one; the RTX 4090 (a consumer card) has it outright."""
    unknown = classify(spec_from_figures({"int8": 600}), dest="CN", as_of=AFTER_2023_RULE)
    (option,) = unknown.license_exceptions
    assert option == ExceptionOption(
        name="NAC", id="nac-consumer", status="available if the unknown conditions hold",
        conditions=("Notified Advanced Computing (15 CFR 740.8): notify BIS at least 25 days before shipment with "
                    "TPP, performance density and the datasheet showing consumer design/marketing; BIS may "
                    "require a licence"),
        citation=("15 CFR 740.8; ECCN 3A090 License Exceptions paragraph (NAC for 3A090.a not designed or "
                  "marketed for datacenters with TPP 4800 or more)"))
    consumer = classify(chip("RTX 4090"), dest="CN", as_of=AFTER_2023_RULE)
    assert [(o.id, o.status) for o in consumer.license_exceptions] == [("nac-consumer", "available")]


def test_each_exception_is_judged_on_its_own():
    """Kills _exceptions__mutmut_18 and _27 (a ``continue`` turned ``break``): an exception that
    does not apply, for the headquarters or for the chip, must not hide the ones after it. The AI
    Diffusion rule as written (90 FR 4544) adds LPP (not for D:5-headquartered parties) and ACM
    after ACA; ACA (740.8(b)) is for chips not designed for datacenters."""
    datacenter = classify(chip("H100 SXM"), dest="VN", as_of=AI_DIFFUSION_EFFECTIVE, as_written=True)
    assert [o.id for o in datacenter.license_exceptions] == ["lpp", "acm"]
    china_headquartered = classify(chip("RTX 4090"), dest="IN", hq="CN", as_of=AI_DIFFUSION_EFFECTIVE,
                                   as_written=True)
    assert [o.id for o in china_headquartered.license_exceptions] == ["acm"]


# ------------------------------------------------------------------------- the reasons in words

NEXT_STEPS = ("Not in 3A090/4A090: check the rest of the Commerce Control List (e.g. 3A001, 4A003 by APP, "
              "5A992 for encryption) and, if nothing applies, EAR99; end-use and end-user controls "
              "(Entity List, 744.23 supercomputer end use) apply regardless of the ECCN.")
ASSUMED_HQ = ("End user assumed headquartered in {} (give --hq): a D:5- or Macau-headquartered end user needs a "
              "licence to any destination outside the US")


def test_a_determined_paragraph_is_given_with_its_figures_and_a_computer_with_its_4a090():
    """Kills the wording of _eccn_reasons and the no-destination line of classify. H100 SXM: TPP
    15,832 >= 4,800 (3A090.a.1, 88 FR 73458); a computer holding a 3A090.a IC is 4A090.a."""
    no_destination = classify(chip("H100 SXM"), as_of=AFTER_2023_RULE)
    assert no_destination.reasons[1:] == [
        "3A090.a.1: TPP 15,832 >= 4,800 (ECCN 3A090.a.1: a 'total processing performance' of 4800 or more)",
        "No destination given (--dest): licence requirement not evaluated"]
    computer = classify(chip("H100 SXM"), dest="DE", as_of=AFTER_2023_RULE, item="computer")
    assert computer.reasons[1:] == [
        "3A090.a.1: TPP 15,832 >= 4,800 (ECCN 3A090.a.1: a 'total processing performance' of 4800 or more)",
        "A computer, assembly or component containing a 3A090.a IC is 4A090.a",
        ASSUMED_HQ.format("DE"),
        "No licence required under 3A090/4A090 for DE"]
    assert computer.outcomes_by_reading["primary"] == ["4A090.a (no licence)"]


def test_an_outside_answer_says_why_and_what_to_check_next():
    """Kills the wording of _eccn_reasons (below the lowest line; no paragraph) and of the licence
    answer of an outside chip. 150 x 8 = TPP 1,200, under 1,600, the lowest TPP line of 3A090
    (a.2 and b.2). 250 x 8 = TPP 2,000 on 1,000 mm2, density 2: a.2 needs 5.92, b.1 TPP 2,400,
    b.2 density 3.2; 3A090.a.1 TPP 4,800."""
    low = classify(spec_from_figures({"int8": 150}, datacenter=True), dest="DE", as_of=AFTER_2023_RULE)
    assert low.reasons[1:] == [
        "TPP 1,200 is below 1,600: outside every 3A090 paragraph whatever the die area",
        ASSUMED_HQ.format("DE"),
        f"No licence required under 3A090/4A090 for DE. {NEXT_STEPS}"]
    assert low.outcomes_by_reading["primary"] == ["outside 3A090 (no licence)"]
    sparse = classify(spec_from_figures({"int8": 250}, dies=[("1000", "finfet")], datacenter=True), dest="DE",
                      as_of=AFTER_2023_RULE)
    assert sparse.eccn == "outside 3A090"
    assert sparse.reasons[1] == "No 3A090 paragraph applies"


def test_an_undetermined_answer_names_the_outcomes_and_the_missing_figures():
    """Kills the wording of _eccn_reasons and _licence_answer for an open answer. 300 x 8 = TPP
    2,400 without a die area: 3A090.a (a.2), 3A090.b (b.1/b.2) or outside, by the density; to China
    both controlled outcomes need a licence (742.6(a)(6)(iii)), outside needs none."""
    result = classify(spec_from_figures({"int8": 300}, datacenter=True), dest="CN", as_of=AFTER_2023_RULE)
    assert result.undetermined == ["3A090.a", "3A090.b", "outside 3A090"]
    assert result.reasons[1].startswith("Undetermined between 3A090.a, 3A090.b, outside 3A090: ")
    assert "applicable die area unknown" in result.reasons[1]
    assert result.reasons[2:] == [
        ASSUMED_HQ.format("CN"),
        f"3A090.a to CN: licence required ({LICENCE_CITATION_2023})",
        f"3A090.b to CN: licence required ({LICENCE_CITATION_2023})",
        "Licence requirement undetermined: it depends on an outcome or a line the data cannot decide (see above)"]
    assert result.license_required is None and result.review_policy is None
    assert result.outcomes_by_reading["primary"] == [
        "3A090.a (licence required; review: presumption of denial)",
        "3A090.b (licence required; review: presumption of denial)", "outside 3A090 (no licence)"]


def test_a_reading_that_changes_the_answer_is_said_in_words():
    """Kills the wording of _readings_answers. H20 (NVIDIA datasheet): TPP 4,736 on the primary
    reading, outside 3A090 in 2024; summing its concurrent units reaches 3A090.b, a licence to China
    under 742.6(a)(6)(iii) with a presumption of denial (742.6(b)(10))."""
    result = classify(chip("H20"), dest="CN", as_of=AFTER_2023_RULE)
    assert result.reading_sensitive is True
    assert ("Reading 'concurrent-units-summed' gives 3A090.b (licence required; review: presumption of denial) "
            "instead of outside 3A090 (no licence): the answer depends on how the rule text is read") in result.reasons
    assert result.reasons[-1].startswith("Reading ")


def test_a_review_policy_is_said_in_the_reasons():
    """Kills the wording of the review-policy reason: the UAE in 2025 (after the AI Diffusion rule
    was no longer enforced) is D:1/D:4, a licence for 3A090.a with a presumption of approval
    (742.6(b)(10))."""
    result = classify(chip("H100 SXM"), dest="AE", as_of=D(2025, 6, 1))
    assert result.license_required is True and result.review_policy == "presumption of approval"
    assert result.reasons[-1] == "Licence review policy: presumption of approval"
    assert result.outcomes_by_reading["primary"] == ["3A090.a (licence required; review: presumption of approval)"]


def test_a_day_past_the_checked_data_leaves_the_licence_open_and_says_so():
    """Kills the wording of the past-coverage reason and notice (_licence_answer, _notices): the
    rule data is checked through 2026-07-23 (rules/data/coverage.toml); on a later day no licence
    line may have come in since, so 'not required' is not said."""
    result = classify(chip("H100 SXM"), dest="DE", as_of=D(2027, 6, 1))
    assert result.license_required is None
    assert result.reasons[-1] == (
        "Licence undetermined: no licence line applies under the rules as checked through 2026-07-23, but "
        "2027-06-01 is later and changes since then may be missing. Not required if nothing changed; required if "
        "a later rule or letter reaches DE")
    assert result.outcomes_by_reading["primary"] == ["3A090.a (licence undetermined)"]
    (coverage,) = [n for n in result.notices if n.id == "coverage"]
    assert (coverage.kind, coverage.certain) == ("coverage", True)
    assert coverage.text.startswith("The rule data was checked through 2026-07-23; 2027-06-01 is later, so changes "
                                    "since then may be missing. ")
    assert coverage.citation.title.startswith("eCFR versioner XML of title 15 as of 2026-07-23")


def test_a_disputed_overlay_not_applied_is_a_notice():
    """Kills the wording of the legal-status notice (_notices). The AI Diffusion rule (90 FR 4544)
    is not enforced since 2025-05-13; GAO decision B-337935 (2026-05-12) disputes that; as written
    it adds licence lines for 3A090.a and 4A090.a (90 FR 4544, 742.6(a)(6)(iii)(A))."""
    result = classify(chip("H100 SXM"), dest="DE", as_of=D(2026, 6, 1))
    (notice,) = [n for n in result.notices if n.id == "legal-status-2025-01-13-ai-diffusion"]
    assert (notice.kind, notice.certain) == ("legal-status", True)
    assert notice.text.startswith("Framework for Artificial Intelligence Diffusion (90 FR 4544): not applied here, "
                                  "as BIS does not enforce it, but its legal status is disputed: ")
    assert notice.text.endswith(" As written it adds licence lines for 3A090.a, 4A090.a; see --as-written.")
    assert "GAO" in notice.citation.title


def test_a_published_eccn_without_a_paragraph_reads_as_controlled():
    """Kills _published_outcome__mutmut_4 (a letter read where there is none) and _10/_11 (the word
    'controlled' misspelt): a maker's '4A090' names a controlled item without its paragraph, which
    agrees with the H100 SXM's 3A090.a (TPP 15,832 >= 4,800)."""
    from tppcalc.data.spec import Source, SourcedText

    spec = chip("H100 SXM")
    spec = spec.model_copy(update={"published_eccn": SourcedText(value="4A090", source="maker"),
                                   "sources": {**spec.sources, "maker": Source(title="Maker's page")}})
    result = classify(spec, as_of=AFTER_2023_RULE)
    assert result.published_eccn.agrees is True
    assert result.published_eccn.finding == (
        "NVIDIA publishes ECCN 4A090 for this product (Maker's page): it agrees with 3A090.a")


# ------------------------------------------------------------ licence lines, headquarters, letters

ON_THE_2026_07_23_LINES = D(2026, 7, 23)  # eCFR issue of 2026-07-23, the last day the data is checked through


def test_an_open_licence_line_leaves_the_licence_undetermined():
    """Kills _licence__mutmut_33 (an undetermined line answered 'not required'). eCFR 2026-07-23:
    the 3A090.a line reads 'to or within any destination worldwide', the AI Diffusion text BIS does
    not enforce, and the UAE is now in A:5: whether a licence is needed for the UAE is open."""
    result = classify(chip("H100 SXM"), dest="AE", as_of=ON_THE_2026_07_23_LINES)
    assert result.eccn == "3A090.a" and result.license_required is None
    assert any(r.startswith("3A090.a to AE: licence undetermined: The eCFR of 2026-07-23 names the UAE in the .b lines")
               for r in result.reasons)
    assert result.outcomes_by_reading["primary"] == ["3A090.a (licence undetermined)"]


def test_a_required_line_is_not_undone_by_an_open_one():
    """Kills _licence__mutmut_32 and _34.._36 (an undetermined line overriding a required one): an
    end user headquartered in China needs a licence for 3A090.a anywhere but the United States
    (744.23(a)(3)), whatever the open UAE line says. The MI300X (AMD datasheet: 2,614.9 dense INT8
    TOPS x 8 = TPP 20,919, 3A090.a.1) and not an NVIDIA chip: the H100's 900 GB/s NVLink meets
    NVIDIA's letter, which would require the licence by itself."""
    result = classify(chip("MI300X"), dest="AE", hq="CN", as_of=ON_THE_2026_07_23_LINES)
    assert result.eccn == "3A090.a" and result.license_required is True
    assert result.outcomes_by_reading["primary"] == ["3A090.a (licence required; review: presumption of denial)"]


def test_a_given_headquarters_is_kept_and_not_called_assumed():
    """Kills _licence_answer__mutmut_3 (the given hq dropped) and _6/_7 (hq_assumed not set).
    744.23(a)(3): an end user headquartered in China needs a licence for the H100 SXM in Germany,
    reviewed case by case for D:5-headquartered parties outside D:1/D:4/D:5 (742.6(b)(10), as CSET
    describes it, 2023-12-04)."""
    given = classify(chip("H100 SXM"), dest="DE", hq="CN", as_of=AFTER_2023_RULE)
    assert (given.headquarters, given.headquarters_assumed, given.license_required) == ("CN", False, True)
    assert given.outcomes_by_reading["primary"] == ["3A090.a (licence required; review: case-by-case)"]
    assumed = classify(chip("H100 SXM"), dest="DE", as_of=AFTER_2023_RULE)
    assert (assumed.headquarters, assumed.headquarters_assumed, assumed.license_required) == ("DE", True, False)


def test_a_letter_reaches_the_destination_and_the_headquarters_in_its_own_words():
    """Kills _licence_answer__mutmut_17 (destination dropped) and _18 (hq dropped). The H20 is
    outside 3A090 on the paragraphs (TPP 4,736), so only NVIDIA's letter (8-K of 2025-04-15: China,
    and parties headquartered there) requires its licence."""
    to_china = classify(chip("H20"), dest="CN", hq="US", as_of=AFTER_LETTERS)
    assert to_china.eccn == "outside 3A090" and to_china.license_required is True
    assert any(r.startswith("Is-informed letter of 2025-04-09 to NVIDIA names this product: licence required to CN (")
               for r in to_china.reasons)
    headquartered = classify(chip("H20"), dest="DE", hq="CN", as_of=AFTER_LETTERS)
    assert headquartered.license_required is True
    assert any(r.startswith("Is-informed letter of 2025-04-09 to NVIDIA names this product: licence required for an "
                            "end user headquartered in CN (") for r in headquartered.reasons)


# ------------------------------------------------------------------- classify's fields, coverage


def test_every_field_of_a_classification_is_the_rules_and_the_question_asked():
    """Kills the field-by-field mutants of classify's model_construct. 88 FR 73458 (in force on
    2024-01-01, no overlay): the H100 SXM's 3A090.a.1 IC in a computer is 4A090.a; for a party
    headquartered in China in Germany a licence is needed (744.23(a)(3)), reviewed case by case."""
    result = classify(chip("H100 SXM"), dest="DE", hq="CN", as_of=AFTER_2023_RULE, item="computer")
    assert (result.chip_id, result.item, result.as_of) == ("nvidia-h100-sxm5-80gb", "computer", AFTER_2023_RULE)
    assert (result.edition, result.edition_title, result.edition_status, result.overlays) == (
        "2023-11-17", "Advanced computing controls, AC/S IFR (88 FR 73458)", "in force", [])
    assert (result.destination, result.headquarters, result.eccn, result.paragraph, result.undetermined) == (
        "DE", "CN", "4A090.a", "3A090.a.1", None)
    assert (result.license_required, result.review_policy, result.review_conditions) == (True, "case-by-case", None)
    assert result.reading_sensitive is False and result.license_exceptions == []
    assert [c.title for c in result.citations][0].endswith("(88 FR 73458, FR Doc 2023-23055)")
    assert result.notes and result.published_eccn is None
    later = classify(chip("H100 SXM"), dest="DE", as_of=ON_THE_2026_07_23_LINES)
    assert later.overlays == ["2025-04-09-is-informed-letters", "2025-05-13-guidance", "2025-09-29-affiliates",
                              "2026-01-15-section-232-tariff"]


def test_the_last_checked_day_is_still_covered():
    """Kills ``day >= verified_through`` in classify: the data is checked through 2026-07-23, so on
    that day the answer is definite (no line reaches Germany for 3A090.a) and no coverage notice."""
    result = classify(chip("H100 SXM"), dest="DE", as_of=ON_THE_2026_07_23_LINES)
    assert result.license_required is False
    assert "coverage" not in [n.id for n in result.notices]


def test_a_named_edition_answers_for_itself_on_a_later_day():
    """Kills the ``unverified`` mutants of classify (``or``, ``is not None``): a named edition is a
    what-if, answered as that edition says, even past the checked date (the coverage notice still
    says the day is later)."""
    result = classify(chip("H100 SXM"), dest="DE", as_of=D(2027, 6, 1), edition="2026-07-23")
    assert result.license_required is False
    assert result.reasons[-1] == "No licence required under 3A090/4A090 for DE"
    assert "coverage" in [n.id for n in result.notices]


def with_published(value: str, source: str, title: str | None = "Maker's page", url: str | None = None):
    from tppcalc.data.spec import Source, SourcedText

    spec = chip("H100 SXM")
    sources = dict(spec.sources)
    if title is not None:
        sources[source] = Source(title=title, url=url)
    return spec.model_copy(update={"published_eccn": SourcedText(value=value, source=source), "sources": sources})


def test_a_published_eccn_finding_is_said_in_full():
    """Kills the wording of published_eccn. The H100 SXM is 3A090.a (TPP 15,832 >= 4,800); a maker's
    3A090.b is a finding to explain; a source the spec does not list is named as given."""
    result = classify(with_published("3A090.b", "nowhere", title=None), as_of=AFTER_2023_RULE)
    assert (result.published_eccn.source, result.published_eccn.agrees) == ("source 'nowhere'", False)
    assert result.published_eccn.finding == (
        "Finding to explain: NVIDIA publishes ECCN 3A090.b for this product (source 'nowhere'), but tppcalc computes "
        "3A090.a under the rules of 2024-01-01. Not an error and no answer changes: the maker may classify another "
        "item (a card, a system, another SKU), under an earlier or later rule, or on a reading of the rule text other "
        "than the primary one. Ask the maker, or BIS for a classification (CCATS), before relying on either")
    linked = classify(with_published("3A090.a", "page", url="https://example.com/eccn"), as_of=AFTER_2023_RULE)
    assert linked.published_eccn.source == "Maker's page <https://example.com/eccn>"
    assert linked.published_eccn.finding == ("NVIDIA publishes ECCN 3A090.a for this product (Maker's page "
                                             "<https://example.com/eccn>): it agrees with 3A090.a")


def test_an_open_computed_eccn_and_a_published_one_among_its_outcomes_in_words():
    """Kills published_eccn__mutmut_49/50 (the outcomes joined otherwise). 300 x 8 = TPP 2,400 without
    a die area: 3A090.a (a.2), 3A090.b (b.1/b.2) or outside by the density; a maker's 3A090.b is one
    of them."""
    from tppcalc.data.spec import Source, SourcedText

    spec = spec_from_figures({"int8": 300}, datacenter=True)
    spec = spec.model_copy(update={"published_eccn": SourcedText(value="3A090.b", source="maker"),
                                   "sources": {**spec.sources, "maker": Source(title="Maker's page")}})
    result = classify(spec, as_of=AFTER_2023_RULE)
    assert result.published_eccn.agrees is None
    assert result.published_eccn.finding == (
        f"{spec.vendor} publishes ECCN 3A090.b for this product (Maker's page): one of the outcomes still possible "
        "(3A090.a or 3A090.b or outside 3A090); the published ECCN does not settle which")


def test_a_published_eccn_is_compared_with_the_undivided_3a090_of_2022():
    """The 2022 rule (87 FR 62186) had one undivided 3A090: a chip it controls is 'controlled', with
    no paragraph letter. A maker's later 3A090.a names a controlled item too and agrees; EAR99 does
    not. (Read as the letter 'c' of its first word, 3A090 disagreed with 3A090.a and agreed with the
    HBM paragraph 3A090.c.) Kills _computed_outcome__mutmut_8/9 and published_eccn__mutmut_34..38;
    a maker's 4A090 set against an outside answer disagrees (kills published_eccn__mutmut_30/31)."""
    in_2022 = D(2023, 1, 1)
    assert classify(chip("H100 SXM"), as_of=in_2022).eccn == "3A090"  # I/O 900 GB/s >= 600, TPP 15,832 >= 4,800
    agrees = classify(with_published("3A090.a", "page"), as_of=in_2022).published_eccn
    assert agrees.agrees is True and agrees.finding.endswith("it agrees with 3A090")
    assert classify(with_published("EAR99", "page"), as_of=in_2022).published_eccn.agrees is False
    h20 = chip("H20")  # outside 3A090 in 2024 (test_classify)
    h20 = h20.model_copy(update={"published_eccn": with_published("4A090", "page").published_eccn,
                                 "sources": with_published("4A090", "page").sources})
    assert classify(h20, as_of=AFTER_2023_RULE).published_eccn.agrees is False


def test_note_2_does_not_reach_the_hbm_paragraph():
    """Kills _effective__mutmut_8 (an exclusion applied to paragraphs it does not name). Note 2
    takes consumer ICs under TPP 4,800 out of 3A090.a and 3A090.b only; an HBM item not designed
    for datacenters is still 3A090.c (89 FR 96790: bandwidth density 1,500 / 500 = 3 > 2)."""
    result = classify(memory_item("1500", "500", datacenter=False), dest="CN", as_of=AFTER_2026_RULE)
    assert result.eccn == "3A090.c"


def test_every_reading_is_answered_with_the_availability_table_given(tmp_path):
    """Kills _readings_answers__mutmut_18/29 (the table dropped for the readings' words). 91 FR 1684:
    case-by-case for a product commercially available in the United States when the rule was
    published (2026-01-15); an RTX 5090 first sold there on 2026-01-16 keeps the presumption of
    denial, under every reading as under the primary one."""
    from tppcalc.data.availability import load_availability

    path = tmp_path / "united-states.toml"
    path.write_text('[sources]\nx = { title = "A test source", url = "https://example.org/x", secondary = true }\n'
                    '[[chip]]\nid = "nvidia-geforce-rtx-5090"\navailable_by = 2026-01-16\nsource = "x"\n',
                    encoding="utf-8")
    late = load_availability(path, CATALOGUE.origins)
    result = classify(chip("RTX 5090"), dest="CN", as_of=AFTER_2026_RULE, availability=late)
    assert result.review_policy == "presumption of denial"
    assert result.outcomes_by_reading["primary"] == ["3A090.a (licence required; review: presumption of denial)"]
    assert result.reading_sensitive is False


def two_units(int8_each: int):
    """A datacenter chip of two processing units of ``int8_each`` dense INT8 TOPS, die area unknown."""
    def sourced(value):
        return {"value": str(value), "source": "s"}

    document = {"sources": {"s": {"title": "test figures"}}, "chip": [{
        "id": "two", "vendor": "v", "name": "n", "kind": "gpu", "datacenter": sourced(True),
        "processing_units": [{"name": f"unit {i}", "dense_tops": {"int8": sourced(int8_each)}} for i in range(2)]}]}
    (spec,) = specs_from_document(document, "test")
    return spec


PD = "licence required; review: presumption of denial"  # 742.6(a)(6)(iii) to China, 742.6(b)(10)


def test_a_reading_with_several_outcomes_is_said_with_or():
    """Kills _readings_answers__mutmut_37/38 and _40/41 (the outcomes joined otherwise). Two units of
    150 TOPS: TPP 1,200 on the best unit (under 1,600: outside), 2,400 summed (open by the unknown
    area: a.2, b.1/b.2 or outside). Two units of 300: TPP 2,400 (open) on one, 4,800 summed (a.1)."""
    open_when_summed = classify(two_units(150), dest="CN", as_of=AFTER_2023_RULE)
    assert open_when_summed.reasons[-1] == (
        f"Reading 'concurrent-units-summed' gives 3A090.a ({PD}) or 3A090.b ({PD}) or outside 3A090 (no licence) "
        "instead of outside 3A090 (no licence): the answer depends on how the rule text is read")
    open_on_one = classify(two_units(300), dest="CN", as_of=AFTER_2023_RULE)
    assert open_on_one.reasons[-1] == (
        f"Reading 'concurrent-units-summed' gives 3A090.a ({PD}) instead of 3A090.a ({PD}) or 3A090.b ({PD}) or "
        "outside 3A090 (no licence): the answer depends on how the rule text is read")


def test_the_readings_words_follow_the_destination_headquarters_and_letters():
    """Kills _outcome_words__mutmut_1 (words without a destination), _12 (destination dropped),
    _25 (the letter filter turned) and _4 (an outside outcome taken as controlled past the checked
    date)."""
    no_destination = classify(chip("H100 SXM"), hq="CN", as_of=AFTER_2023_RULE)
    assert no_destination.outcomes_by_reading["primary"] == ["3A090.a"]
    assert (no_destination.headquarters, no_destination.license_required) == ("CN", None)  # classify__mutmut_88
    # 742.6(a)(6)(iii) reaches China whoever the end user is.
    us_party_in_china = classify(chip("H100 SXM"), dest="CN", hq="US", as_of=AFTER_2023_RULE)
    assert us_party_in_china.outcomes_by_reading["primary"] == [f"3A090.a ({PD})"]
    # The H20 is outside 3A090 on its paragraphs; NVIDIA's letter requires a licence to China.
    h20 = classify(chip("H20"), dest="CN", hq="US", as_of=AFTER_LETTERS)
    assert h20.outcomes_by_reading["primary"] == ["outside 3A090 (licence required)"]
    # Past the checked date an outside chip stays outside: no licence line can reach it there.
    outside_later = classify(spec_from_figures({"int8": 150}, datacenter=True), dest="DE", as_of=D(2027, 6, 1))
    assert outside_later.license_required is False
    assert outside_later.outcomes_by_reading["primary"] == ["outside 3A090 (no licence)"]


def test_a_required_licence_stays_required_past_the_checked_date_and_beside_an_open_letter():
    """Kills _outcome_words__mutmut_34/35 (a required licence made undetermined past the checked
    date) and _28 (an open letter finding undoing a required line). 742.6(a)(6)(iii) reaches China
    for the H100 SXM; a later change could only add lines. An NVIDIA chip of TPP 8,000 (1,000 x 8,
    3A090.a.1) with its bandwidths unknown may or may not meet the criteria of NVIDIA's letter: the
    licence is required by the paragraph line anyway."""
    later = classify(chip("H100 SXM"), dest="CN", as_of=D(2027, 6, 1))
    assert later.license_required is True
    # 91 FR 1684: case-by-case under TPP 21,000 and 6,500 GB/s (H100 SXM: 3,350 GB/s HBM3, on the US
    # market before 2026-01-15).
    assert later.outcomes_by_reading["primary"] == ["3A090.a (licence required; review: case-by-case)"]
    nvidia = spec_from_figures({"int8": 1000}, datacenter=True, chip_id="nvidia-unlisted")
    result = classify(nvidia, dest="CN", as_of=AFTER_LETTERS)
    assert result.license_required is True
    assert result.outcomes_by_reading["primary"] == [f"3A090.a ({PD})"]


def test_the_notices_follow_the_destination_the_headquarters_and_the_outcomes():
    """Kills _notices__mutmut_8 (destination dropped), _9 (hq dropped), _22 (a certain notice given as
    'may apply') and _26 (a disputed overlay's notice on a chip it does not reach). BIS guidance of
    2025-05-13: diversion red flags where a 3A090.a/.b item is exported; the AI-training statement
    for D:5-headquartered parties. The AI Diffusion rule adds lines for 3A090.a/.b, not for an
    outside chip."""
    exported = classify(chip("H100 SXM"), dest="DE", as_of=AFTER_LETTERS)
    (flags,) = [n for n in exported.notices if n.id == "diversion-red-flags"]
    assert flags.certain is True and flags.text.startswith("BIS guidance of 2025-05-13 on diversion of advanced-computing ICs")
    assert "diversion-red-flags" not in [n.id for n in classify(chip("H100 SXM"), as_of=AFTER_LETTERS).notices]
    china_party = classify(chip("H100 SXM"), dest="DE", hq="CN", as_of=AFTER_LETTERS)
    assert "ai-training-d5" in [n.id for n in china_party.notices]
    assert "ai-training-d5" not in [n.id for n in exported.notices]
    outside = classify(spec_from_figures({"int8": 150}, datacenter=True), dest="DE", as_of=D(2026, 6, 1))
    assert not [n for n in outside.notices if n.kind == "legal-status"]
    disputed = classify(chip("H100 SXM"), dest="DE", as_of=D(2026, 6, 1))
    (notice,) = [n for n in disputed.notices if n.kind == "legal-status"]
    assert notice.citation.title.startswith("GAO, B-337935 (2026-05-12)")


def test_a_paragraph_of_two_conditions_gives_both():
    """Kills _eccn_reasons__mutmut_25 (the conditions joined otherwise). L4 (NVIDIA datasheet): 485
    INT8 TOPS with sparsity, 242.5 dense, x 8 = TPP 1,940 on the 294.5 mm2 AD104: density 6.587;
    3A090.a.2 is TPP 1,600 or more and density 5.92 or more."""
    result = classify(chip("L4"), as_of=AFTER_2023_RULE)
    assert result.reasons[1] == ("3A090.a.2: TPP 1,940 >= 1,600; performance density 6.587 >= 5.92 (ECCN 3A090.a.2: "
                                 "TPP of 1600 or more and a 'performance density' of 5.92 or more)")


def test_an_unknown_country_is_refused_naming_its_field():
    """Kills classify__mutmut_17/20 (the field's name dropped or misspelt): the user reads which
    argument holds the unknown country."""
    with pytest.raises(InputError) as refused:
        classify(chip("H100 SXM"), dest="Atlantis", as_of=AFTER_2023_RULE)
    assert str(refused.value).startswith("dest: unknown country 'Atlantis': give an ISO 3166-1 alpha-2 or alpha-3 code")
    with pytest.raises(InputError) as refused:
        classify(chip("H100 SXM"), dest="DE", hq="Atlantis", as_of=AFTER_2023_RULE)
    assert str(refused.value).startswith("hq: unknown country 'Atlantis'")


def test_classify_reads_the_country_groups_it_is_given():
    """Kills classify__mutmut_33/38 (country data dropped). The 2023 lines reach China through its
    membership of D:1, D:4 and D:5 (15 CFR 740 Supp. 1; 742.6(a)(6)(iii)): with country data that
    lists China in no group, no line reaches it."""
    data = country_data()
    without_china = data.model_copy(update={"group": [
        g.model_copy(update={"members": [m for m in g.members if m != "CN"]}) for g in data.group]})
    assert classify(chip("H100 SXM"), dest="CN", as_of=AFTER_2023_RULE, countries=data).license_required is True
    assert classify(chip("H100 SXM"), dest="CN", as_of=AFTER_2023_RULE,
                    countries=without_china).license_required is False


def test_the_missing_figures_are_listed_one_by_one():
    """Kills _eccn_reasons__mutmut_92 (the unknowns joined otherwise): each missing figure of an open
    answer is its own item."""
    result = classify(spec_from_figures({"int8": 300}, datacenter=True), dest="CN", as_of=AFTER_2023_RULE)
    assert "applicable die area unknown; memory: not given; " in result.reasons[1]


def test_no_review_policy_is_shown_where_no_licence_is_needed():
    """Kills _outcome_words__mutmut_39/41 (a review policy shown beside 'no licence'). Israel is in
    D:4 but also A:6, which the 2023 line excludes (742.6(a)(6)(iii); CSET: 'excluding Israel and
    Cyprus'): no licence, so no licence review policy, though D:1/D:4's presumption of approval
    names Israel."""
    result = classify(chip("H100 SXM"), dest="IL", as_of=AFTER_2023_RULE)
    assert (result.license_required, result.review_policy) == (False, None)
    assert result.outcomes_by_reading["primary"] == ["3A090.a (no licence)"]
