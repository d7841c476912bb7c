"""The hooks read pre-commit's usual arguments (file names alone) without argparse, exactly as
their parsers do; anything else goes to argparse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from telemetry_csv.hooks import append_only_hook, check_hook, fmt_hook, plain_names
from telemetry_csv.logfile.checking import DEFAULT_MAX_PROBLEMS
from testing.util import git_env


@pytest.mark.parametrize(
    ("hook", "argv"),
    [
        (check_hook, [".telemetry/usage.csv", ".telemetry/usage-20260301T120000Z.csv"]),
        (check_hook, []),
        (fmt_hook, [".telemetry/usage.csv"]),
        (fmt_hook, []),
        (append_only_hook, []),
        (append_only_hook, ["logs/other.csv"]),
    ],
)
def test_file_names_alone_are_read_as_argparse_reads_them(
    hook: ModuleType, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit passes file names only: the hooks read them without argparse, with every
    option at its default, exactly as their parser would."""
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)
    assert plain_names(argv) == argv
    parsed = vars(hook.build_parser().parse_args(argv))
    assert parsed.pop("filenames") == argv
    defaults = {"max_problems": DEFAULT_MAX_PROBLEMS, "from_ref": None, "to_ref": None}
    assert parsed == {name: defaults[name] for name in parsed}


@pytest.mark.parametrize("argv", [["--max-problems", "3", "a.csv"], ["-h"], ["a.csv", "--"]])
def test_anything_but_file_names_goes_to_argparse(argv: list[str]) -> None:
    assert plain_names(argv) is None


@pytest.mark.parametrize("hook", ["check_hook", "fmt_hook", "append_only_hook"])
def test_file_names_alone_import_no_argparse(hook: str, repo: Path) -> None:
    code = (
        "import sys\n"
        f"from telemetry_csv.hooks import {hook}\n"
        f"{hook}.main(['no-such-file.csv'])\n"
        "print('argparse' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, env=git_env()
    )
    assert done.stdout.splitlines()[-1] == "False", done.stderr
