#!/usr/bin/env bash
# Fetches the Prometheus JMX exporter javaagent (io.prometheus.jmx:jmx_prometheus_javaagent:0.20.0) from Maven into
# .cache/monitoring/jmx/ and checks its sha256 against the one the stack's init container checks
# (components/monitoring/jmx.ts, JMX_AGENT_SHA256). A verified jar is left alone, so a second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=0.20.0
SHA256=8b67ed40485d475648c36d11d21464b484406f85faf912b3363f71a6a7861320
DIR=".cache/monitoring/jmx"
JAR="$DIR/jmx_prometheus_javaagent-$VERSION.jar"

verified() { [ -f "$JAR" ] && [ "$(sha256sum "$JAR" | cut -d' ' -f1)" = "$SHA256" ]; }

if verified; then
    echo "fetch-jmx-exporter: $JAR is there and verified"
    exit 0
fi
command -v mvn >/dev/null || { echo "fetch-jmx-exporter: Maven is needed (Debian: apt-get install maven)" >&2; exit 1; }
mkdir -p "$DIR"
rm -f "$JAR"
# Maven checks the repository's .sha1 itself (-C: a mismatch fails); the sha256 below pins the exact bytes.
mvn -q -B -C -Dstyle.color=never dependency:copy "-Dartifact=io.prometheus.jmx:jmx_prometheus_javaagent:$VERSION" "-DoutputDirectory=$(pwd)/$DIR"
if ! verified; then
    echo "fetch-jmx-exporter: $JAR does not have the pinned sha256 $SHA256 (got $(sha256sum "$JAR" 2>/dev/null | cut -d' ' -f1))" >&2
    rm -f "$JAR"
    exit 1
fi
echo "fetch-jmx-exporter: $JAR fetched and verified"
