/**
 * Where scripts/fetch-kafka.sh keeps the Kafka 3.9.2 release's jars, and how tests provide the apache/kafka image
 * with them: the folder is mounted at /opt/kafka, where the image keeps `libs/`.
 */
import * as fs from "fs";
import * as path from "path";
import { ImageProvision } from "../harness/pod-runner";
import { ROOT } from "../helpers/render";

export const KAFKA_VERSION = "3.9.2";

/** Stands in for the image's /opt/kafka: holds `libs/` with every jar of the release (broker, ZooKeeper, tools). */
export const KAFKA_HOME = path.join(ROOT, ".cache", `kafka-${KAFKA_VERSION}`);

/** Classpath for Java tools run by tests (`org.apache.kafka.tools.TopicCommand`, ...). */
export const KAFKA_CLASSPATH = `${KAFKA_HOME}/libs/*`;

/** Throws with the command to run when the jars have not been fetched. */
export function assertKafkaFetched(): void {
    if (!fs.existsSync(path.join(KAFKA_HOME, ".complete"))) {
        throw new Error(`Kafka ${KAFKA_VERSION} jars are missing in ${KAFKA_HOME}: run "bash scripts/fetch-kafka.sh" (npm run test:integration does)`);
    }
}

/**
 * The apache/kafka image on this host: its user (uid/gid 1000), a PATH that finds `java` (the image's JRE is on
 * its PATH too) and the release at /opt/kafka. Its default command (KRaft setup) is never used: the pods override it.
 */
export function kafkaImage(): ImageProvision {
    return {
        uid: 1000,
        gid: 1000,
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
        mounts: { "/opt/kafka": KAFKA_HOME },
    };
}
