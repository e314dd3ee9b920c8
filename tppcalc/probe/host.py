"""HostReport: one frozen record of what the probe read, with a note for every field it could not.

Everything after this record is pure computation, so a recorded dump replays the whole pipeline
on a laptop or in CI exactly as on the node.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tppcalc.core.precision import Precision

# Bounds on what hardware can report: a probe record is also read back from files (replays, fleet
# lines), and a negative, non-finite or absurd figure there must be refused, not computed with.
# Each bound is far above any part made (largest today: ~1.5 TB of memory per node, ~200k cores).
MAX_GPUS_PER_NODE = 64        # NVML counts whole GPUs; the densest nodes hold 8-16 (HGX, DGX-2)


def _count(most: int, least: int = 0) -> type:
    return Annotated[int, Field(strict=True, ge=least, le=most)]


def _figure(most: float) -> type:
    return Annotated[float, Field(ge=0, le=most, allow_inf_nan=False)]


Count = _count(1 << 20)
Mhz = _count(100_000, least=1)  # a clock of 0 is not a reading
Bytes = _count(1 << 50)        # 1 PiB


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GpuInfo(_Record):
    """One GPU as NVML reports it (nvidia-smi --query-gpu names in comments): the NVML backend's own
    record; identification reads it through its vendor-neutral ``Accelerator`` view."""

    index: _count(1023)
    lost: bool = Field(default=False, description="NVML could not reach the device (GpuIsLost, Unknown)")
    name: str | None = None                      # name
    uuid: str | None = None                      # uuid
    bus_id: str | None = None                    # pci.bus_id
    pci_vendor_id: str | None = None             # 0x10de
    pci_device_id: str | None = None             # pci.device_id (upper 16 bits)
    pci_subsystem_id: str | None = None          # pci.sub_device_id, 0xVVVVDDDD vendor first
    serial: str | None = None                    # serial
    board_part_number: str | None = None
    architecture: str | None = None
    compute_capability: str | None = None        # compute_cap
    cuda_cores: _count(1 << 20, least=1) | None = None
    max_sm_clock_mhz: Mhz | None = None          # clocks.max.sm
    max_boost_clock_mhz: Mhz | None = None
    max_memory_clock_mhz: Mhz | None = None      # clocks.max.memory
    memory_total_bytes: Bytes | None = None        # memory.total
    memory_bus_width_bits: _count(1 << 16) | None = None
    nvlink_link_count: _count(1024) | None = None
    nvlink_speed_mbps: _count(1 << 32) | None = None
    pcie_generation: _count(64) | None = None           # pcie.link.gen.current
    pcie_width: _count(64) | None = None                # pcie.link.width.current
    pcie_max_generation: _count(64) | None = None       # pcie.link.gen.max
    pcie_max_width: _count(64) | None = None            # pcie.link.width.max
    mig_enabled: bool | None = None              # mig.mode.current
    power_limit_watts: _figure(1e6) | None = None       # power.limit
    clock_event_reasons: list[str] | None = None  # clocks_event_reasons.*
    errors: dict[str, str] = Field(default_factory=dict, description="field -> why it could not be read")


class CoreRate(_Record):
    """Peak operations per cycle of one core for one unit and precision, and where the figure came from."""

    unit: Literal["vector FMA units", "matrix engine"]
    precision: Precision  # a recording naming another is refused where it is read
    ops_per_cycle: _count(1 << 20, least=1) = Field(description="2 per multiply-accumulate")
    source: str = Field(description="'microarchitecture table' or 'flags'")
    basis: str = Field(description="the flag or table row and the cited figure behind the rate")


class AmdGpuInfo(_Record):
    """One AMD GPU as amdsmi (ROCm's Python library) reports it."""

    index: _count(1023)
    name: str | None = None                      # amdsmi_get_gpu_asic_info: market_name
    bus_id: str | None = None                    # amdsmi_get_gpu_device_bdf
    pci_vendor_id: str | None = None             # 0x1002
    pci_device_id: str | None = None             # 0x74a1
    compute_units: _count(1 << 16, least=1) | None = None  # num_of_compute_units
    memory_total_bytes: Bytes | None = None      # amdsmi_get_gpu_vram_info: vram_size (MB)
    max_gfx_clock_mhz: Mhz | None = None         # amdsmi_get_clock_info(GFX): max_clk
    errors: dict[str, str] = Field(default_factory=dict, description="field -> why it could not be read")


class CpuInfo(_Record):
    """One CPU package type (sockets of the same model are one entry with ``sockets``)."""

    vendor: str | None = None
    model_name: str | None = None
    machine: str
    microarchitecture: str | None = None
    sockets: _count(4096) | None = None
    physical_cores: Count | None = None
    logical_cpus: Count | None = None
    max_mhz: _figure(100_000) | None = None
    base_mhz: _figure(100_000) | None = Field(default=None, description="Base clock, shown beside the maximum the TPP uses")
    flags: list[str] = Field(default_factory=list, description="The instruction-set flags that matter here")
    per_core_rates: list[CoreRate] = Field(default_factory=list,
                                           description="Peak ops per cycle per core, from the table or the flags")
    rate_source: str | None = Field(default=None, description="Which source gave the per-core rates, and why")
    errors: dict[str, str] = Field(default_factory=dict)


class PciDevice(_Record):
    """One PCI function as sysfs lists it (/sys/bus/pci/devices/BUS_ID/{vendor,device,class,...}).

    Read with no vendor library, so it is the ground truth of what is installed; ``accelerator``
    says whether its class makes it one (display, processing accelerator, co-processor) or could
    not be read (then it counts as one: an unreadable device may be anything).
    """

    bus_id: str                                  # 0000:18:00.0
    vendor_id: str | None = None                 # 0x10de
    device_id: str | None = None                 # 0x2330
    class_code: str | None = None                # 0x030200 (base class, subclass, programming interface)
    subsystem_vendor_id: str | None = None
    subsystem_device_id: str | None = None
    accelerator: bool = Field(description="accelerator class, or class unreadable")
    errors: dict[str, str] = Field(default_factory=dict, description="field -> why it could not be read")


class Accelerator(_Record):
    """One accelerator in vendor-neutral terms: what identification reads from any backend.

    Backends registered in ``tppcalc.probe.backends`` that keep no record of their own (nvidia-smi
    dumps, and any new vendor's backend) put these in ``HostReport.accelerators``; their raw answers
    stay in the dump, as that backend's recording, so the report replays.
    """

    backend: str = Field(max_length=64, description="the registered backend that read it")
    index: _count(1023)
    lost: bool = Field(default=False, description="the backend lists the device but could not read it")
    vendor: str | None = Field(default=None, max_length=64, description="the vendor, as a name may begin with it")
    name: str | None = None
    bus_id: str | None = None
    pci_vendor_id: str | None = None             # 0x10de
    pci_device_id: str | None = None             # 0x2330
    pci_subsystem_id: str | None = None          # 0xVVVVDDDD, subsystem vendor first
    memory_total_bytes: Bytes | None = None
    max_clock_mhz: Mhz | None = None             # the compute clock's maximum (SM, GFX)
    errors: dict[str, str] = Field(default_factory=dict, description="field -> why it could not be read")


class HostReport(_Record):
    hostname: str | None = None
    provenance: str
    nvml: str = Field(description="'ok', or why NVML could not be used")
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    cpus: list[CpuInfo] = Field(default_factory=list)
    amdsmi: str = Field(default="not probed", description="'ok', or why amdsmi could not be used")
    amd_gpus: list[AmdGpuInfo] = Field(default_factory=list)
    pci: str = Field(default="not enumerated", description="'ok', or why the PCI bus could not be enumerated")
    pci_devices: list[PciDevice] = Field(default_factory=list, description="every PCI function enumerated")
    unenumerated: list[str] = Field(
        default_factory=list,
        description="why devices may be missing from this report (an enumeration that failed); each keeps "
                    "the node's verdict from 'outside'")
    notes: list[str] = Field(default_factory=list)
    backends: dict[str, str] = Field(
        default_factory=dict, description="each further registered backend that was asked: 'ok', or why not")
    accelerators: list[Accelerator] = Field(default_factory=list,
                                            description="devices those backends read, vendor-neutral")
