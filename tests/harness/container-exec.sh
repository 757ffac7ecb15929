#!/bin/bash
# `kubectl exec` for a sandboxed container: reads the container's environment and identity here, in the
# runner's namespaces (the container's mounts may hide these files), then enters the container's mount and
# network namespaces and runs the command in its working directory, with exactly its environment, as its user.
#
# Usage: container-exec.sh CONTAINER_PID WORKDIR ENV_FILE IDENTITY_FILE -- COMMAND [ARG...]
#   ENV_FILE: NUL-separated NAME=VALUE entries. IDENTITY_FILE: NUL-separated setpriv options.
set -euo pipefail

container_pid=$1
workdir=$2
mapfile -d '' -t environment < "$3"
mapfile -d '' -t identity < "$4"
shift 4
[[ ${1:-} == -- ]] && shift

exec /usr/bin/nsenter -t "$container_pid" -m -n -- \
  /usr/bin/env -i -C "$workdir" -- "${environment[@]}" /usr/bin/setpriv "${identity[@]}" -- "$@"
