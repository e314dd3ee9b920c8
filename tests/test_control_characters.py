"""Control characters (and lone surrogates) from input files and devices are shown as escapes in
HTML and SVG, never passed on: the embedded SVG stays well-formed XML (XML 1.0 forbids U+0000-U+001F
but tab, newline and carriage return, and U+D800-U+DFFF), and the HTML shows what was there."""

import base64
import datetime as dt
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.classification import classify
from tppcalc.probe.assess import assess
from tppcalc.probe.run import load_dump, report_from_dump
from tppcalc.render.html_report import classification_report, node_report, render_html, write_classification_html

pytest.importorskip("matplotlib", reason="the chart extra is not installed")

CATALOGUE = Catalogue.load()
DGX = Path(__file__).parent / "fixtures" / "hosts" / "dgx-h100.json"
CONTROLS = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n") + "\x7f"
HOSTILE = f"Evil{CONTROLS}\ud800Chip"
# What XML 1.0 cannot hold (and \r, which XML would silently turn into a newline).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def embedded_svgs(document: str) -> list[str]:
    """Every embedded SVG: the TPP x density chart and, from 2026, the TPP x DRAM bandwidth plane."""
    uris = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', document)
    assert uris
    return [base64.b64decode(uri).decode("utf-8") for uri in uris]


def assert_shown_not_passed(document: str, svg: str) -> None:
    assert not RAW.search(document)
    ET.fromstring(svg)  # well-formed XML, or this raises
    assert not RAW.search(svg)
    for text in (document, svg):
        assert "Evil\\x00\\x01" in text and "\\x1b\\x1c" in text and "\\x7f\\ud800Chip" in text


def test_a_chip_name_with_control_characters_is_escaped_in_the_html_and_its_svg(tmp_path):
    spec = CATALOGUE.lookup("H100 SXM").model_copy(update={"name": HOSTILE})
    results = [classify(spec, dest="CN", as_of=dt.date(2026, 2, 1))]
    document = render_html(classification_report(results, specs=[spec], catalogue=CATALOGUE))
    for svg in embedded_svgs(document):
        assert_shown_not_passed(document, svg)
    written = write_classification_html(results, tmp_path / "report.html", specs=[spec], catalogue=CATALOGUE)
    assert not RAW.search(written.read_text(encoding="utf-8"))


def test_a_host_and_device_name_with_control_characters_are_escaped_in_the_node_report():
    host = report_from_dump(load_dump(DGX))
    device = f"GPU{CONTROLS}Name"  # (a surrogate here is refused when the device is identified)
    gpus = [g.model_copy(update={"name": device}) if g.index == 3 else g for g in host.gpus]
    host = host.model_copy(update={"gpus": gpus, "hostname": HOSTILE})
    document = render_html(node_report(assess(host, CATALOGUE, dest="CN"), catalogue=CATALOGUE))
    assert not RAW.search(document)
    assert "Evil\\x00\\x01" in document and "\\x7f\\ud800Chip" in document and "GPU\\x00\\x01" in document
    for svg in embedded_svgs(document):
        ET.fromstring(svg)


def test_the_chart_command_writes_valid_svg_for_a_spec_named_with_control_characters(run_cli, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    escaped = "".join(f"\\u{ord(c):04x}" for c in CONTROLS)  # TOML cannot hold a lone surrogate
    (folder / "evil.toml").write_text(textwrap.dedent(f"""
        [sources]
        ds = {{ title = "Datasheet", url = "https://example.com/ds" }}
        [[chip]]
        id = "evil-chip"
        vendor = "Acme"
        name = "Evil{escaped}Chip $x$"
        kind = "gpu"
        datacenter = {{ value = true, source = "ds" }}
        [[chip.processing_units]]
        name = "matrix"
        [chip.processing_units.dense_tops]
        int8 = {{ value = 600, source = "ds" }}
    """))
    output = tmp_path / "chart.svg"
    result = run_cli("--specs-dir", str(folder), "chart", "evil-chip", "-o", str(output))
    assert result.exit_code == 0, result.stderr
    svg = output.read_text(encoding="utf-8")
    ET.fromstring(svg)
    assert not RAW.search(svg)
    assert "Evil\\x00\\x01" in svg and "Chip $x$" in svg  # a "$" is text, not mathematics
