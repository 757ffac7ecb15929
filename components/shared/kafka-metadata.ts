/**
 * Kafka's Metadata request, version 1, spoken over a plain TCP socket without a client library: enough to ask
 * one broker which brokers it knows and which controller. `components/kafka/probe.sh` sends the same request
 * from inside the pod; the program's topic gate and `npm run verify` send it from the machine they run on.
 * `npm run verify` also sends the all-topics form for the partitions: a client library (kafkajs) turns one
 * leaderless partition into an error for the whole answer, exactly when an operator needs to see which one it is.
 */
import { exchangeFrame, KafkaWireReader } from "./kafka-wire";

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

/** One partition as a Metadata v1 response lists it. */
export interface MetadataPartition {
    /** 0, or 5 (LEADER_NOT_AVAILABLE) while the partition has no leader. */
    errorCode: number;
    partitionId: number;
    /** -1 while the partition has no leader. */
    leader: number;
    replicas: number[];
    isr: number[];
}

/** One topic as a Metadata v1 response lists it. */
export interface MetadataTopic {
    /** 0, or Kafka's error code for the whole topic (its partitions are then usually not listed). */
    errorCode: number;
    name: string;
    isInternal: boolean;
    partitions: MetadataPartition[];
}

/** A Metadata v1 response to `encodeAllTopicsMetadataRequest`: the brokers, the controller and every topic. */
export interface AllTopicsMetadataResponse extends MetadataResponse {
    topics: MetadataTopic[];
}

/** In v1 an empty topic array asks for no topic and a null one (count -1) for every topic. */
const NO_TOPICS = 0;
const ALL_TOPICS = -1;

function encodeRequest(correlationId: number, clientId: string, topicArray: typeof NO_TOPICS | typeof ALL_TOPICS): Buffer {
    const client = Buffer.from(clientId, "utf8");
    const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4);
    let offset = body.writeInt16BE(METADATA_API_KEY, 0);
    offset = body.writeInt16BE(METADATA_VERSION, offset);
    offset = body.writeInt32BE(correlationId, offset);
    offset = body.writeInt16BE(client.length, offset);
    offset += client.copy(body, offset);
    body.writeInt32BE(topicArray, offset);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    return Buffer.concat([size, body]);
}

/**
 * A Metadata v1 request for no topics: only the cluster's brokers and controller come back.
 * @returns the whole frame, size prefix included
 */
export function encodeMetadataRequest(correlationId: number, clientId: string): Buffer {
    return encodeRequest(correlationId, clientId, NO_TOPICS);
}

/**
 * A Metadata v1 request for every topic (internal ones included), with every partition's leader, replicas and ISR.
 * Brokers never create a topic for it (auto-creation applies to topics named in the request only).
 * @returns the whole frame, size prefix included
 */
export function encodeAllTopicsMetadataRequest(correlationId: number, clientId: string): Buffer {
    return encodeRequest(correlationId, clientId, ALL_TOPICS);
}

/** An INT32-counted array; Metadata v1 responses carry no null arrays, so a negative count is a misread frame. */
function readArray<T>(reader: KafkaWireReader, what: string, readItem: (index: number) => T): T[] {
    const count = reader.int32(`${what} count`);
    if (count < 0) {
        throw new Error(`Metadata response has a ${what} count of ${count}`);
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) {
        items.push(readItem(i));
    }
    return items;
}

function readTopics(reader: KafkaWireReader): MetadataTopic[] {
    return readArray(reader, "topic", (t) => {
        const errorCode = reader.int16(`topic ${t} error code`);
        const name = reader.string(`topic ${t} name`);
        const isInternal = reader.boolean(`topic ${name} is_internal`);
        const partitions = readArray(reader, `topic ${name} partition`, (p) => {
            const at = `topic ${name} partition ${p}`;
            const partitionErrorCode = reader.int16(`${at} error code`);
            const partitionId = reader.int32(`${at} id`);
            const leader = reader.int32(`${at} leader`);
            const replicas = readArray(reader, `${at} replica`, (r) => reader.int32(`${at} replica ${r}`));
            const isr = readArray(reader, `${at} ISR`, (r) => reader.int32(`${at} ISR ${r}`));
            return { errorCode: partitionErrorCode, partitionId, leader, replicas, isr };
        });
        return { errorCode, name, isInternal, partitions };
    });
}

/**
 * Parses a Metadata v1 response frame (size prefix included), as a broker answers `encodeMetadataRequest`.
 * Topics are not read: the request asks for none.
 */
export function parseMetadataResponse(frame: Buffer): MetadataResponse {
    return readHead(new KafkaWireReader(frame, "Metadata"));
}

/** Parses a Metadata v1 response frame (size prefix included), as a broker answers `encodeAllTopicsMetadataRequest`. */
export function parseAllTopicsMetadataResponse(frame: Buffer): AllTopicsMetadataResponse {
    const reader = new KafkaWireReader(frame, "Metadata");
    const head = readHead(reader);
    const topics = readTopics(reader);
    if (reader.remaining() !== 0) {
        throw new Error(`Metadata response has ${reader.remaining()} byte(s) after its last topic`);
    }
    return { ...head, topics };
}

/** The size check, correlation id, brokers and controller id that open every Metadata v1 response. */
function readHead(reader: KafkaWireReader): MetadataResponse {
    const correlationId = reader.header();
    const brokers = readArray(reader, "broker", (i): MetadataBroker => {
        const nodeId = reader.int32(`broker ${i} node id`);
        const host = reader.string(`broker ${i} host`);
        const port = reader.int32(`broker ${i} port`);
        const rack = reader.nullableString(`broker ${i} rack`);
        return { nodeId, host, port, rack };
    });
    const controllerId = reader.int32("controller id");
    return { correlationId, brokers, controllerId };
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
    return exchange(address, correlationId, timeoutMs, encodeMetadataRequest(correlationId, clientId), parseMetadataResponse);
}

/** `queryMetadata` for every topic: `encodeAllTopicsMetadataRequest`, failing the same ways. */
export function queryAllTopicsMetadata(address: string, correlationId: number, timeoutMs: number, clientId: string): Promise<AllTopicsMetadataResponse> {
    return exchange(address, correlationId, timeoutMs, encodeAllTopicsMetadataRequest(correlationId, clientId), parseAllTopicsMetadataResponse);
}

async function exchange<T extends MetadataResponse>(address: string, correlationId: number, timeoutMs: number, request: Buffer, parse: (frame: Buffer) => T): Promise<T> {
    const response = parse(await exchangeFrame(address, request, timeoutMs, () => new MetadataSilenceError(timeoutMs)));
    if (response.correlationId !== correlationId) {
        throw new Error(`answer carries correlation id ${response.correlationId}, expected ${correlationId}`);
    }
    return response;
}
