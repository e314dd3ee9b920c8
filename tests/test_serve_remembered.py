"""Classify answers remembered by the request's bytes: the same answer, never another request's.

The expected answer is the CLI's document (``tppcalc classify ... --json``); what may be
remembered is checked against a counting stand-in for the FastAPI app.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import types

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tppcalc.serve.app import Settings, create_app  # noqa: E402
from tppcalc.serve.remembered import RememberedClassify  # noqa: E402

H200_CN = {"chip": "H200 SXM", "dest": "CN", "as_of": "2026-02-01"}
TOKEN = "s3cret-token-0123456789"


def test_a_remembered_answer_is_the_first_answer_byte_for_byte(run_cli):
    cli = run_cli("classify", "H200 SXM", "--dest", "CN", "--as-of", "2026-02-01", "--json")
    body = json.dumps(H200_CN).encode()
    with TestClient(create_app()) as client:
        first, again = (client.post("/v1/classify", content=body, headers={"content-type": "application/json"})
                        for _ in range(2))
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert first.headers.items() == again.headers.items()
    document = again.json()
    del document["digests"]
    assert document == json.loads(cli.stdout)


def test_the_token_is_asked_for_before_a_remembered_answer():
    with TestClient(create_app(Settings(token=TOKEN))) as client:
        right = client.post("/v1/classify", json=H200_CN, headers={"authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert client.post("/v1/classify", json=H200_CN).status_code == 401
        wrong = client.post("/v1/classify", json=H200_CN, headers={"authorization": "Bearer " + TOKEN[:-1]})
        assert wrong.status_code == 401


class CountingApp:
    """A stand-in for the FastAPI app: answers ``status`` with a numbered body, counting calls."""

    def __init__(self, status: int = 200):
        self.status, self.calls = status, 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        while (await receive()).get("more_body", False):
            pass
        body = f'{{"answer": {self.calls}}}'.encode()
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


def post(app, body: bytes, *, headers=None, path: str = "/v1/classify", query: bytes = b"",
         method: str = "POST") -> tuple[int, bytes]:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())] \
        if headers is None else headers
    scope = {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


BODY = json.dumps(H200_CN).encode()


def test_the_same_bytes_are_answered_from_memory():
    inner = CountingApp()
    remembered = RememberedClassify(inner)
    assert post(remembered, BODY) == post(remembered, BODY) == (200, b'{"answer": 1}')
    assert inner.calls == 1


@pytest.mark.parametrize("other", [
    {"body": BODY.replace(b"CN", b"AE")},
    {"query": b"x=1"},
    {"path": "/v1/calc"},
    {"method": "PUT"},
])
def test_another_request_is_never_given_a_remembered_answer(other):
    inner = CountingApp()
    remembered = RememberedClassify(inner)
    post(remembered, BODY)
    body = other.pop("body", BODY)
    assert post(remembered, body, **other) == (200, b'{"answer": 2}')


def test_another_day_is_another_request(monkeypatch):
    """An omitted as_of means today: tomorrow the same bytes ask another question."""
    import tppcalc.serve.remembered as module

    inner = CountingApp()
    remembered = RememberedClassify(inner)
    body = json.dumps({"chip": "H200 SXM", "dest": "CN"}).encode()
    post(remembered, body)

    tomorrow = dt.date.fromordinal(dt.date.today().toordinal() + 1)
    monkeypatch.setattr(module, "dt", types.SimpleNamespace(date=types.SimpleNamespace(today=lambda: tomorrow)))
    assert post(remembered, body) == (200, b'{"answer": 2}')


@pytest.mark.parametrize("headers", [
    [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())],
    [(b"content-type", b"application/json")],                                  # no length: streamed
    [(b"content-type", b"application/json"), (b"content-type", b"application/json"),
     (b"content-length", str(len(BODY)).encode())],
    [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(BODY)).encode())],
])
def test_unusual_requests_always_go_to_the_app(headers):
    inner = CountingApp()
    remembered = RememberedClassify(inner)
    for _ in range(2):
        post(remembered, BODY, headers=headers)
    assert inner.calls == 2


def test_refusals_and_big_bodies_are_never_remembered():
    inner = CountingApp(status=422)
    remembered = RememberedClassify(inner)
    assert post(remembered, BODY) == (422, b'{"answer": 1}')
    assert post(remembered, BODY) == (422, b'{"answer": 2}')
    inner = CountingApp()
    remembered = RememberedClassify(inner)
    big = json.dumps({**H200_CN, "hq": " " * 5000}).encode()
    post(remembered, big)
    post(remembered, big)
    assert inner.calls == 2
