/**
 * The Kong checker's logic against a local stand-in (tests/verify/kong-stand-in.ts) that serves the stack's
 * real generated declarative config; Kong itself cannot run here. Each fault is a change to that config.
 */
import { loadSettings } from "../../settings";
import { buildKongConfig, KongDeclarativeConfig } from "../../components/kong/declarative";
import { evaluateKong, kongCheckNames, KongCredentials, looksLikeAdminApi, observeKong } from "../../scripts/verify/kong";
import { ADMIN_LISTENER, KongStandIn, startKongStandIn } from "./kong-stand-in";

const settings = loadSettings({ "bss:environment": "dev" }, "dev");
const API_KEY = "frontend-key-0123456789abcdefghij";
const OPERATOR_PASSWORD = "operator-password-0123456789";
const expected = { kong: settings.kong, akhqContextPath: settings.akhq.contextPath };
const credentials = { apiKey: API_KEY, operatorPassword: OPERATOR_PASSWORD };

function generatedConfig(): KongDeclarativeConfig {
    return buildKongConfig(settings.kong, { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: settings.akhq.contextPath }, {
        apiKeys: { "bss-frontend": [API_KEY], "bss-mobile": ["mobile-key-0123456789abcdefghijkl"], "bss-partner": ["partner-key-0123456789abcdefghijk"] },
        operatorPassword: OPERATOR_PASSWORD,
    });
}

let standIn: KongStandIn;
let config: KongDeclarativeConfig;

beforeEach(async () => {
    config = generatedConfig();
    standIn = await startKongStandIn(config);
});

afterEach(() => standIn.close());

async function rows(creds: KongCredentials = credentials) {
    const result = evaluateKong(expected, await observeKong(standIn.url, expected, creds, 3000));
    return { list: result, by: Object.fromEntries(result.map((r) => [r.check, r])) };
}

describe("Kong checks (against a stand-in serving the generated config)", () => {
    it("pass for the generated config: every route 401 without and not 401 with its credential, headers present, no Admin API", async () => {
        const { list, by } = await rows();
        expect(list.map((r) => r.check)).toEqual(kongCheckNames(settings.akhq.contextPath));
        expect(list.filter((r) => r.status !== "ok")).toEqual([]);
        expect(by["route /api auth"].detail).toBe("401 without a credential, 503 with the API key");
        expect(by["route /akhq auth"].detail).toBe("401 without a credential, 503 with the bss-operator login");
        expect(by["route /api rate-limit headers"].detail).toMatch(/^limit 1000\/minute as declared, \d+ remaining$/);
        // The API key went only to /api, the operator login only to the tool routes (and to the Admin API probes).
        const routed = standIn.requests.filter((r) => !["/", "/config", "/routes", "/consumers", "/status", "/admin", "/admin/config", "/kong-admin"].includes(r.path));
        expect(routed.filter((r) => r.apikey).map((r) => r.path)).toEqual(["/api"]);
        expect(new Set(routed.filter((r) => r.authorization).map((r) => r.path))).toEqual(new Set(["/grafana", "/prometheus", "/jaeger", "/pghero", "/akhq"]));
    });

    it("fail a route that lets anonymous requests through", async () => {
        config.plugins = config.plugins.filter((p) => !(p.name === "basic-auth" && p.route === "bss-grafana"));
        const { by } = await rows();
        expect(by["route /grafana auth"]).toMatchObject({ status: "fail", detail: "503 without a credential, expected 401, 503 with the bss-operator login" });
        expect(by["route /prometheus auth"].status).toBe("ok");
    });

    it("fail a route whose credential is refused", async () => {
        const { by } = await rows({ apiKey: "not-the-key-0123456789abcdef", operatorPassword: OPERATOR_PASSWORD });
        expect(by["route /api auth"]).toMatchObject({ status: "fail", detail: "401 without a credential, 401 with the API key too: the credential is refused" });
    });

    it("fail the credential half, and the rate-limit check, when no credential was given", async () => {
        const { by } = await rows({});
        expect(by["route /api auth"]).toMatchObject({ status: "fail", detail: "401 without a credential, not tried with one: no API key" });
        expect(by["route /api rate-limit headers"].status).toBe("fail");
        expect(by["route /api security headers"].status).toBe("ok");
    });

    it("fail missing or changed security headers, naming header and answer", async () => {
        const transformer = config.plugins.find((p) => p.name === "response-transformer")!;
        transformer.config = { add: { headers: ["X-Content-Type-Options:nosniff", "X-Frame-Options:SAMEORIGIN", "X-XSS-Protection:1; mode=block"] } };
        const { by } = await rows();
        expect(by["route /api security headers"]).toMatchObject({
            status: "fail",
            detail: 'X-Frame-Options "SAMEORIGIN" without a credential (401); Strict-Transport-Security missing without a credential (401); X-Frame-Options "SAMEORIGIN" with a credential (503); Strict-Transport-Security missing with a credential (503)',
        });
    });

    it("fail a route without rate limiting, or with another limit than declared", async () => {
        config.plugins = config.plugins.filter((p) => !(p.name === "rate-limiting" && p.route === "bss-api"));
        config.plugins.find((p) => p.name === "rate-limiting" && p.route === "bss-jaeger")!.config.minute = 50;
        const { by } = await rows();
        expect(by["route /api rate-limit headers"]).toMatchObject({ status: "fail", detail: expect.stringMatching(/^missing ratelimit-limit, .*x-ratelimit-remaining-minute \(answer 503\)$/) });
        expect(by["route /jaeger rate-limit headers"]).toMatchObject({ status: "fail", detail: "X-RateLimit-Limit-Minute 50, declared 1000 (answer 503)" });
    });

    it.each([
        ["an open route", "/admin", []],
        ["a route behind the operator login", "/kong-admin", ["basic-auth"]],
    ])("fail when the Admin API is routed through the proxy (%s)", async (_what, path, auth) => {
        config.services.push({ ...config.services[0], name: "kong-admin", host: ADMIN_LISTENER.host, port: ADMIN_LISTENER.port });
        config.routes.push({ ...config.routes[0], name: "kong-admin", service: "kong-admin", paths: [path], strip_path: true });
        for (const name of auth) {
            config.plugins.push({ ...config.plugins.find((p) => p.name === name)!, route: "kong-admin", instance_name: `kong-admin-${name}` });
        }
        const { by } = await rows();
        expect(by["admin API not reachable through the proxy"]).toMatchObject({
            status: "fail",
            detail: expect.stringContaining(`GET ${path} (${auth.length ? "bss-operator login" : "no credential"}) → 200`),
        });
    });

    it("recognise the Admin API's own answers, and nothing else", () => {
        const answer = (status: number, body: unknown) => ({ status, headers: {}, body: JSON.stringify(body) });
        expect(looksLikeAdminApi(answer(200, { tagline: "Welcome to kong", version: "3.9.3" }))).toBe(true);
        expect(looksLikeAdminApi(answer(200, { config: "_format_version: \"3.0\"\n" }))).toBe(true);
        expect(looksLikeAdminApi(answer(200, { data: [], next: null }))).toBe(true);
        expect(looksLikeAdminApi(answer(404, { message: "no Route matched with those values" }))).toBe(false);
        expect(looksLikeAdminApi(answer(200, { status: "ok" }))).toBe(false);
        expect(looksLikeAdminApi({ status: 200, headers: {}, body: "<html>Grafana</html>" })).toBe(false);
    });

    it("report every Kong check unreachable when the proxy does not answer", async () => {
        await standIn.close();
        const { list } = await rows();
        expect(new Set(list.map((r) => r.status))).toEqual(new Set(["unreachable"]));
        expect(list[0].detail).toMatch(/ECONNREFUSED/);
        standIn = await startKongStandIn(config);
    });
});
