"""The HTTP service in process: the same documents as the CLI, strict input, problem+json, limits.

Expected answers come from the CLI (`tppcalc classify ... --json`, the reference the service must
equal) and from the rule text through the CLI's own tests; limits from the settings given here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tppcalc.serve.app import Settings, create_app  # noqa: E402
from tppcalc.serve.limits import Limits, read_token_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
H200_CN = {"chip": "H200 SXM", "dest": "CN", "as_of": "2026-02-01"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as client:
        yield client


def without_digests(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "digests"}


def test_classify_gives_the_cli_document(client, run_cli):
    cli = run_cli("classify", "H200 SXM", "--dest", "CN", "--as-of", "2026-02-01", "--json")
    assert cli.exit_code == 0
    answer = client.post("/v1/classify", json=H200_CN)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert without_digests(answer.json()) == json.loads(cli.stdout)
    assert answer.json()["eccn"] == "3A090.a" and answer.json()["license_required"] is True


def test_figures_give_the_cli_document(client, run_cli):
    cli = run_cli("classify", "--dense", "fp8=1978.9", "--die", "814:finfet", "--datacenter", "--dest", "AE",
                  "--as-of", "2025-03-01", "--json")
    answer = client.post("/v1/classify", json={
        "figures": {"dense": ["fp8=1978.9"], "dies": ["814:finfet"], "datacenter": True},
        "dest": "AE", "as_of": "2025-03-01"})
    assert answer.status_code == 200
    assert without_digests(answer.json()) == json.loads(cli.stdout)


@pytest.mark.parametrize("query", ["p5.48xlarge", "GB200 Superchip", "Intel(R) Xeon(R) Gold 6499"])
def test_a_computer_query_gives_the_cli_document(client, run_cli, query):
    """Cloud instance types, superchips and unlisted CPU SKUs read as ``tppcalc classify`` reads them."""
    cli = run_cli("classify", query, "--item", "computer", "--dest", "IN", "--as-of", "2025-03-01", "--json")
    assert cli.exit_code == 0, cli.stderr
    answer = client.post("/v1/classify", json={"chip": query, "item": "computer", "dest": "IN", "as_of": "2025-03-01"})
    assert answer.status_code == 200, answer.text
    assert without_digests(answer.json()) == json.loads(cli.stdout)


def test_p5_48xlarge_is_a_4a090a_computer_of_8_h100_sxm(client):
    # AWS's P5 page: p5.48xlarge holds 8 NVIDIA H100 GPUs (SXM, 80 GB); an H100 SXM is 3A090.a.
    answer = client.post("/v1/classify", json={"chip": "p5.48xlarge", "item": "computer", "as_of": "2025-03-01"})
    document = answer.json()
    assert document["eccn"] == "4A090.a"
    assert (document["computer"]["chip_id"], document["computer"]["count"]) == ("nvidia-h100-sxm5-80gb", 8)


def test_an_instance_type_is_not_an_ic_over_http_either(client):
    answer = client.post("/v1/classify", json={"chip": "p5.48xlarge"})
    assert answer.status_code == 422
    assert '"item": "computer"' in answer.json()["detail"] and answer.json()["field"] == "chip"


def test_calc_gives_the_cli_document(client, run_cli):
    cli = run_cli("calc", "--dense", "fp8=1978.9", "--die", "814:finfet", "--json")
    answer = client.post("/v1/calc", json={"figures": {"dense": ["fp8=1978.9"], "dies": ["814:finfet"]}})
    assert without_digests(answer.json()) == json.loads(cli.stdout)


def test_model_and_rules_give_the_cli_documents(client, run_cli):
    cli = run_cli("model", "--training-ops", "3e26", "--as-of", "2025-03-01", "--json")
    answer = client.post("/v1/model", json={"training_ops": "3e26", "as_of": "2025-03-01"})
    assert without_digests(answer.json()) == json.loads(cli.stdout)
    cli = run_cli("rules", "list", "--json")
    assert without_digests(client.get("/v1/rules").json()) == json.loads(cli.stdout)


def test_chips_give_the_cli_documents_without_server_paths(client, run_cli):
    assert client.get("/v1/chips").json()["chips"] == json.loads(run_cli("chips", "list", "--json").stdout)
    cli = json.loads(run_cli("chips", "show", "H100 SXM", "--json").stdout)
    answer = client.get("/v1/chips/H100 SXM").json()
    assert answer["origin"] == Path(cli.pop("origin")).name and "/" not in answer["origin"]
    assert {k: v for k, v in without_digests(answer).items() if k != "origin"} == cli


def test_digests_are_those_of_the_shipped_data(client):
    """The combined digest of the rule files, recomputed here as ``sha256sum | sort | sha256sum``."""
    root = ROOT / "tppcalc" / "decisions" / "rules" / "data"
    lines = sorted(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n"
                   for p in root.rglob("*.toml"))
    expected = hashlib.sha256("".join(sorted(lines, key=lambda l: l.split("  ", 1)[1])).encode()).hexdigest()
    digests = client.get("/v1/health").json()["digests"]
    assert digests["rule_data"] == expected
    assert client.post("/v1/classify", json=H200_CN).json()["digests"] == digests


@pytest.mark.parametrize(("body", "field"), [
    ({"chip": "H200 SXM", "dest": "Atlantis"}, "dest"),
    ({"chip": "H200 SXM", "dest": "CN", "hq": "ZZ"}, "hq"),
    ({"chip": "H200 SXM", "as_of": "01/02/2026"}, "as_of"),
    ({"chip": "H200 SXM", "as_of": "2026-02-30"}, "as_of"),
    ({"chip": "no such chip"}, "chip"),
    ({"chip": "H200 SXM", "figures": {"dense": ["fp8=1"]}}, "chip"),
    ({}, "chip"),
    ({"figures": {"dense": ["fp8=1978.9 sparse"]}}, "figures.dense"),
    ({"figures": {"dense": ["fp8=1978.9"], "dies": ["814:cmos"]}}, "figures.dies"),
    ({"figures": {"dense": ["fp8=1978.9"], "dies": ["18446744073709551616:finfet"]}}, "figures.dies"),  # > a wafer
    ({"figures": {"dense": [1978.9]}}, "figures.dense.0"),
    ({"chip": "H200 SXM", "item": "board"}, "item"),
    ({"chip": "H200 SXM", "edition": "1999-01-01"}, None),
    ({"chip": "H200 SXM", "path": "/etc/passwd"}, "path"),
    ({"chip": "H200 SXM", "as_written": "yes"}, "as_written"),
])
def test_bad_input_is_a_422_problem_naming_the_field(client, body, field):
    answer = client.post("/v1/classify", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    if field is not None:
        assert problem["field"] == field


def test_a_body_that_is_not_json_is_a_422_problem(client):
    answer = client.post("/v1/classify", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"] == "body" and "character 1" in answer.json()["detail"]


def test_unknown_routes_and_methods_are_problems(client):
    assert client.get("/v2/classify").status_code == 404
    answer = client.get("/v1/classify")
    assert answer.status_code == 405 and answer.headers["content-type"] == "application/problem+json"


def test_batch_streams_one_row_per_row_as_the_cli(client, run_cli, tmp_path):
    rows = b"chip,quantity\nH200 SXM,2\nno such chip,1\nH20,4\n"
    source = tmp_path / "rows.csv"
    source.write_bytes(rows)
    cli = run_cli("batch", str(source), "--dest", "CN", "--as-of", "2026-02-01")
    answer = client.post("/v1/batch?dest=CN&as_of=2026-02-01", content=rows, headers={"content-type": "text/csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.text.replace("\r\n", "\n") == cli.stdout.replace("\r\n", "\n")
    assert len(answer.text.splitlines()) == 4
    assert answer.headers["x-digest-rule-data"] == client.get("/v1/health").json()["digests"]["rule_data"]


def test_batch_reads_json_lines(client):
    body = b'{"chip": "H200 SXM"}\n{"chip": "H20"}\n'
    answer = client.post("/v1/batch?dest=CN&as_of=2026-02-01", content=body,
                         headers={"content-type": "application/x-ndjson"})
    rows = [json.loads(line) for line in answer.text.splitlines()]
    assert [r["eccn"] for r in rows][0] == "3A090.a" and len(rows) == 2


def test_batch_refuses_bad_files_and_types(client):
    answer = client.post("/v1/batch", content=b"colour,size\nred,1\n", headers={"content-type": "text/csv"})
    assert answer.status_code == 422 and answer.json()["where"] == "body"
    answer = client.post("/v1/batch", content=b"chip\nH20\n", headers={"content-type": "text/plain"})
    assert answer.status_code == 415 and answer.json()["field"] == "content-type"
    answer = client.post("/v1/batch?dest=Atlantis", content=b"chip\nH20\n", headers={"content-type": "text/csv"})
    assert answer.status_code == 422 and answer.json()["field"] == "dest"


def test_limits_on_body_rows_and_time():
    limits = Limits(max_body_bytes=2000, max_batch_rows=3, time_limit_s=1e-9)   # past before the first await: no race
    with TestClient(create_app(Settings(limits=Limits(max_body_bytes=2000, max_batch_rows=3)))) as client:
        big = client.post("/v1/classify", content=b" " * 2001, headers={"content-type": "application/json"})
        assert big.status_code == 413 and big.json()["field"] == "body"
        rows = client.post("/v1/batch", content=b"chip\n" + b"H20\n" * 4, headers={"content-type": "text/csv"})
        assert rows.status_code == 413
        ok = client.post("/v1/batch", content=b"chip\n" + b"H20\n" * 3, headers={"content-type": "text/csv"})
        assert ok.status_code == 200

        def chunks():
            yield b'{"chip": "'
            yield b"x" * 3000
            yield b'"}'
        streamed = client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
    with TestClient(create_app(Settings(limits=limits))) as client:
        slow = client.get("/")
        assert slow.status_code == 503 and slow.headers["content-type"] == "application/problem+json"


def test_bearer_token_is_required_when_configured(tmp_path):
    token = "s3cret-token-0123456789"
    with TestClient(create_app(Settings(token=token))) as client:
        assert client.get("/v1/health").status_code == 200          # open: for load balancers
        refused = client.post("/v1/classify", json=H200_CN)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        wrong = client.post("/v1/classify", json=H200_CN, headers={"authorization": "Bearer " + token[:-1]})
        assert wrong.status_code == 401
        assert client.get("/", headers={"authorization": "Bearer x"}).status_code == 401
        right = client.post("/v1/classify", json=H200_CN, headers={"authorization": f"Bearer {token}"})
        assert right.status_code == 200


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_token_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "token"
    path.write_text("s3cret-token-0123456789\n")
    path.chmod(0o644)
    with pytest.raises(ValueError, match="other users"):
        read_token_file(path)
    path.chmod(0o600)
    assert read_token_file(path) == "s3cret-token-0123456789"
    path.write_text("short")
    with pytest.raises(ValueError, match="at least 16"):
        read_token_file(path)


def test_cors_is_off(client):
    preflight = client.options("/v1/classify", headers={"origin": "https://evil.example",
                                                         "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    answer = client.post("/v1/classify", json=H200_CN, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers


def test_the_committed_openapi_document_is_the_apps(client):
    """Regenerate with ``python -m tppcalc.serve.schema > docs/openapi.json``."""
    served = client.get("/openapi.json").json()
    assert served["openapi"].startswith("3.1")
    assert json.loads((ROOT / "docs" / "openapi.json").read_text()) == served


def test_the_page_answers_and_escapes(client):
    form = client.get("/")
    assert form.status_code == 200 and "<form" in form.text and "<script" not in form.text
    answer = client.get("/", params={"chip": "nvidia-h200-sxm-141gb", "dest": "CN", "as_of": "2026-02-01"})
    assert answer.status_code == 200 and "3A090.a" in answer.text and "<script" not in answer.text
    assert "required to CN" in answer.text and "case-by-case" in answer.text
    assert "form-action 'self'" in answer.headers["content-security-policy"]
    figures = client.get("/", params={"chip": "", "dense": "fp8=1978.9", "die": "814:finfet", "datacenter": "yes",
                                      "dest": "CN", "as_of": "2026-02-01"})
    assert figures.status_code == 200 and "3A090.a" in figures.text
    hostile = client.get("/", params={"chip": "<script>alert(1)</script>", "dest": "CN"})
    assert hostile.status_code == 422
    assert "<script>alert" not in hostile.text and "&lt;script&gt;" in hostile.text


def test_remembered_answers_are_the_answers_and_refusals_are_not_remembered():
    from tppcalc.errors import InputError
    from tppcalc.serve.operations import Service

    service = Service(cache_size=2)
    request = dict(chip="H200 SXM", figures=None, dest="CN", hq=None, as_of="2026-02-01", edition=None,
                   item="ic", as_written=False)
    assert service.remembered_classify(**request) is None
    first = service.classify_json(**request)
    assert service.remembered_classify(**request) == first
    assert json.loads(first) == service.classify(**request)
    elsewhere = service.classify_json(**{**request, "dest": "AE"})
    assert json.loads(elsewhere)["destination"] == "AE"
    with pytest.raises(InputError):
        service.classify_json(**{**request, "dest": "Atlantis"})
    assert service.remembered_classify(**{**request, "dest": "Atlantis"}) is None
    service.classify_json(**{**request, "dest": "US"})      # a third answer: the oldest goes
    assert service.remembered_classify(**request) is None


def asgi_post(app, path: str, body: bytes, content_type: str, hold_after: int, piece_bytes: int = 1 << 16,
              leave_after_body: bool = False):
    """POST ``body`` to the ASGI ``app`` as uvicorn hands one over: ASGI spec 2.3, the body in
    pieces, each ``receive`` message given to one caller only; the rest of the body after
    ``hold_after`` bytes only once the answer has begun (a slow upload); after the body,
    ``receive`` waits until the answer is complete (or not, ``leave_after_body``), then says the
    client left. Returns the status and the answer's bytes (no status: none was sent)."""
    import asyncio

    pieces = [body[i:i + piece_bytes] for i in range(0, len(body), piece_bytes)]
    status, out = [], bytearray()

    async def exchange():
        started, complete = asyncio.Event(), asyncio.Event()
        given = 0

        async def receive():
            nonlocal given
            if given >= hold_after:
                await started.wait()
            await asyncio.sleep(0)
            if pieces:   # whoever asks first takes the next piece
                piece = pieces.pop(0)
                given += len(piece)
                return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
            if not leave_after_body:
                await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
                started.set()
            elif message["type"] == "http.response.body":
                out.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    complete.set()

        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path.split("?")[0], "raw_path": path.encode(),
                 "query_string": path.partition("?")[2].encode(), "root_path": "",
                 "headers": [(b"host", b"127.0.0.1"), (b"content-type", content_type.encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080)}
        await app(scope, receive, send)

    asyncio.run(exchange())
    return (status or [None])[0], bytes(out)


def test_a_batch_still_streaming_in_comes_back_whole_row_for_row():
    """The answer starts while the body still arrives (the reader answers once it holds 4 MiB):
    no piece of the body may go to anyone but the reader, or rows vanish or run together (a lost
    piece between "H20,1" and "2,..." is a quantity of 12)."""
    rows = 60_000
    chips = ("H200 SXM", "H20", "no such chip")
    note = "x" * 80   # a column the engine passes through: 6 MB in few rows
    body = ("chip,quantity,note\n" + "".join(f"{chips[n % 3]},{n},{note}\n" for n in range(rows))).encode()
    status, answer = asgi_post(create_app(), "/v1/batch?dest=CN&as_of=2026-02-01", body, "text/csv",
                               hold_after=(4 << 20) + (1 << 18))
    assert status == 200
    lines = answer.decode().splitlines()
    assert len(lines) == rows + 1
    assert [line.split(",")[:2] for line in lines[1:]] == [[chips[n % 3], str(n)] for n in range(rows)]


def test_a_batch_client_that_leaves_ends_the_answer_quietly():
    """A client gone once its body is in: the engine stops, and the service ends the exchange
    without an error of its own (no 500, no exception for the server to log)."""
    body = ("chip,quantity\n" + "H200 SXM,1\n" * 20_000).encode()
    status, _ = asgi_post(create_app(), "/v1/batch?dest=CN&as_of=2026-02-01", body, "text/csv",
                          hold_after=len(body), leave_after_body=True)
    assert status in (None, 200)


def test_the_batch_engine_waits_for_a_slow_reader():
    """At most two pieces of a batch answer wait for the socket: a client that reads slowly
    holds the engine back instead of making the server hold its whole answer in memory."""
    import asyncio
    import threading

    from tppcalc.serve.app import _Sink

    loop = asyncio.new_event_loop()
    try:
        queue: asyncio.Queue = asyncio.Queue()
        sink = _Sink(loop, queue)
        written: list = []

        def engine():
            try:
                for n in range(4):
                    sink.write(b"piece %d\n" % n)
                    written.append(n)
            except ConnectionAbortedError:
                written.append("stopped")

        thread = threading.Thread(target=engine)
        thread.start()
        thread.join(0.5)
        assert written == [0, 1]        # the third piece waits for room
        sink.taken()
        deadline = loop.time() + 5
        while len(written) < 3 and loop.time() < deadline:
            thread.join(0.05)
        assert written == [0, 1, 2]
        sink.close()                    # the answer is over: the engine stops at once
        thread.join(5)
        assert written == [0, 1, 2, "stopped"] and not thread.is_alive()
    finally:
        loop.close()
