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

/** The one login AKHQ gets; it holds AKHQ's built-in `admin` group. */
export const AKHQ_ADMIN_USER = "admin";

/**
 * Group of visitors who have not logged in, when login is on: AKHQ's built-in group without roles. AKHQ only
 * grants roles of groups it finds defined, so even a release that dropped the group would grant nothing.
 */
export const ANONYMOUS_GROUP = "no-roles";

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

/** The non-secret configuration, as the object that becomes `application.yml`. */
export function applicationConfig(input: ApplicationConfigInput): Record<string, unknown> {
    return {
        micronaut: {
            server: { "context-path": input.contextPath },
            security: { enabled: input.authEnabled },
            metrics: { enabled: true, export: { prometheus: { enabled: true } } },
        },
        endpoints: {
            all: { port: AKHQ_PORTS.management, sensitive: true },
            health: { sensitive: false },
            prometheus: { sensitive: false },
        },
        akhq: {
            connections: {
                [input.namespace]: { properties: { "bootstrap.servers": kafkaBootstrap(input.namespace) } },
            },
            ...(input.authEnabled ? { security: { "default-group": ANONYMOUS_GROUP } } : {}),
        },
    };
}

const dump = (doc: unknown): string => yaml.dump(doc, { lineWidth: -1, noRefs: true, sortKeys: false });

export function renderApplicationYml(input: ApplicationConfigInput): string {
    return dump(applicationConfig(input));
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
                    groups: ["admin"],
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
