/**
 * Kafka 3.9.2 brokers and ZooKeeper of the dev stack on the real test cluster: the rendered objects applied as they
 * are, the pods created by the StatefulSet controller and gated by the kubelets' probes.
 */
import { Kafka, logLevel } from "kafkajs";
import { kafkajsInside, kafkaTool, roundTrip, zookeeperCli } from "./clients";
import { eventually } from "../helpers/test-cluster";
import { RunningKafkaCluster } from "./cluster-harness";

let cluster: RunningKafkaCluster;

/** Registers the suite on a Kafka it shares (tests/kafka/shared-kafka.integration.test.ts); it leaves that Kafka as it found it. */
export function kafkaClusterSuite(shared: () => RunningKafkaCluster): void {
    beforeAll(() => {
        cluster = shared();
    });

    afterAll(async () => {
        await cluster.reset();
    }, 300_000);

    const hostClient = () => new Kafka({ clientId: "host-test", brokers: cluster.externalBootstrap, logLevel: logLevel.NOTHING, retry: { retries: 8 } });

    it("creates and describes a topic with RF 3 and min ISR 2 right after every broker turned Ready", async () => {
        await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "right-after-ready",
            "--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2"]);
        const described = await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--describe", "--topic", "right-after-ready"]);
        expect(described).toMatch(/ReplicationFactor: 3/);
        expect(described).toMatch(/min\.insync\.replicas=2/);
        const partitions = described.split("\n").filter((l) => /\tPartition: \d/.test(l));
        expect(partitions).toHaveLength(3);
        for (const line of partitions) {
            expect(line).toMatch(/Isr: \d,\d,\d/);
        }
    });

    it("runs with the stack's broker defaults: 3 partitions, RF 3, min ISR 2, no unclean election", async () => {
        await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--create", "--topic", "broker-defaults"]);
        const described = await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--describe", "--topic", "broker-defaults"]);
        expect(described).toMatch(/PartitionCount: 3\tReplicationFactor: 3/);
        const configs = await kafkaTool(cluster, "kafka.admin.ConfigCommand", ["--bootstrap-server", cluster.internalBootstrap,
            "--entity-type", "brokers", "--entity-name", "1", "--describe", "--all"]);
        for (const [key, value] of [["min.insync.replicas", "2"], ["default.replication.factor", "3"], ["unclean.leader.election.enable", "false"],
            ["offsets.topic.replication.factor", "3"], ["transaction.state.log.min.isr", "2"], ["broker.id", "1"]]) {
            expect(configs).toMatch(new RegExp(`^\\s*${key.replace(/\./g, "\\.")}=${value} sensitive=false synonyms=\\{STATIC_BROKER_CONFIG:${key.replace(/\./g, "\\.")}=${value}`, "m"));
        }
    });

    it("registers every broker under the ZooKeeper chroot, with exactly one controller", async () => {
        const zk = "zookeeper.bss.svc.cluster.local:2181";
        expect(await zookeeperCli(cluster, zk, ["ls", "/bss-kafka/brokers/ids"])).toMatch(/^\[0, 1, 2\]$/m);
        const controller = JSON.parse(/^\{.*"brokerid".*\}$/m.exec(await zookeeperCli(cluster, zk, ["get", "/bss-kafka/controller"]))![0]);
        expect([0, 1, 2]).toContain(controller.brokerid);
        // Nothing of Kafka's outside the chroot.
        expect(await zookeeperCli(cluster, zk, ["ls", "/"])).toMatch(/^\[bss-kafka, zookeeper\]$/m);

        const views = await Promise.all([0, 1, 2].map((id) => kafkajsInside<{ controller: number }>(cluster,
            [`kafka-${id}.kafka-headless.bss.svc.cluster.local:9092`], "const a = kafka.admin(); await a.connect(); const c = await a.describeCluster(); await a.disconnect(); return c;")));
        expect(views.map((v) => v.controller)).toEqual([controller.brokerid, controller.brokerid, controller.brokerid]);
    });

    it("advertises INTERNAL as each pod's headless DNS name to clients inside the cluster", async () => {
        const described = await kafkajsInside<{ brokers: { nodeId: number; host: string; port: number }[] }>(cluster, [cluster.internalBootstrap],
            "const a = kafka.admin(); await a.connect(); const c = await a.describeCluster(); await a.disconnect(); return c;");
        expect(described.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]).sort()).toEqual([
            [0, "kafka-0.kafka-headless.bss.svc.cluster.local:9092"],
            [1, "kafka-1.kafka-headless.bss.svc.cluster.local:9092"],
            [2, "kafka-2.kafka-headless.bss.svc.cluster.local:9092"],
        ]);
    });

    it("advertises EXTERNAL as localhost:9092+i and serves a producer and a consumer on the host through the NodePorts", async () => {
        const kafka = hostClient();
        const admin = kafka.admin();
        await admin.connect();
        try {
            const described = await admin.describeCluster();
            expect(described.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]).sort()).toEqual([[0, "localhost:9092"], [1, "localhost:9093"], [2, "localhost:9094"]]);
            await admin.createTopics({ topics: [{ topic: "from-the-host", numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
        } finally {
            await admin.disconnect();
        }
        expect(await roundTrip(kafka, "from-the-host", "host-test")).toEqual(["v0", "v1", "v2", "v3", "v4", "v5"]);
    });

    describe("readiness probe (components/kafka/probe.sh)", () => {
        it("fails for a broker id the cluster has not registered, inside a serving broker", async () => {
            expect((await cluster.pod("kafka-0"))?.ready).toBe(true);
            const foreign = await cluster.exec("kafka-0", "kafka", ["env", "POD_NAME=kafka-7", "/opt/bss/kafka/probe.sh"]);
            expect(foreign.code).not.toBe(0);
            expect(foreign.stderr).toMatch(/broker 7 is not in its own metadata yet \(3 broker\(s\) known\)/);
        });

        it("keeps a replaced broker's pod out of Ready until it is registered; RF 3 topics work right after", async () => {
            // Deleted the way `kubectl delete pod` does it: controlled shutdown, then the StatefulSet controller creates it anew.
            const before = await cluster.pod("kafka-2");
            await cluster.cluster.deletePod(cluster.namespace, "kafka-2");
            const replaced = await eventually("kafka-2 created again", 60_000, async () => {
                const pod = await cluster.pod("kafka-2");
                return pod && !pod.deleting && pod.uid !== before?.uid ? pod : undefined;
            });
            // The JVM needs seconds before the broker registers: the kubelet's readiness probe holds the pod back meanwhile.
            expect(replaced.ready).toBe(false);
            expect((await cluster.cluster.waitPodReady(cluster.namespace, "kafka-2")).uid).toBe(replaced.uid);
            await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", "kafka-2.kafka-headless.bss.svc.cluster.local:9092", "--create",
                "--topic", "after-restart", "--partitions", "6", "--replication-factor", "3", "--config", "min.insync.replicas=2"]);
            const described = await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", cluster.internalBootstrap, "--describe", "--topic", "after-restart"]);
            const replicas = described.split("\n").filter((l) => /\tPartition: \d/.test(l)).map((l) => /Replicas: ([\d,]+)/.exec(l)![1]);
            expect(replicas).toHaveLength(6);
            expect(replicas.every((r) => r.split(",").sort().join(",") === "0,1,2")).toBe(true);
        });
    });

    it("brings a broker killed with SIGKILL back to Ready, and its replicas back in sync", async () => {
        await cluster.killBroker(1, "SIGKILL");
        await cluster.restartBroker(1);
        // Same pod, container started again by the kubelet (more than once while the dead broker's ZooKeeper session lives).
        const restarted = await cluster.pod("kafka-1");
        expect(restarted?.ready).toBe(true);
        expect(restarted?.restarts).toBeGreaterThanOrEqual(1);
        const underReplicated = async () => (await kafkaTool(cluster, "TopicCommand",
            ["--bootstrap-server", cluster.internalBootstrap, "--describe", "--under-replicated-partitions"])).trim();
        const deadline = Date.now() + 60_000;
        let lagging = await underReplicated();
        while (lagging !== "" && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 2000));
            lagging = await underReplicated();
        }
        expect(lagging).toBe("");
    });
}
