import * as yaml from "js-yaml";
import {
    buildKongConfig, KongDeclarativeConfig, KongPlugin, OPERATOR_CONSUMER, renderKongConfig, routeName, SECURITY_HEADERS,
} from "../../components/kong/declarative";
import { KONG_FIXED_PATHS } from "../../settings/kong";
import { AKHQ, CREDENTIALS, kongSettings } from "./fixtures";

function build(kong: Record<string, unknown> = {}, environment: "dev" | "prod" = "prod", akhq = AKHQ): KongDeclarativeConfig {
    return buildKongConfig(kongSettings(kong, environment), akhq, CREDENTIALS);
}

const pluginsOn = (config: KongDeclarativeConfig, route: string): KongPlugin[] => config.plugins.filter((p) => p.route === route);
const globals = (config: KongDeclarativeConfig): KongPlugin[] => config.plugins.filter((p) => !p.route && !p.service && !p.consumer);

describe("routes", () => {
    it("routes each prefix to its service and keeps the prefix (tools serve under it)", () => {
        const config = build();
        expect(config.routes.map((r) => [r.paths, r.service, r.strip_path])).toEqual([
            [["/api"], "bss-backend", false],
            [["/grafana"], "grafana", false],
            [["/prometheus"], "prometheus", false],
            [["/jaeger"], "jaeger", false],
            [["/pghero"], "pghero", false],
            [["/akhq"], "akhq", false],
        ]);
    });

    it("routes exactly the prefixes the settings reserve, plus AKHQ's context path", () => {
        expect(build().routes.map((r) => r.paths[0])).toEqual([...KONG_FIXED_PATHS, "/akhq"]);
    });

    it("lets only GET, HEAD and OPTIONS through to Grafana", () => {
        const grafana = build().routes.find((r) => r.name === "bss-grafana")!;
        expect(grafana.methods).toEqual(["GET", "HEAD", "OPTIONS"]);
        expect(build().routes.filter((r) => r.methods !== undefined).map((r) => r.name)).toEqual(["bss-grafana"]);
    });

    it("routes AKHQ under its own context path", () => {
        const config = build({}, "prod", { ...AKHQ, contextPath: "/kafka-ui" });
        const route = config.routes.find((r) => r.service === "akhq")!;
        expect(route.paths).toEqual(["/kafka-ui"]);
        expect(route.name).toBe(routeName("/kafka-ui"));
        expect(config.services.find((s) => s.name === "akhq")).toMatchObject({ host: AKHQ.host, port: 8080 });
    });

    it("points the tool services at the configured hosts and ports", () => {
        const config = build({ grafana: "grafana.obs:3000", pghero: "pghero.db:8080" });
        expect(config.services.find((s) => s.name === "grafana")).toMatchObject({ host: "grafana.obs", port: 3000 });
        expect(config.services.find((s) => s.name === "pghero")).toMatchObject({ host: "pghero.db", port: 8080 });
    });
});

describe("backend upstream", () => {
    it("balances round-robin by default over the in-cluster backend Service", () => {
        const [upstream] = build().upstreams;
        expect(upstream.algorithm).toBe("round-robin");
        expect(upstream.targets).toEqual([{ target: "bss-backend.bss.svc.cluster.local:8080", weight: 100 }]);
        expect(build().services.find((s) => s.name === "bss-backend")!.host).toBe(upstream.name);
    });

    it("uses least-connections when asked, without any hash_on", () => {
        const [upstream] = build({ loadBalancing: "least-connections", backendTargets: ["a.example:8080", "b.example:9090"] }).upstreams;
        expect(upstream.algorithm).toBe("least-connections");
        expect(Object.keys(upstream).filter((k) => k.startsWith("hash"))).toEqual([]);
        expect(upstream.targets.map((t) => t.target)).toEqual(["a.example:8080", "b.example:9090"]);
    });

    it("checks the Spring Boot health endpoint actively and watches traffic passively", () => {
        const { healthchecks } = build().upstreams[0];
        expect(healthchecks.active).toMatchObject({ type: "http", http_path: "/actuator/health" });
        expect(healthchecks.active.healthy.interval).toBeGreaterThan(0);
        expect(healthchecks.active.unhealthy.interval).toBeGreaterThan(0);
        expect(healthchecks.active.unhealthy.http_failures).toBeGreaterThan(0);
        expect(healthchecks.passive.unhealthy.http_failures).toBeGreaterThan(0);
        expect(healthchecks.passive.unhealthy.tcp_failures).toBeGreaterThan(0);
    });

    it("retries a failed request 3 times", () => {
        expect(build().services.find((s) => s.name === "bss-backend")!.retries).toBe(3);
    });
});

describe("plugins", () => {
    it("limits every route to 1000 requests a minute, counted in each pod by default", () => {
        const config = build();
        for (const route of config.routes) {
            const limit = pluginsOn(config, route.name).find((p) => p.name === "rate-limiting")!;
            expect(limit.config).toMatchObject({ minute: 1000, policy: "local" });
            expect(limit.config.redis).toBeUndefined();
        }
    });

    it("counts in Redis when the redis policy is configured", () => {
        const config = build({ rateLimitPolicy: "redis", rateLimitRedis: "redis-cluster.bss.svc.cluster.local:7000", rateLimitPerMinute: 600 });
        const limits = config.plugins.filter((p) => p.name === "rate-limiting");
        expect(limits).toHaveLength(config.routes.length);
        for (const limit of limits) {
            expect(limit.config).toMatchObject({ minute: 600, policy: "redis", redis: { host: "redis-cluster.bss.svc.cluster.local", port: 7000 } });
        }
    });

    it("requires a consumer key on /api, read from the apikey header only and hidden from the backend", () => {
        const keyAuth = pluginsOn(build(), "bss-api").find((p) => p.name === "key-auth")!;
        expect(keyAuth.config).toMatchObject({ key_names: ["apikey"], key_in_header: true, key_in_query: false, key_in_body: false, hide_credentials: true });
        expect(build().plugins.filter((p) => p.name === "key-auth").map((p) => p.route)).toEqual(["bss-api"]);
    });

    it("puts a basic-auth login in front of every tool UI, and nothing open", () => {
        const config = build();
        for (const route of config.routes.filter((r) => r.name !== "bss-api")) {
            const names = pluginsOn(config, route.name).map((p) => p.name);
            expect(names).toContain("basic-auth");
            expect(names).not.toContain("key-auth");
        }
        expect(config.plugins.filter((p) => p.name === "basic-auth").every((p) => p.config.hide_credentials === true)).toBe(true);
    });

    it("adds ip-restriction to the tool UIs only when allowed networks are configured", () => {
        expect(build().plugins.filter((p) => p.name === "ip-restriction")).toEqual([]);
        const config = build({ toolAllowedCidrs: ["10.0.0.0/8", "192.168.1.7"] });
        const restricted = config.plugins.filter((p) => p.name === "ip-restriction");
        expect(restricted.map((p) => p.route)).toEqual(["bss-grafana", "bss-prometheus", "bss-jaeger", "bss-pghero", "bss-akhq"]);
        expect(restricted[0].config.allow).toEqual(["10.0.0.0/8", "192.168.1.7"]);
    });

    it("allows the configured CORS origins on every route", () => {
        const cors = globals(build({ corsOrigins: ["https://bss.example.com", "https://admin.example.com"] })).find((p) => p.name === "cors")!;
        expect(cors.config.origins).toEqual(["https://bss.example.com", "https://admin.example.com"]);
    });

    it("limits request bodies on /api only", () => {
        const config = build({ requestSizeLimitMb: 25 });
        const limits = config.plugins.filter((p) => p.name === "request-size-limiting");
        expect(limits.map((p) => p.route)).toEqual(["bss-api"]);
        expect(limits[0].config).toMatchObject({ allowed_payload_size: 25, size_unit: "megabytes" });
    });

    it("sets every security header whether or not the upstream sent it (replace, then add)", () => {
        const transformer = globals(build()).find((p) => p.name === "response-transformer")!;
        const expected = ["X-Content-Type-Options:nosniff", "X-Frame-Options:DENY", "X-XSS-Protection:1; mode=block", "Strict-Transport-Security:max-age=31536000"];
        expect(transformer.config.replace).toEqual({ headers: expected });
        expect(transformer.config.add).toEqual({ headers: expected });
        expect(transformer.config.append).toBeUndefined();
        expect(Object.keys(SECURITY_HEADERS)).toHaveLength(4);
    });

    it("exports Prometheus metrics for all traffic", () => {
        const prometheus = build().plugins.filter((p) => p.name === "prometheus");
        expect(prometheus).toHaveLength(1);
        expect(prometheus[0]).not.toHaveProperty("route");
        expect(prometheus[0]).not.toHaveProperty("service");
    });

    it("ships logs with http-log only when a collector is configured", () => {
        expect(build().plugins.filter((p) => p.name === "http-log")).toEqual([]);
        const log = globals(build({ httpLogEndpoint: "http://log-collector.monitoring:8080/kong" })).find((p) => p.name === "http-log")!;
        expect(log.config).toMatchObject({ http_endpoint: "http://log-collector.monitoring:8080/kong", method: "POST" });
    });
});

describe("consumers", () => {
    it("gives each BSS consumer its key and the operator a basic-auth login", () => {
        const { consumers } = build();
        expect(consumers.map((c) => c.username)).toEqual(["bss-frontend", "bss-mobile", "bss-partner", OPERATOR_CONSUMER]);
        expect(consumers[0].keyauth_credentials).toEqual([{ key: CREDENTIALS.apiKeys["bss-frontend"][0] }]);
        expect(consumers[2].keyauth_credentials).toEqual([{ key: CREDENTIALS.apiKeys["bss-partner"][0] }]);
        expect(consumers[3].basicauth_credentials).toEqual([{ username: OPERATOR_CONSUMER, password: CREDENTIALS.operatorPassword }]);
        expect(consumers[3].keyauth_credentials).toBeUndefined();
    });
});

describe("kong.yml", () => {
    it("is YAML of format 3.0 that reads back as the same config", () => {
        const config = build({ httpLogEndpoint: "https://logs.example.com/kong" });
        const text = renderKongConfig(config);
        expect(text.startsWith("_format_version: '3.0'\n")).toBe(true);
        expect(yaml.load(text)).toEqual(config);
    });
});
