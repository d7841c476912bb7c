"""The log file itself: what a row is, how files are read, checked, written and kept canonical.

- `schema`: the columns (both header shapes), each field's rule, `Row`, the canonical line
  (`format_line`);
- `fastpath`: the regex engine that reads canonical lines in bulk, tested against `schema`;
- `reading`: `scan_file`/`scan_runs`, rows and `Problem`s in constant memory; `checking`: `check`;
- `source_ids`: rows with one `source_id` are one row (what every reader counts, what `check`
  reports);
- `layout`: which files make up a log (backup names and order, the shard folder's shards, folds,
  manifests and move journals, the lock, temporary files);
- `writing`: the lock, batch appends, rotation (where full, or where the header changes), the
  folder's .gitignore;
- `sharding`: the team layout's writer, which shard `log` appends to (a new one whenever git has
  the current one); `folds`: a fold and its manifest;
- `snapshot`: every file of a log read consistently while others write, each shard once;
  `ordering`: rows in time order in bounded memory (`cat`);
- `canonical`: each line's canonical form; `rewriting`: `fmt`; `repairing`: `repair`;
- `initialising`: what `init` puts in the folder.
"""
