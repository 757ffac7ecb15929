/** Synthetic render output for the bench's builders: small enough to work out every figure by hand. */

export function container(name: string, requests: Record<string, string>, limits: Record<string, string>, extra: Record<string, unknown> = {}) {
    return { name, image: `example/${name}:1.0.0`, resources: { requests, limits }, ...extra };
}

const hostnameAntiAffinity = (labels: Record<string, string>) => ({
    podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" }] },
});

const brokerLabels = { "app.kubernetes.io/name": "kafka", "app.kubernetes.io/part-of": "bss" };
const cacheLabels = { "app.kubernetes.io/name": "redis-cluster", "app.kubernetes.io/part-of": "bss" };

/**
 * 3 brokers with a hard anti-affinity (1 CPU / 1Gi each, an init container of 2 CPUs / 64Mi), 4 Redis pods in a
 * DoNotSchedule spread (250m / 256Mi + 50m / 32Mi sidecar), one Job (100m / 128Mi), a ConfigMap, and Kong with
 * 2 replicas of 500m / 512Mi requests and 1 CPU / 1Gi limits.
 */
export const SYNTHETIC_MANIFESTS: Record<string, any>[] = [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { a: "b" } },
    {
        apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "kafka" },
        spec: {
            replicas: 3,
            template: {
                metadata: { labels: brokerLabels },
                spec: {
                    initContainers: [container("prepare", { cpu: "2", memory: "64Mi" }, { cpu: "2", memory: "64Mi" })],
                    containers: [container("kafka", { cpu: "1", memory: "1Gi" }, { cpu: "2", memory: "1Gi" })],
                    affinity: hostnameAntiAffinity(brokerLabels),
                },
            },
        },
    },
    {
        apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "redis-cluster" },
        spec: {
            replicas: 4,
            template: {
                metadata: { labels: cacheLabels },
                spec: {
                    containers: [
                        container("redis", { cpu: "250m", memory: "256Mi" }, { cpu: "500m", memory: "256Mi" }),
                        container("metrics", { cpu: "50m", memory: "32Mi" }, { cpu: "100m", memory: "64Mi" }),
                    ],
                    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: cacheLabels } }],
                },
            },
        },
    },
    {
        apiVersion: "batch/v1", kind: "Job", metadata: { name: "kafka-rebalance-3" },
        spec: {
            template: {
                metadata: { labels: { "app.kubernetes.io/name": "kafka-rebalance" } },
                spec: { restartPolicy: "OnFailure", containers: [container("rebalance", { cpu: "100m", memory: "128Mi" }, { cpu: "1", memory: "128Mi" })] },
            },
        },
    },
];

export const SYNTHETIC_HELM_RELEASES = [
    {
        name: "kong",
        chart: "kong",
        version: "3.4.1",
        values: {
            replicaCount: 2,
            image: { repository: "kong", tag: "3.9.3" },
            resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
            affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
        },
    },
];
