/**
 * Captures the bytes of tests/topics/fixtures/metadata-v1.json from real Kafka 3.9.2: starts the dev stack's
 * ZooKeeper and brokers from their rendered pod specs (tests/kafka/cluster-harness.ts, EXTERNAL listeners on
 * 127.0.0.1:9092-9094), sends `encodeMetadataRequest` to broker 0's EXTERNAL address and records the raw answer;
 * then stops broker 2 (controlled shutdown) and records broker 0's answer once it lists two brokers.
 * It is a jest file (the harness renders through jest's module registry) that no test project matches, so it
 * runs only when asked; the host ports are fixed, so run it under the integration lock:
 *
 *     flock /tmp/bss-integration.lock npx jest --testTimeout 600000 --config \
 *       '{"rootDir":".","testEnvironment":"node","transform":{"^.+\\.ts$":"ts-jest"},"testMatch":["<rootDir>/tests/topics/capture-metadata-fixture.ts"]}'
 */
import * as fs from "fs";
import * as path from "path";
import { encodeMetadataRequest, parseMetadataResponse } from "../../components/shared/kafka-metadata";
import { exchangeFrame } from "../../components/shared/kafka-wire";
import { startKafkaCluster } from "../kafka/cluster-harness";
import { KAFKA_VERSION } from "../kafka/kafka-home";

const FIXTURE = path.join(__dirname, "fixtures", "metadata-v1.json");

/** One request, the raw answer frame (size prefix included) as it came off the socket. */
const exchange = (address: string, request: Buffer) => exchangeFrame(address, request, 10_000, () => new Error(`no answer from ${address}`));

async function main(): Promise<void> {
    const cluster = await startKafkaCluster();
    try {
        const address = cluster.externalBootstrap[0];
        const request = encodeMetadataRequest(1, "bss-pulumi-gate");
        const threeBrokers = await exchange(address, request);
        await cluster.killBroker(2, "SIGTERM");
        let brokerTwoStopped: Buffer | undefined;
        for (let attempt = 0; attempt < 60 && !brokerTwoStopped; attempt++) {
            const answer = await exchange(address, request);
            if (parseMetadataResponse(answer).brokers.length === 2) {
                brokerTwoStopped = answer;
            } else {
                await new Promise((r) => setTimeout(r, 1_000));
            }
        }
        if (!brokerTwoStopped) {
            throw new Error("broker 0 kept listing broker 2 after it was stopped");
        }
        const fixture = {
            note: "Captured by tests/topics/capture-metadata-fixture.ts (see its header) from the dev stack's brokers run by tests/kafka/cluster-harness.ts; bytes are hex, each frame with its 4-byte size prefix.",
            kafka: KAFKA_VERSION,
            capturedAt: new Date().toISOString().slice(0, 10),
            address,
            request: request.toString("hex"),
            responses: {
                threeBrokers: threeBrokers.toString("hex"),
                brokerTwoStopped: brokerTwoStopped.toString("hex"),
            },
        };
        fs.writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 2)}\n`);
        console.log(`wrote ${FIXTURE}`, parseMetadataResponse(threeBrokers), parseMetadataResponse(brokerTwoStopped));
    } finally {
        await cluster.stop();
    }
}

it("captures tests/topics/fixtures/metadata-v1.json from real Kafka", main, 600_000);
