/**
 * What `npm run redis:drain` (scripts/redis-drain.ts) does to a running Redis Cluster before a lower shape: pure, from
 * CLUSTER NODES and the pods' Kubernetes nodes, so every decision is unit-tested without a cluster.
 */

/** One node of CLUSTER NODES, with the StatefulSet ordinal and Kubernetes node of its pod. */
export interface DrainNode {
    id: string;
    /** `<ip>:<port>` as CLUSTER NODES lists it. */
    address: string;
    ordinal: number;
    kubeNode: string;
    master: boolean;
    /** The id of its master, for a replica. */
    masterId?: string;
    /** Slots it owns. */
    slots: number;
}

export interface DrainPlan {
    /** Why the drain must not start; nothing is done when there is any. */
    problems: string[];
    /** Replicas (staying) that take over from their leaving master with CLUSTER FAILOVER, so enough masters stay. */
    failovers: string[];
    /** Masters whose slots move to the others (`--cluster rebalance --cluster-weight <id>=0`). */
    empty: string[];
    /** `[replica, master]`: CLUSTER REPLICATE, so each staying master keeps its replicas on other Kubernetes nodes. */
    replicate: [string, string][];
    /** Nodes removed from the cluster (`--cluster del-node`): the pods the StatefulSet deletes. */
    remove: string[];
}

export interface DrainTarget {
    masters: number;
    replicasPerMaster: number;
}

/** CLUSTER NODES text into nodes with slot counts (ordinal and Kubernetes node filled in by the caller). */
export function parseClusterNodes(text: string): Omit<DrainNode, "ordinal" | "kubeNode">[] {
    return text.trim().split("\n").filter((line) => line.trim() !== "").map((line) => {
        const fields = line.trim().split(" ");
        const slots = fields.slice(8).filter((range) => !range.startsWith("[")).reduce((sum, range) => {
            const [from, to] = range.split("-").map(Number);
            return sum + (to === undefined ? 1 : to - from + 1);
        }, 0);
        const master = fields[2].split(",").includes("master");
        return { id: fields[0], address: fields[1].split("@")[0], master, masterId: master ? undefined : fields[3], slots };
    });
}

export function drainPlan(nodes: readonly DrainNode[], target: DrainTarget): DrainPlan {
    const pods = target.masters * (1 + target.replicasPerMaster);
    const problems: string[] = [];
    const model = new Map(nodes.map((n) => [n.id, { ...n }]));
    const staying = () => [...model.values()].filter((n) => n.ordinal < pods);
    const leaving = [...model.values()].filter((n) => n.ordinal >= pods);
    if (staying().length !== pods) {
        problems.push(`the cluster has ${staying().length} nodes on ordinals 0-${pods - 1}, the shape needs ${pods}`);
    }
    const failovers: string[] = [];
    const mastersStaying = () => staying().filter((n) => n.master && n.slots > 0);
    // A leaving master whose replica stays hands its slots to it in place: no slot moves for that shard.
    for (const master of leaving.filter((n) => n.master && n.slots > 0)) {
        if (mastersStaying().length >= target.masters) {
            break;
        }
        const replica = staying().find((n) => !n.master && n.masterId === master.id);
        if (replica) {
            failovers.push(replica.id);
            Object.assign(replica, { master: true, masterId: undefined, slots: master.slots });
            Object.assign(master, { master: false, masterId: replica.id, slots: 0 });
        }
    }
    if (mastersStaying().length < target.masters) {
        problems.push(`only ${mastersStaying().length} of the nodes that stay are masters with slots and no leaving master has a replica among them to take over; ${target.masters} are needed`);
    }
    // Too many masters among the nodes that stay (after failovers between them): the smallest give their slots away.
    const byFewestSlots = [...mastersStaying()].sort((a, b) => a.slots - b.slots || b.ordinal - a.ordinal);
    const demoted = byFewestSlots.slice(0, Math.max(0, byFewestSlots.length - target.masters));
    const finalMasters = mastersStaying().filter((m) => !demoted.includes(m));
    const empty = [...leaving.filter((n) => n.master && n.slots > 0), ...demoted].map((n) => n.id);

    const candidates = staying().filter((n) => !finalMasters.includes(n));
    const replicasOf = new Map(finalMasters.map((m) => [m.id, [] as DrainNode[]]));
    const nodesOfShard = (m: DrainNode) => new Set([m.kubeNode, ...replicasOf.get(m.id)!.map((r) => r.kubeNode)]);
    const unplaced: DrainNode[] = [];
    // Pairs that already fit stay as they are.
    for (const replica of candidates) {
        const master = finalMasters.find((m) => m.id === replica.masterId && !replica.master);
        if (master && master.kubeNode !== replica.kubeNode && replicasOf.get(master.id)!.length < target.replicasPerMaster) {
            replicasOf.get(master.id)!.push(replica);
        } else {
            unplaced.push(replica);
        }
    }
    const replicate: [string, string][] = [];
    for (const replica of unplaced) {
        const short = finalMasters.filter((m) => replicasOf.get(m.id)!.length < target.replicasPerMaster && m.kubeNode !== replica.kubeNode);
        const best = short.find((m) => !nodesOfShard(m).has(replica.kubeNode)) ?? short[0];
        if (!best) {
            problems.push(`node ${replica.id.slice(0, 8)} (ordinal ${replica.ordinal}, on ${replica.kubeNode}) finds no master short of replicas on another Kubernetes node`);
            continue;
        }
        replicasOf.get(best.id)!.push(replica);
        replicate.push([replica.id, best.id]);
    }
    for (const master of finalMasters) {
        if (replicasOf.get(master.id)!.length < target.replicasPerMaster) {
            problems.push(`master ${master.id.slice(0, 8)} (ordinal ${master.ordinal}, on ${master.kubeNode}) would keep ${replicasOf.get(master.id)!.length} of ${target.replicasPerMaster} replica(s) on other Kubernetes nodes`);
        }
    }
    return { problems, failovers, empty, replicate, remove: leaving.map((n) => n.id) };
}
