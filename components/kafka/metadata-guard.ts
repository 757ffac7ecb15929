/**
 * Refuses a change of `bss:kafka.metadata` on a deployed stack, and of the controller count of a deployed KRaft stack. A ZooKeeper stack switched to `kraft` would delete
 * ZooKeeper (and with it every topic's metadata) and start KRaft brokers that refuse the log dirs ZooKeeper's cluster
 * formatted; `kraft` back to `zookeeper` has no way at all. Reads the last deployment's mode from this stack's own
 * outputs, as the partition guard does.
 */
import { MetadataMode } from "../../settings/kafka";
import { refuseOnDeployedOutputs } from "../shared/deployed-guard";

/** Stack output: the metadata mode of the last deployment. */
export const METADATA_OUTPUT = "kafkaMetadata";
/** Stack output of every ZooKeeper stack, from before `kafkaMetadata` existed too. */
export const ZOOKEEPER_CONNECT_OUTPUT = "zookeeperConnect";
/** Stack output of a KRaft stack: its static `controller.quorum.voters`. */
export const QUORUM_VOTERS_OUTPUT = "kafkaControllerQuorumVoters";

/** How many voters the last deployment's static quorum has; undefined when it ran none. */
export function deployedControllers(outputs: Record<string, unknown> | undefined): number | undefined {
    const voters = outputs?.[QUORUM_VOTERS_OUTPUT];
    return typeof voters === "string" && voters.length > 0 ? voters.split(",").length : undefined;
}

/**
 * The quorum is static (`controller.quorum.voters`, which the ZooKeeper migration requires): every voter's metadata
 * log records the voter set, so a controller with another set would not join the others.
 */
export function controllerCountProblems(deployed: number | undefined, wanted: number | undefined): string[] {
    if (deployed === undefined || wanted === undefined || deployed === wanted) {
        return [];
    }
    return [`bss:kafka.controllers cannot change from ${deployed} to ${wanted} on a deployed KRaft stack: the controller quorum is static `
        + `(controller.quorum.voters), and controllers with another voter set would not form a quorum with the metadata log the `
        + `others hold. Keep ${deployed}, got ${wanted}`];
}

/** The last deployment's mode: its `kafkaMetadata`, else `zookeeper` when it exported a ZooKeeper address. */
export function deployedMetadata(outputs: Record<string, unknown> | undefined): MetadataMode | undefined {
    const mode = outputs?.[METADATA_OUTPUT];
    if (mode === "zookeeper" || mode === "kraft") {
        return mode;
    }
    const connect = outputs?.[ZOOKEEPER_CONNECT_OUTPUT];
    return typeof connect === "string" && connect.length > 0 ? "zookeeper" : undefined;
}

export function metadataSwitchProblems(deployed: MetadataMode | undefined, wanted: MetadataMode): string[] {
    if (deployed === undefined || deployed === wanted) {
        return [];
    }
    if (deployed === "zookeeper") {
        return ["bss:kafka.metadata cannot change from \"zookeeper\" to \"kraft\" on a deployed stack: ZooKeeper and the topics' metadata "
            + "in it would be deleted and the KRaft brokers would refuse the log dirs ZooKeeper's cluster formatted. Keep \"zookeeper\" "
            + "(the migration to KRaft, Kafka 3.9's documented sequence, is not built yet), or deploy KRaft as a new stack and move the "
            + "clients, got \"kraft\""];
    }
    return ["bss:kafka.metadata cannot change from \"kraft\" to \"zookeeper\" on a deployed stack: Kafka has no way back from KRaft, "
        + "and the ZooKeeper brokers would start an empty cluster beside the KRaft log dirs. Keep \"kraft\", got \"zookeeper\""];
}

/** Refuses a mode change before anything is created, updated or deleted (one RunError, every registration held). */
export function refuseMetadataSwitch(wanted: MetadataMode, controllers: number | undefined): void {
    void refuseOnDeployedOutputs("deployed-kafka-metadata", [], async (outputs) => {
        const switched = metadataSwitchProblems(deployedMetadata(outputs), wanted);
        return switched.length > 0 ? switched : controllerCountProblems(deployedControllers(outputs), controllers);
    });
}
