/**
 * KRaft stacks (`bss:kafka.metadata: kraft`) on the real test cluster: the rendered controllers and brokers applied as
 * they are, the pods created by the StatefulSet controller, placed by the scheduler and gated by the kubelets' probes.
 * One cluster for the file: the dev shape (1 controller, 3 brokers) with the ten declared topics, then the prod shape
 * (3 controllers with required placement, 3 brokers, the JMX agent on both) with an RF 3 topic, the quorum, a broker
 * restart, a foreign cluster ID and the controllers' metrics in a real Prometheus.
 */
import { Admin, Kafka, logLevel } from "kafkajs";
import { clusterManifests } from "../helpers/cluster-stack";
import { RenderedStack, renderIsolated, stackFile } from "../helpers/render";
import { eventually, LOCAL_IMAGES, TestCluster } from "../helpers/test-cluster";
import { StackConfig } from "../../render/render";
import { roundTrip } from "./clients";
import { assertKafkaFetched, KAFKA_CLASSPATH } from "./kafka-home";
import { evaluateKafka, observeKafka } from "../../scripts/verify/kafka";
import { JOBS } from "../../components/monitoring/rules";
import { CONTROLLER_JMX_METRICS } from "../monitoring/broker-jmx-metrics";
import { startPrometheus } from "../monitoring/prometheus-harness";

jest.setTimeout(600_000);

const NAMESPACE = "bss";
const BROKERS = "app.kubernetes.io/name=kafka";
const CONTROLLERS = "app.kubernetes.io/name=kafka-controller";
const figures: Record<string, number> = {};

let cluster: TestCluster;

beforeAll(async () => {
    assertKafkaFetched();
    cluster = await TestCluster.up();
}, 3_000_000);

afterAll(async () => {
    await cluster?.down();
    console.log(`kraft integration figures: ${JSON.stringify(figures)}`);
}, 300_000);

/**
 * The dev stack file as a KRaft stack with the local Kafka image. Not tests/helpers/cluster-stack.ts's renderForCluster:
 * that also sets bss:zookeeper.image, which a KRaft stack refuses.
 */
function kraftStack(kafka: Record<string, unknown>): StackConfig {
    const base = stackFile("dev");
    const { "bss:zookeeper": _zookeeper, ...values } = base.values;
    const current = JSON.parse(values["bss:kafka"] ?? "{}");
    return { ...base, values: { ...values, "bss:kafka": JSON.stringify({ ...current, metadata: "kraft", image: LOCAL_IMAGES.KAFKA_IMAGE, ...kafka }) } };
}

/** Applies the stack's Kafka objects (controllers, brokers, their Services, PDBs, ConfigMaps); returns ms until all are Ready. */
async function deploy(rendered: RenderedStack, controllers: number, brokers: number): Promise<number> {
    const objects = clusterManifests(rendered).filter((m) => m.kind === "Namespace" || /^kafka/.test(m.metadata?.name ?? ""));
    expect(objects.filter((m) => /zookeeper/.test(m.metadata?.name ?? ""))).toEqual([]);
    const started = Date.now();
    await cluster.apply(objects);
    await cluster.waitReady(NAMESPACE, CONTROLLERS, controllers);
    await cluster.waitReady(NAMESPACE, BROKERS, brokers);
    return Date.now() - started;
}

async function removeNamespace(): Promise<void> {
    await cluster.kubectlResult(["-n", NAMESPACE, "delete", "pods", "--all", "--grace-period=0", "--force"]);
    await cluster.kubectl(["delete", "namespace", NAMESPACE, "--wait=true", "--timeout=180s"]);
}

const client = (rendered: RenderedStack, requestTimeout = 30_000) => new Kafka({
    clientId: "kraft-test", brokers: rendered.kafkaTopics.provider!.bootstrapServers, logLevel: logLevel.NOTHING, requestTimeout, retry: { retries: 8 },
});

/**
 * Waits until the broker `admin` asks lists every partition of `topics` with a leader. In KRaft each broker applies
 * the metadata log on its own, so right after CreateTopics a broker may still answer UNKNOWN_TOPIC_OR_PARTITION;
 * kafkajs's `waitForLeaders` retries only LEADER_NOT_AVAILABLE and throws on it (tulios/kafkajs#1563).
 */
async function leadersOf(admin: Admin, topics: string[]) {
    return eventually(`leaders for every partition of ${topics.join(", ")}`, 30_000, async () => {
        const m = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
        return m && m.topics.length === topics.length && m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? m : undefined;
    }, 500);
}

const exec = async (pod: string, container: string, command: string[]) => cluster.exec(NAMESPACE, pod, container, command);

describe("dev shape: 1 controller, 3 brokers", () => {
    let rendered: RenderedStack;

    beforeAll(async () => {
        rendered = await renderIsolated("dev", kraftStack({}));
        figures.devReadyMs = await deploy(rendered, 1, 3);
    }, 900_000);

    afterAll(async () => {
        await removeNamespace();
    }, 300_000);

    it("creates the ten declared topics as the Kafka provider is given them, and describes them back", async () => {
        const topics = rendered.kafkaTopics.topics;
        expect(topics).toHaveLength(10);
        // The same mapping as tests/topics/topics.suite.ts: each kafka.Topic's name, counts and config map.
        const admin = client(rendered, 60_000).admin();
        await admin.connect();
        try {
            const created = await admin.createTopics({
                timeout: 45_000,
                waitForLeaders: false,
                topics: topics.map((t) => ({
                    topic: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor,
                    configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
                })),
            });
            expect(created).toBe(true);
            const metadata = await leadersOf(admin, topics.map((t) => t.name));
            expect(metadata.topics.map((t) => [t.name, t.partitions.length, t.partitions[0].replicas.length]).sort())
                .toEqual(topics.map((t) => [t.name, t.partitions, t.replicationFactor]).sort());
        } finally {
            await admin.disconnect();
        }
    });
});

describe("prod shape: 3 controllers (one per node), 3 brokers, with the JMX agent", () => {
    let rendered: RenderedStack;

    beforeAll(async () => {
        const config = kraftStack({ controllers: 3, controllerPlacement: "required", placement: "required" });
        // The agent's init container copies the pinned jar from the local image here (tests/helpers/cluster-stack.ts).
        config.values["bss:monitoring"] = JSON.stringify({ jmxAgent: { mavenRepository: "https://maven.invalid/maven2" } });
        rendered = await renderIsolated("dev", config);
        figures.prodReadyMs = await deploy(rendered, 3, 3);
    }, 900_000);

    afterAll(async () => {
        await removeNamespace();
    }, 300_000);

    it("places one controller per node, and all three are voters of one quorum with one leader", async () => {
        const pods = await cluster.pods(NAMESPACE, CONTROLLERS);
        expect(new Set(pods.map((p) => p.node)).size).toBe(3);
        // Kafka's own tool, from the client network: it asks the controllers directly (KIP-919).
        const status = await cluster.runClient(["java", "-Xmx256m", "-cp", KAFKA_CLASSPATH, "org.apache.kafka.tools.MetadataQuorumCommand",
            "--bootstrap-controller", "kafka-controller-0.kafka-controller-headless.bss.svc.cluster.local:9093", "describe", "--status"], { timeoutMs: 90_000 });
        expect(status.code).toBe(0);
        const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status.stdout)?.[1] ?? "";
        const ids = (text: string) => (text.match(/"id":\s*\d+/g) ?? []).map((s) => Number(s.replace(/\D/g, ""))).sort((a, b) => a - b);
        expect([1000, 1001, 1002]).toContain(Number(field("LeaderId")));
        expect(ids(field("CurrentVoters"))).toEqual([1000, 1001, 1002]);
        // The brokers are the quorum's observers, with their ordinals as ids.
        expect(ids(field("CurrentObservers"))).toEqual([0, 1, 2]);
        // Every controller's own readiness probe says the same.
        for (const ordinal of [0, 1, 2]) {
            const probe = await exec(`kafka-controller-${ordinal}`, "controller", ["/opt/bss/kafka/probe.sh"]);
            expect(probe.stdout).toMatch(new RegExp(`controller ${1000 + ordinal} is a voter of the quorum led by ${field("LeaderId")} and caught up`));
        }
    });

    it("is reported by verify as a KRaft quorum: leader, voters 1000-1002 caught up, brokers 0-2 as observers", async () => {
        const bootstrap = rendered.kafkaTopics.provider!.bootstrapServers;
        const rows = evaluateKafka({ brokers: 3, topics: [], metadata: "kraft", controllers: 3 }, await observeKafka(bootstrap, [], 10_000, "kraft"));
        const quorum = rows.find((r) => r.check === "KRaft metadata quorum");
        expect(quorum).toMatchObject({ status: "ok", detail: expect.stringMatching(/^leader 100[012] \(epoch \d+\), voters 1000, 1001, 1002, observers 0, 1, 2; every voter caught up$/) });
        expect(rows.filter((r) => r.status !== "ok")).toEqual([]);
    });

    it("serves an RF 3 topic to a producer and a consumer on the host through the NodePorts", async () => {
        const kafka = client(rendered);
        const admin = kafka.admin();
        await admin.connect();
        try {
            const described = await admin.describeCluster();
            expect(described.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]).sort()).toEqual([[0, "localhost:9092"], [1, "localhost:9093"], [2, "localhost:9094"]]);
            await admin.createTopics({ topics: [{ topic: "kraft-rf3", numPartitions: 3, replicationFactor: 3, configEntries: [{ name: "min.insync.replicas", value: "2" }] }], waitForLeaders: false });
            const metadata = await leadersOf(admin, ["kraft-rf3"]);
            expect(metadata.topics[0].partitions.map((p) => p.replicas.slice().sort())).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
        } finally {
            await admin.disconnect();
        }
        expect(await roundTrip(kafka, "kraft-rf3", "kraft-test")).toEqual(["v0", "v1", "v2", "v3", "v4", "v5"]);
    });

    it("keeps a restarted broker's formatted log dir: same directory.id, no second format", async () => {
        const meta = async () => (await exec("kafka-1", "kafka", ["cat", "/var/lib/kafka/data/meta.properties"])).stdout;
        const before = await meta();
        expect(before).toMatch(/^node\.id=1$/m);
        const clusterId = /^cluster\.id=(.*)$/m.exec(before)![1];
        const started = Date.now();
        await cluster.deletePod(NAMESPACE, "kafka-1");
        await cluster.waitPodReady(NAMESPACE, "kafka-1");
        figures.brokerRestartReadyMs = Date.now() - started;
        expect(await meta()).toBe(before);
        const log = await cluster.kubectl(["-n", NAMESPACE, "logs", "kafka-1", "-c", "kafka"]);
        expect(log).toContain(`kafka-format: /var/lib/kafka/data already formatted for cluster ${clusterId}`);
        expect(log).not.toMatch(/Formatting metadata directory/);
    });

    it("exports the controllers' metrics to a real Prometheus: one active controller, quorum alerts quiet, 'controller down' once one stops", async () => {
        const prometheus = await startPrometheus(rendered, cluster.kubeconfig, [JOBS.kafka, JOBS.kafkaController], "127.0.0.1:19190");
        try {
            await eventually("Prometheus scraping three controllers and three brokers", 120_000, async () =>
                (await prometheus.query(`up{job=~"${JOBS.kafka}|${JOBS.kafkaController}"} == 1`).catch(() => [])).length === 6, 2_000).catch((error) => {
                throw new Error(`${error.message}\nprometheus:\n${prometheus.log().slice(-3000)}`);
            });
            const missing: string[] = [];
            for (const metric of CONTROLLER_JMX_METRICS) {
                const pods = new Set((await prometheus.query(`${metric}{job="${JOBS.kafkaController}"}`)).map((r) => r.metric.pod));
                if (pods.size < 3) {
                    missing.push(`${metric} (on ${[...pods].join(", ") || "no controller"})`);
                }
            }
            expect(missing).toEqual([]);
            const [active] = await prometheus.query(`sum(kafka_controller_kafkacontroller_activecontrollercount{job="${JOBS.kafkaController}"})`);
            expect(active.value[1]).toBe("1");
            // Every controller sees the same leader, one of the voters.
            const leaders = new Set((await prometheus.query(`kafka_server_raft_metrics_current_leader{job="${JOBS.kafkaController}"}`)).map((r) => r.value[1]));
            expect([...leaders].map(Number).filter((id) => [1000, 1001, 1002].includes(id))).toHaveLength(1);
            expect(leaders.size).toBe(1);
            await eventually("no Kafka alert pending or firing", 60_000, async () =>
                (await prometheus.alerts("firing", "Kafka.*")).length === 0 && (await prometheus.alerts("pending", "Kafka.*")).length === 0, 2_000);

            await cluster.kubectl(["-n", NAMESPACE, "scale", "statefulset", "kafka-controller", "--replicas=2"]);
            const stopped = Date.now();
            const raised = await eventually("KafkaControllerDown pending", 120_000, async () => {
                const now = [...await prometheus.alerts("pending", "KafkaController.*"), ...await prometheus.alerts("firing", "KafkaController.*")];
                return now.includes("KafkaControllerDown") ? now : undefined;
            }, 2_000);
            figures.controllerDownPendingMs = Date.now() - stopped;
            // Two of three still form the quorum, and one of them is (or becomes) the active controller.
            expect(raised).not.toContain("KafkaControllerQuorumLost");
        } finally {
            await prometheus.stop();
            await cluster.kubectlResult(["-n", NAMESPACE, "scale", "statefulset", "kafka-controller", "--replicas=3"]);
        }
    });

    it("refuses a log dir formatted for another cluster ID, in a running broker's pod, and leaves it as it was", async () => {
        const before = (await exec("kafka-0", "kafka", ["cat", "/var/lib/kafka/data/meta.properties"])).stdout;
        const refused = await exec("kafka-0", "kafka", ["env", "KAFKA_CLUSTER_ID=AAAAAAAAAAAAAAAAAAAAAA",
            "bash", "/opt/bss/kafka/format-storage.sh", "/opt/bss/runtime/server.properties"]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/kafka-format: \/var\/lib\/kafka\/data is formatted for cluster '[A-Za-z0-9_-]{22}', not this stack's cluster 'AAAAAAAAAAAAAAAAAAAAAA': refusing/);
        expect((await exec("kafka-0", "kafka", ["cat", "/var/lib/kafka/data/meta.properties"])).stdout).toBe(before);
    });
});
