"""Every command that prints results has ``--json``, and what it prints parses."""

import json
from pathlib import Path

import click
import pytest

from tppcalc.cli.main import cli

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
INVENTORY = Path(__file__).parent / "fixtures" / "fleet" / "four-countries.toml"

# Commands whose result is not printed, and how a program reads what they did instead.
WITHOUT_JSON = {
    "batch": "--json-summary: stdout carries the classified rows in the chosen format, the summary goes to stderr",
    "probe record": "writes the raw dump to -o; the dump is JSON",
    "serve": "runs the HTTP service; every answer it gives is a JSON document",
    "mcp": "runs the MCP server on stdio; every tool answer is a JSON document",
}


def commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    """Every command, by its full name (``fleet report``); a group that runs by itself counts too."""
    found = {}
    context = click.Context(group)
    for name in group.list_commands(context):  # not group.commands: the top group imports lazily
        command = group.get_command(context, name)
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.update(commands(command, full + " "))
            if not command.invoke_without_command:
                continue
        found[full] = command
    return found


def test_every_command_that_prints_results_has_json():
    names = commands()
    assert {"calc", "classify", "chips list", "chips show", "rules list", "rules show", "model", "probe",
            "probe record", "fleet report", "fleet probe", "batch", "bench", "chart"} <= set(names)
    for name, command in names.items():
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        if name in WITHOUT_JSON:
            assert "--json" not in options
            continue
        assert "--json" in options, f"tppcalc {name} has no --json"
        help_text = next(p.help for p in command.params if "--json" in getattr(p, "opts", []))
        assert help_text, f"tppcalc {name} --json has no help"


JSON_COMMANDS = {
    "calc": (["calc", "--dense", "fp8=1978.9", "--die", "814:finfet", "--json"], lambda o: o["tpp"] == 15831.2),
    "classify": (["classify", "H100 SXM", "--dest", "CN", "--json"], lambda o: o["eccn"] == "3A090.a"),
    "classify several": (["classify", "H100 SXM", "H20", "--json"], lambda o: [c["chip_id"] for c in o] ==
                         ["nvidia-h100-sxm5-80gb", "nvidia-h20"]),
    "chips list": (["chips", "list", "--json"], lambda o: any(c["id"] == "nvidia-h20" for c in o)),
    "chips show": (["chips", "show", "H20", "--json"], lambda o: o["metrics"]["tpp"] == 2368),
    "rules list": (["rules", "list", "--json"], lambda o: o["editions"][0]["id"] == "2022-10-07"),
    "rules show": (["rules", "show", "2026-01-15", "--json"], lambda o: o["id"] == "2026-01-15"),
    "model": (["model", "--training-ops", "3e26", "--json"], lambda o: o["eccn"] == "4E091"),
    "probe": (["probe", "--replay", str(HOSTS / "h20.json"), "--json"], lambda o: len(o["gpus"]) >= 1),
    "fleet report": (["fleet", "report", str(INVENTORY), "--as-of", "2025-06-01", "--json"],
                     lambda o: set(o["totals_by_country"]) == {"AE", "DE", "IN", "US"}),
    "chart": (["chart", "H20", "--json", "-o", "{tmp}/chart.svg"],
              lambda o: o["chips"][0]["id"] == "nvidia-h20" and o["chips"][0]["place"] == "plot"),
}


@pytest.mark.parametrize("name", JSON_COMMANDS)
def test_json_parses(run_cli, tmp_path, name):
    args, check = JSON_COMMANDS[name]
    result = run_cli(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.exit_code == 0, result.stderr
    assert check(json.loads(result.stdout))


def test_batch_json_summary_parses(run_cli, tmp_path):
    products = tmp_path / "products.csv"
    products.write_text("chip,quantity\nH100 SXM,2\nH20,1\n")
    result = run_cli("batch", str(products), "--json-summary", "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(result.stderr)["rows"] == 2
