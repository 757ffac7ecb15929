/**
 * Kafka's DescribeQuorum request (version 1, flexible) over a plain TCP socket: what the KRaft metadata quorum looks
 * like (leader, voters and how far each has caught up, observers). A broker forwards it to the active controller, so
 * `verify` asks a broker's EXTERNAL address and needs no way to the controllers themselves.
 * components/kafka/controller-probe.sh sends the same request from inside a controller pod.
 */
import { exchangeFrame, KafkaWireReader } from "../../components/shared/kafka-wire";
import { UnreachableError } from "./bounded";

const DESCRIBE_QUORUM_API_KEY = 55;
const DESCRIBE_QUORUM_VERSION = 1;
export const METADATA_TOPIC = "__cluster_metadata";

export interface QuorumReplica {
    replicaId: number;
    logEndOffset: number;
    /** Milliseconds since the epoch; -1 when the leader has not heard from it. */
    lastFetchTimestamp: number;
    lastCaughtUpTimestamp: number;
}

export interface QuorumView {
    leaderId: number;
    leaderEpoch: number;
    highWatermark: number;
    voters: QuorumReplica[];
    observers: QuorumReplica[];
}

/** The request frame (size prefix included): header v2, then the one partition of `__cluster_metadata`. */
export function encodeDescribeQuorumRequest(correlationId: number, clientId: string): Buffer {
    const client = Buffer.from(clientId, "utf8");
    const topic = Buffer.from(METADATA_TOPIC, "utf8");
    const header = Buffer.alloc(2 + 2 + 4 + 2);
    header.writeInt16BE(DESCRIBE_QUORUM_API_KEY, 0);
    header.writeInt16BE(DESCRIBE_QUORUM_VERSION, 2);
    header.writeInt32BE(correlationId, 4);
    header.writeInt16BE(client.length, 8);
    const body = Buffer.concat([
        header, client, Buffer.from([0]),
        // topics: compact array of 1, topic name as a compact string, partitions: compact array of 1 (index 0)
        Buffer.from([2, topic.length + 1]), topic, Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    return Buffer.concat([size, body]);
}

/** Kafka's error codes DescribeQuorum answers with most often, for messages. */
const ERRORS: Record<number, string> = { 6: "NOT_LEADER_OR_FOLLOWER", 35: "UNSUPPORTED_VERSION", 41: "NOT_CONTROLLER", 3: "UNKNOWN_TOPIC_OR_PARTITION" };

/** Parses the response frame (size prefix included); throws on any error code it carries. */
export function parseDescribeQuorumResponse(frame: Buffer): QuorumView & { correlationId: number } {
    const reader = new KafkaWireReader(frame, "DescribeQuorum");
    const correlationId = reader.header();
    reader.tags("header");
    const errorCode = reader.int16("error code");
    if (errorCode !== 0) {
        throw new Error(`DescribeQuorum answered error ${errorCode} (${ERRORS[errorCode] ?? "see Kafka's error codes"})`);
    }
    const topics = reader.uvarint("topic count") - 1;
    if (topics !== 1) {
        throw new Error(`DescribeQuorum answered ${topics} topic(s), asked for 1`);
    }
    reader.skip(reader.uvarint("topic name length") - 1, "topic name");
    const partitions = reader.uvarint("partition count") - 1;
    if (partitions !== 1) {
        throw new Error(`DescribeQuorum answered ${partitions} partition(s), asked for 1`);
    }
    reader.int32("partition index");
    const partitionError = reader.int16("partition error code");
    if (partitionError !== 0) {
        throw new Error(`DescribeQuorum answered error ${partitionError} (${ERRORS[partitionError] ?? "see Kafka's error codes"}) for ${METADATA_TOPIC}`);
    }
    const leaderId = reader.int32("leader id");
    const leaderEpoch = reader.int32("leader epoch");
    const highWatermark = reader.int64("high watermark");
    const replicas = (what: string): QuorumReplica[] => {
        const count = reader.uvarint(`${what} count`) - 1;
        return [...Array(Math.max(0, count)).keys()].map(() => {
            const replica = {
                replicaId: reader.int32(`${what} id`),
                logEndOffset: reader.int64(`${what} log end offset`),
                lastFetchTimestamp: reader.int64(`${what} last fetch`),
                lastCaughtUpTimestamp: reader.int64(`${what} last caught up`),
            };
            reader.tags(what);
            return replica;
        });
    };
    const voters = replicas("voter");
    const observers = replicas("observer");
    return { correlationId, leaderId, leaderEpoch, highWatermark, voters, observers };
}

/** Asks `address` (a broker, which forwards to the active controller) within `timeoutMs`. */
export async function describeQuorum(address: string, timeoutMs: number, clientId = "bss-verify"): Promise<QuorumView> {
    const frame = await exchangeFrame(address, encodeDescribeQuorumRequest(1, clientId), timeoutMs,
        () => new UnreachableError(`no DescribeQuorum answer from ${address} within ${timeoutMs} ms`));
    const { correlationId: _, ...view } = parseDescribeQuorumResponse(frame);
    return view;
}
