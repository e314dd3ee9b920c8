"""Classification against the issue's worked cases, fail-closed behaviour and every threshold."""

import datetime as dt
from decimal import Decimal

import pytest

from tppcalc import compute_metrics, spec_from_figures
from tppcalc.data.availability import AvailabilitySource, AvailabilityTable, UsAvailability
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify
from tppcalc.decisions.rules.editions import default_rulebook, predicates_used
from tppcalc.decisions.rules.predicates import PREDICATES

CATALOGUE = Catalogue.load()
D = dt.date


def chip(query):
    return CATALOGUE.lookup(query)


def test_h100_sxm_to_china_2024_is_3a090a_with_licence():
    result = classify(chip("H100 SXM"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "3A090.a" and result.paragraph == "3A090.a.1"
    assert result.license_required is True
    assert result.review_policy == "presumption of denial"


def test_h20_2024_is_outside_3a090ab():
    result = classify(chip("H20"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "outside 3A090"
    assert result.license_required is False


def test_a800_sxm_to_china_in_2023_then_2024():
    assert classify(chip("A800 SXM"), dest="CN", as_of=D(2023, 1, 1)).eccn == "outside 3A090"
    later = classify(chip("A800 SXM"), dest="CN", as_of=D(2024, 1, 1))
    assert later.eccn == "3A090.a" and later.license_required is True


def test_rtx_4090_is_3a090a_consumer_with_nac_or_aca():
    result = classify(chip("RTX 4090"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "3A090.a"
    assert [x.name for x in result.license_exceptions] == ["NAC"]
    result = classify(chip("RTX 4090"), dest="VN", as_of=D(2024, 6, 1))
    assert result.eccn == "3A090.a" and result.license_required is True
    assert [x.name for x in result.license_exceptions] == ["ACA"]


def test_rtx_4090_d_is_outside_by_note_2():
    result = classify(chip("RTX 4090 D"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "outside 3A090"
    assert any("Note 2" in reason for reason in result.reasons)


def test_l4_is_3a090a_by_a2():
    result = classify(chip("L4"), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "3A090.a" and result.paragraph == "3A090.a.2"


def test_h100_sxm_to_germany_needs_no_licence():
    result = classify(chip("H100 SXM"), dest="DE", as_of=D(2024, 1, 1))
    assert result.eccn == "3A090.a" and result.license_required is False


def test_headquartered_in_d5_needs_a_licence_anywhere_but_the_us():
    assert classify(chip("H100 SXM"), dest="DE", hq="CN", as_of=D(2024, 1, 1)).license_required is True
    assert classify(chip("H100 SXM"), dest="US", hq="CN", as_of=D(2024, 1, 1)).license_required is False


def test_january_2026_review_policy_h200_case_by_case_b200_denial():
    h200 = classify(chip("H200 SXM"), dest="CN", as_of=D(2026, 2, 1))
    assert h200.license_required is True and h200.review_policy == "case-by-case"
    assert "third-party testing" in h200.review_conditions
    b200 = classify(chip("B200"), dest="CN", as_of=D(2026, 2, 1))
    assert b200.license_required is True and b200.review_policy == "presumption of denial"


def test_ai_diffusion_applies_only_as_written():
    enforced = classify(chip("H100 SXM"), dest="IN", as_of=D(2025, 6, 1))
    assert enforced.license_required is False and "2025-01-13-ai-diffusion" not in enforced.overlays
    assert any("not enforced" in reason for reason in enforced.reasons)
    written = classify(chip("H100 SXM"), dest="IN", as_of=D(2025, 6, 1), as_written=True)
    assert written.license_required is True and "2025-01-13-ai-diffusion" in written.overlays
    assert {x.name for x in written.license_exceptions} >= {"LPP"}
    tier1 = classify(chip("H100 SXM"), dest="DE", as_of=D(2025, 6, 1), as_written=True)
    assert "AIA" in {x.name for x in tier1.license_exceptions}


def test_tpp_2000_without_area_is_undetermined_not_outside():
    result = classify(spec_from_figures({"int8": 250}, datacenter=True), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn is None
    assert result.undetermined == ["3A090.a", "3A090.b", "outside 3A090"]
    assert result.license_required is None


def test_missing_datacenter_flag_is_undetermined_too():
    result = classify(spec_from_figures({"int8": 500}, dies=[("300", "finfet")]), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn is None and "outside 3A090" in result.undetermined


def test_tpp_under_1600_is_outside_whatever_the_area():
    result = classify(spec_from_figures({"int8": 199}), dest="CN", as_of=D(2024, 1, 1))
    assert result.eccn == "outside 3A090" and result.license_required is False
    assert any("below 1,600" in reason for reason in result.reasons)


def test_h20_is_reading_sensitive_when_vector_units_are_summed():
    # H20 figures (catalogue, Tom's Hardware / leaked spec sheet): tensor FP8 296 TFLOPS, TPP 2368,
    # density 2368 / 814 = 2.91: outside 3A090.b (TPP < 2400 and density < 3.2). Adding the vector
    # unit's FP32 44 x 32 = 1408 gives 3776, density 4.64: 3A090.b.1 (2400 <= TPP < 4800, 1.6 <= PD
    # < 5.92), which needs a licence to China with a presumption of denial (regulation.md 2.5).
    result = classify(chip("H20"), dest="CN", as_of=D(2024, 1, 1))
    assert result.outcomes_by_reading["primary"] == ["outside 3A090 (no licence)"]
    assert result.outcomes_by_reading["concurrent-units-summed"] == [
        "3A090.b (licence required; review: presumption of denial)"]
    assert result.reading_sensitive is True


def test_a_computer_holding_the_chip_is_4a090():
    assert classify(chip("H100 SXM"), dest="CN", as_of=D(2024, 1, 1), item="computer").eccn == "4A090.a"


@pytest.mark.parametrize(
    ("int8", "area", "expected", "paragraph"),
    [
        (600, None, "3A090.a", "3A090.a.1"),                   # TPP 4800, whatever the area: a.1
        (Decimal("599.999"), "70000", "outside 3A090", None),   # just under 4800, tiny density (a wafer-sized die)
        (370, 500, "3A090.a", "3A090.a.2"),                    # TPP 2960, density exactly 5.92: a.2
        (370, "500.001", "3A090.b", "3A090.b.1"),              # density just under 5.92: b.1 (b.2 too)
        (200, 500, "3A090.b", "3A090.b.2"),                    # TPP 1600, density 3.2 exactly: b.2
        (200, "500.001", "outside 3A090", None),               # density just under 3.2, TPP < 2400
        (300, 1500, "3A090.b", "3A090.b.1"),                   # TPP 2400, density 1.6 exactly: b.1
        (300, "1500.001", "outside 3A090", None),              # density just under 1.6
        (Decimal("299.999"), 1000, "outside 3A090", None),     # TPP just under 2400, density 2.4
    ],
)
def test_every_2023_threshold_exactly(int8, area, expected, paragraph):
    # Lines and paragraphs from ECCN 3A090.a.1/.a.2/.b.1/.b.2 (regulation.md 2.1), unchanged in 2026.
    dies = [] if area is None else [(area, "finfet")]
    spec = spec_from_figures({"int8": int8}, dies=dies, datacenter=True)
    for as_of in (D(2024, 1, 1), D(2026, 2, 1)):
        result = classify(spec, dest="CN", as_of=as_of)
        assert (result.eccn, result.paragraph) == (expected, paragraph), (int8, area, result.undetermined, as_of)


@pytest.mark.parametrize(("io", "expected"), [(600, "3A090"), ("599.999", "outside 3A090")])
def test_2022_io_threshold_exactly(io, expected):
    spec = spec_from_figures({"int8": 600}, io_bidir_gbps=io, datacenter=True)
    assert classify(spec, dest="CN", as_of=D(2022, 12, 1)).eccn == expected


@pytest.mark.parametrize(("tpp_int8", "dram", "policy"), [
    ("2624.999", "6499.999", "case-by-case"), (2625, 6400, "presumption of denial"),
    (2000, 6500, "presumption of denial")])
def test_2026_review_thresholds_exactly(tpp_int8, dram, policy):
    spec = spec_from_figures({"int8": tpp_int8}, datacenter=True, dram_bandwidth_gbps=dram)
    assert classify(spec, dest="CN", as_of=D(2026, 2, 1), availability=ON_THE_US_MARKET).review_policy == policy


# The typed-in chip ("input") taken as on the US market before 91 FR 1684, so that only the figures
# decide (tests/test_us_availability.py covers the date itself).
ON_THE_US_MARKET = AvailabilityTable({"input": UsAvailability(
    "input", D(2024, 1, 1), AvailabilitySource(title="test", url="https://example.org"), "")}, "test")


def test_unknown_dram_bandwidth_leaves_the_review_policy_open():
    spec = spec_from_figures({"int8": 1000}, datacenter=True)
    assert classify(spec, dest="CN", as_of=D(2026, 2, 1)).review_policy == "case-by-case or presumption of denial"


def test_data_and_code_name_the_same_predicates():
    assert predicates_used(default_rulebook()) == set(PREDICATES)


def test_before_the_first_rule_there_is_nothing_to_apply():
    from tppcalc.errors import InputError

    with pytest.raises(InputError, match="no advanced-computing rule"):
        classify(chip("H100 SXM"), dest="CN", as_of=D(2021, 1, 1))


def test_classification_works_from_metrics_too():
    metrics = compute_metrics(chip("H100 SXM"))
    assert classify(metrics, dest="CN", as_of=D(2024, 1, 1)).eccn == "3A090.a"


def test_kept_rule_views_follow_the_rulebook_object_and_share_nothing_mutable():
    """classify() keeps the rules it chose per (rulebook, country data, day): another rulebook
    object must get its own rules, and no result may share a list with the kept view."""
    h100 = chip("H100 SXM")
    book = default_rulebook()
    first = classify(h100, dest="CN", as_of=D(2026, 2, 1), rulebook=book)
    first.citations.clear()
    first.notes.clear()
    again = classify(h100, dest="CN", as_of=D(2026, 2, 1), rulebook=book)
    assert again.citations and again.notes
    assert again.model_dump(exclude={"citations", "notes"}) == first.model_dump(exclude={"citations", "notes"})

    # The same rules with 3A090.a.1's line moved above the H100's TPP: a new rulebook object.
    latest = book.get("2026-01-15")
    paragraphs = [p.model_copy(update={"when": [{"tpp_at_least": Decimal(20000)}]}) if p.id == "3A090.a.1" else p
                  for p in latest.paragraphs]
    moved = book.model_copy(update={"editions": (latest.model_copy(update={"paragraphs": paragraphs}),)})
    assert classify(h100, dest="CN", as_of=D(2026, 2, 1), rulebook=moved).paragraph == "3A090.a.2"
    assert classify(h100, dest="CN", as_of=D(2026, 2, 1), rulebook=book).paragraph == "3A090.a.1"


def test_the_rules_and_country_groups_read_the_same_from_the_validated_cache(tmp_path, monkeypatch):
    from tppcalc.decisions.rules import countries, editions

    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path))
    parsed = editions.load_rulebook(), countries.country_data.__wrapped__()
    assert sorted(p.name.split("-")[0] for p in tmp_path.glob("*.json")) == ["countries", "rules"]
    cached = editions.load_rulebook(), countries.country_data.__wrapped__()
    assert cached == parsed
    assert cached[0] is not parsed[0]  # read back, not the same object


def test_the_json_document_is_what_pydantic_would_dump():
    """``classify --json`` writes its document without pydantic's serializer (to spare a cold start
    its schema build); it must stay field for field what ``model_dump(mode="json")`` gives."""
    from tppcalc.render.documents import classification_dict

    undetermined = spec_from_figures({"int8": "250"}, datacenter=None)
    chips = [*Catalogue.load().chips, undetermined]
    compared = 0
    for spec in chips:
        for dest, hq, day, item in [("CN", None, D(2024, 1, 1), "ic"), ("DE", "CN", D(2026, 2, 1), "computer"),
                                    ("AE", None, D(2025, 3, 1), "ic"), ("MO", "US", D(2023, 1, 1), "ic"),
                                    (None, None, D(2026, 2, 1), "ic")]:
            result = classify(spec, dest=dest, hq=hq, as_of=day, item=item)
            dumped = result.model_dump(mode="json")
            written = classification_dict(result)
            assert written.pop("license_exception_details") == dumped["license_exceptions"]
            written["license_exceptions"] = dumped["license_exceptions"]
            assert written == dumped
            assert list(written) == list(dumped)
            compared += 1
    assert compared == 5 * len(chips)
