#!/bin/bash
# Kubernetes probe of a Redis Cluster node: `probe.sh liveness` or `probe.sh readiness`.
#
# liveness:  the server answers PING. LOADING (replaying a large AOF) and MASTERDOWN count as alive:
#            restarting a node that is busy loading would only start the replay over.
# readiness: the server answers PONG and its view of the cluster is `cluster_state:ok`. Before the
#            bootstrap has formed the cluster the state is `fail`, so no node is ready; the headless
#            Service publishes not-ready addresses, so the bootstrap can still reach every node.
#            A restarted node is also unready while start.sh re-meets its peers (the marker file), and a
#            replica until its link to the master is up and its sync done: a rolling update only stops the
#            next pod once this one could take over for its master.
#
# Environment: REDIS_PASSWORD, REDIS_PORT, REDIS_RUNTIME_DIR.
set -uo pipefail

cli() {
    REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" 2>/dev/null
}

case "${1:-}" in
    liveness)
        reply=$(cli ping) || exit 1
        case "$reply" in
            PONG | LOADING* | MASTERDOWN*) exit 0 ;;
            *) echo "PING answered: ${reply:-nothing}"; exit 1 ;;
        esac
        ;;
    readiness)
        reply=$(cli ping) || exit 1
        [ "$reply" = "PONG" ] || { echo "PING answered: ${reply:-nothing}"; exit 1; }
        state=$(cli cluster info | tr -d '\r' | awk -F: '$1 == "cluster_state" { print $2 }')
        [ "$state" = "ok" ] || { echo "cluster_state: ${state:-unknown}"; exit 1; }
        [ ! -e "${REDIS_RUNTIME_DIR:?}/rejoining" ] || { echo "rejoining the cluster"; exit 1; }
        replication=$(cli info replication | tr -d '\r')
        if grep -qx 'role:slave' <<<"$replication"; then
            link=$(awk -F: '$1 == "master_link_status" { print $2 }' <<<"$replication")
            syncing=$(awk -F: '$1 == "master_sync_in_progress" { print $2 }' <<<"$replication")
            if [ "$link" != "up" ] || [ "$syncing" != "0" ]; then
                echo "replica not in sync: master_link_status ${link:-unknown}, master_sync_in_progress ${syncing:-unknown}"
                exit 1
            fi
        fi
        ;;
    *)
        echo "usage: $0 liveness|readiness" >&2
        exit 2
        ;;
esac
