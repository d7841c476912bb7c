"""Every line the commands and hooks print goes through cli/output.py (`say`, `show`), which
redacts credentials and escapes control characters: a `print` or a write elsewhere would be a
way around it. The only exceptions are texts of our own (--help, --version) and the report,
whose Markdown, JSON and CSV escape what they quote themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import telemetry_csv

PACKAGE = Path(telemetry_csv.__file__).parent
ALLOWED = {
    ("cli/main.py", "print"),  # --help and --version: our own text
    ("cli/report.py", "write"),  # the report itself (report/markdown.py escapes what it quotes)
    ("cli/output.py", "write"),  # say and show
    ("cli/arguments.py", "write"),  # argparse's --help
}


def printing_calls(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print":
            found.append(("print", node.lineno))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "write"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr in ("stdout", "stderr")
        ) or (isinstance(func, ast.Name) and func.id == "stream"):
            found.append(("write", node.lineno))
    return found


def test_commands_and_hooks_print_only_through_output() -> None:
    stray = []
    for path in sorted([*(PACKAGE / "cli").glob("*.py"), *(PACKAGE / "hooks").glob("*.py")]):
        name = path.relative_to(PACKAGE).as_posix()
        stray += [
            f"{name}:{line}: {kind}"
            for kind, line in printing_calls(path)
            if (name, kind) not in ALLOWED
        ]
    assert stray == []


def test_the_library_prints_nothing() -> None:
    """Below the commands, modules return data or raise; they never print."""
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith(("cli/", "hooks/")):
            continue
        stray += [f"{name}:{line}: {kind}" for kind, line in printing_calls(path)]
    assert stray == []
