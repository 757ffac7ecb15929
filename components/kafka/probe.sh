#!/usr/bin/env bash
# Readiness of a broker: "registered and serving". Sends a Kafka Metadata request (v1) to the broker's own
# INTERNAL listener with bash /dev/tcp (no JVM start per probe, no netcat in the image) and passes only when
#   - the broker answers requests (not merely accepts connections),
#   - its metadata lists its own broker.id: the controller has seen its ZooKeeper registration and sent it
#     the cluster metadata, so topic creation counts it among the available brokers,
#   - a controller is elected.
set -euo pipefail
export LC_ALL=C

config="${KAFKA_CONFIG_DIR:?KAFKA_CONFIG_DIR must name the mounted config folder}/server.properties"
pod="${POD_NAME:?POD_NAME must be set}"
broker_id="${pod##*-}"
listeners="$(sed -n 's/^listeners=//p' "$config")"
[[ "$listeners" =~ INTERNAL://:([0-9]+) ]] || { echo "probe: no INTERNAL listener in $config" >&2; exit 1; }
port="${BASH_REMATCH[1]}"

exec 3<>"/dev/tcp/127.0.0.1/$port"
# size=19 | api_key=3 (Metadata) | api_version=1 | correlation_id=1 | client_id="probe" | topics=[] (none)
printf '\x00\x00\x00\x13\x00\x03\x00\x01\x00\x00\x00\x01\x00\x05probe\x00\x00\x00\x00' >&3

bytes=()
read_bytes() {
    local count="$1" i char
    bytes=()
    for ((i = 0; i < count; i++)); do
        IFS= read -r -d '' -n 1 -t 5 -u 3 char || { echo "probe: broker closed the connection" >&2; exit 1; }
        if [ -z "$char" ]; then
            bytes+=(0)
        else
            printf -v char '%d' "'$char"
            bytes+=($((char & 255)))
        fi
    done
}
int32() {
    read_bytes 4
    local value=$(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]))
    echo $((value >= 2147483648 ? value - 4294967296 : value))
}
int16() {
    read_bytes 2
    local value=$(((bytes[0] << 8) | bytes[1]))
    echo $((value >= 32768 ? value - 65536 : value))
}
skip() {
    [ "$1" -gt 0 ] && read_bytes "$1"
    return 0
}

size="$(int32)"
[ "$size" -gt 8 ] || { echo "probe: bad response size $size" >&2; exit 1; }
correlation="$(int32)"
[ "$correlation" -eq 1 ] || { echo "probe: unexpected correlation id $correlation" >&2; exit 1; }
brokers="$(int32)"
registered=no
for ((b = 0; b < brokers; b++)); do
    node="$(int32)"
    skip "$(int16)"
    skip 4
    skip "$(int16)"
    [ "$node" -eq "$broker_id" ] && registered=yes
done
controller="$(int32)"
exec 3<&-

if [ "$registered" != yes ]; then
    echo "probe: broker $broker_id is not in its own metadata yet ($brokers broker(s) known)" >&2
    exit 1
fi
if [ "$controller" -lt 0 ]; then
    echo "probe: no controller elected" >&2
    exit 1
fi
echo "probe: broker $broker_id registered, $brokers broker(s) known, controller $controller"
