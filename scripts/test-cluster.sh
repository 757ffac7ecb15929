#!/usr/bin/env bash
# A real Kubernetes cluster on this machine for the tests, without Docker: etcd and the control plane on the
# loopback, three nodes (node-a/b/c in zones zone-a/b/c), each with its own containerd and kubelet, plus kube-proxy,
# CoreDNS and a local-path provisioner. Everything is built from pinned sources (test-cluster/build.sh) and
# local images (test-cluster/images.sh), cached under .cache/test-cluster.
#
#   test-cluster.sh up                 build what is missing, start the cluster, wait until every node is Ready
#   test-cluster.sh down               stop exactly what `up` started and undo what it changed on the host
#   test-cluster.sh stop-node NAME     node loss: kubelet, containerd and every container of NAME killed
#   test-cluster.sh start-node NAME    NAME comes back (same containerd root and kubelet state)
#   test-cluster.sh network-policy     start kube-router's network-policy controller (firewall only)
#   test-cluster.sh kubeconfig         print the admin kubeconfig's path
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)/test-cluster"
# shellcheck source=SCRIPTDIR/test-cluster/common.sh
source "$here/common.sh"
# shellcheck source=SCRIPTDIR/test-cluster/pki.sh
source "$here/pki.sh"
# shellcheck source=SCRIPTDIR/test-cluster/host-network.sh
source "$here/host-network.sh"
# shellcheck source=SCRIPTDIR/test-cluster/control-plane.sh
source "$here/control-plane.sh"
# shellcheck source=SCRIPTDIR/test-cluster/node.sh
source "$here/node.sh"

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, bridges, cgroups, mounts)"

node_ready() { [ "$(kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }

up() {
    if running kube-apiserver; then
        log "already up (run dir $TC_RUN); 'down' first for a fresh cluster"
        return 0
    fi
    local started=$SECONDS
    bash "$here/build.sh" >&2
    bash "$here/images.sh" >&2
    rm -rf "$TC_RUN"
    mkdir -p "$TC_RUN"
    pki_make
    network_up
    control_plane_up
    local node
    for node in "${TC_NODES[@]}"; do node_configure "$node"; done
    for node in "${TC_NODES[@]}"; do node_up "$node"; done
    services_up
    for node in "${TC_NODES[@]}"; do wait_for 120 "node $node" node_ready "$node"; done
    wait_for 60 "CoreDNS" "$TC_BIN/kubectl" --kubeconfig "$TC_KUBECONFIG" get --raw /api/v1/namespaces/default/services/kubernetes
    log "up in $((SECONDS - started))s: KUBECONFIG=$TC_KUBECONFIG"
}

down() {
    [ -d "$TC_RUN" ] || { network_down; return 0; }
    stop_all_processes
    network_policy_cleanup
    services_down
    local node
    for node in "${TC_NODES[@]}"; do node_down "$node"; done
    control_plane_down
    stray_processes_down
    kubelet_chains_cleanup
    network_down
    awk -v prefix="$TC_RUN/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf "$TC_RUN"
    log "down"
}

# kube-router's own --cleanup-config leaves its filter chains and ipsets in place (v2.1.0, and then it panics in
# its service-proxy cleanup): remove what its firewall programs ourselves, once it has stopped.
network_policy_cleanup() {
    local chain rule chains set
    for chain in INPUT FORWARD OUTPUT; do
        { iptables-save -t filter | grep -E "^-A $chain .*-j KUBE-ROUTER-" || true; } | sed 's/^-A //' | while read -r rule; do
            eval "iptables -t filter -D $rule" || true
        done
    done
    chains=$(iptables-save -t filter | grep -oE '^:(KUBE-ROUTER-[A-Z]+|KUBE-POD-FW-[A-Z0-9]+|KUBE-NWPLCY-[A-Z0-9]+)' | tr -d ':' || true)
    for chain in $chains; do iptables -t filter -F "$chain"; done
    for chain in $chains; do iptables -t filter -X "$chain"; done
    for set in $(ipset list -n 2>/dev/null | grep -E '^KUBE-(SRC|DST)-' || true); do ipset destroy "$set" 2>/dev/null || true; done
}

# Processes of this cluster whose pid file is gone (an interrupted up or down): every command line naming the run dir.
stray_processes_down() {
    local pid
    while read -r pid; do
        if [ -n "$pid" ] && [ "$pid" != "$$" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done < <(grep -lsFf <(echo "$TC_RUN/") /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3)
}

# The kubelets' own chains (KUBE-FIREWALL, the canaries, kube-proxy's hint), which no cleanup of theirs removes.
kubelet_chains_cleanup() {
    local table chain
    while iptables -t filter -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    while iptables -t filter -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    for table in filter nat mangle; do
        for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
            if iptables -t "$table" -F "$chain" 2>/dev/null; then iptables -t "$table" -X "$chain" 2>/dev/null || true; fi
        done
    done
}

network_policy() {
    running network-policy && return 0
    start_process network-policy "$TC_BIN/kube-router" --kubeconfig "$TC_RUN/network-policy.kubeconfig" \
        --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
        --hostname-override "${TC_NODES[0]}" --metrics-port 0 --health-port 0
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    stop-node) node_stop "${2:?node name}" ;;
    start-node) node_up "${2:?node name}"; wait_for 120 "node $2" node_ready "$2" ;;
    network-policy) network_policy ;;
    kubeconfig) echo "$TC_KUBECONFIG" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
