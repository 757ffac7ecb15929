import * as pulumi from "@pulumi/pulumi";
import * as kafka from "@pulumi/kafka";
import type { TopicSettings } from "../../settings";
import { PROTECTED_TOPICS } from "./catalog";

export interface KafkaTopicsArgs {
    /** The topics to manage, catalog merged with the stack's `bss:topics` overrides (`settings.topics`). Required. */
    topics: readonly TopicSettings[];
    /** `externalHost:externalPorts[i]` of every broker's EXTERNAL listener (`KafkaCluster.externalBootstrap`): what the machine running `pulumi up` can dial, localhost:9092-9094 on kind. Required. */
    bootstrapServers: readonly string[];
    /** What every topic waits for: the broker StatefulSet (Pulumi awaits its readiness) and the per-broker Services. Default: nothing. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** Topics created with `protect: true`, so no update or destroy can delete them. Default: `PROTECTED_TOPICS` (bss.audit.events). */
    protectedTopics?: ReadonlySet<string>;
}

/** Inputs of one `kafka.Topic`: an explicit name (Pulumi would otherwise append a random suffix) and its config map. */
export function topicInputs(topic: TopicSettings): kafka.TopicArgs & { name: string; config: Record<string, string> } {
    return {
        name: topic.name,
        partitions: topic.partitions,
        replicationFactor: topic.replicationFactor,
        config: { ...topic.config },
    };
}

/** Partition count per topic name: the stack output the partition guard reads back on the next update. */
export function partitionCounts(topics: readonly TopicSettings[]): Record<string, number> {
    return Object.fromEntries(topics.map((topic) => [topic.name, topic.partitions]));
}

/**
 * The BSS topics as Kafka provider resources. Provider and topics are created here; the rules that keep a
 * change safe (validation, refusing fewer partitions) run before this component is constructed.
 */
export class KafkaTopics extends pulumi.ComponentResource {
    /** The explicit provider every topic uses (plaintext: the provider turns TLS on unless told otherwise). */
    readonly provider: kafka.Provider;
    /** Each topic resource, by topic name. */
    readonly topics: Record<string, kafka.Topic>;
    /** Partition count per topic name, to export as the `topicPartitions` stack output. */
    readonly partitions: Record<string, number>;

    constructor(name: string, args: KafkaTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:topics:KafkaTopics", name, {}, opts);
        const protectedTopics = args.protectedTopics ?? PROTECTED_TOPICS;

        this.provider = new kafka.Provider(`${name}-provider`, {
            bootstrapServers: [...args.bootstrapServers],
            tlsEnabled: false,
        }, { parent: this });

        this.topics = Object.fromEntries(args.topics.map((topic) => [topic.name, new kafka.Topic(topic.name, topicInputs(topic), {
            parent: this,
            provider: this.provider,
            dependsOn: args.dependsOn,
            protect: protectedTopics.has(topic.name),
        })]));
        this.partitions = partitionCounts(args.topics);

        this.registerOutputs({ bootstrapServers: args.bootstrapServers, partitions: this.partitions });
    }
}
