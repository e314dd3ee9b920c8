"""The accelerators added in issue 16 item 3's breadth batch 4: their TPP from the cited figures,
their real product names, and fail-closed answers where a figure is missing.

Every expected TPP below is worked out here from the figure the record cites (TPP = dense rate x
bit length, the rule's 2 x MacTOPS x bit length with the datasheet convention of 2 operations per
MAC), not read back from the code:

- FuriosaAI RNGD (FuriosaAI docs): 256 TFLOPS BF16 x 16 = 512 TOPS INT8 x 8 = 4,096; on a 653 mm2
  die that is a density of 6.27, which the October 2023 text puts in 3A090.a (TPP >= 1,600 and
  density >= 5.92, 15 CFR 774 Supp. 1, 3A090.a.2).
- Rebellions REBEL-Quad (ISSCC 2026 as reported): 2 PFLOPS FP8 x 8 = 16,000 over 4 x 320 mm2.
- NVIDIA A16, one of the board's four GPUs (HMC-Tech): 69.43 board TFLOPS FP16 / 4 x 16.
- NVIDIA T40 (HMC-Tech): 115.02 TFLOPS FP16 x 16.
- NVIDIA Rubin (NVIDIA at CES 2026 as reported): 35 PFLOPS NVFP4 training x 4.
- AMD Instinct MI455X (AMD, November 2025, as reported): 40 PFLOPS FP4 x 4 = 20 PFLOPS FP8 x 8.
- Huawei Ascend 950PR (as reported): 1 PFLOPS FP8 x 8 = 2 PFLOPS MXFP4 x 4.
- Google TPU 8t (SemiAnalysis as relayed): 12.6 PFLOPS FP4 x 4.
- AMD Radeon RX 7900 XT (Tom's Hardware's table of AMD's figures): FP32 51.6 x 32 = 1,651.2, just
  above FP16 103 x 16 = 1,648.
"""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from tppcalc.core.metrics import compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify
from tppcalc.errors import AmbiguousChipError

CATALOGUE = Catalogue.load()
IN_FORCE_2023_TEXT = dt.date(2025, 6, 1)


@pytest.mark.parametrize(("chip_id", "expected_tpp"), [
    ("furiosa-rngd", Decimal(256) * 16),
    ("rebellions-rebel-quad", Decimal(2000) * 8),
    ("nvidia-a16", Decimal("69.43") / 4 * 16),
    ("nvidia-t40", Decimal("115.02") * 16),
    ("nvidia-rubin", Decimal(35000) * 4),
    ("amd-instinct-mi455x", Decimal(40000) * 4),
    ("huawei-ascend-950pr", Decimal(1000) * 8),
    ("google-tpu-8t", Decimal("12600") * 4),
    ("amd-radeon-rx-7900-xt", Decimal("51.6") * 32),   # FP32 51.6 x 32 edges out FP16 103 x 16
])
def test_tpp_follows_from_the_cited_figure(chip_id, expected_tpp):
    tpp = compute_metrics(CATALOGUE.lookup(chip_id)).tpp
    assert tpp is not None
    # Per-GPU A16 rates are board totals divided by four and rounded up: within half a percent.
    assert abs(Decimal(tpp) - expected_tpp) <= expected_tpp * Decimal("0.005"), (chip_id, tpp)


def test_known_die_areas_give_the_density_the_figures_imply():
    rngd = compute_metrics(CATALOGUE.lookup("furiosa-rngd"))
    assert rngd.performance_density == Fraction(4096, 653)
    quad = compute_metrics(CATALOGUE.lookup("rebellions-rebel-quad"))
    assert quad.performance_density == Fraction(16000, 4 * 320)


def test_rngd_is_3a090a_by_density_under_the_2023_text():
    result = classify("furiosa-rngd", dest="CN", as_of=IN_FORCE_2023_TEXT)
    assert result.eccn == "3A090.a"


@pytest.mark.parametrize("chip_id", [
    "amd-instinct-mi430x",    # no rate published
    "enflame-dtu-1",          # no rate published
    "cerebras-wse-1",         # no rate published
    "metax-mxc500",           # only FP32 published: TPP at least 480
    "tenstorrent-grayskull",  # 368 TOPS of an unnamed precision: kept as INT8, wider formats unknown
    "google-tpu-v4i",         # INT8 rate and exact die area unknown
    "kunlunxin-kunlun-ii",    # INT8 only: TPP at least 2,048, die area unknown
    "intel-data-center-gpu-max-1100",  # clock not found, so no rate
])
def test_a_missing_figure_never_reads_as_outside_or_licence_free(chip_id):
    result = classify(chip_id, dest="CN", as_of=IN_FORCE_2023_TEXT)
    assert result.eccn is None
    assert result.undetermined and "3A090.a" in result.undetermined
    assert result.license_required is not False


@pytest.mark.parametrize(("name", "chip_id"), [
    ("NVIDIA A16", "nvidia-a16"),                       # nvidia-smi, one line per GPU of the board
    ("NVIDIA T40", "nvidia-t40"),
    ("NVIDIA Rubin CPX", "nvidia-rubin-cpx"),
    ("Rubin GPU", "nvidia-rubin"),
    ("AMD Instinct MI455X", "amd-instinct-mi455x"),
    ("AMD Instinct MI430X", "amd-instinct-mi430x"),
    ("Google TPU v4i", "google-tpu-v4i"),
    ("TPU v8t", "google-tpu-8t"),
    ("TPU 8i", "google-tpu-8i"),
    ("Huawei Ascend 950PR", "huawei-ascend-950pr"),
    ("Ascend 950DT", "huawei-ascend-950dt"),
    ("FuriosaAI RNGD", "furiosa-rngd"),
    ("Rebellions ATOM", "rebellions-atom"),
    ("Rebel100", "rebellions-rebel-quad"),
    ("d-Matrix Corsair", "dmatrix-corsair"),
    ("Graphcore Bow IPU", "graphcore-bow-ipu"),
    ("Tenstorrent Grayskull", "tenstorrent-grayskull"),
    ("MetaX C500", "metax-mxc500"),
    ("Baidu Kunlun II", "kunlunxin-kunlun-ii"),
    ("Cerebras WSE-1", "cerebras-wse-1"),
    ("CloudBlazer T10", "enflame-dtu-1"),
    ("AMD Radeon RX 7900 XT", "amd-radeon-rx-7900-xt"),
    ("Intel(R) Data Center GPU Max 1100", "intel-data-center-gpu-max-1100"),
])
def test_real_product_names_resolve_to_the_new_chip(name, chip_id):
    assert CATALOGUE.lookup(name).id == chip_id


@pytest.mark.parametrize(("name", "chip_id"), [
    ("Ascend 910B3", "huawei-ascend-910b3"),     # the 950 series must not take the 910 family's names
    ("Ascend 910", "huawei-ascend-910"),
    ("NVIDIA A2", "nvidia-a2"),                  # the A16 shares the A2's GA107 and PCI id
    ("TPU v4", "google-tpu-v4"),                 # TPU v4i is a different chip
    ("Kunlun K200", "kunlunxin-kunlun-k200"),    # Kunlun II is the next generation
    ("GC200", "graphcore-gc200"),                # the Bow IPU is a sibling, not the same record
    ("WSE-2", "cerebras-wse-2"),
    ("Instinct MI355X", "amd-instinct-mi355x"),
    ("AMD Radeon RX 7900 XTX", "amd-radeon-rx-7900-xtx"),   # the XT is a sibling: XT is not XTX
    ("Data Center GPU Max 1550", "intel-data-center-gpu-max-1550"),
])
def test_existing_names_still_resolve_to_the_chip_they_named(name, chip_id):
    assert CATALOGUE.lookup(name).id == chip_id


@pytest.mark.parametrize(("name", "candidates"), [
    ("Ascend 950", {"huawei-ascend-950pr", "huawei-ascend-950dt"}),   # the series, not a variant
    ("Radeon RX 7900", {"amd-radeon-rx-7900-xtx", "amd-radeon-rx-7900-xt"}),
])
def test_a_bare_family_name_does_not_pick_a_sibling(name, candidates):
    with pytest.raises(AmbiguousChipError) as info:
        CATALOGUE.lookup(name)
    assert set(info.value.candidates) == candidates
