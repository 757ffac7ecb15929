/**
 * `npm run verify -- --stack dev` end to end on the real test cluster (scripts/test-cluster.sh): the dev stack's
 * ZooKeeper, brokers and Redis applied as rendered (tests/kafka/cluster-harness.ts, tests/helpers/cluster-stack.ts),
 * reached from this machine the way verify plans it from Pulumi.dev.yaml and kind/cluster.yaml: Kafka on
 * localhost:9092-9094 and Redis on 127.0.0.1:7000, kind's port maps as the test cluster provides them. The ten
 * topics are created from the render's kafka-topics.yaml, as the Kafka provider receives them. Kong and AKHQ are
 * not on the test cluster (no image can be had here): a stand-in for Kong's proxy serves the stack's generated
 * kong.yml and a stand-in for AKHQ's management port answers its health, both on free local ports passed as
 * flags. Credentials come from a stack-outputs file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Kafka, logLevel } from "kafkajs";
import { loadSettings } from "../../settings";
import { buildKongConfig } from "../../components/kong/declarative";
import { StackConfig } from "../../render/render";
import { VerifyReport } from "../../scripts/verify/report";
import { clusterManifests } from "../helpers/cluster-stack";
import { ROOT, stackFile } from "../helpers/render";
import { TestCluster } from "../helpers/test-cluster";
import { RunningKafkaCluster, startKafkaCluster } from "../kafka/cluster-harness";
import { KongStandIn, startKongStandIn } from "./kong-stand-in";
import { AkhqStandIn, startAkhqStandIn } from "./akhq-stand-in";
import { runVerifyCli } from "./run-cli";

jest.setTimeout(600_000);

const REDIS_PASSWORD = "whole-stack-redis-password-0123";
const API_KEYS = { "bss-frontend": "whole-stack-frontend-key-0123456789", "bss-mobile": "whole-stack-mobile-key-01234567890", "bss-partner": "whole-stack-partner-key-0123456789" };
const OPERATOR_PASSWORD = "whole-stack-operator-password-01";
const SECRETS = [REDIS_PASSWORD, OPERATOR_PASSWORD, ...Object.values(API_KEYS)];
/** The kubectl the test cluster is built with (scripts/test-cluster.sh), as a user's own kubectl. */
const KUBECTL = path.join(process.env.TEST_CLUSTER_CACHE ?? path.join(ROOT, ".cache", "test-cluster"), "bin", "kubectl");

let cluster: TestCluster;
let kafka: RunningKafkaCluster;
let kong: KongStandIn;
let akhq: AkhqStandIn;
let dir: string;
let outputsFile: string;

/** The dev stack file with the test's Redis password as the secret `bss:redisPassword`. */
function devWithPassword(): StackConfig {
    const config = stackFile("dev");
    return { values: { ...config.values, "bss:redisPassword": REDIS_PASSWORD }, secretKeys: [...config.secretKeys, "bss:redisPassword"] };
}

beforeAll(async () => {
    cluster = await TestCluster.up();
    kafka = await startKafkaCluster({ cluster, config: devWithPassword() });
    // The Redis half of the same render (the Job forms the cluster); policies stay out: nothing enforces them here.
    await cluster.apply(clusterManifests(kafka.rendered).filter((m) => m.kind !== "NetworkPolicy" && String(m.metadata?.name ?? "").startsWith("redis-cluster")));
    await cluster.waitPodReady(kafka.namespace, "redis-cluster-0");

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
        { apiKeys: API_KEYS, operatorPassword: OPERATOR_PASSWORD }));
    akhq = await startAkhqStandIn(settings.akhq.contextPath);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-verify-whole-"));
    outputsFile = path.join(dir, "outputs.json");
    // The shape `pulumi stack output --show-secrets --json` prints.
    fs.writeFileSync(outputsFile, JSON.stringify({
        redisPassword: REDIS_PASSWORD, kongApiKeys: API_KEYS, kongOperatorCredentials: { username: "bss-operator", password: OPERATOR_PASSWORD },
        kafkaExternalBootstrap: kafka.externalBootstrap,
    }));
}, 3_000_000);

afterAll(async () => {
    await kong?.close();
    await akhq?.close();
    if (dir) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    await cluster?.down();
}, 300_000);

describe("npm run verify -- --stack dev on the test cluster", () => {
    it("reports every check of all four areas ok on the addresses planned from the stack, exits 0, prints no credential", async () => {
        const args = ["--stack", "dev", "--outputs-file", outputsFile, "--kong-proxy", kong.url, "--akhq-url", akhq.url];
        const run = await runVerifyCli(args);
        console.log(`npm run verify -- --stack dev (test cluster: real Kafka and Redis; Kong and AKHQ stand-ins):\n${run.stdout}`);
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
        for (const secret of SECRETS) {
            expect(run.stdout).not.toContain(secret);
        }
        const report = JSON.parse((await runVerifyCli([...args, "--json"])).stdout) as VerifyReport;
        expect(report.checks.filter((c) => c.status !== "ok")).toEqual([]);
        const address = (area: string) => report.checks.find((c) => c.area === area && c.check === "address")!.detail;
        expect(address("kafka")).toMatch(/^localhost:9092, localhost:9093, localhost:9094 /);
        expect(address("redis")).toBe("127.0.0.1:7000 (kind maps 127.0.0.1:7000 to nodePort 30700 (bss:redis.nodePort))");
        expect(report.checks.filter((c) => c.area === "kafka" && c.check.startsWith("topic "))).toHaveLength(10);
    });

    it("reaches Redis through a real kubectl port-forward when the stack gives it no host access", async () => {
        const file = path.join(dir, "Pulumi.dev-no-host-access.yaml");
        fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("    replicasPerMaster: 0\n", "    replicasPerMaster: 0\n    hostAccess: false\n"));
        const run = await runVerifyCli(["--stack", "dev", "--config-file", file, "--only", "redis", "--outputs-file", outputsFile, "--kubectl", KUBECTL, "--kube-context", "bss-test", "--json"],
            { KUBECONFIG: cluster.kubeconfig });
        const report = JSON.parse(run.stdout) as VerifyReport;
        expect(report.checks.find((c) => c.area === "redis" && c.check === "address")!.detail).toBe("kubectl port-forward service/redis-cluster 7000 (bss:redis.hostAccess is off)");
        expect(report.checks.filter((c) => c.status !== "ok")).toEqual([]);
        expect(run.code).toBe(0);
    });
});
