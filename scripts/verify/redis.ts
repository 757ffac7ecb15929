/**
 * Redis checks, all from one connection to one node (no cluster client: its MOVED redirects would point at pod
 * addresses a machine outside the cluster cannot reach): cluster_state, slot coverage, the declared masters and
 * replicas, and that no master shares a Kubernetes node with one of its own replicas.
 */
import Redis from "ioredis";
import { isUnreachable, messageOf, withTimeout } from "./bounded";
import { CheckResult, Status } from "./report";

export const SLOT_COUNT = 16384;

export interface RedisExpectation {
    masters: number;
    replicasPerMaster: number;
}

export interface ClusterNode {
    id: string;
    /** The announced address, `ip:port` (the pod IP: start.sh announces it). */
    address: string;
    flags: string[];
    /** `-` for a master. */
    masterId: string;
    linkState: string;
    slots: string[];
}

/** Where each pod runs, keyed by pod IP (from `kubectl get pods`), or why that is unknown. */
export type Placement = Map<string, { pod: string; node: string }> | { unknown: string };

export interface RedisObservation {
    /** Where the node answered from, for the details. */
    address: string;
    info?: Record<string, string>;
    nodes?: ClusterNode[];
    error?: { message: string; unreachable: boolean };
    placement: Placement;
}

export const REDIS_CHECKS = {
    state: "cluster state",
    slots: "slots covered",
    shape: "masters and replicas",
    placement: "replica placement",
} as const;

/** `CLUSTER NODES` lines: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`. */
export function parseClusterNodes(text: string): ClusterNode[] {
    return text.trim().split("\n").filter((l) => l.trim()).map((line) => {
        const fields = line.trim().split(" ");
        return { id: fields[0], address: fields[1].split("@")[0], flags: fields[2].split(","), masterId: fields[3], linkState: fields[7], slots: fields.slice(8) };
    });
}

export function parseInfo(text: string): Record<string, string> {
    return Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
}

const row = (check: string, status: Status, detail: string): CheckResult => ({ area: "redis", check, status, detail });

const isMaster = (n: ClusterNode) => n.flags.includes("master");
const isReplica = (n: ClusterNode) => n.flags.includes("slave");
const failing = (n: ClusterNode) => n.flags.some((f) => f === "fail" || f === "fail?" || f === "handshake" || f === "noaddr");
const ipOf = (address: string) => address.slice(0, address.lastIndexOf(":"));

function placementRow(nodes: ClusterNode[], placement: Placement, expected: RedisExpectation): CheckResult {
    if (expected.replicasPerMaster === 0) {
        return row(REDIS_CHECKS.placement, "ok", "no replicas declared: nothing can share a node with its master");
    }
    if (!(placement instanceof Map)) {
        return row(REDIS_CHECKS.placement, "skipped", `placement not checked: ${placement.unknown}`);
    }
    const where = (n: ClusterNode) => placement.get(ipOf(n.address));
    const unknown = nodes.filter((n) => where(n) === undefined);
    if (unknown.length > 0) {
        return row(REDIS_CHECKS.placement, "skipped", `placement not checked: no pod in the namespace has the address of ${unknown.map((n) => n.address).join(", ")}`);
    }
    const shared: string[] = [];
    for (const master of nodes.filter(isMaster)) {
        for (const replica of nodes.filter((n) => n.masterId === master.id)) {
            if (where(replica)!.node === where(master)!.node) {
                shared.push(`master ${where(master)!.pod} and its replica ${where(replica)!.pod} both on node ${where(master)!.node}`);
            }
        }
    }
    if (shared.length > 0) {
        return row(REDIS_CHECKS.placement, "fail", `${shared.join("; ")}: losing that node loses the shard`);
    }
    const nodeNames = new Set(nodes.map((n) => where(n)!.node));
    return row(REDIS_CHECKS.placement, "ok", `every master on another Kubernetes node than its replicas (${nodes.length} pods on ${nodeNames.size} nodes)`);
}

/** The rows for one observation against the declared shape. Pure. */
export function evaluateRedis(expected: RedisExpectation, observed: RedisObservation): CheckResult[] {
    if (observed.error || !observed.info || !observed.nodes) {
        const error = observed.error ?? { message: "no answer", unreachable: true };
        const status: Status = error.unreachable ? "unreachable" : "fail";
        return Object.values(REDIS_CHECKS).map((check) => row(check, status, `${observed.address}: ${error.message}`));
    }
    const { info, nodes } = observed;
    const rows: CheckResult[] = [];

    rows.push(info.cluster_state === "ok"
        ? row(REDIS_CHECKS.state, "ok", `cluster_state:ok (asked ${observed.address})`)
        : row(REDIS_CHECKS.state, "fail", `cluster_state:${info.cluster_state ?? "(missing)"} (asked ${observed.address})`));

    const assigned = Number(info.cluster_slots_assigned);
    const healthy = Number(info.cluster_slots_ok);
    rows.push(assigned === SLOT_COUNT && healthy === SLOT_COUNT
        ? row(REDIS_CHECKS.slots, "ok", `${SLOT_COUNT} of ${SLOT_COUNT} assigned and ok`)
        : row(REDIS_CHECKS.slots, "fail", `${assigned} of ${SLOT_COUNT} assigned, ${healthy} ok, ${info.cluster_slots_pfail ?? "?"} pfail, ${info.cluster_slots_fail ?? "?"} fail`));

    const masters = nodes.filter((n) => isMaster(n) && n.slots.length > 0);
    const emptyMasters = nodes.filter((n) => isMaster(n) && n.slots.length === 0);
    const problems: string[] = [];
    if (masters.length !== expected.masters) {
        problems.push(`${masters.length} masters with slots, declared ${expected.masters}`);
    }
    if (emptyMasters.length > 0) {
        problems.push(`${emptyMasters.length} master${emptyMasters.length === 1 ? "" : "s"} without slots (${emptyMasters.map((n) => n.address).join(", ")})`);
    }
    for (const master of masters) {
        const replicas = nodes.filter((n) => isReplica(n) && n.masterId === master.id && !failing(n));
        if (replicas.length !== expected.replicasPerMaster) {
            problems.push(`master ${master.address} has ${replicas.length} working replica${replicas.length === 1 ? "" : "s"}, declared ${expected.replicasPerMaster}`);
        }
    }
    const broken = nodes.filter((n) => failing(n) || n.linkState !== "connected");
    if (broken.length > 0) {
        problems.push(`not healthy: ${broken.map((n) => `${n.address} (${n.flags.filter((f) => f !== "myself").join(",")}, ${n.linkState})`).join(", ")}`);
    }
    const wantedNodes = expected.masters * (1 + expected.replicasPerMaster);
    if (nodes.length !== wantedNodes) {
        problems.push(`${nodes.length} nodes in the cluster, declared ${wantedNodes}`);
    }
    rows.push(problems.length === 0
        ? row(REDIS_CHECKS.shape, "ok", `${expected.masters} master${expected.masters === 1 ? "" : "s"}, ${expected.replicasPerMaster} replica${expected.replicasPerMaster === 1 ? "" : "s"} each (${nodes.length} node${nodes.length === 1 ? "" : "s"}), as declared`)
        : row(REDIS_CHECKS.shape, "fail", problems.join("; ")));

    rows.push(placementRow(nodes, observed.placement, expected));
    return rows;
}

/** Asks the node at `host:port` for CLUSTER INFO and CLUSTER NODES within `timeoutMs`. */
export async function observeRedis(host: string, port: number, password: string | undefined, timeoutMs: number, placement: Placement): Promise<RedisObservation> {
    const address = `${host}:${port}`;
    // AUTH is sent as a command of its own: given as an option, a refused password surfaces only as a closed stream.
    const redis = new Redis({
        host, port, lazyConnect: true, enableOfflineQueue: false, enableReadyCheck: false,
        connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null,
    });
    redis.on("error", () => undefined);
    try {
        const [info, nodes] = await withTimeout((async () => {
            await redis.connect();
            if (password !== undefined) {
                await redis.auth(password);
            }
            return [await redis.cluster("INFO") as string, await redis.cluster("NODES") as string];
        })(), timeoutMs, `Redis at ${address}`);
        return { address, info: parseInfo(info), nodes: parseClusterNodes(nodes), placement };
    } catch (error) {
        const message = messageOf(error);
        // A refused password is an answer (wrong credential), not an unreachable node.
        const refused = /NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message);
        return { address, error: { message: refused ? `password refused (${message})` : message, unreachable: !refused && (isUnreachable(error) || /timed? ?out|closed/i.test(message)) }, placement };
    } finally {
        redis.disconnect();
    }
}
