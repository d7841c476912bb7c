"""Characters that cannot be seen or that drive the terminal: the one definition, used by the
schema's rules (a model name may hold none of them) and by every message printed (each is
shown escaped, `\\u200b`, never passed on).

- Default-ignorable code points: Unicode's Default_Ignorable_Code_Point property
  (DerivedCoreProperties.txt, Unicode 15.1): the soft hyphen, zero-width spaces and joiners,
  bidirectional marks, embeddings, overrides and isolates, variation selectors, Hangul fillers,
  tags, and the code points reserved for more of them. Text that differs only in them looks
  the same: `claude-3-opus` and `claude-3-opus` with a soft hyphen inside are two models in a
  report that read as one.
- Bidirectional controls (a subset): they reorder how the text around them is displayed
  ("Trojan Source", CVE-2021-42574), in a terminal, a diff or a pull request.
- Control characters (C0, DEL, C1): ESC starts terminal escape sequences (colours, cursor
  moves, window titles, OSC 8 links), and C1's CSI and OSC do the same on their own.
- Lone surrogates: no text at all; Python makes them from bytes that are not UTF-8.
"""

from __future__ import annotations

import re

DEFAULT_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROLS = "\x00-\x1f\x7f-\x9f"
SURROGATES = "\ud800-\udfff"

# The patterns are kept as text and compiled on first use: compiling them costs `log` a
# millisecond of its start-up, and ASCII text, which has none of their characters but controls
# (which `str.isprintable` refuses), never needs them.
_INVISIBLE = f"[{DEFAULT_IGNORABLE}]"
_BIDI = f"[{BIDI_CONTROLS}]"
# What `escape` replaces: the above, and whatever else Python does not print as itself (line
# and paragraph separators, unassigned and private-use code points, other format characters).
_UNSAFE = f"[{CONTROLS}{DEFAULT_IGNORABLE}{SURROGATES}\u2028\u2029]"


def escape(text: str) -> str:
    """`text` with every character that is invisible, controls the terminal or is no text shown
    as a Python escape (`\\x1b`, `\\u00ad`, `\\udcff`), and everything else as it is."""
    if text.isprintable() and (text.isascii() or not re.search(_UNSAFE, text)):
        return text  # the common case, in a few passes of C code
    unsafe = re.compile(_UNSAFE)
    return "".join(
        character
        if character.isprintable() and not unsafe.match(character)
        else _escaped(character)
        for character in text
    )


def _escaped(character: str) -> str:
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def first_invisible(text: str) -> re.Match[str] | None:
    """The first default-ignorable character in `text`, if any."""
    return None if text.isascii() else re.search(_INVISIBLE, text)


def first_bidi_control(text: str) -> re.Match[str] | None:
    """The first bidirectional control in `text`, if any."""
    return None if text.isascii() else re.search(_BIDI, text)
