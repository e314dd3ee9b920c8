"""The order of answers that "fail closed" is stated against: written here, apart from tppcalc.

Nothing in this module imports tppcalc, so a defect in the product's own ranking of ECCNs (issue 14
item 4 found one) cannot hide in the reference the harness compares it with. The order:

- licence: required (True) > undetermined (None) > not required (False);
- ECCN: controlled (.a above .b and .c) > undetermined > outside, where an undetermined answer is
  the set of outcomes still possible;
- a fleet check: fail > undetermined > pass.

A fault (a missing field, a garbled value, a failed read) may move an answer toward undetermined or
more controlled. It is a *permissive flip* when it moves it the other way: the most controlled
outcome still possible drops, or a definite "not required" / "pass" appears where the original
answer was not that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Rank of one ECCN outcome. Paragraph .a carries the widest licence requirements of 3A090/4A090;
# .b and .c (memory) fewer; "outside" none. A string this module does not know is ranked as
# controlled, so a reworded outcome can never look like a permissive flip's absence.
_PARAGRAPH = re.compile(r"^\s*([34]A090)\.([abc])", re.IGNORECASE)
OUTSIDE, LESSER, GREATEST = 0, 1, 2


def eccn_rank(outcome: str) -> int:
    text = outcome.strip().lower()
    if text.startswith("outside") or text in {"ear99", "not controlled"}:
        return OUTSIDE
    match = _PARAGRAPH.match(text)
    if match is None:
        return GREATEST
    return GREATEST if match.group(2).lower() == "a" else LESSER


@dataclass(frozen=True)
class Answer:
    """One classification as outcomes still possible and a licence answer.

    An error (the input was refused) is the most open answer: every outcome possible, licence
    undetermined.
    """

    possible: frozenset[int]
    licence: bool | None
    error: bool = False

    @classmethod
    def of(cls, eccn: str | None, undetermined: Iterable[str] | None, licence: bool | None) -> Answer:
        if eccn:
            possible = frozenset({eccn_rank(eccn)})
        elif undetermined:
            possible = frozenset(eccn_rank(o) for o in undetermined)
        else:  # neither an ECCN nor a list of outcomes: nothing was concluded
            possible = frozenset({OUTSIDE, LESSER, GREATEST})
        return cls(possible, licence)

    @classmethod
    def refused(cls) -> Answer:
        return cls(frozenset({OUTSIDE, LESSER, GREATEST}), None, error=True)

    def describe(self) -> str:
        names = {OUTSIDE: "outside", LESSER: "controlled (.b/.c)", GREATEST: "controlled (.a)"}
        outcomes = " or ".join(names[r] for r in sorted(self.possible, reverse=True))
        return f"{'error: ' if self.error else ''}{outcomes}; licence {self.licence}"


def permissive_flip(original: Answer, mutant: Answer) -> str | None:
    """Why ``mutant`` is more permissive than ``original`` (None when it is not)."""
    if mutant.error:
        return None
    why = []
    if max(mutant.possible) < max(original.possible):
        why.append(f"most controlled possible outcome dropped ({original.describe()} -> {mutant.describe()})")
    if mutant.licence is False and original.licence is not False:
        why.append(f"licence became 'not required' (was {original.licence})")
    return "; ".join(why) or None


CHECK_RANK = {"pass": 0, "undetermined": 1, "fail": 2}


def check_flip(original: str, mutant: str) -> str | None:
    """A fleet check that passes only after a fault: the one permissive move for a check."""
    if CHECK_RANK.get(mutant, 2) == 0 and CHECK_RANK.get(original, 2) != 0:
        return f"check became 'pass' (was {original!r})"
    return None
