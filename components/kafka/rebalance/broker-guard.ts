/**
 * Refuses a lower `bss:kafka.brokers` while the brokers it would remove may still hold replicas. Reads the last
 * deployment's broker count and layout from this stack's own outputs (as the partition guard does) and, only when
 * the count goes down, the brokers' StatefulSet from the cluster: `npm run kafka:drain` marks it once every replica
 * has left the brokers it drained (scripts/kafka-drain.ts).
 */
import { drainedIds, refuseUndrainedScaleIn } from "../../shared/scale-in-guard";
import { KAFKA_NAME } from "../config";

/** Stack output: the broker count of the last deployment. */
export const BROKERS_OUTPUT = "kafkaBrokers";
/** Stack output: replicas of the declared topics per broker id spread evenly (the rebalance Job's layout, without racks). */
export const BROKER_REPLICAS_OUTPUT = "kafkaBrokerReplicas";
/**
 * StatefulSet annotation written by the drain once the brokers hold nothing: `{"brokers":[3,4],"generation":G}`,
 * valid only while the StatefulSet is still at generation G (any later change of it asks for a new drain).
 */
export const DRAIN_ANNOTATION = "bss/drained-brokers";
/** Name of the guard's read of the live StatefulSet; the guard does not hold its own read. */
export const STATEFULSET_READ = "deployed-kafka-statefulset";

/** What the guard knows of the last deployment. */
export interface DeployedBrokers {
    brokers?: number;
    replicas: Record<string, number>;
}

export function deployedBrokers(outputs: Record<string, unknown> | undefined): DeployedBrokers {
    const brokers = outputs?.[BROKERS_OUTPUT];
    const replicas = outputs?.[BROKER_REPLICAS_OUTPUT];
    return {
        brokers: typeof brokers === "number" && Number.isInteger(brokers) ? brokers : undefined,
        replicas: replicas !== null && typeof replicas === "object" && !Array.isArray(replicas)
            ? Object.fromEntries(Object.entries(replicas as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === "number"))
            : {},
    };
}

/** The broker ids a lower count removes (the highest ordinals: the StatefulSet controller removes those). */
export function removedBrokers(deployed: DeployedBrokers, wanted: number): number[] {
    return deployed.brokers !== undefined && wanted < deployed.brokers ? [...Array(deployed.brokers - wanted).keys()].map((i) => wanted + i) : [];
}

/** The drained broker ids the StatefulSet's annotation vouches for at its current generation ([] otherwise). */
export function drainedBrokers(annotations: Record<string, string> | undefined, generation: number | undefined): number[] {
    return drainedIds(annotations, generation, DRAIN_ANNOTATION, "brokers");
}

/** The command that empties `brokers` on `stack`. */
export function drainCommand(stack: string, brokers: readonly number[]): string {
    return `npm run kafka:drain -- --stack ${stack} --brokers ${brokers.join(",")}`;
}

/**
 * One problem when a lower count would remove brokers the drain has not emptied at the StatefulSet's current
 * generation; none when the count does not go down.
 */
export function brokerRemovalProblems(deployed: DeployedBrokers, wanted: number, stack: string, drained: readonly number[]): string[] {
    const removed = removedBrokers(deployed, wanted);
    const pending = removed.filter((id) => !drained.includes(id));
    if (pending.length === 0) {
        return [];
    }
    const declared = pending.map((id) => `${id}: ${deployed.replicas[String(id)] ?? "unknown"}`).join(", ");
    return [`bss:kafka.brokers cannot go from ${deployed.brokers} to ${wanted} while brokers ${pending.join(",")} may hold replicas `
        + `(replicas of the declared topics by broker if spread evenly: ${declared}; a broker alone in its zone holds more, and auto-created and internal topics come on top), `
        + `and the StatefulSet carries no drain of them since its last change: run \`${drainCommand(stack, removed)}\` first `
        + `(it moves every replica off them, throttled, and marks the StatefulSet), then deploy again, got ${wanted}`];
}

/**
 * Refuses, before anything is created, updated or deleted, a lower broker count whose brokers have not been
 * drained; the mechanism is the deployed-outputs guard (components/shared/deployed-guard.ts): an SDK-side stack
 * transformation makes every later registration wait for the check, and a refusal fails them all with one RunError.
 * Call it right after the settings are read, before the first resource.
 */
export function refuseBrokerRemoval(wanted: number, namespace: string, stack: string): void {
    void refuseUndrainedScaleIn({
        reference: "deployed-kafka-brokers",
        statefulSetRead: STATEFULSET_READ,
        statefulSet: `${namespace}/${KAFKA_NAME}`,
        removes: (outputs) => removedBrokers(deployedBrokers(outputs), wanted).length > 0,
        problems: (outputs, live) => brokerRemovalProblems(deployedBrokers(outputs), wanted, stack, drainedBrokers(live.annotations, live.generation)),
    });
}
