"""Probing: fixture replays, the live code path through a fake NVML, faults, and the CPU backend."""

import json
import sys
from decimal import Decimal
import types
from pathlib import Path

import pytest

from tppcalc.catalogue import Catalogue
from tppcalc.probe.assess import assess
from tppcalc.probe.cpu import cpus_from_sources
from tppcalc.probe.nvml import ERROR_KINDS, LiveNvml, NvmlCallError, ReplayNvml, UnofficialBindingError, read_gpus
from tppcalc.probe.run import build_report, load_dump, probe_live, record_live, report_from_dump

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
CPUINFO = Path(__file__).parent / "fixtures" / "cpuinfo"
CATALOGUE = Catalogue.load()
ALL_FIXTURES = sorted(p.name for p in HOSTS.glob("*.json"))


def replay(name: str, **rules):
    return assess(report_from_dump(load_dump(HOSTS / name)), CATALOGUE, **rules)


def test_dgx_h100_is_eight_h100_sxm_each_3a090a_and_a_4a090a_node():
    node = replay("dgx-h100.json", dest="CN")
    gpus = [d for d in node.devices if d.kind == "gpu"]
    assert len(gpus) == 8
    assert {d.identification.catalogue_id for d in gpus} == {"nvidia-h100-sxm5-80gb"}
    assert {d.identification.method for d in gpus} == {"pci id"}
    assert {d.classification.eccn for d in gpus} == {"3A090.a"}
    assert node.eccn == "4A090.a" and node.license_required is True


def test_a_lost_gpu_stays_in_the_report_undetermined():
    node = replay("dgx-h100-gpu-lost.json")
    gpus = [d for d in node.devices if d.kind == "gpu"]
    assert len(gpus) == 8
    lost = [d for d in gpus if d.identification.method == "unreadable"]
    assert len(lost) == 1 and lost[0].label == "GPU 5"
    assert lost[0].classification.eccn is None
    assert "outside 3A090" in lost[0].classification.undetermined  # possible, never concluded
    assert node.host.gpus[5].lost and "GpuIsLost" in node.host.gpus[5].errors["name"]
    assert node.eccn == "4A090.a"  # seven identified H100s decide the node


@pytest.mark.parametrize(("fixture", "chip", "eccn"), [
    ("h200.json", "nvidia-h200-sxm-141gb", "3A090.a"),
    ("a100-pcie.json", "nvidia-a100-pcie-80gb", "3A090.a"),
    ("l4.json", "nvidia-l4", "3A090.a"),
    ("rtx4090.json", "nvidia-geforce-rtx-4090", "3A090.a"),
    ("h20.json", "nvidia-h20", "outside 3A090"),
    ("a100-mig.json", "nvidia-a100-sxm4-80gb", "3A090.a"),
    ("old-driver.json", "nvidia-a100-pcie-80gb", "3A090.a"),
])
def test_each_fixture_identifies_its_gpu(fixture, chip, eccn):
    node = replay(fixture, dest="CN", as_of=__import__("datetime").date(2024, 1, 1))
    (gpu,) = [d for d in node.devices if d.kind == "gpu"]
    assert gpu.identification.catalogue_id == chip
    assert gpu.classification.eccn == eccn


def test_old_driver_falls_back_to_the_old_call_name():
    report = report_from_dump(load_dump(HOSTS / "old-driver.json"))
    (gpu,) = report.gpus
    assert gpu.clock_event_reasons == ["gpu_idle"]
    assert gpu.errors["cuda_cores"].startswith("FunctionNotFound")


def test_hopper_derived_tpp_at_nvml_clock_is_reported_beside_the_datasheet():
    # 132 SMs x 4096 dense FP8 MACs/SM/clock x 2 x 1980 MHz x 8 bits: ~8% above the datasheet's
    # 15,832, because NVIDIA quotes tensor peaks at a tensor clock below NVML's max SM clock.
    gpu = replay("dgx-h100.json").devices[0]
    assert gpu.identification.derived_tpp_at_max_clock == Decimal("17128.48896")
    assert any("108.2% of the datasheet TPP 15832" in check for check in gpu.identification.cross_checks)


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_every_fixture_states_its_provenance(fixture):
    assert "provenance" in json.loads((HOSTS / fixture).read_text())


@pytest.mark.parametrize("fixture", ["dgx-h100.json", "h200.json", "l4.json"])
@pytest.mark.parametrize("kind", sorted(set(ERROR_KINDS.values()) - {"Uninitialized"}))
def test_every_nvml_call_failing_in_turn_still_yields_a_report_and_never_outside(fixture, kind):
    dump = load_dump(HOSTS / fixture)
    calls = dump["nvml"]["calls"]
    for key in [k for k in calls if k.startswith("nvmlDevice") and not k.startswith("nvmlDeviceGetCount")]:
        broken = {**calls, key: {"error": kind, "message": "injected"}}
        report = build_report(ReplayNvml(broken), "ok", dump["cpu"], "fixture", provenance="fault injection")
        node = assess(report, CATALOGUE, dest="CN")
        gpu_results = [d for d in node.devices if d.kind == "gpu"]
        assert len(gpu_results) == len(report.gpus)
        for device in gpu_results:
            unreadable = device.identification.method == "unreadable"
            if unreadable:
                assert device.classification.eccn is None, (key, kind)


def test_device_count_failing_is_a_note_not_a_crash():
    report = build_report(ReplayNvml({"nvmlDeviceGetCount()": {"error": "Unknown"}}), "ok",
                          {"machine": "x86_64", "sysfs": {}}, "h", provenance="test")
    assert report.gpus == [] and any("device count" in n for n in report.notes)


def test_no_nvidia_library_is_a_normal_answer():
    report = probe_live()
    assert report.cpus and report.nvml != "ok"
    assert any("No NVIDIA driver" in note for note in report.notes)


# ---- the live code path, driven through a fake pynvml --------------------------------------

class _NVMLError(Exception):
    def __init__(self, value):
        self.value = value


def fake_pynvml(answers: dict, count: int) -> types.ModuleType:
    """A stand-in for nvidia-ml-py: the same function names, answers from a dict, errors by code."""
    module = types.ModuleType("pynvml")
    module.NVMLError = _NVMLError
    module._nvmlGetFunctionPointer = lambda name: None
    module.nvmlInit = lambda: None
    module.nvmlShutdown = lambda: None
    module.nvmlDeviceGetCount = lambda: count
    module.nvmlDeviceGetHandleByIndex = lambda index: ("handle", index)
    codes = {v: k for k, v in ERROR_KINDS.items()}

    def make(name):
        def call(*args):
            args = tuple(a[1] if isinstance(a, tuple) and a[:1] == ("handle",) else a for a in args)
            key = f"{name}({', '.join(repr(a) for a in args)})"
            answer = answers.get(key, {"error": "NotSupported"})
            if "error" in answer:
                raise _NVMLError(codes[answer["error"]])
            return answer["value"]
        return call

    for key in answers:
        name = key.split("(")[0]
        if name not in ("nvmlDeviceGetCount",):
            setattr(module, name, make(name))
    module.nvmlDeviceGetCurrentClocksEventReasons = make("nvmlDeviceGetCurrentClocksEventReasons")
    return module


def test_live_path_records_and_the_replay_gives_the_same_report(monkeypatch):
    dump = load_dump(HOSTS / "dgx-h100.json")
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(dump["nvml"]["calls"], 8))
    live = probe_live()
    recorded = record_live()
    replayed = report_from_dump(recorded)
    assert [g.model_dump() for g in live.gpus] == [g.model_dump() for g in replayed.gpus]
    assert len(live.gpus) == 8 and live.gpus[0].pci_device_id == "0x2330"
    assert recorded["nvml"]["calls"]["nvmlDeviceGetName(0)"] == {"value": "NVIDIA H100 80GB HBM3"}


def test_live_nvml_maps_error_codes(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml({"nvmlDeviceGetName(0)": {"error": "GpuIsLost"}}, 1))
    nvml = LiveNvml.open()
    with pytest.raises(NvmlCallError) as info:
        nvml.call("nvmlDeviceGetName", 0)
    assert info.value.kind == "GpuIsLost"
    gpus, _ = read_gpus(nvml)
    assert gpus[0].lost


def test_the_unofficial_pynvml_is_refused_with_a_fix(monkeypatch):
    impostor = types.ModuleType("pynvml")
    monkeypatch.setitem(sys.modules, "pynvml", impostor)
    with pytest.raises(UnofficialBindingError, match="pip install nvidia-ml-py"):
        LiveNvml.open()


# ---- CPUs ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fixture", "machine", "uarch"), [
    ("sapphirerapids.cpuinfo", "x86_64", "sapphirerapids"),
    ("zen3.cpuinfo", "x86_64", "zen3"),
    ("genoa-zen4.cpuinfo", "x86_64", "zen4"),
    ("neoverse-v2.cpuinfo", "aarch64", "neoverse_v2"),
])
def test_recorded_cpuinfo_gives_the_microarchitecture(fixture, machine, uarch):
    path = CPUINFO / fixture
    if not path.is_file():
        pytest.skip(f"{fixture} not recorded")
    (cpu,) = cpus_from_sources({"machine": machine, "cpuinfo": path.read_text(), "sysfs": {}})
    assert cpu.microarchitecture == uarch
    assert cpu.logical_cpus and cpu.physical_cores


def test_probe_cli_on_this_machine_reports_the_cpu_and_no_gpu(run_cli):
    result = run_cli("probe", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["gpus"] == [] and out["devices"][0]["kind"] == "cpu"
    cpu = out["devices"][0]
    assert cpu["metrics"]["tpp"] is not None
    assert cpu["classification"]["eccn"] is not None  # a definite verdict for the CPU


def test_probe_cli_replay(run_cli):
    result = run_cli("probe", "--replay", str(HOSTS / "dgx-h100.json"), "--dest", "CN", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert len(out["gpus"]) == 8 and out["node"]["eccn"] == "4A090.a"


def test_probe_record_then_replay(run_cli, tmp_path):
    target = tmp_path / "here.json"
    result = run_cli("probe", "record", "-o", str(target))
    assert result.exit_code == 0 and target.is_file()
    again = run_cli("probe", "--replay", str(target), "--json")
    assert again.exit_code == 0


def test_a_bad_dump_is_a_one_line_error(run_cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    result = run_cli("probe", "--replay", str(bad))
    assert result.exit_code == 1 and "not a probe dump" in result.stderr
