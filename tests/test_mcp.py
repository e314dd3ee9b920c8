"""``tppcalc mcp`` driven by the official SDK's own client over stdio: list the tools, call
classify, get the CLI's document; a bad argument comes back as a tool error naming the field."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _error_flag(result) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def _structured(result) -> dict:
    structured = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    if structured is not None:
        return structured
    return json.loads(result.content[0].text)


async def _session_run():
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "tppcalc", "mcp"], cwd=str(ROOT), env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        answer = await session.call_tool("classify", {"chip": "H200 SXM", "dest": "CN", "as_of": "2026-02-01"})
        refused = await session.call_tool("classify", {"chip": "H200 SXM", "dest": "Atlantis"})
        return tools, answer, refused


def test_mcp_tools_answer_with_the_cli_document():
    tools, answer, refused = asyncio.run(asyncio.wait_for(_session_run(), 120))
    assert {t.name for t in tools.tools} >= {"classify", "calc", "chips", "chip", "model_weights", "rules"}
    assert not _error_flag(answer)
    document = _structured(answer)
    document.pop("digests")
    cli = subprocess.run([sys.executable, "-m", "tppcalc", "classify", "H200 SXM", "--dest", "CN", "--as-of",
                          "2026-02-01", "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert document == json.loads(cli.stdout)
    assert _error_flag(refused)
    assert "dest" in refused.content[0].text and "Atlantis" in refused.content[0].text
