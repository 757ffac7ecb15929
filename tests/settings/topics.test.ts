import { KAFKA_TOPIC_CONFIGS } from "../../components/topics/topic-configs";
import { readTopics } from "../../settings/topics";

/** readTopics of a `bss:topics` value on a cluster of `brokers`: the topics and every problem found. */
function read(raw: unknown, brokers = 3) {
    const problems: string[] = [];
    const topics = readTopics(raw, brokers, problems);
    return { topics, problems };
}

describe("topic config keys", () => {
    it("accepts every Kafka 3.9 topic config key", () => {
        const config = Object.fromEntries([...KAFKA_TOPIC_CONFIGS].filter((k) => k !== "retention.ms" && k !== "min.insync.replicas").map((k) => [k, "x"]));
        expect(read({ "bss.events": { config } }).problems).toEqual([]);
    });

    it("refuses a key Kafka does not know, naming the topic and the key, before the broker would", () => {
        expect(read({ "bss.events": { config: { "retention.msx": 1000, "max.message.bytes": 2097152 } } }).problems).toEqual([
            "bss:topics.bss.events.config.retention.msx is not a Kafka 3.9 topic config (see https://kafka.apache.org/39/documentation/#topicconfigs), got \"retention.msx\"",
        ]);
    });

    it("refuses retention set twice, showing both values", () => {
        expect(read({ "bss.events": { retentionMs: 1000, config: { "retention.ms": "2000" } } }).problems).toEqual([
            "bss:topics.bss.events sets retention twice (retentionMs and config[\"retention.ms\"]): keep one, got 1000 and \"2000\"",
        ]);
    });

    it("takes retention from config[\"retention.ms\"] when only that is set", () => {
        const { topics, problems } = read({ "bss.events": { config: { "retention.ms": -1 } } });
        expect(problems).toEqual([]);
        expect(topics.find((t) => t.name === "bss.events")!.config["retention.ms"]).toBe("-1");
    });
});

describe("all problems at once", () => {
    it("reports every bad topic in one pass", () => {
        const { problems } = read({
            "bss.events": { partitions: 0, replicationFactor: 4 },
            "bss.audit.events": { config: { "min.insync.replicas": 3, "cleanup.polcy": "compact" } },
            "..": {},
        });
        expect(problems).toEqual([
            "bss:topics.bss.events.partitions must be an integer from 1 to 10000, got 0",
            "bss:topics.bss.events.replicationFactor must be at most bss:kafka.brokers (3), got 4",
            "bss:topics.bss.audit.events.config.cleanup.polcy is not a Kafka 3.9 topic config (see https://kafka.apache.org/39/documentation/#topicconfigs), got \"cleanup.polcy\"",
            "bss:topics.bss.audit.events min.insync.replicas must be lower than the replication factor 3 (or 1 when it is 1), got 3",
            "bss:topics...: topic names are 1-249 characters of letters, digits, '.', '_' and '-', got \"..\"",
        ]);
    });

    it("derives min ISR from a lowered replication factor instead of refusing it", () => {
        const { topics, problems } = read({ "bss.events": { replicationFactor: 2 } });
        expect(problems).toEqual([]);
        expect(topics.find((t) => t.name === "bss.events")).toMatchObject({ replicationFactor: 2, config: { "min.insync.replicas": "1" } });
    });
});
