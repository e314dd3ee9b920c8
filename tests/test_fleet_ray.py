"""Probing a real local Ray cluster (Ray's own test-cluster utility), with a node killed mid-run."""

import json
import time

import pytest

ray = pytest.importorskip("ray", reason="the fleet extra (Ray) is not installed")

from tppcalc.fleet.ray_probe import probe_cluster  # noqa: E402


@pytest.mark.slow
def test_two_local_nodes_give_two_reports(run_cli):
    result = run_cli("fleet", "probe", "--local-nodes", "2", "--json", "--country", "DE")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert len(out["nodes"]) == 2 and out["missing"] == []
    assert len({node["node_id"] for node in out["nodes"]}) == 2
    assert all(node["devices"] and node["country"] == "DE" for node in out["nodes"])


@pytest.mark.slow
def test_a_node_killed_mid_run_is_named_and_the_other_completes():
    killed = {}

    def kill_a_worker(cluster):
        worker = next(iter(cluster.worker_nodes))
        killed["node_id"] = worker.node_id
        time.sleep(4)  # the tasks are running (each waits 8 s before probing) when the node goes
        cluster.remove_node(worker)

    result = probe_cluster(local_nodes=2, timeout_s=120, _delay_s=8.0, _on_started=kill_a_worker)
    assert len(result.nodes) == 1
    (missing,) = result.missing
    assert missing["node_id"] == killed["node_id"]
    assert missing["reason"].startswith("NodeDiedError")
