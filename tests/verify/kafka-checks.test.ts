import { CONFIG_SOURCE } from "../../scripts/verify/kafka-configs";
import { loadSettings } from "../../settings";
import { describeTopicError, evaluateKafka, KafkaObservation, kafkaCheckNames, ObservedTopic, observedTopics } from "../../scripts/verify/kafka";

const settings = loadSettings({ "bss:environment": "dev" }, "dev");
const expected = { brokers: 3, topics: settings.topics };
const addresses = ["localhost:9092", "localhost:9093", "localhost:9094"];
const brokers = [0, 1, 2].map((nodeId) => ({ nodeId, host: "localhost", port: 9092 + nodeId }));

/** A cluster exactly as declared: every topic, 3 replicas in sync, the declared config set on the topic. */
function healthyTopics(): ObservedTopic[] {
    return settings.topics.map((t) => ({
        name: t.name,
        partitions: [...Array(t.partitions).keys()].map((p) => ({ partitionId: p, leader: p % 3, replicas: [0, 1, 2], isr: [0, 1, 2] })),
        config: {
            ...Object.fromEntries(Object.entries(t.config).map(([k, v]) => [k, { value: v, source: CONFIG_SOURCE.TOPIC_CONFIG }])),
            "max.message.bytes": { value: "1048588", source: CONFIG_SOURCE.DEFAULT_CONFIG },
        },
    }));
}

function healthy(): KafkaObservation {
    return { views: addresses.map((address) => ({ address, brokers, controllerId: 1 })), topics: [...healthyTopics(), { name: "__consumer_offsets", partitions: [{ partitionId: 0, leader: 0, replicas: [0, 1, 2], isr: [0, 1, 2] }] }] };
}

const byCheck = (rows: ReturnType<typeof evaluateKafka>) => Object.fromEntries(rows.map((r) => [r.check, r]));

describe("Kafka checks", () => {
    it("pass for a cluster exactly as declared, one row per check in a fixed order", () => {
        const rows = evaluateKafka(expected, healthy());
        expect(rows.map((r) => r.check)).toEqual(kafkaCheckNames(settings.topics));
        expect(rows.filter((r) => r.status !== "ok")).toEqual([]);
        expect(byCheck(rows)["one controller"].detail).toBe("broker 1, the same for every broker that answered");
        expect(byCheck(rows)["topic bss.analytics.events"].detail).toBe("6 partitions, replication 3, 3 configs as declared");
    });

    it("report a missing broker, a silent listener and disagreeing controllers", () => {
        const observed = healthy();
        observed.views = [
            { address: addresses[0], brokers: brokers.slice(0, 2), controllerId: 1 },
            { address: addresses[1], brokers: brokers.slice(0, 2), controllerId: 0 },
            { address: addresses[2], error: "connect ECONNREFUSED 127.0.0.1:9094", unreachable: true },
        ];
        const rows = byCheck(evaluateKafka(expected, observed));
        expect(rows["external listeners answer"]).toMatchObject({ status: "fail", detail: expect.stringContaining("localhost:9094 (connect ECONNREFUSED") });
        expect(rows["brokers registered"]).toMatchObject({ status: "fail", detail: "localhost:9092 lists no broker 2; localhost:9093 lists no broker 2" });
        expect(rows["one controller"]).toMatchObject({ status: "fail", detail: "localhost:9092 names broker 1; localhost:9093 names broker 0" });
    });

    it("fail the controller check when no broker knows one", () => {
        const observed = healthy();
        observed.views = addresses.map((address) => ({ address, brokers, controllerId: -1 }));
        expect(byCheck(evaluateKafka(expected, observed))["one controller"].status).toBe("fail");
    });

    it("count under-replicated and offline partitions over every topic, internal ones included", () => {
        const observed = healthy();
        const topics = observed.topics as ObservedTopic[];
        topics.find((t) => t.name === "bss.events")!.partitions[1].isr = [1];
        topics.find((t) => t.name === "__consumer_offsets")!.partitions[0] = { partitionId: 0, leader: -1, replicas: [0, 1, 2], isr: [] };
        const rows = byCheck(evaluateKafka(expected, observed));
        expect(rows["under-replicated partitions"]).toMatchObject({ status: "fail", detail: "1 of 34: bss.events/1 (ISR 1 of 0,1,2)" });
        expect(rows["offline partitions"]).toMatchObject({ status: "fail", detail: "1 of 34 without a leader: __consumer_offsets/0" });
    });

    it("name a leaderless partition of a declared topic as offline, not under-replicated, and keep every topic row", () => {
        const observed = healthy();
        // What the all-topics Metadata answer gives when the partition's only in-sync replica's broker is down.
        (observed.topics as ObservedTopic[]).find((t) => t.name === "bss.events")!.partitions[2] = { partitionId: 2, leader: -1, replicas: [0, 1, 2], isr: [2] };
        const rows = evaluateKafka(expected, observed);
        expect(rows.map((r) => r.check)).toEqual(kafkaCheckNames(settings.topics));
        expect(byCheck(rows)["offline partitions"]).toMatchObject({ status: "fail", detail: "1 of 34 without a leader: bss.events/2" });
        expect(byCheck(rows)["under-replicated partitions"]).toMatchObject({ status: "ok", detail: "0 of 34 partitions" });
        expect(byCheck(rows)["topic bss.events"]).toMatchObject({ status: "ok", detail: "3 partitions, replication 3, 3 configs as declared" });
        expect(rows.filter((r) => r.status !== "ok").map((r) => r.check)).toEqual(["offline partitions"]);
    });

    it("say what a topic-level metadata error means instead of dropping the topic, and count nothing as clean around it", () => {
        const observed = healthy();
        const topics = observed.topics as ObservedTopic[];
        const events = topics.find((t) => t.name === "bss.events")!;
        events.partitions = [];
        events.error = describeTopicError(3);
        topics.push({ name: "bss.unplanned", partitions: [], error: describeTopicError(5) });
        const rows = byCheck(evaluateKafka(expected, observed));
        expect(rows["topic bss.events"]).toMatchObject({ status: "fail", detail: "listed with error 3 UNKNOWN_TOPIC_OR_PARTITION: the broker does not know the topic (being deleted, or not yet in its metadata): partitions and replication not known" });
        const unlisted = "partitions not listed for bss.events (error 3 UNKNOWN_TOPIC_OR_PARTITION: the broker does not know the topic (being deleted, or not yet in its metadata)), bss.unplanned (error 5 LEADER_NOT_AVAILABLE: the topic has no partition leaders yet (being created, or an election under way))";
        expect(rows["offline partitions"]).toMatchObject({ status: "fail", detail: `0 of 31 partitions; ${unlisted}` });
        expect(rows["under-replicated partitions"]).toMatchObject({ status: "fail", detail: `0 of 31 partitions; ${unlisted}` });
        expect(rows["undeclared topics"]).toMatchObject({ status: "warn", detail: expect.stringMatching(/: bss\.unplanned$/) });
        expect(rows["topic bss.order.events"].status).toBe("ok");
    });

    it("read Metadata v1 topics: LEADER_NOT_AVAILABLE on a partition is leader -1, a topic error is named, an unknown code says so", () => {
        expect(observedTopics([
            { errorCode: 0, name: "bss.events", isInternal: false, partitions: [
                { errorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1] },
                { errorCode: 5, partitionId: 1, leader: 2, replicas: [2], isr: [2] },
            ] },
            { errorCode: 29, name: "bss.secret", isInternal: false, partitions: [] },
            { errorCode: 87, name: "bss.odd", isInternal: false, partitions: [] },
        ])).toEqual([
            { name: "bss.events", partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1] }, { partitionId: 1, leader: -1, replicas: [2], isr: [2] }] },
            { name: "bss.secret", partitions: [], error: "error 29 TOPIC_AUTHORIZATION_FAILED: verify's client may not describe the topic" },
            { name: "bss.odd", partitions: [], error: "error 87 (a Kafka error code Metadata answers do not usually carry for a topic)" },
        ]);
    });

    it("list drift on a declared topic: partitions, replication, a changed value, a key set outside the stack", () => {
        const observed = healthy();
        const events = (observed.topics as ObservedTopic[]).find((t) => t.name === "bss.events")!;
        events.partitions = events.partitions.slice(0, 2);
        events.partitions[0].replicas = [0, 1];
        events.config!["retention.ms"] = { value: "1000", source: CONFIG_SOURCE.TOPIC_CONFIG };
        events.config!["max.message.bytes"] = { value: "2097152", source: CONFIG_SOURCE.TOPIC_CONFIG };
        const row = byCheck(evaluateKafka(expected, observed))["topic bss.events"];
        expect(row.status).toBe("fail");
        expect(row.detail).toBe("drift: 2 partitions, declared 3; replication 2 on partition 0, declared 3; config retention.ms=1000, declared 604800000; config max.message.bytes=2097152 set on the topic but not declared");
    });

    it("fail a declared topic that is missing, and warn about topics nobody declared (internal ones aside)", () => {
        const observed = healthy();
        const topics = (observed.topics as ObservedTopic[]).filter((t) => t.name !== "bss.billing.events");
        topics.push({ name: "bss.unplanned", partitions: [{ partitionId: 0, leader: 0, replicas: [0], isr: [0] }] });
        observed.topics = topics;
        const rows = byCheck(evaluateKafka(expected, observed));
        expect(rows["topic bss.billing.events"]).toMatchObject({ status: "fail", detail: "missing (declared: 3 partitions, replication 3)" });
        expect(rows["undeclared topics"]).toMatchObject({ status: "warn", detail: "drift: 1 topic not declared by the stack (auto-created or made by hand): bss.unplanned" });
    });

    it("report every check unreachable, with the reason, when no broker answers", () => {
        const observed: KafkaObservation = {
            views: addresses.map((address) => ({ address, error: `no answer from Kafka at ${address} within 2000 ms`, unreachable: true })),
            topics: { error: "no broker answered", unreachable: true },
        };
        const rows = evaluateKafka(expected, observed);
        expect(rows.map((r) => r.check)).toEqual(kafkaCheckNames(settings.topics));
        expect(new Set(rows.map((r) => r.status))).toEqual(new Set(["unreachable"]));
        expect(rows[0].detail).toContain("localhost:9093 (no answer from Kafka at localhost:9093 within 2000 ms)");
    });

    it("report the topic checks unreachable when the brokers answered metadata but not the admin requests", () => {
        const observed = healthy();
        observed.topics = { error: "no answer from Kafka at localhost:9092 within 2000 ms", unreachable: true };
        const rows = byCheck(evaluateKafka(expected, observed));
        expect(rows["brokers registered"].status).toBe("ok");
        expect(rows["topic bss.events"]).toMatchObject({ status: "unreachable", detail: expect.stringContaining("topic metadata not read") });
        expect(rows["undeclared topics"].status).toBe("unreachable");
    });
});
