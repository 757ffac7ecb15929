/**
 * Where scripts/fetch-kafka.sh keeps the Kafka 3.9.2 release's jars: the test cluster's local Kafka image carries
 * them at /opt/kafka/libs, and the tests' Java clients run from them.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/render";

export const KAFKA_VERSION = "3.9.2";

/** Holds `libs/` with every jar of the release (broker, ZooKeeper, tools), as the image's /opt/kafka does. */
export const KAFKA_HOME = path.join(ROOT, ".cache", `kafka-${KAFKA_VERSION}`);

/** Classpath for Java tools run by tests (`org.apache.kafka.tools.TopicCommand`, ...). */
export const KAFKA_CLASSPATH = `${KAFKA_HOME}/libs/*`;

/** Throws with the command to run when the jars have not been fetched. */
export function assertKafkaFetched(): void {
    if (!fs.existsSync(path.join(KAFKA_HOME, ".complete"))) {
        throw new Error(`Kafka ${KAFKA_VERSION} jars are missing in ${KAFKA_HOME}: run "bash scripts/fetch-kafka.sh" (npm run test:integration does)`);
    }
}
