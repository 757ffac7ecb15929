/**
 * What a rendered stack asks of the cluster: CPU and memory requests and limits by component, the node count its
 * placement rules need, and whether it fits a budget. Pure: works on the render's manifests and Helm releases.
 */
import { cpuMillis, memoryBytes, toMiB } from "../quantity";

/** Requests and limits, CPU in millicores and memory in MiB (the report's units). */
export interface Amounts {
    cpuRequestsMillis: number;
    memoryRequestsMiB: number;
    cpuLimitsMillis: number;
    memoryLimitsMiB: number;
}

interface ExactAmounts {
    cpuRequests: number;
    memoryRequests: number;
    cpuLimits: number;
    memoryLimits: number;
}

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;

interface ContainerSpec {
    name: string;
    resources?: Resources;
    restartPolicy?: string;
}

interface PodSpec {
    containers: ContainerSpec[];
    initContainers?: ContainerSpec[];
    affinity?: any;
    topologySpreadConstraints?: any[];
}

/** The rule that bounds how many of a workload's pods one node may hold, and the node count that follows. */
export interface PlacementRule {
    /** `required-anti-affinity`, `topology-spread` (DoNotSchedule on the hostname), or `none` (preferences only). */
    kind: "required-anti-affinity" | "topology-spread" | "none";
    /** Lower bound of nodes this workload alone needs. */
    minNodes: number;
    /** Most pods of this workload the rule lets one node hold when the cluster has enough nodes; undefined when unbounded. */
    maxSkew?: number;
    /** The rule in words, for the report. */
    rule: string;
}

export interface WorkloadFootprint {
    component: string;
    kind: string;
    name: string;
    replicas: number;
    /** Jobs and CronJobs run to completion; everything else runs for as long as the stack does. */
    runsToCompletion: boolean;
    /** One pod's effective amounts: max(max(init container), sum(containers and sidecars)) per resource. */
    perPod: Amounts;
    /** perPod times replicas. */
    total: Amounts;
    /** Containers without a CPU or memory limit: their pod's limit is unbounded and left out of the limit totals. */
    containersWithoutLimits: string[];
    placement: PlacementRule;
}

export interface ComponentFootprint extends Amounts {
    component: string;
    pods: number;
    workloads: string[];
}

export interface NodeLoad {
    cpuRequestsMillis: number;
    memoryRequestsMiB: number;
    pods: string[];
}

export interface Budget {
    /** What the budget stands for, e.g. "a laptop kind node". */
    name: string;
    nodes: number;
    /** Allocatable CPU per node, millicores. */
    nodeCpuMillis: number;
    /** Allocatable memory per node, MiB. */
    nodeMemoryMiB: number;
}

export interface BudgetCheck extends Budget {
    fits: boolean;
    /** Each way the stack does not fit, with the figures. */
    problems: string[];
    /** Requests per node when the pods (long-running and Jobs together) are placed on the budget's nodes. */
    nodeLoads: NodeLoad[];
}

export interface StackFootprint extends Amounts {
    /** Long-running pods by component (the totals above are their sum). */
    components: ComponentFootprint[];
    /** Jobs and CronJobs: counted apart, they run to completion. */
    jobs: ComponentFootprint[];
    jobsTotal: Amounts;
    /** Long-running pods plus every Job at once, as at deploy time. */
    peak: Amounts;
    nodesNeeded: number;
    /** The workloads whose placement rules set nodesNeeded, with the rule. */
    nodesNeededBy: { workload: string; replicas: number; minNodes: number; rule: string }[];
    workloads: WorkloadFootprint[];
    /** Helm charts whose pods this module does not know how to derive from values. */
    unmodelledCharts: string[];
}

const LONG_RUNNING = new Set(["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod", "ReplicationController"]);
const TO_COMPLETION = new Set(["Job", "CronJob"]);

/** Component names by `app.kubernetes.io/name`; anything else is shown under its own name. */
export const COMPONENT_NAMES: Record<string, string> = {
    "kafka": "Kafka",
    "kafka-controller": "Kafka controllers",
    "zookeeper": "ZooKeeper",
    "kafka-exporter": "Kafka exporter",
    "redis-cluster": "Redis",
    "akhq": "AKHQ",
    "kong": "Kong",
    "kafka-rebalance": "Kafka rebalance",
    "redis-cluster-bootstrap": "Redis bootstrap",
};

const HOSTNAME = "kubernetes.io/hostname";

function zero(): ExactAmounts {
    return { cpuRequests: 0, memoryRequests: 0, cpuLimits: 0, memoryLimits: 0 };
}

function containerAmounts(resources: Resources): ExactAmounts {
    const amount = (group: Record<string, string> | undefined, key: string, parse: (q: string) => number) =>
        (group?.[key] === undefined ? 0 : parse(String(group[key])));
    // A container with a limit and no request gets a request equal to its limit (API server defaulting).
    const requests = { ...resources?.limits, ...resources?.requests };
    return {
        cpuRequests: amount(requests, "cpu", cpuMillis),
        memoryRequests: amount(requests, "memory", memoryBytes),
        cpuLimits: amount(resources?.limits, "cpu", cpuMillis),
        memoryLimits: amount(resources?.limits, "memory", memoryBytes),
    };
}

function add(a: ExactAmounts, b: ExactAmounts): ExactAmounts {
    return { cpuRequests: a.cpuRequests + b.cpuRequests, memoryRequests: a.memoryRequests + b.memoryRequests, cpuLimits: a.cpuLimits + b.cpuLimits, memoryLimits: a.memoryLimits + b.memoryLimits };
}

function max(a: ExactAmounts, b: ExactAmounts): ExactAmounts {
    return { cpuRequests: Math.max(a.cpuRequests, b.cpuRequests), memoryRequests: Math.max(a.memoryRequests, b.memoryRequests), cpuLimits: Math.max(a.cpuLimits, b.cpuLimits), memoryLimits: Math.max(a.memoryLimits, b.memoryLimits) };
}

function scale(a: ExactAmounts, factor: number): ExactAmounts {
    return { cpuRequests: a.cpuRequests * factor, memoryRequests: a.memoryRequests * factor, cpuLimits: a.cpuLimits * factor, memoryLimits: a.memoryLimits * factor };
}

function reported(a: ExactAmounts): Amounts {
    return { cpuRequestsMillis: a.cpuRequests, memoryRequestsMiB: toMiB(a.memoryRequests), cpuLimitsMillis: a.cpuLimits, memoryLimitsMiB: toMiB(a.memoryLimits) };
}

function exact(a: Amounts): ExactAmounts {
    return { cpuRequests: a.cpuRequestsMillis, memoryRequests: a.memoryRequestsMiB * (1 << 20), cpuLimits: a.cpuLimitsMillis, memoryLimits: a.memoryLimitsMiB * (1 << 20) };
}

/**
 * A pod's effective amounts as the scheduler and kubelet compute them, per resource: the larger of the sum of its
 * containers (plus sidecars, i.e. init containers with `restartPolicy: Always`, which keep running) and the
 * largest regular init container (plus the sidecars started before it), since init containers run one at a time
 * before the others start.
 */
export function podAmounts(spec: PodSpec): ExactAmounts {
    let sidecars = zero();
    let initPeak = zero();
    for (const init of spec.initContainers ?? []) {
        const amounts = containerAmounts(init.resources);
        if (init.restartPolicy === "Always") {
            sidecars = add(sidecars, amounts);
            initPeak = max(initPeak, sidecars);
        } else {
            initPeak = max(initPeak, add(sidecars, amounts));
        }
    }
    const running = spec.containers.reduce((sum, c) => add(sum, containerAmounts(c.resources)), sidecars);
    return max(running, initPeak);
}

function selects(selector: any, podLabels: Record<string, string>): boolean {
    const matchLabels: Record<string, string> = selector?.matchLabels ?? {};
    return Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v);
}

/**
 * The lower bound of nodes one workload's own placement rules set:
 * - a required pod anti-affinity on `kubernetes.io/hostname` that selects the workload's own pods: one pod per node,
 *   so as many nodes as replicas;
 * - a hostname topology spread with `whenUnsatisfiable: DoNotSchedule`: with fewer nodes than `minDomains` the
 *   scheduler treats the global minimum as 0, so each node holds at most `maxSkew` pods and the bound is
 *   min(minDomains, ceil(replicas / maxSkew)); without `minDomains` (default 1) any node count is allowed (the pods
 *   spread evenly over whatever nodes exist), so the bound is 1;
 * - preferred anti-affinity or `ScheduleAnyway` spread: no bound (1).
 */
export function placementRule(spec: PodSpec, podLabels: Record<string, string>, replicas: number): PlacementRule {
    const required: any[] = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    if (required.some((term) => term.topologyKey === HOSTNAME && selects(term.labelSelector, podLabels))) {
        return { kind: "required-anti-affinity", minNodes: replicas, maxSkew: 1, rule: `required pod anti-affinity on ${HOSTNAME}: one pod per node, ${replicas} pods need ${replicas} nodes` };
    }
    const spread = (spec.topologySpreadConstraints ?? []).find((c) => c.topologyKey === HOSTNAME && c.whenUnsatisfiable === "DoNotSchedule" && selects(c.labelSelector, podLabels));
    if (spread) {
        const maxSkew = Number(spread.maxSkew ?? 1);
        const minDomains = Number(spread.minDomains ?? 1);
        const minNodes = minDomains > 1 ? Math.min(minDomains, Math.ceil(replicas / maxSkew)) : 1;
        const rule = minDomains > 1
            ? `topology spread on ${HOSTNAME}, DoNotSchedule, maxSkew ${maxSkew}, minDomains ${minDomains}: below ${minDomains} nodes each node holds at most ${maxSkew}, so ${replicas} pods need ${minNodes}`
            : `topology spread on ${HOSTNAME}, DoNotSchedule, maxSkew ${maxSkew}, no minDomains: pods per node differ by at most ${maxSkew}, no lower bound on nodes`;
        return { kind: "topology-spread", minNodes, maxSkew, rule };
    }
    return { kind: "none", minNodes: 1, rule: "preferences only (preferred anti-affinity or ScheduleAnyway spread): no lower bound on nodes" };
}

function podTemplate(manifest: Record<string, any>): { spec: PodSpec; labels: Record<string, string> } | undefined {
    if (manifest.kind === "Pod") {
        return { spec: manifest.spec, labels: manifest.metadata?.labels ?? {} };
    }
    const template = manifest.kind === "CronJob" ? manifest.spec?.jobTemplate?.spec?.template : manifest.spec?.template;
    return template?.spec ? { spec: template.spec, labels: template.metadata?.labels ?? {} } : undefined;
}

function replicasOf(manifest: Record<string, any>): number {
    if (manifest.kind === "Job" || manifest.kind === "CronJob") {
        const job = manifest.kind === "CronJob" ? manifest.spec?.jobTemplate?.spec : manifest.spec;
        return Number(job?.parallelism ?? 1);
    }
    if (manifest.kind === "Pod") {
        return 1;
    }
    return Number(manifest.spec?.replicas ?? 1);
}

function workload(component: string, kind: string, name: string, replicas: number, spec: PodSpec, labels: Record<string, string>): WorkloadFootprint {
    const perPod = podAmounts(spec);
    const containersWithoutLimits = [...(spec.initContainers ?? []), ...spec.containers]
        .filter((c) => c.resources?.limits?.cpu === undefined || c.resources?.limits?.memory === undefined)
        .map((c) => c.name);
    return {
        component,
        kind,
        name,
        replicas,
        runsToCompletion: TO_COMPLETION.has(kind),
        perPod: reported(perPod),
        total: reported(scale(perPod, replicas)),
        containersWithoutLimits,
        placement: placementRule(spec, labels, replicas),
    };
}

/**
 * The pods of the `kong` chart as its templates derive them from values (the render passes values to Helm and does
 * not template the chart): `replicaCount` pods, each with the `proxy` container and the `clear-stale-pid` init
 * container, both given `resources`; the ingress controller container when enabled, with `ingressController.resources`.
 */
function kongWorkload(release: { name?: unknown; values: Record<string, any> }): WorkloadFootprint {
    const values = release.values;
    const containers: ContainerSpec[] = [];
    if (values.deployment?.kong?.enabled !== false) {
        containers.push({ name: "proxy", resources: values.resources });
    }
    if (values.ingressController?.enabled) {
        containers.push({ name: "ingress-controller", resources: values.ingressController.resources });
    }
    const spec: PodSpec = {
        containers,
        initContainers: values.deployment?.kong?.enabled !== false ? [{ name: "clear-stale-pid", resources: values.resources }] : [],
        affinity: values.affinity,
        topologySpreadConstraints: values.topologySpreadConstraints,
    };
    const releaseName = String(release.name ?? "kong");
    const labels = { "app.kubernetes.io/name": String(values.nameOverride ?? "kong"), "app.kubernetes.io/instance": releaseName };
    return workload(COMPONENT_NAMES.kong, "Deployment (kong chart)", String(values.fullnameOverride ?? releaseName), Number(values.replicaCount ?? 1), spec, labels);
}

function sumComponents(workloads: WorkloadFootprint[]): ComponentFootprint[] {
    const byComponent = new Map<string, ComponentFootprint>();
    for (const w of workloads) {
        const current = byComponent.get(w.component);
        const amounts = current ? reported(add(exact(current), exact(w.total))) : w.total;
        byComponent.set(w.component, {
            component: w.component,
            pods: (current?.pods ?? 0) + w.replicas,
            workloads: [...(current?.workloads ?? []), `${w.kind}/${w.name}`],
            ...amounts,
        });
    }
    return [...byComponent.values()];
}

function total(items: Amounts[]): Amounts {
    return reported(items.reduce((sum, a) => add(sum, exact(a)), zero()));
}

/** The footprint of one rendered stack. */
export function stackFootprint(manifests: Record<string, any>[], helmReleases: { chart: string; name?: unknown; values: Record<string, any> }[]): StackFootprint {
    const workloads: WorkloadFootprint[] = [];
    for (const manifest of manifests) {
        if (!LONG_RUNNING.has(manifest.kind) && !TO_COMPLETION.has(manifest.kind)) {
            continue;
        }
        const template = podTemplate(manifest);
        if (!template) {
            continue;
        }
        const appName = template.labels["app.kubernetes.io/name"] ?? manifest.metadata?.name;
        workloads.push(workload(COMPONENT_NAMES[appName] ?? appName, manifest.kind, manifest.metadata?.name, replicasOf(manifest), template.spec, template.labels));
    }
    const unmodelledCharts: string[] = [];
    for (const release of helmReleases) {
        if (/(^|\/)kong$/.test(release.chart)) {
            workloads.push(kongWorkload(release));
        } else {
            unmodelledCharts.push(release.chart);
        }
    }
    const running = workloads.filter((w) => !w.runsToCompletion);
    const toCompletion = workloads.filter((w) => w.runsToCompletion);
    const components = sumComponents(running);
    const jobs = sumComponents(toCompletion);
    const totals = total(components);
    const jobsTotal = total(jobs);
    const nodesNeeded = Math.max(1, ...running.map((w) => w.placement.minNodes));
    return {
        ...totals,
        components,
        jobs,
        jobsTotal,
        peak: total([totals, jobsTotal]),
        nodesNeeded,
        nodesNeededBy: running
            .filter((w) => w.placement.minNodes === nodesNeeded && w.placement.kind !== "none")
            .map((w) => ({ workload: `${w.kind}/${w.name}`, replicas: w.replicas, minNodes: w.placement.minNodes, rule: w.placement.rule })),
        workloads,
        unmodelledCharts,
    };
}

/**
 * Places every pod (long-running and Jobs) on the budget's nodes, largest memory request first, each on the least
 * loaded node its workload's rule allows (no second pod of a required anti-affinity workload on a node; a
 * DoNotSchedule spread's counts within maxSkew). The scheduler scores differently, so this shows that a fitting
 * placement exists, not the one the scheduler picks.
 */
export function placePods(footprint: StackFootprint, nodes: number): NodeLoad[] {
    const loads: NodeLoad[] = Array.from({ length: nodes }, () => ({ cpuRequestsMillis: 0, memoryRequestsMiB: 0, pods: [] }));
    const counts = loads.map(() => new Map<string, number>());
    const pods = footprint.workloads.flatMap((w) => Array.from({ length: w.replicas }, (_, i) => ({ w, pod: `${w.name}-${i}` })));
    pods.sort((a, b) => b.w.perPod.memoryRequestsMiB - a.w.perPod.memoryRequestsMiB || b.w.perPod.cpuRequestsMillis - a.w.perPod.cpuRequestsMillis);
    for (const { w, pod } of pods) {
        const countOn = (n: number) => counts[n].get(w.name) ?? 0;
        const lowest = Math.min(...counts.map((_, n) => countOn(n)));
        const allowed = loads.map((_, n) => n).filter((n) => {
            if (w.placement.kind === "required-anti-affinity") {
                return countOn(n) === 0;
            }
            if (w.placement.kind === "topology-spread") {
                return countOn(n) + 1 - lowest <= (w.placement.maxSkew ?? 1);
            }
            return true;
        });
        if (allowed.length === 0) {
            continue;
        }
        const node = allowed.reduce((best, n) => (loads[n].memoryRequestsMiB < loads[best].memoryRequestsMiB ? n : best));
        loads[node].cpuRequestsMillis += w.perPod.cpuRequestsMillis;
        loads[node].memoryRequestsMiB = Math.round((loads[node].memoryRequestsMiB + w.perPod.memoryRequestsMiB) * 1000) / 1000;
        loads[node].pods.push(pod);
        counts[node].set(w.name, countOn(node) + 1);
    }
    return loads;
}

/** Whether the stack's pods, Jobs included, fit the budget's nodes, with every overrun named and quantified. */
export function checkBudget(footprint: StackFootprint, budget: Budget): BudgetCheck {
    const problems: string[] = [];
    if (footprint.nodesNeeded > budget.nodes) {
        problems.push(`placement rules need ${footprint.nodesNeeded} nodes, the budget has ${budget.nodes}`);
    }
    const capacityCpu = budget.nodes * budget.nodeCpuMillis;
    const capacityMemory = budget.nodes * budget.nodeMemoryMiB;
    if (footprint.peak.cpuRequestsMillis > capacityCpu) {
        problems.push(`CPU requests ${footprint.peak.cpuRequestsMillis}m (Jobs included) exceed ${capacityCpu}m`);
    }
    if (footprint.peak.memoryRequestsMiB > capacityMemory) {
        problems.push(`memory requests ${footprint.peak.memoryRequestsMiB} MiB (Jobs included) exceed ${capacityMemory} MiB`);
    }
    const nodeLoads = placePods(footprint, budget.nodes);
    const placed = nodeLoads.reduce((n, l) => n + l.pods.length, 0);
    const wanted = footprint.workloads.reduce((n, w) => n + w.replicas, 0);
    if (placed < wanted) {
        problems.push(`${wanted - placed} of ${wanted} pods have no node their placement rules allow`);
    }
    nodeLoads.forEach((load, i) => {
        // One node: the totals above already say it.
        if (budget.nodes > 1 && (load.cpuRequestsMillis > budget.nodeCpuMillis || load.memoryRequestsMiB > budget.nodeMemoryMiB)) {
            problems.push(`node ${i + 1} would hold ${load.cpuRequestsMillis}m CPU and ${load.memoryRequestsMiB} MiB of requests, more than its ${budget.nodeCpuMillis}m and ${budget.nodeMemoryMiB} MiB`);
        }
    });
    return { ...budget, fits: problems.length === 0, problems, nodeLoads };
}

/** A laptop's kind node: the bound of 4 GiB of memory requests and 2 CPUs of requests for the dev stack. */
export const LAPTOP_KIND_NODE: Budget = { name: "one laptop kind node (2 CPUs, 4 GiB of requests)", nodes: 1, nodeCpuMillis: 2000, nodeMemoryMiB: 4096 };
/** Three nodes of a common small cloud size (4 vCPUs, 16 GiB), the prod stack's budget. */
export const THREE_NODES: Budget = { name: "three nodes of 4 CPUs and 16 GiB each", nodes: 3, nodeCpuMillis: 4000, nodeMemoryMiB: 16384 };

/** The budget a stack is held to, by its `bss:environment`. */
export function budgetFor(environment: string): Budget {
    return environment === "dev" ? LAPTOP_KIND_NODE : THREE_NODES;
}
