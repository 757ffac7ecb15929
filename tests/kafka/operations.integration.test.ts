/**
 * Kafka day-2 on the real test cluster, under load (issue 13): the dev stack with a 3-member ensemble, the rendered
 * objects applied as `pulumi up` would apply them, the StatefulSet controller doing every roll and scale, the kubelets'
 * probes saying when a pod is Ready. Each scenario runs Kafka's own VerifiableProducer (idempotent, acks=all, numbered
 * records at a steady rate) inside the cluster network on a declared topic of its own, stops it gracefully once the
 * scenario is over, and reads the topic back with Kafka's console consumer:
 *   0. each broker's broker.rack is its node's zone (the API server's PodTopologyLabels), RF 3 partitions span three racks;
 *   1. a config change rolls the three brokers;
 *   2. three brokers become five without restarting the three, and the rebalance Job spreads every declared topic over
 *      them, every RF 3 partition in three zones (and a second run moves nothing);
 *   3. five back to three is refused while brokers 3 and 4 are not drained; `npm run kafka:drain` empties them; then it
 *      goes through, again without restarting brokers 0-2;
 *   4. the ZooKeeper ensemble is rolled; 5. a whole node is lost.
 * Every scenario: no acknowledged record lost, none duplicated, no send failed after the producer's retries.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { clusterManifests, renderForCluster } from "../helpers/cluster-stack";
import { RenderedStack, ROOT, stackFile } from "../helpers/render";
import { CLIENT_NETNS, eventually, NodeName, run, sleep } from "../helpers/test-cluster";
import { StackConfig } from "../../render/render";
import { brokerRemovalProblems, deployedBrokers, drainedBrokers } from "../../components/kafka/rebalance/broker-guard";
import { RunningKafkaCluster, startKafkaCluster } from "./cluster-harness";
import { KAFKA_CLASSPATH } from "./kafka-home";
import { kafkajsInside, kafkaTool } from "./clients";
import { ZONE_LABEL } from "../../components/kafka/objects";
import { parseTopicDescribe } from "../../scripts/kafka-drain";

jest.setTimeout(900_000);

const KUBECTL = path.join(process.env.TEST_CLUSTER_CACHE ?? path.join(ROOT, ".cache", "test-cluster"), "bin", "kubectl");
const RATE = 500;

let cluster: RunningKafkaCluster;
const figures: Record<string, unknown> = {};
const producers = new Set<ChildProcess>();

/** The dev stack with a 3-member ensemble (one per node) and `kafka` merged into bss:kafka. */
function stackConfig(kafka: Record<string, unknown> = {}): StackConfig {
    const dev = stackFile("dev");
    return {
        values: {
            ...dev.values,
            "bss:kafka": JSON.stringify({ ...JSON.parse(dev.values["bss:kafka"]), ...kafka }),
            "bss:zookeeper": JSON.stringify({ replicas: 3, placement: "required" }),
        },
        secretKeys: dev.secretKeys,
    };
}

const isRebalance = (m: Record<string, any>) => /^kafka-rebalance-/.test(m.metadata?.name ?? "");
/** What `pulumi up` applies of Kafka and ZooKeeper for `rendered`: the brokers' objects, or only the rebalance Job's. */
function kafkaObjects(rendered: RenderedStack, rebalance: boolean): Record<string, any>[] {
    return clusterManifests(rendered, { rebalanceJob: true }).filter((m) => m.kind !== "Namespace" && /^(kafka|zookeeper)/.test(m.metadata?.name ?? "") && isRebalance(m) === rebalance);
}

interface LoadRun {
    topic: string;
    acknowledged: Set<string>;
    errors: string[];
    /** Timestamps (ms) of the acknowledgements, in order. */
    ackTimes: number[];
    stop(): Promise<void>;
    log(): string;
}

/** Kafka's VerifiableProducer inside the cluster network: idempotent, acks=all, RATE numbered records per second until stopped. */
function startLoad(topic: string): LoadRun {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-ops-producer-"));
    const config = path.join(dir, "producer.properties");
    fs.writeFileSync(config, ["enable.idempotence=true", "acks=all", "retries=2147483647", "request.timeout.ms=5000", "delivery.timeout.ms=120000", ""].join("\n"));
    const child = spawn("ip", ["netns", "exec", CLIENT_NETNS, "java", "-Xmx256m", "-cp", KAFKA_CLASSPATH, "org.apache.kafka.tools.VerifiableProducer",
        "--bootstrap-server", cluster.internalBootstrap, "--topic", topic, "--max-messages", "-1", "--throughput", String(RATE),
        "--acks", "-1", "--producer.config", config], { stdio: ["ignore", "pipe", "pipe"] });
    producers.add(child);
    const load: LoadRun = { topic, acknowledged: new Set(), errors: [], ackTimes: [], stop: async () => undefined, log: () => stderr };
    let stderr = "";
    let buffered = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    child.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines.filter((l) => l.startsWith("{"))) {
            const event = JSON.parse(line) as { name: string; value?: string; timestamp?: number; exception?: string; message?: string };
            if (event.name === "producer_send_success") {
                load.acknowledged.add(event.value!);
                load.ackTimes.push(event.timestamp ?? Date.now());
            } else if (event.name === "producer_send_error") {
                load.errors.push(`${event.value}: ${event.exception} ${event.message}`);
            }
        }
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => {
        producers.delete(child);
        fs.rmSync(dir, { recursive: true, force: true });
        resolve();
    }));
    load.stop = async () => {
        // SIGTERM: the tool's shutdown hook closes the producer, which waits for every record in flight.
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
        await exited;
        clearTimeout(timer);
    };
    return load;
}

/** Waits until the load has `count` acknowledgements (it is flowing) before a scenario acts. */
async function flowing(load: LoadRun, count = 2 * RATE): Promise<void> {
    await eventually(`${count} acknowledged records on ${load.topic}`, 120_000, async () => load.acknowledged.size >= count, 500)
        .catch((error) => Promise.reject(new Error(`${error.message}\nproducer log:\n${load.log()}`)));
}

/** Sum of the topic's end offsets, asked inside the cluster. */
async function endOffsets(topic: string): Promise<number> {
    const out = await kafkaTool(cluster, "GetOffsetShell", ["--bootstrap-server", cluster.internalBootstrap, "--topic", topic, "--time", "-1"]);
    return out.split("\n").filter((l) => l.startsWith(`${topic}:`)).reduce((n, l) => n + Number(l.split(":")[2]), 0);
}

/** Every value of `topic` from the beginning, read by the console consumer in a fresh group. */
async function consumeAll(topic: string, expected: number): Promise<string[]> {
    const result = await cluster.runClient(["java", "-Xmx256m", "-cp", KAFKA_CLASSPATH, "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", cluster.internalBootstrap, "--topic", topic, "--from-beginning", "--group", `verify-${topic}-${Date.now()}`,
        "--max-messages", String(expected), "--timeout-ms", "60000"], { timeoutMs: 240_000 });
    return result.stdout.split("\n").filter(Boolean);
}

interface Counts {
    acknowledged: number;
    consumed: number;
    lost: number;
    duplicated: number;
    failedSends: number;
    longestStallMs: number;
}

/** Stops the load, reads everything back and returns the counts (recorded under `scenario` in the figures). */
async function finish(scenario: string, load: LoadRun, extra: Record<string, unknown> = {}): Promise<Counts> {
    await load.stop();
    const committed = await endOffsets(load.topic);
    const values = await consumeAll(load.topic, committed);
    const seen = new Map<string, number>();
    values.forEach((v) => seen.set(v, (seen.get(v) ?? 0) + 1));
    const gaps = load.ackTimes.slice(1).map((t, i) => t - load.ackTimes[i]);
    const counts: Counts = {
        acknowledged: load.acknowledged.size,
        consumed: values.length,
        lost: [...load.acknowledged].filter((v) => !seen.has(v)).length,
        duplicated: [...seen.values()].filter((n) => n > 1).length,
        failedSends: load.errors.length,
        longestStallMs: Math.max(0, ...gaps),
    };
    figures[scenario] = { ...counts, committed, ...extra };
    console.log(`${scenario}: ${JSON.stringify(figures[scenario])}`);
    if (load.errors.length > 0) {
        console.log(`${scenario}: first failed sends: ${load.errors.slice(0, 5).join("; ")}`);
    }
    expect(committed).toBe(values.length);
    return counts;
}

const clean = (counts: Counts) => ({ lost: counts.lost, duplicated: counts.duplicated, failedSends: counts.failedSends });

async function partitionsOf(topics?: string[]) {
    const args = ["--bootstrap-server", cluster.internalBootstrap, "--describe", ...(topics ? ["--topic", topics.join("|")] : [])];
    return parseTopicDescribe(await kafkaTool(cluster, "TopicCommand", args));
}

/** broker.id → broker.rack as the brokers announce them in their metadata (kafka-broker-api-versions: "(id: 0 rack: zone-a)"). */
async function brokerRacks(): Promise<Map<number, string>> {
    const out = await kafkaTool(cluster, "kafka.admin.BrokerApiVersionsCommand", ["--bootstrap-server", cluster.internalBootstrap]);
    return new Map([...out.matchAll(/ \(id: (\d+) rack: ([^\s)]+)/g)].map((m) => [Number(m[1]), m[2]]));
}

/** broker.id → the zone label of the node its pod runs on, as the API server reports the node. */
async function brokerNodeZones(ids: number[]): Promise<Map<number, string | undefined>> {
    return new Map(await Promise.all(ids.map(async (id) => {
        const pod = await cluster.pod(cluster.brokerPod(id));
        const node = await cluster.cluster.json(["get", "node", pod!.node]);
        return [id, node.metadata.labels?.[ZONE_LABEL] as string | undefined] as const;
    })));
}

/** Partitions of `topics` whose replicas do not sit in as many racks as they have replicas. */
async function partitionsSharingARack(topics: string[], racks: Map<number, string>): Promise<string[]> {
    return (await partitionsOf(topics)).filter((p) => new Set(p.replicas.map((id) => racks.get(id))).size !== p.replicas.length)
        .map((p) => `${p.topic}-${p.partition}:${p.replicas.map((id) => `${id}@${racks.get(id)}`).join(",")}`);
}

/** Pod uid and restart count of brokers `ids`: unchanged means the broker was not restarted. */
async function brokerIncarnations(ids: number[]): Promise<string[]> {
    return Promise.all(ids.map(async (id) => {
        const pod = await cluster.pod(cluster.brokerPod(id));
        return `kafka-${id}:${pod?.uid}:${pod?.restarts}`;
    }));
}

async function statefulSet(name: string): Promise<any> {
    return cluster.cluster.json(["-n", cluster.namespace, "get", "statefulset", name]);
}

/** Waits until the StatefulSet's rollout is complete: every replica on the update revision and Ready. */
async function rolledOut(name: string, replicas: number, timeoutMs = 600_000): Promise<void> {
    await eventually(`${name} rolled out to ${replicas} Ready replicas`, timeoutMs, async () => {
        const s = await statefulSet(name);
        return s.status.observedGeneration === s.metadata.generation && s.status.updateRevision === s.status.currentRevision
            && s.status.updatedReplicas === replicas && s.status.readyReplicas === replicas && (s.status.replicas ?? 0) === replicas;
    }, 2_000);
}

/** Applies the rendered rebalance Job and waits for it to succeed; returns its log and how long it ran. */
async function runRebalanceJob(rendered: RenderedStack, brokers: number): Promise<{ log: string; ms: number }> {
    const name = `kafka-rebalance-${brokers}`;
    await cluster.cluster.kubectlResult(["-n", cluster.namespace, "delete", "job", name, "--wait=true", "--ignore-not-found"]);
    const started = Date.now();
    await cluster.cluster.apply(kafkaObjects(rendered, true));
    await eventually(`Job ${name} succeeded`, 600_000, async () => {
        const job = await cluster.cluster.json(["-n", cluster.namespace, "get", "job", name]);
        if ((job.status.failed ?? 0) > 0) {
            throw new Error(`Job ${name} has ${job.status.failed} failed pod(s)`);
        }
        return (job.status.succeeded ?? 0) >= 1;
    }, 2_000).catch(async (error) => {
        const logs = await cluster.cluster.kubectlResult(["-n", cluster.namespace, "logs", `job/${name}`, "--tail=60"]);
        throw new Error(`${error.message}\n${logs.stdout}${logs.stderr}`);
    });
    const ms = Date.now() - started;
    const logs = await cluster.cluster.kubectl(["-n", cluster.namespace, "logs", `job/${name}`]);
    return { log: logs, ms };
}

let threeBrokers: RenderedStack;
let declared: string[];

beforeAll(async () => {
    cluster = await startKafkaCluster({ config: stackConfig() });
    figures.startupMs = cluster.startupMs;
    threeBrokers = cluster.rendered;
    declared = threeBrokers.kafkaTopics.topics.map((t) => t.name);
    // The declared topics, as the Kafka provider creates them (names, counts, configs), before the first scenario: one
    // CreateTopics request, as the provider sends them, rather than a JVM per topic.
    const created = threeBrokers.kafkaTopics.topics.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value: String(value) })) }));
    await kafkajsInside(cluster, [cluster.internalBootstrap], `
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: ${JSON.stringify(created)}, waitForLeaders: true });
        const names = await admin.listTopics();
        await admin.disconnect();
        return names;`);
    expect((await partitionsOf(declared)).length).toBe(threeBrokers.kafkaTopics.topics.reduce((n, t) => n + t.partitions, 0));
    // __consumer_offsets (RF 3) is created by the first group while three brokers live; after the node loss only two do.
    // The group's first FindCoordinator creates it: the consumer need not wait long for a record.
    await cluster.runClient(["java", "-Xmx256m", "-cp", KAFKA_CLASSPATH, "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", cluster.internalBootstrap, "--topic", declared[0], "--group", "warm-up", "--max-messages", "1", "--timeout-ms", "5000"], { timeoutMs: 120_000 });
    await eventually("__consumer_offsets created", 60_000, async () => (await partitionsOf(["__consumer_offsets"])).length === 50, 2_000);
}, 3_000_000);

afterAll(async () => {
    producers.forEach((child) => child.kill("SIGKILL"));
    console.log(`kafka operations figures: ${JSON.stringify(figures)}`);
    await cluster?.stop();
}, 300_000);

it("sets each broker's broker.rack to the zone of its node, and puts the three replicas of every RF 3 partition in three racks", async () => {
    const racks = await brokerRacks();
    const zones = await brokerNodeZones([0, 1, 2]);
    figures.racks = Object.fromEntries(racks);
    expect([...zones.values()].every((z) => z && /^zone-/.test(z))).toBe(true);
    expect(Object.fromEntries(racks)).toEqual(Object.fromEntries(zones));
    const rf3 = threeBrokers.kafkaTopics.topics.filter((t) => t.replicationFactor === 3).map((t) => t.name);
    expect(rf3.length).toBeGreaterThan(0);
    expect(await partitionsSharingARack([...rf3, "__consumer_offsets"], racks)).toEqual([]);
});

it("rolls the three brokers one at a time on a config change, each back in the ISR before the next: nothing lost, duplicated or failed", async () => {
    const topic = "bss.events";
    const changed = await renderForCluster("dev", stackConfig({ logRetentionHours: 167 }));
    const before = await statefulSet("kafka");
    const load = startLoad(topic);
    await flowing(load);
    const started = Date.now();
    // Sampled while the roll runs: the smallest ISR of any partition of the topic, and how many brokers were not Ready at once.
    let minIsr = 3;
    let mostNotReady = 0;
    let rolling = true;
    const sampler = (async () => {
        while (rolling) {
            const pods = (await cluster.cluster.pods(cluster.namespace, "app.kubernetes.io/name=kafka")).filter((p) => !p.deleting);
            mostNotReady = Math.max(mostNotReady, 3 - pods.filter((p) => p.ready).length);
            const partitions = await partitionsOf([topic]).catch(() => []);
            partitions.forEach((p) => (minIsr = Math.min(minIsr, p.isr.length)));
            await sleep(1_000);
        }
    })();
    await cluster.cluster.apply(kafkaObjects(changed, false));
    await rolledOut("kafka", 3);
    const rollMs = Date.now() - started;
    rolling = false;
    await sampler;
    await sleep(2_000);
    const counts = await finish("configRoll", load, { rollMs, minIsrSeen: minIsr, mostBrokersNotReady: mostNotReady });

    const after = await statefulSet("kafka");
    expect(after.status.currentRevision).not.toBe(before.status.currentRevision);
    expect(mostNotReady).toBeLessThanOrEqual(1);
    expect(minIsr).toBeGreaterThanOrEqual(2);
    expect(clean(counts)).toEqual({ lost: 0, duplicated: 0, failedSends: 0 });
    expect(counts.acknowledged).toBeGreaterThan(0);
});

let fiveBrokers: RenderedStack;
let threeBrokersAgain: RenderedStack;

it("scales out from three brokers to five and spreads every declared topic over all five in three zones, none under-replicated; a second run moves nothing", async () => {
    const topic = "bss.order.events";
    fiveBrokers = await renderForCluster("dev", stackConfig({ logRetentionHours: 167, brokers: 5 }));
    const revision = (await statefulSet("kafka")).status.currentRevision;
    const running = await brokerIncarnations([0, 1, 2]);
    const load = startLoad(topic);
    await flowing(load);
    const started = Date.now();
    await cluster.cluster.apply(kafkaObjects(fiveBrokers, false));
    await rolledOut("kafka", 5);
    const brokersReadyMs = Date.now() - started;
    // The pod template does not change with the count: the three running brokers are neither replaced nor restarted.
    expect((await statefulSet("kafka")).status.currentRevision).toBe(revision);
    expect(await brokerIncarnations([0, 1, 2])).toEqual(running);
    const first = await runRebalanceJob(fiveBrokers, 5);
    await sleep(2_000);
    const counts = await finish("scaleOut3to5", load, { brokersReadyMs, reassignmentMs: first.ms });

    expect(first.log).toMatch(/kafka-rebalance: 5 brokers answer; placing 33 partition\(s\)/);
    expect(first.log).toMatch(/partition\(s\) to move, throttled to 52428800 bytes\/s/);
    expect(first.log).toMatch(/every partition in place after \d+ s; throttle removed/);
    const partitions = await partitionsOf();
    for (const name of declared) {
        const own = partitions.filter((p) => p.topic === name);
        expect([name, [...new Set(own.flatMap((p) => p.replicas))].sort()]).toEqual([name, [0, 1, 2, 3, 4]]);
    }
    expect(partitions.filter((p) => p.isr.length < p.replicas.length).map((p) => `${p.topic}-${p.partition}`)).toEqual([]);
    expect(clean(counts)).toEqual({ lost: 0, duplicated: 0, failedSends: 0 });
    // Rack-aware: every RF 3 declared partition in three zones. Five brokers on three nodes make zones of 2, 2 and 1
    // brokers, so counts cannot all be one apart: the broker alone in its zone holds a replica of every such
    // partition, and the brokers sharing a zone are at most one apart.
    const racks = await brokerRacks();
    expect(Object.fromEntries(racks)).toEqual(Object.fromEntries(await brokerNodeZones([0, 1, 2, 3, 4])));
    const rf3 = threeBrokers.kafkaTopics.topics.filter((t) => t.replicationFactor === 3);
    const rf3Partitions = rf3.reduce((n, t) => n + t.partitions, 0);
    expect(await partitionsSharingARack(rf3.map((t) => t.name), racks)).toEqual([]);
    const own = partitions.filter((p) => declared.includes(p.topic));
    const perBroker = new Map([0, 1, 2, 3, 4].map((id) => [id, own.filter((p) => p.replicas.includes(id)).length]));
    const byZone = new Map<string, number[]>();
    racks.forEach((zone, id) => byZone.set(zone, [...(byZone.get(zone) ?? []), perBroker.get(id)!]));
    figures.racksAtFive = Object.fromEntries(racks);
    figures.replicasPerBrokerAtFive = Object.fromEntries(perBroker);
    figures.zonesPerRf3PartitionAtFive = [...new Set(own.filter((p) => rf3.some((t) => t.name === p.topic)).map((p) => new Set(p.replicas.map((id) => racks.get(id))).size))];
    figures.rebalanceLayout = first.log.match(/kafka-rebalance: layout: (.*)/)?.[1];
    expect([...byZone.values()].map((zone) => zone.length).sort()).toEqual([1, 2, 2]);
    for (const [zone, held] of byZone) {
        expect([zone, held.length === 1 ? held[0] : Math.max(...held) - Math.min(...held) <= 1]).toEqual([zone, held.length === 1 ? rf3Partitions : true]);
    }
    expect(first.log).toMatch(/kafka-rebalance: layout: 33 partition\(s\) on 5 broker\(s\) in 3 rack\(s\) zone-/);

    const layout = partitions.filter((p) => declared.includes(p.topic)).map((p) => `${p.topic}-${p.partition}:${p.replicas}`).sort();
    const second = await runRebalanceJob(fiveBrokers, 5);
    expect(second.log).toMatch(/every partition is already in place; nothing to move/);
    expect((await partitionsOf()).filter((p) => declared.includes(p.topic)).map((p) => `${p.topic}-${p.partition}:${p.replicas}`).sort()).toEqual(layout);
});

it("refuses five back to three while brokers 3 and 4 hold replicas, touching nothing; after the drain it goes through", async () => {
    const topic = "bss.customer.events";
    const deployed = deployedBrokers({ kafkaBrokers: fiveBrokers.exports.kafkaBrokers, kafkaBrokerReplicas: fiveBrokers.exports.kafkaBrokerReplicas });
    const live = async () => {
        const s = await statefulSet("kafka");
        return { generation: s.metadata.generation as number, replicas: s.spec.replicas as number, drained: drainedBrokers(s.metadata.annotations, s.metadata.generation) };
    };
    const before = await live();
    const refused = brokerRemovalProblems(deployed, 3, "dev", before.drained);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^bss:kafka\.brokers cannot go from 5 to 3 while brokers 3,4 may hold replicas .*run `npm run kafka:drain -- --stack dev --brokers 3,4` first.*, got 3$/);
    expect(await live()).toEqual(before);
    expect((await partitionsOf()).some((p) => p.replicas.some((id) => id >= 3))).toBe(true);

    const load = startLoad(topic);
    await flowing(load);
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-ops-stack-"));
    const configFile = path.join(configDir, "Pulumi.dev.yaml");
    const five = stackConfig({ logRetentionHours: 167, brokers: 5 });
    fs.writeFileSync(configFile, yaml.dump({ config: Object.fromEntries(Object.entries(five.values).filter(([k]) => k.startsWith("bss:"))
        .map(([k, v]) => [k, /^[[{]/.test(v) ? JSON.parse(v) : v])) }));
    const drainStarted = Date.now();
    const drained = await run(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "kafka-drain.ts"),
        "--stack", "dev", "--brokers", "3,4", "--config-file", configFile, "--kubectl", KUBECTL, "--kubeconfig", cluster.cluster.kubeconfig,
        "--kube-context", "bss-test", "--poll-s", "2", "--timeout-s", "600"], { timeoutMs: 700_000 });
    const drainMs = Date.now() - drainStarted;
    fs.rmSync(configDir, { recursive: true, force: true });
    if (drained.code !== 0) {
        throw new Error(`kafka-drain exited ${drained.code}\nstdout:\n${drained.stdout}\nstderr:\n${drained.stderr}`);
    }
    expect(drained.stdout).toMatch(/kafka-drain: brokers 3,4 hold no replicas \(\d+ partition\(s\) moved in \d+ s, throttle removed\)/);
    expect((await partitionsOf()).filter((p) => p.replicas.some((id) => id >= 3)).map((p) => `${p.topic}-${p.partition}`)).toEqual([]);

    const marked = await live();
    expect(marked.drained).toEqual([3, 4]);
    expect(brokerRemovalProblems(deployed, 3, "dev", marked.drained)).toEqual([]);
    threeBrokersAgain = await renderForCluster("dev", stackConfig({ logRetentionHours: 167 }));
    const revision = (await statefulSet("kafka")).status.currentRevision;
    const remaining = await brokerIncarnations([0, 1, 2]);
    const scaleStarted = Date.now();
    await cluster.cluster.apply(kafkaObjects(threeBrokersAgain, false));
    await rolledOut("kafka", 3);
    await eventually("brokers 3 and 4 gone", 180_000, async () => !(await cluster.pod("kafka-3")) && !(await cluster.pod("kafka-4")));
    const scaleInMs = Date.now() - scaleStarted;
    expect((await statefulSet("kafka")).status.currentRevision).toBe(revision);
    expect(await brokerIncarnations([0, 1, 2])).toEqual(remaining);
    const rebalance = await runRebalanceJob(threeBrokersAgain, 3);
    await sleep(2_000);
    const counts = await finish("drainAndScaleIn5to3", load, { drainMs, scaleInMs, rebalanceAfterMs: rebalance.ms });

    expect((await partitionsOf()).filter((p) => p.isr.length < p.replicas.length || p.replicas.some((id) => id >= 3)).map((p) => `${p.topic}-${p.partition}`)).toEqual([]);
    expect(clean(counts)).toEqual({ lost: 0, duplicated: 0, failedSends: 0 });
    // A later change of the StatefulSet (here the scale-in itself) voids the drain's mark: a new lowering needs a new drain.
    expect((await live()).drained).toEqual([]);
});

it("rolls the three ZooKeeper members one at a time, each back in the ensemble before the next: nothing lost, duplicated or failed", async () => {
    const topic = "bss.payment.events";
    const load = startLoad(topic);
    await flowing(load);
    const started = Date.now();
    const before = new Map((await cluster.cluster.pods(cluster.namespace, "app.kubernetes.io/name=zookeeper")).map((p) => [p.name, p.uid]));
    expect(before.size).toBe(3);
    let worstSample: string[] = [];
    let worstAtMs = 0;
    let mostNotReady = 0;
    let mostReplacingAtOnce = 0;
    let rolling = true;
    const sampler = (async () => {
        while (rolling) {
            const pods = (await cluster.cluster.pods(cluster.namespace, "app.kubernetes.io/name=zookeeper")).filter((p) => !p.deleting);
            const members = [0, 1, 2].map((i) => ({ name: `zookeeper-${i}`, pod: pods.find((p) => p.name === `zookeeper-${i}`) }));
            // Being replaced: gone, or a new pod not Ready yet. A member the roll has not touched may still drop out of
            // Ready for a moment: when the leader restarts the others hold an election, which serves nothing.
            const replacing = members.filter((m) => !m.pod || (m.pod.uid !== before.get(m.name) && !m.pod.ready)).length;
            const notReady = 3 - pods.filter((p) => p.ready).length;
            if (notReady > mostNotReady) {
                worstSample = members.map((m) => (m.pod ? `${m.name}:${m.pod.ready ? "ready" : "not-ready"}:restarts=${m.pod.restarts}:uid=${m.pod.uid.slice(0, 8)}` : `${m.name}:absent`));
                worstAtMs = Date.now() - started;
            }
            mostNotReady = Math.max(mostNotReady, notReady);
            mostReplacingAtOnce = Math.max(mostReplacingAtOnce, replacing);
            await sleep(1_000);
        }
    })();
    await cluster.cluster.kubectl(["-n", cluster.namespace, "rollout", "restart", "statefulset/zookeeper"]);
    await rolledOut("zookeeper", 3);
    const rollMs = Date.now() - started;
    rolling = false;
    await sampler;
    await sleep(2_000);
    const counts = await finish("zookeeperRoll", load, { rollMs, mostMembersNotReady: mostNotReady, mostReplacingAtOnce, worstSample, worstAtMs });
    // One member at a time, the next only once the new one is Ready (in a quorum): what the StatefulSet controller
    // and the readiness probe (`srvr` says leader or follower) guarantee together.
    expect(mostReplacingAtOnce).toBe(1);
    const after = await cluster.cluster.pods(cluster.namespace, "app.kubernetes.io/name=zookeeper");
    expect(after.filter((p) => p.ready && p.uid !== before.get(p.name)).map((p) => p.name).sort()).toEqual(["zookeeper-0", "zookeeper-1", "zookeeper-2"]);
    expect(clean(counts)).toEqual({ lost: 0, duplicated: 0, failedSends: 0 });
});

it("keeps every partition online and every acknowledged record when a whole node is lost", async () => {
    const topic = "bss.invoice.events";
    const brokers = await Promise.all([0, 1, 2].map((id) => cluster.pod(`kafka-${id}`)));
    const nodes = brokers.map((b) => b!.node);
    // One broker per node: the loss of a node takes one replica of every partition, never two.
    expect(new Set(nodes).size).toBe(3);
    const victim = nodes[2] as NodeName;
    // Each broker's rack is its node's zone, and every RF 3 partition has a replica in each: a lost node (zone) takes one.
    const racks = await brokerRacks();
    expect(Object.fromEntries(racks)).toEqual(Object.fromEntries(await brokerNodeZones([0, 1, 2])));
    expect(await partitionsSharingARack(declared, racks)).toEqual([]);
    const load = startLoad(topic);
    await flowing(load);
    const stoppedAt = Date.now();
    await cluster.cluster.stopNode(victim);
    // Leadership moves once the lost broker's ZooKeeper session expires (18 s); the load then flows again.
    const ackedAtLoss = load.acknowledged.size;
    await eventually("the load flowing again after the node loss", 180_000, async () => load.acknowledged.size >= ackedAtLoss + 5 * RATE, 1_000);
    const recoveredMs = Date.now() - stoppedAt;
    await sleep(2_000);
    const counts = await finish("nodeLoss", load, { lostNode: victim, recoveredMs });
    const partitions = await partitionsOf(declared);
    expect(partitions.filter((p) => p.leader < 0).map((p) => `${p.topic}-${p.partition}`)).toEqual([]);
    expect(clean(counts)).toEqual({ lost: 0, duplicated: 0, failedSends: 0 });
});
