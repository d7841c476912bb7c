"""The log in git: history rules, merges, commit ranges and the repository's set-up.

- `plumbing`: the one module that runs the `git` executable;
- `history`: append-only, what a commit or a range may do to committed rows;
- `merging`: the three-way merge of two versions of a log (the merge driver's logic);
- `ranges`: the rows a range of commits added (`report --range`);
- `setup`: `.gitattributes` and the merge driver's registration (`init`).
"""
