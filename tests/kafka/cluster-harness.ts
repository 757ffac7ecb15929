/**
 * ZooKeeper + Kafka brokers of a stack on the real test cluster (tests/helpers/test-cluster.ts), for any test that
 * needs real Kafka. The rendered objects are applied as they are (local images through the stack settings); the
 * StatefulSet controller creates the pods, the scheduler places them and the kubelets' probes say when they are
 * Ready:
 *
 *     const kafka = await startKafkaCluster();              // dev stack: 1 ZooKeeper, 3 brokers
 *     // host clients: kafka.externalBootstrap = ["localhost:9092", "localhost:9093", "localhost:9094"] (kind's port maps)
 *     // in-cluster clients (kafka.runClient): kafka.internalBootstrap = "kafka.bss.svc.cluster.local:9092"
 *     await kafka.stop();
 */
import { clusterManifests, renderForCluster } from "../helpers/cluster-stack";
import { RenderedStack, stackFile } from "../helpers/render";
import { CommandResult, eventually, PodInfo, RunOptions, TestCluster } from "../helpers/test-cluster";
import { StackConfig } from "../../render/render";
import { Kafka, logLevel } from "kafkajs";
import { assertKafkaFetched } from "./kafka-home";
import { zookeeperCli } from "./clients";

export interface KafkaClusterOptions {
    /** Stack name the render sees; default "dev". */
    stack?: string;
    /** Stack config to render; default the repository's `Pulumi.dev.yaml`. */
    config?: StackConfig;
    /** A cluster already up (its owner brings it down); default: bring one up and down with this Kafka. */
    cluster?: TestCluster;
    /** Bound for ZooKeeper, then the brokers, to turn Ready; default 300 000 ms. */
    readyTimeoutMs?: number;
    /**
     * Also apply the rebalance Job (components/kafka/rebalance) and its ConfigMap. Default false: under Pulumi it runs
     * after the declared topics exist, which this harness does not create.
     */
    rebalance?: boolean;
}

export interface RunningKafkaCluster {
    cluster: TestCluster;
    rendered: RenderedStack;
    namespace: string;
    brokers: number;
    zookeeperReplicas: number;
    /** What the brokers advertise on EXTERNAL (`<externalHost>:<externalPortBase + i>`), index = broker.id. */
    externalBootstrap: string[];
    /** The bootstrap Service on INTERNAL, resolvable from `runClient` commands. */
    internalBootstrap: string;
    /** Milliseconds from the apply until every broker was Ready. */
    startupMs: number;
    brokerPod(id: number): string;
    zookeeperPod(ordinal: number): string;
    /** A command inside the cluster network (the test cluster's client namespace). */
    runClient(command: string[], options?: RunOptions): Promise<CommandResult>;
    /** `kubectl exec` into one of the stack's pods. */
    exec(pod: string, container: string, command: string[], options?: RunOptions): Promise<CommandResult>;
    /** The pod as the API server reports it (node, IP, Ready as the kubelet's readiness probe says). */
    pod(name: string): Promise<PodInfo | undefined>;
    /**
     * Stops broker `id`. SIGKILL crashes its container: the kubelet starts it again in the same pod. SIGTERM is a
     * controlled shutdown that keeps the broker down until `restartBroker`: the StatefulSet is scaled below it (the
     * controller would otherwise create the pod again at once), so only the highest running broker can be stopped so.
     */
    killBroker(id: number, signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
    /** Brings broker `id` back after `killBroker` (scaling up again after a SIGTERM) and waits until it is Ready. */
    restartBroker(id: number): Promise<void>;
    /** Scales the brokers' StatefulSet (the highest ordinals go first) and waits until the rest are Ready. */
    scaleBrokers(count: number): Promise<void>;
    /**
     * Leaves the Kafka as it was started, for the next suite sharing it: every broker running and Ready, and no
     * topic but Kafka's internal ones, deleted through to ZooKeeper (so the same names can be created again at once).
     */
    reset(): Promise<void>;
    /** Removes the stack's namespace, and the cluster when this harness brought it up. Idempotent. */
    stop(): Promise<void>;
}

const KAFKA = "app.kubernetes.io/name=kafka";
const ZOOKEEPER = "app.kubernetes.io/name=zookeeper";

/** The brokers' `zookeeper.connect` (chroot included) from the rendered server.properties. */
function zookeeperConnect(rendered: RenderedStack): string {
    for (const map of rendered.manifests.filter((m) => m.kind === "ConfigMap")) {
        for (const text of Object.values<string>(map.data ?? {})) {
            const connect = /^zookeeper\.connect=(.+)$/m.exec(text)?.[1];
            if (connect) {
                return connect;
            }
        }
    }
    throw new Error("the render has no server.properties with zookeeper.connect");
}

function brokerEnv(rendered: RenderedStack): Record<string, string> {
    const sts = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "kafka");
    const container = sts?.spec.template.spec.containers.find((c: any) => c.name === "kafka");
    if (!container) {
        throw new Error("the render has no StatefulSet kafka with a container kafka");
    }
    return Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
}

export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<RunningKafkaCluster> {
    assertKafkaFetched();
    const stack = options.stack ?? "dev";
    const rendered = await renderForCluster(stack, options.config ?? stackFile("dev"));
    const statefulSet = (name: string) => rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === name)!;
    const brokers: number = statefulSet("kafka").spec.replicas;
    const zookeeperReplicas: number = statefulSet("zookeeper").spec.replicas;
    const namespace: string = statefulSet("kafka").metadata.namespace;
    const env = brokerEnv(rendered);
    const externalBootstrap = [...Array(brokers).keys()].map((id) => `${env.KAFKA_EXTERNAL_HOST}:${Number(env.KAFKA_EXTERNAL_PORT_BASE) + id}`);
    const readyTimeoutMs = options.readyTimeoutMs ?? 300_000;
    const owned = !options.cluster;
    const cluster = options.cluster ?? await TestCluster.up();

    let stopped = false;
    const stop = async () => {
        if (stopped) {
            return;
        }
        stopped = true;
        if (owned) {
            await cluster.down();
            return;
        }
        await cluster.kubectlResult(["-n", namespace, "delete", "pods", "--all", "--grace-period=0", "--force"]);
        await cluster.kubectl(["delete", "namespace", namespace, "--wait=true", "--timeout=180s"]);
    };
    const brokerPod = (id: number) => `kafka-${id}`;
    const pod = (name: string) => cluster.pod(namespace, name);
    const restartsBefore = new Map<number, { uid: string; restarts: number }>();

    try {
        const started = Date.now();
        // Only Kafka and ZooKeeper: the rest of the stack (Redis, Kong's Secret, AKHQ's config) is not this harness's.
        const objects = clusterManifests(rendered, { rebalanceJob: options.rebalance }).filter((m) => m.kind === "Namespace"
            || /^(kafka|zookeeper)/.test(m.metadata?.name ?? ""));
        await cluster.apply(objects);
        await cluster.waitReady(namespace, ZOOKEEPER, zookeeperReplicas, readyTimeoutMs);
        await cluster.waitReady(namespace, KAFKA, brokers, readyTimeoutMs);
        const startupMs = Date.now() - started;
        return {
            cluster, rendered, namespace, brokers, zookeeperReplicas, externalBootstrap, startupMs, brokerPod, stop, pod,
            internalBootstrap: `kafka.${namespace}.svc.cluster.local:9092`,
            zookeeperPod: (ordinal) => `zookeeper-${ordinal}`,
            runClient: (command, runOptions) => cluster.runClient(command, runOptions),
            exec: (name, container, command, runOptions) => cluster.exec(namespace, name, container, command, runOptions),
            killBroker: async (id, signal = "SIGTERM") => {
                const before = await pod(brokerPod(id));
                restartsBefore.set(id, { uid: before?.uid ?? "", restarts: before?.restarts ?? 0 });
                if (signal === "SIGKILL") {
                    await cluster.crashContainer(namespace, brokerPod(id), "kafka");
                    return;
                }
                const running = (await cluster.pods(namespace, KAFKA)).filter((p) => !p.deleting).length;
                if (id !== running - 1) {
                    throw new Error(`only the highest running broker (${running - 1}) can be kept down, not ${id}`);
                }
                await cluster.kubectl(["-n", namespace, "scale", "statefulset", "kafka", `--replicas=${id}`]);
                await eventually(`broker ${id} gone`, readyTimeoutMs, async () => !(await pod(brokerPod(id))), 1_000);
            },
            restartBroker: async (id) => {
                if (!(await pod(brokerPod(id)))) {
                    await cluster.kubectl(["-n", namespace, "scale", "statefulset", "kafka", `--replicas=${brokers}`]);
                }
                const before = restartsBefore.get(id);
                await eventually(`broker ${id} back and Ready`, readyTimeoutMs, async () => {
                    const now = await pod(brokerPod(id));
                    const again = now && before && (now.uid !== before.uid || now.restarts > before.restarts);
                    return now?.ready && again && !now.deleting;
                }, 1_000);
            },
            reset: async () => {
                if ((await cluster.pods(namespace, KAFKA)).filter((p) => !p.deleting).length < brokers) {
                    await cluster.kubectl(["-n", namespace, "scale", "statefulset", "kafka", `--replicas=${brokers}`]);
                }
                await cluster.waitReady(namespace, KAFKA, brokers, readyTimeoutMs);
                const admin = new Kafka({ clientId: "harness-reset", brokers: externalBootstrap, logLevel: logLevel.NOTHING, retry: { retries: 8 } }).admin();
                await admin.connect();
                try {
                    const topics = (await admin.listTopics()).filter((t) => !t.startsWith("__"));
                    if (topics.length > 0) {
                        await admin.deleteTopics({ topics, timeout: 60_000 });
                    }
                } finally {
                    await admin.disconnect();
                }
                const connect = zookeeperConnect(rendered);
                const znodes = async (znode: string) => {
                    const list = /^\[(.*)\]$/m.exec(await zookeeperCli(cluster, connect, ["ls", znode]))?.[1];
                    return list === undefined ? undefined : list.split(", ").filter((t) => t !== "");
                };
                await eventually("every deleted topic gone from ZooKeeper", readyTimeoutMs, async () => {
                    const [left, deleting] = [await znodes("/brokers/topics"), await znodes("/admin/delete_topics")];
                    return left !== undefined && deleting !== undefined && left.every((t) => t.startsWith("__")) && deleting.length === 0;
                }, 2_000);
            },
            scaleBrokers: async (count) => {
                await cluster.kubectl(["-n", namespace, "scale", "statefulset", "kafka", `--replicas=${count}`]);
                await cluster.waitReady(namespace, KAFKA, count, readyTimeoutMs);
            },
        };
    } catch (error) {
        await stop();
        throw error;
    }
}
