#!/usr/bin/env bash
# Readiness of a KRaft controller: "in the quorum". Asks the quorum's leader (DescribeQuorum v1 on the controller
# listener, bash /dev/tcp: no JVM start per probe, no netcat in the image) and passes only when
#   - a leader is elected (a voter that is not the leader answers NOT_LEADER_OR_FOLLOWER; the next one is asked),
#   - this controller's node id is one of the quorum's voters,
#   - the leader has seen this controller caught up with its log since controller-start.sh started it (LastCaughtUpTimestamp
#     at or after the start stamp; the leader reports itself caught up now). A restarted controller is not Ready
#     on the leader's memory of its previous life, only once it has fetched the log again.
# The leader's clock is compared with this pod's start stamp: clock skew between nodes delays Ready by at most the skew.
set -euo pipefail
export LC_ALL=C

config="${KAFKA_RUNTIME_DIR:?KAFKA_RUNTIME_DIR must name the folder start.sh writes to}/server.properties"
runtime_dir="$KAFKA_RUNTIME_DIR"
[ -r "$config" ] || { echo "probe: $config not written yet" >&2; exit 1; }
node_id="$(sed -n 's/^node\.id=//p' "$config")"
voters="$(sed -n 's/^controller\.quorum\.voters=//p' "$config")"
started_ms=$(($(cat "$runtime_dir/started-at" 2>/dev/null || echo 0) * 1000))
if [ -z "$node_id" ] || [ -z "$voters" ]; then
    echo "probe: no node.id or controller.quorum.voters in $config" >&2
    exit 1
fi

# shellcheck source=SCRIPTDIR/kafka-wire.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka-wire.sh"

# Sets leader, in_quorum (yes/no) and caught_up_ms from the answer of `host:port`; returns 1 when it has none.
ask() {
    local host="$1" port="$2" count r id caught
    { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
    # size=44 | api_key=55 (DescribeQuorum) | api_version=1 | correlation_id=1 | client_id="probe" | no tags |
    # topics=[__cluster_metadata: partitions=[0]]
    printf '\x00\x00\x00\x2c\x00\x37\x00\x01\x00\x00\x00\x01\x00\x05probe\x00\x02\x13__cluster_metadata\x02\x00\x00\x00\x00\x00\x00\x00' >&3
    int_of 4 || return 1
    int_of 4 || return 1
    [ "$value" -eq 1 ] || { echo "probe: unexpected correlation id $value from $host" >&2; return 1; }
    uvarint || return 1
    int_of 2 || return 1
    [ "$value" -eq 0 ] || { echo "probe: $host answered error $value" >&2; return 1; }
    uvarint || return 1
    uvarint || return 1
    read_bytes $((value - 1)) || return 1
    uvarint || return 1
    int_of 4 || return 1
    int_of 2 || return 1
    if [ "$value" -ne 0 ]; then
        echo "probe: $host is not the leader (error $value)" >&2
        return 1
    fi
    int_of 4 || return 1
    leader="$value"
    int_of 4 || return 1
    int_of 8 || return 1
    uvarint || return 1
    count=$((value - 1))
    in_quorum=no
    caught_up_ms=-1
    for ((r = 0; r < count; r++)); do
        int_of 4 || return 1
        id="$value"
        # LogEndOffset, LastFetchTimestamp, then LastCaughtUpTimestamp.
        int_of 8 || return 1
        int_of 8 || return 1
        int_of 8 || return 1
        caught="$value"
        uvarint || return 1
        if [ "$id" -eq "$node_id" ]; then
            in_quorum=yes
            caught_up_ms="$caught"
        fi
    done
    exec 3<&-
    return 0
}

own_host=""
others=()
IFS=, read -r -a entries <<<"$voters"
for entry in "${entries[@]}"; do
    id="${entry%%@*}"
    address="${entry#*@}"
    if [ "$id" = "$node_id" ]; then
        own_host="$address"
    else
        others+=("$address")
    fi
done
leader=-1
answered=""
for address in $own_host "${others[@]}"; do
    if ask "${address%:*}" "${address##*:}" 2>/dev/null; then
        answered="$address"
        break
    fi
    # Braces: a redirection on exec itself would silence the whole script's stderr from here on.
    { exec 3<&-; } 2>/dev/null || true
done
if [ -z "$answered" ]; then
    echo "probe: no voter of $voters answers as the quorum's leader" >&2
    exit 1
fi
if [ "$in_quorum" != yes ]; then
    echo "probe: controller $node_id is not a voter of the quorum led by $leader" >&2
    exit 1
fi
if [ "$caught_up_ms" -lt "$started_ms" ]; then
    echo "probe: controller $node_id has not caught up with leader $leader's log since it started" >&2
    exit 1
fi
echo "probe: controller $node_id is a voter of the quorum led by $leader and caught up"
