"""Two products on one PCI device id, told apart by the subsystem id the maker lists.

NVIDIA's driver README (open-gpu-kernel-modules 560.31.02, "Compatible GPUs") lists the A2 as
25B6 10DE 157E and the A16 as 25B6 10DE 14A9; the PCI ID repository names 0x25b6 "GA107GL
[A2 / A16]". Expected ids come from that table, not from the catalogue code.
"""

from __future__ import annotations

import pytest

from tppcalc.data.catalogue import default_catalogue
from tppcalc.probe.host import Accelerator
from tppcalc.probe.identify import match_accelerator

GIB_16 = 16 * 2**30 - 500 * 2**20  # what a 16 GB card reports, less the driver's reserve


def device(subsystem: str | None, name: str | None = None) -> Accelerator:
    return Accelerator(backend="pci", index=0, pci_vendor_id="0x10de", pci_device_id="0x25b6",
                       pci_subsystem_id=subsystem, memory_total_bytes=GIB_16, name=name)


@pytest.mark.parametrize("subsystem, expected", [("0x10de14a9", "nvidia-a16"), ("0x10de157e", "nvidia-a2")])
def test_the_subsystem_id_in_nvidias_table_names_the_product(subsystem, expected):
    found, method = match_accelerator(device(subsystem), default_catalogue())
    assert (found.id, method) == (expected, "pci id")


def test_another_subsystem_id_is_read_as_the_a2_whose_rates_are_the_higher():
    # An OEM's subsystem id is in neither row: the record that lists none (the A2) is left, and an
    # A16 read as an A2 is judged on rates at least as high.
    found, _ = match_accelerator(device("0x10281234"), default_catalogue())
    assert found.id == "nvidia-a2"
    a2, a16 = (default_catalogue().get(i) for i in ("nvidia-a2", "nvidia-a16"))
    for precision, rate in a16.processing_units[0].dense_tops.items():
        assert a2.processing_units[0].dense_tops[precision].value >= rate.value


def test_without_a_subsystem_id_the_shared_id_is_not_a_guess():
    assert match_accelerator(device(None), default_catalogue()) == (None, "unreadable")
    found, method = match_accelerator(device(None, name="NVIDIA A16"), default_catalogue())
    assert (found.id, method) == ("nvidia-a16", "name")
