"""Errors cross process boundaries (Ray workers, multiprocessing): each must survive pickling
with its type, message and attributes. Classes are found by introspection, so a new one is
covered as soon as it is defined."""

import inspect
import pickle

import pytest

import tppcalc.errors
from tppcalc.errors import TppcalcError

# A sample value for each constructor parameter name the error classes use. A new class with a
# parameter not listed here fails the test below until a sample is added.
SAMPLES = {
    "problem": "must be greater than zero",
    "where": "specs/x.toml:12",
    "field": "dense_tops.fp8",
    "errors": [("dense_tops.fp8", "must be greater than zero"), ("name", "missing")],
    "record": "h100-sxm",
    "query": "H900",
    "suggestions": ("H100 SXM", "H200 SXM"),
    "candidates": ("h100-sxm", "h100-pcie"),
    "kind": "NotSupported",
    "message": "the call is not supported",
    "what": "matplotlib (for charts)",
    "extra": "chart",
    "why": "it holds an invisible or control character (U+001B)",
}


def _error_classes():
    found = [cls for _, cls in inspect.getmembers(tppcalc.errors, inspect.isclass)
             if issubclass(cls, BaseException) and cls.__module__ == tppcalc.errors.__name__]
    assert TppcalcError in found and len(found) >= 7
    return found


def _build(cls):
    args, kwargs = [], {}
    for name, parameter in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        assert name in SAMPLES, f"add a sample value for {cls.__name__}({name}=...)"
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[name] = SAMPLES[name]
        else:
            args.append(SAMPLES[name])
    if cls.__init__ is BaseException.__init__:  # no constructor of its own: a message
        args = ["something went wrong"]
    return cls(*args, **kwargs)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_class_round_trips_through_pickle(cls):
    error = _build(cls)
    error.extra_note = "set after construction"  # attributes added later survive too
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(copy) is cls
        assert str(copy) == str(error)
        assert copy.args == error.args
        assert vars(copy) == vars(error)


def test_a_placed_input_error_keeps_its_place_across_pickling():
    copy = pickle.loads(pickle.dumps(tppcalc.errors.InputError("x", where="f")))
    assert (copy.problem, copy.where, copy.field, str(copy)) == ("x", "f", None, "f: x")


def test_errors_defined_elsewhere_in_the_package_round_trip_too():
    from tppcalc.fleet.ray_probe import FleetProbeError
    from tppcalc.probe.nvml import NvmlCallError, UnofficialBindingError

    for error in (NvmlCallError("NoPermission", "insufficient permissions"), UnofficialBindingError(),
                  FleetProbeError("cannot reach ray://head:10001")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
