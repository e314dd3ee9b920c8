"""The TPP / density chart: regions from the edition data, every chip placed, valid PNG and SVG files."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import click
import pytest

pytest.importorskip("matplotlib")

from click.testing import CliRunner

from tppcalc.cli.chart import chart
from tppcalc.cli.main import _Group
from tppcalc.core.metrics import compute_metrics
from tppcalc.data.catalogue import Catalogue
from tppcalc.decisions.rules.editions import default_rulebook
from tppcalc.render.chart import (
    OUTSIDE,
    ChartChip,
    chart_model,
    chips_from_specs,
    draw,
    paragraph_boxes,
    rules_view,
)

CATALOGUE = Catalogue.load()
SVG = "{http://www.w3.org/2000/svg}"


def run_chart(*args: str):
    """The command as it runs once registered: under a group that turns domain errors into exit 1."""
    group = _Group("tppcalc", commands={"chart": chart})
    return CliRunner().invoke(group, ["chart", *args], catch_exceptions=False)


def region_at(model, tpp: float, density: float) -> str:
    (found,) = [r.label for r in model.regions
                if r.tpp[0] <= tpp < r.tpp[1] and r.density[0] <= density < r.density[1]]
    return found


def test_regions_come_from_the_edition_data_and_walk_the_paragraphs_in_order():
    model = chart_model([], rules_view(edition="2026-01-15"))
    labels = {r.label for r in model.regions}
    assert labels == {"3A090.a.1", "3A090.a.2", "3A090.b.1", "3A090.b.2", OUTSIDE}
    edition = default_rulebook().get("2026-01-15")
    lines = {p.id: {k: float(v) for c in p.when for k, v in c.items()} for p in edition.paragraphs}
    a1, a2 = lines["3A090.a.1"]["tpp_at_least"], lines["3A090.a.2"]["density_at_least"]
    b2_density = lines["3A090.b.2"]["density_at_least"]
    # Exactly at a line the higher paragraph holds (>=), just below it does not.
    assert region_at(model, a1, 1.0) == "3A090.a.1"
    assert region_at(model, a1 * 0.999, 1.0) == OUTSIDE
    assert region_at(model, 2000, a2) == "3A090.a.2"
    assert region_at(model, 2000, a2 * 0.999) == "3A090.b.2"
    assert region_at(model, 2000, b2_density * 0.999) == OUTSIDE
    assert region_at(model, 3000, 2.0) == "3A090.b.1"   # b.1 before b.2 where both hold
    assert region_at(model, 1000, 50.0 if model.density_range[1] > 50 else model.density_range[1] - 0.01) == OUTSIDE


def test_a_changed_threshold_in_the_data_moves_the_region():
    view = rules_view(edition="2026-01-15")
    moved = []
    for paragraph in view.paragraphs:
        if paragraph.id == "3A090.a.1":
            when = [{k: (v * 2 if k == "tpp_at_least" else v) for k, v in c.items()} for c in paragraph.when]
            paragraph = paragraph.model_copy(update={"when": when})
        moved.append(paragraph)
    model = chart_model([], type(view)(**{**view.__dict__, "paragraphs": tuple(moved)}))
    assert region_at(model, 6000, 1.0) == OUTSIDE
    assert region_at(model, 9600, 1.0) == "3A090.a.1"


def test_the_2022_edition_is_one_tpp_line_with_its_io_condition_in_words():
    model = chart_model([], rules_view(edition="2022-10-07"))
    assert {r.label for r in model.regions} == {"3A090.a", OUTSIDE}
    assert all(s[0][0] == s[1][0] == 4800.0 for s in model.lines)
    (a,) = [r for r in model.regions if r.label == "3A090.a"]
    assert a.extra and "I/O" in a.extra[0]
    # The memory paragraph (3A090.c) of later editions is a footnote, not a region.
    later = chart_model([], rules_view(edition="2026-01-15"))
    assert any("3A090.c" in note for note in later.notes)
    assert paragraph_boxes(rules_view(edition="2026-01-15"))[1][0].id == "3A090.c"


def test_every_chip_is_placed_and_none_is_dropped():
    specs = list(CATALOGUE)
    model = chart_model(chips_from_specs(specs, ["nvidia-h20"]), rules_view(edition="2026-01-15"))
    assert [p.key for p in model.points] == [s.id for s in specs]
    places = {p.key: p.place for p in model.points}
    assert places["nvidia-h100-sxm5-80gb"] == "plot"
    assert places["amd-instinct-mi300x"] == "density unknown"   # TPP known, die area not
    assert places["cerebras-wse-3"] == "tpp unknown"
    assert [p.key for p in model.points if p.highlighted] == ["nvidia-h20"]
    h100 = next(p for p in model.points if p.key == "nvidia-h100-sxm5-80gb")
    assert region_at(model, h100.tpp, h100.density) == "3A090.a.1"
    assert model.tpp_range[0] < min(p.tpp for p in model.points if p.tpp) < max(
        p.tpp for p in model.points if p.tpp) < model.tpp_range[1]


def test_figure_artists_carry_regions_points_and_compare_lines():
    chips = chips_from_specs([CATALOGUE.lookup("H20"), CATALOGUE.lookup("H100 SXM")], ["nvidia-h20"])
    model = chart_model(chips, rules_view(edition="2023-11-17"), compare=rules_view(edition="2022-10-07"))
    fig = draw(model)
    main = fig.axes[0]   # the plot; then the "density unknown" strip and the "TPP unknown" panel
    assert main.get_xscale() == "log"
    gids = [p.get_gid() for p in main.patches]
    assert {g.rsplit("-", 1)[0] for g in gids} == {f"region-{label}" for label in
                                                     ("3A090.a.1", "3A090.a.2", "3A090.b.1", "3A090.b.2", OUTSIDE)}
    texts = {t.get_text() for t in main.texts}
    assert {"3A090.a.1", "3A090.a.2", "3A090.b.1", "3A090.b.2", "outside 3A090", "H20 96GB"} <= texts
    compare = [line for line in main.lines if line.get_gid() == "compare-line"]
    assert compare and all(list(line.get_xdata()) == [4800.0, 4800.0] for line in compare)
    h20 = next(line for line in main.lines if line.get_gid() == "chip-0")
    plain = next(line for line in main.lines if line.get_gid() == "chip-1")
    assert h20.get_markersize() > plain.get_markersize()


def test_cli_writes_an_svg_with_the_regions_as_text(tmp_path):
    out = tmp_path / "chart.svg"
    result = run_chart("H100 SXM", "RTX 4090", "MI300X", "WSE-3", "--highlight", "H20", "--edition", "2026-01-15",
                       "--compare", "2022-10-07", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "5 chips under 2026-01-15" in result.stderr and "1 with density unknown, 1 with TPP unknown" in result.stderr
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    text = "".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for label in ("3A090.a.1", "3A090.a.2", "3A090.b.1", "3A090.b.2", "outside 3A090",
                  "H100 SXM5 80GB", "H20 96GB", "Instinct MI300X", "Wafer Scale Engine 3 (WSE-3)", "TPP unknown",
                  "2022-10-07 lines (compared)"):
        assert label in text, label
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert any(i and i.startswith("region-3A090.b.2") for i in ids)
    assert "chip-0" in ids and "compare-line" in ids


def test_cli_all_with_highlight_writes_a_png(tmp_path):
    out = tmp_path / "chart.png"
    result = run_chart("--all", "--highlight", "H20", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"{len(CATALOGUE)} chips" in result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 1000 and height > 700
    assert not (tmp_path / "chart.png.tmp").exists()


def test_as_of_picks_the_edition_in_force(tmp_path):
    result = run_chart("H20", "--as-of", "2023-01-01", "-o", str(tmp_path / "c.svg"))
    assert result.exit_code == 0 and "under 2023-01-18" not in result.stderr and "under 2022-10-07" in result.stderr


def test_as_written_draws_the_rules_classify_applies_as_written(tmp_path):
    # On 2025-06-01 BIS did not enforce the AI Diffusion rule (its 2025-05-13 statement): drawn as
    # enforced the chart leaves it out, drawn --as-written (as `classify --as-written`) it names it.
    enforced = run_chart("H20", "--as-of", "2025-06-01", "-o", str(tmp_path / "a.svg"), "--json")
    written = run_chart("H20", "--as-of", "2025-06-01", "--as-written", "-o", str(tmp_path / "b.svg"), "--json")
    assert enforced.exit_code == 0 and written.exit_code == 0, written.stderr
    assert "ai-diffusion" not in json.loads(enforced.stdout)["edition"]
    assert "2025-01-13-ai-diffusion" in json.loads(written.stdout)["edition"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["H20", "-o", "chart.pdf"], 1, "-o: cannot tell the chart format"),
    (["H20", "--compare", "1999-01-01", "-o", "c.png"], 1, "--compare: unknown edition '1999-01-01'"),
    (["Z9000", "-o", "c.png"], 1, "no chip in the catalogue matches 'Z9000'"),
    (["-o", "c.png"], 2, "give catalogue QUERY arguments"),
    (["H20", "--all", "-o", "c.png"], 2, "not both"),
    (["H20", "--edition", "2023-11-17", "--as-of", "2024-01-01", "-o", "c.png"], 2, "--edition or --as-of"),
    (["H20"], 2, "Missing option '-o'"),
])
def test_bad_input_is_one_line_on_stderr(tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    result = run_chart(*args)
    assert result.exit_code == code
    assert message in result.stderr and result.stdout == ""
    assert not list(tmp_path.iterdir())


def test_importing_tppcalc_does_not_import_matplotlib():
    code = "import sys, tppcalc, tppcalc.render.chart, tppcalc.render.html_report, tppcalc.cli.chart; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_chip_label_from_input_is_text_in_the_svg_not_markup(tmp_path):
    from tppcalc.render.chart import render

    chip = ChartChip("x", "<script>alert(1)</script>", compute_metrics(CATALOGUE.lookup("H20")))
    svg = render(chart_model([chip], rules_view(edition="2026-01-15")), "svg").decode()
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    ET.fromstring(svg)  # still well-formed


def test_click_command_metadata():
    assert isinstance(chart, click.Command) and chart.name == "chart"
