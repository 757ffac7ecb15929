/**
 * The scale-in guards: a lower StatefulSet count is refused until a drain has emptied the pods it would delete (Kafka
 * brokers: components/kafka/rebalance/broker-guard.ts; Redis nodes: components/redis/scale-guard.ts), through the
 * deployed-outputs guard (./deployed-guard.ts). Only when the count goes down is the live StatefulSet read, whose
 * drain annotation vouches for the pods emptied at its current generation.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { refuseOnDeployedOutputs } from "./deployed-guard";

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
    }).checked;
}
