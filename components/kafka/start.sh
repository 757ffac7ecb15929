#!/usr/bin/env bash
# Container command of every broker. Completes the shared server.properties with what belongs to this pod:
# broker.id (ZooKeeper mode) or node.id (KRaft mode, where server.properties sets process.roles) = StatefulSet ordinal, INTERNAL advertised as the pod's headless DNS name, EXTERNAL as
# <external host>:<external port base + ordinal>. Sizes the heap from the container memory limit and runs kafka.Kafka
# from $KAFKA_HOME/libs (the apache/kafka image's own command would format a KRaft node instead). In KRaft mode
# the log dir is formatted once for the stack's cluster ID first (format-storage.sh).
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
config_dir="${KAFKA_CONFIG_DIR:?KAFKA_CONFIG_DIR must name the mounted config folder}"
runtime_dir="${KAFKA_RUNTIME_DIR:?KAFKA_RUNTIME_DIR must name a writable folder}"
pod="${POD_NAME:?POD_NAME must be set from the downward API (metadata.name)}"
namespace="${POD_NAMESPACE:?POD_NAMESPACE must be set from the downward API (metadata.namespace)}"
headless="${KAFKA_HEADLESS_SERVICE:?KAFKA_HEADLESS_SERVICE must name the headless Service}"
domain="${CLUSTER_DOMAIN:-cluster.local}"
external_host="${KAFKA_EXTERNAL_HOST:?KAFKA_EXTERNAL_HOST must be set}"
external_port_base="${KAFKA_EXTERNAL_PORT_BASE:?KAFKA_EXTERNAL_PORT_BASE must be set (broker i is advertised on base + i)}"
memory_mb="${MEMORY_LIMIT_MB:?MEMORY_LIMIT_MB must be set from the container memory limit}"
heap_percent="${HEAP_PERCENT:-50}"
heap_max_mb="${HEAP_MAX_MB:-6144}"

ordinal="${pod##*-}"
if ! [[ "$ordinal" =~ ^[0-9]+$ ]]; then
    echo "kafka-start: pod name '$pod' does not end in a StatefulSet ordinal" >&2
    exit 1
fi
if ! [[ "$external_port_base" =~ ^[0-9]+$ ]]; then
    echo "kafka-start: KAFKA_EXTERNAL_PORT_BASE '$external_port_base' is not a port number" >&2
    exit 1
fi
# From the ordinal, not a list of every broker's port: the pod template then does not change with the broker count,
# so scaling does not roll the brokers already running.
external_port=$((10#$external_port_base + 10#$ordinal))
if [ "$external_port" -gt 65535 ]; then
    echo "kafka-start: KAFKA_EXTERNAL_PORT_BASE $external_port_base leaves no port for broker $ordinal ($external_port > 65535)" >&2
    exit 1
fi

listeners="$(sed -n 's/^listeners=//p' "$config_dir/server.properties")"
if ! [[ "$listeners" =~ INTERNAL://:([0-9]+) ]]; then
    echo "kafka-start: no INTERNAL listener in $config_dir/server.properties" >&2
    exit 1
fi
internal_port="${BASH_REMATCH[1]}"

# broker.rack: the node's zone, copied onto the pod by the API server (PodTopologyLabels) and passed in through
# the downward API. Without it Kafka places replicas without regard to zones, which this line reports.
rack="${KAFKA_BROKER_RACK:-}"
id_key=broker.id
if grep -q '^process\.roles=' "$config_dir/server.properties"; then
    id_key=node.id
fi
{
    cat "$config_dir/server.properties"
    echo "$id_key=$ordinal"
    echo "advertised.listeners=INTERNAL://$pod.$headless.$namespace.svc.$domain:$internal_port,EXTERNAL://$external_host:$external_port"
    if [ -n "$rack" ]; then
        echo "broker.rack=$rack"
    fi
} >"$runtime_dir/server.properties"
if [ "$id_key" = node.id ]; then
    bash "$(dirname "$0")/format-storage.sh" "$runtime_dir/server.properties"
fi
# The readiness probe's catch-up bound counts from here (probe.sh).
date +%s >"$runtime_dir/started-at"
rm -f "$runtime_dir/catch-up-reported"

heap_mb=$((memory_mb * heap_percent / 100))
if [ "$heap_mb" -gt "$heap_max_mb" ]; then
    heap_mb="$heap_max_mb"
fi
echo "kafka-start: $pod is broker $ordinal, EXTERNAL $external_host:$external_port, rack ${rack:-none (no zone label on the pod)}, heap ${heap_mb}m of ${memory_mb}Mi"

# The Prometheus JMX exporter agent when the monitoring module adds it (KAFKA_JMX_AGENT=<jar>=<port>:<config>).
agent=()
if [ -n "${KAFKA_JMX_AGENT:-}" ]; then
    agent=("-javaagent:$KAFKA_JMX_AGENT")
fi

exec java \
    "-Xms${heap_mb}m" "-Xmx${heap_mb}m" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    "${agent[@]}" \
    "-Dlog4j.configuration=file:$config_dir/log4j.properties" \
    -cp "$KAFKA_HOME/libs/*" \
    kafka.Kafka "$runtime_dir/server.properties"
