# Sourced, not run, by up.sh and preview.sh from the repository root: what both need before Pulumi runs.
# The kind cluster comes first for preview too: helm.v4.Chart renders the Kong chart against a reachable cluster
# even in a preview. Set BSS_COMMAND (up, preview) first; it prefixes the messages. Leaves STACK set.
# shellcheck shell=bash

CLUSTER=bss
STACK=${BSS_STACK:-dev}
# Documented dev passphrase for the project-local state; set your own for anything but a laptop cluster.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-bss-dev-passphrase}"

for tool in kind kubectl pulumi; do
    command -v "$tool" >/dev/null || { echo "${BSS_COMMAND:?}: '$tool' is not installed (see README: Prerequisites)" >&2; exit 1; }
done

if [ "$STACK" = dev ]; then
    if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
        kind create cluster --config kind/cluster.yaml
    fi
    kubectl config use-context "kind-$CLUSTER" >/dev/null
fi

mkdir -p .pulumi-state
pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
