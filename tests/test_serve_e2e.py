"""End to end: a real ``tppcalc serve`` (uvicorn) on 127.0.0.1, a real HTTP client (httpx)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from serve_process import ROOT, running_server  # noqa: E402

H200_CN = {"chip": "H200 SXM", "dest": "CN", "as_of": "2026-02-01"}


def cli_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tppcalc", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def server():
    with running_server() as url:
        yield url


def test_classify_over_http_is_the_cli_document(server):
    answer = httpx.post(server + "/v1/classify", json=H200_CN, timeout=30)
    assert answer.status_code == 200
    document = answer.json()
    digests = document.pop("digests")
    assert document == cli_json("classify", "H200 SXM", "--dest", "CN", "--as-of", "2026-02-01")
    assert set(digests) == {"catalogue", "rule_data"}


def test_batch_streams_rows_back(server):
    rows = b"chip\n" + b"H200 SXM\nH20\n" * 500
    with httpx.stream("POST", server + "/v1/batch?dest=CN&as_of=2026-02-01", content=rows,
                      headers={"content-type": "text/csv"}, timeout=60) as answer:
        assert answer.status_code == 200
        lines = list(answer.iter_lines())
    assert len(lines) == 1001 and lines[1].split(",")[3] == "3A090.a"


def test_bad_input_and_the_served_openapi(server):
    answer = httpx.post(server + "/v1/classify", json={"chip": "H200 SXM", "dest": "Atlantis"}, timeout=30)
    assert answer.status_code == 422 and answer.json()["field"] == "dest"
    served = httpx.get(server + "/openapi.json", timeout=30).json()
    assert served == json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert "server" not in httpx.get(server + "/v1/health", timeout=30).headers


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_token_file_guards_the_service(tmp_path):
    token = tmp_path / "token"
    token.write_text("e2e-token-0123456789abcdef\n")
    token.chmod(0o600)
    with running_server("--token-file", str(token)) as url:
        assert httpx.post(url + "/v1/classify", json=H200_CN, timeout=30).status_code == 401
        answer = httpx.post(url + "/v1/classify", json=H200_CN, timeout=30,
                            headers={"authorization": "Bearer e2e-token-0123456789abcdef"})
        assert answer.status_code == 200


def test_a_readable_token_file_stops_the_start_in_one_line(tmp_path):
    token = tmp_path / "token"
    token.write_text("e2e-token-0123456789abcdef\n")
    token.chmod(0o644)
    done = subprocess.run([sys.executable, "-m", "tppcalc", "serve", "--token-file", str(token)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "other users" in done.stderr


def test_batch_row_limit_holds_while_the_body_streams_in():
    rows = b"chip\n" + b"H20\n" * 400_000    # 1.6 MB, sent in pieces; the limit trips on the way
    with running_server("--max-batch-rows", "1000") as url:
        answer = httpx.post(url + "/v1/batch", content=rows, headers={"content-type": "text/csv"}, timeout=60)
        assert answer.status_code == 413 and answer.json()["field"] == "body"
        answer = httpx.post(url + "/v1/batch", content=b"chip\n" + b"H20\n" * 1000,
                            headers={"content-type": "text/csv"}, timeout=60)
        assert answer.status_code == 200 and len(answer.text.splitlines()) == 1001


def test_a_batch_past_the_time_limit_never_looks_whole():
    rows = 600_000
    body = b"chip\n" + b"H200 SXM\nH20\n" * (rows // 2)
    with running_server("--time-limit", "0.5") as url:
        try:
            with httpx.stream("POST", url + "/v1/batch", content=body, headers={"content-type": "text/csv"},
                              timeout=120) as answer:
                if answer.status_code == 503:
                    assert answer.read() and answer.headers["content-type"] == "application/problem+json"
                    return
                lines = sum(piece.count(b"\n") for piece in answer.iter_bytes())
        except httpx.TransportError:
            return   # cut off in the middle: the client knows the answer is not whole
        pytest.fail(f"status {answer.status_code} with {lines} of {rows + 1} lines, presented as complete")


def test_the_operators_specs_dir_is_served_and_a_broken_one_stops_the_start(tmp_path):
    from test_catalogue import write_chip

    broken = tmp_path / "broken"
    write_chip(broken, "bad.toml", "my-chip", "My Chip", extra='colour = "red"')
    done = subprocess.run([sys.executable, "-m", "tppcalc", "--specs-dir", str(broken), "serve"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "colour" in done.stderr
    user = tmp_path / "user"
    write_chip(user, "mine.toml", "acme-x1-sxm", "X1 SXM 80GB", aliases=["X1 SXM"])
    with running_server(group_options=("--specs-dir", str(user))) as url:
        answer = httpx.get(url + "/v1/chips/X1 SXM", timeout=30)
        assert answer.status_code == 200 and answer.json()["id"] == "acme-x1-sxm"
        assert answer.json()["origin"] == "mine.toml"
