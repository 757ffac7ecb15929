import { checkBudget, placementRule, placePods, podAmounts, stackFootprint } from "../../bench/sections/footprint";
import { container, SYNTHETIC_HELM_RELEASES, SYNTHETIC_MANIFESTS } from "./fixtures";

const MIB = 1 << 20;

describe("podAmounts (Kubernetes' effective pod request and limit)", () => {
    it("sums the containers when they outweigh every init container", () => {
        const pod = podAmounts({
            initContainers: [container("init", { cpu: "100m", memory: "64Mi" }, { cpu: "200m", memory: "64Mi" })],
            containers: [container("a", { cpu: "250m", memory: "256Mi" }, { cpu: "500m", memory: "256Mi" }), container("b", { cpu: "50m", memory: "32Mi" }, { cpu: "100m", memory: "64Mi" })],
        });
        expect(pod).toEqual({ cpuRequests: 300, memoryRequests: 288 * MIB, cpuLimits: 600, memoryLimits: 320 * MIB });
    });

    it("takes the largest init container per resource when it outweighs the containers' sum", () => {
        const pod = podAmounts({
            initContainers: [
                container("cpu-heavy", { cpu: "2", memory: "16Mi" }, { cpu: "2", memory: "16Mi" }),
                container("memory-heavy", { cpu: "10m", memory: "2Gi" }, { cpu: "10m", memory: "2Gi" }),
            ],
            containers: [container("main", { cpu: "500m", memory: "1Gi" }, { cpu: "1", memory: "1Gi" })],
        });
        expect(pod).toEqual({ cpuRequests: 2000, memoryRequests: 2048 * MIB, cpuLimits: 2000, memoryLimits: 2048 * MIB });
    });

    it("adds sidecars (restartPolicy Always) to the running sum and to the init containers after them", () => {
        const pod = podAmounts({
            initContainers: [
                container("sidecar", { cpu: "100m", memory: "100Mi" }, { cpu: "100m", memory: "100Mi" }, { restartPolicy: "Always" }),
                container("migrate", { cpu: "1", memory: "50Mi" }, { cpu: "1", memory: "50Mi" }),
            ],
            containers: [container("main", { cpu: "200m", memory: "200Mi" }, { cpu: "200m", memory: "200Mi" })],
        });
        expect(pod.cpuRequests).toBe(1100);
        expect(pod.memoryRequests).toBe(300 * MIB);
    });

    it("defaults a missing request to the limit, as the API server does", () => {
        expect(podAmounts({ containers: [{ name: "x", resources: { limits: { cpu: "1", memory: "1Gi" } } }] }).cpuRequests).toBe(1000);
    });
});

describe("placementRule", () => {
    const labels = { "app.kubernetes.io/name": "x" };
    const spread = (extra: Record<string, unknown>) => ({ containers: [], topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels }, ...extra }] });

    it("a required hostname anti-affinity on the workload's own pods needs a node per replica", () => {
        const rule = placementRule({ containers: [], affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: labels } }] } } }, labels, 5);
        expect(rule).toMatchObject({ kind: "required-anti-affinity", minNodes: 5 });
    });

    it("an anti-affinity against other pods or on zones does not bound this workload's nodes", () => {
        const other = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "app.kubernetes.io/name": "y" } } }] } };
        const zones = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "topology.kubernetes.io/zone", labelSelector: { matchLabels: labels } }] } };
        expect(placementRule({ containers: [], affinity: other }, labels, 3).minNodes).toBe(1);
        expect(placementRule({ containers: [], affinity: zones }, labels, 3).minNodes).toBe(1);
    });

    it("a DoNotSchedule spread without minDomains bounds nothing; with minDomains, ceil(replicas / maxSkew) up to minDomains", () => {
        expect(placementRule(spread({}), labels, 6)).toMatchObject({ kind: "topology-spread", minNodes: 1, maxSkew: 1 });
        expect(placementRule(spread({ maxSkew: 2, minDomains: 5 }), labels, 6).minNodes).toBe(3);
        expect(placementRule(spread({ maxSkew: 1, minDomains: 3 }), labels, 6).minNodes).toBe(3);
    });

    it("ScheduleAnyway spreads are preferences", () => {
        expect(placementRule(spread({ whenUnsatisfiable: "ScheduleAnyway", minDomains: 3 }), labels, 6).kind).toBe("none");
    });
});

describe("stackFootprint", () => {
    const footprint = stackFootprint(SYNTHETIC_MANIFESTS, SYNTHETIC_HELM_RELEASES);

    it("totals the long-running pods by component, Kong from its chart values", () => {
        expect(footprint.components.map((c) => [c.component, c.pods, c.cpuRequestsMillis, c.memoryRequestsMiB])).toEqual([
            ["Kafka", 3, 6000, 3072],
            ["Redis", 4, 1200, 1152],
            ["Kong", 2, 1000, 1024],
        ]);
        expect(footprint).toMatchObject({ cpuRequestsMillis: 8200, memoryRequestsMiB: 5248, cpuLimitsMillis: 10400, memoryLimitsMiB: 6400 });
    });

    it("counts Jobs apart, and all of them at once in the peak", () => {
        expect(footprint.jobs.map((j) => j.component)).toEqual(["Kafka rebalance"]);
        expect(footprint.jobsTotal).toMatchObject({ cpuRequestsMillis: 100, memoryRequestsMiB: 128 });
        expect(footprint.peak).toMatchObject({ cpuRequestsMillis: 8300, memoryRequestsMiB: 5376 });
    });

    it("needs as many nodes as the largest hard anti-affinity workload, and names it", () => {
        expect(footprint.nodesNeeded).toBe(3);
        expect(footprint.nodesNeededBy.map((n) => n.workload)).toEqual(["StatefulSet/kafka"]);
    });

    it("lists charts it cannot derive pods for instead of counting them as nothing", () => {
        expect(stackFootprint([], [{ chart: "prometheus", values: {} }]).unmodelledCharts).toEqual(["prometheus"]);
    });
});

describe("checkBudget and placePods", () => {
    const footprint = stackFootprint(SYNTHETIC_MANIFESTS, SYNTHETIC_HELM_RELEASES);

    it("places one broker per node and keeps the spread's counts within maxSkew", () => {
        const loads = placePods(footprint, 3);
        for (const load of loads) {
            expect(load.pods.filter((p) => p.startsWith("kafka-") && !p.startsWith("kafka-rebalance")).length).toBe(1);
        }
        const redisCounts = loads.map((l) => l.pods.filter((p) => p.startsWith("redis-cluster-")).length).sort();
        expect(redisCounts).toEqual([1, 1, 2]);
        expect(loads.reduce((n, l) => n + l.pods.length, 0)).toBe(3 + 4 + 1 + 2);
    });

    it("fits three roomy nodes", () => {
        expect(checkBudget(footprint, { name: "three", nodes: 3, nodeCpuMillis: 4000, nodeMemoryMiB: 8192 })).toMatchObject({ fits: true, problems: [] });
    });

    it("names each overrun with its figures", () => {
        const check = checkBudget(footprint, { name: "one small node", nodes: 1, nodeCpuMillis: 2000, nodeMemoryMiB: 4096 });
        expect(check.fits).toBe(false);
        expect(check.problems).toEqual([
            "placement rules need 3 nodes, the budget has 1",
            "CPU requests 8300m (Jobs included) exceed 2000m",
            "memory requests 5376 MiB (Jobs included) exceed 4096 MiB",
            "2 of 10 pods have no node their placement rules allow",
        ]);
    });

    it("reports a node whose share of the pods exceeds its size even when the totals fit", () => {
        // 5376 MiB in all fit 3 x 1800, but with a broker (1024) on each node no node takes a Kong pod and a Redis pod.
        const check = checkBudget(footprint, { name: "three small nodes", nodes: 3, nodeCpuMillis: 4000, nodeMemoryMiB: 1800 });
        expect(check.fits).toBe(false);
        expect(check.problems.every((p) => p.startsWith("node "))).toBe(true);
        expect(check.problems.join("\n")).toMatch(/node \d would hold \d+m CPU and [\d.]+ MiB of requests, more than its 4000m and 1800 MiB/);
    });
});
