"""Output for a person at a terminal: aligned tables, colour by verdict, progress bars. Rich lives here.

Colour and escape codes only when a person is watching: the stream is a terminal, ``NO_COLOR`` is
unset or empty (https://no-color.org) and ``TERM`` is not ``dumb``. Otherwise the same tables come
out as plain text with no escape code at all (pipes, files, click's CliRunner), wide enough that no
row wraps. Progress bars go to stderr, and only when stderr is a terminal; anywhere else
``progress`` does nothing, so commands can always use it.

Rich is imported inside the functions, never at module level: importing it costs some 30 ms, and the
``--json`` paths must not pay for it (tests/test_imports.py checks).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

from tppcalc.render.layout import Block, Cell, CellLike, Items, Table

# The colour of each tone (tppcalc.render.layout.TONES): the verdict, not the value, decides.
STYLES = {
    "controlled": "bold red",
    "undetermined": "bold yellow",
    "outside": "green",
    "warning": "yellow",
    "muted": "dim",
}
# Plain output is this wide at most: wide enough that no table row or reason wraps in a pipe.
PLAIN_WIDTH = 10_000
# Control characters from an input file or a device (an ESC could rewrite the screen) are shown, not sent.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def wants_colour(stream: TextIO) -> bool:
    """Whether ``stream`` reaches a person who accepts colour (see the module docstring)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def console(stream: TextIO | None = None, *, colour: bool | None = None):
    """A rich Console for ``stream`` (default: stdout); ``colour`` overrides ``wants_colour``."""
    from rich.console import Console

    stream = sys.stdout if stream is None else stream
    terminal = _is_terminal(stream)
    colour = wants_colour(stream) if colour is None else colour
    # No colour system means no style codes at all. A terminal without colour still gets the cursor
    # movements a progress bar needs; anything else is as wide as needed, so that nothing wraps.
    return Console(file=stream, force_terminal=terminal or colour, color_system="auto" if colour else None,
                   width=None if terminal else PLAIN_WIDTH, highlight=False, emoji=False)


def show(blocks: Iterable[Block], *, stream: TextIO | None = None, colour: bool | None = None) -> None:
    """Draw ``blocks`` (see ``tppcalc.render.layout``) on ``stream`` (default: stdout), a blank line between them."""
    out = console(stream, colour=colour)
    with out.capture() as captured:
        for index, block in enumerate(blocks):
            if index:
                out.print()
            out.print(renderable(block))
    text = captured.get()
    if out.color_system is None:
        text = "\n".join(line.rstrip() for line in text.split("\n"))  # rich pads cells; a pipe wants none
    out.file.write(text)
    out.file.flush()


def text(value: CellLike):
    """A rich Text for a cell: never parsed as markup, control characters made visible, toned."""
    from rich.text import Text

    plain = value.text if isinstance(value, Cell) else value
    style = STYLES[value.tone] if isinstance(value, Cell) and value.tone else ""
    return Text(_visible(plain), style=style)


def _visible(plain: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", plain)


def renderable(block: Block):
    """The rich renderable for one block."""
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Items):
        return _items(block)
    return text(block)


def _table(table: Table):
    from rich import box
    from rich.console import Group
    from rich.table import Table as RichTable

    headed = any(table.columns)
    if headed:
        grid = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        for index, name in enumerate(table.columns):
            grid.add_column(text(name), justify="right" if index in table.numeric else "left")
    else:  # label / value
        grid = RichTable.grid(padding=(0, 2, 0, 0))
        for index, _ in enumerate(table.columns):
            grid.add_column(style="bold" if index == 0 else None,
                            justify="right" if index in table.numeric else "left")
    for row in table.rows:
        grid.add_row(*(text(cell) for cell in row))
    return Group(_heading(table.caption), grid) if table.caption else grid


def _items(items: Items):
    from rich.console import Group
    from rich.table import Table as RichTable

    grid = RichTable.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)   # long items wrap under themselves, not under the dash
    grid.add_column()
    for item in items.items:
        grid.add_row("  -", text(item))
    return Group(_heading(items.title), grid) if items.title else grid


def _heading(title: str):
    from rich.text import Text

    return Text(_visible(title) + ":", style="bold")


class Progress:
    """What ``progress`` yields: tell it how far the work has got."""

    def __init__(self, bar=None, task=None):
        self._bar, self._task = bar, task

    def advance(self, amount: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def update(self, completed: float, *, total: float | None = None) -> None:
        """Set how much is done (and the total, once it is known)."""
        if self._bar is not None:
            changes = {"completed": completed} if total is None else {"completed": completed, "total": total}
            self._bar.update(self._task, **changes)

    def describe(self, description: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=_visible(description))


@contextmanager
def progress(description: str, *, total: float | None = None, stream: TextIO | None = None,
             enabled: bool = True) -> Iterator[Progress]:
    """A transient progress bar on stderr (or ``stream``) while the block runs, when that is a
    terminal (and ``enabled``: false where the work itself prints to the same terminal); otherwise a
    ``Progress`` that does nothing. ``total`` None: a bar without an end.

        with progress("measuring", total=len(steps)) as bar:
            for step in steps:
                bar.describe(f"measuring {step}")
                run(step)
                bar.advance()
    """
    stream = sys.stderr if stream is None else stream
    if not enabled or not _is_terminal(stream) or os.environ.get("TERM") == "dumb":
        yield Progress()
        return
    from rich.progress import (
        BarColumn,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn())
    with RichProgress(*columns, console=console(stream), transient=True) as bar:
        yield Progress(bar, bar.add_task(_visible(description), total=total))
