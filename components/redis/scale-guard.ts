/**
 * Refuses a lower `bss:redis.masters` or `bss:redis.replicasPerMaster` while the pods it would remove may still own
 * slots or serve as replicas: the StatefulSet deletes the highest ordinals, whatever role they have now, and a node
 * deleted with its slots takes them offline (`cluster-require-full-coverage yes`: the whole cluster with them).
 * The last deployment's shape comes from this stack's own outputs; `npm run redis:drain` (scripts/redis-drain.ts)
 * empties and removes those nodes and marks the StatefulSet, after which the lower count goes through.
 */
import { RedisSettings } from "../../settings/redis";
import { drainedIds, refuseUndrainedScaleIn } from "../shared/scale-in-guard";
import { NAMES, podCount } from "./manifests";

/** Stack output: masters of the last deployment. */
export const MASTERS_OUTPUT = "redisMasters";
/** Stack output: replicas per master of the last deployment. */
export const REPLICAS_OUTPUT = "redisReplicasPerMaster";
/**
 * StatefulSet annotation written by the drain once the nodes are out of the cluster: `{"ordinals":[6,7],"generation":G}`,
 * valid only while the StatefulSet is still at generation G.
 */
export const DRAIN_ANNOTATION = "bss/drained-redis-nodes";
/** Name of the guard's read of the live StatefulSet. */
export const STATEFULSET_READ = "deployed-redis-statefulset";

/** The shape of the last deployment, when its outputs hold one. */
export function deployedShape(outputs: Record<string, unknown> | undefined): { masters: number; replicasPerMaster: number } | undefined {
    const masters = outputs?.[MASTERS_OUTPUT];
    const replicasPerMaster = outputs?.[REPLICAS_OUTPUT];
    return Number.isInteger(masters) && Number.isInteger(replicasPerMaster)
        ? { masters: masters as number, replicasPerMaster: replicasPerMaster as number }
        : undefined;
}

/** The ordinals the StatefulSet would delete going from the deployed shape to `wanted`: the highest ones. */
export function removedOrdinals(outputs: Record<string, unknown> | undefined, wanted: Pick<RedisSettings, "masters" | "replicasPerMaster">): number[] {
    const deployed = deployedShape(outputs);
    const before = deployed ? podCount(deployed) : 0;
    const after = podCount(wanted);
    return Array.from({ length: Math.max(0, before - after) }, (_, i) => after + i);
}

/** The command that empties the nodes a lower shape removes. */
export function drainCommand(stack: string, wanted: Pick<RedisSettings, "masters" | "replicasPerMaster">): string {
    return `npm run redis:drain -- --stack ${stack} --masters ${wanted.masters} --replicas-per-master ${wanted.replicasPerMaster}`;
}

/** One problem when the pods a lower shape removes are not vouched for by the drain; none otherwise. */
export function nodeRemovalProblems(outputs: Record<string, unknown> | undefined, wanted: Pick<RedisSettings, "masters" | "replicasPerMaster">, stack: string, drained: readonly number[]): string[] {
    const removed = removedOrdinals(outputs, wanted);
    const pending = removed.filter((ordinal) => !drained.includes(ordinal));
    if (pending.length === 0) {
        return [];
    }
    const deployed = deployedShape(outputs)!;
    const lowered = [
        ...(wanted.masters < deployed.masters ? [`bss:redis.masters cannot go from ${deployed.masters} to ${wanted.masters}`] : []),
        ...(wanted.replicasPerMaster < deployed.replicasPerMaster ? [`bss:redis.replicasPerMaster cannot go from ${deployed.replicasPerMaster} to ${wanted.replicasPerMaster}`] : []),
    ];
    const got = `got masters ${wanted.masters}, replicasPerMaster ${wanted.replicasPerMaster}`;
    return [`${lowered.length > 0 ? lowered.join(" and ") : `bss:redis cannot go from ${podCount(deployed)} to ${podCount(wanted)} pods`} `
        + `while the pods the StatefulSet would delete (${pending.map((o) => `${NAMES.statefulSet}-${o}`).join(", ")}) may own slots or serve as replicas, `
        + `and the StatefulSet carries no drain of them since its last change: run \`${drainCommand(stack, wanted)}\` first `
        + `(it moves their slots to the remaining masters, keeps a replica on another node for each, removes them from the cluster `
        + `and marks the StatefulSet), then deploy again, ${got}`];
}

/**
 * Refuses, before anything is created, updated or deleted, a lower Redis shape whose removed pods the drain has not
 * emptied at the StatefulSet's current generation. Call it right after the settings are read, before the first resource.
 */
export function refuseRedisNodeRemoval(wanted: Pick<RedisSettings, "masters" | "replicasPerMaster">, namespace: string, stack: string): void {
    void refuseUndrainedScaleIn({
        reference: "deployed-redis-shape",
        statefulSetRead: STATEFULSET_READ,
        statefulSet: `${namespace}/${NAMES.statefulSet}`,
        removes: (outputs) => removedOrdinals(outputs, wanted).length > 0,
        problems: (outputs, live) => nodeRemovalProblems(outputs, wanted, stack, drainedIds(live.annotations, live.generation, DRAIN_ANNOTATION, "ordinals")),
    });
}
