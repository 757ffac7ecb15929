#!/usr/bin/env bash
# kind's local-path provisioner behaviour for StorageClass "standard": once the scheduler has picked a node for a
# pending claim (WaitForFirstConsumer), create a hostPath PersistentVolume in a fresh directory of that node,
# bound to the claim and pinned to the node; delete a released volume and its directory.
# No -e: a failed call is logged and tried again on the next round; the provisioner itself keeps running.
set -uo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "$0")/common.sh"
export KUBECONFIG="$TC_RUN/local-path.kubeconfig"
PROVISIONER=bss-test/local-path
k() { "$TC_BIN/kubectl" "$@"; }

provision() {
    local namespace="$1" claim="$2" uid="$3" node="$4" size="$5" mode="$6" volume dir
    volume="pvc-$uid"
    dir="$(node_dir "$node")/volumes/$namespace-$claim"
    mkdir -p "$dir"
    # The pods' fsGroup is not applied to hostPath volumes: like kind's provisioner, leave the directory open.
    chmod 0777 "$dir"
    k apply --server-side --field-manager "$PROVISIONER" -f - >/dev/null <<YAML || { echo "could not create $volume for $namespace/$claim"; return 1; }
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $volume
  annotations: { pv.kubernetes.io/provisioned-by: $PROVISIONER }
spec:
  capacity: { storage: $size }
  accessModes: [$mode]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: standard
  claimRef: { namespace: $namespace, name: $claim, uid: $uid }
  hostPath: { path: $dir, type: DirectoryOrCreate }
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions: [{ key: kubernetes.io/hostname, operator: In, values: [$node] }]
YAML
    echo "provisioned $volume for $namespace/$claim on $node"
}

while true; do
    k get pvc -A -o jsonpath='{range .items[?(@.spec.storageClassName=="standard")]}{.status.phase} {.metadata.namespace} {.metadata.name} {.metadata.uid} {.metadata.annotations.volume\.kubernetes\.io/selected-node} {.spec.resources.requests.storage} {.spec.accessModes[0]} {.spec.volumeName}{"\n"}{end}' 2>/dev/null |
        while read -r phase namespace claim uid node size mode bound; do
            if [ "$phase" != Pending ] || [ -z "$node" ] || [ -n "$bound" ]; then continue; fi
            k get pv "pvc-$uid" >/dev/null 2>&1 || provision "$namespace" "$claim" "$uid" "$node" "$size" "$mode"
        done
    k get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name} {.metadata.annotations.pv\.kubernetes\.io/provisioned-by} {.spec.hostPath.path}{"\n"}{end}' 2>/dev/null |
        while read -r volume by path; do
            [ "$by" = "$PROVISIONER" ] || continue
            k delete pv "$volume" --wait=false >/dev/null 2>&1 && rm -rf "$path" && echo "deleted $volume"
        done
    sleep 1
done
