"""``tppcalc mcp``: the service's operations as tools of a Model Context Protocol server (stdio).

An assistant asked "is this chip controlled for X?" calls the exact engine instead of guessing:
each tool returns the same document as ``tppcalc ... --json`` (``tppcalc.serve.operations``), and
a bad argument comes back as a tool error naming the field, never as an answer.
"""

from __future__ import annotations

from typing import Any

from tppcalc.errors import TppcalcError
from tppcalc.serve.operations import Service

INSTRUCTIONS = (
    "Exact US export-control metrics (TPP, performance density) and ECCN 3A090/4A090 classification of AI "
    "chips. Use these tools instead of computing TPP yourself: datasheet figures are often sparse (twice the "
    "dense rate) or quoted at the wrong bit length. Dates are ISO (YYYY-MM-DD); countries ISO 3166-1 codes.")


def _sdk():
    """The server class and the error a tool raises on purpose, in mcp 2 or mcp 1."""
    try:   # mcp 2: FastMCP became MCPServer
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
        return MCPServer, ToolError
    except ImportError:
        from mcp.server.fastmcp import FastMCP
        from mcp.server.fastmcp.exceptions import ToolError
        return FastMCP, ToolError


def build_server(service: Service | None = None):
    service = service or Service()
    server_class, tool_error = _sdk()
    server = server_class(name="tppcalc", instructions=INSTRUCTIONS, log_level="WARNING")

    def answer(operation, **arguments) -> dict[str, Any]:
        # A bad argument is the caller's to fix: its one-line message, naming the field, goes back
        # as the tool's error (any other exception stays a crash, logged on the server).
        try:
            return operation(**arguments)
        except TppcalcError as exc:
            raise tool_error(str(exc)) from None

    @server.tool()
    def classify(chip: str | None = None, figures: dict[str, Any] | None = None, dest: str | None = None,
                 hq: str | None = None, as_of: str | None = None, edition: str | None = None, item: str = "ic",
                 as_written: bool = False) -> dict[str, Any]:
        """ECCN (3A090/4A090), licence requirement, exceptions and review policy of a chip for a
        destination (ISO code) on a date. Give `chip` (a catalogue name such as "H200 SXM") or
        `figures` ({"dense": ["fp8=1978.9"], "dies": ["814:finfet"], "datacenter": true}); dense
        figures only, never sparse. The answer is `tppcalc classify --json` plus data digests."""
        return answer(service.classify, chip=chip, figures=figures, dest=dest, hq=hq, as_of=as_of, edition=edition,
                                item=item, as_written=as_written)

    @server.tool()
    def calc(chip: str | None = None, figures: dict[str, Any] | None = None) -> dict[str, Any]:
        """TPP, performance density and the other 3A090 metrics of a catalogue chip or of figures
        (as for classify). The answer is `tppcalc calc --json` plus data digests."""
        return answer(service.calc, chip=chip, figures=figures)

    @server.tool()
    def chips(vendor: str | None = None) -> dict[str, Any]:
        """Every chip in the catalogue (optionally one vendor's) with its TPP and performance density."""
        return answer(service.chips, vendor=vendor)

    @server.tool()
    def chip(query: str) -> dict[str, Any]:
        """One catalogue chip by id, name, alias or PCI id: its datasheet figures, sources and metrics."""
        return answer(service.chip, query=query)

    @server.tool()
    def model_weights(training_ops: str | None = None, params: str | None = None, tokens: str | None = None,
                      published: bool = False, derived_from_published_ops: str | None = None,
                      as_of: str | None = None) -> dict[str, Any]:
        """Whether AI model weights are ECCN 4E091 (training operations as a decimal string such as
        "3e26", or params with tokens), and whether that control is enforced on the date."""
        return answer(service.model, training_ops=training_ops, params=params, tokens=tokens, published=published,
                             derived_from_published_ops=derived_from_published_ops, as_of=as_of)

    @server.tool()
    def rules() -> dict[str, Any]:
        """The rule editions tppcalc knows, with effective dates and their status today."""
        return answer(service.rules)

    return server


def run_stdio() -> None:
    build_server().run("stdio")
