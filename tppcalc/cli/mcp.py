"""``tppcalc mcp``: the engine as Model Context Protocol tools, over stdio."""

from __future__ import annotations

import click

from tppcalc.errors import TppcalcError


@click.command()
def mcp() -> None:
    """Run an MCP server on stdin/stdout whose tools classify chips with the exact engine.

    \b
    Register it with an MCP client as the command `tppcalc mcp` (see README).
    """
    try:
        import mcp as _sdk  # noqa: F401

        from tppcalc.serve.mcp_tools import run_stdio
    except ImportError as exc:
        from tppcalc.serve import SERVE_EXTRA_HINT

        raise TppcalcError(f"{SERVE_EXTRA_HINT} ({exc.name} is missing)") from None
    run_stdio()
