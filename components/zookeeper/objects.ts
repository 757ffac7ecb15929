/**
 * Pure builder of every Kubernetes object of the ZooKeeper ensemble. The component only hands these to
 * Pulumi; tests assert on them directly.
 */
import * as k8s from "@pulumi/kubernetes";
import { ZookeeperSettings } from "../../settings/zookeeper";
import { EXECUTABLE_MODE, shippedFile } from "../shared/files";
import { imageVersion, labels, selectorLabels } from "../shared/labels";
import { spreadPods } from "../shared/placement";
import { CONFIG_CHECKSUM_ANNOTATION, contentChecksum } from "../shared/checksum";
import { scrapeAnnotations } from "../shared/metrics";
import { dataVolumeClaim } from "../shared/storage";
import { containerSecurityContext, podSecurityContext } from "../shared/security";
import {
    renderLog4jProperties, renderMetricsCfg, renderZooCfg, ZOOKEEPER_HEADLESS, ZOOKEEPER_NAME, ZOOKEEPER_PATHS, ZOOKEEPER_PORTS,
} from "./config";

/** uid/gid of the apache/kafka image's user. */
export const KAFKA_IMAGE_UID = 1000;

/** Where the official ZooKeeper image (the metrics init container) keeps the release's jars, whatever its version. */
const ZOOKEEPER_RELEASE_LIBS = "/apache-zookeeper-*-bin/lib";

export interface ZookeeperObjects {
    config: k8s.core.v1.ConfigMapArgs;
    scripts: k8s.core.v1.ConfigMapArgs;
    headless: k8s.core.v1.ServiceArgs;
    client: k8s.core.v1.ServiceArgs;
    statefulSet: k8s.apps.v1.StatefulSetArgs;
    /** Absent for a single member: a budget cannot protect a quorum of one. */
    disruptionBudget?: k8s.policy.v1.PodDisruptionBudgetArgs;
}

/** sha256 of ConfigMap contents, for a pod template annotation. */

const probe = (kind: "ready" | "alive") => ({ exec: { command: [`${ZOOKEEPER_PATHS.scripts}/probe.sh`, kind] } });

export function buildZookeeperObjects(namespace: string, settings: ZookeeperSettings): ZookeeperObjects {
    const selector = selectorLabels(ZOOKEEPER_NAME);
    const meta = (name: string) => ({
        name,
        namespace,
        labels: labels(ZOOKEEPER_NAME, { "app.kubernetes.io/version": imageVersion(settings.image), "app.kubernetes.io/component": "coordination" }),
    });
    const clientPort = { name: "client", port: ZOOKEEPER_PORTS.client, targetPort: "client" };

    const config: k8s.core.v1.ConfigMapArgs = {
        metadata: meta("zookeeper-config"),
        data: {
            "zoo.cfg": renderZooCfg({ replicas: settings.replicas, namespace }),
            "metrics.cfg": renderMetricsCfg(),
            "log4j.properties": renderLog4jProperties({ "org.apache.zookeeper.server.NIOServerCnxn": "WARN" }),
        },
    };
    const scripts: k8s.core.v1.ConfigMapArgs = {
        metadata: meta("zookeeper-scripts"),
        data: { "start.sh": shippedFile(__dirname, "start.sh"), "probe.sh": shippedFile(__dirname, "probe.sh") },
    };

    const headless: k8s.core.v1.ServiceArgs = {
        metadata: meta(ZOOKEEPER_HEADLESS),
        spec: {
            clusterIP: "None",
            // Members must resolve each other before they are Ready: readiness needs the quorum they are forming.
            publishNotReadyAddresses: true,
            selector,
            ports: [
                clientPort,
                { name: "quorum", port: ZOOKEEPER_PORTS.quorum, targetPort: "quorum" },
                { name: "election", port: ZOOKEEPER_PORTS.election, targetPort: "election" },
            ],
        },
    };
    const client: k8s.core.v1.ServiceArgs = {
        metadata: meta(ZOOKEEPER_NAME),
        spec: { type: "ClusterIP", selector, ports: [clientPort] },
    };

    const memoryLimitEnv = { name: "MEMORY_LIMIT_MB", valueFrom: { resourceFieldRef: { containerName: "zookeeper", resource: "limits.memory", divisor: "1Mi" } } };
    const statefulSet: k8s.apps.v1.StatefulSetArgs = {
        metadata: meta(ZOOKEEPER_NAME),
        spec: {
            replicas: settings.replicas,
            serviceName: ZOOKEEPER_HEADLESS,
            // OrderedReady would deadlock: member 0 is not Ready until a majority runs.
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate" },
            selector: { matchLabels: selector },
            template: {
                metadata: {
                    labels: meta(ZOOKEEPER_NAME).labels,
                    annotations: {
                        ...scrapeAnnotations(ZOOKEEPER_PORTS.metrics),
                        // ConfigMap edits do not restart pods by themselves: a changed checksum rolls the ensemble.
                        [CONFIG_CHECKSUM_ANNOTATION]: contentChecksum(config.data, scripts.data),
                    },
                },
                spec: {
                    securityContext: podSecurityContext(KAFKA_IMAGE_UID),
                    affinity: spreadPods(settings.placement, selector),
                    terminationGracePeriodSeconds: 60,
                    automountServiceAccountToken: false,
                    initContainers: [{
                        name: "metrics-jars",
                        image: settings.metricsImage,
                        command: ["sh", "-c", `cp ${ZOOKEEPER_RELEASE_LIBS}/zookeeper-prometheus-metrics-*.jar ${ZOOKEEPER_RELEASE_LIBS}/simpleclient*.jar ${ZOOKEEPER_PATHS.metricsLibs}/`],
                        securityContext: { ...containerSecurityContext(), runAsUser: KAFKA_IMAGE_UID, runAsGroup: KAFKA_IMAGE_UID },
                        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
                        volumeMounts: [{ name: "metrics-libs", mountPath: ZOOKEEPER_PATHS.metricsLibs }],
                    }],
                    containers: [{
                        name: "zookeeper",
                        image: settings.image,
                        command: [`${ZOOKEEPER_PATHS.scripts}/start.sh`],
                        env: [
                            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                            memoryLimitEnv,
                            { name: "ZOOKEEPER_CONFIG_DIR", value: ZOOKEEPER_PATHS.config },
                            { name: "ZOOKEEPER_RUNTIME_DIR", value: ZOOKEEPER_PATHS.runtime },
                            { name: "ZOOKEEPER_METRICS_LIBS", value: ZOOKEEPER_PATHS.metricsLibs },
                            { name: "ZOOKEEPER_CLIENT_PORT", value: String(ZOOKEEPER_PORTS.client) },
                        ],
                        ports: [
                            { name: "client", containerPort: ZOOKEEPER_PORTS.client },
                            { name: "quorum", containerPort: ZOOKEEPER_PORTS.quorum },
                            { name: "election", containerPort: ZOOKEEPER_PORTS.election },
                            { name: "metrics", containerPort: ZOOKEEPER_PORTS.metrics },
                        ],
                        readinessProbe: { ...probe("ready"), initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
                        livenessProbe: { ...probe("alive"), initialDelaySeconds: 30, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                        resources: settings.resources,
                        securityContext: containerSecurityContext(),
                        volumeMounts: [
                            { name: "config", mountPath: ZOOKEEPER_PATHS.config, readOnly: true },
                            { name: "scripts", mountPath: ZOOKEEPER_PATHS.scripts, readOnly: true },
                            { name: "runtime", mountPath: ZOOKEEPER_PATHS.runtime },
                            { name: "tmp", mountPath: ZOOKEEPER_PATHS.tmp },
                            { name: "metrics-libs", mountPath: ZOOKEEPER_PATHS.metricsLibs, readOnly: true },
                            { name: "data", mountPath: ZOOKEEPER_PATHS.data },
                        ],
                    }],
                    volumes: [
                        { name: "config", configMap: { name: "zookeeper-config" } },
                        { name: "scripts", configMap: { name: "zookeeper-scripts", defaultMode: EXECUTABLE_MODE } },
                        { name: "runtime", emptyDir: { sizeLimit: "1Mi" } },
                        { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                        { name: "metrics-libs", emptyDir: { sizeLimit: "16Mi" } },
                    ],
                },
            },
            volumeClaimTemplates: [dataVolumeClaim(selector, settings.storageSize, settings.storageClass)],
        },
    };

    const disruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs | undefined = settings.replicas > 1
        ? { metadata: meta(ZOOKEEPER_NAME), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } }
        : undefined;

    return { config, scripts, headless, client, statefulSet, disruptionBudget };
}
