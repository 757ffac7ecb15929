/**
 * Pure builders for every Kubernetes object of the Redis Cluster: plain data from the settings, no Pulumi
 * resources, so they are unit-tested without mocks and the component only wraps them.
 */
import * as crypto from "crypto";
import type * as Input from "@pulumi/kubernetes/types/input";
import { RedisSettings } from "../../settings/redis";
import { Placement } from "../../settings/common";
import { imageVersion, labels, selectorLabels } from "../shared/labels";
import { containerSecurityContext, podSecurityContext } from "../shared/security";
import { EXECUTABLE_MODE } from "../shared/files";
import { dataVolumeClaim } from "../shared/storage";
import { CONFIG_CHECKSUM_ANNOTATION } from "../shared/checksum";
import { scrapeAnnotations } from "../shared/metrics";
import { BUS_PORT, CLIENT_PORT, CONFIG_FILE, METRICS_PORT, PATHS, PEERS_FILE, renderRedisConf } from "./config";

type ObjectMeta = Input.meta.v1.ObjectMeta;

/** Object names: the DNS contract other components and users rely on. */
export const NAMES = {
    statefulSet: "redis-cluster",
    headlessService: "redis-cluster-headless",
    clientService: "redis-cluster",
    externalService: "redis-cluster-external",
    config: "redis-cluster-config",
    scripts: "redis-cluster-scripts",
    secret: "redis-cluster-auth",
    bootstrapJob: "redis-cluster-bootstrap",
    disruptionBudget: "redis-cluster",
} as const;

/** Key of the password in the Secret. */
export const PASSWORD_KEY = "password";

/** uid/gid of the `redis` user in the official image. */
export const REDIS_UID = 999;

/** The node component's label value; the bootstrap Job's pods carry another so no Service selects them. */
const NODE_COMPONENT = "redis-cluster";
const BOOTSTRAP_COMPONENT = "redis-cluster-bootstrap";

export const SCRIPT_FILES = ["start.sh", "bootstrap.sh", "probe.sh", "handover.sh", "pairing.awk"] as const;
export type ScriptName = typeof SCRIPT_FILES[number];

/** Bound of the bootstrap's wait for all nodes, inside Pulumi's 10-minute await of the Job. */
const BOOTSTRAP_TIMEOUT_SECONDS = 480;
/** Bound of a restarted node's attempts to re-meet its peers. */
const REJOIN_TIMEOUT_SECONDS = 600;
/** Bound of a stopping master's hand-over to its replica (preStop, handover.sh). */
export const HANDOVER_TIMEOUT_SECONDS = 20;
/** After the hand-over, room for redis-server's own shutdown (AOF fsync, a final RDB save on a replica). */
const SHUTDOWN_SECONDS = 15;

export interface RedisClusterSpec {
    namespace: string;
    settings: RedisSettings;
    /** Text of each shell script, as shipped beside this file. */
    scripts: Record<ScriptName, string>;
}

export function podCount(settings: Pick<RedisSettings, "masters" | "replicasPerMaster">): number {
    return settings.masters * (1 + settings.replicasPerMaster);
}

/** Stable DNS name of every node (`redis-cluster-<i>.redis-cluster-headless.<ns>.svc.cluster.local`). */
export function clusterPeers(namespace: string, settings: RedisSettings): string[] {
    return Array.from({ length: podCount(settings) }, (_, i) => `${NAMES.statefulSet}-${i}.${NAMES.headlessService}.${namespace}.svc.cluster.local`);
}

/** In-cluster address of the client Service. */
export function clientAddress(namespace: string): string {
    return `${NAMES.clientService}.${namespace}.svc.cluster.local:${CLIENT_PORT}`;
}

function metadata(spec: RedisClusterSpec, name: string, component = NODE_COMPONENT): ObjectMeta {
    return {
        name,
        namespace: spec.namespace,
        labels: labels(component, { "app.kubernetes.io/version": imageVersion(spec.settings.image) }),
    };
}

export function configMap(spec: RedisClusterSpec): Input.core.v1.ConfigMap {
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: metadata(spec, NAMES.config),
        // The peer list is a file rather than an env var of the pods, and stays out of the config checksum: a new
        // count then adds or removes pods without restarting the running ones; the kubelet refreshes the file.
        data: { [CONFIG_FILE]: renderRedisConf(spec.settings), [PEERS_FILE]: clusterPeers(spec.namespace, spec.settings).join("\n") },
    };
}

export function scriptsConfigMap(spec: RedisClusterSpec): Input.core.v1.ConfigMap {
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: metadata(spec, NAMES.scripts),
        data: { ...spec.scripts },
    };
}

/** The Secret holding the password: the one place it is stored in the cluster. */
export function authSecret(spec: RedisClusterSpec, password: Input.core.v1.Secret["stringData"]): Input.core.v1.Secret {
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: metadata(spec, NAMES.secret),
        type: "Opaque",
        stringData: password,
    };
}

const clientPort = { name: "client", port: CLIENT_PORT, targetPort: "client", protocol: "TCP" };

export function headlessService(spec: RedisClusterSpec): Input.core.v1.Service {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(spec, NAMES.headlessService),
        spec: {
            clusterIP: "None",
            // Nodes are not ready until the cluster is formed, yet the bootstrap and rejoining peers must
            // resolve them before that.
            publishNotReadyAddresses: true,
            selector: selectorLabels(NODE_COMPONENT),
            ports: [clientPort, { name: "bus", port: BUS_PORT, targetPort: "bus", protocol: "TCP" }],
        },
    };
}

export function clientService(spec: RedisClusterSpec): Input.core.v1.Service {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(spec, NAMES.clientService),
        spec: { type: "ClusterIP", selector: selectorLabels(NODE_COMPONENT), ports: [clientPort] },
    };
}

export function externalService(spec: RedisClusterSpec): Input.core.v1.Service {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(spec, NAMES.externalService),
        spec: {
            type: "NodePort",
            selector: selectorLabels(NODE_COMPONENT),
            ports: [{ ...clientPort, nodePort: spec.settings.nodePort }],
        },
    };
}

/** Only with several nodes: evictions then go one node at a time (a single-node PDB would block drains). */
export function disruptionBudget(spec: RedisClusterSpec): Input.policy.v1.PodDisruptionBudget | undefined {
    if (podCount(spec.settings) < 2) {
        return undefined;
    }
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: metadata(spec, NAMES.disruptionBudget),
        spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(NODE_COMPONENT) } },
    };
}

function passwordEnv(): Input.core.v1.EnvVar {
    return { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: NAMES.secret, key: PASSWORD_KEY } } };
}

/** Environment the scripts share: the ports come from the same constants as redis.conf. */
function clusterEnv(): Input.core.v1.EnvVar[] {
    return [
        passwordEnv(),
        { name: "REDIS_PORT", value: String(CLIENT_PORT) },
        { name: "REDIS_BUS_PORT", value: String(BUS_PORT) },
    ];
}

const scriptPath = (name: ScriptName) => `${PATHS.scriptsDir}/${name}`;

/** Changes with redis.conf or any script, so a config change rolls the pods: running processes never reread it. */
export function configChecksum(spec: RedisClusterSpec): string {
    const hash = crypto.createHash("sha256");
    hash.update(renderRedisConf(spec.settings));
    for (const name of SCRIPT_FILES) {
        hash.update(`\0${name}\0${spec.scripts[name]}`);
    }
    return hash.digest("hex");
}

/**
 * Spread over nodes and zones with at most one pod more in any domain than in another, instead of a hard one-pod-
 * per-node rule: 3 masters x 1 replica run two per node on three nodes. What keeps data safe is not one pod per
 * node but each master's replicas on other nodes than the master, which the bootstrap's pairing does
 * (pairing.awk). `required` makes the node spread a scheduling condition (`DoNotSchedule`), `preferred` a
 * preference; zones are always a preference, as many clusters have fewer zones than pods per domain.
 */
export function spreadConstraints(placement: Placement, selector: Record<string, string>): Input.core.v1.TopologySpreadConstraint[] {
    return [
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: placement === "required" ? "DoNotSchedule" : "ScheduleAnyway", labelSelector: { matchLabels: selector } },
        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
    ];
}

function scriptsVolume(): Input.core.v1.Volume {
    return { name: "scripts", configMap: { name: NAMES.scripts, defaultMode: EXECUTABLE_MODE } };
}

function redisContainer(spec: RedisClusterSpec): Input.core.v1.Container {
    const probe = (kind: "liveness" | "readiness") => ({ exec: { command: [scriptPath("probe.sh"), kind] } });
    return {
        name: "redis",
        image: spec.settings.image,
        command: [scriptPath("start.sh")],
        ports: [
            { name: "client", containerPort: CLIENT_PORT, protocol: "TCP" },
            { name: "bus", containerPort: BUS_PORT, protocol: "TCP" },
        ],
        env: [
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            // Announced as cluster-announce-hostname: the bootstrap pairs replicas with masters on other nodes by it.
            { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            ...clusterEnv(),
            { name: "CLUSTER_PEERS_FILE", value: `${PATHS.configDir}/${PEERS_FILE}` },
            { name: "REDIS_CONFIG", value: `${PATHS.configDir}/${CONFIG_FILE}` },
            { name: "REDIS_RUNTIME_DIR", value: PATHS.runtimeDir },
            { name: "REDIS_DATA_DIR", value: PATHS.dataDir },
            { name: "REJOIN_TIMEOUT_SECONDS", value: String(REJOIN_TIMEOUT_SECONDS) },
            { name: "HANDOVER_TIMEOUT_SECONDS", value: String(HANDOVER_TIMEOUT_SECONDS) },
        ],
        // A master stopping for a roll or a drain hands its slots to its replica first (waits for catch-up).
        lifecycle: { preStop: { exec: { command: [scriptPath("handover.sh")] } } },
        resources: spec.settings.resources,
        securityContext: containerSecurityContext(),
        readinessProbe: { ...probe("readiness"), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2, successThreshold: 1 },
        // Generous: replaying a large AOF answers LOADING, which the probe accepts, but the port opens late.
        livenessProbe: { ...probe("liveness"), initialDelaySeconds: 20, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
        volumeMounts: [
            { name: "config", mountPath: PATHS.configDir, readOnly: true },
            { name: "scripts", mountPath: PATHS.scriptsDir, readOnly: true },
            { name: "runtime", mountPath: PATHS.runtimeDir },
            { name: "data", mountPath: PATHS.dataDir },
        ],
    };
}

function exporterContainer(spec: RedisClusterSpec): Input.core.v1.Container {
    const health = { httpGet: { path: "/health", port: "metrics" } };
    return {
        name: "metrics",
        image: spec.settings.exporterImage,
        env: [
            { name: "REDIS_ADDR", value: `redis://127.0.0.1:${CLIENT_PORT}` },
            passwordEnv(),
        ],
        ports: [{ name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" }],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
        securityContext: containerSecurityContext(),
        readinessProbe: { ...health, periodSeconds: 10, timeoutSeconds: 3 },
        livenessProbe: { ...health, initialDelaySeconds: 10, periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 3 },
    };
}

export function statefulSet(spec: RedisClusterSpec): Input.apps.v1.StatefulSet {
    const { settings } = spec;
    const podLabels = labels(NODE_COMPONENT, { "app.kubernetes.io/version": imageVersion(settings.image) });
    return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: metadata(spec, NAMES.statefulSet),
        spec: {
            serviceName: NAMES.headlessService,
            replicas: podCount(settings),
            // All nodes start together: none is ready before the cluster exists, so OrderedReady would stall at pod 0.
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate" },
            selector: { matchLabels: selectorLabels(NODE_COMPONENT) },
            template: {
                metadata: {
                    labels: podLabels,
                    annotations: {
                        ...scrapeAnnotations(METRICS_PORT),
                        [CONFIG_CHECKSUM_ANNOTATION]: configChecksum(spec),
                    },
                },
                spec: {
                    securityContext: podSecurityContext(REDIS_UID),
                    topologySpreadConstraints: spreadConstraints(settings.placement, selectorLabels(NODE_COMPONENT)),
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    terminationGracePeriodSeconds: HANDOVER_TIMEOUT_SECONDS + SHUTDOWN_SECONDS,
                    containers: [redisContainer(spec), exporterContainer(spec)],
                    volumes: [
                        { name: "config", configMap: { name: NAMES.config } },
                        scriptsVolume(),
                        { name: "runtime", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
                    ],
                },
            },
            volumeClaimTemplates: [dataVolumeClaim(selectorLabels(NODE_COMPONENT), settings.storageSize, settings.storageClass)],
        },
    };
}

/**
 * Forms the cluster once. A Job rather than pod 0: formation is a cluster-wide act with a clear end, its
 * success or failure is visible (`kubectl get job`, and `pulumi up` waits for it), and the node start
 * script stays about one node. It must not depend on the StatefulSet in Pulumi: the nodes only become
 * ready once this Job has run.
 */
export function bootstrapJob(spec: RedisClusterSpec): Input.batch.v1.Job {
    const jobLabels = labels(BOOTSTRAP_COMPONENT, { "app.kubernetes.io/version": imageVersion(spec.settings.image) });
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: metadata(spec, NAMES.bootstrapJob, BOOTSTRAP_COMPONENT),
        spec: {
            backoffLimit: 3,
            activeDeadlineSeconds: 3 * BOOTSTRAP_TIMEOUT_SECONDS,
            template: {
                metadata: { labels: jobLabels, annotations: { [CONFIG_CHECKSUM_ANNOTATION]: configChecksum(spec) } },
                spec: {
                    restartPolicy: "OnFailure",
                    securityContext: podSecurityContext(REDIS_UID),
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    containers: [{
                        name: "bootstrap",
                        image: spec.settings.image,
                        command: [scriptPath("bootstrap.sh")],
                        env: [
                            ...clusterEnv(),
                            // In the Job's template, unlike the pods': a new shape replaces the Job, which joins the new nodes.
                            { name: "CLUSTER_PEERS", value: clusterPeers(spec.namespace, spec.settings).join(" ") },
                            { name: "CLUSTER_MASTERS", value: String(spec.settings.masters) },
                            { name: "CLUSTER_REPLICAS_PER_MASTER", value: String(spec.settings.replicasPerMaster) },
                            { name: "BOOTSTRAP_TIMEOUT_SECONDS", value: String(BOOTSTRAP_TIMEOUT_SECONDS) },
                        ],
                        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
                        securityContext: containerSecurityContext(),
                        volumeMounts: [{ name: "scripts", mountPath: PATHS.scriptsDir, readOnly: true }],
                    }],
                    volumes: [scriptsVolume()],
                },
            },
        },
    };
}
