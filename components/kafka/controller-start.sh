#!/usr/bin/env bash
# Container command of every KRaft controller. Completes the shared controller.properties with node.id =
# KAFKA_NODE_ID_BASE (1000) + StatefulSet ordinal, out of the brokers' id range, formats the metadata log dir once for
# the stack's cluster ID (format-storage.sh), sizes the heap from the container memory limit and runs kafka.Kafka.
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
config_dir="${KAFKA_CONFIG_DIR:?KAFKA_CONFIG_DIR must name the mounted config folder}"
runtime_dir="${KAFKA_RUNTIME_DIR:?KAFKA_RUNTIME_DIR must name a writable folder}"
pod="${POD_NAME:?POD_NAME must be set from the downward API (metadata.name)}"
id_base="${KAFKA_NODE_ID_BASE:?KAFKA_NODE_ID_BASE must be set (controller i is node base + i)}"
memory_mb="${MEMORY_LIMIT_MB:?MEMORY_LIMIT_MB must be set from the container memory limit}"
heap_percent="${HEAP_PERCENT:-50}"

ordinal="${pod##*-}"
if ! [[ "$ordinal" =~ ^[0-9]+$ ]]; then
    echo "kafka-controller-start: pod name '$pod' does not end in a StatefulSet ordinal" >&2
    exit 1
fi
if ! [[ "$id_base" =~ ^[0-9]+$ ]]; then
    echo "kafka-controller-start: KAFKA_NODE_ID_BASE '$id_base' is not a number" >&2
    exit 1
fi
node_id=$((10#$id_base + 10#$ordinal))
# A node id the static quorum does not list would start a controller no voter talks to: refuse it at once.
if ! grep -Eq "^controller\.quorum\.voters=(.*,)?$node_id@" "$config_dir/controller.properties"; then
    echo "kafka-controller-start: node $node_id ($pod) is not a voter in controller.quorum.voters of $config_dir/controller.properties" >&2
    exit 1
fi
{
    cat "$config_dir/controller.properties"
    echo "node.id=$node_id"
} >"$runtime_dir/server.properties"
bash "$(dirname "$0")/format-storage.sh" "$runtime_dir/server.properties"
# The readiness probe compares the leader's view of this voter with this stamp (controller-probe.sh).
date +%s >"$runtime_dir/started-at"

heap_mb=$((memory_mb * heap_percent / 100))
echo "kafka-controller-start: $pod is controller node $node_id, heap ${heap_mb}m of ${memory_mb}Mi"

# The Prometheus JMX exporter agent when the monitoring module adds it (KAFKA_JMX_AGENT=<jar>=<port>:<config>).
agent=()
if [ -n "${KAFKA_JMX_AGENT:-}" ]; then
    agent=("-javaagent:$KAFKA_JMX_AGENT")
fi

exec java \
    "-Xms${heap_mb}m" "-Xmx${heap_mb}m" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    "${agent[@]}" \
    "-Dlog4j.configuration=file:$config_dir/log4j.properties" \
    -cp "$KAFKA_HOME/libs/*" \
    kafka.Kafka "$runtime_dir/server.properties"
