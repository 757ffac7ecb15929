import * as pulumi from "@pulumi/pulumi";
import { TopicSettings } from "../../settings";
import { refuseOnDeployedOutputs } from "../shared/deployed-guard";

/** Stack output holding each topic's partition count; the next update reads it back from this stack. */
export const PARTITIONS_OUTPUT = "topicPartitions";

/**
 * One problem per topic whose partition count would fall below the count of the last deployment.
 * @param deployed the `topicPartitions` output of the last deployment (anything else, e.g. nothing on a first deploy, is no constraint)
 */
export function partitionDecreases(deployed: unknown, topics: readonly TopicSettings[]): string[] {
    if (deployed === null || typeof deployed !== "object" || Array.isArray(deployed)) {
        return [];
    }
    const previous = deployed as Record<string, unknown>;
    return topics.flatMap((topic) => {
        const before = previous[topic.name];
        return typeof before === "number" && topic.partitions < before
            ? [`bss:topics.${topic.name}.partitions cannot be lowered below the ${before} partitions already deployed (Kafka cannot remove partitions; the provider would delete and recreate the topic, losing its records), got ${topic.partitions}`]
            : [];
    });
}

/** What `refuseFewerPartitions` leaves for the rest of the program. */
export interface PartitionGuard {
    /** The last deployment's `topicPartitions` output (`{}` on a first deploy or in another shape). */
    deployed: pulumi.Output<Record<string, number>>;
}

/** Only a map of topic name to count is a constraint. */
function countsOnly(deployed: unknown): Record<string, number> {
    if (deployed === null || typeof deployed !== "object" || Array.isArray(deployed)) {
        return {};
    }
    return Object.fromEntries(Object.entries(deployed as Record<string, unknown>).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

/**
 * Refuses, before anything is created, updated or deleted, a stack change that would lower a topic's partitions
 * (the deployed-outputs guard, components/shared/deployed-guard.ts, on this stack's last `topicPartitions` output).
 * Call it right after the settings are read and before the first resource is declared.
 */
export function refuseFewerPartitions(topics: readonly TopicSettings[]): PartitionGuard {
    const { outputs } = refuseOnDeployedOutputs("deployed-topic-partitions", [], async (deployed) => partitionDecreases(deployed?.[PARTITIONS_OUTPUT], topics));
    return { deployed: pulumi.output(outputs.then((deployed) => countsOnly(deployed?.[PARTITIONS_OUTPUT]))) };
}
