import * as yaml from "js-yaml";
import {
    AKHQ_ADMIN_USER, applicationConfig, ApplicationConfigInput, credentialsConfig, javaOptions, kafkaBootstrap, managementPath,
    renderApplicationYml, renderCredentialsYml,
} from "../../components/akhq/config";
import { sha256Hex } from "../../components/shared/checksum";

const prod: ApplicationConfigInput = { namespace: "bss", contextPath: "/akhq", authEnabled: true };
const dev: ApplicationConfigInput = { ...prod, authEnabled: false };

const parse = (text: string) => yaml.load(text) as Record<string, any>;

/** Every leaf as a dotted path; list items as `[]`. */
function leafPaths(value: unknown, prefix = ""): string[] {
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
 * src/main/resources/application.yml (endpoints.all.port 28081), build.gradle (micronaut-management and
 * micronaut-micrometer-registry-prometheus, which provide the endpoints.* and micronaut.metrics.* keys).
 */
const KNOWN_KEYS = new Set([
    "micronaut.server.context-path",
    "micronaut.security.enabled",
    "micronaut.security.token.jwt.signatures.secret.generator.secret",
    "micronaut.metrics.enabled",
    "micronaut.metrics.export.prometheus.enabled",
    "endpoints.all.port",
    "endpoints.all.sensitive",
    "endpoints.health.sensitive",
    "endpoints.prometheus.sensitive",
    "akhq.connections.bss.properties.bootstrap.servers",
    "akhq.security.default-group",
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

    it("turns the login on and leaves visitors without a role when auth is enabled", () => {
        const config = parse(renderApplicationYml(prod));
        expect(config.micronaut.security.enabled).toBe(true);
        expect(config.akhq.security).toEqual({ "default-group": "no-roles" });
    });

    it("turns security off and sets no AKHQ security keys when auth is disabled", () => {
        const config = parse(renderApplicationYml(dev));
        expect(config.micronaut.security.enabled).toBe(false);
        expect(config.akhq.security).toBeUndefined();
    });

    it("holds no credential: users and the signing key live in the credentials file", () => {
        for (const input of [prod, dev]) {
            const paths = leafPaths(applicationConfig(input));
            expect(paths.filter((p) => p.includes("basic-auth") || p.includes("signatures"))).toEqual([]);
        }
    });

    it("serves health and prometheus without login on the management port and locks every other endpoint", () => {
        const { endpoints } = parse(renderApplicationYml(prod));
        expect(endpoints).toEqual({ all: { port: 28081, sensitive: true }, health: { sensitive: false }, prometheus: { sensitive: false } });
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
