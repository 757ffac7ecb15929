import * as pulumi from "@pulumi/pulumi";
import * as kafka from "@pulumi/kafka";
import type { TopicSettings } from "../../settings";
import { PROTECTED_TOPICS } from "./catalog";
import { currentExternalGate, ExternalGate } from "./external-gate";

export interface KafkaTopicsArgs {
    /** The topics to manage, catalog merged with the stack's `bss:topics` overrides (`settings.topics`). Required. */
    topics: readonly TopicSettings[];
    /** `externalHost:externalPorts[i]` of every broker's EXTERNAL listener, broker i at index i (`KafkaCluster.externalBootstrap`): what the machine running `pulumi up` can dial, localhost:9092-9094 on kind. Required. */
    bootstrapServers: readonly string[];
    /** What the provider and every topic wait for: the broker StatefulSet (Pulumi awaits its readiness) and the per-broker Services. Default: nothing. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** Topics created with `protect: true`, so no update or destroy can delete them. Default: `PROTECTED_TOPICS` (bss.audit.events). */
    protectedTopics?: ReadonlySet<string>;
    /**
     * Runs after `dependsOn` is ready and before the provider gets its `bootstrapServers`, so no topic is attempted
     * before the EXTERNAL path answers. Default: `currentExternalGate()`, the bounded Metadata wait
     * (`waitForExternalBrokers`, 180 s) during `pulumi up`, none in a preview or under the mock engine.
     */
    externalGate?: ExternalGate;
    /** The last deployment's partition counts (`PartitionGuard.deployed`), exported again for topics that report none this run. Default: `{}`. */
    deployedPartitions?: pulumi.Input<Record<string, number>>;
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

/**
 * The `topicPartitions` stack output: per topic, the count its resource reports, or, where the topic failed or was
 * never reached this run, the count the last deployment exported (nothing for a topic that was never deployed).
 */
export function reportedPartitions(reported: Record<string, number | undefined>, deployed: Record<string, number>): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [name, count] of Object.entries(reported)) {
        const value = count ?? deployed[name];
        if (typeof value === "number") {
            counts[name] = value;
        }
    }
    return counts;
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
    /** Partition count per topic name as the topic resources report it (`reportedPartitions`), exported as `topicPartitions`. */
    readonly partitions: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: KafkaTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:topics:KafkaTopics", name, {}, opts);
        const protectedTopics = args.protectedTopics ?? PROTECTED_TOPICS;
        const gate = args.externalGate ?? currentExternalGate();

        const servers = [...args.bootstrapServers];
        const ready = pulumi.all((args.dependsOn ?? []).map((dependency) => pulumi.output(dependency).apply((resource) => resource.urn)));
        const bootstrapServers = ready.apply(async () => {
            await gate?.(servers);
            return servers;
        });

        this.provider = new kafka.Provider(`${name}-provider`, {
            bootstrapServers,
            tlsEnabled: false,
        }, { parent: this });

        this.topics = Object.fromEntries(args.topics.map((topic) => [topic.name, new kafka.Topic(topic.name, topicInputs(topic), {
            parent: this,
            provider: this.provider,
            dependsOn: args.dependsOn,
            protect: protectedTopics.has(topic.name),
        })]));

        // A topic whose registration fails must not fail the export: its count falls back to the last deployment's.
        const reported = Object.fromEntries(Object.entries(this.topics).map(([topicName, topic]) => [
            topicName,
            pulumi.recover(topic.partitions as pulumi.Output<number | undefined>, () => undefined),
        ]));
        this.partitions = pulumi.all([pulumi.all(reported), pulumi.output(args.deployedPartitions ?? {})])
            .apply(([counts, deployed]) => reportedPartitions(counts, deployed));

        // The plain addresses: the gated Output would fail this registration too when the gate gives up.
        this.registerOutputs({ bootstrapServers: [...args.bootstrapServers], partitions: this.partitions });
    }
}
