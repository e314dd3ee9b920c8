"""``tppcalc serve`` and ``tppcalc mcp`` on the command line: lazily loaded, one line without the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "mcp", "httpx")


def test_other_commands_never_import_the_web_stack():
    code = ("import sys\nfrom tppcalc.cli.main import main\nmain(['--help'])\n"
            "main(['classify', 'H100 SXM', '--dest', 'CN', '--json'])\n"
            f"print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "serve" in done.stdout and "mcp" in done.stdout
    assert done.stderr.strip() == ""


@pytest.mark.parametrize(("command", "blocked"), [("serve", "fastapi"), ("serve", "uvicorn"), ("mcp", "mcp")])
def test_without_the_extra_one_line_names_it(command, blocked):
    # A None entry in sys.modules makes that import fail as if the package were not installed.
    code = (f"import sys\nsys.modules[{blocked!r}] = None\nfrom tppcalc.cli.main import main\n"
            f"sys.exit(main([{command!r}]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "pip install 'tppcalc[serve]'" in done.stderr


def test_the_operations_import_no_web_framework():
    """What HTTP and MCP share is plain Python: a library user can call it without the extra."""
    code = (f"import sys, tppcalc.serve.operations\n"
            f"print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(("blocked", "protocol", "loop"), [
    ((), "HttpToolsProtocol", "uvloop"),
    (("httptools", "uvloop"), "H11Protocol", "asyncio"),
])
def test_serve_takes_httptools_and_uvloop_when_installed_else_h11(blocked, protocol, loop):
    pytest.importorskip("httptools")
    pytest.importorskip("uvloop")
    code = (f"import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None\n"
            "import uvicorn\nfrom tppcalc.cli.serve import UVICORN_OPTIONS\n"
            "config = uvicorn.Config('tppcalc.serve.app:app_from_environment', factory=True, **UVICORN_OPTIONS)\n"
            "config.load()\nloop = config.get_loop_factory()()\n"
            "print(config.http_protocol_class.__name__, type(loop).__module__.split('.')[0])\nloop.close()")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [protocol, loop]
