import { deepMerge, kongChartValues, KONG_POD_SELECTOR, loadBaseValues, splitImage } from "../../components/kong/values";
import { CONFIG_CHECKSUM_ANNOTATION } from "../../components/shared/checksum";
import { kongSettings } from "./fixtures";

const INPUTS = { configSecretName: "kong-declarative-config", configChecksum: "0123abcd" };
type Values = Record<string, any>;

const valuesFor = (kong: Record<string, unknown> = {}, environment: "dev" | "prod" = "prod"): Values =>
    kongChartValues(kongSettings(kong, environment), INPUTS);

describe("deepMerge", () => {
    it("merges maps key by key and lets the override replace scalars and lists", () => {
        const base = { a: { b: 1, c: [1, 2], d: { e: "x" } }, f: "keep" };
        expect(deepMerge(base, { a: { b: 2, c: [3], d: { g: true } } })).toEqual({ a: { b: 2, c: [3], d: { e: "x", g: true } }, f: "keep" });
        expect(base.a.b).toBe(1);
    });

    it("replaces a map with a scalar and a scalar with a map", () => {
        expect(deepMerge({ a: { b: 1 }, c: 1 }, { a: "off", c: { d: 2 } })).toEqual({ a: "off", c: { d: 2 } });
    });
});

describe("splitImage", () => {
    it.each([
        ["kong:3.9.3", { repository: "kong", tag: "3.9.3" }],
        ["registry.example.com:5000/mirror/kong:3.9.3", { repository: "registry.example.com:5000/mirror/kong", tag: "3.9.3" }],
        [`kong@sha256:${"a".repeat(64)}`, { repository: "kong", tag: `sha256:${"a".repeat(64)}` }],
    ])("splits %s", (image, expected) => {
        expect(splitImage(image)).toEqual(expected);
    });
});

describe("base values (charts/kong/values.yaml)", () => {
    const base = loadBaseValues() as Values;

    it("runs DB-less without the ingress controller, which would make the chart ignore dblessConfig", () => {
        expect(base.env).toMatchObject({ database: "off" });
        expect(base.ingressController).toEqual({ enabled: false });
    });

    it("creates no Kong Manager, portal or hybrid-mode Services", () => {
        for (const key of ["manager", "portal", "portalapi", "cluster", "clustertelemetry"]) {
            expect(base[key]).toEqual({ enabled: false });
        }
    });

    it("names every object after release kong", () => {
        expect(base.fullnameOverride).toBe("kong");
    });

    it("serves /metrics on the status port and asks Prometheus to scrape it", () => {
        expect(base.status).toMatchObject({ enabled: true, http: { enabled: true, containerPort: 8100 } });
        expect(base.podAnnotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "8100", "prometheus.io/path": "/metrics" });
    });

    it("reports ready only once a config is loaded", () => {
        expect(base.readinessProbe.httpGet).toMatchObject({ path: "/status/ready", port: "status" });
    });
});

describe("stack values", () => {
    it("pins the image from the settings", () => {
        expect(valuesFor().image).toMatchObject({ repository: "kong", tag: "3.9.3" });
        expect(valuesFor({ image: "kong:3.9.2" }).image).toMatchObject({ repository: "kong", tag: "3.9.2" });
    });

    it("reads the config from the Secret and carries its checksum so pods roll on change", () => {
        const values = valuesFor();
        expect(values.dblessConfig).toEqual({ configMap: "", config: "", secret: "kong-declarative-config" });
        expect(values.podAnnotations[CONFIG_CHECKSUM_ANNOTATION]).toBe("0123abcd");
        expect(values.podAnnotations["prometheus.io/scrape"]).toBe("true");
    });

    it("exposes proxy and Admin API on the fixed nodePorts kind maps to the host's loopback in dev", () => {
        const values = valuesFor({}, "dev");
        expect(values.proxy).toMatchObject({ type: "NodePort", http: { nodePort: 30800, containerPort: 8000 }, tls: { nodePort: 30843, containerPort: 8443 } });
        expect(values.admin).toMatchObject({ enabled: true, type: "NodePort", http: { enabled: true, nodePort: 30801 }, tls: { nodePort: 30844 } });
    });

    it("keeps the Admin API inside the cluster in prod and gives the proxy a load balancer", () => {
        const values = valuesFor();
        expect(values.admin.type).toBe("ClusterIP");
        expect(values.admin.http).not.toHaveProperty("nodePort");
        expect(values.admin.tls).not.toHaveProperty("nodePort");
        expect(values.proxy).toMatchObject({ type: "LoadBalancer", http: { nodePort: 30800 } });
    });

    it("adds a PodDisruptionBudget only above one replica", () => {
        expect(valuesFor({}, "dev")).toMatchObject({ replicaCount: 1, podDisruptionBudget: { enabled: false } });
        expect(valuesFor()).toMatchObject({ replicaCount: 2, podDisruptionBudget: { enabled: true, maxUnavailable: 1 } });
        expect(valuesFor({ replicas: 1 }).podDisruptionBudget).toEqual({ enabled: false });
    });

    it("runs Kong non-root with a restricted security context, requests and limits", () => {
        const values = valuesFor({ resources: { limits: { memory: "2Gi" } } });
        expect(values.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
        expect(values.containerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, readOnlyRootFilesystem: true });
        expect(values.resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } });
    });

    it("spreads Kong pods over nodes: required in prod, preferred in dev", () => {
        expect(valuesFor().affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels).toEqual(KONG_POD_SELECTOR);
        expect(valuesFor({}, "dev").affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    });
});
