"""Cloud instance types as computers: each holds the chips its provider's page lists."""

import json
import textwrap

import pytest

from tppcalc.data.catalogue import default_catalogue
from tppcalc.data.instances import _shipped, find_instance
from tppcalc.errors import UnknownChipError
from tppcalc.fleet import report_fleet


# (instance type, chip id, count): from AWS's P5/P4/Trn2 pages, Google's A3 series, Azure's ND H100 v5
# series and Oracle's compute shapes.
@pytest.mark.parametrize(("name", "chip_id", "count"), [
    ("p5.48xlarge", "nvidia-h100-sxm5-80gb", 8),
    ("p4d.24xlarge", "nvidia-a100-sxm4-40gb", 8),
    ("p4de.24xlarge", "nvidia-a100-sxm4-80gb", 8),
    ("trn2.48xlarge", "aws-trainium2", 16),
    ("a3-highgpu-8g", "nvidia-h100-sxm5-80gb", 8),
    ("ND_H100_v5", "nvidia-h100-sxm5-80gb", 8),
    ("Standard_ND96isr_H100_v5", "nvidia-h100-sxm5-80gb", 8),
    ("BM.GPU.H100.8", "nvidia-h100-sxm5-80gb", 8),
    ("bm.gpu.h100.8", "nvidia-h100-sxm5-80gb", 8),   # identifiers ignore case
])
def test_each_instance_type_holds_its_providers_chips(name, chip_id, count):
    computer = find_instance(name, default_catalogue())
    assert (computer.chip.id, computer.instance.count) == (chip_id, count)


def test_every_instance_names_a_catalogue_chip_and_a_source_with_an_address():
    for entry in _shipped().instance:
        default_catalogue().get(entry.chip)
        assert _shipped().sources[entry.source].url.startswith("https://")


def test_no_instance_name_resolves_as_a_chip():
    # classify and fleet look a query up as a chip first, and read the instance table only then.
    for entry in _shipped().instance:
        for name in (entry.name, *entry.aliases):
            with pytest.raises(UnknownChipError):
                default_catalogue().lookup(name)


def test_a_near_miss_is_no_instance_and_no_chip():
    assert find_instance("p5.48xlarg", default_catalogue()) is None
    with pytest.raises(UnknownChipError):
        default_catalogue().lookup("p5.48xlarg")


def test_cli_classifies_p5_48xlarge_as_a_4a090a_computer_of_8_h100_sxm(run_cli):
    result = run_cli("classify", "p5.48xlarge", "--item", "computer", "--json", "--as-of", "2025-03-01")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["eccn"] == "4A090.a"
    assert (document["computer"]["chip_id"], document["computer"]["count"]) == ("nvidia-h100-sxm5-80gb", 8)
    assert document["computer"]["source"]["url"] == "https://aws.amazon.com/ec2/instance-types/p5/"


def test_cli_an_instance_is_not_an_ic(run_cli):
    result = run_cli("classify", "p5.48xlarge")
    assert result.exit_code == 1 and "--item computer" in result.stderr


def test_a_fleet_inventory_may_count_instances(tmp_path):
    path = tmp_path / "sites.toml"
    path.write_text(textwrap.dedent("""
        [[site]]
        name = "iad-1"
        country = "US"
        [[site.item]]
        chip = "p5.48xlarge"
        count = 4
    """))
    total = report_fleet([path], default_catalogue()).totals_by_country["US"]
    assert total.units == 32 and total.tpp == 32 * 15832


# ---- superchips as compositions (issue 16 item 2) ---------------------------------------------
# NVIDIA's GB200 NVL72 page: each GB200 Superchip is two Blackwell GPUs and one Grace CPU (GB300
# likewise); the Grace CPU Superchip is two Grace CPUs (NVIDIA technical blog).

@pytest.mark.parametrize(("query", "units"), [
    ("GB200 Superchip", [("nvidia-gb200-gpu", 2), ("nvidia-grace-cpu", 1)]),
    ("GB300 Superchip", [("nvidia-gb300-gpu", 2), ("nvidia-grace-cpu", 1)]),
    ("Grace CPU Superchip", [("nvidia-grace-cpu", 2)]),
])
def test_a_superchip_is_a_composition_of_unit_records(query, units):
    from tppcalc.data.instances import find_composition

    catalogue = default_catalogue()
    assembly = find_composition(query, catalogue, chip_id=catalogue.lookup(query).id)
    assert [(chip.id, count) for chip, count in assembly.units] == units


def test_cli_classifies_gb200_superchip_as_a_computer_naming_its_units(run_cli):
    result = run_cli("classify", "GB200 Superchip", "--item", "computer", "--json", "--as-of", "2025-03-01")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    computer = document["computer"]
    assert computer["composition"] == "GB200 Grace Blackwell Superchip"
    assert [(u["chip_id"], u["count"]) for u in computer["units"]] == [("nvidia-gb200-gpu", 2),
                                                                       ("nvidia-grace-cpu", 1)]
    # A computer holding a 3A090.a GPU is 4A090.a, whatever its CPU is: the GPU governs.
    assert document["eccn"] == "4A090.a" and document["chip_id"] == "nvidia-gb200-gpu"
    assert computer["governing_chip_id"] == "nvidia-gb200-gpu"
    text = run_cli("classify", "GB200 Superchip", "--item", "computer", "--as-of", "2025-03-01").stdout
    assert "2 x " in text and "1 x " in text


def test_cli_a_superchip_as_an_ic_is_still_the_one_record(run_cli):
    result = run_cli("classify", "GB200 Superchip", "--json", "--as-of", "2025-03-01")
    assert json.loads(result.stdout)["chip_id"] == "nvidia-gb200-superchip"
