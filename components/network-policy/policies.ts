/**
 * Pure builder of the namespace's NetworkPolicies: a default deny of every pod's ingress and egress, then one
 * policy per workload and direction naming exactly what it may accept and open. Selectors and ports come from the components'
 * own constants, so a renamed label or a moved port changes the policy with the workload.
 *
 * NetworkPolicy sees a connection after a Service has translated it: ports here are the pods' container ports,
 * never Service ports. Connections from the pod's own node (kubelet probes, and NodePort traffic that kube-proxy
 * masquerades as that node) are always allowed by the NetworkPolicy model, and `kubectl port-forward` enters the
 * pod's own network namespace: neither needs a rule. NodePort traffic forwarded from another node is not exempt,
 * hence the "from anywhere" rules of every published port.
 */
import { AkhqSettings } from "../../settings/akhq";
import { KongSettings } from "../../settings/kong";
import { NetworkPolicySettings, ClientSelection } from "../../settings/network-policy";
import { RedisSettings } from "../../settings/redis";
import { AKHQ_NAME, AKHQ_PORTS } from "../akhq/config";
import { KAFKA_NAME, KAFKA_PORTS } from "../kafka/config";
import { EXPORTER_NAME, EXPORTER_PORT } from "../kafka/objects";
import { REBALANCE_NAME } from "../kafka/rebalance/objects";
import { KONG_POD_SELECTOR, loadBaseValues } from "../kong/values";
import { JMX_AGENT_PORT } from "../monitoring/jmx";
import { BUS_PORT, CLIENT_PORT, METRICS_PORT } from "../redis/config";
import { NAMES as REDIS_NAMES } from "../redis/manifests";
import { BACKUP_COMPONENT as REDIS_BACKUP_COMPONENT } from "../redis/backup";
import { labels, selectorLabels } from "../shared/labels";
import { ZOOKEEPER_NAME, ZOOKEEPER_PORTS } from "../zookeeper/config";
import { CONTROLLER_NAME, CONTROLLER_PORT } from "../kafka/controllers/config";
import { MetadataMode } from "../../settings/kafka";
import { akhqEndpoint, KongUpstream, kongUpstreams } from "./kong-upstreams";

export interface LabelSelectorRequirement {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: LabelSelectorRequirement[];
}

export interface NetworkPolicyPeer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyPort {
    protocol?: "TCP" | "UDP" | "SCTP";
    port?: number | string;
    endPort?: number;
}

export interface NetworkPolicyIngressRule {
    from?: NetworkPolicyPeer[];
    ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
    to?: NetworkPolicyPeer[];
    ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyManifest {
    apiVersion: "networking.k8s.io/v1";
    kind: "NetworkPolicy";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: {
        podSelector: LabelSelector;
        policyTypes: ("Ingress" | "Egress")[];
        ingress?: NetworkPolicyIngressRule[];
        egress?: NetworkPolicyEgressRule[];
    };
}

/** Kong's container ports as the chart renders them from its values (`proxy.*`, `status.*`). */
export interface KongContainerPorts {
    proxyHttp: number;
    proxyTls: number;
    /** `/status` for the probes and `/metrics` of the prometheus plugin (the scrape annotation's port). */
    status: number;
}

export interface NetworkPolicySpec {
    /** The stack's namespace: the policies' and every workload's. No default. */
    namespace: string;
    /** `bss:networkPolicy`. No default. */
    settings: NetworkPolicySettings;
    /** `bss:redis`: whether the client port is exposed as a NodePort. No default. */
    redis: Pick<RedisSettings, "hostAccess">;
    /** `bss:akhq`: the UI Service type and the context path Kong routes. No default. */
    akhq: AkhqSettings;
    /** `bss:kong`: proxy Service type and every upstream. No default. */
    kong: KongSettings;
    /** Default: the container ports in charts/kong/values.yaml. */
    kongPorts?: KongContainerPorts;
    /**
     * `bss:monitoring.jmxAgent.mavenRepository` when the brokers run the JMX exporter agent (monitoring on and a
     * repository set): their init container downloads the jar from it, and the agent serves metrics. Default: no agent.
     */
    jmxAgentRepository?: string;
    /** `bss:kafka.metadata`: a KRaft stack has controllers and no ZooKeeper. Default `zookeeper`. */
    kafkaMetadata?: MetadataMode;
}

/** The TCP port an http(s) URL connects to. */
export function urlPort(url: string): number {
    const parsed = new URL(url);
    return parsed.port ? Number(parsed.port) : parsed.protocol === "http:" ? 80 : 443;
}

/** The namespace label the API server sets on every namespace (immutable, equal to its name). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** The bootstrap Job's pods carry a name of their own (components/redis/manifests.ts), so they get their own rules. */
const REDIS_NODE = selectorLabels(REDIS_NAMES.statefulSet);
const REDIS_BOOTSTRAP = selectorLabels(REDIS_NAMES.bootstrapJob);
/** The backup CronJob's pods, and a restore Job made from its template. */
const REDIS_BACKUP = selectorLabels(REDIS_BACKUP_COMPONENT);
const ZOOKEEPER = selectorLabels(ZOOKEEPER_NAME);
const KAFKA = selectorLabels(KAFKA_NAME);
const KAFKA_CONTROLLER = selectorLabels(CONTROLLER_NAME);
const KAFKA_EXPORTER = selectorLabels(EXPORTER_NAME);
const KAFKA_REBALANCE = selectorLabels(REBALANCE_NAME);
const AKHQ = selectorLabels(AKHQ_NAME);
const KONG = { ...KONG_POD_SELECTOR };

/** Every workload of this stack, by the label value its pods carry in `app.kubernetes.io/name`. */
const STACK_WORKLOADS = [ZOOKEEPER, KAFKA, KAFKA_CONTROLLER, KAFKA_EXPORTER, KAFKA_REBALANCE, REDIS_NODE, REDIS_BOOTSTRAP, REDIS_BACKUP, AKHQ, KONG].map((s) => s["app.kubernetes.io/name"]);

export function kongContainerPorts(values: Record<string, any> = loadBaseValues()): KongContainerPorts {
    return {
        proxyHttp: values.proxy.http.containerPort,
        proxyTls: values.proxy.tls.containerPort,
        status: values.status.http.containerPort,
    };
}

const pods = (matchLabels: Record<string, string>): NetworkPolicyPeer => ({ podSelector: { matchLabels } });
const namespacePods = (namespace: string): NetworkPolicyPeer => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } });
const tcp = (...ports: number[]): NetworkPolicyPort[] => ports.map((port) => ({ protocol: "TCP", port }));

/** The peers a client selection stands for: labelled pods here, every pod of the listed namespaces. */
function clientPeers(clients: ClientSelection): NetworkPolicyPeer[] {
    return [{ podSelector: { matchLabels: { ...clients.podLabels } } }, ...clients.namespaces.map(namespacePods)];
}

function monitoring(settings: NetworkPolicySettings, ...ports: number[]): NetworkPolicyIngressRule[] {
    return settings.monitoringNamespace === undefined ? [] : [{ from: [namespacePods(settings.monitoringNamespace)], ports: tcp(...ports) }];
}

/** Pods of this namespace that belong to no workload of this stack: the upstreams other teams run beside it. */
const OTHER_PODS: LabelSelector = { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: STACK_WORKLOADS }] };

/** Kong's upstreams in its own namespace other than AKHQ (the defaults' bss-backend and pghero). */
function otherLocalUpstreams(upstreams: KongUpstream[], namespace: string, akhqHost: string): KongUpstream[] {
    return upstreams.filter((u) => u.place.kind === "namespace" && u.place.namespace === namespace && u.host !== akhqHost);
}

/** Kong's egress per destination. In-cluster destinations are named by a Service, whose targetPort is unknown here. */
function kongEgress(upstreams: KongUpstream[], namespace: string, akhqHost: string): NetworkPolicyEgressRule[] {
    const rules: NetworkPolicyEgressRule[] = [];
    if (upstreams.some((u) => u.host === akhqHost)) {
        rules.push({ to: [pods(AKHQ)], ports: tcp(AKHQ_PORTS.http) });
    }
    if (otherLocalUpstreams(upstreams, namespace, akhqHost).length > 0) {
        // Every port: the policy sees the pod's port after the Service's translation, and only the Service is known.
        rules.push({ to: [{ podSelector: OTHER_PODS }] });
    }
    const namespaces = [...new Set(upstreams.flatMap((u) => (u.place.kind === "namespace" && u.place.namespace !== namespace ? [u.place.namespace] : [])))].sort();
    for (const target of namespaces) {
        // Every port, for the same reason (Grafana's chart maps Service port 80 to 3000); that namespace's own
        // policies decide what its pods accept.
        rules.push({ to: [namespacePods(target)] });
    }
    for (const upstream of upstreams) {
        if (upstream.place.kind === "address") {
            rules.push({ to: [{ ipBlock: { cidr: upstream.place.cidr } }], ports: tcp(upstream.port) });
        }
        if (upstream.place.kind === "outside") {
            // A name outside the cluster has no address known before it resolves: any address, on its port only.
            rules.push({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: tcp(upstream.port) });
        }
    }
    return rules;
}

export function buildNetworkPolicies(spec: NetworkPolicySpec): NetworkPolicyManifest[] {
    const { namespace, settings } = spec;
    const kongPorts = spec.kongPorts ?? kongContainerPorts();
    const upstreams = kongUpstreams(namespace, spec.kong, spec.akhq);
    const akhqHost = akhqEndpoint(namespace, spec.akhq).host;
    const policy = (name: string, podSelector: LabelSelector, rules: { ingress?: NetworkPolicyIngressRule[]; egress?: NetworkPolicyEgressRule[] }): NetworkPolicyManifest => ({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name, namespace, labels: labels("network-policy") },
        spec: {
            podSelector,
            policyTypes: [...(rules.ingress ? ["Ingress" as const] : []), ...(rules.egress ? ["Egress" as const] : [])],
            ...rules,
        },
    });
    // One object per direction: kube-router (v2.1.0, pkg/controllers/netpol/pod.go) jumps to a policy with both
    // types without a direction, so its ingress rules would also open the selected pods' own egress (an
    // "anywhere" port would let a broker dial any other pod's EXTERNAL port whatever its egress says).
    const workload = (name: string, podSelector: LabelSelector, rules: { ingress?: NetworkPolicyIngressRule[]; egress?: NetworkPolicyEgressRule[] }): NetworkPolicyManifest[] => [
        ...(rules.ingress ? [policy(`${name}-ingress`, podSelector, { ingress: rules.ingress })] : []),
        ...(rules.egress ? [policy(`${name}-egress`, podSelector, { egress: rules.egress })] : []),
    ];
    const anywhere = (...ports: number[]): NetworkPolicyIngressRule => ({ ports: tcp(...ports) });
    const kraft = spec.kafkaMetadata === "kraft";

    const policies: NetworkPolicyManifest[] = [
        // Selects every pod and allows nothing: whatever the policies below do not name is refused, both ways,
        // including for pods other teams add to this namespace later.
        policy("default-deny", {}, { ingress: [], egress: [] }),
        // Every pod resolves Service and pod names. Port 53 to any address: the resolver need not be a pod
        // (a node-local cache, a resolver outside the cluster), so no pod selector could name it.
        policy("allow-dns", {}, { egress: [{ ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] }] }),

        ...(kraft ? workload("kafka-controller", { matchLabels: KAFKA_CONTROLLER }, {
            // The quorum's votes and log replication, and the brokers' metadata fetches and registrations: nothing
            // else may reach the controllers (an admin client there could change the cluster's metadata).
            ingress: [
                { from: [pods(KAFKA), pods(KAFKA_CONTROLLER)], ports: tcp(CONTROLLER_PORT) },
                ...(spec.jmxAgentRepository === undefined ? [] : monitoring(settings, JMX_AGENT_PORT)),
            ],
            egress: [
                { to: [pods(KAFKA_CONTROLLER)], ports: tcp(CONTROLLER_PORT) },
                // The JMX agent's init container, as the brokers' below.
                ...(spec.jmxAgentRepository === undefined ? [] : [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: tcp(urlPort(spec.jmxAgentRepository)) }]),
            ],
        }) : workload("zookeeper", { matchLabels: ZOOKEEPER }, {
            ingress: [
                // Only the brokers keep sessions (chroot /bss-kafka): nothing else may read or change Kafka's metadata.
                { from: [pods(KAFKA)], ports: tcp(ZOOKEEPER_PORTS.client) },
                // Followers sync from the leader (2888) and every member votes in elections (3888).
                { from: [pods(ZOOKEEPER)], ports: tcp(ZOOKEEPER_PORTS.quorum, ZOOKEEPER_PORTS.election) },
                ...monitoring(settings, ZOOKEEPER_PORTS.metrics),
            ],
            egress: [{ to: [pods(ZOOKEEPER)], ports: tcp(ZOOKEEPER_PORTS.quorum, ZOOKEEPER_PORTS.election) }],
        })),

        ...workload("kafka", { matchLabels: KAFKA }, {
            ingress: [
                // INTERNAL carries replication and controller traffic between brokers, the exporter's and AKHQ's
                // admin clients and the namespace's producers and consumers (they dial the advertised pod names).
                // The rebalance Job's reassignments too, whoever else counts as a client.
                { from: [pods(KAFKA), pods(KAFKA_EXPORTER), pods(KAFKA_REBALANCE), pods(AKHQ), ...clientPeers(settings.kafkaClients)], ports: tcp(KAFKA_PORTS.internal) },
                // EXTERNAL is published on a NodePort of every node for clients outside the cluster: from anywhere.
                anywhere(KAFKA_PORTS.external),
                ...(spec.jmxAgentRepository === undefined ? [] : monitoring(settings, JMX_AGENT_PORT)),
            ],
            egress: [
                kraft ? { to: [pods(KAFKA_CONTROLLER)], ports: tcp(CONTROLLER_PORT) } : { to: [pods(ZOOKEEPER)], ports: tcp(ZOOKEEPER_PORTS.client) },
                // Followers fetch from leaders; the controller sends metadata to every broker.
                { to: [pods(KAFKA)], ports: tcp(KAFKA_PORTS.internal) },
                // The agent's init container downloads the jar from the Maven repository; its address is not
                // known before it resolves, so any address on the repository's port only.
                ...(spec.jmxAgentRepository === undefined ? [] : [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: tcp(urlPort(spec.jmxAgentRepository)) }]),
            ],
        }),
        ...workload("kafka-exporter", { matchLabels: KAFKA_EXPORTER }, {
            ingress: monitoring(settings, EXPORTER_PORT),
            egress: [{ to: [pods(KAFKA)], ports: tcp(KAFKA_PORTS.internal) }],
        }),
        ...workload("kafka-rebalance", { matchLabels: KAFKA_REBALANCE }, {
            egress: [{ to: [pods(KAFKA)], ports: tcp(KAFKA_PORTS.internal) }],
        }),
        // The clients' side of the INTERNAL rule above: default deny stops their egress too.
        ...workload("kafka-clients", { matchLabels: { ...settings.kafkaClients.podLabels } }, {
            egress: [{ to: [pods(KAFKA)], ports: tcp(KAFKA_PORTS.internal) }],
        }),

        ...workload("redis-cluster", { matchLabels: REDIS_NODE }, {
            ingress: [
                // Replicas replicate from their master over the client port, and CLUSTER MEET starts there; the
                // bootstrap Job forms the cluster through it; backups replicate each master's RDB through it (and
                // a restore MIGRATEs keys in); then the namespace's clients.
                {
                    from: [pods(REDIS_NODE), pods(REDIS_BOOTSTRAP), pods(REDIS_BACKUP), ...clientPeers(settings.redisClients)],
                    ports: tcp(CLIENT_PORT),
                },
                // The cluster bus (gossip, failover votes) is for the nodes alone: a forged message could move slots.
                { from: [pods(REDIS_NODE)], ports: tcp(BUS_PORT) },
                // Published on a NodePort (kind maps it to the host's loopback) only when bss:redis.hostAccess asks.
                ...(spec.redis.hostAccess ? [anywhere(CLIENT_PORT)] : []),
                ...monitoring(settings, METRICS_PORT),
            ],
            egress: [{ to: [pods(REDIS_NODE)], ports: tcp(CLIENT_PORT, BUS_PORT) }],
        }),
        ...workload("redis-cluster-bootstrap", { matchLabels: REDIS_BOOTSTRAP }, {
            egress: [{ to: [pods(REDIS_NODE)], ports: tcp(CLIENT_PORT) }],
        }),
        ...workload("redis-backup", { matchLabels: REDIS_BACKUP }, {
            egress: [{ to: [pods(REDIS_NODE)], ports: tcp(CLIENT_PORT) }],
        }),
        ...workload("redis-clients", { matchLabels: { ...settings.redisClients.podLabels } }, {
            egress: [{ to: [pods(REDIS_NODE)], ports: tcp(CLIENT_PORT) }],
        }),

        ...workload("akhq", { matchLabels: AKHQ }, {
            ingress: [
                // Kong's /akhq route; a NodePort Service (dev: kind maps it to the host's loopback) from anywhere.
                spec.akhq.serviceType === "NodePort" ? anywhere(AKHQ_PORTS.http) : { from: [pods(KONG)], ports: tcp(AKHQ_PORTS.http) },
                // Health and prometheus live on the management port: probes come from the node, scrapes from monitoring.
                ...monitoring(settings, AKHQ_PORTS.management),
            ],
            egress: [{ to: [pods(KAFKA)], ports: tcp(KAFKA_PORTS.internal) }],
        }),

        ...workload("kong", { matchLabels: KONG }, {
            // No rule names the Admin API (8001/8444): no pod and no address may open it. Operators reach it
            // through `kubectl port-forward`, which does not cross the pod network.
            ingress: [
                spec.kong.proxyServiceType === "ClusterIP"
                    // Exposed inside the cluster only: every pod of every namespace, nothing from outside.
                    ? { from: [{ namespaceSelector: {} }], ports: tcp(kongPorts.proxyHttp, kongPorts.proxyTls) }
                    // A NodePort or LoadBalancer Service: the proxy is the front door, from anywhere.
                    : anywhere(kongPorts.proxyHttp, kongPorts.proxyTls),
                ...monitoring(settings, kongPorts.status),
            ],
            egress: kongEgress(upstreams, namespace, akhqHost),
        }),
    ];

    if (otherLocalUpstreams(upstreams, namespace, akhqHost).length > 0) {
        // Kong's upstreams in this namespace are someone else's pods: whatever their labels and ports, they accept
        // Kong. This stack's own workloads are left out; each names what it accepts above.
        policies.push(...workload("kong-upstreams", OTHER_PODS, { ingress: [{ from: [pods(KONG)] }] }));
    }
    return policies;
}
