"""HostReport: one frozen record of what the probe read, with a note for every field it could not.

Everything after this record is pure computation, so a recorded dump replays the whole pipeline
on a laptop or in CI exactly as on the node.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GpuInfo(_Record):
    """One GPU as NVML reports it (nvidia-smi --query-gpu names in comments)."""

    index: int
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
    cuda_cores: int | None = None
    max_sm_clock_mhz: int | None = None          # clocks.max.sm
    max_boost_clock_mhz: int | None = None
    max_memory_clock_mhz: int | None = None      # clocks.max.memory
    memory_total_bytes: int | None = None        # memory.total
    memory_bus_width_bits: int | None = None
    nvlink_link_count: int | None = None
    nvlink_speed_mbps: int | None = None
    pcie_generation: int | None = None           # pcie.link.gen.current
    pcie_width: int | None = None                # pcie.link.width.current
    pcie_max_generation: int | None = None       # pcie.link.gen.max
    pcie_max_width: int | None = None            # pcie.link.width.max
    mig_enabled: bool | None = None              # mig.mode.current
    power_limit_watts: float | None = None       # power.limit
    clock_event_reasons: list[str] | None = None  # clocks_event_reasons.*
    errors: dict[str, str] = Field(default_factory=dict, description="field -> why it could not be read")


class CoreRate(_Record):
    """Peak operations per cycle of one core for one unit and precision, and where the figure came from."""

    unit: str = Field(description="'vector FMA units' or 'matrix engine'")
    precision: str
    ops_per_cycle: int = Field(description="2 per multiply-accumulate")
    source: str = Field(description="'microarchitecture table' or 'flags'")
    basis: str = Field(description="the flag or table row and the cited figure behind the rate")


class CpuInfo(_Record):
    """One CPU package type (sockets of the same model are one entry with ``sockets``)."""

    vendor: str | None = None
    model_name: str | None = None
    machine: str
    microarchitecture: str | None = None
    sockets: int | None = None
    physical_cores: int | None = None
    logical_cpus: int | None = None
    max_mhz: float | None = None
    base_mhz: float | None = Field(default=None, description="Base clock, shown beside the maximum the TPP uses")
    flags: list[str] = Field(default_factory=list, description="The instruction-set flags that matter here")
    per_core_rates: list[CoreRate] = Field(default_factory=list,
                                           description="Peak ops per cycle per core, from the table or the flags")
    rate_source: str | None = Field(default=None, description="Which source gave the per-core rates, and why")
    errors: dict[str, str] = Field(default_factory=dict)


class HostReport(_Record):
    hostname: str | None = None
    provenance: str
    nvml: str = Field(description="'ok', or why NVML could not be used")
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    cpus: list[CpuInfo] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
