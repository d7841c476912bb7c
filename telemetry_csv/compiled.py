"""The optional compiled helpers: loaded where they were built and are wanted.

`setup.py` compiles a few hot loops in C at install where a C compiler is found (each layer its
own: `report/_tally.c`, the report's pass over runs; `logfile/_extended.c`, the extended
lines' cache check and ids; `_secrets_screen.c`, the secret screen's pass over a run of lines,
which every reader of a log makes); where none is found, the package installs without them. The pure-Python
code beside each is the reference: it runs where the compiled one is missing, for whatever the
compiled one does not cover, and everywhere when `TELEMETRY_CSV_PURE_PYTHON=1` is set (the tests
compare both ways on the same files).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

PURE_PYTHON = "TELEMETRY_CSV_PURE_PYTHON"


def load(name: str) -> ModuleType | None:
    """The compiled module `name` (a layer loads only its own), or None where it was not built
    or is not wanted."""
    if os.environ.get(PURE_PYTHON) == "1":
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
