"""Text from input files and devices, made safe to place in a document: shown, never obeyed.

A chip name, host name or site read from a file may hold control characters (an ESC, a NUL) and, from
a careless decoder, lone surrogates. In HTML they are invisible or garbled, in SVG (XML) they make
the whole picture invalid, and a lone surrogate cannot even be written as UTF-8. Each one becomes a
visible escape, as the terminal shows them: ESC is ``\\x1b``, a lone surrogate ``\\ud800``. Tab and
newline are text and stay.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, surrogates, and the two code points XML forbids.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def visible(text: str) -> str:
    """``text`` with every character that a document cannot show written as its escape."""
    return _HIDDEN.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
