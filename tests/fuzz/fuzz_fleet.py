"""Fleet inventories (TOML) and probe lines (JSON Lines), mutated where totals are made; judged
check by check: no check may pass after a fault."""

from __future__ import annotations

import json
import tomllib
from functools import cache as functools_cache
from typing import Any

from fuzz_cases import FLEET, Case, Finding, Outcome, baseline, plausible, register, run_case
from fuzz_mutate import TREE_FAMILIES, Change, Chooser, get_at, mutate_tree, tree_paths
from fuzz_order import check_flip
from fuzz_probe import probe_baseline_case
from fuzz_writers import dump_json, dump_toml

FLEET_DAY = "2025-06-01"
# "figure": a bad number where a total is made (an item's or device's count, a device's TPP).
FLEET_FAMILIES = (*TREE_FAMILIES, "figure", "line-ends", "bom")


@functools_cache
def _inventory() -> dict:
    return tomllib.loads((FLEET / "four-countries.toml").read_text(encoding="utf-8"))


@functools_cache
def _probe_lines() -> tuple[dict, ...]:
    """Probe results as `fleet probe` writes them, in AE: a DGX H100 with one GPU lost (its TPP
    unknown, so the AE checks are undetermined: a fault must not make them pass) and an H20 node."""
    lines = []
    for fixture, site in (("dgx-h100-gpu-lost.json", "auh-2"), ("h20.json", "auh-3")):
        case = probe_baseline_case(fixture, FLEET_DAY)
        outcome = run_case(case)
        document = json.loads(outcome.stdout)
        node = {"host": document["host"], "devices": document["devices"], "country": "AE", "site": site,
                "operator": "Example Cloud", "operator_hq": "US", "consignee": "Example Cloud FZ-LLC"}
        lines.append(node)
    return tuple(lines)


# Caps under which the original fleet has checks of every status (a check that passes already
# cannot flip): LPP at 10,000,000 fails for the 16,211,968 TPP shipped to Example Cloud GmbH.
FLEET_CAPS = ("--cap", "lpp_tpp_per_consignee_year=10000000")


def fleet_argv() -> list[str]:
    return ["fleet", "report", "{dir}/inventory.toml", "{dir}/nodes.jsonl", "--as-of", FLEET_DAY, *FLEET_CAPS,
            "--json"]


def _leaf_paths(tree: Any) -> list:
    """Where a fleet mutation may land: fields, not whole sites, items or devices (removing a site
    is different data, not a fault)."""
    return [p for p in tree_paths(tree) if not isinstance(get_at(tree, p), (dict, list))
            or (isinstance(get_at(tree, p), list) and all(not isinstance(v, (dict, list)) for v in get_at(tree, p)))]


# What a fleet reads of a probe line (tppcalc.fleet.nodes); the rest of a line is never read.
_NODE_FIELDS = {"country", "site", "operator", "operator_hq", "consignee"}
_DEVICE_FIELDS = {"identified_as", "name", "count", "metrics"}
_GPU_FIELDS = {"pci_vendor_id", "pci_device_id", "pci_subsystem_id", "memory_total_bytes", "name",
               "compute_capability", "cuda_cores", "max_sm_clock_mhz"}
_CPU_FIELDS = {"model_name", "machine", "microarchitecture", "physical_cores", "sockets", "max_mhz", "flags"}


def _fleet_reads(path: tuple) -> bool:
    if len(path) == 1:
        return path[0] in _NODE_FIELDS
    if path[0] == "devices":
        return len(path) >= 3 and path[2] in _DEVICE_FIELDS and (path[2] != "metrics" or path[3:4] == ("tpp",))
    if path[0] == "host" and len(path) >= 4 and path[1] in ("gpus", "cpus"):
        return path[3] in (_GPU_FIELDS if path[1] == "gpus" else _CPU_FIELDS)
    return False


def fleet_case(chooser: Chooser, family: str | None = None, **_: Any) -> Case:
    family = family or chooser.choice(FLEET_FAMILIES)
    inventory, lines = _inventory(), [dict(line) for line in _probe_lines()]
    line_end, bom, what = "\n", False, ""
    if family == "line-ends":
        line_end = chooser.choice(("\r", "\r\n"))
        what = f"probe lines end in {line_end!r}"
    elif family == "bom":
        bom, what = True, "probe lines start with a UTF-8 byte order mark"
    elif family == "figure":
        index = chooser.below(len(lines) + 1)
        tree = inventory if index == len(lines) else lines[index]
        paths = [p for p in tree_paths(tree) if p[-1] in ("count", "tpp") and (p[0] != "devices" or _fleet_reads(p))]
        unknown = [p for p in paths if get_at(tree, p) is None]
        if unknown and chooser.below(2) == 0:  # half the time, where the original keeps a check open
            paths = unknown
        # every count and TPP, an unknown (null) TPP too: a bad number must not make it known
        mutant, described = mutate_tree(tree, chooser, "number", paths=paths, narrow=False)
        place = "inventory" if index == len(lines) else f"probe line {index + 1}"
        what = Change(f"{place}: {described}")
        what.plausible = described.plausible
        if index == len(lines):
            inventory = mutant
        else:
            lines[index] = mutant
    elif chooser.below(2):
        paths = _leaf_paths(inventory) if family == "delete" else None
        inventory, described = mutate_tree(inventory, chooser, family, paths=paths)
        what = Change(f"inventory: {described}")
        what.plausible = described.plausible
    else:
        index = chooser.below(len(lines))
        line = lines[index]
        paths = [p for p in _leaf_paths(line) if _fleet_reads(p) and (p[0] != "host" or family != "delete")]
        lines[index], described = mutate_tree(line, chooser, family, paths=paths)
        what = Change(f"probe line {index + 1}: {described}")
        what.plausible = described.plausible
    jsonl = line_end.join(dump_json(line) for line in lines) + line_end
    files = {"inventory.toml": dump_toml(inventory).encode("utf-8", "surrogatepass"),
             "nodes.jsonl": (b"\xef\xbb\xbf" if bom else b"") + jsonl.encode("utf-8", "surrogatepass")}
    return Case("fleet", family, what, files, argv=fleet_argv(), context={"plausible": plausible(what)},
                check="fleet")


def fleet_baseline_case() -> Case:
    jsonl = "".join(dump_json(line) + "\n" for line in _probe_lines())
    return Case("fleet", "original", "four-countries.toml and two AE nodes",
                {"inventory.toml": dump_toml(_inventory()).encode(), "nodes.jsonl": jsonl.encode()},
                argv=fleet_argv(), check="none")


def fleet_checks(outcome: Outcome) -> dict[str, str]:
    return {check["name"]: check["status"] for check in json.loads(outcome.stdout)["checks"]}


def _check_fleet(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code != 0:
        return []
    original = baseline(("fleet",), fleet_baseline_case, fleet_checks)
    found = []
    for name, status in fleet_checks(outcome).items():
        if name in original:
            why = check_flip(original[name], status)
            if why:
                found.append(Finding("permissive-flip", f"{name}: {why}"))
    return found


register("fleet", {"fleet": _check_fleet}, lambda: [fleet_baseline_case()])
