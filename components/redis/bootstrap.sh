#!/bin/bash
# Forms the Redis Cluster once, from the bootstrap Job.
#
# 1. Waits until every node (CLUSTER_PEERS, stable DNS names) resolves and answers PING.
# 2. If any node already belongs to a cluster (knows other nodes or owns slots), it changes nothing:
#    it waits for that cluster to be whole and exits 0, or fails saying why. A re-run is therefore a
#    no-op, and an existing cluster is never recreated or resharded.
# 3. Otherwise, on empty nodes only: one master takes all 16384 slots (CLUSTER ADDSLOTSRANGE); three or
#    more masters are created with `redis-cli --cluster create`, and each replica is attached with
#    `redis-cli --cluster add-node --cluster-slave` to the master pairing.awk gives it: one on another
#    Kubernetes node (each node announces its own as cluster-announce-hostname, see start.sh). redis-cli's own
#    replica placement only tells hosts apart by IP, and every pod has its own.
#
# Environment: REDIS_PASSWORD, REDIS_PORT, CLUSTER_PEERS, CLUSTER_MASTERS, CLUSTER_REPLICAS_PER_MASTER,
# BOOTSTRAP_TIMEOUT_SECONDS.
set -euo pipefail

: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set (from the cluster Secret)}"
: "${REDIS_PORT:?}" "${CLUSTER_MASTERS:?}" "${CLUSTER_REPLICAS_PER_MASTER:?}"
: "${CLUSTER_PEERS:?CLUSTER_PEERS must list the DNS name of every node}"
timeout="${BOOTSTRAP_TIMEOUT_SECONDS:-600}"
deadline=$((SECONDS + timeout))
export REDISCLI_AUTH="$REDIS_PASSWORD"
script_dir=$(dirname "${BASH_SOURCE[0]}")

log() {
    printf '%s bootstrap.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

die() {
    log "FAILED: $*"
    exit 1
}

read -ra peers <<<"$CLUSTER_PEERS"
expected_nodes=$((CLUSTER_MASTERS * (1 + CLUSTER_REPLICAS_PER_MASTER)))
[ "${#peers[@]}" -eq "$expected_nodes" ] ||
    die "CLUSTER_PEERS lists ${#peers[@]} nodes, but $CLUSTER_MASTERS masters x (1 + $CLUSTER_REPLICAS_PER_MASTER replicas) need $expected_nodes"

cli() {
    local address=$1
    shift
    redis-cli -h "$address" -p "$REDIS_PORT" "$@"
}

# The value of one field of CLUSTER INFO on one node.
cluster_field() {
    cli "$1" cluster info | tr -d '\r' | awk -F: -v field="$2" '$1 == field { print $2 }'
}

addresses=()
for peer in "${peers[@]}"; do
    until address=$(getent hosts "$peer" | awk '{ print $1; exit }') && [ -n "$address" ] &&
        [ "$(cli "$address" ping 2>/dev/null)" = "PONG" ]; do
        (( SECONDS < deadline )) || die "$peer did not resolve and answer PING within ${timeout}s"
        sleep 2
    done
    log "$peer ($address) answers"
    addresses+=("$address")
done

empty=()
member=()
for i in "${!peers[@]}"; do
    known=$(cluster_field "${addresses[$i]}" cluster_known_nodes)
    assigned=$(cluster_field "${addresses[$i]}" cluster_slots_assigned)
    if [ "$known" = "1" ] && [ "$assigned" = "0" ]; then
        empty+=("${peers[$i]}")
    else
        member+=("${peers[$i]}")
    fi
done

# Whole, as this node sees it: every node known and connected, none failing or still in a handshake,
# exactly CLUSTER_MASTERS masters owning slots and every other node a replica; a replica also has its
# first sync done (before that it could never be promoted). Then cluster_state:ok.
node_whole() {
    local address=$1 nodes
    nodes=$(cli "$address" cluster nodes) || return 1
    awk -v nodes="$expected_nodes" -v masters="$CLUSTER_MASTERS" '
        { n++ }
        $3 ~ /handshake|noaddr|fail/ || $8 != "connected" { bad++ }
        $3 ~ /master/ && NF > 8 { m++ }
        $3 ~ /slave/ { r++ }
        END { exit !(n == nodes && bad == 0 && m == masters && r == nodes - masters) }' <<<"$nodes" || return 1
    if cli "$address" role | head -n 1 | grep -qx slave; then
        cli "$address" info replication | tr -d '\r' | grep -qx 'master_link_status:up' || return 1
    fi
    [ "$(cluster_field "$address" cluster_state)" = "ok" ]
}

wait_until_whole() {
    local address
    for address in "${addresses[@]}"; do
        until node_whole "$address"; do
            (( SECONDS < deadline )) ||
                die "node $address does not see the whole cluster ($CLUSTER_MASTERS masters with slots, $expected_nodes nodes connected, replicas in sync) after ${timeout}s"
            sleep 1
        done
    done
}

if [ "${#member[@]}" -gt 0 ]; then
    if [ "${#empty[@]}" -gt 0 ]; then
        die "a cluster exists (${member[*]}) but ${empty[*]} never joined it; nothing was changed. Add new nodes by hand: redis-cli --cluster add-node, then --cluster rebalance"
    fi
    log "every node already belongs to a cluster: nothing to do, waiting for it to be whole"
    wait_until_whole
    log "cluster is whole: $expected_nodes nodes, cluster_state ok"
    exit 0
fi

if [ "$CLUSTER_MASTERS" -eq 1 ]; then
    log "one master: ${peers[0]} takes all 16384 slots"
    [ "$(cli "${addresses[0]}" cluster addslotsrange 0 16383)" = "OK" ] || die "CLUSTER ADDSLOTSRANGE 0 16383 was refused"
else
    log "creating $CLUSTER_MASTERS masters with $CLUSTER_REPLICAS_PER_MASTER replica(s) each"
    kube_nodes=()
    for i in "${!peers[@]}"; do
        kube_node=$(cli "${addresses[$i]}" config get cluster-announce-hostname | tr -d '\r' | sed -n 2p)
        # A node that announces none (started by an older start.sh) counts as a Kubernetes node of its own.
        kube_nodes+=("${kube_node:-unknown-$i}")
    done
    plan=$(for i in "${!peers[@]}"; do printf '%s %s\n' "$i" "${kube_nodes[$i]}"; done |
        awk -v masters="$CLUSTER_MASTERS" -v replicas="$CLUSTER_REPLICAS_PER_MASTER" -f "$script_dir/pairing.awk") ||
        die "pairing.awk found no plan"
    master_endpoints=()
    while read -r kind pod _; do
        [ "$kind" = master ] || continue
        log "master: ${peers[$pod]} on ${kube_nodes[$pod]}"
        master_endpoints+=("${addresses[$pod]}:$REDIS_PORT")
    done <<<"$plan"
    redis-cli --cluster create "${master_endpoints[@]}" --cluster-replicas 0 --cluster-yes ||
        die "redis-cli --cluster create failed"
    while read -r kind pod master; do
        [ "$kind" = replica ] || continue
        master_id=$(cli "${addresses[$master]}" cluster myid | tr -d '\r')
        log "replica: ${peers[$pod]} on ${kube_nodes[$pod]} follows ${peers[$master]} on ${kube_nodes[$master]}"
        redis-cli --cluster add-node "${addresses[$pod]}:$REDIS_PORT" "${addresses[$master]}:$REDIS_PORT" \
            --cluster-slave --cluster-master-id "$master_id" >/dev/null ||
            die "redis-cli --cluster add-node of ${peers[$pod]} as a replica of ${peers[$master]} failed"
    done <<<"$plan"
    shared=$(awk '$1 == "shared" { print $2 }' <<<"$plan")
    if [ "$shared" != "0" ]; then
        log "WARNING: $shared replica(s) share a Kubernetes node with their master: the pods run on too few nodes to keep them apart; losing such a node takes that slot range down"
    fi
fi
wait_until_whole
log "cluster formed: $expected_nodes nodes, cluster_state ok"
