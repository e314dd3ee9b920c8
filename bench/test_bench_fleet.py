"""Aggregating 100,000 HostReports (8-GPU nodes, JSON Lines) into fleet totals: goal under 5 s.

Each node's GPUs carry their own UUIDs and serial numbers, as on real hardware, so that no line
or device record repeats another byte for byte: a reader cannot get its speed from repeated text.
"""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tppcalc.data.catalogue import Catalogue
from tppcalc.fleet import report_fleet
from tppcalc.probe.run import load_dump, report_from_dump

DGX = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hosts" / "dgx-h100.json"
NODES = 100_000
COUNTRIES = ("US", "DE", "AE", "IN", "JP")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory) -> Path:
    host = report_from_dump(load_dump(DGX)).model_dump(mode="json")
    path = tmp_path_factory.mktemp("fleet") / "nodes.jsonl"
    with path.open("w") as out:
        for index in range(NODES):
            host["hostname"] = f"node-{index}"
            for gpu in host["gpus"]:
                gpu["uuid"] = f"GPU-{index:08x}-{gpu['index']:04x}-fixture-h100"
                gpu["serial"] = str(1650000000000 + index * 8 + gpu["index"])
            out.write(json.dumps({"host": host, "country": COUNTRIES[index % len(COUNTRIES)],
                                  "operator": "Example Cloud", "operator_hq": "US"}) + "\n")
    return path


def test_aggregate_100k_host_reports(benchmark, nodes):
    catalogue = Catalogue.load()
    report = benchmark.pedantic(report_fleet, args=([nodes], catalogue), kwargs={"as_of": dt.date(2025, 6, 1)},
                                rounds=3, iterations=1)
    assert sum(total.units for total in report.totals_by_country.values()) == NODES * 9  # 8 GPUs + 1 CPU


@pytest.mark.parametrize("output", ["text", "json"])
def test_fleet_report_command_text_and_json(benchmark, nodes, output):
    """``tppcalc fleet report`` in a new process, as text and as --json: the text, a summary of
    the 100,000 sites (issue 20), within 1.5x of --json."""
    command = [sys.executable, "-m", "tppcalc", "fleet", "report", str(nodes), "--as-of", "2025-06-01",
               *(["--json"] if output == "json" else [])]
    result = benchmark.pedantic(subprocess.run, args=(command,), kwargs={"capture_output": True, "check": True},
                                rounds=3, iterations=1)
    assert b"99,980 more sites" in result.stdout if output == "text" else result.stdout.startswith(b"{")
