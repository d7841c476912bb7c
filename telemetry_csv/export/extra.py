"""Whether the `otlp` extra is installed, and what to install when it is not.

Only this module of the package may be imported without the extra: the CLI asks it first, so a
missing package is one line naming the command to run for this very interpreter, never an
ImportError traceback.
"""

from __future__ import annotations

from telemetry_csv.errors import TelemetryError

# The extra's requirements, as pyproject.toml's `otlp` extra lists them.
REQUIREMENTS = ("opentelemetry-proto>=1.27,<2", "protobuf>=5,<8")


class MissingExtraError(TelemetryError):
    """The OTLP packages are not installed for the running interpreter."""


def install_command() -> str:
    """The command that installs the extra's packages for the interpreter running now."""
    from telemetry_csv import extras

    return extras.install_command(extras.requirements("otlp", REQUIREMENTS))


def require_otlp() -> None:
    """Raise MissingExtraError unless the packages `export otlp` needs can be imported."""
    import importlib

    try:
        importlib.import_module("google.protobuf")
        importlib.import_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    except ImportError as error:
        missing = getattr(error, "name", None) or "opentelemetry-proto"
        raise MissingExtraError(
            f"exporting needs the `otlp` extra ({missing} cannot be imported); "
            f"install it with: {install_command()}"
        ) from None
