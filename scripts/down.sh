#!/usr/bin/env bash
# npm run down [-- --delete-cluster]: destroy the stack, then (asked, or with --delete-cluster) the kind cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=bss
STACK=${BSS_STACK:-dev}
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-bss-dev-passphrase}"

delete_cluster=ask
pulumi_args=()
for arg in "$@"; do
    case "$arg" in
        --delete-cluster) delete_cluster=yes ;;
        --keep-cluster) delete_cluster=no ;;
        *) pulumi_args+=("$arg") ;;
    esac
done

# The dev stack is disposable: lift the protection of the audit topic so destroy can finish. Other stacks keep
# it, and their destroy stops at that topic until someone unprotects it on purpose.
if [ "$STACK" = dev ]; then
    pulumi state unprotect --all --yes --stack "$STACK"
fi
pulumi destroy --stack "$STACK" "${pulumi_args[@]}"

if [ "$STACK" = dev ] && kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    if [ "$delete_cluster" = ask ] && [ -t 0 ]; then
        read -r -p "Delete the kind cluster '$CLUSTER' too? [y/N] " answer
        case "$answer" in [yY]*) delete_cluster=yes ;; esac
    fi
    if [ "$delete_cluster" = yes ]; then
        kind delete cluster --name "$CLUSTER"
    fi
fi
