/**
 * Grafana dashboards (schema version 39) for Kafka, Kong and Redis. Every panel reads the `datasource` template
 * variable, so a dashboard works with whatever Prometheus data source the Grafana it lands in has.
 */
import { JOBS } from "./rules";

export interface Dashboard {
    uid: string;
    title: string;
    tags: string[];
    schemaVersion: number;
    editable: boolean;
    time: { from: string; to: string };
    refresh: string;
    templating: { list: any[] };
    panels: any[];
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

interface PanelSpec {
    title: string;
    /** PromQL and legend of each series. */
    targets: [string, string][];
    unit?: string;
    kind?: "timeseries" | "stat";
}

function dashboard(uid: string, title: string, rows: PanelSpec[]): Dashboard {
    const panels = rows.map((p, i) => ({
        id: i + 1,
        type: p.kind ?? "timeseries",
        title: p.title,
        datasource: DATASOURCE,
        gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
        fieldConfig: { defaults: { unit: p.unit ?? "short" }, overrides: [] },
        options: {},
        targets: p.targets.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr, legendFormat })),
    }));
    return {
        uid,
        title,
        tags: ["bss"],
        schemaVersion: 39,
        editable: false,
        time: { from: "now-6h", to: "now" },
        refresh: "30s",
        templating: {
            list: [{ name: "datasource", label: "Data source", type: "datasource", query: "prometheus", current: {}, hide: 0 }],
        },
        panels,
    };
}

const k = `job="${JOBS.kafka}"`;
// The controller's metrics come from the brokers on a ZooKeeper stack and from the KRaft controllers on a KRaft one.
const kc = `job=~"${JOBS.kafka}|${JOBS.kafkaController}"`;
const ke = `job="${JOBS.kafkaExporter}"`;
const r = `job="${JOBS.redis}"`;
const g = `job="${JOBS.kong}"`;

export function kafkaDashboard(): Dashboard {
    return dashboard("bss-kafka-overview", "BSS / Kafka overview", [
        { title: "Brokers running", kind: "stat", targets: [[`count(kafka_server_kafkaserver_brokerstate{${k}} == 3)`, "brokers"]] },
        { title: "Active controllers", kind: "stat", targets: [[`sum(kafka_controller_kafkacontroller_activecontrollercount{${kc}})`, "controllers"]] },
        {
            title: "Partitions: offline, under-replicated, under min ISR", targets: [
                // One broker (ZooKeeper) or every controller (KRaft) reports the count: the highest is the count.
                [`max(kafka_controller_kafkacontroller_offlinepartitionscount{${kc}})`, "offline"],
                [`sum(kafka_server_replicamanager_underreplicatedpartitions{${k}})`, "under-replicated"],
                [`sum(kafka_server_replicamanager_underminisrpartitioncount{${k}})`, "under min ISR"],
            ],
        },
        { title: "Partitions and leaders per broker", targets: [
            [`kafka_server_replicamanager_partitioncount{${k}}`, "partitions {{pod}}"],
            [`kafka_server_replicamanager_leadercount{${k}}`, "leaders {{pod}}"],
        ] },
        { title: "Bytes in / out", unit: "Bps", targets: [
            [`sum(rate(kafka_server_brokertopicmetrics_bytesin_total{${k}}[5m]))`, "in"],
            [`sum(rate(kafka_server_brokertopicmetrics_bytesout_total{${k}}[5m]))`, "out"],
        ] },
        { title: "Messages in", unit: "ops", targets: [[`sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{${k}, topic!=""}[5m]))`, "{{topic}}"]] },
        { title: "Requests and errors", unit: "reqps", targets: [
            [`sum by (request) (rate(kafka_network_requestmetrics_requests_total{${k}}[5m]))`, "{{request}}"],
            [`sum by (request, error) (rate(kafka_network_requestmetrics_errors_total{${k}, error!="NONE"}[5m]))`, "error {{request}} {{error}}"],
        ] },
        { title: "Request latency p99", unit: "ms", targets: [[`max by (request) (kafka_network_requestmetrics_totaltimems{${k}, quantile="0.99", request=~"Produce|FetchConsumer|FetchFollower"})`, "{{request}}"]] },
        { title: "Leader elections and ISR changes", unit: "ops", targets: [
            [`sum(rate(kafka_controller_controllerstats_leaderelectionrateandtimems_total{${k}}[5m]))`, "leader elections"],
            [`sum(rate(kafka_server_replicamanager_isrshrinks_total{${k}}[5m]))`, "ISR shrinks"],
            [`sum(rate(kafka_server_replicamanager_isrexpands_total{${k}}[5m]))`, "ISR expands"],
        ] },
        { title: "KRaft quorum: leader and committed offset as each controller sees them", targets: [
            [`kafka_server_raft_metrics_current_leader{job="${JOBS.kafkaController}"}`, "leader seen by {{pod}}"],
            [`kafka_server_raft_metrics_high_watermark{job="${JOBS.kafkaController}"}`, "high watermark {{pod}}"],
        ] },
        { title: "Log flush time p99", unit: "ms", targets: [[`max by (pod) (kafka_log_logflushstats_logflushrateandtimems{${k}, quantile="0.99"})`, "{{pod}}"]] },
        { title: "Consumer group lag", targets: [[`sum by (consumergroup, topic) (kafka_consumergroup_lag{${ke}})`, "{{consumergroup}} {{topic}}"]] },
        { title: "Brokers seen by the exporter", kind: "stat", targets: [[`kafka_brokers{${ke}}`, "brokers"]] },
    ]);
}

export function kongDashboard(): Dashboard {
    return dashboard("bss-kong-gateway", "BSS / Kong gateway", [
        { title: "Requests by service", unit: "reqps", targets: [[`sum by (service) (rate(kong_http_requests_total{${g}}[5m]))`, "{{service}}"]] },
        { title: "Latency p50 / p95 / p99", unit: "ms", targets: [
            [`histogram_quantile(0.5, sum by (le) (rate(kong_request_latency_ms_bucket{${g}}[5m])))`, "p50"],
            [`histogram_quantile(0.95, sum by (le) (rate(kong_request_latency_ms_bucket{${g}}[5m])))`, "p95"],
            [`histogram_quantile(0.99, sum by (le) (rate(kong_request_latency_ms_bucket{${g}}[5m])))`, "p99"],
        ] },
        { title: "4xx and 5xx", unit: "reqps", targets: [
            [`sum(rate(kong_http_requests_total{${g}, code=~"4.."}[5m]))`, "4xx"],
            [`sum(rate(kong_http_requests_total{${g}, code=~"5.."}[5m]))`, "5xx"],
        ] },
        { title: "Rate-limited (429) by consumer", unit: "reqps", targets: [[`sum by (consumer) (rate(kong_http_requests_total{${g}, code="429"}[5m]))`, "{{consumer}}"]] },
        { title: "Connections", targets: [[`sum by (state) (kong_nginx_connections_total{${g}, state=~"active|reading|writing|waiting"})`, "{{state}}"]] },
        { title: "Upstream latency p99", unit: "ms", targets: [[`histogram_quantile(0.99, sum by (le, service) (rate(kong_upstream_latency_ms_bucket{${g}}[5m])))`, "{{service}}"]] },
    ]);
}

export function redisDashboard(): Dashboard {
    return dashboard("bss-redis-cluster", "BSS / Redis cluster", [
        { title: "Cluster state (1 = ok)", kind: "stat", targets: [[`min(redis_cluster_state{${r}})`, "state"]] },
        { title: "Slots ok", kind: "stat", targets: [[`min(redis_cluster_slots_ok{${r}})`, "slots"]] },
        { title: "Memory used / maxmemory", unit: "percentunit", targets: [[`redis_memory_used_bytes{${r}} / (redis_memory_max_bytes{${r}} > 0)`, "{{pod}}"]] },
        { title: "Hit ratio", unit: "percentunit", targets: [[`sum(rate(redis_keyspace_hits_total{${r}}[5m])) / (sum(rate(redis_keyspace_hits_total{${r}}[5m])) + sum(rate(redis_keyspace_misses_total{${r}}[5m])))`, "hit ratio"]] },
        { title: "Commands", unit: "ops", targets: [[`sum by (pod) (rate(redis_commands_processed_total{${r}}[5m]))`, "{{pod}}"]] },
        { title: "Evictions", unit: "ops", targets: [[`sum by (pod) (rate(redis_evicted_keys_total{${r}}[5m]))`, "{{pod}}"]] },
        { title: "Clients", targets: [[`sum by (pod) (redis_connected_clients{${r}})`, "{{pod}}"]] },
        { title: "Replicas per master and replication lag", targets: [
            [`redis_connected_slaves{${r}} and on (instance) (redis_instance_info{${r}, role="master"} == 1)`, "replicas {{pod}}"],
            [`max by (pod) (redis_connected_slave_lag_seconds{${r}})`, "lag s {{pod}}"],
        ] },
    ]);
}

export function buildDashboards(): Dashboard[] {
    return [kafkaDashboard(), kongDashboard(), redisDashboard()];
}
