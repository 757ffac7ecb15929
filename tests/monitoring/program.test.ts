/** The program with `bss:monitoring`: what each setting adds to the render, and the refusals of bad values. */
import { loadSettings, SettingsError } from "../../settings";
import { inlineConfig, renderIsolated, stackFile } from "../helpers/render";
import { StackConfig } from "../../render/render";
import * as yaml from "js-yaml";

const withMonitoring = (stack: string, monitoring: unknown): StackConfig => {
    const base = stackFile(stack);
    return { ...base, values: { ...base.values, "bss:monitoring": JSON.stringify(monitoring) } };
};
const names = (manifests: Record<string, any>[], kind: string) => manifests.filter((m) => m.kind === kind).map((m) => m.metadata.name).sort();

describe("the dev stack as it is", () => {
    it("gets the rules, scrape config and three dashboards, no operator objects and brokers without the agent", async () => {
        const rendered = await renderIsolated("dev", stackFile("dev"));
        expect(names(rendered.manifests, "ConfigMap")).toEqual(expect.arrayContaining([
            "bss-alert-rules", "bss-dashboard-kafka-overview", "bss-dashboard-kong-gateway", "bss-dashboard-redis-cluster", "bss-prometheus-scrape",
        ]));
        expect(rendered.manifests.filter((m) => /monitoring\.coreos\.com/.test(m.apiVersion))).toEqual([]);
        const kafka = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "kafka")!;
        expect(kafka.spec.template.spec.initContainers ?? []).toEqual([]);
        expect(names(rendered.manifests, "ConfigMap")).not.toContain("kafka-jmx-exporter");
    });
});

it("without the agent alerts on Kafka partitions and brokers from kafka-exporter, each declared topic held to its own min.insync.replicas", async () => {
    const base = stackFile("dev");
    const config = { ...base, values: { ...base.values, "bss:topics": JSON.stringify({ "bss.scratch": { replicationFactor: 1 } }) } };
    const rendered = await renderIsolated("dev", config);
    const rules = rendered.manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === "bss-alert-rules")!.data["bss.rules.yaml"] as string;
    const groups = (yaml.load(rules) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] }).groups;
    const kafka = groups.find((g) => g.name === "bss-kafka-exporter-partitions")!.rules;
    expect(kafka.map((r) => r.alert)).toEqual(["KafkaOfflinePartitions", "KafkaUnderMinIsrPartitions", "KafkaUnderReplicatedPartitions", "KafkaBrokerDown"]);
    expect(groups.map((g) => g.name)).not.toContain("bss-kafka-brokers");
    // bss.scratch has RF 1, so min.insync.replicas 1; the catalog topics and everything else the brokers' default 2.
    expect(kafka.find((r) => r.alert === "KafkaUnderMinIsrPartitions")!.expr).toBe(
        'count((kafka_topic_partition_in_sync_replica{job="kafka-exporter", topic=~"bss\\\\.scratch"} < 1) or '
        + '(kafka_topic_partition_in_sync_replica{job="kafka-exporter", topic!~"bss\\\\.scratch"} < 2)) > 0');
    expect(kafka.find((r) => r.alert === "KafkaBrokerDown")!.expr).toBe('(max(kafka_brokers{job="kafka-exporter"}) or vector(0)) < 3');
});

describe("prod with the operator, the JMX agent and declared consumer groups", () => {
    let manifests: Record<string, any>[];
    beforeAll(async () => {
        manifests = (await renderIsolated("prod", withMonitoring("prod", {
            prometheusOperator: true, releaseLabel: "kps", consumerGroups: ["billing-cdr"], lagThreshold: 5000,
            jmxAgent: { mavenRepository: "https://maven.example/maven2/" },
        }))).manifests;
    });

    it("adds the agent to the broker StatefulSet, with the rules' ConfigMap", () => {
        const kafka = manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "kafka")!;
        const pod = kafka.spec.template.spec;
        expect(pod.initContainers.map((c: any) => c.name)).toEqual(["jmx-agent"]);
        expect(pod.initContainers[0].env.find((e: any) => e.name === "AGENT_URL").value).toMatch(/^https:\/\/maven\.example\/maven2\/io\/prometheus\/jmx\//);
        expect(pod.containers[0].env.map((e: any) => e.name)).toContain("KAFKA_JMX_AGENT");
        expect(names(manifests, "ConfigMap")).toContain("kafka-jmx-exporter");
        // Only the brokers: ZooKeeper keeps its own metrics provider.
        const zookeeper = manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "zookeeper")!;
        expect(zookeeper.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(["metrics-jars"]);
    });

    it("renders a PrometheusRule and a PodMonitor per exporter, selected by release: kps", () => {
        const operator = manifests.filter((m) => m.apiVersion === "monitoring.coreos.com/v1");
        expect(operator.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
            "PodMonitor/bss-kafka", "PodMonitor/bss-kafka-exporter", "PodMonitor/bss-kong", "PodMonitor/bss-redis", "PodMonitor/bss-zookeeper",
            "PrometheusRule/bss-alerts",
        ]);
        expect(operator.every((m) => m.metadata.labels.release === "kps" && m.metadata.namespace === "bss")).toBe(true);
        const rule = operator.find((m) => m.kind === "PrometheusRule")!;
        const lag = rule.spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "KafkaConsumerGroupLag");
        expect(lag.expr).toMatch(/consumergroup=~"billing-cdr"\}\) > 5000$/);
    });
});

describe("a KRaft prod stack with the operator and the JMX agent", () => {
    let manifests: Record<string, any>[];
    beforeAll(async () => {
        const config = withMonitoring("prod", { prometheusOperator: true, jmxAgent: { mavenRepository: "https://maven.example/maven2/" } });
        const { "bss:zookeeper": _zookeeper, ...values } = config.values;
        const kafka = JSON.parse(values["bss:kafka"] ?? "{}");
        manifests = (await renderIsolated("prod", { ...config, values: { ...values, "bss:kafka": JSON.stringify({ ...kafka, metadata: "kraft" }) } })).manifests;
    });

    it("adds the agent to the controllers' StatefulSet as to the brokers', from the same rules' ConfigMap", () => {
        for (const [name, container] of [["kafka", "kafka"], ["kafka-controller", "controller"]]) {
            const pod = manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === name)!.spec.template.spec;
            expect(pod.initContainers.map((c: any) => c.name)).toEqual(["jmx-agent"]);
            const main = pod.containers.find((c: any) => c.name === container);
            expect(main.env.map((e: any) => e.name)).toContain("KAFKA_JMX_AGENT");
            expect(main.ports.map((p: any) => p.name)).toContain("jmx-metrics");
            expect(pod.volumes).toContainEqual({ name: "jmx-config", configMap: { name: "kafka-jmx-exporter" } });
            // The stack's generated cluster ID (an Output when the agent is added) reaches the pods as the ID itself.
            expect(main.env.find((e: any) => e.name === "KAFKA_CLUSTER_ID").value).toMatch(/^[A-Za-z0-9_-]{22}$/);
        }
    });

    it("scrapes the controllers and alerts on the quorum from their metrics, with no ZooKeeper object", () => {
        const operator = manifests.filter((m) => m.apiVersion === "monitoring.coreos.com/v1");
        expect(operator.filter((m) => m.kind === "PodMonitor").map((m) => m.metadata.name).sort()).toEqual([
            "bss-kafka", "bss-kafka-controller", "bss-kafka-exporter", "bss-kong", "bss-redis",
        ]);
        const groups = operator.find((m) => m.kind === "PrometheusRule")!.spec.groups;
        expect(groups.find((g: any) => g.name === "bss-kafka-controllers").rules.map((r: any) => r.alert)).toContain("KafkaControllerQuorumLost");
        expect(groups.map((g: any) => g.name)).not.toContain("bss-zookeeper");
    });

    it("lets only the monitoring namespace reach the controllers' agent port", () => {
        const policy = manifests.find((m) => m.kind === "NetworkPolicy" && m.metadata.name === "kafka-controller-ingress");
        expect(policy).toBeDefined();
        const ports = policy!.spec.ingress.flatMap((rule: any) => rule.ports.map((p: any) => p.port));
        expect(ports).toContain(9404);
        const agentRule = policy!.spec.ingress.find((rule: any) => rule.ports.some((p: any) => p.port === 9404));
        expect(agentRule.from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }]);
    });
});

it("renders nothing of monitoring with enabled: false", async () => {
    const rendered = await renderIsolated("dev", withMonitoring("dev", { enabled: false, jmxAgent: { mavenRepository: "https://m.example" } }));
    expect(names(rendered.manifests, "ConfigMap").filter((n) => /^bss-(alert|dashboard|prometheus)|jmx/.test(n))).toEqual([]);
    const kafka = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "kafka")!;
    expect(kafka.spec.template.spec.initContainers ?? []).toEqual([]);
});

it("refuses bad monitoring settings in one error naming each key and value", () => {
    const load = () => loadSettings(inlineConfig({
        "bss:environment": "dev",
        "bss:monitoring": {
            lagThreshold: 0, kong5xxRatio: 1.5, consumerGroups: ["ok", "bad group"], releaseLabel: "-x",
            dashboardLabels: {}, jmxAgent: { mavenRepository: "http://plain.example", downloadImage: "curl:latest" }, alerts: true,
        },
    }).values, "dev");
    expect(load).toThrow(SettingsError);
    try {
        load();
    } catch (error) {
        const problems = (error as SettingsError).problems;
        for (const expected of [
            "bss:monitoring.lagThreshold must be an integer >= 1, got 0",
            "bss:monitoring.kong5xxRatio must be a number between 0 and 1 (exclusive), got 1.5",
            'bss:monitoring.consumerGroups[1] must be a consumer group name of letters, digits, \'.\', \'_\' and \'-\', got "bad group"',
            'bss:monitoring.releaseLabel must be a Kubernetes label value, got "-x"',
            "bss:monitoring.dashboardLabels must be a non-empty object of label name to value, got {}",
            'bss:monitoring.jmxAgent.mavenRepository must be an https URL, got "http://plain.example"',
            'bss:monitoring.jmxAgent.downloadImage must be an image reference with a pinned tag or digest (not "latest"), got "curl:latest"',
        ]) {
            expect(problems).toContain(expected);
        }
        expect(problems.some((p) => p.startsWith("bss:monitoring.alerts is not a known setting"))).toBe(true);
    }
});

it("defaults: on, no operator, release kube-prometheus-stack, lag 1000, grafana_dashboard: 1, no agent", () => {
    const { monitoring } = loadSettings({ "bss:environment": "dev" }, "dev");
    expect(monitoring).toEqual({
        enabled: true, prometheusOperator: false, releaseLabel: "kube-prometheus-stack", lagThreshold: 1000, consumerGroups: [],
        dashboardLabels: { grafana_dashboard: "1" }, kong5xxRatio: 0.05, kongP99LatencyMs: 2000,
        jmxAgent: { mavenRepository: undefined, downloadImage: "curlimages/curl:8.11.1" },
    });
});
