/**
 * What Prometheus scrapes: one target set per exporter, rendered as Prometheus Operator PodMonitors or as plain
 * `scrape_configs` (Kubernetes pod discovery) for a Prometheus without the operator. Both give every target the
 * fixed `job` the rules select by and the `namespace` and `pod` labels the dashboards show.
 */
import { JOBS } from "./rules";
import { JMX_AGENT_PORT } from "./jmx";

export interface ScrapeTarget {
    job: string;
    /** `matchLabels` of the pods. */
    selector: Record<string, string>;
    /** Name of the container port serving metrics. */
    portName: string;
    port: number;
    path: string;
}

export interface ScrapeInputs {
    brokerJmx: boolean;
    /** Whether the stack runs ZooKeeper; default true (false on a KRaft stack). */
    zookeeper?: boolean;
    /** Whether the stack runs KRaft controllers, scraped through the same agent as the brokers; default false. */
    kraftControllers?: boolean;
}

export function scrapeTargets(inputs: ScrapeInputs): ScrapeTarget[] {
    const byName = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "bss" });
    const targets: ScrapeTarget[] = [
        { job: JOBS.kafkaExporter, selector: byName("kafka-exporter"), portName: "metrics", port: 9308, path: "/metrics" },
        ...(inputs.zookeeper === false ? [] : [{ job: JOBS.zookeeper, selector: byName("zookeeper"), portName: "metrics", port: 7000, path: "/metrics" }]),
        { job: JOBS.redis, selector: byName("redis-cluster"), portName: "metrics", port: 9121, path: "/metrics" },
        // The Kong chart's pods carry its own labels, not the stack's part-of.
        { job: JOBS.kong, selector: { "app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": "kong" }, portName: "status", port: 8100, path: "/metrics" },
    ];
    if (inputs.brokerJmx) {
        targets.unshift({ job: JOBS.kafka, selector: byName("kafka"), portName: "jmx-metrics", port: JMX_AGENT_PORT, path: "/metrics" });
        if (inputs.kraftControllers) {
            targets.splice(1, 0, { job: JOBS.kafkaController, selector: byName("kafka-controller"), portName: "jmx-metrics", port: JMX_AGENT_PORT, path: "/metrics" });
        }
    }
    return targets;
}

/** One PodMonitor per target, labelled `release: <releaseLabel>` for kube-prometheus-stack's selector. */
export function buildPodMonitors(namespace: string, releaseLabel: string, targets: ScrapeTarget[]): Record<string, any>[] {
    return targets.map((t) => ({
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { name: `bss-${t.job}`, namespace, labels: { "app.kubernetes.io/part-of": "bss", release: releaseLabel } },
        spec: {
            selector: { matchLabels: t.selector },
            namespaceSelector: { matchNames: [namespace] },
            podMetricsEndpoints: [{
                port: t.portName,
                path: t.path,
                interval: "30s",
                scrapeTimeout: "10s",
                relabelings: [{ targetLabel: "job", replacement: t.job, action: "replace" }],
            }],
        },
    }));
}

/** `scrape_configs` for a plain Prometheus with RBAC to list pods in `namespace`. */
export function buildScrapeConfigs(namespace: string, targets: ScrapeTarget[]): Record<string, any>[] {
    return targets.map((t) => ({
        job_name: t.job,
        metrics_path: t.path,
        scrape_interval: "30s",
        scrape_timeout: "10s",
        kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [namespace] } }],
        relabel_configs: [
            ...Object.entries(t.selector).map(([label, value]) => ({
                source_labels: [`__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`],
                regex: value.replace(/[.]/g, "\\."),
                action: "keep",
            })),
            { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: t.portName, action: "keep" },
            { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
            { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
        ],
    }));
}
