/**
 * A local HTTP responder that STANDS IN for Kong's proxy. It exists only to test the logic of the `verify`
 * checker (scripts/verify/kong.ts): Kong cannot run on this machine (no container runtime, not installable from
 * the registries here), so nothing in this file says anything about Kong itself.
 *
 * It serves a generated declarative config (components/kong/declarative.ts buildKongConfig) the way Kong's
 * documentation describes the parts the checker looks at: prefix routes and their methods (no match: 404 "no
 * Route matched"), key-auth on the `apikey` header and basic-auth (401 without a valid credential), the
 * rate-limiting plugin's headers after authentication, the global response-transformer's headers on every
 * routed answer (401 included: Kong runs the other plugins' response phases after an auth plugin rejects), and
 * an upstream that is not there (503). A service whose host:port is Kong's Admin listener answers like the
 * Admin API, so a test can route the Admin API through the proxy and see the checker catch it.
 * Tests break a copy of the config (drop a plugin, add a route) to make each fault.
 */
import * as http from "http";
import { AddressInfo } from "net";
import type { KongDeclarativeConfig, KongPlugin, KongRoute } from "../../components/kong/declarative";

export interface KongStandIn {
    /** Base URL of the stand-in proxy, e.g. http://127.0.0.1:41234. */
    url: string;
    /** Requests received, for assertions on what the checker sent (method, path, whether it carried a credential). */
    requests: { path: string; apikey: boolean; authorization: boolean }[];
    close(): Promise<void>;
}

/** Where the stand-in pretends the Admin API listens (the chart's admin containerPort on the pod's loopback). */
export const ADMIN_LISTENER = { host: "localhost", port: 8001 };

type Answer = { status: number; headers: Record<string, string>; body: unknown };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
    return { status, headers, body };
}

/** Kong's prefix match for plain paths: the longest matching prefix wins. */
function matchRoute(config: KongDeclarativeConfig, method: string, path: string): KongRoute | undefined {
    const candidates = config.routes
        .filter((r) => r.methods === undefined || r.methods.includes(method as never))
        .flatMap((r) => r.paths.filter((p) => path.startsWith(p)).map((p) => ({ route: r, length: p.length })));
    return candidates.sort((a, b) => b.length - a.length)[0]?.route;
}

function pluginsOf(config: KongDeclarativeConfig, route: KongRoute): KongPlugin[] {
    return config.plugins.filter((p) => p.enabled && (p.route === route.name || p.service === route.service || (!p.route && !p.service && !p.consumer)));
}

function adminApi(path: string, config: KongDeclarativeConfig): Answer {
    switch (path.replace(/\/+$/, "") || "/") {
        case "/":
            return json(200, { tagline: "Welcome to kong", version: "3.9.3", configuration: { database: "off" } });
        case "/config":
            return json(200, { config: `_format_version: "3.0"\nconsumers: ${JSON.stringify(config.consumers)}\n` });
        case "/routes":
        case "/consumers":
            return json(200, { data: [], next: null });
        case "/status":
            return json(200, { server: { connections_active: 1 }, memory: {}, configuration_hash: "0" });
        default:
            return json(404, { message: "Not found" });
    }
}

function authenticate(plugins: KongPlugin[], config: KongDeclarativeConfig, req: http.IncomingMessage): { consumer?: string; reject?: Answer } {
    const keyAuth = plugins.find((p) => p.name === "key-auth");
    if (keyAuth) {
        const names = (keyAuth.config.key_names as string[] | undefined) ?? ["apikey"];
        const key = names.map((n) => req.headers[n.toLowerCase()]).find((v) => typeof v === "string") as string | undefined;
        if (key === undefined) {
            return { reject: json(401, { message: "No API key found in request" }, { "WWW-Authenticate": 'Key realm="kong"' }) };
        }
        const consumer = config.consumers.find((c) => c.keyauth_credentials?.some((k) => k.key === key));
        return consumer ? { consumer: consumer.username } : { reject: json(401, { message: "Unauthorized" }) };
    }
    const basicAuth = plugins.find((p) => p.name === "basic-auth");
    if (basicAuth) {
        const header = req.headers.authorization ?? "";
        const decoded = header.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString("utf8") : "";
        const [username, password] = [decoded.slice(0, decoded.indexOf(":")), decoded.slice(decoded.indexOf(":") + 1)];
        const consumer = config.consumers.find((c) => c.basicauth_credentials?.some((b) => b.username === username && b.password === password));
        return consumer ? { consumer: consumer.username } : { reject: json(401, { message: "Unauthorized" }, { "WWW-Authenticate": `Basic realm="${basicAuth.config.realm ?? "service"}"` }) };
    }
    return {};
}

/**
 * Serves `config` on 127.0.0.1 at `port` (default: a free one). The config is read at every request, so a test
 * may change the object it passed in between requests.
 */
export async function startKongStandIn(config: KongDeclarativeConfig, port = 0): Promise<KongStandIn> {
    const requests: KongStandIn["requests"] = [];
    const counters = new Map<string, number>();
    const server = http.createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0];
        requests.push({ path, apikey: req.headers.apikey !== undefined, authorization: req.headers.authorization !== undefined });
        const route = matchRoute(config, req.method ?? "GET", path);
        let answer: Answer;
        if (!route) {
            answer = json(404, { message: "no Route matched with those values" });
        } else {
            const plugins = pluginsOf(config, route);
            const { consumer, reject } = authenticate(plugins, config, req);
            const extra: Record<string, string> = {};
            if (reject) {
                answer = reject;
            } else {
                const rateLimit = plugins.find((p) => p.name === "rate-limiting");
                const limit = rateLimit ? Number(rateLimit.config.minute) : undefined;
                const counterKey = `${route.name}/${consumer ?? req.socket.remoteAddress}`;
                const used = (counters.get(counterKey) ?? 0) + 1;
                counters.set(counterKey, used);
                if (limit !== undefined && rateLimit!.config.hide_client_headers !== true) {
                    const remaining = String(Math.max(0, limit - used));
                    Object.assign(extra, {
                        "RateLimit-Limit": String(limit), "RateLimit-Remaining": remaining, "RateLimit-Reset": "60",
                        "X-RateLimit-Limit-Minute": String(limit), "X-RateLimit-Remaining-Minute": remaining,
                    });
                }
                const service = config.services.find((s) => s.name === route.service);
                const upstreamPath = route.strip_path ? path.slice(route.paths.find((p) => path.startsWith(p))!.length) || "/" : path;
                if (limit !== undefined && used > limit) {
                    answer = json(429, { message: "API rate limit exceeded" });
                } else if (service && service.host === ADMIN_LISTENER.host && service.port === ADMIN_LISTENER.port) {
                    answer = adminApi(upstreamPath, config);
                } else {
                    answer = json(503, { message: "name resolution failed" });
                }
            }
            answer.headers = { ...answer.headers, ...extra };
            const transformer = plugins.find((p) => p.name === "response-transformer");
            for (const entry of ((transformer?.config.add as { headers?: string[] } | undefined)?.headers ?? [])) {
                const at = entry.indexOf(":");
                answer.headers[entry.slice(0, at)] = entry.slice(at + 1);
            }
        }
        res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", server: "kong-stand-in", ...answer.headers });
        res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", resolve);
    });
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
