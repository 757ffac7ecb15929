#!/usr/bin/env bash
# Reading a Kafka response from file descriptor 3 in bash, for the readiness probes (probe.sh, controller-probe.sh)
# that talk to Kafka over /dev/tcp: no JVM start per probe, no netcat in the image. Sourced, not run.
# The readers set `value` (numbers) or `text` (strings) instead of printing them: a command substitution per field
# would fork once per field. Each returns 1 when the peer closed the connection or sent nothing for 5 s.

bytes=()
value=0
text=""

# The next `count` bytes, as numbers 0-255, into `bytes`.
read_bytes() {
    local count="$1" i char
    bytes=()
    for ((i = 0; i < count; i++)); do
        IFS= read -r -d '' -n 1 -t 5 -u 3 char || return 1
        if [ -z "$char" ]; then
            bytes+=(0)
        else
            printf -v char '%d' "'$char"
            bytes+=($((char & 255)))
        fi
    done
}

# A big-endian signed integer of `count` bytes (2: INT16, 4: INT32, 8: INT64).
int_of() {
    local count="$1" i
    read_bytes "$count" || return 1
    value=0
    for ((i = 0; i < count; i++)); do
        value=$(((value << 8) | bytes[i]))
    done
    if [ "$count" -lt 8 ] && [ "$value" -ge $((1 << (count * 8 - 1))) ]; then
        value=$((value - (1 << (count * 8))))
    fi
}

# An unsigned varint of one byte: every count and length the probes read is below 128; anything else is refused.
uvarint() {
    read_bytes 1 || return 1
    [ "${bytes[0]}" -lt 128 ] || { echo "probe: unexpected varint" >&2; return 1; }
    value="${bytes[0]}"
}

skip() {
    if [ "$1" -gt 0 ]; then
        read_bytes "$1" || return 1
    fi
    return 0
}

# A STRING (INT16 length, then the bytes) into `text`.
string() {
    int_of 2 || return 1
    local length="$value" i hex char
    text=""
    [ "$length" -gt 0 ] || return 0
    read_bytes "$length" || return 1
    for ((i = 0; i < length; i++)); do
        printf -v hex '%02x' "${bytes[$i]}"
        printf -v char '%b' "\\x$hex"
        text+="$char"
    done
}
