#!/usr/bin/env bash
# The GPU measurements of bench/RESULTS.md, in one command, on a machine with an NVIDIA GPU:
#
#     bash bench/gpu/run.sh [OUT_DIR]
#
# Writes to OUT_DIR (default: gpu-results/, or $OUT on the device machine):
#   nvml-dump.json     `tppcalc probe record`: a real NVML recording, to add to tests/fixtures/hosts/
#   probe.json         `tppcalc probe --json` of the same machine
#   bench-gpu0.json    `tppcalc bench --device 0 --json`, with its wall time in bench-time.txt
#   bench-quick.json   `tppcalc bench --device 0 --quick --json`
#   peer-gemm.json     cuBLAS GEMM through PyTorch/CuPy, the peer to beat (bench/gpu/peer_gemm.py)
#   environment.txt    nvidia-smi, driver, clocks, python and package versions, date
#
# Python packages tppcalc needs and the machine lacks may sit as wheels in .whl/ (see
# bench/gpu/fetch_wheels.sh); they are installed to a private folder first.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${1:-${OUT:-gpu-results}}"
mkdir -p "$out"
python="${PYTHON:-python3}"

if compgen -G ".whl/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/tppcalc-site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/tppcalc-site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

{
    date -u +"%Y-%m-%dT%H:%M:%SZ"
    nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,power.limit,pci.bus_id --format=csv
    nvidia-smi -q -d CLOCK,PERFORMANCE | sed -n '1,80p'
    "$python" --version
    "$python" -m pip list 2>/dev/null | grep -i -E "^(numba|numba-cuda|llvmlite|torch|cupy|nvidia-ml-py|cuda-)"
} >"$out/environment.txt" 2>&1

"$python" -m tppcalc probe record -o "$out/nvml-dump.json"
"$python" -m tppcalc probe --json >"$out/probe.json"
"$python" -m tppcalc bench --device 0 --quick --json >"$out/bench-quick.json"
start=$(date +%s.%N)
"$python" -m tppcalc bench --device 0 --json >"$out/bench-gpu0.json"
status=$?
end=$(date +%s.%N)
echo "tppcalc bench --device 0 --json: $(echo "$end - $start" | bc) s wall, exit $status" | tee "$out/bench-time.txt"
"$python" bench/gpu/peer_gemm.py >"$out/peer-gemm.json"

"$python" - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
bench = json.loads((out / "bench-gpu0.json").read_text())
for device in bench["devices"]:
    if device["kind"] != "gpu":
        continue
    print(f"{device['name']}: clock {device['measured_clock_mhz']} MHz (datasheet {device['datasheet_clock_mhz']})")
    for r in device["results"]:
        if r["status"] != "measured":
            print(f"  {r['precision']:5} {r['unit']:6} cannot run: {r['reason']}")
            continue
        fm, fd = r["fraction_at_measured_clock"], r["fraction_of_datasheet"]
        print(f"  {r['precision']:5} {r['unit']:6} {r['measured_tflops']:9.1f}"
              f"  at clock {fm if fm is None else round(fm * 100, 1)}%  of datasheet {fd if fd is None else round(fd * 100, 1)}%"
              f"  {r['kernel']}")
    print(f"  bandwidth {device['memory_bandwidth_gbps']} GB/s ({device['memory_bandwidth_fraction']})")
    print(f"  verdict: {device['verdict']}")
    print(f"  nvml: {json.dumps(device['nvml'])}")
peer = out / "peer-gemm.json"
if peer.exists() and peer.stat().st_size:
    print("peer:", peer.read_text())
PY
