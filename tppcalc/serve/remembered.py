"""Classify answers remembered by the exact request bytes, answered before FastAPI is reached.

A repeated ``POST /v1/classify`` (a client polling its fleet's chips) spent nine tenths of its
CPU in FastAPI routing, dependency solving and validation, to reach an answer the service had
already given. The same body, query string and day (what an omitted ``as_of`` means) always give
the same answer, since the catalogue and the rules are fixed for the life of the service; so the
answer FastAPI gave is remembered under those bytes and sent again as it was, headers included.
Only answers FastAPI itself gave are remembered, and only whole 200 answers to small JSON
bodies: a refusal is worked out again each time, and anything unusual (another content type, a
body without a length, a streamed answer) goes to FastAPI as before.
"""

from __future__ import annotations

import datetime as dt

from tppcalc.serve.operations import AnswerCache

PATH = "/v1/classify"
MAX_BODY_BYTES = 4096   # a classify body is a few hundred bytes; bigger ones are not remembered
JSON = b"application/json"


class RememberedClassify:
    """ASGI middleware in front of the FastAPI app: answers a ``POST /v1/classify`` it has seen
    answered before with the same bytes; passes everything else through untouched."""

    def __init__(self, app, size: int = 2048):
        self.app = app
        self._answers = AnswerCache(size)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        length = _eligible_length(scope.get("headers", ()))
        if length is None or length > MAX_BODY_BYTES:
            return await self.app(scope, receive, send)
        messages, body = await _read_body(receive)
        if body is None:   # the client gone, a limit passed: FastAPI answers as it always did
            return await self.app(scope, _replay(messages, receive), send)
        key = (dt.date.today(), scope.get("query_string", b""), body)
        answer = self._answers.get(key)
        if answer is not None:
            headers, content = answer
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        started: list = []

        async def remembering_send(message):
            if message["type"] == "http.response.start":
                started.append(message)
            elif (message["type"] == "http.response.body" and not message.get("more_body", False)
                  and len(started) == 1 and started[0]["status"] == 200):
                self._answers.put(key, (list(started[0].get("headers", ())), bytes(message.get("body", b""))))
            await send(message)

        await self.app(scope, _replay(messages, receive), remembering_send)


def _eligible_length(headers) -> int | None:
    """The Content-Length of a request whose one content type is exactly application/json."""
    length, types = None, []
    for name, value in headers:
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return None
            length = int(value)
        elif name == b"content-type":
            types.append(value)
    return length if types == [JSON] else None


async def _read_body(receive) -> tuple[list, bytes | None]:
    """Every message of the body, and the body; None for the body unless it ended as a plain
    request does (a limit's exception propagates to FastAPI through the replay)."""
    messages, pieces = [], []
    try:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, None
            pieces.append(message.get("body", b""))
            if not message.get("more_body", False):
                return messages, b"".join(pieces)
    except Exception as exc:   # noqa: BLE001  (raised again, where FastAPI reads the body)
        messages.append(exc)
        return messages, None


def _replay(messages: list, receive):
    """A ``receive`` that gives the messages read already (raising an exception met while
    reading them), then the rest from ``receive``."""
    pending = list(messages)

    async def replayed():
        if pending:
            message = pending.pop(0)
            if isinstance(message, BaseException):
                raise message
            return message
        return await receive()

    return replayed
