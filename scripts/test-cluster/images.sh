#!/usr/bin/env bash
# Assembles the test cluster's container images as OCI archives from Debian packages (dpkg -x, no maintainer
# scripts), the Kafka jars of scripts/fetch-kafka.sh and the static pause binary of build.sh. Every image is
# named under localhost/bss-test/: none of them is the upstream image it stands in for (README, "Test cluster").
# Idempotent: an archive is rebuilt only when its package list or inputs change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="${TEST_CLUSTER_CACHE:-$root/.cache/test-cluster}"
out="$cache/images"
debs="$cache/debs"
mkdir -p "$out" "$debs"

# Tags of the images the test stacks run (tests/helpers/test-cluster.ts reads the same names from images.env).
source "$here/images.env"

BASE_PACKAGES=(libc6 libgcc-s1 libtinfo6 bash coreutils libacl1 libattr1 libselinux1 libpcre2-8-0 libgmp10 libssl3
    sed grep mawk findutils libc-bin)
KAFKA_PACKAGES=(openjdk-17-jre-headless libstdc++6 zlib1g)
REDIS_PACKAGES=(redis-server redis-tools libatomic1 libstdc++6 libjemalloc2 liblzf1 libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1)

fetch_debs() {
    local missing=() p
    for p in "$@"; do
        compgen -G "$debs/${p}_*.deb" >/dev/null || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return
    # apt runs the download as root into a root-owned folder: its "unsandboxed" notice is expected.
    (cd "$debs" && apt-get download "${missing[@]}" >/dev/null 2>&1) || {
        apt-get update -qq && (cd "$debs" && apt-get download "${missing[@]}" >/dev/null)
    }
}

# rootfs DIR PACKAGE...: unpacks the packages and adds what an image's runtime expects
rootfs() {
    local dir="$1" p
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    for p in "$@"; do dpkg -x "$(compgen -G "$debs/${p}_*.deb" | head -n 1)" "$dir"; done
    # merged /usr, as on a Debian 12 system installed by debootstrap
    for d in bin sbin lib lib64; do
        if [ -d "$dir/$d" ] && [ ! -L "$dir/$d" ]; then
            mkdir -p "$dir/usr/$d"
            cp -a "$dir/$d/." "$dir/usr/$d/"
            rm -rf "${dir:?}/$d"
        fi
        [ -e "$dir/$d" ] || ln -s "usr/$d" "$dir/$d"
    done
    # what the packages' maintainer scripts would have linked (update-alternatives)
    [ -e "$dir/usr/bin/mawk" ] && ln -sf mawk "$dir/usr/bin/awk"
    mkdir -p "$dir/etc" "$dir/tmp" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/run"
    chmod 1777 "$dir/tmp"
    : >"$dir/etc/hosts"
    : >"$dir/etc/resolv.conf"
    : >"$dir/etc/hostname"
    printf 'hosts: files dns\npasswd: files\ngroup: files\n' >"$dir/etc/nsswitch.conf"
    printf 'root:x:0:0:root:/root:/bin/bash\nappuser:x:1000:1000::/home/appuser:/bin/bash\nredis:x:999:999::/data:/bin/bash\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nappuser:x:1000:\nredis:x:999:\n' >"$dir/etc/group"
}

# in_rootfs DIR COMMAND...: runs COMMAND inside the unpacked image, with its own /proc (java finds its libraries
# through /proc/self/exe)
in_rootfs() {
    local dir="$1"
    shift
    unshare --mount --pid --fork --mount-proc="$dir/proc" chroot "$dir" "$@"
}

# oci NAME REF DIR USER ENTRYPOINT ENV...: packs DIR as a one-layer OCI archive $out/NAME.tar named REF
# (ENTRYPOINT: a JSON list, [] for none)
oci() {
    local name="$1" ref="$2" dir="$3" user="$4" entrypoint="$5"
    shift 5
    local work
    work=$(mktemp -d)
    mkdir -p "$work/blobs/sha256"
    tar --numeric-owner --sort=name --mtime=@0 -C "$dir" -cf "$work/layer.tar" .
    local layer_sha layer_size
    layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    layer_size=$(stat -c %s "$work/layer.tar")
    mv "$work/layer.tar" "$work/blobs/sha256/$layer_sha"
    local env_json="" e
    for e in "$@"; do env_json="$env_json${env_json:+,}\"$e\""; done
    printf '{"architecture":"amd64","os":"linux","config":{"User":"%s","Entrypoint":%s,"Env":[%s],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$user" "$entrypoint" "$env_json" "$layer_sha" >"$work/config.json"
    local config_sha config_size
    config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
    config_size=$(stat -c %s "$work/config.json")
    mv "$work/config.json" "$work/blobs/sha256/$config_sha"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
        "$config_sha" "$config_size" "$layer_sha" "$layer_size" >"$work/manifest.json"
    local manifest_sha manifest_size
    manifest_sha=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
    manifest_size=$(stat -c %s "$work/manifest.json")
    mv "$work/manifest.json" "$work/blobs/sha256/$manifest_sha"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
        "$manifest_sha" "$manifest_size" "$ref" "${ref##*:}" >"$work/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
    tar -C "$work" -cf "$out/$name.tar.partial" oci-layout index.json blobs
    mv "$out/$name.tar.partial" "$out/$name.tar"
    rm -rf "$work"
}

# fresh NAME INPUT...: true when $out/NAME.tar was built from exactly these inputs
fresh() {
    local name="$1"
    shift
    local sum
    sum=$(printf '%s\n' "$@" | sha256sum | cut -d' ' -f1)
    [ -f "$out/$name.tar" ] && [ "$(cat "$out/.$name.inputs" 2>/dev/null)" = "$sum" ] && return 0
    echo "$sum" >"$out/.$name.inputs.next"
    return 1
}
done_with() { mv "$out/.$1.inputs.next" "$out/.$1.inputs"; }

PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

build_pause() {
    fresh pause "$PAUSE_IMAGE" "$(sha256sum <"$cache/bin/pause")" "$(sha256sum <"$0")" && return
    echo "test-cluster: image $PAUSE_IMAGE"
    local dir="$cache/rootfs/pause"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$cache/bin/pause" "$dir/pause"
    oci pause "$PAUSE_IMAGE" "$dir" "65535:65535" '["/pause"]' "$PATH_ENV"
    done_with pause
}

build_kafka() {
    local jars="$root/.cache/kafka-3.9.2"
    [ -f "$jars/.complete" ] || bash "$root/scripts/fetch-kafka.sh"
    # The Prometheus JMX exporter agent, which the stack's init container downloads (tests/helpers/cluster-stack.ts).
    local jmx_agent="$root/.cache/monitoring/jmx/jmx_prometheus_javaagent-0.20.0.jar"
    bash "$root/scripts/monitoring/fetch-jmx-exporter.sh" >/dev/null
    fresh kafka "$KAFKA_IMAGE" "${BASE_PACKAGES[*]} ${KAFKA_PACKAGES[*]}" "$(cat "$jars/.complete")" "$(sha256sum <"$jmx_agent")" "$(sha256sum <"$0")" && return
    echo "test-cluster: image $KAFKA_IMAGE"
    fetch_debs "${BASE_PACKAGES[@]}" "${KAFKA_PACKAGES[@]}"
    local dir="$cache/rootfs/kafka"
    rootfs "$dir" "${BASE_PACKAGES[@]}" "${KAFKA_PACKAGES[@]}"
    ln -sf ../lib/jvm/java-17-openjdk-amd64/bin/java "$dir/usr/bin/java"
    mkdir -p "$dir/opt/kafka/libs" "$dir/home/appuser"
    cp "$jars"/libs/*.jar "$dir/opt/kafka/libs/"
    mkdir -p "$dir/opt/jmx-exporter"
    cp "$jmx_agent" "$dir/opt/jmx-exporter/"
    chown -R 1000:1000 "$dir/home/appuser"
    in_rootfs "$dir" /usr/bin/java -version >/dev/null 2>&1 || { echo "test-cluster: java does not start in the kafka image" >&2; exit 1; }
    oci kafka "$KAFKA_IMAGE" "$dir" "1000:1000" '[]' "$PATH_ENV" "KAFKA_HOME=/opt/kafka"
    done_with kafka
}

build_redis() {
    fresh redis "$REDIS_IMAGE" "${BASE_PACKAGES[*]} ${REDIS_PACKAGES[*]}" "$(sha256sum <"$0")" && return
    echo "test-cluster: image $REDIS_IMAGE"
    fetch_debs "${BASE_PACKAGES[@]}" "${REDIS_PACKAGES[@]}"
    local dir="$cache/rootfs/redis"
    rootfs "$dir" "${BASE_PACKAGES[@]}" "${REDIS_PACKAGES[@]}"
    mkdir -p "$dir/data" && chown 999:999 "$dir/data"
    local v
    v=$(in_rootfs "$dir" /usr/bin/redis-server --version) || { echo "test-cluster: redis-server does not start in the redis image" >&2; exit 1; }
    [[ "$v" == *"v=${REDIS_IMAGE##*:}"* ]] || { echo "test-cluster: Debian's redis is '$v', images.env says ${REDIS_IMAGE##*:}" >&2; exit 1; }
    in_rootfs "$dir" /bin/bash -c 'redis-cli --version && awk "BEGIN{}" && getent passwd redis && timeout 1 true && date && echo a | tr a b' >/dev/null ||
        { echo "test-cluster: a tool the Redis scripts use is missing from the redis image" >&2; exit 1; }
    oci redis "$REDIS_IMAGE" "$dir" "999:999" '["redis-server"]' "$PATH_ENV"
    done_with redis
}

build_pause
build_kafka
build_redis
echo "test-cluster: images ready in $out"
