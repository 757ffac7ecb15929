import { cpuCores, deepMerge, kongChartValues, KONG_POD_SELECTOR, loadBaseValues, nginxWorkerProcesses, splitImage } from "../../components/kong/values";
import { CONFIG_CHECKSUM_ANNOTATION } from "../../components/shared/checksum";
import { kongSettings } from "./fixtures";
import { chartListenEnv, chartServices } from "./chart-model";

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

    it("exposes the proxy on the fixed nodePorts kind maps to the host's loopback in dev", () => {
        const values = valuesFor({}, "dev");
        expect(values.proxy).toMatchObject({ type: "NodePort", http: { nodePort: 30800, containerPort: 8000 }, tls: { nodePort: 30843, containerPort: 8443 } });
    });

    it("gives the proxy a load balancer in prod", () => {
        expect(valuesFor().proxy).toMatchObject({ type: "LoadBalancer", http: { nodePort: 30800 } });
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

describe.each(["dev", "prod"] as const)("the Admin API of a %s stack, as the chart renders it", (environment) => {
    const values = valuesFor({}, environment);

    it("listens on the pod's loopback only, plain HTTP on 8001", () => {
        expect(chartListenEnv(values).KONG_ADMIN_LISTEN).toBe("127.0.0.1:8001, [::1]:8001");
    });

    it("gets no Service, so no other pod and no node address reaches it", () => {
        expect(values.admin).toMatchObject({ enabled: false, addresses: ["127.0.0.1", "[::1]"] });
        expect(chartServices(values).map((s) => s.name)).toEqual(["kong-proxy"]);
    });

    it("leaves the proxy and the status port (probes, metrics) on every pod address", () => {
        const env = chartListenEnv(values);
        expect(env.KONG_PROXY_LISTEN).toBe("0.0.0.0:8000, [::]:8000, 0.0.0.0:8443 http2 ssl, [::]:8443 http2 ssl");
        expect(env.KONG_STATUS_LISTEN).toBe("0.0.0.0:8100, [::]:8100");
    });
});

describe("nginx worker processes", () => {
    it.each([
        ["500m", 0.5, 1],
        ["1", 1, 1],
        ["1500m", 1.5, 2],
        ["2", 2, 2],
        ["2.5", 2.5, 3],
        ["100m", 0.1, 1],
    ])("a CPU limit of %s (%d cores) gets %d worker(s)", (limit, cores, workers) => {
        expect(cpuCores(limit)).toBe(cores);
        expect(nginxWorkerProcesses(limit)).toBe(workers);
    });

    it("follow the stack's CPU limit in the chart env", () => {
        expect(valuesFor().env.nginx_worker_processes).toBe("1");
        expect(valuesFor({ resources: { limits: { cpu: "2" } } }).env.nginx_worker_processes).toBe("2");
        expect(valuesFor({ resources: { limits: { cpu: "500m" } } }).env.nginx_worker_processes).toBe("1");
        expect(valuesFor({ resources: { limits: { cpu: "1500m" } } }).env.nginx_worker_processes).toBe("2");
    });

    it("are not fixed by the base values", () => {
        expect(loadBaseValues().env).not.toHaveProperty("nginx_worker_processes");
    });
});

describe("client addresses", () => {
    const proxyService = (values: Values) => chartServices(values).find((s) => s.name === "kong-proxy");

    it("keep the client's source address on an exposed proxy when the tool routes have an allow-list", () => {
        for (const proxyServiceType of ["LoadBalancer", "NodePort"]) {
            const values = valuesFor({ proxyServiceType, toolAllowedCidrs: ["203.0.113.0/24"] });
            expect(proxyService(values)).toEqual({ name: "kong-proxy", type: proxyServiceType, externalTrafficPolicy: "Local" });
        }
    });

    it("leave the traffic policy alone without an allow-list, and on a ClusterIP proxy (where the API server refuses it)", () => {
        expect(proxyService(valuesFor())).toEqual({ name: "kong-proxy", type: "LoadBalancer" });
        expect(proxyService(valuesFor({ proxyServiceType: "ClusterIP", toolAllowedCidrs: ["10.0.0.0/8"] }))).toEqual({ name: "kong-proxy", type: "ClusterIP" });
    });

    it("come from X-Forwarded-For only when sent by a trusted proxy, skipping the trusted hops", () => {
        const values = valuesFor({ realIpHeader: "X-Forwarded-For", trustedIps: ["10.0.0.0/8", "192.168.1.10"] });
        expect(values.env).toMatchObject({ real_ip_header: "X-Forwarded-For", trusted_ips: "10.0.0.0/8,192.168.1.10", real_ip_recursive: "on" });
        expect(chartListenEnv(values).KONG_PROXY_LISTEN).toBe("0.0.0.0:8000, [::]:8000, 0.0.0.0:8443 http2 ssl, [::]:8443 http2 ssl");
    });

    it("come from PROXY protocol on both proxy listens when the load balancer sends it", () => {
        const values = valuesFor({ realIpHeader: "proxy_protocol", trustedIps: ["10.0.0.0/8"] });
        expect(values.env).toMatchObject({ real_ip_header: "proxy_protocol", trusted_ips: "10.0.0.0/8", real_ip_recursive: "off" });
        expect(chartListenEnv(values).KONG_PROXY_LISTEN)
            .toBe("0.0.0.0:8000 proxy_protocol, [::]:8000 proxy_protocol, 0.0.0.0:8443 http2 proxy_protocol ssl, [::]:8443 http2 proxy_protocol ssl");
    });

    it("are the connection's source when no header is configured", () => {
        const env = valuesFor().env;
        for (const key of ["real_ip_header", "trusted_ips", "real_ip_recursive"]) {
            expect(env).not.toHaveProperty(key);
        }
    });
});
