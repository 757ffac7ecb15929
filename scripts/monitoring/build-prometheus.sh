#!/usr/bin/env bash
# Builds promtool and prometheus from the Go module proxy, pinned, into .cache/monitoring/bin: the monitoring
# tests check and unit-test the rendered alert rules with promtool and scrape real brokers with prometheus.
# Idempotent: a binary already built at the pinned version is kept (the stamp file names the version).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="${MONITORING_CACHE:-$root/.cache/monitoring}"
bin="$cache/bin"
src="$cache/src/prometheus"
mkdir -p "$bin" "$src"

# Prometheus 3.x is published as module versions v0.3XX.Y (v0.316.0 is Prometheus 3.16.0).
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0

# Only the Kubernetes service discovery the rendered scrape config uses: the other discovery plugins (every cloud's
# SDK) are most of the build's time and size, and neither the tests nor promtool's checks of our files need them.
BUILD_TAGS=remove_all_sd,enable_kubernetes_sd
STAMP="$PROMETHEUS_MODULE_VERSION tags=$BUILD_TAGS"

export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local

built() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$STAMP" ]; }

missing=()
for tool in promtool prometheus; do built "$tool" || missing+=("$tool"); done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "monitoring: promtool and prometheus $PROMETHEUS_VERSION are built in $bin"
    exit 0
fi
command -v go >/dev/null || { echo "monitoring: Go is needed to build promtool and prometheus" >&2; exit 1; }

cd "$src"
[ -f go.mod ] || go mod init wrapper/prometheus >/dev/null 2>&1
# Both commands' packages, not only the module, or go.sum stays incomplete for their imports.
go get "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" \
    "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION"
ld="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
ld="$ld -X github.com/prometheus/common/version.Revision=module-$PROMETHEUS_MODULE_VERSION"
for tool in "${missing[@]}"; do
    echo "monitoring: building $tool $PROMETHEUS_VERSION"
    CGO_ENABLED=0 go build -tags "$BUILD_TAGS" -ldflags "$ld" -o "$bin/$tool" "github.com/prometheus/prometheus/cmd/$tool"
    echo "$STAMP" >"$bin/.$tool.version"
done
echo "monitoring: promtool and prometheus $PROMETHEUS_VERSION are built in $bin"
