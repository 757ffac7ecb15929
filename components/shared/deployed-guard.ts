/**
 * The one mechanism behind every guard that refuses a change the last deployment's outputs forbid: fewer partitions
 * (components/topics/partition-guard.ts), a lower StatefulSet count before a drain (components/shared/scale-in-guard.ts:
 * Kafka brokers, Redis nodes), a switch of the Kafka metadata mode or controller count
 * (components/kafka/metadata-guard.ts).
 *
 * The last deployment's outputs are read through a StackReference to this very stack, and every resource declared
 * afterwards is made to depend on the check: an SDK-side stack transformation adds it to each resource's
 * `dependsOn`, which the SDK awaits before it sends the registration to the engine. A refusal rejects that one
 * promise with one RunError, so every held registration fails in the SDK with the same error object, which Pulumi's
 * runtime reports once (it dedupes by identity) as a plain message; the engine never hears of any resource but the
 * StackReferences. (A stack-wide engine-side transform, the first version of the partition guard, made the engine
 * fail each registration with a fresh error: the runtime then printed the refusal several times, each through
 * `util.inspect`.)
 */
import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "../../settings";
import { messageOnlyRunError } from "../topics/run-error";

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

/** What a guard leaves for the rest of the program. */
export interface DeployedGuard {
    /** The last deployment's outputs (undefined on a first deploy); rejects when the StackReference cannot be read. */
    outputs: Promise<Record<string, unknown> | undefined>;
    /** Resolves once checked; rejects with the refusal (or the failed read). */
    checked: Promise<void>;
}

/** Reads of the guards: no guard holds another's (two guards holding each other's reads would wait forever). */
const guardReads = new Set<string>();

/**
 * Refuses, before anything is created, updated or deleted, what `check` finds in this stack's last outputs, with one
 * RunError in the settings' "one error listing every problem" form. Call it right after the settings are read,
 * before the first resource, inside the root stack (`pulumi up` and `preview` always run the program in one). Reads
 * `check` makes of the cluster must be named in `reads`: no guard holds them.
 */
export function refuseOnDeployedOutputs(reference: string, reads: readonly string[], check: (outputs: Record<string, unknown> | undefined) => Promise<string[]>): DeployedGuard {
    reads.forEach((read) => guardReads.add(read));
    const stackReference = new pulumi.StackReference(reference, { name: ownStackName() });
    const outputs = new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
        // A failed read must fail the held registrations, not leave them waiting forever.
        pulumi.recover(stackReference.outputs, (error) => {
            reject(error);
            return {};
        }).apply(resolve);
    });
    const checked = outputs.then(async (raw) => {
        const problems = await check(raw);
        if (problems.length > 0) {
            throw messageOnlyRunError(new SettingsError(problems).message);
        }
    });
    if (pulumi.runtime.getStackResource() !== undefined) {
        // Deprecated in favour of engine-side transforms, and used for exactly that difference: this one runs in the
        // SDK, before the engine is asked anything. The StackReference above is declared first and so not held.
        pulumi.runtime.registerStackTransformation((args) => (guardReads.has(args.name) ? undefined : {
            props: args.props,
            opts: { ...args.opts, dependsOn: checked.then(() => args.opts.dependsOn ?? []) as pulumi.Input<pulumi.Resource[]> },
        }));
    }
    // Outside a root stack (the render's mock harness) nothing is held, and a refusal surfaces as `checked`'s rejection.
    return { outputs, checked };
}
