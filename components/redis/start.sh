#!/bin/bash
# Starts one node of the Redis Cluster StatefulSet.
#
# The password reaches redis-server through a runtime include written here (mode 0600, on an emptyDir),
# never through the command line, so it shows neither in `ps` nor in the logs. The same include announces
# the pod's current IP: a pod that comes back on a new address must not advertise the old one.
#
# A node that already belonged to a cluster (its nodes.conf on the PVC lists peers) re-meets its peers by
# their stable DNS names once it is up: when every pod restarted on a new IP, each nodes.conf only holds
# stale addresses and the cluster would stay down until the nodes find each other again.
#
# The include also announces the Kubernetes node the pod runs on as cluster-announce-hostname (metadata in
# CLUSTER NODES and CLUSTER SLOTS; clients keep connecting by IP): the bootstrap pairs each replica with a master
# on another node by it, and a rejoined node uses it to restore the spread of masters after a failover (below).
#
# Environment (set by the StatefulSet): POD_IP, NODE_NAME, REDIS_PASSWORD, REDIS_PORT, REDIS_BUS_PORT,
# REDIS_CONFIG, REDIS_RUNTIME_DIR, REDIS_DATA_DIR, CLUSTER_PEERS_FILE (the stable DNS name of every node, one a
# line; a ConfigMap file the kubelet refreshes when the node count changes, so it is read at each use),
# REJOIN_TIMEOUT_SECONDS.
set -euo pipefail

: "${POD_IP:?POD_IP must be set (downward API status.podIP)}"
: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set (from the cluster Secret)}"
: "${REDIS_PORT:?}" "${REDIS_BUS_PORT:?}" "${REDIS_CONFIG:?}" "${REDIS_RUNTIME_DIR:?}" "${REDIS_DATA_DIR:?}"
: "${CLUSTER_PEERS_FILE:?CLUSTER_PEERS_FILE must name the file listing the DNS name of every node}"
rejoin_timeout="${REJOIN_TIMEOUT_SECONDS:-600}"

log() {
    printf '%s start.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

# A double-quoted redis.conf string: backslash and double quote escaped, so any password survives.
conf_string() {
    local value=${1//\\/\\\\}
    printf '"%s"' "${value//\"/\\\"}"
}

local_cli() {
    REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

cluster_peers() {
    cat "$CLUSTER_PEERS_FILE"
}

# Node lines of nodes.conf other than this node's own: peers this node knew before the restart.
known_peers() {
    local nodes_file="$REDIS_DATA_DIR/nodes.conf"
    [ -f "$nodes_file" ] || { echo 0; return; }
    awk '$1 != "vars" && $3 !~ /myself/ { n++ } END { print n + 0 }' "$nodes_file"
}

# The cluster serves all slots and every peer is known at the address its DNS name has now, connected and not
# suspected. Right after a restart the view loaded from nodes.conf still holds the old addresses, each with a
# link that reads "connected" while it is only being dialled, and the state reads ok until the node timeout:
# counting connected lines there declared nodes rejoined that had met no one.
cluster_whole() {
    local info nodes peer address
    info=$(local_cli cluster info 2>/dev/null) || return 1
    grep -q '^cluster_state:ok' <<<"$info" || return 1
    nodes=$(local_cli cluster nodes 2>/dev/null) || return 1
    for peer in $(cluster_peers); do
        address=$(getent hosts "$peer" | awk '{ print $1; exit }') || true
        [ -n "$address" ] || return 1
        [ "$address" != "$POD_IP" ] || continue
        awk -v addr="$address:$REDIS_PORT@" '
            index($2, addr) == 1 && $8 == "connected" && $3 !~ /fail|handshake|noaddr/ { found = 1 }
            END { exit !found }' <<<"$nodes" || return 1
    done
}

# CLUSTER MEET takes addresses, not names: resolve each peer and meet those this node cannot reach yet.
meet_peers() {
    local peer address nodes
    nodes=$(local_cli cluster nodes 2>/dev/null) || return 0
    for peer in $(cluster_peers); do
        address=$(getent hosts "$peer" | awk '{ print $1; exit }') || true
        if [ -z "$address" ] || [ "$address" = "$POD_IP" ]; then
            continue
        fi
        if awk -v addr="$address:$REDIS_PORT@" 'index($2, addr) == 1 && $8 == "connected" { found = 1 } END { exit !found }' <<<"$nodes"; then
            continue
        fi
        local_cli cluster meet "$address" "$REDIS_PORT" "$REDIS_BUS_PORT" >/dev/null || true
    done
}

# Masters serving slots per Kubernetes node, then this node's own Kubernetes node and its master's: "node count"
# lines, then "self <node> <master's node>" (only for a replica).
master_spread() {
    awk '
        { split($2, parts, ","); host[$1] = parts[2] }
        $3 ~ /master/ && $3 !~ /fail/ && NF > 8 && parts[2] != "" { masters[parts[2]]++ }
        $3 ~ /myself/ && $3 ~ /slave/ { self = $1; master = $4 }
        END {
            for (h in masters) print h, masters[h]
            if (self != "") print "self", host[self], host[master]
        }' <<<"$1"
}

# After a failover the promoted replica's Kubernetes node holds two masters and the failed master's node, once
# back, none: losing the doubled node would then take two masters at once, and with three masters no majority is
# left to promote their replicas. A replica back on a node without masters whose master shares its node with
# another master takes over with CLUSTER FAILOVER (without FORCE: the master stops writes until this replica has
# caught up, so no acknowledged write is lost, and no slot moves). Each take-over lowers the doubling, so nodes
# cannot trade masters back and forth; one attempt per start, within rejoin's deadline.
restore_master_spread() {
    local nodes spread own master_node
    nodes=$(local_cli cluster nodes 2>/dev/null) || return 0
    spread=$(master_spread "$nodes")
    read -r _ own master_node < <(grep '^self ' <<<"$spread") || return 0
    [ -n "$own" ] && [ -n "$master_node" ] && [ "$own" != "$master_node" ] || return 0
    awk -v own="$own" -v theirs="$master_node" '
        $1 == own { o = $2 } $1 == theirs { t = $2 }
        END { exit !(o + 0 == 0 && t + 0 >= 2) }' <<<"$spread" || return 0
    until local_cli info replication 2>/dev/null | tr -d '\r' | grep -qx 'master_link_status:up'; do
        kill -0 "$server_pid" 2>/dev/null || return 0
        (( SECONDS < deadline )) || { log "replication link still down; the spread of masters stays as it is"; return 0; }
        sleep 1
    done
    log "node $own holds no master, $master_node holds two or more: taking over from this replica's master (CLUSTER FAILOVER)"
    local_cli cluster failover >/dev/null || { log "CLUSTER FAILOVER refused"; return 0; }
    local waited=0
    until [ "$(local_cli role 2>/dev/null | head -n 1)" = "master" ]; do
        (( waited < 30 )) || { log "still a replica 30 s after CLUSTER FAILOVER; the spread stays as it is"; return 0; }
        sleep 1
        waited=$((waited + 1))
    done
    log "took over: master again on $own"
}

# A replica that learned its master's new address from another node's gossip (every pod restarted on a new IP) goes
# on syncing from the old one: redis-server 7.0/7.2 re-points the replication link only when the master itself
# reaches it from the new address (redis/redis#14633, open), which a master still sorting out its own peers may not
# do for minutes. CLUSTER REPLICATE of the same master points the link at the address the cluster has for it (a
# partial resync where the offsets allow), moves no slot and changes no role.
repoint_replication() {
    local nodes master_id address replication linked
    nodes=$(local_cli cluster nodes 2>/dev/null) || return 0
    master_id=$(awk '$3 ~ /myself/ && $3 ~ /slave/ { print $4 }' <<<"$nodes")
    [ -n "$master_id" ] || return 0
    address=$(awk -v id="$master_id" '$1 == id { split($2, at, "@"); print at[1] }' <<<"$nodes")
    replication=$(local_cli info replication 2>/dev/null | tr -d '\r') || return 0
    linked=$(awk -F: '$1 == "master_host" { host = $2 } $1 == "master_port" { port = $2 } END { if (host != "") print host ":" port }' <<<"$replication")
    [ -n "$address" ] && [ "${address#:}" = "$address" ] && [ -n "$linked" ] && [ "$linked" != "$address" ] || return 0
    log "replicating from $linked, but the cluster has master $master_id at $address: CLUSTER REPLICATE $master_id"
    [ "$(local_cli cluster replicate "$master_id" 2>/dev/null)" = "OK" ] || log "CLUSTER REPLICATE $master_id refused"
}

rejoin() {
    local deadline=$((SECONDS + rejoin_timeout))
    # Leaves readiness to the cluster's own state however the rejoin ends: a node that never rejoins must
    # still be able to turn Ready once an operator has mended the cluster by hand.
    trap 'rm -f "$rejoining_marker"' EXIT
    until [ "$(local_cli ping 2>/dev/null)" = "PONG" ]; do
        kill -0 "$server_pid" 2>/dev/null || return 0
        (( SECONDS < deadline )) || { log "redis-server did not answer PING within ${rejoin_timeout}s"; return 1; }
        sleep 1
    done
    while ! cluster_whole; do
        kill -0 "$server_pid" 2>/dev/null || return 0
        if (( SECONDS >= deadline )); then
            log "cluster not whole after ${rejoin_timeout}s of re-meeting peers; the node keeps running"
            return 1
        fi
        meet_peers
        sleep 2
    done
    log "rejoined: cluster state ok, every peer connected"
    repoint_replication
    restore_master_spread
}

mkdir -p "$REDIS_RUNTIME_DIR"
runtime_config="$REDIS_RUNTIME_DIR/redis.conf"
(
    umask 077
    {
        printf 'include %s\n' "$REDIS_CONFIG"
        printf 'cluster-announce-ip %s\n' "$POD_IP"
        [ -z "${NODE_NAME:-}" ] || printf 'cluster-announce-hostname %s\n' "$NODE_NAME"
        printf 'requirepass %s\n' "$(conf_string "$REDIS_PASSWORD")"
        printf 'masterauth %s\n' "$(conf_string "$REDIS_PASSWORD")"
    } >"$runtime_config"
)

# Present while a restarted node re-meets its peers (and restores the spread of masters): probe.sh keeps the pod
# unready until then, so a rolling update waits for the node to be back in the cluster before it stops the next.
rejoining_marker="$REDIS_RUNTIME_DIR/rejoining"
rm -f "$rejoining_marker"
peers_before=$(known_peers)
log "announcing $POD_IP on node ${NODE_NAME:-unknown}; nodes.conf lists $peers_before peer(s)"

redis-server "$runtime_config" &
server_pid=$!
rejoin_pid=""
trap 'kill -TERM "$server_pid" 2>/dev/null || true; [ -z "$rejoin_pid" ] || kill "$rejoin_pid" 2>/dev/null || true' TERM INT

if [ "$peers_before" -gt 0 ]; then
    : >"$rejoining_marker"
    rejoin &
    rejoin_pid=$!
fi

# `wait` also returns when the TERM trap fires: keep waiting for redis-server's own exit status.
while true; do
    status=0
    wait "$server_pid" || status=$?
    kill -0 "$server_pid" 2>/dev/null || break
done
[ -z "$rejoin_pid" ] || kill "$rejoin_pid" 2>/dev/null || true
log "redis-server exited with status $status"
exit "$status"
