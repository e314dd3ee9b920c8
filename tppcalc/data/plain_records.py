"""Validated records as plain JSON data, and back, without running any code named by the data.

The validated cache keeps records that passed validation; reading them back must cost less than
validating again, and must not be able to run code (pickle calls whatever a file names). So a
record is written as JSON in which every array is a tagged value:

- ``["M", "tppcalc.data.spec:ChipSpec", [field values], [unset field names]]``: a pydantic model, its
  field values in the order the class defines them;
- ``["E", "tppcalc.core.precision:Precision", "fp8"]``: an enum member;
- ``["T", ...]``, ``["L", ...]``, ``["S", ...]`` (frozenset), ``["D", key, value, ...]``: containers;
- ``["N", "1978.9"]``: an exact Decimal; ``["F", 3, 8]``: a Fraction; ``["d", "2026-01-15"]``: a date;

and strings, integers, floats, booleans and null stand for themselves. A class is resolved only
among tppcalc's pydantic models and enums already imported (nothing is imported because a file
says so), and a model is rebuilt as pickle rebuilds one (``__setstate__``): no validator runs, so
reading stays fast, and nothing but field values reaches the object. Anything else is a ``PlainDataError``.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from enum import Enum
from fractions import Fraction

from pydantic import BaseModel


class PlainDataError(ValueError):
    """Data that is not a record this module wrote (damaged, or of another shape)."""


def to_plain(value: object) -> object:
    """``value`` as JSON-ready data; raises ``PlainDataError`` for a type it cannot represent."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    encode = _ENCODERS.get(kind)
    if encode is None:
        encode = _encoder(kind)
    return encode(value)


def _items(value) -> list:
    """The items of a container, each as plain data (leaves as they are: no call for them)."""
    return [item if type(item) in _LEAVES else to_plain(item) for item in value]


def _mapping_to_plain(value: dict) -> list:
    flat: list[object] = ["D"]
    for key, item in value.items():
        flat += (to_plain(key), item if type(item) in _LEAVES else to_plain(item))
    return flat


# type -> how to write a value of exactly that type. Containers and scalars are listed here; a
# tppcalc model or enum class is added when first written (``_encoder``), after its name has been
# checked to find it again, so each class is checked once rather than once per value.
_ENCODERS: dict[type, object] = {
    tuple: lambda value: ["T", *_items(value)],
    list: lambda value: ["L", *_items(value)],
    dict: _mapping_to_plain,
    frozenset: lambda value: ["S", *_items(value)],
    Decimal: lambda value: ["N", str(value)],
    Fraction: lambda value: ["F", value.numerator, value.denominator],
    dt.date: lambda value: ["d", value.isoformat()],
}


def _encoder(kind: type):
    """How to write values of ``kind``, a tppcalc enum or model class; else a ``PlainDataError``."""
    if issubclass(kind, Enum):
        reference = _reference(kind)
        encode = lambda value: ["E", reference, value.value]  # noqa: E731
    elif issubclass(kind, BaseModel):
        reference, names = _reference(kind), _field_names(kind)
        every_name = frozenset(names)

        def encode(value):
            fields = value.__dict__
            if value.__pydantic_extra__ or value.__pydantic_private__ or not fields.keys() >= every_name:
                raise PlainDataError(f"{kind.__name__} has extra or private attributes, or a field without a value")
            return ["M", reference, [item if type(item) in _LEAVES else to_plain(item) for item in map(fields.get, names)],
                    sorted(every_name.difference(value.model_fields_set))]
    else:
        raise PlainDataError(f"cannot store a {kind.__module__}.{kind.__qualname__}")
    _ENCODERS[kind] = encode
    return encode


def from_plain(data: object) -> object:
    """The value ``to_plain`` gave ``data`` for; raises ``PlainDataError`` for anything else."""
    kind = type(data)
    if kind is list:
        try:
            build = _BUILDERS[data[0]]
        except (IndexError, KeyError, TypeError):
            raise PlainDataError("an array without a known tag") from None
        try:
            return build(data)
        except PlainDataError:
            raise
        except (ValueError, TypeError, ArithmeticError, KeyError) as exc:  # a wrong arity, a bad literal
            raise PlainDataError(f"damaged {data[0]!r} value: {exc}") from None
    if data is None or kind in _SCALARS:
        return data
    raise PlainDataError(f"unexpected {kind.__name__}")


_SCALARS = (str, int, float, bool)
_LEAVES = frozenset((str, int, float, bool, type(None)))  # stand for themselves: no call needed


def _mapping(data: list) -> dict:
    if not len(data) % 2:
        raise PlainDataError("a mapping with a key and no value")
    return {from_plain(data[i]): from_plain(data[i + 1]) for i in range(1, len(data), 2)}


def _fraction(data: list) -> Fraction:
    _, numerator, denominator = data
    if type(numerator) is not int or type(denominator) is not int or denominator <= 0:
        raise PlainDataError("a fraction needs integers")
    return Fraction(numerator, denominator)


def _enum(data: list) -> Enum:
    _, reference, member = data
    return _resolve(reference, Enum)(member)


def _model(data: list) -> BaseModel:
    """The model rebuilt as pickle rebuilds one (``__setstate__``): no validator runs, and only
    field values reach the object."""
    _, reference, values, unset = data
    model = _resolve(reference, BaseModel)
    names = _field_names(model)
    if type(values) is not list or len(values) != len(names) or type(unset) is not list:
        raise PlainDataError(f"the fields of {model.__name__} do not match")
    fields = {name: value if type(value) in _LEAVES else from_plain(value) for name, value in zip(names, values)}
    instance = model.__new__(model)
    instance.__setstate__({"__dict__": fields, "__pydantic_extra__": None, "__pydantic_private__": None,
                           "__pydantic_fields_set__": set(names).difference(unset) if unset else set(names)})
    return instance


_BUILDERS = {
    "M": _model,
    "T": lambda data: tuple([item if type(item) in _LEAVES else from_plain(item) for item in data[1:]]),
    "L": lambda data: [item if type(item) in _LEAVES else from_plain(item) for item in data[1:]],
    "D": _mapping,
    "S": lambda data: frozenset([from_plain(item) for item in data[1:]]),
    "N": lambda data: Decimal(_text(data[1])) if len(data) == 2 else _arity(),
    "F": _fraction,
    "d": lambda data: dt.date.fromisoformat(_text(data[1])) if len(data) == 2 else _arity(),
    "E": _enum,
}


def _arity():
    raise PlainDataError("wrong number of items")


# model class -> its field names, in definition order (the order values are stored in).
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(model: type) -> tuple[str, ...]:
    names = _FIELDS.get(model)
    if names is None:
        names = _FIELDS[model] = tuple(model.model_fields)
    return names


def _text(value: object) -> str:
    if type(value) is not str:
        raise PlainDataError("expected text")
    return value


# ("module:qualname", base class) -> the class, for the references resolved and checked so far.
_RESOLVED: dict[tuple[str, type], type] = {}


def _reference(kind: type) -> str:
    reference = f"{kind.__module__}:{kind.__qualname__}"
    if _resolve(reference, BaseModel if issubclass(kind, BaseModel) else Enum) is not kind:
        raise PlainDataError(f"{reference} cannot be found again by its name")
    return reference


def _resolve(reference: object, base: type) -> type:
    """The class ``reference`` names: a subclass of ``base`` defined in an already imported
    tppcalc module. Nothing is imported, so a name in a file cannot make a module run."""
    try:
        return _RESOLVED[reference, base]
    except (KeyError, TypeError):  # not seen yet, or not even hashable
        pass
    if type(reference) is not str or reference.count(":") != 1:
        raise PlainDataError("a class reference must be 'module:name'")
    module_name, qualname = reference.split(":")
    module = sys.modules.get(module_name)
    if module is None or not (module_name == "tppcalc" or module_name.startswith("tppcalc.")):
        raise PlainDataError(f"{reference} is not a loaded tppcalc class")
    found: object = module
    for part in qualname.split("."):
        found = vars(found).get(part) if isinstance(found, type) or found is module else None
    if not isinstance(found, type) or found.__module__ != module_name:
        raise PlainDataError(f"{reference} is not a tppcalc class")
    if not issubclass(found, base) or found in (BaseModel, Enum):
        raise PlainDataError(f"{reference} is not a {base.__name__}")
    _RESOLVED[reference, base] = found
    return found
