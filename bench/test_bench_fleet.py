"""Aggregating 100,000 HostReports (8-GPU nodes, JSON Lines) into fleet totals: goal under 5 s.

Each node's GPUs carry their own UUIDs and serial numbers, as on real hardware, so that no line
or device record repeats another byte for byte: a reader cannot get its speed from repeated text.
"""

import datetime as dt
import json
from pathlib import Path

from tppcalc.catalogue import Catalogue
from tppcalc.fleet import report_fleet
from tppcalc.probe.run import load_dump, report_from_dump

DGX = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hosts" / "dgx-h100.json"
NODES = 100_000
COUNTRIES = ("US", "DE", "AE", "IN", "JP")


def test_aggregate_100k_host_reports(benchmark, tmp_path):
    host = report_from_dump(load_dump(DGX)).model_dump(mode="json")
    path = tmp_path / "nodes.jsonl"
    with path.open("w") as out:
        for index in range(NODES):
            host["hostname"] = f"node-{index}"
            for gpu in host["gpus"]:
                gpu["uuid"] = f"GPU-{index:08x}-{gpu['index']:04x}-fixture-h100"
                gpu["serial"] = str(1650000000000 + index * 8 + gpu["index"])
            out.write(json.dumps({"host": host, "country": COUNTRIES[index % len(COUNTRIES)],
                                  "operator": "Example Cloud", "operator_hq": "US"}) + "\n")
    catalogue = Catalogue.load()
    report = benchmark.pedantic(report_fleet, args=([path], catalogue), kwargs={"as_of": dt.date(2025, 6, 1)},
                                rounds=3, iterations=1)
    assert sum(total.units for total in report.totals_by_country.values()) == NODES * 9  # 8 GPUs + 1 CPU
