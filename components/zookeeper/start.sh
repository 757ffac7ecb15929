#!/usr/bin/env bash
# Container command of every ZooKeeper pod. Derives the member id from the pod name (StatefulSet ordinal + 1),
# sizes the heap from the container memory limit and runs ZooKeeper from the Kafka release's jars, which the
# apache/kafka image keeps in /opt/kafka/libs (the image's own command would start KRaft instead).
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
config_dir="${ZOOKEEPER_CONFIG_DIR:?ZOOKEEPER_CONFIG_DIR must name the mounted config folder}"
runtime_dir="${ZOOKEEPER_RUNTIME_DIR:?ZOOKEEPER_RUNTIME_DIR must name a writable folder}"
metrics_libs="${ZOOKEEPER_METRICS_LIBS:-}"
pod="${POD_NAME:?POD_NAME must be set from the downward API (metadata.name)}"
memory_mb="${MEMORY_LIMIT_MB:?MEMORY_LIMIT_MB must be set from the container memory limit}"
heap_percent="${HEAP_PERCENT:-50}"

ordinal="${pod##*-}"
if ! [[ "$ordinal" =~ ^[0-9]+$ ]]; then
    echo "zookeeper-start: pod name '$pod' does not end in a StatefulSet ordinal" >&2
    exit 1
fi
myid=$((ordinal + 1))

setting() {
    sed -n "s/^$1=//p" "$config_dir/zoo.cfg" | tail -n 1
}
data_dir="$(setting dataDir)"
log_dir="$(setting dataLogDir)"
mkdir -p "$data_dir" "$log_dir"
echo "$myid" >"$data_dir/myid"

cp "$config_dir/zoo.cfg" "$runtime_dir/zoo.cfg"
classpath="$KAFKA_HOME/libs/*"
if [ -n "$metrics_libs" ] && compgen -G "$metrics_libs/*.jar" >/dev/null; then
    cat "$config_dir/metrics.cfg" >>"$runtime_dir/zoo.cfg"
    classpath="$classpath:$metrics_libs/*"
fi

heap_mb=$((memory_mb * heap_percent / 100))
echo "zookeeper-start: $pod is server.$myid, heap ${heap_mb}m of ${memory_mb}Mi"

exec java \
    "-Xms${heap_mb}m" "-Xmx${heap_mb}m" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$config_dir/log4j.properties" \
    -cp "$classpath" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$runtime_dir/zoo.cfg"
