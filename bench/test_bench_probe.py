"""Probing the 8-GPU fixture end to end (replay, identify, metrics, classify): goal under 300 ms."""

from pathlib import Path

from tppcalc.data.catalogue import Catalogue
from tppcalc.probe.assess import assess
from tppcalc.probe.run import load_dump, report_from_dump

DGX = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hosts" / "dgx-h100.json"


def test_probe_the_dgx_h100_fixture(benchmark):
    catalogue = Catalogue.load()
    dump = load_dump(DGX)

    def probe():
        return assess(report_from_dump(dump), catalogue, dest="CN")

    node = benchmark(probe)
    assert node.eccn == "4A090.a"
