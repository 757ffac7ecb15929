import * as pulumi from "@pulumi/pulumi";
import { SettingsError, TopicSettings } from "../../settings";
import { messageOnlyRunError } from "./run-error";

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

/** What `refuseFewerPartitions` leaves for the rest of the program. */
export interface PartitionGuard {
    /** The last deployment's `topicPartitions` output (`{}` on a first deploy or in another shape). */
    deployed: pulumi.Output<Record<string, number>>;
}

/** The refusal: one RunError (printed once, message only) in the settings' "one error listing every problem" form. */
export function partitionRefusal(problems: string[]): pulumi.RunError {
    return messageOnlyRunError(new SettingsError(problems).message);
}

/** Only a map of topic name to count is a constraint. */
function countsOnly(deployed: unknown): Record<string, number> {
    if (deployed === null || typeof deployed !== "object" || Array.isArray(deployed)) {
        return {};
    }
    return Object.fromEntries(Object.entries(deployed as Record<string, unknown>).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

/**
 * Refuses, before anything is created, updated or deleted, a stack change that would lower a topic's
 * partitions. Reads this stack's own last `topicPartitions` output through a StackReference, and makes every
 * resource declared afterwards depend on that comparison: an SDK-side stack transformation adds it to each
 * resource's `dependsOn`, which the SDK awaits before it sends the registration to the engine. A decrease
 * rejects that one promise with one RunError, so every held registration fails in the SDK with the same error
 * object, which Pulumi's runtime reports once (it dedupes by identity) as a plain message; the engine never
 * hears of any resource but the StackReference. (A stack-wide engine-side transform, the first version of
 * this guard, made the engine fail each registration with a fresh error: the runtime then printed the refusal
 * several times, each through `util.inspect`.)
 * Call it right after the settings are read and before the first resource is declared, inside the root stack
 * (`pulumi up` and `preview` always run the program in one).
 */
export function refuseFewerPartitions(topics: readonly TopicSettings[]): PartitionGuard {
    const reference = new pulumi.StackReference("deployed-topic-partitions", { name: ownStackName() });
    const outputs = new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
        // A failed read must fail the held registrations, not leave them waiting forever.
        pulumi.recover(reference.outputs, (error) => {
            reject(error);
            return {};
        }).apply(resolve);
    });
    const checked = outputs.then((deployed) => {
        const problems = partitionDecreases(deployed?.[PARTITIONS_OUTPUT], topics);
        if (problems.length > 0) {
            throw partitionRefusal(problems);
        }
    });
    if (pulumi.runtime.getStackResource() !== undefined) {
        // Deprecated in favour of engine-side transforms, and used for exactly that difference: this one runs in
        // the SDK, before the engine is asked anything. The StackReference above is declared first and so not held.
        pulumi.runtime.registerStackTransformation((args) => ({
            props: args.props,
            opts: { ...args.opts, dependsOn: checked.then(() => args.opts.dependsOn ?? []) as pulumi.Input<pulumi.Resource[]> },
        }));
    }
    // Without the runtime's root stack (index.ts imported by a mock harness, e.g. the render) there is nothing to
    // attach a stack transformation to: nothing is held, and a decrease surfaces as this promise's rejection.
    return { deployed: pulumi.output(outputs.then((deployed) => countsOnly(deployed?.[PARTITIONS_OUTPUT]))) };
}
