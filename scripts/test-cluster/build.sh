#!/usr/bin/env bash
# Builds every binary of the test cluster from the Go module proxy, pinned, into .cache/test-cluster/bin.
# Idempotent: a binary already built at the pinned version is kept (the stamp file names the version).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="${TEST_CLUSTER_CACHE:-$root/.cache/test-cluster}"
bin="$cache/bin"
src="$cache/src"
mkdir -p "$bin" "$src"

ETCD_VERSION=v3.6.16
K8S_VERSION=v1.34.4
CONTAINERD_VERSION=v2.2.9
RUNC_VERSION=v1.5.3
CNI_VERSION=v1.9.0
COREDNS_VERSION=v1.14.7
KUBE_ROUTER_VERSION=v2.1.0

export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local

# stamp NAME VERSION: true when NAME was built at VERSION
built() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

# wrapper DIR: a throwaway module that pulls the pinned tools in as dependencies
wrapper() {
    mkdir -p "$src/$1"
    cd "$src/$1"
    [ -f go.mod ] || go mod init "wrapper/$1" >/dev/null 2>&1
}

build_etcd() {
    built etcd "$ETCD_VERSION" && return
    echo "test-cluster: building etcd $ETCD_VERSION"
    wrapper etcd
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go build -o "$bin/etcd" go.etcd.io/etcd/server/v3
    stamp etcd "$ETCD_VERSION"
}

K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
build_kubernetes() {
    local missing=()
    for c in "${K8S_CMDS[@]}"; do built "$c" "$K8S_VERSION" || missing+=("$c"); done
    [ "${#missing[@]}" -eq 0 ] && return
    echo "test-cluster: building Kubernetes $K8S_VERSION: ${missing[*]}"
    wrapper kubernetes
    if ! grep -q '^replace' go.mod; then
        # k8s.io/kubernetes replaces its staging modules with ./staging; point each at its published version.
        local gomod minor
        gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
        minor="v0.${K8S_VERSION#v1.}"
        grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
            echo "replace $m => $m $minor" >>go.mod
        done
    fi
    local pkgs=()
    for c in "${K8S_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
    go get "${pkgs[@]}"
    local ld="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
    ld="$ld -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
    ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
    local targets=()
    for c in "${missing[@]}"; do targets+=("k8s.io/kubernetes/cmd/$c"); done
    echo "test-cluster: go build ${missing[*]}"
    # One go build for all of them: one action graph keeps both cores compiling while each binary links.
    CGO_ENABLED=0 go build -ldflags "$ld" -o "$bin/" "${targets[@]}"
    for c in "${missing[@]}"; do stamp "$c" "$K8S_VERSION"; done
}

build_containerd() {
    local c missing=() targets=()
    for c in containerd ctr containerd-shim-runc-v2; do
        built "$c" "$CONTAINERD_VERSION" && continue
        missing+=("$c")
        targets+=("github.com/containerd/containerd/v2/cmd/$c@$CONTAINERD_VERSION")
    done
    [ "${#missing[@]}" -eq 0 ] && return
    echo "test-cluster: building ${missing[*]} $CONTAINERD_VERSION"
    CGO_ENABLED=0 GOBIN="$bin" go install "${targets[@]}"
    for c in "${missing[@]}"; do stamp "$c" "$CONTAINERD_VERSION"; done
}

build_runc() {
    built runc "$RUNC_VERSION" && return
    echo "test-cluster: building runc $RUNC_VERSION"
    CGO_ENABLED=1 GOBIN="$bin" go install -tags seccomp "github.com/opencontainers/runc@$RUNC_VERSION"
    stamp runc "$RUNC_VERSION"
}

build_cni() {
    mkdir -p "$bin/cni"
    local p name missing=() targets=()
    for p in main/bridge ipam/host-local main/loopback meta/portmap; do
        name=${p##*/}
        [ -x "$bin/cni/$name" ] && [ "$(cat "$bin/cni/.$name.version" 2>/dev/null)" = "$CNI_VERSION" ] && continue
        missing+=("$name")
        targets+=("github.com/containernetworking/plugins/plugins/$p@$CNI_VERSION")
    done
    [ "${#missing[@]}" -eq 0 ] && return
    echo "test-cluster: building CNI ${missing[*]} $CNI_VERSION"
    CGO_ENABLED=0 GOBIN="$bin/cni" go install "${targets[@]}"
    for name in "${missing[@]}"; do echo "$CNI_VERSION" >"$bin/cni/.$name.version"; done
}

# Built from coredns/main.go: the plugins the Corefile uses, not every plugin CoreDNS ships.
build_coredns() {
    local version
    version="$COREDNS_VERSION $(sha256sum <"$here/coredns/main.go" | cut -c1-12)"
    built coredns "$version" && return
    echo "test-cluster: building coredns $COREDNS_VERSION (bind, errors, cache, kubernetes)"
    wrapper coredns
    cp "$here/coredns/main.go" main.go
    go get "github.com/coredns/coredns@$COREDNS_VERSION"
    CGO_ENABLED=0 go build -ldflags "-X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION" -o "$bin/coredns" .
    stamp coredns "$version"
}

build_kube_router() {
    built kube-router "$KUBE_ROUTER_VERSION" && return
    echo "test-cluster: building kube-router $KUBE_ROUTER_VERSION"
    wrapper kube-router
    go get "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
    CGO_ENABLED=0 go build -o "$bin/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
    stamp kube-router "$KUBE_ROUTER_VERSION"
}

build_pause() {
    built pause "go-$(go env GOVERSION)" && return
    wrapper pause
    cp "$here/pause/main.go" main.go
    CGO_ENABLED=0 go build -ldflags "-s -w" -o "$bin/pause" .
    stamp pause "go-$(go env GOVERSION)"
}

build_each() {
    local t
    for t in "$@"; do ( "build_$t" ); done
}

if [ "$#" -gt 0 ]; then
    build_each "$@"
else
    # Two lanes: Kubernetes (most of the time) beside the rest, so one lane's module downloads and links leave
    # the cores to the other's compiles.
    build_each kubernetes &
    kubernetes=$!
    build_each etcd containerd runc cni coredns kube_router pause &
    others=$!
    trap 'kill "$kubernetes" "$others" 2>/dev/null || true' EXIT
    status=0
    wait "$kubernetes" || status=$?
    wait "$others" || status=$?
    trap - EXIT
    [ "$status" -eq 0 ] || { echo "test-cluster: a build failed (exit $status)" >&2; exit "$status"; }
fi
echo "test-cluster: binaries ready in $bin"
