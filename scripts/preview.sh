#!/usr/bin/env bash
# npm run preview [-- <pulumi preview flags>]: kind cluster (if missing) + state folder + stack dev + pulumi preview.
set -euo pipefail
cd "$(dirname "$0")/.."

BSS_COMMAND=preview
# shellcheck source=prepare-stack.sh
source scripts/prepare-stack.sh
exec pulumi preview --stack "$STACK" "$@"
