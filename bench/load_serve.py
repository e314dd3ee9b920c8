"""A bounded load test of ``tppcalc serve`` on loopback: a fixed number of requests or seconds, then it stops.

    python bench/load_serve.py [--requests 20000] [--concurrency 32] [--workers 1] [--batch-rows 1000000]
    python bench/load_serve.py --client wrk [--duration 10] [--concurrency 32] [--workers 1] [--batch-rows 0]

Starts ``python -m tppcalc serve`` on a free port and sends POST /v1/classify (the chips of the
catalogue in turn, to CN on 2026-02-01) from ``--concurrency`` connections, then prints
requests/s, the latency percentiles and the server's CPU time per request (every worker's, from
/proc: it does not depend on how busy the machine is). The client is either one
httpx.AsyncClient sending ``--requests`` requests (every answer checked for status 200), or
``wrk`` (a C load generator, far cheaper on a shared machine) for ``--duration`` seconds, driven
by a Lua script that this file writes; wrk's non-2xx answers and socket errors are counted as
failures, and p50/p99 come from its latency distribution. Then it POSTs one CSV body of
``--batch-rows`` rows to /v1/batch (with httpx, or with curl beside wrk) and prints rows/s end to
end (upload, classification, every row downloaded and counted). The client runs on the same machine and takes CPU from the server:
figures are a lower bound for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    """CPU time of the server and of its live worker processes (``--workers`` > 1 forks them)."""
    total = cpu_seconds(pid)
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                total += cpu_seconds(int(child))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total


def start(workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen([sys.executable, "-m", "tppcalc", "serve", "--port", str(port), "--workers",
                                str(workers)], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not start")


async def classify_load(url: str, chips: list[str], requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    failures = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def connection():
            nonlocal failures
            for n in counter:
                body = {"chip": chips[n % len(chips)], "dest": "CN", "as_of": "2026-02-01"}
                began = time.perf_counter()
                answer = await client.post("/v1/classify", json=body)
                latencies.append(time.perf_counter() - began)
                failures += answer.status_code != 200
        for _ in range(min(200, requests)):   # warm up: connections, caches
            await client.post("/v1/classify", json={"chip": chips[0], "dest": "CN", "as_of": "2026-02-01"})
        began = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"requests": requests, "seconds": elapsed, "per_second": requests / elapsed, "failures": failures,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "mean_ms": statistics.fmean(latencies) * 1000}


# Both scripts end with this: wrk's own report, on one line the bench reads.
WRK_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%.1f %%.1f %%.1f %%.1f %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""

WRK_SCRIPT = """
-- POST /v1/classify, the bodies in turn (each thread starting at its own place), pre-formatted.
local bodies = {%(bodies)s}
local requests, counter = {}, 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 17)
  table.insert(threads, thread)
end

function init(args)
  local headers = {["Content-Type"] = "application/json"}
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/v1/classify", headers, body)
  end
  counter = offset or 0
end

function request()
  counter = counter + 1
  return requests[(counter %% #requests) + 1]
end
"""


# Every request a body never sent before: figures whose INT8 rate counts up per thread, so no
# answer cache can serve it and each one is classified (the cost of a new question).
WRK_UNSEEN_SCRIPT = """
local threads, counter = {}, 0

function setup(thread)
  thread:set("offset", #threads * 100000000)
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
end

local chips = {%(chips)s}

function request()
  counter = counter + 1
  local body
  if #chips > 0 then  -- a catalogue chip on a day never asked before: 2023-10-17 plus up to 1,100 days
    body = string.format('{"chip": "%%s", "dest": "CN", "as_of": "%%s"}', chips[(counter %% #chips) + 1],
      os.date("!%%Y-%%m-%%d", 1697500800 + 86400 * (counter %% 1100)))
  else
    body = string.format('{"figures": {"dense": ["int8=%%d.%%d"], "dies": ["814:finfet"], "datacenter": true}, '
      .. '"dest": "CN", "as_of": "2026-02-01"}', 100 + counter %% 1000, counter)
  end
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "application/json"}, body)
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_load(url: str, chips: list[str], duration: int, concurrency: int, threads: int, unseen: str | None = None) -> dict:
    """``wrk`` for ``duration`` seconds; its own report, read from the line the script prints."""
    import json

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    bodies = ", ".join(lua_string(json.dumps({"chip": chip, "dest": "CN", "as_of": "2026-02-01"}))
                       for chip in chips)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write((WRK_SCRIPT % {"bodies": bodies} if unseen is None else WRK_UNSEEN_SCRIPT % {
            "chips": ", ".join(lua_string(chip) for chip in chips) if unseen == "chips" else ""}) + WRK_DONE % {})
        script.flush()
        subprocess.run(["wrk", "-t1", "-c1", "-d1", "-s", script.name, url], check=True,
                       capture_output=True)   # warm up: caches
        done = subprocess.run(["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}", "--timeout", "30",
                               "-s", script.name, url], check=True, capture_output=True, text=True)
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    requests, micros, p50, p99, mean, worst, failures = (float(v) for v in line.split()[1:])
    requests, failures = int(requests), int(failures)
    return {"requests": requests, "seconds": micros / 1e6, "per_second": requests / (micros / 1e6),
            "failures": failures, "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "mean_ms": mean / 1000,
            "max_ms": worst / 1000}


def batch_load(url: str, chips: list[str], rows: int) -> dict:
    body = ("chip,quantity\n" + "".join(f"{chips[n % len(chips)]},{n % 7 + 1}\n" for n in range(rows))).encode()
    began = time.perf_counter()
    received = 0
    with httpx.stream("POST", url + "/v1/batch?dest=CN&as_of=2026-02-01", content=body, timeout=600,
                      headers={"content-type": "text/csv"}) as answer:
        assert answer.status_code == 200, answer.read()[:500]
        for piece in answer.iter_bytes():
            received += piece.count(b"\n")
    elapsed = time.perf_counter() - began
    assert received == rows + 1, (received, rows)
    return {"rows": rows, "body_mib": len(body) / 2**20, "seconds": elapsed, "rows_per_second": rows / elapsed}


def batch_load_curl(url: str, chips: list[str], rows: int) -> dict:
    """``batch_load`` with curl (C) as the client, its answer counted as it streams through a pipe."""
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed")
    body = ("chip,quantity\n" + "".join(f"{chips[n % len(chips)]},{n % 7 + 1}\n" for n in range(rows))).encode()
    with tempfile.NamedTemporaryFile(suffix=".csv") as source:
        source.write(body)
        source.flush()
        began = time.perf_counter()
        curl = subprocess.Popen(["curl", "-sS", "--fail", "--no-buffer", "-H", "content-type: text/csv",
                                 "--data-binary", f"@{source.name}", url + "/v1/batch?dest=CN&as_of=2026-02-01"],
                                stdout=subprocess.PIPE)
        received = 0
        while piece := curl.stdout.read(1 << 20):
            received += piece.count(b"\n")
        assert curl.wait() == 0, "curl failed"
        elapsed = time.perf_counter() - began
    assert received == rows + 1, (received, rows)
    return {"rows": rows, "body_mib": len(body) / 2**20, "seconds": elapsed, "rows_per_second": rows / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", choices=("httpx", "wrk"), default="httpx")
    parser.add_argument("--requests", type=int, default=20_000, help="httpx: requests to send")
    parser.add_argument("--duration", type=int, default=10, help="wrk: seconds to send for")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk: client threads")
    parser.add_argument("--unseen", choices=("chips", "figures"),
                        help="wrk: every request a new body, so no answer is cached: a catalogue chip on a new day, "
                             "or figures counting up")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    process, url = start(args.workers)
    try:
        chips = [c["id"] for c in httpx.get(url + "/v1/chips", timeout=60).json()["chips"]]
        if args.client == "wrk":
            result = wrk_load(url, chips, 1, 1, 1, args.unseen)   # warm up: connections, caches
            before = server_cpu_seconds(process.pid)
            result = wrk_load(url, chips, args.duration, args.concurrency, args.wrk_threads, args.unseen)
            sent = result["requests"]
        else:
            before = server_cpu_seconds(process.pid)
            result = asyncio.run(classify_load(url, chips, args.requests, args.concurrency))
            sent = args.requests + 200   # the warm-up requests included
        result["server_cpu_ms"] = (server_cpu_seconds(process.pid) - before) * 1000 / sent
        print(f"server CPU per classify request: {result['server_cpu_ms']:.3f} ms, every worker "
              f"(one idle core: about {1000 / result['server_cpu_ms']:,.0f} req/s)")
        print("classify: {requests} requests in {seconds:.2f} s = {per_second:,.0f} req/s; p50 {p50_ms:.1f} ms, "
              "p99 {p99_ms:.1f} ms, mean {mean_ms:.1f} ms; {failures} failures".format(**result))
        if result["failures"]:
            raise SystemExit("some requests failed")
        if args.batch_rows:
            before = server_cpu_seconds(process.pid)
            result = (batch_load_curl if args.client == "wrk" else batch_load)(url, chips, args.batch_rows)
            server_cpu = server_cpu_seconds(process.pid) - before
            print(f"server CPU for the batch: {server_cpu:.2f} s (one idle core: about "
                  f"{args.batch_rows / server_cpu:,.0f} rows/s)")
            print("batch: {rows:,} rows ({body_mib:.1f} MiB) in {seconds:.2f} s = {rows_per_second:,.0f} rows/s "
                  "end to end".format(**result))
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
