/**
 * Captures the bytes of tests/verify/fixtures/describe-configs-v1.json from real Kafka 3.9.2: starts the dev stack's
 * ZooKeeper and brokers (tests/kafka/cluster-harness.ts, EXTERNAL listeners on 127.0.0.1:9092-9094), creates two
 * topics as the provider would (one with keys set on the topic, one without any), sends
 * `encodeDescribeTopicConfigsRequest` for both and a topic that does not exist to broker 0 and records the raw answer
 * once broker 0 knows both.
 * A jest file no test project matches, run only when asked, under the integration lock (fixed host ports):
 *
 *     flock /tmp/bss-integration.lock npx jest --testTimeout 600000 --config \
 *       '{"rootDir":".","testEnvironment":"node","transform":{"^.+\\.ts$":"ts-jest"},"testMatch":["<rootDir>/tests/verify/capture-configs-fixture.ts"]}'
 */
import * as fs from "fs";
import * as path from "path";
import { Kafka, logLevel } from "kafkajs";
import { exchangeFrame } from "../../components/shared/kafka-wire";
import { encodeDescribeTopicConfigsRequest, parseDescribeConfigsResponse } from "../../scripts/verify/kafka-configs";
import { startKafkaCluster } from "../kafka/cluster-harness";
import { KAFKA_VERSION } from "../kafka/kafka-home";

const FIXTURE = path.join(__dirname, "fixtures", "describe-configs-v1.json");
const TOPICS = ["bss.captured", "bss.captured-defaults", "bss.missing"];

async function main(): Promise<void> {
    const cluster = await startKafkaCluster();
    try {
        const admin = new Kafka({ clientId: "capture", brokers: cluster.externalBootstrap, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        await admin.createTopics({ waitForLeaders: true, topics: [
            { topic: TOPICS[0], numPartitions: 1, replicationFactor: 3, configEntries: [{ name: "retention.ms", value: "604800000" }, { name: "cleanup.policy", value: "compact" }] },
            { topic: TOPICS[1], numPartitions: 1, replicationFactor: 3 },
        ] });
        await admin.disconnect();
        const address = cluster.externalBootstrap[0];
        const request = encodeDescribeTopicConfigsRequest(1, "bss-verify", TOPICS);
        // A broker learns a new topic from the controller a moment after CreateTopics returns: until then it answers
        // UNKNOWN_TOPIC_OR_PARTITION for it, like for the missing one.
        let response: Buffer = Buffer.alloc(0);
        for (let attempt = 0; attempt < 30; attempt++) {
            response = await exchangeFrame(address, request, 10_000, () => new Error(`no answer from ${address}`));
            if (parseDescribeConfigsResponse(response).topics.slice(0, 2).every((t) => t.errorCode === 0)) {
                break;
            }
            await new Promise((r) => setTimeout(r, 1_000));
        }
        const fixture = {
            note: "Captured by tests/verify/capture-configs-fixture.ts (see its header) from the dev stack's brokers run by tests/kafka/cluster-harness.ts; bytes are hex, each frame with its 4-byte size prefix.",
            kafka: KAFKA_VERSION,
            capturedAt: new Date().toISOString().slice(0, 10),
            address,
            topics: TOPICS,
            request: request.toString("hex"),
            response: response.toString("hex"),
        };
        fs.writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 2)}\n`);
        console.log(`wrote ${FIXTURE}`, JSON.stringify(parseDescribeConfigsResponse(response).topics.map((t) => ({ ...t, config: Object.keys(t.config).length }))));
    } finally {
        await cluster.stop();
    }
}

it("captures tests/verify/fixtures/describe-configs-v1.json from real Kafka", main, 600_000);
