/**
 * Pure computation of partition placements: the balanced layout the rebalance Job applies after a scale-out, and
 * the moves `npm run kafka:drain` makes to empty brokers before a scale-in. Both produce what
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

/**
 * Every partition of `topics` spread over `brokers`, one partition at a time (topics by name): the leader is the
 * broker leading the fewest of this topic's partitions, then the fewest overall, then holding the fewest replicas;
 * each follower the broker holding the fewest of this topic's replicas, then the fewest overall. Ties go round the
 * brokers from a point that moves on with every partition. So each topic is spread as evenly as it can be (a topic
 * with at least n/RF partitions reaches all n brokers) and leaders and replicas are even across the cluster.
 * Deterministic: the same topics and brokers always give the same layout, which is what makes a second run of the
 * Job move nothing.
 */
export function balancedAssignment(topics: readonly TopicShape[], brokers: readonly number[]): PartitionPlacement[] {
    const ids = [...new Set(brokers)].sort((a, b) => a - b);
    const tooWide = topics.filter((t) => t.replicationFactor > ids.length);
    if (tooWide.length > 0) {
        throw new Error(`cannot place ${tooWide.map((t) => `${t.name} (RF ${t.replicationFactor})`).join(", ")} on ${ids.length} broker(s) ${ids.join(",")}`);
    }
    const leaders = ids.map(() => 0);
    const replicas = ids.map(() => 0);
    let turn = 0;
    const placements: PartitionPlacement[] = [];
    for (const topic of [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const topicLeaders = ids.map(() => 0);
        const topicReplicas = ids.map(() => 0);
        for (let partition = 0; partition < topic.partitions; partition++) {
            const rotation = (i: number) => (i - turn + ids.length) % ids.length;
            const byKeys = (keys: (i: number) => number[]) => (a: number, b: number) => {
                const ka = [...keys(a), rotation(a)];
                const kb = [...keys(b), rotation(b)];
                const differs = ka.findIndex((v, j) => v !== kb[j]);
                return differs < 0 ? 0 : ka[differs] - kb[differs];
            };
            const order = ids.map((_, i) => i);
            const leader = [...order].sort(byKeys((i) => [topicLeaders[i], leaders[i], replicas[i]]))[0];
            const followers = order.filter((i) => i !== leader).sort(byKeys((i) => [topicReplicas[i], replicas[i]])).slice(0, topic.replicationFactor - 1);
            const chosen = [leader, ...followers];
            leaders[leader]++;
            topicLeaders[leader]++;
            for (const i of chosen) {
                replicas[i]++;
                topicReplicas[i]++;
            }
            placements.push({ topic: topic.name, partition, replicas: chosen.map((i) => ids[i]) });
            turn = (turn + 1) % ids.length;
        }
    }
    return placements;
}

/** Replicas per broker id (every id of `brokers` present, 0 when it holds none). */
export function replicasPerBroker(placements: readonly PartitionPlacement[], brokers: readonly number[] = []): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(brokers.map((id) => [String(id), 0]));
    for (const placement of placements) {
        for (const id of placement.replicas) {
            counts[String(id)] = (counts[String(id)] ?? 0) + 1;
        }
    }
    return counts;
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
