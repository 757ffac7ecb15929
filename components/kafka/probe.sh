#!/usr/bin/env bash
# Readiness of a broker: "registered, serving and back in sync". Sends a Kafka Metadata request (v1, all topics)
# to the broker's own INTERNAL listener with bash /dev/tcp (no JVM start per probe, no netcat in the image) and
# passes only when
#   - the broker answers requests (not merely accepts connections),
#   - its metadata lists its own broker.id: the controller has seen its ZooKeeper registration and sent it
#     the cluster metadata, so topic creation counts it among the available brokers,
#   - a controller is elected,
#   - it is in the ISR of every partition it replicates that has a leader. The StatefulSet controller rolls one
#     pod at a time and waits for Ready, so this is what keeps a roll from stopping the next broker while the
#     last one still catches up (which would take partitions below min.insync.replicas).
# Bounded: a partition without a leader has nothing to catch up from and does not count; once
# KAFKA_CATCH_UP_SECONDS have passed since start.sh started the broker, the probe passes anyway and reports the
# partitions still out of sync on the broker's own log (once per start).
set -euo pipefail
export LC_ALL=C

config="${KAFKA_CONFIG_DIR:?KAFKA_CONFIG_DIR must name the mounted config folder}/server.properties"
runtime_dir="${KAFKA_RUNTIME_DIR:?KAFKA_RUNTIME_DIR must name the folder start.sh writes to}"
pod="${POD_NAME:?POD_NAME must be set}"
catch_up_seconds="${KAFKA_CATCH_UP_SECONDS:-300}"
report_to="${KAFKA_PROBE_REPORT_TO:-/proc/1/fd/1}"
broker_id="${pod##*-}"
listeners="$(sed -n 's/^listeners=//p' "$config")"
[[ "$listeners" =~ INTERNAL://:([0-9]+) ]] || { echo "probe: no INTERNAL listener in $config" >&2; exit 1; }
port="${BASH_REMATCH[1]}"

exec 3<>"/dev/tcp/127.0.0.1/$port"
# size=19 | api_key=3 (Metadata) | api_version=1 | correlation_id=1 | client_id="probe" | topics=null (all)
printf '\x00\x00\x00\x13\x00\x03\x00\x01\x00\x00\x00\x01\x00\x05probe\xff\xff\xff\xff' >&3

# shellcheck source=SCRIPTDIR/kafka-wire.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka-wire.sh"
# A field read or the probe fails: a broker that closes the connection mid-answer is not serving.
field() { "$@" || { echo "probe: broker closed the connection" >&2; exit 1; }; }
int32() { field int_of 4; }
int16() { field int_of 2; }
# Reads an array of int32 broker ids; `value` is yes when it lists this broker, no otherwise.
broker_listed() {
    local count r found=no
    int32
    count="$value"
    for ((r = 0; r < count; r++)); do
        int32
        [ "$value" -eq "$broker_id" ] && found=yes
    done
    value="$found"
}

int32
[ "$value" -gt 8 ] || { echo "probe: bad response size $value" >&2; exit 1; }
int32
[ "$value" -eq 1 ] || { echo "probe: unexpected correlation id $value" >&2; exit 1; }
int32
brokers="$value"
registered=no
for ((b = 0; b < brokers; b++)); do
    int32
    node="$value"
    int16
    field skip "$value"
    field skip 4
    int16
    field skip "$value"
    [ "$node" -eq "$broker_id" ] && registered=yes
done
int32
controller="$value"
int32
topics="$value"
hosted=0
lagging=()
leaderless=()
for ((t = 0; t < topics; t++)); do
    field skip 2
    field string
    topic="$text"
    field skip 1
    int32
    partitions="$value"
    for ((p = 0; p < partitions; p++)); do
        field skip 2
        int32
        partition="$value"
        int32
        leader="$value"
        broker_listed
        replicates="$value"
        broker_listed
        in_sync="$value"
        if [ "$replicates" = yes ]; then
            hosted=$((hosted + 1))
            if [ "$in_sync" = no ]; then
                if [ "$leader" -lt 0 ]; then
                    leaderless+=("$topic-$partition")
                else
                    lagging+=("$topic-$partition")
                fi
            fi
        fi
    done
done
exec 3<&-

if [ "$registered" != yes ]; then
    echo "probe: broker $broker_id is not in its own metadata yet ($brokers broker(s) known)" >&2
    exit 1
fi
if [ "$controller" -lt 0 ]; then
    echo "probe: no controller elected" >&2
    exit 1
fi
list() {
    local shown=("${@:1:10}")
    printf '%s' "${shown[*]}"
    [ "$#" -le 10 ] || printf ' and %d more' $(($# - 10))
}
note=""
if [ "${#leaderless[@]}" -gt 0 ]; then
    note="; not waiting for ${#leaderless[@]} partition(s) without a leader: $(list "${leaderless[@]}")"
fi
if [ "${#lagging[@]}" -gt 0 ]; then
    started="$(cat "$runtime_dir/started-at" 2>/dev/null || echo 0)"
    now="${EPOCHSECONDS:-$(date +%s)}"
    waited=$((now - started))
    if [ "$waited" -lt "$catch_up_seconds" ]; then
        echo "probe: broker $broker_id is not yet in the ISR of ${#lagging[@]} of its $hosted partition(s) (${waited} s of ${catch_up_seconds} s): $(list "${lagging[@]}")$note" >&2
        exit 1
    fi
    report="probe: broker $broker_id Ready after the ${catch_up_seconds} s catch-up bound while still out of the ISR of ${#lagging[@]} of its $hosted partition(s): $(list "${lagging[@]}")$note"
    if [ ! -e "$runtime_dir/catch-up-reported" ]; then
        { echo "$report" >>"$report_to"; } 2>/dev/null || true
        : >"$runtime_dir/catch-up-reported" 2>/dev/null || true
    fi
    echo "$report"
    exit 0
fi
echo "probe: broker $broker_id registered, $brokers broker(s) known, controller $controller, in the ISR of all its $hosted partition(s)$note"
if [ -n "$note" ] && [ ! -e "$runtime_dir/catch-up-reported" ]; then
    { echo "probe: broker $broker_id Ready$note" >>"$report_to"; } 2>/dev/null || true
    : >"$runtime_dir/catch-up-reported" 2>/dev/null || true
fi
