/**
 * Pure builder of every Kubernetes object of the KRaft controller quorum. The component only hands these to Pulumi;
 * tests assert on them directly.
 */
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CONTROLLER_NODE_ID_BASE, KafkaControllerSettings } from "../../../settings/kafka";
import { CONFIG_CHECKSUM_ANNOTATION, contentChecksum } from "../../shared/checksum";
import { EXECUTABLE_MODE, shippedFile } from "../../shared/files";
import { imageVersion, labels, selectorLabels } from "../../shared/labels";
import { spreadPods } from "../../shared/placement";
import { containerSecurityContext, podSecurityContext } from "../../shared/security";
import { dataVolumeClaim } from "../../shared/storage";
import { renderLog4jProperties } from "../../zookeeper/config";
import { KAFKA_IMAGE_UID } from "../../zookeeper/objects";
import { KAFKA_PATHS } from "../config";
import { CONTROLLER_HEADLESS, CONTROLLER_NAME, CONTROLLER_PORT, controllerQuorumVoters, renderControllerProperties } from "./config";

/** The scripts live beside the brokers' in components/kafka: format-storage.sh and kafka-wire.sh are shared by both. */
const SCRIPTS_DIR = path.join(__dirname, "..");

export interface ControllerObjects {
    config: k8s.core.v1.ConfigMapArgs;
    scripts: k8s.core.v1.ConfigMapArgs;
    headless: k8s.core.v1.ServiceArgs;
    statefulSet: k8s.apps.v1.StatefulSetArgs;
    disruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs;
}

export interface ControllerObjectsInput {
    namespace: string;
    /** `bss:kafka`'s controller slice (settings/kafka.ts). */
    settings: KafkaControllerSettings;
    /** The brokers' image (`bss:kafka.image`): controllers run the same release. */
    image: string;
    /** The stack's cluster ID (base64url, 22 characters), handed to the pods in their env. */
    clusterId: pulumi.Input<string>;
}

export function buildControllerObjects(input: ControllerObjectsInput): ControllerObjects {
    const { namespace, settings } = input;
    const selector = selectorLabels(CONTROLLER_NAME);
    const podLabels = labels(CONTROLLER_NAME, { "app.kubernetes.io/version": imageVersion(input.image), "app.kubernetes.io/component": "controller" });
    const meta = (name: string) => ({ name, namespace, labels: podLabels });

    const config: k8s.core.v1.ConfigMapArgs = {
        metadata: meta(`${CONTROLLER_NAME}-config`),
        data: {
            "controller.properties": renderControllerProperties(controllerQuorumVoters(settings.replicas, namespace)),
            "log4j.properties": renderLog4jProperties({ "kafka.controller": "INFO", "org.apache.kafka.raft": "INFO", "state.change.logger": "WARN" }),
        },
    };
    const scripts: k8s.core.v1.ConfigMapArgs = {
        metadata: meta(`${CONTROLLER_NAME}-scripts`),
        data: {
            "start.sh": shippedFile(SCRIPTS_DIR, "controller-start.sh"),
            "probe.sh": shippedFile(SCRIPTS_DIR, "controller-probe.sh"),
            "kafka-wire.sh": shippedFile(SCRIPTS_DIR, "kafka-wire.sh"),
            "format-storage.sh": shippedFile(SCRIPTS_DIR, "format-storage.sh"),
        },
    };
    const headless: k8s.core.v1.ServiceArgs = {
        metadata: meta(CONTROLLER_HEADLESS),
        spec: {
            clusterIP: "None",
            // Voters elect a leader before any of them is Ready (readiness is membership of that quorum).
            publishNotReadyAddresses: true,
            selector,
            ports: [{ name: "controller", port: CONTROLLER_PORT, targetPort: "controller" }],
        },
    };

    const statefulSet: k8s.apps.v1.StatefulSetArgs = {
        metadata: meta(CONTROLLER_NAME),
        spec: {
            replicas: settings.replicas,
            serviceName: CONTROLLER_HEADLESS,
            // OrderedReady would deadlock: controller 0 is not Ready until a majority runs.
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate" },
            selector: { matchLabels: selector },
            template: {
                metadata: {
                    labels: podLabels,
                    annotations: { [CONFIG_CHECKSUM_ANNOTATION]: contentChecksum(config.data, scripts.data) },
                },
                spec: {
                    securityContext: podSecurityContext(KAFKA_IMAGE_UID),
                    affinity: spreadPods(settings.placement, selector),
                    terminationGracePeriodSeconds: 60,
                    automountServiceAccountToken: false,
                    containers: [{
                        name: "controller",
                        image: input.image,
                        command: [`${KAFKA_PATHS.scripts}/start.sh`],
                        env: [
                            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                            { name: "MEMORY_LIMIT_MB", valueFrom: { resourceFieldRef: { containerName: "controller", resource: "limits.memory", divisor: "1Mi" } } },
                            { name: "KAFKA_CONFIG_DIR", value: KAFKA_PATHS.config },
                            { name: "KAFKA_RUNTIME_DIR", value: KAFKA_PATHS.runtime },
                            { name: "KAFKA_NODE_ID_BASE", value: String(CONTROLLER_NODE_ID_BASE) },
                            // In the env, not the command: the template's command stays the same for every stack.
                            { name: "KAFKA_CLUSTER_ID", value: input.clusterId },
                        ],
                        ports: [{ name: "controller", containerPort: CONTROLLER_PORT }],
                        readinessProbe: { exec: { command: [`${KAFKA_PATHS.scripts}/probe.sh`] }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 3 },
                        // Log recovery of the metadata log may take a while after an unclean stop: liveness is the port only.
                        startupProbe: { tcpSocket: { port: "controller" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 },
                        livenessProbe: { tcpSocket: { port: "controller" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                        resources: settings.resources,
                        securityContext: containerSecurityContext(),
                        volumeMounts: [
                            { name: "config", mountPath: KAFKA_PATHS.config, readOnly: true },
                            { name: "scripts", mountPath: KAFKA_PATHS.scripts, readOnly: true },
                            { name: "runtime", mountPath: KAFKA_PATHS.runtime },
                            { name: "tmp", mountPath: KAFKA_PATHS.tmp },
                            { name: "data", mountPath: KAFKA_PATHS.data },
                        ],
                    }],
                    volumes: [
                        { name: "config", configMap: { name: `${CONTROLLER_NAME}-config` } },
                        { name: "scripts", configMap: { name: `${CONTROLLER_NAME}-scripts`, defaultMode: EXECUTABLE_MODE } },
                        { name: "runtime", emptyDir: { sizeLimit: "1Mi" } },
                        { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                    ],
                },
            },
            volumeClaimTemplates: [dataVolumeClaim(selector, settings.storageSize, settings.storageClass)],
        },
    };

    const disruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs = {
        metadata: meta(CONTROLLER_NAME),
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    };
    return { config, scripts, headless, statefulSet, disruptionBudget };
}
