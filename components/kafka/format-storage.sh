#!/usr/bin/env bash
# Formats a KRaft node's log dirs once: `format-storage.sh <server.properties>` with KAFKA_CLUSTER_ID set (the stack's
# cluster ID, from the pod env). Shared by the brokers' and the controllers' start scripts.
#   - every log dir already holds meta.properties for this cluster ID: nothing to do (a restart; no JVM started);
#   - a log dir holds meta.properties naming another cluster ID: refused, exit 1. Such a volume belongs to another
#     cluster (a reused claim, a restored backup): joining it would mix two clusters' metadata and data;
#   - otherwise Kafka's StorageTool formats what is not formatted yet (--ignore-formatted).
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
config="${1:?usage: format-storage.sh <server.properties>}"
cluster_id="${KAFKA_CLUSTER_ID:?KAFKA_CLUSTER_ID must hold the cluster ID of the stack}"
# Kafka's Uuid text form: 16 bytes in base64url without padding.
if ! [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]]; then
    echo "kafka-format: KAFKA_CLUSTER_ID '$cluster_id' is not a Kafka cluster ID (22 characters of base64url)" >&2
    exit 1
fi
log_dirs="$(sed -n 's/^log\.dirs=//p' "$config")"
if [ -z "$log_dirs" ]; then
    echo "kafka-format: no log.dirs in $config" >&2
    exit 1
fi

pending=()
IFS=, read -r -a dirs <<<"$log_dirs"
for dir in "${dirs[@]}"; do
    meta="$dir/meta.properties"
    if [ ! -e "$meta" ]; then
        pending+=("$dir")
        continue
    fi
    formatted_for="$(sed -n 's/^cluster\.id=//p' "$meta")"
    if [ "$formatted_for" != "$cluster_id" ]; then
        echo "kafka-format: $dir is formatted for cluster '${formatted_for:-none}', not this stack's cluster '$cluster_id': refusing to start on another cluster's log dir (move the volume's data away or delete its claim if it is not needed)" >&2
        exit 1
    fi
done

if [ "${#pending[@]}" -eq 0 ]; then
    echo "kafka-format: ${dirs[*]} already formatted for cluster $cluster_id"
    exit 0
fi
echo "kafka-format: formatting ${pending[*]} for cluster $cluster_id"
# --cluster-id=: an ID may start with '-', which as a separate argument would read as an option.
log4j=()
if [ -n "${KAFKA_CONFIG_DIR:-}" ] && [ -e "$KAFKA_CONFIG_DIR/log4j.properties" ]; then
    log4j=("-Dlog4j.configuration=file:$KAFKA_CONFIG_DIR/log4j.properties")
fi
java -Xmx128m "${log4j[@]}" -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool format "--cluster-id=$cluster_id" -c "$config" --ignore-formatted
