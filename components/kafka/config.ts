/**
 * Pure renderers of the broker config and names. server.properties holds everything the brokers share;
 * start.sh appends what differs per pod (broker.id, advertised.listeners) from the pod's env.
 */
import { KafkaSettings } from "../../settings/kafka";
import { CLUSTER_DOMAIN } from "../zookeeper/config";
import { CONTROLLER_LISTENER, renderPropertyLines } from "./controllers/config";

export const KAFKA_NAME = "kafka";
export const KAFKA_HEADLESS = "kafka-headless";

/** INTERNAL carries inter-broker and in-cluster traffic, EXTERNAL the clients outside the cluster. */
export const KAFKA_PORTS = { internal: 9092, external: 9094 } as const;

export const KAFKA_PATHS = {
    config: "/etc/kafka",
    scripts: "/opt/bss/kafka",
    runtime: "/opt/bss/runtime",
    data: "/var/lib/kafka",
    tmp: "/tmp",
} as const;

/** Name of broker `ordinal`'s own NodePort Service. */
export function externalServiceName(ordinal: number): string {
    return `${KAFKA_NAME}-${ordinal}-external`;
}

/** The INTERNAL address broker `ordinal` advertises: its pod DNS name under the headless Service. */
export function brokerHost(ordinal: number, namespace: string): string {
    return `${KAFKA_NAME}-${ordinal}.${KAFKA_HEADLESS}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** Bootstrap address for clients inside the cluster: the ClusterIP Service on the INTERNAL listener. */
export function internalBootstrap(namespace: string): string {
    return `${KAFKA_NAME}.${namespace}.svc.${CLUSTER_DOMAIN}:${KAFKA_PORTS.internal}`;
}

/** What clients outside the cluster dial: broker i at `externalHost:externalPorts[i]`. */
export function externalBootstrap(settings: Pick<KafkaSettings, "externalHost" | "externalPorts">): string[] {
    return settings.externalPorts.map((port) => `${settings.externalHost}:${port}`);
}

/** Where the brokers find the cluster's metadata, by `bss:kafka.metadata`. */
function metadataLines(settings: KafkaSettings, metadataConnect: string): [string, string | number | boolean, string?][] {
    if (settings.metadata === "kraft") {
        return [
            ["listener.security.protocol.map", `INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,${CONTROLLER_LISTENER}:PLAINTEXT`],
            ["inter.broker.listener.name", "INTERNAL", "replication stays on the pod network"],
            ["process.roles", "broker", "the controllers are a StatefulSet of their own (components/kafka/controllers)"],
            ["controller.quorum.voters", metadataConnect],
            ["controller.listener.names", CONTROLLER_LISTENER, "the brokers dial the controllers on it; they do not serve it"],
        ];
    }
    return [
        ["listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT"],
        ["inter.broker.listener.name", "INTERNAL", "replication and controller traffic stay on the pod network"],
        ["zookeeper.connect", metadataConnect],
        ["zookeeper.connection.timeout.ms", 18000],
        ["zookeeper.session.timeout.ms", 18000],
    ];
}

/**
 * server.properties shared by every broker. `metadataConnect` is `zookeeper.connect` (chroot included) on a ZooKeeper
 * stack and `controller.quorum.voters` on a KRaft one.
 */
export function renderServerProperties(settings: KafkaSettings, metadataConnect: string): string {
    const kraft = settings.metadata === "kraft";
    const lines: [string, string | number | boolean, string?][] = [
        ["listeners", `INTERNAL://:${KAFKA_PORTS.internal},EXTERNAL://:${KAFKA_PORTS.external}`],
        ...metadataLines(settings, metadataConnect),
        ["log.dirs", `${KAFKA_PATHS.data}/data`, "a folder below the mount: a fresh volume's root may hold lost+found"],
        ["num.partitions", settings.numPartitions],
        ["default.replication.factor", settings.defaultReplicationFactor],
        ["min.insync.replicas", settings.minInsyncReplicas],
        ["offsets.topic.replication.factor", settings.defaultReplicationFactor, "consumer offsets survive a broker loss"],
        ["transaction.state.log.replication.factor", settings.defaultReplicationFactor],
        ["transaction.state.log.min.isr", settings.minInsyncReplicas],
        ["unclean.leader.election.enable", false, "never elect an out-of-sync replica: no silent data loss"],
        ["auto.create.topics.enable", settings.autoCreateTopics],
        ["delete.topic.enable", true],
        ["log.retention.hours", settings.logRetentionHours],
        ["log.segment.bytes", 1073741824],
        ["log.retention.check.interval.ms", 300000],
        ["controlled.shutdown.enable", true, "hand leadership over before stopping (terminationGracePeriodSeconds allows it)"],
        ["group.initial.rebalance.delay.ms", 3000],
        ...(kraft ? [] : [["broker.id.generation.enable", false, "broker.id is the pod ordinal, written by start.sh"] as [string, boolean, string]]),
    ];
    return renderPropertyLines(
        `# Rendered by components/kafka/config.ts; start.sh appends ${kraft ? "node.id" : "broker.id"} and advertised.listeners per pod.`,
        lines,
    );
}
