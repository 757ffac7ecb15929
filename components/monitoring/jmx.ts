/**
 * The Prometheus JMX exporter of the brokers and, on a KRaft stack, the controllers: the pinned javaagent, its rules
 * (modelled on Strimzi's kafka-metrics.yaml, reduced to the MBeans the rules and dashboards use) and the pod-template
 * additions that run it.
 */
import * as yaml from "js-yaml";
import { JmxAgentSettings } from "../../settings/monitoring";
import { containerSecurityContext } from "../shared/security";
import { contentChecksum } from "../shared/checksum";

export const JMX_AGENT_VERSION = "0.20.0";
/** sha256 of `jmx_prometheus_javaagent-0.20.0.jar` as Maven Central serves it (its .sha1 checked too when fetched). */
export const JMX_AGENT_SHA256 = "8b67ed40485d475648c36d11d21464b484406f85faf912b3363f71a6a7861320";
export const JMX_AGENT_JAR = `jmx_prometheus_javaagent-${JMX_AGENT_VERSION}.jar`;
/** Path of the jar under a Maven repository's root. */
export const JMX_AGENT_MAVEN_PATH = `io/prometheus/jmx/jmx_prometheus_javaagent/${JMX_AGENT_VERSION}/${JMX_AGENT_JAR}`;
/** Strimzi's port for the same agent. */
export const JMX_AGENT_PORT = 9404;
export const JMX_CONFIG_MAP = "kafka-jmx-exporter";
export const JMX_PATHS = { agent: "/opt/bss/jmx-agent", config: "/opt/bss/jmx-config" } as const;
/** Pod template annotation holding the checksum of the agent's rules: a changed rule rolls the pods. */
export const JMX_CHECKSUM_ANNOTATION = "bss/jmx-exporter-checksum";

interface JmxRule {
    pattern: string;
    name: string;
    type: "GAUGE" | "COUNTER";
    labels?: Record<string, string>;
}

/** First match wins: the specific patterns come before the generic `Value` one. */
const RULES: JmxRule[] = [
    // Meters (`...PerSec`) per topic and broker-wide: their Count is a counter.
    { pattern: "kafka.server<type=([^,]+), name=([^,]+)PerSec\\w*, topic=([^,]+)><>Count", name: "kafka_server_$1_$2_total", type: "COUNTER", labels: { topic: "$3" } },
    { pattern: "kafka.server<type=([^,]+), name=([^,]+)PerSec\\w*><>Count", name: "kafka_server_$1_$2_total", type: "COUNTER" },
    { pattern: "kafka.network<type=RequestMetrics, name=RequestsPerSec, request=([^,]+), version=([^,]+)><>Count", name: "kafka_network_requestmetrics_requests_total", type: "COUNTER", labels: { request: "$1", version: "$2" } },
    { pattern: "kafka.network<type=RequestMetrics, name=ErrorsPerSec, request=([^,]+), error=([^,]+)><>Count", name: "kafka_network_requestmetrics_errors_total", type: "COUNTER", labels: { request: "$1", error: "$2" } },
    { pattern: "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=([^,]+)><>(\\d+)thPercentile", name: "kafka_network_requestmetrics_totaltimems", type: "GAUGE", labels: { request: "$1", quantile: "0.$2" } },
    { pattern: "kafka.controller<type=ControllerStats, name=([^,]+)><>Count", name: "kafka_controller_controllerstats_$1_total", type: "COUNTER" },
    { pattern: "kafka.log<type=LogFlushStats, name=LogFlushRateAndTimeMs><>(\\d+)thPercentile", name: "kafka_log_logflushstats_logflushrateandtimems", type: "GAUGE", labels: { quantile: "0.$1" } },
    { pattern: "kafka.log<type=LogFlushStats, name=LogFlushRateAndTimeMs><>Count", name: "kafka_log_logflushstats_logflushes_total", type: "COUNTER" },
    // The KRaft quorum as each member sees it (a Kafka metrics group, so attributes, not Yammer's `Value`).
    { pattern: "kafka.server<type=raft-metrics><>(current-leader|high-watermark)", name: "kafka_server_raft_metrics_$1", type: "GAUGE" },
    // Gauges: ReplicaManager, KafkaController, KafkaServer (BrokerState), SessionExpireListener and the like.
    { pattern: "kafka.(\\w+)<type=([^,]+), name=([^,]+)><>Value", name: "kafka_$1_$2_$3", type: "GAUGE" },
];

/** The agent's YAML config: lower-cased names, only the rules above (anything else is not exported). */
export function renderJmxExporterConfig(): string {
    return yaml.dump({
        lowercaseOutputName: true,
        lowercaseOutputLabelNames: true,
        rules: RULES,
    }, { lineWidth: -1 });
}

/** The `-javaagent` argument start.sh passes to java (`<jar>=<port>:<config>`). */
export function javaAgentOption(): string {
    return `${JMX_PATHS.agent}/${JMX_AGENT_JAR}=${JMX_AGENT_PORT}:${JMX_PATHS.config}/config.yaml`;
}

/** The init container that downloads the pinned jar into the shared emptyDir and refuses any other bytes. */
export function jmxAgentInitContainer(settings: JmxAgentSettings) {
    if (!settings.mavenRepository) {
        throw new Error("the JMX agent needs bss:monitoring.jmxAgent.mavenRepository");
    }
    const target = `${JMX_PATHS.agent}/${JMX_AGENT_JAR}`;
    return {
        name: "jmx-agent",
        image: settings.downloadImage,
        command: ["sh", "-c", [
            'curl -fsSL --retry 5 --retry-all-errors -o "$TARGET.part" "$AGENT_URL"',
            'echo "$AGENT_SHA256  $TARGET.part" | sha256sum -c -',
            'mv "$TARGET.part" "$TARGET"',
        ].join(" && ")],
        env: [
            { name: "AGENT_URL", value: `${settings.mavenRepository}/${JMX_AGENT_MAVEN_PATH}` },
            { name: "AGENT_SHA256", value: JMX_AGENT_SHA256 },
            { name: "TARGET", value: target },
        ],
        securityContext: containerSecurityContext(),
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
        volumeMounts: [{ name: "jmx-agent", mountPath: JMX_PATHS.agent }],
    };
}

/**
 * A Kafka StatefulSet with the agent added to its `container` (`kafka` for the brokers, `controller` for the KRaft
 * controllers): the init container, the jar's emptyDir, the rules' ConfigMap, `KAFKA_JMX_AGENT` for the start
 * script, the `jmx-metrics` port and the rules' checksum. Pure: returns a copy.
 */
export function withJmxAgent<T extends { spec?: any }>(statefulSet: T, settings: JmxAgentSettings, config: Record<string, string>, container = "kafka"): T {
    // Copied along the changed path only: the rest keeps its values as they are, Pulumi Outputs included (the
    // KRaft cluster ID in the env is one, and a JSON round trip would turn it into Output's toJSON warning text).
    const source = statefulSet as any;
    const template = source.spec.template;
    const pod = template.spec;
    if (!pod.containers.some((c: any) => c.name === container)) {
        throw new Error(`the StatefulSet ${source.metadata?.name ?? ""} has no container named ${container}`);
    }
    const withAgent = (c: any) => c.name !== container ? c : {
        ...c,
        env: [...(c.env ?? []), { name: "KAFKA_JMX_AGENT", value: javaAgentOption() }],
        ports: [...(c.ports ?? []), { name: "jmx-metrics", containerPort: JMX_AGENT_PORT }],
        volumeMounts: [
            ...(c.volumeMounts ?? []),
            { name: "jmx-agent", mountPath: JMX_PATHS.agent, readOnly: true },
            { name: "jmx-config", mountPath: JMX_PATHS.config, readOnly: true },
        ],
    };
    const copy = {
        ...source,
        spec: {
            ...source.spec,
            template: {
                ...template,
                metadata: { ...template.metadata, annotations: { ...template.metadata?.annotations, [JMX_CHECKSUM_ANNOTATION]: contentChecksum(config) } },
                spec: {
                    ...pod,
                    initContainers: [...(pod.initContainers ?? []), jmxAgentInitContainer(settings)],
                    containers: pod.containers.map(withAgent),
                    volumes: [
                        ...(pod.volumes ?? []),
                        { name: "jmx-agent", emptyDir: { sizeLimit: "8Mi" } },
                        { name: "jmx-config", configMap: { name: JMX_CONFIG_MAP } },
                    ],
                },
            },
        },
    };
    return copy;
}
