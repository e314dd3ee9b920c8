"""A fuzz case, how one runs, and the invariants checked on its answer (every input kind alike).

A ``Case`` is self-contained: the files it writes, the command line (``{dir}`` stands for the
case's own folder) and what its checker needs (the unmutated original's answers). The test suite
draws cases through hypothesis, the bench campaign through ``random.Random`` (the makers are in
fuzz_probe, fuzz_batch, fuzz_fleet, fuzz_spec and fuzz_args, listed by fuzz_targets); both run them
with ``run_case`` (a forked child, bounded in time and memory) and judge them with ``findings``.

Invariants, on every case:
- no traceback: the command exits 0 (or a documented gate code), 1 with a ``tppcalc: error:``
  line, or 2 (usage); the API raises nothing but ``TppcalcError``;
- bounded: done within the time limit, and within the memory budget;
- batch: as many output rows as input rows, in order, and ``--fail-on controlled`` exits 3
  unless every row was proven outside;
- monotonic: no answer more permissive than the unmutated original's (``fuzz_order``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuzz_isolate import Isolated, run_isolated

REPO = Path(__file__).resolve().parents[2]
HOSTS = REPO / "tests" / "fixtures" / "hosts"
FLEET = REPO / "tests" / "fixtures" / "fleet"
SPECS = REPO / "specs"
DAY = "2026-02-01"


# ----------------------------------------------------------------- cases and how one runs


@dataclass
class Case:
    target: str                     # probe | batch | fleet | spec | args
    family: str                     # the kind of mutation
    what: str                       # one line: what was changed
    files: dict[str, bytes]         # relative path -> content, written into the case's folder
    argv: list[str] = field(default_factory=list)    # CLI arguments; "{dir}" is the case folder
    api: tuple[str, dict] | None = None              # or an API call: (name, keyword arguments)
    outputs: tuple[str, ...] = ()   # files to read back
    context: dict = field(default_factory=dict)      # what the checker needs
    check: str = "none"             # name of the checker in CHECKERS


@dataclass
class Outcome:
    isolated: Isolated
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    traceback: str = ""
    outputs: dict[str, bytes] = field(default_factory=dict)
    api_value: Any = None


@dataclass(frozen=True)
class Finding:
    kind: str       # traceback | hang | memory | crash | unclear-error | bad-exit | lost-rows | gate |
    #                 permissive-flip | junk-resolved
    detail: str


def _child(case: Case) -> dict:
    """Runs inside the forked child: write the files, run the command or call, read outputs."""
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{case.target}-"))
    try:
        os.environ["TPPCALC_CACHE_DIR"] = str(folder / "cache")  # each case validates afresh
        for name, content in case.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        if case.api is not None:
            return _call_api(case.api)
        from click.testing import CliRunner

        from tppcalc.cli.main import cli

        argv = [a.replace("{dir}", str(folder)) for a in case.argv]
        result = CliRunner().invoke(cli, argv, catch_exceptions=True)
        text = ""
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            text = _keep_ends("".join(traceback.format_exception(*result.exc_info)))
        outputs = {}
        for name in case.outputs:
            path = folder / name
            if path.is_file():
                outputs[name] = path.read_bytes()
        stderr = result.stderr if len(result.stderr) < 20_000 else result.stderr[:10_000] + result.stderr[-10_000:]
        return {"exit_code": result.exit_code, "stdout": result.stdout[-2_000_000:],
                "stderr": stderr, "traceback": text, "outputs": outputs}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _call_api(api: tuple[str, dict]) -> dict:
    import tppcalc
    from tppcalc.errors import TppcalcError

    name, kwargs = api
    kwargs = dict(kwargs)
    chip = kwargs.pop("chip")
    if isinstance(chip, tuple) and chip[0] == "catalogue":
        chip = tppcalc.default_catalogue().lookup(chip[1])
    try:
        result = getattr(tppcalc, name)(chip, **kwargs)
    except TppcalcError as exc:
        return {"api_value": ("error", type(exc).__name__, str(exc)[:300])}
    except Exception as exc:  # noqa: BLE001 - a traceback for the user of the API
        return {"traceback": _keep_ends("".join(traceback.format_exception(exc)))}
    return {"api_value": ("ok", result.eccn, result.undetermined, result.license_required, result.destination)}


_WARM: set[str] = set()


def warm_up(target: str) -> None:
    """Run one unmutated case of ``target`` in this process, once: the imports, validators and
    caches it loads are then inherited by every forked case instead of rebuilt in each."""
    if target in _WARM:
        return
    _WARM.add(target)
    saved = os.environ.get("TPPCALC_CACHE_DIR")
    try:
        for original in WARM_UPS.get(target, list)():
            _child(original)
    finally:
        if saved is None:
            os.environ.pop("TPPCALC_CACHE_DIR", None)
        else:
            os.environ["TPPCALC_CACHE_DIR"] = saved


def run_case(case: Case, *, time_limit: float = 10.0) -> Outcome:
    warm_up(case.target)
    isolated = run_isolated(_child, case, time_limit=time_limit)
    if isolated.status != "ok":
        return Outcome(isolated, traceback=isolated.detail)
    value = isolated.value
    return Outcome(isolated, value.get("exit_code"), value.get("stdout", ""), value.get("stderr", ""),
                   value.get("traceback", ""), value.get("outputs", {}), value.get("api_value"))


def findings(case: Case, outcome: Outcome) -> list[Finding]:
    """Every invariant this case broke."""
    status = outcome.isolated.status
    if status == "hang":
        return [Finding("hang", outcome.isolated.detail)]
    if status == "memory":
        return [Finding("memory", "MemoryError under the memory budget (runaway allocation)")]
    if status == "crash":
        return [Finding("crash", outcome.isolated.detail)]
    if status == "exception":
        return [Finding("traceback", _last_line(outcome.traceback))]
    if outcome.traceback:
        kind = "memory" if "MemoryError" in _last_line(outcome.traceback) else "traceback"
        return [Finding(kind, _last_line(outcome.traceback))]
    if case.api is not None:
        return CHECKERS[case.check](case, outcome)
    found: list[Finding] = []
    if "Traceback" in outcome.stderr:
        found.append(Finding("traceback", "a traceback on stderr"))
    if outcome.exit_code == 1 and not any(line.startswith("tppcalc: error: ") for line in outcome.stderr.splitlines()):
        found.append(Finding("unclear-error", f"exit 1 without a 'tppcalc: error:' line: {outcome.stderr[-200:]!r}"))
    if outcome.exit_code not in case.context.get("exit_codes", (0, 1, 2)):
        found.append(Finding("bad-exit", f"exit code {outcome.exit_code}"))
    if not found:
        found.extend(CHECKERS[case.check](case, outcome))
    if case.context.get("plausible"):  # the new value may be real data: its answer may differ
        found = [f for f in found if f.kind != "permissive-flip"]
    return found


def plausible(what: str) -> bool:
    return bool(getattr(what, "plausible", False))


def _last_line(text: str) -> str:
    """The exception's own line: the first unindented line after the last frame (a pydantic
    ValidationError's message runs over several lines; its first names the model)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    after = lines[frames[-1] + 1:] if frames else lines
    for line in after:
        if not line.startswith(" "):
            return line[:300]
    return lines[-1][:300] if lines else text[:300]


def _keep_ends(text: str, limit: int = 8000) -> str:
    """Both ends of a long traceback: the outermost frames say which command, the innermost why."""
    return text if len(text) <= limit else text[: limit // 2] + "\n  ...\n" + text[-limit // 2:]


def error_line(outcome: Outcome) -> str:
    for line in outcome.stderr.splitlines():
        if line.startswith("tppcalc: error: "):
            return line[:300]
    return ""


BASELINES: dict[tuple, Any] = {}


def baseline(key: tuple, make: Callable[[], Case], read: Callable[[Outcome], Any]) -> Any:
    """The unmutated original's answers, computed once per process."""
    if key not in BASELINES:
        outcome = run_case(make())
        if outcome.exit_code not in (0, 3) or outcome.traceback:  # 3: the --fail-on gate
            raise AssertionError(f"the unmutated original {key} fails: {outcome.traceback or outcome.stderr}")
        BASELINES[key] = read(outcome)
    return BASELINES[key]


def _no_check(case: Case, outcome: Outcome) -> list[Finding]:
    return []


# Each input kind's module registers its checkers (by name, as a Case names them) and the
# unmutated cases run once in this process before any fork (warm_up).
CHECKERS: dict[str, Callable[[Case, Outcome], list[Finding]]] = {"none": _no_check}
WARM_UPS: dict[str, Callable[[], list[Case]]] = {}


def register(target: str, checkers: dict[str, Callable[[Case, Outcome], list[Finding]]],
             warm_up: Callable[[], list[Case]]) -> None:
    CHECKERS.update(checkers)
    WARM_UPS[target] = warm_up
