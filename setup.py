"""The one thing pyproject.toml cannot say: the report's optional compiled pass.

`optional=True`: where no C compiler is found (or it fails), the package installs without it and
the report runs its pure-Python pass, the reference (telemetry_csv/report/accelerator.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "telemetry_csv.report._tally",
            ["telemetry_csv/report/_tally.c"],
            optional=True,
            extra_compile_args=["-O2"] if __import__("os").name != "nt" else [],
        )
    ]
)
