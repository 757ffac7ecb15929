import { balancedAssignment, drainPlan, PartitionState, reassignmentJson, replicasPerBroker } from "../../components/kafka/rebalance/assignment";
import { loadSettings } from "../../settings";
import { stackFile } from "../helpers/render";

const devTopics = () => loadSettings(stackFile("dev").values, "dev").topics;

describe("balancedAssignment", () => {
    it("spreads the dev stack's declared topics over five brokers: every replica set distinct, counts at most one apart", () => {
        const layout = balancedAssignment(devTopics(), [0, 1, 2, 3, 4]);
        expect(layout).toHaveLength(devTopics().reduce((n, t) => n + t.partitions, 0));
        for (const placement of layout) {
            expect(new Set(placement.replicas).size).toBe(placement.replicas.length);
            expect(placement.replicas).toHaveLength(devTopics().find((t) => t.name === placement.topic)!.replicationFactor);
        }
        const counts = Object.values(replicasPerBroker(layout, [0, 1, 2, 3, 4]));
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        const leaders = [0, 1, 2, 3, 4].map((id) => layout.filter((p) => p.replicas[0] === id).length);
        expect(Math.max(...leaders) - Math.min(...leaders)).toBeLessThanOrEqual(1);
    });

    it("puts a topic with at least n/RF partitions on all n brokers, its leaders on distinct brokers", () => {
        const layout = balancedAssignment([{ name: "b", partitions: 2, replicationFactor: 3 }, { name: "a", partitions: 3, replicationFactor: 3 }], [0, 1, 2, 3, 4]);
        expect(layout.map((p) => `${p.topic}-${p.partition}`)).toEqual(["a-0", "a-1", "a-2", "b-0", "b-1"]);
        for (const topic of ["a", "b"]) {
            const partitions = layout.filter((p) => p.topic === topic);
            expect(new Set(partitions.flatMap((p) => p.replicas))).toEqual(new Set([0, 1, 2, 3, 4]));
            expect(new Set(partitions.map((p) => p.replicas[0])).size).toBe(partitions.length);
        }
    });

    it("is the same layout whatever order the topics and brokers come in (a second Job run moves nothing)", () => {
        const topics = devTopics();
        expect(balancedAssignment([...topics].reverse(), [4, 3, 2, 1, 0])).toEqual(balancedAssignment(topics, [0, 1, 2, 3, 4]));
    });

    it("refuses a topic with more replicas than brokers, naming it", () => {
        expect(() => balancedAssignment([{ name: "wide", partitions: 1, replicationFactor: 4 }], [0, 1, 2])).toThrow("cannot place wide (RF 4) on 3 broker(s) 0,1,2");
    });

    it("writes kafka-reassign-partitions' JSON", () => {
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

describe("balancedAssignment across cluster sizes", () => {
    it.each([3, 4, 5, 6, 7])("puts each dev topic on min(n, partitions x RF) brokers and keeps leaders and replicas even on %i brokers", (n) => {
        const brokers = [...Array(n).keys()];
        const layout = balancedAssignment(devTopics(), brokers);
        for (const topic of devTopics()) {
            const used = new Set(layout.filter((p) => p.topic === topic.name).flatMap((p) => p.replicas));
            expect([topic.name, used.size]).toEqual([topic.name, Math.min(n, topic.partitions * topic.replicationFactor)]);
        }
        const counts = Object.values(replicasPerBroker(layout, brokers));
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        const leaders = brokers.map((id) => layout.filter((p) => p.replicas[0] === id).length);
        expect(Math.max(...leaders) - Math.min(...leaders)).toBeLessThanOrEqual(1);
    });
});
