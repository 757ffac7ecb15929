import { boolean, hostName, integer, object, oneOf, pinnedImage, Problems, quantity, shown, string } from "./fields";
import {
    ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, Placement, ResourcesInput,
    resourcesReader, SettingsContext,
} from "./common";
import { DEFAULT_KAFKA_IMAGE } from "./zookeeper";

/** Where the cluster keeps its metadata: a ZooKeeper ensemble (the default) or a KRaft controller quorum. */
export type MetadataMode = "zookeeper" | "kraft";

/**
 * Node ids of the KRaft controllers: 1000 + ordinal. Brokers keep broker.id = ordinal (at most 50), and the
 * ZooKeeper-to-KRaft migration keeps those, so controller ids must stay out of their range.
 */
export const CONTROLLER_NODE_ID_BASE = 1000;

/** The KRaft controller quorum (`bss:kafka.metadata: kraft`). */
export interface KafkaControllerSettings {
    /** `bss:kafka.controllers`: voters of the quorum, odd. Default 1 in dev, 3 in prod. */
    replicas: number;
    /** `bss:kafka.controllerStorageSize`: each controller's metadata log volume. Default `5Gi`. */
    storageSize: string;
    /** `bss:kafka.controllerStorageClass`. Default: the cluster's default class. */
    storageClass?: string;
    /**
     * `bss:kafka.controllerResources`, field by field over the default requests 100m / 768Mi (384Mi in dev),
     * limits 500m / 768Mi.
     */
    resources: ComputeResources;
    /** `bss:kafka.controllerPlacement`: one controller per node required or preferred. Default preferred in dev, required in prod. */
    placement: Placement;
}

export interface KafkaSettings {
    /** `bss:kafka.metadata`: `zookeeper` (default) or `kraft`. */
    metadata: MetadataMode;
    /** The controller quorum; present only when `metadata` is `kraft`. */
    controllers?: KafkaControllerSettings;
    /** Number of brokers (StatefulSet replicas); broker.id = pod ordinal. */
    brokers: number;
    image: string;
    /** Host name clients outside the cluster dial; advertised on the EXTERNAL listener. */
    externalHost: string;
    /** Host port of broker 0 (`bss:kafka.externalPortBase`); broker i is advertised on base + i. Default 9092. */
    externalPortBase: number;
    /** Host port of broker i, advertised as `externalHost:externalPorts[i]` (= externalPortBase + i). */
    externalPorts: number[];
    /** Fixed nodePort of broker i's external Service. */
    nodePorts: number[];
    storageSize: string;
    storageClass?: string;
    /** Broker container; default requests 250m / 1Gi (512Mi in dev), limits 1 / 1Gi (the heap is half the limit). */
    resources: ComputeResources;
    autoCreateTopics: boolean;
    numPartitions: number;
    defaultReplicationFactor: number;
    minInsyncReplicas: number;
    logRetentionHours: number;
    /** ZooKeeper chroot that holds this cluster's znodes (`bss:kafka.zookeeperChroot`, ZooKeeper stacks only). Default `/bss-kafka`. */
    zookeeperChroot: string;
    placement: Placement;
    /** Image of the kafka-exporter Deployment that publishes broker, topic and consumer-lag metrics. */
    exporterImage: string;
    /**
     * Replication throttle (bytes/s, per broker) of every partition reassignment: the rebalance Job after a scale-out
     * and `npm run kafka:drain`. Default 52428800 (50 MB/s): a laptop's disk keeps serving clients meanwhile.
     */
    reassignmentThrottleBytes: number;
    /**
     * How long a (re)started broker's readiness waits for it to rejoin the ISR of every partition it hosts before it
     * passes anyway and reports the partitions still behind (components/kafka/probe.sh). Default 300 s.
     */
    catchUpSeconds: number;
}

interface KafkaInput {
    metadata: MetadataMode;
    controllers: number;
    controllerStorageSize: string;
    controllerStorageClass: string;
    controllerResources: Partial<ResourcesInput>;
    controllerPlacement: Placement;
    brokers: number;
    image: string;
    externalHost: string;
    externalPortBase: number;
    nodePortBase: number;
    storageSize: string;
    storageClass: string;
    resources: Partial<ResourcesInput>;
    autoCreateTopics: boolean;
    numPartitions: number;
    defaultReplicationFactor: number;
    minInsyncReplicas: number;
    logRetentionHours: number;
    zookeeperChroot: string;
    placement: Placement;
    exporterImage: string;
    reassignmentThrottleBytes: number;
    catchUpSeconds: number;
}

const reader = object<KafkaInput>({
    metadata: oneOf("zookeeper", "kraft"),
    controllers: integer(1, 9),
    controllerStorageSize: quantity,
    controllerStorageClass: string(),
    controllerResources: resourcesReader,
    controllerPlacement: oneOf("preferred", "required"),
    brokers: integer(1, 50),
    image: pinnedImage,
    externalHost: hostName,
    externalPortBase: integer(1, 65535),
    nodePortBase: integer(NODE_PORT_MIN, NODE_PORT_MAX),
    storageSize: quantity,
    storageClass: string(),
    resources: resourcesReader,
    autoCreateTopics: boolean,
    numPartitions: integer(1, 10000),
    defaultReplicationFactor: integer(1, 50),
    minInsyncReplicas: integer(1, 50),
    logRetentionHours: integer(1),
    zookeeperChroot: string(/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "a ZooKeeper path such as \"/bss-kafka\""),
    placement: oneOf("preferred", "required"),
    exporterImage: pinnedImage,
    reassignmentThrottleBytes: integer(1024),
    catchUpSeconds: integer(10, 86400),
});

export const DEFAULT_EXTERNAL_PORT_BASE = 9092;
export const DEFAULT_KAFKA_NODE_PORT_BASE = 30092;
/** 50 MB/s per broker for reassignment traffic. */
export const DEFAULT_REASSIGNMENT_THROTTLE_BYTES = 52_428_800;

/** Replication the cluster can honour: three copies where there are three brokers, fewer on smaller clusters. */
export function replicationFor(brokers: number, wanted = 3): number {
    return Math.min(wanted, brokers);
}

/** min.insync.replicas that still lets one replica fail: RF - 1, at most 2, at least 1. */
export function minInsyncFor(replicationFactor: number): number {
    return Math.max(1, Math.min(2, replicationFactor - 1));
}

/** min ISR must leave room for a replica to fail, except on a single replica where 1 is the only choice. */
export function minIsrProblem(key: string, minIsr: number, replicationFactor: number): string | undefined {
    if (minIsr > replicationFactor || (replicationFactor > 1 && minIsr >= replicationFactor)) {
        return `${key} must be lower than the replication factor ${replicationFactor} (or 1 when it is 1), got ${minIsr}`;
    }
    return undefined;
}

/** The keys only a KRaft stack reads, and the one only a ZooKeeper stack reads. */
const CONTROLLER_KEYS = ["controllers", "controllerStorageSize", "controllerStorageClass", "controllerResources", "controllerPlacement"] as const;
const ZOOKEEPER_ONLY_KEYS = ["zookeeperChroot"] as const;

function readControllers(given: Partial<KafkaInput>, ctx: SettingsContext, problems: Problems): KafkaControllerSettings | undefined {
    const metadata = given.metadata ?? "zookeeper";
    if (metadata !== "kraft") {
        for (const key of CONTROLLER_KEYS.filter((k) => given[k] !== undefined)) {
            problems.push(`bss:kafka.${key} configures KRaft controllers, which a stack with bss:kafka.metadata "${metadata}" does not run (set bss:kafka.metadata to "kraft" or remove it), got ${shown(given[key])}`);
        }
        return undefined;
    }
    for (const key of ZOOKEEPER_ONLY_KEYS.filter((k) => given[k] !== undefined)) {
        problems.push(`bss:kafka.${key} is a ZooKeeper setting, which a stack with bss:kafka.metadata "kraft" does not use (remove it), got ${shown(given[key])}`);
    }
    const replicas = given.controllers ?? (ctx.environment === "dev" ? 1 : 3);
    if (replicas % 2 === 0) {
        problems.push(`bss:kafka.controllers must be odd (a KRaft quorum is a strict majority: ${replicas} voters survive no more failures than ${replicas - 1}), got ${replicas}`);
    }
    return {
        replicas,
        storageSize: given.controllerStorageSize ?? "5Gi",
        storageClass: given.controllerStorageClass,
        resources: mergeResources(
            // A dev stack must fit one laptop kind node (4 GiB of requests); the heap follows the limit.
            { requests: { cpu: "100m", memory: ctx.environment === "dev" ? "384Mi" : "768Mi" }, limits: { cpu: "500m", memory: "768Mi" } },
            given.controllerResources,
        ),
        placement: given.controllerPlacement ?? (ctx.environment === "dev" ? "preferred" : "required"),
    };
}

export function readKafka(raw: unknown, ctx: SettingsContext, problems: Problems): KafkaSettings {
    const given = reader("bss:kafka", raw, problems) ?? {};
    const metadata = given.metadata ?? "zookeeper";
    const controllers = readControllers(given, ctx, problems);
    const brokers = given.brokers ?? 3;
    const externalPortBase = given.externalPortBase ?? DEFAULT_EXTERNAL_PORT_BASE;
    const nodePortBase = given.nodePortBase ?? DEFAULT_KAFKA_NODE_PORT_BASE;
    const ordinals = [...Array(brokers).keys()];
    const defaultReplicationFactor = given.defaultReplicationFactor ?? replicationFor(brokers);
    const minInsyncReplicas = given.minInsyncReplicas ?? minInsyncFor(defaultReplicationFactor);

    if (externalPortBase + brokers - 1 > 65535) {
        problems.push(`bss:kafka.externalPortBase leaves no port for broker ${brokers - 1} (${externalPortBase} + ${brokers - 1} > 65535), got ${externalPortBase}`);
    }
    if (nodePortBase + brokers - 1 > NODE_PORT_MAX) {
        problems.push(`bss:kafka.nodePortBase puts broker ${brokers - 1} outside ${NODE_PORT_MIN}-${NODE_PORT_MAX} (${nodePortBase} + ${brokers - 1}), got ${nodePortBase}`);
    }
    if (defaultReplicationFactor > brokers) {
        problems.push(`bss:kafka.defaultReplicationFactor must be at most bss:kafka.brokers (${brokers}), got ${defaultReplicationFactor}`);
    }
    const isr = minIsrProblem("bss:kafka.minInsyncReplicas", minInsyncReplicas, defaultReplicationFactor);
    if (isr) {
        problems.push(isr);
    }
    return {
        metadata,
        ...(controllers ? { controllers } : {}),
        brokers,
        image: given.image ?? DEFAULT_KAFKA_IMAGE,
        externalHost: given.externalHost ?? "localhost",
        externalPortBase,
        externalPorts: ordinals.map((i) => externalPortBase + i),
        nodePorts: ordinals.map((i) => nodePortBase + i),
        storageSize: given.storageSize ?? "10Gi",
        storageClass: given.storageClass,
        resources: mergeResources(
            // A dev stack must fit one laptop kind node (4 GiB of requests); the heap follows the limit.
            { requests: { cpu: "250m", memory: ctx.environment === "dev" ? "512Mi" : "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
            given.resources,
        ),
        autoCreateTopics: given.autoCreateTopics ?? true,
        numPartitions: given.numPartitions ?? 3,
        defaultReplicationFactor,
        minInsyncReplicas,
        logRetentionHours: given.logRetentionHours ?? 168,
        zookeeperChroot: given.zookeeperChroot ?? "/bss-kafka",
        placement: given.placement ?? (ctx.environment === "dev" ? "preferred" : "required"),
        exporterImage: given.exporterImage ?? "danielqsj/kafka-exporter:v1.9.0",
        reassignmentThrottleBytes: given.reassignmentThrottleBytes ?? DEFAULT_REASSIGNMENT_THROTTLE_BYTES,
        catchUpSeconds: given.catchUpSeconds ?? 300,
    };
}

export function kafkaNodePorts(kafka: KafkaSettings): NodePortClaim[] {
    return kafka.nodePorts.map((port, i) => ({ key: `bss:kafka.nodePortBase (broker ${i})`, port }));
}
