/**
 * The external gate against real Kafka 3.9.2: the dev stack's ZooKeeper and three brokers from their rendered pod
 * specs (tests/kafka/cluster-harness.ts), EXTERNAL listeners exposed on 127.0.0.1:9092-9094 the way kind's port
 * mappings expose the NodePorts. Run under the integration lock (fixed host ports).
 */
import { Kafka, logLevel } from "kafkajs";
import { waitForExternalBrokers } from "../../components/topics/external-gate";
import { RunningKafkaCluster } from "../kafka/cluster-harness";

let cluster: RunningKafkaCluster;

/** Registers the suite on a Kafka it shares (tests/kafka/shared-kafka.integration.test.ts); it leaves that Kafka as it found it. */
export function externalGateSuite(shared: () => RunningKafkaCluster): void {
    beforeAll(() => {
        cluster = shared();
    });

    afterAll(async () => {
        await cluster.reset();
    }, 300_000);

    it("opens right after the brokers turn Ready, and the topics can be created at once", async () => {
        await waitForExternalBrokers({ servers: cluster.externalBootstrap, timeoutMs: 60_000, retryMs: 500 });
        // What the provider does next: create topics over the same addresses.
        const admin = new Kafka({ clientId: "gate-test", brokers: cluster.externalBootstrap, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        try {
            expect(await admin.createTopics({ topics: [{ topic: "gate.check", numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true })).toBe(true);
        } finally {
            await admin.disconnect();
        }
    });

    it("with one broker stopped, waits and then fails at its bound naming the addresses and the last failure", async () => {
        await cluster.killBroker(2, "SIGTERM");
        const error = await waitForExternalBrokers({ servers: cluster.externalBootstrap, timeoutMs: 20_000, retryMs: 1_000 }).catch((e: Error) => e);
        expect(error).toBeInstanceOf(Error);
        const message = (error as Error).message;
        expect(message).toContain("listing brokers 0,1,2 within 20 s");
        expect(message).toContain("tried localhost:9092, localhost:9093, localhost:9094");
        // The survivors no longer list broker 2, or (briefly, before they notice) its own address does not answer.
        expect(message).toMatch(/last failure: (localhost:909[23] lists broker\(s\) 0,1, missing 2|localhost:9094: .+)/);
        expect(Number(/\((\d+) round\(s\)\)/.exec(message)?.[1])).toBeGreaterThan(1);
    });

    it("opens again once the broker is back", async () => {
        await cluster.restartBroker(2);
        await waitForExternalBrokers({ servers: cluster.externalBootstrap, timeoutMs: 60_000, retryMs: 500 });
    });
}
