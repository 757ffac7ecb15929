/**
 * Turns rendered resources into the files users and tests read: Kubernetes manifests, Helm releases,
 * Kafka topics and the Kong declarative config, with every secret value redacted.
 */
import * as yaml from "js-yaml";
import { REDACTED, RenderedResource, SECRET_PLACEHOLDER } from "./render";

/**
 * Every argument the program passed to a Helm chart resource, under the argument's own name (`name`,
 * `chart`, `version`, `repositoryOpts`, `namespace`, `skipCrds`, ...), with `values` last.
 */
export interface HelmRelease {
    chart: string;
    values: Record<string, unknown>;
    [argument: string]: unknown;
}

export interface KafkaTopicsFile {
    provider: { bootstrapServers: string[]; tlsEnabled: boolean } | null;
    topics: { name: string; partitions: number; replicationFactor: number; config: Record<string, string> }[];
}

export interface RenderOutputs {
    manifests: Record<string, any>[];
    helmReleases: HelmRelease[];
    kafkaTopics: KafkaTopicsFile;
    /** The Kong declarative config (kong.yml text), or undefined when the stack has no Kong. */
    kongConfig?: string;
}

const HELM_TYPES = new Set(["kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart"]);

/** The key in a Secret that holds Kong's declarative config (the chart's `dblessConfig.secret` contract). */
export const KONG_CONFIG_KEY = "kong.yml";

function isManifest(resource: RenderedResource): boolean {
    return resource.type.startsWith("kubernetes:") && !HELM_TYPES.has(resource.type) && !resource.type.startsWith("pulumi:providers:");
}

/** Replaces the secret placeholder wherever it appears, at any depth. */
export function redact<T>(value: T): T {
    if (typeof value === "string") {
        return value.split(SECRET_PLACEHOLDER).join(REDACTED) as unknown as T;
    }
    if (Array.isArray(value)) {
        return value.map(redact) as unknown as T;
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)])) as T;
    }
    return value;
}

/** Secret payloads are never written, whatever they hold: only their keys stay visible. */
function redactSecret(object: Record<string, any>): Record<string, any> {
    if (object.kind !== "Secret") {
        return object;
    }
    const hide = (data?: Record<string, string>) => (data ? Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED])) : undefined);
    return { ...object, ...(object.data ? { data: hide(object.data) } : {}), ...(object.stringData ? { stringData: hide(object.stringData) } : {}) };
}

/** Credentials inside Kong's declarative config. */
function redactKongCredentials(text: string): string {
    const doc = yaml.load(text) as Record<string, any>;
    for (const consumer of doc?.consumers ?? []) {
        for (const credential of consumer.keyauth_credentials ?? []) {
            credential.key = REDACTED;
        }
        for (const credential of consumer.basicauth_credentials ?? []) {
            credential.password = REDACTED;
        }
    }
    return yaml.dump(redact(doc), { lineWidth: 120, noRefs: true });
}

/** Provider SDKs send non-string provider inputs to the engine as JSON text (`["a:1"]`, `false`). */
function providerInput<T>(value: unknown): T {
    return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

export function collectOutputs(resources: RenderedResource[]): RenderOutputs {
    const manifests = resources.filter(isManifest).map((r) => r.inputs);
    const kongSecret = manifests.find((m) => m.kind === "Secret" && (m.stringData?.[KONG_CONFIG_KEY] ?? m.data?.[KONG_CONFIG_KEY]) !== undefined);
    const kongText: string | undefined = kongSecret
        ? kongSecret.stringData?.[KONG_CONFIG_KEY] ?? Buffer.from(kongSecret.data[KONG_CONFIG_KEY], "base64").toString("utf8")
        : undefined;

    const helmReleases: HelmRelease[] = resources.filter((r) => HELM_TYPES.has(r.type)).map((r) => {
        const { values, ...args } = r.inputs;
        return { ...args, values: values ?? {} } as HelmRelease;
    });

    const provider = resources.find((r) => r.type === "pulumi:providers:kafka");
    const kafkaTopics: KafkaTopicsFile = {
        provider: provider
            ? { bootstrapServers: providerInput(provider.inputs.bootstrapServers), tlsEnabled: providerInput(provider.inputs.tlsEnabled) }
            : null,
        topics: resources.filter((r) => r.type === "kafka:index/topic:Topic").map((r) => ({
            name: r.inputs.name,
            partitions: r.inputs.partitions,
            replicationFactor: r.inputs.replicationFactor,
            config: r.inputs.config ?? {},
        })),
    };

    return {
        manifests: manifests.map((m) => redact(redactSecret(m))),
        helmReleases: redact(helmReleases),
        kafkaTopics: redact(kafkaTopics),
        kongConfig: kongText === undefined ? undefined : redactKongCredentials(kongText),
    };
}

/** Objects counted by kind, for the summary the CLI prints. */
export function summarise(outputs: RenderOutputs): [string, number][] {
    const counts = new Map<string, number>();
    for (const m of outputs.manifests) {
        counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
    }
    counts.set("(helm release)", outputs.helmReleases.length);
    counts.set("(kafka topic)", outputs.kafkaTopics.topics.length);
    return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function toFiles(outputs: RenderOutputs): Record<string, string> {
    const dump = (v: unknown) => yaml.dump(v, { lineWidth: 120, noRefs: true, sortKeys: false });
    return {
        "manifests.yaml": outputs.manifests.map((m) => `---\n${dump(m)}`).join(""),
        "helm-releases.yaml": dump(outputs.helmReleases),
        "kafka-topics.yaml": dump(outputs.kafkaTopics),
        "kong/kong.yml": outputs.kongConfig ?? dump({ _format_version: "3.0" }),
    };
}
