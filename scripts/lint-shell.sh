#!/usr/bin/env bash
# Runs shellcheck over every shell script of the repository (the ones shipped into pods, the ones users and CI run).
# `npm run lint` runs it after the type check; it needs shellcheck (Debian: apt-get install shellcheck).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "lint: shellcheck is not installed (Debian: apt-get install shellcheck)" >&2; exit 1; }
mapfile -t scripts < <({ git ls-files --cached --others --exclude-standard -- '*.sh'; echo .ci/run; } | sort -u)
status=0
for script in "${scripts[@]}"; do
    (cd "$(dirname "$script")" && shellcheck --external-sources "$(basename "$script")") || status=1
done
[ "$status" -eq 0 ] && echo "lint: ${#scripts[@]} shell scripts clean under shellcheck"
exit "$status"
