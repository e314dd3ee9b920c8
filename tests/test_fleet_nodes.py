"""Probe results as JSON Lines: every device counted exactly, each error placed at file:line and field."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from tppcalc.core.metrics import compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.errors import InputError
from tppcalc.fleet import nodes, report_fleet
from tppcalc.probe.run import load_dump, report_from_dump

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
CATALOGUE = Catalogue.load()
DAY = dt.date(2025, 6, 1)


def host(name):
    return report_from_dump(load_dump(HOSTS / f"{name}.json")).model_dump(mode="json")


DGX = host("dgx-h100")


def node(index, host_report=DGX, **fields):
    """One node, its GPUs with their own UUIDs and serials as on real hardware."""
    report = copy.deepcopy(host_report)
    report["hostname"] = f"node-{index}"
    for gpu in report["gpus"]:
        gpu["uuid"], gpu["serial"] = f"GPU-{index}-{gpu['index']}", f"{index:08d}{gpu['index']}"
    return {"host": report, "country": "DE", **fields}


def write(tmp_path, nodes_, name="nodes.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(n) + "\n" for n in nodes_))
    return path


def one_node_total(tmp_path, node_):
    return report_fleet([write(tmp_path, [node_], "one.jsonl")], CATALOGUE, as_of=DAY).totals_by_country["DE"]


def test_a_model_repeated_many_times_is_exactly_count_times_its_tpp(tmp_path):
    n = 3000
    report = report_fleet([write(tmp_path, [node(i) for i in range(n)])], CATALOGUE, as_of=DAY)
    total = report.totals_by_country["DE"]
    one = one_node_total(tmp_path, node(0))
    assert (total.units, total.tpp, total.complete) == (n * one.units, n * one.tpp, True)
    h100 = compute_metrics(CATALOGUE.lookup("H100 SXM")).tpp
    cpu = one.tpp - 8 * h100  # the node's one CPU, derived from its cores and clock
    assert total.tpp == n * 8 * h100 + n * cpu
    assert len(report.totals_by_site) == n and report.totals_by_site["node-17"].tpp == one.tpp


def with_l4s(host_report, how_many):
    """The host with its last GPUs swapped for L4s (one GPU record, copied)."""
    mixed = copy.deepcopy(host_report)
    l4 = host("l4")["gpus"][0]
    # each L4 where an H100 was on the PCI bus: NVML reads every GPU the bus lists
    mixed["gpus"][-how_many:] = [dict(l4, index=i, bus_id=mixed["gpus"][i]["bus_id"]) for i in range(8 - how_many, 8)]
    return mixed


def test_each_distinct_device_is_identified_once(tmp_path, monkeypatch):
    calls = []
    real = nodes.identify_gpu
    monkeypatch.setattr(nodes, "identify_gpu", lambda gpu, catalogue: calls.append(gpu) or real(gpu, catalogue))
    lines = [node(i) for i in range(200)] + [node(i, with_l4s(DGX, 3)) for i in range(200, 300)] + [node(300)]
    report_fleet([write(tmp_path, lines)], CATALOGUE, as_of=DAY)
    assert [gpu.name for gpu in calls] == ["NVIDIA H100 80GB HBM3", "NVIDIA L4"]  # however many, in any order


def test_a_node_of_two_models_counts_each(tmp_path):
    total = one_node_total(tmp_path, node(0, with_l4s(DGX, 3)))
    h100, l4 = (compute_metrics(CATALOGUE.lookup(q)).tpp for q in ("H100 SXM", "L4"))
    cpu = one_node_total(tmp_path, node(0)).tpp - 8 * h100
    assert (total.units, total.tpp) == (9, 5 * h100 + 3 * l4 + cpu)


def test_an_unidentified_device_leaves_the_totals_undetermined(tmp_path):
    unknown = copy.deepcopy(DGX)
    for field in ("pci_vendor_id", "pci_device_id", "pci_subsystem_id", "name", "compute_capability", "cuda_cores"):
        unknown["gpus"][3][field] = None
    lines = [node(i) for i in range(500)] + [node(500, unknown)] + [node(i) for i in range(501, 1000)]
    report = report_fleet([write(tmp_path, lines)], CATALOGUE, as_of=DAY)
    total = report.totals_by_country["DE"]
    assert total.units == 1000 * 9 and not total.complete
    assert not report.totals_by_site["node-500"].complete and report.totals_by_site["node-501"].complete
    assert {c.status for c in report.checks if c.name.startswith("UVEU")} <= {"undetermined"}


def test_a_malformed_field_in_the_middle_of_a_big_file_names_file_line_and_field(tmp_path):
    lines = [node(i) for i in range(5000)]
    lines[2999]["host"]["gpus"][6]["cuda_cores"] = "lots"
    path = write(tmp_path, lines)
    with pytest.raises(InputError) as info:
        report_fleet([path], CATALOGUE, as_of=DAY)
    assert info.value.where == f"{path}:3000"
    assert info.value.field == "host.gpus.6.cuda_cores"
    assert "valid integer" in info.value.problem


def test_a_line_that_is_not_json_names_its_line(tmp_path):
    path = write(tmp_path, [node(i) for i in range(3000)])
    lines = path.read_text().splitlines()
    lines[1234] = lines[1234][:-40]  # cut short
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"nodes\.jsonl:1235: not JSON: EOF while parsing"):
        report_fleet([path], CATALOGUE, as_of=DAY)


def test_a_field_the_first_of_a_model_gets_wrong_is_named(tmp_path):
    bad = node(0)
    bad["host"]["gpus"][0]["cuda_cores_typo"] = 1
    with pytest.raises(InputError) as info:
        report_fleet([write(tmp_path, [bad])], CATALOGUE, as_of=DAY)
    assert info.value.field == "host.gpus.0.cuda_cores_typo" and "not a HostReport gpu" in info.value.problem


@pytest.mark.parametrize(("change", "field"), [
    (lambda n: n.pop("country"), "country"),
    (lambda n: n.update(country=49), "country"),
    (lambda n: n.update(country=["DE"]), "country"),       # unhashable: once a TypeError, not an error line
    (lambda n: n.update(country={"code": "DE"}), "country"),
    (lambda n: n.update(operator_hq=["US"]), "operator_hq"),
    (lambda n: n.update(site=["fra"]), "site"),
    (lambda n: n["host"]["gpus"].append("GPU 9"), "host.gpus.8"),
    (lambda n: n["host"]["cpus"][0].update(flags="avx2"), "host.cpus.0.flags"),
])
def test_other_malformed_lines_name_their_field(tmp_path, change, field):
    lines = [node(i) for i in range(3)]
    change(lines[1])
    path = write(tmp_path, lines)
    with pytest.raises(InputError) as info:
        report_fleet([path], CATALOGUE, as_of=DAY)
    assert (info.value.where, info.value.field) == (f"{path}:2", field)


def test_a_line_that_is_not_a_node_is_refused(tmp_path):
    path = write(tmp_path, [node(0), [1, 2], node(2)])
    with pytest.raises(InputError, match=r":2: expected a `tppcalc probe --json` result"):
        report_fleet([path], CATALOGUE, as_of=DAY)


def test_lines_across_buffer_ends_blank_lines_crlf_and_no_final_newline(tmp_path, monkeypatch):
    monkeypatch.setattr(nodes, "_BLOCK", 1000)  # far shorter than a line: every line crosses a buffer end
    text = "\r\n".join(json.dumps(node(i)) for i in range(5))
    path = tmp_path / "nodes.jsonl"
    path.write_text("\n  \n" + text.replace("\r\n", "\r\n\r\n", 1))  # blank lines first and between
    read = list(nodes._lines(path))
    assert [number for number, _ in read] == [3, 5, 6, 7, 8]
    assert [json.loads(line)["host"]["hostname"] for _, line in read] == [f"node-{i}" for i in range(5)]
    report = report_fleet([path], CATALOGUE, as_of=DAY)
    assert report.totals_by_country["DE"].units == 5 * 9


def test_probe_results_with_an_unknown_chip_id_name_the_line(tmp_path, run_cli):
    probed = json.loads(run_cli("probe", "--replay", str(HOSTS / "dgx-h100.json"), "--json").stdout)
    probed["country"] = "DE"
    wrong = copy.deepcopy(probed)
    wrong["devices"][2]["identified_as"] = "nvidia-h900"
    path = write(tmp_path, [probed, wrong])
    with pytest.raises(InputError) as info:
        report_fleet([path], CATALOGUE, as_of=DAY)
    assert (info.value.where, info.value.field) == (f"{path}:2", "devices.2.identified_as")


def test_checks_sum_a_consignee_over_all_its_sites_exactly(tmp_path):
    n = 1000
    path = write(tmp_path, [node(i, consignee="A GmbH") for i in range(n)])
    gpus = n * 8 * compute_metrics(CATALOGUE.lookup("H100 SXM")).tpp  # the CPUs are not 3A090.a
    report = report_fleet([path], CATALOGUE, as_of=DAY, caps={"lpp_tpp_per_consignee_year": gpus})
    (lpp,) = [c for c in report.checks if c.name.startswith("LPP A GmbH")]
    assert (lpp.status, lpp.value) == ("pass", gpus)
    assert sum(total.units for total in report.totals_by_site.values()) == n * 9


def test_operator_headquarters_written_as_a_name_still_meets_the_us_share_check(tmp_path):
    lines = [node(0, operator="Example Cloud", operator_hq="USA"), node(1, operator="Example Cloud", operator_hq="US")]
    report = report_fleet([write(tmp_path, lines)], CATALOGUE, as_of=dt.date(2025, 3, 1))
    (us_share,) = [c for c in report.checks if c.name == "UVEU Example Cloud US share"]
    assert us_share.status == "fail"  # every node is in DE: 0% in the US, under the 50% floor


def test_unknown_operator_headquarters_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, [node(0), node(1, operator="X", operator_hq="Atlantis")])
    with pytest.raises(InputError) as raised:
        report_fleet([path], CATALOGUE, as_of=DAY)
    assert f"{path}:2" in str(raised.value) and "operator_hq" in str(raised.value)


def derived_device_line(**device_fields):
    """A `tppcalc probe --json` line for AE holding one device the catalogue does not know."""
    device = {"kind": "gpu", "label": "GPU 0", "count": 1, "name": "Prototype X", "identified_as": None,
              "metrics": {"tpp": "4800"}, **device_fields}
    return {"country": "AE", "site": "dubai-1", "devices": [device]}


@pytest.mark.parametrize(("change", "field", "problem"), [
    ({"metrics": {"tpp": -10000000}}, "devices.0.metrics.tpp", "greater than 0"),
    ({"metrics": {"tpp": "-1"}}, "devices.0.metrics.tpp", "greater than 0"),
    # No chip has TPP 0 (every rated figure is > 0): an unknown (null) TPP set to 0 made LPP and the
    # Tier 2 allocation pass (fuzz campaign, fleet:228).
    ({"metrics": {"tpp": 0}}, "devices.0.metrics.tpp", "greater than 0"),
    ({"metrics": {"tpp": "0.0"}}, "devices.0.metrics.tpp", "greater than 0"),
    ({"metrics": {"tpp": 1e300}}, "devices.0.metrics.tpp", "out of range"),
    ({"metrics": {"tpp": 10**8}}, "devices.0.metrics.tpp", "at most 10,000,000"),
    ({"metrics": {"tpp": float("nan")}}, "devices.0.metrics.tpp", "finite"),  # JSON NaN
    ({"metrics": {"tpp": float("inf")}}, "devices.0.metrics.tpp", "finite"),  # JSON Infinity
    ({"metrics": {"tpp": "NaN"}}, "devices.0.metrics.tpp", "decimal number"),
    ({"count": 0}, "devices.0.count", "greater than or equal to 1"),
    ({"count": -8}, "devices.0.count", "greater than or equal to 1"),
    ({"count": 10**9}, "devices.0.count", "less than or equal to 4096"),
    ({"count": 2.5}, "devices.0.count", "valid integer"),
    ({"count": "8"}, "devices.0.count", "valid integer"),
])
def test_a_negative_non_finite_or_absurd_figure_is_an_error_at_its_line(tmp_path, change, field, problem):
    # Issue 14 item 5: "tpp": -10000000 was accepted and flipped "Tier 2 allocation AE" to pass.
    path = write(tmp_path, [derived_device_line(), derived_device_line(**change)])
    with pytest.raises(InputError) as info:
        report_fleet([path], CATALOGUE, as_of=dt.date(2025, 3, 1))
    assert (info.value.where, info.value.field) == (f"{path}:2", field)
    assert problem in info.value.problem


@pytest.mark.parametrize(("field", "value"), [("cuda_cores", -16896), ("memory_total_bytes", -1),
                                              ("max_sm_clock_mhz", 10**9), ("max_sm_clock_mhz", 0)])
def test_a_host_record_with_an_absurd_reading_names_its_field(tmp_path, field, value):
    bad = node(1)
    bad["host"]["gpus"][4][field] = value
    path = tmp_path / "nodes.jsonl"
    path.write_text(json.dumps(node(0)) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError) as info:
        report_fleet([path], CATALOGUE, as_of=DAY)
    assert (info.value.where, info.value.field) == (f"{path}:2", f"host.gpus.4.{field}")


def test_accelerators_only_the_pci_bus_saw_are_counted(tmp_path):
    # An 8 x MI300X node with no NVIDIA library: its chips must not drop out of the totals.
    total = one_node_total(tmp_path, node(0, host("mi300x-no-nvidia")))
    mi300x = compute_metrics(CATALOGUE.lookup("MI300X")).tpp
    cpu = one_node_total(tmp_path, {"host": {**host("mi300x-no-nvidia"), "pci_devices": [
        d for d in host("mi300x-no-nvidia")["pci_devices"] if d["vendor_id"] != "0x1002"]}, "country": "DE"}).tpp
    assert (total.units, total.tpp, total.complete) == (9, 8 * mi300x + cpu, True)


@pytest.mark.parametrize("change", [
    lambda h: h.update(unenumerated=["NVML device count: NoPermission"]),
    lambda h: h.pop("pci"),  # a HostReport from before the PCI bus was read
    lambda h: h.update(pci="cannot list /sys/bus/pci/devices: PermissionError"),
])
def test_a_host_whose_enumeration_failed_leaves_its_totals_undetermined(tmp_path, change):
    report = copy.deepcopy(DGX)
    change(report)
    assert not one_node_total(tmp_path, node(0, report)).complete
    assert one_node_total(tmp_path, node(0)).complete


# A `probe --json` line is counted by its `devices`; the `host` beside it records what the node
# held. A list emptied or filtered (a jq step dropping the "not enumerated" entries) made the node's
# 8 H100 (8 x 15,832 TPP, NVIDIA datasheet: 989.4 dense FP16 x 16) vanish from every total and check
# without a word. A list shorter than the host's devices is now an error naming the line.
@pytest.mark.parametrize("keep", [lambda d: [], lambda d: [x for x in d if x["kind"] != "gpu"],
                                  lambda d: [x for x in d if x["kind"] != "unenumerated"]])
def test_a_devices_list_shorter_than_its_host_is_refused(tmp_path, run_cli, keep):
    for dump in ("dgx-h100.json", "dgx-h100-format1.json"):
        probed = json.loads(run_cli("probe", "--replay", str(HOSTS / dump), "--json").stdout)
        probed["country"] = "DE"
        assert report_fleet([write(tmp_path, [probed])], CATALOGUE, as_of=DAY).totals_by_country["DE"].units >= 9
        cut = {**probed, "devices": keep(probed["devices"])}
        if len(cut["devices"]) == len(probed["devices"]):
            continue  # nothing of that kind on this node
        with pytest.raises(InputError) as info:
            report_fleet([write(tmp_path, [cut])], CATALOGUE, as_of=DAY)
        assert (info.value.where, info.value.field) == (f"{tmp_path / 'nodes.jsonl'}:1", "devices")


# Fuzz campaign seed 71, fleet:142: the probe writes a device's TPP as its bounds' exact value and
# null where they are open (GPU 5 of this node fell off the bus: unreadable, bounds 0 to unknown).
# Setting that null to 7 made the node's total known and LPP and the Tier 2 allocation pass.
def test_a_recorded_tpp_that_disagrees_with_its_bounds_is_refused(tmp_path, run_cli):
    probed = json.loads(run_cli("probe", "--replay", str(HOSTS / "dgx-h100-gpu-lost.json"), "--json").stdout)
    probed.update(country="AE", site="auh-1")
    lost = next(i for i, d in enumerate(probed["devices"]) if d["metrics"]["tpp"] is None)
    known = next(i for i, d in enumerate(probed["devices"]) if d["metrics"]["tpp"] is not None)
    assert probed["devices"][lost]["metrics"]["tpp_bounds"]["high"] is None
    assert not report_fleet([write(tmp_path, [probed])], CATALOGUE, as_of=DAY).totals_by_country["AE"].complete
    edits = [(lost, {"tpp": 7}), (known, {"tpp": 7}),
             (known, {"tpp_bounds": {"low": 0, "high": None}}), (known, {"tpp_bounds": {"low": "x", "high": 1}}),
             (known, {"tpp_bounds": [1, 2]})]
    for index, change in edits:
        edited = copy.deepcopy(probed)
        edited["devices"][index]["metrics"].update(change)
        # An identified device is counted by its catalogue entry, whatever its recorded figures say.
        if edited["devices"][index].get("identified_as"):
            edited["devices"][index]["identified_as"] = None
        with pytest.raises(InputError) as info:
            report_fleet([write(tmp_path, [probed, edited])], CATALOGUE, as_of=DAY)
        assert info.value.where == f"{tmp_path / 'nodes.jsonl'}:2", change
        assert info.value.field.startswith(f"devices.{index}.metrics.tpp"), change
    # Records written before the bounds were: the TPP as given.
    older = copy.deepcopy(probed)
    for device in older["devices"]:
        device["metrics"].pop("tpp_bounds", None)
    assert report_fleet([write(tmp_path, [older])], CATALOGUE, as_of=DAY).totals_by_country["AE"].units > 0
