"""Mutations: faults, missing fields and garbled values, applied one at a time to structured input.

Every choice goes through a ``Chooser``, so the same mutators run under hypothesis in the test
suite (choices are draws: examples shrink and replay) and under ``random.Random`` in the bench
campaign (fast, seeded). A mutator returns the mutant and one line saying what it changed, which
is what a reproducer shows.

The values are the ones issue 14 found to break something, and their neighbours: non-finite and
absurd numbers, integers past Python's 4,300-digit parsing limit, control characters, Unicode
look-alikes, spreadsheet formulas, placeholder words and deep nesting.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Chooser(Protocol):
    def choice(self, options: Sequence[T]) -> T: ...

    def below(self, n: int) -> int: ...


class RandomChooser:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def below(self, n: int) -> int:
        return self.rng.randrange(n)


class DataChooser:
    """Choices drawn from hypothesis's ``st.data()``: index draws shrink toward the first option."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self._data, self._st = data, st

    def choice(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]

    def below(self, n: int) -> int:
        return self._data.draw(self._st.integers(0, n - 1))


class RawNumber:
    """A number written as its own digits in JSON, TOML and CSV: 10**5000 cannot even go through
    str() (Python's 4,300-digit limit), and "1e999999" is no float."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text if len(self.text) < 40 else f"<number of {len(self.text)} digits>"

    def __deepcopy__(self, memo):
        return self


HUGE_INTEGER = RawNumber("1" + "0" * 5000)      # past Python's 4,300-digit int parsing limit
HUGE_EXPONENT = RawNumber("1e999999")

# Numbers a field should refuse, or survive (huge is allowed to mean "more controlled").
BAD_NUMBERS: tuple[Any, ...] = (
    -1, 0, -(2**63), 2**64, 10**400, HUGE_INTEGER, HUGE_EXPONENT, 1e308, -1e308, 5e-324, math.nan, math.inf,
    -math.inf, 1_000_000_000, -10_000_000, 1.5,
)
BAD_TEXTS: tuple[str, ...] = (
    "", " ", "\x00", "\x1b[31mred\x1b[0m", "a\rb", "a\nb", "\t", "N/A", "NA", "N.A.", "=1+1", "@SUM(A1)",
    "+1", "-1", "Н100 SXM5 80GB",  # a Cyrillic Н
    "\u202eevil", "\udcff", "A" * 100_000, "null", "unknown", "1e999999", "9" * 400, "3958 sparse",
)
# Values that may be real data in some field (a throughput of 1.5 TOPS, "+1"): a mutant holding one
# is checked for crashes and hangs, but its answer may rightly differ, so not for monotonicity.
PLAUSIBLE: tuple[Any, ...] = (1.5, 5e-324, "+1")


# Fields that hold a country: one set to a real country's code or name ("NA" is Namibia's as well
# as a placeholder) moves the node or site there, real data whose answers may rightly differ.
COUNTRY_FIELDS = frozenset({"country", "operator_hq", "dest", "hq"})


# The everyday English names the README allows beside ISO's ("a few everyday English names (UK,
# Russia, Macau, Turkey)"), each mapped by hand to the country it names.
EVERYDAY_NAMES = {"uk": "GB", "britain": "GB", "great britain": "GB", "russia": "RU", "macau": "MO",
                  "turkey": "TR", "usa": "US", "united states of america": "US", "iran": "IR", "syria": "SY",
                  "north korea": "KP", "south korea": "KR", "burma": "MM", "laos": "LA", "vietnam": "VN"}


def exact_country(text: str) -> str | None:
    """The alpha-2 code an exact ISO 3166 code or name denotes, case-insensitively (pycountry as the
    independent reference), or one of the README's everyday names; plain spaces around it are
    padding, any other whitespace or control character garbling. None when the text is anything else."""
    import pycountry

    padded = text.strip(" ")
    wanted = padded.casefold() if padded == padded.strip() and padded.isprintable() else None
    if not wanted:
        return None
    if wanted in EVERYDAY_NAMES:
        return EVERYDAY_NAMES[wanted]
    for country in pycountry.countries:
        names = {country.alpha_2, country.alpha_3, country.name, getattr(country, "official_name", ""),
                 getattr(country, "common_name", "")}
        if wanted in {n.casefold() for n in names if n}:
            return country.alpha_2
    return None


def is_plausible(value: Any) -> bool:
    return any(type(value) is type(p) and value == p for p in PLAUSIBLE)


class Change(str):
    """The one-line description of a mutation, knowing whether its new value may be real data."""

    plausible: bool = False


def change(text: str, value: Any = None) -> Change:
    described = Change(text)
    described.plausible = is_plausible(value)
    return described


RETYPES: tuple[Any, ...] = (None, True, "x", 7, 2.5, [], {}, [1, "a"], {"a": 1})


def deep_nesting(depth: int = 5000) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


NESTS: tuple[Any, ...] = ("deep list", "deep dict", "list of dicts")


def nested(kind: str) -> Any:
    if kind == "deep list":
        return deep_nesting()
    if kind == "deep dict":
        value: Any = {}
        for _ in range(2000):
            value = {"a": value}
        return value
    return [{"a": [{"b": None}]}] * 3


# ----------------------------------------------------------------- JSON-like trees

Path = tuple[Any, ...]


def tree_paths(tree: Any, prefix: Path = ()) -> list[Path]:
    """Every node below the root, parents before children."""
    found: list[Path] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.append((*prefix, key))
            found.extend(tree_paths(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.append((*prefix, index))
            found.extend(tree_paths(value, (*prefix, index)))
    return found


def get_at(tree: Any, path: Path) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _parent(tree: Any, path: Path) -> tuple[Any, Any]:
    return get_at(tree, path[:-1]), path[-1]


def leaves_of(tree: Any, kinds: tuple[type, ...]) -> list[Path]:
    return [p for p in tree_paths(tree) if isinstance(get_at(tree, p), kinds)
            and not isinstance(get_at(tree, p), bool)]


def render_path(path: Path) -> str:
    return "".join(f"[{step!r}]" for step in path) or "<root>"


def short(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        text = f"<int of {len(str(abs(value)))} digits>"  # 10**400 at most: str() allows it
    elif isinstance(value, list) and value and isinstance(value[0], list):
        text = "<5000-deep list>"
    elif isinstance(value, dict) and "a" in value and isinstance(value["a"], dict):
        text = "<2000-deep dict>"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


TREE_FAMILIES = ("delete", "retype", "number", "text", "nest")


def mutate_tree(tree: Any, chooser: Chooser, family: str, *, paths: list[Path] | None = None,
                narrow: bool = True) -> tuple[Any, Change]:
    """One mutation of ``family`` at one node of a deep copy of ``tree``.

    ``paths`` limits where (default: every node). Unless ``narrow`` is false, "number" and "text"
    prefer leaves of their kind so the mutation lands where such values live.
    """
    mutant = copy.deepcopy(tree)
    candidates = paths if paths is not None else tree_paths(mutant)
    if family == "number" and narrow:
        numeric = [p for p in candidates if isinstance(get_at(mutant, p), (int, float))
                   and not isinstance(get_at(mutant, p), bool)]
        candidates = numeric or candidates
    elif family == "text" and narrow:
        candidates = [p for p in candidates if isinstance(get_at(mutant, p), str)] or candidates
    if not candidates:
        return mutant, change("nothing to mutate")
    path = chooser.choice(candidates)
    parent, key = _parent(mutant, path)
    before = parent[key]
    if family == "delete":
        del parent[key]
        return mutant, change(f"deleted {render_path(path)} (was {short(before)})")
    if family == "retype":
        options = [v for v in RETYPES if type(v) is not type(before)]
        value = chooser.choice(options)
    elif family == "number":
        value = chooser.choice(BAD_NUMBERS)
    elif family == "text":
        value = chooser.choice(BAD_TEXTS)
    elif family == "nest":
        value = nested(chooser.choice(NESTS))
    else:
        raise ValueError(f"unknown family {family!r}")
    parent[key] = value
    described = change(f"set {render_path(path)} to {short(value)} (was {short(before)})", value)
    described.plausible |= key in COUNTRY_FIELDS and isinstance(value, str) and exact_country(value) is not None
    return mutant, described
