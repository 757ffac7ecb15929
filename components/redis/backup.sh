#!/bin/bash
# Backs up every master of the Redis Cluster, from the CronJob redis-backup.
#
# Each master's RDB comes through replication (`redis-cli --rdb`: the master forks a snapshot and streams it, as to a
# new replica), so no volume of a node is shared and a running node is never paused. A run writes
# BACKUP_DIR/<UTC time>.incomplete/ and renames it to BACKUP_DIR/<UTC time>/ only once every master's file is on
# disk: a directory without the suffix is always a whole cluster. It holds, per master, <node-id>.rdb and
# <node-id>.slots (the slot ranges it served) and a `manifest` (one line per master: id, address, DBSIZE, ranges).
# After a complete run, directories beyond BACKUP_RETENTION are removed, oldest first; a failed run removes only
# its own incomplete directory and exits non-zero.
#
#   backup.sh          the backup (REDIS_HOST, REDIS_PORT, REDISCLI_AUTH, BACKUP_DIR, BACKUP_RETENTION)
#   backup.sh prune    only the retention pass over BACKUP_DIR
set -euo pipefail

: "${BACKUP_DIR:?}" "${BACKUP_RETENTION:?}"

log() { echo "backup.sh: $*" >&2; }

# Complete backup directories, oldest first: their names are UTC times, so name order is time order.
complete_backups() {
    find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
        -regex '.*/[0-9]{8}T[0-9]{6}Z' -printf '%f\n' | sort
}

prune() {
    local excess
    excess=$(( $(complete_backups | wc -l) - BACKUP_RETENTION ))
    if [ "$excess" -gt 0 ]; then
        complete_backups | head -n "$excess" | while read -r old; do
            log "retention $BACKUP_RETENTION: removing $old"
            rm -rf -- "${BACKUP_DIR:?}/$old"
        done
    fi
}

# Masters that serve slots, one line each: id ip slot-ranges... (migration markers such as [5461->-id] left out).
masters_with_slots() {
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" cluster nodes | awk '
        $3 ~ /master/ && $3 !~ /fail|noaddr/ {
            ranges = ""
            for (i = 9; i <= NF; i++) if ($i !~ /^\[/) ranges = ranges " " $i
            if (ranges != "") { split($2, address, ":"); print $1, address[1] ranges }
        }'
}

# Slots covered by ranges such as "0-5460 5461 5462-10922".
slot_count() {
    awk '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); total += (n == 2 ? r[2] - r[1] + 1 : 1) } } END { print total + 0 }'
}

backup() {
    : "${REDIS_HOST:?}" "${REDIS_PORT:?}" "${REDISCLI_AUTH:?}"
    local stamp work masters failed=0
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    work="$BACKUP_DIR/$stamp.incomplete"
    # A run stopped by its Job's deadline (1 h) or a node loss leaves its incomplete directory: nothing restores from
    # it. Younger ones may belong to a run started by hand beside the scheduled one.
    find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '*.incomplete' -mmin +60 -exec rm -rf -- {} +
    mkdir -- "$work"

    masters=$(masters_with_slots)
    local covered
    covered=$(echo "$masters" | cut -d' ' -f3- | slot_count)
    if [ "$covered" -ne 16384 ]; then
        log "the masters serve $covered of 16384 slots: a backup now would miss keys"
        rm -rf -- "$work"
        exit 1
    fi

    local id ip ranges keys
    while read -r id ip ranges; do
        if keys=$(redis-cli -h "$ip" -p "$REDIS_PORT" dbsize </dev/null) \
            && redis-cli -h "$ip" -p "$REDIS_PORT" --rdb "$work/$id.rdb" </dev/null >/dev/null 2>"$work/$id.log" \
            && [ -s "$work/$id.rdb" ]; then
            echo "$ranges" >"$work/$id.slots"
            echo "$id $ip:$REDIS_PORT $keys $ranges" >>"$work/manifest"
            rm -f -- "$work/$id.log"
            log "master $id ($ip): $keys keys, slots $ranges, $(stat -c %s "$work/$id.rdb") bytes"
        else
            log "master $id ($ip) failed: $(cat "$work/$id.log" 2>/dev/null)"
            failed=1
        fi
    done <<<"$masters"

    if [ "$failed" -ne 0 ]; then
        rm -rf -- "$work"
        log "not every master was backed up: no backup written, nothing pruned"
        exit 1
    fi
    # The rename is the commit point, so every file must be on disk before it, and the rename before pruning.
    sync -- "$work"/*
    sync -f "$work"
    mv -- "$work" "$BACKUP_DIR/$stamp"
    sync -f "$BACKUP_DIR"
    log "backup $stamp complete: $(wc -l <"$BACKUP_DIR/$stamp/manifest") masters"
    prune
}

case "${1:-backup}" in
    backup) backup ;;
    prune) prune ;;
    *) log "usage: backup.sh [backup|prune]"; exit 2 ;;
esac
