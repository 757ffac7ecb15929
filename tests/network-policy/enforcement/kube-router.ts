/**
 * What kube-router v2.1.0's firewall enforces, where it differs from the `networking.k8s.io/v1` semantics that
 * tests/helpers/reachability.ts evaluates. Read from its source (github.com/cloudnativelabs/kube-router/v2@v2.1.0,
 * pkg/controllers/netpol):
 *   - a pod's chain jumps to every policy that selects it: with `-d <pod>` for an Ingress-only policy, `-s <pod>`
 *     for an Egress-only one, but with no direction at all for a policy with both types (pod.go,
 *     setupPodNetpolRules, case kubeBothPolicyType);
 *   - a policy's chain holds its ingress rules (`--match-set <its selected pods> dst`, the peers as sources) and
 *     its egress rules (`--match-set <its selected pods> src`, the peers as destinations), each marking what it
 *     matches as allowed (policy.go, processIngressRules, processEgressRules, appendRuleToPolicyChain);
 *   - a packet between two of the node's pods passes the destination's chain and the source's chain, and each
 *     rejects it when nothing there marked it.
 * So when one policy with both types selects the source and the destination, its ingress rules count as the
 * source's egress (a "from anywhere" port of a workload opens to that workload's own pods, whatever their egress
 * says), and its egress rules count as the destination's ingress. Policies with one type each do not leak.
 */
import type { NetworkPolicyManifest } from "../../../components/network-policy/policies";
import {
    connection, Endpoint, EndpointPort, NamespaceLabels, peerMatches, portMatches, Reach, selectorMatches,
} from "../../helpers/reachability";

function hasBothTypes(policy: NetworkPolicyManifest): boolean {
    const types = policy.spec.policyTypes ?? ["Ingress", ...(policy.spec.egress ? ["Egress"] : [])];
    return types.includes("Ingress") && types.includes("Egress");
}

function selects(policy: NetworkPolicyManifest, endpoint: Endpoint): boolean {
    return endpoint.namespace !== undefined && (policy.metadata.namespace ?? "default") === endpoint.namespace
        && selectorMatches(policy.spec.podSelector, endpoint.labels);
}

/** `connection()` as kube-router v2.1.0 enforces it. */
export function kubeRouterConnection(policies: NetworkPolicyManifest[], namespaces: NamespaceLabels, from: Endpoint, to: Endpoint, port: EndpointPort): Reach {
    const api = connection(policies, namespaces, from, to, port);
    const shared = policies.filter((p) => hasBothTypes(p) && selects(p, from) && selects(p, to));
    const egress = api.egress || shared.some((p) => (p.spec.ingress ?? []).some((rule) =>
        (!rule.from || rule.from.length === 0 || rule.from.some((peer) => peerMatches(peer, p.metadata.namespace, from, namespaces)))
        && portMatches(rule.ports, to, port)));
    const ingress = api.ingress || shared.some((p) => (p.spec.egress ?? []).some((rule) =>
        (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, p.metadata.namespace, to, namespaces)))
        && portMatches(rule.ports, to, port)));
    return { ...api, egress, ingress, allowed: egress && ingress };
}

/** The rows `reachability(policies, endpoints, namespaces)` returns, in the same order, as kube-router enforces them. */
export function kubeRouterReachability(rows: Reach[], policies: NetworkPolicyManifest[], endpoints: Endpoint[], namespaces: NamespaceLabels = {}): Reach[] {
    const byName = new Map(endpoints.map((e) => [e.name, e]));
    return rows.map((row) => {
        const from = byName.get(row.from);
        const to = byName.get(row.to);
        const port = to?.ports.find((p) => p.port === row.port && p.protocol === row.protocol);
        if (!from || !to || !port) {
            throw new Error(`row ${row.from} -> ${row.to}:${row.port}/${row.protocol} names no endpoint port`);
        }
        return kubeRouterConnection(policies, namespaces, from, to, port);
    });
}
