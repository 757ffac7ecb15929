import { DrainNode, drainPlan, parseClusterNodes } from "../../components/redis/drain-plan";
import { parseRedisDrainArgs } from "../../scripts/redis-drain";

/** A node: id `n<ordinal>`, on Kubernetes node `kube`, a master with `slots` or a replica of `n<master>`. */
function node(ordinal: number, kube: string, role: { slots: number } | { of: number }): DrainNode {
    return "slots" in role
        ? { id: `n${ordinal}`, address: `10.0.0.${ordinal}:7000`, ordinal, kubeNode: kube, master: true, slots: role.slots }
        : { id: `n${ordinal}`, address: `10.0.0.${ordinal}:7000`, ordinal, kubeNode: kube, master: false, masterId: `n${role.of}`, slots: 0 };
}

/** 4 masters x 1 replica as the bootstrap grows it: masters 0-2 and 6, replica 7 of 6 on another node. */
const grown = [
    node(0, "a", { slots: 4096 }), node(1, "b", { slots: 4096 }), node(2, "c", { slots: 4096 }),
    node(3, "a", { of: 1 }), node(4, "b", { of: 2 }), node(5, "c", { of: 0 }),
    node(6, "a", { slots: 4096 }), node(7, "b", { of: 6 }),
];

describe("drainPlan", () => {
    it("4 -> 3 masters as grown: empties the leaving master, keeps every pair, removes the two highest ordinals", () => {
        expect(drainPlan(grown, { masters: 3, replicasPerMaster: 1 })).toEqual({ problems: [], failovers: [], empty: ["n6"], replicate: [], remove: ["n6", "n7"] });
    });

    it("after failovers moved masters between ordinals: empties the leaving master and keeps the pairs that fit", () => {
        // Pod 7 replicated 6, then took over (6 now its replica); and pod 3, replica of 1, took over from 1.
        const nodes = [
            node(0, "a", { slots: 4096 }), node(1, "b", { of: 3 }), node(2, "c", { slots: 4096 }),
            node(3, "a", { slots: 4096 }), node(4, "b", { of: 2 }), node(5, "c", { of: 0 }),
            node(6, "a", { of: 7 }), node(7, "b", { slots: 4096 }),
        ];
        const plan = drainPlan(nodes, { masters: 3, replicasPerMaster: 1 });
        expect(plan.problems).toEqual([]);
        expect(plan.failovers).toEqual([]);
        expect(plan.empty).toEqual(["n7"]);
        expect(plan.remove).toEqual(["n6", "n7"]);
        // 3 on a replicated by 1 on b: fits; 2 on c by 4 on b; 0 on a by 5 on c.
        expect(plan.replicate).toEqual([]);
    });

    it("a leaving master with a staying replica while too few masters stay: that replica takes over (CLUSTER FAILOVER), no slot moves", () => {
        const nodes = [
            node(0, "a", { slots: 5461 }), node(1, "b", { slots: 5462 }), node(2, "c", { of: 6 }),
            node(3, "a", { of: 1 }), node(4, "b", { of: 7 }), node(5, "c", { of: 0 }),
            node(6, "a", { slots: 5461 }), node(7, "b", { slots: 0 }),
        ];
        const plan = drainPlan(nodes, { masters: 3, replicasPerMaster: 1 });
        expect(plan.problems).toEqual([]);
        expect(plan.failovers).toEqual(["n2"]);
        expect(plan.empty).toEqual([]);
        // Pod 4 followed the leaving empty master 7: it now serves 2 (on c), the master without a replica.
        expect(plan.replicate).toEqual([["n4", "n2"]]);
    });

    it("re-points a staying replica whose master leaves to the staying master left without one, on another node", () => {
        const nodes = [
            node(0, "a", { slots: 4096 }), node(1, "b", { slots: 4096 }), node(2, "c", { slots: 4096 }),
            node(3, "a", { of: 1 }), node(4, "b", { of: 6 }), node(5, "c", { of: 0 }),
            node(6, "a", { slots: 4096 }), node(7, "b", { of: 2 }),
        ];
        const plan = drainPlan(nodes, { masters: 3, replicasPerMaster: 1 });
        expect(plan.problems).toEqual([]);
        expect(plan.empty).toEqual(["n6"]);
        expect(plan.replicate).toEqual([["n4", "n2"]]);
    });

    it("refuses when a staying master could only keep a replica on its own node", () => {
        const nodes = [
            node(0, "a", { slots: 4096 }), node(1, "b", { slots: 4096 }), node(2, "c", { slots: 4096 }),
            node(3, "a", { of: 1 }), node(4, "c", { of: 6 }), node(5, "c", { of: 0 }),
            node(6, "a", { slots: 4096 }), node(7, "b", { of: 2 }),
        ];
        const plan = drainPlan(nodes, { masters: 3, replicasPerMaster: 1 });
        expect(plan.problems).toEqual([
            "node n4 (ordinal 4, on c) finds no master short of replicas on another Kubernetes node",
            "master n2 (ordinal 2, on c) would keep 0 of 1 replica(s) on other Kubernetes nodes",
        ]);
    });

    it("refuses when a pod of the staying ordinals is not in the cluster", () => {
        expect(drainPlan(grown.filter((n) => n.ordinal !== 4), { masters: 3, replicasPerMaster: 1 }).problems[0]).toBe("the cluster has 5 nodes on ordinals 0-5, the shape needs 6");
    });
});

describe("parseClusterNodes", () => {
    it("counts slots of ranges and single slots, skips importing/migrating markers, and reads each replica's master", () => {
        const text = [
            "aaa 10.0.0.1:7000@7001,node-a myself,master - 0 0 1 connected 0-5460 7000 [5461->-bbb]",
            "bbb 10.0.0.2:7000@7001,node-b master - 0 0 2 connected 5461-6999 7001-10922",
            "ccc 10.0.0.3:7000@7001,node-c slave aaa 0 0 1 connected",
        ].join("\n");
        expect(parseClusterNodes(text)).toEqual([
            { id: "aaa", address: "10.0.0.1:7000", master: true, masterId: undefined, slots: 5462 },
            { id: "bbb", address: "10.0.0.2:7000", master: true, masterId: undefined, slots: 5461 },
            { id: "ccc", address: "10.0.0.3:7000", master: false, masterId: "aaa", slots: 0 },
        ]);
    });
});

describe("parseRedisDrainArgs", () => {
    it("takes the stack, the lower masters and optionally replicas per master", () => {
        expect(parseRedisDrainArgs(["--stack", "prod", "--masters", "3"], "/repo")).toMatchObject({ stack: "prod", masters: 3, replicasPerMaster: undefined, configFile: "/repo/Pulumi.prod.yaml", timeoutSeconds: 1800 });
        expect(parseRedisDrainArgs(["--stack", "prod", "--masters", "3", "--replicas-per-master", "1"], "/repo").replicasPerMaster).toBe(1);
    });

    it("names the flag and what it got", () => {
        expect(() => parseRedisDrainArgs(["--stack", "prod"])).toThrow(/^--masters is required/);
        expect(() => parseRedisDrainArgs(["--stack", "prod", "--masters", "three"])).toThrow(/^--masters must be an integer from 1 to 100, got "three"/);
        expect(() => parseRedisDrainArgs(["--masters", "3"])).toThrow(/^--stack is required/);
    });
});
