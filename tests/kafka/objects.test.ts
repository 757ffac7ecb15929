import { brokerHost, externalBootstrap, internalBootstrap, renderServerProperties } from "../../components/kafka/config";
import { buildKafkaObjects } from "../../components/kafka/objects";
import { loadSettings } from "../../settings";

type Obj = Record<string, any>;

function settingsOf(environment: "dev" | "prod", kafka: Record<string, unknown> = {}) {
    return loadSettings({ "bss:environment": environment, "bss:kafka": JSON.stringify(kafka) }, environment).kafka;
}

/** The builder's output as plain objects (its declared types are Pulumi Inputs). */
function objects(environment: "dev" | "prod", kafka: Record<string, unknown> = {}): Record<string, Obj> {
    return JSON.parse(JSON.stringify(buildKafkaObjects("bss", settingsOf(environment, kafka), "zk-0:2181/bss-kafka")));
}

const properties = (text: string) => Object.fromEntries(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

describe("server.properties", () => {
    it.each([
        [1, { "default.replication.factor": "1", "min.insync.replicas": "1", "offsets.topic.replication.factor": "1", "transaction.state.log.replication.factor": "1", "transaction.state.log.min.isr": "1" }],
        [3, { "default.replication.factor": "3", "min.insync.replicas": "2", "offsets.topic.replication.factor": "3", "transaction.state.log.replication.factor": "3", "transaction.state.log.min.isr": "2" }],
        [5, { "default.replication.factor": "3", "min.insync.replicas": "2", "offsets.topic.replication.factor": "3", "transaction.state.log.replication.factor": "3", "transaction.state.log.min.isr": "2" }],
    ])("derives replication for %i broker(s) so the cluster can honour it", (brokers, expected) => {
        expect(properties(renderServerProperties(settingsOf("dev", { brokers }), "zk:2181/bss-kafka"))).toMatchObject(expected);
    });

    it("names both listeners, maps them to PLAINTEXT and replicates over INTERNAL", () => {
        const p = properties(renderServerProperties(settingsOf("dev"), "zk-0:2181,zk-1:2181/bss-kafka"));
        expect(p).toMatchObject({
            listeners: "INTERNAL://:9092,EXTERNAL://:9094",
            "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "zookeeper.connect": "zk-0:2181,zk-1:2181/bss-kafka",
            "unclean.leader.election.enable": "false",
            "auto.create.topics.enable": "true",
            "num.partitions": "3",
            "log.retention.hours": "168",
            "log.dirs": "/var/lib/kafka/data",
            "broker.id.generation.enable": "false",
        });
        // Per-pod values belong to start.sh.
        expect(p["broker.id"]).toBeUndefined();
        expect(p["advertised.listeners"]).toBeUndefined();
    });

    it("follows the stack's topic defaults", () => {
        const p = properties(renderServerProperties(settingsOf("prod", { autoCreateTopics: false, numPartitions: 6, logRetentionHours: 24 }), "zk:2181/x"));
        expect(p).toMatchObject({ "auto.create.topics.enable": "false", "num.partitions": "6", "log.retention.hours": "24" });
    });
});

describe("addresses", () => {
    it("gives kind users localhost:9092-9094 and minikube users <node IP>:<nodePort>", () => {
        expect(externalBootstrap(settingsOf("dev"))).toEqual(["localhost:9092", "localhost:9093", "localhost:9094"]);
        expect(externalBootstrap(settingsOf("dev", { externalHost: "192.168.49.2", externalPortBase: 30092 }))).toEqual(["192.168.49.2:30092", "192.168.49.2:30093", "192.168.49.2:30094"]);
        expect(internalBootstrap("telco")).toBe("kafka.telco.svc.cluster.local:9092");
        expect(brokerHost(4, "telco")).toBe("kafka-4.kafka-headless.telco.svc.cluster.local");
    });
});

describe("broker objects", () => {
    it.each([1, 3, 5])("gives each of %i broker(s) its own NodePort Service, selecting only that pod", (brokers) => {
        const { external } = objects("dev", { brokers }) as unknown as { external: Obj[] };
        expect(external.map((s) => s.metadata.name)).toEqual([...Array(brokers).keys()].map((i) => `kafka-${i}-external`));
        expect(external.map((s) => s.spec.ports[0].nodePort)).toEqual([...Array(brokers).keys()].map((i) => 30092 + i));
        expect(new Set(external.map((s) => s.spec.ports[0].nodePort)).size).toBe(brokers);
        external.forEach((s, i) => {
            expect(s.spec.type).toBe("NodePort");
            expect(s.spec.selector["statefulset.kubernetes.io/pod-name"]).toBe(`kafka-${i}`);
            expect(s.spec.ports[0]).toMatchObject({ port: 9094, targetPort: "external" });
        });
    });

    it("runs a Parallel StatefulSet of non-root brokers with the shipped start script and probes", () => {
        const { statefulSet: sts, headless, bootstrap, disruptionBudget } = objects("dev");
        expect(sts.spec).toMatchObject({ replicas: 3, serviceName: "kafka-headless", podManagementPolicy: "Parallel" });
        const pod = sts.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
        const [container] = pod.containers;
        expect(container.image).toBe("apache/kafka:3.9.2");
        expect(container.command).toEqual(["/opt/bss/kafka/start.sh"]);
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
        expect(container.readinessProbe.exec.command).toEqual(["/opt/bss/kafka/probe.sh"]);
        expect(container.livenessProbe.tcpSocket.port).toBe("internal");
        // dev requests half the limit (the stack must fit a laptop kind node); the heap follows the limit.
        expect(container.resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
        expect(pod.volumes.find((v: Obj) => v.name === "scripts").configMap.defaultMode).toBe(0o755);
        expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("10Gi");
        expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
        expect(bootstrap.metadata.name).toBe("kafka");
        expect(bootstrap.spec.ports).toEqual([{ name: "internal", port: 9092, targetPort: "internal" }]);
        expect(disruptionBudget.spec.maxUnavailable).toBe(1);
    });

    it("hands the pod what start.sh needs: downward API names, memory limit and the external addresses", () => {
        const env: Obj[] = objects("dev", { externalHost: "kafka.example.net", externalPortBase: 19092 }).statefulSet.spec.template.spec.containers[0].env;
        const byName = Object.fromEntries(env.map((e) => [e.name, e.value ?? e.valueFrom]));
        expect(byName).toMatchObject({
            POD_NAME: { fieldRef: { fieldPath: "metadata.name" } },
            POD_NAMESPACE: { fieldRef: { fieldPath: "metadata.namespace" } },
            MEMORY_LIMIT_MB: { resourceFieldRef: { containerName: "kafka", resource: "limits.memory", divisor: "1Mi" } },
            KAFKA_EXTERNAL_HOST: "kafka.example.net",
            KAFKA_EXTERNAL_PORT_BASE: "19092",
            KAFKA_HEADLESS_SERVICE: "kafka-headless",
            KAFKA_CATCH_UP_SECONDS: "300",
            KAFKA_BROKER_RACK: { fieldRef: { fieldPath: "metadata.labels['topology.kubernetes.io/zone']" } },
        });
    });

    it.each(["dev", "prod"] as const)("renders the same %s broker pod template for 3 and 5 brokers: a new count rolls none of the running brokers", (environment) => {
        const three = objects(environment, { externalHost: "kafka.example.com", brokers: 3 }).statefulSet;
        const five = objects(environment, { externalHost: "kafka.example.com", brokers: 5 }).statefulSet;
        expect(three.spec.replicas).toBe(3);
        expect(five.spec.replicas).toBe(5);
        expect(five.spec.template).toEqual(three.spec.template);
        expect({ ...five.spec, replicas: 3 }).toEqual(three.spec);
    });

    it("prefers spreading in dev and requires it in prod", () => {
        const dev = objects("dev").statefulSet.spec.template.spec.affinity.podAntiAffinity;
        const prod = objects("prod", { externalHost: "kafka.example.com" }).statefulSet.spec.template.spec.affinity.podAntiAffinity;
        expect(dev.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
        expect(prod.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe("kubernetes.io/hostname");
    });

    it("rolls the brokers when their config changes", () => {
        const a = objects("dev").statefulSet.spec.template.metadata.annotations["bss/config-checksum"];
        const b = objects("dev", { logRetentionHours: 24 }).statefulSet.spec.template.metadata.annotations["bss/config-checksum"];
        expect(a).toMatch(/^[0-9a-f]{16}$/);
        expect(b).not.toBe(a);
    });

    it("scrapes broker, topic and lag metrics from a pinned kafka-exporter pointed at every broker", () => {
        const exporter = objects("dev", { brokers: 5 }).exporter;
        expect(exporter.spec.template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "9308" });
        const [container] = exporter.spec.template.spec.containers;
        expect(container.image).toBe("danielqsj/kafka-exporter:v1.9.0");
        expect(container.args.filter((a: string) => a.startsWith("--kafka.server="))).toEqual(
            [0, 1, 2, 3, 4].map((i) => `--kafka.server=kafka-${i}.kafka-headless.bss.svc.cluster.local:9092`));
        expect(exporter.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    });
});
