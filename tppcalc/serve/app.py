"""The HTTP service: the library's operations as versioned JSON endpoints, on FastAPI.

Every answer is the document ``tppcalc ... --json`` prints (``tppcalc.render.documents``), plus
``digests``: the SHA-256 of the catalogue and rule data that produced it. Every failure is an
RFC 9457 problem document naming the field that was wrong: 422 for bad input, 413 for a body or
batch over the limits, 401 without the token, 503 past the time limit. Nothing in a request
names a file or a path on the server; CORS is off (no CORS middleware: browsers on other origins
cannot read the answers).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Annotated, Literal

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tppcalc._version import __version__
from tppcalc.errors import TppcalcError
from tppcalc.serve.limits import (
    PROBLEM_TYPE,
    BearerTokenMiddleware,
    BodyTooLarge,
    Limits,
    LimitsMiddleware,
    problem_body,
)
from tppcalc.serve.operations import NotInCatalogue, Service, rule_arguments
from tppcalc.serve.remembered import RememberedClassify

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
BATCH_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}
OUTPUT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@dataclass(frozen=True)
class Settings:
    limits: Limits = field(default_factory=Limits)
    token: str | None = None
    specs_dirs: tuple[str, ...] = ()
    override_specs: bool = False


# ---- request bodies ------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


Text = Annotated[str, Field(min_length=1, max_length=100)]


class Figures(_Strict):
    """A chip's figures, written as the CLI flags take them (strings, read exactly)."""

    dense: list[Annotated[str, Field(max_length=100)]] = Field(
        min_length=1, max_length=32, description='Dense throughputs, "PREC=VALUE" in TFLOPS/TOPS (e.g. "fp8=1978.9").')
    dies: list[Annotated[str, Field(max_length=100)]] = Field(
        default=[], max_length=32, description='Logic dies, "AREA_MM2:ARCH" (e.g. "814:finfet").')
    datacenter: bool | None = Field(default=None, description="Designed or marketed for datacenters (null: unknown).")
    io_gbps: Annotated[str, Field(max_length=100)] | None = Field(default=None,
                                                                  description="Bidirectional I/O rate, GB/s.")
    dram_gbps: Annotated[str, Field(max_length=100)] | None = Field(default=None, description="DRAM bandwidth, GB/s.")


class ChipRequest(_Strict):
    chip: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description='A catalogue query (id, name, alias or PCI id), e.g. "H200 SXM".')
    figures: Figures | None = Field(default=None, description="The chip's figures, instead of a catalogue query.")


class ClassifyRequest(ChipRequest):
    chip: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description='A catalogue query (id, name, alias or PCI id), e.g. "H200 SXM"; with item '
                                  '"computer" also a cloud instance type ("p5.48xlarge") or a superchip, as the CLI reads it.')
    dest: Text | None = Field(default=None, description="Destination: ISO 3166-1 code or exact country name.")
    hq: Text | None = Field(default=None, description="End user's headquarters (default: the destination).")
    as_of: Annotated[str, Field(pattern=ISO_DATE)] | None = Field(
        default=None, description="The rules in force on this ISO date (default: today).")
    edition: Text | None = Field(default=None, description="A rule edition id (GET /v1/rules).")
    item: Literal["ic", "computer"] = Field(default="ic",
                                           description="The IC (3A090) or a computer holding it (4A090).")
    as_written: bool = Field(default=False, description="Apply the text even where BIS does not enforce it.")


Amount = Annotated[str, Field(min_length=1, max_length=100)]


class ModelRequest(_Strict):
    training_ops: Amount | None = Field(default=None, description='Total training operations, e.g. "3e26".')
    params: Amount | None = Field(default=None, description="Parameter count (with tokens: operations = 6 P D).")
    tokens: Amount | None = Field(default=None, description="Training tokens.")
    published: bool = False
    derived_from_published_ops: Amount | None = None
    as_of: Annotated[str, Field(pattern=ISO_DATE)] | None = None


# ---- the app -------------------------------------------------------------------------------------

async def offload(function, *args, **kwargs):
    """Run the engine in a worker thread that the time limit can walk away from (the thread
    finishes on its own; its answer is dropped)."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), abandon_on_cancel=True)


def _json(document: dict) -> Response:
    return Response(json.dumps(document).encode(), media_type="application/json")


def _problem(status: int, title: str, detail: str, headers: dict | None = None, **extra) -> Response:
    return Response(problem_body(status, title, detail, **extra), status_code=status, media_type=PROBLEM_TYPE,
                    headers=headers)


def _location(loc) -> str | None:
    # The first element says where (body, query, path); the rest is the field inside it.
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 and loc[0] in ("body", "query", "path", "header") else \
        [str(p) for p in loc]
    return ".".join(parts) or None


def create_app(settings: Settings | None = None, service: Service | None = None) -> ServiceApp:
    """The service as an ASGI application: the FastAPI app inside the limits (and the token)."""
    settings = settings or Settings()
    if service is None:
        service = Service(_catalogue_loader(settings))
    limits = settings.limits
    app = FastAPI(title="tppcalc", version=__version__, docs_url=None, redoc_url=None,
                  description="US export-control metrics (TPP, performance density) and ECCN 3A090/4A090 "
                              "classification of AI chips. Answers are the documents of `tppcalc ... --json`, "
                              "with the SHA-256 digests of the catalogue and rule data that produced them.")
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        loc = tuple(first.get("loc", ()))
        if first.get("type") == "json_invalid":   # its loc is (body, character offset): the body is the field
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            return _problem(422, "Unprocessable Content", f"the body is not valid JSON{where}", field="body")
        return _problem(422, "Unprocessable Content", str(first.get("msg")), field=_location(loc))

    @app.exception_handler(TppcalcError)
    async def domain_error(request: Request, exc: TppcalcError):
        if isinstance(exc, NotInCatalogue) and request.url.path.startswith("/v1/chips/"):
            return _problem(404, "Not Found", str(exc.problem), field=exc.field)
        return _problem(422, "Unprocessable Content", str(getattr(exc, "problem", exc)),
                        field=getattr(exc, "field", None), where=getattr(exc, "where", None))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if isinstance(exc, (BodyTooLarge, TooManyRows)):
            return _problem(413, "Content Too Large", str(exc.detail), field="body")
        if exc.status_code == 400:   # a body FastAPI could not read is bad input like any other
            return _problem(422, "Unprocessable Content", str(exc.detail), field="body")
        title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
        return _problem(exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # a bug: say so, show nothing of the internals
        return _problem(500, "Internal Server Error", "an unexpected error; nothing was decided")

    @app.get("/v1/health", summary="The service is up; the version and the data digests")
    async def health():
        return _json(await offload(service.health))

    @app.get("/v1/chips", summary="Every catalogue chip with its TPP and performance density")
    async def chips(vendor: Annotated[str | None, Query(min_length=1, max_length=100)] = None):
        return _json(await offload(service.chips, vendor))

    @app.get("/v1/chips/{query}", summary="One catalogue chip: its spec and metrics (tppcalc chips show --json)")
    async def chip(query: Annotated[str, Field(min_length=1, max_length=200)]):
        return _json(await offload(service.chip, query))

    @app.post("/v1/calc", summary="A chip's metrics (tppcalc calc --json)")
    async def calc(request: ChipRequest):
        figures = None if request.figures is None else request.figures.model_dump()
        return _json(await offload(service.calc, chip=request.chip, figures=figures))

    @app.post("/v1/classify", summary="ECCN, licence, exceptions and review policy (tppcalc classify --json)")
    async def classify(request: ClassifyRequest):
        figures = None if request.figures is None else request.figures.model_dump()
        arguments = dict(chip=request.chip, figures=figures, dest=request.dest, hq=request.hq, as_of=request.as_of,
                         edition=request.edition, item=request.item, as_written=request.as_written)
        # A request answered before is answered here, without a trip to a worker thread; so is a
        # catalogue chip (a quarter of a millisecond, bounded: the trip cost as much again).
        # Figures are read in a worker thread, which the time limit can walk away from.
        answer = service.remembered_classify(**arguments) or (
            service.classify_json(**arguments) if figures is None else
            await offload(service.classify_json, **arguments))
        return Response(answer, media_type="application/json")

    @app.post("/v1/model", summary="ECCN 4E091 for AI model weights (tppcalc model --json)")
    async def model(request: ModelRequest):
        return _json(await offload(service.model, **request.model_dump()))

    @app.get("/v1/rules", summary="The rule editions with their dates and status today (tppcalc rules list --json)")
    async def rules():
        return _json(await offload(service.rules))

    @app.post("/v1/batch", summary="Every row of a CSV or JSON Lines body classified (tppcalc batch)",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "text/csv": {"schema": {"type": "string"}},
                  "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def batch(request: Request,
                    dest: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
                    hq: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
                    as_of: Annotated[str | None, Query(pattern=ISO_DATE)] = None,
                    edition: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
                    as_written: bool = False):
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        input_format = BATCH_TYPES.get(media)
        if input_format is None:
            return _problem(415, "Unsupported Media Type", "send text/csv or application/x-ndjson",
                            field="content-type")
        rules = rule_arguments(dest=dest, hq=hq, as_of=as_of, edition=edition, as_written=as_written)
        return await _stream_batch(request, input_format, rules, service, limits.max_batch_rows)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def page(request: Request):
        from tppcalc.serve.page import render_page

        status, text = await offload(render_page, service, request.query_params)
        return HTMLResponse(text, status_code=status, headers={"Content-Security-Policy": PAGE_CSP})

    app.openapi = lambda: _openapi(app)
    wrapped = LimitsMiddleware(RememberedClassify(app), limits)
    if settings.token is not None:
        wrapped = BearerTokenMiddleware(wrapped, settings.token)
    return ServiceApp(app, wrapped)


PAGE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"


class ServiceApp:
    """The ASGI application: the middleware stack, with the FastAPI app as ``.app`` (its state,
    its routes, its OpenAPI document)."""

    def __init__(self, app: FastAPI, stack):
        self.app = app
        self.stack = stack

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        return await self.stack(scope, receive, send)

    def openapi(self) -> dict:
        return self.app.openapi()


def _catalogue_loader(settings: Settings):
    """The catalogue the operator chose when starting the service (never one a request names)."""
    from pathlib import Path

    from tppcalc.data.catalogue import Catalogue, default_catalogue, user_spec_dirs

    if not settings.specs_dirs and not settings.override_specs:
        return default_catalogue
    dirs = user_spec_dirs(tuple(Path(p) for p in settings.specs_dirs))
    return lambda: Catalogue.load(user_dirs=dirs, allow_override=settings.override_specs)


class _Sink:
    """A binary file for the batch writer whose writes go to the event loop as they happen. At
    most ``in_flight`` pieces wait for the socket: a client that reads slowly holds the engine
    back instead of making the server hold the whole answer (855 bytes a row: 800 MB for
    300,000 rows read at 5 MB/s). Once the answer is over (the client gone, the time limit), a
    write raises: the engine stops instead of classifying for no one."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, in_flight: int = 2):
        self.loop, self.queue = loop, queue
        self.closed = False
        self._room = threading.Semaphore(in_flight)

    def write(self, data) -> int:
        if not data:
            return 0
        while not self._room.acquire(timeout=0.25):
            if self.closed:
                break
        if self.closed:
            raise ConnectionAbortedError("the answer is over: the client went away or the time ran out")
        self.loop.call_soon_threadsafe(self.queue.put_nowait, bytes(data))
        return len(data)

    def taken(self) -> None:
        """A piece has gone to the socket: room for the next one (called on the event loop)."""
        self._room.release()

    def close(self) -> None:
        self.closed = True
        self._room.release()   # a writer waiting for room wakes and stops

    def flush(self) -> None:
        pass


_DONE = object()
_GONE = object()   # the client left after sending its body


class _BodyPipe(io.RawIOBase):
    """The request body as a file for the batch reader (in its thread), fed by the event loop as
    the body arrives; an exception fed in is raised in the reader."""

    def __init__(self):
        super().__init__()
        self._pieces: queue.SimpleQueue = queue.SimpleQueue()
        self._rest = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def feed(self, piece) -> None:
        self._pieces.put(piece)

    def readinto(self, buffer) -> int:
        while not self._rest:
            if self._ended:
                return 0
            piece = self._pieces.get()
            if piece is _DONE:
                self._ended = True
                return 0
            if isinstance(piece, BaseException):
                self._ended = True
                raise piece
            self._rest = memoryview(piece)
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def _hand_over(loop: asyncio.AbstractEventLoop, answers: asyncio.Queue, item) -> None:
    """Give the event loop the engine's last word, unless the loop has closed (the server
    stopped while the engine ran on for a client that had gone): no one is left to tell."""
    try:
        loop.call_soon_threadsafe(answers.put_nowait, item)
    except RuntimeError:
        if not loop.is_closed():
            raise


class TooManyRows(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"a batch is limited to {limit} rows")


class _BatchResponse(StreamingResponse):
    """A streamed answer that never calls ``receive``: ``_feed`` is the request's only reader.
    (Starlette's own, under ASGI 2.3 as uvicorn speaks it, listens for the client leaving by
    calling ``receive`` beside the body's reader, and every piece of the body it takes is lost to
    the engine: rows vanished or ran together while a large body was still arriving.)"""

    async def __call__(self, scope, receive, send):
        await self.stream_response(send)


async def _feed(request: Request, pipe: _BodyPipe, input_format: str, max_rows: int,
                client_gone=lambda: None) -> None:
    """Stream the body into the pipe, counting lines: they bound rows from above (a quoted CSV
    field may hold a newline), so no more rows than the limit ever reach the engine. Then wait
    for the client to leave, and say so through ``client_gone``."""
    header = 1 if input_format == "csv" else 0
    lines, last = 0, b"\n"
    try:
        async for piece in request.stream():
            if not piece:
                continue
            lines += piece.count(b"\n")
            last = piece[-1:]
            if lines - header > max_rows:
                raise TooManyRows(max_rows)
            pipe.feed(piece)
        if lines + (last != b"\n") - header > max_rows:
            raise TooManyRows(max_rows)
        pipe.feed(_DONE)
    except BaseException as exc:   # too large, too many rows, the client gone: the reader stops on it
        pipe.feed(exc)
        if not isinstance(exc, Exception):
            raise
        return
    while (await request.receive())["type"] != "http.disconnect":
        pass
    client_gone()


async def _stream_batch(request: Request, input_format: str, rules: dict, service: Service, max_rows: int):
    """Classify in a thread while the body streams in; answer with a problem if the body as a
    whole is refused before any row is out, else stream the rows out as the writer produces them."""
    from tppcalc.batch import classify_file

    loop = asyncio.get_running_loop()
    answers: asyncio.Queue = asyncio.Queue()
    pipe = _BodyPipe()

    sink = _Sink(loop, answers)

    def work():
        try:
            classify_file(io.BufferedReader(pipe, 1 << 20), sink, input_format=input_format,
                          where="body", catalogue=lambda: service.catalogue, **rules)
            _hand_over(loop, answers, _DONE)
        except BaseException as exc:  # handed to the event loop, which raises it there
            _hand_over(loop, answers, exc)

    def client_gone():
        sink.close()
        answers.put_nowait(_GONE)

    feeding = asyncio.ensure_future(_feed(request, pipe, input_format, max_rows, client_gone))
    threading.Thread(target=work, name="tppcalc-batch", daemon=True).start()
    try:
        first = await answers.get()
    except BaseException:   # the time limit: no answer will take the engine's writes
        sink.close()
        raise
    if first is _GONE:   # no one to answer: a bare status that the server drops
        return Response(status_code=400)
    if isinstance(first, BaseException):
        feeding.cancel()
        pipe.feed(_DONE)
        raise first

    async def rest():
        item = first
        try:
            while item is not _DONE and item is not _GONE:   # gone: no one is left to see the end
                if isinstance(item, BaseException):
                    raise item   # the transfer breaks off: a client never takes a cut file for a whole one
                yield item
                sink.taken()
                item = await answers.get()
        finally:
            sink.close()
            feeding.cancel()

    return _BatchResponse(rest(), media_type=OUTPUT_TYPES[input_format],
                             headers={"X-Digest-Catalogue": service.digests.catalogue,
                                      "X-Digest-Rule-Data": service.digests.rule_data})


def _openapi(app: FastAPI) -> dict:
    if app.openapi_schema is None:
        from tppcalc.serve.schema import document_openapi

        app.openapi_schema = document_openapi(app)
    return app.openapi_schema


def app_from_environment():
    """The app ``tppcalc serve`` starts in each worker, from the settings it left in the environment."""
    import os

    from tppcalc.cli.serve import SETTINGS_ENV
    from tppcalc.serve.limits import read_token_file

    given = json.loads(os.environ.get(SETTINGS_ENV, "{}"))
    limits = Limits(**{k: given[k] for k in ("max_body_bytes", "max_batch_rows", "time_limit_s") if k in given})
    token = None if given.get("token_file") is None else read_token_file(given["token_file"])
    app = create_app(Settings(limits=limits, token=token, specs_dirs=tuple(given.get("specs_dirs", ())),
                              override_specs=bool(given.get("override_specs", False))))
    app.app.state.service.warm()
    return app
