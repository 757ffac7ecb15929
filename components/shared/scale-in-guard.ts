/**
 * The one mechanism behind the guards that refuse a change the last deployment's outputs forbid: a lower StatefulSet
 * count until a drain has emptied the pods it would delete (Kafka brokers: components/kafka/rebalance/broker-guard.ts;
 * Redis nodes: components/redis/scale-guard.ts), and a switch of the Kafka metadata mode
 * (components/kafka/metadata-guard.ts).
 * The last deployment's shape comes from this stack's own outputs (a self StackReference, as the partition guard
 * reads them); only when the count goes down is the live StatefulSet read, whose drain annotation vouches for the
 * pods emptied at its current generation.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "../../settings";
import { messageOnlyRunError } from "../topics/run-error";
import { ownStackName } from "../topics/partition-guard";

/** What the guard reads of the live StatefulSet. */
export interface LiveStatefulSet {
    annotations?: Record<string, string>;
    generation?: number;
}

export interface ScaleInGuard {
    /** Name of the self StackReference (one per guard). */
    reference: string;
    /** Name of the read of the live StatefulSet; no guard holds it. */
    statefulSetRead: string;
    /** `<namespace>/<name>` of the StatefulSet. */
    statefulSet: string;
    /** Whether the last deployment's outputs and the wanted settings remove pods (only then is the StatefulSet read). */
    removes(outputs: Record<string, unknown> | undefined): boolean;
    /** The problems, one message each naming the key, the value and the command that allows it; [] lets it through. */
    problems(outputs: Record<string, unknown> | undefined, live: LiveStatefulSet): string[];
}

/** Reads of the guards: no guard holds another's (two guards holding each other's reads would wait forever). */
const guardReads = new Set<string>();

/**
 * The ids a drain annotation (`{"<field>":[ids],"generation":G}`) vouches for, only while the StatefulSet is still
 * at generation G (any later change of it asks for a new drain); [] otherwise.
 */
export function drainedIds(annotations: Record<string, string> | undefined, generation: number | undefined, annotation: string, field: string): number[] {
    const text = annotations?.[annotation];
    if (!text) {
        return [];
    }
    try {
        const record = JSON.parse(text) as Record<string, unknown>;
        const ids = record[field];
        if (record.generation !== generation || !Array.isArray(ids)) {
            return [];
        }
        return ids.filter((id): id is number => Number.isInteger(id));
    } catch {
        return [];
    }
}

/**
 * Refuses, before anything is created, updated or deleted, what `check` finds in this stack's last outputs: an
 * SDK-side stack transformation makes every later registration wait for the check (the partition guard's mechanism,
 * components/topics/partition-guard.ts), and a refusal fails them all with one RunError. Call it right after the
 * settings are read, before the first resource. Resolves once checked; rejects with the refusal. Reads `check`
 * makes of the cluster must be named in `reads`: no guard holds them (two guards holding each other's reads would
 * wait forever).
 */
export function refuseOnDeployedOutputs(reference: string, reads: readonly string[], check: (outputs: Record<string, unknown> | undefined) => Promise<string[]>): Promise<void> {
    reads.forEach((read) => guardReads.add(read));
    const stackReference = new pulumi.StackReference(reference, { name: ownStackName() });
    const outputs = new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
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
        pulumi.runtime.registerStackTransformation((args) => (guardReads.has(args.name) ? undefined : {
            props: args.props,
            opts: { ...args.opts, dependsOn: checked.then(() => args.opts.dependsOn ?? []) as pulumi.Input<pulumi.Resource[]> },
        }));
    }
    // Outside a root stack (the render's mock harness) nothing is held, and a refusal surfaces as `checked`'s rejection.
    return checked;
}

/**
 * Refuses what `guard.problems` reports (see refuseOnDeployedOutputs); the live StatefulSet is read only when the
 * last deployment's outputs and the wanted settings remove pods.
 */
export function refuseUndrainedScaleIn(guard: ScaleInGuard): Promise<void> {
    return refuseOnDeployedOutputs(guard.reference, [guard.statefulSetRead], async (raw) => {
        if (!guard.removes(raw)) {
            return [];
        }
        const live = k8s.apps.v1.StatefulSet.get(guard.statefulSetRead, guard.statefulSet);
        const state = await new Promise<LiveStatefulSet>((resolve, reject) => {
            pulumi.recover(live.metadata, (error) => {
                reject(error);
                return {} as k8s.types.output.meta.v1.ObjectMeta;
            }).apply((metadata) => resolve({ annotations: metadata?.annotations, generation: metadata?.generation }));
        });
        return guard.problems(raw, state);
    });
}
