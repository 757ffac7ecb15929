/**
 * The reachability matrix of each rendered stack, derived from its NetworkPolicy objects alone
 * (tests/helpers/reachability.ts), against the intended one written out below. The workloads are the rendered
 * pod templates (their real labels and container ports) and the Kong release's pods; around them stand a pod
 * of another team in the namespace, a Prometheus pod in `monitoring`, a pod of another namespace and an
 * address outside the cluster.
 */
import { renderIsolated, RenderedStack, stackFile } from "../helpers/render";
import { StackConfig } from "../../render/render";
import { allowedSources, connection, Endpoint, Reach, reachability, renderedPolicies, workloadEndpoints } from "../helpers/reachability";
import type { NetworkPolicyManifest } from "../../components/network-policy/policies";
import { kubeRouterReachability } from "./enforcement/kube-router";

jest.setTimeout(180_000);

const NAMESPACE = "bss";

const AROUND: Endpoint[] = [
    // A pod someone else runs in the namespace, as Kong's default upstreams bss-backend and pghero are.
    { name: "app", namespace: NAMESPACE, labels: { "app.kubernetes.io/name": "bss-backend" }, ip: "10.244.9.1", ports: [{ port: 8080, protocol: "TCP" }] },
    { name: "monitoring", namespace: "monitoring", labels: { app: "prometheus" }, ip: "10.244.9.2", ports: [{ port: 9090, protocol: "TCP" }, { port: 3000, protocol: "TCP" }] },
    { name: "apps", namespace: "apps", labels: { app: "shop" }, ip: "10.244.9.3", ports: [{ port: 8080, protocol: "TCP" }] },
    // Stands for the resolver too: the test cluster's CoreDNS is not a pod.
    {
        name: "outside",
        labels: {},
        ip: "203.0.113.10",
        ports: [{ port: 443, protocol: "TCP" }, { port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }],
    },
];

interface Derived {
    rendered: RenderedStack;
    endpoints: Endpoint[];
    rows: Reach[];
}

/** Rows with at least one end in the stack's namespace: the only ones its policies govern. */
async function derive(stack: string, config: StackConfig, extra: Endpoint[] = []): Promise<Derived> {
    const rendered = await renderIsolated(stack, config);
    const endpoints = [...workloadEndpoints(rendered), ...AROUND, ...extra];
    const inNamespace = new Set(endpoints.filter((e) => e.namespace === NAMESPACE).map((e) => e.name));
    const rows = reachability(renderedPolicies(rendered), endpoints).filter((r) => inNamespace.has(r.from) || inNamespace.has(r.to));
    return { rendered, endpoints, rows };
}

const sorted = (...names: string[]) => [...new Set(names)].sort();
const OUR_PODS = ["akhq", "kafka", "kafka-exporter", "kafka-rebalance-3", "kong", "redis-cluster", "redis-cluster-bootstrap", "zookeeper"];
/** Every pod of the namespace: the default Kafka and Redis clients. */
const NAMESPACE_PODS = [...OUR_PODS, "app"];
/** Where NodePort and LoadBalancer traffic may come from: other namespaces and outside the cluster. */
const ANYWHERE_ELSE = ["apps", "monitoring", "outside"];

/** Intended for the dev stack; the other stacks are written as what differs from it. */
function devMatrix(): Record<string, string[]> {
    return {
        "zookeeper:2181": ["kafka"],
        "zookeeper:2888": ["zookeeper"],
        "zookeeper:3888": ["zookeeper"],
        "zookeeper:7000": ["monitoring"],
        "kafka:9092": sorted(...NAMESPACE_PODS),
        "kafka:9094": sorted(...ANYWHERE_ELSE),
        "kafka-exporter:9308": ["monitoring"],
        // dev: bss:redis.hostAccess publishes the client port on a NodePort.
        "redis-cluster:7000": sorted(...NAMESPACE_PODS, ...ANYWHERE_ELSE),
        "redis-cluster:7001": ["redis-cluster"],
        "redis-cluster:9121": ["monitoring"],
        // dev: AKHQ's Service is a NodePort.
        "akhq:8080": sorted("kong", ...ANYWHERE_ELSE),
        "akhq:28081": ["monitoring"],
        "kong:8000": sorted(...ANYWHERE_ELSE),
        "kong:8443": sorted(...ANYWHERE_ELSE),
        "kong:8001": [],
        "kong:8444": [],
        "kong:8100": ["monitoring"],
        "app:8080": ["kong"],
        // Grafana and Prometheus, Kong's tool routes.
        "monitoring:9090": ["kong"],
        "monitoring:3000": ["kong"],
        "apps:8080": [],
        "outside:443": [],
        "outside:53/udp": sorted(...NAMESPACE_PODS),
        "outside:53": sorted(...NAMESPACE_PODS),
    };
}

describe("dev", () => {
    let dev: Derived;
    beforeAll(async () => {
        dev = await derive("dev", stackFile("dev"));
    });

    it("lets exactly the intended connections through", () => {
        expect(allowedSources(dev.rows)).toEqual(devMatrix());
    });

    it("refuses the Redis bus to a broker and ZooKeeper to AKHQ on the receiving side, whatever the sender may open", () => {
        const row = (from: string, to: string, port: number) => dev.rows.find((r) => r.from === from && r.to === to && r.port === port)!;
        expect(row("kafka", "redis-cluster", 7001)).toMatchObject({ allowed: false, ingress: false });
        expect(row("akhq", "zookeeper", 2181)).toMatchObject({ allowed: false, ingress: false });
        // Pods of another namespace have no policy of their own: only ZooKeeper's refuses them.
        expect(row("apps", "zookeeper", 2181)).toMatchObject({ allowed: false, egress: true, ingress: false });
        expect(row("monitoring", "redis-cluster", 7001)).toMatchObject({ allowed: false, egress: true, ingress: false });
    });

    it("lets nothing open the Kong Admin API, not even a pod of a namespace without policies", () => {
        const admin = dev.rows.filter((r) => r.to === "kong" && (r.port === 8001 || r.port === 8444));
        expect(admin.length).toBe(2 * dev.endpoints.length);
        expect(admin.filter((r) => r.ingress)).toEqual([]);
    });

    it("lets the monitoring namespace scrape every port a pod's scrape annotation names", () => {
        const annotated = dev.rendered.manifests
            .filter((m) => m.spec?.template?.metadata?.annotations?.["prometheus.io/scrape"] === "true")
            .map((m) => [m.metadata.name, Number(m.spec.template.metadata.annotations["prometheus.io/port"])] as const);
        const kong = dev.rendered.resources.find((r) => r.type === "kubernetes:helm.sh/v4:Chart")!.inputs.values.podAnnotations;
        expect(kong["prometheus.io/scrape"]).toBe("true");
        const scraped = [...annotated, ["kong", Number(kong["prometheus.io/port"])] as const];
        expect(scraped.map(([name]) => name).sort()).toEqual(["akhq", "kafka-exporter", "kong", "redis-cluster", "zookeeper"]);
        for (const [name, port] of scraped) {
            const monitoring = dev.endpoints.find((e) => e.name === "monitoring")!;
            const target = dev.endpoints.find((e) => e.name === name)!;
            expect([name, port, connection(renderedPolicies(dev.rendered), {}, monitoring, target, { port, protocol: "TCP" }).allowed]).toEqual([name, port, true]);
        }
    });
});

/** `<name>-ingress` and `<name>-egress` joined back into one policy with both types, as the first version had them. */
function joinDirections(policies: NetworkPolicyManifest[]): NetworkPolicyManifest[] {
    const joined = new Map<string, NetworkPolicyManifest>();
    for (const p of policies) {
        const name = p.metadata.name.replace(/-(ingress|egress)$/, "");
        const seen = joined.get(name);
        joined.set(name, !seen ? { ...p, metadata: { ...p.metadata, name } } : {
            ...seen,
            spec: { ...seen.spec, policyTypes: ["Ingress", "Egress"], ingress: seen.spec.ingress ?? p.spec.ingress, egress: seen.spec.egress ?? p.spec.egress },
        });
    }
    return [...joined.values()];
}

describe.each(["dev", "prod"])("%s under kube-router v2.1.0", (stack) => {
    it("is enforced exactly as derived: every policy with rules has one direction, so none leaks between pods it selects", async () => {
        const rendered = await renderIsolated(stack, stackFile(stack));
        const workloads = workloadEndpoints(rendered);
        // Two pods of every workload: the leak needs one policy selecting both ends of a connection.
        const peers = workloads.map((e, i) => ({ ...e, name: `${e.name}-peer`, ip: `10.244.8.${i + 1}` }));
        const endpoints = [...workloads, ...peers, ...AROUND];
        const policies = renderedPolicies(rendered);
        const inNamespace = new Set(endpoints.filter((e) => e.namespace === NAMESPACE).map((e) => e.name));
        const rows = reachability(policies, endpoints).filter((r) => inNamespace.has(r.from) || inNamespace.has(r.to));
        expect(policies.filter((p) => (p.spec.ingress?.length ?? 0) > 0 && (p.spec.egress?.length ?? 0) > 0).map((p) => p.metadata.name)).toEqual([]);
        expect(kubeRouterReachability(rows, policies, endpoints)).toEqual(rows);

        const joined = joinDirections(policies);
        const leaks = kubeRouterReachability(reachability(joined, endpoints).filter((r) => inNamespace.has(r.from) || inNamespace.has(r.to)), joined, endpoints)
            .filter((r, i) => r.allowed !== rows[i].allowed).map((r) => `${r.from} -> ${r.to}:${r.port}`);
        expect(leaks).toContain("kafka -> kafka-peer:9094");
    });
});

it("prod: AKHQ only through Kong and Redis only inside the namespace", async () => {
    const prod = await derive("prod", stackFile("prod"));
    // prod runs the Redis backup CronJob (off in dev): its pods are namespace pods that reach the Redis client port.
    const prodPods = [...NAMESPACE_PODS, "redis-backup"];
    expect(allowedSources(prod.rows)).toEqual({
        ...devMatrix(),
        "kafka:9092": sorted(...prodPods),
        "redis-cluster:7000": sorted(...prodPods),
        "akhq:8080": ["kong"],
        "outside:53/udp": sorted(...prodPods),
        "outside:53": sorted(...prodPods),
    });
});

it("follows bss:networkPolicy's clients and monitoring namespace and Kong's exposure and upstreams", async () => {
    const dev = stackFile("dev");
    const json = (key: string) => JSON.parse(dev.values[key] ?? "{}");
    const config: StackConfig = {
        secretKeys: dev.secretKeys,
        values: {
            ...dev.values,
            "bss:networkPolicy": JSON.stringify({
                kafkaClients: { podLabels: { "bss/kafka-client": "true" }, namespaces: ["apps"] },
                redisClients: { podLabels: { "bss/redis-client": "true" } },
                monitoringNamespace: "",
            }),
            "bss:kong": JSON.stringify({ ...json("bss:kong"), proxyServiceType: "ClusterIP", backendTargets: ["10.20.0.5:8080"], httpLogEndpoint: "https://logs.example.com/bss" }),
            "bss:akhq": JSON.stringify({ ...json("bss:akhq"), serviceType: "ClusterIP" }),
            "bss:redis": JSON.stringify({ ...json("bss:redis"), hostAccess: false }),
        },
    };
    const custom = await derive("dev", config, [
        { name: "kafka-client", namespace: NAMESPACE, labels: { "bss/kafka-client": "true" }, ip: "10.244.9.4", ports: [] },
        { name: "redis-client", namespace: NAMESPACE, labels: { "bss/redis-client": "true" }, ip: "10.244.9.5", ports: [] },
        { name: "backend", labels: {}, ip: "10.20.0.5", ports: [{ port: 8080, protocol: "TCP" }] },
    ]);
    const everyPod = sorted(...NAMESPACE_PODS, "kafka-client", "redis-client");
    expect(allowedSources(custom.rows)).toEqual({
        ...devMatrix(),
        "zookeeper:7000": [],
        "kafka:9092": sorted("akhq", "apps", "kafka", "kafka-client", "kafka-exporter", "kafka-rebalance-3"),
        "kafka:9094": sorted(...ANYWHERE_ELSE, "backend"),
        "kafka-exporter:9308": [],
        "redis-cluster:7000": sorted("redis-client", "redis-cluster", "redis-cluster-bootstrap"),
        "redis-cluster:9121": [],
        "akhq:8080": ["kong"],
        "akhq:28081": [],
        // A ClusterIP proxy: pods of every namespace, nothing from outside the cluster.
        "kong:8000": ["apps", "monitoring"],
        "kong:8443": ["apps", "monitoring"],
        "kong:8100": [],
        // pghero is still Kong's default upstream in the namespace.
        "app:8080": ["kong"],
        "backend:8080": ["kong"],
        // http-log's collector, by name outside the cluster: any address on its port.
        "outside:443": ["kong"],
        "outside:53/udp": everyPod,
        "outside:53": everyPod,
    });
});

it("renders no NetworkPolicy when bss:networkPolicy.enabled is false", async () => {
    const dev = stackFile("dev");
    const rendered = await renderIsolated("dev", { ...dev, values: { ...dev.values, "bss:networkPolicy": JSON.stringify({ enabled: false }) } });
    expect(renderedPolicies(rendered)).toEqual([]);
    expect(rendered.manifests.some((m) => m.kind === "StatefulSet")).toBe(true);
});
