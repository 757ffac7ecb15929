/**
 * The dev stack's NetworkPolicies enforced for real: the test cluster (scripts/test-cluster.sh) with kube-router's
 * network-policy controller (firewall only), the rendered objects applied with their policies, and the
 * reachability matrix that tests/helpers/reachability.ts derives from the same render checked connection by
 * connection between real pods: allowed ones must open, denied ones must not (each attempt bounded by
 * CONNECT_TIMEOUT_SECONDS), but for the one place kube-router v2.1.0 departs from the NetworkPolicy semantics
 * (enforcement/kube-router.ts), which is printed. Then the stack's own traffic: brokers Ready, the Redis
 * bootstrap Job complete, a producer and a consumer in the namespace on the INTERNAL listener.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { clusterManifests, renderForCluster } from "../helpers/cluster-stack";
import { RenderedStack } from "../helpers/render";
import { allowedSources, Endpoint, EndpointPort, NamespaceLabels, reachability, renderedPolicies, workloadEndpoints } from "../helpers/reachability";
import { CLIENT_NETNS, eventually, hostCommand, LOCAL_IMAGES, NODES, TestCluster } from "../helpers/test-cluster";
import {
    CONNECT_TIMEOUT_SECONDS, KAFKA_CLIENT_CONTAINER, matrixTable, observedRows, openSources, Outcome, outsideListenerProgram,
    parseListening, parseProbeOutput, planProbes, PROBE_POD_PREFIX, ProbeHost, ProbePodSpec, probeContainer, probePod, probeScript,
    SOCKET_TABLES_SCRIPT, STAND_IN_PREFIX,
} from "./enforcement/probes";
import { kubeRouterReachability } from "./enforcement/kube-router";

jest.setTimeout(600_000);

const NAMESPACE = "bss";
const ZOOKEEPER = "app.kubernetes.io/name=zookeeper";
const KAFKA = "app.kubernetes.io/name=kafka";
const REDIS = "app.kubernetes.io/name=redis-cluster";
const BOOTSTRAP_JOB = "redis-cluster-bootstrap";
const ENFORCING_NODE = NODES[0];
const OTHER_NODES = NODES.slice(1);
const POLICY_LOG = path.join(process.env.TEST_CLUSTER_RUN ?? "/tmp/bss-test-cluster", "logs", "network-policy.log");
const IMAGES = { redis: LOCAL_IMAGES.REDIS_IMAGE, kafka: LOCAL_IMAGES.KAFKA_IMAGE };

/**
 * Around the stack, as tests/network-policy/matrix.test.ts places them: a pod another team runs in the namespace
 * (a Kafka client by default, and one of Kong's upstreams), Prometheus in `monitoring`, a pod of another namespace.
 */
const AROUND: (Omit<ProbePodSpec, "name" | "purpose"> & { endpoint: string })[] = [
    { endpoint: "app", namespace: NAMESPACE, labels: { "app.kubernetes.io/name": "bss-backend" }, listen: [8080], kafkaClient: true },
    { endpoint: "monitoring", namespace: "monitoring", labels: { app: "prometheus" }, listen: [9090, 3000] },
    { endpoint: "apps", namespace: "apps", labels: { app: "shop" }, listen: [8080] },
];
/**
 * Outside the pod network: the cluster's client network namespace on the host, not a pod and not the node, with
 * a web port and a resolver's port (the pods' resolver is allowed to be any address).
 */
const OUTSIDE = { endpoint: "outside", tcp: [443, 53], udp: [53] };

let cluster: TestCluster;
let rendered: RenderedStack;
let applyWarnings = "";

/**
 * A script in the cluster's client network namespace. Not through `cluster.runClient`: its stdin write can fail
 * with EPIPE when the command exits first (bash -c never reads stdin), an error nothing there handles.
 */
async function inClientNetns(script: string): Promise<{ code: number; stderr: string; stdout: string }> {
    return { code: 0, stderr: "", stdout: await hostCommand("ip", ["netns", "exec", CLIENT_NETNS, "bash", "-c", script]) };
}

async function policyLog(): Promise<string> {
    return fs.existsSync(POLICY_LOG) ? fs.readFileSync(POLICY_LOG, "utf8").split("\n").slice(-40).join("\n") : "(no log)";
}

/** The stack's own pods of a selector (not the ones this file adds), Ready. */
async function waitStackReady(selector: string, count: number): Promise<void> {
    await eventually(`${count} Ready stack pod(s) for ${selector}`, 300_000, async () => {
        const pods = (await cluster.pods(NAMESPACE, selector)).filter((p) => !p.name.startsWith(PROBE_POD_PREFIX) && !p.deleting);
        return pods.length === count && pods.every((p) => p.ready);
    }, 2_000);
}

/** Every Job of the render (the Redis bootstrap, the Kafka rebalance) complete: a finished Job's pod is no probe source. */
async function waitJobsComplete(): Promise<void> {
    const jobs = clusterManifests(rendered).filter((m) => m.kind === "Job").map((m) => String(m.metadata.name));
    expect(jobs).toContain(BOOTSTRAP_JOB);
    for (const name of jobs) {
        expect({ name, complete: (await cluster.jobFinished(NAMESPACE, name, 300_000)).complete }).toEqual({ name, complete: true });
    }
}

beforeAll(async () => {
    cluster = await TestCluster.up();
    rendered = await renderForCluster("dev");
    // kube-router's firewall programs rules only for the pods of the node it runs as (`--hostname-override
    // node-a`), and the three test nodes share the host's network namespace, so only one kube-router can run: a
    // second would rewrite the same iptables chains. Every pod therefore has to land on node-a.
    for (const node of OTHER_NODES) {
        await cluster.kubectl(["cordon", node]);
    }
    // Enforcement first, so the stack's pods never run without it.
    await cluster.enforceNetworkPolicies();
    await eventually("kube-router's network-policy chains", 60_000, async () =>
        (await hostCommand("iptables-save", ["-t", "filter"])).includes(":KUBE-ROUTER-FORWARD")).catch(async (error) => {
        throw new Error(`${error.message}\nkube-router's log (${POLICY_LOG}):\n${await policyLog()}`);
    });
    applyWarnings = (await cluster.apply(clusterManifests(rendered))).warnings;
}, 3_000_000);

afterAll(async () => {
    if (cluster) {
        for (const node of OTHER_NODES) {
            await cluster.kubectlResult(["uncordon", node]);
        }
        await cluster.down();
    }
}, 300_000);

describe("the dev stack under kube-router's enforcement", () => {
    it("is applied whole with its NetworkPolicies and comes up on node-a: ZooKeeper and three brokers Ready, every Job complete", async () => {
        expect(applyWarnings.trim()).toBe("");
        const applied = await cluster.json(["-n", NAMESPACE, "get", "networkpolicy"]);
        expect(applied.items.map((p: any) => p.metadata.name).sort()).toEqual(renderedPolicies(rendered).map((p) => p.metadata.name).sort());

        await waitStackReady(ZOOKEEPER, 1);
        await waitStackReady(KAFKA, 3);
        await waitJobsComplete();
        await waitStackReady(REDIS, 1);
        const pods = (await cluster.pods(NAMESPACE, "app.kubernetes.io/part-of=bss")).filter((p) => !p.name.startsWith(PROBE_POD_PREFIX));
        expect(pods.length).toBeGreaterThanOrEqual(6);
        expect(pods.filter((p) => p.node !== ENFORCING_NODE).map((p) => `${p.name} on ${p.node}`)).toEqual([]);
    });
});

describe("real connections between real pods", () => {
    const hosts: ProbeHost[] = [];
    const specs: (ProbePodSpec & { endpoint: string })[] = [];
    let outside: ChildProcess | undefined;

    async function podHost(endpoint: string, namespace: string, pod: any, container: string): Promise<ProbeHost> {
        const tables = await cluster.exec(namespace, pod.metadata.name, container, ["bash", "-c", SOCKET_TABLES_SCRIPT]);
        if (tables.code !== 0) {
            throw new Error(`socket tables of ${namespace}/${pod.metadata.name}: ${tables.stderr}`);
        }
        return {
            endpoint,
            id: `${namespace}/${pod.metadata.name}`,
            exec: { namespace, pod: pod.metadata.name, container },
            ip: pod.status.podIP,
            listening: parseListening(tables.stdout),
        };
    }

    beforeAll(async () => {
        await waitStackReady(ZOOKEEPER, 1);
        await waitStackReady(KAFKA, 3);
        await waitJobsComplete();
        await waitStackReady(REDIS, 1);

        const stackPods = (await cluster.json(["-n", NAMESPACE, "get", "pods"])).items
            .filter((p: any) => !p.metadata.name.startsWith(PROBE_POD_PREFIX) && p.status.phase === "Running" && !p.metadata.deletionTimestamp)
            .sort((a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name, undefined, { numeric: true }));
        for (const workload of workloadEndpoints(rendered)) {
            const running = stackPods.filter((p: any) => p.metadata.labels?.["app.kubernetes.io/name"] === workload.labels["app.kubernetes.io/name"]);
            for (const pod of running) {
                hosts.push(await podHost(workload.name, NAMESPACE, pod, pod.spec.containers[0].name));
            }
            // A workload with one running pod (or none: its image cannot run here, or it is a finished Job) gets a
            // stand-in, so that connections between two of its pods, and from and to it, can be made at all.
            if (running.length < 2) {
                specs.push({
                    endpoint: workload.name,
                    name: `${STAND_IN_PREFIX}${workload.name}`,
                    namespace: NAMESPACE,
                    labels: workload.labels,
                    listen: workload.ports.filter((p) => p.protocol === "TCP").map((p) => p.port),
                    purpose: running.length === 0
                        ? `network stand-in with ${workload.name}'s pod labels, listening on its ports; not ${workload.name}`
                        : `network stand-in: a second pod with ${workload.name}'s pod labels, listening on its ports; not ${workload.name}`,
                });
            }
        }
        for (const around of AROUND) {
            specs.push({ ...around, name: `${PROBE_POD_PREFIX}${around.endpoint}`, purpose: `network probe: the matrix's "${around.endpoint}" pod` });
        }
        // Connections between two pods of one endpoint need a second pod; an idle one with the same labels can open
        // them. (Between two pods of another namespace no policy of the stack applies: those rows are not checked.)
        for (const spec of specs.filter((s) => s.namespace === NAMESPACE && s.listen.length > 0)) {
            if (hosts.filter((h) => h.endpoint === spec.endpoint).length + specs.filter((s) => s.endpoint === spec.endpoint).length < 2) {
                specs.push({
                    endpoint: spec.endpoint,
                    name: `${spec.name}-peer`,
                    namespace: spec.namespace,
                    labels: spec.labels,
                    listen: [],
                    purpose: `network stand-in: a second pod with ${spec.endpoint}'s pod labels, for connections between two of its pods; not ${spec.endpoint}`,
                });
            }
        }

        const namespaces = [...new Set(specs.map((s) => s.namespace))].filter((n) => n !== NAMESPACE).map((name) => ({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
        }));
        await cluster.apply([...namespaces, ...specs.map((s) => probePod(s, IMAGES))]);

        outside = spawn("ip", ["netns", "exec", CLIENT_NETNS, process.execPath, "-e", outsideListenerProgram(OUTSIDE.tcp, OUTSIDE.udp)], { stdio: "ignore" });
        const outsideIp = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(await hostCommand("ip", ["-n", CLIENT_NETNS, "-4", "-o", "addr", "show", "dev", "eth0"]))?.[1];
        if (!outsideIp) {
            throw new Error(`no IPv4 address in network namespace ${CLIENT_NETNS}`);
        }
        const outsideListening = await eventually("the outside listener", 30_000, async () => {
            const listening = parseListening(await hostCommand("ip", ["netns", "exec", CLIENT_NETNS, "bash", "-c", SOCKET_TABLES_SCRIPT]));
            const wanted = [...OUTSIDE.tcp.map((port) => `TCP/${port}`), ...OUTSIDE.udp.map((port) => `UDP/${port}`)];
            return wanted.every((w) => listening.some((l) => `${l.protocol}/${l.port}` === w)) ? listening : undefined;
        }, 500);

        for (const spec of specs) {
            await cluster.waitPodReady(spec.namespace, spec.name, 180_000);
        }
        const podsNow = new Map<string, any>();
        for (const namespace of [...new Set(specs.map((s) => s.namespace))]) {
            for (const pod of (await cluster.json(["-n", namespace, "get", "pods"])).items) {
                podsNow.set(`${namespace}/${pod.metadata.name}`, pod);
            }
        }
        for (const spec of specs) {
            const pod = podsNow.get(`${spec.namespace}/${spec.name}`);
            expect([spec.name, pod.spec.nodeName]).toEqual([spec.name, ENFORCING_NODE]);
            hosts.push(await podHost(spec.endpoint, spec.namespace, pod, probeContainer(spec)));
        }
        hosts.push({ endpoint: OUTSIDE.endpoint, id: CLIENT_NETNS, ip: outsideIp, listening: outsideListening });

        // kube-router names every pod it has programmed in a rule comment: probe only once each one has its chain.
        await eventually("kube-router's chains for every probed pod", 60_000, async () => {
            const rules = await hostCommand("iptables-save", ["-t", "filter"]);
            return hosts.every((h) => !h.exec || rules.includes(`POD name:${h.exec.pod} namespace: ${h.exec.namespace} `));
        }, 1_000);
    }, 900_000);

    afterAll(() => {
        if (outside?.pid !== undefined && outside.exitCode === null) {
            outside.kill("SIGKILL");
        }
    });

    /** Runs each source's probes at once; returns the outcomes in the order of `probes`. */
    async function probe(probes: { source: ProbeHost; ip: string; port: number; protocol: EndpointPort["protocol"] }[]): Promise<Outcome[]> {
        const bySource = new Map<string, number[]>();
        probes.forEach((p, i) => bySource.set(p.source.id, [...(bySource.get(p.source.id) ?? []), i]));
        const outcomes: Outcome[] = new Array(probes.length);
        await Promise.all([...bySource.values()].map(async (indexes) => {
            const source = probes[indexes[0]].source;
            const script = probeScript(indexes.map((i) => ({ key: `p${i}`, ip: probes[i].ip, port: probes[i].port, protocol: probes[i].protocol })));
            const result = source.exec
                ? await cluster.exec(source.exec.namespace, source.exec.pod, source.exec.container, ["bash", "-c", script], { timeoutMs: 60_000 })
                : await inClientNetns(script);
            if (result.code !== 0) {
                // The probe script itself always exits 0: anything else is the exec failing, not a connection.
                throw new Error(`probing from ${source.id} failed (exit ${result.code}): ${result.stderr.trim() || "no stderr"}\n${result.stdout}`);
            }
            const parsed = parseProbeOutput(result.stdout, indexes.map((i) => `p${i}`));
            indexes.forEach((i) => (outcomes[i] = parsed.get(`p${i}`)!));
        }));
        return outcomes;
    }

    it("lets a producer and a consumer in the namespace use the brokers through the INTERNAL listener (replication factor 3, acks=all)", async () => {
        const app = hosts.find((h) => h.endpoint === "app")!.exec!;
        const java = ["java", "-XX:-UsePerfData", "-Xmx256m", "-cp", "/opt/kafka/libs/*"];
        const bootstrap = ["--bootstrap-server", "kafka:9092"];
        const topic = "netpol-enforcement";
        const inClient = async (args: string[], input?: string) => {
            const result = await cluster.exec(app.namespace, app.pod, KAFKA_CLIENT_CONTAINER, [...java, ...args], { timeoutMs: 180_000, input });
            if (result.code !== 0) {
                throw new Error(`${args[0]} exited with ${result.code}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-4000)}`);
            }
            return result.stdout;
        };
        await inClient(["org.apache.kafka.tools.TopicCommand", ...bootstrap, "--create", "--if-not-exists", "--topic", topic, "--partitions", "3", "--replication-factor", "3"]);
        const messages = Array.from({ length: 20 }, (_, i) => `enforced-${i}`);
        await inClient(["kafka.tools.ConsoleProducer", ...bootstrap, "--topic", topic, "--producer-property", "acks=all"], `${messages.join("\n")}\n`);
        const consumed = await inClient(["org.apache.kafka.tools.consumer.ConsoleConsumer", ...bootstrap, "--topic", topic, "--from-beginning",
            "--max-messages", String(messages.length), "--timeout-ms", "60000"]);
        expect(consumed.split("\n").filter((line) => line.startsWith("enforced-")).sort()).toEqual([...messages].sort());
    });

    it("reaches every listener of every probed pod from the node: NetworkPolicy does not restrict a pod's own node", async () => {
        // Every probe pod listens where it says it does.
        expect(specs.map((s) => [s.name, hosts.find((h) => h.id === `${s.namespace}/${s.name}`)!.listening.filter((l) => s.listen.includes(l.port)).map((l) => l.port)]))
            .toEqual(specs.map((s) => [s.name, [...s.listen].sort((a, b) => a - b)]));
        const targets = hosts.filter((h) => h.exec).flatMap((h) => h.listening.map((l) => ({ host: h, ...l })));
        const script = probeScript(targets.map((t, i) => ({ key: `n${i}`, ip: t.host.ip, port: t.port, protocol: t.protocol })));
        const outcomes = parseProbeOutput(await hostCommand("bash", ["-c", script]), targets.map((_, i) => `n${i}`));
        expect(targets.map((t, i) => `${t.host.id} ${t.protocol}/${t.port} ${outcomes.get(`n${i}`)}`).filter((line) => !line.endsWith(" open"))).toEqual([]);
    });

    it("opens exactly the connections the matrix derived from the rendered policies allows", async () => {
        const namespaceLabels: NamespaceLabels = Object.fromEntries((await cluster.json(["get", "namespaces"])).items
            .map((n: any) => [n.metadata.name, n.metadata.labels ?? {}]));
        const ipOf = (endpoint: string) => hosts.find((h) => h.endpoint === endpoint)!.ip;
        const endpoints: Endpoint[] = [
            ...workloadEndpoints(rendered).map((e) => ({ ...e, ip: ipOf(e.name) })),
            ...AROUND.map((a) => ({ name: a.endpoint, namespace: a.namespace, labels: a.labels, ip: ipOf(a.endpoint), ports: a.listen.map((port) => ({ port, protocol: "TCP" as const })) })),
            {
                name: OUTSIDE.endpoint, labels: {}, ip: ipOf(OUTSIDE.endpoint),
                ports: [...OUTSIDE.tcp.map((port) => ({ port, protocol: "TCP" as const })), ...OUTSIDE.udp.map((port) => ({ port, protocol: "UDP" as const }))],
            },
        ];
        const inNamespace = new Set(endpoints.filter((e) => e.namespace === NAMESPACE).map((e) => e.name));
        const policies = renderedPolicies(rendered);
        // The rows the stack's policies govern: at least one end in its namespace.
        const derived = reachability(policies, endpoints, namespaceLabels).filter((r) => inNamespace.has(r.from) || inNamespace.has(r.to));
        const planned = planProbes(derived, hosts);
        const outcomes = await probe(planned.map((p) => ({ source: p.source, ip: p.destination.ip, port: p.row.port, protocol: p.row.protocol })));
        const observed = observedRows(planned, outcomes);

        console.log(`Reachability on the test cluster, kube-router enforcing (${observed.length} connections, ${CONNECT_TIMEOUT_SECONDS} s bound each):\n`
            + `${matrixTable(observed, derived)}\n\n`
            + `probed from/to:\n${planned.map((p, i) => `  ${p.row.from} -> ${p.row.to}:${p.row.port}/${p.row.protocol}: ${p.source.id} -> ${p.destination.id} ${outcomes[i]}`).join("\n")}`);

        expect(derived.some((r) => r.allowed) && derived.some((r) => !r.allowed)).toBe(true);
        expect(outcomes.filter((o) => o === "probe error")).toEqual([]);
        // The policies give each direction its own object, which kube-router's model (enforcement/kube-router.ts)
        // enforces as the semantics say: no deviation is predicted, and none may be observed.
        expect(kubeRouterReachability(derived, policies, endpoints, namespaceLabels)).toEqual(derived);
        expect(openSources(observed)).toEqual(allowedSources(derived));
    });
});
