#!/usr/bin/env bash
# Validate the GitHub Action (action.yml) and every workflow (.github/workflows/, the examples
# in docs/examples/): first against the schemas GitHub's files follow (check-jsonschema's
# vendored copies: no network), then with zizmor's security audits (offline: no audit that
# asks GitHub). Both come with the `lint` extra; .venv/bin is used when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/zizmor ]; then
    PATH="$PWD/.venv/bin:$PATH"
fi
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml docs/examples/*.yml docs/examples/*.yaml)
check-jsonschema --builtin-schema vendor.github-actions action.yml
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
zizmor --offline --config .github/zizmor.yml --no-progress action.yml "${workflows[@]}"
