"""What the tool says, made safe to print: the one place every message passes through on its
way to a terminal or a log (cli/output.py `say` and `show`, the hooks, `run`'s notes).

A message may quote what it was given: an argument, a path, a setting, a line of a committed
log, a field of a provider's response. Any of these can hold a credential or bytes that drive
the terminal. So each line of a message is first redacted (`secrets_scan.redact`: every
credential shape becomes `[redacted: NAME]`), then every invisible or control character in it
is shown escaped (`characters.escape`): nothing a message prints can repeat a key, move the
cursor, retitle the window or reorder the text around it.

Values are cut short for a message only by `excerpt`, which redacts before it cuts: cut
first, a long key would lose the end its pattern needs and its start would be printed.
"""

from __future__ import annotations

from telemetry_csv.characters import escape
from telemetry_csv.secrets_scan import redact

_MARK = "[redacted: "


def safe(text: str) -> str:
    """`text` as it may be printed: each line redacted, then its control and invisible
    characters escaped. Line breaks stay (a hook's finding spans lines); a carriage return,
    which would let a line overwrite what came before it, is escaped."""
    return "\n".join(escape(redact(line)) for line in text.split("\n"))


def safe_line(text: str) -> str:
    """`safe` for a message that is one line by contract (an error): a line break in a value it
    quotes (a file named "a\nb") is escaped too, so it cannot split the message in two."""
    return escape(redact(text))


def excerpt(text: str, limit: int) -> str:
    """At most about `limit` characters of `text` for a message, redacted first, then cut (never
    inside a `[redacted: …]`), with its length when it was cut."""
    shown = redact(text)
    if len(shown) <= limit:
        return shown
    cut = shown[:limit]
    mark = cut.rfind(_MARK)
    if mark >= 0 and "]" not in cut[mark:]:
        cut = shown[: shown.index("]", mark) + 1]
    return f"{cut}… ({len(text):,} characters)"
