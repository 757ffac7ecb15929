/**
 * Partition placements: the declared topics as the rebalance Job's layout script reads them (the layout itself is
 * components/kafka/rebalance/layout.awk, run by the Job, which alone knows the brokers' racks and the current
 * assignment), and the moves `npm run kafka:drain` makes to empty brokers before a scale-in, in what
 * kafka-reassign-partitions reads (`{"version":1,"partitions":[...]}`).
 */

/** What the placement needs to know of a declared topic. */
export interface TopicShape {
    name: string;
    partitions: number;
    replicationFactor: number;
}

export interface PartitionPlacement {
    topic: string;
    partition: number;
    /** Broker ids; the first is the preferred leader. */
    replicas: number[];
}

/** A partition as the cluster describes it. */
export interface PartitionState extends PartitionPlacement {
    /** -1 when the partition has no leader. */
    leader: number;
    isr: number[];
}

/** kafka-reassign-partitions' `--reassignment-json-file` content. */
export function reassignmentJson(placements: readonly PartitionPlacement[]): string {
    return JSON.stringify({ version: 1, partitions: placements.map(({ topic, partition, replicas }) => ({ topic, partition, replicas })) });
}

/** The declared topics as the rebalance Job's layout.awk reads them: `topic NAME PARTITIONS RF`, one a line. */
export function layoutTopics(topics: readonly TopicShape[]): string {
    return topics.map((t) => `topic ${t.name} ${t.partitions} ${t.replicationFactor}\n`).join("");
}

/**
 * Replicas of the declared topics per broker id (0..brokers-1) when spread evenly, the extra ones on the lowest ids:
 * what the Job's layout gives without racks, up to which brokers get one more. With racks of unequal size it differs
 * (a broker alone in its zone holds a replica of every partition of RF >= the zone count); only the Job knows the racks.
 */
export function evenReplicaShare(topics: readonly TopicShape[], brokers: number): Record<string, number> {
    const total = topics.reduce((n, t) => n + t.partitions * t.replicationFactor, 0);
    return Object.fromEntries([...Array(brokers).keys()].map((id) => [String(id), Math.floor(total / brokers) + (id < total % brokers ? 1 : 0)]));
}

export interface DrainPlan {
    /** Only the partitions that change: each replica on a drained broker replaced in place by a remaining one. */
    moves: PartitionPlacement[];
    /** Why the drain must not run (empty when it may). */
    problems: string[];
}

/**
 * Moves every replica off `drained` onto `remaining`, keeping each partition's other replicas where they are and
 * its replica order (so leadership stays with a remaining preferred leader). Each replacement goes to the remaining
 * broker with the fewest replicas (then the lowest id) that does not hold the partition yet.
 * Refused for a partition whose in-sync copies are all on drained brokers (the drain would rest on copying the
 * last in-sync copy away from a broker about to go), one without a leader (nothing can copy it), and one with more
 * replicas than there are remaining brokers.
 */
export function drainPlan(current: readonly PartitionState[], drained: readonly number[], remaining: readonly number[]): DrainPlan {
    const gone = new Set(drained);
    const keep = [...new Set(remaining)].filter((id) => !gone.has(id)).sort((a, b) => a - b);
    const problems: string[] = [];
    const load = new Map(keep.map((id) => [id, 0]));
    for (const partition of current) {
        for (const id of partition.replicas) {
            if (load.has(id)) {
                load.set(id, load.get(id)! + 1);
            }
        }
    }
    const moves: PartitionPlacement[] = [];
    for (const partition of current) {
        if (!partition.replicas.some((id) => gone.has(id))) {
            continue;
        }
        const name = `${partition.topic}-${partition.partition}`;
        if (partition.leader < 0) {
            problems.push(`${name} has no leader (replicas ${partition.replicas.join(",")}, in sync ${partition.isr.join(",") || "none"}): nothing can copy it off brokers ${[...gone].join(",")}`);
            continue;
        }
        if (!partition.isr.some((id) => !gone.has(id))) {
            problems.push(`${name} is in sync only on brokers ${partition.isr.join(",")}, which are to be drained: draining would remove its last in-sync copy; wait until its other replicas (${partition.replicas.filter((id) => !gone.has(id)).join(",") || "none"}) are back in sync`);
            continue;
        }
        if (partition.replicas.length > keep.length) {
            problems.push(`${name} has ${partition.replicas.length} replicas but only ${keep.length} broker(s) would remain (${keep.join(",")})`);
            continue;
        }
        const replicas = [...partition.replicas];
        for (let i = 0; i < replicas.length; i++) {
            if (!gone.has(replicas[i])) {
                continue;
            }
            const target = keep.filter((id) => !replicas.includes(id)).sort((a, b) => load.get(a)! - load.get(b)! || a - b)[0];
            load.set(target, load.get(target)! + 1);
            replicas[i] = target;
        }
        moves.push({ topic: partition.topic, partition: partition.partition, replicas });
    }
    return { moves, problems };
}
