/**
 * One Kafka Metadata request (v1) to one address, without a client library: what that very broker answers about
 * the cluster (its broker list and the controller it knows). A client library would pick whichever broker it
 * likes for the request; asking each advertised EXTERNAL address in turn shows that each one answers and that
 * all of them agree on a single controller. The protocol is components/shared/kafka-metadata.ts, the program's.
 */
import { MetadataSilenceError, queryMetadata } from "../../components/shared/kafka-metadata";
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
