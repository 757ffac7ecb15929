#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: kind cluster (if missing) + state folder + stack dev + pulumi up.
set -euo pipefail
cd "$(dirname "$0")/.."

BSS_COMMAND=up
# shellcheck source=prepare-stack.sh
source scripts/prepare-stack.sh
exec pulumi up --stack "$STACK" "$@"
