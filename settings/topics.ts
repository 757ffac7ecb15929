import { integer, mapOf, object, Problems, Reader, shown } from "./fields";
import { TOPIC_CATALOG } from "../components/topics/catalog";
import { KAFKA_TOPIC_CONFIGS } from "../components/topics/topic-configs";
import { minInsyncFor, minIsrProblem, replicationFor } from "./kafka";

/** A topic as the Kafka provider receives it. */
export interface TopicSettings {
    name: string;
    partitions: number;
    replicationFactor: number;
    /** Topic-level configs, as strings the way Kafka and the provider take them. */
    config: Record<string, string>;
}

interface TopicOverride {
    partitions: number;
    replicationFactor: number;
    retentionMs: number;
    config: Record<string, string>;
}

const configValue: Reader<string> = (key, value, problems) => {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        return String(value);
    }
    problems.push(`${key} must be a string, number or boolean, got ${shown(value)}`);
    return undefined;
};

const overrideReader = object<TopicOverride>({
    partitions: integer(1, 10000),
    replicationFactor: integer(1, 50),
    retentionMs: integer(-1),
    config: mapOf(configValue),
});

/** Kafka's own rule (Topic.validate): 1-249 of [a-zA-Z0-9._-], not "." or "..". */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka maps '.' and '_' to the same metric name, so two topics differing only there collide. */
function metricName(topic: string): string {
    return topic.replace(/\./g, "_");
}

export function readTopics(raw: unknown, brokers: number, problems: Problems): TopicSettings[] {
    const overrides = mapOf(overrideReader)("bss:topics", raw, problems) ?? {};
    const catalogNames = new Set(TOPIC_CATALOG.map((t) => t.name));
    const names = [...TOPIC_CATALOG.map((t) => t.name), ...Object.keys(overrides).filter((n) => !catalogNames.has(n))];

    const topics: TopicSettings[] = [];
    const seenMetricNames = new Map<string, string>();
    for (const name of names) {
        const key = `bss:topics.${name}`;
        const base = TOPIC_CATALOG.find((t) => t.name === name);
        const override = overrides[name] ?? {};
        if (!LEGAL_TOPIC.test(name) || name === "." || name === "..") {
            problems.push(`${key}: topic names are 1-249 characters of letters, digits, '.', '_' and '-', got ${shown(name)}`);
        }
        const clash = seenMetricNames.get(metricName(name));
        if (clash !== undefined) {
            problems.push(`${key} collides with topic "${clash}" (Kafka treats '.' and '_' alike in metric names), got ${shown(name)}`);
        }
        seenMetricNames.set(metricName(name), name);

        const partitions = override.partitions ?? base?.partitions ?? 3;
        const replicationFactor = override.replicationFactor ?? replicationFor(brokers, base?.replicationFactor ?? 3);
        const config: Record<string, string> = {
            "cleanup.policy": "delete",
            "min.insync.replicas": String(minInsyncFor(replicationFactor)),
            ...(base ? { "retention.ms": String(base.retentionMs) } : { "retention.ms": String(7 * 24 * 60 * 60 * 1000) }),
            ...(override.retentionMs !== undefined ? { "retention.ms": String(override.retentionMs) } : {}),
            ...override.config,
        };
        for (const configKey of Object.keys(override.config ?? {})) {
            if (!KAFKA_TOPIC_CONFIGS.has(configKey)) {
                problems.push(`${key}.config.${configKey} is not a Kafka 3.9 topic config (see https://kafka.apache.org/39/documentation/#topicconfigs), got ${shown(configKey)}`);
            }
        }
        if (override.retentionMs !== undefined && override.config?.["retention.ms"] !== undefined) {
            problems.push(`${key} sets retention twice (retentionMs and config["retention.ms"]): keep one, got ${override.retentionMs} and ${shown(override.config["retention.ms"])}`);
        }
        if (replicationFactor > brokers) {
            problems.push(`${key}.replicationFactor must be at most bss:kafka.brokers (${brokers}), got ${replicationFactor}`);
        }
        const retention = Number(config["retention.ms"]);
        if (!Number.isInteger(retention) || (retention !== -1 && retention <= 0)) {
            problems.push(`${key} retention.ms must be -1 (keep forever) or a positive number of milliseconds, got ${shown(config["retention.ms"])}`);
        }
        const minIsr = Number(config["min.insync.replicas"]);
        const isr = Number.isInteger(minIsr) && minIsr >= 1
            ? minIsrProblem(`${key} min.insync.replicas`, minIsr, replicationFactor)
            : `${key} min.insync.replicas must be an integer >= 1, got ${shown(config["min.insync.replicas"])}`;
        if (isr) {
            problems.push(isr);
        }
        topics.push({ name, partitions, replicationFactor, config });
    }
    return topics;
}
