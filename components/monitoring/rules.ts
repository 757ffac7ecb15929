/**
 * The stack's alert rules as Prometheus rule groups: one pure builder, rendered both as a plain rules file (for any
 * Prometheus) and as a PrometheusRule (for the Prometheus Operator). Every metric named here is proven to exist:
 * broker JMX metrics by a real scrape (tests/monitoring/broker-metrics.integration.test.ts), exporter metrics by
 * their source (tests/monitoring/metric-sources.test.ts).
 */
import * as yaml from "js-yaml";

/** Job names the rules select by: the scrape config and the PodMonitors set exactly these. */
export const JOBS = {
    kafka: "kafka",
    kafkaController: "kafka-controller",
    kafkaExporter: "kafka-exporter",
    zookeeper: "zookeeper",
    redis: "redis",
    kong: "kong",
} as const;

/** The group of Kafka alerts read from kafka_exporter when the brokers run no JMX agent. */
export const KAFKA_EXPORTER_GROUP = "bss-kafka-exporter-partitions";
/** The group of a KRaft stack's controller alerts, read from the controllers' JMX agent. */
export const KAFKA_CONTROLLER_GROUP = "bss-kafka-controllers";

/** Every alert's runbook is its own README heading (`#### <alert>`, anchor `#<alert in lower case>`). */
export const RUNBOOK_BASE = "README.md#";

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: "critical" | "warning" };
    annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
    name: string;
    rules: AlertRule[];
}

export interface RuleInputs {
    /** Broker count: fewer running brokers than this is "broker down". */
    brokers: number;
    /** ZooKeeper members; undefined on a KRaft stack, which gets no ZooKeeper rule. */
    zookeeperReplicas?: number;
    /**
     * KRaft controllers; undefined on a ZooKeeper stack. With the JMX agent, the controller alerts (offline partitions,
     * active controller, quorum, fenced brokers, metadata errors) read the controllers' metrics, not the brokers'.
     */
    kafkaControllers?: number;
    /**
     * Whether the brokers run the JMX agent. With it the partition and broker alerts read the brokers' own metrics;
     * without it the same alerts (but the controller one, which kafka_exporter cannot see) read kafka_exporter's.
     */
    brokerJmx: boolean;
    /** The brokers' default `min.insync.replicas` (`bss:kafka.minInsyncReplicas`), for every topic without its own. */
    brokerMinInsyncReplicas: number;
    /** `min.insync.replicas` of each declared topic (the topic catalog's config), by topic name; `{}` for none. */
    topicMinInsyncReplicas: Record<string, number>;
    consumerGroups: string[];
    lagThreshold: number;
    /** Redis replicas per master; 0 leaves the "master without replica" alert out. */
    redisReplicasPerMaster: number;
    kong5xxRatio: number;
    kongP99LatencyMs: number;
}

const rule = (alert: string, expr: string, forDuration: string, severity: "critical" | "warning", summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${RUNBOOK_BASE}${alert.toLowerCase()}` },
});

/** A PromQL regex matching exactly these topic names (names are letters, digits, '.', '_' and '-'). */
const topicsRegex = (topics: string[]) => topics.map((t) => t.replace(/\./g, "\\\\.")).join("|");

/**
 * Partitions below their topic's min.insync.replicas from kafka_exporter's in-sync replica count: kafka_exporter does
 * not know the setting, so the stack's declared values are compared per topic. Topics with their own value are
 * compared with it; every other topic (undeclared ones, `__consumer_offsets`) with the brokers' default.
 */
export function underMinIsrExpr(job: string, brokerDefault: number, topicMinIsr: Record<string, number>): string {
    const isr = (matchers: string) => `kafka_topic_partition_in_sync_replica{${job}${matchers}}`;
    const own = Object.entries(topicMinIsr).filter(([, minIsr]) => minIsr !== brokerDefault);
    const byValue = new Map<number, string[]>();
    own.forEach(([topic, minIsr]) => byValue.set(minIsr, [...(byValue.get(minIsr) ?? []), topic]));
    const terms = [...byValue.entries()].sort(([a], [b]) => a - b).map(([minIsr, topics]) => `(${isr(`, topic=~"${topicsRegex(topics.sort())}"`)} < ${minIsr})`);
    const others = own.length > 0 ? isr(`, topic!~"${topicsRegex(own.map(([t]) => t).sort())}"`) : isr("");
    return `count(${[...terms, `(${others} < ${brokerDefault})`].join(" or ")}) > 0`;
}

export function buildRuleGroups(inputs: RuleInputs): RuleGroup[] {
    const k = `job="${JOBS.kafka}"`;
    const c = `job="${JOBS.kafkaController}"`;
    const ke = `job="${JOBS.kafkaExporter}"`;
    const groups: RuleGroup[] = [];
    if (!inputs.brokerJmx) {
        groups.push({
            name: KAFKA_EXPORTER_GROUP,
            rules: [
                // kafka_exporter emits no leader series for a partition without a live leader (its Leader() call fails),
                // while the replica count series stays: a partition with replicas and no leader is offline.
                rule("KafkaOfflinePartitions",
                    `count(kafka_topic_partition_replicas{${ke}} unless on (topic, partition) kafka_topic_partition_leader{${ke}}) > 0`, "1m", "critical",
                    "Kafka has offline partitions",
                    "{{ $value }} partitions have no live leader (kafka_exporter sees no leader for them): producers and consumers of them are stopped."),
                rule("KafkaUnderMinIsrPartitions", underMinIsrExpr(ke, inputs.brokerMinInsyncReplicas, inputs.topicMinInsyncReplicas), "1m", "critical",
                    "Kafka partitions are below min.insync.replicas",
                    `{{ $value }} partitions have fewer in-sync replicas than their topic's declared min.insync.replicas (brokers' default ${inputs.brokerMinInsyncReplicas}): acks=all producers to them fail.`),
                rule("KafkaUnderReplicatedPartitions", `sum(kafka_topic_partition_under_replicated_partition{${ke}}) > 0`, "1m", "warning",
                    "Kafka has under-replicated partitions",
                    "{{ $value }} partitions have fewer in-sync replicas than replicas: one more broker loss may take them offline."),
                // No series at all is also an alert: with every broker gone kafka_exporter hangs, fails its probe and
                // then exits at start, so its absence means every broker (or the exporter itself) is down.
                rule("KafkaBrokerDown", `(max(kafka_brokers{${ke}}) or vector(0)) < ${inputs.brokers}`, "2m", "critical",
                    "A Kafka broker is down",
                    `Only {{ $value }} of ${inputs.brokers} brokers are in the cluster metadata kafka_exporter reads (0 also when kafka_exporter cannot be scraped).`),
            ],
        });
    }
    if (inputs.brokerJmx) {
        const kraft = inputs.kafkaControllers !== undefined;
        const offline = rule("KafkaOfflinePartitions",
            // Every KRaft controller reports the count from its own metadata image: the highest, not their sum.
            kraft ? `max(kafka_controller_kafkacontroller_offlinepartitionscount{${c}}) > 0` : `sum(kafka_controller_kafkacontroller_offlinepartitionscount{${k}}) > 0`,
            "1m", "critical",
            "Kafka has offline partitions",
            "{{ $value }} partitions have no live leader: producers and consumers of them are stopped.");
        const activeController = rule("KafkaActiveControllerCount",
            `(sum(kafka_controller_kafkacontroller_activecontrollercount{${kraft ? c : k}}) or vector(0)) != 1`, "1m", "critical",
            "Kafka does not have exactly one active controller",
            kraft
                ? "{{ $value }} KRaft controllers claim to be active: with none, leadership, topic and broker changes stop; with more, the quorum is split."
                : "{{ $value }} brokers claim to be the controller: with none, leadership and topic changes stop; with more, the cluster is split.");
        groups.push({
            name: "bss-kafka-brokers",
            rules: [
                ...(kraft ? [] : [offline]),
                rule("KafkaUnderMinIsrPartitions", `sum(kafka_server_replicamanager_underminisrpartitioncount{${k}}) > 0`, "1m", "critical",
                    "Kafka partitions are below min.insync.replicas",
                    "{{ $value }} partitions have fewer in-sync replicas than min.insync.replicas: acks=all producers to them fail."),
                rule("KafkaUnderReplicatedPartitions", `sum(kafka_server_replicamanager_underreplicatedpartitions{${k}}) > 0`, "1m", "warning",
                    "Kafka has under-replicated partitions",
                    "{{ $value }} partitions have fewer in-sync replicas than replicas: one more broker loss may take them offline."),
                ...(kraft ? [] : [activeController]),
                rule("KafkaBrokerDown", `(count(kafka_server_kafkaserver_brokerstate{${k}} == 3) or vector(0)) < ${inputs.brokers}`, "2m", "critical",
                    "A Kafka broker is down",
                    `Only {{ $value }} of ${inputs.brokers} brokers report the RUNNING state.`),
            ],
        });
        if (kraft) {
            const controllers = inputs.kafkaControllers!;
            const majority = Math.floor(controllers / 2) + 1;
            const answering = `(count(up{${c}} == 1) or vector(0))`;
            groups.push({
                name: KAFKA_CONTROLLER_GROUP,
                rules: [
                    offline,
                    activeController,
                    rule("KafkaControllerQuorumLost", `${answering} < ${majority}`, "1m", "critical",
                        "The KRaft controller quorum has lost its majority",
                        `Only {{ $value }} of ${controllers} KRaft controllers answer (a quorum needs ${majority}): no metadata change (leaders, topics, broker registrations) can be committed.`),
                    // With one controller, its loss is the quorum's: the rule above says it.
                    ...(controllers > majority ? [rule("KafkaControllerDown", `${answering} < ${controllers}`, "2m", "warning",
                        "A KRaft controller is down",
                        `Only {{ $value }} of ${controllers} KRaft controllers answer: the quorum holds, but ${controllers - majority} more loss(es) stop all metadata changes.`)] : []),
                    rule("KafkaFencedBrokers", `max(kafka_controller_kafkacontroller_fencedbrokercount{${c}}) > 0`, "5m", "warning",
                        "Kafka brokers are fenced by the KRaft controller",
                        "{{ $value }} registered brokers are fenced: they missed their heartbeats or cannot catch up with the metadata log, and lead no partition."),
                    rule("KafkaMetadataErrors", `max(kafka_controller_kafkacontroller_metadataerrorcount{${c}}) > 0`, "1m", "critical",
                        "A KRaft controller failed to apply metadata",
                        "A controller counted {{ $value }} errors loading or applying metadata records since it started: its view of the cluster may be stale."),
                ],
            });
        }
    }
    if (inputs.zookeeperReplicas !== undefined) {
        const zkMajority = Math.floor(inputs.zookeeperReplicas / 2) + 1;
        groups.push({
            name: "bss-zookeeper",
            rules: [
                rule("ZooKeeperQuorumLost", `(count(up{job="${JOBS.zookeeper}"} == 1) or vector(0)) < ${zkMajority}`, "1m", "critical",
                    "ZooKeeper has lost its quorum",
                    `Only {{ $value }} of ${inputs.zookeeperReplicas} ZooKeeper members answer (a quorum needs ${zkMajority}): the brokers cannot change leaders or metadata.`),
            ],
        });
    }
    if (inputs.consumerGroups.length > 0) {
        const groupsRegex = inputs.consumerGroups.map((g) => g.replace(/\./g, "\\\\.")).join("|");
        groups.push({
            name: "bss-kafka-consumers",
            rules: [
                rule("KafkaConsumerGroupLag",
                    `sum by (consumergroup, topic) (kafka_consumergroup_lag{job="${JOBS.kafkaExporter}", consumergroup=~"${groupsRegex}"}) > ${inputs.lagThreshold}`,
                    "10m", "warning",
                    "Consumer group {{ $labels.consumergroup }} lags on {{ $labels.topic }}",
                    `{{ $value }} messages of {{ $labels.topic }} are not consumed by {{ $labels.consumergroup }} (threshold ${inputs.lagThreshold}).`),
            ],
        });
    }
    const r = `job="${JOBS.redis}"`;
    const redisRules = [
        rule("RedisClusterStateNotOk", `redis_cluster_state{${r}} == 0`, "1m", "critical",
            "Redis Cluster state is not ok on {{ $labels.instance }}",
            "The node reports cluster_state:fail: it refuses reads and writes."),
        rule("RedisClusterSlotsNotCovered", `redis_cluster_slots_ok{${r}} < 16384`, "1m", "critical",
            "Redis Cluster slots are not all served on {{ $labels.instance }}",
            "Only {{ $value }} of 16384 slots are assigned to a healthy master: keys in the others are unavailable."),
        rule("RedisMemoryHigh", `redis_memory_used_bytes{${r}} / (redis_memory_max_bytes{${r}} > 0) > 0.9`, "5m", "warning",
            "Redis memory above 90 % of maxmemory on {{ $labels.instance }}",
            "Used memory is {{ $value | humanizePercentage }} of maxmemory: evictions or OOM errors follow."),
    ];
    if (inputs.redisReplicasPerMaster > 0) {
        redisRules.push(rule("RedisMasterWithoutReplica",
            `(redis_connected_slaves{${r}} == 0) and on (instance) (redis_instance_info{${r}, role="master"} == 1)`, "5m", "warning",
            "Redis master {{ $labels.instance }} has no replica",
            "The master has no connected replica: losing it loses its slots until an operator intervenes."));
    }
    groups.push({ name: "bss-redis", rules: redisRules });
    const g = `job="${JOBS.kong}"`;
    groups.push({
        name: "bss-kong",
        rules: [
            rule("KongHigh5xxRatio",
                `sum(rate(kong_http_requests_total{${g}, code=~"5.."}[5m])) / sum(rate(kong_http_requests_total{${g}}[5m])) > ${inputs.kong5xxRatio}`,
                "5m", "warning",
                "Kong answers too many 5xx",
                `{{ $value | humanizePercentage }} of Kong's responses are 5xx (threshold ${inputs.kong5xxRatio}).`),
            rule("KongHighP99Latency",
                `histogram_quantile(0.99, sum by (le) (rate(kong_request_latency_ms_bucket{${g}}[5m]))) > ${inputs.kongP99LatencyMs}`,
                "10m", "warning",
                "Kong's p99 latency is high",
                `99 % of requests take up to {{ $value }} ms (threshold ${inputs.kongP99LatencyMs} ms).`),
        ],
    });
    return groups;
}

/** The plain rules file (`rule_files:` of any Prometheus). */
export function renderRulesFile(groups: RuleGroup[]): string {
    return yaml.dump({ groups }, { lineWidth: -1, noRefs: true });
}
