/**
 * The real program under Pulumi's mocks: the Kong release it asks for, the config Secret, the generated
 * consumer keys and what the stack exports.
 */
import * as crypto from "crypto";
import * as yaml from "js-yaml";
import { inlineConfig, outputValue, renderIsolated, RenderedStack, stackFile } from "../helpers/render";
import { RenderedResource, SECRET_PLACEHOLDER, StackConfig } from "../../render/render";
import { assertKongAccepts, KONG_CONFIG_SECRET } from "../../components/kong/gateway";
import { KONG_CHART_REPO } from "../../settings/kong";
import { loadSettings } from "../../settings";
import { CONFIG_CHECKSUM_ANNOTATION } from "../../components/shared/checksum";
import { validateKongConfig } from "../../components/kong/validate";

// Each render runs the whole program; on a busy 2-core machine one takes several seconds.
jest.setTimeout(180_000);

const chart = (r: RenderedStack) => r.resources.filter((x) => x.type === "kubernetes:helm.sh/v4:Chart" && x.inputs.chart === "kong");
const configSecret = (r: RenderedStack) => r.resources.find((x) => x.type === "kubernetes:core/v1:Secret" && x.inputs.metadata?.name === KONG_CONFIG_SECRET)?.inputs;
const kongYml = (r: RenderedStack) => yaml.load(configSecret(r)!.stringData["kong.yml"]) as Record<string, any>;

/** Stack config of the dev stack file plus inline overrides. */
function devWith(values: Record<string, unknown>, secretKeys: string[] = []): StackConfig {
    const dev = stackFile("dev");
    const extra = inlineConfig(values, secretKeys);
    return { values: { ...dev.values, ...extra.values }, secretKeys: [...dev.secretKeys, ...extra.secretKeys] };
}

describe.each(["dev", "prod"])("stack %s", (stack) => {
    let r: RenderedStack;
    beforeAll(async () => {
        r = await renderIsolated(stack, stackFile(stack));
    });

    it("installs the pinned kong chart from the Kong charts repository as release kong", () => {
        const [release] = chart(r);
        expect(chart(r)).toHaveLength(1);
        expect(release.inputs).toMatchObject({ name: "kong", chart: "kong", version: "3.4.1", namespace: "bss", repositoryOpts: { repo: KONG_CHART_REPO } });
        expect(KONG_CHART_REPO).toBe("https://charts.konghq.com");
    });

    it("skips the chart's cluster-wide CRDs", () => {
        expect(chart(r)[0].inputs.skipCrds).toBe(true);
    });

    it("keeps the Admin API on the pod's loopback, without a Service", () => {
        expect(chart(r)[0].inputs.values.admin).toEqual({ enabled: false, addresses: ["127.0.0.1", "[::1]"], http: { enabled: true, containerPort: 8001 }, tls: { enabled: false } });
    });

    it("runs DB-less from the config Secret, controller and Kong Manager off", () => {
        const { values } = chart(r)[0].inputs;
        expect(values.ingressController.enabled).toBe(false);
        expect(values.manager.enabled).toBe(false);
        expect(values.env.database).toBe("off");
        expect(values.dblessConfig.secret).toBe(KONG_CONFIG_SECRET);
        expect(values.image).toMatchObject({ repository: "kong", tag: "3.9.3" });
        expect(configSecret(r)!.metadata.namespace).toBe("bss");
        expect(Object.keys(configSecret(r)!.stringData)).toEqual(["kong.yml"]);
    });

    it("annotates the pods with the SHA-256 of the config they run", () => {
        const text = configSecret(r)!.stringData["kong.yml"];
        const digest = crypto.createHash("sha256").update(text).digest("hex");
        expect(chart(r)[0].inputs.values.podAnnotations[CONFIG_CHECKSUM_ANNOTATION]).toBe(digest);
    });

    it("writes a config the Kong 3.9 rules accept", () => {
        // The mock engine gives every generated secret the same placeholder; real keys are 40 random characters.
        const doc = kongYml(r);
        doc.consumers.forEach((c: any, i: number) => (c.keyauth_credentials ?? []).forEach((k: any) => { k.key = `distinct-key-${i}`; }));
        expect(validateKongConfig(doc)).toEqual([]);
    });

    it("generates one key per consumer and the operator password with @pulumi/random", () => {
        const generated = r.resources.filter((x) => x.type === "random:index/randomPassword:RandomPassword" && x.name.startsWith("kong-"));
        expect(generated.map((x) => x.name).sort()).toEqual(["kong-key-bss-frontend", "kong-key-bss-mobile", "kong-key-bss-partner", "kong-operator-password"]);
        expect(generated.every((x) => x.inputs.special === false && x.inputs.length >= 32)).toBe(true);
        const consumers = kongYml(r).consumers;
        expect(consumers.slice(0, 3).map((c: any) => c.keyauth_credentials[0].key)).toEqual([SECRET_PLACEHOLDER, SECRET_PLACEHOLDER, SECRET_PLACEHOLDER]);
    });

    it("exports the keys and the operator login as secrets", async () => {
        expect(await r.exports.kongApiKeys.isSecret).toBe(true);
        expect(await r.exports.kongOperatorCredentials.isSecret).toBe(true);
        expect(Object.keys(await outputValue(r.exports.kongApiKeys))).toEqual(["bss-frontend", "bss-mobile", "bss-partner"]);
        expect(await outputValue(r.exports.kongOperatorCredentials)).toEqual({ username: "bss-operator", password: SECRET_PLACEHOLDER });
    });
});

describe("config changes", () => {
    let base: RenderedStack;
    let again: RenderedStack;
    let changed: RenderedStack;
    beforeAll(async () => {
        base = await renderIsolated("dev", stackFile("dev"));
        again = await renderIsolated("dev", stackFile("dev"));
        changed = await renderIsolated("dev", devWith({ "bss:kong": { corsOrigins: ["https://bss.example.com"] } }));
    });

    const checksum = (r: RenderedStack) => chart(r)[0].inputs.values.podAnnotations[CONFIG_CHECKSUM_ANNOTATION];

    it("keep the checksum while the config is the same and change it with the config", () => {
        expect(checksum(again)).toBe(checksum(base));
        expect(checksum(changed)).not.toBe(checksum(base));
        expect(kongYml(changed).plugins.find((p: any) => p.name === "cors").config.origins).toEqual(["https://bss.example.com"]);
    });
});

describe("bss:kongApiKeys", () => {
    const OVERRIDE = "mobile-key-from-secret-config-0123456789";
    let r: RenderedStack;
    beforeAll(async () => {
        r = await renderIsolated("dev", devWith({ "bss:kongApiKeys": { "bss-mobile": OVERRIDE } }, ["bss:kongApiKeys"]));
    });

    it("replaces the generated key of the named consumer only", async () => {
        const generated = r.resources.filter((x) => x.type === "random:index/randomPassword:RandomPassword" && x.name.startsWith("kong-key-"));
        expect(generated.map((x) => x.name).sort()).toEqual(["kong-key-bss-frontend", "kong-key-bss-partner"]);
        const mobile = kongYml(r).consumers.find((c: any) => c.username === "bss-mobile");
        expect(mobile.keyauth_credentials).toEqual([{ key: OVERRIDE }]);
        expect((await outputValue<Record<string, string>>(r.exports.kongApiKeys))["bss-mobile"]).toBe(OVERRIDE);
        expect(await r.exports.kongApiKeys.isSecret).toBe(true);
    });
});

describe("bss:kong.chart from an OCI registry", () => {
    let r: RenderedStack;
    beforeAll(async () => {
        r = await renderIsolated("dev", devWith({ "bss:kong": { chart: "oci://registry.example.com/charts/kong" } }));
    });

    it("pulls the chart by reference at the pinned version, with no chart repository", () => {
        const oci = r.resources.filter((x) => x.type === "kubernetes:helm.sh/v4:Chart");
        expect(oci.map((x) => x.inputs)).toEqual([expect.objectContaining({ name: "kong", chart: "oci://registry.example.com/charts/kong", version: "3.4.1", skipCrds: true })]);
        expect(oci[0].inputs).not.toHaveProperty("repositoryOpts");
    });
});

describe("invalid Kong settings", () => {
    it("stop the program before any resource is registered", async () => {
        let registered: RenderedResource[] = [];
        await expect(jest.isolateModulesAsync(async () => {
            const { renderProgram } = await import("../../render/render");
            registered = await renderProgram("prod", devWith({ "bss:environment": "prod", "bss:kong": { chart: "./no-such-dir/kong-3.4.1.tgz" } }), () => import("../../index"));
        })).rejects.toThrow(/bss:kong\.chart must be a chart repository URL, an oci:\/\/ reference or an existing chart directory or \.tgz .*got "\.\/no-such-dir\/kong-3\.4\.1\.tgz"/);
        expect(registered).toEqual([]);
    });
});

describe("the component's own check", () => {
    const settings = loadSettings({}, "check").kong;

    it("passes the config of valid settings", () => {
        expect(() => assertKongAccepts({ settings, namespace: "bss", akhq: { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: "/akhq" } })).not.toThrow();
    });

    it("throws with every problem Kong would report, before the component registers anything", () => {
        const args = { settings, namespace: "bss", akhq: { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: "/api" } };
        expect(() => assertKongAccepts(args)).toThrow(/would be refused by Kong 3\.9:\n  - routes\[5\]\.name: name "bss-api" is already used by routes\[0\]\.name/);
    });
});
