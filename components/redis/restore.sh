#!/bin/bash
# Restores a backup written by backup.sh into a running Redis Cluster of any shape.
#
#   restore.sh BACKUP_DIRECTORY TARGET_HOST:PORT
#
# For each <node-id>.rdb of the directory: a copy is loaded by a throwaway standalone redis-server on
# 127.0.0.1:RESTORE_PORT (no password: it listens on the loopback of this pod or host only), and `redis-cli --cluster import --cluster-copy --cluster-replace` MIGRATEs every key
# to the master that owns its slot in the target cluster (REDISCLI_AUTH is the target's password). The target's
# slot layout does not need to match the backup's. Keys already in the target are overwritten by the backup's;
# keys only in the target are left alone. The backup directory is only read.
set -euo pipefail

log() { echo "restore.sh: $*" >&2; }

if [ "$#" -ne 2 ]; then
    log "usage: restore.sh BACKUP_DIRECTORY TARGET_HOST:PORT"
    exit 2
fi
backup="$1"
target="$2"
port="${RESTORE_PORT:-7379}"
: "${REDISCLI_AUTH:?the target cluster password}"

if [ ! -f "$backup/manifest" ] || [[ "$backup" == *.incomplete ]]; then
    log "$backup is not a complete backup (no manifest, or an interrupted run)"
    exit 1
fi

scratch=$(mktemp -d "${RESTORE_SCRATCH:-${TMPDIR:-/tmp}}/restore.XXXXXX")
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf -- "$scratch"
}
trap cleanup EXIT

# The source is a standalone server without a password: REDISCLI_AUTH must only reach the target.
local_cli() { env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 -p "$port" "$@" </dev/null; }

# Through a Service name each connection may reach another node, while `redis-cli --cluster import` takes the address
# it was given as the name of the node that answered first and MIGRATEs every key of that node's slots to it: those
# keys then land wherever the Service sends them and are refused with MOVED. The import goes through that node's
# own announced address instead.
entry=$(redis-cli -h "${target%:*}" -p "${target##*:}" cluster nodes </dev/null 2>/dev/null |
    awk '$3 ~ /myself/ { split($2, at, "@"); print at[1]; exit }') || true
case "$entry" in
    "") log "$target does not answer CLUSTER NODES"; exit 1 ;;
    :*) entry="$target" ;; # a node that knows no address of its own yet: only the name given can reach it
esac
[ "$entry" = "$target" ] || log "importing through $entry, the node $target answered from"

total=0
while read -r id address keys ranges; do
    log "master $id (was $address, slots $ranges): $keys keys"
    cp -- "$backup/$id.rdb" "$scratch/dump.rdb"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$scratch" --dbfilename dump.rdb \
        --save "" --appendonly no --protected-mode yes --daemonize no --loglevel warning &
    server=$!
    # A corrupt or truncated RDB makes redis-server exit instead of answering.
    for _ in $(seq 1 600); do
        if [ "$(local_cli ping 2>/dev/null)" = PONG ] || ! kill -0 "$server" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if ! loaded=$(local_cli dbsize 2>/dev/null) || [ -z "$loaded" ]; then
        log "master $id: redis-server could not load $backup/$id.rdb"
        exit 1
    fi
    # The manifest's count is DBSIZE just before the snapshot: writes in between make it differ, which is no fault.
    if [ "$loaded" != "$keys" ]; then
        log "master $id: the RDB holds $loaded keys, DBSIZE said $keys just before the snapshot"
    fi
    if [ "$loaded" -gt 0 ]; then
        # One line per key on success: kept out of the log unless the import fails.
        if ! redis-cli --cluster import "$entry" --cluster-from "127.0.0.1:$port" --cluster-copy --cluster-replace \
            </dev/null >"$scratch/import.log" 2>&1; then
            cat "$scratch/import.log" >&2
            log "master $id: the import into $target failed"
            exit 1
        fi
    fi
    local_cli shutdown nosave >/dev/null 2>&1 || true
    wait "$server" 2>/dev/null || true
    server=""
    rm -f -- "$scratch/dump.rdb"
    total=$((total + loaded))
done <"$backup/manifest"

log "restored $total keys from $backup into $target"
