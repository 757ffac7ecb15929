import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadSettings, SettingsError } from "../../settings";
import { chartYamlOfArchive, KONG_CHART_REPO } from "../../settings/kong";

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

    it("has no setting that would expose the Admin API, in any environment", () => {
        for (const environment of ["dev", "prod"]) {
            const problems = problemsOf({ "bss:environment": environment, "bss:kong": { adminServiceType: "NodePort" } });
            expect(problems).toHaveLength(1);
            const known = /^bss:kong\.adminServiceType is not a known setting \(known: (.*)\), got "NodePort"$/.exec(problems[0])?.[1];
            expect(known?.split(", ").filter((key) => /admin/i.test(key))).toEqual([]);
        }
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

describe("bss:kong client addresses", () => {
    it("reads the header and the proxies trusted to set it", () => {
        const { kong } = loadSettings({ "bss:kong": JSON.stringify({ realIpHeader: "proxy_protocol", trustedIps: ["10.0.0.0/16"] }) }, "t");
        expect(kong).toMatchObject({ realIpHeader: "proxy_protocol", trustedIps: ["10.0.0.0/16"] });
    });

    it("refuses one without the other", () => {
        expect(problemsOf({ "bss:kong": { realIpHeader: "X-Forwarded-For" } })).toEqual([
            "bss:kong.trustedIps must list the load balancers or proxies that set bss:kong.realIpHeader (Kong ignores it from anyone else), got nothing",
        ]);
        expect(problemsOf({ "bss:kong": { trustedIps: ["10.0.0.0/8"] } })).toEqual([
            "bss:kong.trustedIps is only read with bss:kong.realIpHeader (the header those proxies set), got [\"10.0.0.0/8\"] and no realIpHeader",
        ]);
    });

    it("refuses trusting every address, an unknown header and a malformed network, one problem each", () => {
        expect(problemsOf({ "bss:kong": { realIpHeader: "X-Forwarded-For", trustedIps: ["10.0.0.0/8", "0.0.0.0/0"] } })).toEqual([
            "bss:kong.trustedIps[1] must not trust every address (any client could then choose the address Kong sees), got \"0.0.0.0/0\"",
        ]);
        expect(problemsOf({ "bss:kong": { realIpHeader: "Forwarded", trustedIps: ["10.0.0.300"] } })).toEqual([
            "bss:kong.realIpHeader must be one of \"X-Forwarded-For\", \"X-Real-IP\", \"proxy_protocol\", got \"Forwarded\"",
            "bss:kong.trustedIps[0] must be an IPv4 address or CIDR block such as \"10.0.0.0/8\", got \"10.0.0.300\"",
        ]);
    });
});

describe("bss:kong.resources.limits.cpu", () => {
    it("must be a CPU quantity, since the worker count is derived from it", () => {
        expect(problemsOf({ "bss:kong": { resources: { limits: { cpu: "1Gi" } } } })).toEqual([
            "bss:kong.resources.limits.cpu must be a CPU quantity such as \"500m\" or \"2\", got \"1Gi\"",
        ]);
        expect(problemsOf({ "bss:kong": { resources: { limits: { cpu: "1500m" } } } })).toEqual([]);
        expect(problemsOf({ "bss:kong": { resources: { limits: { cpu: "1.5" } } } })).toEqual([]);
    });
});

describe("bss:kong.chart", () => {
    let dir: string;
    /** A chart directory and its `helm package`-style .tgz, named and versioned as given. */
    const makeChart = (name: string, version: string): { directory: string; archive: string } => {
        const parent = fs.mkdtempSync(path.join(dir, `${name}-${version}-`));
        const directory = path.join(parent, name);
        fs.mkdirSync(path.join(directory, "templates"), { recursive: true });
        fs.writeFileSync(path.join(directory, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: "3.9"\n`);
        fs.writeFileSync(path.join(directory, "values.yaml"), "{}\n");
        const archive = path.join(parent, `${name}-${version}.tgz`);
        execFileSync("tar", ["-czf", archive, "-C", parent, name]);
        return { directory, archive };
    };
    const chartOf = (chart: unknown, extra: Record<string, unknown> = {}) => loadSettings({ "bss:kong": JSON.stringify({ chart, ...extra }) }, "t").kong.chart;

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-kong-chart-"));
    });
    afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("defaults to the Kong charts repository", () => {
        expect(loadSettings({}, "t").kong.chart).toEqual({ kind: "repository", repo: KONG_CHART_REPO });
        expect(KONG_CHART_REPO).toBe("https://charts.konghq.com");
    });

    it("takes another chart repository URL", () => {
        expect(chartOf("https://charts.mirror.example.com/kong")).toEqual({ kind: "repository", repo: "https://charts.mirror.example.com/kong" });
        expect(chartOf("http://10.1.2.3:8080/charts")).toEqual({ kind: "repository", repo: "http://10.1.2.3:8080/charts" });
    });

    it("takes an oci:// reference without a tag", () => {
        expect(chartOf("oci://registry.example.com:5000/mirror/charts/kong")).toEqual({ kind: "oci", reference: "oci://registry.example.com:5000/mirror/charts/kong" });
    });

    it("takes a local .tgz or chart directory holding kong at the pinned version, absolute or relative to the project", () => {
        const { directory, archive } = makeChart("kong", "3.4.1");
        expect(chartOf(archive)).toEqual({ kind: "local", path: archive });
        expect(chartOf(directory)).toEqual({ kind: "local", path: directory });
        const relative = path.relative(process.cwd(), archive);
        expect(chartOf(relative)).toEqual({ kind: "local", path: relative });
        expect(chartYamlOfArchive(archive)).toContain("name: kong");
    });

    it("holds a local chart to bss:kong.chartVersion", () => {
        const { archive } = makeChart("kong", "3.4.0");
        expect(chartOf(archive, { chartVersion: "3.4.0" })).toEqual({ kind: "local", path: archive });
        expect(problemsOf({ "bss:kong": { chart: archive } })).toEqual([
            `bss:kong.chart must hold kong chart 3.4.1 (bss:kong.chartVersion), got ${JSON.stringify(archive)} (version "3.4.0")`,
        ]);
    });

    it("refuses each bad value with one problem naming the key and the value", () => {
        const { archive: nginx } = makeChart("nginx", "3.4.1");
        const notAChart = path.join(dir, "notes.tgz");
        fs.writeFileSync(notAChart, "not gzip");
        const missing = path.join(dir, "kong-3.4.1.tgz");
        const cases: [unknown, string][] = [
            ["ftp://charts.example.com/kong", "bss:kong.chart must be a chart repository URL (http:// or https://), an oci:// reference or the path of a chart directory or .tgz, got \"ftp://charts.example.com/kong\""],
            ["oci://registry.example.com/charts/kong:3.4.1", "bss:kong.chart must be an oci:// reference such as \"oci://registry.example.com/charts/kong\", without a tag or digest (bss:kong.chartVersion is the version), got \"oci://registry.example.com/charts/kong:3.4.1\""],
            ["oci://", "bss:kong.chart must be an oci:// reference such as \"oci://registry.example.com/charts/kong\", without a tag or digest (bss:kong.chartVersion is the version), got \"oci://\""],
            [42, "bss:kong.chart must be a chart repository URL (https://...), an oci:// reference or the path of a chart directory or .tgz, got 42"],
            [missing, `bss:kong.chart must be a chart repository URL, an oci:// reference or an existing chart directory or .tgz (relative paths start at ${process.cwd()}); nothing is at ${missing}, got ${JSON.stringify(missing)}`],
            [notAChart, `bss:kong.chart must be a chart directory holding Chart.yaml or a packaged chart (.tgz from helm pull), got ${JSON.stringify(notAChart)}`],
            [dir, `bss:kong.chart must be a chart directory holding Chart.yaml or a packaged chart (.tgz from helm pull), got ${JSON.stringify(dir)}`],
            [nginx, `bss:kong.chart must hold the kong chart, got ${JSON.stringify(nginx)} (chart "nginx")`],
        ];
        for (const [chart, problem] of cases) {
            expect(problemsOf({ "bss:kong": { chart } })).toEqual([problem]);
        }
    });

    it("does not judge a local chart by a chartVersion that was itself refused", () => {
        const { archive } = makeChart("kong", "3.4.1");
        expect(problemsOf({ "bss:kong": { chart: archive, chartVersion: "3.4" } })).toEqual([
            "bss:kong.chartVersion must be an exact chart version such as \"3.4.1\", got \"3.4\"",
        ]);
    });
});

describe("bss:kongApiKeys", () => {
    it("refuses one key for two consumers, without showing it", () => {
        const shared = "same-key-for-two-consumers-000000";
        const found = problemsOf({ "bss:kongApiKeys": { "bss-frontend": shared, "bss-partner": shared } }).join("\n");
        expect(found).toBe("bss:kongApiKeys must be set as a secret (pulumi config set --secret --path 'bss:kongApiKeys.bss-frontend' ...), got a plain value\n"
            + "bss:kongApiKeys.bss-partner must differ from the key of bss:kongApiKeys.bss-frontend, got the same value");
        expect(found).not.toContain(shared);
    });

    it("takes two keys for a consumer during a rotation, in order, and refuses a third or a repeated one", () => {
        const current = "current-frontend-key-0000000000";
        const next = "next-frontend-key-00000000000000";
        const settings = loadSettings({ "bss:kongApiKeys": JSON.stringify({ "bss-frontend": [current, next] }) }, "prod", new Set(["bss:kongApiKeys"]));
        expect(settings.secrets.kongApiKeys["bss-frontend"]!.map((key) => key.reveal())).toEqual([current, next]);

        const found = problemsOf({ "bss:kongApiKeys": { "bss-frontend": [current, next, "third-frontend-key-000000000000"], "bss-mobile": [current, current] } });
        expect(found).toContain("bss:kongApiKeys.bss-frontend must be one key, or a list of two during a rotation (the current key, then the next), got a list of 3");
        expect(found).toContain("bss:kongApiKeys.bss-mobile[1] must differ from the key of bss:kongApiKeys.bss-mobile[0], got the same value");
        expect(found.join("\n")).not.toContain(current);
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
