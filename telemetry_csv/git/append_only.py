"""What a commit, a merge or a range may do to the log: nothing but add rows.

Three checks, each read from git's objects:

- a commit (HEAD against the index) or a range's net change (its base against its end):
  the log file and its backups follow `history.py` (rows only appended; a rotation moves them
  whole to a new backup); shards and folds follow the team layout's rules below;
- a merge, against each of its parents (`MERGE_HEAD` while `git commit` concludes a merge;
  `GITHEAD_<id>`, which git sets for the `pre-merge-commit` hook; each merge inside a range):
  every row either parent committed must still be there, as a multiset per owner (the log's
  files; each shard), so a merge that kept one side of the log and dropped the other fails,
  naming the parent and the first row missing;
- each revision's own settings say where its log is (`logsets.settings_at`): when a commit moves
  the log, every old row must be in the new place.

The team layout's rules: a committed shard never changes (re-saving it canonically, as `fmt`
does, is no change); it leaves only into a fold that holds it with the same content hash; a fold
is added with its manifest, which must be true of it (rows moved whole, none changed, none lost);
a committed fold or manifest never changes or goes. `TELEMETRY_CSV_RETIRE_BACKUPS=1` permits
deleting whole backups, folds (with their manifests) and shards, in a commit that does nothing
else to the log: not an edited copy re-added under another name beside them.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from telemetry_csv.config import Settings
from telemetry_csv.git import plumbing
from telemetry_csv.git.history import RETIRE_BACKUPS, Comparison, Deletion, Rewrite, check_log
from telemetry_csv.git.logsets import LogSet, Reader, log_set_at, ordered_folds, settings_at
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.canonical import line_key, read_lines, row_keys

_SHOWN_CHARS = 200
_GITHEAD = re.compile(r"GITHEAD_([0-9a-f]{40}(?:[0-9a-f]{24})?)")


class Finding(NamedTuple):
    """Something a revision did to the log that history does not allow."""

    path: str
    what: str
    advice: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.what}" + "".join(f"\n    {line}" for line in self.advice)


Findings = list[Rewrite | Deletion | Finding]


def check(
    root: Path,
    settings: Settings,
    *,
    from_ref: str | None = None,
    to_ref: str | None = None,
    extra_logs: Sequence[str] = (),
    retire: bool = False,
    work_tree: plumbing.WorkTree | None = None,
) -> Findings:
    """What the hook checks: with `from_ref` and `to_ref` (resolved strictly to commit ids
    first), their merge base against `to_ref`, then the merges inside; else what is staged
    against HEAD, or, while a merge is being committed, against each parent. Nothing in a
    repository's first commit, where every file is new. `work_tree`: `root`'s, when the
    caller has asked git already."""
    with plumbing.BlobReader(root) as blobs:
        checker = Checker(root, settings, blobs, retire=retire, extra_logs=extra_logs)
        if from_ref and to_ref:
            end = plumbing.require_commit(to_ref, root)
            start_ref = plumbing.require_commit(from_ref, root)
            start = plumbing.merge_base(start_ref, end, root) or start_ref
            return checker.range(start, end, to_ref)
        work_tree = work_tree or plumbing.work_tree(root)
        head = work_tree.head
        if head is None:
            return []
        parents = merge_parents(work_tree.git_dir)
        if parents:
            return checker.merge(
                [(head, f"HEAD ({head[:12]})"), *parents], plumbing.INDEX, "staged"
            )
        return checker.commit(Comparison(head, plumbing.INDEX, "HEAD", "staged"))


def merge_parents(git_dir: Path) -> list[tuple[str, str]]:
    """The other parents of the merge being committed, (id, label): from MERGE_HEAD when `git
    commit` concludes a merge, from the GITHEAD_<id> variables git sets while it runs the
    pre-merge-commit hook (MERGE_HEAD is written only after it); none outside a merge."""
    try:
        text = (git_dir / "MERGE_HEAD").read_text(encoding="ascii", errors="replace")
    except OSError:
        text = ""
    found = [(oid, f"MERGE_HEAD ({oid[:12]})") for oid in text.split() if plumbing.is_oid(oid)]
    if found:
        return found
    for name, value in os.environ.items():
        match = _GITHEAD.fullmatch(name)
        if match:
            shown = value if value and value.isprintable() and len(value) < 100 else "merged"
            found.append((match.group(1), f"{shown} ({match.group(1)[:12]})"))
    return sorted(found)


class Checker:
    """The checks above for one repository, reading every blob at most once."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        blobs: plumbing.BlobReader,
        *,
        retire: bool = False,
        extra_logs: Sequence[str] = (),
    ):
        self.root = root
        self.settings = settings
        self.schema = settings.schema
        self.blobs = blobs
        self.reader = Reader(blobs, self.schema)
        self.retire = retire
        self.extra_logs = list(extra_logs)

    def log_set(self, revision: str, label: str, *, old: bool = False) -> LogSet:
        settings = settings_at(revision, self.root, self.blobs, self.settings)
        return log_set_at(revision, label, settings, self.root, old=old)

    def commit(self, compared: Comparison, *, pure_retire: bool = True) -> Findings:
        """A commit or a range's net change (see the module docstring)."""
        old = self.log_set(compared.old_revision, compared.old_label, old=True)
        new = self.log_set(compared.new_revision, compared.new_label)
        findings: Findings = []
        if old.same_place(new):
            for log in [new.log_path, *[p for p in self.extra_logs if p != new.log_path]]:
                if log == new.log_path and old.legacy == new.legacy:
                    # The log and its backups hold the same blobs at both ends (a commit of
                    # new shards): git would list no change to compare, so it is not asked.
                    continue
                findings += check_log(
                    log,
                    self.schema,
                    compared,
                    self.root,
                    retire_backups=self.retire,
                    blobs=self.blobs,
                    known={path: (oid, old.sizes.get(oid, -1)) for path, oid in old.legacy},
                    staged=dict(new.legacy) if new.revision == plumbing.INDEX else None,
                )
            findings += self._shards(old, new)
        else:
            findings += self._moved(old, new)
            findings += self._shards(old, new, only_folds=True)
        if self.retire and pure_retire:
            findings += self._retire(old, new)
        return findings

    def merge(
        self, parents: Sequence[tuple[str, str]], new_revision: str, new_label: str
    ) -> Findings:
        """A merge against each of its parents: every row of each must still be there."""
        new = self.log_set(new_revision, new_label)
        findings: Findings = []
        for revision, label in parents:
            old = self.log_set(revision, label, old=True)
            if old.same_place(new):
                findings += self._legacy_kept(old, new)
                findings += self._shards(old, new)
            else:
                findings += self._moved(old, new)
        return findings

    def range(self, start: str, end: str, end_label: str) -> Findings:
        """The net change of a range, then each merge inside it against each of its parents,
        and, with retiring allowed, that each commit that retires backups does nothing else."""
        findings = self.commit(Comparison(start, end, start[:12], end_label), pure_retire=False)
        for merge in plumbing.merges_between(start, end, self.root):
            labelled = [(p, p[:12]) for p in plumbing.parents(merge, self.root)]
            findings += self.merge(labelled, merge, f"merge {merge[:12]}")
        if self.retire:
            for commit in plumbing.commits_between(start, end, self.root):
                parents = plumbing.parents(commit, self.root)
                if len(parents) == 1:
                    old = self.log_set(parents[0], parents[0][:12], old=True)
                    findings += self._retire(old, self.log_set(commit, commit[:12]))
        return findings

    def _legacy_kept(self, old: LogSet, new: LogSet) -> Findings:
        """The log's and its backups' rows of a parent, all still in the merge (a multiset)."""
        if old.legacy == new.legacy:
            return []
        remaining = self.reader.legacy_keys(new)
        missing = 0
        first: tuple[str, int, str] | None = None
        for path, oid in old.legacy:
            if self._retired(path, old, new):
                continue
            for number, key in enumerate(row_keys(self.reader.blob(oid), self.schema), start=2):
                if remaining[key] > 0:
                    remaining[key] -= 1
                else:
                    missing += 1
                    first = first or (path, number, key)
        if first is None:
            return []
        path, number, key = first
        return [
            Finding(
                path,
                f"the merge drops {missing:,} row(s) that {old.label} has in the log; every "
                "row of both parents must stay",
                (
                    f"first missing, {old.label} line {number}: {_shown(key)}",
                    f"the rows are in `git show {old.revision}:{path}`; put them back, or abort "
                    "the merge (`git merge --abort`), run `telemetry-csv init --git` and merge "
                    "again",
                ),
            )
        ]

    def _retired(self, path: str, old: LogSet, new: LogSet) -> bool:
        """A whole backup the new revision no longer has, deleted on purpose."""
        return self.retire and path != old.log_path and all(p != path for p, _ in new.legacy)

    def _moved(self, old: LogSet, new: LogSet) -> Findings:
        """The log moved (its settings changed): every old row, by owner, in the new place."""
        remaining: Counter[tuple[str, str]] = Counter(
            (owner, key) for owner, key, _ in self.reader.rows(new)
        )
        missing = 0
        first = None
        for owner, key, where in self.reader.rows(old):
            if remaining[(owner, key)] > 0:
                remaining[(owner, key)] -= 1
            else:
                missing += 1
                first = first or (where, key)
        if not missing or first is None:
            return []
        return [
            Finding(
                new.log_path,
                f"{missing:,} row(s) of the log at {old.log_path} ({old.label}) are not in the "
                f"log at {new.log_path} ({new.label}); moving the log must keep every row",
                (
                    f"first missing, {first[0]}: {_shown(first[1])}",
                    "move the files of the log (and its backups, shards and folds) with the "
                    "setting, in the same commit",
                ),
            )
        ]

    def _shards(self, old: LogSet, new: LogSet, *, only_folds: bool = False) -> Findings:
        """The team layout's rules (module docstring) between two versions of the shard folder."""
        findings: Findings = []
        reader = self.reader
        old_hashes: dict[str, str] | None = None
        for name, oid in new.folds.items():
            if old.folds.get(name) == oid and old.same_place(new):
                continue
            path = new.path(name)
            if name in old.folds and old.same_place(new):
                findings.append(self._frozen(path, old, "a committed fold was changed"))
                continue
            content = reader.fold(new, name)
            if content.problem:
                findings.append(
                    Finding(
                        path,
                        f"a fold whose manifest is not true: {content.problem}",
                        (
                            "write folds with `telemetry-csv fold`, which lists each shard it "
                            "holds with its row count and content hash",
                        ),
                    )
                )
                continue
            if old_hashes is None:
                old_hashes = reader.identities(old)
            for entry in content.entries:
                before = old_hashes.get(entry.shard)
                if before is not None and before != entry.sha256:
                    findings.append(
                        Finding(
                            path,
                            f"holds {entry.shard} with other rows than {old.label} has for it; "
                            "a fold moves shards whole and unchanged",
                        )
                    )
        for name, oid in new.manifests.items():
            fold = layout.fold_of_manifest(name)
            if fold not in new.folds:
                findings.append(Finding(new.path(name), f"a manifest without its fold {fold}"))
            elif name in old.manifests and old.manifests[name] != oid and old.same_place(new):
                findings.append(
                    self._frozen(new.path(name), old, "a committed manifest was changed")
                )
        if only_folds:
            return findings
        new_holds: dict[str, set[str]] | None = None
        for name, oid in old.shards.items():
            now = new.shards.get(name)
            if now == oid:
                continue
            path = old.path(name)
            if now is not None:
                if self._lines(oid) != self._lines(now):
                    findings.append(self._frozen(path, old, "a committed shard was changed"))
                continue
            if new_holds is None:
                new_holds = self._held(new)
            if reader.shard_hash(oid) in new_holds.get(name, set()):
                continue  # folded: its rows are in a fold, whole
            if not self.retire:
                findings.append(
                    Deletion(
                        path,
                        old.label,
                        f"a committed shard was deleted, and no fold in {new.label} holds it "
                        "(with the same content)",
                        True,
                    )
                )
        for name in old.folds:
            if name not in new.folds and not self.retire:
                findings.append(
                    Deletion(old.path(name), old.label, "a committed fold was deleted", True)
                )
        for name in old.manifests:
            fold = layout.fold_of_manifest(name)
            if name not in new.manifests and fold in new.folds:
                findings.append(
                    Deletion(
                        old.path(name), old.label, f"the manifest of {fold} was deleted", False
                    )
                )
        return findings

    def _lines(self, oid: str) -> list[str]:
        """A file's lines by their canonical form (what `fmt` does to them is no change)."""
        return [line_key(line) for line in read_lines(self.reader.blob(oid), self.schema)]

    def _held(self, logs: LogSet) -> dict[str, set[str]]:
        """Each shard that a fold of `logs` holds: the content hashes it is held with."""
        held: dict[str, set[str]] = {}
        for name in ordered_folds(self.reader, logs):
            for entry in self.reader.fold_entries(logs, name):
                held.setdefault(entry.shard, set()).add(entry.sha256)
        return held

    def _frozen(self, path: str, old: LogSet, what: str) -> Finding:
        return Finding(
            path,
            f"{what}; a file git has committed in the shard folder never changes",
            (
                f"restore it with `git checkout {old.label.split()[0]} -- {path}`; new rows "
                "go to a new shard (`telemetry-csv log` starts one by itself)",
            ),
        )

    def _retire(self, old: LogSet, new: LogSet) -> Findings:
        """With retiring allowed, a revision that deletes backups must do nothing else to the
        log: an edited copy added beside the deletion would rewrite history."""
        old_files = _files(old)
        new_files = _files(new)
        deleted = [path for path in old_files if path not in new_files]
        if not deleted:
            return []
        others = [path for path, oid in new_files.items() if old_files.get(path) != oid]
        if not others:
            return []
        return [
            Finding(
                others[0],
                f"{RETIRE_BACKUPS}=1 permits only deleting whole backups, in a commit that does "
                f"nothing else to the log; {new.label} also adds or changes this file (and "
                f"deletes {deleted[0]})",
                ("retire backups in a commit of their own, and commit other changes apart",),
            )
        ]


def _files(logs: LogSet) -> dict[str, str]:
    found = dict(logs.legacy)
    for group in (logs.shards, logs.folds, logs.manifests):
        found.update({logs.path(name): oid for name, oid in group.items()})
    return found


def _shown(text: str) -> str:
    shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + f"… ({len(shown)} characters)"
    return shown
