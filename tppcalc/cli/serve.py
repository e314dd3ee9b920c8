"""``tppcalc serve``: the HTTP service (FastAPI on uvicorn), on loopback unless told otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from tppcalc.errors import TppcalcError

# The settings travel to each uvicorn worker process through this variable (workers import the
# app factory by name and take no arguments).
SETTINGS_ENV = "TPPCALC_SERVE_SETTINGS"

# "auto": httptools and uvloop where installed (the serve extra brings them: uvicorn[standard]),
# else uvicorn's pure-Python h11 and asyncio, which answer the same, at about twice the CPU.
UVICORN_OPTIONS = {"http": "auto", "loop": "auto", "log_level": "warning", "server_header": False,
                   "access_log": False}


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; the default keeps the service on this machine.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Require 'Authorization: Bearer TOKEN' with the token in FILE (mode 600).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--max-body-bytes", default=64 * 1024 * 1024, show_default=True, type=click.IntRange(1),
              help="Largest request body.")
@click.option("--max-batch-rows", default=1_000_000, show_default=True, type=click.IntRange(1),
              help="Most rows in one /v1/batch body.")
@click.option("--time-limit", "time_limit_s", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds a request may run.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token_file: Path | None, workers: int, max_body_bytes: int,
          max_batch_rows: int, time_limit_s: float) -> None:
    """Serve the engine over HTTP: /v1/classify, /v1/batch, ..., the page at /, /openapi.json.

    \b
    Example:
      tppcalc serve --port 8080
      curl -s localhost:8080/v1/classify -H 'content-type: application/json' \\
           -d '{"chip": "H200 SXM", "dest": "CN", "as_of": "2026-02-01"}'
    """
    try:
        import uvicorn

        import tppcalc.serve.app  # noqa: F401  (fastapi)
    except ImportError as exc:
        from tppcalc.serve import SERVE_EXTRA_HINT

        raise TppcalcError(f"{SERVE_EXTRA_HINT} ({exc.name} is missing)") from None
    from tppcalc.cli.options import CatalogueChoice
    from tppcalc.serve.limits import read_token_file

    if token_file is not None:
        read_token_file(token_file)   # refuse a bad token file here, in one line, before binding
    choice = ctx.find_object(CatalogueChoice) or CatalogueChoice()
    choice.load()   # a broken --specs-dir stops the start here, in one line, not in every worker
    os.environ[SETTINGS_ENV] = json.dumps({
        "token_file": None if token_file is None else str(token_file),
        "specs_dirs": [str(p) for p in choice.specs_dirs], "override_specs": choice.override,
        "max_body_bytes": max_body_bytes, "max_batch_rows": max_batch_rows, "time_limit_s": time_limit_s})
    uvicorn.run("tppcalc.serve.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                **UVICORN_OPTIONS)
