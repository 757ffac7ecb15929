#!/usr/bin/env bash
# Shared by the test cluster's scripts: where things live, the cluster's addresses, and process bookkeeping.
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file

TC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TC_CACHE="${TEST_CLUSTER_CACHE:-$TC_ROOT/.cache/test-cluster}"
TC_BIN="$TC_CACHE/bin"
# Short: containerd's and the kubelet's unix socket paths must stay under 108 characters.
TC_RUN="${TEST_CLUSTER_RUN:-/tmp/bss-test-cluster}"
TC_PKI="$TC_RUN/pki"
TC_PIDS="$TC_RUN/pids"
TC_LOGS="$TC_RUN/logs"

TC_NODES=(node-a node-b node-c)
TC_ZONES=(zone-a zone-b zone-c)
# Node i's pods live on bridge bsstc-<letter> in 10.244.i.0/24; the bridge's gateway address is the Node's InternalIP.
TC_POD_CIDR=10.244.0.0/16
TC_SERVICE_CIDR=10.96.0.0/16
TC_DNS_IP=10.243.0.10
TC_DNS_DEVICE=bsstc-dns
TC_API_PORT=16443
TC_ETCD_PORT=23790
TC_ETCD_PEER_PORT=23800
TC_API="https://127.0.0.1:$TC_API_PORT"
TC_KUBECONFIG="$TC_RUN/admin.kubeconfig"

node_index() {
    local i
    for i in "${!TC_NODES[@]}"; do [ "${TC_NODES[$i]}" = "$1" ] && { echo "$i"; return; }; done
    echo "test-cluster: no node '$1' (nodes: ${TC_NODES[*]})" >&2
    return 1
}
node_bridge() { echo "bsstc-${1#node-}"; }
node_ip() { echo "10.244.$(node_index "$1").1"; }
node_subnet() { echo "10.244.$(node_index "$1").0/24"; }
node_dir() { echo "$TC_RUN/nodes/$1"; }

log() { echo "test-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# start_process NAME COMMAND...: runs it in its own session, logs to $TC_LOGS/NAME.log, records its pid
start_process() {
    local name="$1"
    shift
    mkdir -p "$TC_PIDS" "$TC_LOGS"
    (
        # The cluster outlives the command that started it: it must not hold that command's descriptors (a
        # caller's flock, a test runner's pipes) open.
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec setsid "$@" >>"$TC_LOGS/$name.log" 2>&1 </dev/null
    ) &
    echo $! >"$TC_PIDS/$name.pid"
}

# stop_process NAME [SIGNAL]: ends the process NAME and its session, waits until they are gone
stop_process() {
    local name="$1" signal="${2:-TERM}" pidfile="$TC_PIDS/$1.pid" pid i
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill "-$signal" -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# stop_all_processes: SIGKILL to every recorded process and its session at once, then waits until they are gone.
# For `down` only: everything it stops is thrown away with the run dir, so a graceful stop buys nothing and costs
# seconds per process (kube-apiserver alone waits out its 10 s).
stop_all_processes() {
    local pidfile pids=() pid i alive
    for pidfile in "$TC_PIDS"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill -KILL -- "-$pid" 2>/dev/null || true
        pids+=("$pid")
    done
    for ((i = 0; i < 100; i++)); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    rm -f "$TC_PIDS"/*.pid
}

running() { [ -f "$TC_PIDS/$1.pid" ] && kill -0 "$(cat "$TC_PIDS/$1.pid")" 2>/dev/null; }

# wait_for SECONDS WHAT COMMAND...: retries COMMAND every half second until it succeeds or SECONDS pass
wait_for() {
    local seconds="$1" what="$2" deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${seconds}s (logs: $TC_LOGS)"
        sleep 0.5
    done
}

kc() { "$TC_BIN/kubectl" --kubeconfig "$TC_KUBECONFIG" "$@"; }
