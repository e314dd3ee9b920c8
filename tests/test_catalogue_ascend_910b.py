"""The Ascend 910B family (issue 16 item 3): each bin is its own record, the family name is refused.

Expected values come from the sources specs/huawei.toml cites, not from the code:
- Per-bin dense FP16 (and INT8 where given) and HBM capacity: AI Lemon blog (2025-05-24), as quoted
  in an LLM performance evaluator's data-source table: 910B1 414 TFLOPS FP16 / 828 TOPS INT8 / 64 GB;
  910B2 376 TFLOPS FP16 / 64 GB; 910B3 313 / 626 / 64 GB; 910B4 280 / 560 / 32 GB.
- RecSDK's SoC map: ascend910b1-b4 map to ascend910b; ascend910a and an older ascend910b to ascend910.
- Names tools print: HAMi's device config (chipName "910B3" as npu-smi prints it, commonWord
  "Ascend910B3" as CANN and torch_npu print it, Kubernetes resource "huawei.com/Ascend910B3") for
  the 910B2, 910B3 and 910B4, and its separate "910B4-1" (64 GB, not the 32 GB 910B4).
- Die: 665.61 mm2 (21.32 x 31.22 mm) for the 910B's compute die, from the die-shot analysis; CANN
  files give every 910B bin one SoC (Short_SoC_version Ascend910B, NpuArch 2201).
- BIS guidance of 2025-05-13 names the Ascend 910B (GP10 notice); 3A090.a: TPP >= 4800, or
  TPP >= 1600 and performance density >= 5.92.
TPP = dense rate x bit length of the operation (15 CFR 774 Supp. 1, 3A090 note).
"""

import datetime as dt
from fractions import Fraction

import pytest

from tppcalc.core.metrics import compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify
from tppcalc.errors import AmbiguousChipError, UnknownChipError

CATALOGUE = Catalogue.load()
BINS = ("huawei-ascend-910b1", "huawei-ascend-910b2", "huawei-ascend-910b3", "huawei-ascend-910b4")


@pytest.mark.parametrize(("name", "chip_id"), [
    ("Ascend 910B1", "huawei-ascend-910b1"),
    ("Huawei Ascend 910B2", "huawei-ascend-910b2"),
    ("Ascend910B3", "huawei-ascend-910b3"),              # CANN soc_version, torch_npu device name
    ("910B3", "huawei-ascend-910b3"),                    # npu-smi info, Name column
    ("huawei.com/Ascend910B3", "huawei-ascend-910b3"),   # Kubernetes resource (HAMi)
    ("Ascend 910B4", "huawei-ascend-910b4"),
    ("huawei.com/Ascend910B4", "huawei-ascend-910b4"),
])
def test_each_bin_resolves_by_the_names_tools_print(name, chip_id):
    assert CATALOGUE.lookup(name).id == chip_id


@pytest.mark.parametrize("name", ["Ascend 910B", "Ascend910B", "Huawei Ascend 910B", "huawei-ascend-910b"])
def test_the_family_name_pins_no_bin_down_and_is_refused_with_the_bins_as_candidates(name):
    # The bins run from 280 to 414 TFLOPS FP16: taking any one for the family could understate it.
    # CANN's older SoC list also used "Ascend910B" for a bin of the first 910 (RecSDK's SoC map).
    with pytest.raises(AmbiguousChipError) as caught:
        CATALOGUE.lookup(name)
    assert set(caught.value.candidates) == {*BINS, "huawei-ascend-910"}


def test_the_64_gb_910b4_1_is_not_taken_for_the_32_gb_910b4():
    # HAMi lists "910B4-1" (64 GB) apart from "910B4" (32 GB); no FP16 figure is sourced for it.
    with pytest.raises(UnknownChipError):
        CATALOGUE.lookup("Ascend910B4-1")


@pytest.mark.parametrize(("chip_id", "tpp"), [
    ("huawei-ascend-910b1", 414 * 16),   # 6,624 (INT8 828 x 8 = 6,624 too)
    ("huawei-ascend-910b2", 376 * 16),   # 6,016
    ("huawei-ascend-910b3", 313 * 16),   # 5,008 (INT8 626 x 8 = 5,008 too)
    ("huawei-ascend-910b4", 280 * 16),   # 4,480 (INT8 560 x 8 = 4,480 too)
])
def test_tpp_follows_from_each_bins_sourced_rate(chip_id, tpp):
    assert compute_metrics(CATALOGUE.get(chip_id)).tpp == tpp


def test_every_bin_is_3a090a_the_lowest_by_its_density():
    # 910B4: TPP 4,480 < 4,800, but 4,480 / 665.61 mm2 = 6.73 >= 5.92 (3A090.a, density limb).
    density = compute_metrics(CATALOGUE.get("huawei-ascend-910b4")).performance_density
    assert Fraction(4480) / Fraction("665.61") == density
    for chip_id in BINS:
        assert classify(CATALOGUE.get(chip_id), as_of=dt.date(2025, 6, 1)).eccn == "3A090.a", chip_id


def test_memory_capacity_per_bin():
    capacity = {c: CATALOGUE.get(c).memory.capacity_gb.value for c in BINS}
    assert capacity == {"huawei-ascend-910b1": 64, "huawei-ascend-910b2": 64,
                        "huawei-ascend-910b3": 64, "huawei-ascend-910b4": 32}


@pytest.mark.parametrize("chip_id", BINS)
def test_the_gp10_notice_reaches_every_bin_from_the_day_of_the_guidance(chip_id):
    spec = CATALOGUE.get(chip_id)
    assert "gp10-ascend" in [n.id for n in classify(spec, dest="CN", as_of=dt.date(2025, 5, 13)).notices]
    assert "gp10-ascend" not in [n.id for n in classify(spec, dest="CN", as_of=dt.date(2025, 5, 12)).notices]


@pytest.mark.parametrize("name", ["Ascend 910A", "Ascend910A", "910A"])
def test_910a_is_the_original_2019_ascend_910(name):
    # CANN's Ascend910A platform file: Short_SoC_version Ascend910, 32 AI cores (Hot Chips 31: 32).
    assert CATALOGUE.lookup(name).id == "huawei-ascend-910"


def test_classify_refuses_the_family_name_in_one_line_naming_the_bins(run_cli):
    result = run_cli("classify", "Ascend 910B")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "matches several chips" in lines[0]
    assert all(chip_id in lines[0] for chip_id in BINS)
