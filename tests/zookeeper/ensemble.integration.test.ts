/**
 * The prod shape of ZooKeeper on the real test cluster: a 3-member ensemble and 3 brokers (the dev stack with
 * `bss:zookeeper.replicas: 3` and required placement, so each node holds one member and one broker). Quorum forms;
 * a whole node is lost, then a second one: the brokers keep working while a majority lives, the last member stops
 * serving without one, and everything heals when the nodes return.
 */
import { stackFile } from "../helpers/render";
import { eventually, NodeName } from "../helpers/test-cluster";
import { kafkajsInside, kafkaTool, zookeeperCli } from "../kafka/clients";
import { KAFKA_CLASSPATH } from "../kafka/kafka-home";
import { RunningKafkaCluster, startKafkaCluster } from "../kafka/cluster-harness";

jest.setTimeout(400_000);

let cluster: RunningKafkaCluster;

beforeAll(async () => {
    const dev = stackFile("dev");
    const kafka = { ...JSON.parse(dev.values["bss:kafka"]), placement: "required" };
    cluster = await startKafkaCluster({
        config: { values: { ...dev.values, "bss:kafka": JSON.stringify(kafka), "bss:zookeeper": JSON.stringify({ replicas: 3, placement: "required" }) }, secretKeys: dev.secretKeys },
    });
    console.log(`3 ZooKeeper members + 3 brokers Ready after ${cluster.startupMs} ms`);
}, 3_000_000);

afterAll(async () => {
    await cluster?.stop();
}, 300_000);

const nodeOf = async (pod: string) => (await cluster.pod(pod))!.node as NodeName;
const podReady = async (pod: string) => Boolean((await cluster.pod(pod))?.ready);

/** A four-letter word asked inside the member's own pod, as its probes do. */
async function fourLetterWord(pod: string, word: string): Promise<string> {
    const result = await cluster.exec(pod, "zookeeper", ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/2181; printf ${word} >&3; cat <&3`]);
    return result.stdout;
}

const mode = async (pod: string) => /^Mode: (\w+)$/m.exec(await fourLetterWord(pod, "srvr"))?.[1];

/**
 * Polls (bounded) until the members' modes and readiness probes settle on what is expected: an election can take
 * a second round (a follower that fails its first sync looks again), and the kubelet's Ready condition lags the
 * probe by up to failureThreshold periods.
 */
async function settle(pods: string[], expectedModes: string[], timeoutMs = 90_000): Promise<{ modes: string; ready: boolean[] }> {
    const observe = async () => ({
        modes: (await Promise.all(pods.map(mode))).sort().join(),
        ready: await Promise.all(pods.map(podReady)),
    });
    const deadline = Date.now() + timeoutMs;
    let state = await observe();
    while (Date.now() < deadline && !(state.modes === expectedModes.join() && state.ready.every(Boolean))) {
        await new Promise((r) => setTimeout(r, 1000));
        state = await observe();
    }
    return state;
}

async function produceAndConsume(topic: string): Promise<string[]> {
    return kafkajsInside<string[]>(cluster, [cluster.internalBootstrap], `
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: ${JSON.stringify(topic)}, acks: -1, messages: [{ value: "a" }, { value: "b" }, { value: "c" }] });
        await producer.disconnect();
        const consumer = kafka.consumer({ groupId: ${JSON.stringify(`${topic}-reader`)} });
        await consumer.connect();
        await consumer.subscribe({ topic: ${JSON.stringify(topic)}, fromBeginning: true });
        const seen = [];
        await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("consumed only " + seen.length + " of 3")), 60000);
            consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); if (seen.length === 3) { clearTimeout(timer); resolve(); } } });
        });
        await consumer.disconnect();
        return seen.sort();`);
}

/**
 * acks=all records through the release's console producer, then every record of the topic so far read back by its
 * console consumer (a new group each time), sorted.
 */
async function produceAndConsumeWithJava(topic: string, values: string[], expectedTotal: number): Promise<string[]> {
    const produced = await cluster.runClient(["java", "-Xmx128m", "-cp", KAFKA_CLASSPATH, "kafka.tools.ConsoleProducer",
        "--bootstrap-server", cluster.internalBootstrap, "--topic", topic, "--producer-property", "acks=all"], { input: `${values.join("\n")}\n`, timeoutMs: 120_000 });
    expect({ code: produced.code, errors: produced.stderr.split("\n").filter((l) => /ERROR|Exception/.test(l)) }).toEqual({ code: 0, errors: [] });
    const consumed = await cluster.runClient(["java", "-Xmx128m", "-cp", KAFKA_CLASSPATH, "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", cluster.internalBootstrap, "--topic", topic, "--from-beginning", "--max-messages", String(expectedTotal),
        "--timeout-ms", "90000", "--group", `${topic}-reader-${Date.now()}`], { timeoutMs: 120_000 });
    return consumed.stdout.trim().split("\n").filter((l) => l.length > 0).sort();
}

it("forms one quorum: myid = ordinal + 1, one leader and two followers", async () => {
    for (const i of [0, 1, 2]) {
        const myid = await cluster.exec(cluster.zookeeperPod(i), "zookeeper", ["cat", "/var/lib/zookeeper/data/myid"]);
        expect(myid.stdout.trim()).toBe(String(i + 1));
    }
    const modes = await Promise.all([0, 1, 2].map((i) => mode(cluster.zookeeperPod(i))));
    expect(modes.sort()).toEqual(["follower", "follower", "leader"]);
    expect(await fourLetterWord(cluster.zookeeperPod(0), "ruok")).toBe("imok");
});

it("places one member per node, in three zones", async () => {
    const nodes = await Promise.all([0, 1, 2].map((i) => nodeOf(cluster.zookeeperPod(i))));
    expect(new Set(nodes).size).toBe(3);
});

let lostNodes: NodeName[] = [];

it("keeps the brokers working when the leader's whole node is lost, and the survivors stay Ready", async () => {
    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "before-node-loss",
        "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2"]);
    // A running system has consumed before: the group coordinator's __consumer_offsets (RF 3) is created by the first
    // group, and Kafka refuses to create it while fewer brokers than its replication factor are alive.
    expect(await produceAndConsumeWithJava("before-node-loss", ["a", "b", "c"], 3)).toEqual(["a", "b", "c"]);
    const modes = await Promise.all([0, 1, 2].map((i) => mode(cluster.zookeeperPod(i))));
    const leader = modes.indexOf("leader");
    const lost = await nodeOf(cluster.zookeeperPod(leader));
    const brokerNodes = await Promise.all([0, 1, 2].map((id) => nodeOf(cluster.brokerPod(id))));
    lostNodes = [lost];
    await cluster.cluster.stopNode(lost);
    const survivors = [0, 1, 2].filter((i) => i !== leader).map((i) => cluster.zookeeperPod(i));

    // The survivors are a majority (2 of 3): they elect a new leader and serve again.
    expect(await settle(survivors, ["follower", "leader"])).toEqual({ modes: "follower,leader", ready: [true, true] });

    // The lost broker's registration lives until its ZooKeeper session expires (18 s); only then does the controller
    // move its leaderships away and stop assigning it replicas, as clients see it after any node loss.
    const lostBroker = [0, 1, 2].find((id) => brokerNodes[id] === lost)!;
    await eventually(`broker ${lostBroker}'s registration expired`, 120_000, async () => {
        const listed = /^\[[\d, ]*\]$/m.exec(await zookeeperCli(cluster, "zookeeper.bss.svc.cluster.local:2181", ["ls", "/bss-kafka/brokers/ids"]));
        const ids: number[] = listed ? JSON.parse(listed[0]) : [];
        return ids.length === 2 && !ids.includes(lostBroker);
    }, 2_000);

    // Topic creation goes through ZooKeeper (the controller writes the assignment there): it must still work, with
    // the two brokers left; the RF 3 topic keeps taking acks=all writes with two replicas in sync (min ISR 2).
    // Kafka's own Java clients here: they drop a dead broker's connections and refresh metadata, where kafkajs keeps
    // dialling the lost node (README, "Kafka client for Node").
    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "after-node-loss",
        "--partitions", "3", "--replication-factor", "2"]);
    expect(await produceAndConsumeWithJava("after-node-loss", ["a", "b", "c"], 3)).toEqual(["a", "b", "c"]);
    expect(await produceAndConsumeWithJava("before-node-loss", ["d", "e", "f"], 6)).toEqual(["a", "b", "c", "d", "e", "f"]);
    for (const id of [0, 1, 2]) {
        const broker = cluster.brokerPod(id);
        if ((await nodeOf(broker)) !== lost) {
            expect(await podReady(broker)).toBe(true);
        }
    }
});

it("takes a member without quorum out of readiness, and heals when the nodes return", async () => {
    const alive = [0, 1, 2].map((i) => cluster.zookeeperPod(i));
    const running: string[] = [];
    for (const pod of alive) {
        if (!lostNodes.includes(await nodeOf(pod))) {
            running.push(pod);
        }
    }
    expect(running).toHaveLength(2);
    const [lostPod, alone] = running;
    const second = await nodeOf(lostPod);
    lostNodes.push(second);
    await cluster.cluster.stopNode(second);
    const restartsBefore = (await cluster.pod(alone))!.restarts;

    // One of three is no majority: the last member stops serving (a leader notices within syncLimit ticks, 10 s),
    // its kubelet's readiness probe takes it out of the Service, and liveness keeps it running for the others.
    const state = await eventually("the last member out of service and not Ready", 90_000, async () => {
        const observed = { srvr: await fourLetterWord(alone, "srvr"), ready: await podReady(alone) };
        return /not currently serving requests/.test(observed.srvr) && !observed.ready ? observed : undefined;
    });
    expect(state.srvr).toMatch(/not currently serving requests/);
    expect((await cluster.pod(alone))!.restarts).toBe(restartsBefore);

    // The nodes come back (same volumes): the kubelets start the killed containers again, one quorum of three.
    for (const node of lostNodes) {
        await cluster.cluster.startNode(node);
    }
    expect(await settle(alive, ["follower", "follower", "leader"], 240_000)).toEqual({ modes: "follower,follower,leader", ready: [true, true, true] });
    await cluster.cluster.waitReady(cluster.namespace, "app.kubernetes.io/name=kafka", 3);

    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "after-healing",
        "--partitions", "3", "--replication-factor", "3"]);
    expect(await produceAndConsume("after-healing")).toEqual(["a", "b", "c"]);
});
