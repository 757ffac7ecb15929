/**
 * The all-topics form of the Metadata v1 codec (components/shared/kafka-metadata.ts) against Kafka's schema
 * (clients/src/main/resources/common/message/MetadataRequest.json, MetadataResponse.json, version 1). The
 * no-topics form is checked against a real broker's bytes in tests/topics/external-gate.test.ts.
 */
import * as net from "net";
import {
    encodeAllTopicsMetadataRequest, encodeMetadataRequest, parseAllTopicsMetadataResponse, parseMetadataResponse, queryAllTopicsMetadata,
} from "../../components/shared/kafka-metadata";
import { metadataV1Response, TopicSpec } from "./metadata-v1-builder";

const TOPICS: TopicSpec[] = [
    { errorCode: 0, name: "bss.events", isInternal: false, partitions: [
        { errorCode: 0, partitionId: 0, leader: 1, replicas: [1, 2, 0], isr: [1, 2, 0] },
        // Its only in-sync replica's broker is down: Kafka keeps that last ISR member and answers no leader.
        { errorCode: 5, partitionId: 1, leader: -1, replicas: [2], isr: [2] },
    ] },
    { errorCode: 0, name: "__consumer_offsets", isInternal: true, partitions: [
        { errorCode: 0, partitionId: 0, leader: 0, replicas: [0, 1], isr: [0] },
    ] },
];
const BROKERS = [{ nodeId: 0, host: "localhost", port: 9092, rack: null }, { nodeId: 1, host: "localhost", port: 9093, rack: "zone-b" }];
const response = metadataV1Response(9, BROKERS, 1, TOPICS);

describe("Metadata v1 for every topic", () => {
    it("encodes api key 3, version 1, the correlation id, the client id and a null topic array (-1: every topic)", () => {
        const request = encodeAllTopicsMetadataRequest(0x01020304, "bss-verify");
        expect(request.toString("hex")).toBe([
            "00000018", // size: the 24 bytes after it
            "0003", // api key: Metadata
            "0001", // api version 1
            "01020304", // correlation id
            "000a", Buffer.from("bss-verify").toString("hex"), // client id, INT16-length string
            "ffffffff", // topics: a null ARRAY (count -1)
        ].join(""));
    });

    it("differs from the brokers-only request in the topic array alone", () => {
        const all = encodeAllTopicsMetadataRequest(7, "x");
        const none = encodeMetadataRequest(7, "x");
        expect(all.subarray(0, all.length - 4)).toEqual(none.subarray(0, none.length - 4));
        expect(none.readInt32BE(none.length - 4)).toBe(0);
        expect(all.readInt32BE(all.length - 4)).toBe(-1);
    });

    it("parses two topics, one with a leaderless partition (error 5, leader -1), one internal", () => {
        expect(parseAllTopicsMetadataResponse(response)).toEqual({ correlationId: 9, brokers: BROKERS, controllerId: 1, topics: TOPICS });
    });

    it("leaves the brokers-only parse as it was: the same frame gives brokers and controller only", () => {
        expect(parseMetadataResponse(response)).toEqual({ correlationId: 9, brokers: BROKERS, controllerId: 1 });
    });

    it("parses a topic-level error with no partitions", () => {
        const unknown = metadataV1Response(1, BROKERS, 0, [{ errorCode: 3, name: "bss.gone", isInternal: false, partitions: [] }]);
        expect(parseAllTopicsMetadataResponse(unknown).topics).toEqual([{ errorCode: 3, name: "bss.gone", isInternal: false, partitions: [] }]);
    });

    it("refuses the frame cut at every byte, each with the field it could not read", () => {
        const bodyLength = response.length - 4;
        for (let kept = 4; kept < bodyLength; kept++) {
            const cut = Buffer.from(response.subarray(0, 4 + kept));
            cut.writeInt32BE(kept, 0);
            expect(() => parseAllTopicsMetadataResponse(cut)).toThrow(/^Metadata response truncated: .+ needs \d+ byte\(s\) at offset \d+, \d+ left$/);
        }
        const cutInIsr = Buffer.from(response.subarray(0, response.length - 2));
        cutInIsr.writeInt32BE(cutInIsr.length - 4, 0);
        expect(() => parseAllTopicsMetadataResponse(cutInIsr)).toThrow("Metadata response truncated: topic __consumer_offsets partition 0 ISR 0 needs 4 byte(s)");
    });

    it("refuses a frame whose size prefix does not match, bytes after the last topic and a negative count", () => {
        expect(() => parseAllTopicsMetadataResponse(response.subarray(0, response.length - 1))).toThrow(`says ${response.length - 4} byte(s) but carries ${response.length - 5}`);
        const longer = Buffer.concat([response, Buffer.from([0, 0])]);
        longer.writeInt32BE(longer.length - 4, 0);
        expect(() => parseAllTopicsMetadataResponse(longer)).toThrow("Metadata response has 2 byte(s) after its last topic");
        const negative = metadataV1Response(1, BROKERS, 0, []);
        negative.writeInt32BE(-1, negative.length - 4);
        expect(() => parseAllTopicsMetadataResponse(negative)).toThrow("Metadata response has a topic count of -1");
    });

    it("sends the all-topics request over one connection and parses the answer", async () => {
        const received: Buffer[] = [];
        const server = net.createServer((socket) => socket.on("data", (chunk) => {
            received.push(chunk);
            socket.write(metadataV1Response(5, BROKERS, 1, TOPICS));
        }));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
            const answer = await queryAllTopicsMetadata(address, 5, 2_000, "bss-verify");
            expect(Buffer.concat(received)).toEqual(encodeAllTopicsMetadataRequest(5, "bss-verify"));
            expect(answer.topics.map((t) => `${t.name}: ${t.partitions.map((p) => p.leader).join(",")}`)).toEqual(["bss.events: 1,-1", "__consumer_offsets: 0"]);
            await expect(queryAllTopicsMetadata(address, 6, 2_000, "bss-verify")).rejects.toThrow("answer carries correlation id 5, expected 6");
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
    });
});
