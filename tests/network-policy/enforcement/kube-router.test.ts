/**
 * The model of kube-router v2.1.0's enforcement (kube-router.ts) on hand-made policies: where it leaks beyond the
 * NetworkPolicy semantics, and that it does not where the policies give each direction its own object.
 */
import type { NetworkPolicyManifest } from "../../../components/network-policy/policies";
import { Endpoint, reachability } from "../../helpers/reachability";
import { kubeRouterConnection, kubeRouterReachability } from "./kube-router";

const policy = (name: string, app: string, spec: Partial<NetworkPolicyManifest["spec"]>): NetworkPolicyManifest => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: "ns", labels: {} },
    spec: { podSelector: { matchLabels: { app } }, policyTypes: [], ...spec },
});
const pod = (name: string, app: string, ip: string): Endpoint => ({
    name, namespace: "ns", labels: { app }, ip, ports: [80, 90].map((port) => ({ port, protocol: "TCP" })),
});
const [a1, a2, b] = [pod("a1", "a", "10.0.0.1"), pod("a-2", "a", "10.0.0.2"), pod("bbb", "b", "10.0.0.3")];
const port80 = a2.ports[0];
const port90 = a2.ports[1];

describe("kube-router v2.1.0 against the NetworkPolicy semantics", () => {
    const both = policy("a", "a", {
        policyTypes: ["Ingress", "Egress"],
        // Port 80 from anywhere; egress only to the a pods on 90.
        ingress: [{ ports: [{ protocol: "TCP", port: 80 }] }],
        egress: [{ to: [{ podSelector: { matchLabels: { app: "a" } } }], ports: [{ protocol: "TCP", port: 90 }] }],
    });

    it("lets a policy with both types open its own 'from anywhere' port to the pods it selects, whatever their egress", () => {
        expect(reachability([both], [a1, a2]).find((r) => r.from === "a1" && r.to === "a-2" && r.port === 80)).toMatchObject({ egress: false, allowed: false });
        expect(kubeRouterConnection([both], {}, a1, a2, port80)).toMatchObject({ egress: true, ingress: true, allowed: true });
    });

    it("lets the same policy's egress rules stand in for the destination's ingress", () => {
        expect(reachability([both], [a1, a2]).find((r) => r.from === "a1" && r.to === "a-2" && r.port === 90)).toMatchObject({ ingress: false, allowed: false });
        expect(kubeRouterConnection([both], {}, a1, a2, port90)).toMatchObject({ ingress: true, allowed: true });
    });

    it("leaks nothing to or from a pod the policy does not select", () => {
        const endpoints = [a1, a2, b];
        const api = reachability([both], endpoints);
        expect(kubeRouterReachability(api, [both], endpoints).filter((r) => r.from === "bbb" || r.to === "bbb")).toEqual(api.filter((r) => r.from === "bbb" || r.to === "bbb"));
    });

    it("enforces exactly the NetworkPolicy semantics when each direction has a policy of its own", () => {
        const split = [
            policy("a-ingress", "a", { policyTypes: ["Ingress"], ingress: both.spec.ingress }),
            policy("a-egress", "a", { policyTypes: ["Egress"], egress: both.spec.egress }),
        ];
        const endpoints = [a1, a2, b];
        const api = reachability(split, endpoints);
        expect(api.some((r) => !r.allowed)).toBe(true);
        expect(kubeRouterReachability(api, split, endpoints)).toEqual(api);
    });

    it("refuses a row whose endpoint or port it does not know", () => {
        expect(() => kubeRouterReachability([{ from: "a1", to: "a-2", port: 443, protocol: "TCP", egress: true, ingress: true, allowed: true }], [both], [a1, a2]))
            .toThrow(/a1 -> a-2:443\/TCP names no endpoint port/);
    });
});
