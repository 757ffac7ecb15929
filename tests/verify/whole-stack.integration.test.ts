/**
 * `npm run verify` end to end on the real test cluster (scripts/test-cluster.sh, one cluster for this file):
 *
 * - dev: the stack's ZooKeeper, brokers and Redis applied as rendered (tests/kafka/cluster-harness.ts,
 *   tests/helpers/cluster-stack.ts); the Redis bootstrap is the real Job, applied only after verify has seen the
 *   unformed node. Reached from this machine the way verify plans it from Pulumi.dev.yaml and kind/cluster.yaml:
 *   Kafka on localhost:9092-9094 and Redis on 127.0.0.1:7000 (kind's port maps as the test cluster provides them),
 *   and Redis through a real `kubectl port-forward` once the stack file turns hostAccess off. The ten topics are
 *   created from the render's kafka-topics.yaml, as the Kafka provider receives them. Kong and AKHQ are not on the
 *   test cluster (no image can be had here): a stand-in for Kong's proxy serves the stack's generated kong.yml and
 *   a stand-in for AKHQ's management port answers its health, both on free local ports passed as flags.
 *   Credentials come from a stack-outputs file.
 * - prod Redis (3 masters x 1 replica, the prod default placement: two pods per node), formed by its Job, reached
 *   on a pod IP (this host routes to the nodes' bridges, like an in-cluster client): replica placement read through
 *   the real kubectl, and through a kubectl stand-in listing the real pods for the arrangement the bootstrap never
 *   produces (a master with its own replica on one node); a replica lost for good fails the shape while the
 *   cluster stays ok.
 *
 * The image is the local `localhost/bss-test/redis:7.0.15` (Debian's redis-server; the stack pins `redis:7.2.x`).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Kafka, logLevel } from "kafkajs";
import Redis from "ioredis";
import { loadSettings } from "../../settings";
import { buildKongConfig } from "../../components/kong/declarative";
import { NAMES } from "../../components/redis/manifests";
import { StackConfig } from "../../render/render";
import { parseArgs, verifyStack } from "../../scripts/verify/cli";
import { parseClusterNodes } from "../../scripts/verify/redis";
import { CheckResult, VerifyReport } from "../../scripts/verify/report";
import { clusterManifests, renderForCluster } from "../helpers/cluster-stack";
import { RenderedStack, ROOT, stackFile } from "../helpers/render";
import { eventually, PodInfo, TestCluster } from "../helpers/test-cluster";
import { RunningKafkaCluster, startKafkaCluster } from "../kafka/cluster-harness";
import { KongStandIn, startKongStandIn } from "./kong-stand-in";
import { AkhqStandIn, startAkhqStandIn } from "./akhq-stand-in";
import { writeKubectlStandIn } from "./kubectl-stand-in";
import { runVerifyCli } from "./run-cli";

jest.setTimeout(600_000);

/** Exercises redis.conf and shell quoting on the way into the pods: a double quote, a backslash, dollars. */
const REDIS_PASSWORD = 'verify-"redis"\\pa$$word-0123';
const API_KEYS = { "bss-frontend": "whole-stack-frontend-key-0123456789", "bss-mobile": "whole-stack-mobile-key-01234567890", "bss-partner": "whole-stack-partner-key-0123456789" };
const OPERATOR_PASSWORD = "whole-stack-operator-password-01";
const SECRETS = [REDIS_PASSWORD, OPERATOR_PASSWORD, ...Object.values(API_KEYS)];
/** The kubectl the test cluster is built with (scripts/test-cluster.sh), as a user's own kubectl. */
const KUBECTL = path.join(process.env.TEST_CLUSTER_CACHE ?? path.join(ROOT, ".cache", "test-cluster"), "bin", "kubectl");
/** The context of the test cluster's admin kubeconfig. */
const KUBE_CONTEXT = "bss-test";
const NAMESPACE = "bss";
const REDIS_PODS = "app.kubernetes.io/name=redis-cluster";
const REDIS_PORT = 7000;

let cluster: TestCluster;
let dir: string;

/** A stack file with the test's Redis password as the secret `bss:redisPassword` and `redis` merged into `bss:redis`. */
function withPassword(stack: string, redis: Record<string, unknown> = {}): StackConfig {
    const config = stackFile(stack);
    const current = config.values["bss:redis"] ? JSON.parse(config.values["bss:redis"]) : {};
    return {
        values: { ...config.values, "bss:redis": JSON.stringify({ ...current, ...redis }), "bss:redisPassword": REDIS_PASSWORD },
        secretKeys: [...config.secretKeys.filter((k) => k !== "bss:redisPassword"), "bss:redisPassword"],
    };
}

/** The render's Redis objects (Namespace included; network policies out: nothing enforces them here), Job apart. */
function redisObjects(rendered: RenderedStack): { nodes: Record<string, any>[]; job: Record<string, any> } {
    const objects = clusterManifests(rendered).filter((m) => m.kind === "Namespace"
        || (m.kind !== "NetworkPolicy" && String(m.metadata?.name ?? "").startsWith(NAMES.statefulSet)));
    return { nodes: objects.filter((m) => m.kind !== "Job"), job: objects.find((m) => m.kind === "Job" && m.metadata.name === NAMES.bootstrapJob)! };
}

/** Applies the bootstrap Job and waits until it is complete; fails with its log if it fails. */
async function runBootstrap(job: Record<string, any>): Promise<void> {
    await cluster.apply([job]);
    const { complete } = await cluster.jobFinished(NAMESPACE, NAMES.bootstrapJob, 300_000);
    if (!complete) {
        throw new Error(`Job ${NAMES.bootstrapJob} failed:\n${(await cluster.kubectlResult(["-n", NAMESPACE, "logs", `job/${NAMES.bootstrapJob}`])).stdout}`);
    }
}

/** Resolves once the node on `ip` answers an authenticated PING (started, not necessarily formed). */
async function redisAnswers(ip: string): Promise<void> {
    await eventually(`Redis on ${ip}:${REDIS_PORT} answering`, 120_000, async () => {
        const redis = new Redis({ host: ip, port: REDIS_PORT, password: REDIS_PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
        redis.on("error", () => undefined);
        try {
            await redis.connect();
            return (await redis.ping()) === "PONG";
        } finally {
            redis.disconnect();
        }
    }, 1_000);
}

const redisRows = (report: VerifyReport) => Object.fromEntries(report.checks.filter((c) => c.area === "redis").map((c) => [c.check, c])) as Record<string, CheckResult>;

beforeAll(async () => {
    cluster = await TestCluster.up();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-verify-whole-"));
}, 3_000_000);

afterAll(async () => {
    if (dir) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    await cluster?.down();
}, 300_000);

describe("npm run verify -- --stack dev on the test cluster", () => {
    let kafka: RunningKafkaCluster;
    let kong: KongStandIn;
    let akhq: AkhqStandIn;
    let outputsFile: string;
    let redis: { nodes: Record<string, any>[]; job: Record<string, any> };
    const redisPod = `${NAMES.statefulSet}-0`;

    beforeAll(async () => {
        kafka = await startKafkaCluster({ cluster, config: withPassword("dev") });
        redis = redisObjects(kafka.rendered);
        expect(redis.nodes.find((m) => m.kind === "Secret" && m.metadata.name === NAMES.secret)?.stringData).toEqual({ password: REDIS_PASSWORD });
        await cluster.apply(redis.nodes);

        const client = new Kafka({ clientId: "verify-test", brokers: kafka.externalBootstrap, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
        const admin = client.admin();
        await admin.connect();
        try {
            await admin.createTopics({
                waitForLeaders: true,
                topics: kafka.rendered.kafkaTopics.topics.map((t) => ({
                    topic: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor,
                    configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
                })),
            });
        } finally {
            await admin.disconnect();
        }

        const settings = loadSettings({ "bss:environment": "dev" }, "dev");
        kong = await startKongStandIn(buildKongConfig(settings.kong, { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: settings.akhq.contextPath },
            { apiKeys: { "bss-frontend": [API_KEYS["bss-frontend"]], "bss-mobile": [API_KEYS["bss-mobile"]], "bss-partner": [API_KEYS["bss-partner"]] }, operatorPassword: OPERATOR_PASSWORD }));
        akhq = await startAkhqStandIn(settings.akhq.contextPath);
        outputsFile = path.join(dir, "outputs.json");
        // The shape `pulumi stack output --show-secrets --json` prints.
        fs.writeFileSync(outputsFile, JSON.stringify({
            redisPassword: REDIS_PASSWORD, kongApiKeys: API_KEYS, kongOperatorCredentials: { username: "bss-operator", password: OPERATOR_PASSWORD },
            kafkaExternalBootstrap: kafka.externalBootstrap,
        }));
    }, 1_200_000);

    afterAll(async () => {
        await kong?.close();
        await akhq?.close();
        await kafka?.stop();
    }, 300_000);

    it("fails the Redis state, slot and shape checks of a node that was never formed", async () => {
        // Not Ready before the bootstrap, so the NodePort has no endpoint: ask the pod itself.
        const pod = await eventually(`${redisPod} running with an IP`, 180_000, async () => {
            const info = await cluster.pod(NAMESPACE, redisPod);
            return info?.phase === "Running" && info.ip ? info : undefined;
        });
        await redisAnswers(pod.ip);
        const report = await verifyStack(parseArgs(["--stack", "dev", "--only", "redis", "--outputs-file", outputsFile, "--redis-address", `${pod.ip}:${REDIS_PORT}`]));
        const rows = redisRows(report);
        expect(rows["cluster state"]).toMatchObject({ status: "fail", detail: `cluster_state:fail (asked ${pod.ip}:${REDIS_PORT})` });
        expect(rows["slots covered"]).toMatchObject({ status: "fail", detail: "0 of 16384 assigned, 0 ok, 0 pfail, 0 fail" });
        expect(rows["masters and replicas"]).toMatchObject({ status: "fail", detail: expect.stringContaining("0 masters with slots, declared 1") });
        expect(report.ok).toBe(false);
    });

    it("reports every check of all four areas ok on the addresses planned from the stack once Redis is formed, exits 0, prints no credential", async () => {
        await runBootstrap(redis.job);
        await cluster.waitPodReady(NAMESPACE, redisPod, 120_000);
        const args = ["--stack", "dev", "--outputs-file", outputsFile, "--kong-proxy", kong.url, "--akhq-url", akhq.url];
        const run = await runVerifyCli(args);
        console.log(`npm run verify -- --stack dev (test cluster: real Kafka and Redis; Kong and AKHQ stand-ins):\n${run.stdout}`);
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
        for (const secret of SECRETS) {
            expect(run.stdout).not.toContain(secret);
        }
        const json = await runVerifyCli([...args, "--json"]);
        for (const secret of SECRETS) {
            expect(json.stdout).not.toContain(JSON.stringify(secret).slice(1, -1));
        }
        const report = JSON.parse(json.stdout) as VerifyReport;
        expect(report.checks.filter((c) => c.status !== "ok")).toEqual([]);
        expect([...new Set(report.checks.map((c) => c.area))]).toEqual(["stack", "kafka", "redis", "kong", "akhq"]);
        const address = (area: string) => report.checks.find((c) => c.area === area && c.check === "address")!.detail;
        expect(address("kafka")).toMatch(/^localhost:9092, localhost:9093, localhost:9094 /);
        expect(address("redis")).toBe("127.0.0.1:7000 (kind maps 127.0.0.1:7000 to nodePort 30700 (bss:redis.nodePort))");
        expect(report.checks.filter((c) => c.area === "kafka" && c.check.startsWith("topic "))).toHaveLength(10);
        expect(Object.values(redisRows(report)).map((r) => r.check)).toEqual(["address", "cluster state", "slots covered", "masters and replicas", "replica placement"]);
    });

    it("fails, not hangs, on a wrong Redis password", async () => {
        const report = await verifyStack(parseArgs(["--stack", "dev", "--only", "redis", "--redis-password", "not-the-password-0123456789"]));
        expect(redisRows(report)["cluster state"]).toMatchObject({ status: "fail", detail: expect.stringContaining("password refused") });
        expect(report.ok).toBe(false);
    });

    it("reaches Redis through a real kubectl port-forward when the stack gives it no host access", async () => {
        const file = path.join(dir, "Pulumi.dev-no-host-access.yaml");
        const stackText = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
        expect(stackText).toContain("    replicasPerMaster: 0\n");
        fs.writeFileSync(file, stackText.replace("    replicasPerMaster: 0\n", "    replicasPerMaster: 0\n    hostAccess: false\n"));
        const run = await runVerifyCli(["--stack", "dev", "--config-file", file, "--only", "redis", "--outputs-file", outputsFile, "--kubectl", KUBECTL, "--kube-context", KUBE_CONTEXT, "--json"],
            { KUBECONFIG: cluster.kubeconfig });
        expect(run.stderr).toBe("");
        const report = JSON.parse(run.stdout) as VerifyReport;
        const rows = redisRows(report);
        expect(rows["address"].detail).toBe("kubectl port-forward service/redis-cluster 7000 (bss:redis.hostAccess is off)");
        expect(report.checks.filter((c) => c.status !== "ok")).toEqual([]);
        expect(rows["cluster state"].detail).toMatch(/^cluster_state:ok \(asked 127\.0\.0\.1:\d+\)$/);
        expect(rows["cluster state"].detail).not.toContain("127.0.0.1:7000)");
        expect(run.code).toBe(0);
    });
});

describe("verify on the prod Redis shape (3 masters x 1 replica) on the test cluster", () => {
    /** Each Redis pod with its node id and master (from CLUSTER NODES once formed) and where the scheduler put it. */
    let topology: { pod: string; ip: string; node: string; id: string; masterId: string }[];
    const standIns: { remove(): void }[] = [];

    beforeAll(async () => {
        const objects = redisObjects(await renderForCluster("prod", withPassword("prod")));
        await cluster.apply(objects.nodes);
        await runBootstrap(objects.job);
        const pods: PodInfo[] = await cluster.waitReady(NAMESPACE, REDIS_PODS, 6, 180_000);
        const client = new Redis({ host: pods[0].ip, port: REDIS_PORT, password: REDIS_PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0 });
        await client.connect();
        const nodes = parseClusterNodes(await client.cluster("NODES") as string);
        client.disconnect();
        topology = pods.map((p) => {
            const node = nodes.find((n) => n.address === `${p.ip}:${REDIS_PORT}`)!;
            return { pod: p.name, ip: p.ip, node: p.node, id: node.id, masterId: node.masterId };
        });
    }, 900_000);

    afterAll(() => {
        standIns.forEach((s) => s.remove());
    });

    const masters = () => topology.filter((t) => t.masterId === "-");
    const masterOf = (t: (typeof topology)[number]) => (t.masterId === "-" ? t : topology.find((m) => m.id === t.masterId)!);
    /** Master i and its replica on node-i: the shape the bootstrap's pairing never produces. */
    const shardNode = (t: (typeof topology)[number]) => `node-${masters().indexOf(masterOf(t))}`;
    /** Master i on node-i, its replica one node further along. */
    const spreadNode = (t: (typeof topology)[number]) => (t.masterId === "-" ? shardNode(t) : `node-${(masters().indexOf(masterOf(t)) + 1) % 3}`);

    /** A kubectl stand-in listing the real pods (names and IPs) on the nodes `nodeOf` chooses. */
    function kubectlPlacing(nodeOf: (entry: (typeof topology)[number]) => string): string {
        const standIn = writeKubectlStandIn({ pods: topology.map((t) => ({ name: t.pod, ip: t.ip, node: nodeOf(t) })) });
        standIns.push(standIn);
        return standIn.command;
    }

    /** verify --stack prod --only redis asking master `via` (default the first), with `kubectl`. */
    const verifyProd = (kubectl: string, via = masters()[0]) => verifyStack(parseArgs([
        "--stack", "prod", "--only", "redis", "--redis-address", `${via.ip}:${REDIS_PORT}`, "--redis-password", REDIS_PASSWORD, "--kubectl", kubectl,
    ]));

    it("reads replica placement through the real kubectl: every master on another node than its replica, as the API server places the pods", async () => {
        const run = await runVerifyCli([
            "--stack", "prod", "--only", "redis", "--redis-address", `${masters()[0].ip}:${REDIS_PORT}`, "--redis-password", REDIS_PASSWORD,
            "--kubectl", KUBECTL, "--kube-context", KUBE_CONTEXT, "--json",
        ], { KUBECONFIG: cluster.kubeconfig });
        expect(run.stderr).toBe("");
        console.log(`prod Redis placement by the scheduler: ${topology.map((t) => `${t.pod}=${t.node}${t.masterId === "-" ? " (master)" : ""}`).join(", ")}`);
        // Where the pods really are, from the API server: the bootstrap paired each replica with a master elsewhere.
        expect(masters().map((m) => [m.pod, m.node === topology.find((t) => t.masterId === m.id)!.node])).toEqual(masters().map((m) => [m.pod, false]));
        const rows = redisRows(JSON.parse(run.stdout) as VerifyReport);
        expect(Object.values(rows).filter((r) => r.status !== "ok")).toEqual([]);
        expect(rows["replica placement"].detail).toBe("every master on another Kubernetes node than its replicas (6 pods on 3 nodes)");
        expect(run.code).toBe(0);
    });

    it("passes with every replica on another node than its master", async () => {
        const rows = redisRows(await verifyProd(kubectlPlacing(spreadNode)));
        expect(Object.values(rows).filter((r) => r.status !== "ok")).toEqual([]);
        expect(rows["masters and replicas"].detail).toBe("3 masters, 1 replica each (6 nodes), as declared");
        expect(rows["replica placement"].detail).toBe("every master on another Kubernetes node than its replicas (6 pods on 3 nodes)");
    });

    it("fails when a master and its own replica share a node, naming both pods", async () => {
        const report = await verifyProd(kubectlPlacing(shardNode));
        const row = redisRows(report)["replica placement"];
        expect(row.status).toBe("fail");
        for (const master of masters()) {
            const replica = topology.find((t) => t.masterId === master.id)!;
            expect(row.detail).toContain(`master ${master.pod} and its replica ${replica.pod} both on node ${shardNode(master)}`);
        }
        expect(report.ok).toBe(false);
    });

    it("skips placement, saying why, when kubectl is not there", async () => {
        const row = redisRows(await verifyProd("/nonexistent/kubectl"))["replica placement"];
        expect(row).toMatchObject({ status: "skipped", detail: "placement not checked: kubectl get pods failed (/nonexistent/kubectl not found)" });
    });

    it("fails the shape once a replica is lost for good (SIGKILL, pod gone, its node cordoned), while the cluster itself stays ok", async () => {
        const replica = topology.find((t) => t.masterId !== "-")!;
        const master = masterOf(replica);
        const spread = kubectlPlacing(spreadNode);
        // The replacement the StatefulSet controller makes is pinned to the cordoned node by its volume: it stays Pending.
        await cluster.kubectl(["cordon", replica.node]);
        try {
            await cluster.crashContainer(NAMESPACE, replica.pod, "redis");
            await cluster.kubectl(["-n", NAMESPACE, "delete", "pod", replica.pod, "--wait=false"]);
            // At once the replica's link is down; once cluster-node-timeout (5 s in prod) has passed the cluster flags
            // it failed, and it no longer counts as a working replica of its master.
            const first = await eventually("verify reporting the lost replica", 30_000, async () => {
                const current = redisRows(await verifyProd(spread, master));
                return current["masters and replicas"].status !== "ok" ? current["masters and replicas"] : undefined;
            }, 500);
            expect(first).toMatchObject({ status: "fail", detail: expect.stringContaining(`${replica.ip}:${REDIS_PORT} (slave`) });
            const rows = await eventually("the lost replica flagged failed", 60_000, async () => {
                const current = redisRows(await verifyProd(spread, master));
                return current["masters and replicas"].detail.includes("working replicas") ? current : undefined;
            }, 1_000);
            expect(rows["masters and replicas"]).toMatchObject({ status: "fail", detail: expect.stringContaining(`master ${master.ip}:${REDIS_PORT} has 0 working replicas, declared 1`) });
            expect(rows["masters and replicas"].detail).toMatch(new RegExp(`not healthy: ${replica.ip.replace(/\./g, "\\.")}:${REDIS_PORT} \\(slave,fail`));
            expect(rows["cluster state"].status).toBe("ok");
            expect(rows["slots covered"].status).toBe("ok");
            expect(await cluster.pod(NAMESPACE, replica.pod)).toMatchObject({ node: "" });
        } finally {
            await cluster.kubectl(["uncordon", replica.node]);
        }
    });
});
