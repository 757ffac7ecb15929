import * as yaml from "js-yaml";
import {
    AKHQ_ADMIN_USER, applicationConfig, ApplicationConfigInput, credentialsConfig, javaOptions, kafkaBootstrap, managementPath,
    MATCHES_NOTHING, renderApplicationYml, renderCredentialsYml,
} from "../../components/akhq/config";
import { sha256Hex } from "../../components/shared/checksum";
import {
    AKHQ_ACTIONS, AKHQ_DEFAULTS, AKHQ_RESOURCES, anonymousBindings, anonymousClusterList, anonymousMay, anonymousReaches, javaMatches,
    MANAGEMENT_METHODS, merged, visitorRolesWithoutLogin,
} from "./akhq-model";

const prod: ApplicationConfigInput = { namespace: "bss", contextPath: "/akhq", authEnabled: true };
const dev: ApplicationConfigInput = { ...prod, authEnabled: false };

const parse = (text: string) => yaml.load(text) as Record<string, any>;

/** Every leaf as a dotted path; list items as `[]`; an empty list or map is a leaf too. */
function leafPaths(value: unknown, prefix = ""): string[] {
    if ((Array.isArray(value) && value.length === 0) || (value && typeof value === "object" && Object.keys(value).length === 0)) {
        return [prefix];
    }
    if (Array.isArray(value)) {
        return value.flatMap((item) => leafPaths(item, `${prefix}[]`));
    }
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
    }
    return [prefix];
}

/**
 * Every key the generated files may contain, with where AKHQ 0.25 (Micronaut 4 inside) reads it. Checked in
 * tchiotludo/akhq: docs/configuration/others.md (context-path), docs/configuration/authentifications/README.md
 * (micronaut.security.enabled), basic-auth.md and configs/security/BasicAuth.java (username, password,
 * passwordHash SHA256|BCRYPT, groups), groups.md and JwtSecurityWarning.java (the JWT signing secret, whose
 * built-in default is public), SecurityProperties.java (default-group), application.example.yml (connections),
 * src/main/resources/application.yml (endpoints.all.port 28081, endpoints.loggers.write-sensitive, the roles and
 * groups maps), configs/security/Group.java (a binding's role, patterns, clusters), configs/security/Role.java
 * (a role is a list of resources/actions entries), build.gradle (micronaut-management and
 * micronaut-micrometer-registry-prometheus, which provide the endpoints.* and micronaut.metrics.* keys); in
 * micronaut-core management: EndpointConfiguration.java and EndpointDefaultConfiguration.java (enabled,
 * sensitive, port), HealthEndpoint.java (details-visible), LoggersEndpoint.java (write-sensitive).
 */
const KNOWN_KEYS = new Set([
    "micronaut.server.context-path",
    "micronaut.security.enabled",
    "micronaut.security.token.jwt.signatures.secret.generator.secret",
    "micronaut.metrics.enabled",
    "micronaut.metrics.export.prometheus.enabled",
    "endpoints.all.port",
    "endpoints.all.enabled",
    "endpoints.all.sensitive",
    "endpoints.health.enabled",
    "endpoints.health.sensitive",
    "endpoints.health.details-visible",
    "endpoints.prometheus.enabled",
    "endpoints.prometheus.sensitive",
    "endpoints.loggers.enabled",
    "endpoints.loggers.write-sensitive",
    "akhq.connections.bss.properties.bootstrap.servers",
    "akhq.security.default-group",
    "akhq.security.roles.no-access",
    "akhq.security.groups.anonymous[].role",
    "akhq.security.groups.anonymous[].patterns[]",
    "akhq.security.groups.anonymous[].clusters[]",
    "akhq.security.basic-auth[].username",
    "akhq.security.basic-auth[].password",
    "akhq.security.basic-auth[].passwordHash",
    "akhq.security.basic-auth[].groups[]",
]);

describe("application.yml", () => {
    it("connects to the in-cluster bootstrap Service of the stack's namespace", () => {
        for (const namespace of ["bss", "telco-core"]) {
            const config = parse(renderApplicationYml({ ...prod, namespace }));
            expect(Object.keys(config.akhq.connections)).toEqual([namespace]);
            expect(config.akhq.connections[namespace].properties["bootstrap.servers"]).toBe(`kafka.${namespace}.svc.cluster.local:9092`);
        }
        expect(kafkaBootstrap("bss")).toBe("kafka.bss.svc.cluster.local:9092");
    });

    it("serves under the context path Kong forwards unstripped", () => {
        expect(parse(renderApplicationYml(prod)).micronaut.server["context-path"]).toBe("/akhq");
        expect(parse(renderApplicationYml({ ...prod, contextPath: "/kafka-ui" })).micronaut.server["context-path"]).toBe("/kafka-ui");
    });

    it("turns the login on when auth is enabled and off in dev", () => {
        expect(parse(renderApplicationYml(prod)).micronaut.security.enabled).toBe(true);
        expect(parse(renderApplicationYml(dev)).micronaut.security.enabled).toBe(false);
    });

    it("holds no credential: users and the signing key live in the credentials file", () => {
        for (const input of [prod, dev]) {
            const paths = leafPaths(applicationConfig(input));
            expect(paths.filter((p) => p.includes("basic-auth") || p.includes("signatures"))).toEqual([]);
        }
    });

    it("puts health and prometheus on the management port under the context path", () => {
        for (const input of [prod, dev]) {
            expect(parse(renderApplicationYml(input)).endpoints.all.port).toBe(28081);
        }
        expect(managementPath("/akhq", "health")).toBe("/akhq/health");
        expect(managementPath("/akhq", "prometheus")).toBe("/akhq/prometheus");
    });

    it("uses only keys AKHQ 0.25 reads", () => {
        const paths = [
            ...leafPaths(applicationConfig(prod)),
            ...leafPaths(applicationConfig(dev)),
            ...leafPaths(credentialsConfig({ adminPassword: "x".repeat(24), jwtSecret: "y".repeat(64) })),
        ];
        expect(paths.filter((p) => !KNOWN_KEYS.has(p))).toEqual([]);
        // Every known key is produced by one of the two files (the list holds no stale entries).
        expect([...KNOWN_KEYS].filter((k) => !paths.includes(k))).toEqual([]);
    });
});

/** What AKHQ runs with: its built-in application.yml, then ours (MICRONAUT_CONFIG_FILES). */
const effective = (input: ApplicationConfigInput) => merged(AKHQ_DEFAULTS, parse(renderApplicationYml(input)));

describe("management endpoints without login (issue 12, point 1)", () => {
    // AKHQ src/main/resources/application.yml: endpoints.all.enabled true, endpoints.loggers.write-sensitive false.
    // micronaut-core LoggersEndpoint.java: setLogLevel is @Write @Sensitive(property = "write-sensitive");
    // EndpointSensitivitySpec.groovy: that method-level setting beats endpoints.all.sensitive;
    // micronaut-security SensitiveEndpointRule.java and micronaut-core EndpointsFilter.java: a non-sensitive
    // endpoint method answers anyone, with login on and with login off.
    const loggersWrite = MANAGEMENT_METHODS.find((m) => m.id === "loggers" && m.method === "POST")!;

    it("refuses POST <context>/loggers/<name> to a visitor without login, in every stack", () => {
        for (const input of [prod, dev]) {
            expect(anonymousReaches(effective(input), loggersWrite)).toBe(false);
        }
    });

    it("keeps the loggers endpoint off and its writes sensitive even if every endpoint were switched back on", () => {
        for (const input of [prod, dev]) {
            const config = effective(input);
            const reenabled = merged(config, { endpoints: { all: { enabled: true } } });
            expect(anonymousReaches(reenabled, loggersWrite)).toBe(false);
            expect(config.endpoints.loggers).toEqual({ enabled: false, "write-sensitive": true });
        }
    });

    it("leaves exactly health and prometheus open: what the probes and the scrape need", () => {
        for (const input of [prod, dev]) {
            const open = MANAGEMENT_METHODS.filter((m) => anonymousReaches(effective(input), m)).map((m) => m.id);
            expect(open).toEqual(["health", "prometheus"]);
        }
    });

    it("answers health with its status only", () => {
        // micronaut-core health/DetailsVisibility.java: NEVER hides the components AKHQ's default shows anyone.
        expect(effective(prod).endpoints.health["details-visible"]).toBe("NEVER");
    });
});

describe("visitors without login when login is on (issue 12, points 2 and 3)", () => {
    // AKHQ AkhqController.java list(): connections filtered by the clusters patterns of getUserGroups()
    // (AbstractController.java), through AbstractRepository.isMatchRegex, true for an empty list;
    // security/rule/AKHQSecurityRule.java: the default group's bindings apply to requests without login;
    // configs/security/Group.java: patterns and clusters default to ".*".
    const clusters = ["bss", "telco-core", "a", "prod-eu-1"];

    it("lists no cluster to an anonymous GET <context>/api/cluster", () => {
        for (const namespace of clusters) {
            expect(anonymousClusterList(effective({ ...prod, namespace }))).toEqual([]);
        }
    });

    it("lets an anonymous visitor take no action on any resource of any cluster", () => {
        const config = effective(prod);
        const allowed = clusters.flatMap((cluster) => AKHQ_RESOURCES.flatMap((resource) => AKHQ_ACTIONS
            .filter((action) => anonymousMay(config, cluster, resource, action))
            .map((action) => `${cluster} ${resource} ${action}`)));
        expect(allowed).toEqual([]);
    });

    it("defines its default group in the same file, because 0.25.1 has no built-in no-roles group", () => {
        // AKHQ 0.25 application.yml: akhq.security.groups holds reader and admin only (0.24's list had no-roles).
        const security = parse(renderApplicationYml(prod)).akhq.security;
        const group = security.groups?.[security["default-group"]];
        expect(Object.keys(AKHQ_DEFAULTS.akhq.security.groups)).not.toContain(security["default-group"]);
        expect(group).toEqual([{ role: "no-access", patterns: [MATCHES_NOTHING], clusters: [MATCHES_NOTHING] }]);
        // Each role the group names is defined here as well, and grants nothing.
        expect(security.roles).toEqual({ "no-access": [] });
        expect(renderApplicationYml(prod)).not.toContain("no-roles");
    });

    it("gives the anonymous group at least one binding: an empty group would match every cluster", () => {
        expect(anonymousBindings(effective(prod)).length).toBeGreaterThan(0);
        expect(anonymousClusterList(merged(effective(prod), { akhq: { security: { groups: { anonymous: [] } } } }))).toEqual(["bss"]);
    });

    it("uses a pattern that matches no cluster name Java could be given", () => {
        for (const name of [...clusters, "", ".*", "(?!)", "anonymous"]) {
            expect(javaMatches(MATCHES_NOTHING, name)).toBe(false);
        }
    });

    it("keeps the group definitions out of the Secret: they are reviewable config, not credentials", () => {
        const credentials = credentialsConfig({ adminPassword: "x".repeat(24), jwtSecret: "y".repeat(64) });
        expect(leafPaths(credentials).filter((p) => /default-group|groups\.|roles/.test(p))).toEqual([]);
    });
});

describe("visitors when login is off (issue 12, point 4)", () => {
    // AKHQ application.yml: akhq.security.default-group admin; AkhqController.getRights(): without a
    // SecurityService bean every visitor gets the default group's roles, and no security rule runs at all.
    it("says in the rendered file that every dev visitor is AKHQ's admin", () => {
        const text = renderApplicationYml(dev);
        expect(parse(text).akhq.security).toEqual({ "default-group": "admin" });
        expect(text.split("\n")[0]).toMatch(/^# Login is off/);
        expect(text).toMatch(/default group, admin/);
        expect(text).toMatch(/delete topics, produce records[\s#]*and reset consumer offsets/);
    });

    it("is the admin group's roles, topic and offset administration included", () => {
        const roles = visitorRolesWithoutLogin(effective(dev));
        expect(roles).toEqual(expect.arrayContaining(["topic-admin", "topic-data-admin", "consumer-group-admin"]));
    });

    it("adds the warning only where login is off", () => {
        expect(renderApplicationYml(prod).startsWith("#")).toBe(false);
    });
});

describe("credentials file", () => {
    const input = { adminPassword: "Ab3dEf6hIj9kLm2nOp5qRs8t", jwtSecret: "k".repeat(64) };

    it("hashes the password the way AKHQ's SHA256 check does", () => {
        // AKHQ's documented example: `echo -n "admin" | sha256sum`.
        expect(sha256Hex("admin")).toBe("8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918");
        const user = parse(renderCredentialsYml(input)).akhq.security["basic-auth"];
        expect(user).toEqual([{ username: AKHQ_ADMIN_USER, password: sha256Hex(input.adminPassword), passwordHash: "SHA256", groups: ["admin"] }]);
    });

    it("never contains the plain password", () => {
        expect(renderCredentialsYml(input)).not.toContain(input.adminPassword);
    });

    it("replaces AKHQ's public default JWT signing key", () => {
        const config = parse(renderCredentialsYml(input));
        expect(config.micronaut.security.token.jwt.signatures.secret.generator.secret).toBe(input.jwtSecret);
    });
});

describe("JAVA_OPTS", () => {
    it("bounds the heap relative to the container limit and caps direct memory", () => {
        const flags = javaOptions().split(" ");
        expect(flags).toContain("-XX:MaxRAMPercentage=50.0");
        expect(flags).toContain("-XX:MaxDirectMemorySize=64m");
        expect(flags).toContain("-XX:+ExitOnOutOfMemoryError");
        expect(flags.some((f) => f.startsWith("-Xmx"))).toBe(false);
    });
});
