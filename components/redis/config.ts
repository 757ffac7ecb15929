/**
 * redis.conf for every node of the cluster, rendered from the settings. It holds no secret and no address:
 * the start script adds the password and the pod's current IP in a runtime include (see start.sh).
 */
import { RedisSettings } from "../../settings/redis";

/** Client port, as in the original compose file. */
export const CLIENT_PORT = 7000;
/** Cluster bus port (`cluster-port`); Redis' default would be 17000. */
export const BUS_PORT = 7001;
/** redis_exporter's default listen port. */
export const METRICS_PORT = 9121;

/** Where each volume is mounted in the Redis container. */
export const PATHS = {
    /** ConfigMap with redis.conf (read-only). */
    configDir: "/usr/local/etc/redis",
    /** ConfigMap with the shell scripts (executable). */
    scriptsDir: "/opt/redis-cluster",
    /** emptyDir for the runtime include that carries the password and the announced IP. */
    runtimeDir: "/run/redis",
    /** PVC: AOF directory, RDB snapshot and nodes.conf. */
    dataDir: "/data",
} as const;

export const CONFIG_FILE = "redis.conf";
export const NODES_FILE = "nodes.conf";
/** Beside redis.conf: the stable DNS name of every node, one a line (start.sh re-meets them after a restart). */
export const PEERS_FILE = "peers";

/**
 * RDB snapshot points (seconds, changed keys): the Redis 7 defaults. They bound how much an AOF-less
 * restore (a copied dump.rdb) would lose; the AOF is what a restart replays.
 */
export const SNAPSHOT_POINTS: [number, number][] = [[3600, 1], [300, 100], [60, 10000]];

export function renderRedisConf(settings: RedisSettings): string {
    const lines = [
        "# Rendered by the bss Pulumi program (components/redis/config.ts). The password and the announced",
        "# address are added at start by start.sh in a runtime include; nothing secret lives here.",
        "",
        "# Network: every interface of the pod, IPv4 and IPv6 if present.",
        "bind * -::*",
        `port ${CLIENT_PORT}`,
        "protected-mode yes",
        "tcp-keepalive 60",
        "",
        "# Cluster",
        "cluster-enabled yes",
        `cluster-port ${BUS_PORT}`,
        `cluster-config-file ${NODES_FILE}`,
        `cluster-node-timeout ${settings.clusterNodeTimeoutMs}`,
        "cluster-require-full-coverage yes",
        "cluster-allow-reads-when-down no",
        "cluster-replica-validity-factor 10",
        "cluster-migration-barrier 1",
        "",
        "# Persistence on the PVC: AOF fsynced every second, plus RDB snapshots.",
        `dir ${PATHS.dataDir}`,
        "appendonly yes",
        "appendfsync everysec",
        "appenddirname appendonlydir",
        "aof-use-rdb-preamble yes",
        "dbfilename dump.rdb",
        `save ${SNAPSHOT_POINTS.map(([seconds, changes]) => `${seconds} ${changes}`).join(" ")}`,
        "",
        "# Memory",
        `maxmemory ${settings.maxmemory}`,
        `maxmemory-policy ${settings.maxmemoryPolicy}`,
        "",
        "# Logs to stdout for kubectl logs.",
        "daemonize no",
        'logfile ""',
        "loglevel notice",
        "",
    ];
    return lines.join("\n");
}
