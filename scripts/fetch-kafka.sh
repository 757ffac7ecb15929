#!/usr/bin/env bash
# Fetches the Kafka 3.9.2 release (broker, ZooKeeper 3.8.4, tools, reload4j binding) as Maven artifacts into
# .cache/kafka-3.9.2/libs/: the integration tests mount that folder at /opt/kafka, where the apache/kafka image
# keeps the same jars. A complete cache is left alone, so a second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

KAFKA_VERSION=3.9.2
HOME_DIR=".cache/kafka-${KAFKA_VERSION}"
LIBS="${HOME_DIR}/libs"
STAMP="${HOME_DIR}/.complete"
POM="scripts/kafka-deps/pom.xml"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(sha256sum "$POM" | cut -d' ' -f1)" ]; then
    echo "fetch-kafka: ${LIBS} is complete ($(find "$LIBS" -name '*.jar' | wc -l) jars), nothing to fetch"
    exit 0
fi

for tool in java mvn; do
    if ! command -v "$tool" >/dev/null; then
        echo "fetch-kafka: '$tool' is not installed; the Kafka integration tests need Java 17 and Maven (Debian: apt-get install openjdk-17-jre-headless maven)" >&2
        exit 1
    fi
done

rm -rf "$LIBS" "$STAMP"
mkdir -p "$LIBS"
mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$(pwd)/${LIBS}"
for main in kafka_2.13-${KAFKA_VERSION}.jar kafka-tools-${KAFKA_VERSION}.jar zookeeper-3.8.4.jar slf4j-reload4j-1.7.36.jar; do
    if [ ! -f "${LIBS}/${main}" ]; then
        echo "fetch-kafka: ${main} is missing from ${LIBS} after the Maven run" >&2
        exit 1
    fi
done
sha256sum "$POM" | cut -d' ' -f1 >"$STAMP"
echo "fetch-kafka: ${LIBS} holds $(find "$LIBS" -name '*.jar' | wc -l) jars"
