import { boolean, integer, object, oneOf, pinnedImage, Problems, quantity, quantityToBytes, string } from "./fields";
import {
    ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, Placement, ResourcesInput,
    resourcesReader, SettingsContext,
} from "./common";

export const MAXMEMORY_POLICIES = [
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
] as const;
export type MaxmemoryPolicy = typeof MAXMEMORY_POLICIES[number];

export interface RedisSettings {
    /** Masters that share the 16384 hash slots: 1 (no failover) or 3 and more. Default: dev 1, prod 3. */
    masters: number;
    /** Replicas attached to each master; automatic failover needs at least 1. Default: dev 0, prod 1. */
    replicasPerMaster: number;
    /** Server image, a BSD-licensed Redis (7.2.x) or Valkey. Default `redis:7.2.16`. */
    image: string;
    /** Metrics sidecar image. Default `oliver006/redis_exporter:v1.91.1`. */
    exporterImage: string;
    /** PVC size per node (AOF, RDB, nodes.conf). Default `2Gi`. */
    storageSize: string;
    /** Storage class of the PVCs. Default: the cluster's default class. */
    storageClass?: string;
    /** Requests and limits of the Redis container. Default: requests 100m/256Mi, limits 500m/256Mi. */
    resources: ComputeResources;
    /** `maxmemory` in redis.conf units, e.g. `192mb`. Default `192mb`. */
    maxmemory: string;
    /** `maxmemory-policy`. Default `allkeys-lru`. */
    maxmemoryPolicy: MaxmemoryPolicy;
    /** `cluster-node-timeout`: how long a master may be unreachable before its replica takes over. Default 5000. */
    clusterNodeTimeoutMs: number;
    /** NodePort Service `redis-cluster-external` for clients outside the cluster. Default: true in dev (kind maps host port 7000 to it), false otherwise. */
    hostAccess: boolean;
    /** Fixed nodePort of `redis-cluster-external`. Default 30700. */
    nodePort: number;
    /**
     * Spread of the pods over Kubernetes nodes (topology spread, at most one pod more on any node than on another):
     * `required` refuses to schedule beyond that, `preferred` only prefers it. Zones are always a preference.
     * Default: dev `preferred`, prod `required`.
     */
    placement: Placement;
    /** `bss:redis.backup`: the CronJob `redis-backup` writing every master's RDB to the PVC `redis-backups`. */
    backup: RedisBackupSettings;
}

export interface RedisBackupSettings {
    /**
     * Cron schedule (5 fields, UTC) of the CronJob `redis-backup`; `undefined` when backups are off (`"off"`).
     * Default: `"0 2 * * *"` outside dev, off in dev.
     */
    schedule?: string;
    /** Complete backup directories kept on the PVC; older ones are removed after a successful run. Default 7. */
    retention: number;
    /** Size of the PVC `redis-backups`. Default `10Gi`. */
    storageSize: string;
    /** Storage class of the PVC `redis-backups`. Default: the cluster's default class. */
    storageClass?: string;
}

interface RedisBackupInput extends Omit<RedisBackupSettings, "schedule"> {
    schedule: string;
}

interface RedisInput extends Omit<RedisSettings, "resources" | "backup"> {
    resources: Partial<ResourcesInput>;
    backup: Partial<RedisBackupInput>;
}

/** Value range of each of the five cron fields: minute, hour, day of month, month, day of week (0 and 7 are Sunday). */
const CRON_FIELDS: [string, number, number][] = [["minute", 0, 59], ["hour", 0, 23], ["day of month", 1, 31], ["month", 1, 12], ["day of week", 0, 7]];

/** Why a cron expression is not five numeric fields of `*`, `n`, `n-m`, each optionally `/step`, comma-separated; undefined when it is. */
export function cronProblem(expression: string): string | undefined {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) {
        return `a cron schedule has 5 fields (minute hour day-of-month month day-of-week), this one has ${fields.length}`;
    }
    for (const [i, field] of fields.entries()) {
        const [name, min, max] = CRON_FIELDS[i];
        for (const item of field.split(",")) {
            const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
            const numbers = match ? [match[2], match[3]].filter((n) => n !== undefined).map(Number) : [];
            if (!match || numbers.some((n) => n < min || n > max) || (numbers.length === 2 && numbers[0] > numbers[1]) || match[4] === "0") {
                return `the ${name} field "${field}" must be *, a number or a range within ${min}-${max}, each optionally /step (step >= 1), comma-separated`;
            }
        }
    }
    return undefined;
}

const backupReader = object<RedisBackupInput>({
    schedule: string(),
    retention: integer(1, 1000),
    storageSize: quantity,
    storageClass: string(),
});

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
    hostAccess: boolean,
    nodePort: integer(NODE_PORT_MIN, NODE_PORT_MAX),
    placement: oneOf("preferred", "required"),
    backup: backupReader,
});

/** Share of the container memory limit `maxmemory` may take; the rest covers client buffers and fork copy-on-write. */
const MAXMEMORY_SHARE_OF_LIMIT = 0.8;

/** Bytes in a redis.conf memory size: `kb`/`mb`/`gb` are powers of 1024, a bare number is bytes. */
export function redisMemoryBytes(text: string): number {
    const match = /^([0-9]+)(b|kb|mb|gb)?$/i.exec(text);
    if (!match) {
        return NaN;
    }
    const factor: Record<string, number> = { b: 1, kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30 };
    return Number(match[1]) * factor[(match[2] ?? "b").toLowerCase()];
}

export function readRedis(raw: unknown, ctx: SettingsContext, problems: Problems): RedisSettings {
    const given = reader("bss:redis", raw, problems) ?? {};
    const dev = ctx.environment === "dev";
    const masters = given.masters ?? (dev ? 1 : 3);
    if (masters === 2) {
        problems.push(`bss:redis.masters must be 1 or at least 3 (a Redis Cluster needs a majority of 3 masters to agree on a failover; 2 cannot), got 2`);
    }
    const replicasPerMaster = given.replicasPerMaster ?? (dev ? 0 : 1);
    if (masters === 1 && replicasPerMaster > 0) {
        problems.push(`bss:redis.replicasPerMaster must be 0 when bss:redis.masters is 1 (a replica of a lone master is never promoted: a failover needs the votes of a majority of at least 3 masters), got ${replicasPerMaster}`);
    }
    const resources = mergeResources(
        { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        given.resources,
    );
    const maxmemory = given.maxmemory ?? "192mb";
    const memoryLimit = quantityToBytes(resources.limits.memory);
    if (redisMemoryBytes(maxmemory) > memoryLimit * MAXMEMORY_SHARE_OF_LIMIT) {
        problems.push(`bss:redis.maxmemory must leave room below bss:redis.resources.limits.memory (${resources.limits.memory}) for buffers, forks and the AOF rewrite: at most ${Math.floor(memoryLimit * MAXMEMORY_SHARE_OF_LIMIT / 2 ** 20)}mb, got "${maxmemory}"`);
    }
    const backup = given.backup ?? {};
    const schedule = backup.schedule ?? (dev ? "off" : "0 2 * * *");
    const scheduleProblem = schedule === "off" ? undefined : cronProblem(schedule);
    if (scheduleProblem) {
        problems.push(`bss:redis.backup.schedule must be "off" or a cron schedule: ${scheduleProblem}, got ${JSON.stringify(schedule)}`);
    }
    return {
        masters,
        replicasPerMaster,
        image: given.image ?? "redis:7.2.16",
        exporterImage: given.exporterImage ?? "oliver006/redis_exporter:v1.91.1",
        storageSize: given.storageSize ?? "2Gi",
        storageClass: given.storageClass,
        resources,
        maxmemory,
        maxmemoryPolicy: given.maxmemoryPolicy ?? "allkeys-lru",
        clusterNodeTimeoutMs: given.clusterNodeTimeoutMs ?? 5000,
        hostAccess: given.hostAccess ?? dev,
        nodePort: given.nodePort ?? 30700,
        placement: given.placement ?? (dev ? "preferred" : "required"),
        backup: {
            schedule: schedule === "off" ? undefined : schedule,
            retention: backup.retention ?? 7,
            storageSize: backup.storageSize ?? "10Gi",
            storageClass: backup.storageClass,
        },
    };
}

export function redisNodePorts(redis: RedisSettings): NodePortClaim[] {
    return redis.hostAccess ? [{ key: "bss:redis.nodePort", port: redis.nodePort }] : [];
}
