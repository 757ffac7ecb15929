/**
 * Who may open which port on whom, derived from NetworkPolicy objects alone, with the semantics of
 * `networking.k8s.io/v1` (the API reference and the "Network Policies" concept page):
 *   - a pod is isolated for a direction once any policy of its namespace selects it with that policy type;
 *     `policyTypes` left out means Ingress, plus Egress when the policy has egress rules;
 *   - an isolated pod accepts (or opens) exactly the union of what the rules of its selecting policies allow;
 *   - a rule with no `from`/`to` (or an empty list) matches every peer, with no `ports` every port;
 *   - in one peer, `podSelector` and `namespaceSelector` together mean both, alone `podSelector` means the
 *     policy's own namespace; separate peers are alternatives;
 *   - a port is a number (with `endPort`, a range) or a container-port name of the destination pod, with
 *     protocol TCP unless it says otherwise;
 *   - a connection needs the source's egress and the destination's ingress.
 * `ipBlock` is matched against every address, pods' included, as iptables-based enforcers (kube-router among
 * them) do; the API leaves pod addresses in an ipBlock to the implementation. Two things the model allows that
 * no policy can stop are not listed: traffic from a pod's own node (kubelet probes, masqueraded NodePort
 * traffic) and a pod's traffic to itself.
 *
 * The lead's check on a real cluster runs each row of `reachability()` as a real connection.
 */
import type { LabelSelector, NetworkPolicyManifest, NetworkPolicyPeer, NetworkPolicyPort } from "../../components/network-policy/policies";
import type { RenderedResource } from "../../render/render";

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface EndpointPort {
    port: number;
    protocol: Protocol;
    /** The container port's name, which a policy may use instead of the number. */
    name?: string;
}

/** A pod (one per workload: policies select by labels, so replicas of one template behave alike) or an address. */
export interface Endpoint {
    name: string;
    /** The pod's namespace; undefined for an address outside the cluster, which only ipBlocks can name. */
    namespace?: string;
    labels: Record<string, string>;
    ip: string;
    /** What it listens on. */
    ports: EndpointPort[];
}

export interface Reach {
    from: string;
    to: string;
    port: number;
    protocol: Protocol;
    /** The source may open it (not isolated for egress, or one of its egress rules matches). */
    egress: boolean;
    /** The destination accepts it (not isolated for ingress, or one of its ingress rules matches). */
    ingress: boolean;
    allowed: boolean;
}

/** Labels of each namespace by name; the API server's `kubernetes.io/metadata.name` is added to every one. */
export type NamespaceLabels = Record<string, Record<string, string>>;

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
    if (!selector) {
        return true;
    }
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
        if (labels[key] !== value) {
            return false;
        }
    }
    for (const requirement of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
        const values = requirement.values ?? [];
        const ok = {
            In: has && values.includes(labels[requirement.key]),
            NotIn: !has || !values.includes(labels[requirement.key]),
            Exists: has,
            DoesNotExist: !has,
        }[requirement.operator];
        if (ok === undefined) {
            throw new Error(`unknown selector operator ${requirement.operator}`);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

function ipv4(address: string): number {
    const parts = address.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
        throw new Error(`not an IPv4 address: ${address}`);
    }
    return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function cidrContains(cidr: string, address: string): boolean {
    const [base, bits] = cidr.split("/");
    const prefix = Number(bits ?? 32);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    return ((ipv4(base) & mask) >>> 0) === ((ipv4(address) & mask) >>> 0);
}

function namespaceLabels(namespaces: NamespaceLabels, name: string): Record<string, string> {
    return { ...(namespaces[name] ?? {}), "kubernetes.io/metadata.name": name };
}

export function peerMatches(peer: NetworkPolicyPeer, policyNamespace: string, endpoint: Endpoint, namespaces: NamespaceLabels): boolean {
    if (peer.ipBlock) {
        return cidrContains(peer.ipBlock.cidr, endpoint.ip) && !(peer.ipBlock.except ?? []).some((except) => cidrContains(except, endpoint.ip));
    }
    if (endpoint.namespace === undefined) {
        return false;
    }
    const namespaceOk = peer.namespaceSelector
        ? selectorMatches(peer.namespaceSelector, namespaceLabels(namespaces, endpoint.namespace))
        : endpoint.namespace === policyNamespace;
    return namespaceOk && selectorMatches(peer.podSelector, endpoint.labels);
}

export function portMatches(ports: NetworkPolicyPort[] | undefined, destination: Endpoint, port: EndpointPort): boolean {
    if (!ports || ports.length === 0) {
        return true;
    }
    return ports.some((rule) => {
        if ((rule.protocol ?? "TCP") !== port.protocol) {
            return false;
        }
        if (rule.port === undefined) {
            return true;
        }
        if (typeof rule.port === "string") {
            // A name refers to the destination pod's own container port of that name and protocol.
            return destination.namespace !== undefined && destination.ports.some((p) => p.name === rule.port && p.protocol === port.protocol && p.port === port.port);
        }
        return rule.endPort === undefined ? rule.port === port.port : port.port >= rule.port && port.port <= rule.endPort;
    });
}

function policyTypes(policy: NetworkPolicyManifest): string[] {
    return policy.spec.policyTypes ?? ["Ingress", ...(policy.spec.egress ? ["Egress"] : [])];
}

function selecting(policies: NetworkPolicyManifest[], endpoint: Endpoint, type: "Ingress" | "Egress"): NetworkPolicyManifest[] {
    if (endpoint.namespace === undefined) {
        return [];
    }
    return policies.filter((p) => (p.metadata.namespace ?? "default") === endpoint.namespace
        && policyTypes(p).includes(type)
        && selectorMatches(p.spec.podSelector, endpoint.labels));
}

/** Whether `from` may open `port` on `to`, each direction reported on its own. */
export function connection(policies: NetworkPolicyManifest[], namespaces: NamespaceLabels, from: Endpoint, to: Endpoint, port: EndpointPort): Reach {
    const egressPolicies = selecting(policies, from, "Egress");
    const egress = egressPolicies.length === 0 || egressPolicies.some((p) => (p.spec.egress ?? []).some((rule) =>
        (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, p.metadata.namespace, to, namespaces)))
        && portMatches(rule.ports, to, port)));
    const ingressPolicies = selecting(policies, to, "Ingress");
    const ingress = ingressPolicies.length === 0 || ingressPolicies.some((p) => (p.spec.ingress ?? []).some((rule) =>
        (!rule.from || rule.from.length === 0 || rule.from.some((peer) => peerMatches(peer, p.metadata.namespace, from, namespaces)))
        && portMatches(rule.ports, to, port)));
    return { from: from.name, to: to.name, port: port.port, protocol: port.protocol, egress, ingress, allowed: egress && ingress };
}

/**
 * Every (from, to, port) of the endpoints, for each port the destination listens on. Pairs of two addresses
 * outside the cluster are left out: no NetworkPolicy governs them.
 */
export function reachability(policies: NetworkPolicyManifest[], endpoints: Endpoint[], namespaces: NamespaceLabels = {}): Reach[] {
    const rows: Reach[] = [];
    for (const from of endpoints) {
        for (const to of endpoints) {
            if (from.namespace === undefined && to.namespace === undefined) {
                continue;
            }
            for (const port of to.ports) {
                rows.push(connection(policies, namespaces, from, to, port));
            }
        }
    }
    return rows;
}

/** `to:port` (with `/udp` for UDP) → sorted names of the sources allowed to open it: the shape tests write out. */
export function allowedSources(rows: Reach[]): Record<string, string[]> {
    const table: Record<string, string[]> = {};
    for (const row of rows) {
        const key = `${row.to}:${row.port}${row.protocol === "TCP" ? "" : `/${row.protocol.toLowerCase()}`}`;
        table[key] ??= [];
        if (row.allowed) {
            table[key].push(row.from);
        }
    }
    for (const key of Object.keys(table)) {
        table[key].sort();
    }
    return table;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

function podTemplate(manifest: Record<string, any>): Record<string, any> | undefined {
    if (WORKLOAD_KINDS.has(manifest.kind)) {
        return manifest.spec?.template;
    }
    if (manifest.kind === "CronJob") {
        return manifest.spec?.jobTemplate?.spec?.template;
    }
    return manifest.kind === "Pod" ? manifest : undefined;
}

function containerPorts(podSpec: Record<string, any>): EndpointPort[] {
    return (podSpec?.containers ?? []).flatMap((c: any) => (c.ports ?? []).map((p: any) => ({
        port: p.containerPort,
        protocol: p.protocol ?? "TCP",
        ...(p.name ? { name: p.name } : {}),
    })));
}

/**
 * The pods of a Kong chart release as chart 3.4's templates label them (`kong.metaLabels` plus
 * `app.kubernetes.io/component: app` in deployment.yaml, `extraLabels` and `podLabels` from the values) and
 * the ports its proxy container declares. The Admin API ports are listed whatever the values expose (a
 * loopback-only or disabled listener included): a test must see that no policy lets anybody reach them.
 */
export function kongReleaseEndpoint(resource: RenderedResource, ip: string): Endpoint {
    const values = resource.inputs.values ?? {};
    const port = (name: string, section: Record<string, any> | undefined, chartDefault?: number): EndpointPort[] => {
        const number = section?.containerPort ?? chartDefault;
        return number === undefined ? [] : [{ port: number, protocol: "TCP", name }];
    };
    return {
        name: "kong",
        namespace: resource.inputs.namespace,
        labels: {
            "app.kubernetes.io/name": values.nameOverride ?? "kong",
            "app.kubernetes.io/instance": resource.inputs.name,
            "app.kubernetes.io/managed-by": "Helm",
            "app.kubernetes.io/component": "app",
            ...(values.extraLabels ?? {}),
            ...(values.podLabels ?? {}),
        },
        ip,
        ports: [
            // The chart's own defaults where the values leave a listener out.
            ...port("admin", values.admin?.http, 8001),
            ...port("admin-tls", values.admin?.tls, 8444),
            ...port("proxy", values.proxy?.http),
            ...port("proxy-tls", values.proxy?.tls),
            ...(values.status?.http?.enabled === false ? [] : port("status", values.status?.http)),
        ],
    };
}

const HELM_CHART = "kubernetes:helm.sh/v4:Chart";

/**
 * One endpoint per workload of a render (its pod template's labels and container ports, named after the
 * workload), plus the Kong release's pods. Addresses are made up, one per endpoint, from 10.244.0.0/16.
 */
export function workloadEndpoints(rendered: { manifests: Record<string, any>[]; resources: RenderedResource[] }): Endpoint[] {
    const endpoints: Endpoint[] = [];
    const nextIp = () => `10.244.${Math.floor((endpoints.length + 10) / 250)}.${((endpoints.length + 10) % 250) + 1}`;
    for (const manifest of rendered.manifests) {
        const template = podTemplate(manifest);
        if (!template) {
            continue;
        }
        endpoints.push({
            name: manifest.metadata.name,
            namespace: manifest.metadata.namespace ?? "default",
            labels: { ...(template.metadata?.labels ?? {}) },
            ip: nextIp(),
            ports: containerPorts(template.spec),
        });
    }
    for (const release of rendered.resources.filter((r) => r.type === HELM_CHART && /(^|\/)kong([-.][^/]*)?$/.test(String(r.inputs.chart)))) {
        endpoints.push(kongReleaseEndpoint(release, nextIp()));
    }
    return endpoints;
}

/** The NetworkPolicy objects of a render. */
export function renderedPolicies(rendered: { manifests: Record<string, any>[] }): NetworkPolicyManifest[] {
    return rendered.manifests.filter((m) => m.kind === "NetworkPolicy") as NetworkPolicyManifest[];
}
