/**
 * The one place stack config is read: defaults applied, every rule checked, one frozen object handed to
 * index.ts. Components receive their slice of it and never read `pulumi.Config`.
 */
import { dns1123Label, oneOf, Problems, shown, string } from "./fields";
import { Environment, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, SettingsContext } from "./common";
import { kafkaNodePorts, KafkaSettings, readKafka } from "./kafka";
import { readZookeeper, ZookeeperSettings } from "./zookeeper";
import { readTopics, TopicSettings } from "./topics";
import { readRedis, redisNodePorts, RedisSettings } from "./redis";
import { KONG_FIXED_PATHS, kongNodePorts, KongSettings, readKong } from "./kong";
import { akhqNodePorts, AkhqSettings, readAkhq } from "./akhq";
import { NetworkPolicySettings, readNetworkPolicy } from "./network-policy";
import { MonitoringSettings, readMonitoring } from "./monitoring";
import { readTls, TlsSettings } from "./tls";
import { SecretValue } from "./secret";

export { SecretValue };
export type { Environment, KafkaSettings, ZookeeperSettings, TopicSettings, RedisSettings, KongSettings, AkhqSettings };
export type { NetworkPolicySettings };
export type { MonitoringSettings };
export type { TlsSettings };

export const PROJECT = "bss";

export const KONG_CONSUMERS = ["bss-frontend", "bss-mobile", "bss-partner"] as const;
export type KongConsumer = typeof KONG_CONSUMERS[number];

export interface Secrets {
    /** `bss:redisPassword` (secret): overrides the generated Redis password. */
    redisPassword?: SecretValue;
    /** `bss:akhqPassword` (secret): overrides the generated AKHQ admin password. */
    akhqPassword?: SecretValue;
    /**
     * `bss:kongApiKeys` (secret): the key-auth keys of each named consumer instead of its generated key: one key, or
     * two during a rotation (both accepted; the last is the one `kongApiKeys` exports).
     */
    kongApiKeys: Partial<Record<KongConsumer, SecretValue[]>>;
}

export interface Settings {
    stack: string;
    environment: Environment;
    namespace: string;
    kafka: KafkaSettings;
    zookeeper: ZookeeperSettings;
    topics: TopicSettings[];
    redis: RedisSettings;
    kong: KongSettings;
    akhq: AkhqSettings;
    networkPolicy: NetworkPolicySettings;
    monitoring: MonitoringSettings;
    tls: TlsSettings;
    secrets: Secrets;
}

/** Every problem found in the stack config, one per line, each naming its key and the value it got. */
export class SettingsError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "SettingsError";
    }
}

const SECRET_KEYS = ["redisPassword", "akhqPassword", "kongApiKeys"] as const;
const KNOWN_KEYS = ["namespace", "environment", "kafka", "zookeeper", "topics", "redis", "kong", "akhq", "networkPolicy", "monitoring", "tls", ...SECRET_KEYS];

/** Pulumi hands structured config over as JSON text and scalars as plain text. */
function parseValue(text: string): unknown {
    const trimmed = text.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(trimmed);
        } catch {
            return text;
        }
    }
    return text;
}

const password = (minLength: number) => string(new RegExp(`^\\S{${minLength},}$`), `at least ${minLength} characters without spaces`);

function readSecret(key: string, raw: Record<string, string>, secretKeys: ReadonlySet<string>, minLength: number, problems: Problems): SecretValue | undefined {
    const text = raw[key];
    if (text === undefined) {
        return undefined;
    }
    if (!secretKeys.has(key)) {
        problems.push(`${key} must be set as a secret (pulumi config set --secret ${key} ...), got a plain value`);
    }
    // The value itself is never shown: only its length.
    if (!password(minLength)(key, text, [])) {
        problems.push(`${key} must be ${minLength} or more characters without spaces, got a value of ${text.length} characters`);
        return undefined;
    }
    return new SecretValue(text);
}

function readKongKeys(raw: Record<string, string>, secretKeys: ReadonlySet<string>, problems: Problems): Secrets["kongApiKeys"] {
    const key = "bss:kongApiKeys";
    if (raw[key] === undefined) {
        return {};
    }
    if (!secretKeys.has(key)) {
        problems.push(`${key} must be set as a secret (pulumi config set --secret --path '${key}.bss-frontend' ...), got a plain value`);
    }
    const parsed = parseValue(raw[key]);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        problems.push(`${key} must be an object of consumer name to key, got a value of type ${Array.isArray(parsed) ? "list" : typeof parsed}`);
        return {};
    }
    const result: Secrets["kongApiKeys"] = {};
    const owners = new Map<string, string>();
    for (const [consumer, value] of Object.entries(parsed)) {
        if (!(KONG_CONSUMERS as readonly string[]).includes(consumer)) {
            problems.push(`${key}.${consumer} is not a Kong consumer (known: ${KONG_CONSUMERS.join(", ")}), got ${shown(consumer)}`);
            continue;
        }
        const given: unknown[] = Array.isArray(value) ? value : [value];
        if (given.length < 1 || given.length > 2) {
            problems.push(`${key}.${consumer} must be one key, or a list of two during a rotation (the current key, then the next), got a list of ${given.length}`);
            continue;
        }
        const keys: SecretValue[] = [];
        given.forEach((item, i) => {
            const at = Array.isArray(value) ? `${key}.${consumer}[${i}]` : `${key}.${consumer}`;
            if (typeof item !== "string" || !/^[A-Za-z0-9_-]{24,}$/.test(item)) {
                problems.push(`${at} must be 24 or more characters of letters, digits, '-' and '_', got a value of ${typeof item === "string" ? `${item.length} characters` : `type ${typeof item}`}`);
                return;
            }
            // Kong finds the consumer by its key: one key on two credentials makes Kong refuse the whole config.
            const owner = owners.get(item);
            if (owner !== undefined) {
                problems.push(`${at} must differ from the key of ${owner}, got the same value`);
                return;
            }
            owners.set(item, at);
            keys.push(new SecretValue(item));
        });
        if (keys.length === given.length) {
            result[consumer as KongConsumer] = keys;
        }
    }
    return result;
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !(value instanceof SecretValue) && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const inner of Object.values(value)) {
            deepFreeze(inner);
        }
    }
    return value;
}

/**
 * Reads, defaults and validates the stack config.
 * @param raw every config value of the stack, keyed `namespace:key` (as `pulumi.runtime.allConfig()` gives them)
 * @param stack the stack name
 * @param secretKeys which of those keys were set as secrets
 * @throws SettingsError listing every problem
 */
export function loadSettings(raw: Record<string, string>, stack: string, secretKeys: ReadonlySet<string> = new Set()): Settings {
    const problems: Problems = [];
    const prefix = `${PROJECT}:`;
    for (const key of Object.keys(raw).filter((k) => k.startsWith(prefix)).sort()) {
        const name = key.slice(prefix.length);
        if (!KNOWN_KEYS.includes(name)) {
            problems.push(`${key} is not a known setting (known: ${KNOWN_KEYS.map((k) => prefix + k).join(", ")}), got ${SECRET_KEYS.some((s) => s === name) ? "a value" : shown(parseValue(raw[key]))}`);
        }
    }
    const value = (name: string): unknown => (raw[prefix + name] === undefined ? undefined : parseValue(raw[prefix + name]));

    const namespace = value("namespace") === undefined ? "bss" : dns1123Label("bss:namespace", value("namespace"), problems) ?? "bss";
    const environment = value("environment") === undefined ? "prod" : oneOf<Environment>("dev", "prod")("bss:environment", value("environment"), problems) ?? "prod";
    const ctx: SettingsContext = { environment, namespace, stack };

    const kafka = readKafka(value("kafka"), ctx, problems);
    const zookeeper = readZookeeper(value("zookeeper"), ctx, problems);
    // A KRaft stack runs no ZooKeeper: a bss:zookeeper setting there would be silently ignored.
    if (kafka.metadata === "kraft" && value("zookeeper") !== undefined) {
        problems.push(`bss:zookeeper configures the ZooKeeper ensemble, which a stack with bss:kafka.metadata "kraft" does not run (remove it), got ${shown(value("zookeeper"))}`);
    }
    const topics = readTopics(value("topics"), kafka.brokers, problems);
    const redis = readRedis(value("redis"), ctx, problems);
    const kong = readKong(value("kong"), ctx, problems);
    const akhq = readAkhq(value("akhq"), ctx, problems);
    const networkPolicy = readNetworkPolicy(value("networkPolicy"), ctx, problems);
    const monitoring = readMonitoring(value("monitoring"), ctx, problems);
    const tls = readTls(value("tls"), ctx, problems);
    // Kong routes AKHQ by its context path: a path Kong already routes elsewhere would shadow one of the two.
    if ((KONG_FIXED_PATHS as readonly string[]).includes(akhq.contextPath)) {
        problems.push(`bss:akhq.contextPath must differ from Kong's other routes (${KONG_FIXED_PATHS.join(", ")}), got ${shown(akhq.contextPath)}`);
    }
    const secrets: Secrets = {
        redisPassword: readSecret("bss:redisPassword", raw, secretKeys, 16, problems),
        akhqPassword: readSecret("bss:akhqPassword", raw, secretKeys, 12, problems),
        kongApiKeys: readKongKeys(raw, secretKeys, problems),
    };

    const claims: NodePortClaim[] = [...kafkaNodePorts(kafka), ...redisNodePorts(redis), ...kongNodePorts(kong), ...akhqNodePorts(akhq)];
    const owners = new Map<number, string>();
    for (const claim of claims) {
        if (claim.port < NODE_PORT_MIN || claim.port > NODE_PORT_MAX) {
            problems.push(`${claim.key} must be a nodePort from ${NODE_PORT_MIN} to ${NODE_PORT_MAX}, got ${claim.port}`);
        }
        const owner = owners.get(claim.port);
        if (owner !== undefined) {
            problems.push(`${claim.key} uses nodePort ${claim.port}, already taken by ${owner}`);
        }
        owners.set(claim.port, claim.key);
    }

    if (problems.length > 0) {
        throw new SettingsError(problems);
    }
    return deepFreeze({ stack, environment, namespace, kafka, zookeeper, topics, redis, kong, akhq, networkPolicy, monitoring, tls, secrets });
}
