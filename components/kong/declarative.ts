/**
 * Kong's declarative configuration (DB-less), built as typed objects from the settings and serialised with
 * js-yaml. Entities are flat top-level lists that refer to each other by name (routes → services, plugins →
 * routes/services/consumers), which is what the validator in `validate.ts` checks against Kong 3.9's rules.
 */
import * as yaml from "js-yaml";
import { HostPort, KONG_FIXED_PATHS, KongSettings } from "../../settings/kong";
import { KONG_CONSUMERS, KongConsumer } from "../../settings";

export type Protocol = "http" | "https";
export type Method = "GET" | "HEAD" | "PUT" | "PATCH" | "POST" | "DELETE" | "OPTIONS" | "TRACE" | "CONNECT";

export interface KongService {
    name: string;
    protocol: Protocol;
    host: string;
    port: number;
    retries: number;
    connect_timeout: number;
    read_timeout: number;
    write_timeout: number;
    tags: string[];
}

export interface KongRoute {
    name: string;
    service: string;
    protocols: Protocol[];
    paths: string[];
    methods?: Method[];
    strip_path: boolean;
    preserve_host: boolean;
    path_handling: "v0" | "v1";
    https_redirect_status_code: 426 | 301 | 302 | 307 | 308;
    tags: string[];
}

export interface ActiveHealthcheck {
    type: "http" | "https" | "tcp";
    http_path: string;
    timeout: number;
    concurrency: number;
    healthy: { interval: number; successes: number; http_statuses: number[] };
    unhealthy: { interval: number; http_failures: number; tcp_failures: number; timeouts: number; http_statuses: number[] };
}

export interface PassiveHealthcheck {
    type: "http" | "https" | "tcp";
    healthy: { successes: number; http_statuses: number[] };
    unhealthy: { http_failures: number; tcp_failures: number; timeouts: number; http_statuses: number[] };
}

export interface KongUpstream {
    name: string;
    algorithm: "round-robin" | "least-connections" | "consistent-hashing" | "latency";
    slots: number;
    healthchecks: { active: ActiveHealthcheck; passive: PassiveHealthcheck; threshold: number };
    targets: { target: string; weight: number }[];
    tags: string[];
}

export interface KongConsumerEntity {
    username: string;
    keyauth_credentials?: { key: string }[];
    basicauth_credentials?: { username: string; password: string }[];
    tags: string[];
}

export interface KongPlugin {
    name: string;
    /** Unique per config: tells instances of one plugin apart in the Admin API and in logs. */
    instance_name: string;
    route?: string;
    service?: string;
    consumer?: string;
    enabled: boolean;
    protocols: Protocol[];
    config: Record<string, unknown>;
    tags: string[];
}

export interface KongDeclarativeConfig {
    _format_version: "3.0";
    _transform: boolean;
    services: KongService[];
    routes: KongRoute[];
    upstreams: KongUpstream[];
    consumers: KongConsumerEntity[];
    plugins: KongPlugin[];
}

/** The consumer whose basic-auth login opens the tool UIs. */
export const OPERATOR_CONSUMER = "bss-operator";
/** Header (and only place) key-auth reads a consumer key from. */
export const API_KEY_HEADER = "apikey";
/** Tag on every entity, so `GET /services?tags=bss` on the Admin API lists exactly ours. */
export const TAG = "bss";

/** Credentials that go into the file; plain strings here, the component passes them in from secret Outputs. */
export interface KongCredentials {
    /** Every key each consumer is accepted with (two during a rotation). */
    apiKeys: Record<KongConsumer, string[]>;
    operatorPassword: string;
}

/** Where AKHQ listens and the path prefix it serves under (the Kong route keeps it: no strip). */
export interface AkhqEndpoint {
    host: string;
    port: number;
    contextPath: string;
}

/** One row of the routing table; also what the README documents. */
export interface RouteSpec {
    path: string;
    service: string;
    methods?: Method[];
    /** `api`: key-auth for the BSS clients; `tool`: basic-auth for operators (browser UIs cannot send a key header). */
    access: "api" | "tool";
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "Strict-Transport-Security": "max-age=31536000",
};

const BACKEND_SERVICE = "bss-backend";
const BACKEND_UPSTREAM = "bss-backend.upstream";

/** Every route Kong serves, in order. Tools keep their prefix: each is configured to serve under it. */
export function routeTable(akhqContextPath: string): RouteSpec[] {
    const [api, grafana, prometheus, jaeger, pghero] = KONG_FIXED_PATHS;
    return [
        { path: api, service: BACKEND_SERVICE, access: "api" },
        { path: grafana, service: "grafana", methods: ["GET", "HEAD", "OPTIONS"], access: "tool" },
        { path: prometheus, service: "prometheus", access: "tool" },
        { path: jaeger, service: "jaeger", access: "tool" },
        { path: pghero, service: "pghero", access: "tool" },
        { path: akhqContextPath, service: "akhq", access: "tool" },
    ];
}

function service(name: string, target: HostPort): KongService {
    return {
        name,
        protocol: "http",
        host: target.host,
        port: target.port,
        retries: 3,
        connect_timeout: 5000,
        read_timeout: 60000,
        write_timeout: 60000,
        tags: [TAG],
    };
}

function backendUpstream(settings: KongSettings): KongUpstream {
    return {
        name: BACKEND_UPSTREAM,
        // No hash_on: next to least-connections Kong would fall back to round-robin without a word.
        algorithm: settings.loadBalancing,
        slots: 10000,
        healthchecks: {
            active: {
                type: "http",
                http_path: "/actuator/health",
                timeout: 2,
                concurrency: 10,
                healthy: { interval: 5, successes: 2, http_statuses: [200] },
                unhealthy: { interval: 5, http_failures: 3, tcp_failures: 3, timeouts: 3, http_statuses: [429, 500, 502, 503, 504] },
            },
            passive: {
                type: "http",
                healthy: { successes: 5, http_statuses: [200, 201, 202, 203, 204, 206, 301, 302, 304] },
                unhealthy: { http_failures: 5, tcp_failures: 3, timeouts: 3, http_statuses: [500, 502, 503, 504] },
            },
            threshold: 0,
        },
        targets: settings.backendTargets.map((t) => ({ target: `${t.host}:${t.port}`, weight: 100 })),
        tags: [TAG],
    };
}

function plugin(name: string, instance: string, scope: { route?: string; service?: string }, config: Record<string, unknown>): KongPlugin {
    return { name, instance_name: instance, ...scope, enabled: true, protocols: ["http", "https"], config, tags: [TAG] };
}

function routePlugins(route: RouteSpec, routeName: string, settings: KongSettings): KongPlugin[] {
    const plugins: KongPlugin[] = [];
    const scope = { route: routeName };
    if (route.access === "api") {
        plugins.push(plugin("key-auth", `${routeName}-key-auth`, scope, {
            key_names: [API_KEY_HEADER],
            key_in_header: true,
            // Keys in query strings end up in access logs and browser histories.
            key_in_query: false,
            key_in_body: false,
            hide_credentials: true,
            run_on_preflight: false,
        }));
        plugins.push(plugin("request-size-limiting", `${routeName}-request-size`, scope, {
            allowed_payload_size: settings.requestSizeLimitMb,
            size_unit: "megabytes",
            require_content_length: false,
        }));
    } else {
        plugins.push(plugin("basic-auth", `${routeName}-basic-auth`, scope, {
            // The tools have logins of their own; Kong's Authorization header must not reach them.
            hide_credentials: true,
            realm: "bss-tools",
        }));
        if (settings.toolAllowedCidrs) {
            plugins.push(plugin("ip-restriction", `${routeName}-ip-restriction`, scope, {
                allow: [...settings.toolAllowedCidrs],
                status: 403,
                message: "Your IP address is not allowed",
            }));
        }
    }
    plugins.push(plugin("rate-limiting", `${routeName}-rate-limiting`, scope, {
        minute: settings.rateLimitPerMinute,
        limit_by: "consumer",
        policy: settings.rateLimitPolicy,
        fault_tolerant: true,
        hide_client_headers: false,
        ...(settings.rateLimitPolicy === "redis" && settings.rateLimitRedis
            ? { redis: { host: settings.rateLimitRedis.host, port: settings.rateLimitRedis.port, timeout: 2000, database: 0 } }
            : {}),
    }));
    return plugins;
}

function globalPlugins(settings: KongSettings): KongPlugin[] {
    const headerList = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}:${value}`);
    const plugins: KongPlugin[] = [
        plugin("cors", "global-cors", {}, {
            origins: [...settings.corsOrigins],
            methods: ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"],
            headers: ["Accept", "Authorization", "Content-Type", API_KEY_HEADER],
            exposed_headers: ["X-RateLimit-Limit-Minute", "X-RateLimit-Remaining-Minute"],
            credentials: false,
            max_age: 3600,
            preflight_continue: false,
        }),
        // `replace` overwrites a header the upstream sent, `add` sets it when the upstream did not:
        // together every proxied response carries exactly our value, never a duplicate.
        plugin("response-transformer", "global-security-headers", {}, {
            replace: { headers: headerList },
            add: { headers: headerList },
        }),
        plugin("prometheus", "global-prometheus", {}, {
            per_consumer: false,
            status_code_metrics: true,
            latency_metrics: true,
            bandwidth_metrics: true,
            upstream_health_metrics: true,
        }),
    ];
    if (settings.httpLogEndpoint) {
        plugins.push(plugin("http-log", "global-http-log", {}, {
            http_endpoint: settings.httpLogEndpoint,
            method: "POST",
            content_type: "application/json",
            timeout: 10000,
            keepalive: 60000,
        }));
    }
    return plugins;
}

/** The route name Kong shows for a path: `/api` → `bss-api`. */
export function routeName(path: string): string {
    return `bss-${path.replace(/^\//, "").replace(/[^a-z0-9]+/g, "-")}`;
}

/**
 * The whole declarative config for one stack.
 * @param settings the stack's Kong settings
 * @param akhq where the AKHQ Service listens and its context path
 * @param credentials consumer keys and the operator password, as plain strings
 */
export function buildKongConfig(settings: KongSettings, akhq: AkhqEndpoint, credentials: KongCredentials): KongDeclarativeConfig {
    const routes = routeTable(akhq.contextPath);
    const backend = backendUpstream(settings);
    const services: KongService[] = [
        service(BACKEND_SERVICE, { host: backend.name, port: settings.backendTargets[0].port }),
        service("grafana", settings.grafana),
        service("prometheus", settings.prometheus),
        service("jaeger", settings.jaeger),
        service("pghero", settings.pghero),
        service("akhq", { host: akhq.host, port: akhq.port }),
    ];
    return {
        _format_version: "3.0",
        // Kong hashes the basic-auth password on load only when transforms are on.
        _transform: true,
        services,
        routes: routes.map((r) => ({
            name: routeName(r.path),
            service: r.service,
            protocols: ["http", "https"],
            paths: [r.path],
            ...(r.methods ? { methods: [...r.methods] } : {}),
            strip_path: false,
            preserve_host: false,
            path_handling: "v0",
            https_redirect_status_code: 426,
            tags: [TAG],
        })),
        upstreams: [backend],
        consumers: [
            ...KONG_CONSUMERS.map((username) => ({ username, keyauth_credentials: credentials.apiKeys[username].map((key) => ({ key })), tags: [TAG] })),
            { username: OPERATOR_CONSUMER, basicauth_credentials: [{ username: OPERATOR_CONSUMER, password: credentials.operatorPassword }], tags: [TAG] },
        ],
        plugins: [...globalPlugins(settings), ...routes.flatMap((r) => routePlugins(r, routeName(r.path), settings))],
    };
}

/** kong.yml text: what the Secret carries and the chart mounts. */
export function renderKongConfig(config: KongDeclarativeConfig): string {
    return yaml.dump(config, { lineWidth: 120, noRefs: true, sortKeys: false });
}
