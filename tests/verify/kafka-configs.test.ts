/** scripts/verify/kafka-configs.ts on the bytes a real Kafka 3.9.2 broker exchanged with it (see the fixture's note). */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { CONFIG_SOURCE, describeTopicConfigs, encodeDescribeTopicConfigsRequest, parseDescribeConfigsResponse } from "../../scripts/verify/kafka-configs";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "describe-configs-v1.json"), "utf8")) as {
    topics: string[]; request: string; response: string;
};
const response = Buffer.from(fixture.response, "hex");

/** A loopback server that answers every request with `answer`. */
async function replaying(answer: Buffer): Promise<{ address: string; close(): void }> {
    const server = net.createServer((socket) => socket.once("data", () => socket.write(answer)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => server.close() };
}

describe("DescribeConfigs v1", () => {
    it("encodes the very request the broker answered", () => {
        expect(encodeDescribeTopicConfigsRequest(1, "bss-verify", fixture.topics).toString("hex")).toBe(fixture.request);
    });

    it("reads each topic's values with their sources: set on the topic, static broker config, default", () => {
        const parsed = parseDescribeConfigsResponse(response);
        expect(parsed.correlationId).toBe(1);
        expect(parsed.topics.map((t) => [t.name, t.errorCode, Object.keys(t.config).length])).toEqual([
            ["bss.captured", 0, 36], ["bss.captured-defaults", 0, 36], ["bss.missing", 3, 0],
        ]);
        const [captured, defaults] = parsed.topics;
        expect(captured.config["retention.ms"]).toEqual({ value: "604800000", source: CONFIG_SOURCE.TOPIC_CONFIG });
        expect(captured.config["cleanup.policy"]).toEqual({ value: "compact", source: CONFIG_SOURCE.TOPIC_CONFIG });
        expect(captured.config["min.insync.replicas"]).toEqual({ value: "2", source: CONFIG_SOURCE.STATIC_BROKER_CONFIG });
        expect(defaults.config["cleanup.policy"]).toEqual({ value: "delete", source: CONFIG_SOURCE.DEFAULT_CONFIG });
        expect(defaults.config["retention.ms"]).toEqual({ value: "604800000", source: CONFIG_SOURCE.DEFAULT_CONFIG });
    });

    it("refuses a truncated frame and one with bytes after its last result, naming where", () => {
        const truncated = Buffer.from(response.subarray(0, 100));
        truncated.writeInt32BE(96, 0);
        expect(() => parseDescribeConfigsResponse(truncated)).toThrow(/DescribeConfigs response truncated: .+ at offset \d+/);
        const longer = Buffer.concat([response, Buffer.from([0, 0])]);
        longer.writeInt32BE(longer.length - 4, 0);
        expect(() => parseDescribeConfigsResponse(longer)).toThrow("DescribeConfigs response has 2 byte(s) after its last result");
    });

    it("asks over a plain socket and refuses an answer with a topic's error, naming the topic and the code", async () => {
        const broker = await replaying(response);
        try {
            await expect(describeTopicConfigs(broker.address, fixture.topics, 2_000)).rejects.toThrow("DescribeConfigs refused bss.missing (error 3)");
        } finally {
            broker.close();
        }
    });
});
