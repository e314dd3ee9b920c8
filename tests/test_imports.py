"""Importing tppcalc (or running the calc path) touches no hardware library, no JIT, and no rich: the
terminal library is loaded only to draw text for a person."""

import subprocess
import sys

import pytest

HEAVY = ("numba", "pynvml", "numpy", "llvmlite", "rich")
MODULES = ["tppcalc", "tppcalc.cli.main", "tppcalc.core.metrics", "tppcalc.data.spec", "tppcalc.render.report", "tppcalc.render.terminal"]


@pytest.mark.parametrize("module", MODULES)
def test_fresh_import_loads_no_heavy_library(module):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# Printing JSON is the start-up path programs pay for on every call: no rich (about 30 ms), no JIT,
# no hardware library. Text for a person may load rich; the last case proves the check can see it.
COMMANDS = [
    (["calc", "--dense", "fp8=1978.9", "--die", "814:finfet", "--json"], ()),
    (["classify", "H100 SXM", "--dest", "CN", "--json"], ()),
    (["calc", "--dense", "fp8=1978.9", "--die", "814:finfet"], ("rich",)),
]


@pytest.mark.parametrize(("args", "expected"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_json_commands_load_neither_rich_nor_a_heavy_library(args, expected):
    code = (f"import sys\nfrom tppcalc.cli.main import main\ncode = main({args!r})\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\nsys.exit(code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip()   # the command printed its result
    assert out.stderr.strip() == ",".join(expected)


def test_a_command_imports_no_other_command_module():
    code = ("import sys; from tppcalc.cli.main import main; main(['calc', '--dense', 'int8=600', '--json']); "
            "print(','.join(sorted(m for m in sys.modules if m.startswith('tppcalc.cli.'))), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "tppcalc.cli.calc,tppcalc.cli.main,tppcalc.cli.options"


def test_help_lists_every_lazy_command_with_its_own_name(run_cli):
    import click

    from tppcalc.cli.main import COMMANDS as LAZY_COMMANDS
    from tppcalc.cli.main import cli

    result = run_cli("--help")
    assert result.exit_code == 0
    listed = result.stdout.split("Commands:")[1].split()
    for name in LAZY_COMMANDS:
        assert name in listed
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.name == name


def test_importing_the_models_builds_no_validator():
    """A pydantic validator is built on a model's first use, never at import: the first one costs
    its schema and pydantic's plugin loader (importlib.metadata, ~20 ms). A parametrised generic
    model (``Sourced[T]``) would build one at import."""
    modules = "tppcalc.data.spec, tppcalc.core.metrics, tppcalc.decisions.classification, tppcalc.data.catalogue, tppcalc.batch.engine"
    code = f"import sys, {modules}; print('pydantic.plugin._loader' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("args", [a for a, _ in COMMANDS[:2]], ids=[" ".join(a) for a, _ in COMMANDS[:2]])
def test_json_commands_build_no_validator(args):
    """``calc`` assembles its flags' ChipSpec without validating it again, and ``classify`` reads the
    catalogue and the rules from the validated cache (the first run fills it): neither builds a
    pydantic validator, so neither imports pydantic's plugin loader."""
    code = (f"import sys\nfrom tppcalc.cli.main import main\ncode = main({args!r})\n"
            "print('pydantic.plugin._loader' in sys.modules, file=sys.stderr)\nsys.exit(code)")
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "False"
