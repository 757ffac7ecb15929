/**
 * The BSS core infrastructure stack. Reads and validates the stack settings first (nothing is created on
 * bad input), then deploys each capability into one namespace.
 */
import * as k8s from "@pulumi/kubernetes";
import { readStackSettings } from "./settings/stack";
import { labels } from "./components/shared/labels";
import { KafkaCluster } from "./components/kafka";
import { ZookeeperEnsemble } from "./components/zookeeper";
import { KafkaControllerQuorum } from "./components/kafka/controllers";
import { refuseFewerPartitions } from "./components/topics/partition-guard";
import { KafkaTopics } from "./components/topics/topics";
import { refuseBrokerRemoval } from "./components/kafka/rebalance/broker-guard";
import { KafkaRebalance } from "./components/kafka/rebalance";
import { refuseMetadataSwitch } from "./components/kafka/metadata-guard";
import { RedisCluster } from "./components/redis";
import { refuseRedisNodeRemoval } from "./components/redis/scale-guard";
import { KongGateway, ProxyCertificate } from "./components/kong/gateway";
import { CertificateAuthority, ServerCertificate } from "./components/tls";
import { serviceDnsNames } from "./components/tls/names";
import { Akhq } from "./components/akhq";
import { AKHQ_NAME, AKHQ_PORTS } from "./components/akhq/config";
import { NetworkPolicies } from "./components/network-policy";
import { jmxAgentTransformation, Monitoring } from "./components/monitoring";

const settings = readStackSettings();
// Before the first resource: every registration waits until the last deployment's partition counts are checked.
const partitionGuard = refuseFewerPartitions(settings.topics);
// Likewise: a lower broker count waits until the last deployment's brokers are known to be drained.
refuseBrokerRemoval(settings.kafka.brokers, settings.namespace, settings.stack);
// And fewer Redis nodes wait until the last deployment's highest ordinals are known to be out of the cluster.
refuseRedisNodeRemoval(settings.redis, settings.namespace, settings.stack);
// And a deployed stack keeps its Kafka metadata mode (no migration yet) and its static controller quorum.
refuseMetadataSwitch(settings.kafka.metadata, settings.kafka.controllers?.replicas);

const namespace = new k8s.core.v1.Namespace("namespace", {
    metadata: {
        name: settings.namespace,
        labels: {
            ...labels("bss"),
            // Every pod template, the Kong chart's included, meets "restricted" (tests/policy/stacks.test.ts):
            // the API server refuses any pod that would not.
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    },
});

export const namespaceName = namespace.metadata.name;
export const environment = settings.environment;

if (settings.networkPolicy.enabled) {
    new NetworkPolicies("network-policies", {
        namespace: settings.namespace,
        settings: settings.networkPolicy,
        redis: settings.redis,
        akhq: settings.akhq,
        kong: settings.kong,
        jmxAgentRepository: settings.monitoring.enabled ? settings.monitoring.jmxAgent.mavenRepository : undefined,
        kafkaMetadata: settings.kafka.metadata,
    }, { dependsOn: [namespace] });
}

// bss:kafka.metadata: a KRaft stack has a controller quorum and no ZooKeeper object at all.
const kraft = settings.kafka.metadata === "kraft";
const zookeeper = kraft ? undefined : new ZookeeperEnsemble("zookeeper", { namespace: settings.namespace, settings: settings.zookeeper }, { dependsOn: [namespace] });
// The JMX exporter agent (bss:monitoring.jmxAgent) is added to the brokers' and controllers' StatefulSets by the
// monitoring module.
const jmxAgent = settings.monitoring.enabled && settings.monitoring.jmxAgent.mavenRepository !== undefined;
const controllers = kraft
    ? new KafkaControllerQuorum("kafka-controller", { namespace: settings.namespace, settings: settings.kafka.controllers!, image: settings.kafka.image }, {
        dependsOn: [namespace],
        transformations: jmxAgent ? [jmxAgentTransformation(settings.monitoring.jmxAgent, "controller")] : [],
    })
    : undefined;
const kafka = new KafkaCluster("kafka", {
    namespace: settings.namespace,
    settings: settings.kafka,
    zookeeperConnect: zookeeper?.connectString,
    controllers: controllers && { quorumVoters: controllers.quorumVoters, clusterId: controllers.clusterId },
}, {
    dependsOn: [namespace, ...(zookeeper ? [zookeeper] : []), ...(controllers ? [controllers] : [])],
    transformations: jmxAgent ? [jmxAgentTransformation(settings.monitoring.jmxAgent, "kafka")] : [],
});
if (settings.monitoring.enabled) {
    new Monitoring("monitoring", {
        namespace: settings.namespace,
        settings: settings.monitoring,
        inputs: {
            brokers: settings.kafka.brokers, zookeeperReplicas: kraft ? undefined : settings.zookeeper.replicas, redisReplicasPerMaster: settings.redis.replicasPerMaster,
            kafkaControllers: kraft ? settings.kafka.controllers!.replicas : undefined,
            brokerMinInsyncReplicas: settings.kafka.minInsyncReplicas,
            topicMinInsyncReplicas: Object.fromEntries(settings.topics.map((t) => [t.name, Number(t.config["min.insync.replicas"])])),
        },
    }, { dependsOn: [namespace] });
}
export const kafkaInternalBootstrap = kafka.internalBootstrap;
export const kafkaExternalBootstrap = kafka.externalBootstrap;
// null, not undefined, on a KRaft stack: the engine warns about every undefined export.
export const zookeeperConnect = kafka.zookeeperConnect ?? null;
export const kafkaMetadata = settings.kafka.metadata;
export const kafkaControllerQuorumVoters = controllers?.quorumVoters ?? null;
export const kafkaClusterId = controllers?.clusterId ?? null;

const topics = new KafkaTopics("topics", {
    topics: settings.topics,
    bootstrapServers: kafka.externalBootstrap,
    dependsOn: [kafka.statefulSet, ...kafka.externalServices],
    deployedPartitions: partitionGuard.deployed,
});
/** What the topic resources report; read back by the next update (components/topics/partition-guard.ts: `PARTITIONS_OUTPUT`). */
export const topicPartitions = topics.partitions;

const rebalance = new KafkaRebalance("kafka-rebalance", {
    namespace: settings.namespace,
    settings: settings.kafka,
    topics: settings.topics,
    dependsOn: [kafka.statefulSet, topics],
});
/** Read back by the next update (components/kafka/rebalance/broker-guard.ts: `BROKERS_OUTPUT`, `BROKER_REPLICAS_OUTPUT`). */
export const kafkaBrokers = settings.kafka.brokers;
export const kafkaBrokerReplicas = rebalance.replicasPerBroker;

const redis = new RedisCluster("redis", {
    namespace: settings.namespace,
    settings: settings.redis,
    password: settings.secrets.redisPassword?.reveal(),
}, { dependsOn: [namespace] });
/** `pulumi stack output --show-secrets redisPassword`. */
export const redisPassword = redis.password;
export const redisAddress = redis.address;
/** Read back by the next update (components/redis/scale-guard.ts: `MASTERS_OUTPUT`, `REPLICAS_OUTPUT`). */
export const redisMasters = settings.redis.masters;
export const redisReplicasPerMaster = settings.redis.replicasPerMaster;

// bss:tls.source self-signed: one CA per stack signs every server certificate; clients trust tlsCaCertificate.
const authority = settings.tls.source === "self-signed"
    ? new CertificateAuthority("tls-ca", { settings: settings.tls, commonName: `bss ${settings.stack} CA` })
    : undefined;
/** The per-stack CA certificate (PEM) clients trust; null unless bss:tls.source is self-signed. */
export const tlsCaCertificate = authority?.certPem ?? null;

function kongProxyCertificate(): ProxyCertificate | undefined {
    if (settings.kong.tlsSecret !== undefined) {
        // An operator's Secret: its content changes outside Pulumi, so only a different name rolls the pods.
        return { secretName: settings.kong.tlsSecret, rollChecksum: settings.kong.tlsSecret };
    }
    if (settings.tls.source === "off") {
        return undefined;
    }
    const names = [...settings.kong.hostnames, ...serviceDnsNames("kong-proxy", settings.namespace)];
    return new ServerCertificate("kong-proxy-tls", {
        settings: settings.tls,
        authority,
        request: { secretName: "kong-proxy-tls", namespace: settings.namespace, commonName: names[0], dnsNames: names },
    }, { dependsOn: [namespace] });
}

const kong = new KongGateway("kong", {
    namespace: settings.namespace,
    settings: settings.kong,
    akhq: { host: `${AKHQ_NAME}.${settings.namespace}.svc.cluster.local`, port: AKHQ_PORTS.http, contextPath: settings.akhq.contextPath },
    apiKeyOverrides: settings.secrets.kongApiKeys,
    proxyCertificate: kongProxyCertificate(),
}, { dependsOn: [namespace] });
/** `pulumi stack output --show-secrets kongApiKeys`: the key-auth key of each consumer. */
export const kongApiKeys = kong.apiKeys;
/** `pulumi stack output --show-secrets kongOperatorCredentials`: the basic-auth login of the tool UIs. */
export const kongOperatorCredentials = kong.operatorCredentials;

const akhq = new Akhq("akhq", {
    namespace: settings.namespace,
    settings: settings.akhq,
    adminPassword: settings.secrets.akhqPassword,
}, { dependsOn: [namespace] });
export const akhqUrl = akhq.url;
// null, not undefined, while AKHQ's login is off (dev): the engine warns about every undefined export.
export const akhqAdminUser = akhq.adminUser ?? null;
/** `pulumi stack output --show-secrets akhqAdminPassword`; null while AKHQ's login is off (dev). */
export const akhqAdminPassword = akhq.adminPassword ?? null;
