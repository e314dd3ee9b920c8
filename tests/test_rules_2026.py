"""The rules of 2025-2026 (issue 15): each expected answer comes from the source named beside it.

Sources, as the rule data cites them:
- eCFR 15 CFR 774 Supp. 1 of 2026-07-23 (3A090 licence lines): "RS applies to 3A090.b: To or within
  the United Arab Emirates or destinations specified in Country Groups D:1, D:4, and D:5 ...,
  excluding any destination also specified in Country Groups A:5 or A:6"; 3A090.a: "To or within
  any destination worldwide" (the AI Diffusion text, not enforced).
- NVIDIA Form 8-K of 2025-04-15: a licence is required "for export to China (including Hong Kong
  and Macau) and D:5 countries ... of the Company's H20 integrated circuits and any other circuits
  achieving the H20's memory bandwidth, interconnect bandwidth, or combination thereof".
- AMD (April 2025, as reported): the same requirement for MI308.
- BIS GP10 guidance of 2025-05-13: names the Huawei Ascend 910B, 910C and 910D.
- Section 232 proclamation of 2026-01-14, Annex: band 1 TPP over 14,000 and under 17,500 with total
  DRAM bandwidth over 4,500 and under 5,000 GB/s; band 2 TPP 20,800-21,100 with 5,800-6,200 GB/s.
- 91 FR 1684 (15 CFR 742.6(b)(10)(iii)(A)(1)): case-by-case for China/Macau when TPP < 21,000 and
  total DRAM bandwidth < 6,500 GB/s.
"""

import datetime as dt
import json
from pathlib import Path

from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify
from tppcalc.decisions.rules.editions import default_rulebook

CATALOGUE = Catalogue.load()
D = dt.date


def chip(query):
    return CATALOGUE.lookup(query)


def notice_ids(result):
    return [n.id for n in result.notices]


# -- A. editions and overlays ----------------------------------------------------------------

def test_uae_after_its_move_into_a5_is_never_not_required():
    # eCFR 2026-07-23: the UAE stays named in the .b lines; the .a line is the unenforced AID text.
    for name in ("H100 SXM", "L40S"):
        result = classify(chip(name), dest="AE", as_of=D(2026, 8, 1))
        assert result.eccn == "3A090.a"
        assert result.license_required is None
        assert any("licence undetermined" in r and "any destination worldwide" in r for r in result.reasons)


def test_uae_3a090b_is_licence_required_by_the_2026_07_23_line():
    # A 3A090.b.1 datacenter chip: TPP 3,000, performance density 3 (between 1.6 and 5.92).
    from tppcalc import spec_from_figures

    b_chip = spec_from_figures({"int8": 375}, dies=[("1000", "finfet")], datacenter=True)
    result = classify(b_chip, dest="AE", as_of=D(2026, 8, 1))
    assert result.eccn == "3A090.b" and result.license_required is True


def test_h20_and_mi308x_to_china_need_a_licence_by_the_april_2025_letters():
    # NVIDIA 8-K of 2025-04-15 (H20); AMD's April 2025 disclosure (MI308).
    for name in ("H20", "MI308X"):
        for day in (D(2025, 6, 1), D(2026, 2, 1)):
            result = classify(chip(name), dest="CN", as_of=day)
            assert result.license_required is True, (name, day)
            assert any("Is-informed letter of 2025-04-09" in r for r in result.reasons)


def test_h20_before_the_letter_needed_no_licence():
    # 88 FR 73458: the H20 (TPP 2,368) is outside 3A090; the letter dates from 2025-04-09.
    assert classify(chip("H20"), dest="CN", as_of=D(2025, 4, 8)).license_required is False


def test_letter_criteria_reach_the_recipients_other_chips_and_say_when_undecidable():
    # NVIDIA's criteria: the H20's memory bandwidth (4,000 GB/s) or interconnect (900 GB/s).
    from tppcalc import spec_from_figures

    fast = spec_from_figures({"int8": 100}, dram_bandwidth_gbps="4000", io_bidir_gbps="100")
    assert classify(fast, dest="CN", as_of=D(2025, 6, 1)).license_required is False  # not NVIDIA's chip
    nvidia_like = fast.model_copy(update={"id": "nvidia-test-part"})
    assert classify(nvidia_like, dest="CN", as_of=D(2025, 6, 1)).license_required is True
    unknown = spec_from_figures({"int8": 100}).model_copy(update={"id": "nvidia-unknown-part"})
    result = classify(unknown, dest="CN", as_of=D(2025, 6, 1))
    assert result.license_required is None
    assert any("cannot be decided" in r for r in result.reasons)


def test_a_date_past_the_verified_date_is_undetermined_not_not_required():
    book = default_rulebook()
    later = book.verified_through + dt.timedelta(days=30)
    result = classify(chip("H100 SXM"), dest="DE", as_of=later)
    assert result.license_required is None
    assert "coverage" in notice_ids(result)
    within = classify(chip("H100 SXM"), dest="DE", as_of=book.verified_through)
    assert within.license_required is False and "coverage" not in notice_ids(within)


# -- B. notices ------------------------------------------------------------------------------

def test_ascend_910b_and_910c_carry_the_gp10_notice():
    # BIS GP10 guidance of 2025-05-13 names the Ascend 910B, 910C, 910D (the 910B by its bins).
    for name in ("Ascend 910B3", "Ascend 910C"):
        assert "gp10-ascend" in notice_ids(classify(chip(name)))
    assert "gp10-ascend" not in notice_ids(classify(chip("Ascend 910B3"), as_of=D(2025, 5, 12)))
    assert "gp10-ascend" not in notice_ids(classify(chip("H100 SXM")))


def test_h200_and_mi325x_fall_in_their_section_232_tariff_bands():
    # Annex: H200 SXM (TPP 15,832, 4,800 GB/s) band 1; MI325X (TPP 20,919, 6,000 GB/s) band 2.
    assert notice_ids(classify(chip("H200 SXM"), as_of=D(2026, 2, 1))) == ["tariff-band-1"]
    assert notice_ids(classify(chip("MI325X"), as_of=D(2026, 2, 1))) == ["tariff-band-2"]
    assert "tariff-band-1" not in notice_ids(classify(chip("H100 SXM"), as_of=D(2026, 2, 1)))  # 3,350 GB/s
    assert "tariff-band-2" not in notice_ids(classify(chip("B200"), as_of=D(2026, 2, 1)))
    assert notice_ids(classify(chip("H200 SXM"), as_of=D(2026, 1, 14))) == []  # duty from 2026-01-15


def test_the_disputed_ai_diffusion_status_is_a_notice_from_the_gao_decision():
    # GAO B-337935 of 2026-05-12.
    assert "legal-status-2025-01-13-ai-diffusion" in notice_ids(classify(chip("H100 SXM"), as_of=D(2026, 6, 1)))
    assert "legal-status-2025-01-13-ai-diffusion" not in notice_ids(classify(chip("H100 SXM"), as_of=D(2026, 5, 11)))


def test_notices_reach_classify_json_and_text(run_cli):
    result = run_cli("classify", "Ascend 910B3", "--json")
    assert result.exit_code == 0, result.stderr
    assert "gp10-ascend" in [n["id"] for n in json.loads(result.stdout)["notices"]]
    text = run_cli("classify", "H200 SXM", "--as-of", "2026-02-01").stdout
    assert "Notices" in text and "Section 232 tariff band 1" in text


# -- C. coverage and status in rules list ----------------------------------------------------

def test_rules_list_json_has_verified_through_and_real_status(run_cli):
    result = run_cli("rules", "list", "--as-of", "2026-02-01", "--json")
    document = json.loads(result.stdout)
    assert document["verified_through"] == "2026-07-23"
    status = {e["id"]: e["status"] for e in document["editions"]}
    assert status["2023-11-17"] == "superseded by 2024-04-04 on 2024-04-04"
    assert status["2026-01-15"] == "in force"
    assert status["2025-01-13-ai-diffusion"].startswith("in the regulations text but not enforced")


def test_every_citation_is_a_public_address_and_no_note_cites_an_unshipped_document():
    book = default_rulebook()
    for edition in book.editions:
        for text in [*edition.notes, edition.status_note, edition.legal_status]:
            assert "regulation.md" not in text, edition.id
        for citation in [*edition.citations, *(n.citation for n in edition.notices),
                         *(x.citation for x in edition.letters)]:
            assert citation.url.startswith("https://"), (edition.id, citation.title)


# -- D. readings reach the licence answer ----------------------------------------------------

def test_trainium2_review_policy_depends_on_the_tf32_reading():
    # 91 FR 1684: case-by-case below TPP 21,000; Trainium2 is 21,344 (TF32 at 32 bits) and
    # about 12,673 with TF32 counted at 19 bits.
    result = classify(chip("Trainium2"), dest="CN", as_of=D(2026, 2, 1))
    assert result.review_policy == "presumption of denial"
    assert result.reading_sensitive is True
    assert "case-by-case" in result.outcomes_by_reading["tf32-19-bits"][0]
    assert "presumption of denial" in result.outcomes_by_reading["primary"][0]


# -- E. the 2026-01-15 edition against 91 FR 1684 --------------------------------------------

def test_january_2026_edition_cites_the_codified_paragraph_and_keeps_denial_for_d5_headquarters():
    h200 = classify(chip("H200 SXM"), dest="CN", as_of=D(2026, 2, 1))
    assert h200.review_policy == "case-by-case"
    assert "742.6(b)(10)(iii)(A)(1)" in " ".join(h200.reasons + [h200.review_conditions or ""]) or any(
        "742.6(b)(10)(iii)(A)(1)" in p.citation for p in default_rulebook().get("2026-01-15").review_policies)
    assert "commercially available in the United States" in h200.review_conditions
    elsewhere = classify(chip("H200 SXM"), dest="BR", hq="CN", as_of=D(2026, 2, 1))
    assert elsewhere.license_required is True and elsewhere.review_policy == "presumption of denial"


def test_batch_rows_reached_by_a_letter_do_not_share_an_answer_with_rows_it_does_not_reach(run_cli, tmp_path):
    # H20 (named in NVIDIA's letter) and L20 (DRAM 864 GB/s, I/O 64 GB/s: under the H20's figures)
    # are both outside 3A090; only the H20 needs a licence to China in 2026.
    for order in (("H20", "L20"), ("L20", "H20")):
        source, target = tmp_path / "in.csv", tmp_path / "out.csv"
        source.write_text("chip\n" + "\n".join(order) + "\n")
        result = run_cli("batch", str(source), "-o", str(target), "--dest", "CN", "--as-of", "2026-02-01")
        assert result.exit_code == 0, result.stderr
        rows = {line.split(",")[0]: line.split(",")[4] for line in target.read_text().splitlines()[1:]}
        assert rows == {"H20": "true", "L20": "false"}, order


def test_a_tariff_band_with_an_unknown_figure_may_apply_and_says_so():
    # Annex band 1: TPP over 14,000 and under 17,500 with DRAM over 4,500 and under 5,000 GB/s.
    from tppcalc import spec_from_figures

    in_band_tpp = {"int8": 1875}  # TPP 1,875 x 8 = 15,000
    unknown = classify(spec_from_figures(in_band_tpp), as_of=D(2026, 2, 1)).notices
    assert [(n.id, n.certain) for n in unknown] == [("tariff-band-1", False)]
    assert unknown[0].text.startswith("May apply")
    slow = classify(spec_from_figures(in_band_tpp, dram_bandwidth_gbps="3000"), as_of=D(2026, 2, 1))
    assert slow.notices == []
    edge = classify(spec_from_figures(in_band_tpp, dram_bandwidth_gbps="5000"), as_of=D(2026, 2, 1))
    assert edge.notices == []  # "less than 5,000 GB/s": strict


def test_probe_rows_carry_the_letter_for_a_recorded_h20(run_cli):
    # A recorded H20 host (tests/fixtures/hosts/h20.json) to China in 2026: NVIDIA's 8-K letter.
    recorded = str(Path(__file__).parent / "fixtures" / "hosts" / "h20.json")
    result = run_cli("probe", "--replay", recorded, "--dest", "CN", "--as-of", "2026-02-01", "--json")
    assert result.exit_code == 0, result.stderr
    h20 = next(d for d in json.loads(result.stdout)["devices"] if d["identified_as"] == "nvidia-h20")
    assert h20["classification"]["license_required"] is True
    assert "letter-nvidia-h20" in [n["id"] for n in h20["classification"]["notices"]]
    text = run_cli("probe", "--replay", recorded, "--dest", "CN", "--as-of", "2026-02-01")
    assert "Notices" in text.stdout and "names this product" in text.stdout


def test_rules_list_text_shows_status_on_the_day_and_the_verified_date(run_cli):
    text = run_cli("rules", "list", "--as-of", "2026-08-01").stdout
    assert "superseded by 2026-07-23 on 2026-07-23" in text  # the 2026-01-15 edition
    assert "through 2026-07-23; 2026-08-01 is later: changes since then may be missing" in text
