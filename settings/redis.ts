import { integer, object, oneOf, pinnedImage, Problems, quantity, string } from "./fields";
import {
    ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, Placement, ResourcesInput,
    resourcesReader, SettingsContext,
} from "./common";

export const MAXMEMORY_POLICIES = [
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
] as const;
export type MaxmemoryPolicy = typeof MAXMEMORY_POLICIES[number];

export interface RedisSettings {
    /** Masters that share the 16384 hash slots: 1 (no failover) or 3 and more. */
    masters: number;
    /** Replicas attached to each master; automatic failover needs at least 1. */
    replicasPerMaster: number;
    image: string;
    exporterImage: string;
    storageSize: string;
    storageClass?: string;
    resources: ComputeResources;
    /** `maxmemory` in redis.conf units, e.g. `192mb`. */
    maxmemory: string;
    maxmemoryPolicy: MaxmemoryPolicy;
    /** `cluster-node-timeout`: how long a master may be unreachable before its replica takes over. */
    clusterNodeTimeoutMs: number;
    /** Fixed nodePort of the client Service (dev: mapped to host port 7000). */
    nodePort: number;
    placement: Placement;
}

interface RedisInput extends Omit<RedisSettings, "resources"> {
    resources: Partial<ResourcesInput>;
}

const reader = object<RedisInput>({
    masters: integer(1, 100),
    replicasPerMaster: integer(0, 5),
    image: pinnedImage,
    exporterImage: pinnedImage,
    storageSize: quantity,
    storageClass: string(),
    resources: resourcesReader,
    maxmemory: string(/^[0-9]+(b|kb|mb|gb)?$/i, "a Redis memory size such as \"192mb\""),
    maxmemoryPolicy: oneOf(...MAXMEMORY_POLICIES),
    clusterNodeTimeoutMs: integer(500, 600000),
    nodePort: integer(NODE_PORT_MIN, NODE_PORT_MAX),
    placement: oneOf("preferred", "required"),
});

export function readRedis(raw: unknown, ctx: SettingsContext, problems: Problems): RedisSettings {
    const given = reader("bss:redis", raw, problems) ?? {};
    const dev = ctx.environment === "dev";
    const masters = given.masters ?? (dev ? 1 : 3);
    if (masters === 2) {
        problems.push(`bss:redis.masters must be 1 or at least 3 (a Redis Cluster needs a majority of 3 masters to agree on a failover; 2 cannot), got 2`);
    }
    return {
        masters,
        replicasPerMaster: given.replicasPerMaster ?? (dev ? 0 : 1),
        image: given.image ?? "redis:7.2.11",
        exporterImage: given.exporterImage ?? "oliver006/redis_exporter:v1.67.0",
        storageSize: given.storageSize ?? "2Gi",
        storageClass: given.storageClass,
        resources: mergeResources(
            { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            given.resources,
        ),
        maxmemory: given.maxmemory ?? "192mb",
        maxmemoryPolicy: given.maxmemoryPolicy ?? "allkeys-lru",
        clusterNodeTimeoutMs: given.clusterNodeTimeoutMs ?? 5000,
        nodePort: given.nodePort ?? 30700,
        placement: given.placement ?? (dev ? "preferred" : "required"),
    };
}

export function redisNodePorts(redis: RedisSettings): NodePortClaim[] {
    return [{ key: "bss:redis.nodePort", port: redis.nodePort }];
}
