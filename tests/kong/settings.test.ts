import { loadSettings, SettingsError } from "../../settings";

function problemsOf(raw: Record<string, unknown>): string[] {
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    try {
        loadSettings(values, "test");
    } catch (err) {
        if (err instanceof SettingsError) {
            return err.problems;
        }
        throw err;
    }
    return [];
}

describe("bss:kong", () => {
    it("pins chart 3.4.1 and image kong:3.9.3 by default", () => {
        const { kong } = loadSettings({}, "test");
        expect(kong.chartVersion).toBe("3.4.1");
        expect(kong.image).toBe("kong:3.9.3");
        expect(kong.rateLimitPerMinute).toBe(1000);
        expect(kong.rateLimitPolicy).toBe("local");
        expect(kong.toolAllowedCidrs).toBeUndefined();
    });

    it("refuses an Admin API NodePort outside dev", () => {
        expect(problemsOf({ "bss:kong": { adminServiceType: "NodePort" } })).toEqual([
            "bss:kong.adminServiceType must be \"ClusterIP\" outside dev (a NodePort exposes the Admin API on every node), got \"NodePort\"",
        ]);
        expect(problemsOf({ "bss:environment": "dev", "bss:kong": { adminServiceType: "NodePort" } })).toEqual([]);
    });

    it("refuses a Redis endpoint the local policy would silently ignore", () => {
        expect(problemsOf({ "bss:kong": { rateLimitRedis: "redis.bss:6379" } })).toEqual([
            "bss:kong.rateLimitRedis is only read when bss:kong.rateLimitPolicy is \"redis\" (the policy is \"local\"), got \"redis.bss:6379\"",
        ]);
    });

    it("reads allowed tool networks and refuses anything that is not an IPv4 CIDR", () => {
        expect(loadSettings({ "bss:kong": JSON.stringify({ toolAllowedCidrs: ["10.0.0.0/8", "127.0.0.1"] }) }, "t").kong.toolAllowedCidrs).toEqual(["10.0.0.0/8", "127.0.0.1"]);
        expect(problemsOf({ "bss:kong": { toolAllowedCidrs: ["10.0.0.0/40", "office"] } })).toEqual([
            "bss:kong.toolAllowedCidrs[0] must be an IPv4 address or CIDR block such as \"10.0.0.0/8\", got \"10.0.0.0/40\"",
            "bss:kong.toolAllowedCidrs[1] must be an IPv4 address or CIDR block such as \"10.0.0.0/8\", got \"office\"",
        ]);
    });

    it("merges resources over the defaults and reads placement", () => {
        const { kong } = loadSettings({ "bss:kong": JSON.stringify({ resources: { requests: { cpu: "500m" } }, placement: "preferred" }) }, "t");
        expect(kong.resources).toEqual({ requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
        expect(kong.placement).toBe("preferred");
        expect(problemsOf({ "bss:kong": { placement: "anywhere" } })).toEqual(["bss:kong.placement must be one of \"preferred\", \"required\", got \"anywhere\""]);
    });
});

describe("bss:kongApiKeys", () => {
    it("refuses one key for two consumers, without showing it", () => {
        const shared = "same-key-for-two-consumers-000000";
        const found = problemsOf({ "bss:kongApiKeys": { "bss-frontend": shared, "bss-partner": shared } }).join("\n");
        expect(found).toBe("bss:kongApiKeys must be set as a secret (pulumi config set --secret --path 'bss:kongApiKeys.bss-frontend' ...), got a plain value\n"
            + "bss:kongApiKeys.bss-partner must differ from the key of bss-frontend, got the same value");
        expect(found).not.toContain(shared);
    });
});

describe("bss:akhq.contextPath against Kong's routes", () => {
    it("refuses a context path Kong already routes to another service", () => {
        expect(problemsOf({ "bss:akhq": { contextPath: "/grafana" } })).toEqual([
            "bss:akhq.contextPath must differ from Kong's other routes (/api, /grafana, /prometheus, /jaeger, /pghero), got \"/grafana\"",
        ]);
        expect(problemsOf({ "bss:akhq": { contextPath: "/kafka-ui" } })).toEqual([]);
    });
});
