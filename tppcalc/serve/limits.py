"""What a request may cost, and who may send one: body size, batch rows, time, bearer token.

Plain ASGI middleware, so that each limit holds for every route, the ones
added later included, and answers in the same RFC 9457 problem document as the rest of the API.
"""

from __future__ import annotations

import hmac
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.exceptions import HTTPException

from tppcalc.errors import InputError

PROBLEM_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 64 * 1024 * 1024   # a batch body; JSON requests are far smaller
    max_batch_rows: int = 1_000_000
    time_limit_s: float = 60.0


def problem_body(status: int, title: str, detail: str, *, field: str | None = None,
                 where: str | None = None) -> bytes:
    """An RFC 9457 problem document; ``field`` and ``where`` are extension members naming what
    was wrong (as ``InputError`` names them)."""
    document = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if field is not None:
        document["field"] = field
    if where is not None:
        document["where"] = where
    return json.dumps(document).encode()


async def send_problem(send, status: int, title: str, detail: str, headers: tuple = (), **extra) -> None:
    body = problem_body(status, title, detail, **extra)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body outgrows the limit. An HTTPException, because FastAPI
    lets those out of its body reading as they are (anything else there becomes a 400)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the body is limited to {limit} bytes")
        self.limit = limit


class LimitsMiddleware:
    """Refuses bodies over ``max_body_bytes`` (by Content-Length at once, else as they stream in)
    and answers 503 when a request runs past ``time_limit_s`` before its response began; a
    response already streaming is cut off (the client sees a broken transfer, never a partial
    answer presented as whole)."""

    def __init__(self, app, limits: Limits):
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    return await send_problem(send, 413, "Content Too Large",
                                              f"the body is limited to {limit} bytes", field="body")
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # anyio's cancel scope, not asyncio.wait_for: Starlette runs on anyio task groups, which
        # turn a bare asyncio cancellation into a CancelledError that escapes as a crash.
        with anyio.move_on_after(self.limits.time_limit_s) as deadline:
            await self.app(scope, counted_receive, watched_send)
        if deadline.cancelled_caught:
            if started:
                return   # the streamed answer is cut off: the client sees a broken transfer
            await send_problem(send, 503, "Time Limit", f"the request ran past {self.limits.time_limit_s:g} s",
                               headers=((b"retry-after", b"1"),))


class BearerTokenMiddleware:
    """With a token configured, every route but ``open_paths`` needs ``Authorization: Bearer
    TOKEN``; compared in constant time."""

    def __init__(self, app, token: str, open_paths: frozenset[str] = frozenset({"/v1/health"})):
        self.app = app
        self.expected = token.encode()
        self.open_paths = open_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            return await self.app(scope, receive, send)
        given = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = credentials.strip()
        if not hmac.compare_digest(given, self.expected):
            return await send_problem(send, 401, "Unauthorized", "a valid bearer token is required",
                                      headers=((b"www-authenticate", b'Bearer realm="tppcalc"'),),
                                      field="authorization")
        return await self.app(scope, receive, send)


def read_token_file(path: str | Path) -> str:
    """The bearer token in ``path``: one line, at least 16 characters, in a file that other users
    can neither read nor write (refused otherwise: a token anyone can read protects nothing)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read(4097)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), where=str(path)) from None
    if os.name == "posix" and mode & (stat.S_IROTH | stat.S_IWOTH):
        raise InputError("the token file is readable or writable by other users; chmod 600 it", where=str(path))
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InputError("the token must be printable ASCII", where=str(path)) from None
    if len(data) > 4096 or "\n" in token or not token.isprintable() or " " in token:
        raise InputError("the token file must hold one token of printable ASCII without spaces", where=str(path))
    if len(token) < 16:
        raise InputError(f"the token must be at least 16 characters, got {len(token)}", where=str(path))
    return token
