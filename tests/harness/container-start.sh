#!/bin/bash
# First process of a sandboxed container, run as root in a fresh private mount namespace
# (`unshare -m --propagation private` inside the pod's network namespace): sets up the container's view of
# the file system, then becomes the container process: its working directory, exactly its environment
# (nothing inherited from the runner), its uid/gid/groups and privilege limits.
#
# Usage: container-start.sh MOUNT_TABLE READ_ONLY_ROOT WORKDIR ENV_FILE IDENTITY_FILE -- COMMAND [ARG...]
#   MOUNT_TABLE: NUL-separated triples "source target rw|ro", already in mount order (parents first).
#   READ_ONLY_ROOT: "true" remounts / read-only after the mounts (securityContext.readOnlyRootFilesystem).
#   ENV_FILE: NUL-separated NAME=VALUE entries. IDENTITY_FILE: NUL-separated setpriv options.
set -euo pipefail

mount_table=$1
read_only_root=$2
workdir=$3
mapfile -d '' -t mounts < "$mount_table"
mapfile -d '' -t environment < "$4"
mapfile -d '' -t identity < "$5"
shift 5
[[ ${1:-} == -- ]] && shift

# Every source is opened before anything is mounted: a mount (an emptyDir on /tmp, say) may hide the
# runner's own folders that later sources live in.
sources=()
for ((i = 0; i + 2 < ${#mounts[@]}; i += 3)); do
  exec {fd}<"${mounts[i]}"
  sources+=("$fd")
done

for ((i = 0; i + 2 < ${#mounts[@]}; i += 3)); do
  fd=${sources[i / 3]}
  target=${mounts[i + 1]}
  # Like a container runtime, create a missing mount point; never touch an existing file: bind over it.
  if [[ -d /proc/self/fd/$fd ]]; then
    [[ -d $target ]] || mkdir -p -- "$target"
  elif [[ ! -e $target ]]; then
    mkdir -p -- "$(dirname -- "$target")"
    : >"$target"
  fi
  mount --bind -- "/proc/self/fd/$fd" "$target"
  exec {fd}<&-
done
# Read-only only once every mount point exists: a volume may be mounted inside a read-only image folder.
for ((i = 0; i + 2 < ${#mounts[@]}; i += 3)); do
  if [[ ${mounts[i + 2]} == ro ]]; then
    mount -o remount,bind,ro -- "${mounts[i + 1]}"
  fi
done

[[ -d $workdir ]] || mkdir -p -- "$workdir"
if [[ $read_only_root == true ]]; then
  mount -o remount,bind,ro /
fi

exec /usr/bin/env -i -C "$workdir" -- "${environment[@]}" /usr/bin/setpriv "${identity[@]}" -- "$@"
