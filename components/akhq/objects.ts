/**
 * Pure builder of every Kubernetes object of AKHQ. The component only hands these to Pulumi; tests assert on
 * them directly. Secret material arrives as Pulumi inputs and goes nowhere but the credentials Secret.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AkhqSettings } from "../../settings/akhq";
import { PRIVATE_MODE, shippedFile } from "../shared/files";
import { CONFIG_CHECKSUM_ANNOTATION, contentChecksum } from "../shared/checksum";
import { scrapeAnnotations } from "../shared/metrics";
import { imageVersion, labels, selectorLabels } from "../shared/labels";
import { containerSecurityContext, podSecurityContext } from "../shared/security";
import { AKHQ_NAME, AKHQ_PATHS, AKHQ_PORTS, javaOptions, managementPath, renderApplicationYml } from "./config";

/**
 * uid/gid of the image's `akhq` user. The image names its user (`USER akhq`), so `runAsNonRoot` can only be
 * checked against a number we give. AKHQ's Dockerfile runs `useradd -ms /bin/bash akhq` on `eclipse-temurin:17-jre`;
 * 0.25.1 was out by 2024-07-08, while that tag still meant Ubuntu 22.04, which has no user at or above 1000, so
 * `useradd` handed out 1000 (and its user-private group 1000). The tag moved to Ubuntu 24.04, whose `ubuntu`
 * user holds 1000, only on 2024-07-23. Nothing depends on the match beyond file ownership: /app is
 * world-readable and the process writes only to /tmp (an emptyDir).
 */
export const AKHQ_UID = 1000;

export const AKHQ_CONFIG_MAP = "akhq-config";
export const AKHQ_CREDENTIALS_SECRET = "akhq-credentials";
const CREDENTIALS_KEY = "credentials.yml";

export interface AkhqCredentials {
    /** `credentials.yml` text (secret). */
    yaml: pulumi.Input<string>;
    /** Digest of that text, not secret itself, that rolls the pod when the credentials change. */
    checksum: pulumi.Input<string>;
}

export interface AkhqObjects {
    config: k8s.core.v1.ConfigMapArgs;
    /** Present when login is on. */
    credentials?: k8s.core.v1.SecretArgs;
    service: k8s.core.v1.ServiceArgs;
    deployment: k8s.apps.v1.DeploymentArgs;
}

/**
 * @param credentials required exactly when `settings.authEnabled`
 */
export function buildAkhqObjects(namespace: string, settings: AkhqSettings, credentials?: AkhqCredentials): AkhqObjects {
    if (settings.authEnabled !== (credentials !== undefined)) {
        throw new Error(`AKHQ credentials must be given exactly when login is on (authEnabled ${settings.authEnabled})`);
    }
    const selector = selectorLabels(AKHQ_NAME);
    const meta = (name: string) => ({
        name,
        namespace,
        labels: labels(AKHQ_NAME, { "app.kubernetes.io/version": imageVersion(settings.image), "app.kubernetes.io/component": "kafka-ui" }),
    });

    const configData = {
        "application.yml": renderApplicationYml({ namespace, contextPath: settings.contextPath, authEnabled: settings.authEnabled }),
        "jvm.options": shippedFile(__dirname, "jvm.options"),
    };
    const config: k8s.core.v1.ConfigMapArgs = { metadata: meta(AKHQ_CONFIG_MAP), data: configData };
    const secret: k8s.core.v1.SecretArgs | undefined = credentials && {
        metadata: meta(AKHQ_CREDENTIALS_SECRET),
        type: "Opaque",
        stringData: { [CREDENTIALS_KEY]: credentials.yaml },
    };

    const service: k8s.core.v1.ServiceArgs = {
        metadata: meta(AKHQ_NAME),
        spec: {
            type: settings.serviceType,
            selector,
            ports: [{
                name: "http",
                port: AKHQ_PORTS.http,
                targetPort: "http",
                ...(settings.serviceType === "NodePort" ? { nodePort: settings.nodePort } : {}),
            }],
        },
    };

    const health = { httpGet: { path: managementPath(settings.contextPath, "health"), port: "management" } };
    const configFiles = credentials ? [AKHQ_PATHS.config, AKHQ_PATHS.credentials] : [AKHQ_PATHS.config];
    const deployment: k8s.apps.v1.DeploymentArgs = {
        metadata: meta(AKHQ_NAME),
        spec: {
            replicas: 1,
            revisionHistoryLimit: 3,
            // The old pod serves until the new JVM is Ready.
            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            selector: { matchLabels: selector },
            template: {
                metadata: {
                    labels: meta(AKHQ_NAME).labels,
                    annotations: {
                        ...scrapeAnnotations(AKHQ_PORTS.management, managementPath(settings.contextPath, "prometheus")),
                        // A ConfigMap or Secret edit does not restart the pod by itself: a changed digest does.
                        [CONFIG_CHECKSUM_ANNOTATION]: contentChecksum(configData),
                        ...(credentials ? { "bss/credentials-checksum": credentials.checksum } : {}),
                    },
                },
                spec: {
                    securityContext: podSecurityContext(AKHQ_UID),
                    automountServiceAccountToken: false,
                    // Micronaut turns every environment variable into a property: the service-link variables of the
                    // Services `akhq` and `kafka` (AKHQ_PORT=tcp://..., KAFKA_PORT=...) would land in akhq.* and kafka.*.
                    enableServiceLinks: false,
                    terminationGracePeriodSeconds: 30,
                    containers: [{
                        name: AKHQ_NAME,
                        image: settings.image,
                        env: [
                            { name: "JAVA_OPTS", value: javaOptions() },
                            { name: "MICRONAUT_CONFIG_FILES", value: configFiles.join(",") },
                        ],
                        ports: [
                            { name: "http", containerPort: AKHQ_PORTS.http },
                            { name: "management", containerPort: AKHQ_PORTS.management },
                        ],
                        // A JVM with AKHQ's classpath needs 20-60 s on one CPU: up to 3 minutes before liveness counts.
                        startupProbe: { ...health, initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 34 },
                        readinessProbe: { ...health, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
                        livenessProbe: { ...health, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                        resources: settings.resources,
                        securityContext: containerSecurityContext(),
                        volumeMounts: [
                            { name: "config", mountPath: AKHQ_PATHS.config, subPath: "application.yml", readOnly: true },
                            { name: "config", mountPath: AKHQ_PATHS.jvmOptions, subPath: "jvm.options", readOnly: true },
                            ...(credentials ? [{ name: "credentials", mountPath: AKHQ_PATHS.credentials, subPath: CREDENTIALS_KEY, readOnly: true }] : []),
                            { name: "tmp", mountPath: AKHQ_PATHS.tmp },
                        ],
                    }],
                    volumes: [
                        { name: "config", configMap: { name: AKHQ_CONFIG_MAP } },
                        ...(credentials ? [{ name: "credentials", secret: { secretName: AKHQ_CREDENTIALS_SECRET, defaultMode: PRIVATE_MODE } }] : []),
                        // The JVM's perf data, Netty's and the Kafka client's native libraries are unpacked here.
                        { name: "tmp", emptyDir: { sizeLimit: "128Mi" } },
                    ],
                },
            },
        },
    };

    return { config, credentials: secret, service, deployment };
}
