/**
 * The prod shape of ZooKeeper: a 3-member ensemble (dev stack with `bss:zookeeper.replicas: 3`) and 3 brokers,
 * all from the rendered pod specs. Quorum forms, one member dies, the brokers keep working.
 */
import { stackFile } from "../helpers/render";
import { kafkajsInside, kafkaTool } from "../kafka/clients";
import { RunningKafkaCluster, startKafkaCluster } from "../kafka/cluster-harness";

jest.setTimeout(240_000);

let cluster: RunningKafkaCluster;

beforeAll(async () => {
    const dev = stackFile("dev");
    cluster = await startKafkaCluster({
        config: { values: { ...dev.values, "bss:zookeeper": JSON.stringify({ replicas: 3 }) }, secretKeys: dev.secretKeys },
        exposeExternal: false,
    });
    console.log(`3 ZooKeeper members + 3 brokers Ready after ${cluster.startupMs} ms`);
}, 300_000);

afterAll(async () => {
    await cluster?.stop();
});

/** A four-letter word asked inside the member's own pod, as its probes do. */
async function fourLetterWord(pod: string, word: string): Promise<string> {
    const result = await cluster.sandbox.exec(pod, "zookeeper", ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/2181; printf ${word} >&3; cat <&3`]);
    return result.stdout;
}

const mode = async (pod: string) => /^Mode: (\w+)$/m.exec(await fourLetterWord(pod, "srvr"))?.[1];

/**
 * Polls (bounded) until the members' modes and readiness probes settle on what is expected: an election can take
 * a second round (a follower that fails its first sync looks again), and the kubelet-style readiness flag lags
 * the probe by up to failureThreshold periods.
 */
async function settle(pods: string[], expectedModes: string[], timeoutMs = 90_000): Promise<{ modes: string; ready: boolean[] }> {
    const observe = async () => ({
        modes: (await Promise.all(pods.map(mode))).sort().join(),
        ready: await Promise.all(pods.map((pod) => cluster.sandbox.probe(pod, "zookeeper", "readiness"))),
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

it("forms one quorum: myid = ordinal + 1, one leader and two followers", async () => {
    for (const i of [0, 1, 2]) {
        const myid = await cluster.sandbox.exec(cluster.zookeeperPod(i), "zookeeper", ["cat", "/var/lib/zookeeper/data/myid"]);
        expect(myid.stdout.trim()).toBe(String(i + 1));
    }
    const modes = await Promise.all([0, 1, 2].map((i) => mode(cluster.zookeeperPod(i))));
    expect(modes.sort()).toEqual(["follower", "follower", "leader"]);
    expect(await fourLetterWord(cluster.zookeeperPod(0), "ruok")).toBe("imok");
});

it("keeps the brokers working when one member is killed, and the survivors stay Ready", async () => {
    const modes = await Promise.all([0, 1, 2].map((i) => mode(cluster.zookeeperPod(i))));
    const leader = modes.indexOf("leader");
    await cluster.sandbox.stopPod(cluster.zookeeperPod(leader), "SIGKILL");
    const survivors = [0, 1, 2].filter((i) => i !== leader).map((i) => cluster.zookeeperPod(i));

    // The survivors are a majority (2 of 3): they elect a new leader and serve again.
    expect(await settle(survivors, ["follower", "leader"])).toEqual({ modes: "follower,leader", ready: [true, true] });

    // Topic creation goes through ZooKeeper (the controller writes the assignment there): it must still work.
    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "after-zookeeper-loss",
        "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2"]);
    expect(await produceAndConsume("after-zookeeper-loss")).toEqual(["a", "b", "c"]);
    for (const id of [0, 1, 2]) {
        expect(await cluster.sandbox.probe(cluster.brokerPod(id), "kafka", "readiness")).toBe(true);
    }
});

it("takes a member without quorum out of readiness, and heals when the others return", async () => {
    const running = [0, 1, 2].filter((i) => cluster.sandbox.isRunning(cluster.zookeeperPod(i), "zookeeper"));
    expect(running).toHaveLength(2);
    const [lost, alone] = running;
    await cluster.sandbox.stopPod(cluster.zookeeperPod(lost), "SIGKILL");

    // One of three is no majority: the last member stops serving (a leader notices within syncLimit ticks, 10 s)
    // and its readiness probe says so, while liveness keeps it running for the others to return to.
    const observe = async () => ({
        srvr: await fourLetterWord(cluster.zookeeperPod(alone), "srvr"),
        ready: await cluster.sandbox.probe(cluster.zookeeperPod(alone), "zookeeper", "readiness"),
    });
    const deadline = Date.now() + 40_000;
    let state = await observe();
    while (Date.now() < deadline && (state.ready || !/not currently serving requests/.test(state.srvr))) {
        await new Promise((r) => setTimeout(r, 1000));
        state = await observe();
    }
    expect(state.srvr).toMatch(/not currently serving requests/);
    expect(state.ready).toBe(false);
    expect(await cluster.sandbox.probe(cluster.zookeeperPod(alone), "zookeeper", "liveness")).toBe(true);

    // The members come back (new pod IPs, same PVCs): one quorum of three again.
    const stopped = [0, 1, 2].filter((i) => i !== alone);
    await Promise.all(stopped.map((i) => cluster.sandbox.startPod("zookeeper", i)));
    const all = [0, 1, 2].map((i) => cluster.zookeeperPod(i));
    expect(await settle(all, ["follower", "follower", "leader"])).toEqual({ modes: "follower,follower,leader", ready: [true, true, true] });

    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "after-healing",
        "--partitions", "3", "--replication-factor", "3"]);
    expect(await produceAndConsume("after-healing")).toEqual(["a", "b", "c"]);
});
