"""The probe backends' registry: a backend written in one module (this one) is probed live,
recorded, replayed, identified, classified and counted in a fleet with no other edit."""

import datetime as dt
import json
import pickle
from pathlib import Path

import pytest

from tppcalc.data.catalogue import Catalogue
from tppcalc.errors import InputError
from tppcalc.probe import backends
from tppcalc.probe.assess import assess
from tppcalc.probe.backends import BackendUnavailable, ProbeBackend, Reading, backend
from tppcalc.probe.host import Accelerator, GpuInfo
from tppcalc.probe.run import load_dump, record_live, report_from_dump

CATALOGUE = Catalogue.load()
HOSTS = Path(__file__).parent / "fixtures" / "hosts"
DAY = dt.date(2025, 6, 1)
# Intel Data Center GPU Max 1550 (PCI ID repository: 8086:0bd5). Intel ARK: 838.9 dense BF16 TFLOPS,
# so TPP = 838.9 x 16 = 13,422 >= 4,800: 3A090.a, and a computer holding it 4A090.a (15 CFR 774).
MAX_1550 = {"bus": "0000:3a:00.0", "device": "0x0bd5", "memory_mib": 131072, "name": "Intel(R) Data Center GPU Max 1550"}
# A part no catalogue lists: its node is undetermined, never "outside".
UNLISTED = {"bus": "0000:9a:00.0", "device": "0x0bff", "memory_mib": 65536, "name": "Intel(R) Graphics [0x0bff]"}


@pytest.fixture
def fake_xpu():
    """Registers a fake Intel XPU backend whose live machine holds ``fake_xpu.devices``."""

    @backend
    class FakeXpuBackend(ProbeBackend):
        name = "fake-xpu"
        pci_vendor = "0x8086"
        devices_on_machine: list[dict] = []

        def label(self, device: Accelerator) -> str:
            return f"XPU {device.index}"

        def live_recording(self):
            if not self.devices_on_machine:
                raise BackendUnavailable("LibraryNotFound: no Level Zero driver")
            return {"devices": list(self.devices_on_machine)}

        def read(self, recording) -> Reading:
            return Reading([Accelerator(backend=self.name, index=i, vendor="Intel", name=d["name"], bus_id=d["bus"],
                                        pci_vendor_id="0x8086", pci_device_id=d["device"],
                                        memory_total_bytes=d["memory_mib"] << 20)
                            for i, d in enumerate(recording["devices"])], [], [f"fake-xpu: {len(recording['devices'])} XPUs"])

    yield FakeXpuBackend
    backends.unregister("fake-xpu")


@pytest.fixture
def no_vendor_libraries(monkeypatch, tmp_path):
    """A machine with no NVIDIA or AMD library and an empty PCI bus, whatever this machine has."""
    import tppcalc.probe.amdsmi as amdsmi
    import tppcalc.probe.nvml as nvml
    from tppcalc.probe import pci, run

    def absent(*_):
        raise nvml.NvmlCallError("LibraryNotFound", "not installed (test)")

    monkeypatch.setattr(nvml.LiveNvml, "open", classmethod(absent))
    monkeypatch.setattr(amdsmi.LiveAmdSmi, "open", classmethod(absent))
    (tmp_path / "pci").mkdir()
    monkeypatch.setattr(pci, "SYSFS_PCI_DEVICES", tmp_path / "pci")
    monkeypatch.setattr(run, "read_live_pci_sources", lambda: pci.read_live_pci_sources(tmp_path / "pci"))


def test_a_backend_from_one_module_is_probed_recorded_replayed_identified_and_classified(
        fake_xpu, no_vendor_libraries, tmp_path):
    fake_xpu.devices_on_machine = [MAX_1550, dict(MAX_1550, bus="0000:4a:00.0")]
    dump = record_live()
    assert dump["backends"]["fake-xpu"]["status"] == "ok"
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    fake_xpu.devices_on_machine = []  # the replay must not read the machine
    report = report_from_dump(load_dump(path))
    assert [(a.backend, a.pci_device_id) for a in report.accelerators] == [("fake-xpu", "0x0bd5")] * 2
    node = assess(report, CATALOGUE, dest="CN", as_of=DAY)
    xpus = [d for d in node.devices if d.label.startswith("XPU")]
    assert [d.identification.catalogue_id for d in xpus] == ["intel-data-center-gpu-max-1550"] * 2
    assert {d.classification.eccn for d in xpus} == {"3A090.a"}
    assert node.eccn == "4A090.a"


def test_an_unlisted_device_of_a_new_backend_leaves_the_node_undetermined(fake_xpu, no_vendor_libraries):
    fake_xpu.devices_on_machine = [UNLISTED]
    report = report_from_dump(record_live())
    node = assess(report, CATALOGUE, dest="CN", as_of=DAY)
    assert node.eccn is None
    assert "4A090.a" in node.undetermined and len(node.undetermined) > 1


def test_the_pci_function_a_new_backend_read_is_not_counted_again(fake_xpu):
    from tppcalc.probe.run import build_report

    bus = {"status": "ok", "devices": {"0000:3a:00.0": {"vendor": "0x8086", "device": "0x0bd5", "class": "0x038000",
                                                          "subsystem_vendor": "0x8086", "subsystem_device": "0x0000"}}}
    recording = {"fake-xpu": {"status": "ok", "recording": {"devices": [MAX_1550]}}}
    report = build_report(None, "LibraryNotFound", {"machine": "x86_64"}, "node", provenance="test",
                          pci_sources=bus, backends=recording)
    node = assess(report, CATALOGUE, dest="CN", as_of=DAY)
    assert [d.kind for d in node.devices if d.kind != "cpu"] == ["gpu"]


def test_a_backend_absent_on_the_machine_is_a_normal_answer_and_a_failing_one_is_not(fake_xpu, no_vendor_libraries):
    report = report_from_dump(record_live())
    assert report.backends["fake-xpu"].startswith("LibraryNotFound")
    assert not any("fake-xpu" in why for why in report.unenumerated)
    fake_xpu.live_recording = lambda self: (_ for _ in ()).throw(OSError("device busy"))
    report = report_from_dump(record_live())
    assert any("fake-xpu could not be used" in why for why in report.unenumerated)


def test_a_backend_that_raises_on_its_recording_yields_a_reason_not_a_crash(fake_xpu, no_vendor_libraries):
    fake_xpu.devices_on_machine = [MAX_1550]
    dump = record_live()
    dump["backends"]["fake-xpu"]["recording"] = {"devices": "not a list"}
    report = report_from_dump(dump)
    assert report.accelerators == [] and any("fake-xpu" in why for why in report.unenumerated)
    node = assess(report, CATALOGUE, dest="CN", as_of=DAY)
    assert node.eccn is None and "4A090.a" in node.undetermined  # never passes as "outside"


def test_a_recording_of_a_backend_this_tppcalc_lacks_can_only_raise_the_verdict():
    dump = load_dump(HOSTS / "h20.json")
    assert assess(report_from_dump(dump), CATALOGUE, dest="CN", as_of=DAY).eccn == "4A090.b"
    report = report_from_dump(dump | {"backends": {"vendor-z": {"status": "ok", "recording": {}}}})
    assert any("vendor-z" in why for why in report.unenumerated)
    node = assess(report, CATALOGUE, dest="CN", as_of=DAY)
    assert node.eccn is None and {"4A090.a", "4A090.b"} <= set(node.undetermined)


@pytest.mark.parametrize("backends_value", [[], {"x": "ok"}, {"x": {"status": 3}}, {"x": {"absent": "yes"}}])
def test_a_malformed_backends_section_is_one_input_error(tmp_path, backends_value):
    dump = json.loads((HOSTS / "l4.json").read_text()) | {"backends": backends_value}
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    with pytest.raises(InputError, match="backends"):
        load_dump(path)


def test_names_are_unique_and_well_formed():
    with pytest.raises(ValueError, match="already registered"):
        backend(type("Other", (ProbeBackend,), {"name": "nvml"}))
    with pytest.raises(ValueError, match="name"):
        backend(type("Bad", (ProbeBackend,), {"name": "Has Spaces"}))


def test_built_in_backends_are_registered_in_report_order():
    assert [b.name for b in backends.registered()][:4] == ["nvml", "cpu", "amdsmi", "nvidia-smi"]


def test_the_nvml_record_is_seen_through_the_neutral_record():
    gpu = GpuInfo(index=2, name="NVIDIA H100 80GB HBM3", bus_id="00000000:18:00.0", pci_vendor_id="0x10de",
                  pci_device_id="0x2330", pci_subsystem_id="0x10de16c1", memory_total_bytes=81559 << 20,
                  max_sm_clock_mhz=1980)
    view = backends.get("nvml").neutral(gpu)
    assert (view.backend, view.vendor, view.pci_device_id, view.max_clock_mhz) == ("nvml", "NVIDIA", "0x2330", 1980)


def test_backend_unavailable_pickles():
    error = pickle.loads(pickle.dumps(BackendUnavailable("DriverNotLoaded", absent=False)))
    assert (error.status, error.absent) == ("DriverNotLoaded", False)


def test_measure_uses_only_the_probes_public_names():
    import ast

    for module in (Path(__file__).parent.parent / "tppcalc" / "measure").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tppcalc.probe"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{module.name} imports {private} from {node.module}"


@pytest.mark.parametrize("fixture, reported", [("mi300x-amdsmi.json", "AMD Instinct MI300X"),
                                               ("dgx-h100.json", "NVIDIA H100 80GB HBM3")])
def test_the_audit_report_shows_each_backends_devices_by_the_name_they_reported(run_cli, tmp_path, fixture, reported):
    page = tmp_path / "node.html"
    result = run_cli("probe", "--replay", str(HOSTS / fixture), "--dest", "CN", "--html", str(page))
    assert result.exit_code == 0, result.stderr
    assert reported in page.read_text()


def test_a_fleet_counts_a_new_backends_devices_in_a_bare_host_report(fake_xpu, tmp_path):
    from tppcalc.core.metrics import compute_metrics
    from tppcalc.fleet import report_fleet
    from tppcalc.probe.run import build_report

    recording = {"fake-xpu": {"status": "ok", "recording": {"devices": [MAX_1550, dict(MAX_1550, bus="0000:4a:00.0")]}}}
    bus = {"status": "ok", "devices": {}}
    report = build_report(None, "LibraryNotFound", {"machine": "x86_64"}, "node", provenance="test",
                          pci_sources=bus, backends=recording)
    lines = tmp_path / "nodes.jsonl"
    lines.write_text(json.dumps({"host": report.model_dump(mode="json"), "country": "AE"}) + "\n")
    totals = report_fleet([lines], CATALOGUE, as_of=DAY).totals_by_country["AE"]
    one = compute_metrics(CATALOGUE.get("intel-data-center-gpu-max-1550")).tpp
    assert one > 4800  # 838.9 dense BF16 TFLOPS x 16 (Intel ARK)
    assert totals.tpp == 2 * one


def test_a_backend_returning_the_wrong_records_yields_a_reason_not_a_crash(fake_xpu):
    fake_xpu.read = lambda self, recording: Reading([{"name": "not a record"}])
    reading = backends.read_recording(backends.get("fake-xpu"), {})
    assert reading.accelerators == [] and "Reading of Accelerator records" in reading.unenumerated[0]
