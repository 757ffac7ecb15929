import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KafkaSettings } from "../../../settings/kafka";
import { TopicShape } from "./assignment";
import { buildRebalanceObjects } from "./objects";

export interface KafkaRebalanceArgs {
    /** Namespace of the brokers; no default (the stack's `bss:namespace`). */
    namespace: string;
    /** The stack's `bss:kafka` slice (broker count, image, `reassignmentThrottleBytes`); no default. */
    settings: KafkaSettings;
    /** The topics the stack declares (`bss:topics`); only these are placed. Default: none. */
    topics?: readonly TopicShape[];
    /** What must exist first: the brokers' StatefulSet (Pulumi waits until every broker is Ready) and the topics. No default. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Spreads the declared topics over every broker after the broker count changed: a Job (per broker count and
 * declared partitions) that computes a rack-aware balanced layout from the running cluster (layout.awk) and applies
 * it with a throttled kafka-reassign-partitions, and waits for it.
 */
export class KafkaRebalance extends pulumi.ComponentResource {
    /**
     * Replicas of the declared topics per broker id spread evenly (the Job's layout may give a broker alone in its
     * zone more); read back by the broker guard for its message.
     */
    readonly replicasPerBroker: Record<string, number>;
    readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: KafkaRebalanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:kafka:KafkaRebalance", name, {}, opts);
        const objects = buildRebalanceObjects(args.namespace, args.settings, args.topics ?? []);
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, objects.config, { parent: this, dependsOn: args.dependsOn });
        // A Job's template is immutable and its name fixed per broker count: a changed layout replaces it in place.
        this.job = new k8s.batch.v1.Job(name, objects.job, { parent: this, dependsOn: [...args.dependsOn, config], deleteBeforeReplace: true });
        this.replicasPerBroker = objects.replicasPerBroker;
        this.registerOutputs({ replicasPerBroker: this.replicasPerBroker });
    }
}
