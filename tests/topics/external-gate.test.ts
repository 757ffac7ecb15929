import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { encodeMetadataRequest, parseMetadataResponse, queryMetadata } from "../../components/shared/kafka-metadata";
import { externalGateForRun, missingFromAnswer, waitForExternalBrokers } from "../../components/topics/external-gate";

/** Bytes a real Kafka 3.9.2 broker exchanged with the gate (see the fixture's note). */
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "metadata-v1.json"), "utf8")) as {
    request: string;
    responses: { threeBrokers: string; brokerTwoStopped: string };
};
const threeBrokers = Buffer.from(fixture.responses.threeBrokers, "hex");
const brokerTwoStopped = Buffer.from(fixture.responses.brokerTwoStopped, "hex");

describe("Metadata v1 on the wire", () => {
    it("encodes the request the real broker answered", () => {
        expect(encodeMetadataRequest(1, "bss-pulumi-gate").toString("hex")).toBe(fixture.request);
    });

    it("asks for no topics (an empty array, not the null that means all) and carries the correlation id", () => {
        const request = encodeMetadataRequest(0x01020304, "x");
        expect(request.readInt32BE(0)).toBe(request.length - 4);
        expect(request.readInt16BE(4)).toBe(3); // Metadata
        expect(request.readInt16BE(6)).toBe(1); // v1
        expect(request.readInt32BE(8)).toBe(0x01020304);
        expect(request.subarray(12).toString("hex")).toBe("0001" + "78" + "00000000");
    });

    it("parses the real answer of a healthy cluster: three brokers at their advertised addresses and a controller", () => {
        expect(parseMetadataResponse(threeBrokers)).toEqual({
            correlationId: 1,
            brokers: [
                { nodeId: 0, host: "localhost", port: 9092, rack: null },
                { nodeId: 2, host: "localhost", port: 9094, rack: null },
                { nodeId: 1, host: "localhost", port: 9093, rack: null },
            ],
            controllerId: 2,
        });
    });

    it("parses the real answer after broker 2 stopped: two brokers, the controller moved", () => {
        const response = parseMetadataResponse(brokerTwoStopped);
        expect(response.brokers.map((b) => b.nodeId)).toEqual([0, 1]);
        expect(response.controllerId).toBe(0);
    });

    it("refuses a truncated frame and a frame whose size does not match", () => {
        const cut = Buffer.from(threeBrokers.subarray(0, 30));
        cut.writeInt32BE(26, 0);
        expect(() => parseMetadataResponse(cut)).toThrow("Metadata response truncated: broker 0 port needs 4 byte(s) at offset 27, 3 left");
        expect(() => parseMetadataResponse(threeBrokers.subarray(0, threeBrokers.length - 1))).toThrow(/says 79 byte\(s\) but carries 78/);
    });

    it("opens only on every broker id and a controller", () => {
        expect(missingFromAnswer(parseMetadataResponse(threeBrokers), [0, 1, 2])).toBeUndefined();
        expect(missingFromAnswer(parseMetadataResponse(brokerTwoStopped), [0, 1, 2])).toBe("lists broker(s) 0,1, missing 2");
        const noController = Buffer.from(threeBrokers);
        noController.writeInt32BE(-1, noController.length - 8);
        expect(missingFromAnswer(parseMetadataResponse(noController), [0, 1, 2])).toBe("no controller elected");
    });
});

/** A stand-in broker on 127.0.0.1 that plays one behaviour per connection (the last one repeats). */
type Behaviour = "answer-all" | "answer-two" | "drop" | "silent";

interface FakeBroker {
    address: string;
    connections: () => number;
    close: () => Promise<void>;
}

async function fakeBroker(behaviours: Behaviour[]): Promise<FakeBroker> {
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => undefined);
        const behaviour = behaviours[Math.min(connections++, behaviours.length - 1)];
        if (behaviour === "drop") {
            // What kind's port proxy does while the NodePort behind it is not programmed yet.
            socket.destroy();
            return;
        }
        socket.once("data", (request: Buffer) => {
            if (behaviour === "silent") {
                return;
            }
            const answer = Buffer.from(behaviour === "answer-all" ? threeBrokers : brokerTwoStopped);
            answer.writeInt32BE(request.readInt32BE(8), 4);
            socket.write(answer);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
        address: `127.0.0.1:${port}`,
        connections: () => connections,
        close: () => new Promise<void>((resolve) => {
            sockets.forEach((s) => s.destroy());
            server.close(() => resolve());
        }),
    };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedAddress(): Promise<string> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `127.0.0.1:${port}`;
}

describe("waitForExternalBrokers", () => {
    const brokers: FakeBroker[] = [];
    const start = async (...behaviours: Behaviour[]) => {
        const broker = await fakeBroker(behaviours);
        brokers.push(broker);
        return broker;
    };
    afterEach(async () => {
        await Promise.all(brokers.splice(0).map((b) => b.close()));
    });

    it("resolves once every address lists every broker", async () => {
        const all = await Promise.all([start("answer-all"), start("answer-all"), start("answer-all")]);
        await expect(waitForExternalBrokers({ servers: all.map((b) => b.address), timeoutMs: 10_000, retryMs: 50 })).resolves.toBeUndefined();
        expect(all.map((b) => b.connections())).toEqual([1, 1, 1]);
    }, 20_000);

    it("keeps retrying through dropped connections until the path answers", async () => {
        const healthy = await start("answer-all");
        const flaky = await start("drop", "drop", "answer-all");
        await expect(waitForExternalBrokers({ servers: [healthy.address, flaky.address], brokerIds: [0, 1, 2], timeoutMs: 20_000, retryMs: 50 })).resolves.toBeUndefined();
        expect(flaky.connections()).toBe(3);
    }, 30_000);

    it("gives up at the bound with a RunError naming every address, the rounds and the last failure", async () => {
        const a = await start("answer-all");
        const b = await start("answer-two");
        const error = await waitForExternalBrokers({ servers: [a.address, b.address], brokerIds: [0, 1, 2], timeoutMs: 4_000, retryMs: 100 }).catch((e) => e);
        expect(pulumi.RunError.isInstance(error)).toBe(true);
        expect(error.stack).toBeUndefined();
        expect(error.message).toContain("did not all answer a Metadata request listing brokers 0,1,2 within 4 s");
        expect(error.message).toContain(`tried ${a.address}, ${b.address}`);
        expect(error.message).toContain(`last failure: ${b.address} lists broker(s) 0,1, missing 2`);
        const rounds = Number(/\((\d+) round\(s\)\)/.exec(error.message)?.[1]);
        expect(rounds).toBeGreaterThan(1);
        expect(b.connections()).toBeGreaterThan(1);
    }, 20_000);

    it("keeps the last whole attempt's failure when the bound cuts the final request short", async () => {
        // Round 1 at 0 ms: a broker missing; round 2 at about 700 ms has about 300 ms left, less than the 500 ms a
        // request may take, and meets silence: that says nothing of the broker ("no answer within 300 ms").
        const a = await start("answer-two", "silent");
        const error = await waitForExternalBrokers({ servers: [a.address], brokerIds: [0, 1, 2], timeoutMs: 1_000, retryMs: 700, requestTimeoutMs: 500 }).catch((e) => e);
        expect(error.message).toContain(`last failure: ${a.address} lists broker(s) 0,1, missing 2`);
    }, 10_000);

    it("reports a refused connection", async () => {
        const refused = await closedAddress();
        const refusedError = await waitForExternalBrokers({ servers: [refused], brokerIds: [0], timeoutMs: 3_000, retryMs: 100 }).catch((e) => e);
        expect(refusedError.message).toContain(`last failure: ${refused}: connect ECONNREFUSED ${refused}`);
    }, 20_000);

    it("reports a listener that accepts and never answers", async () => {
        const silent = await start("silent");
        const silentError = await waitForExternalBrokers({ servers: [silent.address], brokerIds: [0], timeoutMs: 3_000, retryMs: 100, requestTimeoutMs: 300 }).catch((e) => e);
        // The last request's own bound is cut to what is left of the whole wait.
        expect(silentError.message).toMatch(new RegExp(`last failure: ${silent.address}: no answer within \\d+ ms`));
    }, 20_000);

    it("reads a dropped connection as a failure, not as an empty answer", async () => {
        const dropping = await start("drop");
        await expect(queryMetadata(dropping.address, 7, 2_000, "bss-pulumi-gate")).rejects.toThrow(/connection closed before any answer|ECONNRESET/);
    });
});

describe("when the gate runs", () => {
    it("waits during `pulumi up` only: not in a preview, not under the mock engine", () => {
        expect(externalGateForRun({ dryRun: false, engine: true })).toBeInstanceOf(Function);
        expect(externalGateForRun({ dryRun: true, engine: true })).toBeUndefined();
        expect(externalGateForRun({ dryRun: false, engine: false })).toBeUndefined();
    });

    it("passes its bound to the wait", async () => {
        const gate = externalGateForRun({ dryRun: false, engine: true }, { timeoutMs: 200, retryMs: 50 })!;
        const refused = await closedAddress();
        await expect(gate([refused])).rejects.toThrow(`within 0.2 s`);
    });
});
