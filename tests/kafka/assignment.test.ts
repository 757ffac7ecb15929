/**
 * The rebalance Job's layout (components/kafka/rebalance/layout.awk, run with the system awk: mawk, as in the test
 * cluster's Kafka image) over many broker and rack shapes, checked against the rules and, on small shapes, against a
 * brute-force search of every valid layout; and the drain's plan (assignment.ts).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { drainPlan, PartitionPlacement, PartitionState, reassignmentJson, TopicShape } from "../../components/kafka/rebalance/assignment";
import { loadSettings } from "../../settings";
import { ROOT, stackFile } from "../helpers/render";
import { scratchDir } from "./script-runner";

const SCRIPT = path.join(ROOT, "components", "kafka", "rebalance", "layout.awk");
const devTopics = () => loadSettings(stackFile("dev").values, "dev").topics;

interface Broker {
    id: number;
    /** null: the broker announces no rack (`rack: null`). */
    rack: string | null;
}

interface Layout {
    placements: PartitionPlacement[];
    summary: string;
}

/** The input lines the Job hands the script: its declared topics, kafka-broker-api-versions and kafka-topics --describe output. */
function inputLines(topics: readonly TopicShape[], brokers: readonly Broker[], current: readonly PartitionPlacement[]): string[] {
    return [
        ...topics.map((t) => `topic ${t.name} ${t.partitions} ${t.replicationFactor}`),
        ...brokers.map((b) => `kafka-${b.id}.kafka-headless.bss.svc.cluster.local:9092 (id: ${b.id} rack: ${b.rack ?? "null"}) -> (`),
        ...brokers.map(() => "\tProduce(0): 0 to 11 [usable: 11],"),
        ...[...new Set(current.map((p) => p.topic))].map((t) => `Topic: ${t}\tTopicId: x\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: `),
        ...current.map((p) => `\tTopic: ${p.topic}\tPartition: ${p.partition}\tLeader: ${p.replicas[0] ?? "none"}\tReplicas: ${p.replicas.join(",")}\tIsr: ${p.replicas.join(",")}`),
    ];
}

function runLines(lines: string[]): { status: number | null; stdout: string; stderr: string; summary: string } {
    const dir = scratchDir();
    try {
        const input = path.join(dir, "input.txt");
        fs.writeFileSync(input, lines.join("\n") + "\n");
        const summary = path.join(dir, "summary");
        const result = spawnSync("awk", ["-v", `summary=${summary}`, "-f", SCRIPT, input], { encoding: "utf8" });
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "" };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function layout(topics: readonly TopicShape[], brokers: readonly Broker[], current: readonly PartitionPlacement[] = []): Layout {
    const result = runLines(inputLines(topics, brokers, current));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.version).toBe(1);
    return { placements: json.partitions, summary: result.summary.trim() };
}

const rackOf = (brokers: readonly Broker[]) => {
    const racked = brokers.every((b) => b.rack !== null);
    return (id: number) => (racked ? brokers.find((b) => b.id === id)!.rack! : "none");
};
const rackCount = (brokers: readonly Broker[]) => new Set(brokers.map((b) => rackOf(brokers)(b.id))).size;

/** Every declared partition once, with RF distinct known brokers spanning min(RF, racks) racks. */
function expectRules(placements: readonly PartitionPlacement[], topics: readonly TopicShape[], brokers: readonly Broker[]): void {
    const expected = [...topics].sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((t) => [...Array(t.partitions).keys()].map((p) => `${t.name}-${p}`));
    expect(placements.map((p) => `${p.topic}-${p.partition}`)).toEqual(expected);
    const ids = new Set(brokers.map((b) => b.id));
    const rack = rackOf(brokers);
    const racks = rackCount(brokers);
    for (const p of placements) {
        const rf = topics.find((t) => t.name === p.topic)!.replicationFactor;
        expect({ p, known: p.replicas.every((id) => ids.has(id)), distinct: new Set(p.replicas).size, racks: new Set(p.replicas.map(rack)).size })
            .toEqual({ p, known: true, distinct: rf, racks: Math.min(rf, racks) });
    }
}

const counts = (placements: readonly PartitionPlacement[], brokers: readonly Broker[], leadersOnly = false) =>
    new Map(brokers.map((b) => [b.id, placements.filter((p) => (leadersOnly ? p.replicas[0] === b.id : p.replicas.includes(b.id))).length]));
const spread = (values: Iterable<number>) => {
    const all = [...values];
    return Math.max(...all) - Math.min(...all);
};
const squares = (values: Iterable<number>) => [...values].reduce((n, v) => n + v * v, 0);

/**
 * Balance that a checker can see without the script's own search: brokers of one rack at most one apart; no single
 * replica that could go from a broker to one holding two fewer without breaking the rack rule; no preferred leader
 * that could pass to a replica leading two fewer; with racks of equal size (or none) every broker at most one apart.
 */
function expectBalanced(placements: readonly PartitionPlacement[], brokers: readonly Broker[]): void {
    const rack = rackOf(brokers);
    const load = counts(placements, brokers);
    const leaders = counts(placements, brokers, true);
    for (const r of new Set(brokers.map((b) => rack(b.id)))) {
        expect([r, spread(brokers.filter((b) => rack(b.id) === r).map((b) => load.get(b.id)!)) <= 1]).toEqual([r, true]);
    }
    const racks = rackCount(brokers);
    for (const p of placements) {
        const rf = p.replicas.length;
        for (const from of p.replicas) {
            for (const to of brokers.map((b) => b.id).filter((id) => !p.replicas.includes(id))) {
                if (load.get(from)! - load.get(to)! >= 2) {
                    const moved = p.replicas.map((id) => (id === from ? to : id));
                    expect({ p, from, to, keepsRacks: new Set(moved.map(rack)).size === Math.min(rf, racks) }).toEqual({ p, from, to, keepsRacks: false });
                }
            }
            if (leaders.get(p.replicas[0])! - leaders.get(from)! >= 2) {
                throw new Error(`${p.topic}-${p.partition}: leader ${p.replicas[0]} leads ${leaders.get(p.replicas[0])}, replica ${from} only ${leaders.get(from)}`);
            }
        }
    }
    const sizes = [...new Set(brokers.map((b) => rack(b.id)))].map((r) => brokers.filter((b) => rack(b.id) === r).length);
    if (spread(sizes) === 0) {
        expect(spread(load.values())).toBeLessThanOrEqual(1);
        expect(spread(leaders.values())).toBeLessThanOrEqual(1);
    }
}

function combinations<T>(from: readonly T[], k: number): T[][] {
    return k === 0 ? [[]] : from.length < k ? [] : [...combinations(from.slice(1), k - 1).map((c) => [from[0], ...c]), ...combinations(from.slice(1), k)];
}

/**
 * The least sum of squared replica counts of any layout keeping the rack rule: every layout, partition by partition,
 * brokers of one rack being interchangeable (each state keeps a rack's counts sorted).
 */
const bestSquares = new Map<string, number>();
function bestReplicaSquares(topics: readonly TopicShape[], brokers: readonly Broker[]): number {
    const key = JSON.stringify([topics, brokers]);
    if (bestSquares.has(key)) {
        return bestSquares.get(key)!;
    }
    const rack = rackOf(brokers);
    const racks = rackCount(brokers);
    const ids = brokers.map((b) => b.id);
    const groups = [...new Set(ids.map(rack))].map((r) => ids.map((_, i) => i).filter((i) => rack(ids[i]) === r));
    const canonical = (load: number[]) => groups.map((g) => g.map((i) => load[i]).sort((a, b) => a - b).join(",")).join("|");
    const expand = (state: string) => {
        const load: number[] = [];
        state.split("|").forEach((g, r) => g.split(",").forEach((n, j) => (load[groups[r][j]] = Number(n))));
        return load;
    };
    let states = new Set([canonical(ids.map(() => 0))]);
    for (const t of topics) {
        const choices = combinations(ids.map((_, i) => i), t.replicationFactor).filter((c) => new Set(c.map((i) => rack(ids[i]))).size === Math.min(t.replicationFactor, racks));
        for (let p = 0; p < t.partitions; p++) {
            const next = new Set<string>();
            for (const state of states) {
                const load = expand(state);
                choices.forEach((c) => next.add(canonical(load.map((n, i) => n + (c.includes(i) ? 1 : 0)))));
            }
            states = next;
        }
    }
    const best = Math.min(...[...states].map((s) => squares(expand(s))));
    bestSquares.set(key, best);
    return best;
}

/** The least sum of squared leader counts over every choice of preferred leader within the given replica sets. */
function bestLeaderSquares(placements: readonly PartitionPlacement[], brokers: readonly Broker[]): number {
    const ids = brokers.map((b) => b.id);
    let states = new Set([ids.map(() => 0).join(",")]);
    for (const p of placements) {
        const next = new Set<string>();
        for (const state of states) {
            const leaders = state.split(",").map(Number);
            for (const id of p.replicas) {
                next.add(leaders.map((n, i) => n + (ids[i] === id ? 1 : 0)).join(","));
            }
        }
        states = next;
    }
    return Math.min(...[...states].map((s) => squares(s.split(",").map(Number))));
}

/** Every way of putting n brokers (ids 0..n-1) in k racks, up to rack sizes; ids dealt round the racks or in blocks. */
function rackShapes(n: number, k: number): Broker[][] {
    const sizes = (left: number, parts: number, most: number): number[][] =>
        parts === 0 ? (left === 0 ? [[]] : []) : [...Array(Math.min(left, most)).keys()].map((i) => i + 1).reverse()
            .flatMap((first) => sizes(left - first, parts - 1, first).map((rest) => [first, ...rest]));
    // Rack names not in id order, so the script's own ordering is what counts.
    const names = ["zone-c", "zone-a", "zone-d", "zone-b"];
    return sizes(n, k, n).flatMap((shape) => {
        const blocks = shape.flatMap((size, r) => Array(size).fill(names[r]));
        const dealt: string[] = [];
        const left = [...shape];
        while (dealt.length < n) {
            left.forEach((size, r) => {
                if (size > 0) {
                    dealt.push(names[r]);
                    left[r]--;
                }
            });
        }
        const variants = [blocks, dealt].map((racks) => racks.map((rack, id) => ({ id, rack })));
        return JSON.stringify(variants[0]) === JSON.stringify(variants[1]) ? [variants[0]] : variants;
    });
}

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** An arbitrary current assignment: some partitions missing, replicas on brokers that are gone, repeated, too few or too many. */
function scrambled(topics: readonly TopicShape[], ids: number, next: () => number): PartitionPlacement[] {
    return topics.flatMap((t) => [...Array(t.partitions).keys()].filter(() => next() < 0.85).map((partition) => ({
        topic: t.name,
        partition,
        replicas: [...Array(Math.floor(next() * 5))].map(() => Math.floor(next() * (ids + 2))),
    })));
}

const moved = (before: readonly PartitionPlacement[], after: readonly PartitionPlacement[]) => after.reduce((n, p) => {
    const old = before.find((b) => b.topic === p.topic && b.partition === p.partition)?.replicas ?? [];
    return n + p.replicas.filter((id) => !old.includes(id)).length;
}, 0);

describe("layout.awk", () => {
    const small: TopicShape[][] = [
        [{ name: "a", partitions: 4, replicationFactor: 3 }],
        [{ name: "b", partitions: 2, replicationFactor: 2 }, { name: "a", partitions: 2, replicationFactor: 3 }],
        [{ name: "x", partitions: 3, replicationFactor: 1 }, { name: "y", partitions: 1, replicationFactor: 2 }],
    ];

    it.each([3, 4, 5, 6, 7])("on %i brokers in 1 to 4 racks of every size: racks spanned, as even as any layout can be (brute force), a second run a no-op", (n) => {
        const next = random(n);
        let shapes = 0;
        for (let k = 1; k <= Math.min(4, n); k++) {
            for (const brokers of rackShapes(n, k)) {
                for (const topics of small) {
                    for (const current of [[], scrambled(topics, n, next)]) {
                        const first = layout(topics, brokers, current);
                        expectRules(first.placements, topics, brokers);
                        expectBalanced(first.placements, brokers);
                        expect({ brokers, topics, squares: squares(counts(first.placements, brokers).values()) })
                            .toEqual({ brokers, topics, squares: bestReplicaSquares(topics, brokers) });
                        expect(squares(counts(first.placements, brokers, true).values())).toBe(bestLeaderSquares(first.placements, brokers));
                        expect(layout(topics, brokers, first.placements).placements).toEqual(first.placements);
                        shapes++;
                    }
                }
            }
        }
        expect(shapes).toBeGreaterThan(6 * n);
    });

    it.each([3, 4, 5, 6, 7])("spreads the dev stack's topics over %i brokers in every rack shape and from any current assignment, and a second run moves nothing", (n) => {
        const topics = devTopics();
        const next = random(100 + n);
        for (let k = 1; k <= Math.min(4, n); k++) {
            for (const brokers of rackShapes(n, k)) {
                for (const current of [[], scrambled(topics, n, next)]) {
                    const first = layout(topics, brokers, current);
                    expectRules(first.placements, topics, brokers);
                    expectBalanced(first.placements, brokers);
                    expect(layout(topics, brokers, first.placements).placements).toEqual(first.placements);
                }
            }
        }
    });

    it("without racks (brokers announce rack null) is the broker-balanced layout: each dev topic on min(n, partitions x RF) brokers, counts at most one apart", () => {
        for (const n of [3, 4, 5, 6, 7]) {
            const brokers = [...Array(n).keys()].map((id) => ({ id, rack: null }));
            const { placements, summary } = layout(devTopics(), brokers);
            expectRules(placements, devTopics(), brokers);
            for (const topic of devTopics()) {
                const used = new Set(placements.filter((p) => p.topic === topic.name).flatMap((p) => p.replicas));
                expect([n, topic.name, used.size]).toEqual([n, topic.name, Math.min(n, topic.partitions * topic.replicationFactor)]);
            }
            expect(spread(counts(placements, brokers).values())).toBeLessThanOrEqual(1);
            expect(spread(counts(placements, brokers, true).values())).toBeLessThanOrEqual(1);
            expect(summary).toMatch(new RegExp(`^33 partition\\(s\\) on ${n} broker\\(s\\), rack-unaware \\(no broker.rack on broker\\(s\\) 0,1,2`));
        }
    });

    it("ignores racks when only some brokers have one", () => {
        const brokers = [{ id: 0, rack: "zone-a" }, { id: 1, rack: "zone-a" }, { id: 2, rack: null }, { id: 3, rack: "zone-b" }];
        const { placements, summary } = layout([{ name: "a", partitions: 4, replicationFactor: 2 }], brokers);
        expect(summary).toMatch(/rack-unaware \(no broker.rack on broker\(s\) 2\)/);
        expect(spread(counts(placements, brokers).values())).toBe(0);
    });

    // The test cluster's 3 -> 5: three brokers, one per zone, then two more in two of the zones (2, 2, 1).
    it.each([["zone-a", "zone-b"], ["zone-a", "zone-c"], ["zone-b", "zone-c"], ["zone-a", "zone-a"]])(
        "from three brokers in three zones to five (brokers 3, 4 in %s, %s): every RF 3 partition in three zones, only replicas for the new brokers move, each topic on all five",
        (rack3, rack4) => {
            const topics = devTopics();
            const three = [{ id: 0, rack: "zone-b" }, { id: 1, rack: "zone-c" }, { id: 2, rack: "zone-a" }];
            const before = layout(topics, three).placements;
            const five = [...three, { id: 3, rack: rack3 }, { id: 4, rack: rack4 }];
            const after = layout(topics, five, before);
            expectRules(after.placements, topics, five);
            expectBalanced(after.placements, five);
            const load = counts(after.placements, five);
            // A zone's brokers share its replica of every partition: a lone broker holds one of each.
            const lone = five.filter((b) => five.filter((o) => o.rack === b.rack).length === 1).map((b) => b.id);
            lone.forEach((id) => expect([id, load.get(id)]).toEqual([id, 33]));
            expect(moved(before, after.placements)).toBe(load.get(3)! + load.get(4)!);
            for (const topic of topics) {
                expect([topic.name, [...new Set(after.placements.filter((p) => p.topic === topic.name).flatMap((p) => p.replicas))].sort()]).toEqual([topic.name, [0, 1, 2, 3, 4]]);
            }
            expect(after.summary).toMatch(new RegExp(`^33 partition\\(s\\) on 5 broker\\(s\\) in 3 rack\\(s\\) zone-a:.* replicas/leaders per broker 0:\\d+/\\d+ 1:.*; ${load.get(3)! + load.get(4)!} of 99 replica\\(s\\) placed anew$`));
            expect(layout(topics, five, after.placements).placements).toEqual(after.placements);
        });

    it("keeps a current layout that keeps the rules, order included, even one the script would not have chosen", () => {
        const brokers = [0, 1, 2, 3].map((id) => ({ id, rack: id % 2 ? "zone-b" : "zone-a" }));
        const current = [
            { topic: "a", partition: 0, replicas: [3, 0] },
            { topic: "a", partition: 1, replicas: [2, 1] },
            { topic: "a", partition: 2, replicas: [1, 2] },
            { topic: "a", partition: 3, replicas: [0, 3] },
        ];
        const topics = [{ name: "a", partitions: 4, replicationFactor: 2 }];
        expect(layout(topics, brokers, current).placements).toEqual(current);
        expect(layout(topics, brokers).placements).not.toEqual(current);
    });

    it("gives the same layout whatever order its input lines come in", () => {
        const topics = devTopics();
        const brokers = [0, 1, 2, 3, 4].map((id) => ({ id, rack: ["zone-a", "zone-b", "zone-c"][id % 3] }));
        const current = layout(topics, brokers.slice(0, 3)).placements;
        const lines = inputLines(topics, brokers, current);
        const next = random(7);
        const shuffled = lines.map((line) => [next(), line] as const).sort((a, b) => a[0] - b[0]).map(([, line]) => line);
        const straight = runLines(lines);
        expect(runLines(shuffled).stdout).toBe(straight.stdout);
        expect(JSON.parse(straight.stdout).partitions).toEqual(layout(topics, brokers, current).placements);
    });

    it("refuses a topic with more replicas than brokers, naming it, and input without brokers", () => {
        const wide = runLines(inputLines([{ name: "wide", partitions: 1, replicationFactor: 4 }, { name: "ok", partitions: 1, replicationFactor: 3 }], [0, 1, 2].map((id) => ({ id, rack: null })), []));
        expect([wide.status, wide.stderr]).toEqual([1, "layout: cannot place wide (RF 4) on 3 broker(s) 0,1,2\n"]);
        const none = runLines(["topic a 1 1"]);
        expect(none.status).toBe(1);
        expect(none.stderr).toMatch(/^layout: no broker in the input/);
        const bad = runLines(["topic a one 1", "x (id: 0 rack: null) -> ("]);
        expect([bad.status, bad.stderr]).toEqual([1, "layout: bad declared topic line: topic a one 1\n"]);
    });

    it("writes kafka-reassign-partitions' JSON (the drain's, through reassignmentJson, too)", () => {
        const result = runLines(inputLines([{ name: "a", partitions: 1, replicationFactor: 1 }], [{ id: 7, rack: null }], []));
        expect(result.stdout).toBe('{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[7]}]}\n');
        expect(JSON.parse(reassignmentJson([{ topic: "a", partition: 0, replicas: [2, 0, 1] }]))).toEqual({ version: 1, partitions: [{ topic: "a", partition: 0, replicas: [2, 0, 1] }] });
    });
});

describe("drainPlan", () => {
    const healthy = (topic: string, partition: number, replicas: number[]): PartitionState => ({ topic, partition, replicas, leader: replicas[0], isr: replicas });

    it("replaces each replica on a drained broker in place by the least loaded remaining one, and leaves the rest alone", () => {
        const current = [
            healthy("t", 0, [3, 0, 1]),
            healthy("t", 1, [4, 3, 2]),
            healthy("t", 2, [0, 1, 2]),
            healthy("u", 0, [1, 4, 0]),
        ];
        const plan = drainPlan(current, [3, 4], [0, 1, 2]);
        expect(plan.problems).toEqual([]);
        // Load before: 0:3, 1:3, 2:2. t-0: 3 → 2 (least loaded). t-1: 4 → 0 (0:3, 1:3 tie → lowest), 3 → 1.
        expect(plan.moves).toEqual([
            { topic: "t", partition: 0, replicas: [2, 0, 1] },
            { topic: "t", partition: 1, replicas: [0, 1, 2] },
            { topic: "u", partition: 0, replicas: [1, 2, 0] },
        ]);
        const after = current.map((p) => plan.moves.find((m) => m.topic === p.topic && m.partition === p.partition) ?? p);
        expect(after.flatMap((p) => p.replicas).filter((id) => id >= 3)).toEqual([]);
        for (const p of after) {
            expect(new Set(p.replicas).size).toBe(3);
        }
    });

    it("moves nothing when the brokers already hold nothing", () => {
        expect(drainPlan([healthy("t", 0, [0, 1, 2])], [3, 4], [0, 1, 2])).toEqual({ moves: [], problems: [] });
    });

    it("refuses when a partition's only in-sync copies are on the drained brokers", () => {
        const plan = drainPlan([{ topic: "t", partition: 5, replicas: [3, 0, 1], leader: 3, isr: [3] }], [3, 4], [0, 1, 2]);
        expect(plan.problems).toEqual(["t-5 is in sync only on brokers 3, which are to be drained: draining would remove its last in-sync copy; wait until its other replicas (0,1) are back in sync"]);
        expect(plan.moves).toEqual([]);
    });

    it("refuses a partition without a leader and one wider than the remaining brokers", () => {
        const plan = drainPlan([
            { topic: "t", partition: 0, replicas: [4, 1], leader: -1, isr: [] },
            healthy("w", 0, [0, 1, 2, 3]),
        ], [3, 4], [0, 1, 2]);
        expect(plan.problems).toEqual([
            "t-0 has no leader (replicas 4,1, in sync none): nothing can copy it off brokers 3,4",
            "w-0 has 4 replicas but only 3 broker(s) would remain (0,1,2)",
        ]);
    });
});
