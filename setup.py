"""The one thing pyproject.toml cannot say: the optional compiled helpers (telemetry_csv/compiled.py).

`optional=True`: where no C compiler is found (or it fails), the package installs without them
and the pure-Python code beside each, the reference, does their work.
"""

import os

from setuptools import Extension, setup

FLAGS = [] if os.name == "nt" else ["-O2"]

setup(
    ext_modules=[
        Extension(name, [source], optional=True, extra_compile_args=FLAGS)
        for name, source in (
            ("telemetry_csv.report._tally", "telemetry_csv/report/_tally.c"),
            ("telemetry_csv.logfile._extended", "telemetry_csv/logfile/_extended.c"),
            ("telemetry_csv._secrets_screen", "telemetry_csv/_secrets_screen.c"),
        )
    ]
)
