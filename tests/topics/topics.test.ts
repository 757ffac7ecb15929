import * as path from "path";
import { TOPIC_CATALOG } from "../../components/topics/catalog";
import { reportedPartitions, topicInputs } from "../../components/topics/topics";
import { loadSettings } from "../../settings";
import { readStackConfigFile } from "../../render/render";
import { inlineConfig, renderIsolated, ROOT, stackFile } from "../helpers/render";
import { ProgramRun, runProgram } from "./program";

const DAY_MS = 86_400_000;
const largeStack = () => readStackConfigFile(path.join(ROOT, "tests", "fixtures", "Pulumi.large.yaml"));

describe("pure builders", () => {
    const topics = loadSettings(stackFile("dev").values, "dev").topics;

    it("gives each topic its explicit name, counts and a copy of its config map", () => {
        const events = topics.find((t) => t.name === "bss.events")!;
        const inputs = topicInputs(events);
        expect(inputs).toEqual({ name: "bss.events", partitions: 3, replicationFactor: 3, config: { "cleanup.policy": "delete", "min.insync.replicas": "2", "retention.ms": String(7 * DAY_MS) } });
        expect(inputs.config).not.toBe(events.config);
    });

    it("exports each topic's reported count, the last deployed count where none was reported, and nothing else", () => {
        expect(reportedPartitions({ reported: 6, failed: undefined, "never-deployed": undefined }, { reported: 3, failed: 12, removed: 4 }))
            .toEqual({ reported: 6, failed: 12 });
    });
});

describe("rendered kafka-topics.yaml", () => {
    it("dev: plaintext provider on localhost:9092-9094 and the ten catalog topics, 33 partitions and 99 replicas", async () => {
        const { kafkaTopics } = await renderIsolated("dev");
        expect(kafkaTopics.provider).toEqual({ bootstrapServers: ["localhost:9092", "localhost:9093", "localhost:9094"], tlsEnabled: false });
        expect(kafkaTopics.topics.map((t) => t.name)).toEqual(TOPIC_CATALOG.map((t) => t.name));
        expect(kafkaTopics.topics.reduce((n, t) => n + t.partitions, 0)).toBe(33);
        expect(kafkaTopics.topics.reduce((n, t) => n + t.partitions * t.replicationFactor, 0)).toBe(99);
        for (const topic of kafkaTopics.topics) {
            const catalog = TOPIC_CATALOG.find((t) => t.name === topic.name)!;
            expect(topic).toEqual({
                name: catalog.name,
                partitions: catalog.partitions,
                replicationFactor: 3,
                config: { "cleanup.policy": "delete", "min.insync.replicas": "2", "retention.ms": String(catalog.retentionMs) },
            });
        }
        expect(kafkaTopics.topics.find((t) => t.name === "bss.audit.events")!.config["retention.ms"]).toBe(String(365 * DAY_MS));
        expect(kafkaTopics.topics.find((t) => t.name === "bss.analytics.events")!.partitions).toBe(6);
    });

    it("large stack: the provider dials every broker at its external host and port", async () => {
        const { kafkaTopics } = await renderIsolated("large", largeStack());
        expect(kafkaTopics.provider?.bootstrapServers).toEqual([19092, 19093, 19094, 19095, 19096].map((p) => `kafka.telco.example.net:${p}`));
        expect(kafkaTopics.topics.every((t) => t.replicationFactor === 3 && t.config["min.insync.replicas"] === "2")).toBe(true);
    });

    it("overrides reach the topics: partitions, retention, any topic config, and added topics", async () => {
        const config = inlineConfig({
            "bss:environment": "dev",
            "bss:topics": {
                "bss.events": { partitions: 6, config: { "max.message.bytes": 2097152 } },
                "bss.billing.events": { retentionMs: 90 * DAY_MS },
                "bss.fraud.alerts": { partitions: 12 },
            },
        });
        const { kafkaTopics } = await renderIsolated("overrides", config);
        const byName = Object.fromEntries(kafkaTopics.topics.map((t) => [t.name, t]));
        expect(byName["bss.events"].partitions).toBe(6);
        expect(byName["bss.events"].config["max.message.bytes"]).toBe("2097152");
        expect(byName["bss.billing.events"].config["retention.ms"]).toBe(String(90 * DAY_MS));
        expect(byName["bss.fraud.alerts"]).toEqual({
            name: "bss.fraud.alerts", partitions: 12, replicationFactor: 3,
            config: { "cleanup.policy": "delete", "min.insync.replicas": "2", "retention.ms": String(7 * DAY_MS) },
        });
    });

    it("one broker: replication 1 and min ISR 1, so the topics can exist at all", async () => {
        const { kafkaTopics } = await renderIsolated("single", inlineConfig({ "bss:environment": "dev", "bss:kafka": { brokers: 1 } }));
        expect(kafkaTopics.provider?.bootstrapServers).toEqual(["localhost:9092"]);
        expect(kafkaTopics.topics.every((t) => t.replicationFactor === 1 && t.config["min.insync.replicas"] === "1")).toBe(true);
    });
});

describe("what the engine receives for the dev stack", () => {
    let run: ProgramRun;
    const registration = (type: string, name: string) => {
        const found = run.registrations.find((r) => r.type === type && r.name === name);
        if (!found) {
            throw new Error(`no ${type} "${name}" registered`);
        }
        return found;
    };
    const topicRegistrations = () => run.registrations.filter((r) => r.type === "kafka:index/topic:Topic");

    beforeAll(async () => {
        run = await runProgram("dev", stackFile("dev"));
    }, 150_000);

    it("registers every topic without a failure", () => {
        expect(run.failures).toEqual([]);
        expect(topicRegistrations().map((r) => r.name).sort()).toEqual(TOPIC_CATALOG.map((t) => t.name).sort());
    });

    it("uses one explicit provider with TLS off for every topic", () => {
        const providers = run.registrations.filter((r) => r.type === "pulumi:providers:kafka");
        expect(providers).toHaveLength(1);
        expect(JSON.parse(providers[0].inputs.tlsEnabled)).toBe(false);
        expect(JSON.parse(providers[0].inputs.bootstrapServers)).toEqual(["localhost:9092", "localhost:9093", "localhost:9094"]);
        for (const topic of topicRegistrations()) {
            expect(topic.provider.startsWith(`${providers[0].urn}::`)).toBe(true);
        }
    });

    it("makes every topic wait for the broker StatefulSet and each broker's external Service", () => {
        const brokers = [
            registration("kubernetes:apps/v1:StatefulSet", "kafka").urn,
            ...[0, 1, 2].map((i) => registration("kubernetes:core/v1:Service", `kafka-${i}-external`).urn),
        ];
        for (const topic of topicRegistrations()) {
            expect(topic.dependencies).toEqual(expect.arrayContaining(brokers));
        }
    });

    it("gives the provider its addresses only after the brokers: its bootstrapServers pass the external gate", () => {
        const provider = run.registrations.find((r) => r.type === "pulumi:providers:kafka")!;
        expect(provider.dependencies).toEqual(expect.arrayContaining([
            registration("kubernetes:apps/v1:StatefulSet", "kafka").urn,
            ...[0, 1, 2].map((i) => registration("kubernetes:core/v1:Service", `kafka-${i}-external`).urn),
        ]));
    });

    it("protects the audit topic and only it", () => {
        expect(topicRegistrations().filter((r) => r.protect).map((r) => r.name)).toEqual(["bss.audit.events"]);
    });
});
