/**
 * KRaft mode's settings (bss:kafka.metadata and the controller keys), the renderers of broker and controller
 * properties for both modes, and the controller objects.
 */
import { renderServerProperties } from "../../components/kafka/config";
import { controllerNodeId, controllerQuorumVoters, renderControllerProperties } from "../../components/kafka/controllers/config";
import { buildControllerObjects } from "../../components/kafka/controllers/objects";
import { buildKafkaObjects } from "../../components/kafka/objects";
import { loadSettings, SettingsError } from "../../settings";

type Obj = Record<string, any>;

function load(environment: "dev" | "prod", values: Record<string, unknown>) {
    return loadSettings({ "bss:environment": environment, ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, JSON.stringify(v)])) }, environment);
}

function problems(environment: "dev" | "prod", values: Record<string, unknown>): string[] {
    try {
        load(environment, values);
    } catch (error) {
        if (error instanceof SettingsError) {
            return error.problems;
        }
        throw error;
    }
    return [];
}

const properties = (text: string) => Object.fromEntries(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

describe("settings: bss:kafka.metadata and the controllers", () => {
    it("defaults to ZooKeeper mode without controllers", () => {
        const kafka = load("prod", {}).kafka;
        expect(kafka.metadata).toBe("zookeeper");
        expect(kafka.controllers).toBeUndefined();
    });

    it.each([
        ["dev", 1, "preferred", "384Mi"],
        ["prod", 3, "required", "768Mi"],
    ] as const)("runs %s with %i controller(s) by default, placement %s, 5Gi and a 768Mi limit each, requesting %s", (environment, replicas, placement, requested) => {
        expect(load(environment, { "bss:kafka": { metadata: "kraft" } }).kafka.controllers).toEqual({
            replicas, placement, storageSize: "5Gi", storageClass: undefined,
            resources: { requests: { cpu: "100m", memory: requested }, limits: { cpu: "500m", memory: "768Mi" } },
        });
    });

    it("takes every controller key, resources field by field", () => {
        const controllers = load("prod", { "bss:kafka": {
            metadata: "kraft", controllers: 5, controllerStorageSize: "20Gi", controllerStorageClass: "fast",
            controllerResources: { limits: { memory: "2Gi" } }, controllerPlacement: "preferred",
        } }).kafka.controllers;
        expect(controllers).toEqual({
            replicas: 5, storageSize: "20Gi", storageClass: "fast", placement: "preferred",
            resources: { requests: { cpu: "100m", memory: "768Mi" }, limits: { cpu: "500m", memory: "2Gi" } },
        });
    });

    it("refuses an even or zero controller count, an unknown mode and a bad controller key, all in one error", () => {
        expect(problems("prod", { "bss:kafka": { metadata: "kraft", controllers: 4, controllerStorageSize: "lots" } })).toEqual([
            "bss:kafka.controllerStorageSize must be a Kubernetes quantity such as \"512Mi\" or \"500m\", got \"lots\"",
            "bss:kafka.controllers must be odd (a KRaft quorum is a strict majority: 4 voters survive no more failures than 3), got 4",
        ]);
        expect(problems("prod", { "bss:kafka": { metadata: "kraft", controllers: 0 } })).toEqual(["bss:kafka.controllers must be an integer from 1 to 9, got 0"]);
        expect(problems("prod", { "bss:kafka": { metadata: "raft" } })).toEqual(["bss:kafka.metadata must be one of \"zookeeper\", \"kraft\", got \"raft\""]);
    });

    it("refuses controller keys on a ZooKeeper stack, naming each", () => {
        expect(problems("prod", { "bss:kafka": { controllers: 3, controllerPlacement: "required" } })).toEqual([
            "bss:kafka.controllers configures KRaft controllers, which a stack with bss:kafka.metadata \"zookeeper\" does not run (set bss:kafka.metadata to \"kraft\" or remove it), got 3",
            "bss:kafka.controllerPlacement configures KRaft controllers, which a stack with bss:kafka.metadata \"zookeeper\" does not run (set bss:kafka.metadata to \"kraft\" or remove it), got \"required\"",
        ]);
        expect(problems("prod", { "bss:kafka": { metadata: "zookeeper", controllerStorageSize: "5Gi" } })).toHaveLength(1);
    });

    it("refuses ZooKeeper settings on a KRaft stack: bss:zookeeper and bss:kafka.zookeeperChroot", () => {
        expect(problems("prod", { "bss:kafka": { metadata: "kraft", zookeeperChroot: "/other" }, "bss:zookeeper": { replicas: 3 } })).toEqual([
            "bss:kafka.zookeeperChroot is a ZooKeeper setting, which a stack with bss:kafka.metadata \"kraft\" does not use (remove it), got \"/other\"",
            "bss:zookeeper configures the ZooKeeper ensemble, which a stack with bss:kafka.metadata \"kraft\" does not run (remove it), got {\"replicas\":3}",
        ]);
    });
});

describe("renderers", () => {
    const kraft = load("prod", { "bss:kafka": { metadata: "kraft" } }).kafka;
    const zookeeper = load("prod", {}).kafka;

    it("gives controllers node ids 1000 + ordinal, out of the brokers' range (at most 50 brokers)", () => {
        expect([0, 1, 2].map(controllerNodeId)).toEqual([1000, 1001, 1002]);
        expect(problems("prod", { "bss:kafka": { brokers: 51 } })).toEqual(["bss:kafka.brokers must be an integer from 1 to 50, got 51"]);
        expect(controllerQuorumVoters(3, "bss")).toBe([0, 1, 2].map((i) => `${1000 + i}@kafka-controller-${i}.kafka-controller-headless.bss.svc.cluster.local:9093`).join(","));
    });

    it("renders controller.properties: controller role only, the CONTROLLER listener, the static quorum, no broker listener", () => {
        const p = properties(renderControllerProperties(controllerQuorumVoters(3, "ops")));
        expect(p).toEqual({
            "process.roles": "controller",
            listeners: "CONTROLLER://:9093",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "controller.quorum.voters": controllerQuorumVoters(3, "ops"),
            "log.dirs": "/var/lib/kafka/data",
        });
    });

    it("renders KRaft brokers: broker role, the quorum, the controller listener's name and protocol, nothing of ZooKeeper", () => {
        const p = properties(renderServerProperties(kraft, controllerQuorumVoters(3, "bss")));
        expect(p).toMatchObject({
            "process.roles": "broker",
            "controller.quorum.voters": controllerQuorumVoters(3, "bss"),
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            listeners: "INTERNAL://:9092,EXTERNAL://:9094",
            "inter.broker.listener.name": "INTERNAL",
        });
        expect(Object.keys(p).filter((k) => /zookeeper|broker\.id/.test(k))).toEqual([]);
    });

    it("renders ZooKeeper brokers as before: zookeeper.connect, broker.id from start.sh, no KRaft key", () => {
        const p = properties(renderServerProperties(zookeeper, "zk:2181/bss-kafka"));
        expect(p).toMatchObject({ "zookeeper.connect": "zk:2181/bss-kafka", "broker.id.generation.enable": "false", "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT" });
        expect(Object.keys(p).filter((k) => /process\.roles|controller\./.test(k))).toEqual([]);
    });

    it("keeps every broker setting clients depend on the same in both modes", () => {
        const shared = (text: string) => {
            const p = properties(text);
            return Object.fromEntries(Object.entries(p).filter(([k]) => !/zookeeper|controller|process\.roles|broker\.id|listener\.security/.test(k)));
        };
        expect(shared(renderServerProperties(kraft, controllerQuorumVoters(3, "bss")))).toEqual(shared(renderServerProperties(zookeeper, "zk:2181/bss-kafka")));
    });
});

describe("objects", () => {
    const settings = load("prod", { "bss:kafka": { metadata: "kraft", controllerStorageClass: "fast" } }).kafka;
    const controllers: Record<string, Obj> = JSON.parse(JSON.stringify(buildControllerObjects({
        namespace: "bss", settings: settings.controllers!, image: settings.image, clusterId: "q1Sh-9_tQ5Wk3mJ2bL0aZw",
    })));
    const sts = controllers.statefulSet;
    const pod = sts.spec.template.spec;
    const container = pod.containers[0];

    it("runs the controllers as a Parallel StatefulSet of their own, on their own headless Service and PVC", () => {
        expect(sts.metadata.name).toBe("kafka-controller");
        expect(sts.spec).toMatchObject({ replicas: 3, serviceName: "kafka-controller-headless", podManagementPolicy: "Parallel" });
        expect(controllers.headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, ports: [{ name: "controller", port: 9093, targetPort: "controller" }] });
        expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "5Gi" } } });
        expect(controllers.disruptionBudget.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "kafka-controller", "app.kubernetes.io/part-of": "bss" } } });
    });

    it("places one controller per node in prod like ZooKeeper, hardened, with requests and limits", () => {
        expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
            labelSelector: { matchLabels: { "app.kubernetes.io/name": "kafka-controller", "app.kubernetes.io/part-of": "bss" } }, topologyKey: "kubernetes.io/hostname",
        });
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
        expect(container.resources).toEqual(settings.controllers!.resources);
        expect(pod.automountServiceAccountToken).toBe(false);
    });

    it("is Ready only as a caught-up voter (probe.sh asks the leader); liveness is the port", () => {
        expect(container.readinessProbe.exec.command).toEqual(["/opt/bss/kafka/probe.sh"]);
        expect(controllers.scripts.data["probe.sh"]).toContain("DescribeQuorum");
        expect(container.livenessProbe.tcpSocket.port).toBe("controller");
    });

    it("hands the cluster ID and node id base through the env and ships the shared format script", () => {
        const env = Object.fromEntries(container.env.filter((e: Obj) => e.value !== undefined).map((e: Obj) => [e.name, e.value]));
        expect(env).toMatchObject({ KAFKA_CLUSTER_ID: "q1Sh-9_tQ5Wk3mJ2bL0aZw", KAFKA_NODE_ID_BASE: "1000" });
        expect(Object.keys(controllers.scripts.data).sort()).toEqual(["format-storage.sh", "kafka-wire.sh", "probe.sh", "start.sh"]);
        expect(container.command).toEqual(["/opt/bss/kafka/start.sh"]);
    });

    it("gives KRaft brokers the cluster ID and the format script; a ZooKeeper stack's brokers keep their template", () => {
        const kraftBrokers: Obj = JSON.parse(JSON.stringify(buildKafkaObjects("bss", settings, controllerQuorumVoters(3, "bss"), "q1Sh-9_tQ5Wk3mJ2bL0aZw")));
        const brokerEnv = kraftBrokers.statefulSet.spec.template.spec.containers[0].env;
        expect(brokerEnv).toContainEqual({ name: "KAFKA_CLUSTER_ID", value: "q1Sh-9_tQ5Wk3mJ2bL0aZw" });
        expect(Object.keys(kraftBrokers.scripts.data).sort()).toEqual(["format-storage.sh", "kafka-wire.sh", "probe.sh", "start.sh"]);
        const zk: Obj = JSON.parse(JSON.stringify(buildKafkaObjects("bss", load("prod", {}).kafka, "zk:2181/bss-kafka")));
        expect(zk.statefulSet.spec.template.spec.containers[0].env.map((e: Obj) => e.name)).not.toContain("KAFKA_CLUSTER_ID");
        expect(Object.keys(zk.scripts.data).sort()).toEqual(["kafka-wire.sh", "probe.sh", "start.sh"]);
        expect(() => buildKafkaObjects("bss", settings, controllerQuorumVoters(3, "bss"))).toThrow(/need the cluster ID/);
    });
});
