import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MonitoringSettings } from "../../settings/monitoring";
import { JmxAgentSettings } from "../../settings/monitoring";
import { JMX_CONFIG_MAP, renderJmxExporterConfig, withJmxAgent } from "./jmx";
import { buildMonitoringObjects, MonitoringInputs } from "./objects";

export interface MonitoringArgs {
    /** Namespace of every object; no default (the stack's `bss:namespace`). */
    namespace: string;
    /** The stack's `bss:monitoring` slice; defaults are applied in settings/monitoring.ts. */
    settings: MonitoringSettings;
    /** Sizes the rules depend on (broker count, ZooKeeper members, Redis replicas per master); no default. */
    inputs: MonitoringInputs;
}

/**
 * Alert rules (a plain rules file in a ConfigMap, and a PrometheusRule with the operator), Grafana dashboards as
 * sidecar-labelled ConfigMaps, the plain scrape config, PodMonitors with the operator, and the brokers' JMX
 * exporter rules when the agent is on.
 */
export class Monitoring extends pulumi.ComponentResource {
    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:monitoring:Monitoring", name, {}, opts);
        const objects = buildMonitoringObjects(args.namespace, args.settings, args.inputs);
        new k8s.core.v1.ConfigMap(`${name}-rules`, objects.rules, { parent: this });
        new k8s.core.v1.ConfigMap(`${name}-scrape`, objects.scrapeConfig, { parent: this });
        objects.dashboards.forEach((d) => new k8s.core.v1.ConfigMap(`${name}-${(d.metadata as any).name}`, d, { parent: this }));
        if (objects.jmxConfig) {
            new k8s.core.v1.ConfigMap(`${name}-jmx-exporter`, objects.jmxConfig, { parent: this });
        }
        if (objects.prometheusRule) {
            new k8s.apiextensions.CustomResource(`${name}-prometheus-rule`, objects.prometheusRule as any, { parent: this });
        }
        objects.podMonitors.forEach((m) => new k8s.apiextensions.CustomResource(`${name}-${m.metadata.name}`, m as any, { parent: this }));
        this.registerOutputs({});
    }
}

/**
 * A resource transformation for a Kafka component: the StatefulSet's `container` gets the JMX agent
 * (components/monitoring/jmx.ts), nothing else changes. Keeps the agent's wiring in this module while
 * components/kafka renders the brokers (`kafka`) and the KRaft controllers (`controller`).
 */
export function jmxAgentTransformation(settings: JmxAgentSettings, container: "kafka" | "controller"): pulumi.ResourceTransformation {
    const config = { [JMX_CONFIG_MAP]: renderJmxExporterConfig() };
    return (resource) => {
        if (resource.type !== "kubernetes:apps/v1:StatefulSet") {
            return undefined;
        }
        return { props: withJmxAgent(resource.props, settings, config, container), opts: resource.opts };
    };
}
