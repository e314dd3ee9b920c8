"""The HTML audit report: contents, escaping, digests, and a real render in headless Chromium."""

import base64
import datetime as dt
import hashlib
import html
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tppcalc.data.catalogue import Catalogue
from tppcalc.data.resources import data_dir
from tppcalc.decisions.classification import classify
from tppcalc.fleet import report_fleet
from tppcalc.probe.assess import assess
from tppcalc.probe.run import load_dump, report_from_dump
from tppcalc.render.html_report import (
    Report,
    Section,
    classification_report,
    fleet_report,
    node_report,
    render_html,
    write_classification_html,
    write_html,
    write_node_html,
)
from tppcalc.render.layout import Cell, Table
from tppcalc.render.report import fleet_dict

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
DGX = HOSTS / "dgx-h100.json"
INVENTORY = Path(__file__).parent / "fixtures" / "fleet" / "four-countries.toml"
CATALOGUE = Catalogue.load()
INJECTED = "<script>alert(1)</script>"
LOGGING = '<script>console.error("ran")</script>'   # would show in the browser's console if it ran
WHEN = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
CHROMIUM = "/usr/bin/chromium"


def dgx_node(**rules):
    return assess(report_from_dump(load_dump(DGX)), CATALOGUE, **rules)


def injected_node():
    """The DGX fixture with a hostile GPU name and hostname, as a tampered or odd device might report."""
    host = report_from_dump(load_dump(DGX))
    gpus = [g.model_copy(update={"name": INJECTED}) if g.index == 3 else g for g in host.gpus]
    host = host.model_copy(update={"gpus": gpus, "hostname": f"node{INJECTED}"})
    return assess(host, CATALOGUE, dest="CN")


def fleet(paths, **options):
    """A fleet report, the chips it holds and the HTML report of both."""
    chips = {}
    result = report_fleet(paths, CATALOGUE, as_of=dt.date(2025, 6, 1), chips=chips, **options)
    return result, fleet_report(result, inputs=paths, chips=chips, catalogue=CATALOGUE, generated_at=WHEN)


def hostile_inventory(folder: Path) -> Path:
    """A site and a consignee named with markup, as a careless or hostile inventory might."""
    path = folder / "hostile.toml"
    path.write_text(f'''
[[site]]
name = 'fra{LOGGING}'
country = "DE"
operator = "<b>Op</b>"
[[site.item]]
chip = "H100 SXM"
count = 8
shipped = 2025-02-01
consignee = "<img src=x onerror=alert(2)>"
''', encoding="utf-8")
    return path


def chart_svg(document: str, section: str = "chart") -> str:
    """The SVG embedded in one section: "chart" (TPP x density) or "plane" (TPP x DRAM bandwidth)."""
    (uri,) = re.findall(rf'<section id="{section}">.*?src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', document,
                        re.DOTALL)
    return base64.b64decode(uri).decode()


def test_probe_report_has_the_eight_gpus_their_classification_the_chart_and_the_rules():
    document = render_html(node_report(dgx_node(dest="CN"), catalogue=CATALOGUE, generated_at=WHEN))
    assert document.startswith("<!DOCTYPE html>")
    assert len(re.findall(r"<tr><td>GPU \d</td><td>NVIDIA H100 80GB HBM3</td><td>nvidia-h100-sxm5-80gb</td>", document)) == 8
    assert document.count('<td class="controlled">3A090.a (3A090.a.1)</td>') >= 8
    assert '<td class="controlled">4A090.a</td>' in document
    assert "required to CN" in document
    svg = chart_svg(document)
    assert "3A090.a.1" in svg and "H100 SXM5 80GB x8" in svg
    assert "Revision to License Review Policy for Advanced Computing Commodities" in document
    assert 'href="https://' in document                      # citations, as links
    assert "tppcalc 0.1.0" in document and "2026-02-01T12:00:00+00:00" in document
    assert "derived / declared" in document and "1.082" in document   # declared against derived (Hopper clocks)


def test_classify_report_lists_each_chip_with_its_verdict_and_checks():
    specs = [CATALOGUE.lookup(q) for q in ("H100 SXM", "H20", "RTX 4090")]
    results = [classify(s, dest="CN", as_of=dt.date(2026, 2, 1)) for s in specs]
    document = render_html(classification_report(results, specs=specs, catalogue=CATALOGUE, generated_at=WHEN))
    assert '<td class="outside">outside 3A090</td>' in document          # H20
    assert document.count('<td class="controlled">3A090.a (3A090.a.1)</td>') == 4   # table + own section, x2
    assert "Paragraph checks (primary reading)" in document and "TPP 15,832 &gt;= 4,800" in document
    # The H20, in words: licence required by the is-informed letter (NVIDIA 8-K of 2025-04-15).
    assert "Is-informed letter of 2025-04-09 to NVIDIA names this product" in document
    svg = chart_svg(document)
    for name in ("H100 SXM5 80GB", "H20 96GB", "GeForce RTX 4090"):
        assert name in svg
    # Without specs the metrics behind each classification are used.
    bare = render_html(classification_report(results[:1], catalogue=CATALOGUE, generated_at=WHEN))
    assert "nvidia-h100-sxm5-80gb" in bare and "15,832" in bare


def test_strings_from_hardware_and_input_files_are_escaped():
    document = render_html(node_report(injected_node(), catalogue=CATALOGUE, generated_at=WHEN))
    assert "<script" not in document.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert f"node{html.escape(INJECTED)}" in document
    spec = CATALOGUE.lookup("H20").model_copy(update={"name": '<img src=x onerror="alert(1)">'})
    document = render_html(classification_report([classify(spec, dest="CN")], specs=[spec], catalogue=CATALOGUE))
    assert "<img src=x" not in document and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in document
    assert "<img src=x" not in chart_svg(document)


def test_a_generic_report_escapes_titles_cells_and_refuses_unknown_tones():
    report = Report(title="<b>fleet</b>", summary=[("<i>k</i>", Cell("v&w", "controlled"))],
                    sections=[Section("<s>", paragraphs=["a<b"], tables=[Table(["<c>"], [["<d>"]], caption="<e>")],
                                      items=["<f>"], preformatted=[("<g>", "<h>")])])
    document = render_html(report)
    for raw in ("<b>fleet", "<i>k", "<s>", "a<b", "<c>", "<d>", "<e>", "<f>", "<g>", "<h>"):
        assert raw not in document
    assert '<td class="controlled">v&amp;w</td>' in document
    with pytest.raises(ValueError, match="unknown tone"):
        Cell("x", 'controlled" onclick="x')


def test_digests_let_a_reader_check_what_was_used(tmp_path):
    report = node_report(dgx_node(), catalogue=CATALOGUE, extra_files={"probe dump": DGX}, generated_at=WHEN)
    digests = {(d.group, d.name): d.sha256 for d in report.digests}
    document = render_html(report)
    (shown,) = re.findall(r"<pre>(.*?)</pre>", document, flags=re.DOTALL)
    host_json = html.unescape(shown)
    assert digests[("HostReport", "HostReport JSON (as shown in this report)")] == \
        hashlib.sha256(host_json.encode()).hexdigest()
    assert digests[("probe dump", str(DGX))] == hashlib.sha256(DGX.read_bytes()).hexdigest()
    specs = sorted({Path(p) for p in CATALOGUE.origins.values()})
    root = Path(str(data_dir("specs"))).resolve()
    for path in specs:  # named by their place in specs/ (the CPU tables sit in specs/cpus/)
        name = path.resolve().relative_to(root).as_posix()
        assert digests[("catalogue", name)] == hashlib.sha256(path.read_bytes()).hexdigest()
    editions = [name for group, name in digests if group == "rule data" and name.startswith("editions/")]
    assert "editions/2026-01-15.toml" in editions and "country_groups.toml" in [n for g, n in digests if g == "rule data"]
    for sha in digests.values():
        assert f'<td class="digest">{sha}</td>' in document


def test_no_chart_without_matplotlib_but_the_report_is_still_written(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = write_node_html(dgx_node(), tmp_path / "r.html", catalogue=CATALOGUE)
    document = path.read_text(encoding="utf-8")
    assert "data:image/svg+xml" not in document and "matplotlib is not installed" in document
    assert "nvidia-h100-sxm5-80gb" in document


def test_the_report_fetches_nothing_and_runs_nothing():
    document = render_html(node_report(dgx_node(dest="CN"), catalogue=CATALOGUE))
    assert "Content-Security-Policy" in document and "default-src 'none'" in document
    assert not re.search(r"<(script|link|iframe|object|embed)\b", document, flags=re.IGNORECASE)
    assert not re.search(r'\s(src|href)="(?!data:|https?://[^"]*" *>|#)', document)
    assert all(m.startswith("data:") for m in re.findall(r'\ssrc="([^"]*)"', document))


def test_fleet_report_has_the_totals_the_checks_the_chart_the_rules_and_the_digests():
    result, report = fleet([INVENTORY])
    document = render_html(report)
    for grouping in ("country", "tier", "site", "consignee"):
        assert f"<caption>Totals by {grouping}</caption>" in document
    assert '<tr><td>DE</td><td class="num">16,211,968</td><td class="num">1,024.1</td><td class="num">1,024</td></tr>' \
        in document
    assert '<tr><td>fra-1</td><td class="num">16,211,968</td>' in document
    assert '<tr><td>Example Cloud GmbH</td><td class="num">16,211,968</td>' in document
    assert '<tr><td>tier2</td><td class="num">7,652,992</td>' in document
    assert len(re.findall(r'<tr><td class="(?:outside|controlled|undetermined)">(?:pass|fail|undetermined)</td>',
                          document)) == len(result.checks) == 8
    assert ('<td class="outside">pass</td><td>Tier 2 allocation AE</td><td class="num">4,052,992</td>'
            '<td class="num">790,000,000</td>') in document
    assert '<th>Checks</th><td class="outside">8 pass</td>' in document
    svg = chart_svg(document)
    for name in ("H100 SXM5 80GB", "H200 SXM 141GB", "B200", "L4"):
        assert name in svg
    assert "Classification rules</td><td>2025-01-16" in document and "90 FR 4544" in document
    assert 'href="https://' in document and "tppcalc 0.1.0" in document
    digests = {(d.group, d.name): d.sha256 for d in report.digests}
    assert digests[("input", str(INVENTORY))] == hashlib.sha256(INVENTORY.read_bytes()).hexdigest()
    assert ("rule data", "editions/2025-01-13-ai-diffusion.toml") in digests
    assert {name for group, name in digests if group == "catalogue"} >= {"nvidia-datacenter.toml", "amd.toml"}
    assert digests[("fleet report", "the report as JSON (tppcalc fleet report --json)")] == \
        hashlib.sha256(json.dumps(fleet_dict(result), indent=2).encode()).hexdigest()
    for sha in digests.values():
        assert f'<td class="digest">{sha}</td>' in document


def test_fleet_report_shows_a_failed_check_and_a_what_if_cap():
    _, report = fleet([INVENTORY], caps={"lpp_tpp_per_consignee_year": Decimal(5_000_000)})
    document = render_html(report)
    assert '<td class="controlled">fail</td><td>LPP Example Cloud GmbH 2025</td>' in document
    assert '<th>Checks</th><td class="controlled">1 fail, 7 pass</td>' in document
    assert "what-if value given with --cap" in document


def test_fleet_strings_from_input_files_are_escaped(tmp_path):
    _, report = fleet([hostile_inventory(tmp_path)])
    document = render_html(report)
    assert "<script" not in document.lower() and "<img src=x" not in document and "<b>Op" not in document
    assert f"<tr><td>fra{html.escape(LOGGING)}</td>" in document
    assert "&lt;img src=x onerror=alert(2)&gt;" in document and "UVEU &lt;b&gt;Op&lt;/b&gt;" in document


def test_fleet_report_cli_writes_html(run_cli, tmp_path):
    page = tmp_path / "fleet.html"
    result = run_cli("fleet", "report", str(INVENTORY), "--as-of", "2025-06-01", "--json", "--html", str(page))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["as_of"] == "2025-06-01" and result.stderr == f"wrote {page}\n"
    assert "<caption>Totals by site</caption>" in page.read_text(encoding="utf-8")


# ---- a real browser ------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                    reason="Chromium (Debian package `chromium`) is not installed; required in CI")


def render_in_chromium(page: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """Screenshot ``page`` headless; return the screenshot and every console message it logged."""
    shot = tmp_path / (page.stem + ".png")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / ('profile-' + page.stem)}", f"--screenshot={shot}",
               "--window-size=1280,2000", "--enable-logging=stderr", "--v=0", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return shot, console


@needs_chromium
def test_probe_report_renders_in_chromium_without_console_errors(tmp_path):
    page = write_node_html(injected_node(), tmp_path / "report.html", catalogue=CATALOGUE,
                           extra_files={"probe dump": DGX})
    shot, console = render_in_chromium(page, tmp_path)
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1280, 2000)
    assert len(data) > 50_000   # a rendered page with a chart, not a blank one


@needs_chromium
def test_classify_report_renders_in_chromium_without_console_errors(tmp_path):
    specs = [CATALOGUE.lookup(q) for q in ("H100 SXM", "H20", "MI300X", "WSE-3")]
    page = write_classification_html([classify(s, dest="AE") for s in specs], tmp_path / "classify.html",
                                     specs=specs, catalogue=CATALOGUE)
    shot, console = render_in_chromium(page, tmp_path)
    assert console == [] and shot.stat().st_size > 50_000


@needs_chromium
def test_the_console_check_sees_script_errors_and_blocked_fetches(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><p>x</p><script>throw new Error("boom")</script>', encoding="utf-8")
    _, console = render_in_chromium(broken, tmp_path)
    assert any("Uncaught Error: boom" in line for line in console)
    fetching = tmp_path / "fetching.html"
    fetching.write_text(render_html(Report(title="t")).replace(
        "</body>", '<img src="http://example.invalid/x.png"></body>'), encoding="utf-8")
    _, console = render_in_chromium(fetching, tmp_path)
    assert any("Content Security Policy" in line for line in console)


def dom_in_chromium(page: Path, tmp_path: Path) -> str:
    """The document as Chromium parsed it (``--dump-dom``): what the browser made of the markup."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / ('dom-' + page.stem)}", "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_chromium
def test_fleet_report_renders_in_chromium_with_the_injected_site_name_as_text(tmp_path):
    inventory = hostile_inventory(tmp_path)
    _, report = fleet([INVENTORY, inventory])
    page = write_html(report, tmp_path / "fleet.html")
    shot, console = render_in_chromium(page, tmp_path)
    assert console == [] and shot.stat().st_size > 50_000
    dom = dom_in_chromium(page, tmp_path)
    assert "<script" not in dom.lower() and "<img src=x" not in dom   # no element was made of the names
    assert f"<td>fra{html.escape(LOGGING, quote=False)}</td>" in dom   # the site name, shown as text


# ---- notices and the bandwidth plane (issue 15, items 2 and 8) ------------------------------------
# Sources: the Section 232 proclamation's Annex (band 1: TPP 14,000-17,500, 4,500-5,000 GB/s; the
# H200 SXM is 15,832 and 4,800 GB/s by NVIDIA's datasheet) and BIS's guidance of 2025-05-13 (GP10
# for Huawei Ascend 910B/910C/910D anywhere).


def test_classify_report_shows_each_chips_notices_and_the_bandwidth_plane():
    specs = [CATALOGUE.lookup(q) for q in ("H200 SXM", "Ascend 910B3", "B200")]
    results = [classify(s, dest="CN", as_of=dt.date(2026, 2, 1)) for s in specs]
    document = render_html(classification_report(results, specs=specs, catalogue=CATALOGUE, generated_at=WHEN))
    sections = re.findall(r'<section id="chip-(\d)">(.*?)</section>', document, re.DOTALL)
    by_chip = dict(sections)
    assert "<caption>Notices</caption>" in by_chip["0"] and "tariff-band-1" in by_chip["0"]
    assert "Section 232 tariff band 1 (TPP over 14,000 and under 17,500" in by_chip["0"]
    assert "gp10-ascend" in by_chip["1"] and "gp10-ascend" not in by_chip["0"] + by_chip["2"]
    assert "tariff-band" not in by_chip["1"] + by_chip["2"]
    plane = chart_svg(document, "plane")
    for label in ("tariff band 1", "tariff band 2", "H200 SXM 141GB", "Total DRAM bandwidth (GB/s)"):
        assert label in plane, label
    assert "3A090.a.1" in chart_svg(document)   # the density chart is still the first


def test_probe_report_shows_notices_and_the_plane():
    document = render_html(node_report(dgx_node(dest="CN", as_of=dt.date(2026, 2, 1)), catalogue=CATALOGUE,
                                       generated_at=WHEN))
    assert "<caption>Notices</caption>" in document and "diversion-red-flags" in document
    assert "H100 SXM5 80GB x8" in chart_svg(document, "plane")


def test_before_2026_the_report_says_the_plane_has_no_lines():
    spec = CATALOGUE.lookup("H100 SXM")
    document = render_html(classification_report([classify(spec, dest="CN", as_of=dt.date(2025, 2, 1))], specs=[spec],
                                                 catalogue=CATALOGUE, generated_at=WHEN))
    assert '<section id="plane">' in document and "draw no line in the TPP and DRAM bandwidth plane" in document


def test_a_notice_is_escaped_like_every_other_string():
    from tppcalc.decisions.rules.editions import Citation
    from tppcalc.decisions.rules.notices import Notice

    result = classify(CATALOGUE.lookup("H20"), dest="CN", as_of=dt.date(2026, 2, 1))
    hostile = Notice(INJECTED, "guidance", f"text {INJECTED}\x1b[31m", False,
                     Citation(title=INJECTED, url="https://example.org/?a=<b>"))
    result = result.model_copy(update={"notices": [hostile]})
    document = render_html(classification_report([result], catalogue=CATALOGUE, generated_at=WHEN, chart=False))
    assert "<script" not in document.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "\\x1b[31m" in document and "may apply" in document
