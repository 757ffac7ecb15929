#!/usr/bin/env bash
# Container command of the rebalance Job: once all KAFKA_BROKERS brokers answer, computes the layout of the declared
# topics (TOPICS_FILE) with LAYOUT_SCRIPT (layout.awk: rack-aware, from the brokers' broker.rack and the current
# assignment, which only the running cluster knows), moves the partitions there with kafka-reassign-partitions,
# replication throttled to REASSIGNMENT_THROTTLE_BYTES, and waits until it is done (--verify removes the throttle
# once every move has completed).
# Idempotent: when the cluster already has that layout nothing is executed (the layout of a layout that keeps the
# rules is itself); a reassignment left running by an earlier attempt is waited for before the layout is computed.
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
bootstrap="${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP must name the INTERNAL bootstrap address of the brokers}"
brokers="${KAFKA_BROKERS:?KAFKA_BROKERS must be the broker count to wait for}"
throttle="${REASSIGNMENT_THROTTLE_BYTES:?REASSIGNMENT_THROTTLE_BYTES must be set}"
topics_file="${TOPICS_FILE:?TOPICS_FILE must name the declared topics (lines: topic NAME PARTITIONS RF)}"
layout="${LAYOUT_SCRIPT:?LAYOUT_SCRIPT must name layout.awk}"
work="${WORK_DIR:-/tmp}"
assignment="$work/assignment.json"
deadline=$((SECONDS + ${REBALANCE_TIMEOUT_SECONDS:-3600}))
poll_seconds="${REBALANCE_POLL_SECONDS:-5}"

tool() {
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$KAFKA_HOME/libs/*" "$@"
}
reassign() {
    tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server "$bootstrap" \
        --reassignment-json-file "$assignment" "$@"
}
out_of_time() {
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "kafka-rebalance: $1 within ${REBALANCE_TIMEOUT_SECONDS:-3600} s" >&2
        exit 1
    fi
}

for (( ; ; )); do
    versions="$(tool kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$bootstrap" 2>/dev/null || true)"
    answering="$(grep -c ' (id: [0-9]* rack: ' <<<"$versions" || true)"
    [ "$answering" -ge "$brokers" ] && break
    out_of_time "only $answering of $brokers brokers answered"
    echo "kafka-rebalance: $answering of $brokers brokers answer; waiting"
    sleep "$poll_seconds"
done
if ! grep -q '^topic ' "$topics_file"; then
    echo "kafka-rebalance: $brokers brokers answer; no declared topic, nothing to place"
    exit 0
fi

# Computed from a settled assignment only: during a reassignment kafka-topics lists the union of old and new replicas.
for (( ; ; )); do
    current="$(tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --describe --exclude-internal)"
    grep -q -e 'Adding Replicas:' -e 'Removing Replicas:' <<<"$current" || break
    out_of_time "the reassignment already running did not complete"
    echo "kafka-rebalance: a reassignment is already running; waiting for it before computing the layout"
    sleep "$poll_seconds"
done
printf '%s\n' "$versions" >"$work/brokers.txt"
printf '%s\n' "$current" >"$work/current.txt"
awk -v summary="$work/layout-summary" -f "$layout" "$topics_file" "$work/brokers.txt" "$work/current.txt" >"$assignment"
partitions="$(grep -o '"partition"' "$assignment" | wc -l)"
echo "kafka-rebalance: $brokers brokers answer; placing $partitions partition(s)"
echo "kafka-rebalance: layout: $(cat "$work/layout-summary")"

state="$(reassign --verify)"
# One started since the describe (another run of this Job) is waited for, and must end on this same layout.
if grep -q 'still in progress' <<<"$state"; then
    echo "kafka-rebalance: a reassignment is already running; waiting for it"
elif grep -q 'rather than' <<<"$state"; then
    echo "kafka-rebalance: $(grep -c 'rather than' <<<"$state") partition(s) to move, throttled to $throttle bytes/s"
    started=$SECONDS
    reassign --execute --throttle "$throttle"
else
    echo "kafka-rebalance: every partition is already in place; nothing to move"
    exit 0
fi

started="${started:-$SECONDS}"
until state="$(reassign --verify)" && ! grep -q 'still in progress' <<<"$state"; do
    out_of_time "the reassignment did not complete"
    echo "kafka-rebalance: $(grep -c 'still in progress' <<<"$state" || true) partition(s) still moving"
    sleep "$poll_seconds"
done
if grep -q 'rather than' <<<"$state"; then
    echo "kafka-rebalance: the reassignment ended with partitions elsewhere than asked:" >&2
    grep 'rather than' <<<"$state" >&2
    exit 1
fi
echo "kafka-rebalance: every partition in place after $((SECONDS - started)) s; throttle removed"
