"""ECCN values: "3A090.a", "4A090" (the 2022 edition's unlettered entry) or "outside 4A090", parsed
once into entry, paragraph and whether the item is outside the entry.

Which of two ECCNs is more controlled is not a property of the strings: it is the order in which the
rules in force walk their paragraphs (the first that holds decides). ``ControlOrder`` carries that
order, as the classification engine builds it (``tppcalc.decisions.classification.control_order``), so nothing
else keeps a second ranking that can drift from the rules (as a table of "4A090.a/4A090.b/outside"
once did, ranking the 2022 edition's "4A090" as outside).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tppcalc.errors import TppcalcError

_FORM = re.compile(r"(?P<outside>outside )?(?P<entry>[0-9][A-E][0-9]{3})(?:\.(?P<paragraph>[a-z](?:\.[0-9]+)?))?")


class EccnError(TppcalcError, ValueError):
    """Text that is not an ECCN this tool knows the form of."""


@dataclass(frozen=True, slots=True)
class Eccn:
    entry: str                # "3A090"
    paragraph: str | None     # "a", "b.1", or None for the whole entry
    outside: bool             # "outside 3A090": not in this entry

    @classmethod
    def parse(cls, text: str) -> Eccn:
        match = _FORM.fullmatch(text) if isinstance(text, str) else None
        if match is None or (match["outside"] and match["paragraph"]):
            raise EccnError(f"not an ECCN: {text!r} (expected e.g. '3A090.a', '4A090' or 'outside 4A090')")
        return cls(match["entry"], match["paragraph"], bool(match["outside"]))

    @classmethod
    def outside_of(cls, entry: str) -> Eccn:
        return cls(entry, None, True)

    @property
    def controlled(self) -> bool:
        return not self.outside

    def __str__(self) -> str:
        if self.outside:
            return f"outside {self.entry}"
        return self.entry if self.paragraph is None else f"{self.entry}.{self.paragraph}"


class ControlOrder:
    """ECCNs from most to least controlled, as the rules in force walk them; "outside" comes last.

    ``rank`` is higher for more controlled. An ECCN the order does not list is an error, never
    guessed: ranking an unknown value as "outside" is how a controlled node once passed.
    """

    def __init__(self, most_to_least: Iterable[Eccn]):
        ordered: list[Eccn] = []
        for eccn in most_to_least:
            if eccn not in ordered:
                ordered.append(eccn)
        self.ordered = tuple(ordered)
        self._rank = {eccn: len(ordered) - position for position, eccn in enumerate(ordered)}

    def rank(self, eccn: Eccn) -> int:
        try:
            return self._rank[eccn]
        except KeyError:
            raise EccnError(f"{eccn} is not one of the outcomes of these rules "
                            f"({', '.join(map(str, self.ordered))})") from None

    def most_controlled(self, eccns: Iterable[Eccn]) -> Eccn:
        return max(eccns, key=self.rank)

    def least_controlled(self, eccns: Iterable[Eccn]) -> Eccn:
        return min(eccns, key=self.rank)

    def between(self, high: Eccn, low: Eccn) -> list[Eccn]:
        """The outcomes from ``high`` down to ``low``, most controlled first."""
        top, bottom = self.rank(high), self.rank(low)
        return [e for e in self.ordered if bottom <= self._rank[e] <= top]
