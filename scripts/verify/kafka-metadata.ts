/**
 * One Kafka Metadata request (v1) to one address, without a client library: what that very broker answers about
 * the cluster (its broker list and the controller it knows). A client library would pick whichever broker it
 * likes for the request; asking each advertised EXTERNAL address in turn shows that each one answers and that
 * all of them agree on a single controller. The protocol is components/shared/kafka-metadata.ts, the program's.
 * The same request for every topic gives the partitions: kafkajs refuses a whole answer that holds one leaderless
 * partition, and that partition is what verify has to name.
 */
import { MetadataSilenceError, MetadataTopic, queryAllTopicsMetadata, queryMetadata } from "../../components/shared/kafka-metadata";
import { UnreachableError } from "./bounded";

export interface BrokerView {
    /** The address asked, `host:port`. */
    address: string;
    brokers: { nodeId: number; host: string; port: number }[];
    /** -1 when the broker knows no controller. */
    controllerId: number;
}

/** Asks `address` (`host:port`) for its metadata; rejects (UnreachableError on a silent peer) within `timeoutMs`. */
export async function brokerView(address: string, timeoutMs: number): Promise<BrokerView> {
    try {
        const answer = await queryMetadata(address, 1, timeoutMs, "bss-verify");
        return { address, brokers: answer.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })), controllerId: answer.controllerId };
    } catch (error) {
        throw error instanceof MetadataSilenceError ? new UnreachableError(`no answer from Kafka at ${address} within ${timeoutMs} ms`) : error;
    }
}

/** Asks `address` for every topic and its partitions; rejects (UnreachableError on a silent peer) within `timeoutMs`. */
export async function topicMetadata(address: string, timeoutMs: number): Promise<MetadataTopic[]> {
    try {
        return (await queryAllTopicsMetadata(address, 2, timeoutMs, "bss-verify")).topics;
    } catch (error) {
        throw error instanceof MetadataSilenceError ? new UnreachableError(`no answer from Kafka at ${address} within ${timeoutMs} ms`) : error;
    }
}
