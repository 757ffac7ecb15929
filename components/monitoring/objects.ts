/** Pure builder of every object of `bss:monitoring`; the component only hands these to Pulumi. */
import * as yaml from "js-yaml";
import * as k8s from "@pulumi/kubernetes";
import { MonitoringSettings } from "../../settings/monitoring";
import { labels } from "../shared/labels";
import { buildDashboards } from "./dashboards";
import { JMX_CONFIG_MAP, renderJmxExporterConfig } from "./jmx";
import { buildRuleGroups, renderRulesFile, RuleInputs } from "./rules";
import { buildPodMonitors, buildScrapeConfigs, scrapeTargets } from "./scrape";

export const RULES_CONFIG_MAP = "bss-alert-rules";
export const RULES_FILE = "bss.rules.yaml";
export const SCRAPE_CONFIG_MAP = "bss-prometheus-scrape";
export const SCRAPE_FILE = "scrape-configs.yaml";

export interface MonitoringInputs {
    brokers: number;
    /** ZooKeeper members; undefined on a KRaft stack (`bss:kafka.metadata: kraft`), which has no ZooKeeper to scrape or alert on. */
    zookeeperReplicas?: number;
    /** KRaft controllers (`bss:kafka.controllers.replicas`); undefined on a ZooKeeper stack. */
    kafkaControllers?: number;
    redisReplicasPerMaster: number;
    /** The brokers' default min.insync.replicas (`bss:kafka.minInsyncReplicas`); no default. */
    brokerMinInsyncReplicas: number;
    /** Each declared topic's min.insync.replicas (`bss:topics`), by name; no default. */
    topicMinInsyncReplicas: Record<string, number>;
}

export interface MonitoringObjects {
    rules: k8s.core.v1.ConfigMapArgs;
    scrapeConfig: k8s.core.v1.ConfigMapArgs;
    dashboards: k8s.core.v1.ConfigMapArgs[];
    /** Present when the brokers (and a KRaft stack's controllers) run the JMX agent. */
    jmxConfig?: k8s.core.v1.ConfigMapArgs;
    /** Prometheus Operator objects, only with `prometheusOperator: true`. */
    prometheusRule?: Record<string, any>;
    podMonitors: Record<string, any>[];
}

export function ruleInputs(settings: MonitoringSettings, inputs: MonitoringInputs): RuleInputs {
    return {
        brokers: inputs.brokers,
        zookeeperReplicas: inputs.zookeeperReplicas,
        kafkaControllers: inputs.kafkaControllers,
        brokerJmx: settings.jmxAgent.mavenRepository !== undefined,
        brokerMinInsyncReplicas: inputs.brokerMinInsyncReplicas,
        topicMinInsyncReplicas: inputs.topicMinInsyncReplicas,
        consumerGroups: settings.consumerGroups,
        lagThreshold: settings.lagThreshold,
        redisReplicasPerMaster: inputs.redisReplicasPerMaster,
        kong5xxRatio: settings.kong5xxRatio,
        kongP99LatencyMs: settings.kongP99LatencyMs,
    };
}

export function buildMonitoringObjects(namespace: string, settings: MonitoringSettings, inputs: MonitoringInputs): MonitoringObjects {
    const meta = (name: string, extra: Record<string, string> = {}) => ({
        name, namespace, labels: { ...labels("monitoring", { "app.kubernetes.io/component": "monitoring" }), ...extra },
    });
    const brokerJmx = settings.jmxAgent.mavenRepository !== undefined;
    const groups = buildRuleGroups(ruleInputs(settings, inputs));
    const targets = scrapeTargets({ brokerJmx, zookeeper: inputs.zookeeperReplicas !== undefined, kraftControllers: inputs.kafkaControllers !== undefined });
    const dashboards = buildDashboards().map((d) => ({
        metadata: meta(`bss-dashboard-${d.uid.replace(/^bss-/, "")}`, settings.dashboardLabels),
        data: { [`${d.uid}.json`]: JSON.stringify(d, null, 2) },
    }));
    return {
        rules: { metadata: meta(RULES_CONFIG_MAP), data: { [RULES_FILE]: renderRulesFile(groups) } },
        scrapeConfig: {
            metadata: meta(SCRAPE_CONFIG_MAP),
            data: { [SCRAPE_FILE]: yaml.dump({ scrape_configs: buildScrapeConfigs(namespace, targets) }, { lineWidth: -1 }) },
        },
        dashboards,
        jmxConfig: brokerJmx ? { metadata: meta(JMX_CONFIG_MAP), data: { "config.yaml": renderJmxExporterConfig() } } : undefined,
        prometheusRule: settings.prometheusOperator ? {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { ...meta("bss-alerts"), labels: { ...meta("bss-alerts").labels, release: settings.releaseLabel } },
            spec: { groups },
        } : undefined,
        podMonitors: settings.prometheusOperator ? buildPodMonitors(namespace, settings.releaseLabel, targets) : [],
    };
}
