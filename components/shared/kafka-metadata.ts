/**
 * Kafka's Metadata request, version 1, spoken over a plain TCP socket without a client library: enough to ask
 * one broker which brokers it knows and which controller. `components/kafka/probe.sh` sends the same request
 * from inside the pod; the program's topic gate and `npm run verify` send it from the machine they run on.
 */
import * as net from "net";
import { KafkaWireReader } from "./kafka-wire";

const METADATA_API_KEY = 3;
const METADATA_VERSION = 1;

/** One broker as a Metadata response lists it. */
export interface MetadataBroker {
    nodeId: number;
    host: string;
    port: number;
    rack: string | null;
}

/** The parts of a Metadata v1 response the gate reads. */
export interface MetadataResponse {
    correlationId: number;
    brokers: MetadataBroker[];
    /** -1 while no controller is elected. */
    controllerId: number;
}

/**
 * A Metadata v1 request for no topics: only the cluster's brokers and controller come back.
 * @returns the whole frame, size prefix included
 */
export function encodeMetadataRequest(correlationId: number, clientId: string): Buffer {
    const client = Buffer.from(clientId, "utf8");
    const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4);
    let offset = body.writeInt16BE(METADATA_API_KEY, 0);
    offset = body.writeInt16BE(METADATA_VERSION, offset);
    offset = body.writeInt32BE(correlationId, offset);
    offset = body.writeInt16BE(client.length, offset);
    offset += client.copy(body, offset);
    // An empty topic array; in v1 a null array (-1) would ask for every topic instead.
    body.writeInt32BE(0, offset);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    return Buffer.concat([size, body]);
}

/**
 * Parses a Metadata v1 response frame (size prefix included), as a broker answers `encodeMetadataRequest`.
 * Topics are not read: the request asks for none.
 */
export function parseMetadataResponse(frame: Buffer): MetadataResponse {
    const reader = new KafkaWireReader(frame, "Metadata");
    const size = reader.int32("size");
    if (size !== frame.length - 4) {
        throw new Error(`Metadata response frame says ${size} byte(s) but carries ${frame.length - 4}`);
    }
    const correlationId = reader.int32("correlation id");
    const count = reader.int32("broker count");
    if (count < 0) {
        throw new Error(`Metadata response has a broker count of ${count}`);
    }
    const brokers: MetadataBroker[] = [];
    for (let i = 0; i < count; i++) {
        const nodeId = reader.int32(`broker ${i} node id`);
        const host = reader.string(`broker ${i} host`);
        const port = reader.int32(`broker ${i} port`);
        const rack = reader.nullableString(`broker ${i} rack`);
        brokers.push({ nodeId, host, port, rack });
    }
    const controllerId = reader.int32("controller id");
    return { correlationId, brokers, controllerId };
}

/** Splits `host:port` (the last colon separates the port, so bracketless IPv6 is not supported). */
export function splitAddress(address: string): { host: string; port: number } {
    const colon = address.lastIndexOf(":");
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`"${address}" is not host:port`);
    }
    return { host: address.slice(0, colon), port };
}

/** The peer accepted the connection and then said nothing for the whole bound. */
export class MetadataSilenceError extends Error {
    constructor(readonly timeoutMs: number) {
        super(`no answer within ${timeoutMs} ms`);
        this.name = "MetadataSilenceError";
    }
}

/**
 * Sends one Metadata request to `address` over a fresh connection and waits for the whole answer.
 * Fails on a refused or reset connection, a connection closed before the answer is complete (what kind's port
 * proxy does while the NodePort is not programmed yet), and on silence longer than `timeoutMs`
 * (a MetadataSilenceError).
 */
export function queryMetadata(address: string, correlationId: number, timeoutMs: number, clientId: string): Promise<MetadataResponse> {
    const { host, port } = splitAddress(address);
    return new Promise<MetadataResponse>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let received = 0;
        let settled = false;
        const socket = net.connect({ host, port });
        const finish = (error: Error | undefined, response?: MetadataResponse) => {
            if (settled) {
                return;
            }
            settled = true;
            socket.destroy();
            if (error) {
                reject(error);
            } else {
                resolve(response!);
            }
        };
        socket.setTimeout(timeoutMs, () => finish(new MetadataSilenceError(timeoutMs)));
        socket.on("connect", () => socket.write(encodeMetadataRequest(correlationId, clientId)));
        socket.on("error", (error) => finish(error));
        socket.on("close", () => finish(new Error(received === 0 ? "connection closed before any answer" : `connection closed after ${received} byte(s) of the answer`)));
        socket.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
            received += chunk.length;
            if (received < 4) {
                return;
            }
            const frame = Buffer.concat(chunks);
            const size = frame.readInt32BE(0);
            if (frame.length < 4 + size) {
                return;
            }
            try {
                const response = parseMetadataResponse(frame.subarray(0, 4 + size));
                if (response.correlationId !== correlationId) {
                    throw new Error(`answer carries correlation id ${response.correlationId}, expected ${correlationId}`);
                }
                finish(undefined, response);
            } catch (error) {
                finish(error as Error);
            }
        });
    });
}
