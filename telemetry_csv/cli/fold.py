"""`telemetry-csv fold`: fold committed shards on the default branch, in a commit of its own."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.output import show, shown_path

DESCRIPTION = """\
Fold the team layout's committed shards into a few larger files (folds), each with a manifest
naming the shards it holds, their row counts and content hashes, and commit that alone, with
git's own `git commit` (so the hooks check it). Only on the default branch, and only shards
that HEAD has unchanged, so open pull requests merge afterwards without a conflict. Two clones
that fold the same shards write the same files; readers count each shard's rows once, wherever
they are. Loose copies of shards a fold already holds are deleted. Fold when usage.rows/ holds
many files (hundreds); nothing needs it sooner."""


def build_parser() -> ArgumentParser:
    parser = command_parser("fold", DESCRIPTION)
    parser.add_argument(
        "--no-commit",
        action="store_true",
        help="stage the fold but do not commit it (commit it alone, before anything else)",
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings
    from telemetry_csv.git import plumbing
    from telemetry_csv.git.folding import fold

    settings = load_settings()
    root = plumbing.toplevel(settings.root)
    result = fold(settings, root, commit=not args.no_commit)
    for why in result.skipped:
        show(f"left loose: {why}")
    if not result.folds and not result.dropped:
        show("nothing to fold: no committed shard outside a fold")
        return 0
    for path in result.folds:
        show(f"wrote    {shown_path(path)} (and its manifest)")
    show(
        f"folded {result.folded} shard(s), {result.rows:,} row(s), into {len(result.folds)} "
        f"fold(s); deleted {len(result.dropped)} loose copy(ies) of shards folds already held"
    )
    if result.commit:
        show(f"committed {result.commit[:12]}")
    else:
        show("staged; commit it alone: git commit -m 'telemetry-csv fold'")
    return 0
