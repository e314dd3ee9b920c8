"""Issue 17 item 5: no function over about 60 lines without a reason, in the modules split by facet
(the HTML report, GPU measurement, the chart, the batch command). A long function here is a step
that wants its own name; list a reason beside it in REASONS to keep one."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tppcalc"
MODULES = ["render/html_report", "measure/gpu", "render/chart.py", "cli/batch.py"]
LIMIT = 60
REASONS: dict[str, str] = {}   # "module.py:function": why it stays long


def _files():
    for name in MODULES:
        path = PACKAGE / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


@pytest.mark.parametrize("path", list(_files()), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_function_runs_past_the_limit(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > LIMIT
            and f"{path.relative_to(PACKAGE).as_posix()}:{node.name}" not in REASONS]
    assert not long, f"split into named steps: {', '.join(long)}"
