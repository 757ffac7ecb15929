#!/usr/bin/env bash
# Probe of a ZooKeeper member over its four-letter words (bash /dev/tcp: the image has no netcat).
#   probe.sh ready   passes when the member serves requests, i.e. it is in a quorum (or standalone):
#                    outside a quorum `srvr` answers "This ZooKeeper instance is not currently serving requests".
#   probe.sh alive   passes when the server thread answers `ruok` with `imok`.
set -euo pipefail

port="${ZOOKEEPER_CLIENT_PORT:-2181}"

ask() {
    local reply
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf '%s' "$1" >&3
    reply="$(cat <&3)"
    exec 3<&-
    printf '%s' "$reply"
}

case "${1:-}" in
    ready)
        ask srvr | grep -Eq '^Mode: (leader|follower|standalone)$'
        ;;
    alive)
        [ "$(ask ruok)" = imok ]
        ;;
    *)
        echo "usage: probe.sh ready|alive" >&2
        exit 2
        ;;
esac
