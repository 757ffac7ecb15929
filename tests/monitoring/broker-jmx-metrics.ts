/**
 * The broker metrics (Prometheus JMX exporter agent with components/monitoring/jmx.ts's rules) that the rules and
 * dashboards query; broker-metrics.integration.test.ts finds each of them in a real scrape of real brokers.
 */
export const BROKER_JMX_METRICS = [
    "kafka_controller_controllerstats_leaderelectionrateandtimems_total",
    "kafka_controller_kafkacontroller_activecontrollercount",
    "kafka_controller_kafkacontroller_offlinepartitionscount",
    "kafka_log_logflushstats_logflushrateandtimems",
    "kafka_network_requestmetrics_errors_total",
    "kafka_network_requestmetrics_requests_total",
    "kafka_network_requestmetrics_totaltimems",
    "kafka_server_brokertopicmetrics_bytesin_total",
    "kafka_server_brokertopicmetrics_bytesout_total",
    "kafka_server_brokertopicmetrics_messagesin_total",
    "kafka_server_kafkaserver_brokerstate",
    "kafka_server_replicamanager_isrexpands_total",
    "kafka_server_replicamanager_isrshrinks_total",
    "kafka_server_replicamanager_leadercount",
    "kafka_server_replicamanager_partitioncount",
    "kafka_server_replicamanager_underminisrpartitioncount",
    "kafka_server_replicamanager_underreplicatedpartitions",
];

/**
 * What the rules and dashboards query of a KRaft stack's controllers (job kafka-controller, the same agent and rules);
 * tests/kafka/kraft.integration.test.ts finds each of them in a real scrape of real controllers. The first two are
 * the brokers' controller metrics on a ZooKeeper stack too.
 */
export const CONTROLLER_JMX_METRICS = [
    "kafka_controller_kafkacontroller_activecontrollercount",
    "kafka_controller_kafkacontroller_offlinepartitionscount",
    "kafka_controller_kafkacontroller_fencedbrokercount",
    "kafka_controller_kafkacontroller_metadataerrorcount",
    "kafka_server_raft_metrics_current_leader",
    "kafka_server_raft_metrics_high_watermark",
];
