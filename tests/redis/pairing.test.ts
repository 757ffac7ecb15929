/**
 * components/redis/pairing.awk, the bootstrap's choice of masters and of each replica's master, run with the
 * system awk (mawk, as in the image) over every placement of small shapes, checked against a brute-force search.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "../helpers/render";

const SCRIPT = path.join(ROOT, "components", "redis", "pairing.awk");

interface Pairing {
    masters: number[];
    replicas: [number, number][];
    shared: number;
}

/** Roles a member of a running cluster already has: `master`, or the pod index of the master it replicates. */
type Kept = Record<number, "master" | number>;

function pairing(nodes: string[], masters: number, replicas: number, kept: Kept = {}): Pairing {
    const role = (i: number) => kept[i] === undefined ? "" : kept[i] === "master" ? " master" : ` replica ${kept[i]}`;
    const result = spawnSync("awk", ["-v", `masters=${masters}`, "-v", `replicas=${replicas}`, "-f", SCRIPT],
        { input: nodes.map((node, i) => `${i} ${node}${role(i)}\n`).join(""), encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n").map((l) => l.split(" "));
    return {
        masters: lines.filter((l) => l[0] === "master").map((l) => Number(l[1])),
        replicas: lines.filter((l) => l[0] === "replica").map((l) => [Number(l[1]), Number(l[2])]),
        shared: Number(lines.find((l) => l[0] === "shared")![1]),
    };
}

/** Every pod used once; each master gets exactly `replicas` replicas; `shared` counts replicas on their master's node. */
function expectWellFormed(p: Pairing, nodes: string[], replicas: number): void {
    const used = [...p.masters, ...p.replicas.map(([pod]) => pod)].sort((a, b) => a - b);
    expect(used).toEqual(nodes.map((_, i) => i));
    for (const master of p.masters) {
        expect(p.replicas.filter(([, m]) => m === master)).toHaveLength(replicas);
    }
    expect(p.shared).toBe(p.replicas.filter(([pod, master]) => nodes[pod] === nodes[master]).length);
}

/** Whether any choice of masters and replicas (around the roles `kept`) keeps every replica off its master's node. */
function separable(nodes: string[], masters: number, replicas: number, kept: Kept = {}): boolean {
    const keptMasters = Object.keys(kept).map(Number).filter((i) => kept[i] === "master");
    const keptReplicas = Object.keys(kept).map(Number).filter((i) => kept[i] !== "master");
    if (keptReplicas.some((i) => nodes[i] === nodes[kept[i] as number])) {
        return false;
    }
    const pods = nodes.map((_, i) => i).filter((i) => kept[i] === undefined);
    const choose = (from: number[], k: number): number[][] => k === 0 ? [[]] : from.length < k ? [] :
        [...choose(from.slice(1), k - 1).map((c) => [from[0], ...c]), ...choose(from.slice(1), k)];
    for (const added of choose(pods, masters - keptMasters.length)) {
        const chosen = [...keptMasters, ...added];
        const rest = pods.filter((p) => !chosen.includes(p));
        const need = chosen.map((m) => replicas - keptReplicas.filter((r) => kept[r] === m).length);
        const fill = (i: number): boolean => {
            if (i === rest.length) {
                return true;
            }
            for (let m = 0; m < chosen.length; m++) {
                if (need[m] > 0 && nodes[chosen[m]] !== nodes[rest[i]]) {
                    need[m]--;
                    if (fill(i + 1)) {
                        return true;
                    }
                    need[m]++;
                }
            }
            return false;
        };
        if (fill(0)) {
            return true;
        }
    }
    return false;
}

/** Every assignment of `pods` pods to the nodes named. */
function placements(pods: number, nodeNames: string[]): string[][] {
    if (pods === 0) {
        return [[]];
    }
    return placements(pods - 1, nodeNames).flatMap((p) => nodeNames.map((n) => [...p, n]));
}

describe("pairing.awk", () => {
    it("prod on three nodes, two pods each: one master per node and no replica on its master's node", () => {
        const nodes = ["node-a", "node-b", "node-c", "node-a", "node-b", "node-c"];
        const p = pairing(nodes, 3, 1);
        expectWellFormed(p, nodes, 1);
        expect(new Set(p.masters.map((m) => nodes[m])).size).toBe(3);
        expect(p.shared).toBe(0);
    });

    it.each([
        ["3 masters x 1 replica on 3 nodes", 3, 1, ["a", "b", "c"]],
        ["3 masters x 1 replica on 2 nodes", 3, 1, ["a", "b"]],
    ])("%s: never shares a node between a replica and its master where some pairing avoids it (every placement)", (_name, masters, replicas, nodeNames) => {
        let checked = 0;
        for (const nodes of placements(masters * (1 + replicas), nodeNames)) {
            const p = pairing(nodes, masters, replicas);
            expectWellFormed(p, nodes, replicas);
            if (separable(nodes, masters, replicas)) {
                expect({ nodes, shared: p.shared }).toEqual({ nodes, shared: 0 });
                checked++;
            } else {
                expect(p.shared).toBeGreaterThan(0);
            }
        }
        expect(checked).toBeGreaterThan(0);
    });

    it.each([
        ["3 masters x 2 replicas, three per node", 3, 2, ["a", "b", "c", "a", "b", "c", "a", "b", "c"]],
        ["4 masters x 1 replica on 3 nodes (3, 3, 2)", 4, 1, ["a", "b", "c", "a", "b", "c", "a", "b"]],
        ["5 masters x 1 replica on 3 nodes (4, 3, 3)", 5, 1, ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"]],
    ])("%s: every replica off its master's node, masters spread as evenly as the nodes allow", (_name, masters, replicas, nodes) => {
        const p = pairing(nodes, masters, replicas);
        expectWellFormed(p, nodes, replicas);
        expect(p.shared).toBe(0);
        const perNode = new Map<string, number>();
        p.masters.forEach((m) => perNode.set(nodes[m], (perNode.get(nodes[m]) ?? 0) + 1));
        expect(Math.max(...perNode.values()) - Math.min(...perNode.values())).toBeLessThanOrEqual(1);
        expect(perNode.size).toBe(Math.min(masters, new Set(nodes).size));
        if (replicas > 1) {
            // With three nodes and two replicas, each shard has one member per node.
            for (const master of p.masters) {
                const shard = [master, ...p.replicas.filter(([, m]) => m === master).map(([pod]) => pod)];
                expect(new Set(shard.map((pod) => nodes[pod])).size).toBe(3);
            }
        }
    });

    it("on a single node reports every replica as sharing its master's node", () => {
        const nodes = Array(6).fill("only");
        const p = pairing(nodes, 3, 1);
        expectWellFormed(p, nodes, 1);
        expect(p.shared).toBe(3);
    });

    /** The prod formation on three nodes, two pods each (pod i on node "abc"[i % 3]): masters 0-2, replica 3 of 1, 4 of 2, 5 of 0. */
    const FORMED: Kept = { 0: "master", 1: "master", 2: "master", 3: 1, 4: 2, 5: 0 };
    const FORMED_NODES = ["a", "b", "c", "a", "b", "c"];

    it.each([
        ["3 -> 4 masters x 1 replica (two new pods)", 4, 1, FORMED],
        ["3 masters x 1 -> 2 replicas (three new pods)", 3, 2, FORMED],
        ["a formation stopped after the masters (replicas never joined)", 3, 1, { 0: "master", 1: "master", 2: "master" } as Kept],
    ])("%s: keeps every member's role and places the new pods off their masters' nodes where possible (every placement)", (_name, masters, replicas, kept) => {
        const newPods = masters * (1 + replicas) - FORMED_NODES.length;
        const base = newPods >= 0 ? FORMED_NODES : FORMED_NODES.slice(0, 3);
        const placed = newPods >= 0 ? placements(newPods, ["a", "b", "c"]).map((p) => [...base, ...p])
            : placements(3, ["a", "b", "c"]).map((p) => [...base, ...p]);
        let checked = 0;
        for (const nodes of placed) {
            const p = pairing(nodes, masters, replicas, kept);
            expectWellFormed(p, nodes, replicas);
            for (const [pod, role] of Object.entries(kept)) {
                expect(role === "master" ? p.masters : p.replicas.find(([r]) => r === Number(pod))?.[1]).toEqual(role === "master" ? expect.arrayContaining([Number(pod)]) : role);
            }
            expect(p.masters.slice(0, Object.values(kept).filter((r) => r === "master").length)).toEqual(Object.keys(kept).map(Number).filter((i) => kept[i] === "master"));
            if (separable(nodes, masters, replicas, kept)) {
                expect({ nodes, shared: p.shared }).toEqual({ nodes, shared: 0 });
                checked++;
            } else {
                expect(p.shared).toBeGreaterThan(0);
            }
        }
        expect(checked).toBeGreaterThan(0);
    });

    it.each([
        ["more masters than wanted", { 0: "master", 1: "master", 2: "master", 3: "master", 4: 0, 5: 1 } as Kept, 3, 1, FORMED_NODES, /4 masters exist, more than the 3 wanted: fewer masters need a drain first/],
        ["more replicas than wanted", { 0: "master", 1: "master", 2: "master", 3: 0, 4: 0, 5: 1 } as Kept, 3, 1, FORMED_NODES, /master 0 has more than the 1 replica\(s\) wanted/],
        ["a replica of no listed master", { 0: "master", 1: "master", 2: "master", 3: 7 } as Kept, 3, 1, FORMED_NODES, /pod 3 replicates 7, which is not a master listed/],
    ])("refuses %s", (_name, kept, masters, replicas, nodes, message) => {
        const role = (i: number) => kept[i] === undefined ? "" : kept[i] === "master" ? " master" : ` replica ${kept[i]}`;
        const result = spawnSync("awk", ["-v", `masters=${masters}`, "-v", `replicas=${replicas}`, "-f", SCRIPT],
            { input: nodes.map((node, i) => `${i} ${node}${role(i)}\n`).join(""), encoding: "utf8" });
        expect(result.status).toBe(2);
        expect(result.stderr).toMatch(message);
    });

    it("refuses a pod list that does not match the shape", () => {
        const result = spawnSync("awk", ["-v", "masters=3", "-v", "replicas=1", "-f", SCRIPT], { input: "0 a\n1 b\n", encoding: "utf8" });
        expect(result.status).toBe(2);
        expect(result.stderr).toMatch(/2 pods listed, 3 masters x \(1 \+ 1 replicas\) need 6/);
    });
});
