/**
 * The gate in front of the topics: waits until every broker's EXTERNAL address (what the Kafka provider dials
 * from the machine running `pulumi up`) answers a Kafka Metadata request that lists every broker and a
 * controller. A Ready StatefulSet and existing Services do not mean that path works yet: kube-proxy programs
 * NodePorts asynchronously and kind's host port proxy accepts connections and then drops them, so the first
 * topics of a first `pulumi up` failed with "broken pipe" before this gate existed.
 *
 * Speaks Metadata v1 over a plain TCP socket, as `components/kafka/probe.sh` does inside the pod, so the
 * program needs no Kafka client library.
 */
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { messageOnlyRunError } from "./run-error";

const METADATA_API_KEY = 3;
const METADATA_VERSION = 1;
const CLIENT_ID = "bss-pulumi-gate";

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
export function encodeMetadataRequest(correlationId: number, clientId: string = CLIENT_ID): Buffer {
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

/** Reads big-endian Kafka primitives and refuses to run past the end. */
class Reader {
    private offset = 0;
    constructor(private readonly bytes: Buffer) {}

    private take(count: number, what: string): number {
        if (this.offset + count > this.bytes.length) {
            throw new Error(`Metadata response truncated: ${what} needs ${count} byte(s) at offset ${this.offset}, ${this.bytes.length - this.offset} left`);
        }
        const at = this.offset;
        this.offset += count;
        return at;
    }

    int16(what: string): number {
        return this.bytes.readInt16BE(this.take(2, what));
    }

    int32(what: string): number {
        return this.bytes.readInt32BE(this.take(4, what));
    }

    nullableString(what: string): string | null {
        const length = this.int16(`${what} length`);
        if (length < 0) {
            return null;
        }
        const at = this.take(length, what);
        return this.bytes.toString("utf8", at, at + length);
    }

    string(what: string): string {
        const value = this.nullableString(what);
        if (value === null) {
            throw new Error(`Metadata response has a null ${what}`);
        }
        return value;
    }
}

/**
 * Parses a Metadata v1 response frame (size prefix included), as a broker answers `encodeMetadataRequest`.
 * Topics are not read: the request asks for none.
 */
export function parseMetadataResponse(frame: Buffer): MetadataResponse {
    const reader = new Reader(frame);
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

/**
 * Sends one Metadata request to `address` over a fresh connection and waits for the whole answer.
 * Fails on a refused or reset connection, a connection closed before the answer is complete (what kind's port
 * proxy does while the NodePort is not programmed yet), and on silence longer than `timeoutMs`.
 */
export function queryMetadata(address: string, correlationId: number, timeoutMs: number): Promise<MetadataResponse> {
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
        socket.setTimeout(timeoutMs, () => finish(new Error(`no answer within ${timeoutMs} ms`)));
        socket.on("connect", () => socket.write(encodeMetadataRequest(correlationId)));
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

/** Why an answer does not yet open the gate, or undefined when it does. */
export function missingFromAnswer(response: MetadataResponse, brokerIds: readonly number[]): string | undefined {
    const listed = new Set(response.brokers.map((b) => b.nodeId));
    const missing = brokerIds.filter((id) => !listed.has(id));
    if (missing.length > 0) {
        return `lists broker(s) ${[...listed].sort((a, b) => a - b).join(",") || "none"}, missing ${missing.join(",")}`;
    }
    if (response.controllerId < 0) {
        return "no controller elected";
    }
    return undefined;
}

export interface ExternalGateOptions {
    /** Every broker's EXTERNAL address (`host:port`), as the Kafka provider dials them. Required. */
    servers: readonly string[];
    /** Broker ids each address must list. Default: `0 .. servers.length - 1` (broker i is advertised at `servers[i]`). */
    brokerIds?: readonly number[];
    /** Bound of the whole wait. Default: 180 000 ms. */
    timeoutMs?: number;
    /** Pause between rounds. Default: 2 000 ms. */
    retryMs?: number;
    /** Bound of one request, connect included. Default: 5 000 ms. */
    requestTimeoutMs?: number;
}

export const DEFAULT_GATE_TIMEOUT_MS = 180_000;

/**
 * Waits until, in one round, every address answers a Metadata request that lists every broker id and a
 * controller. Retries every `retryMs` until `timeoutMs`, then fails with a RunError (Pulumi prints its message
 * once, without a stack) naming the addresses tried and the last failure.
 */
export async function waitForExternalBrokers(options: ExternalGateOptions): Promise<void> {
    const servers = [...options.servers];
    if (servers.length === 0) {
        throw messageOnlyRunError("The Kafka external gate got no addresses to check");
    }
    const brokerIds = options.brokerIds ?? servers.map((_, i) => i);
    const timeoutMs = options.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS;
    const retryMs = options.retryMs ?? 2_000;
    const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    const deadline = Date.now() + timeoutMs;
    let lastFailure = "no request completed within the bound";
    let correlationId = 0;
    for (let round = 1; ; round++) {
        let open = true;
        for (const address of servers) {
            const left = deadline - Date.now();
            if (left <= 0) {
                open = false;
                break;
            }
            try {
                const response = await queryMetadata(address, ++correlationId, Math.min(requestTimeoutMs, left));
                const missing = missingFromAnswer(response, brokerIds);
                if (missing !== undefined) {
                    lastFailure = `${address} ${missing}`;
                    open = false;
                    break;
                }
            } catch (error) {
                lastFailure = `${address}: ${(error as Error).message}`;
                open = false;
                break;
            }
        }
        if (open) {
            return;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
            throw messageOnlyRunError(
                `Kafka's EXTERNAL listeners did not all answer a Metadata request listing brokers ${brokerIds.join(",")} within ${timeoutMs / 1000} s ` +
                `(${round} round(s)); tried ${servers.join(", ")}; last failure: ${lastFailure}. ` +
                "The topics and their provider were not created: check the brokers and the host's path to them, then run `pulumi up` again",
            );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, left)));
    }
}

/** Waits on the EXTERNAL path before the topics' provider may connect; resolves once it works. */
export type ExternalGate = (servers: readonly string[]) => Promise<void>;

/**
 * The gate for this run: the bounded wait during `pulumi up`; nothing in a preview (the provider does not
 * connect while planning new topics, and the brokers may not exist yet) and nothing without an engine (the
 * mock engine of `npm run render` and the unit tests deploys nothing there is to wait for).
 */
export function externalGateForRun(run: { dryRun: boolean; engine: boolean }, options: Omit<ExternalGateOptions, "servers"> = {}): ExternalGate | undefined {
    if (run.dryRun || !run.engine) {
        return undefined;
    }
    return (servers) => waitForExternalBrokers({ ...options, servers });
}

/** `externalGateForRun` for the current Pulumi run. */
export function currentExternalGate(options: Omit<ExternalGateOptions, "servers"> = {}): ExternalGate | undefined {
    return externalGateForRun({ dryRun: pulumi.runtime.isDryRun(), engine: pulumi.runtime.getEngine() !== undefined }, options);
}
