"""Server CPUs as family and SKU tables (issue 16 item 4): SKU rows become catalogue records, and a
brand string naming an unlisted SKU of a known family gets the family's bound, which proves
"outside 3A090" only when even the bound is below the lowest TPP line.

Expected figures are worked by hand from the vendors' datasheet numbers (cores, clocks) and the
per-core rates the tables cite: AMD EPYC 9754 128 cores at 3.1 GHz max boost; Zen 4 16 FP64
FLOP/cycle/core; Xeon Platinum 8490H 60 cores at 3.5 GHz max turbo (Microsoft Learn, Mdsv3), AMX
2048 INT8 ops/cycle/core (Intel Optimization Reference Manual).
"""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tppcalc.core.metrics import compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.cpu_tables import family_bound, normalised_brand, read_cpu_table
from tppcalc.data.specfile import read_document
from tppcalc.decisions.classification import classify
from tppcalc.errors import TppcalcError
from tppcalc.probe.host import CpuInfo
from tppcalc.probe.identify import identify_cpu

AS_OF = dt.date(2025, 6, 1)
SPECS = Path(__file__).resolve().parents[1] / "specs"


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue.load()


@pytest.mark.parametrize("brand, chip_id", [
    ("AMD EPYC 9754 128-Core Processor", "amd-epyc-9754"),
    ("Intel(R) Xeon(R) Platinum 8490H", "intel-xeon-platinum-8490h"),
    ("Intel(R) Xeon(R) CPU Max 9480", "intel-xeon-cpu-max-9480"),
    ("Intel(R) Xeon(R) 6780E", "intel-xeon-6780e"),
    ("Graviton4", "aws-graviton4"),
])
def test_sku_rows_are_catalogue_records_found_by_their_brand_strings(catalogue, brand, chip_id):
    assert catalogue.lookup(brand).id == chip_id


@pytest.mark.parametrize("brand, chip_id", [
    # brand strings as /proc/cpuinfo prints them (quattor per-SKU files), and the two hand-written records
    ("Intel(R) Xeon(R) Platinum 8592+", "intel-xeon-platinum-8592plus"),
    ("AMD EPYC 9965 192-Core Processor", "amd-epyc-9965"),
    ("Intel(R) Xeon(R) Platinum 8470Q CPU @ 2.10GHz", "intel-xeon-platinum-8470q"),
    ("Intel(R) Xeon(R) Platinum 8593Q CPU @ 2.20GHz", "intel-xeon-platinum-8593q"),
    ("Intel(R) Xeon(R) Silver 4410T CPU @ 2.70GHz", "intel-xeon-silver-4410t"),
    ("Intel(R) Xeon(R) 6756E CPU @ 1.80GHz", "intel-xeon-6756e"),
    ("AMD EPYC 9745 128-Core Processor", "amd-epyc-9745"),
    ("AMD EPYC 9634 84-Core Processor", "amd-epyc-9634"),
    ("AMD EPYC 9554P 64-Core Processor", "amd-epyc-9554"),
])
def test_newly_covered_skus_are_found_by_their_brand_strings(catalogue, brand, chip_id):
    assert catalogue.lookup(brand).id == chip_id


def test_new_sku_rows_tpp_by_hand_from_their_cited_figures(catalogue):
    # EPYC 9634: 84 cores (quattor), 3.7 GHz max boost (hpctech-9004), Zen 4 16 FP64 FLOP/cycle:
    # 84 x 3.7 x 16 = 4972.8 GFLOPS = 4.9728 TFLOPS, x 64 bits = TPP 318.2592.
    assert compute_metrics(catalogue.get("amd-epyc-9634")).tpp == Decimal("318.2592")
    # Xeon Silver 4410T: 10 cores, 4.0 GHz max turbo (Intel ARK 232388); AMX 2048 INT8 ops/cycle:
    # 10 x 4.0 x 2048 = 81.92 TOPS, x 8 bits = TPP 655.36 < 1600: outside.
    silver = catalogue.get("intel-xeon-silver-4410t")
    assert compute_metrics(silver).tpp == Decimal("655.36")
    assert classify(silver, as_of=AS_OF).eccn == "outside 3A090"
    # EPYC 9745: 128 Zen 5c cores (quattor), no boost figure: the 9005 family's 5.0 GHz bounds it;
    # 64 FP32 FLOP/cycle x 32 bits = 2048 per core-cycle: 128 x 5.0 x 2048 = TPP 1310.72 < 1600.
    assert compute_metrics(catalogue.get("amd-epyc-9745")).tpp == Decimal("1310.72")
    # Xeon Platinum 8593Q: 64 cores, no turbo figure: 64 x 4.2 GHz x 2048 x 8 = 4404.0192 >= 1600, so
    # the bound proves nothing and the answer is undetermined, never outside.
    result = classify(catalogue.get("intel-xeon-platinum-8593q"), as_of=AS_OF)
    assert result.eccn is None and "outside 3A090" in result.undetermined


def test_a_sku_row_rates_are_cores_times_clock_times_the_family_rate(catalogue):
    epyc = catalogue.get("amd-epyc-9754")
    (vector,) = epyc.processing_units
    # 128 cores x 3.1 GHz x 16 FP64 FLOP/cycle = 6.3488 TFLOPS; no all-core figure: max boost used.
    assert vector.dense_tops["fp64"].value == Decimal("6.3488")
    assert compute_metrics(epyc).tpp == Decimal("6.3488") * 64
    xeon = catalogue.get("intel-xeon-platinum-8490h")
    # 60 cores x 3.5 GHz x 2048 INT8 ops = 430.08 TOPS; x 8 bits = TPP 3440.64.
    assert compute_metrics(xeon).tpp == Decimal("3440.64")


def test_arm_matrix_rates_no_one_publishes_stay_unknown(catalogue):
    graviton = compute_metrics(catalogue.get("aws-graviton3"))
    assert graviton.primary.tpp_bounds.high is None  # never "outside" on the vector rate alone
    assert classify(catalogue.get("aws-graviton3"), as_of=AS_OF).eccn is None


def test_an_unlisted_sku_of_a_family_bounded_below_1600_is_proven_outside():
    # EPYC 9754S (hpctech-9004 lists it, no figures) is not in the table: bound 128 cores x 4.4 GHz x
    # 16 FP64 x 64 bits.
    spec = family_bound("AMD EPYC 9754S 128-Core Processor")
    assert spec is not None and spec.id == "cpu-family-bound-amd-epyc-9004"
    assert compute_metrics(spec).tpp == Decimal(128 * 44 * 16 * 64) / 10_000 == Decimal("576.7168")
    assert classify(spec, as_of=AS_OF).eccn == "outside 3A090"


def test_an_unlisted_sku_of_a_family_whose_bound_reaches_1600_is_never_outside():
    spec = family_bound("Intel(R) Xeon(R) Gold 6499")  # a model number the table does not list
    assert spec is not None and spec.id == "cpu-family-bound-intel-xeon-4th-gen"
    assert compute_metrics(spec).primary.tpp_bounds.high is None
    result = classify(spec, as_of=AS_OF)
    assert result.eccn is None and "outside 3A090" in result.undetermined
    turin = family_bound("AMD EPYC 9655P 96-Core Processor")  # Zen 5 bound: 192 x 5.0 GHz x 2048 > 1600
    assert classify(turin, as_of=AS_OF).eccn is None


@pytest.mark.parametrize("brand", ["AMD EPYC 7763 64-Core Processor", "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz",
                                   "", "N/A", "Xeon", "EPYC 9654 and EPYC 9754", "xeon 6780e extra words"])
def test_a_brand_of_no_known_family_gets_no_bound(brand):
    assert family_bound(brand) is None


def test_brand_strings_normalise():
    assert normalised_brand("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz") == "xeon gold 6148"
    assert normalised_brand("AMD EPYC 9654 96-Core Processor") == "epyc 9654"


def test_the_probe_uses_the_family_bound_for_an_unlisted_sku_it_cannot_derive(catalogue):
    cpu = CpuInfo(vendor="AuthenticAMD", model_name="AMD EPYC 9754S 128-Core Processor", machine="x86_64",
                  errors={"max_mhz": "cpufreq not readable"})
    found = identify_cpu(cpu, catalogue)
    assert found.method == "family bound" and found.spec.id == "cpu-family-bound-amd-epyc-9004"
    assert classify(found.spec, as_of=AS_OF).eccn == "outside 3A090"


# ---- hostile tables -------------------------------------------------------------------------

def _table(tmp_path, text: str) -> Path:
    folder = tmp_path / "specs" / "cpus"
    folder.mkdir(parents=True)
    (folder / "x.toml").write_text(text)
    return tmp_path / "specs"


FAMILY = """
[sources]
s = { title = "t" }
[[family]]
id = "fam"
vendor = "V"
name = "Fam"
architecture = "A"
microarchitecture = "M"
brand_shapes = ["%s"]
max_cores = { value = 8, source = "s" }
max_clock_mhz = { value = 3000, source = "s" }
source = "s"
[family.vector_ops_per_cycle_per_core]
fp32 = { value = 32, source = "s" }
"""
SKU = """
[[sku]]
family = "fam"
model = "Fam 1"
cores = %d
max_turbo_mhz = 2000
source = "s"
"""


@pytest.mark.parametrize("text, words", [
    (FAMILY % "fam ###*" + SKU % 16, "more cores or a higher clock than its family"),
    (FAMILY % "(a+)+$" + SKU % 4, "brand shape"),
    (FAMILY % "fam ###*" + SKU.replace('"s"\n', '"nowhere"\n') % 4, "not in [sources]"),
    (FAMILY % "fam ###*" + SKU.replace('"fam"', '"other"') % 4, "is not a [[family]]"),
])
def test_a_bad_cpu_table_is_refused_naming_the_file(tmp_path, text, words):
    with pytest.raises(TppcalcError) as caught:
        Catalogue.load([_table(tmp_path, text)])
    assert words in str(caught.value) and "x.toml" in str(caught.value)


@pytest.mark.parametrize("row, words", [
    ('published_eccn = { value = "5A992.c", source = "nowhere" }\n', "not in [sources]"),
    ('published_eccn = { value = "5A992.c" }\n', "a value needs a `source`"),
    ('published_eccn = { value = 5 }\n', "published_eccn"),
    ("all_core_turbo_mhz = 1900\n", "needs the maximum turbo clock"),
])
def test_a_bad_sku_row_is_refused_naming_the_file(tmp_path, row, words):
    text = FAMILY % "fam ###*" + (SKU % 4).replace("max_turbo_mhz = 2000\n", row)
    with pytest.raises(TppcalcError) as caught:
        Catalogue.load([_table(tmp_path, text)])
    assert words in str(caught.value) and "x.toml" in str(caught.value)


def test_a_published_eccn_given_as_unknown_loads_and_shows_nothing(tmp_path):
    # An ECCN the maker does not publish may be recorded as unknown, with no source to check.
    text = FAMILY % "fam ###*" + (SKU % 4) + 'published_eccn = { unknown = "not on the maker\'s page" }\n'
    (spec,) = Catalogue.load([_table(tmp_path, text)])
    assert classify(spec, as_of=AS_OF).published_eccn is None


def test_a_row_without_a_max_turbo_clock_is_bounded_by_its_family_clock(tmp_path):
    # 4 cores x the family's 3000 MHz x 32 FP32 ops/cycle = 0.384 TFLOPS; x 32 bits = TPP 12.288.
    text = FAMILY % "fam ###*" + (SKU % 4).replace("max_turbo_mhz = 2000\n", "base_mhz = 1500\n")
    (spec,) = Catalogue.load([_table(tmp_path, text)])
    assert spec.processing_units[0].dense_tops["fp32"].value == Decimal("0.384")
    assert compute_metrics(spec).tpp == Decimal("12.288")
    assert "family's highest clock" in spec.processing_units[0].dense_tops["fp32"].note
    assert spec.clocks.boost_mhz is None and spec.clocks.base_mhz.value == 1500


def test_a_row_whose_family_clock_bound_reaches_1600_has_unknown_rates(tmp_path):
    # 8 cores x 3000 MHz x 2000 FP32 ops/cycle x 32 bits = TPP 1536 < 1600: proven outside;
    # at 9 cores (family maximum raised to 9) the bound is 1728: the rates are unknown.
    family = (FAMILY % "fam ###*").replace("value = 32, source", "value = 2000, source")
    below = family + (SKU % 8).replace("max_turbo_mhz = 2000\n", "")
    assert compute_metrics(Catalogue.load([_table(tmp_path / "a", below)]).get("v-fam-1")).tpp == Decimal(1536)
    above = family.replace("value = 8, source", "value = 9, source") + (SKU % 9).replace("max_turbo_mhz = 2000\n", "")
    spec = Catalogue.load([_table(tmp_path / "b", above)]).get("v-fam-1")
    assert not spec.processing_units[0].dense_tops["fp32"].known
    assert compute_metrics(spec).primary.tpp_bounds.high is None
    result = classify(spec, as_of=AS_OF)
    assert result.eccn is None and "outside 3A090" in result.undetermined


def test_a_sku_row_carries_the_makers_published_eccn_beside_the_computed_one(tmp_path):
    text = FAMILY % "fam ###*" + (SKU % 4) + 'published_eccn = { value = "5A992.c", source = "s" }\n'
    (spec,) = Catalogue.load([_table(tmp_path, text)])
    assert (spec.published_eccn.value, spec.published_eccn.source) == ("5A992.c", "s")
    result = classify(spec, as_of=AS_OF)
    assert result.eccn == "outside 3A090"
    assert (result.published_eccn.value, result.published_eccn.agrees) == ("5A992.c", True)


def test_a_good_cpu_table_in_a_spec_folder_loads(tmp_path):
    catalogue = Catalogue.load([_table(tmp_path, FAMILY % "fam ###*" + SKU % 4)])
    assert [c.id for c in catalogue] == ["v-fam-1"]
    table = read_cpu_table(read_document(tmp_path / "specs" / "cpus" / "x.toml"), "x")
    bound = family_bound("Fam 123", (table,))
    assert bound is not None and compute_metrics(bound).tpp == Decimal(8 * 3000 * 32 * 32) / 1_000_000


def test_cli_classify_gives_an_unlisted_sku_its_family_bound(run_cli):
    result = run_cli("classify", "AMD EPYC 9754S 128-Core Processor", "--json", "--as-of", "2025-06-01")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["chip_id"] == "cpu-family-bound-amd-epyc-9004" and document["eccn"] == "outside 3A090"
    result = run_cli("classify", "Intel(R) Xeon(R) Gold 6499", "--json", "--as-of", "2025-06-01")
    assert json.loads(result.stdout)["eccn"] is None  # the bound reaches 1600: undetermined, never outside
    assert run_cli("classify", "AMD EPYC 7763 64-Core Processor").exit_code == 1  # no family: unknown
