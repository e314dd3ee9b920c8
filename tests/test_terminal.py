"""Terminal output: colour only for a person at a terminal, never in a pipe or under NO_COLOR; tables
that hold the facts; progress bars only on a terminal; input text shown, never interpreted."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tppcalc.render.layout import Cell, Items, Table
from tppcalc.render.terminal import STYLES, progress, show, wants_colour

ROOT = Path(__file__).resolve().parent.parent
HOSTS = Path(__file__).parent / "fixtures" / "hosts"
INVENTORY = Path(__file__).parent / "fixtures" / "fleet" / "four-countries.toml"
ESCAPE = "\x1b"
RED, YELLOW, GREEN = "\x1b[1;31m", "\x1b[1;33m", "\x1b[32m"   # STYLES: bold red, bold yellow, green


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def columns(line: str) -> list[str]:
    """The cells of a plain table row (cells are two or more spaces apart)."""
    return re.split(r" {2,}", line.strip())


def rows_of(text: str, first: str) -> list[list[str]]:
    return [columns(line) for line in text.splitlines() if line.startswith(first)]


@pytest.fixture
def colour_allowed(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def test_styles_give_the_verdicts_their_colours():
    assert STYLES["controlled"] == "bold red" and STYLES["undetermined"] == "bold yellow"
    assert STYLES["outside"] == "green"


def test_colour_only_on_a_terminal_without_no_color(colour_allowed, monkeypatch):
    assert wants_colour(Terminal())
    assert not wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour(Terminal())
    monkeypatch.setenv("NO_COLOR", "")          # empty means unset (no-color.org)
    assert wants_colour(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_colour(Terminal())


VERDICTS = [Table(("chip", "ECCN"), [("H100", Cell("3A090.a", "controlled")), ("H20", Cell("outside 3A090", "outside")),
                                     ("X", Cell("undetermined: 3A090.a or outside 3A090", "undetermined"))]),
            Items("Why", ["TPP 15,832 >= 4,800"])]


def test_a_terminal_gets_each_verdict_in_its_colour(colour_allowed):
    stream = Terminal()
    show(VERDICTS, stream=stream)
    out = stream.getvalue()
    assert f"{RED}3A090.a" in out and f"{GREEN}outside 3A090" in out and f"{YELLOW}undetermined" in out


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()], ids=["pipe", "terminal-with-NO_COLOR"])
def test_no_escape_code_in_a_pipe_or_under_no_color(colour_allowed, monkeypatch, stream):
    if stream.isatty():
        monkeypatch.setenv("NO_COLOR", "1")
    show(VERDICTS, stream=stream)
    out = stream.getvalue()
    assert ESCAPE not in out
    assert ["H100", "3A090.a"] in [columns(line) for line in out.splitlines()]
    assert ["- TPP 15,832 >= 4,800"] in [columns(line) for line in out.splitlines()]
    assert all(line == line.rstrip() for line in out.splitlines())   # no padding left at the ends of lines


def test_plain_output_never_wraps_a_row():
    reason = "word " * 400
    stream = io.StringIO()
    show([Table(("check", "detail"), [("LPP", reason.strip())]), Items("Why", [reason.strip()])], stream=stream)
    assert sum(reason.strip() in line for line in stream.getvalue().splitlines()) == 2


def test_text_from_input_is_shown_not_interpreted(colour_allowed):
    hostile = "[bold red]site[/bold red] \x1b[2J\x07"
    for stream in (io.StringIO(), Terminal()):
        show([Table(("site", "TPP"), [(hostile, "1")]), Items(hostile, [hostile]), hostile], stream=stream)
        out = stream.getvalue()
        assert out.count("[bold red]site[/bold red] \\x1b[2J\\x07") == 4   # the markup as text, controls visible
        assert "\x1b[2J" not in out and "\x07" not in out


def test_progress_does_nothing_off_a_terminal():
    stream = io.StringIO()
    with progress("classifying", total=10, stream=stream) as bar:
        bar.advance(3)
        bar.update(5, total=20)
        bar.describe("half way")
    assert stream.getvalue() == ""


def test_progress_draws_on_a_terminal_and_clears_itself(colour_allowed):
    stream = Terminal()
    with progress("classifying", total=10, stream=stream) as bar:
        bar.advance(4)
        bar.describe("classifying [b]x[/b]: 4 rows")
    out = stream.getvalue()
    assert "classifying [b]x[/b]: 4 rows" in out and "40%" in out
    assert "\x1b[2K" in out   # transient: the bar's line is erased at the end


# ---- the commands ----------------------------------------------------------------------------------

TEXT_COMMANDS = {
    "calc": ["calc", "--dense", "fp8=1978.9", "--die", "814:finfet"],
    "classify": ["classify", "H100 SXM", "H20", "--dest", "CN", "--as-of", "2026-02-01", "--explain"],
    "chips list": ["chips", "list", "--vendor", "NVIDIA"],
    "chips show": ["chips", "show", "H100 SXM"],
    "rules list": ["rules", "list"],
    "rules show": ["rules", "show", "2026-01-15"],
    "model": ["model", "--training-ops", "3e26", "--as-of", "2025-03-01"],
    "probe": ["probe", "--replay", str(HOSTS / "dgx-h100.json"), "--dest", "CN", "--explain"],
    "fleet report": ["fleet", "report", str(INVENTORY), "--as-of", "2025-06-01"],
}


@pytest.mark.parametrize("name", TEXT_COMMANDS)
def test_text_output_has_no_escape_codes_under_clirunner(run_cli, colour_allowed, name):
    result = run_cli(*TEXT_COMMANDS[name])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() and ESCAPE not in result.stdout and ESCAPE not in result.stderr


def test_classify_table_rows(run_cli):
    out = run_cli(*TEXT_COMMANDS["classify"]).stdout
    assert rows_of(out, "ECCN") == [["ECCN", "3A090.a (by 3A090.a.1)"], ["ECCN", "outside 3A090"]]
    # H20 to China needs a licence from 2025-04-09 (is-informed letter, NVIDIA 8-K of 2025-04-15).
    assert rows_of(out, "Licence to CN") == [["Licence to CN", "required"], ["Licence to CN", "required"]]
    assert ["3A090.a.1", "yes"] in [columns(line) for line in out.splitlines()]   # the paragraph checks


def test_chips_list_table_rows(run_cli):
    result = run_cli(*TEXT_COMMANDS["chips list"])
    header, rule, *rows = result.stdout.splitlines()
    assert columns(header) == ["id", "vendor", "TPP", "density", "name"] and set(rule) == {"─"}
    assert ["nvidia-h100-sxm5-80gb", "NVIDIA", "15,832", "19.45", "H100 SXM5 80GB"] in [columns(r) for r in rows]
    assert result.stderr == f"{len(rows)} chips\n"


def test_probe_table_has_a_row_per_device(run_cli):
    out = run_cli(*TEXT_COMMANDS["probe"]).stdout
    gpus = rows_of(out, "GPU ")
    assert len(gpus) == 8
    assert all(row[1:] == ["nvidia-h100-sxm5-80gb", "pci id", "15,832", "19.45", "3A090.a (3A090.a.1)",
                           "required to CN"] for row in gpus)
    assert rows_of(out, "Node (4A090)") == [["Node (4A090)", "4A090.a"]]
    assert "GPU 0, GPU 1, GPU 2, GPU 3, GPU 4, GPU 5, GPU 6, GPU 7: TPP at NVML's max SM clock" in out


def test_fleet_report_tables(run_cli):
    out = run_cli(*TEXT_COMMANDS["fleet report"]).stdout
    assert rows_of(out, "DE ") == [["DE", "16,211,968", "1,024.1", "1,024"]]
    assert rows_of(out, "fra-1") == [["fra-1", "16,211,968", "1,024.1", "1,024"]]
    assert ["pass", "Tier 2 allocation AE", "4,052,992", "790,000,000",
            "shipped 2025-2027; allocation from secondary sources"] in [columns(line) for line in out.splitlines()]


def test_model_and_rules_tables(run_cli):
    assert rows_of(run_cli(*TEXT_COMMANDS["model"]).stdout, "ECCN") == [["ECCN", "4E091"]]
    rules = run_cli(*TEXT_COMMANDS["rules list"]).stdout
    assert rows_of(rules, "2023-11-17 ")[0][:3] == ["2023-11-17", "2023-11-17", "edition"]
    shown = run_cli(*TEXT_COMMANDS["rules show"]).stdout
    assert rows_of(shown, "3A090.a.1") == [["3A090.a.1", "TPP >= 4,800"]]


def in_a_terminal(args: list[str], **env: str) -> str:
    """Run ``python -m tppcalc ARGS`` with its stdout and stderr on a pseudo-terminal; all it wrote."""
    master, slave = os.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color"} | env
    child = subprocess.Popen([sys.executable, "-m", "tppcalc", *args], stdin=slave, stdout=slave, stderr=slave,
                             cwd=ROOT, env=environment)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:   # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert child.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_real_terminal_gets_colour_unless_no_color_is_set():
    args = ["classify", "H100 SXM", "--dest", "CN", "--as-of", "2026-02-01"]
    coloured = in_a_terminal(args)
    assert f"{RED}3A090.a (by 3A090.a.1)" in coloured and f"{RED}required" in coloured
    plain = in_a_terminal(args, NO_COLOR="1")
    assert ESCAPE not in plain and "3A090.a (by 3A090.a.1)" in plain


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_batch_shows_a_progress_bar_on_a_terminal_and_none_in_a_pipe(tmp_path, run_cli):
    products = tmp_path / "products.csv"
    products.write_text("chip,quantity\n" + "H100 SXM,1\nH20,2\n" * 50)
    args = ["batch", str(products), "-o", str(tmp_path / "out.csv")]
    shown = in_a_terminal(args)
    assert "classifying products.csv: 100 rows" in shown and "100%" in shown
    assert "\x1b[2K" in shown and "controlled" in shown   # the bar is erased, the summary stays
    piped = run_cli(*args)
    assert piped.exit_code == 0 and "classifying" not in piped.stderr and "%" not in piped.stderr
