"""Per-core peak rates of a CPU: from the microarchitecture table, or from the CPU's flags.

archspec names a core by comparing its flags with known targets; a hypervisor that hides one flag
(``waitpkg`` on Sapphire Rapids guests) makes it name an older core whose table row has no AMX, and
a core archspec does not know gets no row at all. Counting only what the table knows would then
under-count the chip (a permissive error), so the flags are read too:

- the table's rate is kept where it has one and the named core has the feature behind it (the table
  knows pipe counts that flags cannot show, e.g. Zen 4 runs AVX-512 on 256-bit datapaths);
- the flags' rate is used where the table has none, or where the flag granting it is not a feature
  of the named core (the name disagrees with the flags: it is the wrong, older core).

Flag rates are upper bounds where the flags cannot show the pipe count or vector length (two
512-bit FMA pipes for AVX-512, four 128-bit pipes for NEON, 512-bit SVE): over-counting can only
move a classification toward "more controlled", never toward "not controlled".
"""

from __future__ import annotations

from dataclasses import dataclass

from tppcalc.probe.host import CoreRate

VECTOR = "vector FMA units"
MATRIX = "matrix engine"
TABLE = "microarchitecture table"
FLAGS = "flags"

# AMX citation. Intel 64 and IA-32 Architectures Optimization Reference Manual (Vol. 1, "Intel
# Advanced Matrix Extensions" chapter): the TMUL of a Sapphire Rapids core completes one TDP*
# instruction on full 16-row tiles every 16 cycles. TDPBSSD multiplies 16x64 by 64x16 INT8 tiles
# (16 x 16 x 64 = 16384 MACs) and TDPBF16PS/TDPFP16PS 16x32 by 32x16 BF16/FP16 tiles (8192 MACs)
# (instruction definitions: Intel SDM Vol. 2 / felixcloutier.com/x86/tdpbssd:tdpbsud:tdpbusd:tdpbuud,
# /x86/tdpbf16ps). Per cycle: 1024 INT8 MACs = 2048 ops, 512 BF16 MACs = 1024 ops. Quoted as
# "4th Gen Intel Xeon Scalable processor can perform 2048 INT8 or 1024 BF16 operations per cycle"
# (Advanced Matrix Extensions article, citing Intel), and consistent with measurements: cpufp on a
# Xeon Gold 6455B, 7.57 INT8 TOPS and 3.79 BF16 TFLOPS per core (= 2048 and 1024 x ~3.7 GHz).
# AMX-FP16 (Granite Rapids) uses the BF16 tile shape and TMUL: taken at the BF16 rate.
_AMX = ("Intel Optimization Reference Manual, AMX chapter: one 16x16x{k} TDP* per 16 cycles per core "
        "= {ops} {precision} ops/cycle")

# AVX-512 and AVX2 citations: FMA pipes x lanes x 2 (peakperf's per-microarchitecture counts, the
# same basis as the microarchitecture table). Two 512-bit FMA pipes (ports 0 and 5) on Xeon Gold
# 6xxx/Platinum since Skylake-SP; one on some SKUs, so two is an upper bound. AVX512-FP16 packs 32
# FP16 lanes in a zmm (VFMADD132PH, Intel SDM Vol. 2), AVX512_BF16's VDPBF16PS does 32 BF16 MACs per
# zmm, AVX512_VNNI's VPDPBUSD 64 INT8 MACs per zmm (16 dwords x 4 bytes), each on the FMA pipes.


@dataclass(frozen=True)
class _FlagRate:
    flag: str
    unit: str
    precision: str
    ops_per_cycle: int
    basis: str


FLAG_RATES: tuple[_FlagRate, ...] = (
    # x86-64: the matrix engine
    _FlagRate("amx_int8", MATRIX, "int8", 2048, _AMX.format(k=64, ops=2048, precision="INT8")),
    _FlagRate("amx_bf16", MATRIX, "bf16", 1024, _AMX.format(k=32, ops=1024, precision="BF16")),
    _FlagRate("amx_fp16", MATRIX, "fp16", 1024, _AMX.format(k=32, ops=1024, precision="FP16")
              + " (AMX-FP16 at the BF16 rate: same tile shape and TMUL)"),
    # x86-64: vector units, widest first
    _FlagRate("avx512f", VECTOR, "fp64", 32, "AVX-512F: 2 x 512-bit FMA pipes x 8 FP64 lanes x 2 (upper bound)"),
    _FlagRate("avx512f", VECTOR, "fp32", 64, "AVX-512F: 2 x 512-bit FMA pipes x 16 FP32 lanes x 2 (upper bound)"),
    _FlagRate("avx512_fp16", VECTOR, "fp16", 128, "AVX512-FP16: 2 x 512-bit FMA pipes x 32 FP16 lanes x 2"),
    _FlagRate("avx512_bf16", VECTOR, "bf16", 128, "AVX512_BF16 VDPBF16PS: 2 pipes x 32 BF16 MACs x 2 (upper bound)"),
    _FlagRate("avx512_vnni", VECTOR, "int8", 256, "AVX512_VNNI VPDPBUSD: 2 pipes x 64 INT8 MACs x 2 (upper bound)"),
    _FlagRate("avx_vnni", VECTOR, "int8", 128, "AVX-VNNI VPDPBUSD ymm: 2 pipes x 32 INT8 MACs x 2 (upper bound)"),
    _FlagRate("fma", VECTOR, "fp64", 16, "FMA3 (AVX2): 2 x 256-bit FMA pipes x 4 FP64 lanes x 2 (upper bound)"),
    _FlagRate("fma", VECTOR, "fp32", 32, "FMA3 (AVX2): 2 x 256-bit FMA pipes x 8 FP32 lanes x 2 (upper bound)"),
    _FlagRate("avx", VECTOR, "fp64", 8, "AVX without FMA: one 256-bit add and one multiply per cycle, 4 lanes each"),
    _FlagRate("avx", VECTOR, "fp32", 16, "AVX without FMA: one 256-bit add and one multiply per cycle, 8 lanes each"),
    _FlagRate("sse2", VECTOR, "fp64", 4, "SSE2 (every x86-64): one 128-bit add and one multiply per cycle"),
    _FlagRate("sse2", VECTOR, "fp32", 8, "SSE2 (every x86-64): one 128-bit add and one multiply per cycle"),
    # AArch64 (Features line). The vector length of SVE is not in /proc/cpuinfo: 2 x 512-bit
    # (Fujitsu A64FX, the widest shipped) bounds it; NEON: 4 x 128-bit pipes (Neoverse V2, Arm V2
    # Software Optimization Guide) bounds it.
    _FlagRate("sve", VECTOR, "fp64", 32, "SVE: 2 x 512-bit FMA pipes x 8 FP64 lanes x 2 (upper bound; vector length unknown)"),
    _FlagRate("sve", VECTOR, "fp32", 64, "SVE: 2 x 512-bit FMA pipes x 16 FP32 lanes x 2 (upper bound; vector length unknown)"),
    _FlagRate("asimd", VECTOR, "fp64", 16, "NEON: 4 x 128-bit FMA pipes x 2 FP64 lanes x 2 (upper bound)"),
    _FlagRate("asimd", VECTOR, "fp32", 32, "NEON: 4 x 128-bit FMA pipes x 4 FP32 lanes x 2 (upper bound)"),
    _FlagRate("asimdhp", VECTOR, "fp16", 64, "NEON FP16: 4 x 128-bit FMA pipes x 8 FP16 lanes x 2 (upper bound)"),
)

# Flags of matrix engines that no rate here covers: their presence makes the rate a lower bound.
UNRATED_MATRIX_FLAGS = ("sme", "sme2", "i8mm", "bf16")

# Every flag the rates above read (the probe keeps these in CpuInfo.flags).
RATE_FLAGS = tuple(dict.fromkeys(rule.flag for rule in FLAG_RATES))


def _flag_rates(flags: set[str], machine: str) -> dict[tuple[str, str], _FlagRate]:
    present = set(flags)
    if machine == "x86_64":
        present.add("sse2")  # part of the x86-64 baseline, even if a recording omits it
    best: dict[tuple[str, str], _FlagRate] = {}
    for rule in FLAG_RATES:
        key = (rule.unit, rule.precision)
        if rule.flag in present and (key not in best or rule.ops_per_cycle > best[key].ops_per_cycle):
            best[key] = rule
    return best


def _table_rates(row: dict, flags: set[str]) -> dict[tuple[str, str], tuple[int, str]]:
    rates = {}
    for unit, key in ((VECTOR, "vector_flops_per_cycle_per_core"), (MATRIX, "matrix_ops_per_cycle_per_core")):
        for precision, entry in row.get(key, {}).items():
            flag = entry.get("requires_flag")
            if flag and flag not in flags:
                continue
            note = f"{row['name']} row: {entry.get('note', '')}".rstrip(": ")
            if entry.get("unconfirmed"):
                note += " (table value unconfirmed)"
            rates[(unit, precision)] = (int(entry["value"]), note)
    return rates


def _target_features(name: str | None) -> set[str] | None:
    """archspec's features of the named target (public API), or None when archspec does not know it."""
    if not name:
        return None
    import archspec.cpu

    target = archspec.cpu.TARGETS.get(name)
    return set(target.features) if target is not None else None


def core_rates(microarchitecture: str | None, flags: list[str] | set[str], machine: str,
               table: dict[str, dict]) -> tuple[list[CoreRate], str]:
    """The per-core rates and a line saying which source gave them and why."""
    flag_set = set(flags)
    row = table.get(microarchitecture or "")
    from_table = _table_rates(row, flag_set) if row else {}
    from_flags = _flag_rates(flag_set, machine)
    named_features = _target_features(microarchitecture)
    rates: dict[tuple[str, str], CoreRate] = {}
    disagreements: list[str] = []
    for key in sorted(set(from_table) | set(from_flags)):
        unit, precision = key
        flag_rule = from_flags.get(key)
        if key in from_table:
            value, basis = from_table[key]
            name_lacks_flag = (flag_rule is not None and named_features is not None
                               and flag_rule.flag not in named_features and flag_rule.flag != "sse2")
            if not (name_lacks_flag and flag_rule.ops_per_cycle > value):
                rates[key] = CoreRate(unit=unit, precision=precision, ops_per_cycle=value, source=TABLE, basis=basis)
                continue
        if flag_rule.flag not in (named_features or set()) and named_features is not None:
            disagreements.append(flag_rule.flag)
        rates[key] = CoreRate(unit=unit, precision=precision, ops_per_cycle=flag_rule.ops_per_cycle, source=FLAGS,
                              basis=f"flag {flag_rule.flag}: {flag_rule.basis}")
    return list(rates.values()), _describe(microarchitecture, row, rates, sorted(set(disagreements)))


def _describe(name: str | None, row: dict | None, rates: dict, disagreements: list[str]) -> str:
    sources = {rate.source for rate in rates.values()}
    if sources == {TABLE}:
        return f"{TABLE} ({name})"
    if row is None:
        why = f"archspec names it {name}, which the table lacks" if name else "archspec could not name the core"
        return f"{FLAGS} ({why})"
    flagged = ", ".join(f"{r.unit} {r.precision}" for r in rates.values() if r.source == FLAGS)
    why = (f"flags {', '.join(disagreements)} are not features of {name}: the name disagrees with the flags"
           if disagreements else f"the {name} row has no rate for them")
    return f"{TABLE} ({name}) and {FLAGS} for {flagged} ({why})"
