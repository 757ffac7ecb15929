/**
 * `npm run verify` against real Kafka 3.9.2: the dev stack's ZooKeeper and three brokers applied to the test
 * cluster (tests/kafka/cluster-harness.ts), their EXTERNAL listeners reached on localhost:9092-9094 through kind's
 * port maps, i.e. exactly the addresses verify takes from Pulumi.dev.yaml. The topics are created from the
 * render's kafka-topics.yaml, as the Kafka provider receives them; then drift is made by hand and a broker stopped.
 */
import { Admin, ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { RunningKafkaCluster } from "../kafka/cluster-harness";
import { eventually } from "../helpers/test-cluster";
import { parseArgs, verifyStack } from "../../scripts/verify/cli";
import { CheckResult, VerifyReport } from "../../scripts/verify/report";
import { runVerifyCli } from "./run-cli";

let cluster: RunningKafkaCluster;
let kafka: Kafka;
let admin: Admin;

const DECLARED_RETENTION = "604800000";

async function verifyJson(extra: string[] = []): Promise<{ code: number | null; report: VerifyReport; rows: Record<string, CheckResult> }> {
    const run = await runVerifyCli(["--stack", "dev", "--only", "kafka", "--json", ...extra]);
    expect(run.stderr).toBe("");
    const report = JSON.parse(run.stdout) as VerifyReport;
    return { code: run.code, report, rows: Object.fromEntries(report.checks.filter((c) => c.area === "kafka").map((c) => [c.check, c])) };
}

const notOk = (report: VerifyReport) => report.checks.filter((c) => c.status !== "ok").map((c) => `${c.check}: ${c.status}`);

/** Registers the suite on a Kafka it shares (tests/kafka/shared-kafka.integration.test.ts); it leaves that Kafka as it found it. */
export function verifyKafkaSuite(shared: () => RunningKafkaCluster): void {
    beforeAll(async () => {
        cluster = shared();
        kafka = new Kafka({ clientId: "verify-test", brokers: cluster.externalBootstrap, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
        admin = kafka.admin();
        await admin.connect();
        const created = await admin.createTopics({
            waitForLeaders: true,
            topics: cluster.rendered.kafkaTopics.topics.map((t) => ({
                topic: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor,
                configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
            })),
        });
        expect(created).toBe(true);
    }, 3_000_000);

    afterAll(async () => {
        await admin?.disconnect();
        await cluster.reset();
    }, 300_000);

    describe("verify on real Kafka (dev stack)", () => {
        it("passes every Kafka check for the stack as deployed, and prints the table", async () => {
            const table = await runVerifyCli(["--stack", "dev", "--only", "kafka"]);
            console.log(`verify --stack dev --only kafka on real Kafka:\n${table.stdout}`);
            expect(table.code).toBe(0);
            const { code, report, rows } = await verifyJson();
            expect({ code, notOk: notOk(report) }).toEqual({ code: 0, notOk: [] });
            expect(rows["address"].detail).toBe("localhost:9092, localhost:9093, localhost:9094 (bss:kafka.externalHost and externalPortBase (the EXTERNAL listeners))");
            expect(rows["brokers registered"].detail).toBe("0, 1, 2 (3 declared), seen by every broker that answered");
            expect(rows["topic bss.analytics.events"].detail).toBe("6 partitions, replication 3, 3 configs as declared");
            expect(rows["under-replicated partitions"].detail).toMatch(/^0 of (33|83) partitions$/);
            expect(Object.keys(rows).filter((c) => c.startsWith("topic "))).toHaveLength(10);
        });

        it("reports drift: a changed config value, a config key set outside the stack, a topic nobody declared", async () => {
            await admin.alterConfigs({ validateOnly: false, resources: [
                { type: ConfigResourceTypes.TOPIC, name: "bss.events", configEntries: [
                    { name: "retention.ms", value: "1000" }, { name: "cleanup.policy", value: "delete" }, { name: "min.insync.replicas", value: "2" },
                ] },
                { type: ConfigResourceTypes.TOPIC, name: "bss.order.events", configEntries: [
                    { name: "retention.ms", value: DECLARED_RETENTION }, { name: "cleanup.policy", value: "delete" }, { name: "min.insync.replicas", value: "2" },
                    { name: "max.message.bytes", value: "2097152" },
                ] },
            ] });
            // Replicated like the declared topics: with one replica it would be offline whenever the stopped-broker test
            // below happened to stop its broker, and that test is about under-replication.
            await admin.createTopics({ waitForLeaders: true, topics: [{ topic: "bss.unplanned", numPartitions: 1, replicationFactor: 3 }] });

            const { code, report, rows } = await verifyJson();
            expect(code).toBe(1);
            expect(rows["topic bss.events"]).toMatchObject({ status: "fail", detail: `drift: config retention.ms=1000, declared ${DECLARED_RETENTION}` });
            expect(rows["topic bss.order.events"]).toMatchObject({ status: "fail", detail: "drift: config max.message.bytes=2097152 set on the topic but not declared" });
            expect(rows["undeclared topics"]).toMatchObject({ status: "warn", detail: expect.stringMatching(/: bss\.unplanned$/) });
            expect(notOk(report).sort()).toEqual(["topic bss.events: fail", "topic bss.order.events: fail", "undeclared topics: warn"]);
        });

        it("passes with only an undeclared topic left (a warning), and fails on it with --strict", async () => {
            // As the provider would: the declared set replaces the topic's whole config.
            await admin.alterConfigs({ validateOnly: false, resources: ["bss.events", "bss.order.events"].map((name) => ({
                type: ConfigResourceTypes.TOPIC, name,
                configEntries: Object.entries(cluster.rendered.kafkaTopics.topics.find((t) => t.name === name)!.config).map(([n, value]) => ({ name: n, value })),
            })) });
            const relaxed = await verifyJson();
            expect({ code: relaxed.code, notOk: notOk(relaxed.report) }).toEqual({ code: 0, notOk: ["undeclared topics: warn"] });
            const strict = await verifyJson(["--strict"]);
            expect(strict.code).toBe(1);
        });

        it("reports a stopped broker: its listener silent, missing from the registrations, partitions under-replicated", async () => {
            await cluster.killBroker(2, "SIGTERM");
            // Controlled shutdown has moved leadership and shrunk the ISRs; the survivors' metadata follows within moments.
            const deadline = Date.now() + 60_000;
            let report: VerifyReport;
            for (;;) {
                report = await verifyStack(parseArgs(["--stack", "dev", "--only", "kafka", "--timeout-ms", "3000"]));
                const row = report.checks.find((c) => c.check === "under-replicated partitions")!;
                if (row.status === "fail" || Date.now() > deadline) {
                    break;
                }
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
            const rows = Object.fromEntries(report.checks.map((c) => [c.check, c]));
            expect(rows["external listeners answer"]).toMatchObject({ status: "fail", detail: expect.stringMatching(/^localhost:9094 \(.+\); answering: localhost:9092, localhost:9093$/) });
            expect(rows["brokers registered"]).toMatchObject({ status: "fail", detail: "localhost:9092 lists no broker 2; localhost:9093 lists no broker 2" });
            expect(rows["one controller"].status).toBe("ok");
            expect(rows["under-replicated partitions"]).toMatchObject({ status: "fail", detail: expect.stringMatching(/^\d+ of \d+: /) });
            expect(rows["offline partitions"].status).toBe("ok");
            expect(report.ok).toBe(false);
        });

        it("reports a partition whose only replica's broker is stopped as offline, naming it, with every topic row read", async () => {
            // Only the highest broker can be kept down; the stopped-broker test above may have left it so.
            const id = cluster.brokers - 1;
            if (!(await cluster.pod(cluster.brokerPod(id)))) {
                await cluster.restartBroker(id);
            }
            const topic = "bss.single-replica";
            await admin.createTopics({ waitForLeaders: true, topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [id] }] }] });
            try {
                await cluster.killBroker(id, "SIGTERM");
                // The controller marks the partition leaderless once the broker's controlled shutdown ends.
                const deadline = Date.now() + 60_000;
                let report: VerifyReport;
                for (;;) {
                    report = await verifyStack(parseArgs(["--stack", "dev", "--only", "kafka", "--timeout-ms", "3000"]));
                    if (report.checks.find((c) => c.check === "offline partitions")!.status === "fail" || Date.now() > deadline) {
                        break;
                    }
                    await new Promise((resolve) => setTimeout(resolve, 1000));
                }
                const rows = Object.fromEntries(report.checks.map((c) => [c.check, c]));
                expect(rows["offline partitions"]).toMatchObject({ status: "fail", detail: expect.stringMatching(/^1 of \d+ without a leader: bss\.single-replica\/0$/) });
                const topicRows = report.checks.filter((c) => c.check.startsWith("topic "));
                expect(topicRows).toHaveLength(10);
                expect(topicRows.filter((c) => c.status !== "ok")).toEqual([]);
                expect(rows["under-replicated partitions"]).toMatchObject({ status: "fail", detail: expect.stringMatching(/^\d+ of \d+: /) });
                expect(rows["undeclared topics"]).toMatchObject({ status: "warn", detail: expect.stringContaining(topic) });
                expect(report.checks.filter((c) => c.status === "unreachable")).toEqual([]);

                const table = await runVerifyCli(["--stack", "dev", "--only", "kafka", "--timeout-ms", "3000"]);
                console.log(`verify --stack dev --only kafka with broker ${id} stopped and ${topic} (one replica, on broker ${id}):\n${table.stdout}`);
                expect(table.code).toBe(1);
                expect(table.stdout).toMatch(/offline partitions\s+fail\s+1 of \d+ without a leader: bss\.single-replica\/0\n/);
                expect(table.stdout).not.toContain("unreachable");
            } finally {
                // Deleting waits for the replica's broker in ZooKeeper mode: bring it back first.
                await cluster.restartBroker(id);
                await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
                await eventually(`${topic} deleted`, 60_000, async () => !(await admin.listTopics()).includes(topic));
            }
        });
    });
}
