"""The characters no message prints as they are and no model name may hold (`characters`),
decided the same for every code point whether the text is ASCII (no pattern compiled) or not."""

from __future__ import annotations

import re
import sys

from telemetry_csv import characters

EVERY = [chr(code) for code in range(sys.maxunicode + 1)]


def test_every_code_point_is_escaped_as_the_classes_say() -> None:
    unsafe = re.compile(
        f"[{characters.CONTROLS}{characters.DEFAULT_IGNORABLE}{characters.SURROGATES}\u2028\u2029]"
    )
    for character in EVERY:
        shown = characters.escape(character)
        kept = character.isprintable() and not unsafe.match(character)
        assert (shown == character) is kept, repr(character)
        assert characters.escape(f"a{character}b") == f"a{shown}b"


def test_every_code_point_is_found_invisible_or_bidirectional_as_the_classes_say() -> None:
    invisible = re.compile(f"[{characters.DEFAULT_IGNORABLE}]")
    bidi = re.compile(f"[{characters.BIDI_CONTROLS}]")
    for character in EVERY:
        found = characters.first_invisible(f"ab{character}")
        assert (found is not None and found.start() == 2) is bool(invisible.match(character))
        found = characters.first_bidi_control(f"ab{character}")
        assert (found is not None and found.start() == 2) is bool(bidi.match(character))
