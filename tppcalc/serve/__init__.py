"""The engine as a service: HTTP endpoints (``tppcalc serve``) and MCP tools (``tppcalc mcp``).

``operations`` holds what both offer, over plain data and without a web framework; ``app`` is the
FastAPI application, ``limits`` its body, row, time and token limits, ``schema`` its OpenAPI
document, ``page`` the web page at ``/``, and ``mcp_tools`` the MCP server. FastAPI, uvicorn and
mcp come with the ``serve`` extra: ``pip install 'tppcalc[serve]'``.
"""

SERVE_EXTRA_HINT = "the service needs the serve extra: pip install 'tppcalc[serve]'"
