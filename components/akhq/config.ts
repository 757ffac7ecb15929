/**
 * Pure renderers of AKHQ's configuration: the non-secret `application.yml` (ConfigMap) and, when login is on,
 * the credentials file (Secret) that Micronaut merges over it. Every key emitted here is one AKHQ 0.25 or the
 * Micronaut 4 runtime inside it reads; tests/akhq/config.test.ts names the upstream source of each.
 */
import { sha256Hex } from "../shared/checksum";
import * as yaml from "js-yaml";

export const AKHQ_NAME = "akhq";

export const AKHQ_PORTS = {
    /** UI and API (Micronaut's `micronaut.server.port` default). */
    http: 8080,
    /** Micronaut management endpoints (health, prometheus), AKHQ's own default `endpoints.all.port`. */
    management: 28081,
} as const;

/** Files the image reads by default (`MICRONAUT_CONFIG_FILES`, its launcher's `JVM_OPTS_FILE`) and ours beside them. */
export const AKHQ_PATHS = {
    config: "/app/application.yml",
    jvmOptions: "/app/jvm.options",
    credentials: "/app/credentials.yml",
    tmp: "/tmp",
} as const;

/** AKHQ 0.25.1's built-in group with every role; the admin login holds it. */
export const ADMIN_GROUP = "admin";

/** The one login AKHQ gets. */
export const AKHQ_ADMIN_USER = "admin";

/**
 * Group of visitors who have not logged in (login on). AKHQ 0.25.1 ships only `reader` and `admin`, and a
 * `default-group` it cannot find leaves `/api/cluster` listing every connection, so the group is defined here.
 */
export const ANONYMOUS_GROUP = "anonymous";

/** Role of the anonymous group: no resource, no action. */
export const NO_ACCESS_ROLE = "no-access";

/**
 * A regular expression no string matches: the empty negative lookahead fails at every position, in Java's
 * `Pattern.matches` as in any other engine. AKHQ treats an empty pattern list as "everything".
 */
export const MATCHES_NOTHING = "(?!)";

/** In-cluster bootstrap address: the Kafka component's ClusterIP Service `kafka`, INTERNAL listener 9092. */
export function kafkaBootstrap(namespace: string): string {
    return `kafka.${namespace}.svc.cluster.local:9092`;
}

/**
 * Path of a management endpoint. Micronaut prefixes every route with `micronaut.server.context-path`, the
 * management endpoints on their own port included, so health lives at `/akhq/health` on 28081.
 */
export function managementPath(contextPath: string, endpoint: "health" | "prometheus"): string {
    return `${contextPath}/${endpoint}`;
}

export interface ApplicationConfigInput {
    /** Namespace of the stack: names the cluster in the UI and locates the Kafka Service. */
    namespace: string;
    /** Path AKHQ serves under, identical directly (NodePort) and behind Kong (path not stripped). */
    contextPath: string;
    /** Turns on Micronaut security: AKHQ's login form, basic-auth users from the credentials file. */
    authEnabled: boolean;
}

/**
 * Management endpoints. AKHQ's own defaults switch every endpoint on, and `endpoints.loggers.write-sensitive:
 * false` makes `POST <context>/loggers/<name>` anonymous: Micronaut lets a method's `@Sensitive` property win over
 * `endpoints.all.sensitive`. So everything is off except what the probes (health) and the scrape (prometheus)
 * need; loggers is named as well, so switching `all` back on would not reopen log-level writes.
 */
function managementEndpoints(): Record<string, unknown> {
    return {
        all: { port: AKHQ_PORTS.management, enabled: false, sensitive: true },
        // Probes read only the status code; AKHQ's default would show component details to anyone.
        health: { enabled: true, sensitive: false, "details-visible": "NEVER" },
        prometheus: { enabled: true, sensitive: false },
        loggers: { enabled: false, "write-sensitive": true },
    };
}

/**
 * AKHQ's access control, readable in the ConfigMap (it holds no secret). Login on: visitors who have not signed
 * in get a group that matches no cluster and grants no action. Login off: AKHQ applies its default group to
 * everyone, and that group is `admin`; it is written out so nobody mistakes dev for read-only.
 */
function accessControl(authEnabled: boolean): Record<string, unknown> {
    if (!authEnabled) {
        return { "default-group": ADMIN_GROUP };
    }
    return {
        "default-group": ANONYMOUS_GROUP,
        roles: { [NO_ACCESS_ROLE]: [] },
        groups: {
            [ANONYMOUS_GROUP]: [{ role: NO_ACCESS_ROLE, patterns: [MATCHES_NOTHING], clusters: [MATCHES_NOTHING] }],
        },
    };
}

/** The non-secret configuration, as the object that becomes `application.yml`. */
export function applicationConfig(input: ApplicationConfigInput): Record<string, unknown> {
    return {
        micronaut: {
            server: { "context-path": input.contextPath },
            security: { enabled: input.authEnabled },
            metrics: { enabled: true, export: { prometheus: { enabled: true } } },
        },
        endpoints: managementEndpoints(),
        akhq: {
            connections: {
                [input.namespace]: { properties: { "bootstrap.servers": kafkaBootstrap(input.namespace) } },
            },
            security: accessControl(input.authEnabled),
        },
    };
}

const dump = (doc: unknown): string => yaml.dump(doc, { lineWidth: -1, noRefs: true, sortKeys: false });

/** Leads the dev file, so whoever reads the ConfigMap learns what "no login" means before anything else. */
export const NO_LOGIN_WARNING = [
    "# Login is off (bss:akhq.authEnabled false). AKHQ then gives every visitor its default group, admin:",
    "# whoever reaches this UI (NodePort, Service, Kong's route) can create and delete topics, produce records",
    "# and reset consumer offsets. kind binds the dev NodePort to the host's 127.0.0.1 only.",
].join("\n");

export function renderApplicationYml(input: ApplicationConfigInput): string {
    const body = dump(applicationConfig(input));
    return input.authEnabled ? body : `${NO_LOGIN_WARNING}\n${body}`;
}

/** The password hash format of AKHQ's default `passwordHash: SHA256`: lowercase hex of the UTF-8 bytes. */

export interface CredentialsInput {
    /** Plain admin password; only its SHA-256 is written. */
    adminPassword: string;
    /** Key that signs AKHQ's session JWTs; AKHQ's built-in default is public, so anyone could forge a session. */
    jwtSecret: string;
}

/** The secret half of the configuration, loaded after `application.yml` (MICRONAUT_CONFIG_FILES order). */
export function credentialsConfig(input: CredentialsInput): Record<string, unknown> {
    return {
        micronaut: {
            security: { token: { jwt: { signatures: { secret: { generator: { secret: input.jwtSecret } } } } } },
        },
        akhq: {
            security: {
                "basic-auth": [{
                    username: AKHQ_ADMIN_USER,
                    password: sha256Hex(input.adminPassword),
                    passwordHash: "SHA256",
                    groups: [ADMIN_GROUP],
                }],
            },
        },
    };
}

export function renderCredentialsYml(input: CredentialsInput): string {
    return dump(credentialsConfig(input));
}

/**
 * JVM options for the 512Mi container: half of the limit for the heap leaves the other half to metaspace,
 * code cache, thread stacks and Netty's direct buffers (capped, else they may grow to the heap size again).
 * A heap OOM ends the process so Kubernetes restarts it instead of leaving a half-dead UI.
 */
export const JAVA_OPTIONS = {
    maxRamPercentage: 50,
    maxDirectMemoryMi: 64,
} as const;

export function javaOptions(): string {
    return [
        `-XX:MaxRAMPercentage=${JAVA_OPTIONS.maxRamPercentage.toFixed(1)}`,
        `-XX:MaxDirectMemorySize=${JAVA_OPTIONS.maxDirectMemoryMi}m`,
        "-XX:+ExitOnOutOfMemoryError",
    ].join(" ");
}
