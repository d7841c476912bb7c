"""One import as the `import` command or the hook would run it: a fresh process, each source
with its state. Used by bench_import.py to time an import when nothing is new.

    python benchmarks/import_once.py HOME ROOT NOW STATE_FOLDER
"""

from __future__ import annotations

import sys

from telemetry_csv import importing


def main() -> int:
    home, root, now, states = sys.argv[1:5]
    for source in importing.SOURCES:
        state = importing.StateFile(f"{states}/import-state.{source}.json", "bench")
        result = importing.collect(
            source,
            root=root,
            all_projects=True,
            now=float(now),
            state=state,
            environ={"HOME": home},
        )
        result.save_state()
        if result.slices:
            print(f"{source}: {len(result.slices)} new slices", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
