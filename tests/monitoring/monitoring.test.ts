/** The monitoring builders: rules per stack shape, dashboards, scrape objects, the brokers' JMX agent. */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { buildDashboards } from "../../components/monitoring/dashboards";
import {
    JMX_AGENT_JAR, JMX_AGENT_MAVEN_PATH, JMX_AGENT_PORT, JMX_AGENT_SHA256, javaAgentOption, renderJmxExporterConfig, withJmxAgent,
} from "../../components/monitoring/jmx";
import { buildMonitoringObjects } from "../../components/monitoring/objects";
import { buildRuleGroups, KAFKA_CONTROLLER_GROUP, KAFKA_EXPORTER_GROUP, RuleInputs } from "../../components/monitoring/rules";
import { buildPodMonitors, buildScrapeConfigs, scrapeTargets } from "../../components/monitoring/scrape";
import { buildKafkaObjects } from "../../components/kafka/objects";
import { loadSettings } from "../../settings";
import { readMonitoring } from "../../settings/monitoring";
import { runStartScript, scratchDir } from "../kafka/script-runner";
import { renderKafkaConfigFiles } from "./start-files";

const BASE: RuleInputs = {
    brokers: 3, zookeeperReplicas: 3, brokerJmx: true, brokerMinInsyncReplicas: 2, topicMinInsyncReplicas: {}, consumerGroups: [], lagThreshold: 1000,
    redisReplicasPerMaster: 1, kong5xxRatio: 0.05, kongP99LatencyMs: 2000,
};
const alerts = (inputs: Partial<RuleInputs>) => buildRuleGroups({ ...BASE, ...inputs }).flatMap((g) => g.rules);
const alertNames = (inputs: Partial<RuleInputs>) => alerts(inputs).map((r) => r.alert);

describe("alert rules", () => {
    it("cover every alert the issue names, each with severity, summary, description and a runbook link", () => {
        const all = alerts({ consumerGroups: ["billing"] });
        expect(all.map((r) => r.alert).sort()).toEqual([
            "KafkaActiveControllerCount", "KafkaBrokerDown", "KafkaConsumerGroupLag", "KafkaOfflinePartitions", "KafkaUnderMinIsrPartitions",
            "KafkaUnderReplicatedPartitions", "KongHigh5xxRatio", "KongHighP99Latency", "RedisClusterSlotsNotCovered", "RedisClusterStateNotOk",
            "RedisMasterWithoutReplica", "RedisMemoryHigh", "ZooKeeperQuorumLost",
        ]);
        for (const r of all) {
            expect(["critical", "warning"]).toContain(r.labels.severity);
            expect(r.annotations.summary.length).toBeGreaterThan(10);
            expect(r.annotations.description.length).toBeGreaterThan(10);
            expect(r.annotations.runbook_url).toBe(`README.md#${r.alert.toLowerCase()}`);
        }
    });

    it("give every alert a runbook section in the README", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        for (const r of alerts({ consumerGroups: ["billing"] })) {
            expect(readme).toContain(`#### ${r.alert}`);
        }
    });

    it("read the same Kafka alerts from kafka_exporter without the JMX agent, all but the controller one it cannot see", () => {
        const exporterRules = alerts({ brokerJmx: false }).filter((r) => r.alert.startsWith("Kafka"));
        expect(exporterRules.map((r) => r.alert).sort()).toEqual(["KafkaBrokerDown", "KafkaOfflinePartitions", "KafkaUnderMinIsrPartitions", "KafkaUnderReplicatedPartitions"]);
        for (const r of exporterRules) {
            expect(r.expr).toContain('job="kafka-exporter"');
            expect(r.expr).not.toContain('job="kafka"');
        }
        const withAgent = alerts({}).filter((r) => r.alert.startsWith("Kafka"));
        expect(withAgent.every((r) => r.expr.includes('job="kafka"') && !r.expr.includes("kafka-exporter"))).toBe(true);
        expect(buildRuleGroups({ ...BASE, brokerJmx: false }).map((g) => g.name)).toContain(KAFKA_EXPORTER_GROUP);
        expect(alerts({ brokerJmx: false, brokers: 5 }).find((r) => r.alert === "KafkaBrokerDown")!.expr).toBe('(max(kafka_brokers{job="kafka-exporter"}) or vector(0)) < 5');
    });

    it("compare kafka_exporter's in-sync replicas with each topic's declared min.insync.replicas, the brokers' default for the rest", () => {
        const underMinIsr = (brokerMinInsyncReplicas: number, topicMinInsyncReplicas: Record<string, number>) =>
            alerts({ brokerJmx: false, brokerMinInsyncReplicas, topicMinInsyncReplicas }).find((r) => r.alert === "KafkaUnderMinIsrPartitions")!.expr;
        const isr = 'kafka_topic_partition_in_sync_replica{job="kafka-exporter"';
        expect(underMinIsr(2, {})).toBe(`count((${isr}} < 2)) > 0`);
        // Topics declaring the default need no term of their own.
        expect(underMinIsr(2, { "bss.events": 2 })).toBe(`count((${isr}} < 2)) > 0`);
        expect(underMinIsr(2, { "bss.events": 2, "bss.scratch": 1, "a_b": 1, "c-d": 3 })).toBe(
            `count((${isr}, topic=~"a_b|bss\\\\.scratch"} < 1) or (${isr}, topic=~"c-d"} < 3) or (${isr}, topic!~"a_b|bss\\\\.scratch|c-d"} < 2)) > 0`);
    });

    it("alert on lag only for the declared groups, above the threshold", () => {
        expect(alertNames({})).not.toContain("KafkaConsumerGroupLag");
        const lag = alerts({ consumerGroups: ["billing", "orders.v2"], lagThreshold: 250 }).find((r) => r.alert === "KafkaConsumerGroupLag")!;
        expect(lag.expr).toContain('consumergroup=~"billing|orders\\\\.v2"');
        expect(lag.expr).toMatch(/> 250$/);
    });

    it("size broker-down and quorum-lost from the stack: brokers and ZooKeeper majority", () => {
        const rules = alerts({ brokers: 5, zookeeperReplicas: 5 });
        expect(rules.find((r) => r.alert === "KafkaBrokerDown")!.expr).toMatch(/< 5$/);
        expect(rules.find((r) => r.alert === "ZooKeeperQuorumLost")!.expr).toMatch(/< 3$/);
        expect(alerts({ zookeeperReplicas: 1 }).find((r) => r.alert === "ZooKeeperQuorumLost")!.expr).toMatch(/< 1$/);
    });

    it("leave 'master without replica' out when the stack has no replicas (dev)", () => {
        expect(alertNames({ redisReplicasPerMaster: 0 })).not.toContain("RedisMasterWithoutReplica");
    });

    it("put the Kong thresholds into the expressions", () => {
        const rules = alerts({ kong5xxRatio: 0.2, kongP99LatencyMs: 750 });
        expect(rules.find((r) => r.alert === "KongHigh5xxRatio")!.expr).toMatch(/> 0.2$/);
        expect(rules.find((r) => r.alert === "KongHighP99Latency")!.expr).toMatch(/> 750$/);
    });
});

describe("alert rules of a KRaft stack with the JMX agent", () => {
    const kraft = (controllers: number) => buildRuleGroups({ ...BASE, zookeeperReplicas: undefined, kafkaControllers: controllers });
    const rulesOf = (controllers: number, group: string) => kraft(controllers).find((g) => g.name === group)?.rules ?? [];

    it("read the controller alerts from the controllers' job, the broker alerts from the brokers', and nothing of ZooKeeper", () => {
        expect(kraft(3).map((g) => g.name)).not.toContain("bss-zookeeper");
        const controller = rulesOf(3, KAFKA_CONTROLLER_GROUP);
        expect(controller.map((r) => r.alert)).toEqual([
            "KafkaOfflinePartitions", "KafkaActiveControllerCount", "KafkaControllerQuorumLost", "KafkaControllerDown", "KafkaFencedBrokers", "KafkaMetadataErrors",
        ]);
        for (const r of controller) {
            expect(r.expr).toContain('job="kafka-controller"');
            expect(r.expr).not.toContain('job="kafka"');
        }
        expect(rulesOf(3, "bss-kafka-brokers").map((r) => r.alert)).toEqual(["KafkaUnderMinIsrPartitions", "KafkaUnderReplicatedPartitions", "KafkaBrokerDown"]);
        // Every controller reports the offline count from its own metadata image: the highest, never the sum.
        expect(controller[0].expr).toBe('max(kafka_controller_kafkacontroller_offlinepartitionscount{job="kafka-controller"}) > 0');
    });

    it("size the quorum alerts from the controller count, leaving 'controller down' out when one controller is the quorum", () => {
        const expr = (controllers: number, alert: string) => rulesOf(controllers, KAFKA_CONTROLLER_GROUP).find((r) => r.alert === alert)?.expr;
        expect(expr(3, "KafkaControllerQuorumLost")).toBe('(count(up{job="kafka-controller"} == 1) or vector(0)) < 2');
        expect(expr(3, "KafkaControllerDown")).toBe('(count(up{job="kafka-controller"} == 1) or vector(0)) < 3');
        expect(expr(5, "KafkaControllerQuorumLost")).toMatch(/< 3$/);
        expect(expr(1, "KafkaControllerQuorumLost")).toMatch(/< 1$/);
        expect(expr(1, "KafkaControllerDown")).toBeUndefined();
    });

    it("give no controller group without the agent: kafka_exporter's alerts then stand for the partitions", () => {
        const groups = buildRuleGroups({ ...BASE, zookeeperReplicas: undefined, kafkaControllers: 3, brokerJmx: false });
        expect(groups.map((g) => g.name)).toContain(KAFKA_EXPORTER_GROUP);
        expect(groups.map((g) => g.name)).not.toContain(KAFKA_CONTROLLER_GROUP);
    });

    it("give every controller alert a runbook section in the README", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        for (const r of rulesOf(3, KAFKA_CONTROLLER_GROUP)) {
            expect(readme).toContain(`#### ${r.alert}`);
        }
    });

    it("scrape the controllers' agent as job kafka-controller, next to the brokers", () => {
        const targets = scrapeTargets({ brokerJmx: true, zookeeper: false, kraftControllers: true });
        expect(targets.map((t) => t.job)).toEqual(["kafka", "kafka-controller", "kafka-exporter", "redis", "kong"]);
        expect(targets[1]).toEqual({ job: "kafka-controller", selector: { "app.kubernetes.io/name": "kafka-controller", "app.kubernetes.io/part-of": "bss" },
            portName: "jmx-metrics", port: JMX_AGENT_PORT, path: "/metrics" });
        expect(scrapeTargets({ brokerJmx: false, zookeeper: false, kraftControllers: true }).map((t) => t.job)).not.toContain("kafka-controller");
    });
});

describe("dashboards", () => {
    const dashboards = buildDashboards();

    it("are Kafka, Kong and Redis, with a unique uid and a title", () => {
        expect(dashboards.map((d) => d.uid)).toEqual(["bss-kafka-overview", "bss-kong-gateway", "bss-redis-cluster"]);
        for (const d of dashboards) {
            expect(d.title).toMatch(/^BSS \/ /);
            expect(d.uid.length).toBeLessThanOrEqual(40);
        }
    });

    it("read every query through the datasource variable, with no data source UID written in", () => {
        for (const d of dashboards) {
            expect(d.templating.list).toEqual([expect.objectContaining({ name: "datasource", type: "datasource", query: "prometheus" })]);
            const text = JSON.stringify(d);
            const uids = [...text.matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]).filter((u) => u !== d.uid);
            expect(new Set(uids)).toEqual(new Set(["${datasource}"]));
            for (const p of d.panels) {
                expect(p.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
                expect(p.targets.length).toBeGreaterThan(0);
                for (const t of p.targets) {
                    expect(t.datasource).toEqual(p.datasource);
                    expect(t.expr).toMatch(/\S/);
                }
            }
            // Panel ids unique, grid positions inside Grafana's 24 columns.
            expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
            expect(d.panels.every((p) => p.gridPos.x + p.gridPos.w <= 24)).toBe(true);
        }
    });

    it("show what the issue lists: partitions, throughput, lag; rate, latency, errors, rate-limited; memory, hit ratio, ops, replication", () => {
        const titles = (uid: string) => dashboards.find((d) => d.uid === uid)!.panels.map((p) => p.title).join(" | ");
        expect(titles("bss-kafka-overview")).toMatch(/Brokers.*Partitions.*Bytes in.*Request latency.*ISR.*Log flush.*lag/s);
        expect(titles("bss-kong-gateway")).toMatch(/Requests.*p50 \/ p95 \/ p99.*4xx and 5xx.*Rate-limited.*Connections/s);
        expect(titles("bss-redis-cluster")).toMatch(/Memory.*Hit ratio.*Commands.*Evictions.*Clients.*replication/s);
    });
});

describe("scrape objects", () => {
    it("render PodMonitors with the release label and the rules' job names only when the operator is on", () => {
        const settings = readMonitoring({ prometheusOperator: true, releaseLabel: "prom", jmxAgent: { mavenRepository: "https://maven.example/repo" } }, { environment: "prod", namespace: "bss", stack: "prod" }, []);
        const objects = buildMonitoringObjects("bss", settings, { brokers: 3, zookeeperReplicas: 3, redisReplicasPerMaster: 1, brokerMinInsyncReplicas: 2, topicMinInsyncReplicas: {} });
        expect(objects.podMonitors.map((m) => m.metadata.name)).toEqual(["bss-kafka", "bss-kafka-exporter", "bss-zookeeper", "bss-redis", "bss-kong"]);
        for (const m of objects.podMonitors) {
            expect(m.metadata.labels.release).toBe("prom");
            expect(m.spec.namespaceSelector).toEqual({ matchNames: ["bss"] });
            expect(m.spec.podMetricsEndpoints[0].relabelings).toEqual([{ targetLabel: "job", replacement: m.metadata.name.replace(/^bss-/, ""), action: "replace" }]);
        }
        expect(objects.prometheusRule!.metadata.labels.release).toBe("prom");
        expect(objects.prometheusRule!.spec.groups.map((g: any) => g.name)).toEqual(["bss-kafka-brokers", "bss-zookeeper", "bss-redis", "bss-kong"]);

        const plain = buildMonitoringObjects("bss", readMonitoring({}, { environment: "dev", namespace: "bss", stack: "dev" }, []), { brokers: 3, zookeeperReplicas: 1, redisReplicasPerMaster: 0, brokerMinInsyncReplicas: 2, topicMinInsyncReplicas: {} });
        expect(plain.podMonitors).toEqual([]);
        expect(plain.prometheusRule).toBeUndefined();
        expect(plain.jmxConfig).toBeUndefined();
        expect(Object.keys(plain.rules.data as object)).toEqual(["bss.rules.yaml"]);
    });

    it("keep only the exporter's pods and port in the plain scrape config, labelled with namespace and pod", () => {
        const [kafka] = buildScrapeConfigs("bss", scrapeTargets({ brokerJmx: true }));
        expect(kafka.job_name).toBe("kafka");
        expect(kafka.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: ["bss"] } }]);
        expect(kafka.relabel_configs).toEqual(expect.arrayContaining([
            { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], regex: "kafka", action: "keep" },
            { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: "jmx-metrics", action: "keep" },
            { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
        ]));
        expect(buildPodMonitors("bss", "r", scrapeTargets({ brokerJmx: false })).map((m) => m.metadata.name)).not.toContain("bss-kafka");
    });

    it("label the dashboards for the Grafana sidecar, configurably", () => {
        const settings = readMonitoring({ dashboardLabels: { "grafana.io/dashboard": "bss" } }, { environment: "dev", namespace: "bss", stack: "dev" }, []);
        const objects = buildMonitoringObjects("bss", settings, { brokers: 1, zookeeperReplicas: 1, redisReplicasPerMaster: 0, brokerMinInsyncReplicas: 2, topicMinInsyncReplicas: {} });
        for (const d of objects.dashboards) {
            expect((d.metadata as any).labels["grafana.io/dashboard"]).toBe("bss");
            const [json] = Object.values(d.data as Record<string, string>);
            expect(JSON.parse(json).uid).toMatch(/^bss-/);
        }
    });
});

describe("the brokers' JMX exporter agent", () => {
    const kafka = () => buildKafkaObjects("bss", loadSettings({ "bss:environment": "dev" }, "dev").kafka, "zookeeper:2181/bss-kafka").statefulSet;
    const jmx = { mavenRepository: "https://maven.example/maven2", downloadImage: "curlimages/curl:8.11.1" };

    it("downloads the pinned jar and refuses other bytes before the broker starts", () => {
        const sts: any = withJmxAgent(kafka(), jmx, { x: "y" });
        const init = sts.spec.template.spec.initContainers.find((c: any) => c.name === "jmx-agent");
        const env = Object.fromEntries(init.env.map((e: any) => [e.name, e.value]));
        expect(env.AGENT_URL).toBe(`https://maven.example/maven2/${JMX_AGENT_MAVEN_PATH}`);
        expect(env.AGENT_SHA256).toBe(JMX_AGENT_SHA256);
        expect(init.command.join(" ")).toContain("sha256sum -c -");
        expect(init.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        expect(init.resources.limits).toBeDefined();
    });

    it("hands the agent to start.sh, opens its port and mounts its rules, changing nothing else of the broker", () => {
        const before: any = kafka();
        const after: any = withJmxAgent(before, jmx, { x: "y" });
        const broker = after.spec.template.spec.containers[0];
        expect(broker.env).toContainEqual({ name: "KAFKA_JMX_AGENT", value: javaAgentOption() });
        expect(broker.ports).toContainEqual({ name: "jmx-metrics", containerPort: JMX_AGENT_PORT });
        expect(after.spec.template.spec.volumes).toContainEqual({ name: "jmx-config", configMap: { name: "kafka-jmx-exporter" } });
        expect(after.spec.template.metadata.annotations["bss/jmx-exporter-checksum"]).toMatch(/^[0-9a-f]{16}$/);
        expect(JSON.stringify(withJmxAgent(before, jmx, { x: "z" }))).not.toEqual(JSON.stringify(after));
        // The input is left as it was.
        expect(before.spec.template.spec.initContainers).toBeUndefined();
        expect(before.spec.template.spec.containers[0].env.map((e: any) => e.name)).not.toContain("KAFKA_JMX_AGENT");
    });

    it("keeps every other value as it is, a Pulumi Output included (a KRaft stack's cluster ID in the env)", () => {
        const clusterId = pulumi.output("MkU3OEVBNTcwNTJENDM2Qk");
        const before: any = kafka();
        before.spec.template.spec.containers[0].env.push({ name: "KAFKA_CLUSTER_ID", value: clusterId });
        const after: any = withJmxAgent(before, jmx, { x: "y" });
        expect(after.spec.template.spec.containers[0].env.find((e: any) => e.name === "KAFKA_CLUSTER_ID").value).toBe(clusterId);
        expect(after.spec.selector).toBe(before.spec.selector);
        expect(after.spec.volumeClaimTemplates).toBe(before.spec.volumeClaimTemplates);
    });

    it("is pinned to the same jar by the fetch script the tests use", () => {
        const script = fs.readFileSync(path.join(__dirname, "..", "..", "scripts", "monitoring", "fetch-jmx-exporter.sh"), "utf8");
        expect(script).toContain(`SHA256=${JMX_AGENT_SHA256}`);
        expect(JMX_AGENT_JAR).toBe("jmx_prometheus_javaagent-0.20.0.jar");
    });

    it("renders rules the agent reads: lower-cased names, first match wins, gauges last", () => {
        const config = yaml.load(renderJmxExporterConfig()) as any;
        expect(config.lowercaseOutputName).toBe(true);
        expect(config.rules[config.rules.length - 1].pattern).toBe("kafka.(\\w+)<type=([^,]+), name=([^,]+)><>Value");
        for (const r of config.rules) {
            expect(() => new RegExp(r.pattern)).not.toThrow();
        }
    });

    it("makes start.sh pass -javaagent to java only when KAFKA_JMX_AGENT is set", () => {
        const dir = scratchDir();
        try {
            const env = renderKafkaConfigFiles(dir);
            const without = runStartScript(START, dir, env);
            expect(without.code).toBe(0);
            expect(without.javaArgs.some((a) => a.startsWith("-javaagent"))).toBe(false);
            const withAgent = runStartScript(START, dir, { ...env, KAFKA_JMX_AGENT: javaAgentOption() });
            expect(withAgent.code).toBe(0);
            expect(withAgent.javaArgs).toContain(`-javaagent:${javaAgentOption()}`);
            expect(withAgent.javaArgs.indexOf(`-javaagent:${javaAgentOption()}`)).toBeLessThan(withAgent.javaArgs.indexOf("kafka.Kafka"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

const START = path.join(__dirname, "..", "..", "components", "kafka", "start.sh");

describe("the kafka-exporter's probes", () => {
    it("scrape /metrics with a bound, so an exporter whose /metrics hangs is restarted", () => {
        const exporter: any = buildKafkaObjects("bss", loadSettings({ "bss:environment": "dev" }, "dev").kafka, "zk:2181").exporter;
        const container = exporter.spec.template.spec.containers[0];
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
            expect(probe.httpGet).toEqual({ path: "/metrics", port: "metrics" });
            expect(probe.timeoutSeconds).toBeGreaterThan(0);
            expect(probe.tcpSocket).toBeUndefined();
        }
        expect(container.livenessProbe.failureThreshold * container.livenessProbe.periodSeconds).toBeLessThanOrEqual(120);
    });
});
