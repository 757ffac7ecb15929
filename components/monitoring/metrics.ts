/** Every metric name the rules and dashboards of this module query, for the tests that prove each one exists. */
import { buildDashboards } from "./dashboards";
import { buildRuleGroups, RuleInputs } from "./rules";

/** Inputs that render every rule there is (JMX on, consumer groups declared, Redis replicas). */
export const ALL_RULES: RuleInputs = {
    brokers: 3, zookeeperReplicas: 3, brokerJmx: true, brokerMinInsyncReplicas: 2, topicMinInsyncReplicas: { "bss.events": 2, "bss.scratch": 1 },
    consumerGroups: ["billing"], lagThreshold: 1000, redisReplicasPerMaster: 1, kong5xxRatio: 0.05, kongP99LatencyMs: 2000,
};

/** The same without the JMX agent: the Kafka alerts read from kafka_exporter, one topic with its own min.insync.replicas. */
export const ALL_EXPORTER_RULES: RuleInputs = { ...ALL_RULES, brokerJmx: false };

/** A KRaft stack with the agent: three controllers, no ZooKeeper; the controller alerts read the controllers. */
export const ALL_KRAFT_RULES: RuleInputs = { ...ALL_RULES, zookeeperReplicas: undefined, kafkaControllers: 3 };

/** PromQL functions and keywords that look like metric names to the scan below. */
const NOT_METRICS = new Set(["sum", "count", "max", "min", "rate", "by", "on", "and", "or", "unless", "vector", "histogram_quantile", "group_left", "le"]);

/** Metric names in a PromQL expression: identifiers outside of strings and label matchers. */
export function metricNames(expr: string): string[] {
    const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, "{}").replace(/\[[^\]]*\]/g, "[]");
    const withoutGroupings = withoutStrings.replace(/\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
    const names = withoutGroupings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
    return [...new Set(names.filter((n) => !NOT_METRICS.has(n) && !/^\d/.test(n)))].sort();
}

/** Every expression of every rule and panel, with where it comes from. */
export function allQueries(): { where: string; expr: string }[] {
    const rules = [ALL_RULES, ALL_EXPORTER_RULES, ALL_KRAFT_RULES].flatMap((inputs) => buildRuleGroups(inputs))
        .flatMap((g) => g.rules.map((r) => ({ where: `rule ${g.name} ${r.alert}`, expr: r.expr })));
    const panels = buildDashboards().flatMap((d) => d.panels.flatMap((p: any) => p.targets.map((t: any) => ({ where: `${d.uid} "${p.title}"`, expr: t.expr }))));
    return [...rules, ...panels];
}

/** Every metric queried, sorted. */
export function queriedMetrics(): string[] {
    return [...new Set(allQueries().flatMap((q) => metricNames(q.expr)))].sort();
}
