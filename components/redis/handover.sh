#!/bin/bash
# preStop hook of a Redis Cluster node: a master about to stop hands its slots to a replica first.
#
# The most caught-up online replica gets `CLUSTER FAILOVER` (no FORCE): the master then pauses its clients, the
# replica waits until it has received every write the master acknowledged, and only then takes the slots over;
# the old master becomes its replica. Clients see a short pause and a MOVED, never a lost acknowledged write.
# Without a hand-over, a stopped master's slots stay down for cluster-node-timeout and writes acknowledged
# in the last moment may not have reached the replica that is promoted.
#
# A replica, a master without an online replica (dev's single node) or a node that no longer answers stops
# at once. Bounded by HANDOVER_TIMEOUT_SECONDS, well inside the pod's termination grace period: if the
# hand-over does not finish in time the node stops anyway and the cluster fails over on its own.
#
# Environment: REDIS_PASSWORD, REDIS_PORT, HANDOVER_TIMEOUT_SECONDS.
set -uo pipefail

: "${REDIS_PASSWORD:?}" "${REDIS_PORT:?}"
timeout="${HANDOVER_TIMEOUT_SECONDS:-20}"
export REDISCLI_AUTH="$REDIS_PASSWORD"

log() {
    # The kubelet shows a failed hook's output in the pod's events; PID 1's stdout reaches `kubectl logs`.
    printf '%s handover.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" | { tee -a /proc/1/fd/1 2>/dev/null || true; }
}

local_cli() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" 2>/dev/null
}

replication=$(local_cli info replication | tr -d '\r') || exit 0
grep -qx 'role:master' <<<"$replication" || exit 0
# Lines `slaveN:ip=...,port=...,state=online,offset=...,lag=...`: the online replica with the highest offset.
target=$(awk -F'[:,=]' '
    $1 ~ /^slave[0-9]+$/ {
        split("", f)
        for (i = 2; i < NF; i += 2) f[$i] = $(i + 1)
        if (f["state"] == "online" && (best == "" || f["offset"] + 0 > best_offset)) { best = f["ip"] " " f["port"]; best_offset = f["offset"] + 0 }
    }
    END { print best }' <<<"$replication")
if [ -z "$target" ]; then
    log "master without an online replica: stopping without a hand-over"
    exit 0
fi
read -r replica_ip replica_port <<<"$target"
log "master: handing the slots over to the replica $replica_ip:$replica_port (CLUSTER FAILOVER)"
reply=$(redis-cli -h "$replica_ip" -p "$replica_port" cluster failover 2>&1)
if [ "$reply" != "OK" ]; then
    log "CLUSTER FAILOVER refused by $replica_ip:$replica_port: $reply; stopping anyway"
    exit 0
fi
deadline=$((SECONDS + timeout))
until local_cli info replication | tr -d '\r' | grep -qx 'role:slave'; do
    if (( SECONDS >= deadline )); then
        log "still a master ${timeout}s after CLUSTER FAILOVER; stopping anyway"
        exit 0
    fi
    sleep 0.2
done
log "handed over: now a replica of $replica_ip:$replica_port"
