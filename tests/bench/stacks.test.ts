/**
 * The committed stacks against the budgets, from the same in-process render `npm run render` uses: the dev
 * stack on a laptop's kind node, prod on three nodes. About the render, not a benchmark: no timings.
 */
import { budgetFor, checkBudget, LAPTOP_KIND_NODE, StackFootprint, stackFootprint, THREE_NODES } from "../../bench/sections/footprint";
import { renderIsolated } from "../helpers/render";

let dev: StackFootprint;
let prod: StackFootprint;

beforeAll(async () => {
    const devRender = await renderIsolated("dev");
    dev = stackFootprint(devRender.manifests, devRender.helmReleases);
    const prodRender = await renderIsolated("prod");
    prod = stackFootprint(prodRender.manifests, prodRender.helmReleases);
}, 120_000);

describe("footprint of the committed stacks", () => {
    it("counts every long-running component of both stacks, Kong from its chart values, and no chart goes uncounted", () => {
        for (const footprint of [dev, prod]) {
            expect(footprint.components.map((c) => c.component)).toEqual(expect.arrayContaining(["Kafka", "Redis", "AKHQ", "Kong", "Kafka exporter"]));
            expect(footprint.unmodelledCharts).toEqual([]);
            expect(footprint.workloads.every((w) => w.containersWithoutLimits.length === 0)).toBe(true);
        }
        expect(prod.components.find((c) => c.component === "Kong")!.pods).toBe(2);
    });

    it("dev's requests, every Job included, fit a laptop kind node's 2 CPUs and 4 GiB on one node", () => {
        expect(budgetFor("dev")).toBe(LAPTOP_KIND_NODE);
        expect(dev.nodesNeeded).toBe(1);
        expect(dev.peak.cpuRequestsMillis).toBeLessThanOrEqual(LAPTOP_KIND_NODE.nodeCpuMillis);
        expect(dev.peak.memoryRequestsMiB).toBeLessThanOrEqual(LAPTOP_KIND_NODE.nodeMemoryMiB);
        expect(checkBudget(dev, LAPTOP_KIND_NODE).problems).toEqual([]);
    });

    it("prod fits three nodes: its placement rules need at most three, and a placement that keeps them fits each node", () => {
        expect(budgetFor("prod")).toBe(THREE_NODES);
        expect(prod.nodesNeeded).toBeLessThanOrEqual(3);
        const check = checkBudget(prod, THREE_NODES);
        expect(check.problems).toEqual([]);
        expect(check.nodeLoads.reduce((n, l) => n + l.pods.length, 0)).toBe(prod.workloads.reduce((n, w) => n + w.replicas, 0));
    });
});
