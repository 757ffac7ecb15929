import { integer, object, pinnedImage, Problems, quantity, string, oneOf } from "./fields";
import { ComputeResources, mergeResources, Placement, ResourcesInput, resourcesReader, SettingsContext } from "./common";

export const DEFAULT_KAFKA_IMAGE = "apache/kafka:3.9.2";
/** The ZooKeeper release Kafka 3.9.2 bundles (3.8.4); its image carries the Prometheus metrics provider jars. */
export const DEFAULT_ZOOKEEPER_METRICS_IMAGE = "zookeeper:3.8.4";

export interface ZookeeperSettings {
    /** Ensemble size: odd, so a majority survives one failure per two extra nodes. */
    replicas: number;
    image: string;
    storageSize: string;
    storageClass?: string;
    /** Default requests 100m / 512Mi (256Mi in dev), limits 500m / 512Mi (the heap is half the limit). */
    resources: ComputeResources;
    placement: Placement;
    /** Image an init container copies ZooKeeper's Prometheus provider jars from (apache/kafka lacks them); default `zookeeper:3.8.4`, the release Kafka 3.9.2 bundles. */
    metricsImage: string;
}

const reader = object<Omit<ZookeeperSettings, "resources"> & { resources: Partial<ResourcesInput> }>({
    replicas: integer(1, 9),
    image: pinnedImage,
    storageSize: quantity,
    storageClass: string(),
    resources: resourcesReader,
    placement: oneOf("preferred", "required"),
    metricsImage: pinnedImage,
});

export function readZookeeper(raw: unknown, ctx: SettingsContext, problems: Problems): ZookeeperSettings {
    const given = reader("bss:zookeeper", raw, problems) ?? {};
    const replicas = given.replicas ?? (ctx.environment === "dev" ? 1 : 3);
    if (given.replicas !== undefined && replicas % 2 === 0) {
        problems.push(`bss:zookeeper.replicas must be odd (a ZooKeeper quorum is a strict majority), got ${replicas}`);
    }
    return {
        replicas,
        image: given.image ?? DEFAULT_KAFKA_IMAGE,
        storageSize: given.storageSize ?? "5Gi",
        storageClass: given.storageClass,
        resources: mergeResources(
            // A dev stack must fit one laptop kind node (4 GiB of requests); the heap follows the limit.
            { requests: { cpu: "100m", memory: ctx.environment === "dev" ? "256Mi" : "512Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
            given.resources,
        ),
        placement: given.placement ?? (ctx.environment === "dev" ? "preferred" : "required"),
        metricsImage: given.metricsImage ?? DEFAULT_ZOOKEEPER_METRICS_IMAGE,
    };
}
