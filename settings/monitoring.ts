import { boolean, integer, listOf, object, pinnedImage, Problems, Reader, shown, string } from "./fields";
import { SettingsContext } from "./common";

/** The image the JMX agent's init container downloads with: it carries curl and sha256sum and runs as a non-root user. */
export const DEFAULT_JMX_DOWNLOAD_IMAGE = "curlimages/curl:8.11.1";

export interface JmxAgentSettings {
    /**
     * Base URL of a Maven repository (Maven Central or a mirror of it) the brokers' init container downloads the
     * pinned `io.prometheus.jmx:jmx_prometheus_javaagent:0.20.0` from, checking its sha256. No default: without it
     * the brokers run without the agent and the broker alert group and panels are left out.
     */
    mavenRepository?: string;
    /** Image of that init container. Default `curlimages/curl:8.11.1`. */
    downloadImage: string;
}

export interface MonitoringSettings {
    /** Alert rules, dashboards and (when asked for) Prometheus Operator objects. Default: true. */
    enabled: boolean;
    /** Render `PodMonitor` and `PrometheusRule` objects (their CRDs must exist). Default: false (pod annotations only). */
    prometheusOperator: boolean;
    /** Value of the `release` label on every Prometheus Operator object (kube-prometheus-stack selects by it). Default `kube-prometheus-stack`. */
    releaseLabel: string;
    /** Consumer-group lag (messages, summed over a topic's partitions) above which the lag alert fires. Default 1000. */
    lagThreshold: number;
    /** Consumer groups whose lag is alerted on. Default: none (no lag alert). */
    consumerGroups: string[];
    /** Labels of the dashboard ConfigMaps, which the Grafana sidecar selects. Default `{ grafana_dashboard: "1" }`. */
    dashboardLabels: Record<string, string>;
    /** Share of Kong responses that are 5xx (over 5 minutes) above which the 5xx alert fires. Default 0.05. */
    kong5xxRatio: number;
    /** Kong's p99 request latency in milliseconds (over 5 minutes) above which the latency alert fires. Default 2000. */
    kongP99LatencyMs: number;
    /** The brokers' Prometheus JMX exporter javaagent. */
    jmxAgent: JmxAgentSettings;
}

const ratio: Reader<number> = (key, value, problems) => {
    if (typeof value === "number" && value > 0 && value < 1) {
        return value;
    }
    problems.push(`${key} must be a number between 0 and 1 (exclusive), got ${shown(value)}`);
    return undefined;
};

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const labelSet: Reader<Record<string, string>> = (key, value, problems) => {
    if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
        problems.push(`${key} must be a non-empty object of label name to value, got ${shown(value)}`);
        return undefined;
    }
    const read: Record<string, string> = {};
    let valid = true;
    for (const [name, given] of Object.entries(value)) {
        const text = typeof given === "boolean" || typeof given === "number" ? String(given) : given;
        if (!LABEL_KEY.test(name) || typeof text !== "string" || !LABEL_VALUE.test(text)) {
            problems.push(`${key}.${name} must be a Kubernetes label name with a label value, got ${shown(given)}`);
            valid = false;
            continue;
        }
        read[name] = text;
    }
    return valid ? read : undefined;
};

/** Names Kafka accepts for a consumer group that are also safe inside a PromQL regular expression. */
const groupName = string(/^[A-Za-z0-9._-]+$/, "a consumer group name of letters, digits, '.', '_' and '-'");
const labelValue = string(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, "a Kubernetes label value");
const httpsUrl = string(/^https:\/\/[^\s/]+(\/\S*)?$/, "an https URL");

interface MonitoringInput {
    enabled: boolean;
    prometheusOperator: boolean;
    releaseLabel: string;
    lagThreshold: number;
    consumerGroups: string[];
    dashboardLabels: Record<string, string>;
    kong5xxRatio: number;
    kongP99LatencyMs: number;
    jmxAgent: Partial<JmxAgentSettings>;
}

const jmxReader = object<JmxAgentSettings>({ mavenRepository: httpsUrl, downloadImage: pinnedImage });

const reader = object<MonitoringInput>({
    enabled: boolean,
    prometheusOperator: boolean,
    releaseLabel: labelValue,
    lagThreshold: integer(1),
    consumerGroups: listOf(groupName),
    dashboardLabels: labelSet,
    kong5xxRatio: ratio,
    kongP99LatencyMs: integer(1),
    jmxAgent: (key, value, problems) => jmxReader(key, value, problems),
});

export function readMonitoring(raw: unknown, _ctx: SettingsContext, problems: Problems): MonitoringSettings {
    const given = reader("bss:monitoring", raw, problems) ?? {};
    const jmx = given.jmxAgent ?? {};
    return {
        enabled: given.enabled ?? true,
        prometheusOperator: given.prometheusOperator ?? false,
        releaseLabel: given.releaseLabel ?? "kube-prometheus-stack",
        lagThreshold: given.lagThreshold ?? 1000,
        consumerGroups: given.consumerGroups ?? [],
        dashboardLabels: given.dashboardLabels ?? { grafana_dashboard: "1" },
        kong5xxRatio: given.kong5xxRatio ?? 0.05,
        kongP99LatencyMs: given.kongP99LatencyMs ?? 2000,
        jmxAgent: {
            mavenRepository: jmx.mavenRepository?.replace(/\/+$/, ""),
            downloadImage: jmx.downloadImage ?? DEFAULT_JMX_DOWNLOAD_IMAGE,
        },
    };
}
