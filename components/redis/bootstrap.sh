#!/bin/bash
# Forms the Redis Cluster once, from the bootstrap Job.
#
# 1. Waits until every node (CLUSTER_PEERS, stable DNS names) resolves and answers PING.
# 2. On empty nodes only (a new cluster): one master takes all 16384 slots (CLUSTER ADDSLOTSRANGE); three or
#    more masters are created with `redis-cli --cluster create`, and each replica is attached with
#    `redis-cli --cluster add-node --cluster-slave` to the master pairing.awk gives it: one on another
#    Kubernetes node (each node announces its own as cluster-announce-hostname, see start.sh). redis-cli's own
#    replica placement only tells hosts apart by IP, and every pod has its own.
# 3. If a cluster exists, its members keep their roles and data; the empty nodes (a raised count, or a formation
#    that stopped between the masters and the replicas) join it with `redis-cli --cluster add-node`, as masters
#    or as replicas of the masters pairing.awk picks around the members. Then, with several masters and once every
#    node reports cluster_state ok, `redis-cli --cluster rebalance --cluster-use-empty-masters` moves slots onto
#    masters that have none or too few (a no-op within its 2% threshold, so a re-run changes nothing), after
#    `--cluster fix` if a slot was left half-migrated. Fewer nodes are not this script's business: the drain
#    (scripts/redis-drain.ts) removes them.
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

# Like node_whole, but masters may still own no slots (before the rebalance) and replicas may still be syncing.
node_joined() {
    local nodes
    nodes=$(cli "$1" cluster nodes) || return 1
    awk -v nodes="$expected_nodes" -v masters="$CLUSTER_MASTERS" '
        { n++ }
        $3 ~ /handshake|noaddr|fail/ || $8 != "connected" { bad++ }
        $3 ~ /master/ { m++ }
        END { exit !(n == nodes && bad == 0 && m == masters) }' <<<"$nodes"
}

kube_node_of() {
    local kube_node
    kube_node=$(cli "${addresses[$1]}" config get cluster-announce-hostname | tr -d '\r' | sed -n 2p)
    # A node that announces none (started by an older start.sh) counts as a Kubernetes node of its own.
    printf '%s\n' "${kube_node:-unknown-$1}"
}

# pairing.awk's input: "<index> <Kubernetes node> [master | replica <master index>]" for every pod, from one
# member's CLUSTER NODES. A master without slots and without replicas (added just before a Job died, or met by a
# restarting peer) has nothing to keep: it is placed like an empty pod.
pairing_input() {
    local nodes
    nodes=$(cli "${member_addresses[0]}" cluster nodes) || die "CLUSTER NODES failed on ${member_addresses[0]}"
    for i in "${!peers[@]}"; do
        printf '%s %s %s\n' "$i" "${addresses[$i]}:$REDIS_PORT" "$(kube_node_of "$i")"
    done | awk -v nodes="$nodes" '
        BEGIN {
            count = split(nodes, lines, "\n")
            for (l = 1; l <= count; l++) {
                split(lines[l], f, " ")
                split(f[2], at, "@")
                id_at[at[1]] = f[1]
                flags[f[1]] = f[3]
                master_of[f[1]] = f[4]
                slots[f[1]] = (split(lines[l], all, " ") > 8)
                if (f[3] ~ /slave/) { replicas_of[f[4]]++ }
            }
        }
        { pod_address[$1] = $2; pod_node[$1] = $3; order[++pods] = $1; pod_of_id[id_at[$2]] = $1 }
        END {
            for (p = 1; p <= pods; p++) {
                i = order[p]; id = id_at[pod_address[i]]; role = ""
                if (id != "" && flags[id] ~ /master/ && (slots[id] || replicas_of[id] > 0)) { role = " master" }
                if (id != "" && flags[id] ~ /slave/ && (master_of[id] in pod_of_id)) { role = " replica " pod_of_id[master_of[id]] }
                print i, pod_node[i] role
            }
        }'
}

rebalance() {
    local endpoint="${member_addresses[0]}:$REDIS_PORT" report fixed=0
    # redis-cli refuses to rebalance until every node agrees on the slot map; a slot left half-migrated by an
    # interrupted rebalance is the one problem `--cluster fix` settles (every master is reachable here).
    until report=$(redis-cli --cluster check "$endpoint" 2>&1); do
        if grep -q 'open slot' <<<"$report" && [ "$fixed" = 0 ]; then
            log "a slot is left half-migrated: redis-cli --cluster fix"
            redis-cli --cluster fix "$endpoint" --cluster-yes >/dev/null || die "redis-cli --cluster fix failed"
            fixed=1
        fi
        (( SECONDS < deadline )) || die "redis-cli --cluster check still fails after ${timeout}s: $(grep -E 'ERR|WARN' <<<"$report" | head -n 3 | tr '\n' ' ')"
        sleep 1
    done
    # A master just added answers MIGRATE with CLUSTERDOWN until its own view turns ok (it has learned the whole slot
    # map, and a master waits 2 s after its start before it says so): moving slots to it earlier fails the rebalance.
    for address in "${addresses[@]}"; do
        until [ "$(cluster_field "$address" cluster_state)" = "ok" ]; do
            (( SECONDS < deadline )) || die "node $address does not report cluster_state ok after ${timeout}s"
            sleep 1
        done
    done
    log "rebalancing slots over the $CLUSTER_MASTERS masters (redis-cli --cluster rebalance --cluster-use-empty-masters)"
    report=$(redis-cli --cluster rebalance "$endpoint" --cluster-use-empty-masters 2>&1) ||
        die "redis-cli --cluster rebalance failed: $(tail -n 3 <<<"$report" | tr '\n' ' ')"
    # redis-cli colours its report even into a pipe.
    # shellcheck disable=SC2001  # a regular expression (colour codes): no ${var//} pattern says [0-9;]* without extglob
    sed 's/\x1b\[[0-9;]*m//g' <<<"$report" | grep -E '^(>>>|\*\*\*) ' | while read -r line; do log "$line"; done || true
}

if [ "${#member[@]}" -gt 0 ]; then
    member_addresses=()
    for i in "${!peers[@]}"; do
        [[ " ${member[*]} " == *" ${peers[$i]} "* ]] && member_addresses+=("${addresses[$i]}")
    done
    if [ "${#empty[@]}" -gt 0 ] || ! node_joined "${member_addresses[0]}"; then
        log "a cluster exists; joining ${empty[*]:-no empty node} to it"
        input=$(pairing_input)
        plan=$(awk -v masters="$CLUSTER_MASTERS" -v replicas="$CLUSTER_REPLICAS_PER_MASTER" -f "$script_dir/pairing.awk" <<<"$input") ||
            die "pairing.awk found no plan for the cluster as it is (pods, Kubernetes nodes, roles kept: $(tr '\n' ';' <<<"$input"))"
        while read -r kind pod master; do
            [ "$kind" = master ] || [ "$kind" = replica ] || continue
            [[ " ${empty[*]} " == *" ${peers[$pod]} "* ]] || [ "$kind" = replica ] || continue
            known=$(cluster_field "${addresses[$pod]}" cluster_known_nodes)
            if [ "$kind" = master ]; then
                log "new master: ${peers[$pod]} on $(kube_node_of "$pod")"
                redis-cli --cluster add-node "${addresses[$pod]}:$REDIS_PORT" "${member_addresses[0]}:$REDIS_PORT" >/dev/null ||
                    die "redis-cli --cluster add-node of ${peers[$pod]} as a master failed"
                continue
            fi
            grep -qx "$pod [^ ]* replica $master" <<<"$input" && continue
            master_id=$(cli "${addresses[$master]}" cluster myid | tr -d '\r')
            log "new replica: ${peers[$pod]} on $(kube_node_of "$pod") follows ${peers[$master]} on $(kube_node_of "$master")"
            if [ "$known" = 1 ]; then
                redis-cli --cluster add-node "${addresses[$pod]}:$REDIS_PORT" "${member_addresses[0]}:$REDIS_PORT" \
                    --cluster-slave --cluster-master-id "$master_id" >/dev/null ||
                    die "redis-cli --cluster add-node of ${peers[$pod]} as a replica of ${peers[$master]} failed"
            else
                [ "$(cli "${addresses[$pod]}" cluster replicate "$master_id")" = "OK" ] ||
                    die "CLUSTER REPLICATE of ${peers[$pod]} to ${peers[$master]} was refused"
            fi
        done <<<"$plan"
        shared=$(awk '$1 == "shared" { print $2 }' <<<"$plan")
        [ "$shared" = "0" ] ||
            log "WARNING: $shared replica(s) share a Kubernetes node with their master: the pods run on too few nodes to keep them apart; losing such a node takes that slot range down"
    else
        log "every node already belongs to the cluster: no node to join"
    fi
    for address in "${addresses[@]}"; do
        until node_joined "$address"; do
            (( SECONDS < deadline )) || die "node $address does not see all $expected_nodes nodes connected with $CLUSTER_MASTERS masters after ${timeout}s"
            sleep 1
        done
    done
    [ "$CLUSTER_MASTERS" -eq 1 ] || rebalance
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
