/**
 * The rendered alert rules through Prometheus' own promtool 3.16.0: `check rules` on the rules file of every
 * stack and of the rule set with every alert, and `test rules` with a firing and a quiet case per alert
 * (tests/monitoring/promtool-cases.ts). Fails, never skips, when promtool was not built.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ALL_EXPORTER_RULES, ALL_KRAFT_RULES, ALL_RULES } from "../../components/monitoring/metrics";
import { buildRuleGroups, KAFKA_EXPORTER_GROUP, renderRulesFile, RuleGroup } from "../../components/monitoring/rules";
import * as yaml from "js-yaml";
import { ruleInputs, RULES_FILE, SCRAPE_FILE } from "../../components/monitoring/objects";
import { loadSettings } from "../../settings";
import { object, renderIsolated, stackFile } from "../helpers/render";
import { renderPromtoolTests } from "./promtool-cases";
import { prometheusTool } from "./prometheus-tools";

jest.setTimeout(120_000);

let dir: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-promtool-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function promtool(...args: string[]) {
    const run = spawnSync(prometheusTool("promtool"), args, { cwd: dir, encoding: "utf8" });
    return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

it.each(["dev", "prod"])("accepts the rules file the %s stack renders into its ConfigMap", async (stack) => {
    const rendered = await renderIsolated(stack, stackFile(stack));
    const rules = object(rendered, "ConfigMap", "bss-alert-rules").data[RULES_FILE];
    fs.writeFileSync(path.join(dir, `${stack}.rules.yaml`), rules);
    const check = promtool("check", "rules", `${stack}.rules.yaml`);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.code).toBe(0);
});

it("accepts the rendered scrape config and rules file as a Prometheus configuration (prod, agent on: every alert but the lag one, which needs declared groups)", async () => {
    const config = stackFile("prod");
    config.values["bss:monitoring"] = JSON.stringify({ jmxAgent: { mavenRepository: "https://maven.example/maven2" } });
    const rendered = await renderIsolated("prod", config);
    fs.writeFileSync(path.join(dir, "prod-agent.rules.yaml"), object(rendered, "ConfigMap", "bss-alert-rules").data[RULES_FILE]);
    const scrape = yaml.load(object(rendered, "ConfigMap", "bss-prometheus-scrape").data[SCRAPE_FILE]) as { scrape_configs: { job_name: string }[] };
    expect(scrape.scrape_configs.map((c) => c.job_name)).toEqual(["kafka", "kafka-exporter", "zookeeper", "redis", "kong"]);
    fs.writeFileSync(path.join(dir, "prometheus.yml"), yaml.dump({ rule_files: ["prod-agent.rules.yaml"], ...scrape }));
    const check = promtool("check", "config", "prometheus.yml");
    expect(check.output).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    expect(check.output).toMatch(/SUCCESS: 12 rules found/);
    expect(check.code).toBe(0);
});

it.each([["with the JMX agent", "all", ALL_RULES], ["without it (Kafka alerts from kafka_exporter)", "exporter", ALL_EXPORTER_RULES],
    ["of a KRaft stack with the agent (controller alerts from the controllers)", "kraft", ALL_KRAFT_RULES],
    ["of a one-controller KRaft stack", "kraft-one", { ...ALL_KRAFT_RULES, kafkaControllers: 1 }]] as const)(
    "fires every alert %s on its firing series and none on its quiet series", (_, name, inputs) => {
        const groups = buildRuleGroups(inputs);
        fs.writeFileSync(path.join(dir, `${name}.rules.yaml`), renderRulesFile(groups));
        expect(promtool("check", "rules", `${name}.rules.yaml`)).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`) });
        fs.writeFileSync(path.join(dir, `${name}.tests.yaml`), renderPromtoolTests(`${name}.rules.yaml`, groups, inputs));
        const test = promtool("test", "rules", `${name}.tests.yaml`);
        expect(test.output).toContain("SUCCESS");
        expect(test.code).toBe(0);
    });

it.each(["dev", "prod"])("fires the kafka_exporter Kafka alerts the %s stack renders by default on their cases, sized by its settings", async (stack) => {
    const rendered = await renderIsolated(stack, stackFile(stack));
    const { groups } = yaml.load(object(rendered, "ConfigMap", "bss-alert-rules").data[RULES_FILE]) as { groups: RuleGroup[] };
    const exporterGroups = groups.filter((g) => g.name === KAFKA_EXPORTER_GROUP);
    expect(exporterGroups.flatMap((g) => g.rules.map((r) => r.alert)).sort()).toEqual(["KafkaBrokerDown", "KafkaOfflinePartitions", "KafkaUnderMinIsrPartitions", "KafkaUnderReplicatedPartitions"]);
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert))).not.toContain("KafkaActiveControllerCount");
    const settings = loadSettings(stackFile(stack).values, stack);
    const inputs = ruleInputs(settings.monitoring, {
        brokers: settings.kafka.brokers, zookeeperReplicas: settings.zookeeper.replicas, redisReplicasPerMaster: settings.redis.replicasPerMaster,
        brokerMinInsyncReplicas: settings.kafka.minInsyncReplicas,
        topicMinInsyncReplicas: Object.fromEntries(settings.topics.map((t) => [t.name, Number(t.config["min.insync.replicas"])])),
    });
    fs.writeFileSync(path.join(dir, `${stack}-exporter.rules.yaml`), renderRulesFile(exporterGroups));
    fs.writeFileSync(path.join(dir, `${stack}-exporter.tests.yaml`), renderPromtoolTests(`${stack}-exporter.rules.yaml`, exporterGroups, inputs));
    const test = promtool("test", "rules", `${stack}-exporter.tests.yaml`);
    expect(test.output).toContain("SUCCESS");
    expect(test.code).toBe(0);
});

it("fails the same cases when a threshold no longer matches them (the cases test the rules, not themselves)", () => {
    const groups = buildRuleGroups({ ...ALL_RULES, lagThreshold: 5000, kongP99LatencyMs: 3000 });
    fs.writeFileSync(path.join(dir, "shifted.rules.yaml"), renderRulesFile(groups));
    const cases = renderPromtoolTests("shifted.rules.yaml", buildRuleGroups(ALL_RULES), ALL_RULES).replace(/threshold 1000\)/g, "threshold 5000)").replace(/threshold 2000 ms/g, "threshold 3000 ms");
    fs.writeFileSync(path.join(dir, "shifted.tests.yaml"), cases);
    const test = promtool("test", "rules", "shifted.tests.yaml");
    expect(test.code).not.toBe(0);
    expect(test.output).toMatch(/alertname: KafkaConsumerGroupLag/);
    expect(test.output).toMatch(/alertname: KongHighP99Latency/);
    expect(test.output).not.toMatch(/alertname: KafkaOfflinePartitions/);
});

it("fails the kafka_exporter under-min-ISR cases when the rule ignores a topic's own min.insync.replicas", () => {
    const groups = buildRuleGroups({ ...ALL_EXPORTER_RULES, topicMinInsyncReplicas: {} }).filter((g) => g.name === KAFKA_EXPORTER_GROUP);
    fs.writeFileSync(path.join(dir, "default-only.rules.yaml"), renderRulesFile(groups));
    fs.writeFileSync(path.join(dir, "default-only.tests.yaml"), renderPromtoolTests("default-only.rules.yaml", groups, ALL_EXPORTER_RULES));
    const test = promtool("test", "rules", "default-only.tests.yaml");
    expect(test.code).not.toBe(0);
    expect(test.output).toMatch(/name: bss-kafka-exporter-partitions KafkaUnderMinIsrPartitions stays quiet/);
    expect(test.output).not.toMatch(/alertname: KafkaOfflinePartitions/);
});
