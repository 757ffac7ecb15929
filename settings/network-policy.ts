import { boolean, dns1123Label, listOf, object, Problems, Reader, shown } from "./fields";
import { SettingsContext } from "./common";

/** Who counts as a client of a service: labelled pods of the stack's namespace and every pod of other namespaces. */
export interface ClientSelection {
    /**
     * Labels (a `matchLabels` pod selector) of the client pods in the stack's namespace.
     * Default `{}`: every pod of the namespace.
     */
    podLabels: Record<string, string>;
    /** Namespaces whose every pod is a client as well. Default: none. */
    namespaces: string[];
}

export interface NetworkPolicySettings {
    /** Default deny plus the explicit allows of components/network-policy. Default: true. */
    enabled: boolean;
    /** Who may open the brokers' INTERNAL listener (9092) besides the brokers, kafka-exporter and AKHQ. Default: every pod of the namespace. */
    kafkaClients: ClientSelection;
    /** Who may open the Redis client port (7000) besides the Redis nodes and their bootstrap Job. Default: every pod of the namespace. */
    redisClients: ClientSelection;
    /**
     * Namespace whose pods may scrape every metrics port. Default `monitoring`, where the stack already expects
     * Prometheus (`bss:kong.prometheus` defaults to `prometheus-server.monitoring`); undefined (set `""`): no scrapes.
     */
    monitoringNamespace?: string;
}

interface ClientInput {
    podLabels: Record<string, string>;
    namespaces: string[];
}

interface NetworkPolicyInput {
    enabled: boolean;
    kafkaClients: Partial<ClientInput>;
    redisClients: Partial<ClientInput>;
    monitoringNamespace: string;
}

/** Kubernetes label names: an optional DNS-subdomain prefix and `/`, then 1-63 characters. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function isLabelKey(key: string): boolean {
    const slash = key.indexOf("/");
    return slash < 0 ? LABEL_NAME.test(key) : LABEL_PREFIX.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

const labelMap: Reader<Record<string, string>> = (key, value, problems) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${key} must be an object of label name to value, got ${shown(value)}`);
        return undefined;
    }
    let valid = true;
    const read: Record<string, string> = {};
    for (const [name, given] of Object.entries(value)) {
        // `pulumi config set --path ... true` and YAML's `true` arrive as booleans; a label value is their text.
        const labelValue = typeof given === "boolean" || typeof given === "number" ? String(given) : given;
        if (!isLabelKey(name)) {
            problems.push(`${key} has a label name Kubernetes refuses (an optional DNS-subdomain prefix and "/", then 1-63 letters, digits, '-', '_' or '.'), got ${shown(name)}`);
            valid = false;
        }
        if (typeof labelValue !== "string" || !LABEL_VALUE.test(labelValue)) {
            problems.push(`${key}.${name} must be a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), got ${shown(labelValue)}`);
            valid = false;
        }
        read[name] = labelValue;
    }
    return valid ? read : undefined;
};

const clientReader = object<ClientInput>({
    podLabels: labelMap,
    namespaces: listOf(dns1123Label),
});

const reader = object<NetworkPolicyInput>({
    enabled: boolean,
    kafkaClients: clientReader,
    redisClients: clientReader,
    // "" is read below: it turns scrapes off.
    monitoringNamespace: (key, value, problems) => (value === "" ? "" : dns1123Label(key, value, problems)),
});

function clients(key: string, given: Partial<ClientInput> | undefined, ctx: SettingsContext, problems: Problems): ClientSelection {
    const namespaces = given?.namespaces ?? [];
    // A whole-namespace entry for the stack's own namespace would silently widen podLabels to every pod.
    if (namespaces.includes(ctx.namespace)) {
        problems.push(`${key}.namespaces must not list the stack's own namespace (select its pods with ${key}.podLabels), got ${shown(ctx.namespace)}`);
    }
    return { podLabels: given?.podLabels ?? {}, namespaces: namespaces.filter((n) => n !== ctx.namespace) };
}

export function readNetworkPolicy(raw: unknown, ctx: SettingsContext, problems: Problems): NetworkPolicySettings {
    const given = reader("bss:networkPolicy", raw, problems) ?? {};
    const monitoringNamespace = given.monitoringNamespace ?? "monitoring";
    if (monitoringNamespace === ctx.namespace) {
        problems.push(`bss:networkPolicy.monitoringNamespace must differ from the stack's namespace (every pod of it could then scrape, and nothing here scrapes), got ${shown(monitoringNamespace)}`);
    }
    return {
        enabled: given.enabled ?? true,
        kafkaClients: clients("bss:networkPolicy.kafkaClients", given.kafkaClients, ctx, problems),
        redisClients: clients("bss:networkPolicy.redisClients", given.redisClients, ctx, problems),
        monitoringNamespace: monitoringNamespace === "" ? undefined : monitoringNamespace,
    };
}
