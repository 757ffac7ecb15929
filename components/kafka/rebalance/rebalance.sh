#!/usr/bin/env bash
# Container command of the rebalance Job: once all KAFKA_BROKERS brokers answer, moves the declared topics'
# partitions to the layout in ASSIGNMENT_FILE (components/kafka/rebalance/assignment.ts: balancedAssignment) with
# kafka-reassign-partitions, replication throttled to REASSIGNMENT_THROTTLE_BYTES, and waits until it is done
# (--verify removes the throttle once every move has completed).
# Idempotent: when the cluster already has that layout nothing is executed; a reassignment left running by an
# earlier attempt is waited for, not started again.
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
bootstrap="${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP must name the INTERNAL bootstrap address of the brokers}"
brokers="${KAFKA_BROKERS:?KAFKA_BROKERS must be the broker count to wait for}"
throttle="${REASSIGNMENT_THROTTLE_BYTES:?REASSIGNMENT_THROTTLE_BYTES must be set}"
assignment="${ASSIGNMENT_FILE:?ASSIGNMENT_FILE must name the reassignment JSON}"
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

until answering="$(tool kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$bootstrap" 2>/dev/null | grep -c ' (id: [0-9]* rack: ' || true)" \
    && [ "$answering" -ge "$brokers" ]; do
    out_of_time "only ${answering:-0} of $brokers brokers answered"
    echo "kafka-rebalance: ${answering:-0} of $brokers brokers answer; waiting"
    sleep "$poll_seconds"
done
partitions="$(grep -o '"partition"' "$assignment" | wc -l)"
echo "kafka-rebalance: $brokers brokers answer; placing $partitions partition(s)"

state="$(reassign --verify)"
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
