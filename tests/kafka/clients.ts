/**
 * Clients of the test cluster's Kafka: from inside its network (the test cluster's client namespace, which resolves
 * cluster DNS names like a client pod) the release's own Java tools and kafkajs scripts; from the host a kafkajs
 * producer and consumer through the NodePorts.
 */
import { Kafka } from "kafkajs";
import { CommandResult } from "../helpers/test-cluster";
import { KAFKA_CLASSPATH } from "./kafka-home";
import type { RunningKafkaCluster } from "./cluster-harness";

/**
 * Runs a command-line tool of the release from its jars: a bare name is one of `org.apache.kafka.tools` (e.g.
 * TopicCommand), a dotted one a full class name (e.g. kafka.admin.ConfigCommand). Throws with its output on failure.
 */
export async function kafkaTool(cluster: RunningKafkaCluster, tool: string, args: string[]): Promise<string> {
    const mainClass = tool.includes(".") ? tool : `org.apache.kafka.tools.${tool}`;
    return checked(await cluster.runClient(["java", "-Xmx256m", "-cp", KAFKA_CLASSPATH, mainClass, ...args], { timeoutMs: 90_000 }), tool);
}

/** Runs ZooKeeper's CLI (`ls`, `get`, ...) against `server` and returns its output. */
export async function zookeeperCli(cluster: Pick<RunningKafkaCluster, "runClient">, server: string, command: string[]): Promise<string> {
    return checked(await cluster.runClient(
        ["java", "-Xmx128m", "-cp", KAFKA_CLASSPATH, "org.apache.zookeeper.ZooKeeperMain", "-server", server, ...command],
        { timeoutMs: 60_000 },
    ), "ZooKeeperMain");
}

/**
 * Runs an async kafkajs program inside the cluster network: `kafka` (a Kafka client on `bootstrap`) is in scope and
 * whatever the program returns is handed back as parsed JSON.
 */
export async function kafkajsInside<T>(cluster: RunningKafkaCluster, bootstrap: string[], body: string): Promise<T> {
    const program = `
        const { Kafka, logLevel } = require("kafkajs");
        const kafka = new Kafka({ clientId: "in-cluster-test", brokers: ${JSON.stringify(bootstrap)}, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
        (async () => { ${body} })().then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); },
            (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;
    const result = checked(await cluster.runClient(["node", "-e", program], { timeoutMs: 90_000 }), "kafkajs");
    return JSON.parse(result) as T;
}

/**
 * Sends six keyed records (`v0`..`v5`) to `topic` with acks=all, then reads the topic from the beginning in a new
 * consumer group `groupId`: the values received, sorted. Rejects after 60 s with how many arrived.
 */
export async function roundTrip(kafka: Kafka, topic: string, groupId: string): Promise<string[]> {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    const received: string[] = [];
    try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`received only ${received.length} of 6 messages`)), 60_000);
            void consumer.run({
                eachMessage: async ({ message }) => {
                    received.push(message.value!.toString());
                    if (received.length === 6) {
                        clearTimeout(timer);
                        resolve();
                    }
                },
            });
        });
    } finally {
        await consumer.disconnect();
    }
    return received.sort();
}

function checked(result: CommandResult, what: string): string {
    if (result.code !== 0) {
        throw new Error(`${what} exited with ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr.slice(-4000)}`);
    }
    return result.stdout;
}
