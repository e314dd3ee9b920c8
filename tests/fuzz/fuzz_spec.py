"""Spec files (TOML in the catalogue format) mutated field by field, classified through
``tppcalc --specs-dir``; judged against the unmutated record's classification."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from functools import cache as functools_cache
from typing import Any

from fuzz_cases import DAY, SPECS, Case, Finding, Outcome, baseline, plausible, register
from fuzz_mutate import TREE_FAMILIES, Chooser, mutate_tree, tree_paths
from fuzz_order import Answer, permissive_flip
from fuzz_writers import dump_toml

SPEC_CHIPS = ("nvidia-h100-sxm5-80gb", "nvidia-l4", "amd-instinct-mi300x")
SPEC_FAMILIES = TREE_FAMILIES


@functools_cache
def _spec_record(chip_id: str) -> tuple[dict, dict]:
    for path in sorted(SPECS.glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        for record in document.get("chip", []):
            if record["id"] == chip_id:
                record = dict(record)
                record["id"] = "fuzz-" + chip_id
                record["name"] = "Fuzz " + record["name"]
                record.pop("aliases", None)
                record.pop("pci", None)   # a user record may not claim a shipped chip's PCI ids
                return document.get("sources", {}), record
    raise LookupError(chip_id)


def spec_argv(chip_id: str) -> list[str]:
    return ["--specs-dir", "{dir}/specs", "classify", "fuzz-" + chip_id, "--dest", "CN", "--as-of", DAY, "--json"]


def _spec_mutation_paths(record: dict) -> list:
    """Where a spec mutation may land. Deleting a rated precision or a whole processing unit is
    different data (the chip does not run it), not a missing value: left out of "delete"."""
    paths = []
    for path in tree_paths(record):
        if "dense_tops" in path and path[-1] != "value" and path.index("dense_tops") == len(path) - 2:
            continue
        if len(path) == 2 and path[0] == "processing_units":
            continue
        paths.append(path)
    return paths


def spec_case(chooser: Chooser, family: str | None = None, **_: Any) -> Case:
    chip_id = chooser.choice(SPEC_CHIPS)
    family = family or chooser.choice(SPEC_FAMILIES)
    sources, record = _spec_record(chip_id)
    document = {"sources": sources, "chip": [record]}
    if chooser.below(10) == 0:
        document, what = mutate_tree(document, chooser, family, paths=[("sources",)])
    else:
        paths = _spec_mutation_paths(record) if family == "delete" else None
        mutated, what = mutate_tree(record, chooser, family, paths=paths)
        document = {"sources": sources, "chip": [mutated]}
    content = dump_toml(document).encode("utf-8", "surrogatepass")
    return Case("spec", family, f"{chip_id}: {what}", {"specs/user.toml": content},
                argv=spec_argv(chip_id), context={"chip": chip_id, "plausible": plausible(what)}, check="spec")


def spec_baseline_case(chip_id: str) -> Case:
    sources, record = _spec_record(chip_id)
    content = dump_toml({"sources": sources, "chip": [record]}).encode()
    return Case("spec", "original", chip_id, {"specs/user.toml": content},
                argv=spec_argv(chip_id), check="none")


def classify_answer(outcome: Outcome) -> Answer:
    document = json.loads(outcome.stdout)
    if isinstance(document, list):
        document = document[0]
    return Answer.of(document.get("eccn"), document.get("undetermined"), document.get("license_required"))


def _check_spec(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code != 0:
        return []
    chip_id = case.context["chip"]
    original = baseline(("spec", chip_id), lambda: spec_baseline_case(chip_id), classify_answer)
    why = permissive_flip(original, classify_answer(outcome))
    return [Finding("permissive-flip", why)] if why else []


register("spec", {"spec": _check_spec}, lambda: [spec_baseline_case(SPEC_CHIPS[0])])
