"""Probing every alive node of a Ray cluster: one task pinned to each node, results gathered.

Ray is the existing distributed engine (an optional extra). Each task runs the ordinary probe on
its node and returns the same object ``tppcalc probe --json`` prints. A node that dies or does not
answer in time is listed as missing with the reason; the others complete.

Connecting is bounded: the address is first tried with a plain TCP connection, then ``ray.init``
runs in a helper thread while this thread waits at most ``connect_timeout_s`` (Ray's own retries
last minutes). Every wait here is in short slices, so SIGTERM and SIGINT are handled promptly.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tppcalc.errors import MissingExtraError, TppcalcError

DEFAULT_CONNECT_TIMEOUT_S = 30.0
_CLIENT_PORT, _GCS_PORT = 10001, 6379  # Ray's defaults for ray://host and host
_SLICE_S = 0.2  # the longest this thread blocks in one call, so that signals are seen


class FleetProbeError(TppcalcError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


LOCAL_MODE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@dataclass(frozen=True)
class FleetProbeResult:
    nodes: list[dict]              # one `tppcalc probe --json` object per node, with `node_id`
    missing: list[dict]            # {"node_id", "address", "reason"}


def _probe_on_node(bench: bool, delay_s: float) -> dict:
    """Runs on the worker node."""
    import ray

    from tppcalc.data.catalogue import default_catalogue
    from tppcalc.probe.assess import assess
    from tppcalc.probe.run import probe_live
    from tppcalc.render.report import node_dict

    if delay_s:
        time.sleep(delay_s)  # fault-injection tests only: keeps the task running while a node is killed
    report = probe_live()
    node = node_dict(assess(report, default_catalogue()))
    node["node_id"] = ray.get_runtime_context().get_node_id()
    if bench:
        import dataclasses

        from tppcalc.measure.cpu import measure_cpu

        node["measurements"] = [dataclasses.asdict(measure_cpu(cpu, quick=True)) for cpu in report.cpus]
    return node


def probe_cluster(*, address: str | None = None, local_nodes: int | None = None, timeout_s: float = 300,
                  connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S, bench: bool = False,
                  progress: Callable[[int, int], None] | None = None, _delay_s: float = 0.0,
                  _on_started=None) -> FleetProbeResult:
    """Probe each alive node of the cluster at ``address`` (default: RAY_ADDRESS), or of a local
    cluster of ``local_nodes`` nodes started for the purpose (on the loopback address).
    ``progress(done, total)`` is called once the probes are started and as each node is done.
    A cluster that does not answer within ``connect_timeout_s`` is a ``FleetProbeError``."""
    if local_nodes:
        # Single-machine mode: Ray then keeps every address on loopback instead of rewriting
        # 127.0.0.1 to the host's network address. Read when Ray is imported.
        os.environ.setdefault(LOCAL_MODE_ENV, "0")
    else:
        address = address or os.environ.get("RAY_ADDRESS")
        if not address:
            raise FleetProbeError("no Ray cluster: give --address, set RAY_ADDRESS, or use --local-nodes N")
    try:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    except ImportError:
        raise MissingExtraError("Ray (needed by `fleet probe`)", "fleet") from None
    if local_nodes and ray._private.ray_constants.ENABLE_RAY_CLUSTER:
        raise FleetProbeError(f"a local test cluster needs {LOCAL_MODE_ENV}=0 set before Ray is imported "
                              "(Ray was imported earlier in this process)")
    if not local_nodes:
        if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
            raise MissingExtraError("Ray Client (needed for ray:// addresses)", "fleet")
        _check_reachable(address, connect_timeout_s)

    cluster = None
    connected = False
    try:
        if local_nodes:
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1"})
            for _ in range(local_nodes - 1):
                cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
            cluster.wait_for_nodes()
            address = cluster.address
        _connect(ray, address, connect_timeout_s)
        connected = True
        probe = ray.remote(num_cpus=1, num_gpus=0, max_retries=0)(_probe_on_node)
        alive = [n for n in ray.nodes() if n.get("Alive")]
        refs = {}
        for node in alive:
            options = {"scheduling_strategy": NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)}
            if bench and node.get("Resources", {}).get("GPU"):
                options["num_gpus"] = node["Resources"]["GPU"]  # the whole node's GPUs, exclusively
            refs[node["NodeID"]] = (node, probe.options(**options).remote(bench, _delay_s))
        if _on_started is not None:
            _on_started(cluster)
        return _gather(ray, refs, timeout_s, progress or (lambda done, total: None))
    finally:
        if connected:  # shutting down while ray.init still runs in its thread could hang
            ray.shutdown()
        if cluster is not None:
            cluster.shutdown()


def _host_and_port(address: str) -> tuple[str, int] | None:
    """Where ``address`` ("ray://host[:port]", "host:port") listens, or None for the words Ray
    resolves itself ("auto", "local") and anything it does not parse."""
    rest, default = (address[len("ray://"):], _CLIENT_PORT) if address.startswith("ray://") else (address, _GCS_PORT)
    rest = rest.split("/", 1)[0]
    if rest in ("", "auto", "local"):
        return None
    if rest.startswith("["):  # [IPv6]:port
        host, _, port = rest[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    try:
        return host, int(port) if port else default
    except ValueError:
        return None


def _check_reachable(address: str, timeout_s: float) -> None:
    """Fail in one line, within ``timeout_s``, when nothing listens at the cluster's address."""
    where = _host_and_port(address)
    if where is None:
        return
    try:
        with socket.create_connection(where, timeout=timeout_s):
            pass
    except TimeoutError:
        raise FleetProbeError(f"cannot reach the Ray cluster at {address}: no answer within {timeout_s:g} s "
                              "(--connect-timeout)") from None
    except OSError as exc:
        raise FleetProbeError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _connect(ray, address: str, timeout_s: float) -> None:
    """``ray.init`` in a helper thread, waited for at most ``timeout_s`` in short slices."""
    outcome: dict[str, BaseException] = {}
    done = threading.Event()

    def connect() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except BaseException as exc:  # noqa: BLE001 (handed to the waiting thread)
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=connect, name="tppcalc-ray-connect", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not done.wait(min(_SLICE_S, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise FleetProbeError(f"the Ray cluster at {address} did not answer within {timeout_s:g} s "
                                  "(--connect-timeout)")
    error = outcome.get("error")
    if error is not None:
        if "ray[client]" in str(error):
            raise MissingExtraError("Ray Client (needed for ray:// addresses)", "fleet") from None
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise FleetProbeError(f"cannot connect to the Ray cluster at {address}: {reason}") from None


def _gather(ray, refs: dict, timeout_s: float, progress: Callable[[int, int], None]) -> FleetProbeResult:
    nodes, missing = [], []
    deadline = time.monotonic() + timeout_s
    progress(0, len(refs))
    for node_id, (node, ref) in refs.items():
        where = {"node_id": node_id, "address": node.get("NodeManagerAddress")}
        try:
            nodes.append(_get(ray, ref, deadline))
        except ray.exceptions.GetTimeoutError:
            ray.cancel(ref, force=True)
            missing.append({**where, "reason": f"no answer within {timeout_s:g} s"})
        except ray.exceptions.RayError as exc:
            missing.append({**where, "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"})
        progress(len(nodes) + len(missing), len(refs))
    return FleetProbeResult(nodes, missing)


def _get(ray, ref, deadline: float):
    """``ray.get(ref)`` by the deadline (at least 0.1 s), waited for in slices so that signals are
    handled meanwhile; Ray's GetTimeoutError past the deadline."""
    while True:
        try:
            return ray.get(ref, timeout=max(0.1, min(_SLICE_S, deadline - time.monotonic())))
        except ray.exceptions.GetTimeoutError:
            if time.monotonic() >= deadline:
                raise
