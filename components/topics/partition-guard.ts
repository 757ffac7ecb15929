import * as pulumi from "@pulumi/pulumi";
import { SettingsError, TopicSettings } from "../../settings";

/** Stack output holding each topic's partition count; the next update reads it back from this stack. */
export const PARTITIONS_OUTPUT = "topicPartitions";

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

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

/** `<organization>/<project>/<stack>` of the stack being deployed. */
export function ownStackName(): string {
    let organization: string;
    try {
        organization = pulumi.getOrganization();
    } catch {
        // The CLI always supplies one; the mock engine (render, unit tests) may not. DIY backends call theirs "organization".
        organization = "organization";
    }
    return `${organization}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

/**
 * Refuses, before anything is created, updated or deleted, a stack change that would lower a topic's
 * partitions. Reads this stack's own last `topicPartitions` output through a StackReference and holds
 * back every resource registration (a stack-wide transform, which the engine runs before it acts on a
 * resource) until the comparison is done; a decrease fails each registration with a SettingsError.
 * Call it right after the settings are read and before the first resource is declared.
 * @returns the comparison, settled once the last deployment's output has been read
 */
export function refuseFewerPartitions(topics: readonly TopicSettings[]): Promise<void> {
    const deployed = new pulumi.StackReference("deployed-topic-partitions", { name: ownStackName() });
    const checked = new Promise<unknown>((resolve) => deployed.outputs.apply(resolve)).then((outputs) => {
        const problems = partitionDecreases((outputs as Record<string, unknown> | undefined)?.[PARTITIONS_OUTPUT], topics);
        if (problems.length > 0) {
            throw new SettingsError(problems);
        }
    });
    pulumi.runtime.registerResourceTransform(async (args) => {
        // The reference itself must not wait for its own result.
        if (args.type !== STACK_REFERENCE) {
            await checked;
        }
        return undefined;
    });
    return checked;
}
