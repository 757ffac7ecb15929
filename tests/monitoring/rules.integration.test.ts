/**
 * The rendered alert rules through Prometheus' own promtool 3.16.0: `check rules` on the rules file of every
 * stack and of the rule set with every alert, and `test rules` with a firing and a quiet case per alert
 * (tests/monitoring/promtool-cases.ts). Fails, never skips, when promtool was not built.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ALL_RULES } from "../../components/monitoring/metrics";
import { buildRuleGroups, renderRulesFile } from "../../components/monitoring/rules";
import * as yaml from "js-yaml";
import { RULES_FILE, SCRAPE_FILE } from "../../components/monitoring/objects";
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

it("fires every alert on its firing series and none on its quiet series", () => {
    const groups = buildRuleGroups(ALL_RULES);
    fs.writeFileSync(path.join(dir, "all.rules.yaml"), renderRulesFile(groups));
    expect(promtool("check", "rules", "all.rules.yaml")).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`) });
    fs.writeFileSync(path.join(dir, "all.tests.yaml"), renderPromtoolTests("all.rules.yaml", groups));
    const test = promtool("test", "rules", "all.tests.yaml");
    expect(test.output).toContain("SUCCESS");
    expect(test.code).toBe(0);
});

it("fails the same cases when a threshold no longer matches them (the cases test the rules, not themselves)", () => {
    const groups = buildRuleGroups({ ...ALL_RULES, lagThreshold: 5000, kongP99LatencyMs: 3000 });
    fs.writeFileSync(path.join(dir, "shifted.rules.yaml"), renderRulesFile(groups));
    const cases = renderPromtoolTests("shifted.rules.yaml", buildRuleGroups(ALL_RULES)).replace(/threshold 1000\)/g, "threshold 5000)").replace(/threshold 2000 ms/g, "threshold 3000 ms");
    fs.writeFileSync(path.join(dir, "shifted.tests.yaml"), cases);
    const test = promtool("test", "rules", "shifted.tests.yaml");
    expect(test.code).not.toBe(0);
    expect(test.output).toMatch(/alertname: KafkaConsumerGroupLag/);
    expect(test.output).toMatch(/alertname: KongHighP99Latency/);
    expect(test.output).not.toMatch(/alertname: KafkaOfflinePartitions/);
});
