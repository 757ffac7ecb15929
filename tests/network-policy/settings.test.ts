import { loadSettings, SettingsError } from "../../settings";
import { NetworkPolicySettings } from "../../settings/network-policy";

const read = (networkPolicy: unknown, namespace = "bss"): NetworkPolicySettings =>
    loadSettings({ "bss:namespace": namespace, "bss:networkPolicy": JSON.stringify(networkPolicy) }, "test").networkPolicy;

function problems(networkPolicy: unknown): string[] {
    try {
        read(networkPolicy);
        return [];
    } catch (error) {
        return (error as SettingsError).problems;
    }
}

describe("bss:networkPolicy", () => {
    it("defaults to on, the namespace's pods as clients and scrapes from the monitoring namespace", () => {
        const defaults = loadSettings({}, "test").networkPolicy;
        expect(defaults).toEqual({
            enabled: true,
            kafkaClients: { podLabels: {}, namespaces: [] },
            redisClients: { podLabels: {}, namespaces: [] },
            monitoringNamespace: "monitoring",
        });
    });

    it("reads clients, a monitoring namespace, an empty one as no scrapes, and enabled false", () => {
        expect(read({
            enabled: false,
            kafkaClients: { podLabels: { "bss.example.com/kafka-client": "true", tier: "" }, namespaces: ["billing", "crm"] },
            redisClients: { namespaces: ["sessions"] },
            monitoringNamespace: "observability",
        })).toEqual({
            enabled: false,
            kafkaClients: { podLabels: { "bss.example.com/kafka-client": "true", tier: "" }, namespaces: ["billing", "crm"] },
            redisClients: { podLabels: {}, namespaces: ["sessions"] },
            monitoringNamespace: "observability",
        });
        expect(read({ monitoringNamespace: "" }).monitoringNamespace).toBeUndefined();
        // `pulumi config set --path` stores `true` and `1` as a boolean and a number.
        expect(read({ kafkaClients: { podLabels: { "bss/kafka-client": true, replica: 1 } } }).kafkaClients.podLabels).toEqual({ "bss/kafka-client": "true", replica: "1" });
    });

    it("lists every bad value in one error, each naming its key and the value it got", () => {
        expect(problems({
            enabled: "yes",
            kafkaClients: { podLabels: { "-bad": "true", app: "no spaces" }, namespaces: ["Billing"] },
            redisClients: { podLabels: ["app=web"], namespaces: ["bss"] },
            monitoringNamespace: "bss",
            monitoring: "prometheus",
        })).toEqual([
            "bss:networkPolicy.enabled must be true or false, got \"yes\"",
            "bss:networkPolicy.kafkaClients.podLabels has a label name Kubernetes refuses (an optional DNS-subdomain prefix and \"/\", then 1-63 letters, digits, '-', '_' or '.'), got \"-bad\"",
            "bss:networkPolicy.kafkaClients.podLabels.app must be a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), got \"no spaces\"",
            "bss:networkPolicy.kafkaClients.namespaces[0] must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), got \"Billing\"",
            "bss:networkPolicy.redisClients.podLabels must be an object of label name to value, got [\"app=web\"]",
            "bss:networkPolicy.monitoring is not a known setting (known: enabled, kafkaClients, monitoringNamespace, redisClients), got \"prometheus\"",
            "bss:networkPolicy.monitoringNamespace must differ from the stack's namespace (every pod of it could then scrape, and nothing here scrapes), got \"bss\"",
            "bss:networkPolicy.redisClients.namespaces must not list the stack's own namespace (select its pods with bss:networkPolicy.redisClients.podLabels), got \"bss\"",
        ]);
    });

    it("refuses a label name whose prefix is not a DNS subdomain and a value over 63 characters", () => {
        expect(problems({ kafkaClients: { podLabels: { "Example.com/app": "x", app: "v".repeat(64) } } })).toHaveLength(2);
        expect(problems({ kafkaClients: { podLabels: { "example.com/app": "v".repeat(63) } } })).toEqual([]);
    });

    it("is a known top-level key", () => {
        expect(() => loadSettings({ "bss:networkPolicies": "{}" }, "test")).toThrow(/bss:networkPolicies is not a known setting \(known: .*bss:networkPolicy,/);
    });
});

