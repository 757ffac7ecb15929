/**
 * The brokers' JMX metrics for real: the dev stack rendered with the JMX agent on, applied to the test cluster
 * (the agent's init container copies the sha256-checked jar from the local image, tests/helpers/cluster-stack.ts),
 * scraped by a real Prometheus 3.16.0 on the host with the rendered scrape config (Kubernetes pod discovery through
 * the cluster's API server; only the interval shortened) and the rendered rules file. Every broker metric a rule or
 * panel uses is in the scrape, and the offline / under-replicated alerts fire once a broker is stopped.
 */
import { JOBS } from "../../components/monitoring/rules";
import { stackFile } from "../helpers/render";
import { eventually } from "../helpers/test-cluster";
import { kafkaTool } from "../kafka/clients";
import { RunningKafkaCluster, startKafkaCluster } from "../kafka/cluster-harness";
import { BROKER_JMX_METRICS } from "./broker-jmx-metrics";
import { RunningPrometheus, startPrometheus } from "./prometheus-harness";

jest.setTimeout(400_000);

let cluster: RunningKafkaCluster;
let prometheus: RunningPrometheus | undefined;

const query = (promql: string) => prometheus!.query(promql);

/**
 * The broker group's alerts in `state`. The others are left aside: ZooKeeper runs without its metrics provider here
 * (its jars are not served, tests/helpers/cluster-stack.ts) and is not scraped, so ZooKeeperQuorumLost fires as
 * designed for "no member answers".
 */
const alerts = (state: "firing" | "pending") => prometheus!.alerts(state, "Kafka.*");

beforeAll(async () => {
    const config = stackFile("dev");
    config.values["bss:monitoring"] = JSON.stringify({ jmxAgent: { mavenRepository: "https://maven.invalid/maven2" } });
    cluster = await startKafkaCluster({ config });
    console.log(`3 brokers with the JMX agent + ZooKeeper Ready after ${cluster.startupMs} ms`);

    // Only the brokers: the exporters and ZooKeeper's provider do not run on the test cluster.
    prometheus = await startPrometheus(cluster.rendered, cluster.cluster.kubeconfig, [JOBS.kafka], "127.0.0.1:19190");
    await eventually("Prometheus scraping three brokers", 120_000, async () => {
        const up = await query(`up{job="${JOBS.kafka}"} == 1`).catch(() => []);
        return up.length === 3;
    }, 2_000).catch((error) => {
        throw new Error(`${error.message}\nprometheus:\n${prometheus!.log().slice(-3000)}`);
    });

    // Traffic, a topic whose only replica is broker 2, and flushes (which register the log flush timer).
    const bootstrap = cluster.internalBootstrap;
    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", bootstrap, "--create", "--topic", "monitored-rf3", "--partitions", "3", "--replication-factor", "3"]);
    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", bootstrap, "--create", "--topic", "monitored-on-broker-2", "--replica-assignment", "2"]);
    await kafkaTool(cluster, "TopicCommand", ["--bootstrap-server", bootstrap, "--create", "--topic", "monitored-flushed", "--partitions", "3",
        "--replication-factor", "3", "--config", "flush.messages=1"]);
    for (const topic of ["monitored-rf3", "monitored-flushed"]) {
        await kafkaTool(cluster, "ProducerPerformance", ["--topic", topic, "--num-records", "300", "--record-size", "100", "--throughput", "-1",
            "--producer-props", `bootstrap.servers=${bootstrap}`, "acks=all"]);
    }
    await kafkaTool(cluster, "ConsumerPerformance", ["--bootstrap-server", bootstrap, "--topic", "monitored-rf3", "--messages", "300", "--timeout", "60000"]);
}, 3_000_000);

afterAll(async () => {
    await prometheus?.stop();
    await cluster?.stop();
}, 300_000);

it("finds every broker metric of the rules and dashboards in the scrape of every broker", async () => {
    await eventually("per-topic and flush metrics scraped", 60_000, async () =>
        (await query(`kafka_server_brokertopicmetrics_messagesin_total{job="kafka", topic="monitored-rf3"}`)).length > 0
        && (await query(`kafka_log_logflushstats_logflushrateandtimems{job="kafka"}`)).length > 0, 2_000);
    const missing: string[] = [];
    for (const metric of BROKER_JMX_METRICS) {
        const pods = new Set((await query(`${metric}{job="${JOBS.kafka}"}`)).map((r) => r.metric.pod));
        // The log flush timer exists on the brokers that flushed, every other metric on all three.
        const expected = metric.startsWith("kafka_log_logflushstats") ? 1 : 3;
        if (pods.size < expected) {
            missing.push(`${metric} (on ${[...pods].join(", ") || "no broker"})`);
        }
    }
    expect(missing).toEqual([]);
    const [controllers] = await query(`sum(kafka_controller_kafkacontroller_activecontrollercount{job="kafka"})`);
    expect(controllers.value[1]).toBe("1");
    expect((await query(`kafka_server_kafkaserver_brokerstate{job="kafka"} == 3`)).length).toBe(3);
    expect(await alerts("firing")).toEqual([]);
    expect(await alerts("pending")).toEqual([]);
});

it("fires KafkaOfflinePartitions and KafkaUnderReplicatedPartitions when broker 2 stops", async () => {
    await cluster.killBroker(2, "SIGTERM");
    const stopped = Date.now();
    const firing = await eventually("offline and under-replicated alerts firing", 180_000, async () => {
        const now = await alerts("firing");
        return now.includes("KafkaOfflinePartitions") && now.includes("KafkaUnderReplicatedPartitions") ? now : undefined;
    }, 5_000);
    console.log(`firing ${Math.round((Date.now() - stopped) / 1000)} s after broker 2 stopped: ${firing.join(", ")}`);
    const [offline] = await query(`sum(kafka_controller_kafkacontroller_offlinepartitionscount{job="kafka"})`);
    expect(offline.value[1]).toBe("1");
    const [under] = await query(`sum(kafka_server_replicamanager_underreplicatedpartitions{job="kafka"})`);
    expect(Number(under.value[1])).toBeGreaterThan(0);
    // Broker 2 is gone from the scrape: the broker-down alert is on its way (its `for` is 2m).
    expect([...await alerts("pending"), ...firing]).toContain("KafkaBrokerDown");
});
