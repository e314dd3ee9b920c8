"""The probe backends' registry: one class per backend, registered with ``@backend``.

A backend says where its devices are in a HostReport, how to label, count and identify each, and
how to see each as a vendor-neutral ``Accelerator`` (what identification and the PCI cross-check
read). A backend with no record of its own (``ProbeBackend.live_recording``/``read``) also reads:
live, it returns its raw answers as a recording (a JSON value); replayed, the same recording is
parsed by ``read`` into Accelerator records. So a new vendor's backend is one module:

    @backend
    class XpuBackend(ProbeBackend):
        name = "xpu"
        def live_recording(self): ...   # raw answers, or raise BackendUnavailable
        def read(self, recording): ...  # -> Reading(accelerators, unenumerated, notes)

and it is probed live, recorded, replayed, identified, classified and counted in fleets with no
other edit. NVML, amdsmi and the CPU are registered too; they keep their own records and readers
(the dump formats 1 and 2 store them under their own keys).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tppcalc.errors import TppcalcError
from tppcalc.probe.host import MAX_GPUS_PER_NODE, Accelerator, HostReport

if TYPE_CHECKING:
    from tppcalc.data.catalogue import Catalogue
    from tppcalc.probe.identify import Identification

# The backends that ship with tppcalc, imported when the registry is first asked (never at import).
BUILT_IN = ("tppcalc.probe.nvml", "tppcalc.probe.cpu", "tppcalc.probe.amdsmi", "tppcalc.probe.nvidia_smi")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class BackendUnavailable(TppcalcError):
    """A backend cannot read this machine. ``absent``: its library or hardware is not there (a
    normal answer); otherwise it is there but failed, and devices may be missing."""

    def __init__(self, status: str, *, absent: bool = True):
        super().__init__(status, absent)
        self.status = status
        self.absent = absent

    def __reduce__(self):
        return _unavailable, (self.status, self.absent)

    def __str__(self) -> str:
        return self.status


def _unavailable(status: str, absent: bool) -> BackendUnavailable:
    return BackendUnavailable(status, absent=absent)


@dataclass(frozen=True)
class Reading:
    """What a backend read from its recording: its devices, why devices may be missing (each keeps
    the node from "outside"), and notes."""

    accelerators: list[Accelerator] = field(default_factory=list)
    unenumerated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ProbeBackend:
    """One source of devices. Subclass it and decorate the subclass with ``@backend``."""

    name: ClassVar[str]
    kind: ClassVar[str] = "gpu"          # the kind of device entry it makes in an assessment
    order: ClassVar[int] = 50            # position in a report (NVML 10, CPU 20, amdsmi 30)
    pci_vendor: ClassVar[str | None] = None  # PCI vendor of every device it reads, where fixed
    probes_live: ClassVar[bool] = True   # False: it reads only files it is given
    # False for the backends with records and readers of their own (NVML, amdsmi, CPU), which
    # tppcalc.probe.run reads under their own keys of a dump; True: live_recording and read.
    reads_recording: ClassVar[bool] = True
    # The fields identification reads, which decide which chip a device is (fleets count by them).
    identity_fields: ClassVar[tuple[str, ...]] = (
        "pci_vendor_id", "pci_device_id", "pci_subsystem_id", "memory_total_bytes", "name", "vendor")

    # ---- devices in a report ----
    def devices(self, report: HostReport) -> list:
        """Its records in a report; by default the Accelerator records it read."""
        return [a for a in report.accelerators if a.backend == self.name]

    def neutral(self, record) -> Accelerator:
        return record

    def label(self, record) -> str:
        return f"{self.name} GPU {record.index}"

    def count(self, record) -> int:
        return 1

    def unread(self, record) -> dict[str, str]:
        return record.errors

    def reported_name(self, record) -> str | None:
        """The name the device gave for itself, as read (shown beside what it was identified as)."""
        return self.neutral(record).name

    def identify(self, record, catalogue: Catalogue) -> Identification:
        from tppcalc.probe.identify import identify_accelerator

        return identify_accelerator(self.neutral(record), catalogue)

    # ---- reading (backends whose devices are Accelerator records) ----
    def live_recording(self) -> Any:
        """Read this machine: the raw answers, as a JSON value that ``read`` parses."""
        raise BackendUnavailable(f"{self.name}: reads no live machine")

    def read(self, recording: Any) -> Reading:
        """Parse a recording (live or from a dump: hostile input) into records; never raises."""
        raise NotImplementedError


_REGISTRY: dict[str, ProbeBackend] = {}
_loaded = False


def backend(cls: type[ProbeBackend]) -> type[ProbeBackend]:
    """Register a backend class (a decorator). Names are unique and are the dump's keys."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"a probe backend needs a name of lower-case letters, digits, '-' or '_': {name!r}")
    if name in _REGISTRY and type(_REGISTRY[name]) is not cls:
        raise ValueError(f"a probe backend named {name!r} is already registered")
    _REGISTRY[name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove a backend (tests that register their own)."""
    _REGISTRY.pop(name, None)


def registered() -> list[ProbeBackend]:
    """Every backend, in report order."""
    global _loaded
    if not _loaded:
        for module in BUILT_IN:
            importlib.import_module(module)
        _loaded = True
    return sorted(_REGISTRY.values(), key=lambda b: (b.order, b.name))


def get(name: str) -> ProbeBackend | None:
    registered()
    return _REGISTRY.get(name)


def accelerator_backends() -> list[ProbeBackend]:
    return [b for b in registered() if b.kind != "cpu"]


def read_recording(backend_: ProbeBackend, recording: Any) -> Reading:
    """``backend_.read``, with its records checked to be its own and its faults contained: a
    backend that raises yields no devices and one reason devices may be missing."""
    try:
        reading = backend_.read(recording)
        if not isinstance(reading, Reading) or not all(isinstance(a, Accelerator) for a in reading.accelerators):
            raise TypeError("read() must return a Reading of Accelerator records")
    except Exception as exc:  # a third-party backend's bug must not crash the probe, nor pass as "outside"
        return Reading([], [f"{backend_.name}: its recording could not be read ({type(exc).__name__}: "
                            f"{str(exc)[:200]})"], [])
    if len(reading.accelerators) > MAX_GPUS_PER_NODE:
        return Reading([], [f"{backend_.name}: {len(reading.accelerators)} devices is not a credible count "
                            f"(at most {MAX_GPUS_PER_NODE})"], [])
    accelerators = [a if a.backend == backend_.name else a.model_copy(update={"backend": backend_.name})
                    for a in reading.accelerators]
    return Reading(accelerators, list(reading.unenumerated), list(reading.notes))
