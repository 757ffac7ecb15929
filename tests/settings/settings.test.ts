import { loadSettings, SettingsError, Settings } from "../../settings";

/** Config as Pulumi hands it to the program: structured values JSON-encoded, scalars as text. */
function raw(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function load(values: Record<string, unknown>, secretKeys: string[] = []): Settings {
    return loadSettings(raw(values), "test", new Set(secretKeys));
}

/** The problems loadSettings reports for this config (fails the test if it accepts it). */
function problems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
    try {
        load(values, secretKeys);
    } catch (err) {
        expect(err).toBeInstanceOf(SettingsError);
        return (err as SettingsError).problems;
    }
    throw new Error("config was accepted");
}

describe("defaults", () => {
    it("gives a prod shape when nothing is set", () => {
        const s = load({});
        expect(s.namespace).toBe("bss");
        expect(s.environment).toBe("prod");
        expect(s.kafka.brokers).toBe(3);
        expect(s.kafka.externalHost).toBe("localhost");
        expect(s.kafka.externalPorts).toEqual([9092, 9093, 9094]);
        expect(s.kafka.nodePorts).toEqual([30092, 30093, 30094]);
        expect(s.kafka.defaultReplicationFactor).toBe(3);
        expect(s.kafka.minInsyncReplicas).toBe(2);
        expect(s.kafka.placement).toBe("required");
        expect(s.zookeeper.replicas).toBe(3);
        expect(s.redis.masters).toBe(3);
        expect(s.redis.replicasPerMaster).toBe(1);
        expect(s.akhq.authEnabled).toBe(true);
        expect(s.kong.proxyServiceType).toBe("LoadBalancer");
    });

    it("gives the one-node dev shape for environment dev", () => {
        const s = load({ "bss:environment": "dev" });
        expect(s.zookeeper.replicas).toBe(1);
        expect(s.redis.masters).toBe(1);
        expect(s.redis.replicasPerMaster).toBe(0);
        expect(s.kafka.placement).toBe("preferred");
        expect(s.akhq.authEnabled).toBe(false);
        expect(s.kong.proxyServiceType).toBe("NodePort");
    });

    it("derives per-broker ports from the broker count alone", () => {
        const s = load({ "bss:kafka": { brokers: 5 } });
        expect(s.kafka.externalPorts).toEqual([9092, 9093, 9094, 9095, 9096]);
        expect(s.kafka.nodePorts).toEqual([30092, 30093, 30094, 30095, 30096]);
    });

    it("keeps a one-broker cluster valid by lowering replication and min ISR", () => {
        const s = load({ "bss:kafka": { brokers: 1 } });
        expect(s.kafka.defaultReplicationFactor).toBe(1);
        expect(s.kafka.minInsyncReplicas).toBe(1);
        expect(s.topics.every((t) => t.replicationFactor === 1 && t.config["min.insync.replicas"] === "1")).toBe(true);
    });

    it("merges resource overrides field by field", () => {
        const s = load({ "bss:kafka": { resources: { limits: { memory: "2Gi" } } } });
        expect(s.kafka.resources.limits).toEqual({ cpu: "1", memory: "2Gi" });
        expect(s.kafka.resources.requests).toEqual({ cpu: "250m", memory: "1Gi" });
    });

    it("freezes the settings object", () => {
        const s = load({});
        expect(Object.isFrozen(s)).toBe(true);
        expect(Object.isFrozen(s.kafka.externalPorts)).toBe(true);
        expect(() => {
            (s.kafka as { brokers: number }).brokers = 9;
        }).toThrow(TypeError);
    });
});

describe("topics", () => {
    it("has the ten catalog topics with 33 partitions and 99 replicas", () => {
        const s = load({});
        expect(s.topics).toHaveLength(10);
        expect(s.topics.reduce((n, t) => n + t.partitions, 0)).toBe(33);
        expect(s.topics.reduce((n, t) => n + t.partitions * t.replicationFactor, 0)).toBe(99);
        expect(s.topics.find((t) => t.name === "bss.audit.events")!.config["retention.ms"]).toBe(String(365 * 86400000));
    });

    it("applies overrides and adds topics not in the catalog", () => {
        const s = load({
            "bss:topics": {
                "bss.events": { partitions: 12, retentionMs: 86400000, config: { "compression.type": "zstd" } },
                "bss.fraud.alerts": { partitions: 2 },
            },
        });
        const events = s.topics.find((t) => t.name === "bss.events")!;
        expect(events.partitions).toBe(12);
        expect(events.config).toMatchObject({ "retention.ms": "86400000", "compression.type": "zstd", "cleanup.policy": "delete", "min.insync.replicas": "2" });
        const added = s.topics.find((t) => t.name === "bss.fraud.alerts")!;
        expect(added).toMatchObject({ partitions: 2, replicationFactor: 3 });
        expect(s.topics).toHaveLength(11);
    });
});

describe("validation", () => {
    it.each([
        ["bss:kafka.brokers must be an integer from 1 to 50, got \"three\"", { "bss:kafka": { brokers: "three" } }],
        ["bss:kafka.brokers must be an integer from 1 to 50, got 0", { "bss:kafka": { brokers: 0 } }],
        ["bss:kafka.brokers must be an integer from 1 to 50, got 2.5", { "bss:kafka": { brokers: 2.5 } }],
        ["bss:zookeeper.replicas must be odd (a ZooKeeper quorum is a strict majority), got 2", { "bss:zookeeper": { replicas: 2 } }],
        ["bss:redis.masters must be 1 or at least 3", { "bss:redis": { masters: 2 } }],
        ["bss:redis.replicasPerMaster must be an integer from 0 to 5, got -1", { "bss:redis": { replicasPerMaster: -1 } }],
        ["bss:namespace must be a DNS-1123 label", { "bss:namespace": "Core_BSS" }],
        ["bss:environment must be one of \"dev\", \"prod\", got \"staging\"", { "bss:environment": "staging" }],
        ["bss:kafka.externalHost must be a host name or IP address, got \"not a host\"", { "bss:kafka": { externalHost: "not a host" } }],
        ["bss:kafka.image must be an image reference with a pinned tag or digest (not \"latest\"), got \"apache/kafka:latest\"", { "bss:kafka": { image: "apache/kafka:latest" } }],
        ["bss:kafka.storageSize must be a Kubernetes quantity", { "bss:kafka": { storageSize: "ten gigs" } }],
        ["bss:kafka.defaultReplicationFactor must be at most bss:kafka.brokers (3), got 4", { "bss:kafka": { defaultReplicationFactor: 4 } }],
        ["bss:kafka.minInsyncReplicas must be lower than the replication factor 3 (or 1 when it is 1), got 3", { "bss:kafka": { minInsyncReplicas: 3 } }],
        ["bss:kafka.nodePortBase must be an integer from 30000 to 32767, got 8080", { "bss:kafka": { nodePortBase: 8080 } }],
        ["bss:kafka.nodePortBase puts broker 2 outside 30000-32767 (32766 + 2), got 32766", { "bss:kafka": { nodePortBase: 32766 } }],
        ["bss:kafka.externalPortBase leaves no port for broker 2 (65534 + 2 > 65535), got 65534", { "bss:kafka": { externalPortBase: 65534 } }],
        ["bss:topics.bss.events.replicationFactor must be at most bss:kafka.brokers (3), got 4", { "bss:topics": { "bss.events": { replicationFactor: 4 } } }],
        ["bss:topics.bss.events.partitions must be an integer from 1 to 10000, got 0", { "bss:topics": { "bss.events": { partitions: 0 } } }],
        ["bss:topics.bss.events retention.ms must be -1 (keep forever) or a positive number of milliseconds, got \"0\"", { "bss:topics": { "bss.events": { retentionMs: 0 } } }],
        ["bss:topics.bss.events min.insync.replicas must be lower than the replication factor 3 (or 1 when it is 1), got 3", { "bss:topics": { "bss.events": { config: { "min.insync.replicas": 3 } } } }],
        ["bss:topics.bad topic!: topic names are 1-249 characters", { "bss:topics": { "bad topic!": {} } }],
        ["bss:topics.bss_events collides with topic \"bss.events\"", { "bss:topics": { bss_events: {} } }],
        ["bss:kong.rateLimitRedis must be set (\"host:port\") when bss:kong.rateLimitPolicy is \"redis\", got nothing", { "bss:kong": { rateLimitPolicy: "redis" } }],
        ["bss:kong.rateLimitPolicy must be one of \"local\", \"redis\", got \"cluster\"", { "bss:kong": { rateLimitPolicy: "cluster" } }],
    ])("reports %s", (message, values) => {
        expect(problems(values).some((p) => p.startsWith(message))).toBe(true);
    });

    it("refuses unknown keys under bss: and unknown fields inside objects", () => {
        const found = problems({ "bss:kafak": { brokers: 3 }, "bss:kafka": { broker: 3 }, "other:key": "ignored" });
        expect(found).toEqual(expect.arrayContaining([
            expect.stringMatching(/^bss:kafak is not a known setting \(known: .*bss:kafka.*\), got \{"brokers":3\}$/),
            expect.stringMatching(/^bss:kafka\.broker is not a known setting \(known: .*brokers.*\), got 3$/),
        ]));
        expect(found).toHaveLength(2);
    });

    it("refuses a nodePort used twice across components", () => {
        expect(problems({ "bss:redis": { hostAccess: true, nodePort: 30093 } })).toContain(
            "bss:redis.nodePort uses nodePort 30093, already taken by bss:kafka.nodePortBase (broker 1)",
        );
    });

    it("reports every problem at once", () => {
        const found = problems({
            "bss:namespace": "BAD",
            "bss:kafka": { brokers: "three" },
            "bss:zookeeper": { replicas: 4 },
            "bss:redis": { masters: 2 },
        });
        expect(found.length).toBe(4);
        expect(found.map((p) => p.split(" ")[0])).toEqual(["bss:namespace", "bss:kafka.brokers", "bss:zookeeper.replicas", "bss:redis.masters"]);
    });

    it("puts every problem in the error message, one per line", () => {
        expect(() => load({ "bss:kafka": { brokers: 0 }, "bss:zookeeper": { replicas: 2 } })).toThrow(
            /Invalid stack configuration \(2 problems\):\n  - bss:kafka\.brokers .*\n  - bss:zookeeper\.replicas .*/,
        );
    });
});

describe("secrets", () => {
    const password = "s3cret-password-of-24-chars";

    it("wraps secret overrides so they never print", () => {
        const s = load({ "bss:redisPassword": password }, ["bss:redisPassword"]);
        expect(s.secrets.redisPassword!.reveal()).toBe(password);
        expect(JSON.stringify(s)).not.toContain(password);
        expect(`${s.secrets.redisPassword}`).toBe("<redacted>");
    });

    it("refuses a secret set as plain config, without echoing it", () => {
        const found = problems({ "bss:redisPassword": password });
        expect(found).toEqual(["bss:redisPassword must be set as a secret (pulumi config set --secret bss:redisPassword ...), got a plain value"]);
        expect(found.join()).not.toContain(password);
    });

    it("refuses a short secret, naming only its length", () => {
        expect(problems({ "bss:akhqPassword": "short" }, ["bss:akhqPassword"])).toEqual([
            "bss:akhqPassword must be 12 or more characters without spaces, got a value of 5 characters",
        ]);
    });

    it("reads Kong consumer keys and refuses unknown consumers and weak keys", () => {
        const good = "A".repeat(32);
        const s = load({ "bss:kongApiKeys": { "bss-mobile": good } }, ["bss:kongApiKeys"]);
        expect(s.secrets.kongApiKeys["bss-mobile"]!.map((key) => key.reveal())).toEqual([good]);
        expect(s.secrets.kongApiKeys["bss-frontend"]).toBeUndefined();

        const found = problems({ "bss:kongApiKeys": { "bss-partnr": good, "bss-frontend": "weak" } }, ["bss:kongApiKeys"]);
        expect(found).toEqual([
            "bss:kongApiKeys.bss-partnr is not a Kong consumer (known: bss-frontend, bss-mobile, bss-partner), got \"bss-partnr\"",
            "bss:kongApiKeys.bss-frontend must be 24 or more characters of letters, digits, '-' and '_', got a value of 4 characters",
        ]);
    });
});
