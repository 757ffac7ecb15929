/**
 * `promtool test rules` cases for every alert of components/monitoring/rules.ts (rendered with ALL_RULES, and with
 * ALL_EXPORTER_RULES or a stack's inputs for the kafka_exporter variants): one set of series that must fire and one
 * that must not, each a small story of what an exporter would report.
 */
import * as yaml from "js-yaml";
import { AlertRule, KAFKA_CONTROLLER_GROUP, KAFKA_EXPORTER_GROUP, RuleGroup, RuleInputs } from "../../components/monitoring/rules";

export interface AlertCase {
    /** Input series (promtool's `series`/`values` notation, one sample a minute). */
    fire: { series: string; values: string }[];
    /** When the alert must be firing. */
    at: string;
    /** Labels of the firing alert besides alertname and severity, and the value its annotations show. */
    labels: Record<string, string>;
    value: number;
    /** Series that must not fire the alert at `at`. */
    quiet: { series: string; values: string }[];
}

const s = (series: string, values: string) => ({ series, values });
const exporter = (metric: string, topic: string, partition: number, values: string) =>
    s(`${metric}{job="kafka-exporter",topic="${topic}",partition="${partition}"}`, values);

/**
 * The kafka_exporter variants of the Kafka alerts (group KAFKA_EXPORTER_GROUP), some sized by the stack's inputs.
 * kafka_exporter v1.9.0 emits, per partition, the replica and in-sync replica counts and the under-replicated flag
 * always, and the leader's broker id only while the partition has a live leader.
 */
export const EXPORTER_CASES: Record<string, (inputs: RuleInputs) => AlertCase> = {
    KafkaOfflinePartitions: () => ({
        fire: [
            exporter("kafka_topic_partition_replicas", "bss.events", 0, "3x10"), exporter("kafka_topic_partition_leader", "bss.events", 0, "1x10"),
            exporter("kafka_topic_partition_replicas", "bss.events", 1, "3x10"), exporter("kafka_topic_partition_leader", "bss.events", 1, "1 stale"),
        ],
        at: "5m", labels: {}, value: 1,
        quiet: [
            exporter("kafka_topic_partition_replicas", "bss.events", 0, "3x10"), exporter("kafka_topic_partition_leader", "bss.events", 0, "1x10"),
            // Broker 0 leads partition 1: a leader id of 0 is a leader.
            exporter("kafka_topic_partition_replicas", "bss.events", 1, "3x10"), exporter("kafka_topic_partition_leader", "bss.events", 1, "0x10"),
        ],
    }),
    KafkaUnderMinIsrPartitions: (inputs) => {
        const isr = (topic: string, partition: number, value: number) => exporter("kafka_topic_partition_in_sync_replica", topic, partition, `${value}x10`);
        const brokerDefault = inputs.brokerMinInsyncReplicas;
        const own = Object.entries(inputs.topicMinInsyncReplicas).filter(([, minIsr]) => minIsr !== brokerDefault);
        return {
            // An undeclared topic falls back to the brokers' default; a declared one is held to its own value.
            fire: [isr("undeclared", 0, brokerDefault - 1), isr("undeclared", 1, brokerDefault), ...own.map(([topic, minIsr]) => isr(topic, 0, minIsr - 1))],
            at: "5m", labels: {}, value: 1 + own.length,
            quiet: [isr("undeclared", 0, brokerDefault), ...own.map(([topic, minIsr]) => isr(topic, 0, minIsr))],
        };
    },
    KafkaUnderReplicatedPartitions: () => ({
        fire: [exporter("kafka_topic_partition_under_replicated_partition", "bss.events", 0, "1x10"), exporter("kafka_topic_partition_under_replicated_partition", "bss.events", 1, "1x10"),
            exporter("kafka_topic_partition_under_replicated_partition", "bss.events", 2, "0x10")],
        at: "5m", labels: {}, value: 2,
        quiet: [exporter("kafka_topic_partition_under_replicated_partition", "bss.events", 0, "0x10"),
            s('kafka_topic_partition_under_replicated_partition{job="other",topic="x",partition="0"}', "1x10")],
    }),
    KafkaBrokerDown: (inputs) => ({
        fire: [s('kafka_brokers{job="kafka-exporter",pod="kafka-exporter-0"}', `${inputs.brokers - 1}x10`)],
        at: "5m", labels: {}, value: inputs.brokers - 1,
        quiet: [s('kafka_brokers{job="kafka-exporter",pod="kafka-exporter-0"}', `${inputs.brokers}x10`)],
    }),
};

const controller = (metric: string, ordinal: number, values: string) => s(`${metric}{job="kafka-controller",pod="kafka-controller-${ordinal}"}`, values);
const controllersUp = (...values: string[]) => values.map((v, i) => controller("up", i, v));

/**
 * A KRaft stack's controller alerts (group KAFKA_CONTROLLER_GROUP), sized by the controller count: every controller
 * reports the offline, fenced and error counts from its own metadata image, the active one alone ActiveControllerCount 1.
 */
export const CONTROLLER_CASES: Record<string, (inputs: RuleInputs) => AlertCase> = {
    KafkaOfflinePartitions: () => ({
        fire: [0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_offlinepartitionscount", i, "2x10")),
        at: "5m", labels: {}, value: 2,
        // Brokers of a KRaft stack report no controller metrics; a broker series is not the controllers'.
        quiet: [...[0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_offlinepartitionscount", i, "0x10")),
            s('kafka_controller_kafkacontroller_offlinepartitionscount{job="kafka",pod="kafka-0"}', "4x10")],
    }),
    KafkaActiveControllerCount: () => ({
        fire: [0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_activecontrollercount", i, "0x10")),
        at: "5m", labels: {}, value: 0,
        quiet: [0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_activecontrollercount", i, i === 1 ? "1x10" : "0x10")),
    }),
    KafkaControllerQuorumLost: (inputs) => {
        const majority = Math.floor(inputs.kafkaControllers! / 2) + 1;
        const up = (answering: number) => controllersUp(...Array.from({ length: inputs.kafkaControllers! }, (_, i) => (i < answering ? "1x10" : "0x10")));
        return { fire: up(majority - 1), at: "5m", labels: {}, value: majority - 1, quiet: up(majority) };
    },
    KafkaControllerDown: (inputs) => {
        const up = (answering: number) => controllersUp(...Array.from({ length: inputs.kafkaControllers! }, (_, i) => (i < answering ? "1x10" : "0x10")));
        return { fire: up(inputs.kafkaControllers! - 1), at: "5m", labels: {}, value: inputs.kafkaControllers! - 1, quiet: up(inputs.kafkaControllers!) };
    },
    KafkaFencedBrokers: () => ({
        fire: [0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_fencedbrokercount", i, "1x10")),
        at: "8m", labels: {}, value: 1,
        // A broker fenced for 3 minutes (a slow restart catching up) is not an alert yet: the rule waits 5.
        quiet: [0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_fencedbrokercount", i, "0 0 0 0 0 1 1 1 1 1")),
    }),
    KafkaMetadataErrors: () => ({
        fire: [controller("kafka_controller_kafkacontroller_metadataerrorcount", 0, "0 0 1x8"), controller("kafka_controller_kafkacontroller_metadataerrorcount", 1, "0x10")],
        at: "5m", labels: {}, value: 1,
        quiet: [0, 1, 2].map((i) => controller("kafka_controller_kafkacontroller_metadataerrorcount", i, "0x10")),
    }),
};

export const CASES: Record<string, AlertCase> = {
    KafkaOfflinePartitions: {
        fire: [s('kafka_controller_kafkacontroller_offlinepartitionscount{job="kafka",pod="kafka-0"}', "1x10"), s('kafka_controller_kafkacontroller_offlinepartitionscount{job="kafka",pod="kafka-1"}', "0x10")],
        at: "5m", labels: {}, value: 1,
        quiet: [s('kafka_controller_kafkacontroller_offlinepartitionscount{job="kafka",pod="kafka-0"}', "0x10")],
    },
    KafkaUnderMinIsrPartitions: {
        fire: [s('kafka_server_replicamanager_underminisrpartitioncount{job="kafka",pod="kafka-0"}', "2x10")],
        at: "5m", labels: {}, value: 2,
        quiet: [s('kafka_server_replicamanager_underminisrpartitioncount{job="kafka",pod="kafka-0"}', "0x10")],
    },
    KafkaUnderReplicatedPartitions: {
        fire: [s('kafka_server_replicamanager_underreplicatedpartitions{job="kafka",pod="kafka-0"}', "3x10"), s('kafka_server_replicamanager_underreplicatedpartitions{job="kafka",pod="kafka-1"}', "0x10")],
        at: "5m", labels: {}, value: 3,
        // Partitions of another job (a second Kafka) are not this stack's.
        quiet: [s('kafka_server_replicamanager_underreplicatedpartitions{job="kafka",pod="kafka-0"}', "0x10"), s('kafka_server_replicamanager_underreplicatedpartitions{job="other",pod="x"}', "5x10")],
    },
    KafkaActiveControllerCount: {
        fire: [s('kafka_controller_kafkacontroller_activecontrollercount{job="kafka",pod="kafka-0"}', "0x10"), s('kafka_controller_kafkacontroller_activecontrollercount{job="kafka",pod="kafka-1"}', "0x10")],
        at: "5m", labels: {}, value: 0,
        quiet: [s('kafka_controller_kafkacontroller_activecontrollercount{job="kafka",pod="kafka-0"}', "1x10"), s('kafka_controller_kafkacontroller_activecontrollercount{job="kafka",pod="kafka-1"}', "0x10")],
    },
    KafkaBrokerDown: {
        fire: [s('kafka_server_kafkaserver_brokerstate{job="kafka",pod="kafka-0"}', "3x10"), s('kafka_server_kafkaserver_brokerstate{job="kafka",pod="kafka-1"}', "3x10"), s('kafka_server_kafkaserver_brokerstate{job="kafka",pod="kafka-2"}', "6x10")],
        at: "5m", labels: {}, value: 2,
        quiet: [0, 1, 2].map((i) => s(`kafka_server_kafkaserver_brokerstate{job="kafka",pod="kafka-${i}"}`, "3x10")),
    },
    ZooKeeperQuorumLost: {
        fire: [s('up{job="zookeeper",pod="zookeeper-0"}', "1x10"), s('up{job="zookeeper",pod="zookeeper-1"}', "0x10"), s('up{job="zookeeper",pod="zookeeper-2"}', "0x10")],
        at: "5m", labels: {}, value: 1,
        quiet: [s('up{job="zookeeper",pod="zookeeper-0"}', "1x10"), s('up{job="zookeeper",pod="zookeeper-1"}', "1x10"), s('up{job="zookeeper",pod="zookeeper-2"}', "0x10")],
    },
    KafkaConsumerGroupLag: {
        fire: [
            s('kafka_consumergroup_lag{job="kafka-exporter",consumergroup="billing",topic="cdr",partition="0"}', "1500x20"),
            s('kafka_consumergroup_lag{job="kafka-exporter",consumergroup="billing",topic="cdr",partition="1"}', "500x20"),
        ],
        at: "15m", labels: { consumergroup: "billing", topic: "cdr" }, value: 2000,
        quiet: [
            s('kafka_consumergroup_lag{job="kafka-exporter",consumergroup="billing",topic="cdr",partition="0"}', "400x20"),
            s('kafka_consumergroup_lag{job="kafka-exporter",consumergroup="billing",topic="cdr",partition="1"}', "400x20"),
            // A group nobody declared is not alerted on, however far behind.
            s('kafka_consumergroup_lag{job="kafka-exporter",consumergroup="adhoc",topic="cdr",partition="0"}', "50000x20"),
        ],
    },
    RedisClusterStateNotOk: {
        fire: [s('redis_cluster_state{job="redis",instance="10.244.1.5:9121"}', "0x10")],
        at: "5m", labels: { job: "redis", instance: "10.244.1.5:9121" }, value: 0,
        quiet: [s('redis_cluster_state{job="redis",instance="10.244.1.5:9121"}', "1x10")],
    },
    RedisClusterSlotsNotCovered: {
        fire: [s('redis_cluster_slots_ok{job="redis",instance="10.244.1.5:9121"}', "16000x10")],
        at: "5m", labels: { job: "redis", instance: "10.244.1.5:9121" }, value: 16000,
        quiet: [s('redis_cluster_slots_ok{job="redis",instance="10.244.1.5:9121"}', "16384x10")],
    },
    RedisMemoryHigh: {
        fire: [s('redis_memory_used_bytes{job="redis",instance="a:9121"}', "950x15"), s('redis_memory_max_bytes{job="redis",instance="a:9121"}', "1000x15")],
        at: "10m", labels: { job: "redis", instance: "a:9121" }, value: 0.95,
        quiet: [
            s('redis_memory_used_bytes{job="redis",instance="a:9121"}', "800x15"), s('redis_memory_max_bytes{job="redis",instance="a:9121"}', "1000x15"),
            // No maxmemory set (0): no ratio, no alert.
            s('redis_memory_used_bytes{job="redis",instance="b:9121"}', "950x15"), s('redis_memory_max_bytes{job="redis",instance="b:9121"}', "0x15"),
        ],
    },
    RedisMasterWithoutReplica: {
        fire: [s('redis_connected_slaves{job="redis",instance="a:9121"}', "0x15"), s('redis_instance_info{job="redis",instance="a:9121",role="master"}', "1x15")],
        at: "10m", labels: { job: "redis", instance: "a:9121" }, value: 0,
        quiet: [
            s('redis_connected_slaves{job="redis",instance="a:9121"}', "1x15"), s('redis_instance_info{job="redis",instance="a:9121",role="master"}', "1x15"),
            // Replicas have no replicas of their own.
            s('redis_connected_slaves{job="redis",instance="b:9121"}', "0x15"), s('redis_instance_info{job="redis",instance="b:9121",role="slave"}', "1x15"),
        ],
    },
    KongHigh5xxRatio: {
        fire: [s('kong_http_requests_total{job="kong",service="api",code="200"}', "0+90x20"), s('kong_http_requests_total{job="kong",service="api",code="500"}', "0+10x20")],
        at: "15m", labels: {}, value: 0.1,
        quiet: [s('kong_http_requests_total{job="kong",service="api",code="200"}', "0+99x20"), s('kong_http_requests_total{job="kong",service="api",code="503"}', "0+1x20")],
    },
    KongHighP99Latency: {
        fire: [
            s('kong_request_latency_ms_bucket{job="kong",service="api",le="1000"}', "0x30"),
            s('kong_request_latency_ms_bucket{job="kong",service="api",le="3000"}', "0+10x30"),
            s('kong_request_latency_ms_bucket{job="kong",service="api",le="+Inf"}', "0+10x30"),
        ],
        at: "20m", labels: {}, value: 2980,
        quiet: [
            s('kong_request_latency_ms_bucket{job="kong",service="api",le="1000"}', "0+10x30"),
            s('kong_request_latency_ms_bucket{job="kong",service="api",le="3000"}', "0+10x30"),
            s('kong_request_latency_ms_bucket{job="kong",service="api",le="+Inf"}', "0+10x30"),
        ],
    },
};

/** Prometheus' `humanizePercentage`: `%.4g%%` of the value times 100. */
function humanizePercentage(value: number): string {
    return `${Number((value * 100).toPrecision(4))}%`;
}

/** An alert annotation as Prometheus expands it for these values. */
export function expand(template: string, labels: Record<string, string>, value: number): string {
    return template
        .replace(/\{\{ \$value \| humanizePercentage \}\}/g, humanizePercentage(value))
        .replace(/\{\{ \$value \}\}/g, String(value))
        .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name) => labels[name] ?? "");
}

/** The case for one rule of `group`: the kafka_exporter and KRaft controller variants have their own, sized by `inputs`. */
export function caseFor(group: string, alert: string, inputs: RuleInputs): AlertCase | undefined {
    if (group === KAFKA_EXPORTER_GROUP) {
        return EXPORTER_CASES[alert]?.(inputs);
    }
    return group === KAFKA_CONTROLLER_GROUP ? CONTROLLER_CASES[alert]?.(inputs) : CASES[alert];
}

/** promtool's unit-test file for `rulesFile` (rendered from `inputs`): a firing and a quiet test per alert. */
export function renderPromtoolTests(rulesFile: string, groups: RuleGroup[], inputs: RuleInputs): string {
    const rules = groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, rule: r as AlertRule })));
    const tests = rules.flatMap(({ group, rule }) => {
        const c = caseFor(group, rule.alert, inputs);
        if (!c) {
            throw new Error(`no promtool case for ${rule.alert} of ${group}`);
        }
        const annotations = Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, expand(v, c.labels, c.value)]));
        return [
            {
                name: `${group} ${rule.alert} fires`,
                interval: "1m",
                input_series: c.fire,
                alert_rule_test: [{ eval_time: c.at, alertname: rule.alert, exp_alerts: [{ exp_labels: { ...c.labels, severity: rule.labels.severity }, exp_annotations: annotations }] }],
            },
            {
                name: `${group} ${rule.alert} stays quiet`,
                interval: "1m",
                input_series: c.quiet,
                alert_rule_test: [{ eval_time: c.at, alertname: rule.alert, exp_alerts: [] }],
            },
        ];
    });
    return yaml.dump({ rule_files: [rulesFile], evaluation_interval: "1m", tests }, { lineWidth: -1 });
}
