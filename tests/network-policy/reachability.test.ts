/**
 * The evaluator the matrix tests rely on, against the semantics of the NetworkPolicy API reference
 * (networking.k8s.io/v1 NetworkPolicySpec, NetworkPolicyPeer, NetworkPolicyPort) on hand-made policies.
 */
import type { NetworkPolicyManifest } from "../../components/network-policy/policies";
import { cidrContains, connection, Endpoint, EndpointPort, reachability, selectorMatches } from "../helpers/reachability";

type Spec = NetworkPolicyManifest["spec"];
const policy = (namespace: string, spec: Partial<Spec> & Pick<Spec, "podSelector">): NetworkPolicyManifest =>
    ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "p", namespace, labels: {} }, spec } as NetworkPolicyManifest);

const web: Endpoint = { name: "web", namespace: "a", labels: { app: "web" }, ip: "10.0.0.1", ports: [{ port: 80, protocol: "TCP", name: "http" }] };
const db: Endpoint = {
    name: "db", namespace: "a", labels: { app: "db" }, ip: "10.0.0.2",
    ports: [{ port: 5432, protocol: "TCP", name: "pg" }, { port: 9000, protocol: "TCP" }, { port: 9005, protocol: "TCP" }, { port: 53, protocol: "UDP" }],
};
const webElsewhere: Endpoint = { ...web, name: "web-b", namespace: "b", ip: "10.0.1.1" };
const outside: Endpoint = { name: "outside", labels: {}, ip: "198.51.100.7", ports: [{ port: 443, protocol: "TCP" }] };
const namespaces = { a: { team: "red" }, b: { team: "blue" } };

const tcp = (port: number): EndpointPort => ({ port, protocol: "TCP" });
const allowed = (policies: NetworkPolicyManifest[], from: Endpoint, to: Endpoint, port: EndpointPort) => connection(policies, namespaces, from, to, port).allowed;

it("allows everything while no policy selects either end", () => {
    expect(reachability([], [web, db]).every((r) => r.allowed)).toBe(true);
});

it("isolates for ingress only when policyTypes is left out and the policy has no egress rules", () => {
    const ingressOnly = [policy("a", { podSelector: { matchLabels: { app: "db" } } })];
    expect(connection(ingressOnly, namespaces, web, db, tcp(5432))).toMatchObject({ egress: true, ingress: false });
    expect(connection(ingressOnly, namespaces, db, web, tcp(80))).toMatchObject({ egress: true, ingress: true });
    const withEgress = [policy("a", { podSelector: { matchLabels: { app: "db" } }, egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] })];
    expect(connection(withEgress, namespaces, db, web, tcp(80))).toMatchObject({ egress: false, ingress: true });
    expect(connection(withEgress, namespaces, web, db, tcp(5432)).ingress).toBe(false);
});

it("allows the union of every policy selecting a pod", () => {
    const policies = [
        policy("a", { podSelector: {}, policyTypes: ["Ingress"], ingress: [] }),
        policy("a", { podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }] }),
        policy("a", { podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ ipBlock: { cidr: "198.51.100.0/24" } }] }] }),
    ];
    expect(allowed(policies, web, db, tcp(5432))).toBe(true);
    expect(allowed(policies, web, db, tcp(9000))).toBe(false);
    expect(allowed(policies, outside, db, tcp(9000))).toBe(true);
    expect(allowed(policies, db, web, tcp(80))).toBe(false);
});

it("reads podSelector and namespaceSelector in one peer as both, in two peers as either, podSelector alone as the own namespace", () => {
    const both = [policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "blue" } }, podSelector: { matchLabels: { app: "web" } } }] }] })];
    expect(allowed(both, webElsewhere, db, tcp(5432))).toBe(true);
    expect(allowed(both, web, db, tcp(5432))).toBe(false);
    const either = [policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "blue" } } }, { podSelector: { matchLabels: { app: "nothing" } } }] }] })];
    expect(allowed(either, webElsewhere, db, tcp(5432))).toBe(true);
    const own = [policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }] })];
    expect(allowed(own, web, db, tcp(5432))).toBe(true);
    expect(allowed(own, webElsewhere, db, tcp(5432))).toBe(false);
});

it("matches every namespace's pods with an empty namespaceSelector, but no address outside the cluster", () => {
    const policies = [policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ namespaceSelector: {} }] }] })];
    expect(allowed(policies, webElsewhere, db, tcp(5432))).toBe(true);
    expect(allowed(policies, outside, db, tcp(5432))).toBe(false);
});

it("matches ipBlocks by address, pods' addresses included, minus the excepted blocks", () => {
    const policies = [policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.1.0/24"] } }] }] })];
    expect(allowed(policies, web, db, tcp(5432))).toBe(true);
    expect(allowed(policies, webElsewhere, db, tcp(5432))).toBe(false);
    expect(allowed(policies, outside, db, tcp(5432))).toBe(false);
    expect(cidrContains("0.0.0.0/0", "198.51.100.7")).toBe(true);
    expect(cidrContains("10.20.0.5/32", "10.20.0.6")).toBe(false);
});

it("matches ports by number, range, the destination's container-port name and protocol (TCP unless stated)", () => {
    const ports = (p: NonNullable<Spec["ingress"]>[number]["ports"]) => [policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ ports: p }] })];
    expect(allowed(ports([{ port: "pg" }]), web, db, tcp(5432))).toBe(true);
    expect(allowed(ports([{ port: "http" }]), web, db, tcp(5432))).toBe(false);
    expect(allowed(ports([{ port: 9000, endPort: 9010 }]), web, db, tcp(9005))).toBe(true);
    expect(allowed(ports([{ port: 9000 }]), web, db, tcp(9005))).toBe(false);
    expect(allowed(ports([{ port: 53 }]), web, db, { port: 53, protocol: "UDP" })).toBe(false);
    expect(allowed(ports([{ protocol: "UDP" }]), web, db, { port: 53, protocol: "UDP" })).toBe(true);
    expect(allowed(ports([{ protocol: "UDP" }]), web, db, tcp(5432))).toBe(false);
    expect(allowed(ports([]), outside, db, tcp(9000))).toBe(true);
});

it("needs the source's egress as well as the destination's ingress", () => {
    const policies = [
        policy("a", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { app: "db" } } }], ports: [{ port: 5432 }] }] }),
        policy("a", { podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
    ];
    expect(connection(policies, namespaces, web, db, tcp(5432))).toMatchObject({ egress: true, ingress: true, allowed: true });
    expect(connection(policies, namespaces, web, db, tcp(9000))).toMatchObject({ egress: false, ingress: true, allowed: false });
    expect(connection(policies, namespaces, web, outside, tcp(443))).toMatchObject({ egress: false, allowed: false });
});

it("evaluates matchExpressions, NotIn matching pods without the label", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] }, {})).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] }, { app: "db" })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "In", values: ["db", "web"] }] }, { app: "web" })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, {})).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, {})).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "Exists" }] }, { app: "web" })).toBe(false);
});

it("lists one row per destination port and leaves out pairs of two addresses outside the cluster", () => {
    const rows = reachability([], [web, db, outside, { ...outside, name: "outside-2", ip: "198.51.100.8" }]);
    expect(rows.filter((r) => r.to === "db")).toHaveLength(4 * db.ports.length);
    expect(rows.some((r) => r.from.startsWith("outside") && r.to.startsWith("outside"))).toBe(false);
});
