"""`tppcalc probe --from-nvidia-smi`: a remote node classified from the dump its operator sends, and
`tppcalc fleet report --nvidia-smi-dumps`. The dumps are synthetic (see fixtures/hosts/nvidia-smi)."""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from tppcalc.probe.nvidia_smi import parse

DUMPS = Path(__file__).parent / "fixtures" / "hosts" / "nvidia-smi"
AS_OF = "2025-06-01"
H100 = "nvidia-h100-sxm5-80gb"
# H100 SXM5 datasheet: 989.4 dense FP16/BF16 tensor TFLOPS; TPP = 989.4 x 16 = 15,832 (>= 4,800:
# 3A090.a; a computer holding it is 4A090.a, 15 CFR 774 Supp. 1).
H100_TPP = Decimal(15832)


def probe_json(run_cli, path, *extra):
    result = run_cli("probe", "--from-nvidia-smi", str(path), "--dest", "CN", "--as-of", AS_OF, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("dump", ["two-h100.xml", "two-h100.csv", "two-h100-noheader.csv"])
def test_a_two_h100_dump_is_a_4a090a_node(run_cli, dump):
    document = probe_json(run_cli, DUMPS / dump)
    gpus = [d for d in document["devices"] if d["kind"] == "gpu"]
    assert [(g["identified_as"], g["identification"]) for g in gpus] == [(H100, "pci id")] * 2
    assert {Decimal(str(g["metrics"]["tpp"])) for g in gpus} == {H100_TPP}
    assert {g["classification"]["eccn"] for g in gpus} == {"3A090.a"}
    assert document["node"]["eccn"] == "4A090.a"
    assert document["host"]["accelerators"][0]["memory_total_bytes"] == 81559 * 2**20
    assert document["host"]["accelerators"][0]["max_clock_mhz"] == 1980


def test_an_unknown_product_is_undetermined_never_outside(run_cli):
    document = probe_json(run_cli, DUMPS / "unknown-product.xml")
    (gpu,) = [d for d in document["devices"] if d["kind"] == "gpu"]
    assert gpu["identified_as"] is None and gpu["classification"]["eccn"] is None
    assert document["node"]["eccn"] is None
    assert {"4A090.a", "outside 4A090"} <= set(document["node"]["undetermined"])


def test_the_report_says_what_a_dump_cannot_show(run_cli):
    document = probe_json(run_cli, DUMPS / "two-h100.xml")
    reasons = " ".join(document["host"]["unenumerated"])
    assert "PCI bus not in an nvidia-smi dump" in reasons and "CPUs" in reasons
    assert "nvidia-smi dump two-h100.xml" in document["host"]["provenance"]


def test_xml_and_both_csv_forms_read_the_same_devices():
    fields = ("name", "pci_vendor_id", "pci_device_id", "pci_subsystem_id", "memory_total_bytes", "max_clock_mhz")
    readings = [[tuple(getattr(d, f) for f in fields) for d in parse((DUMPS / name).read_text())[0]]
                for name in ("two-h100.xml", "two-h100.csv", "two-h100-noheader.csv")]
    assert readings[0] == readings[1] == readings[2]
    assert readings[0][0] == ("NVIDIA H100 80GB HBM3", "0x10de", "0x2330", "0x10de16c1", 81559 * 2**20, 1980)


def test_fewer_gpus_than_attached_is_a_reason_devices_may_be_missing():
    text = (DUMPS / "two-h100.xml").read_text().replace("<attached_gpus>2</attached_gpus>",
                                                         "<attached_gpus>3</attached_gpus>")
    _, unenumerated, _ = parse(text)
    assert unenumerated == ["nvidia-smi dump: attached_gpus says 3, the dump lists 2 GPUs"]


@pytest.mark.parametrize("tag, value", [("pci_device_id", "N/A"), ("pci_device_id", "0x2330"),
                                        ("total", "0 MiB"), ("sm_clock", "0 MHz"), ("sm_clock", "-5 MHz"),
                                        ("product_name", "N/A")])
def test_a_garbled_value_is_unread_not_believed(tag, value):
    text = (DUMPS / "unknown-product.xml").read_text()
    within = text.index("<max_clocks>") if tag == "sm_clock" else 0  # the maximum, not the current clock
    start = text.index(f"<{tag}>", within) + len(tag) + 2
    garbled = text[:start] + value + text[text.index(f"</{tag}>", start):]
    (device,), _, _ = parse(garbled)
    field = {"pci_device_id": "pci_device_id", "total": "memory_total_bytes", "sm_clock": "max_clock_mhz",
             "product_name": "name"}[tag]
    assert getattr(device, field) is None and field in device.errors


def test_a_dump_with_no_readable_id_or_name_is_undetermined(run_cli, tmp_path):
    text = (DUMPS / "two-h100.xml").read_text()
    for tag in ("product_name", "pci_device_id"):
        start, end = text.index(f"<{tag}>"), text.index(f"</{tag}>") + len(tag) + 3
        text = text[:start] + f"<{tag}>N/A</{tag}>" + text[end:]  # the first GPU's only
    dump = tmp_path / "garbled.xml"
    dump.write_text(text)
    document = probe_json(run_cli, dump)
    assert document["node"]["eccn"] == "4A090.a"  # the second GPU is still an H100: never lower
    assert [d["identified_as"] for d in document["devices"] if d["kind"] == "gpu"] == [None, H100]


HOSTILE = {
    "entity.xml": '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log [<!ENTITY a "aaaa">]>\n<nvidia_smi_log>&a;</nvidia_smi_log>',
    "laughs.xml": ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>'
                   "\n<nvidia_smi_log>&lol2;</nvidia_smi_log>"),
    "external.xml": '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log SYSTEM "file:///etc/passwd">\n<nvidia_smi_log/>',
    "two-doctypes.xml": ('<!DOCTYPE nvidia_smi_log SYSTEM "a.dtd">\n<!DOCTYPE nvidia_smi_log SYSTEM "a.dtd">\n'
                         "<nvidia_smi_log/>"),
    "undefined-entity.xml": "<nvidia_smi_log>&undefined;</nvidia_smi_log>",
    "wrong-root.xml": "<html><body>not a dump</body></html>",
    "truncated.xml": (DUMPS / "two-h100.xml").read_text()[:2000],
    "columns.csv": "NVIDIA H100 80GB HBM3, 0x233010DE\n",
    "header.csv": "name, memory.total [MiB]\nNVIDIA H100 80GB HBM3, 81559 MiB\n",
    "empty.csv": "\n\n",
    "binary.csv": b"\xff\xfe\x00\x01garbage",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_an_unreadable_or_hostile_file_is_one_error_line(run_cli, tmp_path, name):
    path = tmp_path / name
    content = HOSTILE[name]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run_cli("probe", "--from-nvidia-smi", str(path), "--dest", "CN")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr and "Traceback" not in result.stderr


def test_a_file_too_large_is_refused_before_it_is_parsed(run_cli, tmp_path, monkeypatch):
    import tppcalc.probe.nvidia_smi as nvidia_smi

    monkeypatch.setattr(nvidia_smi, "MAX_DUMP_BYTES", 1000)
    result = run_cli("probe", "--from-nvidia-smi", str(DUMPS / "two-h100.xml"))
    assert result.exit_code == 1 and "file too large" in result.stderr


def test_bench_and_replay_do_not_combine_with_a_dump(run_cli):
    dump = str(DUMPS / "two-h100.xml")
    assert run_cli("probe", "--from-nvidia-smi", dump, "--bench").exit_code == 1
    assert run_cli("probe", "--from-nvidia-smi", dump, "--replay", dump).exit_code == 1


def test_the_fleet_reads_a_folder_of_dumps_as_nodes_of_its_country(run_cli, tmp_path):
    folder = tmp_path / "abu-dhabi"
    folder.mkdir()
    for name in ("two-h100.xml", "two-h100.csv", "unknown-product.xml", "README.md"):
        (folder / name).write_bytes((DUMPS / name).read_bytes())
    result = run_cli("fleet", "report", "--nvidia-smi-dumps", f"AE={folder}", "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.stderr
    totals = json.loads(result.stdout)["totals_by_country"]
    assert list(totals) == ["AE"]
    # Four H100s counted; the unknown GPU and what no dump shows keep the total open, never lower.
    assert Decimal(str(totals["AE"]["tpp"])) == 4 * H100_TPP and totals["AE"]["complete"] is False
    sites = json.loads(result.stdout)["totals_by_site"]
    assert {"abu-dhabi/two-h100.xml", "abu-dhabi/two-h100.csv", "abu-dhabi/unknown-product.xml"} <= set(sites)


@pytest.mark.parametrize("option, problem", [("AE", "COUNTRY=FOLDER"), ("Atlantis={folder}", "Atlantis"),
                                             ("AE={missing}", "not a folder")])
def test_a_bad_dumps_option_is_one_error_line(run_cli, tmp_path, option, problem):
    option = option.format(folder=tmp_path, missing=tmp_path / "missing")
    result = run_cli("fleet", "report", "--nvidia-smi-dumps", option)
    assert result.exit_code == 1 and problem in result.stderr and result.stderr.count("\n") == 1


def test_an_unparseable_dump_in_a_folder_names_the_file(run_cli, tmp_path):
    (tmp_path / "node7.xml").write_text("<nvidia_smi_log><gpu>")
    result = run_cli("fleet", "report", "--nvidia-smi-dumps", f"AE={tmp_path}")
    assert result.exit_code == 1 and "node7.xml" in result.stderr


def test_the_audit_report_of_a_dump_names_its_gpus_and_the_dump(run_cli, tmp_path):
    page = tmp_path / "node.html"
    result = run_cli("probe", "--from-nvidia-smi", str(DUMPS / "two-h100.xml"), "--dest", "CN", "--html", str(page))
    assert result.exit_code == 0, result.stderr
    text = page.read_text()
    assert "GPU 1 (nvidia-smi)" in text and "NVIDIA H100 80GB HBM3" in text and "nvidia-smi dump" in text


# A folder of dumps organised by rack (abu-dhabi/rack-1/node.xml) used to count only the dumps at the
# top: the nodes below were dropped without a word and the totals came out lower than the fleet.
# A dump-like entry that cannot be read as a file (a subfolder, a FIFO named *.xml) is refused.
def test_a_subfolder_of_a_dumps_folder_is_refused_not_skipped(run_cli, tmp_path):
    (tmp_path / "rack-1").mkdir()
    (tmp_path / "two-h100.xml").write_bytes((DUMPS / "two-h100.xml").read_bytes())
    (tmp_path / "rack-1" / "node-2.xml").write_bytes((DUMPS / "two-h100.xml").read_bytes())
    result = run_cli("fleet", "report", "--nvidia-smi-dumps", f"AE={tmp_path}", "--as-of", AS_OF)
    assert result.exit_code == 1 and "rack-1" in result.stderr and result.stderr.count("\n") == 1


def test_a_dump_name_that_is_not_a_regular_file_is_refused(run_cli, tmp_path):
    (tmp_path / "two-h100.xml").write_bytes((DUMPS / "two-h100.xml").read_bytes())
    os.mkfifo(tmp_path / "node-3.xml")
    result = run_cli("fleet", "report", "--nvidia-smi-dumps", f"AE={tmp_path}", "--as-of", AS_OF)
    assert result.exit_code == 1 and "node-3.xml" in result.stderr and result.stderr.count("\n") == 1
