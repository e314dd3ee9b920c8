"""The second plane (issue 15 item 8): TPP against total DRAM bandwidth, with the January 2026
case-by-case zone and the Section 232 tariff bands read from the rule data, chips placed exactly.

Expected values come from the rule text and datasheets, not from tppcalc:
- 91 FR 1684 (15 CFR 742.6(b)(10)(iii)(A)(1)): case-by-case for China/Macau when TPP < 21,000 and
  total DRAM bandwidth < 6,500 GB/s.
- Proclamation of 2026-01-14, Annex: band 1 TPP 14,000-17,500 and 4,500-5,000 GB/s; band 2 TPP
  20,800-21,100 and 5,800-6,200 GB/s (both strict).
- H200 SXM: 1,979 dense FP8 TFLOPS x 8 = 15,832; 4,800 GB/s (NVIDIA datasheet): band 1.
- MI325X: 2,614.9 dense FP8 TFLOPS x 8 = 20,919.2; 6,000 GB/s (AMD datasheet): band 2.
- B200 (HGX, 1,000 W): 4,500 dense FP8 TFLOPS x 8 = 36,000; 7.7 TB/s (NVIDIA): outside the zone.
"""

import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

pytest.importorskip("matplotlib")

from click.testing import CliRunner

from tppcalc.cli.chart import chart
from tppcalc.cli.main import _Group
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.rules.editions import RuleBook, default_rulebook
from tppcalc.render.chart import bandwidth_areas, bandwidth_model, chips_from_specs, rules_view

CATALOGUE = Catalogue.load()
SVG = "{http://www.w3.org/2000/svg}"


def run_chart(*args: str):
    group = _Group("tppcalc", commands={"chart": chart})
    return CliRunner().invoke(group, ["chart", *args], catch_exceptions=False)


def test_the_cli_places_h200_and_mi325x_in_their_bands_and_b200_outside_the_zone(tmp_path):
    out = tmp_path / "plane.png"
    result = run_chart("--plane", "bandwidth", "--as-of", "2026-02-01", "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = json.loads(result.stdout)
    assert document["plane"] == "bandwidth"
    areas = {a["id"]: a for a in document["areas"]}
    assert areas["china-macau-case-by-case"]["tpp"] == [None, 21000] and \
        areas["china-macau-case-by-case"]["dram_bandwidth_gbps"] == [None, 6500]
    assert areas["tariff-band-1"]["tpp"] == [14000, 17500] and areas["tariff-band-1"]["dram_bandwidth_gbps"] == [4500, 5000]
    assert areas["tariff-band-2"]["tpp"] == [20800, 21100] and areas["tariff-band-2"]["dram_bandwidth_gbps"] == [5800, 6200]
    chips = {c["id"]: c for c in document["chips"]}
    assert len(chips) == len(CATALOGUE)   # no query: the whole catalogue, none dropped
    h200, mi325x, b200 = chips["nvidia-h200-sxm-141gb"], chips["amd-instinct-mi325x"], chips["nvidia-b200-hgx"]
    assert (h200["place"], h200["tpp"], h200["dram_bandwidth_gbps"], h200["tariff_bands"]) == \
        ("plot", 15832, 4800, ["tariff-band-1"])
    assert (mi325x["place"], mi325x["tpp"], mi325x["dram_bandwidth_gbps"], mi325x["tariff_bands"]) == \
        ("plot", 20919.2, 6000, ["tariff-band-2"])
    assert (b200["place"], b200["tpp"], b200["review_zones"], b200["tariff_bands"]) == ("plot", 36000, [], [])
    assert h200["review_zones"] == mi325x["review_zones"] == ["china-macau-case-by-case"]


def test_the_svg_draws_the_areas_and_labels_the_chips(tmp_path):
    out = tmp_path / "plane.svg"
    result = run_chart("H200 SXM", "MI325X", "B200", "H20", "--plane", "bandwidth", "--as-of", "2026-02-01",
                       "-o", str(out))
    assert result.exit_code == 0, result.stderr
    root = ET.parse(out).getroot()
    text = "".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for label in ("tariff band 1", "tariff band 2", "case-by-case (CN, HK, MO)", "H200 SXM 141GB", "Instinct MI325X",
                  "B200 (HGX B200, 1000 W)", "H20 96GB", "Total DRAM bandwidth (GB/s)"):
        assert label in text, label
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {"area-tariff-band-1-1", "area-tariff-band-2-2", "area-china-macau-case-by-case-0"} <= ids


def test_the_areas_follow_the_rule_data_not_constants():
    book = default_rulebook()
    editions = []
    for edition in book.editions:
        if edition.id == "2026-01-15-section-232-tariff":
            notices = [n.model_copy(update={"when": [b.model_copy(update={"below": Decimal(18000)})
                                                     if b.figure == "tpp" and b.below == 17500 else b for b in n.when]})
                       for n in edition.notices]
            edition = edition.model_copy(update={"notices": notices})
        editions.append(edition)
    moved = book.model_copy(update={"editions": tuple(editions)})
    view = rules_view(as_of=__import__("datetime").date(2026, 2, 1), rulebook=moved)
    (band,) = [a for a in bandwidth_areas(view, rulebook=moved) if a.id == "tariff-band-1"]
    assert band.tpp == (14000, 18000)


def test_before_2026_the_plane_has_no_areas_and_says_so():
    view = rules_view(as_of=__import__("datetime").date(2025, 2, 1))
    model = bandwidth_model(chips_from_specs([CATALOGUE.lookup("H200 SXM")]), view)
    assert model.areas == [] and any("draw no line in this plane" in n for n in model.notes)
    assert model.points[0].bands == ()


def test_compare_is_refused_on_the_bandwidth_plane(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_chart("H20", "--plane", "bandwidth", "--compare", "2022-10-07", "-o", "p.png")
    assert result.exit_code == 2 and "--compare" in result.stderr and not list(tmp_path.iterdir())
