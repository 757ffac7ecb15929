/**
 * Pure renderers of the KRaft controller quorum's config and names (`bss:kafka.metadata: kraft`). controller.properties
 * holds what every controller shares; controllers/start.sh appends node.id (1000 + ordinal) from the pod's name.
 *
 * The names are the ones the ZooKeeper-to-KRaft migration's controllers will carry too (the same StatefulSet, with
 * `zookeeper.metadata.migration.enable` added), so they do not say "kraft".
 */
import { CONTROLLER_NODE_ID_BASE } from "../../../settings/kafka";
import { CLUSTER_DOMAIN } from "../../zookeeper/config";
import { KAFKA_PATHS } from "../config";

export const CONTROLLER_NAME = "kafka-controller";
export const CONTROLLER_HEADLESS = "kafka-controller-headless";
/** The listener the controllers serve the quorum (and the brokers' metadata fetches) on. */
export const CONTROLLER_LISTENER = "CONTROLLER";
export const CONTROLLER_PORT = 9093;

/** The stable DNS name of controller `ordinal` (its headless Service record). */
export function controllerHost(ordinal: number, namespace: string): string {
    return `${CONTROLLER_NAME}-${ordinal}.${CONTROLLER_HEADLESS}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** Node id of controller `ordinal`: out of the brokers' range, which the migration keeps. */
export function controllerNodeId(ordinal: number): number {
    return CONTROLLER_NODE_ID_BASE + ordinal;
}

/**
 * `controller.quorum.voters`: a static quorum (`id@host:port,...`). Kafka 3.9's ZooKeeper migration requires a
 * static one, so a KRaft stack uses the same form and the migration needs no change of quorum later.
 */
export function controllerQuorumVoters(replicas: number, namespace: string): string {
    return [...Array(replicas).keys()].map((i) => `${controllerNodeId(i)}@${controllerHost(i, namespace)}:${CONTROLLER_PORT}`).join(",");
}

type Line = [string, string | number | boolean, string?];

/** `key=value` lines, each after the comment that says why, when it has one. */
export function renderPropertyLines(header: string, lines: Line[]): string {
    return [header, ...lines.flatMap(([key, value, why]) => [...(why ? [`# ${why}`] : []), `${key}=${value}`]), ""].join("\n");
}

/** controller.properties shared by every controller; `voters` is `controllerQuorumVoters(...)`. */
export function renderControllerProperties(voters: string): string {
    return renderPropertyLines("# Rendered by components/kafka/controllers/config.ts; start.sh appends node.id per pod.", [
        ["process.roles", "controller"],
        ["listeners", `${CONTROLLER_LISTENER}://:${CONTROLLER_PORT}`],
        ["listener.security.protocol.map", `${CONTROLLER_LISTENER}:PLAINTEXT`],
        ["controller.listener.names", CONTROLLER_LISTENER],
        ["controller.quorum.voters", voters, "static: the metadata migration of Kafka 3.9 supports no dynamic quorum"],
        ["log.dirs", `${KAFKA_PATHS.data}/data`, "a folder below the mount: a fresh volume's root may hold lost+found"],
    ]);
}
