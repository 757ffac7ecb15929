/**
 * Pure builder of every Kubernetes object of the Kafka brokers and their metrics exporter. The component only
 * hands these to Pulumi; tests assert on them directly.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KafkaSettings } from "../../settings/kafka";
import { EXECUTABLE_MODE, shippedFile } from "../shared/files";
import { imageVersion, labels, selectorLabels } from "../shared/labels";
import { spreadPods } from "../shared/placement";
import { containerSecurityContext, podSecurityContext } from "../shared/security";
import { renderLog4jProperties } from "../zookeeper/config";
import { KAFKA_IMAGE_UID } from "../zookeeper/objects";
import { CONFIG_CHECKSUM_ANNOTATION, contentChecksum } from "../shared/checksum";
import { scrapeAnnotations } from "../shared/metrics";
import { dataVolumeClaim } from "../shared/storage";
import { brokerHost, externalServiceName, KAFKA_HEADLESS, KAFKA_NAME, KAFKA_PATHS, KAFKA_PORTS, renderServerProperties } from "./config";

export const EXPORTER_NAME = "kafka-exporter";
/** The well-known node label of a node's zone, which PodTopologyLabels copies onto pods bound to it. */
export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const EXPORTER_PORT = 9308;
/** The kafka-exporter image's user (nobody). */
const EXPORTER_UID = 65534;

export interface KafkaObjects {
    config: k8s.core.v1.ConfigMapArgs;
    scripts: k8s.core.v1.ConfigMapArgs;
    headless: k8s.core.v1.ServiceArgs;
    bootstrap: k8s.core.v1.ServiceArgs;
    /** One NodePort Service per broker, index = broker.id. */
    external: k8s.core.v1.ServiceArgs[];
    statefulSet: k8s.apps.v1.StatefulSetArgs;
    disruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs;
    exporter: k8s.apps.v1.DeploymentArgs;
}

/**
 * `metadataConnect` is the ZooKeeper ensemble's member list plus the chroot on a ZooKeeper stack, and
 * `controller.quorum.voters` on a KRaft stack, where `clusterId` (the stack's cluster ID) is required too.
 */
export function buildKafkaObjects(namespace: string, settings: KafkaSettings, metadataConnect: string, clusterId?: pulumi.Input<string>): KafkaObjects {
    const kraft = settings.metadata === "kraft";
    if (kraft && clusterId === undefined) {
        throw new Error("a KRaft stack's brokers need the cluster ID their log dirs are formatted for");
    }
    const selector = selectorLabels(KAFKA_NAME);
    const podLabels = labels(KAFKA_NAME, { "app.kubernetes.io/version": imageVersion(settings.image), "app.kubernetes.io/component": "broker" });
    const meta = (name: string) => ({ name, namespace, labels: podLabels });

    const config: k8s.core.v1.ConfigMapArgs = {
        metadata: meta("kafka-config"),
        data: {
            "server.properties": renderServerProperties(settings, metadataConnect),
            "log4j.properties": renderLog4jProperties({
                "kafka.request.logger": "WARN",
                "kafka.controller": "INFO",
                "state.change.logger": "WARN",
                ...(kraft ? {} : { "org.apache.zookeeper": "WARN" }),
            }),
        },
    };
    const scripts: k8s.core.v1.ConfigMapArgs = {
        metadata: meta("kafka-scripts"),
        data: {
            "start.sh": shippedFile(__dirname, "start.sh"),
            "probe.sh": shippedFile(__dirname, "probe.sh"),
            "kafka-wire.sh": shippedFile(__dirname, "kafka-wire.sh"),
            // Only where it runs: a ZooKeeper stack's pod template (and its checksum) stays what it was.
            ...(kraft ? { "format-storage.sh": shippedFile(__dirname, "format-storage.sh") } : {}),
        },
    };

    const internalPort = { name: "internal", port: KAFKA_PORTS.internal, targetPort: "internal" };
    const headless: k8s.core.v1.ServiceArgs = {
        metadata: meta(KAFKA_HEADLESS),
        spec: {
            clusterIP: "None",
            // Brokers reach each other (and the controller reaches them) before they are Ready: readiness waits
            // for the controller's metadata, which it sends to the broker's advertised INTERNAL name.
            publishNotReadyAddresses: true,
            selector,
            ports: [internalPort],
        },
    };
    const bootstrap: k8s.core.v1.ServiceArgs = {
        metadata: meta(KAFKA_NAME),
        spec: { type: "ClusterIP", selector, ports: [internalPort] },
    };
    const external: k8s.core.v1.ServiceArgs[] = settings.nodePorts.map((nodePort, i) => ({
        metadata: meta(externalServiceName(i)),
        spec: {
            type: "NodePort",
            // Only broker i: a client must reach exactly the broker whose address it was given.
            selector: { ...selector, "statefulset.kubernetes.io/pod-name": `${KAFKA_NAME}-${i}` },
            ports: [{ name: "external", port: KAFKA_PORTS.external, targetPort: "external", nodePort }],
        },
    }));

    const env = [
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "MEMORY_LIMIT_MB", valueFrom: { resourceFieldRef: { containerName: "kafka", resource: "limits.memory", divisor: "1Mi" } } },
        { name: "KAFKA_CONFIG_DIR", value: KAFKA_PATHS.config },
        { name: "KAFKA_RUNTIME_DIR", value: KAFKA_PATHS.runtime },
        { name: "KAFKA_HEADLESS_SERVICE", value: KAFKA_HEADLESS },
        { name: "KAFKA_EXTERNAL_HOST", value: settings.externalHost },
        // A base, not every broker's port: nothing in the pod template depends on the broker count, so a new count
        // adds or removes pods without rolling the others.
        { name: "KAFKA_EXTERNAL_PORT_BASE", value: String(settings.externalPortBase) },
        { name: "KAFKA_CATCH_UP_SECONDS", value: String(settings.catchUpSeconds) },
        // The node's zone as broker.rack: the API server copies it onto the pod at binding (PodTopologyLabels
        // admission); empty where it does not, and start.sh then sets no rack.
        { name: "KAFKA_BROKER_RACK", valueFrom: { fieldRef: { fieldPath: `metadata.labels['${ZONE_LABEL}']` } } },
        // The ID start.sh formats the log dir for (format-storage.sh); in the env, not the command.
        ...(kraft ? [{ name: "KAFKA_CLUSTER_ID", value: clusterId! }] : []),
    ];

    const statefulSet: k8s.apps.v1.StatefulSetArgs = {
        metadata: meta(KAFKA_NAME),
        spec: {
            replicas: settings.brokers,
            serviceName: KAFKA_HEADLESS,
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
                    // Controlled shutdown moves partition leadership away before the process ends.
                    terminationGracePeriodSeconds: 120,
                    automountServiceAccountToken: false,
                    containers: [{
                        name: "kafka",
                        image: settings.image,
                        command: [`${KAFKA_PATHS.scripts}/start.sh`],
                        env,
                        ports: [
                            { name: "internal", containerPort: KAFKA_PORTS.internal },
                            { name: "external", containerPort: KAFKA_PORTS.external },
                        ],
                        // Log recovery after an unclean stop can take minutes: liveness starts once the listener is up.
                        startupProbe: { tcpSocket: { port: "internal" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 60 },
                        readinessProbe: { exec: { command: [`${KAFKA_PATHS.scripts}/probe.sh`] }, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 3 },
                        livenessProbe: { tcpSocket: { port: "internal" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
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
                        { name: "config", configMap: { name: "kafka-config" } },
                        { name: "scripts", configMap: { name: "kafka-scripts", defaultMode: EXECUTABLE_MODE } },
                        { name: "runtime", emptyDir: { sizeLimit: "1Mi" } },
                        { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                    ],
                },
            },
            volumeClaimTemplates: [dataVolumeClaim(selector, settings.storageSize, settings.storageClass)],
        },
    };

    const disruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs = {
        metadata: meta(KAFKA_NAME),
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    };

    const exporterSelector = selectorLabels(EXPORTER_NAME);
    const exporterLabels = labels(EXPORTER_NAME, { "app.kubernetes.io/version": imageVersion(settings.exporterImage), "app.kubernetes.io/component": "metrics" });
    const exporter: k8s.apps.v1.DeploymentArgs = {
        metadata: { name: EXPORTER_NAME, namespace, labels: exporterLabels },
        spec: {
            replicas: 1,
            selector: { matchLabels: exporterSelector },
            template: {
                metadata: {
                    labels: exporterLabels,
                    annotations: scrapeAnnotations(EXPORTER_PORT),
                },
                spec: {
                    securityContext: podSecurityContext(EXPORTER_UID),
                    automountServiceAccountToken: false,
                    containers: [{
                        name: "kafka-exporter",
                        image: settings.exporterImage,
                        args: [
                            ...[...Array(settings.brokers).keys()].map((i) => `--kafka.server=${brokerHost(i, namespace)}:${KAFKA_PORTS.internal}`),
                            `--web.listen-address=:${EXPORTER_PORT}`,
                        ],
                        ports: [{ name: "metrics", containerPort: EXPORTER_PORT }],
                        // The exporter exits when no broker answers at start: it restarts until the cluster is up. When every
                        // broker dies later it keeps its port open but /metrics hangs: only a bounded scrape notices.
                        readinessProbe: { httpGet: { path: "/metrics", port: "metrics" }, periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 2 },
                        livenessProbe: { httpGet: { path: "/metrics", port: "metrics" }, initialDelaySeconds: 30, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 3 },
                        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
                        securityContext: containerSecurityContext(),
                    }],
                },
            },
        },
    };

    return { config, scripts, headless, bootstrap, external, statefulSet, disruptionBudget, exporter };
}
