/**
 * `observeKafka` reads the partitions with the plain all-topics Metadata request, so a leaderless partition reaches
 * the evaluation as leader -1 instead of failing the whole read (kafkajs's metadata call throws LEADER_NOT_AVAILABLE
 * for it). Stand-in brokers on 127.0.0.1 speak Metadata v1 only: any other request (kafkajs opens with ApiVersions)
 * closes the connection.
 */
import * as net from "net";
import { evaluateKafka, observeKafka } from "../../scripts/verify/kafka";
import { metadataV1Response, TopicSpec } from "../shared/metadata-v1-builder";

type AllTopicsBehaviour = "answer" | "drop" | "silent";

const TOPICS: TopicSpec[] = [
    { errorCode: 0, name: "bss.unplanned", isInternal: false, partitions: [{ errorCode: 5, partitionId: 0, leader: -1, replicas: [1], isr: [1] }] },
    { errorCode: 0, name: "__consumer_offsets", isInternal: true, partitions: [{ errorCode: 0, partitionId: 0, leader: 0, replicas: [0, 1], isr: [0] }] },
];

const servers: net.Server[] = [];
afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A broker that answers the brokers-only request always and the all-topics one as `allTopics` says. */
async function standIn(allTopics: AllTopicsBehaviour): Promise<{ address: string; allTopicsRequests: () => number }> {
    let allTopicsRequests = 0;
    const brokers = [0, 1].map((nodeId) => ({ nodeId, host: "127.0.0.1", port: 9092 + nodeId, rack: null }));
    const server = net.createServer((socket) => {
        let pending = Buffer.alloc(0);
        socket.on("error", () => undefined);
        socket.on("data", (chunk) => {
            pending = Buffer.concat([pending, chunk]);
            while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
                const request = pending.subarray(0, 4 + pending.readInt32BE(0));
                pending = pending.subarray(request.length);
                const [apiKey, version, correlationId] = [request.readInt16BE(4), request.readInt16BE(6), request.readInt32BE(8)];
                if (apiKey !== 3 || version !== 1) {
                    socket.destroy();
                    return;
                }
                const topicCount = request.readInt32BE(14 + request.readInt16BE(12));
                if (topicCount === 0) {
                    socket.write(metadataV1Response(correlationId, brokers, 1, []));
                    continue;
                }
                allTopicsRequests++;
                if (allTopics === "drop") {
                    socket.destroy();
                } else if (allTopics === "answer") {
                    socket.write(metadataV1Response(correlationId, brokers, 1, TOPICS));
                }
            }
        });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, allTopicsRequests: () => allTopicsRequests };
}

describe("observeKafka", () => {
    it("reads a leaderless partition as offline from the next broker when the first drops the request", async () => {
        const dropping = await standIn("drop");
        const answering = await standIn("answer");
        const observed = await observeKafka([dropping.address, answering.address], ["bss.events"], 3_000);
        expect(observed.topics).toEqual([
            { name: "bss.unplanned", partitions: [{ partitionId: 0, leader: -1, replicas: [1], isr: [1] }] },
            { name: "__consumer_offsets", partitions: [{ partitionId: 0, leader: 0, replicas: [0, 1], isr: [0] }] },
        ]);
        expect([dropping.allTopicsRequests(), answering.allTopicsRequests()]).toEqual([1, 1]);
        const rows = Object.fromEntries(evaluateKafka({ brokers: 2, topics: [] }, observed).map((r) => [r.check, r]));
        expect(rows["offline partitions"]).toMatchObject({ status: "fail", detail: "1 of 2 without a leader: bss.unplanned/0" });
        expect(rows["under-replicated partitions"]).toMatchObject({ status: "fail", detail: "1 of 2: __consumer_offsets/0 (ISR 0 of 0,1)" });
    });

    it("fails the topic read naming every broker when none answers the all-topics request", async () => {
        const [a, b] = [await standIn("drop"), await standIn("drop")];
        const observed = await observeKafka([a.address, b.address], [], 3_000);
        expect(observed.topics).toEqual({
            error: `no broker answered the all-topics Metadata request within 3000 ms: ${a.address} (connection closed before any answer); ${b.address} (connection closed before any answer)`,
            unreachable: false,
        });
    });

    it("calls the topic read unreachable when a broker stays silent for the whole bound, naming the broker left untried", async () => {
        const [silent, answering] = [await standIn("silent"), await standIn("answer")];
        const observed = await observeKafka([silent.address, answering.address], [], 1_000);
        // The silent broker's own bound is what was left of the 1000 ms when it was tried.
        expect(observed.topics).toEqual({
            error: expect.stringMatching(new RegExp(`^no broker answered the all-topics Metadata request within 1000 ms: ${silent.address} \\(no answer from Kafka at ${silent.address} within \\d+ ms\\); not tried in time: ${answering.address}$`)),
            unreachable: true,
        });
        expect(answering.allTopicsRequests()).toBe(0);
    });
});
