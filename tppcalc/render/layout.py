"""What a report shows, apart from where it is shown: titled tables and lists of plain-text cells.

``report`` builds these blocks; ``terminal`` draws them with rich, ``html_report`` writes them as HTML.
A cell's tone (controlled, undetermined, outside, ...) is what it means; each renderer picks its
colour. Every string stays plain text until a renderer escapes it for its medium.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tppcalc.core.eccn import Eccn, EccnError

TONES = frozenset({"controlled", "undetermined", "outside", "warning", "muted"})


@dataclass(frozen=True)
class Cell:
    """A table cell or a line: plain text, optionally toned (from ``TONES``)."""

    text: str
    tone: str | None = None

    def __post_init__(self):
        if self.tone is not None and self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r} (known: {', '.join(sorted(TONES))})")


CellLike = str | Cell


@dataclass(frozen=True)
class Table:
    """Rows under column headings; all headings empty makes a label/value table without a header."""

    columns: Sequence[str]
    rows: Sequence[Sequence[CellLike]]
    caption: str = ""
    numeric: Sequence[int] = ()     # indexes of the columns that hold numbers, aligned right


@dataclass(frozen=True)
class Items:
    """A titled list (reasons, citations, notes)."""

    title: str
    items: Sequence[CellLike]


# A report for a terminal is a sequence of blocks: a table, a list, or a line of text.
Block = Table | Items | Cell | str


# ---- the tone of a verdict: one decision, shared by every renderer ---------------------------------

def eccn_tone(eccn: str | None) -> str:
    """"outside" for a verdict outside every controlled paragraph, "undetermined" for none, else
    "controlled" (text that is not an ECCN, from a hostile file, never reads as outside)."""
    if eccn is None:
        return "undetermined"
    try:
        return "outside" if Eccn.parse(eccn).outside else "controlled"
    except EccnError:
        return "controlled"


def verdict(result) -> Cell:
    """A Classification's ECCN, toned: the paragraph that decided it, or the outcomes still possible."""
    if result.eccn is None:
        return Cell("undetermined: " + " or ".join(result.undetermined or []), "undetermined")
    paragraph = f" ({result.paragraph})" if result.paragraph and result.paragraph != result.eccn else ""
    return Cell(result.eccn + paragraph, eccn_tone(result.eccn))


def licence(required: bool | None, destination: str | None) -> Cell:
    """Whether a licence is required to ``destination``, toned."""
    if destination is None:
        return Cell("not evaluated (no destination)", "muted")
    return {True: Cell(f"required to {destination}", "controlled"),
            False: Cell(f"not required to {destination}", "outside"),
            None: Cell(f"undetermined for {destination}", "undetermined")}[required]


def check_tone(status: str) -> str | None:
    """The tone of a fleet check's status (pass / fail / undetermined)."""
    return {"fail": "controlled", "undetermined": "undetermined", "pass": "outside"}.get(status)


def measurement_tone(verdict_text: str) -> str:
    """The tone of a microbenchmark verdict: above its label is the red flag."""
    for start, tone in (("consistent", "outside"), ("above", "controlled"), ("below", "warning")):
        if verdict_text.startswith(start):
            return tone
    return "undetermined"
