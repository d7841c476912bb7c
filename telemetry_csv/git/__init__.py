"""The log in git: history rules, merges, commit ranges and the repository's set-up.

- `plumbing`: the one module that runs the `git` executable;
- `worktree`: HEAD and the index read from the git folder without starting git (for `log`);
- `logsets`: a log as a revision holds it (its settings, files and rows, read in one batch);
- `append_only`: what a commit, a merge (against each parent) or a range may do to the log;
  `history`: its rule for the log file and its backups (rows only appended, rotations);
- `committed`: what the hooks may trust of a file: its start, when it is HEAD's blob;
- `merging`: the three-way merge of two versions of a log (the merge driver's logic);
- `ranges`: the rows a range of commits added (`report --range`);
- `folding`: `fold`, committed shards folded on the default branch;
- `setup`: `.gitattributes` and the merge driver's registration (`init`).
"""
