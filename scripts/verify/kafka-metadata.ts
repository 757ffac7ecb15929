/**
 * One Kafka Metadata request (v1) to one address, without a client library: what that very broker answers about
 * the cluster (its broker list and the controller it knows). A client library would pick whichever broker it
 * likes for the request; asking each advertised EXTERNAL address in turn shows that each one answers and that
 * all of them agree on a single controller.
 */
import * as net from "net";
import { withTimeout } from "./bounded";

export interface BrokerView {
    /** The address asked, `host:port`. */
    address: string;
    brokers: { nodeId: number; host: string; port: number }[];
    /** -1 when the broker knows no controller. */
    controllerId: number;
}

const METADATA_API_KEY = 3;
const METADATA_VERSION = 1;

/** The request with no topics (an empty array, not null: v1 reads null as "all topics"). */
export function encodeMetadataRequest(correlationId: number, clientId: string): Buffer {
    const client = Buffer.from(clientId, "utf8");
    const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4);
    let at = body.writeInt16BE(METADATA_API_KEY, 0);
    at = body.writeInt16BE(METADATA_VERSION, at);
    at = body.writeInt32BE(correlationId, at);
    at = body.writeInt16BE(client.length, at);
    at += client.copy(body, at);
    body.writeInt32BE(0, at);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    return Buffer.concat([size, body]);
}

/** Parses a Metadata v1 response body (after the size prefix): correlation id, brokers, controller id. */
export function decodeMetadataResponse(body: Buffer): { correlationId: number; brokers: BrokerView["brokers"]; controllerId: number } {
    let at = 0;
    const int32 = () => {
        const v = body.readInt32BE(at);
        at += 4;
        return v;
    };
    const string = (): string | null => {
        const length = body.readInt16BE(at);
        at += 2;
        if (length < 0) {
            return null;
        }
        const v = body.toString("utf8", at, at + length);
        at += length;
        return v;
    };
    const correlationId = int32();
    const count = int32();
    const brokers: BrokerView["brokers"] = [];
    for (let i = 0; i < count; i++) {
        const nodeId = int32();
        const host = string() ?? "";
        const port = int32();
        string(); // rack
        brokers.push({ nodeId, host, port });
    }
    return { correlationId, brokers, controllerId: int32() };
}

/** Asks `address` (`host:port`) for its metadata; rejects (UnreachableError on a silent peer) within `timeoutMs`. */
export function brokerView(address: string, timeoutMs: number): Promise<BrokerView> {
    const at = address.lastIndexOf(":");
    const host = address.slice(0, at);
    const port = Number(address.slice(at + 1));
    const correlationId = 1;
    const socket = new net.Socket();
    const answer = new Promise<BrokerView>((resolve, reject) => {
        let received = Buffer.alloc(0);
        socket.once("error", reject);
        socket.once("close", () => reject(new Error(`${address} closed the connection before answering`)));
        socket.on("data", (chunk) => {
            received = Buffer.concat([received, chunk]);
            if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
                try {
                    const decoded = decodeMetadataResponse(received.subarray(4, 4 + received.readInt32BE(0)));
                    if (decoded.correlationId !== correlationId) {
                        throw new Error(`${address} answered correlation id ${decoded.correlationId}, expected ${correlationId}`);
                    }
                    resolve({ address, brokers: decoded.brokers, controllerId: decoded.controllerId });
                } catch (error) {
                    reject(error);
                }
            }
        });
        socket.connect(port, host, () => socket.write(encodeMetadataRequest(correlationId, "bss-verify")));
    });
    return withTimeout(answer, timeoutMs, `Kafka at ${address}`).finally(() => socket.destroy());
}
