/**
 * The BSS topics on real Kafka 3.9.2: three brokers and ZooKeeper of the rendered dev stack on the real test cluster
 * (tests/kafka/cluster-harness.ts), reached from the host on the addresses the Pulumi Kafka provider gets
 * (`kafka-topics.yaml` → provider.bootstrapServers, plaintext as `tlsEnabled: false` says), through the NodePorts
 * and kind's port maps.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Admin, ConfigResourceTypes, Kafka, logLevel, Partitioners, Producer } from "kafkajs";
import { KAFKA_TOPIC_CONFIGS } from "../../components/topics/topic-configs";
import { KafkaTopicsFile } from "../../render/outputs";
import { RunningKafkaCluster } from "../kafka/cluster-harness";
import { KAFKA_CLASSPATH } from "../kafka/kafka-home";

let cluster: RunningKafkaCluster;
let topicsFile: KafkaTopicsFile;
let kafka: Kafka;
let admin: Admin;
const figures: Record<string, number | string> = {};

/** Polls `check` every 500 ms until it returns true; throws `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check().catch(() => false)) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

/** Kafka error codes along a kafkajs error's cause chain (retries exhausted → protocol error). */
function errorTypes(error: unknown): string[] {
    const types: string[] = [];
    for (let e = error as { type?: string; cause?: unknown; name?: string } | undefined; e; e = e.cause as typeof e) {
        types.push(e.type ?? e.name ?? "unknown");
    }
    return types;
}

async function partitionsOf(topic: string, via: Admin = admin) {
    const metadata = await via.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0].partitions;
}

/** Sum of the high watermarks: the records a consumer can read, i.e. the ones acknowledged with acks=all. */
async function committedRecords(topic: string, via: Admin = admin): Promise<number> {
    const offsets = await via.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

interface VerifiableProducerRun {
    /** Values whose send the producer saw acknowledged (acks=all). */
    acknowledged: Set<string>;
    /** Sends the producer gave up on. */
    errors: string[];
    /** The tool's own log (stderr), for failure messages. */
    log(): string;
    /** Resolves with the exit code once the producer has sent everything (kills it after `timeoutMs`). */
    finished(timeoutMs: number): Promise<number | null>;
}

const producers = new Set<ChildProcess>();

/**
 * Kafka's own VerifiableProducer (the tool Kafka's system tests use) on the host, dialing the provider's bootstrap
 * addresses: an idempotent, acks=all producer of the values "0".."count-1" that reports every acknowledgement.
 * The Java client closes a connection whose request timed out and refreshes metadata, so it fails over from a
 * broker whose connections died silently; kafkajs 2.2.4 keeps retrying on the dead connection (see README).
 */
function startVerifiableProducer(topic: string, count: number, perSecond: number): VerifiableProducerRun {
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-producer-"));
    const configFile = path.join(configDir, "producer.properties");
    fs.writeFileSync(configFile, ["enable.idempotence=true", "acks=all", "retries=2147483647", "request.timeout.ms=5000", "delivery.timeout.ms=120000", ""].join("\n"));
    const child = spawn("java", [
        "-cp", KAFKA_CLASSPATH, "org.apache.kafka.tools.VerifiableProducer",
        "--bootstrap-server", topicsFile.provider!.bootstrapServers.join(","), "--topic", topic,
        "--max-messages", String(count), "--throughput", String(perSecond), "--acks", "-1", "--producer.config", configFile,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    producers.add(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-20_000);
    });
    const run: VerifiableProducerRun = { acknowledged: new Set(), errors: [], log: () => stderr, finished: () => Promise.resolve(null) };
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines.filter((l) => l.startsWith("{"))) {
            const event = JSON.parse(line) as { name: string; value?: string; exception?: string; message?: string };
            if (event.name === "producer_send_success") {
                run.acknowledged.add(event.value!);
            } else if (event.name === "producer_send_error") {
                run.errors.push(`${event.value}: ${event.exception} ${event.message}`);
            }
        }
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
        producers.delete(child);
        fs.rmSync(configDir, { recursive: true, force: true });
        resolve(code);
    }));
    run.finished = async (timeoutMs) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        try {
            return await exited;
        } finally {
            clearTimeout(timer);
        }
    };
    return run;
}

/** Every record of `topic` from the beginning, counted by value, once `expected` records have arrived. */
async function consumeAll(topic: string, expected: number): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: `verify-${topic}-${Date.now()}` });
    await consumer.connect();
    try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
            eachMessage: async ({ message }) => {
                const value = message.value!.toString();
                seen.set(value, (seen.get(value) ?? 0) + 1);
            },
        });
        await until(`${expected} records consumed from ${topic}`, 120_000, async () => [...seen.values()].reduce((a, b) => a + b, 0) >= expected);
    } finally {
        await consumer.disconnect();
    }
    return seen;
}

process.on("exit", () => producers.forEach((child) => child.kill("SIGKILL")));

/**
 * Runs `use` with a fresh admin client bootstrapped from `brokers` only. kafkajs keeps dialling a broker whose
 * connections died without a reset (a killed pod's network vanishes with it), so after a kill the tests ask
 * brokers that are alive, over new connections.
 */
async function withAdmin<T>(brokers: string[], use: (via: Admin) => Promise<T>): Promise<T> {
    const fresh = client(brokers).admin();
    await fresh.connect();
    try {
        return await use(fresh);
    } finally {
        await fresh.disconnect();
    }
}

/** A kafkajs client bootstrapped from `brokers`, plaintext as the provider's `tlsEnabled: false` says. */
function client(brokers: string[], requestTimeout = 5_000): Kafka {
    return new Kafka({
        clientId: "bss-topics-test",
        brokers,
        ssl: topicsFile.provider!.tlsEnabled,
        logLevel: logLevel.NOTHING,
        requestTimeout,
        connectionTimeout: 1_000,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
}

/** Registers the suite on a Kafka it shares (tests/kafka/shared-kafka.integration.test.ts); it leaves that Kafka as it found it. */
export function topicsSuite(shared: () => RunningKafkaCluster): void {
    beforeAll(async () => {
        const started = Date.now();
        cluster = shared();
        topicsFile = cluster.rendered.kafkaTopics;
        expect(topicsFile.provider).toEqual({ bootstrapServers: cluster.externalBootstrap, tlsEnabled: false });
        kafka = client(topicsFile.provider!.bootstrapServers);
        admin = kafka.admin();
        await admin.connect();
        const createStarted = Date.now();
        // Exactly the name, counts and config map each kafka.Topic resource gets. One request for the ten topics: its
        // own client and bounds, because 33 partitions on a loaded 2-core machine can outlast the 5 s the other
        // requests are given (the controller's default timeout, which kafkajs also uses as the request's bound).
        const creator = client(topicsFile.provider!.bootstrapServers, 60_000).admin();
        await creator.connect();
        const created = await creator.createTopics({
            timeout: 45_000,
            waitForLeaders: true,
            topics: topicsFile.topics.map((topic) => ({
                topic: topic.name,
                numPartitions: topic.partitions,
                replicationFactor: topic.replicationFactor,
                configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
            })),
        });
        await creator.disconnect();
        expect(created).toBe(true);
        figures.createTopicsMs = Date.now() - createStarted;
        figures.beforeAllMs = Date.now() - started;
    }, 3_000_000);

    afterAll(async () => {
        producers.forEach((child) => child.kill("SIGKILL"));
        await admin?.disconnect().catch(() => undefined);
        await cluster.reset();
        console.log(`topics integration figures: ${JSON.stringify(figures)}`);
    }, 300_000);

    describe("the catalog on Kafka", () => {
        it("describes every topic back with the partitions, replication and config the provider was given", async () => {
            // createTopics returns once the controller has leaders; the broker answering may learn them a moment later.
            let metadata: Awaited<ReturnType<Admin["fetchTopicMetadata"]>> = { topics: [] };
            await until("every catalog topic's leaders and replicas in the metadata", 30_000, async () => {
                metadata = await admin.fetchTopicMetadata({ topics: topicsFile.topics.map((t) => t.name) });
                return metadata.topics.length === topicsFile.topics.length
                    && metadata.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length));
            });
            expect(metadata.topics).toHaveLength(10);
            for (const topic of topicsFile.topics) {
                const described = metadata.topics.find((t) => t.name === topic.name)!;
                expect(described.partitions).toHaveLength(topic.partitions);
                for (const partition of described.partitions) {
                    expect(new Set(partition.replicas).size).toBe(topic.replicationFactor);
                    expect(partition.isr).toHaveLength(topic.replicationFactor);
                }
            }
            expect(metadata.topics.reduce((n, t) => n + t.partitions.length, 0)).toBe(33);
            expect(metadata.topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.replicas.length, 0), 0)).toBe(99);

            const configs = await admin.describeConfigs({
                includeSynonyms: false,
                resources: topicsFile.topics.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name })),
            });
            for (const topic of topicsFile.topics) {
                const entries = configs.resources.find((r) => r.resourceName === topic.name)!.configEntries;
                const value = (name: string) => entries.find((e) => e.configName === name);
                for (const [name, expected] of Object.entries(topic.config)) {
                    expect({ name, value: value(name)?.configValue, isDefault: value(name)?.isDefault }).toEqual({ name, value: expected, isDefault: false });
                }
                expect(Number(value("retention.ms")!.configValue)).toBe(Number(topic.config["retention.ms"]));
                expect(value("min.insync.replicas")!.configValue).toBe("2");
            }
        });

        it("knows exactly the topic config keys the settings accept", async () => {
            const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: "bss.events" }] });
            const names = configs.resources[0].configEntries.map((e) => e.configName).sort();
            expect(names).toEqual([...KAFKA_TOPIC_CONFIGS].sort());
        });

        it("rejects a config key it does not know, as the settings do before deployment", async () => {
            await expect(admin.createTopics({
                topics: [{ topic: "bss.typo.check", numPartitions: 1, replicationFactor: 3, configEntries: [{ name: "retention.msx", value: "1000" }] }],
            })).rejects.toMatchObject({ errors: [expect.objectContaining({ type: "INVALID_CONFIG", topic: "bss.typo.check" })] });
        });
    });

    describe("durability of an RF 3 / min ISR 2 topic", () => {
        const topic = "bss.events";

        it("loses no acknowledged record and duplicates none when a broker is SIGKILLed mid-stream and restarted", async () => {
            const topicConfig = topicsFile.topics.find((t) => t.name === topic)!;
            expect([topicConfig.replicationFactor, topicConfig.config["min.insync.replicas"]]).toEqual([3, "2"]);

            // A broker may still lack the topic in its metadata cache (UNKNOWN_TOPIC_OR_PARTITION) right after creation.
            let partitions: Awaited<ReturnType<typeof partitionsOf>> = [];
            await until(`${topic}'s leaders in the metadata`, 30_000, async () => {
                partitions = await partitionsOf(topic);
                return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
            });
            const victim = partitions.find((p) => p.partitionId === 0)!.leader;
            const producer = startVerifiableProducer(topic, 6_000, 100);
            await until("the first acknowledged records", 60_000, async () => producer.acknowledged.size >= 300)
                .catch((err) => Promise.reject(new Error(`${err.message}; producer log:\n${producer.log()}`)));

            const acknowledgedAtKill = producer.acknowledged.size;
            const killedAt = Date.now();
            await cluster.killBroker(victim, "SIGKILL");
            // The controller moves leadership once the dead broker's ZooKeeper session expires (18 s); restarting
            // before that would collide with the old registration.
            await withAdmin(cluster.externalBootstrap.filter((_, id) => id !== victim), (live) =>
                until(`leadership away from broker ${victim}`, 90_000,
                    async () => (await partitionsOf(topic, live)).every((p) => p.leader !== victim && p.leader >= 0)));
            figures.failoverMs = Date.now() - killedAt;
            await cluster.restartBroker(victim);
            figures.brokerDownMs = Date.now() - killedAt;
            const exit = await producer.finished(180_000);
            const committed = await withAdmin(cluster.externalBootstrap, async (all) => {
                await until(`broker ${victim} back in the ISR of every ${topic} partition`, 90_000,
                    async () => (await partitionsOf(topic, all)).every((p) => p.isr.includes(victim)));
                return committedRecords(topic, all);
            });
            const seen = await consumeAll(topic, committed);
            figures.acknowledged = producer.acknowledged.size;
            figures.producerErrors = producer.errors.length;
            figures.consumed = [...seen.values()].reduce((a, b) => a + b, 0);

            expect(exit).toBe(0);
            // The kill came mid-stream, and the producer went on to the end through the outage.
            expect(acknowledgedAtKill).toBeGreaterThanOrEqual(300);
            expect(acknowledgedAtKill).toBeLessThan(6_000);
            expect([...producer.acknowledged].filter((value) => !seen.has(value))).toEqual([]);
            expect([...seen.entries()].filter(([, count]) => count > 1)).toEqual([]);
            expect(figures.consumed).toBe(committed);
            // With idempotence and delivery retries the producer outlasts the failover: nothing was given up.
            expect(producer.errors).toEqual([]);
            expect(producer.acknowledged.size).toBe(6_000);
        });

        it("refuses acks=all produce with two brokers down instead of accepting it", async () => {
            const survivor = 0;
            // Scaling the StatefulSet to one takes brokers 2 and 1 away (highest ordinal first, each with a controlled
            // shutdown, which takes the broker out of every ISR at once): the ISR drops below min ISR 2.
            await cluster.scaleBrokers(1);
            const survivorClient = client([cluster.externalBootstrap[survivor]]);
            await withAdmin([cluster.externalBootstrap[survivor]], async (survivorAdmin) => {
                await until(`every ${topic} partition led by broker ${survivor} with ISR [${survivor}]`, 90_000,
                    async () => (await partitionsOf(topic, survivorAdmin)).every((p) => p.leader === survivor && p.isr.length === 1));
                const before = await committedRecords(topic, survivorAdmin);

                // The survivor has just taken over the transaction-state partitions and answers InitProducerId with
                // COORDINATOR_LOAD_IN_PROGRESS until it has loaded them; kafkajs does not retry that.
                let producer: Producer | undefined;
                await until("a producer id from the surviving broker", 60_000, async () => {
                    const candidate = survivorClient.producer({
                        idempotent: true,
                        maxInFlightRequests: 1,
                        createPartitioner: Partitioners.DefaultPartitioner,
                        retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
                    });
                    try {
                        await candidate.connect();
                    } catch (err) {
                        await candidate.disconnect().catch(() => undefined);
                        throw err;
                    }
                    producer = candidate;
                    return true;
                });
                let error: unknown;
                try {
                    await producer!.send({ topic, acks: -1, timeout: 5_000, messages: [{ key: "refused", value: "refused" }] });
                } catch (err) {
                    error = err;
                } finally {
                    await producer!.disconnect();
                }
                const types = errorTypes(error);
                figures.twoDownError = types.join(" <- ");
                expect(types.some((type) => /^NOT_ENOUGH_REPLICAS(_AFTER_APPEND)?$/.test(type))).toBe(true);
                expect(await committedRecords(topic, survivorAdmin)).toBe(before);
            }).finally(() => cluster.scaleBrokers(3));
        });
    });
}
