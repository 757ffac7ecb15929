/**
 * Kafka's DescribeConfigs request (version 1) over a plain TCP socket: each topic's effective config with the
 * source of every value. Not kafkajs's describeConfigs: it refreshes its metadata for every topic first and fails
 * the whole call over one leaderless partition elsewhere, when an operator most needs the configs read.
 */
import { exchangeFrame, KafkaWireReader } from "../../components/shared/kafka-wire";
import { UnreachableError } from "./bounded";

const DESCRIBE_CONFIGS_API_KEY = 32;
const DESCRIBE_CONFIGS_VERSION = 1;
const TOPIC_RESOURCE = 2;

/** Where a value comes from, as Kafka numbers it (kafkajs's ConfigSource uses the same numbers). */
export const CONFIG_SOURCE = {
    UNKNOWN: 0, TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5,
    DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

export interface TopicConfigEntry {
    /** Null for a sensitive value (the broker never sends it) or an unset one. */
    value: string | null;
    source: number;
}

export interface TopicConfigs {
    correlationId: number;
    /** Each topic's config by key, in the order asked. */
    topics: { name: string; errorCode: number; errorMessage: string | null; config: Record<string, TopicConfigEntry> }[];
}

/** The request frame (size prefix included): header v1, every key of each topic (a null key list), no synonyms. */
export function encodeDescribeTopicConfigsRequest(correlationId: number, clientId: string, topics: readonly string[]): Buffer {
    const string = (text: string) => {
        const bytes = Buffer.from(text, "utf8");
        const length = Buffer.alloc(2);
        length.writeInt16BE(bytes.length, 0);
        return Buffer.concat([length, bytes]);
    };
    const int32 = (n: number) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(n, 0);
        return b;
    };
    const header = Buffer.alloc(2 + 2 + 4);
    header.writeInt16BE(DESCRIBE_CONFIGS_API_KEY, 0);
    header.writeInt16BE(DESCRIBE_CONFIGS_VERSION, 2);
    header.writeInt32BE(correlationId, 4);
    const body = Buffer.concat([
        header, string(clientId),
        int32(topics.length),
        ...topics.flatMap((topic) => [Buffer.from([TOPIC_RESOURCE]), string(topic), int32(-1)]),
        // include_synonyms
        Buffer.from([0]),
    ]);
    return Buffer.concat([int32(body.length), body]);
}

/** Parses the response frame (size prefix included). A topic's own error is kept on it, not thrown. */
export function parseDescribeConfigsResponse(frame: Buffer): TopicConfigs {
    const reader = new KafkaWireReader(frame, "DescribeConfigs");
    const correlationId = reader.header();
    reader.int32("throttle time");
    const count = reader.int32("result count");
    const topics: TopicConfigs["topics"] = [];
    for (let r = 0; r < count; r++) {
        const errorCode = reader.int16(`result ${r} error code`);
        const errorMessage = reader.nullableString(`result ${r} error message`);
        reader.skip(1, `result ${r} resource type`);
        const name = reader.string(`result ${r} resource name`);
        const config: Record<string, TopicConfigEntry> = {};
        const entries = reader.int32(`${name} config count`);
        for (let c = 0; c < entries; c++) {
            const key = reader.string(`${name} config ${c} name`);
            const value = reader.nullableString(`${name} ${key} value`);
            reader.boolean(`${name} ${key} read_only`);
            const source = reader.int8(`${name} ${key} source`);
            reader.boolean(`${name} ${key} is_sensitive`);
            const synonyms = reader.int32(`${name} ${key} synonym count`);
            for (let s = 0; s < synonyms; s++) {
                reader.string(`${name} ${key} synonym ${s} name`);
                reader.nullableString(`${name} ${key} synonym ${s} value`);
                reader.skip(1, `${name} ${key} synonym ${s} source`);
            }
            config[key] = { value, source };
        }
        topics.push({ name, errorCode, errorMessage, config });
    }
    if (reader.remaining() !== 0) {
        throw new Error(`DescribeConfigs response has ${reader.remaining()} byte(s) after its last result`);
    }
    return { correlationId, topics };
}

/** Asks `address` for the configs of `topics` within `timeoutMs`; throws when a topic comes back with an error. */
export async function describeTopicConfigs(address: string, topics: readonly string[], timeoutMs: number, clientId = "bss-verify"): Promise<Map<string, Record<string, TopicConfigEntry>>> {
    const correlationId = 1;
    const frame = await exchangeFrame(address, encodeDescribeTopicConfigsRequest(correlationId, clientId, topics), timeoutMs,
        () => new UnreachableError(`no DescribeConfigs answer from ${address} within ${timeoutMs} ms`));
    const response = parseDescribeConfigsResponse(frame);
    if (response.correlationId !== correlationId) {
        throw new Error(`DescribeConfigs answer carries correlation id ${response.correlationId}, expected ${correlationId}`);
    }
    const failed = response.topics.filter((t) => t.errorCode !== 0);
    if (failed.length > 0) {
        throw new Error(`DescribeConfigs refused ${failed.map((t) => `${t.name} (error ${t.errorCode}${t.errorMessage ? `: ${t.errorMessage}` : ""})`).join(", ")}`);
    }
    return new Map(response.topics.map((t) => [t.name, t.config]));
}
