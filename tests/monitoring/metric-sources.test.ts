/**
 * Every metric the rules and dashboards query, traced to where it comes from. The deployed exporters cannot run
 * here (kafka_exporter and redis_exporter are not in the Go module proxy, Kong is in no registry), so their names
 * were read from their sources at the pinned versions with the search tool; the broker JMX names are proven by a
 * real scrape (broker-metrics.integration.test.ts, which checks BROKER_JMX_METRICS).
 */
import { buildRuleGroups, KAFKA_CONTROLLER_GROUP, KAFKA_EXPORTER_GROUP } from "../../components/monitoring/rules";
import { ALL_EXPORTER_RULES, ALL_KRAFT_RULES, ALL_RULES, allQueries, metricNames, queriedMetrics } from "../../components/monitoring/metrics";
import { caseFor, CASES, CONTROLLER_CASES, EXPORTER_CASES } from "./promtool-cases";
import { BROKER_JMX_METRICS, CONTROLLER_JMX_METRICS } from "./broker-jmx-metrics";

/**
 * kafka_exporter v1.9.0 (`danielqsj/kafka-exporter:v1.9.0`), kafka_exporter.go: `prometheus.BuildFQName("kafka", ...)`
 * descs. `kafka_brokers` is len(client.Brokers()), the brokers of the last metadata answer (live ones only); per
 * partition (labels topic, partition) `topic_partition_replicas` and `topic_partition_in_sync_replica` are counts,
 * `topic_partition_under_replicated_partition` is 1 when in-sync < replicas, and `topic_partition_leader` is the
 * leader's broker id, emitted only when client.Leader() succeeds: a partition without a live leader has no leader
 * series at all (never -1). kafka_exporter exports no controller and no min.insync.replicas.
 */
const KAFKA_EXPORTER = {
    source: "github.com/danielqsj/kafka_exporter kafka_exporter.go (v1.9.0: clusterBrokers, topicPartitionLeader, topicPartitionReplicas, topicPartitionInSyncReplicas, topicUnderReplicatedPartition, consumergroupLag descs)",
    metrics: [
        "kafka_brokers", "kafka_consumergroup_lag", "kafka_topic_partition_in_sync_replica", "kafka_topic_partition_leader",
        "kafka_topic_partition_replicas", "kafka_topic_partition_under_replicated_partition",
    ],
};
/**
 * redis_exporter v1.91.1 (`oliver006/redis_exporter:v1.91.1`): exporter/exporter.go metricMapGauges/metricMapCounters
 * (`used_memory` → memory_used_bytes, `maxmemory` → memory_max_bytes, `connected_slaves`, `connected_clients`,
 * `keyspace_hits`/`keyspace_misses`/`evicted_keys`/`total_commands_processed` → `_total` counters), its
 * metricDescriptions (`instance_info` with `role`, `connected_slave_lag_seconds`), and exporter/info.go
 * `includeClusterInfoMetric` (`cluster_state` as 1/0, `cluster_slots_ok`), all under the `redis_` namespace.
 */
const REDIS_EXPORTER = {
    source: "github.com/oliver006/redis_exporter exporter/exporter.go, exporter/info.go",
    metrics: [
        "redis_cluster_slots_ok", "redis_cluster_state", "redis_commands_processed_total", "redis_connected_clients",
        "redis_connected_slave_lag_seconds", "redis_connected_slaves", "redis_evicted_keys_total", "redis_instance_info",
        "redis_keyspace_hits_total", "redis_keyspace_misses_total", "redis_memory_max_bytes", "redis_memory_used_bytes",
    ],
};
/**
 * Kong 3.9's prometheus plugin, kong/plugins/prometheus/exporter.lua, prefix `kong_`: `http_requests_total`
 * (service, route, code, source, consumer), histograms `request_latency_ms` and `upstream_latency_ms` (their
 * `_bucket` series), gauge `nginx_connections_total` (state). The stack turns status_code_metrics and
 * latency_metrics on (components/kong/declarative.ts), which 3.x needs for the first two.
 */
const KONG = {
    source: "github.com/Kong/kong kong/plugins/prometheus/exporter.lua (3.x)",
    metrics: ["kong_http_requests_total", "kong_nginx_connections_total", "kong_request_latency_ms_bucket", "kong_upstream_latency_ms_bucket"],
};
/** Prometheus' own per-target series. */
const PROMETHEUS = { source: "Prometheus (every scrape target)", metrics: ["up"] };

const SOURCES = [KAFKA_EXPORTER, REDIS_EXPORTER, KONG, PROMETHEUS, { source: "broker JMX agent (scraped for real)", metrics: BROKER_JMX_METRICS },
    { source: "KRaft controller JMX agent (scraped for real)", metrics: CONTROLLER_JMX_METRICS.filter((m) => !BROKER_JMX_METRICS.includes(m)) }];

describe("metric names", () => {
    it("each queried metric has exactly one source, and every listed one is queried", () => {
        const listed = SOURCES.flatMap((s) => s.metrics);
        expect(new Set(listed).size).toBe(listed.length);
        expect([...listed].sort()).toEqual(queriedMetrics());
    });

    it("of each exporter carry its namespace", () => {
        expect(KAFKA_EXPORTER.metrics.every((m) => m.startsWith("kafka_"))).toBe(true);
        expect(REDIS_EXPORTER.metrics.every((m) => m.startsWith("redis_"))).toBe(true);
        expect(KONG.metrics.every((m) => m.startsWith("kong_"))).toBe(true);
    });

    it("are read out of PromQL without function names, label names or strings", () => {
        expect(metricNames('sum by (consumergroup, topic) (kafka_consumergroup_lag{job="x", consumergroup=~"a|b"}) > 10')).toEqual(["kafka_consumergroup_lag"]);
        expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(kong_request_latency_ms_bucket{job="kong"}[5m])))')).toEqual(["kong_request_latency_ms_bucket"]);
        expect(metricNames('(redis_connected_slaves{job="r"} == 0) and on (instance) (redis_instance_info{role="master"} == 1)')).toEqual(["redis_connected_slaves", "redis_instance_info"]);
        expect(allQueries().length).toBeGreaterThan(40);
    });
});

it("every alert has a firing and a quiet promtool case, the kafka_exporter variants their own", () => {
    const alerts = buildRuleGroups(ALL_RULES).flatMap((g) => g.rules.map((r) => r.alert)).sort();
    expect(Object.keys(CASES).sort()).toEqual(alerts);
    const exporterAlerts = buildRuleGroups(ALL_EXPORTER_RULES).filter((g) => g.name === KAFKA_EXPORTER_GROUP).flatMap((g) => g.rules.map((r) => r.alert)).sort();
    expect(Object.keys(EXPORTER_CASES).sort()).toEqual(exporterAlerts);
    for (const group of buildRuleGroups(ALL_EXPORTER_RULES)) {
        group.rules.forEach((r) => expect(caseFor(group.name, r.alert, ALL_EXPORTER_RULES)).toBeDefined());
    }
    const controllerAlerts = buildRuleGroups(ALL_KRAFT_RULES).filter((g) => g.name === KAFKA_CONTROLLER_GROUP).flatMap((g) => g.rules.map((r) => r.alert)).sort();
    expect(Object.keys(CONTROLLER_CASES).sort()).toEqual(controllerAlerts);
});
