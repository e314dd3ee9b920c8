"""Commands whose optional extra is missing, and a Ray cluster that refuses or never answers: one
error line each, within the connection timeout, and SIGTERM honoured. Only loopback addresses."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest


def test_chart_without_matplotlib_names_the_extra(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    result = run_cli("chart", "H100 SXM", "-o", str(tmp_path / "chart.png"))
    assert result.exit_code == 1
    assert result.stderr == ("tppcalc: error: matplotlib (needed to draw charts) is not installed: "
                             "pip install 'tppcalc[chart]'\n")
    assert not (tmp_path / "chart.png").exists()


def closed_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: connections are refused


def test_a_ray_client_address_without_the_client_names_the_extra(run_cli, monkeypatch):
    pytest.importorskip("ray", reason="the fleet extra (Ray) is not installed")
    monkeypatch.setitem(sys.modules, "grpc", None)  # as without ray[client]
    result = run_cli("fleet", "probe", "--address", f"ray://127.0.0.1:{closed_loopback_port()}")
    assert result.exit_code == 1
    assert result.stderr == ("tppcalc: error: Ray Client (needed for ray:// addresses) is not installed: "
                             "pip install 'tppcalc[fleet]'\n")


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_refused_ray_address_is_one_line_at_once(run_cli, scheme):
    pytest.importorskip("ray", reason="the fleet extra (Ray) is not installed")
    pytest.importorskip("grpc", reason="ray[client] is not installed") if scheme else None
    address = f"{scheme}127.0.0.1:{closed_loopback_port()}"
    started = time.monotonic()
    result = run_cli("fleet", "probe", "--address", address, "--connect-timeout", "5")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert result.stderr == f"tppcalc: error: cannot reach the Ray cluster at {address}: Connection refused\n"


@pytest.fixture
def silent_listener():
    """A loopback port that accepts connections and never says a word (a hung cluster)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def start_probe(address, *extra, cwd):
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # Ray keeps 127.0.0.1 as it is
    return subprocess.Popen([sys.executable, "-m", "tppcalc", "fleet", "probe", "--address", address, *extra],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_cluster_that_never_answers_is_given_up_after_the_connect_timeout(silent_listener, tmp_path):
    pytest.importorskip("ray", reason="the fleet extra (Ray) is not installed")
    started = time.monotonic()
    process = start_probe(silent_listener, "--connect-timeout", "3", cwd=os.getcwd())
    try:
        _, stderr = process.communicate(timeout=90)
    finally:
        process.kill()
    assert time.monotonic() - started < 60  # Ray alone retries for minutes
    assert process.returncode == 1
    assert (f"tppcalc: error: the Ray cluster at {silent_listener} did not answer within 3 s (--connect-timeout)"
            in stderr.splitlines())


@pytest.mark.slow
def test_sigterm_while_connecting_ends_the_probe_promptly_and_writes_nothing(silent_listener, tmp_path):
    pytest.importorskip("ray", reason="the fleet extra (Ray) is not installed")
    output = tmp_path / "out" / "nodes.jsonl"
    output.parent.mkdir()
    process = start_probe(silent_listener, "--connect-timeout", "300", "-o", str(output), cwd=os.getcwd())
    time.sleep(6)  # importing Ray and starting to connect
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert time.monotonic() - sent < 10
    assert process.returncode in (128 + signal.SIGTERM, -signal.SIGTERM), stderr
    if process.returncode > 0:
        assert "tppcalc: stopped by SIGTERM" in stderr
    assert list(output.parent.iterdir()) == []
