"""Probe replays: recorded hosts (tests/fixtures/hosts) mutated field by field, NVML calls failing,
the device count garbled; judged node by node and device by device against the original."""

from __future__ import annotations

import json
from functools import cache as functools_cache
from typing import Any

from fuzz_cases import DAY, HOSTS, Case, Finding, Outcome, baseline, plausible, register
from fuzz_mutate import TREE_FAMILIES, Chooser, mutate_tree, short, tree_paths
from fuzz_order import Answer, permissive_flip
from fuzz_writers import NUMBERS, dump_json

PROBE_DATES = ("2026-02-01", "2022-12-01", "2024-01-01")
PROBE_FAMILIES = (*TREE_FAMILIES, "nvml-error", "device-count")
NVML_ERRORS = ("Unknown", "NoPermission", "LibRmVersionMismatch", "GpuIsLost", "NotSupported", "FunctionNotFound",
               "DriverNotLoaded", "Bogus", "")


def host_fixtures() -> list[str]:
    return sorted(p.name for p in HOSTS.glob("*.json"))


@functools_cache
def _host(name: str) -> dict:
    return json.loads((HOSTS / name).read_text(encoding="utf-8"))


def probe_argv(day: str) -> list[str]:
    return ["probe", "--replay", "{dir}/host.json", "--dest", "CN", "--as-of", day, "--json"]


def probe_case(chooser: Chooser, family: str | None = None, **_: Any) -> Case:
    family = family or chooser.choice(PROBE_FAMILIES)
    # An NVML answer can only be turned into an error where the recording holds one (not the
    # PCI-only recordings of AMD nodes).
    fixtures = [f for f in host_fixtures() if family != "nvml-error" or _host(f).get("nvml", {}).get("calls")]
    fixture = chooser.choice(fixtures)
    day = chooser.choice(PROBE_DATES)
    dump = _host(fixture)
    if family == "nvml-error":
        answers = [p for p in tree_paths(dump) if len(p) == 3 and p[:2] == ("nvml", "calls")]
        path = chooser.choice(answers)
        kind = chooser.choice(NVML_ERRORS)
        mutant = json.loads(json.dumps(dump))
        mutant["nvml"]["calls"][path[2]] = {"error": kind, "message": "injected"}
        what = f"NVML call {path[2]} answers error {kind!r}"
    elif family == "device-count":
        sub = chooser.choice(("delete", "retype", "number", "error"))
        mutant = json.loads(json.dumps(dump))
        calls = mutant["nvml"].setdefault("calls", {})
        if sub == "delete":
            calls.pop("nvmlDeviceGetCount()", None)
            what = "deleted the nvmlDeviceGetCount() answer"
        elif sub == "error":
            kind = chooser.choice(NVML_ERRORS)
            calls["nvmlDeviceGetCount()"] = {"error": kind, "message": "injected"}
            what = f"nvmlDeviceGetCount() answers error {kind!r}"
        else:
            value = chooser.choice(NUMBERS if sub == "number" else ({}, [], "8", None, 8.0, True))
            calls["nvmlDeviceGetCount()"] = {"value": value}
            what = f"nvmlDeviceGetCount() answers {short(value)}"
    else:
        mutant, what = mutate_tree(dump, chooser, family)
    content = dump_json(mutant, indent=1).encode("utf-8", "surrogatepass")
    return Case("probe", family, f"{fixture} at {day}: {what}", {"host.json": content},
                argv=probe_argv(day), context={"base": (fixture, day), "plausible": plausible(what)}, check="probe")


def probe_baseline_case(fixture: str, day: str) -> Case:
    return Case("probe", "original", f"{fixture} at {day}", {"host.json": (HOSTS / fixture).read_bytes()},
                argv=probe_argv(day), context={"base": (fixture, day)}, check="none")


def probe_answers(stdout: str) -> dict[str, Answer]:
    document = json.loads(stdout)
    node = document["node"]
    answers = {"node": Answer.of(node.get("eccn"), node.get("undetermined"), node.get("license_required"))}
    for device in document.get("devices", []):
        c = device.get("classification") or {}
        answers[device.get("label", "?")] = Answer.of(c.get("eccn"), c.get("undetermined"), c.get("license_required"))
    return answers


def _check_probe(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code != 0:
        return []
    fixture, day = case.context["base"]
    original = baseline(("probe", fixture, day), lambda: probe_baseline_case(fixture, day),
                        lambda o: probe_answers(o.stdout))
    mutant = probe_answers(outcome.stdout)
    found = []
    for label, answer in mutant.items():
        if label in original:
            why = permissive_flip(original[label], answer)
            if why:
                found.append(Finding("permissive-flip", f"{label}: {why}"))
    if "node" not in mutant:
        found.append(Finding("permissive-flip", "no node answer"))
    return found


register("probe", {"probe": _check_probe}, lambda: [probe_baseline_case("dgx-h100.json", DAY)])
