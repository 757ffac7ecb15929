#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: kind cluster (if missing) + state folder + stack dev + pulumi up.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=bss
STACK=${BSS_STACK:-dev}
# Documented dev passphrase for the project-local state; set your own for anything but a laptop cluster.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-bss-dev-passphrase}"

for tool in kind kubectl pulumi; do
    command -v "$tool" >/dev/null || { echo "up: '$tool' is not installed (see README: Prerequisites)" >&2; exit 1; }
done

if [ "$STACK" = dev ]; then
    if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
        kind create cluster --config kind/cluster.yaml
    fi
    kubectl config use-context "kind-$CLUSTER" >/dev/null
fi

mkdir -p .pulumi-state
pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
exec pulumi up --stack "$STACK" "$@"
