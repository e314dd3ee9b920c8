"""Chip names as the world prints them: each resolves to the chip its vendor means, or to nothing.

The expected chip of each name comes from the vendor's naming, not from this code: NVML and
nvidia-smi print "NVIDIA H100 80GB HBM3" for the H100 SXM5 (the PCIe card, with HBM2e, prints
"NVIDIA H100 PCIe"); Kubernetes GPU Feature Discovery writes the same name with dashes; amd-smi
prints the MI300X with its partition modes, memory and power; /proc/cpuinfo carries Intel's and
AMD's brand strings with (R), core counts and clocks.
"""

import pytest
from test_catalogue import write_chip

from tppcalc.core.metrics import compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.data.naming import confusable_key, parse
from tppcalc.errors import AmbiguousChipError, InputError, UnknownChipError

CATALOGUE = Catalogue.load()


@pytest.mark.parametrize(("name", "chip_id"), [
    ("NVIDIA H100 80GB HBM3", "nvidia-h100-sxm5-80gb"),             # nvidia-smi, H100 SXM5
    ("NVIDIA-H100-80GB-HBM3", "nvidia-h100-sxm5-80gb"),             # GFD label nvidia.com/gpu.product
    ("NVIDIA H100 PCIe", "nvidia-h100-pcie-80gb"),                  # nvidia-smi, H100 PCIe
    ("NVIDIA Blackwell GPU (B200-SXM-180GB)", "nvidia-b200-hgx"),
    ("AMD Instinct MI300X 192GB HBM3", "amd-instinct-mi300x"),
    ("AMD Instinct MI300X-NPS1-SPX-192GB-750W", "amd-instinct-mi300x"),  # amd-smi with partition modes
    ("AMD Instinct MI325X 256GB HBM3E", "amd-instinct-mi325x"),
    ("H100 NVL Tensor Core GPU (PCIe)", "nvidia-h100-nvl-94gb"),     # the NVL is a PCIe card
    ("NVIDIA H200-SXM-141GB-CTS", "nvidia-h200-sxm-141gb"),
    ("NVIDIA A100-SXM4-80GB", "nvidia-a100-sxm4-80gb"),             # nvidia-smi, A100 SXM4 80GB
    ("NVIDIA A100-SXM4-40GB", "nvidia-a100-sxm4-40gb"),             # nvidia-smi, A100 SXM4 40GB (AWS p4d)
    ("Tesla V100-SXM2-32GB", "nvidia-v100-sxm2-32gb"),
    ("NVIDIA GeForce RTX 4090", "nvidia-geforce-rtx-4090"),
    ("Intel(R) Xeon(R) Platinum 8480+", "intel-xeon-platinum-8480plus"),
    ("INTEL(R) XEON(R) PLATINUM 8592+", "intel-xeon-platinum-8592plus"),
    ("Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz", "intel-xeon-platinum-8480plus"),
    ("AMD EPYC 9654 96-Core Processor", "amd-epyc-9654"),
    ("Habana Gaudi2", "intel-gaudi-2"),
    ("NVIDIA Grace CPU", "nvidia-grace-cpu"),
    ("NVIDIA Grace CPU Superchip", "nvidia-grace-cpu-superchip"),
    ("GB200 GPU", "nvidia-gb200-gpu"),
])
def test_real_names_resolve_to_the_chip_their_vendor_means(name, chip_id):
    assert CATALOGUE.lookup(name).id == chip_id


@pytest.mark.parametrize("garbage", ["N/A", "NA", "N.A.", "1", "=1+1", "TBD", "", "  ", "GPU", "X", "-", "none",
                                     "NVIDIA", "Grace"])
def test_garbage_resolves_to_nothing(garbage):
    with pytest.raises(UnknownChipError):
        CATALOGUE.lookup(garbage)


@pytest.mark.parametrize("garbled", [
    "\x1bc/\x1b1",          # terminal codes around "c/1", which would read as "C1" (Grace CPU C1): fuzz seed 81, args:606
    "\x1b[31mH20\x1b[0m",   # a coloured name pasted from a terminal
    "H20\u200b",            # a zero-width space
    "\u202eH20",            # a right-to-left override
    "H\x0020",              # a NUL inside
    "H20\x7f",
])
def test_a_name_with_a_control_or_invisible_character_is_refused_not_read_past(garbled):
    """What is left once such characters are read past can name a chip the text never named."""
    with pytest.raises(UnknownChipError, match="invisible or control character"):
        CATALOGUE.lookup(garbled)


@pytest.mark.parametrize("name", ["H20", "NVIDIA\tH20", " H20\n", "NVIDIA H20\r\n"])
def test_whitespace_in_a_name_is_spacing_not_garbling(name):
    assert CATALOGUE.lookup(name).id == "nvidia-h20"


@pytest.mark.parametrize(("name", "candidates"), [
    ("H100", {"nvidia-h100-sxm5-80gb", "nvidia-h100-pcie-80gb", "nvidia-h100-nvl-94gb"}),
    ("NVIDIA H200", {"nvidia-h200-sxm-141gb", "nvidia-h200-nvl-141gb"}),
    ("A100 SXM", {"nvidia-a100-sxm4-80gb", "nvidia-a100-sxm4-40gb"}),   # 40 or 80 GB: the name does not say
    ("GB200", {"nvidia-gb200-superchip", "nvidia-gb200-gpu"}),   # a GPU or a superchip: the name does not say
    ("GB300", {"nvidia-gb300-superchip", "nvidia-gb300-gpu"}),
])
def test_a_name_that_fits_several_chips_is_ambiguous(name, candidates):
    with pytest.raises(AmbiguousChipError) as info:
        CATALOGUE.lookup(name)
    assert set(info.value.candidates) == candidates


@pytest.mark.parametrize(("name", "suggested"), [
    ("NVIDIA A100-SXM4-40GB PCIe", "A100 SXM4 40GB"),   # SXM and PCIe at once is no card
    ("Radeon RX 7900 GRE", "Radeon RX 7900 XTX"),   # the GRE is neither the XT nor the XTX
    ("Xeon 8480", "Xeon Platinum 8480+"),           # no such SKU without a suffix
    ("B200 1200W", "B200 (HGX B200, 1000 W)"),      # the 1200 W B200 runs faster than the 1000 W one
    ("V100 SXM3", "Tesla V100 SXM2 32GB"),          # another SXM generation, other clocks
    ("AMD H100", "H100 SXM5 80GB"),                 # wrong vendor
])
def test_a_near_miss_is_unknown_with_suggestions_never_a_guess(name, suggested):
    with pytest.raises(UnknownChipError) as info:
        CATALOGUE.lookup(name)
    assert suggested in info.value.suggestions


def test_a_grace_cpu_is_one_cpu_and_the_superchip_two():
    single = compute_metrics(CATALOGUE.lookup("NVIDIA Grace CPU")).tpp
    double = compute_metrics(CATALOGUE.lookup("Grace CPU Superchip")).tpp
    assert double == 2 * single


def test_a_gb200_superchip_is_two_gb200_gpus_and_a_grace_cpu():
    superchip = compute_metrics(CATALOGUE.get("nvidia-gb200-superchip")).tpp
    assert compute_metrics(CATALOGUE.get("nvidia-gb200-gpu")).tpp * 2 == superchip == 80000
    assert compute_metrics(CATALOGUE.get("nvidia-gb300-gpu")).tpp * 2 == compute_metrics(
        CATALOGUE.get("nvidia-gb300-superchip")).tpp == 120000


def test_a_probe_sees_a_gb200_gpu_by_its_pci_id_not_a_superchip():
    # Each GPU of a superchip is its own PCI device: mapping it to the superchip would count two GPUs per GPU.
    assert [c.id for c in CATALOGUE.by_pci("0x10de", "0x2941")] == ["nvidia-gb200-gpu"]
    assert {c.id for c in CATALOGUE.by_pci("0x10de", "0x31c2")} == {"nvidia-gb300-gpu"}


def test_the_name_model_reads_what_vendors_tools_print():
    name = parse("AMD Instinct MI300X-NPS1-SPX-192GB-750W")
    assert (name.vendors, name.models, name.memory_gb, name.watts) == ({"amd"}, {"mi300x"}, {192}, {750})
    name = parse("Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz")
    assert name.models == {"8480+"} and name.key == "xeonplatinum8480+"
    assert parse("Gaudi 2").models == parse("Gaudi2").models == {"gaudi2"}
    assert parse("H100 NVL").variants == {"nvl", "pcie"}
    assert parse("N/A").models == parse("=1+1").models == frozenset()


def test_look_alike_letters_fold_to_latin():
    assert confusable_key("Н100 SXM5 80GB") == confusable_key("H100 SXM5 80GB")   # Cyrillic Н
    assert confusable_key("Ｈ１００") == confusable_key("H100")                    # full-width (NFKC)
    assert confusable_key("Β200") == confusable_key("B200")                        # Greek Beta


def test_a_user_spec_that_looks_like_a_shipped_chip_is_refused_unless_overridden(tmp_path):
    shipped = tmp_path / "shipped"
    write_chip(shipped, "acme.toml", "acme-h100", "H100 SXM5 80GB")
    user = tmp_path / "user"
    write_chip(user, "mine.toml", "my-h100", "\u041d100 SXM5 80GB")  # Cyrillic capital En
    with pytest.raises(InputError, match="looks like 'H100 SXM5 80GB' of shipped chip 'acme-h100'.*--override-specs"):
        Catalogue.load([shipped], user_dirs=[user])
    assert "my-h100" in {c.id for c in Catalogue.load([shipped], user_dirs=[user], allow_override=True)}
    write_chip(user, "mine.toml", "my-h100", "My H100", aliases=["\u041d100 SXM5 80GB"])  # an alias too
    with pytest.raises(InputError, match="looks like"):
        Catalogue.load([shipped], user_dirs=[user])


def test_cli_refuses_a_look_alike_user_spec_in_one_line(run_cli, tmp_path):
    user = tmp_path / "user"
    write_chip(user, "mine.toml", "my-h100", "\u041d100 SXM5 80GB")
    result = run_cli("--specs-dir", str(user), "chips", "show", "H100 SXM")
    assert result.exit_code == 1
    assert "looks like 'H100 SXM5 80GB'" in result.stderr and result.stderr.count("\n") == 1


def test_cli_shows_one_grace_cpu(run_cli):
    import json

    result = run_cli("chips", "show", "NVIDIA Grace CPU", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["id"] == "nvidia-grace-cpu" and "72 Neoverse V2 cores" in document["notes"]


def test_cli_gb200_is_ambiguous_and_says_which_chips(run_cli):
    result = run_cli("chips", "show", "GB200", "--json")
    assert result.exit_code == 1
    assert "nvidia-gb200-superchip" in result.stderr and "nvidia-gb200-gpu" in result.stderr


def _card(folder, chip_id, name, memory_gb):
    write_chip(folder, f"{chip_id}.toml", chip_id, name,
               extra=f'[chip.memory]\ncapacity_gb = {{ value = {memory_gb}, source = "ds" }}\n'
                     'dram_bandwidth_gbps = { value = 360, source = "ds" }')


def test_a_name_that_leaves_out_a_siblings_suffix_never_picks_that_sibling(tmp_path):
    # The 3060 Ti and the 3060 are different chips (NVIDIA: 4864 and 3584 CUDA cores). A query
    # that says "3060" with the Ti's memory size fits only the Ti by memory, but it does not say
    # "Ti", so it must not resolve to the Ti (it once did, with the catalogue's 12 GB-only 3060).
    folder = tmp_path / "cards"
    _card(folder, "acme-rtx-3060", "GeForce RTX 3060", 12)
    _card(folder, "acme-rtx-3060-ti", "GeForce RTX 3060 Ti", 8)
    catalogue = Catalogue.load([folder])
    with pytest.raises(UnknownChipError):
        catalogue.lookup("RTX 3060 8GB")
    assert catalogue.lookup("RTX 3060 Ti 8GB").id == "acme-rtx-3060-ti"
    assert catalogue.lookup("NVIDIA GeForce RTX 3060").id == "acme-rtx-3060"


def test_real_names_of_siblings_resolve_to_the_sibling_they_name():
    catalogue = Catalogue.load()
    assert catalogue.lookup("NVIDIA GeForce RTX 4070 Ti").id == "nvidia-geforce-rtx-4070-ti"
    assert catalogue.lookup("NVIDIA GeForce RTX 4070 Ti SUPER").id == "nvidia-geforce-rtx-4070-ti-super"
    assert catalogue.lookup("NVIDIA GeForce RTX 4090").id == "nvidia-geforce-rtx-4090"
    assert catalogue.lookup("NVIDIA GeForce RTX 4090 D").id == "nvidia-geforce-rtx-4090-d"
    with pytest.raises(AmbiguousChipError):
        catalogue.lookup("Cloud AI 100")


# A DGX B200 is a system of eight B200 GPUs (NVIDIA DGX B200 datasheet: "8x NVIDIA Blackwell GPUs";
# DGX H100: "8x NVIDIA H100 Tensor Core GPUs"), and units are chips, not boards. Read as its chip,
# "DGX B200" with count 10 in a fleet inventory counted 10 GPUs for 80. A name that says DGX or HGX
# resolves only as an exact name or alias the catalogue gives ("DGX Spark", one GB10), never by parts.
# An HGX B200 is likewise a baseboard of eight B200 (NVIDIA HGX platform page): "HGX B200", once an
# alias of the B200 record, is refused as well, so 10 HGX B200 never count as 10 GPUs.
@pytest.mark.parametrize("name", ["DGX B200", "NVIDIA DGX B200", "DGX B300", "DGX H100 SXM", "HGX B200 1000W",
                                  "DGX H20", "HGX B200", "HGX H20", "HGX B100", "HGX B300"])
def test_a_dgx_or_hgx_system_name_is_not_read_as_one_chip(name):
    with pytest.raises(UnknownChipError):
        CATALOGUE.lookup(name)


@pytest.mark.parametrize(("name", "chip_id"), [("DGX Spark", "nvidia-gb10"), ("DGX B200 GPU", "nvidia-b200-hgx"),
                                               ("B200 SXM", "nvidia-b200-hgx"), ("H20 96GB", "nvidia-h20")])
def test_a_dgx_or_hgx_name_the_catalogue_lists_still_resolves(name, chip_id):
    assert CATALOGUE.lookup(name).id == chip_id
