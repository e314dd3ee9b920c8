"""Fuzz cases for each kind of input, how one runs, and the invariants checked on its answer.

A ``Case`` is self-contained: the files it writes, the command line (``{dir}`` stands for the
case's own folder) and what its checker needs (the unmutated original's answers). The test suite
draws cases through hypothesis, the bench campaign through ``random.Random``; both run them with
``run_case`` (a forked child, bounded in time and memory) and judge them with ``findings``.

Invariants, on every case:
- no traceback: the command exits 0 (or a documented gate code), 1 with a ``tppcalc: error:``
  line, or 2 (usage); the API raises nothing but ``TppcalcError``;
- bounded: done within the time limit, and within the memory budget;
- batch: as many output rows as input rows, in order, and ``--fail-on controlled`` exits 3
  unless every row was proven outside;
- monotonic: no answer more permissive than the unmutated original's (``fuzz_order``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import tempfile
import tomllib
import traceback
from functools import cache as functools_cache
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fuzz_isolate import Isolated, run_isolated
from fuzz_mutate import (
    BAD_NUMBERS,
    BAD_TEXTS,
    TREE_FAMILIES,
    Change,
    Chooser,
    RawNumber,
    change,
    get_at,
    mutate_tree,
    short,
    tree_paths,
)
from fuzz_order import Answer, check_flip, permissive_flip

REPO = Path(__file__).resolve().parents[2]
HOSTS = REPO / "tests" / "fixtures" / "hosts"
FLEET = REPO / "tests" / "fixtures" / "fleet"
SPECS = REPO / "specs"
DAY = "2026-02-01"


# ----------------------------------------------------------------- values that must be written raw


NUMBERS = BAD_NUMBERS


def _with_raw(value: Any, raws: dict[str, str], depth: int = 0) -> Any:
    if depth > 200:  # deep nesting from a mutation holds no raw numbers
        return value
    if isinstance(value, RawNumber):
        key = f"@@raw{len(raws)}@@"
        raws[key] = value.text
        return key
    if isinstance(value, dict):
        return {k: _with_raw(v, raws, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_raw(v, raws, depth + 1) for v in value]
    if isinstance(value, Decimal):
        return _with_raw(RawNumber(_decimal_text(value)), raws)
    return value


def _decimal_text(value: Decimal) -> str:
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    return str(value)


def dump_json(value: Any, *, indent: int | None = None) -> str:
    """JSON with NaN/Infinity and numbers of any length, as a hostile writer would make it."""
    raws: dict[str, str] = {}
    prepared = _with_raw(value, raws)
    text = _dumps_deep(prepared, indent)
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw)
    return text


def _dumps_deep(value: Any, indent: int | None) -> str:
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=True)
    except RecursionError:  # 5,000-deep nesting: json.dumps recurses; write it iteratively
        return _dumps_iterative(value)


def _dumps_iterative(value: Any) -> str:
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Token):
            out.append(item.text)
        elif isinstance(item, list):
            stack.append(_Token("]"))
            for index, element in reversed(list(enumerate(item))):
                stack.append(element)
                if index:
                    stack.append(_Token(","))
            out.append("[")
        elif isinstance(item, dict):
            stack.append(_Token("}"))
            for index, (key, element) in reversed(list(enumerate(item.items()))):
                stack.append(element)
                stack.append(_Token(json.dumps(str(key), ensure_ascii=False) + ":"))
                if index:
                    stack.append(_Token(","))
            out.append("{")
        else:
            out.append(json.dumps(item, ensure_ascii=False, allow_nan=True))
    return "".join(out)


@dataclass(frozen=True)
class _Token:
    text: str


def dump_toml(document: dict) -> str:
    """TOML for the shapes spec files and inventories use (and whatever a mutation put there):
    every top-level key as ``key = value``, tables and arrays inline."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in document.items())


def _toml_key(key: Any) -> str:
    return json.dumps(str(key), ensure_ascii=True)


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate cannot be written as TOML: keep it visible
            out.append(f"\\\\ud{code:x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_deep(value: Any) -> str:
    opens, closes = [], []
    while (isinstance(value, list) and len(value) == 1) or (isinstance(value, dict) and len(value) == 1):
        if isinstance(value, list):
            opens.append("[")
            closes.append("]")
            value = value[0]
        else:
            key, value = next(iter(value.items()))
            opens.append("{" + _toml_key(key) + " = ")
            closes.append("}")
    inner = _toml_value(value) if not isinstance(value, (list, dict)) or not value else '""'
    return "".join(opens) + inner + "".join(reversed(closes))


def _toml_value(value: Any, depth: int = 0) -> str:
    if depth > 150:  # deep nesting from a mutation: written without recursion
        return _toml_deep(value)
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "nan"
        if value.is_infinite():
            return "inf" if value > 0 else "-inf"
        text = str(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _toml_string(value)
    if value is None:
        return '""'  # TOML has no null; an empty string is the nearest garbage
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v, depth + 1)}" for k, v in value.items()) + "}"
    return _toml_string(repr(value))


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
    originals = {
        "probe": lambda: probe_baseline_case("dgx-h100.json", DAY),
        "batch": lambda: batch_baseline_case("xlsx"),
        "fleet": fleet_baseline_case,
        "spec": lambda: spec_baseline_case(SPEC_CHIPS[0]),
        "args": lambda: Case("args", "original", "", {}, argv=["classify", "H20", "--dest", "CN", "--json"]),
    }
    saved = os.environ.get("TPPCALC_CACHE_DIR")
    try:
        _child(originals[target]())
        if target == "batch":
            for file_format in ("csv", "jsonl", "parquet"):
                _child(batch_baseline_case(file_format))
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


def _plausible(what: str) -> bool:
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


# ----------------------------------------------------------------- probe replays

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
    fixture = chooser.choice(host_fixtures())
    day = chooser.choice(PROBE_DATES)
    family = family or chooser.choice(PROBE_FAMILIES)
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
    return Case("probe", family, f"{fixture} at {day}: {what}", {"host.json": dump_json(mutant, indent=1).encode("utf-8", "surrogatepass")},
                argv=probe_argv(day), context={"base": (fixture, day), "plausible": _plausible(what)}, check="probe")


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


_BASELINES: dict[tuple, Any] = {}


def baseline(key: tuple, make: Callable[[], Case], read: Callable[[Outcome], Any]) -> Any:
    """The unmutated original's answers, computed once per process."""
    if key not in _BASELINES:
        outcome = run_case(make())
        if outcome.exit_code not in (0, 3) or outcome.traceback:  # 3: the --fail-on gate
            raise AssertionError(f"the unmutated original {key} fails: {outcome.traceback or outcome.stderr}")
        _BASELINES[key] = read(outcome)
    return _BASELINES[key]


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


# ----------------------------------------------------------------- batch files

BATCH_ROWS: dict[str, dict[str, str]] = {
    "h100": {"chip": "H100 SXM", "quantity": "8"},
    "h20": {"chip": "H20"},
    "on-the-line": {"dense_int8_tops": "600", "die_area_mm2": "600", "datacenter": "true"},  # TPP 4800 exactly
    "mid": {"dense_fp8_tflops": "250", "die_area_mm2": "300", "datacenter": "true", "io_bidir_gbps": "900",
            "dram_bandwidth_gbps": "3000"},
    "small": {"dense_fp16_tflops": "50"},
    "open": {"dense_int8_tops": "250", "datacenter": "true"},  # die area unknown: undetermined
    "text": {"chip": "RTX 4090", "note": '5" screen, "quoted"; Grüße'},
}
BATCH_COLUMNS = ("id", "chip", "quantity", "dense_fp16_tflops", "dense_fp8_tflops", "dense_int8_tops", "die_area_mm2",
                 "datacenter", "io_bidir_gbps", "dram_bandwidth_gbps", "note")
NUMERIC_COLUMNS = {"quantity", "dense_fp16_tflops", "dense_fp8_tflops", "dense_int8_tops", "die_area_mm2",
                   "io_bidir_gbps", "dram_bandwidth_gbps"}
BATCH_FORMATS = ("csv", "jsonl", "parquet", "xlsx")
BATCH_FAMILIES = ("cell", "empty-cell", "drop-column", "line-ends", "bom", "quoting", "encoding", "bytes")
# Families that leave every row's data as it was: the answers must not move at all.
SAME_DATA = {"line-ends", "bom", "quoting"}


def batch_argv(extension: str) -> list[str]:
    return ["batch", f"{{dir}}/in.{extension}", "-o", "{dir}/out.csv", "--dest", "CN", "--as-of", DAY,
            "--fail-on", "controlled"]


def batch_case(chooser: Chooser, family: str | None = None, file_format: str | None = None, **_: Any) -> Case:
    file_format = file_format or chooser.choice(BATCH_FORMATS)
    family = family or chooser.choice(BATCH_FAMILIES)
    if family in {"line-ends", "quoting", "encoding"} and file_format != "csv":
        file_format = "csv"
    if family == "bom" and file_format not in {"csv", "jsonl"}:
        file_format = chooser.choice(("csv", "jsonl"))
    keys = [chooser.choice(list(BATCH_ROWS)) for _ in range(1 + chooser.below(6))]
    rows: list[dict[str, Any]] = [{"id": f"{key}-{i}", **BATCH_ROWS[key]} for i, key in enumerate(keys)]
    columns = list(BATCH_COLUMNS)
    what = "unchanged"
    line_end, bom, quote_all, encoding = "\n", False, False, "utf-8"
    if family == "cell":
        row = chooser.below(len(rows))
        column = chooser.choice([c for c in columns if c != "id"])
        value = chooser.choice(NUMBERS if column in NUMERIC_COLUMNS and chooser.below(2) else BAD_TEXTS)
        rows[row][column] = value
        what = change(f"row {row + 1} ({keys[row]}) {column} = {short(value)}", value)
    elif family == "empty-cell":
        row = chooser.below(len(rows))
        present = [c for c in rows[row] if c != "id"]
        column = chooser.choice(present)
        del rows[row][column]
        what = f"row {row + 1} ({keys[row]}) {column} left empty"
    elif family == "drop-column":
        column = chooser.choice([c for c in columns if c != "id"])
        columns.remove(column)
        what = f"column {column} left out"
    elif family == "line-ends":
        line_end = chooser.choice(("\r", "\r\n", "\n", "mixed"))
        note_break = chooser.choice(("", "\r", "\n", "\r\n"))
        for row in rows:
            if "note" in row:
                row["note"] = row["note"] + note_break + "end"
        what = f"line ends {line_end!r}, a quoted line break {note_break!r} in each note"
    elif family == "bom":
        bom = True
        what = "UTF-8 byte order mark"
    elif family == "quoting":
        quote_all = True
        what = "every cell quoted"
    elif family == "encoding":
        encoding = chooser.choice(("latin-1", "utf-16", "cp1252", "utf-8-sig"))
        what = f"encoded as {encoding}"
    content = _write_rows(file_format, columns, rows, line_end=line_end, bom=bom, quote_all=quote_all,
                          encoding=encoding)
    if family == "bytes":
        content, what = _corrupt(content, chooser)
    context = {"keys": keys, "ids": [r["id"] for r in rows], "format": file_format, "plausible": _plausible(what),
               "rows_known": family != "bytes", "same_data": family in SAME_DATA, "exit_codes": (0, 1, 2, 3)}
    return Case("batch", family, f"{file_format}, {len(rows)} rows: {what}", {f"in.{file_format}": content},
                argv=batch_argv(file_format), outputs=("out.csv",), context=context, check="batch")


def _corrupt(content: bytes, chooser: Chooser) -> tuple[bytes, str]:
    how = chooser.choice(("truncate", "flip", "insert", "zero-run"))
    data = bytearray(content)
    at = chooser.below(max(1, len(data)))
    if how == "truncate":
        return bytes(data[:at]), f"truncated at byte {at} of {len(content)}"
    if how == "flip":
        if data:
            data[at] ^= 1 << chooser.below(8)
        return bytes(data), f"one bit flipped at byte {at}"
    if how == "insert":
        junk = chooser.choice((b'"', b"\r", b"\x00", b"\xff\xfe", b",,,,", b"\n\n", b"'"))
        return bytes(data[:at] + junk + data[at:]), f"inserted {junk!r} at byte {at}"
    return bytes(data[:at] + b"\x00" * 64 + data[at + 64:]), f"64 zero bytes at byte {at}"


def _cell_text(value: Any) -> str:
    if isinstance(value, RawNumber):
        return value.text
    return "" if value is None else str(value)


def _typed(column: str, value: Any) -> Any:
    """A cell as a typed format holds it: numbers in numeric columns, booleans for datacenter."""
    if column in NUMERIC_COLUMNS and isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    if column == "datacenter" and value in ("true", "false"):
        return value == "true"
    return value


def _write_rows(file_format: str, columns: list[str], rows: list[dict], *, line_end: str = "\n", bom: bool = False,
                quote_all: bool = False, encoding: str = "utf-8") -> bytes:
    if file_format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                            lineterminator="\n" if line_end == "mixed" else line_end)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell_text(row.get(c)) for c in columns])
        text = buffer.getvalue()
        if line_end == "mixed":  # the record ends only: a quoted cell's breaks stay as they are
            records = text.split("\n")
            ends = ("\r\n", "\r", "\n")
            text = "".join(r + ends[i % 3] for i, r in enumerate(records[:-1])) + records[-1]
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode(encoding, errors="replace")
        return (b"\xef\xbb\xbf" if bom else b"") + data
    if file_format == "jsonl":
        lines = []
        for row in rows:
            # every line holds every column (null when empty): the first line's keys are the columns
            lines.append(dump_json({c: _typed(c, row.get(c)) for c in columns}))
        return (b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")
    if file_format == "parquet":
        return _parquet(columns, rows)
    return _xlsx(columns, rows)


def _parquet(columns: list[str], rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for column in columns:
        values = [_typed(column, row.get(column)) for row in rows]
        numbers = [v for v in values if v is not None]
        if numbers and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers) and all(
                isinstance(v, float) or -(2**63) <= v < 2**63 for v in numbers):
            arrays[column] = pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        elif numbers and all(isinstance(v, bool) for v in numbers):
            arrays[column] = pa.array(values, type=pa.bool_())
        else:
            arrays[column] = pa.array([None if v is None else _cell_text(v).encode("utf-8", "replace").decode()
                                       for v in values], type=pa.string())
    sink = io.BytesIO()
    pq.write_table(pa.table(arrays), sink)
    return sink.getvalue()


def _xlsx(columns: list[str], rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = _typed(column, row.get(column))
            if isinstance(value, RawNumber) or (isinstance(value, float) and value != value) or (
                    isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**300):
                value = _cell_text(value)
            if isinstance(value, str):  # openpyxl refuses control characters in cells
                value = "".join(ch if ch >= " " or ch in "\t\n\r" else "?" for ch in value)
                value = value.encode("utf-8", "replace").decode()[:32767]
            cells.append(value)
        sheet.append(cells)
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def batch_baseline_case(file_format: str) -> Case:
    rows = [{"id": key, **values} for key, values in BATCH_ROWS.items()]
    return Case("batch", "original", f"{file_format}: every base row",
                {f"in.{file_format}": _write_rows(file_format, list(BATCH_COLUMNS), rows)},
                argv=batch_argv(file_format), outputs=("out.csv",), context={"exit_codes": (0, 3)}, check="none")


def batch_rows(outcome: Outcome) -> list[dict[str, str]] | None:
    data = outcome.outputs.get("out.csv")
    if data is None:
        return None
    text = data.decode("utf-8-sig", errors="replace")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def row_answer(row: dict[str, str]) -> Answer:
    if row.get("error"):
        return Answer.refused()
    licence = {"true": True, "false": False}.get((row.get("license_required") or "").strip().lower())
    reason = row.get("reason") or ""
    eccn = (row.get("eccn") or "").strip() or None
    undetermined = None
    if eccn is None and reason.startswith("undetermined:"):
        # "undetermined: 3A090.a, 3A090.b or outside 3A090 (...)"
        listed = reason.split(":", 1)[1].split("(")[0].replace(" or ", ",").split(",")
        undetermined = [o.strip() for o in listed if o.strip()]
    return Answer.of(eccn, undetermined, licence)


def _batch_baseline(file_format: str) -> dict[str, Answer]:
    def read(outcome: Outcome) -> dict[str, Answer]:
        rows = batch_rows(outcome) or []
        return {row["id"]: row_answer(row) for row in rows}

    return baseline(("batch", file_format), lambda: batch_baseline_case(file_format), read)


def _check_batch(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code not in (0, 3):
        return []
    found: list[Finding] = []
    rows = batch_rows(outcome)
    if rows is None:
        return [Finding("lost-rows", f"exit {outcome.exit_code} and no output file")]
    if case.context["rows_known"]:
        ids = [row.get("id") for row in rows]
        expected = case.context["ids"]
        # A row refused whole (bad encoding, a bad line) keeps its place but may lose its cells.
        if len(ids) != len(expected) or any(got and got != want for got, want in zip(ids, expected, strict=True)):
            return [Finding("lost-rows", f"{len(expected)} rows in, {len(rows)} out; "
                                         f"ids in {expected[:4]}..., out {ids[:4]}...")]
        original = _batch_baseline(case.context["format"])
        for key, row in zip(case.context["keys"], rows, strict=True):
            answer = row_answer(row)
            why = permissive_flip(original[key], answer)
            if why:
                found.append(Finding("permissive-flip", f"row {row.get('id')}: {why}"))
            elif case.context["same_data"] and answer != original[key]:
                found.append(Finding("changed-answer", f"row {row.get('id')}: {original[key].describe()} -> "
                                                       f"{answer.describe()} with the same data"))
    proven_outside = all((row.get("eccn") or "").startswith("outside") and not row.get("error") for row in rows)
    if rows and outcome.exit_code == 0 and not proven_outside:
        found.append(Finding("gate", "--fail-on controlled exited 0 with rows not proven outside"))
    if not rows and outcome.exit_code == 0 and case.context["rows_known"] and case.context["ids"]:
        found.append(Finding("gate", "--fail-on controlled exited 0 on an empty result"))
    return found


# ----------------------------------------------------------------- fleet inventories and probe lines

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
    return Case("fleet", family, what, files, argv=fleet_argv(), context={"plausible": _plausible(what)},
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


# ----------------------------------------------------------------- spec files

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
    return Case("spec", family, f"{chip_id}: {what}", {"specs/user.toml": dump_toml(document).encode("utf-8", "surrogatepass")},
                argv=spec_argv(chip_id), context={"chip": chip_id, "plausible": _plausible(what)}, check="spec")


def spec_baseline_case(chip_id: str) -> Case:
    sources, record = _spec_record(chip_id)
    return Case("spec", "original", chip_id, {"specs/user.toml": dump_toml({"sources": sources, "chip": [record]}).encode()},
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


# ----------------------------------------------------------------- API and CLI arguments

CHIP_QUERIES = ("H200 SXM", "H100 SXM", "H20")
# Queries that name no chip: a placeholder, a formula, a number or punctuation.
JUNK_QUERIES = ("N/A", "NA", "N.A.", "n/a", "=1+1", "1", "2", "-", "?", "", " ", "null", "none", "tbd", "unknown",
                "TBD", "x", "@", "+1", "#N/A", "0", "??", "...")
COUNTRY_WORDS = ("China", "china", "cn", "CN", "CHN", "XX", "ZZ", "Chna", "PRC", "Taiwan", "Macao", "Macau",
                 "United States", "us", "USA", "Iran", "Russia", "Russian Federation", "Korea", "UAE", "AE",
                 "United Arab Emirates", "Malta", "MT", "D", "", " ", "\x00", "Cn ", "cn\n", "中国", "Ｃｈｉｎａ",
                 "Hong Kong", "HK", "EU", "UK", "GB", "Great Britain", "Germany", "de", "1", "=1+1")
DATES = ("2026-02-01", "2022-12-01", "1900-01-01", "9999-12-31", "2026-02-30", "2026-2-1", "yesterday", "",
         "2026-02-01T00:00", "0001-01-01", "20260201")


def exact_country(text: str) -> str | None:
    """The alpha-2 code an exact ISO 3166 code or name denotes, case-insensitively (pycountry as the
    independent reference); None when the text is anything else."""
    import pycountry

    wanted = text.strip().casefold() if text == text.strip() else None
    if not wanted:
        return None
    for country in pycountry.countries:
        names = {country.alpha_2, country.alpha_3, country.name, getattr(country, "official_name", ""),
                 getattr(country, "common_name", "")}
        if wanted in {n.casefold() for n in names if n}:
            return country.alpha_2
    return None


VALID_DATES = ("2026-02-01", "2025-03-01", "2024-01-01", "2022-12-01")
ARGS_FAMILIES = ("api-places", "api-types", "cli", "chip-query")


def args_case(chooser: Chooser, family: str | None = None, random_text: Callable[[], str] | None = None,
              **_: Any) -> Case:
    """``api-places``: the API with a catalogue ChipSpec, a date, and random destination and
    headquarters; ``api-types``: the API given what a caller would naturally pass (a query string,
    an ISO date string); ``cli``: ``tppcalc classify`` with random places and dates;
    ``chip-query``: ``tppcalc chips show`` with a query that names no chip."""
    family = family or chooser.choice(ARGS_FAMILIES)

    def word(options: tuple[str, ...]) -> str:
        if random_text is not None and chooser.below(4) == 0:
            return random_text()
        return chooser.choice(options)

    if family == "chip-query":
        query = word(JUNK_QUERIES)
        return Case("args", family, f"chips show {query!r}", {}, argv=["chips", "show", query, "--json"],
                    context={"query": query}, check="junk")
    chip = chooser.choice(CHIP_QUERIES)
    dest = word(COUNTRY_WORDS)
    hq = chooser.choice((None, word(COUNTRY_WORDS)))
    day = chooser.choice(VALID_DATES) if chooser.below(4) else word(DATES)
    if family.startswith("api"):
        as_of: Any = day
        chip_arg: Any = ("catalogue", chip)
        if family == "api-places":
            as_of = dt.date.fromisoformat(chooser.choice(VALID_DATES))
        else:
            chip_arg = chooser.choice((chip, ("catalogue", chip)))
            if chooser.below(2):
                try:
                    as_of = dt.date.fromisoformat(day)
                except ValueError:
                    as_of = day
        kwargs = {"chip": chip_arg, "dest": dest, "hq": hq, "as_of": as_of}
        shown = f"default_catalogue().lookup({chip!r})" if isinstance(chip_arg, tuple) else repr(chip)
        what = f"tppcalc.classify({shown}, dest={dest!r}, hq={hq!r}, as_of={as_of!r})"
        return Case("args", family, what, {}, api=("classify", kwargs),
                    context={"chip": chip, "dest": dest, "hq": hq, "day": as_of}, check="api")
    junk = chooser.below(4) == 0
    query = word(JUNK_QUERIES) if junk else chip
    argv = ["classify", query, "--dest", dest, "--as-of", day, "--json"] + (["--hq", hq] if hq is not None else [])
    return Case("args", family, "tppcalc " + " ".join(repr(a) for a in argv), {}, argv=argv,
                context={"chip": chip, "dest": dest, "hq": hq, "day": day, "query": query if junk else None},
                check="cli-args")


def _reference(chip: str, day: Any, dest: str, hq: str | None) -> Answer | None:
    """The API's answer for exact ISO alpha-2 codes (what a destination must mean), computed once."""
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return None
    if not isinstance(day, dt.date):
        return None
    key = ("reference", chip, day, dest, hq)
    if key not in _BASELINES:
        case = Case("args", "original", f"{chip} to {dest}", {}, api=("classify", {
            "chip": ("catalogue", chip), "dest": dest, "hq": hq, "as_of": day}), check="none")
        value = run_case(case).api_value
        if not isinstance(value, tuple) or value[0] != "ok":
            return None
        _BASELINES[key] = Answer.of(value[1], value[2], value[3])
    return _BASELINES[key]


def _country_flip(context: dict, answer: Answer) -> list[Finding]:
    """A destination or headquarters must be an exact ISO 3166 code or name (pycountry decides);
    its answer must then be the one for its alpha-2 code. Anything else must be refused: when it
    is accepted, the answer may not be more permissive than for China (D:5, as controlled as a
    destination gets) with a Chinese headquarters."""
    dest, hq = context["dest"], context["hq"]
    dest_code = exact_country(dest)
    hq_code = exact_country(hq) if hq is not None else None
    if dest_code is not None and (hq is None or hq_code is not None):
        reference, against = _reference(context["chip"], context["day"], dest_code, hq_code), f"{dest_code}/{hq_code}"
    else:
        reference, against = _reference(context["chip"], context["day"], "CN", "CN"), "CN/CN (unknown place accepted)"
    why = permissive_flip(reference, answer) if reference is not None else None
    if why:
        return [Finding("permissive-flip", f"dest {dest!r}, hq {hq!r} against {against}: {why}")]
    return []


def _check_api(case: Case, outcome: Outcome) -> list[Finding]:
    value = outcome.api_value
    if value is None or value[0] != "ok":
        return []
    _, eccn, undetermined, licence, _ = value
    return _country_flip(case.context, Answer.of(eccn, undetermined, licence))


def _check_cli_args(case: Case, outcome: Outcome) -> list[Finding]:
    """A junk chip query must be refused; a real chip's answer must respect the places rule."""
    if outcome.exit_code != 0:
        return []
    if case.context.get("query") is not None:
        return [Finding("junk-resolved", f"classify {case.context['query']!r} answered for a chip")]
    return _country_flip(case.context, classify_answer(outcome))


def _check_junk(case: Case, outcome: Outcome) -> list[Finding]:
    if outcome.exit_code == 0:
        try:
            chip = json.loads(outcome.stdout).get("id", "?")
        except (ValueError, AttributeError):
            chip = "?"
        return [Finding("junk-resolved", f"{case.context['query']!r} resolved to {chip}")]
    return []


def _no_check(case: Case, outcome: Outcome) -> list[Finding]:
    return []


CHECKERS: dict[str, Callable[[Case, Outcome], list[Finding]]] = {
    "none": _no_check, "probe": _check_probe, "batch": _check_batch, "fleet": _check_fleet, "spec": _check_spec,
    "api": _check_api, "cli-args": _check_cli_args, "junk": _check_junk,
}

MAKERS: dict[str, Callable[..., Case]] = {
    "probe": probe_case, "batch": batch_case, "fleet": fleet_case, "spec": spec_case, "args": args_case,
}
