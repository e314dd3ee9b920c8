"""Run one fuzz case in a forked child, bounded in wall-clock time and address space.

A mutant may make the product loop (a device count of 1e9) or allocate gigabytes: in the test
process that would take the machine down with it. The child inherits everything already imported
and loaded (the catalogue, the rules), so a case costs a fork, not an interpreter start.
"""

from __future__ import annotations

import gc
import os
import pickle
import resource
import select
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TIME_LIMIT_S = 10.0
MEMORY_BUDGET_BYTES = 1 << 30   # on top of what the parent process already maps


@dataclass(frozen=True)
class Isolated:
    """How a child ended: ``ok`` (with ``value``), ``exception`` (with the traceback text),
    ``memory`` (MemoryError under the limit), ``hang`` (killed at the time limit) or ``crash``
    (died by a signal or without an answer)."""

    status: str
    value: Any = None
    detail: str = ""
    seconds: float = 0.0


def _mapped_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_isolated(fn: Callable[..., Any], *args: Any, time_limit: float = TIME_LIMIT_S,
                 memory_budget: int = MEMORY_BUDGET_BYTES) -> Isolated:
    """``fn(*args)`` in a child; its return value must pickle."""
    limit = _mapped_bytes() + memory_budget
    # Objects already alive move out of the collector's reach, so the child's collections do not
    # write to (and copy) every page it shares with this process: a fork then costs a few ms.
    gc.freeze()
    read_end, write_end = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the alarm kills, whatever Python is doing
            signal.setitimer(signal.ITIMER_REAL, time_limit)
            try:
                payload = ("ok", fn(*args), "")
            except MemoryError:
                payload = ("memory", None, "MemoryError")
            except BaseException as exc:  # noqa: BLE001 - the point is to see every one
                text = "".join(traceback.format_exception(exc))
                payload = ("exception", type(exc).__name__, text if len(text) < 8000 else text[:4000] + text[-4000:])
            data = pickle.dumps(payload)
            view = memoryview(data)
            while view:
                written = os.write(write_end, view)
                view = view[written:]
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    gc.unfreeze()  # this process collects as before
    os.close(write_end)
    chunks, deadline = [], start + time_limit + 5.0
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGALRM, signal.SIGKILL) and seconds >= time_limit * 0.9:
            return Isolated("hang", detail=f"still running after {time_limit:g} s", seconds=seconds)
        return Isolated("crash", detail=f"killed by {signal.Signals(sig).name}", seconds=seconds)
    if not chunks:
        return Isolated("crash", detail=f"exit status {os.WEXITSTATUS(status)} and no answer", seconds=seconds)
    status_name, value, detail = pickle.loads(b"".join(chunks))
    return Isolated(status_name, value, detail, seconds)
