/**
 * Pure builder of the rebalance Job: after the brokers are Ready it spreads the declared topics' partitions over
 * all of them, rack-aware (the declared topics and the scripts in a ConfigMap; the layout is computed in the Job from
 * the brokers' racks and the current assignment; the Kafka image's own jars for the tools).
 */
import * as k8s from "@pulumi/kubernetes";
import { KafkaSettings } from "../../../settings/kafka";
import { EXECUTABLE_MODE, shippedFile } from "../../shared/files";
import { CONFIG_CHECKSUM_ANNOTATION, contentChecksum } from "../../shared/checksum";
import { imageVersion, labels } from "../../shared/labels";
import { containerSecurityContext, podSecurityContext } from "../../shared/security";
import { KAFKA_IMAGE_UID } from "../../zookeeper/objects";
import { internalBootstrap } from "../config";
import { evenReplicaShare, layoutTopics, TopicShape } from "./assignment";

export const REBALANCE_NAME = "kafka-rebalance";
const SCRIPTS_PATH = "/opt/bss/kafka-rebalance";

export interface RebalanceObjects {
    /**
     * Replicas of the declared topics per broker id 0..brokers-1, spread evenly (assignment.ts: evenReplicaShare);
     * the Job's rack-aware layout gives a broker alone in its zone more.
     */
    replicasPerBroker: Record<string, number>;
    config: k8s.core.v1.ConfigMapArgs;
    job: k8s.batch.v1.JobArgs;
}

/**
 * The Job's name carries the broker count and its pod template a digest of the declared topics, scripts, throttle
 * and image: a new count, or new declared partitions, changes the template, which a Job cannot take in place, so
 * Pulumi replaces the Job (`deleteBeforeReplace` in the component) and waits for the new run; the same settings keep
 * the finished one. A run computes the layout afresh from the cluster, so it also repairs placements changed since.
 */
export function buildRebalanceObjects(namespace: string, settings: KafkaSettings, topics: readonly TopicShape[]): RebalanceObjects {
    const data = {
        topics: layoutTopics(topics),
        "layout.awk": shippedFile(__dirname, "layout.awk"),
        "rebalance.sh": shippedFile(__dirname, "rebalance.sh"),
    };
    const name = `${REBALANCE_NAME}-${settings.brokers}`;
    const jobLabels = labels(REBALANCE_NAME, { "app.kubernetes.io/version": imageVersion(settings.image), "app.kubernetes.io/component": "rebalance" });
    const metadata = { name, namespace, labels: jobLabels, annotations: { "bss/kafka-brokers": String(settings.brokers) } };
    const config: k8s.core.v1.ConfigMapArgs = { metadata, data };
    const job: k8s.batch.v1.JobArgs = {
        metadata,
        spec: {
            backoffLimit: 3,
            template: {
                metadata: { labels: jobLabels, annotations: { [CONFIG_CHECKSUM_ANNOTATION]: contentChecksum(data, settings.reassignmentThrottleBytes, settings.image) } },
                spec: {
                    restartPolicy: "OnFailure",
                    securityContext: podSecurityContext(KAFKA_IMAGE_UID),
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    containers: [{
                        name: "rebalance",
                        image: settings.image,
                        command: [`${SCRIPTS_PATH}/rebalance.sh`],
                        env: [
                            { name: "KAFKA_BOOTSTRAP", value: internalBootstrap(namespace) },
                            { name: "KAFKA_BROKERS", value: String(settings.brokers) },
                            { name: "REASSIGNMENT_THROTTLE_BYTES", value: String(settings.reassignmentThrottleBytes) },
                            { name: "TOPICS_FILE", value: `${SCRIPTS_PATH}/topics` },
                            { name: "LAYOUT_SCRIPT", value: `${SCRIPTS_PATH}/layout.awk` },
                            { name: "WORK_DIR", value: "/tmp" },
                        ],
                        resources: { requests: { cpu: "100m", memory: "384Mi" }, limits: { cpu: "1", memory: "384Mi" } },
                        securityContext: containerSecurityContext(),
                        volumeMounts: [
                            { name: "scripts", mountPath: SCRIPTS_PATH, readOnly: true },
                            { name: "tmp", mountPath: "/tmp" },
                        ],
                    }],
                    volumes: [
                        { name: "scripts", configMap: { name, defaultMode: EXECUTABLE_MODE } },
                        { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                    ],
                },
            },
        },
    };
    return { replicasPerBroker: evenReplicaShare(topics, settings.brokers), config, job };
}
