/**
 * Writes Metadata v1 response frames field by field, in the order of Kafka's MetadataResponse.json (version 1):
 * correlation id, brokers (node id, host, port, nullable rack), controller id, topics (error code, name,
 * is_internal, partitions (error code, index, leader, replicas, ISR)). For tests that need answers no real broker
 * is made to give on demand.
 */
export interface PartitionSpec {
    errorCode: number;
    partitionId: number;
    leader: number;
    replicas: number[];
    isr: number[];
}

export interface TopicSpec {
    errorCode: number;
    name: string;
    isInternal: boolean;
    partitions: PartitionSpec[];
}

export interface BrokerSpec {
    nodeId: number;
    host: string;
    port: number;
    rack: string | null;
}

const int16 = (value: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    return b;
};
const int32 = (value: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    return b;
};
const string = (value: string | null) => (value === null ? int16(-1) : Buffer.concat([int16(Buffer.byteLength(value)), Buffer.from(value)]));
const array = <T>(items: T[], write: (item: T) => Buffer) => Buffer.concat([int32(items.length), ...items.map(write)]);

/** The whole frame, size prefix included. */
export function metadataV1Response(correlationId: number, brokers: BrokerSpec[], controllerId: number, topics: TopicSpec[]): Buffer {
    const body = Buffer.concat([
        int32(correlationId),
        array(brokers, (b) => Buffer.concat([int32(b.nodeId), string(b.host), int32(b.port), string(b.rack)])),
        int32(controllerId),
        array(topics, (t) => Buffer.concat([
            int16(t.errorCode), string(t.name), Buffer.from([t.isInternal ? 1 : 0]),
            array(t.partitions, (p) => Buffer.concat([int16(p.errorCode), int32(p.partitionId), int32(p.leader), array(p.replicas, int32), array(p.isr, int32)])),
        ])),
    ]);
    return Buffer.concat([int32(body.length), body]);
}
