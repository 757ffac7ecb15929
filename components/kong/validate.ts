/**
 * Checks a Kong declarative config (the parsed kong.yml) against the rules Kong 3.9 applies when it loads one
 * in DB-less mode, for every entity and plugin field this project writes: the format version, field names,
 * types, enums and ranges (from `kong/db/schema/entities/*.lua` and `kong/plugins/<name>/schema.lua` of Kong
 * 3.9), path syntax, name uniqueness and the references between entities. Unknown fields are refused, as Kong
 * refuses them. Returns every problem found as "where: what"; an empty list means Kong would accept the file.
 *
 * A few checks go beyond Kong and say so in their message ("project rule"): upstreams are named `*.upstream`
 * so a service host that means an upstream can be told from a DNS name, and no service, upstream or plugin
 * is written without a use. Kong itself cannot run on the build machine; this is the stand-in for
 * `kong config parse`.
 */

type Doc = Record<string, unknown>;

/** A field definition in the spirit of Kong's Lua schemas. */
interface StringField { type: "string"; oneOf?: readonly string[]; check?: (v: string) => string | undefined; required?: boolean }
interface NumberField { type: "integer" | "number"; between?: readonly [number, number]; gt?: number; oneOf?: readonly number[]; required?: boolean }
type Field =
    | StringField
    | NumberField
    | { type: "boolean"; required?: boolean }
    | { type: "array" | "set"; elements: Field; lenMin?: number; required?: boolean }
    | { type: "record"; fields: Record<string, Field>; required?: boolean }
    | { type: "map"; values: Field; required?: boolean };

const MAX_INT = 2 ** 31 - 1;

/** Kong's `typedefs.utf8_name` for entity names: letters, digits and `.-_~`. */
const NAME = /^[A-Za-z0-9._~-]+$/;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Characters RFC 3986 allows in a path, which is what Kong's `typedefs.path` checks. */
const PATH_CHARS = /^[A-Za-z0-9._~!$&'()*+,;=:@\/%-]*$/;

export const HTTP_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"] as const;
/** Open-source Kong's protocols (ws and wss are Enterprise-only). */
export const PROTOCOLS = ["http", "https", "tcp", "tls", "tls_passthrough", "udp", "grpc", "grpcs"] as const;
export const UPSTREAM_ALGORITHMS = ["round-robin", "least-connections", "consistent-hashing", "latency"] as const;
export const HASH_ON = ["none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture"] as const;

/** Plugins bundled with open-source Kong 3.9 (`kong/constants.lua` BUNDLED_PLUGINS). */
export const BUNDLED_PLUGINS: ReadonlySet<string> = new Set([
    "jwt", "acl", "correlation-id", "cors", "oauth2", "tcp-log", "udp-log", "file-log", "http-log", "key-auth", "hmac-auth",
    "basic-auth", "ip-restriction", "request-transformer", "response-transformer", "request-size-limiting", "rate-limiting",
    "response-ratelimiting", "syslog", "loggly", "datadog", "ldap-auth", "statsd", "bot-detection", "aws-lambda",
    "request-termination", "prometheus", "proxy-cache", "session", "acme", "grpc-gateway", "grpc-web", "pre-function",
    "post-function", "azure-functions", "zipkin", "opentelemetry", "ai-proxy", "ai-prompt-decorator", "ai-prompt-template",
    "ai-prompt-guard", "ai-request-transformer", "ai-response-transformer", "standard-webhooks", "redirect",
]);

function hostCheck(v: string): string | undefined {
    return HOSTNAME.test(v) || IPV4.test(v) ? undefined : `must be a valid hostname or IPv4 address, got ${JSON.stringify(v)}`;
}

/** Kong's `typedefs.path`: starts with `/`, only RFC 3986 path characters, well-formed percent-escapes. */
function pathCheck(v: string): string | undefined {
    if (!v.startsWith("/")) {
        return `must start with "/", got ${JSON.stringify(v)}`;
    }
    if (!PATH_CHARS.test(v) || /%(?![0-9A-Fa-f]{2})/.test(v)) {
        return `must contain only RFC 3986 path characters and valid percent-escapes, got ${JSON.stringify(v)}`;
    }
    return undefined;
}

/**
 * Kong's `typedefs.router_path` (traditional and traditional_compatible routers): a plain path, or a regex
 * marked with a leading `~`. JavaScript's RegExp stands in for PCRE: it catches unbalanced groups and bad
 * quantifiers, the mistakes that matter in practice.
 */
function routerPathCheck(v: string): string | undefined {
    if (v.startsWith("~")) {
        try {
            new RegExp(v.slice(1));
            return undefined;
        } catch (e) {
            return `is not a valid regex (${(e as Error).message}), got ${JSON.stringify(v)}`;
        }
    }
    if (!v.startsWith("/")) {
        return `must start with "/" (or "~" for a regex), got ${JSON.stringify(v)}`;
    }
    return pathCheck(v);
}

function urlCheck(v: string): string | undefined {
    const match = /^(https?):\/\/([^/:\s]+)(:([0-9]{1,5}))?(\/\S*)?$/.exec(v);
    if (!match) {
        return `must be an http(s) URL, got ${JSON.stringify(v)}`;
    }
    if (match[4] !== undefined && (Number(match[4]) < 1 || Number(match[4]) > 65535)) {
        return `has a port out of range, got ${JSON.stringify(v)}`;
    }
    return hostCheck(match[2]);
}

function headerValueCheck(v: string): string | undefined {
    const colon = v.indexOf(":");
    if (colon <= 0) {
        return `must be "Name:value", got ${JSON.stringify(v)}`;
    }
    return HEADER_NAME.test(v.slice(0, colon)) ? undefined : `has an invalid header name, got ${JSON.stringify(v)}`;
}

function cidrCheck(v: string): string | undefined {
    const [ip, bits, ...rest] = v.split("/");
    if (rest.length > 0 || !IPV4.test(ip) || (bits !== undefined && !(/^[0-9]{1,2}$/.test(bits) && Number(bits) <= 32))) {
        return `must be an IPv4 address or CIDR block, got ${JSON.stringify(v)}`;
    }
    return undefined;
}

function originCheck(v: string): string | undefined {
    if (v === "*") {
        return undefined;
    }
    return /^https?:\/\/[^\s/]+$/.test(v) ? undefined : `must be "*" or an origin such as "https://app.example.com", got ${JSON.stringify(v)}`;
}

const str = (extra: Omit<StringField, "type"> = {}): Field => ({ type: "string", ...extra });
const int = (between?: readonly [number, number], extra: Omit<NumberField, "type" | "between"> = {}): Field => ({ type: "integer", between, ...extra });
const num = (between?: readonly [number, number], extra: Omit<NumberField, "type" | "between"> = {}): Field => ({ type: "number", between, ...extra });
const bool: Field = { type: "boolean" };
const arr = (elements: Field, lenMin?: number): Field => ({ type: "array", elements, lenMin });
const set = (elements: Field, lenMin?: number): Field => ({ type: "set", elements, lenMin });
const rec = (fields: Record<string, Field>): Field => ({ type: "record", fields });

const tags = set(str({ check: (v) => (/^[\x21-\x2b\x2d\x2e\x30-\x7e]+$/.test(v) ? undefined : `must be printable ASCII except "," and "/", got ${JSON.stringify(v)}`) }));
const port = int([0, 65535]);
const timeout = int([1, MAX_INT - 1]);
const protocolsHttp = set(str({ oneOf: ["grpc", "grpcs", "http", "https"] }), 1);
const httpStatuses = arr(int([100, 999]));
const seconds = num([0, 65535]);
const counter = int([0, 255]);

const SERVICE: Record<string, Field> = {
    name: str({ check: (v) => (NAME.test(v) ? undefined : `must contain only letters, digits and ".-_~", got ${JSON.stringify(v)}`) }),
    protocol: str({ oneOf: PROTOCOLS, required: true }),
    host: str({ check: hostCheck, required: true }),
    port,
    path: str({ check: pathCheck }),
    retries: int([0, 32767]),
    connect_timeout: timeout,
    read_timeout: timeout,
    write_timeout: timeout,
    enabled: bool,
    tags,
};

const ROUTE: Record<string, Field> = {
    name: str({ check: (v) => (NAME.test(v) ? undefined : `must contain only letters, digits and ".-_~", got ${JSON.stringify(v)}`) }),
    service: str({ required: true }),
    protocols: set(str({ oneOf: PROTOCOLS }), 1),
    methods: set(str({ oneOf: HTTP_METHODS })),
    hosts: arr(str({ check: hostCheck })),
    paths: arr(str({ check: routerPathCheck })),
    strip_path: bool,
    preserve_host: bool,
    regex_priority: int([-MAX_INT, MAX_INT]),
    path_handling: str({ oneOf: ["v0", "v1"] }),
    https_redirect_status_code: int(undefined, { oneOf: [426, 301, 302, 307, 308] }),
    request_buffering: bool,
    response_buffering: bool,
    tags,
};

const ACTIVE_HEALTHCHECK = rec({
    type: str({ oneOf: ["tcp", "http", "https", "grpc", "grpcs"] }),
    http_path: str({ check: pathCheck }),
    timeout: seconds,
    concurrency: int([1, 2 ** 31]),
    https_verify_certificate: bool,
    healthy: rec({ interval: seconds, successes: counter, http_statuses: httpStatuses }),
    unhealthy: rec({ interval: seconds, http_failures: counter, tcp_failures: counter, timeouts: counter, http_statuses: httpStatuses }),
});

const PASSIVE_HEALTHCHECK = rec({
    type: str({ oneOf: ["tcp", "http", "https", "grpc", "grpcs"] }),
    healthy: rec({ successes: counter, http_statuses: httpStatuses }),
    unhealthy: rec({ http_failures: counter, tcp_failures: counter, timeouts: counter, http_statuses: httpStatuses }),
});

const UPSTREAM: Record<string, Field> = {
    name: str({ required: true, check: (v) => (HOSTNAME.test(v) && !IPV4.test(v) ? undefined : `must be a valid hostname (no IP address, no port), got ${JSON.stringify(v)}`) }),
    algorithm: str({ oneOf: UPSTREAM_ALGORITHMS }),
    hash_on: str({ oneOf: HASH_ON }),
    hash_fallback: str({ oneOf: HASH_ON }),
    slots: int([10, 2 ** 16]),
    healthchecks: rec({ active: ACTIVE_HEALTHCHECK, passive: PASSIVE_HEALTHCHECK, threshold: num([0, 100]) }),
    targets: arr(rec({
        target: str({ required: true, check: (v) => {
            const at = v.lastIndexOf(":");
            const host = at > 0 ? v.slice(0, at) : v;
            const p = at > 0 ? Number(v.slice(at + 1)) : 8000;
            return hostCheck(host) ?? (Number.isInteger(p) && p >= 1 && p <= 65535 ? undefined : `has an invalid port, got ${JSON.stringify(v)}`);
        } }),
        weight: int([0, 65535]),
        tags,
    })),
    tags,
};

const CONSUMER: Record<string, Field> = {
    username: str(),
    custom_id: str(),
    keyauth_credentials: arr(rec({ key: str({ required: true }), ttl: int([0, 100000000]), tags })),
    basicauth_credentials: arr(rec({ username: str({ required: true }), password: str({ required: true }), tags })),
    tags,
};

/** `config` fields of the plugins this project uses (Kong 3.9 `kong/plugins/<name>/schema.lua`). */
export const PLUGIN_CONFIG: Readonly<Record<string, Record<string, Field>>> = {
    "key-auth": {
        key_names: arr(str({ check: (v) => (HEADER_NAME.test(v) ? undefined : `must be a header name, got ${JSON.stringify(v)}`) }), 1),
        hide_credentials: bool,
        anonymous: str(),
        key_in_header: bool,
        key_in_query: bool,
        key_in_body: bool,
        run_on_preflight: bool,
        realm: str(),
    },
    "basic-auth": {
        anonymous: str(),
        hide_credentials: bool,
        realm: str(),
    },
    "ip-restriction": {
        allow: arr(str({ check: cidrCheck })),
        deny: arr(str({ check: cidrCheck })),
        status: int([100, 599]),
        message: str(),
    },
    "rate-limiting": {
        second: num(undefined, { gt: 0 }),
        minute: num(undefined, { gt: 0 }),
        hour: num(undefined, { gt: 0 }),
        day: num(undefined, { gt: 0 }),
        month: num(undefined, { gt: 0 }),
        year: num(undefined, { gt: 0 }),
        limit_by: str({ oneOf: ["consumer", "credential", "ip", "service", "header", "path", "consumer-group"] }),
        header_name: str(),
        path: str({ check: pathCheck }),
        // DB-less Kong has no database to count in: `cluster` is refused there.
        policy: str({ oneOf: ["local", "redis"] }),
        fault_tolerant: bool,
        hide_client_headers: bool,
        error_code: num(undefined, { gt: 0 }),
        error_message: str(),
        sync_rate: num(),
        redis: rec({
            host: str({ check: hostCheck }),
            port,
            timeout: int([0, MAX_INT]),
            username: str(),
            password: str(),
            database: int(),
            ssl: bool,
            ssl_verify: bool,
            server_name: str(),
        }),
    },
    "request-size-limiting": {
        allowed_payload_size: int(),
        size_unit: str({ oneOf: ["megabytes", "kilobytes", "bytes"] }),
        require_content_length: bool,
    },
    cors: {
        origins: arr(str({ check: originCheck })),
        headers: arr(str()),
        exposed_headers: arr(str()),
        methods: arr(str({ oneOf: HTTP_METHODS })),
        max_age: num(),
        credentials: bool,
        private_network: bool,
        preflight_continue: bool,
    },
    "response-transformer": {
        remove: rec({ headers: arr(str()), json: arr(str()) }),
        rename: rec({ headers: arr(str({ check: headerValueCheck })), json: arr(str()) }),
        replace: rec({ headers: arr(str({ check: headerValueCheck })), json: arr(str()), json_types: arr(str({ oneOf: ["boolean", "number", "string"] })) }),
        add: rec({ headers: arr(str({ check: headerValueCheck })), json: arr(str()), json_types: arr(str({ oneOf: ["boolean", "number", "string"] })) }),
        append: rec({ headers: arr(str({ check: headerValueCheck })), json: arr(str()), json_types: arr(str({ oneOf: ["boolean", "number", "string"] })) }),
    },
    prometheus: {
        per_consumer: bool,
        status_code_metrics: bool,
        ai_metrics: bool,
        latency_metrics: bool,
        bandwidth_metrics: bool,
        upstream_health_metrics: bool,
    },
    "http-log": {
        http_endpoint: str({ required: true, check: urlCheck }),
        method: str({ oneOf: ["POST", "PUT", "PATCH"] }),
        content_type: str({ oneOf: ["application/json", "application/json; charset=utf-8"] }),
        timeout: num(),
        keepalive: num(),
        headers: { type: "map", values: str() },
    },
};

/** Plugins that make no sense on a route without a consumer to identify or act per consumer. */
const NO_CONSUMER_SCOPE = new Set(["key-auth", "basic-auth", "cors", "request-size-limiting", "prometheus", "ip-restriction"]);

const PLUGIN: Record<string, Field> = {
    name: str({ required: true }),
    instance_name: str({ check: (v) => (NAME.test(v) ? undefined : `must contain only letters, digits and ".-_~", got ${JSON.stringify(v)}`) }),
    route: str(),
    service: str(),
    consumer: str(),
    enabled: bool,
    protocols: protocolsHttp,
    tags,
};

const TOP_LEVEL = new Set(["_format_version", "_transform", "services", "routes", "upstreams", "consumers", "plugins"]);

function kindOf(value: unknown): string {
    return Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
}

function checkValue(where: string, value: unknown, field: Field, problems: string[]): void {
    switch (field.type) {
        case "string":
            if (typeof value !== "string" || value.length === 0) {
                problems.push(`${where}: expected a non-empty string, got ${JSON.stringify(value)}`);
                return;
            }
            if (field.oneOf && !field.oneOf.includes(value)) {
                problems.push(`${where}: expected one of: ${field.oneOf.join(", ")}, got ${JSON.stringify(value)}`);
            }
            {
                const bad = field.check?.(value);
                if (bad) {
                    problems.push(`${where}: ${bad}`);
                }
            }
            return;
        case "integer":
        case "number":
            if (typeof value !== "number" || !Number.isFinite(value) || (field.type === "integer" && !Number.isInteger(value))) {
                problems.push(`${where}: expected ${field.type === "integer" ? "an integer" : "a number"}, got ${JSON.stringify(value)}`);
                return;
            }
            if (field.between && (value < field.between[0] || value > field.between[1])) {
                problems.push(`${where}: value should be between ${field.between[0]} and ${field.between[1]}, got ${value}`);
            }
            if (field.gt !== undefined && !(value > field.gt)) {
                problems.push(`${where}: value must be greater than ${field.gt}, got ${value}`);
            }
            if (field.oneOf && !field.oneOf.includes(value)) {
                problems.push(`${where}: expected one of: ${field.oneOf.join(", ")}, got ${value}`);
            }
            return;
        case "boolean":
            if (typeof value !== "boolean") {
                problems.push(`${where}: expected a boolean, got ${JSON.stringify(value)}`);
            }
            return;
        case "array":
        case "set":
            if (!Array.isArray(value)) {
                problems.push(`${where}: expected an array, got ${kindOf(value)}`);
                return;
            }
            if (field.lenMin !== undefined && value.length < field.lenMin) {
                problems.push(`${where}: length must be at least ${field.lenMin}`);
            }
            if (field.type === "set" && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
                problems.push(`${where}: a set must not repeat an element`);
            }
            value.forEach((v, i) => checkValue(`${where}[${i}]`, v, field.elements, problems));
            return;
        case "record":
            checkRecord(where, value, field.fields, problems);
            return;
        case "map":
            if (typeof value !== "object" || value === null || Array.isArray(value)) {
                problems.push(`${where}: expected a map, got ${kindOf(value)}`);
                return;
            }
            for (const [k, v] of Object.entries(value)) {
                checkValue(`${where}.${k}`, v, field.values, problems);
            }
            return;
    }
}

function checkRecord(where: string, value: unknown, fields: Record<string, Field>, problems: string[]): void {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${where}: expected a record, got ${kindOf(value)}`);
        return;
    }
    for (const [name, fieldValue] of Object.entries(value)) {
        const field = fields[name];
        if (!field) {
            problems.push(`${where}.${name}: unknown field`);
            continue;
        }
        checkValue(`${where}.${name}`, fieldValue, field, problems);
    }
    for (const [name, field] of Object.entries(fields)) {
        if (field.required && (value as Doc)[name] === undefined) {
            problems.push(`${where}.${name}: required field missing`);
        }
    }
}

function list(doc: Doc, key: string, problems: string[]): Doc[] {
    const value = doc[key];
    if (value === undefined) {
        return [];
    }
    if (!Array.isArray(value)) {
        problems.push(`${key}: expected an array, got ${kindOf(value)}`);
        return [];
    }
    return value.filter((item, i) => {
        const ok = typeof item === "object" && item !== null && !Array.isArray(item);
        if (!ok) {
            problems.push(`${key}[${i}]: expected a record, got ${kindOf(item)}`);
        }
        return ok;
    }) as Doc[];
}

function checkUnique(where: string, values: { at: string; value: unknown }[], what: string, problems: string[]): void {
    const seen = new Map<string, string>();
    for (const { at, value } of values) {
        if (typeof value !== "string") {
            continue;
        }
        const first = seen.get(value);
        if (first !== undefined) {
            problems.push(`${at}: ${what} ${JSON.stringify(value)} is already used by ${first} (${where} must be unique)`);
        } else {
            seen.set(value, at);
        }
    }
}

const PERIODS = ["second", "minute", "hour", "day", "month", "year"] as const;

/** Entity checks of individual plugins (the `entity_checks` and `custom_validator`s of their schemas). */
function checkPluginRules(where: string, name: string, config: Doc, problems: string[]): void {
    if (name === "rate-limiting") {
        const given = PERIODS.filter((p) => config[p] !== undefined);
        if (given.length === 0) {
            problems.push(`${where}.config: at least one of these fields must be non-empty: ${PERIODS.map((p) => `'config.${p}'`).join(", ")}`);
        }
        for (let i = 0; i < PERIODS.length; i++) {
            for (let j = i + 1; j < PERIODS.length; j++) {
                const lower = config[PERIODS[i]];
                const upper = config[PERIODS[j]];
                if (typeof lower === "number" && typeof upper === "number" && upper < lower) {
                    problems.push(`${where}.config: the limit for ${PERIODS[j]}(${upper}) cannot be lower than the limit for ${PERIODS[i]}(${lower})`);
                }
            }
        }
        const redis = (config.redis ?? {}) as Doc;
        if (config.policy === "redis" && (redis.host === undefined || redis.port === undefined)) {
            problems.push(`${where}.config.redis: host and port are required when 'policy' is 'redis'`);
        }
        if (config.limit_by === "header" && config.header_name === undefined) {
            problems.push(`${where}.config.header_name: required field missing when 'limit_by' is 'header'`);
        }
        if (config.limit_by === "path" && config.path === undefined) {
            problems.push(`${where}.config.path: required field missing when 'limit_by' is 'path'`);
        }
        if (config.sync_rate !== undefined && config.sync_rate !== -1 && config.policy !== "redis") {
            problems.push(`${where}.config.sync_rate: only the 'redis' policy synchronises (value must be -1), got ${JSON.stringify(config.sync_rate)}`);
        }
    }
    if (name === "ip-restriction") {
        const allow = Array.isArray(config.allow) ? config.allow : [];
        const deny = Array.isArray(config.deny) ? config.deny : [];
        if (allow.length === 0 && deny.length === 0) {
            problems.push(`${where}.config: at least one of these fields must be non-empty: 'config.allow', 'config.deny'`);
        }
    }
    if (name === "request-size-limiting" && typeof config.allowed_payload_size === "number" && config.allowed_payload_size < 0) {
        problems.push(`${where}.config.allowed_payload_size: must not be negative, got ${config.allowed_payload_size}`);
    }
}

/**
 * Every rule this project relies on, applied to a parsed kong.yml.
 * @param doc the declarative config as js-yaml (or JSON) parses it
 * @returns one line per problem, "path: problem"; empty when Kong 3.9 would load the file
 */
export function validateKongConfig(doc: unknown): string[] {
    const problems: string[] = [];
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        return [`the declarative config must be a map, got ${kindOf(doc)}`];
    }
    const config = doc as Doc;
    if (config._format_version !== "3.0") {
        problems.push(`_format_version: Kong 3.x reads "3.0" (regex paths need "~"), got ${JSON.stringify(config._format_version)}`);
    }
    if (config._transform !== undefined && typeof config._transform !== "boolean") {
        problems.push(`_transform: expected a boolean, got ${JSON.stringify(config._transform)}`);
    }
    for (const key of Object.keys(config)) {
        if (!TOP_LEVEL.has(key)) {
            problems.push(`${key}: unknown top-level key (this project writes ${[...TOP_LEVEL].join(", ")})`);
        }
    }

    const services = list(config, "services", problems);
    const routes = list(config, "routes", problems);
    const upstreams = list(config, "upstreams", problems);
    const consumers = list(config, "consumers", problems);
    const plugins = list(config, "plugins", problems);

    services.forEach((s, i) => checkRecord(`services[${i}]`, s, SERVICE, problems));
    routes.forEach((r, i) => checkRecord(`routes[${i}]`, r, ROUTE, problems));
    upstreams.forEach((u, i) => checkRecord(`upstreams[${i}]`, u, UPSTREAM, problems));
    consumers.forEach((c, i) => checkRecord(`consumers[${i}]`, c, CONSUMER, problems));
    // A plugin's `config` is checked against that plugin's own schema below.
    plugins.forEach((p, i) => checkRecord(`plugins[${i}]`, Object.fromEntries(Object.entries(p).filter(([k]) => k !== "config")), PLUGIN, problems));

    checkUnique("service names", services.map((s, i) => ({ at: `services[${i}].name`, value: s.name })), "name", problems);
    checkUnique("route names", routes.map((r, i) => ({ at: `routes[${i}].name`, value: r.name })), "name", problems);
    checkUnique("upstream names", upstreams.map((u, i) => ({ at: `upstreams[${i}].name`, value: u.name })), "name", problems);
    checkUnique("consumer usernames", consumers.map((c, i) => ({ at: `consumers[${i}].username`, value: c.username })), "username", problems);
    checkUnique("plugin instance names", plugins.map((p, i) => ({ at: `plugins[${i}].instance_name`, value: p.instance_name })), "instance_name", problems);
    checkUnique("key-auth keys", consumers.flatMap((c, i) => ((c.keyauth_credentials ?? []) as Doc[]).map((k, j) => ({ at: `consumers[${i}].keyauth_credentials[${j}].key`, value: k?.key }))), "key", problems);
    checkUnique("basic-auth usernames", consumers.flatMap((c, i) => ((c.basicauth_credentials ?? []) as Doc[]).map((b, j) => ({ at: `consumers[${i}].basicauth_credentials[${j}].username`, value: b?.username }))), "username", problems);

    const serviceNames = new Set(services.map((s) => s.name));
    const routeNames = new Set(routes.map((r) => r.name));
    const consumerNames = new Set(consumers.map((c) => c.username));
    const upstreamNames = new Set(upstreams.map((u) => u.name));

    consumers.forEach((c, i) => {
        if (c.username === undefined && c.custom_id === undefined) {
            problems.push(`consumers[${i}]: at least one of these fields must be non-empty: 'custom_id', 'username'`);
        }
    });

    routes.forEach((r, i) => {
        if (typeof r.service === "string" && !serviceNames.has(r.service)) {
            problems.push(`routes[${i}].service: no service named ${JSON.stringify(r.service)} in this config`);
        }
        const protocols = (Array.isArray(r.protocols) ? r.protocols : ["http", "https"]) as string[];
        const hasMatcher = ["methods", "hosts", "paths", "headers", "snis"].some((k) => Array.isArray(r[k]) && (r[k] as unknown[]).length > 0);
        if (protocols.some((p) => p === "http" || p === "https") && !hasMatcher) {
            problems.push(`routes[${i}]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http' or 'https'`);
        }
    });

    const usedServices = new Set(routes.map((r) => r.service));
    services.forEach((s, i) => {
        if (typeof s.host === "string" && HOSTNAME.test(s.host) && s.host.endsWith(".upstream") && !upstreamNames.has(s.host)) {
            problems.push(`services[${i}].host: ${JSON.stringify(s.host)} project rule: a host ending in ".upstream" names an upstream, and this config defines none by that name`);
        }
        if (!usedServices.has(s.name)) {
            problems.push(`services[${i}]: service ${JSON.stringify(s.name)} has no route (project rule: Kong never proxies to it)`);
        }
    });
    const usedUpstreams = new Set(services.map((s) => s.host));
    upstreams.forEach((u, i) => {
        if (!usedUpstreams.has(u.name)) {
            problems.push(`upstreams[${i}]: no service has host ${JSON.stringify(u.name)}, so the upstream is never used (project rule)`);
        }
        const algorithm = u.algorithm ?? "round-robin";
        for (const field of ["hash_on", "hash_fallback"]) {
            if (u[field] !== undefined && algorithm !== "consistent-hashing") {
                problems.push(`upstreams[${i}].${field}: only read by algorithm "consistent-hashing" (with ${JSON.stringify(algorithm)} Kong resets the algorithm to round-robin), got ${JSON.stringify(u[field])}`);
            }
        }
        if (!Array.isArray(u.targets) || u.targets.length === 0) {
            problems.push(`upstreams[${i}].targets: project rule: an upstream without targets answers every request with 503`);
        }
        checkUnique(`targets of upstream ${JSON.stringify(u.name)}`, ((u.targets ?? []) as Doc[]).map((t, j) => ({ at: `upstreams[${i}].targets[${j}].target`, value: t?.target })), "target", problems);
    });

    const scopes = new Map<string, string>();
    plugins.forEach((p, i) => {
        const where = `plugins[${i}]`;
        const name = p.name;
        if (typeof name === "string" && !BUNDLED_PLUGINS.has(name)) {
            problems.push(`${where}.name: plugin ${JSON.stringify(name)} is not bundled with open-source Kong 3.9`);
        }
        if (typeof p.route === "string" && !routeNames.has(p.route)) {
            problems.push(`${where}.route: no route named ${JSON.stringify(p.route)} in this config`);
        }
        if (typeof p.service === "string" && !serviceNames.has(p.service)) {
            problems.push(`${where}.service: no service named ${JSON.stringify(p.service)} in this config`);
        }
        if (typeof p.consumer === "string" && !consumerNames.has(p.consumer)) {
            problems.push(`${where}.consumer: no consumer named ${JSON.stringify(p.consumer)} in this config`);
        }
        if (typeof name === "string" && p.consumer !== undefined && NO_CONSUMER_SCOPE.has(name)) {
            problems.push(`${where}.consumer: plugin ${JSON.stringify(name)} cannot be configured on a consumer`);
        }
        const scope = `${String(name)}|${String(p.route ?? "")}|${String(p.service ?? "")}|${String(p.consumer ?? "")}`;
        const first = scopes.get(scope);
        if (first !== undefined) {
            problems.push(`${where}: plugin ${JSON.stringify(name)} is already configured with the same route, service and consumer at ${first}`);
        } else {
            scopes.set(scope, where);
        }
        const schema = typeof name === "string" ? PLUGIN_CONFIG[name] : undefined;
        if (typeof name === "string" && BUNDLED_PLUGINS.has(name) && !schema) {
            problems.push(`${where}.name: the validator has no schema for plugin ${JSON.stringify(name)}: add its Kong 3.9 config fields before using it`);
        }
        if (schema) {
            checkRecord(`${where}.config`, p.config ?? {}, schema, problems);
            if (typeof p.config === "object" && p.config !== null && !Array.isArray(p.config)) {
                checkPluginRules(where, name as string, p.config as Doc, problems);
            }
        }
    });

    return problems;
}
