"""Every input kind the harness mutates: its case maker and its families of mutations.

Importing this module registers each kind's checkers and warm-up cases with fuzz_cases.
"""

from __future__ import annotations

from collections.abc import Callable

from fuzz_args import ARGS_FAMILIES, args_case
from fuzz_batch import BATCH_FAMILIES, batch_case
from fuzz_cases import Case
from fuzz_fleet import FLEET_FAMILIES, fleet_case
from fuzz_probe import PROBE_FAMILIES, probe_case
from fuzz_spec import SPEC_FAMILIES, spec_case

MAKERS: dict[str, Callable[..., Case]] = {
    "probe": probe_case, "batch": batch_case, "fleet": fleet_case, "spec": spec_case, "args": args_case,
}
FAMILIES: dict[str, tuple[str, ...]] = {
    "probe": PROBE_FAMILIES, "batch": BATCH_FAMILIES, "fleet": FLEET_FAMILIES, "spec": SPEC_FAMILIES,
    "args": ARGS_FAMILIES,
}
