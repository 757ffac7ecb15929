import { loadSettings, Settings } from "../../settings";
import { buildNetworkPolicies, kongContainerPorts, NetworkPolicyManifest, urlPort } from "../../components/network-policy/policies";
import { kongDestinations, kongUpstreams, upstreamPlace } from "../../components/network-policy/kong-upstreams";
import { loadBaseValues } from "../../components/kong/values";
import { buildKongConfig } from "../../components/kong/declarative";

const settingsOf = (config: Record<string, unknown> = {}): Settings =>
    loadSettings(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])), "test");

const policiesOf = (config: Record<string, unknown> = {}): NetworkPolicyManifest[] => {
    const s = settingsOf(config);
    const jmxAgentRepository = s.monitoring.enabled ? s.monitoring.jmxAgent.mavenRepository : undefined;
    return buildNetworkPolicies({ namespace: s.namespace, settings: s.networkPolicy, redis: s.redis, akhq: s.akhq, kong: s.kong, jmxAgentRepository });
};
const named = (policies: NetworkPolicyManifest[], name: string) => policies.find((p) => p.metadata.name === name)!;

describe("where Kong connects", () => {
    it("reads services, upstream targets, the rate-limit Redis and the http-log endpoint from the declarative config", () => {
        const s = settingsOf({
            "bss:kong": {
                backendTargets: ["backend-a.bss.svc.cluster.local:8080", "10.1.2.3:9000"],
                rateLimitPolicy: "redis",
                rateLimitRedis: "ratelimit.cache.svc:6379",
                httpLogEndpoint: "http://collector.logging.svc.cluster.local:8088/kong",
                grafana: "grafana.example.com:443",
            },
        });
        const config = buildKongConfig(s.kong, { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: "/akhq" }, {
            apiKeys: { "bss-frontend": ["a"], "bss-mobile": ["b"], "bss-partner": ["c"] },
            operatorPassword: "p",
        });
        expect(kongDestinations(config).map((d) => `${d.host}:${d.port}`).sort()).toEqual([
            "grafana.example.com:443",
            "prometheus-server.monitoring.svc.cluster.local:80",
            "jaeger-query.monitoring.svc.cluster.local:16686",
            "pghero.bss.svc.cluster.local:8080",
            "akhq.bss.svc.cluster.local:8080",
            "backend-a.bss.svc.cluster.local:8080",
            "10.1.2.3:9000",
            "ratelimit.cache.svc:6379",
            "collector.logging.svc.cluster.local:8088",
        ].sort());
    });

    it("takes the scheme's port for an http-log URL without one", () => {
        const s = settingsOf({ "bss:kong": { httpLogEndpoint: "https://logs.example.com/bss" } });
        expect(kongUpstreams("bss", s.kong, s.akhq).filter((u) => u.host === "logs.example.com")).toEqual([{ host: "logs.example.com", port: 443, place: { kind: "outside" } }]);
    });

    it("places a bare name in Kong's namespace, <svc>.<ns>.svc[.cluster.local] in <ns>, an IPv4 literal at itself, any other name outside", () => {
        expect(upstreamPlace("pghero", "bss")).toEqual({ kind: "namespace", namespace: "bss" });
        expect(upstreamPlace("grafana.monitoring.svc.cluster.local", "bss")).toEqual({ kind: "namespace", namespace: "monitoring" });
        expect(upstreamPlace("grafana.monitoring.svc", "bss")).toEqual({ kind: "namespace", namespace: "monitoring" });
        expect(upstreamPlace("10.20.0.5", "bss")).toEqual({ kind: "address", cidr: "10.20.0.5/32" });
        expect(upstreamPlace("grafana.monitoring", "bss")).toEqual({ kind: "outside" });
        expect(upstreamPlace("api.partner.example.com", "bss")).toEqual({ kind: "outside" });
    });
});

describe("the policies", () => {
    it("start with a default deny of both directions for every pod, and stay in the stack's namespace", () => {
        const policies = policiesOf({ "bss:namespace": "telco-core" });
        expect(policies[0].metadata.name).toBe("default-deny");
        expect(policies[0].spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [], egress: [] });
        expect(new Set(policies.map((p) => p.metadata.namespace))).toEqual(new Set(["telco-core"]));
        expect(new Set(policies.map((p) => p.metadata.name)).size).toBe(policies.length);
        // Every policy declares exactly the directions it has rules for, so none isolates a direction by accident.
        for (const p of policies.slice(1)) {
            expect([p.metadata.name, p.spec.policyTypes]).toEqual([p.metadata.name, [...(p.spec.ingress ? ["Ingress"] : []), ...(p.spec.egress ? ["Egress"] : [])]]);
        }
    });

    it("takes Kong's proxy and status ports from the chart values the gateway deploys", () => {
        const base = loadBaseValues() as Record<string, any>;
        expect(kongContainerPorts()).toEqual({ proxyHttp: base.proxy.http.containerPort, proxyTls: base.proxy.tls.containerPort, status: base.status.http.containerPort });
        expect(kongContainerPorts()).toEqual({ proxyHttp: 8000, proxyTls: 8443, status: 8100 });
    });

    it("leaves Kong's egress to in-cluster upstreams open on every port: only the Service port is known, not the pod's", () => {
        const kong = named(policiesOf(), "kong-egress");
        expect(kong.spec.egress).toContainEqual({ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }] });
        expect(kong.spec.egress).toContainEqual({ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "akhq", "app.kubernetes.io/part-of": "bss" } } }], ports: [{ protocol: "TCP", port: 8080 }] });
    });

    it("adds no kong-upstreams policy when Kong has no upstream of its own namespace but AKHQ", () => {
        const elsewhere = { "bss:kong": { backendTargets: ["backend.apps.svc:8080"], pghero: "pghero.db.svc.cluster.local:8080" } };
        expect(policiesOf(elsewhere).map((p) => p.metadata.name)).not.toContain("kong-upstreams-ingress");
        expect(policiesOf().map((p) => p.metadata.name)).toContain("kong-upstreams-ingress");
        expect(named(policiesOf(elsewhere), "kong-egress").spec.egress!.map((r) => r.to)).toEqual([
            [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "akhq", "app.kubernetes.io/part-of": "bss" } } }],
            [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } } }],
            [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "db" } } }],
            [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
        ]);
    });

    it("names no monitoring namespace anywhere when scrapes are off", () => {
        const text = JSON.stringify(policiesOf({ "bss:networkPolicy": { monitoringNamespace: "" }, "bss:kong": { grafana: "grafana.tools.svc:80", prometheus: "prometheus.tools.svc:80", jaeger: "jaeger.tools.svc:80" } }));
        expect(text).not.toContain("monitoring");
        expect(JSON.stringify(policiesOf())).toContain("\"monitoring\"");
    });
});

describe("the brokers' JMX exporter agent", () => {
    const withAgent = (repository: string, monitoring: Record<string, unknown> = {}) =>
        policiesOf({ "bss:monitoring": { ...monitoring, jmxAgent: { mavenRepository: repository } } });

    it("lets the brokers download the jar on the repository's port only, and the monitoring namespace scrape the agent", () => {
        const policies = withAgent("https://maven.internal.example:8443/releases");
        expect(named(policies, "kafka-egress").spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 8443 }] });
        expect(named(policies, "kafka-ingress").spec.ingress).toContainEqual({
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }], ports: [{ protocol: "TCP", port: 9404 }],
        });
    });

    it("opens neither without the agent, nor when monitoring is off", () => {
        for (const policies of [policiesOf(), withAgent("https://maven.internal.example/releases", { enabled: false })]) {
            expect(JSON.stringify(named(policies, "kafka-egress").spec.egress)).not.toContain("0.0.0.0/0");
            expect(JSON.stringify(named(policies, "kafka-ingress").spec.ingress)).not.toContain("9404");
        }
    });

    it("reads the port from the URL: explicit, or the scheme's", () => {
        expect([urlPort("https://repo.example/maven2"), urlPort("http://repo.example/maven2"), urlPort("https://repo.example:9443/m")]).toEqual([443, 80, 9443]);
    });
});
