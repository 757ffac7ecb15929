/**
 * A model of the decisions AKHQ 0.25.1 and the Micronaut 4 runtime inside it take from their merged
 * configuration: which management endpoint answers a visitor who has not logged in, which clusters such a visitor
 * is listed and which actions AKHQ lets them take. AKHQ cannot run here, so the tests evaluate the rendered
 * `application.yml` against this model instead. Each function names the upstream code it follows; docs/akhq.md
 * says which versions of those files were read.
 */

type Obj = Record<string, any>;

/**
 * The part of AKHQ's own `src/main/resources/application.yml` (tchiotludo/akhq) the model needs, as the 0.25
 * line ships it: every endpoint on and none sensitive, log levels writable without login (both unchanged in the
 * newest release), default group `admin`, and the built-in roles and groups, of which there are two, `reader`
 * and `admin`.
 */
export const AKHQ_DEFAULTS: Obj = {
    endpoints: {
        all: { port: 28081, enabled: true, sensitive: false },
        health: { "details-visible": "ANONYMOUS" },
        loggers: { "write-sensitive": false },
    },
    akhq: {
        security: {
            "default-group": "admin",
            roles: {
                reader: [{ resources: ["TOPIC", "TOPIC_DATA", "CONSUMER_GROUP", "CONNECT_CLUSTER", "CONNECTOR", "SCHEMA", "NODE", "ACL", "KSQLDB"], actions: ["READ"] }],
                "topic-admin": [{ resources: ["TOPIC", "TOPIC_DATA"], actions: ["READ", "CREATE", "UPDATE", "DELETE", "READ_CONFIG", "ALTER_CONFIG"] }],
                "topic-data-admin": [{ resources: ["TOPIC", "TOPIC_DATA"], actions: ["READ", "CREATE", "DELETE"] }],
                "consumer-group-admin": [{ resources: ["CONSUMER_GROUP"], actions: ["READ", "UPDATE_OFFSET", "DELETE_OFFSET"] }],
                "connect-cluster-reader": [{ resources: ["CONNECT_CLUSTER"], actions: ["READ"] }],
                "connector-admin": [{ resources: ["CONNECTOR"], actions: ["READ", "CREATE", "DELETE", "UPDATE_STATE"] }],
                "schema-admin": [{ resources: ["SCHEMA"], actions: ["READ", "CREATE", "UPDATE", "DELETE", "DELETE_VERSION"] }],
                "node-admin": [{ resources: ["NODE"], actions: ["READ", "READ_CONFIG", "ALTER_CONFIG"] }],
                "acl-reader": [{ resources: ["ACL"], actions: ["READ"] }],
                "ksqldb-admin": [{ resources: ["READ", "KSQLDB"], actions: ["EXECUTE"] }],
            },
            groups: {
                reader: [{ role: "reader" }],
                admin: ["node-admin", "topic-admin", "topic-data-admin", "consumer-group-admin", "connect-cluster-reader",
                    "connector-admin", "schema-admin", "acl-reader", "ksqldb-admin"].map((role) => ({ role })),
            },
        },
    },
};

/** Every resource and action AKHQ 0.25 secures (`configs/security/Role.java`). */
export const AKHQ_RESOURCES = ["TOPIC", "TOPIC_DATA", "CONSUMER_GROUP", "CONNECT_CLUSTER", "CONNECTOR", "SCHEMA", "NODE", "ACL", "KSQLDB"];
export const AKHQ_ACTIONS = ["READ", "CREATE", "UPDATE", "DELETE", "UPDATE_OFFSET", "DELETE_OFFSET", "READ_CONFIG", "ALTER_CONFIG", "DELETE_VERSION", "UPDATE_STATE", "EXECUTE"];

/**
 * Micronaut's merge of property sources: a later file's keys win, maps merge key by key, a list replaces the
 * list it overrides. `MICRONAUT_CONFIG_FILES` files come after the application.yml inside the jar.
 */
export function merged(...layers: Obj[]): Obj {
    const mergeTwo = (base: unknown, over: unknown): unknown => {
        if (isMap(base) && isMap(over)) {
            const out: Obj = { ...base };
            for (const [key, value] of Object.entries(over)) {
                out[key] = key in base ? mergeTwo(base[key], value) : value;
            }
            return out;
        }
        return over;
    };
    return layers.reduce((acc, layer) => mergeTwo(acc, layer) as Obj, {});
}

const isMap = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);

/** Java's `Pattern.matches` / `String.matches`: the whole input must match. */
export const javaMatches = (regex: string, input: string): boolean => new RegExp(`^(?:${regex})$`).test(input);

/**
 * micronaut-core `management/.../endpoint/EndpointEnabledCondition.java`: `endpoints.<id>.enabled`, else
 * `endpoints.all.enabled`, else the endpoint's own `defaultEnabled`.
 */
export function endpointEnabled(config: Obj, id: string, defaultEnabled = true): boolean {
    return config.endpoints?.[id]?.enabled ?? config.endpoints?.all?.enabled ?? defaultEnabled;
}

/**
 * micronaut-core `management/.../endpoint/EndpointSensitivityProcessor.java` with the method-level `@Sensitive`
 * (`annotation/Sensitive.java`, precedence shown by `EndpointSensitivitySpec.groovy`): a method carrying
 * `@Sensitive(property = p)` is sensitive as `endpoints.<id>.<p>` says (default true), whatever the endpoint's or
 * `all`'s `sensitive`; other methods follow `endpoints.<id>.sensitive`, then `endpoints.all.sensitive`, then the
 * endpoint's `defaultSensitive`.
 */
export function methodSensitive(config: Obj, id: string, endpointDefaultSensitive: boolean, sensitiveProperty?: string): boolean {
    if (sensitiveProperty !== undefined) {
        return config.endpoints?.[id]?.[sensitiveProperty] ?? true;
    }
    return config.endpoints?.[id]?.sensitive ?? config.endpoints?.all?.sensitive ?? endpointDefaultSensitive;
}

/**
 * Management endpoints Micronaut 4 and AKHQ register, with their annotations' `defaultEnabled` and
 * `defaultSensitive` (micronaut-core `management/.../endpoint/**`; prometheus from micronaut-micrometer); the
 * loggers write method is `LoggersEndpoint.setLogLevel`, `@Write @Sensitive(property = "write-sensitive")`.
 */
export const MANAGEMENT_METHODS: { id: string; method: string; defaultEnabled: boolean; defaultSensitive: boolean; sensitiveProperty?: string }[] = [
    { id: "health", method: "GET", defaultEnabled: true, defaultSensitive: false },
    { id: "prometheus", method: "GET", defaultEnabled: true, defaultSensitive: false },
    { id: "info", method: "GET", defaultEnabled: true, defaultSensitive: false },
    { id: "loggers", method: "GET", defaultEnabled: true, defaultSensitive: false },
    { id: "loggers", method: "POST", defaultEnabled: true, defaultSensitive: false, sensitiveProperty: "write-sensitive" },
    { id: "metrics", method: "GET", defaultEnabled: true, defaultSensitive: false },
    { id: "env", method: "GET", defaultEnabled: true, defaultSensitive: true },
    { id: "beans", method: "GET", defaultEnabled: true, defaultSensitive: true },
    { id: "routes", method: "GET", defaultEnabled: true, defaultSensitive: true },
    { id: "threaddump", method: "GET", defaultEnabled: true, defaultSensitive: true },
    { id: "caches", method: "GET", defaultEnabled: true, defaultSensitive: true },
    { id: "refresh", method: "POST", defaultEnabled: true, defaultSensitive: true },
    { id: "stop", method: "POST", defaultEnabled: false, defaultSensitive: true },
];

/**
 * Whether a request that carries no login reaches the endpoint method. Login on: micronaut-security
 * `rules/SensitiveEndpointRule.java` allows a non-sensitive endpoint method to anyone and a sensitive one only
 * to an authenticated user. Login off: micronaut-core `EndpointsFilter.java` (active per
 * `EndpointsFilterCondition.java` once `micronaut.security.enabled` is false) answers 401 for sensitive methods.
 */
export function anonymousReaches(config: Obj, endpoint: (typeof MANAGEMENT_METHODS)[number]): boolean {
    return endpointEnabled(config, endpoint.id, endpoint.defaultEnabled)
        && !methodSensitive(config, endpoint.id, endpoint.defaultSensitive, endpoint.sensitiveProperty);
}

/** A group binding as `configs/security/Group.java` binds it: patterns and clusters default to `[".*"]`. */
function bindings(config: Obj, group: string | undefined): { role: string; patterns: string[]; clusters: string[] }[] {
    const defined: Obj[] = (group !== undefined ? config.akhq?.security?.groups?.[group] : undefined) ?? [];
    return defined.map((b) => ({ role: b.role, patterns: b.patterns ?? [".*"], clusters: b.clusters ?? [".*"] }));
}

/**
 * The groups of a visitor who has not logged in while login is on: `AbstractController.getUserGroups` and
 * `security/rule/AKHQSecurityRule.check` add the `default-group`'s bindings when that group is defined, else none
 * (read at the development head; the most a visitor without login can get, which is what the tests need).
 */
export const anonymousBindings = (config: Obj) => bindings(config, config.akhq?.security?.["default-group"]);

/**
 * `AkhqController.list` (`GET <context>/api/cluster`): the connections whose name matches one of the clusters
 * patterns of the visitor's groups, through `AbstractRepository.isMatchRegex`, which answers true for an empty
 * pattern list: a visitor with no group at all is listed every connection.
 */
export function anonymousClusterList(config: Obj): string[] {
    const patterns = anonymousBindings(config).flatMap((b) => b.clusters);
    return Object.keys(config.akhq?.connections ?? {}).filter((name) => patterns.length === 0 || patterns.some((p) => javaMatches(p, name)));
}

/**
 * `AKHQSecurityRule.check` for a route annotated `@AKHQSecured(resource, action)` on `{cluster}`: allowed when a
 * binding whose clusters pattern matches the cluster names a role granting that resource and action.
 */
export function anonymousMay(config: Obj, cluster: string, resource: string, action: string): boolean {
    const roles: Obj = config.akhq?.security?.roles ?? {};
    return anonymousBindings(config)
        .filter((b) => b.clusters.some((p) => javaMatches(p, cluster)))
        .flatMap((b) => (roles[b.role] ?? []) as Obj[])
        .some((r) => (r.resources ?? []).includes(resource) && (r.actions ?? []).includes(action));
}

/**
 * `AkhqController.getRights` with login off (no `SecurityService` bean): every visitor gets the roles of the
 * `default-group`, and with security off no rule checks any request against them; AKHQ's `@AKHQSecured` routes
 * simply run. What the visitor is, then, is the names of those roles.
 */
export function visitorRolesWithoutLogin(config: Obj): string[] {
    return bindings(config, config.akhq?.security?.["default-group"]).map((b) => b.role);
}
